/*
 * park.h - the fixed interface between the scheduler and every blocking
 * primitive built on it (channels, select, sync, irq waiters, the shim).
 *
 * Critical sections: cubrt runs on one CPU; shared scheduler and waiter
 * state is protected by disabling interrupts (cub_arch_irq_save/restore),
 * because interrupt handlers may wake coroutines. A primitive that blocks:
 *
 *	unsigned long s = cub_arch_irq_save();
 *	... link a waiter record (on this coroutine's stack) into the object ...
 *	cubi_sched_park("chan receive");   // returns once readied
 *	... the waker has filled in the record ...
 *	cub_arch_irq_restore(s);
 *
 * and the waker, inside its own critical section, unlinks the record and
 * calls cubi_sched_ready(record->coro). No allocation on these paths.
 */
#ifndef CUBRT_SCHED_PARK_H
#define CUBRT_SCHED_PARK_H

#include <cubrt/base.h>

struct cub_coro;

/*
 * Blocks the running coroutine until cubi_sched_ready() names it. `what`
 * (a string constant) describes the wait in deadlock reports and `ps`.
 * Contexts: task only (panics naming the caller's API from irq context).
 * Precondition: interrupts disabled; they are disabled again on return.
 */
void cubi_sched_park(const char *what);

/*
 * Like cubi_sched_park, for a wait that only an interrupt can end (a
 * device event): while such a coroutine is parked, an otherwise idle
 * system halts until the next interrupt instead of reporting a deadlock.
 * Contexts and preconditions as cubi_sched_park.
 */
void cubi_sched_park_irq(const char *what);

/*
 * Makes c runnable at the tail of the run queue (FIFO). Contexts: any,
 * irq included. Precondition: c is parked, or is the running coroutine
 * inside the critical section that will park it.
 */
void cubi_sched_ready(struct cub_coro *c);

/* Panics with "<api>: blocking call from interrupt context" in irq context. */
void cubi_sched_assert_can_block(const char *api);

#endif
