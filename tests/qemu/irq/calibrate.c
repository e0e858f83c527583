/*
 * calibrate.c - the one-shot local APIC timer's rate (platform/x86/
 * timer.c) survives a stalled read of its count. The rate is measured
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

/* Within 2% of the reference. */
static bool agrees(uint64_t hz, uint64_t ref)
{
	uint64_t d = hz > ref ? hz - ref : ref - hz;

	return d * 50 <= ref;
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
	CHECK(agrees(boot, ref));
	CHECK(agrees(s5, ref));
	CHECK(agrees(s20, ref));
	cub_coro_join(c, NULL);
	CHECK(woke_at - slept_at >= 30 * MS);
	cub_printk("irq calibrate: ok\n");
	return 0;
}
