/*
 * test_stack - the stack allocator on the host: guarded and canary
 * stacks, sizes and errors, zeroed memory and the high-water mark, the
 * cache, the frame count after draining, overflow reports (a real
 * recursion running off a guarded stack), the guard-budget fallback and
 * 100,000 live small stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/stack.h>

#include "death.h"

#define PG CUB_PAGE_SIZE

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();
	return 0;
}

static void test_guarded(void **state)
{
	struct cub_stack st;
	char *top;

	(void)state;
	assert_int_equal(cub_stack_alloc(&st, 16384, 0), 0);
	assert_true((uintptr_t)st.lo % PG == 0);
	assert_int_equal(st.size, 16384);
	assert_true(cub_stack_guarded(&st));
	assert_true(cub_stack_check(&st));
	assert_int_equal(cub_vm_query((uintptr_t)st.lo - 1, NULL, NULL), -CUB_ENOENT);
	assert_int_equal(cub_vm_query((uintptr_t)st.lo, NULL, NULL), 0);
	assert_int_equal(cub_stack_used(&st), 0);
	top = (char *)st.lo + st.size;
	top[-1] = 1;
	assert_int_equal(cub_stack_used(&st), 8);
	top[-1000] = 1;
	assert_true(cub_stack_used(&st) >= 1000 && cub_stack_used(&st) < 1008);
	cub_stack_free(&st);
	assert_null(st.lo);
	/* Odd sizes round up to pages. */
	assert_int_equal(cub_stack_alloc(&st, 5000, 0), 0);
	assert_int_equal(st.size, 2 * PG);
	cub_stack_free(&st);
}

static void test_noguard(void **state)
{
	struct cub_stack a, b, c;

	(void)state;
	assert_int_equal(cub_stack_alloc(&a, 1024, CUB_STACK_NOGUARD), 0);	/* heap */
	assert_int_equal(cub_stack_alloc(&b, 100, CUB_STACK_NOGUARD), 0);	/* -> 1 KiB */
	assert_int_equal(cub_stack_alloc(&c, 16384, CUB_STACK_NOGUARD), 0);	/* frames */
	assert_true(a.size >= 1024 && b.size >= CUB_STACK_MIN && c.size >= 16384);
	assert_true((uintptr_t)a.lo % 16 == 0 && (uintptr_t)c.lo % 16 == 0);
	assert_false(cub_stack_guarded(&a));
	assert_false(cub_stack_guarded(&c));
	assert_int_equal(cub_stack_used(&a), 0);
	assert_int_equal(cub_stack_used(&c), 0);
	memset(a.lo, 0x11, a.size);
	memset(c.lo, 0x11, c.size);
	assert_true(cub_stack_check(&a));
	assert_true(cub_stack_check(&c));
	assert_true(cub_stack_canary_intact(&a));
	assert_true(cub_stack_canary_intact(&c));
	assert_int_equal(cub_stack_used(&c), c.size);
	((char *)c.lo)[-12] ^= 1;	/* the canary's first word */
	assert_false(cub_stack_canary_intact(&c));
	assert_false(cub_stack_check(&c));
	((char *)c.lo)[-12] ^= 1;
	((char *)a.lo)[-1] = 0;		/* an overflow past the bottom */
	((char *)c.lo)[-3] ^= 1;
	assert_false(cub_stack_check(&a));
	assert_false(cub_stack_check(&c));
	assert_false(cub_stack_canary_intact(&a));
	assert_false(cub_stack_canary_intact(&c));
	((char *)c.lo)[-3] ^= 1;
	assert_true(cub_stack_check(&c));
	cub_stack_free(&a);
	cub_stack_free(&b);
	cub_stack_free(&c);
	assert_false(cub_stack_check(&c));	/* not allocated */
}

/* NOGUARD frame stacks with slack in their last page are shifted by a
 * cache colour: different page offsets, same usable size, canary intact. */
static void test_colours(void **state)
{
	enum { N = 16 };
	struct cub_stack st[N];
	unsigned seen = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		uintptr_t lo;

		assert_int_equal(cub_stack_alloc(&st[i], 4096 - 16 - 448,
						 CUB_STACK_NOGUARD), 0);
		lo = (uintptr_t)st[i].lo;
		assert_int_equal(st[i].size, 4096 - 16 - 448);
		assert_true(lo % 16 == 0);
		assert_true(lo - 16 >= st[i].base);
		assert_true(lo + st[i].size <= st[i].base + st[i].span);
		assert_true(cub_stack_check(&st[i]));
		seen |= 1u << ((lo % PG) / 64);
		memset(st[i].lo, 0x5a, st[i].size);	/* all of it usable */
		assert_true(cub_stack_check(&st[i]));
	}
	assert_true(__builtin_popcount(seen) > 1);
	{
		/* The 2 KiB coroutine minimum stays on the heap: 2 KiB. */
		struct cub_stack h;

		assert_int_equal(cub_stack_alloc(&h, 2048, CUB_STACK_NOGUARD), 0);
		assert_int_equal(h.span, 2048 + 16);
		assert_true(cub_stack_check(&h));
		cub_stack_free(&h);
	}
	((char *)st[3].lo)[-8] ^= 0x40;		/* overflow into the canary */
	assert_false(cub_stack_check(&st[3]));
	((char *)st[3].lo)[-8] ^= 0x40;
	for (int i = 0; i < N; i++)
		cub_stack_free(&st[i]);
}

