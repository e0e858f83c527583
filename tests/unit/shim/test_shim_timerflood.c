/*
 * test_shim_timerflood.c - periodic timers with tiny intervals must not
 * flood the machine with expiries (fuzz_syscalls seed 10265 hung the
 * runtime with one). A POSIX timer or an interval timer whose signal is
 * pending waits until it is taken before it runs again (the periods
 * missed meanwhile are the overrun), as Linux re-arms them at dequeue; a
 * timer whose signal is dropped (ignored) goes on at least a tick apart;
 * a SIGEV_NONE timer is never armed (timer_gettime computes). Each case
 * sleeps 20 ms under a 1 ns or 1 us period: before the fix none of them
 * came back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "sys.h"
#include "sigtest.h"
#include "../slow.h"

#define SYS_setitimer 38
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_gettime 224
#define SYS_timer_getoverrun 225
#define SYS_timer_delete 226
#define SIGUSR2 12
#define SIGALRM 14
#define SIGPROF 27
#define SIG_IGN 1

static long settime(int id, int64_t value_ns, int64_t every_ns)
{
	int64_t its[4] = { every_ns / NSEC, every_ns % NSEC, value_ns / NSEC, value_ns % NSEC };

	return SYS4(SYS_timer_settime, id, 0, its, NULL);
}

static int make_timer(int notify, int sig)
{
	struct sigev ev = { .value = 7, .signo = sig, .notify = notify };
	int32_t id;

	assert_int_equal(SYS3(SYS_timer_create, 1, &ev, &id), 0);
	return id;
}

/* A 1 ns timer whose signal stays blocked: one signal, the rest are its
 * overrun, counted when it is taken; taken, the timer goes on. */
static void pending_body(void)
{
	struct info info;
	uint64_t t0;
	int id = make_timer(0, SIGUSR2);

	set_blocked(BIT(SIGUSR2));
	t0 = cub_time_now();
	assert_int_equal(settime(id, 1, 1), 0);
	cub_sleep(20 * MS);
	assert_int_equal(waitsig(BIT(SIGUSR2), &info, 1000), SIGUSR2);
	/* Every nanosecond since the first expiry, bar the signal's own. */
	assert_true((uint64_t)info.uid >= 20 * MS - 2);
	assert_true((uint64_t)info.uid <= cub_time_now() - t0);
	assert_int_equal(SYS1(SYS_timer_getoverrun, id), info.uid);
	/* Taken, it runs again at once: a second signal. */
	assert_int_equal(waitsig(BIT(SIGUSR2), &info, 1000), SIGUSR2);
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
	(void)waitsig(BIT(SIGUSR2), &info, 0);	/* one sent before may wait */
	cub_sleep(3 * MS);
	assert_int_equal(waitsig(BIT(SIGUSR2), &info, 0), -CUB_EAGAIN);
	set_blocked(0);
}

static void test_pending_signal(void **state)
{
	(void)state;
	run(pending_body);
}

/* Ignored, a 1 us timer's signals are dropped; it goes on at least a
 * tick apart, so that once the signal is wanted again it comes. */
static void ignored_body(void)
{
	struct info info;
	uint64_t t0, w0;
	int id = make_timer(0, SIGUSR2);

	set_action(SIGUSR2, SIG_IGN);
	assert_int_equal(settime(id, 1000, 1000), 0);
	cub_sleep(20 * MS);
	set_blocked(BIT(SIGUSR2));
	set_action(SIGUSR2, 0x1111000);	/* blocked: only waited for */
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(waitsig(BIT(SIGUSR2), &info, 1000), SIGUSR2);
	assert_true(cub_time_now() - t0 < test_bound(1000 * MS, w0));
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
	(void)waitsig(BIT(SIGUSR2), &info, 0);	/* one sent before may wait */
	set_action(SIGUSR2, 0);
	set_blocked(0);
}

static void test_ignored_signal(void **state)
{
	(void)state;
	run(ignored_body);
}

/* SIGEV_NONE: nothing to send, so nothing is armed; gettime computes
 * the next period. */
static void none_body(void)
{
	int64_t its[4];
	int id = make_timer(1, 0);

	assert_int_equal(settime(id, 1, 1), 0);
	cub_sleep(20 * MS);
	assert_int_equal(SYS2(SYS_timer_gettime, id, its), 0);
	assert_true(its[0] == 0 && its[1] == 1 && its[2] == 0 && its[3] == 1);
	assert_int_equal(settime(id, 5 * MS, 3 * MS), 0);
	cub_sleep(20 * MS);
	assert_int_equal(SYS2(SYS_timer_gettime, id, its), 0);
	assert_true(its[0] == 0 && its[1] == 3 * MS && its[2] == 0);
	assert_true(its[3] > 0 && its[3] <= 3 * MS);
	assert_int_equal(settime(id, 2 * MS, 0), 0);	/* one-shot: then 0 */
	cub_sleep(5 * MS);
	assert_int_equal(SYS2(SYS_timer_gettime, id, its), 0);
	assert_true(its[0] == 0 && its[1] == 0 && its[2] == 0 && its[3] == 0);
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
}

static void test_sigev_none(void **state)
{
	(void)state;
	run(none_body);
}

static long setitimer(int which, int64_t value_us, int64_t every_us)
{
	int64_t tv[4] = { every_us / 1000000, every_us % 1000000, value_us / 1000000,
			  value_us % 1000000 };

	return SYS3(SYS_setitimer, which, tv, NULL);
}

/* Interval timers at 1 us: ITIMER_REAL's SIGALRM blocked (it runs again
 * once the signal is taken), ITIMER_PROF's SIGPROF ignored (and its
 * expiries skipped while the thread sleeps: it counts CPU time). */
static void itimer_body(void)
{
	struct info info;

	set_blocked(BIT(SIGALRM));
	assert_int_equal(setitimer(0, 1, 1), 0);
	cub_sleep(20 * MS);
	assert_int_equal(waitsig(BIT(SIGALRM), &info, 1000), SIGALRM);
	assert_int_equal(waitsig(BIT(SIGALRM), &info, 1000), SIGALRM);
	assert_int_equal(setitimer(0, 0, 0), 0);
	(void)waitsig(BIT(SIGALRM), &info, 0);	/* one may have come */
	assert_int_equal(waitsig(BIT(SIGALRM), &info, 0), -CUB_EAGAIN);
	set_blocked(0);

	set_action(SIGPROF, SIG_IGN);
	assert_int_equal(setitimer(2, 1, 1), 0);
	cub_sleep(20 * MS);
	set_blocked(BIT(SIGPROF));
	set_action(SIGPROF, 0x1111000);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 1000), SIGPROF);
	assert_int_equal(setitimer(2, 0, 0), 0);
	(void)waitsig(BIT(SIGPROF), &info, 0);
	set_action(SIGPROF, 0);
	set_blocked(0);
}

static void test_itimers(void **state)
{
	(void)state;
	run(itimer_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending_signal),
		cmocka_unit_test(test_ignored_signal),
		cmocka_unit_test(test_sigev_none),
		cmocka_unit_test(test_itimers),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
