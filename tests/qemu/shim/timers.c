/*
 * timers.c - timers in an unmodified musl program on bare metal: a
 * timerfd waited for with epoll (one-shot, then periodic with the periods
 * a late read collects), a blocking timerfd read in a second thread, and
 * an absolute expiry on the wall clock. One line per check, then a
 * summary.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
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
	long long t0 = mono_ns();
	uint64_t n = 0;
	struct itimerspec cur;

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
	arm(fd, 0, 5 * MS, 5 * MS);
	usleep(32 * 1000);
	check("timerfd: a late read collects the periods",
	      read(fd, &n, 8) == 8 && n >= 5 && n <= 8);
	printf("timerfd: %llu periods of 5 ms in 32 ms\n", (unsigned long long)n);
	close(ep);
	close(fd);
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

int main(void)
{
	timerfd_epoll();
	timerfd_threads();
	printf("timers: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
