/*
 * warp_clock.h - a virtual clock for a host model test whose waits are
 * long (retransmission timeouts of seconds) but whose work is short.
 *
 * The program is linked with
 *   -Wl,--wrap=cub_arch_clock_ns -Wl,--wrap=cub_arch_timer_arm
 *   -Wl,--wrap=cub_arch_idle
 * so that the runtime's calls to those three (src/sched) come here. The
 * clock it then sees is the host's monotonic clock plus warp_offset; the
 * offset grows only when the scheduler idles (every coroutine blocked)
 * with a timer armed: it jumps to that deadline, the host timer is armed
 * in the past, and the idle returns at once with the timer's interrupt.
 * Time still passes while coroutines run, so events keep their order
 * and a computation's own duration counts as on a fast machine; only the
 * idle waits cost no real time. Nothing armed: the idle waits for a real
 * interrupt, as it would without this (a deadlock stays one).
 *
 * Invariants: warp_offset only grows (the clock stays monotonic) and
 * changes only in idle (task context, interrupts disabled), so an
 * interrupt handler reading the clock sees it before or after a jump,
 * never half of one; warp_armed is the virtual deadline last armed (0:
 * none), written with interrupts disabled (cub_arch_timer_arm's rule).
 * Does not work with link-time optimisation (--wrap is applied before
 * LTO's code generation by some linkers): warp_in_effect() tells, and
 * model_tftp then skips (build/bench; the test builds have no LTO).
 */
#ifndef WARP_CLOCK_H
#define WARP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <cubrt/arch.h>
#include <cubrt/time.h>

static volatile uint64_t warp_offset;
static uint64_t warp_armed;
static uint64_t warp_jumps;		/* idles that jumped the clock */
static volatile bool warp_linked;	/* the runtime's clock reads come here */

uint64_t __real_cub_arch_clock_ns(void);
void __real_cub_arch_timer_arm(uint64_t deadline_ns);
void __real_cub_arch_idle(void);
uint64_t __wrap_cub_arch_clock_ns(void);
void __wrap_cub_arch_timer_arm(uint64_t deadline_ns);
void __wrap_cub_arch_idle(void);

uint64_t __wrap_cub_arch_clock_ns(void)
{
	warp_linked = true;
	return __real_cub_arch_clock_ns() + warp_offset;
}

/* True when the runtime's clock is this one: with link-time optimisation
 * (build/bench) --wrap may not apply, and every retransmission timeout
 * would cost real time. */
static inline bool warp_in_effect(void)
{
	(void)cub_time_now();
	return warp_linked;
}

/* Arms the host timer for virtual deadline d (0: disarm); one already
 * due is armed 1 ns after the host clock's start: it fires at once. */
static void warp_arm_host(uint64_t d)
{
	uint64_t off = warp_offset;

	__real_cub_arch_timer_arm(d == 0 ? 0 : d > off + 1 ? d - off : 1);
}

void __wrap_cub_arch_timer_arm(uint64_t deadline_ns)
{
	warp_armed = deadline_ns;
	warp_arm_host(deadline_ns);
}

void __wrap_cub_arch_idle(void)
{
	uint64_t now = __wrap_cub_arch_clock_ns();

	if (warp_armed > now) {
		warp_offset += warp_armed - now;
		warp_jumps++;
		warp_arm_host(warp_armed);
	}
	__real_cub_arch_idle();
}

#endif
