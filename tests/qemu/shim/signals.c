/*
 * signals.c - signal handlers in an unmodified musl program: raise() runs
 * a SA_SIGINFO handler with the right siginfo and the interrupted code's
 * registers (SSE included) intact afterwards; a blocked signal waits for
 * sigprocmask to unblock it; SA_ONSTACK runs the handler on the
 * sigaltstack; pthread_kill reaches the target thread; SIGURG's default
 * action ignores it; blocked pipe and console reads and nanosleep are
 * interrupted (EINTR, or a restart with SA_RESTART); a thread looping
 * without system calls takes its signal when an interrupt returns into
 * it. One line per check, a summary.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile int hits, last_code, last_signo, on_alt;
static volatile pthread_t handled_by;
static char altstack[16384];
static volatile int go;

static void handler(int sig, siginfo_t *si, void *uc)
{
	char probe;

	(void)uc;
	hits++;
	last_signo = si->si_signo;
	last_code = si->si_code;
	on_alt = &probe >= altstack && &probe < altstack + sizeof(altstack);
	handled_by = pthread_self();
	(void)sig;
}

static void install(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
	return ok;
}

/* Blocking calls interrupted by pthread_kill: read without SA_RESTART
 * fails with EINTR, read with SA_RESTART carries on, nanosleep fails with
 * EINTR and the time left, a console read fails with EINTR. */
static int fds[2];
static volatile int stage;
static volatile long results[4];

static void *blocked_reader(void *arg)
{
	struct timespec ts = { 5, 0 }, rem = { 0, 0 };
	char c;

	(void)arg;
	stage = 1;
	results[0] = read(fds[0], &c, 1) < 0 && errno == EINTR;
	stage = 2;
	results[1] = read(fds[0], &c, 1) == 1 && c == 'x';
	stage = 3;
	results[2] = nanosleep(&ts, &rem) < 0 && errno == EINTR && rem.tv_sec >= 4;
	stage = 4;	/* the console: no input ever comes in this test */
	results[3] = read(0, &c, 1) < 0 && errno == EINTR;
	return NULL;
}

static void wait_stage(int n)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	while (stage < n)
		sched_yield();
	nanosleep(&ts, NULL);	/* it is inside the call by now */
}

static int interrupted_calls(void)
{
	pthread_t t;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int before = hits;

	pipe(fds);
	install(SIGUSR2, 0);
	pthread_create(&t, NULL, blocked_reader, NULL);
	wait_stage(1);
	pthread_kill(t, SIGUSR2);
	wait_stage(2);
	install(SIGUSR2, SA_RESTART);
	pthread_kill(t, SIGUSR2);
	nanosleep(&ts, NULL);	/* handled, and the read restarted */
	write(fds[1], "x", 1);
	wait_stage(3);
	pthread_kill(t, SIGUSR2);
	install(SIGUSR2, 0);	/* a console read would restart otherwise */
	wait_stage(4);
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
	return results[0] && results[1] && results[2] && results[3] &&
	       hits == before + 4;
}

/* Keeps making system calls until main's signal has been handled here. */
static void *target(void *arg)
{
	(void)arg;
	while (!go)
		sched_yield();
	return NULL;
}

/* Never makes a system call: only an interrupt (the time slice) can
 * bring it main's signal. */
static volatile int spinning, spin_start;

static void *spinner(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	spinning = 1;
	while (hits == spin_start)
		n++;
	return NULL;
}

/* A thread in a call-free loop takes a signal at an interrupt's return
 * (within 2 s; the program ends even if the spinner never stops). */
static int spinner_interrupted(void)
{
	struct timespec t0, now;
	pthread_t t;

	spin_start = hits;
	pthread_create(&t, NULL, spinner, NULL);
	while (!spinning)	/* in its loop: past its last system call */
		sched_yield();
	pthread_kill(t, SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sched_yield();	/* keeps two threads runnable: slices tick */
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (hits == spin_start && now.tv_sec - t0.tv_sec < 2);
	if (hits != spin_start + 1)
		return 0;
	pthread_join(t, NULL);
	return pthread_equal(handled_by, t);
}

int main(void)
{
	volatile double x = 1.5, y;
	int passed = 0;
	sigset_t set;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	pthread_t t;

	install(SIGUSR1, 0);
	y = x * 3.0;
	raise(SIGUSR1);
	passed += check("raise runs the handler", hits == 1 && last_signo == SIGUSR1 &&
			last_code == SI_TKILL && y * 2.0 == 9.0);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	passed += check("a blocked signal waits", hits == 1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	passed += check("unblocking delivers it", hits == 2);

	sigaltstack(&ss, NULL);
	install(SIGUSR2, SA_ONSTACK);
	raise(SIGUSR2);
	passed += check("SA_ONSTACK uses the sigaltstack", hits == 3 && on_alt);

	pthread_create(&t, NULL, target, NULL);
	pthread_kill(t, SIGUSR1);
	while (hits < 4)
		sched_yield();
	go = 1;
	pthread_join(t, NULL);
	passed += check("pthread_kill reaches its thread", pthread_equal(handled_by, t));

	raise(SIGURG);
	passed += check("SIGURG is ignored by default", hits == 4);
	passed += check("blocked calls: EINTR, SA_RESTART, nanosleep, console",
			interrupted_calls());
	passed += check("a call-free loop takes a signal at an interrupt",
			spinner_interrupted());
	printf("signals: %d of 8 checks passed\n", passed);
	return passed == 8 ? 0 : 1;
}
