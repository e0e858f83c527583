/*
 * test_shim_cputimer.c - timers on CPU time sample who has the CPU:
 * cubrt accounts no CPU time, so a POSIX timer on CLOCK_THREAD_CPUTIME_ID
 * or CLOCK_PROCESS_CPUTIME_ID, and ITIMER_PROF and ITIMER_VIRTUAL, fall
 * due on the monotonic clock but signal only when their thread (any
 * program thread, for the process's) is on the CPU at that instant.
 * Before, they counted elapsed time: a thread blocked in a futex or a
 * sleep drew SIGPROF, and Go's CPU profiles put samples in
 * runtime.futex and epollwait (runtime/pprof's
 * TestCPUProfileMultithreadMagnitude, GOMAXPROCS=4: 10.75 s of samples
 * in 5 s). Each case: a sleep and a sigtimedwait (off the CPU: no
 * signal), then a spin (on it: the signal comes); a 1 ns period while asleep returns on
 * time (skips do not flood). Timings in ms, with loose bounds.
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

#define SYS_setitimer 38
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_delete 226
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define SIGEV_SIGNAL 0
#define SIGEV_THREAD_ID 4
#define SIGUSR1 10
#define SIGALRM 14
#define SIGVTALRM 26
#define SIGPROF 27

static int make_timer(int clock, int notify)
{
	struct sigev ev = { .value = 9, .signo = SIGPROF, .notify = notify };
	int32_t id;

	if (notify == SIGEV_THREAD_ID)
		ev.tid = (int32_t)SYS0(SYS_gettid);
	assert_int_equal(SYS3(SYS_timer_create, clock, &ev, &id), 0);
	return id;
}

static long settime(int id, int64_t value_ns, int64_t every_ns)
{
	int64_t its[4] = { every_ns / NSEC, every_ns % NSEC, value_ns / NSEC, value_ns % NSEC };

	return SYS4(SYS_timer_settime, id, 0, its, NULL);
}

static long setitimer(int which, int64_t value_us, int64_t every_us)
{
	int64_t tv[4] = { every_us / 1000000, every_us % 1000000, value_us / 1000000,
			  value_us % 1000000 };

	return SYS3(SYS_setitimer, which, tv, NULL);
}

static void sleep_ms(long ms)
{
	int64_t ts[2] = { 0, ms * MS };

	assert_int_equal(SYS2(SYS_nanosleep, ts, NULL), 0);
}

/* Off the CPU for 30 ms, asleep and then waiting for another signal:
 * the timer's signal must not come. */
static void off_cpu(int sig)
{
	struct info info;

	sleep_ms(30);
	assert_int_equal(waitsig(BIT(sig), &info, 0), -CUB_EAGAIN);
	assert_int_equal(waitsig(BIT(SIGUSR1), &info, 20), -CUB_EAGAIN);
	assert_int_equal(waitsig(BIT(sig), &info, 0), -CUB_EAGAIN);
}

/* A periodic 1 ms timer on the thread's CPU clock, signalling the thread:
 * none while it sleeps or waits, one once it computes, with SI_TIMER and
 * the timer's value. */
static void thread_clock_body(void)
{
	struct info info;
	int id = make_timer(CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID);

	set_blocked(BIT(SIGPROF));
	assert_int_equal(settime(id, MS, MS), 0);
	off_cpu(SIGPROF);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 1000), SIGPROF);
	assert_int_equal(info.code, -2);	/* SI_TIMER */
	assert_int_equal(info.value, 9);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 1000), SIGPROF);	/* periodic */
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
	(void)waitsig(BIT(SIGPROF), &info, 0);
	set_blocked(0);
}

static void test_thread_clock(void **state)
{
	(void)state;
	run(thread_clock_body);
}

/* The process's CPU clock, one-shot, to the process: the same; and a
 * timer on the monotonic clock still fires while the thread sleeps. */
static void process_clock_body(void)
{
	struct info info;
	int id = make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL);
	int mono = make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL);

	set_blocked(BIT(SIGPROF));
	assert_int_equal(settime(id, 2 * MS, 0), 0);
	off_cpu(SIGPROF);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 1000), SIGPROF);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 20), -CUB_EAGAIN);	/* one-shot */
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);

	assert_int_equal(settime(mono, 2 * MS, 0), 0);
	sleep_ms(10);
	assert_int_equal(waitsig(BIT(SIGPROF), &info, 0), SIGPROF);
	assert_int_equal(SYS1(SYS_timer_delete, mono), 0);
	set_blocked(0);
}

static void test_process_clock(void **state)
{
	(void)state;
	run(process_clock_body);
}

/* ITIMER_PROF and ITIMER_VIRTUAL count CPU time; ITIMER_REAL does not. */
static void itimer_body(void)
{
	static const int which[2] = { 2, 1 }, sig[2] = { SIGPROF, SIGVTALRM };
	struct info info;

	set_blocked(BIT(SIGPROF) | BIT(SIGVTALRM) | BIT(SIGALRM));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(setitimer(which[i], 1000, 1000), 0);
		off_cpu(sig[i]);
		assert_int_equal(spinsig(BIT(sig[i]), &info, 1000), sig[i]);
		assert_int_equal(info.code, 0x80);	/* SI_KERNEL */
		assert_int_equal(setitimer(which[i], 0, 0), 0);
		(void)waitsig(BIT(sig[i]), &info, 0);
	}
	assert_int_equal(setitimer(0, 2000, 0), 0);
	sleep_ms(10);
	assert_int_equal(waitsig(BIT(SIGALRM), &info, 0), SIGALRM);
	set_blocked(0);
}

static void test_itimers(void **state)
{
	(void)state;
	run(itimer_body);
}

/* A 1 ns period while the thread sleeps: the expiries are skipped (one
 * may have come before it slept), and skips re-arm at least a tick apart,
 * so the sleep ends on time; spinning, the signal comes. */
static void tiny_period_body(void)
{
	struct info info;
	uint64_t t0;
	int id = make_timer(CLOCK_THREAD_CPUTIME_ID, SIGEV_THREAD_ID);

	set_blocked(BIT(SIGPROF));
	assert_int_equal(settime(id, 1, 1), 0);
	assert_int_equal(setitimer(2, 1, 1), 0);
	t0 = cub_time_now();
	sleep_ms(20);
	assert_true(cub_time_now() - t0 < 1000 * MS);
	assert_int_equal(spinsig(BIT(SIGPROF), &info, 1000), SIGPROF);
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
	assert_int_equal(setitimer(2, 0, 0), 0);
	while (waitsig(BIT(SIGPROF), &info, 0) == SIGPROF)
		;
	set_blocked(0);
}

static void test_tiny_period(void **state)
{
	(void)state;
	run(tiny_period_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_clock),
		cmocka_unit_test(test_process_clock),
		cmocka_unit_test(test_itimers),
		cmocka_unit_test(test_tiny_period),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
