/*
 * shim.c - x86 side of the syscall shim: the SYSCALL MSRs, handing the
 * syscall and interrupt return frames to signal delivery, and turning
 * faults in program code into the signals Linux sends for them (which
 * signal: fault_sig.c).
 */
#include <cubrt/arch.h>
#include <cubrt/shim.h>
#include <cubrt/string.h>

#include "../../src/sched/sched_hooks.h"
#include "../../src/shim/shim_impl.h"
#include "x86.h"

_Static_assert(offsetof(struct cub_shim_regs, rax) == 12 * 8, "syscall.S F_RAX");
_Static_assert(offsetof(struct cub_shim_regs, rip) == 13 * 8, "syscall.S F_RIP");
_Static_assert(offsetof(struct cub_shim_regs, rflags) == 15 * 8, "syscall.S F_RFLAGS");
_Static_assert(offsetof(struct cub_shim_regs, rsp) == 16 * 8, "syscall.S rsp");
_Static_assert(sizeof(struct cub_shim_regs) == 18 * 8, "syscall.S frame size");

#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_FMASK 0xC0000084u
#define EFER_SCE 1u

/* ------------------------------------------------------------ signals */

/* Set when the shim is enabled; called with interrupts disabled by
 * syscall.S (after a call, before its registers are restored) and
 * traps.S (after the irq-exit hook, on the interrupted stack). */
extern void (*cubi_x86_syscall_exit_hook)(struct cub_shim_regs *r, void *fx);
extern void (*cubi_x86_trap_signal_hook)(struct x86_trap_frame *f, void *fx);
extern bool (*cubi_x86_fault_hook)(struct x86_trap_frame *f, void *fx);
extern int (*cubi_x86_demand_hook)(uintptr_t addr, uint64_t err);

/* A cubi_sigctx from a frame naming the general registers (struct
 * cub_shim_regs or struct x86_trap_frame), with rcx and r11 given, and
 * fx_ the FXSAVE image the frame returns with: entering a handler saves
 * it in the signal frame and writes Linux's initial x87/SSE state over
 * it (signal.c), at a system call's return, an interrupt's, or a
 * fault. */
#define SIGCTX_OF(f, rcx_, r11_, fx_) (struct cubi_sigctx){		\
	.r8 = (f)->r8, .r9 = (f)->r9, .r10 = (f)->r10, .r11 = (r11_),	\
	.r12 = (f)->r12, .r13 = (f)->r13, .r14 = (f)->r14, .r15 = (f)->r15, \
	.rdi = (f)->rdi, .rsi = (f)->rsi, .rbp = (f)->rbp, .rbx = (f)->rbx, \
	.rdx = (f)->rdx, .rax = (f)->rax, .rcx = (rcx_), .rsp = (f)->rsp, \
	.rip = (f)->rip, .rflags = (f)->rflags, .fx = (fx_) }

/* What entering a handler changed, back into the frame (the x87/SSE
 * state is already there: fx is the frame's own image). */
#define ENTER_HANDLER(f, c) do {					\
	(f)->rdi = (c).rdi; (f)->rsi = (c).rsi; (f)->rdx = (c).rdx;	\
	(f)->rax = (c).rax; (f)->rsp = (c).rsp; (f)->rip = (c).rip;	\
	(f)->rflags = (c).rflags;					\
} while (0)

/* A system call returns: rcx and r11 are what SYSRET would leave. */
static __attribute__((noinline)) void deliver_at_syscall_exit(struct cub_shim_regs *r,
							      void *fx)
{
	struct cubi_sigctx c = SIGCTX_OF(r, r->rip, r->rflags, fx);

	if (cubi_signal_deliver_syscall(&c))
		ENTER_HANDLER(r, c);
}

static void syscall_exit(struct cub_shim_regs *r, void *fx)
{
	if (CUB_UNLIKELY(cubi_signal_pending()))
		deliver_at_syscall_exit(r, fx);
}

/* An interrupt returns into a Linux thread's program code (traps.S
 * calls this only then: cubrt's own code takes signals at the system
 * call's return). */
static __attribute__((noinline)) void deliver_at_trap_exit(struct x86_trap_frame *f,
							   void *fx)
{
	struct cubi_sigctx c = SIGCTX_OF(f, f->rcx, f->r11, fx);

	if (cubi_signal_deliver(&c))
		ENTER_HANDLER(f, c);
}

static void trap_exit(struct x86_trap_frame *f, void *fx)
{
	if (CUB_UNLIKELY(cubi_signal_pending()))
		deliver_at_trap_exit(f, fx);
}

/* A fault (vector < 32) in program code: the signal Linux would force
 * on the thread (fault_sig.c), taken by its handler if it has one (else
 * the fault is reported: trap.c). Program code is told as traps.S tells
 * it: a Linux thread's stack pointer outside its coroutine stack. As on
 * every path here, the handler starts with Linux's initial x87/SSE state
 * (signal.c writes it over fx, the image the trap returns with; the
 * interrupted state is in the signal frame, for rt_sigreturn), so a
 * SIGFPE handler does not meet its own pending x87 exception. */
static bool fault_to_signal(struct x86_trap_frame *f, void *fx)
{
	struct cubi_fault flt;
	struct cubi_sigctx c;

	if (!cubi_sched_in_program(f->rsp) || !cubi_x86_fault_signal(f, fx, &flt))
		return false;
	c = SIGCTX_OF(f, f->rcx, f->r11, fx);
	if (!cubi_signal_fault(&c, &flt))
		return false;
	ENTER_HANDLER(f, c);
	return true;
}

/* A page fault on an absent page (trap.c): the program's memory pages in
 * on first touch (src/shim/mm_fault.c). Error code bit 4: an instruction
 * fetch (EFER.NXE is set), bit 1: a write. */
static int demand_fault(uintptr_t addr, uint64_t err)
{
	return cubi_mm_fault(addr, err & 16 ? CUB_PROT_EXEC
				   : err & 2 ? CUB_PROT_WRITE : CUB_PROT_READ);
}

extern char cubi_x86_syscall_entry[];

/* Enables SYSCALL: entry point, kernel CS/SS, and the RFLAGS bits
 * cleared on entry (IF, DF, TF, AC). Idempotent. Contexts: boot, task. */
void cub_arch_syscall_enable(void)
{
	wrmsr(X86_MSR_EFER, rdmsr(X86_MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, ((uint64_t)(X86_SEL_KDATA | 3) << 48) |
			((uint64_t)X86_SEL_KCODE << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)cubi_x86_syscall_entry);
	wrmsr(MSR_FMASK, 0x200 | 0x400 | 0x100 | 0x40000);
	cubi_x86_syscall_exit_hook = syscall_exit;
	cubi_x86_trap_signal_hook = trap_exit;
	cubi_x86_fault_hook = fault_to_signal;
	cubi_x86_demand_hook = demand_fault;
	cubi_mm_set_demand(true);
}
