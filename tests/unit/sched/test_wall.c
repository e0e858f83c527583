/*
 * test_wall.c - the wall clock's discipline (src/sched/wall.c): first
 * its arithmetic driven with made-up platform times (P0 + m), then the
 * public calls on the host's real clocks.
 *
 * Proves: a slew gains or loses exactly 1 ns in every 2000 (500 ppm) and
 * stops at its size; the clock never goes backwards during a negative
 * slew, even on top of the slowest rate; the remaining adjustment; a new
 * slew replaces the old, returning what it had left, without a jump; a
 * step cancels a slew and returns its size; a rate gains its ppm, also
 * over months (the fold of a long drift changes no reading) and at the
 * fastest rate after a month without a reading; the public
 * calls slew the real clock at that rate, report what is left, leave the
 * monotonic clock alone, and refuse bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "wall.h"
#include "../slow.h"

#define US 1000ll
#define MS 1000000ll
#define SEC 1000000000ll
#define P0 (1767225600ull * SEC)	/* 2026-01-01: the platform at m = 0 */

/* The wall clock's correction at P0 + m: what it adds to the platform. */
static int64_t corr(struct cubi_wall *w, uint64_t m)
{
	return (int64_t)(cubi_wall_read(w, P0 + m) - (P0 + m));
}

static void slew_forward(void **state)
{
	struct cubi_wall w = { 0 };

	(void)state;
	assert_int_equal(cubi_wall_adjust(&w, P0, SEC), 0);
	assert_int_equal(corr(&w, 1999), 0);
	assert_int_equal(corr(&w, 2000), 1);
	assert_int_equal(corr(&w, SEC), 500 * US);		/* 500 ppm */
	assert_int_equal(cubi_wall_left(&w, P0 + SEC), SEC - 500 * US);
	assert_int_equal(corr(&w, 1000 * SEC), SEC / 2);
	assert_int_equal(corr(&w, 2000 * SEC), SEC);		/* done */
	assert_int_equal(cubi_wall_left(&w, P0 + 2000 * SEC), 0);
	assert_int_equal(corr(&w, 5000 * SEC), SEC);		/* and stays */
}

static void slew_backward_never_backwards(void **state)
{
	struct cubi_wall w = { 0 };
	uint64_t m = 0, prev = 0;

	(void)state;
	srandom(24);
	cubi_wall_adjust(&w, P0, -10 * MS);
	assert_int_equal(corr(&w, SEC), -500 * US);
	while (m < 30 * SEC) {	/* the slew ends at 20 s */
		uint64_t v = cubi_wall_read(&w, P0 + m);

		assert_true(v >= prev);
		prev = v;
		m += (uint64_t)(random() % 3 ? random() % 3000 : random() % (20 * MS));
	}
	assert_int_equal(corr(&w, m), -10 * MS);
	assert_int_equal(cubi_wall_left(&w, P0 + m), 0);
}

/* A slow rate (-123457 ppm) and a negative slew together, read every
 * ns: still forward only (the drift's and the slew's roundings meet now
 * and then, and the last-read guard hides that 1 ns). */
static void slow_rate_and_slew_forward_only(void **state)
{
	struct cubi_wall w = { 0 };
	uint64_t m = 5, prev = 0;

	(void)state;
	cubi_wall_set_rate(&w, P0 + 5, -123457 * CUB_TIME_PPM);
	cubi_wall_adjust(&w, P0 + 5, -SEC);
	for (unsigned i = 0; i < 4000000; i++, m++) {
		uint64_t v = cubi_wall_read(&w, P0 + m);

		assert_true(v >= prev);
		prev = v;
	}
	/* -123457 ppm and -500 ppm of the time since m = 5 */
	assert_int_equal(corr(&w, 5 + SEC), -123457 * US - 500 * US);
}

static void adjust_replaces_without_jump(void **state)
{
	struct cubi_wall w = { 0 };

	(void)state;
	cubi_wall_adjust(&w, P0, SEC);
	assert_int_equal(corr(&w, 10 * SEC), 5 * MS);
	assert_int_equal(cubi_wall_adjust(&w, P0 + 10 * SEC, -2 * SEC), SEC - 5 * MS);
	assert_int_equal(corr(&w, 10 * SEC), 5 * MS);		/* no jump */
	assert_int_equal(cubi_wall_left(&w, P0 + 10 * SEC), -2 * SEC);
	assert_int_equal(corr(&w, 12 * SEC), 5 * MS - 1 * MS);	/* now losing */
	assert_int_equal(cubi_wall_adjust(&w, P0 + 12 * SEC, 0), -2 * SEC + MS);
	assert_int_equal(corr(&w, 100 * SEC), 4 * MS);		/* cancelled */
}

static void step_cancels_slew(void **state)
{
	struct cubi_wall w = { 0 };
	uint64_t to = P0 + 3600 * SEC;

	(void)state;
	cubi_wall_adjust(&w, P0, SEC);
	/* at m = 4 s the clock reads P0 + 4 s + 2 ms */
	assert_int_equal(cubi_wall_step(&w, P0 + 4 * SEC, to),
			 3600 * SEC - 4 * SEC - 2 * MS);
	assert_int_equal(cubi_wall_left(&w, P0 + 4 * SEC), 0);
	assert_int_equal(cubi_wall_read(&w, P0 + 10 * SEC), to + 6 * SEC);
	/* backwards, too, below the last reading */
	assert_int_equal(cubi_wall_step(&w, P0 + 10 * SEC, to - 100), -6 * SEC - 100);
	assert_int_equal(cubi_wall_read(&w, P0 + 10 * SEC), to - 100);
}

