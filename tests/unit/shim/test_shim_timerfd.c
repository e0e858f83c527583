/*
 * test_shim_timerfd.c - timerfd_create/settime/gettime through the
 * dispatcher: bad arguments (EINVAL, EFAULT, EBADF), disarmed timers,
 * one-shot and periodic expiries with the periods a late read collects,
 * absolute expiries on the monotonic and the wall clock, settime's old
 * value, epoll and poll readiness, a blocked read woken by the expiry,
 * and a timer closed while armed (ASan/valgrind: nothing touched after).
 * Times are a few milliseconds; bounds are loose where the host may be
 * slow to run us, exact where the semantics are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "sys.h"
#include "../slow.h"

#define SYS_poll 7
#define SYS_timerfd_create 283
#define SYS_timerfd_settime 286
#define SYS_timerfd_gettime 287
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_BOOTTIME 7
#define TFD_NONBLOCK 04000
#define TFD_CLOEXEC 02000000
#define TFD_TIMER_ABSTIME 1
#define O_RDWR 2
#define EPOLLIN 0x001u
#define MS 1000000ll
#define NSEC 1000000000ll

struct ts {
	int64_t sec, nsec;
};
struct its {
	struct ts interval, value;
};
struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

static struct ts ts_of(int64_t ns)
{
	return (struct ts){ ns / NSEC, ns % NSEC };
}

static int64_t ns_of(struct ts t)
{
	return t.sec * NSEC + t.nsec;
}

/* Arms fd: first expiry after (or at) value ns, then every interval ns. */
static long arm(int fd, int flags, int64_t value, int64_t interval)
{
	struct its it = { ts_of(interval), ts_of(value) };

	return SYS4(SYS_timerfd_settime, fd, flags, &it, NULL);
}

static long ticks(int fd, uint64_t *n)
{
	return SYS3(SYS_read, fd, n, sizeof(*n));
}

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static void test_errors(void **state)
{
	struct its it = { { 0, 0 }, { 0, NSEC } };
	int fd = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK), p[2];
	uint32_t small;

	(void)state;
	assert_true(fd >= 3);
	assert_int_equal(SYS2(SYS_timerfd_create, 3 /* CPUTIME */, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_timerfd_create, 99, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, 1), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, &it, NULL), -CUB_EINVAL);
	it.value = (struct ts){ -1, 0 };
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, &it, NULL), -CUB_EINVAL);
	it.value = (struct ts){ 1, 0 };
	it.interval = (struct ts){ 0, -5 };
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, &it, NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 4, &it, NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, 16, NULL), -CUB_EFAULT);
	it.interval = (struct ts){ 0, 0 };
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, &it, 16), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_timerfd_settime, 200, 0, &it, NULL), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_timerfd_gettime, 200, &it), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, 16), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_pipe2, p, 0), 0);	/* not a timerfd */
	assert_int_equal(SYS4(SYS_timerfd_settime, p[0], 0, &it, NULL), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_timerfd_gettime, p[1], &it), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_read, fd, &small, sizeof(small)), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_write, fd, &small, sizeof(small)), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_fcntl, fd, 3 /* F_GETFL */), O_RDWR | TFD_NONBLOCK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(SYS1(SYS_close, i == 2 ? fd : p[i]), 0);
	fd = (int)SYS2(SYS_timerfd_create, CLOCK_BOOTTIME, TFD_CLOEXEC);
	assert_int_equal(SYS2(SYS_fcntl, fd, 1 /* F_GETFD */), 1);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* Disarmed: gettime reads zeros and nothing ever expires; settime hands
 * back the old setting; a zero value disarms an armed timer. */
static void disarmed(void)
{
	int fd = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct its it = { { 9, 9 }, { 9, 9 } }, old;
	uint64_t n;

	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, &it), 0);
	assert_true(ns_of(it.interval) == 0 && ns_of(it.value) == 0);
	assert_int_equal(ticks(fd, &n), -CUB_EAGAIN);
	assert_int_equal(arm(fd, 0, 10 * NSEC, 2 * NSEC), 0);
	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, &it), 0);
	assert_int_equal(ns_of(it.interval), 2 * NSEC);
	assert_true(ns_of(it.value) > 9 * NSEC && ns_of(it.value) <= 10 * NSEC);
	it = (struct its){ { 5, 0 }, { 0, 0 } };	/* an interval alone: off */
	assert_int_equal(SYS4(SYS_timerfd_settime, fd, 0, &it, &old), 0);
	assert_int_equal(ns_of(old.interval), 2 * NSEC);
	assert_true(ns_of(old.value) > 9 * NSEC);
	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, &it), 0);
	assert_true(ns_of(it.interval) == 0 && ns_of(it.value) == 0);
	cub_sleep(2 * MS);
	assert_int_equal(ticks(fd, &n), -CUB_EAGAIN);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_disarmed(void **state)
{
	(void)state;
	run(disarmed);
}

