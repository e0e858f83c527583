/*
 * ps.c - listing the live coroutines (cub_coro_list, cub_coro_ps) for
 * `ps`-like views and for the deadlock report.
 *
 * Reads the scheduler's all-list inside one critical section (interrupts
 * disabled), so the listing is a consistent snapshot.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/sched.h>

#include "sched_impl.h"

const char *cub_coro_state_name(enum cub_coro_state s)
{
	static const char *const names[] = { "ready", "running", "parked",
					     "done" };

	return (unsigned)s < CUB_ARRAY_SIZE(names) ? names[s] : "?";
}

/* Bytes of c's stack in use now: the depth of its saved frame, or of the
 * current frame for the running coroutine. Reads nothing on the stack. */
static size_t stack_used(const struct cub_coro *c)
{
	uintptr_t top = (uintptr_t)c->stack.lo + c->stack.size;
	uintptr_t sp = c == cubi_sched.cur ? cub_arch_frame_pointer() : c->ctx.sp;

	if (c->state == CUB_CORO_DONE)
		return 0;
	return sp > (uintptr_t)c->stack.lo && sp <= top ? top - sp : 0;
}

size_t cub_coro_stack_peak(const struct cub_coro *c)
{
	return c && c->state != CUB_CORO_DONE ? cub_stack_used(&c->stack) : 0;
}

static void fill(struct cub_coro_info *i, const struct cub_coro *c)
{
	*i = (struct cub_coro_info){
		.id = c->id,
		.name = cub_coro_name(c),
		.state = (enum cub_coro_state)c->state,
		.wait = c->state == CUB_CORO_PARKED ? c->wait : NULL,
		.stack_size = c->stack.size,
		.stack_used = stack_used(c),
	};
}

size_t cub_coro_list(struct cub_coro_info *out, size_t max)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *n;
	size_t count = 0;

	for (n = cubi_sched.all.next; n != &cubi_sched.all; n = n->next) {
		if (out && count < max)
			fill(&out[count],
			     cub_container_of(n, struct cub_coro, all));
		count++;
	}
	cub_arch_irq_restore(irq);
	return count;
}

/* Prints one line per coroutine; walks the list directly so that it works
 * with 100,000 coroutines and no memory to spare. */
void cub_coro_ps(void)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_coro_info i;
	struct cub_list *n;

	cub_printk("%8s  %-20s %-8s %8s %8s %8s  %s\n", "ID", "NAME",
		   "STATE", "STACK", "USED", "PEAK", "WAITING ON");
	for (n = cubi_sched.all.next; n != &cubi_sched.all; n = n->next) {
		struct cub_coro *c = cub_container_of(n, struct cub_coro, all);

		fill(&i, c);
		cub_printk("%8lu  %-20s %-8s %8lu %8lu %8lu  %s\n",
			   (unsigned long)i.id, i.name,
			   cub_coro_state_name(i.state),
			   (unsigned long)i.stack_size,
			   (unsigned long)i.stack_used,
			   (unsigned long)cub_coro_stack_peak(c),
			   i.wait ? i.wait : "");
	}
	cub_arch_irq_restore(irq);
}
