/*
 * coro.c - coroutines and the run queue.
 *
 * Invariants (with those of struct cub_coro in sched_impl.h):
 *  - exactly one coroutine is RUNNING while the scheduler runs (cur), and
 *    every switch happens with interrupts disabled: whoever resumes
 *    restores its own interrupt state (see park.h);
 *  - cur switches directly to the next ready coroutine, never through a
 *    scheduler context; a coroutine that ends cannot free the stack it is
 *    running on, so it leaves itself in `reap` and the coroutine it
 *    switches to frees it right after the switch (after_switch);
 *  - the run queue is FIFO: ready() appends, the scheduler pops the head.
 * Critical sections: interrupts disabled, protecting cubi_sched, every
 * coroutine record and `reap` (sched_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "../core/fault.h"
#include "sched_hooks.h"
#include "../irq/irq_chip.h"
#include "sched_impl.h"

/* Switch paths: see schedule(). */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE __attribute__((noinline))

struct cubi_sched cubi_sched = {
	.runq = CUB_LIST_INIT(cubi_sched.runq),
	.all = CUB_LIST_INIT(cubi_sched.all),
};

static struct cub_arch_ctx boot_ctx;	/* cub_sched_run's caller */
static struct cub_coro *reap;		/* ended, to free after the switch */
static uint64_t next_id = 1;
static uint64_t loaded_tls;		/* last given to cub_arch_set_tls */
static uint64_t boot_tls;		/* inherited by spawns at boot */
static bool running, initialised;

/* Runs on the coroutine we just switched to, interrupts disabled. */
static inline void after_switch(void)
{
	if (CUB_UNLIKELY(reap != NULL)) {
		struct cub_coro *c = reap;

		reap = NULL;
		cubi_coro_release(c);
	}
}

/* ------------------------------------------------------------ switching */

/* Everything a switch from prev to next does before the register switch. */
static ALWAYS_INLINE void switch_prepare(struct cub_coro *prev,
					 struct cub_coro *next)
{
	cubi_coro_check_canary(prev);
	next->state = CUB_CORO_RUNNING;
	cubi_sched.cur = next;
	cubi_sched.switches++;
	if (CUB_UNLIKELY(next->tls != loaded_tls)) {
		loaded_tls = next->tls;
		cub_arch_set_tls(next->tls);
	}
}

static ALWAYS_INLINE void switch_to(struct cub_coro *prev,
					struct cub_coro *next)
{
	switch_prepare(prev, next);
	cub_arch_ctx_switch(&prev->ctx, &next->ctx);
	after_switch();
}

/* A coroutine suspended in cub_coro_yield's fast path resumes here (see
 * cub_arch_ctx_switch_then): it entered with interrupts on. */
static int yield_resumed(void)
{
	after_switch();
	cub_arch_irq_enable();
	return 0;
}

/* A coroutine parked by cubi_sched_park_tail resumes here. */
static int park_tail_resumed(void)
{
	struct cub_coro *c = cubi_sched.cur;
	int r;

	after_switch();
	c->wait = NULL;
	r = c->on_resume(c);
	cub_arch_irq_restore(c->park_irq);
	return r;
}

/*
 * The run queue is empty: idles until an interrupt readies a coroutine
 * and pops it. Returns NULL when no coroutine is left at all. Interrupts
 * disabled.
 */
static NOINLINE struct cub_coro *take_next_idle(void)
{
	struct cub_list *n;

	while (!(n = cub_list_pop_front(&cubi_sched.runq))) {
		if (cubi_sched.live == 0)
			return NULL;
		if (!cubi_timer_any() && cubi_sched.irq_waiters == 0 &&
		    !cubi_irq_can_wake())
			cubi_sched_deadlock();
		cubi_sched.idling = true;
		cub_arch_idle();
		cubi_sched.idling = false;
	}
	return cub_container_of(n, struct cub_coro, link);
}

/* Pops the next ready coroutine, idling while there is none; NULL when
 * no coroutine is left at all. Interrupts disabled. */
static inline struct cub_coro *take_next(void)
{
	struct cub_list *n = cub_list_pop_front(&cubi_sched.runq);

	if (CUB_UNLIKELY(!n))
		return take_next_idle();
	return cub_container_of(n, struct cub_coro, link);
}

