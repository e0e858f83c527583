/*
 * clock.c - the monotonic clock: the TSC, calibrated at boot against the
 * PIT (a fixed 1.193182 MHz timer): the median of three 1 ms windows.
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
#define CAL_MS 1	/* 1193 PIT ticks: +-1 tick is 0.08% */

static uint64_t tsc0;
static uint64_t tsc_hz;
static uint64_t mult;		/* ns per tick, 32.32 fixed point */

/* Counts TSC ticks during CAL_MS of PIT channel 2 in one-shot mode. */
static uint64_t measure_tsc_hz(void)
{
	uint16_t count = (uint16_t)(PIT_HZ / (1000 / CAL_MS));
	uint8_t gate = inb(PIT_GATE);
	uint64_t t0, t1;

	outb(PIT_GATE, (gate & ~0x02) | 0x01);	/* speaker off, gate on */
	outb(PIT_CMD, 0xB0);			/* ch2, lo/hi, mode 0 */
	outb(PIT_CH2, count & 0xFF);
	outb(PIT_CH2, count >> 8);
	/* Restart the count by toggling the gate. */
	outb(PIT_GATE, inb(PIT_GATE) & ~0x01);
	outb(PIT_GATE, inb(PIT_GATE) | 0x01);
	t0 = rdtsc();
	while (!(inb(PIT_GATE) & 0x20))		/* OUT2 goes high at zero */
		;
	t1 = rdtsc();
	outb(PIT_GATE, gate);
	return (t1 - t0) * (1000 / CAL_MS);
}

/*
 * Median of three windows: one window can be stretched or squeezed when the
 * emulator's thread is descheduled mid-measurement on a loaded host, which
 * would skew every timeout for the whole run.
 */
static uint64_t calibrate(void)
{
	uint64_t a = measure_tsc_hz(), b = measure_tsc_hz(), c = measure_tsc_hz(), t;

	if (a > b)
		t = a, a = b, b = t;
	if (b > c)
		t = b, b = c, c = t;
	if (a > b)
		t = a, a = b, b = t;
	return b;
}

void cubi_x86_clock_init(void)
{
	tsc_hz = calibrate();
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
