/*
 * sigreturn.S - cubi_shim_resume_full(const struct cubi_sigctx *ctx):
 * continue a Linux thread exactly as ctx describes it, every general
 * register, rflags and the x87/SSE state included (rt_sigreturn). Unlike
 * cubi_shim_resume it writes nothing below ctx->rsp (the interrupted code
 * may have live data in its red zone): the iretq frame is built on the
 * current stack, which is abandoned.
 */
	.text
	.code64

/* struct cubi_sigctx (src/shim/signals.h): 18 registers, then fx. */
#define C_R8 0
#define C_RDI (8 * 8)
#define C_RSP (15 * 8)
#define C_RIP (16 * 8)
#define C_RFLAGS (17 * 8)
#define C_FX (18 * 8)

	.globl cubi_shim_resume_full
cubi_shim_resume_full:
	cli
	movq C_FX(%rdi), %rax
	fxrstor (%rax)
	andq $-16, %rsp
	movl %ss, %eax
	pushq %rax			/* ss */
	pushq C_RSP(%rdi)		/* rsp */
	pushq C_RFLAGS(%rdi)		/* rflags */
	movl %cs, %eax
	pushq %rax			/* cs */
	pushq C_RIP(%rdi)		/* rip */
	movq 0 * 8(%rdi), %r8
	movq 1 * 8(%rdi), %r9
	movq 2 * 8(%rdi), %r10
	movq 3 * 8(%rdi), %r11
	movq 4 * 8(%rdi), %r12
	movq 5 * 8(%rdi), %r13
	movq 6 * 8(%rdi), %r14
	movq 7 * 8(%rdi), %r15
	movq 9 * 8(%rdi), %rsi
	movq 10 * 8(%rdi), %rbp
	movq 11 * 8(%rdi), %rbx
	movq 12 * 8(%rdi), %rdx
	movq 13 * 8(%rdi), %rax
	movq 14 * 8(%rdi), %rcx
	movq C_RDI(%rdi), %rdi
	iretq

	.section .note.GNU-stack, "", @progbits