/* The last coroutine ended: back to cub_sched_run's caller. */
static NOINLINE CUB_NORETURN void switch_to_boot(struct cub_coro *prev)
{
	cubi_coro_check_canary(prev);
	cubi_sched.cur = NULL;
	cub_arch_ctx_switch(&prev->ctx, &boot_ctx);
	cub_panic("schedule: a finished coroutine was resumed");
}

/*
 * Gives the CPU to the next ready coroutine; cur's state is already set
 * (READY and queued, PARKED or DONE). Interrupts disabled.
 *
 * Always inlined, like switch_to and cubi_sched_park: a switch resumes
 * the other coroutine with a jump, so the call into cub_arch_ctx_switch
 * leaves one return-stack-buffer entry behind and every `ret` the resumed
 * coroutine then executes on its way back to its caller is predicted from
 * the wrong stack. Each call level between the blocking API and the
 * switch costs one such misprediction per switch.
 */
static ALWAYS_INLINE void schedule(void)
{
	struct cub_coro *prev = cubi_sched.cur;
	struct cub_coro *next = take_next();

	if (CUB_UNLIKELY(!next))
		switch_to_boot(prev);
	if (next == prev) {
		prev->state = CUB_CORO_RUNNING;
		return;
	}
	switch_to(prev, next);
}

/* ----------------------------------------------------------- lifecycle */

static CUB_NORETURN void finish(void *result);
static inline void ready_locked(struct cub_coro *c);
static inline struct cub_coro *ready_direct(struct cub_coro *c);

static void coro_entry(void *p)
{
	struct cub_coro *c = p;

	after_switch();
	cub_arch_irq_enable();
	finish(c->fn(c->arg));
}

static int check_attr(const struct cub_coro_attr *a, size_t *size, bool *small)
{
	*small = a && (a->flags & CUB_CORO_SMALL);
	*size = *small ? CUB_CORO_STACK_SMALL : CUB_CORO_STACK_DEFAULT;
	if (!a)
		return 0;
	if (a->flags & ~CUB_CORO_SMALL)
		return -CUB_EINVAL;
	if (a->stack_size) {
		if (a->stack_size < CUB_CORO_STACK_MIN ||
		    a->stack_size > CUB_STACK_MAX)
			return -CUB_EINVAL;
		*size = a->stack_size;
	}
	return 0;
}

/* Fills in a record for a new coroutine and queues it. Interrupts
 * disabled. */
static ALWAYS_INLINE void spawn_locked(struct cub_coro *c, cub_coro_fn fn,
				       void *arg, bool joinable,
				       const char *name, bool small)
{
	c->fn = fn;
	c->arg = arg;
	c->result = NULL;
	c->wait = NULL;
	c->joiner = NULL;
	c->tls = cubi_sched.cur ? cubi_sched.cur->tls : boot_tls;
	c->state = CUB_CORO_READY;
	c->joinable = joinable;
	c->small = small;
	c->irq_wait = false;
	c->name = name;
	c->namebuf[0] = '\0';
	if (CUB_UNLIKELY(c->stack_name != name)) {
		/* Unnamed: overflow reports still name the coroutine through
		 * the fault hook's current_name. */
		c->stack_name = name;
		cub_stack_set_name(&c->stack, name);
	}
	c->id = next_id++;
	cub_arch_ctx_init(&c->ctx, c->stack.lo, c->stack.size, coro_entry, c);
	cub_list_push_back(&cubi_sched.all, &c->all);
	cub_list_push_back(&cubi_sched.runq, &c->link);
	cubi_sched.live++;
	if (running)
		cubi_preempt_kick();
}

/* cub_coro_spawn in general: any attributes, allocating when the record
 * cache has nothing of the class. */
static NOINLINE int spawn_slow(struct cub_coro **out, cub_coro_fn fn,
			       void *arg, const struct cub_coro_attr *attr)
{
	struct cub_coro *c;
	unsigned long irq;
	size_t size;
	bool small;
	int rc;

	if (!fn)
		return -CUB_EINVAL;
	if ((rc = check_attr(attr, &size, &small)))
		return rc;
	if (!initialised)
		cubi_mem_init();
	/* One critical section from the record cache to the run queue; only
	 * a cache miss leaves it to call the allocators. */
	irq = cub_arch_irq_save();
	if (CUB_UNLIKELY(!(c = cubi_coro_cached_record(size, small)))) {
		cub_arch_irq_restore(irq);
		if (!(c = cubi_coro_alloc_record(size, small)))
			return -CUB_ENOMEM;
		irq = cub_arch_irq_save();
	}
	spawn_locked(c, fn, arg, out != NULL, attr ? attr->name : NULL, small);
	if (out)
		*out = c;
	cub_arch_irq_restore(irq);
	return 0;
}

