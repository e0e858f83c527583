/*
 * test_shim_futex_pi.c - the priority-inheritance futexes (futex_pi.c):
 * FUTEX_LOCK_PI, LOCK_PI2, TRYLOCK_PI and UNLOCK_PI through the
 * dispatcher, between Linux threads made by clone (each with a TID of its
 * own, on a stack of its own): the word and its FUTEX_WAITERS and
 * FUTEX_OWNER_DIED bits at each step, the FIFO hand-off, the errors
 * (EDEADLK, EPERM, ESRCH, EINVAL, EFAULT, ENOSYS, EAGAIN for a busy
 * trylock), timeouts on both clocks, a signal during the wait (the call
 * restarts after the handler, SA_RESTART or not), and an owner that exits
 * holding the lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "host.h"
#include "sys.h"
#include "sigrestart.h"
#include "kids.h"

#define WAIT 0
#define WAKE 1
#define LOCK_PI 6
#define UNLOCK_PI 7
#define TRYLOCK_PI 8
#define LOCK_PI2 13
#define PRIVATE 128
#define CLOCK_RT 256
#define WAITERS 0x80000000u
#define DIED 0x40000000u
#define MS 1000000ll

static long futex(volatile uint32_t *a, long op, const void *ts)
{
	return SYS6(SYS_futex, a, op, 0, ts, 0, 0);
}



static volatile int granted;	/* hand-offs seen, for `order` */

/* Locks (k->op, k->ts), notes the result, the word and its turn, waits
 * for the gate if k->rc2 was preset to 1, unlocks, notes that too. */
static void lock_then_unlock(struct kid *k)
{
	bool wait = k->rc2 == 1;

	k->rc = futex(k->word, k->op, k->ts[0] || k->ts[1] ? k->ts : NULL);
	k->seen = *k->word;
	if (k->rc != 0)
		return;
	k->order = ++granted;
	if (wait)
		hold(k);
	k->rc2 = futex(k->word, UNLOCK_PI, NULL);
	k->seen2 = *k->word;
}

/* Locks, then waits for the gate and exits holding the lock; k->op 1:
 * first marks the word as musl's pthread_exit does for its robust list
 * (FUTEX_OWNER_DIED, no TID). */
static void lock_and_die(struct kid *k)
{
	k->rc = futex(k->word, LOCK_PI | PRIVATE, NULL);
	k->seen = *k->word;
	hold(k);
	if (k->op == 1)
		__atomic_exchange_n(k->word, DIED, __ATOMIC_SEQ_CST);
}

static void trylock_once(struct kid *k)
{
	k->rc = futex(k->word, TRYLOCK_PI, NULL);
	k->seen = *k->word;
	k->rc2 = futex(k->word, UNLOCK_PI, NULL);
}

/* --------------------------------------------------------------- tests */

static volatile uint32_t word, word2;

static void uncontended(void)
{
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	word = 0;
	assert_int_equal(futex(&word, LOCK_PI | PRIVATE, NULL), 0);
	assert_int_equal(word, me);
	assert_int_equal(futex(&word, LOCK_PI, NULL), -CUB_EDEADLK);
	assert_int_equal(futex(&word, LOCK_PI2, NULL), -CUB_EDEADLK);
	assert_int_equal(futex(&word, TRYLOCK_PI, NULL), -CUB_EDEADLK);
	assert_int_equal(futex(&word, UNLOCK_PI | PRIVATE, NULL), 0);
	assert_int_equal(word, 0);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), -CUB_EPERM);
	assert_int_equal(futex(&word, TRYLOCK_PI, NULL), 0);
	assert_int_equal(word, me);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	/* A past deadline does not matter when nobody holds it. */
	int64_t past[2] = { 0, 1 };
	assert_int_equal(futex(&word, LOCK_PI2, past), 0);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	/* Stale bits without a TID: taken; FUTEX_OWNER_DIED stays, WAITERS
	 * goes (nobody waits), as Linux's futex_lock_pi_atomic. */
	word = DIED;
	assert_int_equal(futex(&word, LOCK_PI, NULL), 0);
	assert_int_equal(word, DIED | me);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	assert_int_equal(word, 0);
	word = WAITERS | DIED;
	assert_int_equal(futex(&word, TRYLOCK_PI, NULL), 0);
	assert_int_equal(word, DIED | me);
	word = me | WAITERS;	/* an owner's bits are its own to clear */
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	assert_int_equal(word, 0);
}

