/*
 * test_shim_cputime.c - CPU time per Linux thread (cputime.c): a thread
 * that spins accumulates its time, one that sleeps almost none; the
 * process's clock is the sum over its threads (an exited one's kept);
 * getrusage, times and /proc's stat report it split into user and
 * system time; ITIMER_PROF/VIRTUAL and POSIX timers on CPU clocks expire
 * only as that time passes (none while the process sleeps), a thread
 * clock's timer in its own thread; Linux's encoded clock ids of a
 * process or thread, and the bad ones (-EINVAL). Before cputime.c every
 * CPU clock read the monotonic clock: the sleeper's and the spinner's
 * clocks matched, and the timers fired while everything slept.
 *
 * The threads are clone'd (kids.h); they record what they saw, main
 * asserts. Tolerances are in ms, loose, and times test_slowness().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "procfs_impl.h"
#include "sys.h"
#include "sigtest.h"
#include "kids.h"
#include "cpuclock.h"
#include "../slow.h"

#define SYS_getitimer 36
#define SYS_setitimer 38
#define SYS_getrusage 98
#define SYS_times 100
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_gettime 224
#define SYS_timer_delete 226
#define CLOCK_MONOTONIC 1
#define SIGEV_SIGNAL 0
#define SIGEV_THREAD_ID 4
#define SIGUSR1 10
#define SIGVTALRM 26
#define SIGPROF 27
static uint64_t slow;

/* clock_gettime for a thread's record, no assertion: ns or ~0. */
static uint64_t clock_or_bad(long clk)
{
	int64_t ts[2];

	return SYS2(SYS_clock_gettime, clk, ts) ? ~0ull : (uint64_t)(ts[0] * NSEC + ts[1]);
}

/* Spins on the CPU for ms, without a system call. */
static void spin_ms(long ms)
{
	uint64_t t0 = cub_time_now();

	while (cub_time_now() - t0 < (uint64_t)ms * MS)
		;
}

/* Spins for a signal of set, up to 1 s times slow: 1 ms of user time
 * between looks (a sigtimedwait is system time, which ITIMER_VIRTUAL
 * does not count). */
static long spin_for(uint64_t set, struct info *info)
{
	uint64_t t0 = cub_time_now();
	long r;

	while ((r = waitsig(set, info, 0)) == -CUB_EAGAIN &&
	       cub_time_now() - t0 < 1000 * MS * slow)
		spin_ms(1);
	return r;
}

static void sleep_ms(long ms)
{
	int64_t ts[2] = { ms / 1000, ms % 1000 * MS };

	SYS2(SYS_nanosleep, ts, NULL);
}

/* A thread with what it measured: its own clock, its user and system
 * time (getrusage RUSAGE_THREAD), a signal it found pending. */
struct worker {
	struct kid k;		/* first: the body gets &k */
	long ms;
	uint64_t thread_ns, via_id_ns, user_ns, sys_ns, self_ns;
	long sig, code;
	int timer_rc;
};

static void usage(int who, uint64_t *user, uint64_t *system)
{
	int64_t ru[18];

	assert_int_equal(SYS2(SYS_getrusage, who, ru), 0);
	*user = (uint64_t)(ru[0] * NSEC + ru[1] * 1000);
	*system = (uint64_t)(ru[2] * NSEC + ru[3] * 1000);
}

static void record(struct worker *w)
{
	int64_t ru[18];

	w->thread_ns = clock_or_bad(CLOCK_THREAD_CPUTIME_ID);
	w->via_id_ns = clock_or_bad(THREAD_CLOCK(0, SCHED));
	if (SYS2(SYS_getrusage, 1 /* THREAD */, ru) == 0) {
		w->user_ns = (uint64_t)(ru[0] * NSEC + ru[1] * 1000);
		w->sys_ns = (uint64_t)(ru[2] * NSEC + ru[3] * 1000);
	}
}

