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
 *
 * No check is a real-time window a descheduled process can miss: clock
 * readings are checked against offsets known between monotonic reads
 * (struct off), wakes by the order the scheduler keeps, and a scenario
 * that needs a step within 50-100 ms of a reading runs again when a
 * stall delayed the step.
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

static int64_t mono(void)
{
	return (int64_t)cub_time_now();
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

/*
 * What the wall clock should read, whatever the process is descheduled
 * for. A step changes only the wall clock's offset from the monotonic
 * one (wall - mono); a test knows that offset within [lo, hi], as the
 * monotonic instant of a reading or a setting is known only between two
 * reads of that clock: a stall between them widens the interval by just
 * the stall, so no check below is a real-time window. TOL is for the
 * host's wall clock, which NTP may slew (500 ppm: 0.5 ms a second),
 * against its monotonic one.
 */
struct off {
	int64_t lo, hi;
};

#define TOL (5 * MS)

static int64_t rd_real(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static int64_t rd_coarse(void)
{
	return clock_ns(5 /* REALTIME_COARSE */);
}

static int64_t rd_tai(void)
{
	return clock_ns(CLOCK_TAI);	/* TAI - UTC is 0: no ADJ_TAI here */
}

static int64_t rd_cub(void)
{
	return (int64_t)cub_time_wall();
}

static int64_t rd_tod(void)
{
	int64_t tv[2] = { 0, 0 };

	assert_int_equal(SYS2(SYS_gettimeofday, tv, NULL), 0);
	return tv[0] * NSEC + tv[1] * 1000;
}

static int64_t rd_time(void)
{
	int64_t t = 0, r = SYS1(SYS_time, &t);

	assert_int_equal(r, t);
	return t * NSEC;
}

/* The offset a reading by rd shows; it truncates to grain ns. */
static struct off observe(int64_t (*rd)(void), int64_t grain)
{
	int64_t m0 = mono(), w = rd(), m1 = mono();

	return (struct off){ w - m1, w + grain - 1 - m0 };
}

/* A reading by rd agrees with an offset within want. */
static void expect(struct off want, int64_t (*rd)(void), int64_t grain)
{
	struct off got = observe(rd, grain);

	if (got.hi < want.lo - TOL || got.lo > want.hi + TOL)
		fail_msg("the wall clock's offset is in [%lld, %lld], not [%lld, %lld]",
			 (long long)got.lo, (long long)got.hi, (long long)want.lo,
			 (long long)want.hi);
}

/* The offset after setting the wall clock to ns by clock_settime. */
static struct off set_to(int64_t ns)
{
	int64_t m0 = mono(), m1;

	assert_int_equal(set_ns(ns), 0);
	m1 = mono();
	return (struct off){ ns - m1, ns - m0 };
}

/* The offset restore() sets: the platform's, observed at the start. */
static struct off restore_to(struct off platform)
{
	restore();
	return platform;
}

/* A monotonic reading through the dispatcher lies between two of
 * cub_time_now and did not move with a step: a step of days shows. */
static void mono_unmoved(int64_t since)
{
	int64_t m0 = mono(), m = clock_ns(CLOCK_MONOTONIC), m1 = mono();

	assert_true(m >= m0 && m <= m1);
	assert_true(m >= since && m - since < 3600 * NSEC);
}

static void test_errors(void **state)
{
	struct ts t = { 100, 0 };
	int64_t tv[2] = { 100, 0 };
	int32_t tz[2] = { 0, 0 };
	struct off before = observe(rd_real, 1);

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
	expect(before, rd_real, 1);
}

/* cub_time_set_wall(cub_time_wall() + by) returns the step, new minus
 * old: by less what the clock gained between the read and the set. */
static int64_t step_by(int64_t by)
{
	int64_t m0 = mono(), step = cub_time_set_wall(cub_time_wall() + (uint64_t)by);
	int64_t m1 = mono();

	assert_true(step <= by + TOL && step >= by - (m1 - m0) - TOL);
	return step;
}

/* Everything that reads the wall clock reads the new time; MONOTONIC
 * does not move. */
static void test_set(void **state)
{
	struct off platform = observe(rd_real, 1), o;
	int64_t since = mono(), want = rd_real() + 1000 * DAY + 123 * MS, tv[2], s5, s7, m0;

	(void)state;
	o = set_to(want);
	expect(o, rd_real, 1);
	expect(o, rd_coarse, 1);
	expect(o, rd_tai, 1);
	expect(o, rd_cub, 1);
	mono_unmoved(since);
	expect(o, rd_tod, 1000);
	expect(o, rd_time, NSEC);
	/* settimeofday: microseconds; back before 1980. */
	tv[0] = 300000000, tv[1] = 250000;
	m0 = mono();
	assert_int_equal(SYS2(SYS_settimeofday, tv, NULL), 0);
	o = (struct off){ 300000000 * NSEC + 250 * MS - mono(), 300000000 * NSEC + 250 * MS - m0 };
	expect(o, rd_real, 1);
	mono_unmoved(since);
	o = restore_to(platform);
	expect(o, rd_real, 1);
	/* cub_time_set_wall returns the step; the offset moves by it. */
	s5 = step_by(5 * NSEC);
	s7 = step_by(-7 * NSEC);
	expect((struct off){ o.lo + s5 + s7, o.hi + s5 + s7 }, rd_real, 1);
	restore();
}

/* --------------------------------------------- waits for a wall time */

/*
 * A waiter's monotonic wake time (0: it has not returned). The checks
 * on it are orders, not real-time windows: a coroutine the step readies
 * runs before one whose sleep ends later (the run queue is FIFO, timers
 * fire in deadline order), descheduled or not.
 */
static int64_t woke_at;

static void *abs_sleeper(void *arg)
{
	struct ts until = ts_of(*(int64_t *)arg);

	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL),
			 0);
	woke_at = mono();
	assert_true(clock_ns(CLOCK_REALTIME) >= *(int64_t *)arg);
	return NULL;
}

