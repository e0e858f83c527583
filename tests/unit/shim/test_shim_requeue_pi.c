/*
 * test_shim_requeue_pi.c - FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI
 * (futex_pi.c), the pair glibc's condvars with a PI mutex use, between
 * clone'd threads (kids.h): the arguments Linux refuses, timeouts, the
 * first waiter given a free mutex and the others moved behind it (the
 * word at each step), waiters moved behind a held mutex, a waiter
 * expecting another mutex, EDEADLK for a waiter that owns the mutex, a
 * plain wake of such waiters refused, and a signal restarting the wait.
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
#include "sigrestart.h"
#include "kids.h"

#define WAKE 1
#define LOCK_PI 6
#define UNLOCK_PI 7
#define WAIT_RQ 11
#define CMP_RQ 12
#define PRIVATE 128
#define CLOCK_RT 256
#define WAITERS 0x80000000u
#define MS 1000000ll

static volatile uint32_t cond, mutex, other;
static volatile int turns;

static long fx(volatile uint32_t *a, long op, long val, long ts_or_n, volatile uint32_t *a2,
	       long val3)
{
	return SYS6(SYS_futex, a, op, val, ts_or_n, a2, val3);
}



/* Waits on cond (0) for mutex (k->op: the flags, k->ts: a deadline);
 * once it owns mutex notes the word and its turn, then unlocks. */
static void cond_wait(struct kid *k)
{
	k->rc = fx(&cond, WAIT_RQ | k->op, 0, k->ts[0] ? (long)k->ts : 0, &mutex, 0);
	k->seen = mutex;
	if (k->rc)
		return;
	k->order = ++turns;
	k->rc2 = fx(&mutex, UNLOCK_PI, 0, 0, 0, 0);
	k->seen2 = mutex;
}

static void errors(void)
{
	int64_t bad[2] = { 0, 1000 * MS }, ts[2];

	cond = mutex = 0;
	assert_int_equal(fx(&cond, WAIT_RQ, 0, 0, &cond, 0), -CUB_EINVAL);
	assert_int_equal(fx(&cond, WAIT_RQ, 5, 0, &mutex, 0), -CUB_EAGAIN);
	assert_int_equal(fx(&cond, WAIT_RQ, 0, 0, (uint32_t *)WILD, 0), -CUB_EFAULT);
	assert_int_equal(fx(&cond, WAIT_RQ, 0, 0, (uint32_t *)((char *)&mutex + 1), 0),
			 -CUB_EINVAL);
	assert_int_equal(fx(&cond, WAIT_RQ, 0, (long)bad, &mutex, 0), -CUB_EINVAL);
	assert_int_equal(fx((uint32_t *)WILD, WAIT_RQ, 0, 0, &mutex, 0), -CUB_EFAULT);
	assert_int_equal(fx(&cond, CMP_RQ, 2, 1, &mutex, 0), -CUB_EINVAL);	/* wakes one */
	assert_int_equal(fx(&cond, CMP_RQ, 1, -1, &mutex, 0), -CUB_EINVAL);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &cond, 0), -CUB_EINVAL);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, (uint32_t *)WILD, 0), -CUB_EFAULT);
	assert_int_equal(fx(&cond, CMP_RQ | CLOCK_RT, 1, 1, &mutex, 0), -CUB_ENOSYS);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 3), -CUB_EAGAIN);	/* cmpval */
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), 0);	/* nobody waits */
	assert_int_equal(mutex, 0);
	/* Timeouts: absolute, MONOTONIC or with FUTEX_CLOCK_REALTIME. */
	kids_at(ts, 1, 20);
	assert_int_equal(fx(&cond, WAIT_RQ | PRIVATE, 0, (long)ts, &mutex, 0), -CUB_ETIMEDOUT);
	kids_at(ts, 0, 20);
	assert_int_equal(fx(&cond, WAIT_RQ | CLOCK_RT, 0, (long)ts, &mutex, 0), -CUB_ETIMEDOUT);
	assert_int_equal(mutex, 0);
}

static void test_errors(void **state)
{
	(void)state;
	kids_run(errors);
}

/* A free mutex: the first waiter gets it, with FUTEX_WAITERS since two
 * more are moved behind it; they get it in turn. */
