/*
 * cputime.c - CPU time per thread in an unmodified musl program on bare
 * metal (the shim's cputime.c): a spinning and a sleeping pthread side by
 * side, their clocks read through pthread_getcpuclockid; the process's
 * clock (clock(), clock_getcpuclockid, getrusage, times) the sum; a
 * timer_create on the thread's CPU clock with SIGEV_THREAD_ID, as Go's
 * profiler arms one per thread, firing in the spinning thread only;
 * ITIMER_PROF silent while the process sleeps; user time again after a
 * signal handler returns; clock_nanosleep on a spinner's thread clock
 * and on the process clock (woken once the clock got there, the
 * sleeper's own clock still); the bad clock ids. One
 * line per check, then a summary. Timings are loose: TCG is slow and
 * the host may be loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define MS 1000000ll

static long long ns_of(clockid_t c)
{
	struct timespec t;

	if (clock_gettime(c, &t))
		return -1;
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* Spins ms in user code, looking at the clock (a system call: system
 * time) only every 20000 rounds. */
static void spin_ms(long ms)
{
	long long t0 = ns_of(CLOCK_MONOTONIC);
	volatile unsigned n = 0;

	do {
		for (int i = 0; i < 20000; i++)
			n++;
	} while (ns_of(CLOCK_MONOTONIC) - t0 < ms * MS);
}

/* A worker: spins or sleeps ms; with a timer, one on its own CPU clock
 * (50 ms, periodic) signalling it alone, SIGPROF blocked. 50 ms, not
 * less: under TCG a loaded host that stops QEMU for a while makes the
 * guest thread that was running seem to have run that long (a sleeper
 * was once charged 9 ms instead of its usual 1.5). */
struct worker {
	pthread_t th;
	long ms;
	int timed;
	volatile int tid, started;
	long long own_ns, done_at;	/* its clock, and when (monotonic) */
	int sig, err;
	volatile int hold;	/* stays alive (sleeping) while set: a host
				 * stall past its time must not end it before
				 * main reads its clock */
};

static void *work(void *arg)
{
	struct worker *w = arg;
	sigset_t prof;
	timer_t t;
	struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGPROF };
	struct itimerspec its = { { 0, 50 * MS }, { 0, 50 * MS } };
	struct timespec zero = { 0, 0 };

	w->tid = (int)syscall(SYS_gettid);
	sigemptyset(&prof);
	sigaddset(&prof, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &prof, NULL);
	if (w->timed) {
		ev.sigev_notify_thread_id = w->tid;
		timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t);
		timer_settime(t, 0, &its, NULL);
	}
	w->started = 1;
	if (w->ms > 0)
		spin_ms(w->ms);
	else
		usleep((useconds_t)(-w->ms * 1000));
	w->own_ns = ns_of(CLOCK_THREAD_CPUTIME_ID);
	w->done_at = ns_of(CLOCK_MONOTONIC);
	w->sig = sigtimedwait(&prof, NULL, &zero);
	w->err = errno;
	if (w->timed)
		timer_delete(t);
	while (w->hold)
		usleep(1000);
	return NULL;
}

static void start(struct worker *w)
{
	pthread_create(&w->th, NULL, work, w);
	while (!w->started)
		sched_yield();
}

