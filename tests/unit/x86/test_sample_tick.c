/*
 * test_sample_tick.c - the x86 profiler's "is this NMI the sampling
 * tick?" rule (platform/x86/sample_tick.c) on made-up readings of port
 * 0x61, the PIT's count and the clock: ticks in their window are taken
 * once per PIT period; a second NMI in a period, one past the window,
 * an impossible count and a SERR#/IOCHK# NMI are refused; the port 0x61
 * acknowledgement clears exactly the reported sources and keeps the
 * speaker's bits; and randomized runs of ticks mixed with foreign NMIs,
 * with the clock right or off by -25%..+60%, take exactly one per period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../../platform/x86/sample_tick.h"

#define PIT_HZ 1193182u
#define DIV 1193u		/* about 1 kHz: a period of 999847 ns */

static uint64_t period_ns(void)
{
	return (uint64_t)DIV * 1000000000ull / PIT_HZ;
}

/* The clock's rate against the PIT's, in thousandths. */
static uint64_t clock_rate = 1000;

/* The clock at PIT clock e of period k (t0 = 1 s). */
static uint64_t at(uint64_t k, uint32_t e)
{
	return 1000000000ull + (k * DIV + e) * 1000000000ull / PIT_HZ * clock_rate / 1000;
}

/* What the latched count reads e PIT clocks into a period. */
static uint32_t count_at(uint32_t e)
{
	return DIV - e;
}

static void test_ticks_in_window_once_per_period(void **state)
{
	struct cubi_tick_filter f;

	(void)state;
	cubi_tick_filter_init(&f, DIV, PIT_HZ);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(3), at(0, 3)), CUBI_NMI_TICK);
	/* A second NMI later in the same period: refused. */
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(200), at(0, 200)), CUBI_NMI_REPEAT);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(3), at(0, 3)), CUBI_NMI_REPEAT);
	/* The next periods' ticks: earlier, equal and later phase. */
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(0), at(1, 0)), CUBI_NMI_TICK);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(0), at(2, 0)), CUBI_NMI_TICK);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(500), at(3, 500)), CUBI_NMI_TICK);
	/* Periods missed (merged ticks) do not matter. */
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(700), at(9, 700)), CUBI_NMI_TICK);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(701), at(9, 701)), CUBI_NMI_REPEAT);
}

static void test_window_edge(void **state)
{
	struct cubi_tick_filter f;
	uint32_t w = DIV - DIV / 4;

	(void)state;
	cubi_tick_filter_init(&f, DIV, PIT_HZ);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(w), at(0, w)), CUBI_NMI_OFF_PHASE);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(DIV - 1), at(0, DIV - 1)),
			 CUBI_NMI_OFF_PHASE);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(w - 1), at(0, w - 1)), CUBI_NMI_TICK);
	/* Off-phase NMIs leave the state alone: the next period's tick. */
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(w), at(0, w)), CUBI_NMI_OFF_PHASE);
	assert_int_equal(cubi_tick_classify(&f, 0, count_at(w - 1), at(1, w - 1)), CUBI_NMI_TICK);
}

static void test_bad_counts(void **state)
{
	struct cubi_tick_filter f;

	(void)state;
	cubi_tick_filter_init(&f, DIV, PIT_HZ);
	assert_int_equal(cubi_tick_classify(&f, 0, 0, at(0, 0)), CUBI_NMI_BAD_COUNT);
	assert_int_equal(cubi_tick_classify(&f, 0, DIV + 1, at(0, 0)), CUBI_NMI_BAD_COUNT);
	assert_int_equal(cubi_tick_classify(&f, 0, 0xFFFF, at(0, 0)), CUBI_NMI_BAD_COUNT);
	assert_false(f.seen);
	assert_int_equal(cubi_tick_classify(&f, 0, DIV, at(0, 0)), CUBI_NMI_TICK);
}

