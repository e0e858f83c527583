/*
 * test_shim_settime.c - setting the wall clock through the dispatcher:
 * clock_settime(CLOCK_REALTIME) and settimeofday, their errors (other
 * clocks, unnormalized times, out-of-range time zones: EINVAL; bad
 * pointers: EFAULT), what reads the clock afterwards (clock_gettime's
 * REALTIME family, gettimeofday, time; MONOTONIC unmoved), and what
 * waits for a wall time when the clock steps: an absolute REALTIME
 * clock_nanosleep wakes when the clock jumps past its time and sleeps on
 * when it goes back, timerfds and POSIX timers armed for an absolute
 * REALTIME expiry move with the clock (relative ones do not), and
 * TFD_TIMER_CANCEL_ON_SET makes the next read fail with ECANCELED. Each
 * test puts the clock back to the platform's at its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "sys.h"

#define SYS_settimeofday 164
#define SYS_time 201
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_gettime 224
#define SYS_clock_settime 227
#define SYS_timerfd_create 283
#define SYS_timerfd_settime 286
#define SYS_futex 202
#define FUTEX_WAIT_BITSET_PRIVATE (9 | 128)
#define FUTEX_CLOCK_REALTIME 256
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11
#define TIMER_ABSTIME 1
#define TFD_NONBLOCK 04000
#define TFD_TIMER_CANCEL_ON_SET 2
#define SIGEV_NONE 1
#define MS 1000000ll
#define NSEC 1000000000ll
#define DAY (86400 * NSEC)

struct ts {
	int64_t sec, nsec;
};
struct its {
	struct ts interval, value;
};

static struct ts ts_of(int64_t ns)
{
	return (struct ts){ ns / NSEC, ns % NSEC };
}

static int64_t ns_of(struct ts t)
{
	return t.sec * NSEC + t.nsec;
}

static int64_t clock_ns(int clk)
{
	struct ts t;

	assert_int_equal(SYS2(SYS_clock_gettime, clk, &t), 0);
	return ns_of(t);
}

static long set_ns(int64_t ns)
{
	struct ts t = ts_of(ns);

	return SYS2(SYS_clock_settime, CLOCK_REALTIME, &t);
}

static void near(int64_t got, int64_t want, int64_t tol)
{
	int64_t d = got > want ? got - want : want - got;

	if (d > tol)
		fail_msg("%lld is not within %lld of %lld", (long long)got, (long long)tol,
			 (long long)want);
}

static void restore(void)
{
	cub_time_set_wall(cub_arch_wallclock_ns());
}

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	restore();
	return res;
}

static void test_errors(void **state)
{
	struct ts t = { 100, 0 };
	int64_t tv[2] = { 100, 0 };
	int32_t tz[2] = { 0, 0 };
	int64_t before = clock_ns(CLOCK_REALTIME);

	(void)state;
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_MONOTONIC, &t), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_BOOTTIME, &t), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_TAI, &t), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_settime, 99, &t), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_REALTIME, 16), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_REALTIME, NULL), -CUB_EFAULT);
	t = (struct ts){ 100, NSEC };
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_REALTIME, &t), -CUB_EINVAL);
	t = (struct ts){ 100, -1 };
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_REALTIME, &t), -CUB_EINVAL);
	t = (struct ts){ -1, 0 };
	assert_int_equal(SYS2(SYS_clock_settime, CLOCK_REALTIME, &t), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_settimeofday, 16, NULL), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_settimeofday, tv, 16), -CUB_EFAULT);
	tv[1] = 1000000;
	assert_int_equal(SYS2(SYS_settimeofday, tv, NULL), -CUB_EINVAL);
	tv[1] = -1;
	assert_int_equal(SYS2(SYS_settimeofday, tv, NULL), -CUB_EINVAL);
	tv[0] = -5, tv[1] = 0;
	assert_int_equal(SYS2(SYS_settimeofday, tv, NULL), -CUB_EINVAL);
	tz[0] = 15 * 60 + 1;
	assert_int_equal(SYS2(SYS_settimeofday, NULL, tz), -CUB_EINVAL);
	tz[0] = -60;
	assert_int_equal(SYS2(SYS_settimeofday, NULL, tz), 0);	/* zone only */
	assert_int_equal(SYS2(SYS_settimeofday, NULL, NULL), 0);
	/* Nothing of that moved the clock. */
	near(clock_ns(CLOCK_REALTIME), before, 100 * MS);
}

/* Everything that reads the wall clock reads the new time; MONOTONIC
 * does not move. */