static void rate_gains_ppm(void **state)
{
	struct cubi_wall w = { 0 };
	uint64_t month = 30ull * 86400 * SEC;

	(void)state;
	cubi_wall_set_rate(&w, P0, 100 * CUB_TIME_PPM);
	assert_int_equal(corr(&w, SEC), 100 * US);
	assert_int_equal(corr(&w, month), (int64_t)(month / 10000));
	/* past the fold (2^28 ms, about 3 days, since the last) */
	assert_int_equal(corr(&w, 6 * month), (int64_t)(6 * month / 10000));
	assert_int_equal(corr(&w, 6 * month + SEC), (int64_t)((6 * month + SEC) / 10000));
	cubi_wall_set_rate(&w, P0 + 6 * month + SEC, -CUB_TIME_PPM / 2);
	assert_int_equal(corr(&w, 6 * month + 3 * SEC),
			 (int64_t)((6 * month + SEC) / 10000) - 1 * US);
	/* the fastest rate, a month without a reading: no overflow */
	w = (struct cubi_wall){ 0 };
	cubi_wall_set_rate(&w, P0, CUB_TIME_RATE_MAX);
	assert_int_equal(corr(&w, month), (int64_t)(month / 8));
	cubi_wall_set_rate(&w, P0 + 2 * month, 0);
	assert_int_equal(corr(&w, 3 * month), (int64_t)(2 * month / 8));
}

/* ---------------------------------------------- the real clocks */

/* The wall clock's correction now, as an interval [*lo, *hi]: the
 * platform clock is read before and after cub_time_wall, which reads it
 * once in between (a run descheduled between the reads only widens it). */
static void real_corr(int64_t *lo, int64_t *hi)
{
	uint64_t p0 = cub_arch_wallclock_ns(), w = cub_time_wall(), p1 = cub_arch_wallclock_ns();

	*lo = (int64_t)(w - p1);
	*hi = (int64_t)(w - p0);
}

static void nap(int64_t ns)
{
	struct timespec t = { ns / SEC, ns % SEC };

	nanosleep(&t, NULL);
}

static void public_slew(void **state)
{
	int64_t c0lo, c0hi, c1lo, c1hi, left, old;
	uint64_t m0, m0b, m1, m1b, t0, w0;

	(void)state;
	assert_int_equal(cub_time_adjust(0, NULL), 0);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	real_corr(&c0lo, &c0hi);
	m0 = cub_time_now();
	assert_int_equal(cub_time_adjust(SEC, &old), 0);
	m0b = cub_time_now();
	nap(300 * MS);
	m1 = cub_time_now();
	real_corr(&c1lo, &c1hi);
	left = cub_time_adjust_left();
	m1b = cub_time_now();
	/* The slew ran from some instant in [m0, m0b] to some in [m1, m1b]
	 * at 1/2000: what it gained, measured as an interval, meets that
	 * (2 us for the clocks' rounding), however slowly the run goes. */
	assert_true(c1hi - c0lo >= (int64_t)(m1 - m0b) / 2000 - 2 * US);
	assert_true(c1lo - c0hi <= (int64_t)(m1b - m0) / 2000 + 2 * US);
	assert_true(left <= SEC - (int64_t)(m1 - m0b) / 2000 + 2 * US);
	assert_true(left >= SEC - (int64_t)(m1b - m0) / 2000 - 2 * US);
	assert_true(c1hi - c0lo > 100 * US);
	/* the monotonic clock and the rate did not move */
	assert_true(cub_time_now() - t0 < test_bound(2 * SEC, w0));
	assert_int_equal(cub_time_rate(), 0);
	assert_int_equal(cub_time_adjust(-5 * MS, &old), 0);
	assert_true(old >= SEC - (int64_t)(cub_time_now() - m0) / 2000 - 2 * US && old <= left);
	cub_time_set_wall(cub_time_wall());
	assert_int_equal(cub_time_adjust_left(), 0);	/* the step cancelled it */
	cub_time_set_wall(cub_arch_wallclock_ns());
}

static void public_bad_args(void **state)
{
	int64_t old = 7;

	(void)state;
	assert_int_equal(cub_time_adjust(INT64_MIN, &old), -CUB_EINVAL);
	assert_int_equal(old, 7);
	assert_int_equal(cub_time_set_rate(CUB_TIME_RATE_MAX + 1), -CUB_EINVAL);
	assert_int_equal(cub_time_set_rate(-CUB_TIME_RATE_MAX - 1), -CUB_EINVAL);
	assert_int_equal(cub_time_rate(), 0);
	assert_int_equal(cub_time_set_rate(CUB_TIME_RATE_MAX), 0);
	assert_int_equal(cub_time_rate(), CUB_TIME_RATE_MAX);
	assert_int_equal(cub_time_set_rate(0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slew_forward),
		cmocka_unit_test(slew_backward_never_backwards),
		cmocka_unit_test(slow_rate_and_slew_forward_only),
		cmocka_unit_test(adjust_replaces_without_jump),
		cmocka_unit_test(step_cancels_slew),
		cmocka_unit_test(rate_gains_ppm),
		cmocka_unit_test(public_slew),
		cmocka_unit_test(public_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
