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
 * Parking by tail call, for a blocking call whose work after the wake-up
 * is a function of its coroutine alone:
 *
 *	irq = cub_arch_irq_save();
 *	... fast path: cub_arch_irq_restore(irq); return result; ...
 *	w = cubi_sched_waiter(cub_coro_self());  ... queue w on the object ...
 *	return cubi_sched_park_tail("chan receive", irq, recv_resumed);
 *
 * Once readied, the coroutine runs on_resume(self) on its own stack,
 * interrupts go back to `irq`, and on_resume's result is returned *to the
 * blocking call's caller by an indirect jump* (cub_arch_ctx_switch_then).
 * A resumed coroutine then executes no `ret` predicted from the other
 * coroutine's return addresses, which saves a branch misprediction per
 * switch. The price: the caller's frame is gone while it is parked, so
 * whatever the wait needs to keep (its waiter record, a select's shared
 * state and deadline timer) lives in the coroutine's park area; a select's
 * per-case records stay in the caller's case array. Contexts and
 * preconditions as cubi_sched_park.
 */
typedef int (*cubi_resume_fn)(struct cub_coro *self);

/* Panics with "<api>: blocking call from interrupt context" in irq context. */
void cubi_sched_assert_can_block(const char *api);

/* cubi_sched_park_tail for a caller that already passed
 * cubi_sched_assert_can_block (it had to before its park area). */
int cubi_sched_park_tail_checked(const char *what, unsigned long irq,
				 cubi_resume_fn on_resume);

static inline int cubi_sched_park_tail(const char *what, unsigned long irq,
				       cubi_resume_fn on_resume)
{
	cubi_sched_assert_can_block(what);
	return cubi_sched_park_tail_checked(what, irq, on_resume);
}

/*
 * The park area of c: CUBI_PARK_AREA bytes, 16-byte aligned, owned by the
 * one tail-parked wait c is in (or about to enter); each user checks with
 * _Static_assert that its record fits. Contexts: any.
 */
#define CUBI_PARK_AREA 112
void *cubi_sched_park_area(struct cub_coro *c);

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

/* cubi_sched_ready for a caller that has interrupts disabled already
 * (every waker inside a critical section): no second save and restore. */
void cubi_sched_ready_irqoff(struct cub_coro *c);

#endif
