/*
 * timers.c - timers in an unmodified musl program on bare metal: a
 * timerfd waited for with epoll (one-shot, then periodic with the periods
 * a late read collects), a timerfd watched through two dup'd descriptors
 * (two epoll entries, each reporting its own data), a blocking timerfd read in a second thread, and
 * an absolute expiry on the wall clock; alarm with pause, setitimer with
 * a handler, timer_create with SIGEV_SIGNAL (siginfo's value and code)
 * and SIGEV_THREAD (musl's helper thread), sigsuspend, sigwait in a
 * thread of its own for a kill() the main thread blocks, a timer's
 * signal read from a signalfd that epoll watches, and real-time signals
 * sent with sigqueue, queued while blocked and handled in order with
 * their values. One line per check, then a summary.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define MS 1000000l

static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int arm(int fd, int flags, long first_ns, long every_ns)
{
	struct itimerspec it = {
		{ every_ns / 1000000000, every_ns % 1000000000 },
		{ first_ns / 1000000000, first_ns % 1000000000 },
	};

	return timerfd_settime(fd, flags, &it, NULL);
}

static void timerfd_epoll(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	int ep = epoll_create1(0);
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = 42 }, got;
	long long t0 = mono_ns(), a0, a1, r0, r1;
	uint64_t n = 0;
	struct itimerspec cur;
	ssize_t len;

	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
	check("timerfd: nothing before arming", read(fd, &n, 8) == -1 && errno == EAGAIN);
	arm(fd, 0, 20 * MS, 0);
	check("timerfd: epoll_wait woken by the expiry",
	      epoll_wait(ep, &got, 1, 2000) == 1 && got.data.u32 == 42 &&
	      mono_ns() - t0 >= 20 * MS);
	check("timerfd: one expiry read", read(fd, &n, 8) == 8 && n == 1);
	check("timerfd: a spent one-shot reads as disarmed",
	      timerfd_gettime(fd, &cur) == 0 && cur.it_value.tv_sec == 0 &&
	      cur.it_value.tv_nsec == 0);
	/* The periods that ended by the read, from the time that really
	 * passed: a loaded host stretches the 32 ms sleep (a fixed 5..8
	 * would fail then), and the read counts every period since the
	 * arming, whenever it comes. */
	a0 = mono_ns();
	arm(fd, 0, 5 * MS, 5 * MS);
	a1 = mono_ns();
	usleep(32 * 1000);
	r0 = mono_ns();
	len = read(fd, &n, 8);
	r1 = mono_ns();
	check("timerfd: a late read collects the periods",
	      len == 8 && n >= 6 && (long long)n >= (r0 - a1) / (5 * MS) &&
	      (long long)n <= (r1 - a0) / (5 * MS));
	printf("timerfd: %llu periods of 5 ms in %lld ms\n", (unsigned long long)n,
	       (r1 - a0) / MS);
	close(ep);
	close(fd);
}

/* epoll keys its entries by (file, descriptor) as Linux does: a timerfd
 * and its dup are two entries, each reporting its own data; closing one
 * descriptor leaves its entry (the file is open), which epoll_ctl can no
 * longer name; the file's last close ends both. */