static void test_port61_sources(void **state)
{
	struct cubi_tick_filter f;
	static const uint8_t other[] = { 0x80, 0x40, 0xC0, 0x83, 0x4F };

	(void)state;
	cubi_tick_filter_init(&f, DIV, PIT_HZ);
	for (size_t i = 0; i < sizeof(other); i++)
		assert_int_equal(cubi_tick_classify(&f, other[i], count_at(1), at(0, 1)),
				 CUBI_NMI_SOURCE);
	assert_false(f.seen);
	/* Bits 5 and 4 (timer 2 out, refresh toggle) and the enables are
	 * no source. */
	assert_int_equal(cubi_tick_classify(&f, 0x3F, count_at(1), at(0, 1)), CUBI_NMI_TICK);
	/* The acknowledgement: the reported sources' clear bits, the low
	 * nibble kept, bits 7..4 written 0. */
	assert_int_equal(cubi_port61_ack(0x80), 0x04);
	assert_int_equal(cubi_port61_ack(0x40), 0x08);
	assert_int_equal(cubi_port61_ack(0xC3), 0x0F);
	assert_int_equal(cubi_port61_ack(0xB1), 0x05);
	assert_int_equal(cubi_port61_ack(0x32), 0x02);
}

/* Slow rates: the filter's gap scales with the divisor. */
static void test_slow_rate(void **state)
{
	struct cubi_tick_filter f;
	uint32_t div = 62799;		/* 19 Hz */
	uint64_t p = (uint64_t)div * 1000000000ull / PIT_HZ;

	(void)state;
	cubi_tick_filter_init(&f, div, PIT_HZ);
	assert_int_equal(cubi_tick_classify(&f, 0, div - 10, 5000), CUBI_NMI_TICK);
	/* 30 ms later, same period (phase 10 + 30 ms of clocks). */
	assert_int_equal(cubi_tick_classify(&f, 0, div - 10 - 35795, 5000 + 30000000),
			 CUBI_NMI_REPEAT);
	assert_int_equal(cubi_tick_classify(&f, 0, div - 10, 5000 + p), CUBI_NMI_TICK);
}

/* Ticks at a random latency (up to 40 clocks, or up to the window),
 * foreign NMIs at random times: exactly one taken per period - the tick,
 * or the foreign NMI that came before it in its window. */
static void randomized(uint32_t max_lat)
{
	struct cubi_tick_filter f;

	srand(4242);
	cubi_tick_filter_init(&f, DIV, PIT_HZ);
	for (uint64_t k = 0; k < 20000; k++) {
		uint32_t lat = (uint32_t)(rand() % max_lat);
		uint32_t fe = (uint32_t)(rand() % DIV);
		bool foreign = rand() % 3 == 0, first = !foreign || fe > lat;
		unsigned taken = 0;

		if (foreign && !first)
			taken += cubi_tick_classify(&f, 0, count_at(fe), at(k, fe)) == CUBI_NMI_TICK;
		if (cubi_tick_classify(&f, 0, count_at(lat), at(k, lat)) == CUBI_NMI_TICK) {
			taken++;
			assert_true(first || taken == 1);
		} else {
			assert_false(first);
		}
		if (foreign && first)
			taken += cubi_tick_classify(&f, 0, count_at(fe), at(k, fe)) == CUBI_NMI_TICK;
		assert_int_equal(taken, 1);
	}
}

static void test_randomized(void **state)
{
	(void)state;
	assert_true(period_ns() > 999000 && period_ns() < 1000000);
	randomized(40);
	randomized(DIV - DIV / 4);
}

/* A clock that runs 0.75 or 1.6 times the PIT's rate (a TSC calibrated
 * on a loaded emulator) still tells periods apart. */
static void test_clock_rate_off(void **state)
{
	static const uint64_t rates[] = { 750, 810, 1250, 1600 };

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		clock_rate = rates[i];
		randomized(40);
		randomized(DIV - DIV / 4);
	}
	clock_rate = 1000;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ticks_in_window_once_per_period),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_bad_counts),
		cmocka_unit_test(test_port61_sources),
		cmocka_unit_test(test_slow_rate),
		cmocka_unit_test(test_randomized),
		cmocka_unit_test(test_clock_rate_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
