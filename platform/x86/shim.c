/*
 * shim.c - x86 side of the syscall shim: the SYSCALL MSRs.
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
}