/* A wait until now + 10 s ends when the clock jumps 10 s ahead: at
 * once, before a 1 ms sleep started after the step ends (not at its
 * 10 s, nor on some later poll). */
static void forward_once(cub_coro_fn waiter)
{
	struct cub_coro *c;
	int64_t until = clock_ns(CLOCK_REALTIME) + 10 * NSEC, stepped;

	woke_at = 0;
	assert_int_equal(cub_coro_spawn(&c, waiter, &until, NULL), 0);
	cub_sleep(20 * MS);
	assert_int_equal(woke_at, 0);	/* still waiting */
	stepped = mono();
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 10 * NSEC), 0);
	cub_sleep(MS);
	assert_true(woke_at >= stepped);
	cub_coro_join(c, NULL);
}

/*
 * A wait until now + 50 ms with the clock set to 300 ms before that
 * while it waits: it ends when the clock reads its time again, 300 ms
 * after the step (not 50 ms after it began), and is not late: it ends
 * before a sleep that ends LATE after that. The step must come while
 * the wait waits, within 50 ms of `until`'s reading: false when a stall
 * delayed it longer (the wait may have ended: nothing was checked).
 */
#define LATE (250 * MS)

static bool back_once(cub_coro_fn waiter)
{
	struct cub_coro *c;
	int64_t read = mono(), until = clock_ns(CLOCK_REALTIME) + 50 * MS, s0, s1;

	woke_at = 0;
	assert_int_equal(cub_coro_spawn(&c, waiter, &until, NULL), 0);
	cub_coro_yield();	/* the waiter runs first: it waits */
	s0 = mono();
	assert_int_equal(set_ns(until - 300 * MS), 0);
	s1 = mono();
	if (s1 - read >= 50 * MS) {
		cub_coro_join(c, NULL);
		return false;
	}
	assert_int_equal(woke_at, 0);
	cub_sleep_until((uint64_t)(s1 + 300 * MS + LATE));
	assert_true(woke_at != 0);
	cub_coro_join(c, NULL);
	assert_true(woke_at >= s0 + 300 * MS - MS);	/* 1 ms: the host's NTP slew */
	return true;
}

