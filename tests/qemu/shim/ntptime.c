/*
 * ntptime.c - the wall clock of an unmodified musl program whose
 * environment says CUBRT_NTP=10.0.2.2:PORT: the shim set it at start-up
 * from the SNTP server tests/qemu/net/sntp_host.py runs on the host,
 * 1000 days ahead of the host's clock. Prints "ntptime: time() N" for
 * the driver to compare with the time it served; time(), gettimeofday
 * and clock_gettime(CLOCK_REALTIME) agree; clock_settime moves the
 * clock by an hour and back (an absolute REALTIME sleep armed before
 * the hour-back step still ends at its wall time); the errors of
 * clock_settime and settimeofday. One line per check, then a summary.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "checks.h"

static long long ns_of(struct timespec t)
{
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static long long realtime(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return ns_of(t);
}

static void errors(void)
{
	struct timespec t = { 100, 0 };
	struct timeval tv = { 100, 1000000 };

	check("clock_settime(CLOCK_MONOTONIC): EINVAL",
	      clock_settime(CLOCK_MONOTONIC, &t) == -1 && errno == EINVAL);
	t.tv_nsec = 1000000000;
	check("clock_settime with tv_nsec 1e9: EINVAL",
	      clock_settime(CLOCK_REALTIME, &t) == -1 && errno == EINVAL);
	check("settimeofday with tv_usec 1e6: EINVAL",
	      settimeofday(&tv, NULL) == -1 && errno == EINVAL);
}

int main(void)
{
	const char *v = getenv("CUBRT_NTP");
	time_t now = time(NULL);
	struct timeval tv;
	struct timespec t, until;
	long long r0, r1, mono;

	printf("ntptime: time() %lld (CUBRT_NTP=%s)\n", (long long)now, v ? v : "");
	gettimeofday(&tv, NULL);
	check("gettimeofday agrees with time()", tv.tv_sec - now >= 0 && tv.tv_sec - now <= 1);
	check("CLOCK_REALTIME agrees", realtime() / 1000000000 - now <= 1);
	check("the clock is ahead of 2026 + 900 days", now > 1767225600 + 900 * 86400ll);
	/* An hour ahead, then back: the same clock still. */
	r0 = realtime();
	t = (struct timespec){ (r0 + 3600000000000ll) / 1000000000, 0 };
	check("clock_settime(+1 h)", clock_settime(CLOCK_REALTIME, &t) == 0);
	r1 = realtime();
	check("time() an hour on", time(NULL) - now >= 3599 && time(NULL) - now <= 3601);
	clock_gettime(CLOCK_MONOTONIC, &until);
	mono = ns_of(until);
	until = (struct timespec){ r1 / 1000000000 - 3600 + 2, 0 };	/* 1..2 s after the step back */
	tv = (struct timeval){ (r1 - 3600000000000ll) / 1000000000, 0 };
	check("settimeofday(-1 h)", settimeofday(&tv, NULL) == 0);
	check("an absolute REALTIME sleep to 1..2 s from now",
	      clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, NULL) == 0 &&
	      realtime() >= ns_of(until));
	clock_gettime(CLOCK_MONOTONIC, &t);
	check("... took 1..3 s, not an hour", ns_of(t) - mono < 3500000000ll);
	check("back where it was", time(NULL) - now >= 0 && time(NULL) - now <= 5);
	errors();
	printf("ntptime: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