/* A spinner and a sleeper for 200 ms; each with its thread timer. */
static void spin_vs_sleep(void)
{
	struct worker sp = { .ms = 200, .timed = 1, .hold = 1 },
		      sl = { .ms = -200, .timed = 1, .hold = 1 };
	clockid_t spc, slc, pc;
	long long sp_ns, sl_ns, p0, p1, m0, m1, spin_then, read_at;
	struct rusage ru;
	struct tms tm;

	p0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	m0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	start(&sl);
	start(&sp);
	check("pthread_getcpuclockid: both threads' clocks",
	      pthread_getcpuclockid(sp.th, &spc) == 0 && pthread_getcpuclockid(sl.th, &slc) == 0);
	usleep(100 * 1000);	/* main parked: both clocks move or not */
	read_at = ns_of(CLOCK_MONOTONIC);
	sp_ns = ns_of(spc);
	sl_ns = ns_of(slc);
	check("thread clocks: the spinner's grows while main sleeps",
	      sp_ns >= 50 * MS);
	check("thread clocks: the sleeper's barely moves", sl_ns >= 0 && sl_ns < 50 * MS);
	spin_then = sp_ns;
	sp.hold = sl.hold = 0;
	pthread_join(sp.th, NULL);
	pthread_join(sl.th, NULL);
	m1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	p1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	printf("cputime: spinner %lld us, sleeper %lld us, main %lld us, process %lld us\n",
	       sp.own_ns / 1000, sl.own_ns / 1000, (m1 - m0) / 1000, (p1 - p0) / 1000);
	/* 200 ms of monotonic time, less what main and the sleeper ran when
	 * it let them (a system call's return may switch); and at least what
	 * main read at 100 ms, unless a loaded host made main's 100 ms sleep
	 * outlast the spin (then its read came after the spinner's own). */
	check("thread clocks: the spinner's holds its 200 ms",
	      sp.own_ns >= 200 * MS - (m1 - m0) - sl.own_ns - 5 * MS &&
	      (sp.own_ns >= spin_then || read_at > sp.done_at));
	check("thread clocks: main's barely moved while it slept and joined",
	      m1 - m0 < 100 * MS);
	check("process clock: the sum of its threads' (exited ones kept)",
	      p1 - p0 >= sp.own_ns + sl.own_ns &&
	      p1 - p0 <= sp.own_ns + sl.own_ns + (m1 - m0) + 50 * MS);
	check("thread clock of an exited thread: EINVAL", ns_of(spc) == -1 && errno == EINVAL);
	check("timer on the thread's CPU clock: fired in the spinner",
	      sp.sig == SIGPROF);
	check("timer on the thread's CPU clock: not in the sleeper",
	      sl.sig == -1 && sl.err == EAGAIN);
	check("clock_getcpuclockid(0): the process's clock",
	      clock_getcpuclockid(0, &pc) == 0 && ns_of(pc) >= p1);
	check("clock(): the process's CPU time", (long long)clock() * 1000 >= p1 - p0 - 1000);
	getrusage(RUSAGE_SELF, &ru);
	printf("cputime: getrusage user %ld.%06ld s, system %ld.%06ld s\n",
	       (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
	       (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	check("getrusage: user + system time is the process's clock",
	      ru.ru_utime.tv_sec * 1000000000ll + ru.ru_utime.tv_usec * 1000 +
	      ru.ru_stime.tv_sec * 1000000000ll + ru.ru_stime.tv_usec * 1000 >= p1 - 2000 &&
	      ru.ru_utime.tv_sec * 1000000ll + ru.ru_utime.tv_usec >= 150000);
	check("times: user ticks, no children",
	      times(&tm) != (clock_t)-1 && tm.tms_utime >= 15 && tm.tms_cutime == 0);
}

static volatile sig_atomic_t profs;

static void on_prof(int sig)
{
	(void)sig;
	profs++;
}

/* ITIMER_PROF, 20 ms then every 2 ms: none while the program sleeps
 * 100 ms (measured: it runs about 0.5 ms of it under TCG; the margin is
 * for a loaded host, which slows TCG's guest code), then some while it
 * computes. */
static void itimer_prof(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 20000 } }, off = { 0 };
	long long t0;

	long long c0, c1;

	signal(SIGPROF, on_prof);
	c0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	setitimer(ITIMER_PROF, &it, NULL);
	usleep(100 * 1000);
	c1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	printf("cputime: the process ran %lld us over a 100 ms sleep; SIGPROF %d\n",
	       (c1 - c0) / 1000, (int)profs);
	check("ITIMER_PROF: no SIGPROF while the program sleeps 100 ms", profs == 0);
	t0 = ns_of(CLOCK_MONOTONIC);
	while (profs < 3 && ns_of(CLOCK_MONOTONIC) - t0 < 2000 * MS)
		;
	setitimer(ITIMER_PROF, &off, NULL);
	check("ITIMER_PROF: SIGPROF while it computes", profs >= 3);
	signal(SIGPROF, SIG_DFL);
}

static volatile sig_atomic_t usr1s;

static void on_usr1(int sig)
{
	(void)sig;
	usr1s++;
}

static long long us_of(struct timeval tv)
{
	return tv.tv_sec * 1000000ll + tv.tv_usec;
}

/* After a handler returns (rt_sigreturn resumes the program without
 * going back through the dispatcher), the program's time is user time
 * again: a loop without system calls after raise() is user time. */
static void after_handler(void)
{
	struct rusage r0, r1;
	volatile unsigned n = 0;

	signal(SIGUSR1, on_usr1);
	getrusage(RUSAGE_THREAD, &r0);
	raise(SIGUSR1);
	for (long i = 0; i < 20000000; i++)
		n++;
	getrusage(RUSAGE_THREAD, &r1);
	printf("cputime: a loop after a handler: user %lld us, system %lld us\n",
	       us_of(r1.ru_utime) - us_of(r0.ru_utime), us_of(r1.ru_stime) - us_of(r0.ru_stime));
	check("after a handler returns, the program's time is user time",
	      usr1s == 1 && us_of(r1.ru_stime) - us_of(r0.ru_stime) <
	      us_of(r1.ru_utime) - us_of(r0.ru_utime));
	signal(SIGUSR1, SIG_DFL);
}

static void bad_ids(void)
{
	struct timespec t;
	timer_t tm;
	clockid_t c;

	check("clock_gettime: type 3 of an encoded id is EINVAL",
	      clock_gettime((clockid_t)((~0u << 3) | 3), &t) == -1 && errno == EINVAL);
	check("clock_gettime: another process's CPU clock is EINVAL",
	      clock_gettime((clockid_t)((~4242u << 3) | 2), &t) == -1 && errno == EINVAL);
	check("clock_gettime: an unknown thread's CPU clock is EINVAL",
	      clock_gettime((clockid_t)((~99999u << 3) | 6), &t) == -1 && errno == EINVAL);
	check("timer_create: an unknown thread's CPU clock is EINVAL",
	      timer_create((clockid_t)((~99999u << 3) | 6), NULL, &tm) == -1 && errno == EINVAL);
	check("clock_nanosleep: the own thread's CPU clock is EINVAL",
	      clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){ 0, 1000 }, NULL) ==
	      EINVAL);
	check("clock_getres: CPU clocks tick in ns",
	      clock_getres(CLOCK_PROCESS_CPUTIME_ID, &t) == 0 && t.tv_sec == 0 && t.tv_nsec == 1);
	check("clock_getcpuclockid: another pid has none",
	      clock_getcpuclockid(4242, &c) != 0);
}

