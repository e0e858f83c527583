/*
 * life.c - a coroutine's life: spawn, the end (return or cub_coro_exit),
 * join, and cub_sched_run, which starts the scheduler and returns when
 * the last coroutine ended. coro.c has the switching, parking and the
 * run queue; switch.h the paths both use.
 *
 * Invariants (with those of coro.c and struct cub_coro, sched_impl.h):
 *  - a spawned coroutine is READY on the run queue and on sched.all,
 *    and counts in sched.live until it ends;
 *  - an ended coroutine runs no more: it switches away by
 *    cub_arch_ctx_jump (nothing of it saved) and leaves itself in
 *    sched.reap unless it is joinable, so the coroutine it switched to
 *    frees its record and stack (it cannot free the stack it runs on);
 *    a joinable one stays DONE until cub_coro_join releases it;
 *  - at most one coroutine joins another (joiner).
 * Critical sections: interrupts disabled, protecting cubi_sched and
 * every record (sched_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

#include "../core/fault.h"
#include "switch.h"

static struct cub_arch_ctx boot_ctx;	/* cub_sched_run's caller */
static uint64_t next_id = 1;
static bool running, initialised;

/* The last coroutine ended: back to cub_sched_run's caller. */
CUB_NORETURN void cubi_sched_to_boot(struct cub_coro *prev)
{
	if (prev->hooked)
		cubi_sched_call_hook(NULL);
	cubi_coro_check_canary(prev);
	cubi_sched.cur = NULL;
	cub_arch_ctx_switch(&prev->ctx, &boot_ctx);
	cub_panic("schedule: a finished coroutine was resumed");
}

/* ---------------------------------------------------------------- spawn */

static CUB_NORETURN void finish(void *result);

static void coro_entry(void *p)
{
	struct cub_coro *c = p;

	cubi_after_switch();
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
static CUBI_ALWAYS_INLINE void spawn_locked(struct cub_coro *c, cub_coro_fn fn,
					    void *arg, bool joinable,
					    const char *name, bool small)
{
	c->fn = fn;
	c->arg = arg;
	c->result = NULL;
	c->wait = NULL;
	c->joiner = NULL;
	c->tls = cubi_sched.cur ? cubi_sched.cur->tls : cubi_sched.boot_tls;
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

/* A new record and stack; when the allocators have no room, once more
 * after the records waiting for release went back to them. */
static struct cub_coro *alloc_record(size_t size, bool small)
{
	struct cub_coro *c = cubi_coro_alloc_record(size, small);
	unsigned long irq;
	bool freed;

	if (c)
		return c;
	irq = cub_arch_irq_save();
	freed = cubi_coro_release_pending();
	cub_arch_irq_restore(irq);
	return freed ? cubi_coro_alloc_record(size, small) : NULL;
}

/* cub_coro_spawn in general: any attributes, allocating when the record
 * cache has nothing of the class. */
static CUBI_NOINLINE int spawn_slow(struct cub_coro **out, cub_coro_fn fn,
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
		if (!(c = alloc_record(size, small)))
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

/* ----------------------------------------------------------------- end */

static CUB_NORETURN void finish(void *result)
{
	struct cub_coro *c = cubi_sched.cur, *next;

	cub_arch_irq_disable();
	c->result = result;
	c->state = CUB_CORO_DONE;
	cubi_sched.live--;
	if (!c->joinable)
		cubi_sched.reap = c;
	/* Like schedule(), but nothing of c needs saving. A joiner that
	 * would be readied into an empty run queue is popped right back:
	 * hand it the CPU directly (the order is the same). */
	if (c->joiner && cub_list_empty(&cubi_sched.runq)) {
		next = cubi_ready_direct(c->joiner);
	} else {
		if (c->joiner)
			cubi_ready_locked(c->joiner);
		next = cubi_take_next();
	}
	if (CUB_UNLIKELY(!next))
		cubi_sched_to_boot(c);
	cubi_switch_prepare(c, next);
	cub_arch_ctx_jump(&next->ctx);
}

/* Contexts: task. */
CUB_NORETURN void cub_coro_exit(void *result)
{
	cubi_sched_assert_can_block("cub_coro_exit");
	finish(result);
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

/* ------------------------------------------------------------- running */

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
	cubi_preempt_kick();	/* coroutines spawned at boot wait behind fn */
	cubi_sched.loaded_tls = cubi_sched.cur->tls;
	cub_arch_set_tls(cubi_sched.loaded_tls);
	cub_arch_ctx_switch(&boot_ctx, &cubi_sched.cur->ctx);
	cubi_after_switch();
	running = false;
	cubi_sched.loaded_tls = cubi_sched.boot_tls;	/* the boot context's own */
	cub_arch_set_tls(cubi_sched.boot_tls);
	if (result)
		*result = first->result;
	cubi_coro_release(first);
	cubi_coro_release_pending();
	cub_arch_irq_restore(irq);
	return 0;
}
