/*
 * shim.c - x86 side of the syscall shim: the SYSCALL MSRs, and handing
 * the syscall and interrupt return frames to signal delivery.
 */
#include <cubrt/arch.h>
#include <cubrt/shim.h>

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

static void deliver_at_syscall_exit(struct cub_shim_regs *r, void *fx);
static void deliver_at_trap_exit(struct x86_trap_frame *f, void *fx);

/* A system call returns: rcx and r11 are what SYSRET would leave. */
static void syscall_exit(struct cub_shim_regs *r, void *fx)
{
	if (CUB_LIKELY(!cubi_signal_pending()))
		return;
	deliver_at_syscall_exit(r, fx);
}

static __attribute__((noinline)) void deliver_at_syscall_exit(struct cub_shim_regs *r, void *fx)
{
	struct cubi_sigctx c = {
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->rflags,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rdi = r->rdi, .rsi = r->rsi, .rbp = r->rbp, .rbx = r->rbx,
		.rdx = r->rdx, .rax = r->rax, .rcx = r->rip, .rsp = r->rsp,
		.rip = r->rip, .rflags = r->rflags, .fx = fx,
	};

	if (!cubi_signal_deliver(&c))
		return;
	r->rdi = c.rdi;
	r->rsi = c.rsi;
	r->rdx = c.rdx;
	r->rax = c.rax;
	r->rsp = c.rsp;
	r->rip = c.rip;
	r->rflags = c.rflags;
}

/* An interrupt returns into a separately loaded program (code outside
 * cubrt's image: cubrt's own code, and a musl program linked into the
 * image, take signals at system-call returns only). */
static void trap_exit(struct x86_trap_frame *f, void *fx)
{
	if (CUB_LIKELY(!cubi_signal_pending()))
		return;
	deliver_at_trap_exit(f, fx);
}

static __attribute__((noinline)) void deliver_at_trap_exit(struct x86_trap_frame *f, void *fx)
{
	struct cubi_sigctx c = {
		.r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11,
		.r12 = f->r12, .r13 = f->r13, .r14 = f->r14, .r15 = f->r15,
		.rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rbx = f->rbx,
		.rdx = f->rdx, .rax = f->rax, .rcx = f->rcx, .rsp = f->rsp,
		.rip = f->rip, .rflags = f->rflags, .fx = fx,
	};

	if ((f->rip >= (uintptr_t)__image_start && f->rip < (uintptr_t)__image_end) ||
	    !cubi_signal_deliver(&c))
		return;
	f->rdi = c.rdi;
	f->rsi = c.rsi;
	f->rdx = c.rdx;
	f->rax = c.rax;
	f->rsp = c.rsp;
	f->rip = c.rip;
	f->rflags = c.rflags;
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
}
