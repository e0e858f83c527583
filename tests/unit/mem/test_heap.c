/*
 * test_heap - the TLSF heap: every API call, alignment, zero and huge
 * sizes, calloc overflow, realloc in place and moving, coalescing, growth
 * and trimming, statistics, poisoning. Most tests use a heap over their
 * own buffer; the last one the global, frame-backed heap. Corruption and
 * misuse: test_heap_misuse.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>

#include "host.h"
#include "death.h"

#include "heap_fixture.h"

static void test_init_errors(void **state)
{
	struct cub_heap h;
	char small[100] __attribute__((aligned(16)));

	(void)state;
	assert_int_equal(cub_heap_init(&h, small, sizeof(small)), -CUB_EINVAL);
	assert_int_equal(cub_heap_init(&h, NULL, 4096), -CUB_EINVAL);
	assert_int_equal(cub_heap_init(&h, NULL, 0), 0);
	assert_null(cub_heap_alloc(&h, 1));	/* empty, cannot grow */
	assert_int_equal(cub_heap_check_of(&h), 0);
}

static void test_basic(void **state)
{
	static const size_t sizes[] = { 1, 7, 16, 17, 31, 32, 33, 100, 511, 512,
					513, 1000, 4095, 4096, 4097, 65536 };
	void *p[CUB_ARRAY_SIZE(sizes)];

	(void)state;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(sizes); i++) {
		p[i] = cub_heap_alloc(&heap, sizes[i]);
		assert_non_null(p[i]);
		assert_true((uintptr_t)p[i] % CUB_HEAP_ALIGN == 0);
		assert_true(cub_heap_usable_size(&heap, p[i]) >= sizes[i]);
		memset(p[i], (int)i + 1, sizes[i]);
	}
	for (size_t i = 0; i < CUB_ARRAY_SIZE(sizes); i++)
		for (size_t j = 0; j < sizes[i]; j++)
			assert_int_equal(((uint8_t *)p[i])[j], i + 1);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	for (size_t i = 0; i < CUB_ARRAY_SIZE(sizes); i += 2)
		cub_heap_free(&heap, p[i]);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	for (size_t i = 1; i < CUB_ARRAY_SIZE(sizes); i += 2)
		cub_heap_free(&heap, p[i]);
	cub_heap_free(&heap, NULL);
	assert_empty(&heap);
}

