/*
 * calibrate.c - the TSC's rate (platform/x86/clock.c) and the one-shot
 * local APIC timer's (timer.c) survive stalled reads.
 *
 * The TSC is measured at boot against PIT channel 2's count, latched at
 * each end of 10 ms windows; a port access that stalls on a loaded host
 * once stretched the window and the clock ran several times slow. Here
 * every other latch stalls 5 ms, then 20 ms
 * (cubi_x86_clock_test_stall_ticks): each measurement must agree with an
 * unstalled one within 1%, as must boot's.
 *
 * The APIC timer's rate is measured
 * at boot against the TSC; QEMU's thread descheduled on a loaded host
 * while the guest read the count once made it several times too high,
 * and every timer of that boot fired that much late (net_sntp sent one
 * request in 5 s). Here every other read of the count stalls 5 ms, then
 * 20 ms, inside its TSC bracket (cubi_x86_timer_test_stall_ns, as a
 * descheduled emulator would): each measurement must agree with an
 * unstalled one within 2%, as must boot's; a sleep armed before the
 * measurements still wakes, never early.
 */
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../../../platform/x86/intr.h"
#include "util.h"

#define MS CUB_NSEC_PER_MSEC

static uint64_t slept_at, woke_at;

/* Sleeps 30 ms across the measurements (the timer stays armed). */
static void *sleeper(void *arg)
{
	(void)arg;
	slept_at = cub_time_now();
	cub_sleep(30 * MS);
	woke_at = cub_time_now();
	return NULL;
}

static uint64_t measure_tsc(uint64_t stall_ns)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t hz;

	cubi_x86_clock_test_stall_ticks = stall_ns * cubi_x86_tsc_hz() / CUB_NSEC_PER_SEC;
	hz = cubi_x86_clock_calibrate();
	cubi_x86_clock_test_stall_ticks = 0;
	cub_arch_irq_restore(irq);
	return hz;
}

/* Within pct% of the reference. */
static bool within(uint64_t hz, uint64_t ref, unsigned pct)
{
	uint64_t d = hz > ref ? hz - ref : ref - hz;

	return d * 100 <= ref * pct;
}

static void tsc_rate(void)
{
	uint64_t boot = cubi_x86_tsc_hz(), ref = measure_tsc(0);
	uint64_t s5 = measure_tsc(5 * MS), s20 = measure_tsc(20 * MS);

	cub_printk("tsc: boot %llu Hz, again %llu Hz, 5 ms stalls %llu Hz, "
		   "20 ms stalls %llu Hz\n", (unsigned long long)boot,
		   (unsigned long long)ref, (unsigned long long)s5,
		   (unsigned long long)s20);
	CHECK(within(boot, ref, 1));
	CHECK(within(s5, ref, 1));
	CHECK(within(s20, ref, 1));
}

static uint64_t measure(uint64_t stall_ns)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t hz;

	cubi_x86_timer_test_stall_ns = stall_ns;
	hz = cubi_x86_timer_calibrate();
	cubi_x86_timer_test_stall_ns = 0;
	cub_arch_irq_restore(irq);
	return hz;
}

int cub_main(void)
{
	uint64_t boot = cubi_x86_timer_apic_hz(), ref, s5, s20;
	struct cub_coro *c;

	tsc_rate();
	CHECK(!cub_strcmp(cubi_x86_timer_mode(), "local APIC, one-shot"));
	CHECK_EQ(cub_coro_spawn(&c, sleeper, NULL, NULL), 0);
	cub_coro_yield();	/* the sleeper arms the timer */
	ref = measure(0);
	s5 = measure(5 * MS);
	s20 = measure(20 * MS);
	cub_printk("calibrate: boot %llu Hz, again %llu Hz, 5 ms stalls "
		   "%llu Hz, 20 ms stalls %llu Hz\n", (unsigned long long)boot,
		   (unsigned long long)ref, (unsigned long long)s5,
		   (unsigned long long)s20);
	CHECK(within(boot, ref, 2));
	CHECK(within(s5, ref, 2));
	CHECK(within(s20, ref, 2));
	cub_coro_join(c, NULL);
	CHECK(woke_at - slept_at >= 30 * MS);
	cub_printk("irq calibrate: ok\n");
	return 0;
}