static void test_set(void **state)
{
	int64_t real = clock_ns(CLOCK_REALTIME), mono = clock_ns(CLOCK_MONOTONIC);
	int64_t want = real + 1000 * DAY + 123 * MS, tv[2] = { 0, 0 }, t = 0;

	(void)state;
	assert_int_equal(set_ns(want), 0);
	near(clock_ns(CLOCK_REALTIME), want, 50 * MS);
	near(clock_ns(5 /* REALTIME_COARSE */), want, 50 * MS);
	near(clock_ns(CLOCK_TAI), want, 50 * MS);
	near((int64_t)cub_time_wall(), want, 50 * MS);
	near(clock_ns(CLOCK_MONOTONIC), mono, 50 * MS);
	assert_int_equal(SYS2(SYS_gettimeofday, tv, NULL), 0);
	near(tv[0] * NSEC + tv[1] * 1000, want, 50 * MS);
	near(SYS1(SYS_time, &t) * NSEC, want, 1100 * MS);
	near(t * NSEC, want, 1100 * MS);
	/* settimeofday: microseconds; back before 1980. */
	tv[0] = 300000000, tv[1] = 250000;
	assert_int_equal(SYS2(SYS_settimeofday, tv, NULL), 0);
	near(clock_ns(CLOCK_REALTIME), 300000000 * NSEC + 250 * MS, 50 * MS);
	near(clock_ns(CLOCK_MONOTONIC), mono, 100 * MS);
	restore();
	near(clock_ns(CLOCK_REALTIME), real, 100 * MS);
	/* cub_time_set_wall returns the step, new minus old. */
	near(cub_time_set_wall(cub_time_wall() + 5 * NSEC), 5 * NSEC, 10 * MS);
	near(cub_time_set_wall(cub_time_wall() - 7 * NSEC), -7 * NSEC, 10 * MS);
	near(clock_ns(CLOCK_REALTIME), real - 2 * NSEC, 100 * MS);
	restore();
}

/* --------------------------------------------- waits for a wall time */

static int64_t woke_after;		/* the sleeper's monotonic ns asleep */

static void *abs_sleeper(void *arg)
{
	struct ts until = ts_of(*(int64_t *)arg);
	int64_t t0 = (int64_t)cub_time_now();

	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL),
			 0);
	woke_after = (int64_t)cub_time_now() - t0;
	assert_true(clock_ns(CLOCK_REALTIME) >= *(int64_t *)arg);
	return NULL;
}

/* A sleep until now + 10 s ends when the clock jumps 10 s ahead; one
 * until now + 50 ms sleeps 300 ms more when the clock goes 300 ms back. */
static void nanosleep_body(void)
{
	struct cub_coro *c;
	int64_t until = clock_ns(CLOCK_REALTIME) + 10 * NSEC;

	assert_int_equal(cub_coro_spawn(&c, abs_sleeper, &until, NULL), 0);
	cub_sleep(20 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 10 * NSEC), 0);
	cub_coro_join(c, NULL);
	assert_true(woke_after >= 20 * MS && woke_after < 1000 * MS);

	until = clock_ns(CLOCK_REALTIME) + 50 * MS;
	assert_int_equal(cub_coro_spawn(&c, abs_sleeper, &until, NULL), 0);
	cub_sleep(10 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) - 300 * MS), 0);
	cub_coro_join(c, NULL);
	assert_true(woke_after >= 340 * MS && woke_after < 1500 * MS);
}

static void test_nanosleep(void **state)
{
	(void)state;
	run(nanosleep_body);
}

/* A futex wait for an absolute wall time: FUTEX_WAIT_BITSET with
 * FUTEX_CLOCK_REALTIME (what musl's pthread_cond_timedwait uses). */
static uint32_t fword;
static long futex_rc;

static void *abs_futex_waiter(void *arg)
{
	struct ts until = ts_of(*(int64_t *)arg);
	int64_t t0 = (int64_t)cub_time_now();

	futex_rc = SYS6(SYS_futex, &fword, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
			&until, NULL, ~0u);
	woke_after = (int64_t)cub_time_now() - t0;
	return NULL;
}

/* A wait until now + 10 s times out when the clock jumps 10 s ahead;
 * one until now + 50 ms waits 300 ms more when the clock goes 300 ms
 * back; a wake still ends a wait the clock has moved. */
static void futex_body(void)
{
	struct cub_coro *c;
	int64_t until = clock_ns(CLOCK_REALTIME) + 10 * NSEC;

	assert_int_equal(cub_coro_spawn(&c, abs_futex_waiter, &until, NULL), 0);
	cub_sleep(20 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 10 * NSEC), 0);
	cub_coro_join(c, NULL);
	assert_int_equal(futex_rc, -CUB_ETIMEDOUT);
	assert_true(woke_after >= 20 * MS && woke_after < 1000 * MS);

	until = clock_ns(CLOCK_REALTIME) + 50 * MS;
	assert_int_equal(cub_coro_spawn(&c, abs_futex_waiter, &until, NULL), 0);
	cub_sleep(10 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) - 300 * MS), 0);
	cub_coro_join(c, NULL);
	assert_int_equal(futex_rc, -CUB_ETIMEDOUT);
	assert_true(woke_after >= 340 * MS && woke_after < 1500 * MS);

	until = clock_ns(CLOCK_REALTIME) + 10 * NSEC;
	assert_int_equal(cub_coro_spawn(&c, abs_futex_waiter, &until, NULL), 0);
	cub_sleep(10 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) - 1 * NSEC), 0);
	cub_sleep(10 * MS);
	assert_int_equal(SYS3(SYS_futex, &fword, 1 | 128, 1), 1);	/* WAKE_PRIVATE */
	cub_coro_join(c, NULL);
	assert_int_equal(futex_rc, 0);
}

