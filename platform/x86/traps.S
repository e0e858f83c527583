/*
 * traps.S - interrupt and exception entry stubs.
 *
 * Every vector runs on an IST stack (set in cpu.c), so the CPU never writes
 * below the interrupted code's stack pointer: code compiled with a red
 * zone survives interrupts, and a stack overflow into a guard page still
 * gets a working stack for its report. Each stub pushes a dummy error code
 * where the CPU does not push one, then the vector number, and jumps to
 * trap_common, which saves the general registers in struct x86_trap_frame
 * order (x86.h) and the x87/SSE state (FXSAVE: application code may use
 * SSE, handlers may too), and calls cubi_x86_trap(frame). The NMI
 * (vector 2) saves the same frame but calls cubi_x86_nmi(frame) and
 * returns without the irq-exit hook, through nmi_common: an NMI can
 * arrive anywhere, even between another trap's cubi_x86_trap and its
 * read of cubi_x86_exit_call, which it therefore must not write.
 */
#include "../../src/sched/sched_hooks.h"

	.text
	.code64

.macro TRAP_NOERR vec
	.balign 16
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_ERR vec
	.balign 16
	pushq $\vec
	jmp trap_common
.endm

	/* Stubs are 16 bytes apart: cpu.c computes stub = base + 16 * vec. */
	.balign 16
	.globl cubi_x86_trap_stubs
cubi_x86_trap_stubs:
	TRAP_NOERR 0
	TRAP_NOERR 1
	.balign 16			/* NMI: its own path (nmi_common) */
	pushq $0
	pushq $2
	jmp nmi_common
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR   8
	TRAP_NOERR 9
	TRAP_ERR   10
	TRAP_ERR   11
	TRAP_ERR   12
	TRAP_ERR   13
	TRAP_ERR   14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR   17
	TRAP_NOERR 18
	TRAP_NOERR 19
	TRAP_NOERR 20
	TRAP_ERR   21
	TRAP_NOERR 22
	TRAP_NOERR 23
	TRAP_NOERR 24
	TRAP_NOERR 25
	TRAP_NOERR 26
	TRAP_NOERR 27
	TRAP_NOERR 28
	TRAP_ERR   29
	TRAP_ERR   30
	TRAP_NOERR 31
	.set vec, 32
	.rept 224
	TRAP_NOERR vec
	.set vec, vec + 1
	.endr

/*
 * The full frame, lowest address first: the FXSAVE image (x87/SSE state,
 * 512 bytes, 16-byte aligned), struct x86_trap_frame (general registers,
 * vector, error code, hardware frame). cubi_x86_trap gets the address of
 * the struct x86_trap_frame part and leaves in cubi_x86_exit_call NULL, or
 * the irq-exit hook to run on the interrupted stack (see trap.c).
 */
#define FX_SIZE 512
#define FRAME_SIZE (FX_SIZE + 22 * 8)	/* 688, a multiple of 16 */
#define FRAME_RIP (FX_SIZE + 17 * 8)	/* offset of the interrupted RIP */
#define FRAME_RSP (FX_SIZE + 20 * 8)	/* offset of the interrupted RSP */
#define RED_ZONE 128

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	subq $FX_SIZE, %rsp		/* 16-byte aligned: 22 quadwords pushed */
	fxsave64 (%rsp)
	leaq FX_SIZE(%rsp), %rdi
	call cubi_x86_trap
	movq cubi_x86_exit_call(%rip), %rax
	testq %rax, %rax
	jnz irq_exit_hook
trap_restore:
	fxrstor64 (%rsp)
	addq $FX_SIZE, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector, error code */
	iretq

/* The NMI (sampling profiler, trap.c): same frame, no exit hook. */
nmi_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	subq $FX_SIZE, %rsp
	fxsave64 (%rsp)
	leaq FX_SIZE(%rsp), %rdi
	call cubi_x86_nmi
	jmp trap_restore

/*
 * Returning to task context with an exit hook (in %rax): move the whole
 * frame off the shared IST stack and call the hook there with interrupts
 * still disabled. Where: below the interrupted stack's red zone - or,
 * for a Linux thread interrupted in program code, on its kernel stack
 * (see syscall.S). "Program code" is told by the stack: a Linux thread
 * runs cubrt's code (system calls) on its coroutine stack and program
 * code on stacks of the program's own, so an interrupted rsp outside
 * [stack.lo, stack.lo + size) of the running coroutine, which has a
 * kernel stack, is program code - linked into the image (musl) or loaded
 * separately (Go). The hook may switch coroutines; whenever this one is
 * resumed, the hook returns here and the frame restores it exactly. The
 * hardware frame moves with the rest, so iretq also restores the
 * interrupted RSP. For program code, with the syscall shim on, a pending
 * signal may then redirect the frame into its handler
 * (cubi_x86_trap_signal_hook). %ebx carries "program code" across the
 * hook (callee-saved; the interrupted rbx is in the frame).
 */
irq_exit_hook:
	xorl %ebx, %ebx
	movq FRAME_RSP(%rsp), %rdi
	subq $RED_ZONE, %rdi
	movq cubi_sched(%rip), %rcx	/* the running coroutine */
	testq %rcx, %rcx
	jz 1f
	cmpq $0, CUBI_CORO_KSTACK_OFFSET(%rcx)
	je 1f				/* not a Linux thread */
	movq FRAME_RSP(%rsp), %rdx
	movq CUBI_CORO_STACK_LO_OFFSET(%rcx), %rsi
	cmpq %rsi, %rdx
	jb 2f				/* below its coroutine stack */
	addq CUBI_CORO_STACK_SIZE_OFFSET(%rcx), %rsi
	cmpq %rsi, %rdx
	jb 1f				/* on it: cubrt's code */
2:	movq CUBI_CORO_KSTACK_OFFSET(%rcx), %rdi
	movl $1, %ebx
1:	andq $-16, %rdi
	subq $FRAME_SIZE, %rdi
	movq %rsp, %rsi
	movq %rdi, %rdx
	movl $(FRAME_SIZE / 8), %ecx
	rep movsq
	movq %rdx, %rsp			/* 16-byte aligned for the call */
	call *%rax
	testl %ebx, %ebx
	jz trap_restore
	movq cubi_x86_trap_signal_hook(%rip), %rax
	testq %rax, %rax
	jz trap_restore
	leaq FX_SIZE(%rsp), %rdi	/* a signal may redirect the frame to */
	movq %rsp, %rsi			/* its handler (platform/x86/shim.c) */
	call *%rax
	jmp trap_restore