/* Spins in user code, with a system call every 20000 rounds (where a
 * build without preemption switches), until *stop: not for a time, so
 * that a host that stops QEMU for a while cannot end it early and leave
 * a sleeper on its clock waiting forever. */
static void *spin_until(void *arg)
{
	volatile int *stop = arg;
	volatile unsigned n = 0;

	while (!*stop) {
		for (int i = 0; i < 20000; i++)
			n++;
		(void)ns_of(CLOCK_MONOTONIC);
	}
	return NULL;
}

/* clock_nanosleep on a spinner's thread clock (relative) and on the
 * process clock (absolute): main wakes only once that clock got there,
 * and its own clock barely moves meanwhile (it is parked, not polling). */
static void cpu_sleep(void)
{
	struct timespec rel = { 0, 30 * MS }, abs;
	long long s0, s1, m0, m1, target;
	volatile int stop = 0;
	pthread_t th;
	clockid_t spc;
	int r1, r2;

	pthread_create(&th, NULL, spin_until, (void *)&stop);
	pthread_getcpuclockid(th, &spc);
	s0 = ns_of(spc);
	m0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	r1 = clock_nanosleep(spc, 0, &rel, NULL);
	s1 = ns_of(spc);
	m1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	check("clock_nanosleep on a thread's CPU clock: woken once it ran 30 ms",
	      r1 == 0 && s1 - s0 >= 30 * MS);
	check("clock_nanosleep on a CPU clock: the sleeper's own clock barely moves",
	      m1 - m0 < 20 * MS);
	target = ns_of(CLOCK_PROCESS_CPUTIME_ID) + 20 * MS;
	abs.tv_sec = (time_t)(target / 1000000000ll);
	abs.tv_nsec = (long)(target % 1000000000ll);
	r2 = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &abs, NULL);
	check("clock_nanosleep on the process clock, absolute: woken at the time",
	      r2 == 0 && ns_of(CLOCK_PROCESS_CPUTIME_ID) >= target);
	stop = 1;
	pthread_join(th, NULL);
}

int main(void)
{
	spin_vs_sleep();
	cpu_sleep();
	itimer_prof();
	after_handler();
	bad_ids();
	printf("cputime: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
