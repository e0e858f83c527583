/*
 * preempt.c - time slices (meson option 'preempt'; off by default).
 *
 * While coroutines wait in the run queue, a slice tick is kept armed on
 * the platform timer (timer.c arms min(timers, tick)). At each tick, if
 * the same coroutine has been running since the previous tick without a
 * single context switch, it has used up a whole slice: the tick marks a
 * preemption and the irq-exit hook, which runs on that coroutine's stack
 * once the interrupt handler is done, moves it to the tail of the run
 * queue and switches to the head, exactly like a yield.
 *
 * Why this is safe: cubrt's critical sections run with interrupts
 * disabled, and the irq-exit hook runs only when an interrupt was taken,
 * i.e. outside every critical section. A coroutine is never preempted
 * half-way through a scheduler, channel, heap or sync operation; what it
 * holds across the switch are sleeping locks (cub_mutex), which are fine
 * to hold while not running. The interrupted registers (SSE included) are
 * kept by the platform on the coroutine's stack and restored when the hook
 * returns (arch.h, cub_arch_set_irq_exit_hook).
 *
 * Invariants: tick_at != 0 <=> the tick is armed (slice_ns != 0 and the
 * run queue was non-empty when it was last looked at); tick_coro and
 * tick_switches record what ran when the tick was (re)armed. The run
 * queue is never non-empty with the tick unarmed while a coroutine runs:
 * every path that queues one kicks (cubi_ready_locked, spawn,
 * cub_sched_run's start), and a tick that finds coroutines queued
 * re-arms.
 * Critical sections: interrupts disabled, protecting all of the above.
 */
#include <cubrt/arch.h>

#include "sched_impl.h"

#ifdef CUBRT_PREEMPT
#define DEFAULT_SLICE_NS (10 * CUB_NSEC_PER_MSEC)
#else
#define DEFAULT_SLICE_NS 0
#endif

static uint64_t slice_ns = DEFAULT_SLICE_NS;
static uint64_t tick_at;
static struct cub_coro *tick_coro;
static uint64_t tick_switches;
static bool preempt_pending;
static uint64_t preemptions;

uint64_t cubi_preempt_deadline(void)
{
	return tick_at;
}

static void arm_tick(uint64_t now)
{
	tick_at = now + slice_ns;
	tick_coro = cubi_sched.cur;
	tick_switches = cubi_sched.switches;
}

void cubi_preempt_kick(void)
{
	if (CUB_LIKELY(!slice_ns) || tick_at || !cubi_sched.cur)
		return;
	arm_tick(cub_arch_clock_ns());
	cubi_timer_rearm();
}

/*
 * Contexts: irq (timer interrupt), interrupts disabled. The timers this
 * interrupt ran may have just readied coroutines (their kick saw the tick
 * still armed), also while the CPU idles: the tick is re-armed whenever
 * the run queue is not empty, idling or not, or the first of them to run
 * could keep the CPU from the others for good. Only a coroutine that ran
 * (not an idle CPU) is preempted.
 */
void cubi_preempt_tick(uint64_t now)
{
	tick_at = 0;
	/* Decided afresh at every tick: an exit the platform skipped (the
	 * host's, on a stack without room for it) leaves no preemption for
	 * whichever coroutine an interrupt finds next. */
	preempt_pending = false;
	if (!slice_ns || cub_list_empty(&cubi_sched.runq))
		return;
	if (!cubi_sched.idling && cubi_sched.cur &&
	    cubi_sched.cur == tick_coro && cubi_sched.switches == tick_switches)
		preempt_pending = true;
	arm_tick(now);
}

/* The irq-exit hook: task context on the interrupted coroutine's stack,
 * interrupts disabled. */
static void irq_exit(void)
{
	if (CUB_LIKELY(!preempt_pending))
		return;
	preempt_pending = false;
	preemptions++;
	cubi_sched_preempt_switch();
}

/* The hook is installed only while preemption is on: without it an
 * interrupt costs nothing extra on the way out (on the host, no detour
 * through the register-saving trampoline). */
void cubi_preempt_setup(void)
{
	cub_arch_set_irq_exit_hook(slice_ns ? irq_exit : NULL);
}

/*
 * Sets the time slice (0 turns preemption off); the 'preempt' build
 * option sets the default of 10 ms. Returns the previous slice.
 * Contexts: any.
 */
uint64_t cubi_preempt_set_slice(uint64_t ns)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t old = slice_ns;

	slice_ns = ns;
	tick_at = 0;
	preempt_pending = false;
	cub_arch_set_irq_exit_hook(ns ? irq_exit : NULL);
	cubi_timer_rearm();
	if (ns && !cub_list_empty(&cubi_sched.runq))
		cubi_preempt_kick();
	cub_arch_irq_restore(irq);
	return old;
}

/* How many times a coroutine was preempted (tests, ps). */
uint64_t cubi_preempt_count(void)
{
	return preemptions;
}