static void test_zero_and_huge(void **state)
{
	void *a, *b;

	(void)state;
	a = cub_heap_alloc(&heap, 0);
	b = cub_heap_alloc(&heap, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_null(cub_heap_alloc(&heap, SIZE_MAX));
	assert_null(cub_heap_alloc(&heap, SIZE_MAX - 8));
	assert_null(cub_heap_alloc(&heap, CUB_HEAP_MAX_ALLOC + 1));
	assert_null(cub_heap_alloc(&heap, ARENA));	/* bigger than the heap */
	assert_null(cub_heap_aligned_alloc(&heap, 64, SIZE_MAX));
	assert_null(cub_heap_calloc(&heap, SIZE_MAX, 1));
	cub_heap_free(&heap, a);
	cub_heap_free(&heap, b);
	assert_empty(&heap);
}

static void test_heap_calloc(void **state)
{
	uint8_t *p;

	(void)state;
	assert_null(cub_heap_calloc(&heap, SIZE_MAX / 2 + 1, 2));	/* overflow */
	assert_null(cub_heap_calloc(&heap, (size_t)1 << 33, (size_t)1 << 33));
	p = cub_heap_alloc(&heap, 1000);
	memset(p, 0xEE, 1000);
	cub_heap_free(&heap, p);
	p = cub_heap_calloc(&heap, 10, 100);	/* reuses the dirty block */
	assert_non_null(p);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(p[i], 0);
	cub_heap_free(&heap, p);
	p = cub_heap_calloc(&heap, 0, 5);
	assert_non_null(p);
	cub_heap_free(&heap, p);
	assert_empty(&heap);
}

static void test_heap_realloc(void **state)
{
	uint8_t *p, *q, *wall;

	(void)state;
	p = cub_heap_realloc(&heap, NULL, 100);	/* = malloc */
	assert_non_null(p);
	for (int i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	/* Grow in place into the free space after it. */
	q = cub_heap_realloc(&heap, p, 3000);
	assert_ptr_equal(q, p);
	assert_true(cub_heap_usable_size(&heap, q) >= 3000);
	/* Shrink in place. */
	q = cub_heap_realloc(&heap, p, 50);
	assert_ptr_equal(q, p);
	assert_true(cub_heap_usable_size(&heap, q) < 3000);
	/* A wall after it forces a move; contents are kept. */
	wall = cub_heap_alloc(&heap, 10);
	q = cub_heap_realloc(&heap, p, 5000);
	assert_non_null(q);
	assert_ptr_not_equal(q, p);
	for (int i = 0; i < 50; i++)
		assert_int_equal(q[i], i);
	/* Too big: NULL and the block stays valid. */
	assert_null(cub_heap_realloc(&heap, q, SIZE_MAX));
	assert_null(cub_heap_realloc(&heap, q, 2 * ARENA));
	assert_int_equal(q[49], 49);
	/* Size 0: a minimal block, still valid. */
	q = cub_heap_realloc(&heap, q, 0);
	assert_non_null(q);
	assert_int_equal(q[0], 0);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	cub_heap_free(&heap, q);
	cub_heap_free(&heap, wall);
	assert_empty(&heap);
}

static void test_aligned(void **state)
{
	void *p[16];
	size_t k = 0;

	(void)state;
	for (size_t a = 1; a <= CUB_PAGE_SIZE; a <<= 1) {
		p[k] = cub_heap_aligned_alloc(&heap, a, 100 + a);
		assert_non_null(p[k]);
		assert_true((uintptr_t)p[k] % a == 0);
		memset(p[k], 0x5A, 100 + a);
		assert_int_equal(cub_heap_check_of(&heap), 0);
		k++;
	}
	assert_null(cub_heap_aligned_alloc(&heap, 0, 10));
	assert_null(cub_heap_aligned_alloc(&heap, 3, 10));
	assert_null(cub_heap_aligned_alloc(&heap, 48, 10));
	assert_null(cub_heap_aligned_alloc(&heap, 2 * CUB_PAGE_SIZE, 10));
	while (k)
		cub_heap_free(&heap, p[--k]);
	assert_empty(&heap);
}

static void test_coalesce(void **state)
{
	void *a, *b, *c, *d;
	struct cub_heap_stats st;

	(void)state;
	a = cub_heap_alloc(&heap, 200);
	b = cub_heap_alloc(&heap, 200);
	c = cub_heap_alloc(&heap, 200);
	d = cub_heap_alloc(&heap, 200);
	cub_heap_free(&heap, a);
	cub_heap_free(&heap, c);
	cub_heap_stats_of(&heap, &st);
	assert_int_equal(st.free_blocks, 3);	/* a, c, and the tail */
	cub_heap_free(&heap, b);		/* merges a+b+c */
	cub_heap_stats_of(&heap, &st);
	assert_int_equal(st.free_blocks, 2);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	cub_heap_free(&heap, d);		/* merges everything */
	assert_empty(&heap);
}

static void test_exhaust(void **state)
{
	static void *p[ARENA / 64];
	size_t n = 0;
	struct cub_heap_stats st;

	(void)state;
	while ((p[n] = cub_heap_alloc(&heap, 40)) != NULL)
		n++;
	assert_true(n > ARENA / 64 / 2);
	cub_heap_stats_of(&heap, &st);
	assert_int_equal(st.blocks, n);
	assert_int_equal(st.peak, st.in_use);
	assert_true(st.free < 64);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	for (size_t i = 0; i < n; i += 3)
		cub_heap_free(&heap, p[i]);
	for (size_t i = 1; i < n; i += 3)
		cub_heap_free(&heap, p[i]);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	for (size_t i = 2; i < n; i += 3)
		cub_heap_free(&heap, p[i]);
	assert_empty(&heap);
}

/* A heap that grows from one buffer, in contiguous pieces. */
static char growbuf[8 * 65536] __attribute__((aligned(4096)));
static size_t grow_used, released;

static int grow_from_buf(struct cub_heap *h, size_t min)
{
	size_t n = CUB_ALIGN_UP(CUB_MAX(min, (size_t)65536), (size_t)65536);

	if (grow_used + n > sizeof(growbuf))
		return -CUB_ENOMEM;
	grow_used += n;
	return cub_heap_add_area(h, growbuf + grow_used - n, n);
}

static void release_count(struct cub_heap *h, void *mem, size_t len)
{
	(void)h;
	(void)mem;
	released += len;
}

static void test_grow_and_trim(void **state)
{
	struct cub_heap h;
	struct cub_heap_stats st;
	void *big, *small;

	(void)state;
	grow_used = released = 0;
	assert_int_equal(cub_heap_init(&h, NULL, 0), 0);
	h.grow = grow_from_buf;
	h.release = release_count;
	small = cub_heap_alloc(&h, 100);
	assert_non_null(small);
	assert_int_equal(grow_used, 65536);
	/* Needs more than one piece: the pieces merge into one area. */
	big = cub_heap_alloc(&h, 100000);
	assert_non_null(big);
	cub_heap_stats_of(&h, &st);
	assert_int_equal(st.total, grow_used);
	assert_int_equal(cub_heap_check_of(&h), 0);
	assert_null(cub_heap_alloc(&h, sizeof(growbuf)));
	assert_int_equal(cub_heap_trim(&h), 0);	/* still in use */
	cub_heap_free(&h, big);
	cub_heap_free(&h, small);
	assert_int_equal(cub_heap_check_of(&h), 0);
	assert_int_equal(cub_heap_trim(&h), grow_used);
	assert_int_equal(released, grow_used);
	cub_heap_stats_of(&h, &st);
	assert_int_equal(st.total, 0);
	assert_int_equal(st.free, 0);
}

static void test_separate_areas(void **state)
{
	static char a1[8192] __attribute__((aligned(16)));
	static char a2[8192] __attribute__((aligned(16)));
	struct cub_heap h;
	void *p, *q;

	(void)state;
	assert_int_equal(cub_heap_init(&h, a2, sizeof(a2)), 0);
	assert_int_equal(cub_heap_add_area(&h, a1, sizeof(a1)), 0);
	assert_int_equal(cub_heap_add_area(&h, a1, 10), -CUB_EINVAL);
	p = cub_heap_alloc(&h, 7000);
	q = cub_heap_alloc(&h, 7000);
	assert_non_null(p);
	assert_non_null(q);
	assert_null(cub_heap_alloc(&h, 7000));
	assert_int_equal(cub_heap_check_of(&h), 0);
	cub_heap_free(&h, p);
	cub_heap_free(&h, q);
	assert_int_equal(cub_heap_check_of(&h), 0);
}

static void test_stats(void **state)
{
	struct cub_heap_stats st0, st;
	void *a, *b;

	(void)state;
	cub_heap_stats_of(&heap, &st0);
	assert_int_equal(st0.total, ARENA);
	a = cub_heap_alloc(&heap, 1000);
	b = cub_heap_alloc(&heap, 3000);
	cub_heap_stats_of(&heap, &st);
	assert_int_equal(st.blocks, 2);
	assert_true(st.in_use >= 4000 && st.in_use <= 4100);
	assert_int_equal(st.in_use + st.free, st0.free);
	assert_int_equal(st.peak, st.in_use);
	cub_heap_free(&heap, b);
	cub_heap_stats_of(&heap, &st);
	assert_true(st.peak >= 4000);
	assert_true(st.in_use < 1100);
	assert_int_equal(st.largest_free, st.free);	/* b merged with the tail */
	cub_heap_free(&heap, a);
	assert_empty(&heap);
}

static void test_poison_ok(void **state)
{
	void *p[64];

	(void)state;
	cub_heap_set_poison(&heap, true);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 64; i++)
			p[i] = cub_heap_alloc(&heap, (size_t)(i * 37 % 700));
		for (int i = 0; i < 64; i += 2)
			cub_heap_free(&heap, p[i]);
		assert_int_equal(cub_heap_check_of(&heap), 0);
		for (int i = 1; i < 64; i += 2)
			p[i] = cub_heap_realloc(&heap, p[i], 900);
		for (int i = 1; i < 64; i += 2)
			cub_heap_free(&heap, p[i]);
		p[0] = cub_heap_aligned_alloc(&heap, 256, 300);
		cub_heap_free(&heap, p[0]);
	}
	assert_empty(&heap);
	cub_heap_set_poison(&heap, false);
}