/*
 * Contexts: task, boot. The common spawn (no attributes, a cached record)
 * stays in this function, which then saves no callee-saved registers:
 * nothing is live across its only call (the rare pending-interrupt check
 * in cub_arch_irq_restore), as *out is stored before it.
 */
int cub_coro_spawn(struct cub_coro **out, cub_coro_fn fn, void *arg,
		   const struct cub_coro_attr *attr)
{
	struct cub_coro *c;
	unsigned long irq;

	if (CUB_UNLIKELY(attr || !fn || !initialised))
		return spawn_slow(out, fn, arg, attr);
	irq = cub_arch_irq_save();
	c = cubi_coro_cached_record(CUB_CORO_STACK_DEFAULT, false);
	if (CUB_UNLIKELY(!c)) {
		cub_arch_irq_restore(irq);
		return spawn_slow(out, fn, arg, attr);
	}
	spawn_locked(c, fn, arg, out != NULL, NULL, false);
	if (out)
		*out = c;
	cub_arch_irq_restore(irq);
	return 0;
}

static CUB_NORETURN void finish(void *result)
{
	struct cub_coro *c = cubi_sched.cur, *next;

	cub_arch_irq_disable();
	c->result = result;
	c->state = CUB_CORO_DONE;
	cubi_sched.live--;
	if (!c->joinable)
		reap = c;
	/* Like schedule(), but nothing of c needs saving. A joiner that
	 * would be readied into an empty run queue is popped right back:
	 * hand it the CPU directly (the order is the same). */
	if (c->joiner && cub_list_empty(&cubi_sched.runq)) {
		next = ready_direct(c->joiner);
	} else {
		if (c->joiner)
			ready_locked(c->joiner);
		next = take_next();
	}
	if (CUB_UNLIKELY(!next))
		switch_to_boot(c);
	switch_prepare(c, next);
	cub_arch_ctx_jump(&next->ctx);
}

/* Contexts: task. */
CUB_NORETURN void cub_coro_exit(void *result)
{
	cubi_sched_assert_can_block("cub_coro_exit");
	finish(result);
}