static void test_uncontended(void **state)
{
	(void)state;
	kids_run(uncontended);
}

static void *plain_wait(void *arg)
{
	(void)arg;
	return (void *)SYS6(SYS_futex, &word, WAIT, 77, 0, 0, 0);
}

static void errors(void)
{
	int64_t bad[2] = { 0, 1000 * MS }, neg[2] = { -1, 0 };
	long ro = sys_mmap_anon(0, 4096, 1 /* PROT_READ */, 0x22);
	struct cub_coro *co;
	void *res;

	word = 0;
	assert_int_equal(futex((uint32_t *)((char *)&word + 2), LOCK_PI, NULL), -CUB_EINVAL);
	assert_int_equal(futex((uint32_t *)WILD, LOCK_PI, NULL), -CUB_EFAULT);
	assert_int_equal(futex((uint32_t *)WILD, UNLOCK_PI, NULL), -CUB_EFAULT);
	assert_int_equal(futex((uint32_t *)WILD, TRYLOCK_PI, NULL), -CUB_EFAULT);
	assert_true(ro > 0);
	assert_int_equal(futex((uint32_t *)ro, LOCK_PI, NULL), -CUB_EFAULT);	/* read-only */
	assert_int_equal(futex(&word, LOCK_PI, bad), -CUB_EINVAL);
	assert_int_equal(futex(&word, LOCK_PI2, neg), -CUB_EINVAL);
	assert_int_equal(futex(&word, LOCK_PI, (void *)WILD), -CUB_EFAULT);
	/* FUTEX_CLOCK_REALTIME: LOCK_PI2 only (LOCK_PI's clock is REALTIME). */
	assert_int_equal(futex(&word, LOCK_PI | CLOCK_RT, NULL), -CUB_ENOSYS);
	assert_int_equal(futex(&word, TRYLOCK_PI | CLOCK_RT, NULL), -CUB_ENOSYS);
	assert_int_equal(futex(&word, UNLOCK_PI | CLOCK_RT, NULL), -CUB_ENOSYS);
	assert_int_equal(word, 0);
	assert_int_equal(futex(&word, 14, NULL), -CUB_ENOSYS);	/* no such op */
	/* A TID no thread has: ESRCH, FUTEX_WAITERS set first (as Linux). */
	word = 54321;
	assert_int_equal(futex(&word, LOCK_PI, NULL), -CUB_ESRCH);
	assert_int_equal(word, 54321 | WAITERS);
	assert_int_equal(futex(&word, TRYLOCK_PI, NULL), -CUB_ESRCH);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), -CUB_EPERM);
	/* A FUTEX_WAIT waiter on the word: not a PI futex, EINVAL. */
	word = 77;
	assert_int_equal(cub_coro_spawn(&co, plain_wait, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(futex(&word, LOCK_PI, NULL), -CUB_EINVAL);
	word = (uint32_t)SYS0(SYS_gettid);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_futex, &word, WAKE, 1, 0, 0, 0), 1);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((long)res, 0);
	assert_int_equal(SYS2(SYS_munmap, ro, 4096), 0);
}

static void test_errors(void **state)
{
	(void)state;
	kids_run(errors);
}

/* Two threads wait behind the holder: the lock goes to them in turn, the
 * word naming each with FUTEX_WAITERS (kept by Linux on every hand-off),
 * and is free once the last unlocks. */