static void test_errors(void **state)
{
	struct cub_stack st;

	(void)state;
	assert_int_equal(cub_stack_alloc(&st, 0, 0), -CUB_EINVAL);
	assert_int_equal(cub_stack_alloc(&st, 0, CUB_STACK_NOGUARD), -CUB_EINVAL);
	assert_int_equal(cub_stack_alloc(&st, CUB_STACK_MAX + 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_stack_alloc(&st, SIZE_MAX, CUB_STACK_NOGUARD), -CUB_EINVAL);
	assert_int_equal(cub_stack_alloc(&st, 4096, 2), -CUB_EINVAL);
	assert_int_equal(cub_stack_alloc(&st, CUB_STACK_MAX, 0), 0);
	cub_stack_free(&st);
}

/* cub_stack_init_in: a stack in the caller's memory, its canary at the
 * bottom; freeing it leaves the memory alone. */
static void test_init_in(void **state)
{
	static _Alignas(64) char mem[4096 + 64];
	struct cub_stack st;

	(void)state;
	assert_int_equal(cub_stack_init_in(&st, NULL, 4096), -CUB_EINVAL);
	assert_int_equal(cub_stack_init_in(&st, mem + 8, 4096), -CUB_EINVAL);
	assert_int_equal(cub_stack_init_in(&st, mem, CUB_STACK_MIN + 15),
			 -CUB_EINVAL);
	assert_int_equal(cub_stack_init_in(&st, mem, CUB_STACK_MAX + 1),
			 -CUB_EINVAL);
	memset(mem, 0x5a, sizeof(mem));
	assert_int_equal(cub_stack_init_in(&st, mem, 2000 + 16 + 8), 0);
	assert_ptr_equal(st.lo, mem + CUB_STACK_CANARY_SIZE);
	assert_int_equal(st.size, 2000);	/* rounded down to 16 */
	assert_int_equal(cub_stack_used(&st), 0);	/* zeroed */
	assert_false(cub_stack_guarded(&st));
	assert_true(cub_stack_check(&st));
	assert_true(cub_stack_canary_intact(&st));
	((char *)st.lo)[st.size - 104] = 1;	/* a word boundary */
	assert_int_equal(cub_stack_used(&st), 104);
	mem[3] ^= 1;				/* an overrun into the canary */
	assert_false(cub_stack_check(&st));
	mem[3] ^= 1;
	assert_true(cub_stack_check(&st));
	assert_int_equal((unsigned char)mem[2000 + 16 + 8], 0x5a);	/* past len */
	cub_stack_free(&st);
	assert_null(st.lo);
	assert_false(cub_stack_check(&st));
	assert_int_equal(mem[CUB_STACK_CANARY_SIZE + 1896], 1);
	assert_int_equal(cub_stack_init_in(&st, mem, CUB_STACK_MIN + 16), 0);
	assert_int_equal(st.size, CUB_STACK_MIN);
	cub_stack_free(&st);
}

static void test_cache_reuse_and_drain(void **state)
{
	struct cub_stack a, b, s[20];
	size_t frames;
	void *lo;

	(void)state;
	cub_stack_cache_drain();
	frames = cub_frame_free_count();
	assert_int_equal(cub_stack_alloc(&a, 8192, 0), 0);
	lo = a.lo;
	memset(a.lo, 0x77, a.size);
	cub_stack_free(&a);
	assert_int_equal(cub_stack_alloc(&b, 8192, 0), 0);
	assert_ptr_equal(b.lo, lo);			/* from the cache */
	assert_true(cub_stack_guarded(&b));		/* guard still there */
	assert_int_equal(cub_stack_used(&b), 0);	/* zeroed again */
	cub_stack_free(&b);
	assert_int_equal(cub_stack_alloc(&a, 8192, CUB_STACK_NOGUARD), 0);
	memset(a.lo, 0x77, a.size);
	lo = a.lo;
	cub_stack_free(&a);
	assert_int_equal(cub_stack_alloc(&a, 8192, CUB_STACK_NOGUARD), 0);
	assert_ptr_equal(a.lo, lo);
	assert_int_equal(cub_stack_used(&a), 0);
	assert_true(cub_stack_check(&a));
	cub_stack_free(&a);
	for (int i = 0; i < 20; i++)
		assert_int_equal(cub_stack_alloc(&s[i], (size_t)(i + 1) * PG,
						 i % 2 ? CUB_STACK_NOGUARD : 0), 0);
	for (int i = 0; i < 20; i++)
		cub_stack_free(&s[i]);
	assert_true(cub_stack_cache_drain() >= 20);
	assert_int_equal(cub_frame_free_count(), frames);
	assert_int_equal(cub_stack_cache_drain(), 0);
}

/* -------------------------------------------------------- overflow */

/* Recursion the compiler cannot flatten: depth decides, and it never
 * reaches 0 from above. */
static volatile char sink;

static void recurse(int depth)
{
	volatile char buf[256];

	buf[0] = (char)depth;
	if (depth != -1)
		recurse(depth + 1);
	sink = buf[1];
}

/* Runs recurse() with the stack pointer at the top of st (never returns:
 * it overflows into the guard page). */
static void run_off(struct cub_stack *st)
{
	uintptr_t top = (uintptr_t)st->lo + st->size;

	__asm__ volatile("mov %0, %%rsp\n\t"
			 "xor %%edi, %%edi\n\t"
			 "call *%1"
			 : : "r"(top), "r"(recurse) : "memory");
	__builtin_unreachable();
}

static void overflow_named(void *arg)
{
	struct cub_stack st;

	(void)arg;
	cub_stack_alloc(&st, 8192, 0);
	cub_stack_set_name(&st, "coroutine 7 (worker)");
	run_off(&st);
}

static void overflow_unnamed(void *arg)
{
	struct cub_stack st;

	(void)arg;
	cub_stack_alloc(&st, 4096, 0);
	*(volatile char *)((char *)st.lo - 16) = 1;
}

static void free_twice(void *arg)
{
	struct cub_stack st;

	(void)arg;
	cub_stack_alloc(&st, 4096, 0);
	cub_stack_free(&st);
	cub_stack_free(&st);
}

static void test_overflow_reports(void **state)
{
	(void)state;
	assert_dies_with(overflow_named, NULL,
			 "stack overflow: hit the guard page of coroutine 7 (worker)");
	assert_dies_with(overflow_named, NULL, "(write to a protected page)");
	assert_dies_with(overflow_unnamed, NULL,
			 "stack overflow: hit the guard page of unnamed stack 0x");
	assert_dies_with(free_twice, NULL, "cub_stack_free: stack");
	assert_dies_with(free_twice, NULL, "is not allocated (double free?)");
}

/* ------------------------------------------------------------- scale */

/* Beyond the host's guard budget stacks fall back to a canary. */
static void test_guard_fallback(void **state)
{
	static struct cub_stack st[40000];
	size_t guarded = 0, n = 0, fallback = 0;

	(void)state;
	while (n < CUB_ARRAY_SIZE(st) && fallback < 100) {
		assert_int_equal(cub_stack_alloc(&st[n], PG, 0), 0);
		assert_true(cub_stack_check(&st[n]));
		if (cub_stack_guarded(&st[n]))
			guarded++;
		else
			fallback++;
		n++;
	}
	assert_int_equal(fallback, 100);
	assert_true(guarded >= 1000);
	for (size_t i = 0; i < n; i++)
		cub_stack_free(&st[i]);
	cub_stack_cache_drain();
	assert_int_equal(cub_stack_alloc(&st[0], PG, 0), 0);
	assert_true(cub_stack_guarded(&st[0]));	/* the budget came back */
	cub_stack_free(&st[0]);
}

static void test_100k_small(void **state)
{
	static struct cub_stack st[100000];
	size_t frames;

	(void)state;
	cub_stack_cache_drain();
	frames = cub_frame_free_count();
	for (size_t i = 0; i < CUB_ARRAY_SIZE(st); i++) {
		assert_int_equal(cub_stack_alloc(&st[i], 1024, CUB_STACK_NOGUARD), 0);
		((char *)st[i].lo)[st[i].size - 1] = 1;
	}
	for (size_t i = 0; i < CUB_ARRAY_SIZE(st); i++) {
		assert_true(cub_stack_check(&st[i]));
		cub_stack_free(&st[i]);
	}
	assert_true(cub_frame_free_count() <= frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guarded),
		cmocka_unit_test(test_noguard),
		cmocka_unit_test(test_colours),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_init_in),
		cmocka_unit_test(test_cache_reuse_and_drain),
		cmocka_unit_test(test_overflow_reports),
		cmocka_unit_test(test_guard_fallback),
		cmocka_unit_test(test_100k_small),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