static void epoll_dups(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), d = dup(fd);
	int ep = epoll_create1(0), n;
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = 1 }, got[4];

	check("epoll: a timerfd and its dup added as two entries",
	      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0 &&
	      (e.data.u32 = 2, epoll_ctl(ep, EPOLL_CTL_ADD, d, &e) == 0));
	check("epoll: the same descriptor again: EEXIST",
	      epoll_ctl(ep, EPOLL_CTL_ADD, d, &e) == -1 && errno == EEXIST);
	arm(fd, 0, 5 * MS, 0);
	n = epoll_wait(ep, got, 4, 2000);
	check("epoll: both entries report the expiry, each with its own data",
	      n == 2 && got[0].data.u32 + got[1].data.u32 == 3 &&
	      got[0].data.u32 != got[1].data.u32);
	printf("epoll: %d reports, data %u and %u\n", n, got[0].data.u32,
	       n == 2 ? got[1].data.u32 : 0);
	close(fd);
	check("epoll: a closed descriptor's entry reports while its dup is open",
	      epoll_wait(ep, got, 4, 0) == 2);
	check("epoll: EPOLL_CTL_DEL of the closed descriptor: EBADF",
	      epoll_ctl(ep, EPOLL_CTL_DEL, fd, &e) == -1 && errno == EBADF);
	check("epoll: EPOLL_CTL_DEL of the dup leaves the other entry",
	      epoll_ctl(ep, EPOLL_CTL_DEL, d, &e) == 0 &&
	      epoll_wait(ep, got, 4, 0) == 1 && got[0].data.u32 == 1);
	close(d);
	check("epoll: the timerfd's last close ends its entries",
	      epoll_wait(ep, got, 4, 0) == 0);
	close(ep);
}

static int blocked_fd;

static void *blocked_reader(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	return (void *)(intptr_t)(read(blocked_fd, &n, 8) == 8 ? (int)n : -errno);
}

static void timerfd_threads(void)
{
	pthread_t t;
	void *res;
	struct timespec wall;
	uint64_t n = 0;
	int fd;

	blocked_fd = timerfd_create(CLOCK_MONOTONIC, 0);
	pthread_create(&t, NULL, blocked_reader, NULL);
	arm(blocked_fd, 0, 10 * MS, 0);
	pthread_join(t, &res);
	check("timerfd: a blocked read in another thread returns 1", (intptr_t)res == 1);
	close(blocked_fd);

	fd = timerfd_create(CLOCK_REALTIME, 0);
	clock_gettime(CLOCK_REALTIME, &wall);
	wall.tv_nsec += 15 * MS;
	if (wall.tv_nsec >= 1000000000) {
		wall.tv_sec++;
		wall.tv_nsec -= 1000000000;
	}
	timerfd_settime(fd, TFD_TIMER_ABSTIME,
			&(struct itimerspec){ .it_value = wall }, NULL);
	check("timerfd: an absolute wall-clock expiry", read(fd, &n, 8) == 8 && n == 1);
	close(fd);
}

static volatile sig_atomic_t alarms, profs, usr1_code;
static volatile long usr1_value;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_prof(int sig)
{
	(void)sig;
	profs++;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	usr1_code = si->si_code;
	usr1_value = (long)si->si_value.sival_ptr;
}

static void itimers(void)
{
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	long long t0 = mono_ns();

	signal(SIGALRM, on_alarm);
	alarm(1);
	pause();
	check("alarm: pause returns after the SIGALRM handler",
	      alarms == 1 && mono_ns() - t0 >= 900 * MS);
	signal(SIGPROF, on_prof);
	setitimer(ITIMER_PROF, &it, NULL);
	/* ITIMER_PROF counts CPU time: it ticks while the program computes,
	 * not while it waits (pause() here would wait for good, on Linux
	 * too). */
	t0 = mono_ns();
	while (profs < 5 && mono_ns() - t0 < 2000 * MS)
		;
	setitimer(ITIMER_PROF, &off, &it);
	check("setitimer: five SIGPROF ticks of 2 ms while computing, then off",
	      profs == 5 && it.it_interval.tv_usec == 2000);
	profs = 0;
	it = (struct itimerval){ { 0, 2000 }, { 0, 2000 } };
	setitimer(ITIMER_PROF, &it, NULL);
	usleep(50000);
	setitimer(ITIMER_PROF, &off, NULL);
	check("setitimer: no SIGPROF while the program sleeps 50 ms", profs == 0);
}

static volatile int notified;

static void on_thread_notify(union sigval v)
{
	notified = v.sival_int;
}

