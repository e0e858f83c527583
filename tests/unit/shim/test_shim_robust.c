/*
 * test_shim_robust.c - robust futex lists (robust.c): set_robust_list and
 * get_robust_list with their errors, and a thread exiting with its list
 * naming futexes it owns: FUTEX_OWNER_DIED on each (WAITERS kept), one
 * waiter of a non-PI one woken, a PI one handed to its waiter after the
 * marking, others' words and the pending entry as Linux treats them, and
 * corrupt lists (a cycle, a wild pointer) ending the walk, not the exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "host.h"
#include "sys.h"
#include "kids.h"

#define SYS_get_robust_list 274
#define WAIT 0
#define LOCK_PI 6
#define WAITERS 0x80000000u
#define DIED 0x40000000u

struct head {
	uint64_t next;
	int64_t offset;
	uint64_t pending;
};

struct entry {
	uint64_t next;		/* bit 0: a PI futex */
	uint32_t word;
};

#define OFFSET ((int64_t)offsetof(struct entry, word))

static struct head head;
static struct entry e[6];


/* Registers head, as its caller set it up, then holds at its gate. */
static void register_and_hold(struct kid *k)
{
	k->rc = SYS2(SYS_set_robust_list, &head, sizeof(head));
	hold(k);
}

static void calls(void)
{
	static struct kid k;
	uint64_t h = 1, len = 0;

	assert_int_equal(SYS2(SYS_set_robust_list, &head, 23), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_set_robust_list, &head, 24), 0);
	assert_int_equal(SYS3(SYS_get_robust_list, 0, &h, &len), 0);
	assert_int_equal(h, (uintptr_t)&head);
	assert_int_equal(len, 24);
	assert_int_equal(SYS3(SYS_get_robust_list, 99999, &h, &len), -CUB_ESRCH);
	assert_int_equal(SYS3(SYS_get_robust_list, -1, &h, &len), -CUB_ESRCH);
	assert_int_equal(SYS3(SYS_get_robust_list, 0, WILD, &len), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_get_robust_list, 0, &h, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_set_robust_list, 0, 24), 0);
	assert_int_equal(SYS3(SYS_get_robust_list, 0, &h, &len), 0);
	assert_int_equal(h, 0);
	/* Another thread's: its own head, until it exits (-ESRCH). */
	head = (struct head){ (uintptr_t)&head, OFFSET, 0 };
	k = (struct kid){ .body = register_and_hold };
	spawn(&k);
	assert_int_equal(k.rc, 0);
	assert_int_equal(SYS3(SYS_get_robust_list, k.tid, &h, &len), 0);
	assert_int_equal(h, (uintptr_t)&head);
	release(&k);
	join(&k);
	assert_int_equal(SYS3(SYS_get_robust_list, k.tid, &h, &len), -CUB_ESRCH);
}

static void test_calls(void **state)
{
	(void)state;
	kids_run(calls);
}

static void *plain_wait(void *arg)
{
	volatile uint32_t *w = arg;

	return (void *)SYS6(SYS_futex, w, WAIT, *w, 0, 0, 0);
}

/* The list: e0 (waited on) -> e1 (PI, a PI waiter) -> e2 (another
 * thread's) -> e3 (free of waiters) -> head; pending: e4, a non-PI word
 * unlocked (0) but not yet unlinked, waited on. */
static void build_and_hold(struct kid *k)
{
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	e[0].word = me | WAITERS;
	e[1].word = me;
	e[2].word = 12345;
	e[3].word = me;
	e[4].word = 0;
	e[0].next = (uintptr_t)&e[1] | 1;	/* the entry it points to is PI */
	e[1].next = (uintptr_t)&e[2];
	e[2].next = (uintptr_t)&e[3];
	e[3].next = (uintptr_t)&head;
	head = (struct head){ (uintptr_t)&e[0], OFFSET, (uintptr_t)&e[4] };
	register_and_hold(k);
}

static void lock_pi(struct kid *k)
{
	k->rc = SYS6(SYS_futex, k->word, LOCK_PI, 0, 0, 0, 0);
	k->seen = *k->word;
	hold(k);
	SYS6(SYS_futex, k->word, 7 /* UNLOCK_PI */, 0, 0, 0, 0);
}

static void exit_walk(void)
{
	static struct kid owner, pi_waiter;
	struct cub_coro *w0, *w4;
	void *r0, *r4;
	uint32_t tid;

	owner = (struct kid){ .body = build_and_hold };
	spawn(&owner);
	tid = (uint32_t)owner.tid;
	assert_int_equal(owner.rc, 0);
	assert_int_equal(cub_coro_spawn(&w0, plain_wait, &e[0].word, NULL), 0);
	assert_int_equal(cub_coro_spawn(&w4, plain_wait, &e[4].word, NULL), 0);
	cub_coro_yield();
	pi_waiter = (struct kid){ .body = lock_pi, .word = &e[1].word };
	spawn(&pi_waiter);
	assert_int_equal(e[1].word, tid | WAITERS);
	release(&owner);
	join(&owner);
	assert_int_equal(e[0].word, DIED | WAITERS);
	assert_int_equal(e[2].word, 12345);
	assert_int_equal(e[3].word, DIED);
	assert_int_equal(e[4].word, 0);
	assert_int_equal(cub_coro_join(w0, &r0), 0);	/* woken: no hang */
	assert_int_equal(cub_coro_join(w4, &r4), 0);
	assert_int_equal((long)r0, 0);
	assert_int_equal((long)r4, 0);
	/* The PI one: marked, then handed on; the mark stays with it. */
	assert_int_equal(pi_waiter.rc, 0);
	assert_int_equal(pi_waiter.seen, (uint32_t)pi_waiter.tid | WAITERS | DIED);
	release(&pi_waiter);
	join(&pi_waiter);
	assert_int_equal(e[1].word, 0);
}

static void test_exit_walk(void **state)
{
	(void)state;
	kids_run(exit_walk);
}

/* A list that loops forever, or leads nowhere: the exit still ends,
 * having marked what it reached. */
static void cycle_and_hold(struct kid *k)
{
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	e[5].word = me;
	e[5].next = (uintptr_t)&e[5];
	head = (struct head){ (uintptr_t)&e[5], OFFSET, 0 };
	register_and_hold(k);
}

static void wild_and_hold(struct kid *k)
{
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	e[5].word = me;
	e[5].next = (uint64_t)WILD;
	head = (struct head){ (uintptr_t)&e[5], OFFSET, (uint64_t)WILD };
	register_and_hold(k);
}

/* A head that is itself wild: set without a check, as Linux does. */
static void wild_head_and_hold(struct kid *k)
{
	k->rc = SYS2(SYS_set_robust_list, WILD, 24);
	hold(k);
}

static void corrupt(void)
{
	static struct kid k[3];

	k[0] = (struct kid){ .body = cycle_and_hold };
	spawn(&k[0]);
	release(&k[0]);
	join(&k[0]);
	assert_int_equal(e[5].word, DIED);
	k[1] = (struct kid){ .body = wild_and_hold };
	spawn(&k[1]);
	release(&k[1]);
	join(&k[1]);
	assert_int_equal(e[5].word, DIED);
	k[2] = (struct kid){ .body = wild_head_and_hold };
	spawn(&k[2]);
	assert_int_equal(k[2].rc, 0);
	release(&k[2]);
	join(&k[2]);
}

static void test_corrupt(void **state)
{
	(void)state;
	kids_run(corrupt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_exit_walk),
		cmocka_unit_test(test_corrupt),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