static void contention(void)
{
	static struct kid a, b, c, d;
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	word = 0;
	granted = 0;
	assert_int_equal(futex(&word, LOCK_PI | PRIVATE, NULL), 0);
	a = (struct kid){ .body = lock_then_unlock, .word = &word, .op = LOCK_PI | PRIVATE };
	b = (struct kid){ .body = lock_then_unlock, .word = &word, .op = LOCK_PI2 | PRIVATE };
	spawn(&a);
	assert_int_equal(word, me | WAITERS);	/* a waits */
	spawn(&b);
	assert_int_equal(word, me | WAITERS);
	assert_int_equal(a.order + b.order, 0);
	/* Not a FUTEX_WAKE's to wake; not another thread's to unlock. */
	assert_int_equal(SYS6(SYS_futex, &word, WAKE | PRIVATE, 1, 0, 0, 0), -CUB_EINVAL);
	c = (struct kid){ .body = trylock_once, .word = &word };
	spawn(&c);
	join(&c);
	assert_int_equal(c.rc, -CUB_EAGAIN);	/* EWOULDBLOCK */
	assert_int_equal(c.seen, me | WAITERS);
	assert_int_equal(c.rc2, -CUB_EPERM);
	/* A word that disagrees with the recorded owner: EINVAL. */
	word = 4242 | WAITERS;
	d = (struct kid){ .body = lock_then_unlock, .word = &word, .op = LOCK_PI };
	spawn(&d);
	join(&d);
	assert_int_equal(d.rc, -CUB_EINVAL);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), -CUB_EPERM);
	word = me | WAITERS;
	/* The hand-off: to a, which runs only once we block. */
	assert_int_equal(futex(&word, UNLOCK_PI | PRIVATE, NULL), 0);
	assert_int_equal(word, (uint32_t)a.tid | WAITERS);
	join(&a);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.order, 1);
	assert_int_equal(a.seen, (uint32_t)a.tid | WAITERS);
	assert_int_equal(a.rc2, 0);
	assert_int_equal(a.seen2, (uint32_t)b.tid | WAITERS);	/* to b */
	join(&b);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.order, 2);
	assert_int_equal(b.seen, (uint32_t)b.tid | WAITERS);	/* alone, still */
	assert_int_equal(b.rc2, 0);
	assert_int_equal(b.seen2, 0);		/* nobody waits: free */
	assert_int_equal(word, 0);
}

static void test_contention(void **state)
{
	(void)state;
	kids_run(contention);
}

/* A busy trylock sets FUTEX_WAITERS (Linux attaches its state to the
 * owner before failing), so the owner's unlock comes to the kernel,
 * which frees the word. */
static void trylock_busy(void)
{
	static struct kid k;
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	word2 = 0;
	assert_int_equal(futex(&word2, LOCK_PI, NULL), 0);
	k = (struct kid){ .body = trylock_once, .word = &word2 };
	spawn(&k);
	join(&k);
	assert_int_equal(k.rc, -CUB_EAGAIN);
	assert_int_equal(k.seen, me | WAITERS);
	assert_int_equal(futex(&word2, UNLOCK_PI, NULL), 0);
	assert_int_equal(word2, 0);
}

static void test_trylock_busy(void **state)
{
	(void)state;
	kids_run(trylock_busy);
}

/* Waits behind a holder that never lets go, on each clock; then one whose
 * deadline is far is granted the lock. */
static void timeouts(void)
{
	static struct kid k[4];
	static const long ops[3] = { LOCK_PI, LOCK_PI2, LOCK_PI2 | CLOCK_RT };
	static const int clocks[3] = { 0, 1, 0 };
	uint32_t me = (uint32_t)SYS0(SYS_gettid);

	word = 0;
	granted = 0;
	assert_int_equal(futex(&word, LOCK_PI, NULL), 0);
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = cub_time_now();

		k[i] = (struct kid){ .body = lock_then_unlock, .word = &word, .op = ops[i] };
		kids_at(k[i].ts, clocks[i], 20);
		spawn(&k[i]);
		join(&k[i]);
		assert_int_equal(k[i].rc, -CUB_ETIMEDOUT);
		assert_true(cub_time_now() - t0 >= 19 * MS);
		assert_int_equal(k[i].seen, me | WAITERS);	/* stays set */
	}
	k[3] = (struct kid){ .body = lock_then_unlock, .word = &word, .op = LOCK_PI2 };
	kids_at(k[3].ts, 1, 60000);
	spawn(&k[3]);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	join(&k[3]);
	assert_int_equal(k[3].rc, 0);
	assert_int_equal(k[3].seen, (uint32_t)k[3].tid | WAITERS);
	assert_int_equal(k[3].rc2, 0);
	assert_int_equal(k[3].seen2, 0);
}