/* Yield with interrupts disabled on entry (or outside a coroutine). */
static NOINLINE void yield_irq_off(unsigned long irq)
{
	struct cub_coro *prev = cubi_sched.cur;
	struct cub_list *n;

	cubi_sched_assert_can_block("cub_coro_yield");
	n = cub_list_pop_front(&cubi_sched.runq);
	if (n) {
		prev->state = CUB_CORO_READY;
		cub_list_push_back(&cubi_sched.runq, &prev->link);
		switch_to(prev, cub_container_of(n, struct cub_coro, link));
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
	switch_prepare(prev, next);
	cub_arch_ctx_switch_then(&prev->ctx, &next->ctx, yield_resumed);
}

/* A join parks by tail call (park.h); its arguments wait in the park area. */
struct join_park {
	struct cub_coro *target;
	void **result;
};

_Static_assert(sizeof(struct join_park) <= CUBI_PARK_AREA, "park area");

static int join_resumed(struct cub_coro *self)
{
	struct join_park *p = (void *)self->park_area;

	if (p->result)
		*p->result = p->target->result;
	cubi_coro_release(p->target);
	return 0;
}

/* Contexts: task. */
int cub_coro_join(struct cub_coro *c, void **result)
{
	unsigned long irq;

	cubi_sched_assert_can_block("cub_coro_join");
	if (!c || !c->joinable)
		return -CUB_EINVAL;
	if (c == cubi_sched.cur)
		return -CUB_EDEADLK;
	irq = cub_arch_irq_save();
	if (c->joiner) {
		cub_arch_irq_restore(irq);
		return -CUB_EINVAL;
	}
	if (c->state != CUB_CORO_DONE) {
		struct join_park *p = (void *)cubi_sched.cur->park_area;

		p->target = c;
		p->result = result;
		c->joiner = cubi_sched.cur;
		return cubi_sched_park_tail("join", irq, join_resumed);
	}
	if (result)
		*result = c->result;
	cubi_coro_release(c);
	cub_arch_irq_restore(irq);
	return 0;
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
		boot_tls = base;
	loaded_tls = base;
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
	switch_to(prev, cub_container_of(n, struct cub_coro, link));
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
ALWAYS_INLINE void cubi_sched_park(const char *what)
{
	struct cub_coro *c = cubi_sched.cur;

	cubi_sched_assert_can_block(what);
	c->wait = what;
	if (c->state == CUB_CORO_RUNNING)
		c->state = CUB_CORO_PARKED;
	schedule();
	c->wait = NULL;
}

/* Contexts: task; interrupts disabled (restored to irq on return). */
int cubi_sched_park_tail(const char *what, unsigned long irq,
			 cubi_resume_fn on_resume)
{
	struct cub_coro *prev = cubi_sched.cur, *next;

	cubi_sched_assert_can_block(what);
	prev->wait = what;
	prev->on_resume = on_resume;
	prev->park_irq = irq;
	if (prev->state == CUB_CORO_RUNNING)
		prev->state = CUB_CORO_PARKED;
	next = take_next();
	if (CUB_UNLIKELY(!next))
		switch_to_boot(prev);
	if (CUB_UNLIKELY(next == prev)) {
		int r;

		prev->state = CUB_CORO_RUNNING;
		prev->wait = NULL;
		r = on_resume(prev);
		cub_arch_irq_restore(irq);
		return r;
	}
	switch_prepare(prev, next);
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

/* Contexts: any. */
static NOINLINE CUB_NORETURN void ready_bad(struct cub_coro *c)
{
	cub_panic("cubi_sched_ready: coroutine %s is %s, not parked",
		  cub_coro_name(c), cub_coro_state_name(c->state));
}

/* cubi_sched_ready's body, for callers with interrupts disabled. */
static inline void ready_locked(struct cub_coro *c)
{
	if (CUB_UNLIKELY(c->state != CUB_CORO_PARKED &&
			 c->state != CUB_CORO_RUNNING))
		ready_bad(c);
	c->state = CUB_CORO_READY;
	cub_list_push_back(&cubi_sched.runq, &c->link);
	cubi_preempt_kick();
}

/* ready_locked followed by taking c off the (otherwise empty) run queue:
 * only the state check remains. Interrupts disabled. */
static inline struct cub_coro *ready_direct(struct cub_coro *c)
{
	if (CUB_UNLIKELY(c->state != CUB_CORO_PARKED &&
			 c->state != CUB_CORO_RUNNING))
		ready_bad(c);
	return c;
}

void cubi_sched_ready(struct cub_coro *c)
{
	unsigned long irq = cub_arch_irq_save();

	ready_locked(c);
	cub_arch_irq_restore(irq);
}

/* ------------------------------------------------------------ running */

static const char *current_name(void)
{
	return cubi_sched.cur ? cub_coro_name(cubi_sched.cur) : NULL;
}

static void init_once(void)
{
	static const struct cubi_fault_hooks hooks = {
		.current_name = current_name,
	};

	if (initialised)
		return;
	cubi_mem_init();
	initialised = true;
	cubi_fault_set_hooks(&hooks);
	cubi_timer_setup();
	cubi_preempt_setup();
}

/* Contexts: boot. */
int cub_sched_run(cub_coro_fn fn, void *arg, void **result)
{
	struct cub_coro *first;
	unsigned long irq;
	int rc;

	if (!fn)
		return -CUB_EINVAL;
	if (running || cubi_sched.cur)
		return -CUB_EBUSY;
	init_once();
	if ((rc = cub_coro_spawn(&first, fn, arg, &(struct cub_coro_attr){
						 .name = "main" })))
		return rc;
	irq = cub_arch_irq_save();
	/* fn runs first, ahead of coroutines spawned at boot. */
	cub_list_del(&first->link);
	cub_list_push_front(&cubi_sched.runq, &first->link);
	running = true;
	cubi_sched.cur = cub_container_of(cub_list_pop_front(&cubi_sched.runq),
					  struct cub_coro, link);
	cubi_sched.cur->state = CUB_CORO_RUNNING;
	loaded_tls = cubi_sched.cur->tls;
	cub_arch_set_tls(loaded_tls);
	cub_arch_ctx_switch(&boot_ctx, &cubi_sched.cur->ctx);
	after_switch();
	running = false;
	loaded_tls = boot_tls;		/* the boot context's own */
	cub_arch_set_tls(boot_tls);
	if (result)
		*result = first->result;
	cubi_coro_release(first);
	cub_arch_irq_restore(irq);
	return 0;
}
