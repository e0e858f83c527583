/*
 * coro.c - switching between coroutines: the run queue, yield, parking
 * and readying (park.h), preemption's switch and the thread pointer.
 * life.c has spawn, the end of a coroutine, join and cub_sched_run;
 * switch.h the inline switch paths both use.
 *
 * Invariants (with those of struct cub_coro in sched_impl.h):
 *  - exactly one coroutine is RUNNING while the scheduler runs (cur), and
 *    every switch happens with interrupts disabled: whoever resumes
 *    restores its own interrupt state (see park.h);
 *  - cur switches directly to the next ready coroutine, never through a
 *    scheduler context;
 *  - the run queue is FIFO: ready() appends, the scheduler pops the head.
 * Critical sections: interrupts disabled, protecting cubi_sched and every
 * coroutine record (sched_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

#include "sched_hooks.h"
#include "../irq/irq_chip.h"
#include "switch.h"

struct cubi_sched cubi_sched = {
	.runq = CUB_LIST_INIT(cubi_sched.runq),
	.all = CUB_LIST_INIT(cubi_sched.all),
};

/* ------------------------------------------------------------ switching */

/* A coroutine suspended in cub_coro_yield's fast path resumes here (see
 * cub_arch_ctx_switch_then): it entered with interrupts on. */
static int yield_resumed(void)
{
	cubi_after_switch();
	cub_arch_irq_enable();
	return 0;
}

/*
 * Prefetches what a wake-up of the coroutine whose record is at rec, on
 * top of its stack (record.c), touches: the record's first four lines
 * (registers, run-queue link and state, park fields, the park area) and
 * the 256 bytes below it, where the frames it resumes through lie (W6's
 * whisperer parks about 200 bytes below its top). cubi_resume_stride
 * predicted it; a prefetch never faults, so a wrong guess costs only
 * the lines.
 */
static inline void prefetch_record(uintptr_t rec)
{
	const char *p = (const char *)rec;

	__builtin_prefetch(p - 256);
	__builtin_prefetch(p - 192);
	__builtin_prefetch(p - 128);
	__builtin_prefetch(p - 64);
	__builtin_prefetch(p);
	__builtin_prefetch(p + 64);
	__builtin_prefetch(p + 128);
	__builtin_prefetch(p + 192);
}

/*
 * A coroutine parked by cubi_sched_park_tail resumes here. It also
 * prefetches the top 128 bytes of its stack (three prefetches: with the
 * top only 16-byte aligned, those bytes can touch three lines): the
 * frames a coroutine's end returns through (coro_entry's, the saved
 * registers and return address of the function it runs) sit there,
 * untouched since it started, and the end comes after some wake-up. A
 * coroutine that ends after a long wait would otherwise take DRAM misses
 * on its way out: W6's last pass, where 100,000 whisperers end, took 190
 * ns a hop with none, 70-80 with the top 64 bytes prefetched and, where
 * the whisperer's saved registers sat below those 64 bytes (the top's
 * alignment moves with the heap's layout), 130-140; 60-65 with 128
 * (docs/scheduler.md). The address comes from the record line this path
 * reads anyway (on_resume). A coroutine whose record sits on its stack
 * (a small one, record.c) then prefetches the one that resume-order
 * stride prediction expects a few wake-ups later. The others skip the
 * prediction: their records and stacks are apart, so what to prefetch
 * is not known from the record's address, and a ping-pong (W3) would
 * pay its instructions at every switch for nothing.
 */
static int park_tail_resumed(void)
{
	struct cub_coro *c = cubi_sched.cur;
	const char *top;
	intptr_t ahead;
	int r;

	cubi_after_switch();
	top = (const char *)c->stack.lo + c->stack.size;
	__builtin_prefetch(top - 128);
	__builtin_prefetch(top - 64);
	__builtin_prefetch(top - 1);
	if (top == (const char *)c &&
	    (ahead = cubi_resume_stride(&cubi_sched, c)) != 0)
		prefetch_record((uintptr_t)c + (uintptr_t)ahead);
	c->wait = NULL;
	r = c->on_resume(c);
	cub_arch_irq_restore(c->park_irq);
	return r;
}