static void requeue_free(void)
{
	static struct kid k[3];

	cond = mutex = 0;
	turns = 0;
	for (int i = 0; i < 3; i++) {
		k[i] = (struct kid){ .body = cond_wait, .op = PRIVATE };
		spawn(&k[i]);
	}
	assert_int_equal(fx(&cond, WAKE | PRIVATE, 1, 0, 0, 0), -CUB_EINVAL);	/* not so */
	assert_int_equal(fx(&cond, LOCK_PI | PRIVATE, 0, 0, 0, 0), -CUB_EINVAL);
	assert_int_equal(fx(&cond, CMP_RQ | PRIVATE, 1, 100, &mutex, 0), 3);
	assert_int_equal(mutex, (uint32_t)k[0].tid | WAITERS);
	assert_int_equal(k[0].order + k[1].order + k[2].order, 0);	/* none ran yet */
	for (int i = 0; i < 3; i++)
		join(&k[i]);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(k[i].rc, 0);
		assert_int_equal(k[i].order, i + 1);
		assert_int_equal(k[i].seen, (uint32_t)k[i].tid | WAITERS);
		assert_int_equal(k[i].rc2, 0);
		assert_int_equal(k[i].seen2, i < 2 ? (uint32_t)k[i + 1].tid | WAITERS : 0);
	}
	/* Requeueing none: the first gets it, without FUTEX_WAITERS. */
	k[0] = (struct kid){ .body = cond_wait };
	spawn(&k[0]);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 0, &mutex, 0), 1);
	assert_int_equal(mutex, (uint32_t)k[0].tid);
	join(&k[0]);
	assert_int_equal(k[0].rc2, 0);
	assert_int_equal(mutex, 0);
}

static void test_requeue_free(void **state)
{
	(void)state;
	kids_run(requeue_free);
}

/* A held mutex: both waiters move behind the owner (one more than asked,
 * as Linux: the first did not get it), then get it from its unlock. */
static void requeue_held(void)
{
	static struct kid k[2];
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	cond = mutex = 0;
	turns = 0;
	assert_int_equal(fx(&mutex, LOCK_PI, 0, 0, 0, 0), 0);
	for (int i = 0; i < 2; i++) {
		k[i] = (struct kid){ .body = cond_wait };
		spawn(&k[i]);
	}
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), 2);
	assert_int_equal(mutex, me | WAITERS);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), 0);	/* none left */
	assert_int_equal(k[0].order + k[1].order, 0);
	assert_int_equal(fx(&mutex, UNLOCK_PI, 0, 0, 0, 0), 0);
	assert_int_equal(mutex, (uint32_t)k[0].tid | WAITERS);
	join(&k[0]);
	join(&k[1]);
	assert_int_equal(k[0].order, 1);
	assert_int_equal(k[1].order, 2);
	assert_int_equal(k[0].seen2, (uint32_t)k[1].tid | WAITERS);
	assert_int_equal(k[1].seen2, 0);
}

static void test_requeue_held(void **state)
{
	(void)state;
	kids_run(requeue_held);
}

/* Owns the mutex, then waits on cond for it (20 ms at most). */
static void own_then_wait(struct kid *k)
{
	k->rc2 = fx(&mutex, LOCK_PI, 0, 0, 0, 0);
	k->rc = fx(&cond, WAIT_RQ, 0, (long)k->ts, &mutex, 0);
	fx(&mutex, UNLOCK_PI, 0, 0, 0, 0);
}

static void refused(void)
{
	static struct kid k[2];

	cond = mutex = other = 0;
	k[0] = (struct kid){ .body = cond_wait };
	spawn(&k[0]);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &other, 0), -CUB_EINVAL);	/* expects mutex */
	assert_int_equal(other, 0);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), 1);
	join(&k[0]);
	assert_int_equal(k[0].rc, 0);
	/* The waiter owns the mutex already: EDEADLK, nothing moved. */
	k[1] = (struct kid){ .body = own_then_wait };
	kids_at(k[1].ts, 1, 20);
	spawn(&k[1]);
	assert_int_equal(k[1].rc2, 0);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), -CUB_EDEADLK);
	join(&k[1]);
	assert_int_equal(k[1].rc, -CUB_ETIMEDOUT);
	assert_int_equal(mutex, 0);
}

static void test_refused(void **state)
{
	(void)state;
	kids_run(refused);
}

/* A signal before the requeue: the handler runs, then the wait starts
 * again (Linux's -ERESTARTNOINTR), SA_RESTART or not. */
static void signal_restart(void)
{
	struct sys_call c = { SYS_futex, { (long)&cond, WAIT_RQ, 0, 0, (long)&mutex, 0 } };
	struct cubi_sigctx back;

	cond = mutex = 0;
	set_usr1_handler(false);
	assert_int_equal(sys_call_interrupted(&c), -CUB_EINTR);
	back = sys_call_handled(&c, -CUB_EINTR);
	assert_int_equal(back.rip, AFTER_CALL - 2);
	assert_int_equal(back.rax, SYS_futex);
	assert_int_equal(fx(&cond, CMP_RQ, 1, 1, &mutex, 0), 0);	/* it is gone */
}

static void test_signal_restart(void **state)
{
	(void)state;
	kids_run(signal_restart);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_requeue_free),
		cmocka_unit_test(test_requeue_held),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_signal_restart),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
