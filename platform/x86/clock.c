/*
 * clock.c - the monotonic clock: the TSC, calibrated at boot against the
 * PIT (a fixed 1.193182 MHz timer): windows of about 10 ms between two
 * latched reads of PIT channel 2's count, each latch bracketed by TSC
 * reads and timed at the bracket's midpoint; the first two windows in a
 * row with narrow brackets that agree within 1/CAL_AGREE give the rate.
 *
 * Why: a port access can stall (QEMU's thread descheduled on a loaded
 * host, or waiting for its device lock) while the PIT runs on. Timing
 * the end of a 1 ms window by polling OUT2 and reading the TSC after the
 * poll, a stall stretched the window; polls of port 0x61 were measured
 * taking 4-23 ms on a loaded host, two of three windows stretched, and
 * the clock ran several times slow for the whole boot (musl_adjtime,
 * about 9 s of guest time, took 60 s and timed out). A latch is one
 * port write: a wide bracket shows a stall and the latch is taken again
 * (keeping the narrowest of CAL_TRIES); two windows must agree, so a
 * window that wrapped the 16-bit count (a stall of 55 ms between reads)
 * is not believed either.
 *
 * Invariants: ns = (tsc - tsc0) * mult >> 32 with mult = 2^32 * 1e9 / hz,
 * computed once at boot; the result never goes backwards on one CPU.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>

#include "x86.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define CAL_PIT (PIT_HZ / 100)	/* PIT ticks in a window: 10 ms */
#define CAL_TRIES 16		/* latches per end */
#define CAL_SLACK 1024		/* a bracket within 1/1024 of the window */
#define CAL_AGREE 200		/* windows agree within 0.5% */
#define CAL_WINDOWS 9

static uint64_t tsc0;
static uint64_t tsc_hz;
static uint64_t mult;		/* ns per tick, 32.32 fixed point */

uint64_t cubi_x86_clock_test_stall_ticks;

/* The count's walk since a window began: the last count latched and
 * the PIT ticks summed latch by latch (the count runs down from 0xFFFF
 * and wraps; one step would have to stall 55 ms to hide a wrap, and two
 * windows must agree besides). */
struct walk {
	uint16_t last;
	uint64_t ticks;
};

/* One latch of channel 2's count, added to w: the TSC midpoint of the
 * latching write in *mid, the bracket's width returned. While the test
 * asks, every other latch stalls inside its bracket. */
static uint64_t latch(struct walk *w, uint64_t *mid)
{
	static unsigned latches;
	uint64_t a = rdtsc(), b;
	uint16_t c;

	if (cubi_x86_clock_test_stall_ticks && latches++ % 2 == 0)
		while (rdtsc() - a < cubi_x86_clock_test_stall_ticks)
			;
	outb(PIT_CMD, 0x80);			/* latch channel 2 */
	b = rdtsc();
	c = inb(PIT_CH2);
	c |= (uint16_t)(inb(PIT_CH2) << 8);
	w->ticks += (uint16_t)(w->last - c);
	w->last = c;
	*mid = a + (b - a) / 2;
	return b - a;
}

/* One window of at least CAL_PIT ticks, its ends' latches taken again
 * (up to CAL_TRIES times) while wider than limit TSC ticks (the start's
 * last try stands; the end's narrowest): the TSC rate it shows, its
 * TSC span in *span, the brackets together in parts per CAL_SLACK of
 * the span in *bad (0 is good). */
static uint64_t window(uint64_t limit, uint64_t *span, uint64_t *bad)
{
	struct walk w = { 0, 0 };
	uint64_t m0, m1 = 0, m, w0, w1 = UINT64_MAX, t1 = 0;

	w0 = latch(&w, &m0);
	for (int i = 1; i < CAL_TRIES && w0 > limit; i++)
		w0 = latch(&w, &m0);
	w.ticks = 0;
	do
		latch(&w, &m);
	while (w.ticks < CAL_PIT);
	for (int i = 0; i < CAL_TRIES && (i == 0 || w1 > limit); i++) {
		uint64_t x = latch(&w, &m);

		if (x < w1) {
			w1 = x;
			m1 = m;
			t1 = w.ticks;
		}
	}
	*span = m1 - m0;
	*bad = (w0 + w1) * CAL_SLACK / *span;
	return *span * PIT_HZ / t1;
}

static uint64_t diff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* Contexts: boot or task, interrupts disabled; uses PIT channel 2 and
 * the speaker gate (left as found). The mean of the first two windows in
 * a row with narrow brackets that agree; failing that (CAL_WINDOWS
 * windows), the window with the narrowest brackets. */
uint64_t cubi_x86_clock_calibrate(void)
{
	uint8_t gate = inb(PIT_GATE);
	uint64_t prev = 0, hz = 0, best = 0, best_bad = UINT64_MAX;
	uint64_t limit = UINT64_MAX, span;

	outb(PIT_GATE, (gate & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, 0xB4);			/* ch2, lo/hi, mode 2 */
	outb(PIT_CH2, 0xFF);
	outb(PIT_CH2, 0xFF);
	for (int i = 0; i < CAL_WINDOWS && !hz; i++) {
		uint64_t bad, r = window(limit, &span, &bad);

		limit = span / CAL_SLACK;
		if (bad < best_bad) {
			best_bad = bad;
			best = r;
		}
		if (bad)
			r = 0;
		if (r && prev && diff(r, prev) * CAL_AGREE <= prev)
			hz = (prev + r) / 2;
		prev = r;
	}
	outb(PIT_GATE, gate);
	return hz ? hz : best;
}

void cubi_x86_clock_init(void)
{
	tsc_hz = cubi_x86_clock_calibrate();
	if (tsc_hz < 1000000)
		cub_panic("clock: TSC calibration failed (%lu Hz)",
			  (unsigned long)tsc_hz);
	mult = ((uint64_t)1000000000 << 32) / tsc_hz;
	tsc0 = rdtsc();
}

uint64_t cubi_x86_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t cub_arch_clock_ns(void)
{
	uint64_t d = rdtsc() - tsc0;

	return (uint64_t)(((unsigned __int128)d * mult) >> 32);
}
