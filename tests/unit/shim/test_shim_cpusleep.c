/*
 * test_shim_cpusleep.c - clock_nanosleep on CPU-time clocks
 * (cpusleep.c): a sleep on another thread's clock ends once that thread
 * has run the time (relative and TIMER_ABSTIME, the user-time VIRT clock
 * too), one on the process's clock once the threads together have; the
 * sleeper is parked meanwhile (its own clock does not move); a signal
 * with a handler ends it with -EINTR and, relative, the CPU time left in
 * rem; a sleep on a thread that never runs, or that exits, lasts until a
 * signal; the caller's own thread clock, bad ids, timespecs, flags and
 * pointers fail at once. Before cpusleep.c every such sleep was
 * -EOPNOTSUPP.
 *
 * The threads are clone'd (kids.h); they record what they saw, main
 * asserts. Upper bounds allow test_bound's slowness and CPU wait: on a
 * loaded host a descheduled test counts as the running thread's time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "sys.h"
#include "sigtest.h"
#include "kids.h"
#include "cpuclock.h"
#include "../slow.h"

#define TIMER_ABSTIME 1
#define SIGUSR1 10
#define HANDLER 0x1234000	/* never run on the host: ends waits */
static uint64_t slow;

/* clock_nanosleep(clk, flags, ns); rem, if given, gets what it wrote. */
static long cpu_sleep(long clk, long flags, uint64_t ns, int64_t rem[2])
{
	int64_t ts[2] = { (int64_t)(ns / NSEC), (int64_t)(ns % NSEC) };

	return SYS4(SYS_clock_nanosleep, clk, flags, ts, rem);
}

static void spin_ms(long ms)
{
	uint64_t t0 = cub_time_now();

	while (cub_time_now() - t0 < (uint64_t)ms * MS)
		;
}

static void sleep_ms(long ms)
{
	int64_t ts[2] = { ms / 1000, ms % 1000 * MS };

	SYS2(SYS_nanosleep, ts, NULL);
}

static volatile int stop;

/* Spins 1 ms at a time, until stop (2 s at most); between, a 10 us
 * sleep lets a woken sleeper run (valgrind flags sched_yield's context
 * switch from a clone'd thread on the host, a futex wait's not). */
static void spinner(struct kid *k)
{
	uint64_t t0 = cub_time_now();
	int64_t ts[2] = { 0, 10000 };

	(void)k;
	while (!stop && cub_time_now() - t0 < 2000 * MS * slow) {
		spin_ms(1);
		SYS2(SYS_nanosleep, ts, NULL);
	}
}

/* Sleeps k->op on clock k->word's value (a clock id), with flags
 * k->rc2; records the result (rc) and rem (ts). */
static void cpu_sleeper(struct kid *k)
{
	k->ts[0] = k->ts[1] = -1;
	k->rc = cpu_sleep((long)(intptr_t)k->word, k->rc2, (uint64_t)k->op, k->ts);
}

/* Held at its gate, then ends: a thread that does not run meanwhile. */
static void idler(struct kid *k)
{
	hold(k);
}

/* A sleep of ns on clock clk, the spinner running: woken once clk moved
 * ns (abs: reached ns), not much later; the caller's own clock stood
 * still. Returns clk's reading at wake-up. */
static uint64_t check_sleep(long clk, long flags, uint64_t ns)
{
	uint64_t c0 = clock_ns(clk), m0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t w0 = test_waited_ns(), want = flags ? ns : c0 + ns, c1;

	assert_int_equal(cpu_sleep(clk, flags, ns, NULL), 0);
	c1 = clock_ns(clk);
	assert_true(c1 >= want);
	/* not much later: not checked under valgrind (slow > 1), where
	 * the spinner's hand-overs and the host's timer signal come late
	 * by more than any bound that would still prove something */
	if (slow == 1)
		assert_true(c1 - want < test_bound(10 * MS, w0));
	assert_true(clock_ns(CLOCK_THREAD_CPUTIME_ID) - m0 < 5 * MS * slow);
	return c1;
}