static void test_timeouts(void **state)
{
	(void)state;
	kids_run(timeouts);
}

/* A handled signal ends the wait; the call restarts after the handler,
 * with SA_RESTART or without (Linux's -ERESTARTNOINTR), and the restarted
 * call gets the lock. */
static void signal_restart(void)
{
	static struct kid owner;
	struct sys_call c = { SYS_futex, { (long)&word, LOCK_PI | PRIVATE } }, again;
	struct cubi_sigctx back;
	struct cub_coro *co;
	void *res;

	word = 0;
	owner = (struct kid){ .body = lock_then_unlock, .word = &word, .op = LOCK_PI | PRIVATE,
			      .rc2 = 1 };
	spawn(&owner);
	assert_int_equal(word, (uint32_t)owner.tid);
	for (int restart = 0; restart < 2; restart++) {
		set_usr1_handler(restart);
		assert_int_equal(sys_call_interrupted(&c), -CUB_EINTR);
		assert_int_equal(word, (uint32_t)owner.tid | WAITERS);
		back = sys_call_handled(&c, -CUB_EINTR);
		assert_int_equal(back.rip, AFTER_CALL - 2);	/* at the syscall */
		again = sys_call_again(&back);
		assert_int_equal(again.nr, SYS_futex);
		assert_int_equal(again.a[0], (long)&word);
		assert_int_equal(again.a[1], LOCK_PI | PRIVATE);
	}
	assert_int_equal(cub_coro_spawn(&co, sys_call_run, &again, NULL), 0);
	cub_coro_yield();
	release(&owner);
	join(&owner);
	assert_int_equal(owner.rc2, 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((long)res, 0);
	assert_int_equal(word, 1u | WAITERS);
	assert_int_equal(futex(&word, UNLOCK_PI, NULL), 0);
	assert_int_equal(word, 0);
}

static void test_signal_restart(void **state)
{
	(void)state;
	kids_run(signal_restart);
}

/* An owner exits holding the lock while another waits: the waiter gets
 * it (Linux's exit_pi_state_list), FUTEX_OWNER_DIED kept if the owner's
 * robust list (musl's pthread_exit) marked the word; a held word nobody
 * waits for names a dead TID afterwards: ESRCH. */
static void owner_exits(void)
{
	static struct kid owner[3], waiter[2];

	for (int musl = 0; musl < 2; musl++) {
		word = 0;
		owner[musl] = (struct kid){ .body = lock_and_die, .word = &word, .op = musl };
		spawn(&owner[musl]);
		assert_int_equal(owner[musl].rc, 0);
		waiter[musl] = (struct kid){ .body = lock_then_unlock, .word = &word,
					     .op = LOCK_PI | PRIVATE, .rc2 = 1 };
		spawn(&waiter[musl]);
		assert_int_equal(word, (uint32_t)owner[musl].tid | WAITERS);
		release(&owner[musl]);
		join(&owner[musl]);
		assert_int_equal(waiter[musl].rc, 0);
		assert_int_equal(waiter[musl].seen,
				 (uint32_t)waiter[musl].tid | WAITERS | (musl ? DIED : 0));
		release(&waiter[musl]);
		join(&waiter[musl]);
		assert_int_equal(waiter[musl].rc2, 0);
		assert_int_equal(word, 0);
	}
	word2 = 0;
	owner[2] = (struct kid){ .body = lock_and_die, .word = &word2, .op = 0 };
	spawn(&owner[2]);
	release(&owner[2]);
	join(&owner[2]);
	assert_int_equal(word2, (uint32_t)owner[2].tid);
	assert_int_equal(futex(&word2, LOCK_PI, NULL), -CUB_ESRCH);
}

static void test_owner_exits(void **state)
{
	(void)state;
	kids_run(owner_exits);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uncontended),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_contention),
		cmocka_unit_test(test_trylock_busy),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_signal_restart),
		cmocka_unit_test(test_owner_exits),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