/* ------------------------------------------------------ global heap */

static void test_global(void **state)
{
	size_t frames;
	uint8_t *p, *q, *big, *al;
	struct cub_heap_stats st;

	(void)state;
	cubi_mem_init();
	cub_heap_release_free();
	frames = cub_frame_free_count();
	p = cub_malloc(100);
	assert_non_null(p);
	q = cub_calloc(100, 100);
	assert_non_null(q);
	assert_int_equal(q[9999], 0);
	big = cub_malloc(10 << 20);		/* grows by a big run */
	assert_non_null(big);
	memset(big, 1, 10 << 20);
	assert_true(cub_frame_free_count() < frames - 2560);
	p = cub_realloc(p, 200000);
	assert_non_null(p);
	assert_true(cub_malloc_usable_size(p) >= 200000);
	al = cub_aligned_alloc(4096, 5000);
	assert_true((uintptr_t)al % 4096 == 0);
	cub_heap_stats(&st);
	assert_int_equal(st.blocks, 4);
	assert_int_equal(cub_heap_check(), 0);
	cub_free(p);
	cub_free(q);
	cub_free(al);
	cub_free(big);
	cub_free(NULL);
	assert_int_equal(cub_heap_check(), 0);
	assert_true(cub_heap_release_free() > 0);
	assert_int_equal(cub_frame_free_count(), frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_and_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heap_calloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heap_realloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aligned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaust, setup, teardown),
		cmocka_unit_test(test_grow_and_trim),
		cmocka_unit_test(test_separate_areas),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poison_ok, setup, teardown),
		cmocka_unit_test(test_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
