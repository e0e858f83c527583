/*
 * adjtime.c - an unmodified musl program disciplining the wall clock:
 * adjtime(3) and adjtimex(2)/clock_adjtime(2) through the shim
 * (src/shim/adjtimex.c). The clock's correction is measured as
 * CLOCK_REALTIME minus CLOCK_MONOTONIC, which only the discipline moves.
 * Checks: a 2 ms adjtime gains 500 ppm of the time that passed (a
 * loaded host stretches the naps: the bounds come from monotonic reads
 * around the change and the measurement) and converges in about 4 s,
 * then stops; the remaining adjustment read back on the way; a -1 ms slew
 * never makes CLOCK_REALTIME go backwards and converges too; a step by
 * ADJ_SETOFFSET (ns) cancels a slew; ADJ_FREQUENCY +500 ppm for a
 * second gains 0.5 ms; ADJ_STATUS and the return value; the errors.
 * One line per check, then a summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

#include "checks.h"

static long long ns_of(struct timespec t)
{
	return t.tv_sec * 1000000000ll + t.tv_nsec;
}

static long long clock_of(clockid_t c)
{
	struct timespec t;

	clock_gettime(c, &t);
	return ns_of(t);
}

/* REALTIME - MONOTONIC: what the discipline has added; from the three
 * reads (MONOTONIC, REALTIME, MONOTONIC) least apart of a few, since
 * the machine may stall between two (QEMU translating new code, or
 * descheduled). */
static long long corr(void)
{
	long long best = 0, gap = -1;

	for (int i = 0; i < 8; i++) {
		long long m1 = clock_of(CLOCK_MONOTONIC), r = clock_of(CLOCK_REALTIME);
		long long m2 = clock_of(CLOCK_MONOTONIC);

		if (gap < 0 || m2 - m1 < gap) {
			gap = m2 - m1;
			best = r - m1 - gap / 2;
		}
	}
	return best;
}

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000 };

	nanosleep(&t, NULL);
}

static long left_us(void)
{
	struct timex tx = { .modes = ADJ_OFFSET_SS_READ };

	adjtimex(&tx);
	return tx.offset;
}

static long long dabs(long long v)
{
	return v < 0 ? -v : v;
}

/* 500 ppm of the monotonic time between *from (taken before the change
 * began) and the reads after it: the least and the most the clock can
 * have gained (from[1] and to[0] bound the span from below, from[0]
 * and to[1] from above), capped at cap ns. A nap stretched by a loaded
 * host gains more; the checks follow the time that really passed. */
static void gain_bounds(const long long from[2], const long long to[2], long long cap,
			long long *lo, long long *hi)
{
	*lo = (to[0] - from[1]) / 2000;
	*hi = (to[1] - from[0]) / 2000;
	*lo = *lo < cap ? *lo : cap;
	*hi = *hi < cap ? *hi : cap;
}

static void forward(void)
{
	struct timeval in = { 0, 2000 }, out = { 9, 9 };
	long long c0, c1, from[2], to[2], lo, hi;
	long l;

	corr();			/* the clock calls once, to have them translated */
	c0 = corr();
	from[0] = clock_of(CLOCK_MONOTONIC);
	check("adjtime(+2 ms)", adjtime(&in, &out) == 0);
	from[1] = clock_of(CLOCK_MONOTONIC);
	check("... no slew before it", out.tv_sec == 0 && out.tv_usec == 0);
	nap_ms(1000);
	to[0] = clock_of(CLOCK_MONOTONIC);
	l = left_us();
	c1 = corr() - c0;
	to[1] = clock_of(CLOCK_MONOTONIC);
	gain_bounds(from, to, 2000000, &lo, &hi);
	printf("after %lld ms: gained %lld ns (500 ppm: %lld..%lld), %ld us left\n",
	       (to[1] - from[0]) / 1000000, c1, lo, hi, l);
	check("after about 1 s: 500 ppm of the time passed gained",
	      c1 > lo - 20000 && c1 < hi + 20000 && c1 > 450000);
	check("... the rest left", l * 1000 > 2000000 - hi - 20000 &&
	      l * 1000 < 2000000 - lo + 20000);
	check("... which add up to 2 ms", dabs(c1 + l * 1000 - 2000000) < 20000);
	nap_ms(3500);
	c1 = corr() - c0;
	printf("after 4.5 s: gained %lld ns, %ld us left\n", c1, left_us());
	check("after 4.5 s: converged to +2 ms", dabs(c1 - 2000000) < 20000 && left_us() == 0);
	nap_ms(500);
	check("... and stays there", dabs(corr() - c0 - 2000000) < 20000);
}

