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

/* Bytes of c's stack in use now: the saved frame's depth, or for the
 * running coroutine the current stack pointer's. */
static size_t stack_in_use(const struct cub_coro *c)
{
	uintptr_t top = (uintptr_t)c->stack_lo + c->stack_size;
	uintptr_t sp = c->ctx.sp;

	if (c == cubi_sched.cur)
		sp = cub_arch_frame_pointer();
	if (c->state == CUB_CORO_DONE || sp < (uintptr_t)c->stack_lo || sp > top)
		return 0;
	return top - sp;
}

static void fill(struct cub_coro_info *i, const struct cub_coro *c)
{
	*i = (struct cub_coro_info){
		.id = c->id,
		.name = cub_coro_name(c),
		.state = (enum cub_coro_state)c->state,
		.wait = c->state == CUB_CORO_PARKED ? c->wait : NULL,
		.stack_size = c->stack_size,
		.stack_used = stack_in_use(c),
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

	cub_printk("%8s  %-20s %-8s %8s %8s  %s\n", "ID", "NAME", "STATE",
		   "STACK", "USED", "WAITING ON");
	for (n = cubi_sched.all.next; n != &cubi_sched.all; n = n->next) {
		fill(&i, cub_container_of(n, struct cub_coro, all));
		cub_printk("%8lu  %-20s %-8s %8lu %8lu  %s\n",
			   (unsigned long)i.id, i.name,
			   cub_coro_state_name(i.state),
			   (unsigned long)i.stack_size,
			   (unsigned long)i.stack_used, i.wait ? i.wait : "");
	}
	cub_arch_irq_restore(irq);
}
