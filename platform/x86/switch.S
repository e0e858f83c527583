/*
 * switch.S - coroutine context switch, shared by the x86 and host ports.
 *
 * cub_arch_ctx_switch(from, to) saves exactly what the SysV x86-64 ABI
 * makes callee-saved: rbx, rbp, r12-r15, the MXCSR control bits and the
 * x87 control word. Everything else is caller-saved and already dead at a
 * call.
 *
 * The registers go into the context struct itself (the coroutine record),
 * not onto the suspended stack: resuming then needs no load from that
 * stack before the resumed code can run. Only values that feed predicted
 * branches stay on the stack, in a 16-byte frame at ctx->sp:
 *
 *	sp + 0   MXCSR (32 bits), x87 control word (16 bits), 16 bits pad
 *	sp + 8   resume address (the caller's return address)
 *
 * Why: with many coroutines the stack of the one being resumed is cold
 * (out of every cache), while its record was just touched by whoever
 * readied it. Loading rbx..r15 from a cold stack stalls the resumed code
 * for a full memory latency; a cold resume address or control word only
 * delays the retirement of correctly predicted branches, and the CPU
 * overlaps that miss with the work that follows.
 *
 * ctx.c builds the frame and context of a new coroutine and checks the offsets
 * with _Static_assert (CTX_* below must match struct cub_arch_ctx).
 *
 * The control words are always saved, but reloaded only when they differ
 * from the ones being left (ldmxcsr/fldcw are slow and the values almost
 * never change): the effect is the same as reloading every time.
 *
 * Resuming pops the resume address and jumps to it indirectly: after a
 * stack switch a `ret` would be predicted from the return stack buffer,
 * which holds the *old* coroutine's caller, and so would always mispredict.
 * The indirect branch predictor learns the alternating targets instead.
 */
#include <cubrt/arch_fiber.h>

/* Host builds with AddressSanitizer: platform/host/fiber.c provides the
 * cub_arch_ctx_* functions, around these (arch_fiber.h). */
#ifdef CUB_ARCH_FIBERS
#define cub_arch_ctx_switch cubi_fiber_raw_switch
#define cub_arch_ctx_jump cubi_fiber_raw_jump
#define cub_arch_ctx_switch_then cubi_fiber_raw_switch_then
#endif

	.text

/* struct cub_arch_ctx offsets (ctx.c checks them with _Static_assert). */
#define CTX_SP		0
#define CTX_RBX		8
#define CTX_RBP		16
#define CTX_R12		24
#define CTX_R13		32
#define CTX_R14		40
#define CTX_R15		48

/* void cub_arch_ctx_switch(struct cub_arch_ctx *from, struct cub_arch_ctx *to) */
	.globl cub_arch_ctx_switch
	.type cub_arch_ctx_switch, @function
	.p2align 4
cub_arch_ctx_switch:
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movl (%rsp), %eax		/* the control words being left */
	movzwl 4(%rsp), %edx
	movq %rsp, CTX_SP(%rdi)
	movq %rbx, CTX_RBX(%rdi)
	movq %rbp, CTX_RBP(%rdi)
	movq %r12, CTX_R12(%rdi)
	movq %r13, CTX_R13(%rdi)
	movq %r14, CTX_R14(%rdi)
	movq %r15, CTX_R15(%rdi)
	/* Fall through: resume `to`. */
.Lresume:				/* rsi = to; eax, dx = current words */
	movq CTX_SP(%rsi), %rsp
	movq CTX_RBX(%rsi), %rbx
	movq CTX_RBP(%rsi), %rbp
	movq CTX_R12(%rsi), %r12
	movq CTX_R13(%rsi), %r13
	movq CTX_R14(%rsi), %r14
	movq CTX_R15(%rsi), %r15
	cmpl (%rsp), %eax
	jne 3f
	cmpw 4(%rsp), %dx
	jne 3f
2:	addq $8, %rsp
	popq %rcx
	jmp *%rcx
3:	ldmxcsr (%rsp)
	fldcw 4(%rsp)
	jmp 2b
	.size cub_arch_ctx_switch, . - cub_arch_ctx_switch

/*
 * void cub_arch_ctx_jump(to): resumes `to` without saving anything, for a
 * context that has ended (its stack may be freed once `to` runs).
 */
	.globl cub_arch_ctx_jump
	.type cub_arch_ctx_jump, @function
	.p2align 4
cub_arch_ctx_jump:
	subq $8, %rsp
	stmxcsr (%rsp)
	fnstcw 4(%rsp)
	movl (%rsp), %eax
	movzwl 4(%rsp), %edx
	movq %rdi, %rsi
	jmp .Lresume
	.size cub_arch_ctx_jump, . - cub_arch_ctx_jump

/*
 * int cub_arch_ctx_switch_then(from, to, int (*on_resume)(void))
 *
 * Like cub_arch_ctx_switch, for a caller that tail-calls it: when `from`
 * is resumed, on_resume() runs first (on from's stack) and then control
 * goes back to the caller's caller *by an indirect jump*, with
 * on_resume's result still in eax. The frame is the common one with
 * resume address = then_resume, and above it on_resume and the caller's
 * return address:
 *
 *	sp + 8   then_resume		(the common frame's resume address)
 *	sp + 16  on_resume
 *	sp + 24  return address
 *
 * So a coroutine that yields returns to its loop without executing any
 * `ret` whose return-stack-buffer entry belongs to the other coroutine.
 */
	.globl cub_arch_ctx_switch_then
	.type cub_arch_ctx_switch_then, @function
	.p2align 4
cub_arch_ctx_switch_then:
	pushq %rdx
	leaq then_resume(%rip), %rax
	pushq %rax
	jmp cub_arch_ctx_switch
	.size cub_arch_ctx_switch_then, . - cub_arch_ctx_switch_then

/* rsp -> on_resume, 16-byte aligned (one push below the return address);
 * rax holds on_resume's result from here to the caller. */
	.p2align 4
then_resume:
	callq *(%rsp)
	addq $8, %rsp
	popq %rcx
	jmp *%rcx

/*
 * First resume of a new context (ctx.c puts this address in the frame):
 * r12 = entry, r13 = arg, rsp 16-byte aligned. entry must not return; if
 * it does, the ud2 makes that an invalid-opcode fault, not a wild return.
 */
	.globl cubi_ctx_start
	.type cubi_ctx_start, @function
cubi_ctx_start:
	movq %r13, %rdi
	xorl %ebp, %ebp
	callq *%r12
	ud2
	.size cubi_ctx_start, . - cubi_ctx_start

	.section .note.GNU-stack, "", @progbits
