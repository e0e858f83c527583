/*
 * event.c - cub_irq_event: an interrupt handler wakes one coroutine.
 *
 * Invariants (see struct cub_irq_event in cubrt/irq.h): waiter is non-NULL
 * only while that coroutine is parked in cub_irq_event_wait; pending is
 * consumed by exactly one return from cub_irq_event_wait.
 * Critical section: interrupts disabled around every access (the signaller
 * may be an interrupt handler).
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

#include "../sched/park.h"

/* Parks like cubi_sched_park, but counts as waiting for an interrupt, so
 * that the scheduler idles instead of reporting a deadlock
 * (src/sched/coro.c's cubi_sched_take_idle). */
void cubi_sched_park_irq(const char *what);

/* Contexts: any. */
void cub_irq_event_init(struct cub_irq_event *ev, const char *what)
{
	ev->waiter = NULL;
	ev->pending = false;
	ev->what = what ? what : "interrupt";
}

/* Contexts: task only. */
void cub_irq_event_wait(struct cub_irq_event *ev)
{
	unsigned long s;

	cubi_sched_assert_can_block("cub_irq_event_wait");
	s = cub_arch_irq_save();
	if (ev->waiter)
		cub_panic("cub_irq_event_wait: %s already has a waiter (%s)",
			  ev->what, cub_coro_name(ev->waiter));
	while (!ev->pending) {
		ev->waiter = cub_coro_self();
		cubi_sched_park_irq(ev->what);
	}
	ev->pending = false;
	cub_arch_irq_restore(s);
}

/* Contexts: any (irq included). */
void cub_irq_event_signal(struct cub_irq_event *ev)
{
	unsigned long s = cub_arch_irq_save();
	struct cub_coro *c = ev->waiter;

	ev->pending = true;
	if (c) {
		ev->waiter = NULL;
		cubi_sched_ready(c);
	}
	cub_arch_irq_restore(s);
}
