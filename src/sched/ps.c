/*
 * ps.c - what a coroutine is called and listing the live ones (cub_coro_*
 * queries, cub_coro_list, cub_coro_ps) for `ps`-like views and for the
 * deadlock report.
 *
 * Reads the scheduler's all-list inside one critical section (interrupts
 * disabled), so the listing is a consistent snapshot.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/sched.h>

#include "../core/fault.h"
#include "sched_impl.h"

struct cub_coro *cub_coro_self(void)
{
	return cubi_sched.cur;
}

const char *cub_coro_name(const struct cub_coro *c)
{
	struct cub_coro *m = (struct cub_coro *)c;

	if (!c)
		return "(none)";
	if (c->name)
		return c->name;
	if (!m->namebuf[0])
		cubi_coro_default_name(m);
	return m->namebuf;
}

uint64_t cub_coro_id(const struct cub_coro *c)
{
	return c ? c->id : 0;
}

/* Every coroutine left waits for something nothing can bring: report it
 * like Go's runtime and exit with CUB_EXIT_FAULT. Interrupts disabled. */
CUB_NORETURN void cubi_sched_deadlock(void)
{
	cub_printk("\nfatal error: all coroutines are asleep - deadlock!\n\n");
	cub_coro_ps();
	cubi_fault_exit();
}

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
