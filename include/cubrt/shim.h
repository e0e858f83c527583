/*
 * cubrt/shim.h - Linux x86-64 system-call emulation.
 *
 * Code built for Linux (an unmodified static musl program, later the Go
 * runtime) executes the `syscall` instruction; platform/x86/syscall.S saves
 * the caller's registers as struct cub_shim_regs and calls
 * cub_shim_syscall(). Semantics follow Linux: the result or -errno lands in
 * rax, rcx and r11 are clobbered, everything else (SSE included) is
 * preserved. Which calls exist and how they behave: docs/shim.md.
 *
 * Programs run in ring 0 in cubrt's single address space; a Linux thread
 * is a cubrt coroutine (preemptible when the scheduler's preemption is on)
 * with its own FS base.
 */
#ifndef CUBRT_SHIM_H
#define CUBRT_SHIM_H

#include <cubrt/base.h>

/*
 * The caller's registers at the syscall instruction. The tail is an
 * x86-64 interrupt-return frame (rip, cs, rflags, rsp, ss) so the entry
 * can return with iretq; syscall.S depends on this layout.
 */
struct cub_shim_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx;
	uint64_t r9, r8, r10, rdx, rsi, rdi, rax;
	uint64_t rip, cs, rflags, rsp, ss;
};

/*
 * Enables the `syscall` instruction (until then it faults with #UD, and an
 * image that never calls this does not link the shim at all). Program
 * starts (cub_shim_exec, scripts/musl-image images) call it; code that
 * executes `syscall` itself calls it first. Idempotent. Contexts: boot, task.
 */
void cub_shim_init(void);

/*
 * Dispatches the call described by regs (number in rax, arguments in rdi,
 * rsi, rdx, r10, r8, r9) and returns the value for rax. clone reads the
 * whole frame to start the child where the parent continues. Unknown
 * numbers return -CUB_ENOSYS and are logged once per number; bad pointer
 * arguments return -CUB_EFAULT. Contexts: task.
 */
long cub_shim_syscall(struct cub_shim_regs *regs);

/* Convenience for tests and native callers: a frame with these values. */
long cub_shim_call(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

/* Name of a Linux x86-64 syscall number, or NULL when unknown. */
const char *cub_shim_name(long nr);

/*
 * Starts a static Linux x86-64 ELF executable image (e.g. a static-pie
 * built with musl, or a Go program linked inside the VM window, as
 * scripts/go-image does) in the running coroutine: loads its segments at
 * their link addresses (ET_EXEC, which must lie in the VM window) or at a
 * fixed bias (static-pie), builds the Linux initial stack (argc, argv, envp, auxv
 * with AT_PHDR/AT_PHNUM/AT_PHENT/AT_PAGESZ/AT_RANDOM/AT_ENTRY) and jumps to
 * its entry. Returns only on error (-CUB_ENOEXEC-style codes: -CUB_EINVAL
 * for a malformed image, -CUB_ENOMEM, -CUB_EBUSY when its addresses are
 * taken); the program's exit_group ends the machine with its status.
 * Contexts: task. Bare metal only.
 */
int cub_shim_exec(const void *elf, size_t len, int argc, char *const argv[],
		  char *const envp[]);

#endif