static void spinner(struct kid *k)
{
	struct worker *w = (struct worker *)k;

	spin_ms(w->ms);
	record(w);
}

static void sleeper(struct kid *k)
{
	struct worker *w = (struct worker *)k;

	sleep_ms(w->ms);
	record(w);
}

/* A spinner and a sleeper side by side for 60 ms: the spinner's clock
 * holds its 60 ms, the sleeper's next to nothing, main's (parked in
 * join) too; the process's clock grew by the sum. */
static void spin_vs_sleep_body(void)
{
	struct worker sl = { .k.body = sleeper, .ms = 60 }, sp = { .k.body = spinner, .ms = 60 };
	uint64_t main0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), proc0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t main1, proc1, sum, slack;

	spawn(&sl.k);
	spawn(&sp.k);
	join(&sp.k);
	join(&sl.k);
	proc1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	main1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	assert_true(sp.thread_ns >= 60 * MS && sp.thread_ns < 1000 * MS * slow);
	assert_true(sp.via_id_ns >= sp.thread_ns && sp.via_id_ns - sp.thread_ns < 20 * MS * slow);
	assert_true(sl.thread_ns < 30 * MS * slow);	/* about 30 us */
	assert_true(main1 - main0 < 30 * MS * slow);
	/* The process's: both threads (gone now) and main, the little
	 * each did after its last reading aside. */
	sum = sp.thread_ns + sl.thread_ns + (main1 - main0);
	slack = (2 * MS + sum / 20) * slow;
	assert_true(proc1 - proc0 >= sum - slack && proc1 - proc0 <= sum + slack);
	/* Its user time is the spin; RUSAGE_THREAD agrees with its clock. */
	assert_true(sp.user_ns >= 55 * MS);
	assert_true(sp.user_ns + sp.sys_ns + 2000 >= sp.thread_ns);	/* us truncated */
	assert_true(sp.user_ns + sp.sys_ns < sp.thread_ns + 20 * MS * slow);
	assert_true(sp.sys_ns < 20 * MS * slow);
	/* An exited thread's clock is gone. */
	assert_int_equal(SYS2(SYS_clock_gettime, THREAD_CLOCK(sp.k.tid, SCHED), sp.k.ts),
			 -CUB_EINVAL);
}

static void test_spin_vs_sleep(void **state)
{
	(void)state;
	kids_run(spin_vs_sleep_body);
}

/* Time inside system calls is system time: 40 ms of getpid calls give
 * some; getrusage(SELF), times() and /proc's stat (fields 14, 15) report
 * the process's split, RUSAGE_CHILDREN nothing. */
static void user_sys_body(void)
{
	uint64_t u0, s0, u1, s1, t0 = cub_time_now(), cu, cs;
	int64_t tms[4];
	struct cubi_pbuf b = { 0 };
	unsigned long ut, st;
	char *p;

	usage(0, &u0, &s0);
	while (cub_time_now() - t0 < 40 * MS)
		SYS0(SYS_getpid);
	usage(0, &u1, &s1);
	assert_true(s1 - s0 >= 2 * MS);		/* measured: about half */
	assert_true(u1 - u0 >= 2 * MS);
	assert_true(u1 + s1 - u0 - s0 <= 40 * MS + 5 * MS * slow +
		    (cub_time_now() - t0 - 40 * MS));
	usage(-1, &cu, &cs);
	assert_true(cu == 0 && cs == 0);
	spin_ms(30);
	assert_true(SYS1(SYS_times, tms) > 0);
	assert_true(tms[0] >= (int64_t)((u1 + 30 * MS) / 10000000) - 1);
	assert_true(tms[1] >= (int64_t)(s1 / 10000000) && tms[2] == 0 && tms[3] == 0);
	assert_int_equal(SYS1(SYS_times, NULL) > 0, 1);
	cubi_procfs_stat(&b, 0);
	assert_false(b.oom);
	p = strchr(b.p, ')');
	assert_non_null(p);
	/* ") S" then fields 4..13: ten numbers before utime */
	for (int i = 0; i < 12; i++)
		p = strchr(p + 1, ' ');
	assert_int_equal(sscanf(p, " %lu %lu", &ut, &st), 2);
	assert_true(ut >= (u1 + 30 * MS) / 10000000 - 1 && st >= s1 / 10000000);
	cubi_pbuf_free(&b);
}