static void posix_timers(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO };
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1,
			       .sigev_value.sival_ptr = (void *)0x5eed };
	struct itimerspec ts = { .it_value = { 0, 5 * MS } };
	sigset_t none, usr1;
	timer_t t;

	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &none);
	sigdelset(&none, SIGUSR1);
	timer_create(CLOCK_MONOTONIC, &ev, &t);
	timer_settime(t, 0, &ts, NULL);
	sigsuspend(&none);	/* sleeps with SIGUSR1 open, until it comes */
	check("timer_create: SIGEV_SIGNAL handler sees SI_TIMER and the value",
	      usr1_code == SI_TIMER && usr1_value == 0x5eed);
	timer_delete(t);
	sigprocmask(SIG_UNBLOCK, &usr1, NULL);

	ev = (struct sigevent){ .sigev_notify = SIGEV_THREAD,
				.sigev_notify_function = on_thread_notify,
				.sigev_value.sival_int = 77 };
	check("timer_create: SIGEV_THREAD made", timer_create(CLOCK_REALTIME, &ev, &t) == 0);
	timer_settime(t, 0, &ts, NULL);
	for (int i = 0; i < 200 && !notified; i++)
		usleep(1000);
	check("timer_create: SIGEV_THREAD runs the function in a thread", notified == 77);
	timer_delete(t);
}

static void *sigwaiter(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;

	sigwait(set, &sig);
	return (void *)(intptr_t)sig;
}

/* The classic pattern: every thread blocks SIGUSR2, one waits for it;
 * a kill() to the process reaches that one. */
static void process_signals(void)
{
	sigset_t set;
	pthread_t t;
	void *res;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&t, NULL, sigwaiter, &set);
	usleep(5000);
	kill(getpid(), SIGUSR2);
	pthread_join(t, &res);
	check("kill: a signal every thread blocks reaches the sigwait thread",
	      (intptr_t)res == SIGUSR2);
}

/* An event loop's way: the timer's SIGHUP, blocked, read from a
 * signalfd that epoll_wait reports readable. */
static void signal_fd(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGHUP,
			       .sigev_value.sival_int = 4242 };
	struct itimerspec ts = { .it_value = { 0, 3 * MS } };
	struct epoll_event e = { .events = EPOLLIN }, got;
	struct signalfd_siginfo si;
	sigset_t hup;
	timer_t t;
	int sfd, ep = epoll_create1(0);

	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, NULL);
	sfd = signalfd(-1, &hup, SFD_CLOEXEC);
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &e);
	timer_create(CLOCK_MONOTONIC, &ev, &t);
	timer_settime(t, 0, &ts, NULL);
	check("signalfd: epoll_wait reports the timer's signal",
	      epoll_wait(ep, &got, 1, 2000) == 1);
	check("signalfd: read gives SIGHUP, SI_TIMER and the value",
	      read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGHUP &&
	      si.ssi_code == SI_TIMER && si.ssi_int == 4242);
	timer_delete(t);
	close(sfd);
	close(ep);
}

static volatile int rt_values[4], rt_count;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (rt_count < 4 && si->si_code == SI_QUEUE)
		rt_values[rt_count] = si->si_value.sival_int;
	rt_count++;
}

/* Three instances of one real-time signal, queued while blocked, each
 * reach the handler with its own value, in the order sent. */
static void realtime(void)
{
	struct sigaction sa = { .sa_sigaction = on_rt, .sa_flags = SA_SIGINFO };
	int sig = SIGRTMIN + 5;
	sigset_t set;

	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (int i = 1; i <= 3; i++)
		sigqueue(getpid(), sig, (union sigval){ .sival_int = i * 11 });
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	check("sigqueue: three queued real-time signals, values in order",
	      rt_count == 3 && rt_values[0] == 11 && rt_values[1] == 22 && rt_values[2] == 33);
}

int main(void)
{
	timerfd_epoll();
	epoll_dups();
	timerfd_threads();
	itimers();
	posix_timers();
	process_signals();
	signal_fd();
	realtime();
	printf("timers: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