static void backward(void)
{
	struct timeval in = { -1, 999000 }, out;	/* -1 ms */
	long long c0 = corr(), prev = clock_of(CLOCK_REALTIME), m0 = clock_of(CLOCK_MONOTONIC);
	int back = 0;

	check("adjtime(-1 ms)", adjtime(&in, &out) == 0);
	while (clock_of(CLOCK_MONOTONIC) - m0 < 2300000000ll) {
		long long r = clock_of(CLOCK_REALTIME);

		back += r < prev;
		prev = r;
	}
	printf("-1 ms: lost %lld ns, %d steps back\n", c0 - corr(), back);
	check("REALTIME never went backwards while slewing", back == 0);
	check("converged to -1 ms", dabs(corr() - c0 + 1000000) < 20000 && left_us() == 0);
}

static void step_and_freq(void)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };
	struct timeval in = { 1, 0 }, out;
	long long c0 = corr(), c1, from[2], to[2], lo, hi;
	int rc;

	adjtime(&in, &out);
	tx.time.tv_sec = 2;
	tx.time.tv_usec = 500000000;		/* ns: +2.5 s */
	rc = adjtimex(&tx);
	c1 = corr() - c0;
	check("ADJ_SETOFFSET +2.5 s", rc == TIME_ERROR && dabs(c1 - 2500000000ll) < 5000000);
	check("... cancelled the slew", left_us() == 0);
	tx = (struct timex){ .modes = ADJ_STATUS | ADJ_MICRO, .status = STA_PLL };
	check("ADJ_STATUS PLL: TIME_OK", adjtimex(&tx) == TIME_OK && tx.status == STA_PLL);
	c0 = corr();
	tx = (struct timex){ .modes = ADJ_FREQUENCY, .freq = 500l << 16 };
	from[0] = clock_of(CLOCK_MONOTONIC);
	check("ADJ_FREQUENCY +500 ppm", clock_adjtime(CLOCK_REALTIME, &tx) == TIME_OK &&
	      tx.freq == 500l << 16);
	from[1] = clock_of(CLOCK_MONOTONIC);
	nap_ms(1000);
	tx = (struct timex){ .modes = ADJ_FREQUENCY, .freq = 0 };
	to[0] = clock_of(CLOCK_MONOTONIC);
	adjtimex(&tx);
	to[1] = clock_of(CLOCK_MONOTONIC);
	c1 = corr() - c0;
	gain_bounds(from, to, 1000000000, &lo, &hi);
	printf("+500 ppm for %lld ms: gained %lld ns (%lld..%lld)\n",
	       (to[1] - from[0]) / 1000000, c1, lo, hi);
	check("... gained 500 ppm of the time it ran (about 0.5 ms in a second)",
	      c1 > lo - 50000 && c1 < hi + 50000 && c1 > 400000);
}

static void errors(void)
{
	struct timex tx = { .modes = ADJ_TICK, .tick = 5000 };

	check("ADJ_TICK 5000: EINVAL", adjtimex(&tx) == -1 && errno == EINVAL);
	tx = (struct timex){ .modes = ADJ_SETOFFSET, .time = { 1, 1000000 } };
	check("ADJ_SETOFFSET usec 1e6: EINVAL", adjtimex(&tx) == -1 && errno == EINVAL);
	tx = (struct timex){ .modes = 0 };
	check("clock_adjtime(CLOCK_MONOTONIC): EOPNOTSUPP",
	      clock_adjtime(CLOCK_MONOTONIC, &tx) == -1 && errno == EOPNOTSUPP);
	check("clock_adjtime(99): EINVAL", clock_adjtime(99, &tx) == -1 && errno == EINVAL);
}

int main(void)
{
	forward();
	backward();
	step_and_freq();
	errors();
	printf("adjtime: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