/* back_once, again while a stall keeps it from checking (5 in a row
 * means something else is wrong). */
static void back(cub_coro_fn waiter)
{
	int i;

	for (i = 0; i < 5; i++)
		if (back_once(waiter))
			return;
	fail_msg("the step came 50 ms late five times");
}

static void nanosleep_body(void)
{
	forward_once(abs_sleeper);
	back(abs_sleeper);
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

	futex_rc = SYS6(SYS_futex, &fword, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
			&until, NULL, ~0u);
	woke_at = mono();
	return NULL;
}

/* A wait until now + 10 s times out when the clock jumps 10 s ahead;
 * one until now + 50 ms waits 300 ms more when the clock goes back; a
 * wake still ends a wait the clock has moved. */
static void futex_body(void)
{
	struct cub_coro *c;
	int64_t until;

	forward_once(abs_futex_waiter);
	assert_int_equal(futex_rc, -CUB_ETIMEDOUT);
	back(abs_futex_waiter);
	assert_int_equal(futex_rc, -CUB_ETIMEDOUT);

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
	int i;

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
	/* Back 10 s: an absolute expiry 100 ms ahead is now 10.1 s ahead.
	 * The step must come before that expiry, within 100 ms of its
	 * reading: a stall that delays it longer sets it again. */
	for (i = 0;; i++) {
		int64_t r0 = mono();

		assert_true(i < 5);
		abs.value = ts_of(clock_ns(CLOCK_REALTIME) + 100 * MS);
		assert_int_equal(SYS4(SYS_timerfd_settime, abs_fd, TIMER_ABSTIME, &abs, NULL), 0);
		assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) - 10 * NSEC), 0);
		if (mono() - r0 < 100 * MS)
			break;
	}
	cub_sleep(200 * MS);	/* ends after the unmoved expiry would have */
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

/* Timer id's time left is want, less at most the time since `since`
 * (taken before the clock reading `want` was reckoned from). */
static void left_within(int32_t id, int64_t want, int64_t since)
{
	struct its cur;
	int64_t v, m;

	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	m = mono();
	v = ns_of(cur.value);
	if (v > want + TOL || v < want - (m - since) - TOL)
		fail_msg("%lld ns left, not %lld less at most %lld", (long long)v,
			 (long long)want, (long long)(m - since));
}

/* timer_create(CLOCK_REALTIME) armed for an absolute time: it moves. */
static void ptimer_body(void)
{
	struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } ev = { .notify = SIGEV_NONE };
	int64_t since = mono();
	struct its it = { { 0, 0 }, ts_of(clock_ns(CLOCK_REALTIME) + 10 * NSEC) }, cur;
	int32_t id = -1;

	assert_int_equal(SYS3(SYS_timer_create, CLOCK_REALTIME, &ev, &id), 0);
	assert_int_equal(SYS4(SYS_timer_settime, id, TIMER_ABSTIME, &it, NULL), 0);
	left_within(id, 10 * NSEC, since);
	/* The step is 4 s less what the clock gained before the set. */
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 4 * NSEC), 0);
	left_within(id, 6 * NSEC, since);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 6 * NSEC), 0);
	cub_sleep(10 * MS);	/* ends after the moved expiry, now past */
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	assert_int_equal(ns_of(cur.value), 0);	/* fired */
	/* A relative one does not move. */
	it.value = ts_of(5 * NSEC);
	since = mono();
	assert_int_equal(SYS4(SYS_timer_settime, id, 0, &it, NULL), 0);
	assert_int_equal(set_ns(clock_ns(CLOCK_REALTIME) + 60 * NSEC), 0);
	left_within(id, 5 * NSEC, since);
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