/* Another thread's clock, relative and absolute, its SCHED and its VIRT
 * (user time) ids; a time already reached returns at once. */
static void thread_clock_body(void)
{
	struct kid sp = { .body = spinner };
	long clk;
	uint64_t c;

	stop = 0;
	spawn(&sp);
	clk = THREAD_CLOCK(sp.tid, SCHED);
	c = check_sleep(clk, 0, 20 * MS);
	c = check_sleep(clk, TIMER_ABSTIME, c + 20 * MS);
	(void)check_sleep(THREAD_CLOCK(sp.tid, VIRT), 0, 10 * MS);
	assert_int_equal(cpu_sleep(clk, TIMER_ABSTIME, c, NULL), 0);	/* past */
	assert_int_equal(cpu_sleep(clk, 0, 0, NULL), 0);
	stop = 1;
	join(&sp);
}

static void test_thread_clock(void **state)
{
	(void)state;
	kids_run(thread_clock_body);
}

/* The process's clock: every thread counts (here the spinner; main is
 * parked). */
static void process_clock_body(void)
{
	struct kid sp = { .body = spinner };
	uint64_t c;

	stop = 0;
	spawn(&sp);
	c = check_sleep(CLOCK_PROCESS_CPUTIME_ID, 0, 20 * MS);
	(void)check_sleep(PROC_CLOCK(1, PROF), TIMER_ABSTIME, c + 20 * MS);
	(void)check_sleep(PROC_CLOCK(0, SCHED), 0, 10 * MS);
	stop = 1;
	join(&sp);
}

static void test_process_clock(void **state)
{
	(void)state;
	kids_run(process_clock_body);
}

/* A signal with a handler ends a relative sleep on the spinner's clock
 * with -EINTR and the CPU time it still lacked in rem; an absolute one
 * with -EINTR and rem untouched. */
static void signal_body(void)
{
	struct kid sp = { .body = spinner }, sl = { .body = cpu_sleeper, .op = 1000 * MS };
	uint64_t c0, c0b, c1, c2, left;

	set_action(SIGUSR1, HANDLER);
	stop = 0;
	spawn(&sp);
	sl.word = (volatile uint32_t *)(intptr_t)THREAD_CLOCK(sp.tid, SCHED);
	c0 = clock_ns(THREAD_CLOCK(sp.tid, SCHED));
	spawn(&sl);		/* parks: 1 s of the spinner's CPU */
	c0b = clock_ns(THREAD_CLOCK(sp.tid, SCHED));	/* after its start */
	sleep_ms(30);
	c1 = clock_ns(THREAD_CLOCK(sp.tid, SCHED));
	assert_true(c1 - c0b >= 5 * MS && c1 - c0 < 900 * MS);
	assert_int_equal(sl.ctid, 1);	/* still asleep */
	assert_int_equal(SYS3(SYS_tgkill, 1, sl.tid, SIGUSR1), 0);
	join(&sl);
	c2 = clock_ns(THREAD_CLOCK(sp.tid, SCHED));
	assert_int_equal(sl.rc, -CUB_EINTR);
	left = (uint64_t)(sl.ts[0] * NSEC + sl.ts[1]);
	assert_true(sl.ts[1] >= 0 && sl.ts[1] < NSEC);
	/* It started between c0 and c0b and was interrupted between c1 and
	 * c2: left = start + 1 s - then. */
	assert_true(left <= 1000 * MS - (c1 - c0b));
	assert_true(left + (c2 - c0) >= 1000 * MS);

	/* Absolute: no remaining time. */
	sl = (struct kid){ .body = cpu_sleeper, .rc2 = TIMER_ABSTIME };
	sl.word = (volatile uint32_t *)(intptr_t)THREAD_CLOCK(sp.tid, SCHED);
	sl.op = (long)(clock_ns(THREAD_CLOCK(sp.tid, SCHED)) + 1000 * MS);
	spawn(&sl);
	assert_int_equal(sl.ctid, 1);	/* asleep */
	assert_int_equal(SYS3(SYS_tgkill, 1, sl.tid, SIGUSR1), 0);
	join(&sl);
	assert_int_equal(sl.rc, -CUB_EINTR);
	assert_true(sl.ts[0] == -1 && sl.ts[1] == -1);
	stop = 1;
	join(&sp);
	set_action(SIGUSR1, 0);
}

