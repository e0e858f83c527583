/*
 * rtc.c - wall-clock time: the CMOS real-time clock, read once at boot
 * and carried forward by the monotonic TSC clock.
 *
 * Invariants: boot_epoch_ns is the wall time at monotonic time 0; it is
 * written once in cubi_x86_rtc_init (boot) and only read afterwards.
 */
#include <cubrt/arch.h>

#include "x86.h"

#define CMOS_ADDR 0x70
#define CMOS_DATA 0x71

static uint64_t boot_epoch_ns;

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_ADDR, reg);
	return inb(CMOS_DATA);
}

static unsigned bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v & 0x0F) + (v >> 4) * 10 : v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
	static const unsigned before[12] = { 0, 31, 59, 90, 120, 151, 181,
					     212, 243, 273, 304, 334 };
	uint64_t days = (uint64_t)(y - 1970) * 365 + before[m - 1] + d - 1;

	/* Leap days in the years before y, plus this year's if past Feb. */
	days += (y - 1969) / 4 - (y - 1901) / 100 + (y - 1601) / 400;
	if (m > 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		days++;
	return days;
}

void cubi_x86_rtc_init(void)
{
	uint8_t sec, min, hour, day, mon, year, regb;
	bool is_bcd;

	while (cmos(0x0A) & 0x80)	/* wait out an update in progress */
		;
	sec = cmos(0x00);
	min = cmos(0x02);
	hour = cmos(0x04);
	day = cmos(0x07);
	mon = cmos(0x08);
	year = cmos(0x09);
	regb = cmos(0x0B);
	is_bcd = !(regb & 0x04);
	if (!(regb & 0x02) && (hour & 0x80))	/* 12-hour clock, PM */
		hour = (uint8_t)(((bcd(hour & 0x7F, is_bcd) % 12) + 12));
	else
		hour = (uint8_t)bcd(hour, is_bcd);
	if (mon < 1 || bcd(mon, is_bcd) > 12)
		return;		/* no usable RTC: wall clock starts at 1970 */
	boot_epoch_ns = (days_since_epoch(2000 + bcd(year, is_bcd), bcd(mon, is_bcd),
					  bcd(day, is_bcd)) * 86400 +
			 hour * 3600ull + bcd(min, is_bcd) * 60ull + bcd(sec, is_bcd)) *
			1000000000ull;
	boot_epoch_ns -= cub_arch_clock_ns();
}

uint64_t cub_arch_wallclock_ns(void)
{
	return boot_epoch_ns + cub_arch_clock_ns();
}
