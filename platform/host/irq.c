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
 * Stacks: the signal handler runs on an alternate signal stack (timer.c),
 * like an x86 interrupt on its IST stack, so a signal frame (3.5 KiB with
 * AVX-512 state) never lands on a small coroutine stack. The handler runs
 * the interrupt there. The irq-exit hook (arch.h) must instead run on the
 * interrupted coroutine's stack, since it may switch coroutines: when one
 * is registered, the handler rewrites the interrupted context to "call"
 * cubi_host_irq_exit_tramp (irqexit.S) below the red zone; the trampoline
 * saves the caller-saved registers and the full XSAVE state, runs
 * irq_exit() (the hook, then interrupts back on), restores everything and
 * returns to the interrupted instruction. Interrupts stay disabled from
 * the signal until the hook has run.
 *
 * Invariants: irq_on is only written by the interrupted thread of control
 * (handlers run with it false and restore it on return); pending is set by
 * the signal handler and cleared by whoever runs the pending handler.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>

#include <signal.h>
#include <ucontext.h>

#include "host_irq.h"
#include "../../src/sched/sched_hooks.h"

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#endif

/* Stack the trampoline may use below the interrupted stack pointer: red
 * zone, return address, saved registers, the XSAVE area and the hook's
 * frames up to its switch (valgrind is told it is in use). */
#define TRAMP_STACK 8192

static volatile sig_atomic_t irq_on = 1;
static volatile sig_atomic_t pending;
static volatile int irq_depth;
static void (*deliver)(void);
static void (*exit_hook)(void);

extern char cubi_host_irq_exit_tramp[];
extern uint64_t cubi_host_xsave_size;	/* timer.c */

/* Stack the exit hook needs on the interrupted stack, at most: the red
 * zone, the return address, eleven saved registers, the XSAVE area with
 * its alignment, and a kilobyte for the hook's frames up to its switch.
 * With AVX-512 about 4 KiB: more than a small coroutine stack holds. */
static size_t exit_need(void)
{
	return 128 + 8 + 11 * 8 + 64 + cubi_host_xsave_size + 1024;
}

/* Whether the interrupted stack has room for the exit hook. A small
 * coroutine stack has not: its exit is skipped (a preemption waits for
 * a later interrupt, or for the coroutine to park or yield), where
 * running it would write the XSAVE area below the stack, over the
 * canary and the memory below (sched_hooks.h: stacks the scheduler does
 * not know count as roomy). */
static bool exit_fits(const ucontext_t *uc)
{
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];

	return cubi_sched_stack_room(sp) >= exit_need();
}

cubi_host_deliver_fn cubi_host_irq_set_deliver(cubi_host_deliver_fn fn)
{
	cubi_host_deliver_fn old = deliver;

	deliver = fn;
	return old;
}

/* One pass of the interrupt "handler", as the CPU would run it: in irq
 * context with interrupts disabled (left disabled). */
static void run_handler(void)
{
	irq_on = 0;
	irq_depth++;
	pending = 0;
	if (deliver)
		deliver();
	irq_depth--;
}

/* Runs the handler, then restores the interrupted state. */
void cubi_host_irq_run(void)
{
	sig_atomic_t was = irq_on;

	run_handler();
	irq_on = was;
}

/* Takes pending interrupts while enabled, each followed by the exit hook
 * (we are on a task stack here: cub_arch_irq_restore/enable). Out of line
 * and cold: every cub_arch_irq_restore would inline it. */
static __attribute__((noinline, cold)) void take_pending(void)
{
	while (pending && irq_on) {
		run_handler();
		if (exit_hook && irq_depth == 0)
			exit_hook();
		irq_on = 1;
	}
}

/* Called by the trampoline on the interrupted stack, interrupts off. */
void cubi_host_irq_exit(void)
{
	if (exit_hook)
		exit_hook();
	irq_on = 1;
	take_pending();
}

/* Makes the interrupted context call the trampoline when the signal
 * handler returns: push the interrupted rip below the red zone. */
static void redirect(ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t *sp = (uint64_t *)(uintptr_t)(g[REG_RSP] - 128);

	/* Memcheck keeps memory below the stack pointer unaddressable, and
	 * does not see the stack grow when sigreturn moves it. */
	VALGRIND_MAKE_MEM_UNDEFINED((char *)sp - TRAMP_STACK, TRAMP_STACK);
	*--sp = (uint64_t)g[REG_RIP];
	g[REG_RSP] = (greg_t)(uintptr_t)sp;
	g[REG_RIP] = (greg_t)(uintptr_t)cubi_host_irq_exit_tramp;
}

/*
 * The signal handler's part (timer.c), on the alternate signal stack:
 * take the interrupt now if enabled, else mark it pending.
 */
void cubi_host_irq_signal(void *ucontext)
{
	pending = 1;
	if (!irq_on || irq_depth)
		return;
	irq_on = 0;
	while (pending) {
		irq_depth++;
		pending = 0;
		if (deliver)
			deliver();
		irq_depth--;
	}
	if (exit_hook && ucontext && exit_fits(ucontext))
		redirect(ucontext);	/* the trampoline turns irq_on back on */
	else
		irq_on = 1;
}

void cubi_host_irq_raise(void)
{
	cubi_host_irq_signal(NULL);
}

static inline void run_pending(void)
{
	if (CUB_UNLIKELY(pending))
		take_pending();
}

/* Contexts: boot (and any, interrupts disabled: the scheduler installs
 * the hook only while preemption is on). */
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