static void test_user_sys(void **state)
{
	(void)state;
	kids_run(user_sys_body);
}

static long setitimer_us(int which, int64_t value_us, int64_t every_us)
{
	int64_t tv[4] = { every_us / 1000000, every_us % 1000000, value_us / 1000000,
			  value_us % 1000000 };

	return SYS3(SYS_setitimer, which, tv, NULL);
}

/* ITIMER_PROF and ITIMER_VIRTUAL, 10 ms then every 1 ms: no signal while
 * the process sleeps 50 ms (getitimer still shows nearly the whole first
 * period left), then one once it spins, not before its clock (PROF: user
 * + system, VIRT: user) ran the 10 ms (times test_slowness). */
static void itimer_body(void)
{
	static const int which[2] = { 2, 1 }, sig[2] = { SIGPROF, SIGVTALRM };
	static const int type[2] = { PROF, VIRT };
	struct info info;
	int64_t tv[4];
	uint64_t c0;

	set_blocked(BIT(SIGPROF) | BIT(SIGVTALRM));
	for (int i = 0; i < 2; i++) {
		int64_t first_us = 10000 * (int64_t)slow, used_us;

		c0 = clock_ns(PROC_CLOCK(0, type[i]));
		assert_int_equal(setitimer_us(which[i], first_us, 1000), 0);
		sleep_ms(50);
		assert_int_equal(waitsig(BIT(sig[i]), &info, 0), -CUB_EAGAIN);
		assert_int_equal(SYS2(SYS_getitimer, which[i], tv), 0);
		/* what is left is the first period less the CPU time used
		 * (read after: at least what was used then), which the sleep
		 * hardly added to (under valgrind its wake-ups cost ms: the
		 * period is slow times as long there) */
		used_us = (int64_t)(clock_ns(PROC_CLOCK(0, type[i])) - c0) / 1000;
		assert_true(tv[2] == 0 && tv[3] <= first_us && tv[3] >= first_us - used_us - 1);
		assert_true(used_us < first_us / 2);
		assert_int_equal(spin_for(BIT(sig[i]), &info), sig[i]);
		assert_true(clock_ns(PROC_CLOCK(0, type[i])) - c0 >= (uint64_t)first_us * 1000);
		assert_int_equal(info.code, 0x80);	/* SI_KERNEL */
		assert_int_equal(setitimer_us(which[i], 0, 0), 0);
		(void)waitsig(BIT(sig[i]), &info, 0);
	}
	set_blocked(0);
}

static void test_itimers(void **state)
{
	(void)state;
	kids_run(itimer_body);
}

static int make_timer(long clock, int tid)
{
	struct sigev ev = { .value = 7, .signo = SIGPROF,
			    .notify = tid ? SIGEV_THREAD_ID : SIGEV_SIGNAL, .tid = tid };
	int32_t id;
	long rc = SYS3(SYS_timer_create, clock, &ev, &id);

	return rc ? (int)rc : id;
}

static long arm(int id, int64_t value_ns, int64_t every_ns)
{
	int64_t its[4] = { every_ns / NSEC, every_ns % NSEC, value_ns / NSEC, value_ns % NSEC };

	return SYS4(SYS_timer_settime, id, 0, its, NULL);
}

/* Each worker arms a 20 ms periodic timer on its own thread clock to
 * itself, SIGPROF blocked; sleeps -ms, or spins ms and until the signal
 * comes (1 s at most); records what came and, a spinner, its clock then
 * (self_ns). The margins are for a loaded host, whose descheduling of
 * the test counts as the running thread's time. */
