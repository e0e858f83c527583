/*
 * hooks.c - what the platform and the syscall shim keep on the running
 * coroutine (sched_hooks.h): its kernel stack top, whether a stack
 * pointer lies outside its coroutine stack (program code), its owner (a
 * Linux thread's record), the switch hook for CPU-time accounting, and a
 * parked coroutine's park area (park.h).
 * Plain field accesses of cubi_sched.cur, kept apart from coro.c's
 * switching code; the layout they and the platform's assembly rely on
 * is checked here.
 */
#include <stddef.h>

#include "sched_hooks.h"
#include "sched_impl.h"

_Static_assert(offsetof(struct cubi_sched, cur) == 0, "platform asm reads cubi_sched.cur");
_Static_assert(offsetof(struct cub_coro, kstack) == CUBI_CORO_KSTACK_OFFSET,
	       "sched_hooks.h CUBI_CORO_KSTACK_OFFSET");
_Static_assert(offsetof(struct cub_coro, stack.lo) == CUBI_CORO_STACK_LO_OFFSET,
	       "sched_hooks.h CUBI_CORO_STACK_LO_OFFSET");
_Static_assert(offsetof(struct cub_coro, stack.size) == CUBI_CORO_STACK_SIZE_OFFSET,
	       "sched_hooks.h CUBI_CORO_STACK_SIZE_OFFSET");

/* Contexts: task. */
void cubi_sched_set_kstack(uintptr_t top)
{
	cubi_sched.cur->kstack = top;
}

uintptr_t cubi_sched_kstack(void)
{
	return cubi_sched.cur ? cubi_sched.cur->kstack : 0;
}

bool cubi_sched_in_program(uintptr_t sp)
{
	const struct cub_coro *c = cubi_sched.cur;
	uintptr_t lo = c ? (uintptr_t)c->stack.lo : 0;

	return c && c->kstack && (sp < lo || sp - lo >= c->stack.size);
}

size_t cubi_sched_stack_room(uintptr_t sp)
{
	const struct cub_coro *c = cubi_sched.cur;
	uintptr_t lo = c ? (uintptr_t)c->stack.lo : 0;

	if (!c || sp < lo || sp - lo > c->stack.size)
		return SIZE_MAX;
	return sp - lo;
}

void cubi_sched_set_owner(void *owner)
{
	cubi_sched.cur->owner = owner;
}

void *cubi_sched_owner(void)
{
	return cubi_sched.cur ? cubi_sched.cur->owner : NULL;
}

void cubi_sched_set_switch_hook(cubi_switch_hook_fn fn)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_sched.hook = fn;
	cub_arch_irq_restore(irq);
}

void cubi_sched_hook_switches(bool on)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_sched.cur->hooked = on;
	cubi_sched.hook_on = on;	/* the caller told its hook itself */
	if (on)
		cubi_sched.hooking = true;
	cub_arch_irq_restore(irq);
}

void cubi_sched_resumed_hooked(void)
{
	struct cub_coro *c = cubi_sched.cur;

	if ((c && c->hooked) || cubi_sched.hook_on)
		cubi_sched_call_hook(c);
}

/* Interrupts disabled (sched_impl.h). */
void cubi_sched_call_hook(struct cub_coro *to)
{
	bool on = to && to->hooked;

	cubi_sched.hook_on = on;
	if (cubi_sched.hook)
		cubi_sched.hook(on ? to->owner : NULL);
}

void *cubi_sched_park_area(struct cub_coro *c)
{
	return c->park_area;
}