/* switch.h: the run queue is empty. Idle time belongs to no coroutine:
 * a hooked one that parked stops being charged before the wait (and is
 * charged again if it is the one that resumes, without a switch). */
struct cub_coro *cubi_sched_take_idle(void)
{
	struct cub_coro *cur = cubi_sched.cur, *next;
	bool hooked = cur && cur->hooked;
	struct cub_list *n;

	if (hooked)
		cubi_sched_call_hook(NULL);
	while (!(n = cub_list_pop_front(&cubi_sched.runq))) {
		if (cubi_sched.live == 0)
			return NULL;
		if (!cubi_timer_any() && cubi_sched.irq_waiters == 0 &&
		    !cubi_irq_can_wake())
			cubi_sched_deadlock();
		cubi_coro_release_pending();	/* idle memory goes back */
		cubi_sched.idling = true;
		cub_arch_idle();
		cubi_sched.idling = false;
	}
	next = cub_container_of(n, struct cub_coro, link);
	if (hooked && next == cur)
		cubi_sched_call_hook(cur);
	return next;
}

/*
 * Gives the CPU to the next ready coroutine; cur's state is already set
 * (READY and queued, PARKED or DONE). Interrupts disabled. Always
 * inlined, like everything on the switch paths (switch.h says why).
 */
static CUBI_ALWAYS_INLINE void schedule(void)
{
	struct cub_coro *prev = cubi_sched.cur;
	struct cub_coro *next = cubi_take_next();

	if (CUB_UNLIKELY(!next))
		cubi_sched_to_boot(prev);
	if (next == prev) {
		prev->state = CUB_CORO_RUNNING;
		return;
	}
	cubi_switch_to(prev, next);
}

/* Yield with interrupts disabled on entry (or outside a coroutine). */
static CUBI_NOINLINE void yield_irq_off(unsigned long irq)
{
	struct cub_coro *prev = cubi_sched.cur;
	struct cub_list *n;

	cubi_sched_assert_can_block("cub_coro_yield");
	n = cub_list_pop_front(&cubi_sched.runq);
	if (n) {
		prev->state = CUB_CORO_READY;
		cub_list_push_back(&cubi_sched.runq, &prev->link);
		cubi_switch_to(prev, cub_container_of(n, struct cub_coro, link));
	}
	cub_arch_irq_restore(irq);
}

/* Contexts: task. */
void cub_coro_yield(void)
{
	struct cub_coro *prev = cubi_sched.cur, *next;
	struct cub_list *n;
	unsigned long irq;

	irq = cub_arch_irq_save();
	/* Interrupts were on, so this is no interrupt handler: the checks
	 * cost a call only on the unusual path, and the fast path knows
	 * the state to restore (nothing to keep across the switch). */
	if (CUB_UNLIKELY(!irq || !prev)) {
		yield_irq_off(irq);
		return;
	}
	n = cub_list_pop_front(&cubi_sched.runq);
	if (!n) {
		cub_arch_irq_enable();
		return;
	}
	prev->state = CUB_CORO_READY;
	cub_list_push_back(&cubi_sched.runq, &prev->link);
	next = cub_container_of(n, struct cub_coro, link);
	cubi_switch_prepare(prev, next);
	cub_arch_ctx_switch_then(&prev->ctx, &next->ctx, yield_resumed);
}

/* Contexts: task, boot (sets what coroutines spawned at boot inherit). */
void cubi_sched_set_tls(uint64_t base)
{
	unsigned long irq;

	if (cub_arch_in_irq())
		cub_panic("cubi_sched_set_tls: called from interrupt context");
	irq = cub_arch_irq_save();
	if (cubi_sched.cur)
		cubi_sched.cur->tls = base;
	else
		cubi_sched.boot_tls = base;
	cubi_sched.loaded_tls = base;
	cub_arch_set_tls(base);
	cub_arch_irq_restore(irq);
}

