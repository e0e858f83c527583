/*
 * syscall.S - the Linux `syscall` instruction entry, and resuming a Linux
 * thread from a saved register frame.
 *
 * Programs run in ring 0, so SYSCALL neither switches stacks nor changes
 * privilege. On entry (IF, DF, TF, AC cleared by IA32_FMASK): rcx = return
 * rip, r11 = rflags, rsp = the caller's stack, possibly with live data in
 * the 128-byte red zone below it. A Linux thread's call moves to its
 * coroutine's kernel stack (cubi_sched_set_kstack), as Linux moves to the
 * kernel stack: a program stack may be small (a goroutine's). Any other
 * caller's call stays on its stack: we step over the red zone, align, build
 * a struct cub_shim_regs (include/cubrt/shim.h) whose tail is an iretq
 * frame, save the SSE/x87 state (a blocking call lets other threads run),
 * re-enable interrupts if the caller had them, and call
 * cub_shim_syscall(). Return: rax = result, rcx = rip and r11 = rflags as
 * after SYSRET, every other register and the SSE state as they were -
 * unless a signal is taken on the way out (cubi_x86_syscall_exit_hook
 * then points the frame at its handler).
 */
#include "../../src/sched/sched_hooks.h"

	.text
	.code64

#define F_RAX (12 * 8)
#define F_RIP (13 * 8)
#define F_RFLAGS (15 * 8)

	.globl cubi_x86_syscall_entry
cubi_x86_syscall_entry:
	movq %rsp, saved_rsp(%rip)	/* IF=0 and one CPU: safe scratches */
	movq %rax, saved_rax(%rip)
	movq cubi_sched(%rip), %rax	/* the running coroutine: a Linux */
	testq %rax, %rax		/* thread runs the call on its own */
	jz 1f				/* (kernel) stack, not the program's */
	movq CUBI_CORO_KSTACK_OFFSET(%rax), %rax
	testq %rax, %rax
	jz 1f
	movq %rax, %rsp
	jmp 2f
1:	leaq -128(%rsp), %rsp		/* else below the caller's red zone */
2:	andq $-16, %rsp
	movq saved_rax(%rip), %rax
	pushq $0x10			/* ss */
	pushq saved_rsp(%rip)		/* rsp */
	pushq %r11			/* rflags */
	pushq $0x08			/* cs */
	pushq %rcx			/* rip */
	pushq %rax
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %r10
	pushq %r8
	pushq %r9
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rbx			/* the frame; rbx survives the call */
	subq $512, %rsp			/* 18 quadwords kept 16-byte alignment */
	fxsave (%rsp)
	xorl %ebp, %ebp			/* backtraces stop at the program */
	testl $0x200, %r11d
	jz 1f
	sti
1:	movq %rbx, %rdi
	call cub_shim_syscall
	cli
	movq %rax, F_RAX(%rbx)
	cmpl $0, cubi_signal_npending(%rip)
	je 2f
	movq cubi_x86_syscall_exit_hook(%rip), %rax
	testq %rax, %rax
	jz 2f
	movq %rbx, %rdi			/* signals: may redirect the frame */
	movq %rsp, %rsi			/* to a handler (platform/x86/shim.c) */
	call *%rax
2:	fxrstor (%rsp)
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	popq %r9
	popq %r8
	popq %r10
	popq %rdx
	popq %rsi
	popq %rdi
	popq %rax
	movq (%rsp), %rcx		/* as SYSRET leaves them */
	movq 16(%rsp), %r11
	iretq

/*
 * cubi_shim_resume(const struct cub_shim_regs *r): continue a thread at
 * r->rip on r->rsp with every register from r (clone children, program
 * start). Writes rip and rflags just below r->rsp on the target stack,
 * which must therefore have no live data there (true for a new stack).
 * Shared by the host platform.
 */
	.globl cubi_shim_resume
cubi_shim_resume:
	movq 16 * 8(%rdi), %rax		/* rsp */
	subq $16, %rax
	movq F_RIP(%rdi), %rcx
	movq %rcx, 8(%rax)
	movq F_RFLAGS(%rdi), %rcx
	movq %rcx, (%rax)
	movq %rax, %rsp
	movq 0 * 8(%rdi), %r15
	movq 1 * 8(%rdi), %r14
	movq 2 * 8(%rdi), %r13
	movq 3 * 8(%rdi), %r12
	movq 4 * 8(%rdi), %rbp
	movq 5 * 8(%rdi), %rbx
	movq 6 * 8(%rdi), %r9
	movq 7 * 8(%rdi), %r8
	movq 8 * 8(%rdi), %r10
	movq 9 * 8(%rdi), %rdx
	movq 10 * 8(%rdi), %rsi
	movq 12 * 8(%rdi), %rax
	movq 11 * 8(%rdi), %rdi
	popfq
	ret

	.bss
	.balign 8
saved_rsp:
	.quad 0
saved_rax:
	.quad 0
	.globl cubi_x86_syscall_exit_hook
cubi_x86_syscall_exit_hook:		/* NULL until cub_arch_syscall_enable */
	.quad 0

	.section .note.GNU-stack, "", @progbits