static void timed(struct kid *k)
{
	struct worker *w = (struct worker *)k;
	struct info info = { 0 };
	int id = make_timer(CLOCK_THREAD_CPUTIME_ID, (int)SYS0(SYS_gettid));
	uint64_t t0 = cub_time_now();

	set_blocked(BIT(SIGPROF));
	w->timer_rc = id < 0 ? id : (int)arm(id, 20 * MS, 20 * MS);
	if (w->ms > 0) {
		w->sig = spin_for(BIT(SIGPROF), &info);
		w->self_ns = clock_or_bad(CLOCK_THREAD_CPUTIME_ID);
		while (cub_time_now() - t0 < (uint64_t)w->ms * MS)
			;
	} else {
		sleep_ms(-w->ms);
		w->sig = waitsig(BIT(SIGPROF), &info, 0);
	}
	w->code = info.code;
	if (id >= 0)
		SYS1(SYS_timer_delete, id);
	record(w);
}

/* A thread-clock timer fires in the spinning thread only; timers main
 * arms on the process's clock and on the spinner's (by its encoded id)
 * fire while only the spinner runs, main parked. */
static void thread_timer_body(void)
{
	struct worker sl = { .k.body = timed, .ms = -50 }, sp = { .k.body = timed, .ms = 50 };
	int me = (int)SYS0(SYS_gettid), proc, other;
	struct info info;
	int64_t its[4];
	uint64_t m0;

	set_blocked(BIT(SIGPROF));
	proc = make_timer(CLOCK_PROCESS_CPUTIME_ID, me);
	assert_true(proc >= 0);
	assert_int_equal(arm(proc, 20 * MS, 0), 0);
	spawn(&sl.k);
	/* The sleeper is parked, main has spun next to nothing: due in 20
	 * ms of the process's CPU, not yet. */
	assert_int_equal(waitsig(BIT(SIGPROF), &info, 0), -CUB_EAGAIN);
	spawn(&sp.k);	/* runs its 50 ms spin before main goes on */
	join(&sp.k);
	join(&sl.k);
	assert_int_equal(sp.timer_rc, 0);
	assert_int_equal(sl.timer_rc, 0);
	assert_int_equal(sp.sig, SIGPROF);
	assert_int_equal(sp.code, -2);		/* SI_TIMER */
	assert_true(sp.self_ns >= 20 * MS);
	assert_int_equal(sl.sig, -CUB_EAGAIN);
	/* The process's: due after 20 ms of anyone's CPU, which the spinner
	 * ran (main waits at most the alarm's delivery, far less). */
	m0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	assert_int_equal(spin_for(BIT(SIGPROF), &info), SIGPROF);
	assert_true(clock_ns(CLOCK_THREAD_CPUTIME_ID) - m0 < 19 * MS);
	assert_int_equal(info.code, -2);
	assert_int_equal(SYS2(SYS_timer_gettime, proc, its), 0);
	assert_true(its[2] == 0 && its[3] == 0);	/* one-shot, done */
	assert_int_equal(SYS1(SYS_timer_delete, proc), 0);

	/* Another thread's clock, by its id, to main. */
	sp = (struct worker){ .k.body = spinner, .ms = 40 };
	sl = (struct worker){ .k.body = sleeper, .ms = 200 };
	spawn(&sl.k);
	other = make_timer(THREAD_CLOCK(sl.k.tid, SCHED), me);
	assert_true(other >= 0);
	assert_int_equal(arm(other, 30 * MS, 0), 0);
	spawn(&sp.k);		/* spins 40 ms: not the sleeper's clock */
	join(&sp.k);
	assert_int_equal(waitsig(BIT(SIGPROF), &info, 0), -CUB_EAGAIN);
	assert_int_equal(SYS2(SYS_timer_gettime, other, its), 0);
	assert_true(its[2] == 0 && its[3] > 20 * MS);	/* it barely moved */
	join(&sl.k);
	/* Its thread gone, the timer is off, as Linux's. */
	assert_int_equal(SYS2(SYS_timer_gettime, other, its), 0);
	assert_true(its[2] == 0 && its[3] == 0);
	assert_int_equal(SYS1(SYS_timer_delete, other), 0);
	set_blocked(0);
}