static void test_futex_realtime(void **state)
{
	(void)state;
	run(futex_body);
}

/* An absolute REALTIME timerfd 10 s ahead fires when the clock jumps
 * there; a relative one does not move; CANCEL_ON_SET: ECANCELED once. */
static void timerfd_body(void)
{
	int abs_fd = (int)SYS2(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK);
	int rel_fd = (int)SYS2(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK);
	int can_fd = (int)SYS2(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK);
	struct its abs = { { 0, 0 }, ts_of(clock_ns(CLOCK_REALTIME) + 10 * NSEC) };
	struct its rel = { { 0, 0 }, ts_of(10 * NSEC) };
	uint64_t n = 0;

	assert_int_equal(SYS4(SYS_timerfd_settime, abs_fd, TIMER_ABSTIME, &abs, NULL), 0);
	assert_int_equal(SYS4(SYS_timerfd_settime, rel_fd, 0, &rel, NULL), 0);
	assert_int_equal(SYS4(SYS_timerfd_settime, can_fd,
			      TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs, NULL), 0);
	cub_sleep(5 * MS);
	assert_int_equal(SYS3(SYS_read, abs_fd, &n, 8), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, can_fd, &n, 8), -CUB_EAGAIN);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 10 * NSEC), 0);
	cub_sleep(20 * MS);
	assert_int_equal(SYS3(SYS_read, abs_fd, &n, 8), 8);
	assert_int_equal(n, 1);
	assert_int_equal(SYS3(SYS_read, rel_fd, &n, 8), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, can_fd, &n, 8), -CUB_ECANCELED);
	assert_int_equal(SYS3(SYS_read, can_fd, &n, 8), 8);	/* it fired too */
	/* Back 10 s: an absolute expiry 100 ms ahead is now 10.1 s ahead. */
	abs.value = ts_of(clock_ns(CLOCK_REALTIME) + 100 * MS);
	assert_int_equal(SYS4(SYS_timerfd_settime, abs_fd, TIMER_ABSTIME, &abs, NULL), 0);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) - 10 * NSEC), 0);
	cub_sleep(200 * MS);
	assert_int_equal(SYS3(SYS_read, abs_fd, &n, 8), -CUB_EAGAIN);
	assert_int_equal(SYS1(SYS_close, abs_fd), 0);
	assert_int_equal(SYS1(SYS_close, rel_fd), 0);
	assert_int_equal(SYS1(SYS_close, can_fd), 0);
}

static void test_timerfd(void **state)
{
	(void)state;
	run(timerfd_body);
}

/* timer_create(CLOCK_REALTIME) armed for an absolute time: it moves. */
static void ptimer_body(void)
{
	struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } ev = { .notify = SIGEV_NONE };
	struct its it = { { 0, 0 }, ts_of(clock_ns(CLOCK_REALTIME) + 10 * NSEC) }, cur;
	int32_t id = -1;

	assert_int_equal(SYS3(SYS_timer_create, CLOCK_REALTIME, &ev, &id), 0);
	assert_int_equal(SYS4(SYS_timer_settime, id, TIMER_ABSTIME, &it, NULL), 0);
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	near(ns_of(cur.value), 10 * NSEC, 100 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 4 * NSEC), 0);
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	near(ns_of(cur.value), 6 * NSEC, 100 * MS);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 6 * NSEC), 0);
	cub_sleep(10 * MS);
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	assert_int_equal(ns_of(cur.value), 0);	/* fired */
	/* A relative one does not move. */
	it.value = ts_of(5 * NSEC);
	assert_int_equal(SYS4(SYS_timer_settime, id, 0, &it, NULL), 0);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 60 * NSEC), 0);
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	near(ns_of(cur.value), 5 * NSEC, 100 * MS);
	assert_int_equal(SYS1(226 /* timer_delete */, id), 0);
}

static void test_ptimer(void **state)
{
	(void)state;
	run(ptimer_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_nanosleep),
		cmocka_unit_test(test_futex_realtime),
		cmocka_unit_test(test_timerfd),
		cmocka_unit_test(test_ptimer),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