/* A one-shot timer: a blocking read waits for it and gets 1; then the
 * timer reads as disarmed. A periodic one read late collects every
 * period that went by, and the next read waits for the next period. */
static void oneshot_and_periodic(void)
{
	int fd = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	uint64_t t0 = cub_time_now(), n, w0;
	struct its it;

	assert_int_equal(arm(fd, 0, 5 * MS, 0), 0);
	assert_int_equal(ticks(fd, &n), 8);
	assert_true(cub_time_now() - t0 >= 5 * MS);
	assert_int_equal(n, 1);
	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, &it), 0);
	assert_true(ns_of(it.interval) == 0 && ns_of(it.value) == 0);

	t0 = cub_time_now();
	assert_int_equal(arm(fd, 0, 2 * MS, 2 * MS), 0);
	cub_sleep(11 * MS);
	assert_int_equal(ticks(fd, &n), 8);
	/* expiries at 2, 4, ... ms up to the read's time */
	assert_true(n >= 5 && n <= (cub_time_now() - t0) / (2 * MS));
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(ticks(fd, &n), 8);
	assert_true(n >= 1);
	assert_true(cub_time_now() - t0 <= test_bound(NSEC, w0));	/* woke by its timer: a
						 * missed wake would hang */
	assert_int_equal(SYS2(SYS_timerfd_gettime, fd, &it), 0);
	assert_int_equal(ns_of(it.interval), 2 * MS);
	assert_true(ns_of(it.value) <= 2 * MS);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_expiries(void **state)
{
	(void)state;
	run(oneshot_and_periodic);
}

/* Absolute expiries: on the monotonic clock, on the wall clock, and in
 * the past (due at once). settime forgets expiries not yet read. */
static void absolute(void)
{
	int mono = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	int wall = (int)SYS2(SYS_timerfd_create, CLOCK_REALTIME, TFD_NONBLOCK);
	struct ts now;
	uint64_t n, t0 = cub_time_now();

	assert_int_equal(arm(mono, TFD_TIMER_ABSTIME, (int64_t)t0 + 3 * MS, 0), 0);
	assert_int_equal(ticks(mono, &n), 8);
	assert_int_equal(n, 1);
	assert_true(cub_time_now() >= t0 + 3 * MS);

	assert_int_equal(SYS2(SYS_clock_gettime, CLOCK_REALTIME, &now), 0);
	assert_int_equal(arm(wall, TFD_TIMER_ABSTIME, ns_of(now) + 3 * MS, 0), 0);
	assert_int_equal(ticks(wall, &n), -CUB_EAGAIN);
	cub_sleep(5 * MS);
	assert_int_equal(ticks(wall, &n), 8);
	assert_int_equal(n, 1);

	assert_int_equal(arm(wall, TFD_TIMER_ABSTIME, NSEC, 0), 0);	/* 1970 */
	cub_sleep(1 * MS);
	assert_int_equal(arm(wall, 0, 1000 * NSEC, 0), 0);	/* forgets it */
	assert_int_equal(ticks(wall, &n), -CUB_EAGAIN);
	assert_int_equal(arm(wall, TFD_TIMER_ABSTIME, NSEC, 0), 0);
	cub_sleep(1 * MS);
	assert_int_equal(ticks(wall, &n), 8);
	assert_int_equal(n, 1);
	assert_int_equal(SYS1(SYS_close, mono), 0);
	assert_int_equal(SYS1(SYS_close, wall), 0);
}

static void test_absolute(void **state)
{
	(void)state;
	run(absolute);
}

/* epoll_wait and poll wake for an expiry; a timer closed while armed
 * never fires into freed memory. */
static void readiness(void)
{
	int fd = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, TFD_NONBLOCK);
	int ep = (int)SYS1(SYS_epoll_create1, 0), gone;
	struct ev e = { EPOLLIN, 7 }, got;
	struct { int32_t fd; int16_t events, revents; } p = { fd, 1, 0 };
	uint64_t n;

	assert_int_equal(SYS4(SYS_epoll_ctl, ep, 1, fd, &e), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &got, 1, 0), 0);
	assert_int_equal(arm(fd, 0, 3 * MS, 0), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &got, 1, 1000), 1);
	assert_int_equal(got.data, 7);
	assert_int_equal(ticks(fd, &n), 8);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &got, 1, 0), 0);
	assert_int_equal(arm(fd, 0, 3 * MS, 0), 0);
	assert_int_equal(SYS3(SYS_poll, &p, 1, 1000), 1);
	assert_int_equal(p.revents, 1);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);

	gone = (int)SYS2(SYS_timerfd_create, CLOCK_MONOTONIC, 0);
	assert_int_equal(arm(gone, 0, 1 * MS, 1 * MS), 0);
	assert_int_equal(SYS1(SYS_close, gone), 0);
	cub_sleep(5 * MS);
}

static void test_readiness(void **state)
{
	(void)state;
	run(readiness);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_disarmed),
		cmocka_unit_test(test_expiries),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_readiness),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