static void test_thread_timer(void **state)
{
	(void)state;
	kids_run(thread_timer_body);
}

/* Linux's encoded ids read the same clocks; VIRT (user) is at most PROF;
 * the resolution is 1 ns; bad ids and sleeps on CPU clocks fail. */
static void clock_ids_body(void)
{
	int64_t ts[2] = { 0, 1000 };
	int me = (int)SYS0(SYS_gettid);
	uint64_t a, b, virt, prof;
	spin_ms(5);
	a = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	b = clock_ns(THREAD_CLOCK(me, SCHED));
	assert_true(b >= a && b - a < 2 * MS * slow);
	a = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	b = clock_ns(PROC_CLOCK(1, SCHED));
	assert_true(b >= a && b - a < 2 * MS * slow);
	b = clock_ns(PROC_CLOCK(0, SCHED));
	assert_true(b >= a);
	virt = clock_ns(PROC_CLOCK(0, VIRT));
	prof = clock_ns(PROC_CLOCK(0, PROF));
	assert_true(virt <= prof && virt > 0);
	assert_true(clock_ns(THREAD_CLOCK(0, VIRT)) <= clock_ns(THREAD_CLOCK(0, PROF)));
	/* The upper half of the register does not matter (clockid_t). */
	assert_true(clock_ns((long)(uint32_t)PROC_CLOCK(0, SCHED)) >= b);
	assert_int_equal(SYS2(SYS_clock_getres, CLOCK_THREAD_CPUTIME_ID, ts), 0);
	assert_true(ts[0] == 0 && ts[1] == 1);
	assert_int_equal(SYS2(SYS_clock_getres, PROC_CLOCK(0, PROF), NULL), 0);

	/* Type 3, another process, a thread that never was. */
	static const long bad[] = { PROC_CLOCK(0, 3), THREAD_CLOCK(0, 3), PROC_CLOCK(2, SCHED),
				    PROC_CLOCK(12345, PROF), THREAD_CLOCK(999999, SCHED),
				    THREAD_CLOCK(0x0fffffff, VIRT), 99, -1000000 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(SYS2(SYS_clock_gettime, bad[i], ts), -CUB_EINVAL);
		assert_int_equal(SYS2(SYS_clock_getres, bad[i], ts), -CUB_EINVAL);
		assert_int_equal(make_timer(bad[i], 0), -CUB_EINVAL);
		assert_int_equal(SYS4(SYS_clock_nanosleep, bad[i], 0, ts, NULL), -CUB_EINVAL);
	}
	/* Sleeps: the own thread clock as Linux (the others sleep:
	 * test_shim_cpusleep; a time already reached returns at once). */
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_THREAD_CPUTIME_ID, 0, ts, NULL),
			 -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, THREAD_CLOCK(me, SCHED), 0, ts, NULL),
			 -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, CLOCK_PROCESS_CPUTIME_ID, 1, ts, NULL), 0);
	/* Bad pointers. */
	assert_int_equal(SYS2(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_getrusage, 1, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_getrusage, 2, ts), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_times, WILD), -CUB_EFAULT);
}

static void test_clock_ids(void **state)
{
	(void)state;
	kids_run(clock_ids_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spin_vs_sleep),
		cmocka_unit_test(test_user_sys),
		cmocka_unit_test(test_itimers),
		cmocka_unit_test(test_thread_timer),
		cmocka_unit_test(test_clock_ids),
	};

	slow = (uint64_t)test_slowness();
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