static void test_signal(void **state)
{
	(void)state;
	kids_run(signal_body);
}

/* A sleep of 5 ms on a thread that never runs is still asleep after 50
 * ms (checked, not waited for), ended by a signal with nearly all of its
 * 5 ms left; the same when that thread exits meanwhile (Linux's: its
 * clock stopped for good, only a signal ends the sleep), after which a
 * new sleep on its clock is -EINVAL. */
static void stalled_body(void)
{
	struct kid id = { .body = idler }, sl = { .body = cpu_sleeper, .op = 5 * MS };
	uint64_t left;

	set_action(SIGUSR1, HANDLER);
	for (int exits = 0; exits < 2; exits++) {
		id = (struct kid){ .body = idler };
		sl = (struct kid){ .body = cpu_sleeper, .op = 5 * MS };
		spawn(&id);
		sl.word = (volatile uint32_t *)(intptr_t)THREAD_CLOCK(id.tid, SCHED);
		spawn(&sl);
		if (exits) {
			release(&id);
			join(&id);
		}
		sleep_ms(50);
		assert_int_equal(sl.ctid, 1);	/* still asleep */
		assert_int_equal(SYS3(SYS_tgkill, 1, sl.tid, SIGUSR1), 0);
		join(&sl);
		assert_int_equal(sl.rc, -CUB_EINTR);
		left = (uint64_t)(sl.ts[0] * NSEC + sl.ts[1]);
		assert_true(left <= 5 * MS && left > 4 * MS);
		if (!exits) {
			release(&id);
			join(&id);
		}
		assert_int_equal(cpu_sleep(THREAD_CLOCK(id.tid, SCHED), 0, MS, NULL),
				 -CUB_EINVAL);
	}
	set_action(SIGUSR1, 0);
}

static void test_stalled(void **state)
{
	(void)state;
	kids_run(stalled_body);
}

/* What fails at once: the caller's own thread clock (every spelling),
 * no CPU clock, bad timespecs, flags and pointers. */
static void bad_body(void)
{
	int me = (int)SYS0(SYS_gettid);
	int64_t ts[2] = { 0, MS }, rem[2];
	static const long own[] = { CLOCK_THREAD_CPUTIME_ID, THREAD_CLOCK(0, SCHED),
				    THREAD_CLOCK(0, VIRT), THREAD_CLOCK(0, PROF) };
	static const long bad[] = { PROC_CLOCK(0, 3), THREAD_CLOCK(0, 3), PROC_CLOCK(2, SCHED),
				    THREAD_CLOCK(999999, SCHED), 99, -1000000 };
	static const int64_t bad_ts[][2] = { { 0, NSEC }, { 0, -1 }, { -1, 0 } };

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		assert_int_equal(SYS4(SYS_clock_nanosleep, own[i], 0, ts, NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, THREAD_CLOCK(me, SCHED), TIMER_ABSTIME, ts,
			      NULL), -CUB_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(SYS4(SYS_clock_nanosleep, bad[i], 0, ts, NULL), -CUB_EINVAL);
	for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++)
		assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0,
				      bad_ts[i], NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 2, ts, NULL),
			 -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, WILD, NULL),
			 -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 0, ts, WILD),
			 -CUB_EFAULT);
	/* Nothing else runs: only times already reached may be asked. */
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME,
			      ts, rem), 0);
}

static void test_bad(void **state)
{
	(void)state;
	kids_run(bad_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_clock),
		cmocka_unit_test(test_process_clock),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_bad),
	};

	slow = (uint64_t)test_slowness();
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
