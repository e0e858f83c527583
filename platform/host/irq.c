/*
 * irq.c - interrupt state for the host platform.
 *
 * A Linux process has no interrupt flag, so the host keeps a software one:
 * "interrupts" are signals (the one-shot timer's SIGALRM, see timer.c).
 * Their handler checks irq_on: when interrupts are disabled it only marks
 * the interrupt pending; restoring the flag runs pending interrupts. This
 * makes save/restore a plain load/store, cheap enough for the scheduler's
 * fast paths, while keeping the semantics of cli/sti.
 *
 * An interrupt taken while returning to task context (not from idle, not
 * nested) ends with the irq-exit hook (arch.h): it runs with interrupts
 * disabled, outside irq context, and may switch coroutines; the loop in
 * take_pending resumes when this coroutine is switched back to.
 *
 * Invariants: irq_on is only written by the interrupted thread of control
 * (handlers run with it false and restore it on return); pending is set by
 * the signal handler and cleared by whoever runs the pending handler.
 */
#include <cubrt/arch.h>

#include <signal.h>

#include "host_irq.h"

static volatile sig_atomic_t irq_on = 1;
static volatile sig_atomic_t pending;
static volatile int irq_depth;
static void (*deliver)(void);
static void (*exit_hook)(void);

void cubi_host_irq_set_deliver(void (*fn)(void))
{
	deliver = fn;
}

/* Runs the interrupt "handler" as the CPU would: in irq context, with
 * interrupts disabled, then restores the interrupted state. */
void cubi_host_irq_run(void)
{
	sig_atomic_t was = irq_on;

	irq_on = 0;
	irq_depth++;
	pending = 0;
	if (deliver)
		deliver();
	irq_depth--;
	irq_on = was;
}

/* Takes pending interrupts while enabled, each followed by the exit hook. */
static void take_pending(void)
{
	while (pending && irq_on) {
		irq_on = 0;
		irq_depth++;
		pending = 0;
		if (deliver)
			deliver();
		irq_depth--;
		if (exit_hook && irq_depth == 0)
			exit_hook();
		irq_on = 1;
	}
}

/* Called from the signal handler: run now, or later if disabled. */
void cubi_host_irq_raise(void)
{
	pending = 1;
	if (irq_on)
		take_pending();
}

static inline void run_pending(void)
{
	if (CUB_UNLIKELY(pending))
		take_pending();
}

/* Contexts: boot. */
void cub_arch_set_irq_exit_hook(void (*fn)(void))
{
	exit_hook = fn;
}

unsigned long cub_arch_irq_save(void)
{
	unsigned long was = (unsigned long)irq_on;

	irq_on = 0;
	__asm__ volatile("" ::: "memory");
	return was;
}

void cub_arch_irq_restore(unsigned long state)
{
	__asm__ volatile("" ::: "memory");
	irq_on = (sig_atomic_t)state;
	if (state)
		run_pending();
}

void cub_arch_irq_enable(void)
{
	__asm__ volatile("" ::: "memory");
	irq_on = 1;
	run_pending();
}

void cub_arch_irq_disable(void)
{
	irq_on = 0;
	__asm__ volatile("" ::: "memory");
}

bool cub_arch_irq_enabled(void)
{
	return irq_on;
}

bool cub_arch_in_irq(void)
{
	return irq_depth > 0;
}

bool cubi_host_irq_pending(void)
{
	return pending;
}