/* Preemption (irq-exit hook), interrupts disabled: like a yield. */
void cubi_sched_preempt_switch(void)
{
	struct cub_coro *prev = cubi_sched.cur;
	struct cub_list *n;

	if (!prev || prev->state != CUB_CORO_RUNNING || cubi_sched.idling)
		return;
	n = cub_list_pop_front(&cubi_sched.runq);
	if (!n)
		return;
	prev->state = CUB_CORO_READY;
	cub_list_push_back(&cubi_sched.runq, &prev->link);
	cubi_switch_to(prev, cub_container_of(n, struct cub_coro, link));
}

/* ------------------------------------------------------------- park.h */

void cubi_sched_assert_can_block(const char *api)
{
	if (CUB_UNLIKELY(cub_arch_in_irq()))
		cub_panic("%s: blocking call from interrupt context", api);
	if (CUB_UNLIKELY(!cubi_sched.cur))
		cub_panic("%s: called outside a coroutine", api);
}

/* Contexts: task; interrupts disabled. Inlined into its callers (also
 * across files with link-time optimisation): see schedule(). */
CUBI_ALWAYS_INLINE void cubi_sched_park(const char *what)
{
	struct cub_coro *c = cubi_sched.cur;

	cubi_sched_assert_can_block(what);
	c->wait = what;
	if (c->state == CUB_CORO_RUNNING)
		c->state = CUB_CORO_PARKED;
	schedule();
	c->wait = NULL;
}

/* cubi_sched_park_tail when the run queue was empty (next NULL: idle
 * until a coroutine is ready) or held prev itself. Out of line, so that
 * the common path makes no call and needs no frame. */
static CUBI_NOINLINE int park_tail_rare(struct cub_coro *prev,
					struct cub_coro *next, unsigned long irq,
					cubi_resume_fn on_resume)
{
	int r;

	if (!next && !(next = cubi_sched_take_idle()))
		cubi_sched_to_boot(prev);
	if (next != prev) {
		cubi_switch_prepare(prev, next);
		return cub_arch_ctx_switch_then(&prev->ctx, &next->ctx,
						park_tail_resumed);
	}
	prev->state = CUB_CORO_RUNNING;
	prev->wait = NULL;
	r = on_resume(prev);
	cub_arch_irq_restore(irq);
	return r;
}

/* Contexts: task; interrupts disabled (restored to irq on return). */
int cubi_sched_park_tail_checked(const char *what, unsigned long irq,
				 cubi_resume_fn on_resume)
{
	struct cub_coro *prev = cubi_sched.cur, *next;
	struct cub_list *n;

	prev->wait = what;
	prev->on_resume = on_resume;
	prev->park_irq = irq;
	if (prev->state == CUB_CORO_RUNNING)
		prev->state = CUB_CORO_PARKED;
	n = cub_list_pop_front(&cubi_sched.runq);
	next = n ? cub_container_of(n, struct cub_coro, link) : NULL;
	if (CUB_UNLIKELY(next == NULL || next == prev))
		return park_tail_rare(prev, next, irq, on_resume);
	cubi_switch_prepare(prev, next);
	return cub_arch_ctx_switch_then(&prev->ctx, &next->ctx,
					park_tail_resumed);
}

/* Contexts: task; interrupts disabled. */
void cubi_sched_park_irq(const char *what)
{
	struct cub_coro *c = cubi_sched.cur;

	cubi_sched.irq_waiters++;
	c->irq_wait = true;
	cubi_sched_park(what);
	c->irq_wait = false;
	cubi_sched.irq_waiters--;
}

/* switch.h: cubi_sched_ready's check failed. A coroutine readied twice
 * still has the wait it was first readied from (park clears it only
 * when it runs): the report names it, the usual clue to whose wake-up
 * was the extra one. Contexts: any. */
CUB_NORETURN void cubi_sched_ready_bad(struct cub_coro *c)
{
	cub_panic("cubi_sched_ready: coroutine %s is %s, not parked (its "
		  "wait: %s)", cub_coro_name(c), cub_coro_state_name(c->state),
		  c->wait ? c->wait : "none");
}

/* Contexts: any; interrupts disabled. */
void cubi_sched_ready_irqoff(struct cub_coro *c)
{
	cubi_ready_locked(c);
}

/* Contexts: any. */
void cubi_sched_ready(struct cub_coro *c)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_ready_locked(c);
	cub_arch_irq_restore(irq);
}
