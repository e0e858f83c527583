/*
 * irqexit.S - the host's irq-exit trampoline (see irq.c). The signal
 * handler made the interrupted context look as if it had called us from
 * 128 bytes below its stack pointer (the red zone stays untouched): the
 * return address on the stack is the interrupted instruction. Every
 * register is as it was at the interrupt.
 *
 * Saves what C may clobber (flags, the caller-saved registers, the full
 * XSAVE state: x87, SSE, AVX, AVX-512, MXCSR), calls cubi_host_irq_exit
 * (which may switch coroutines and come back much later), restores it
 * all and returns to the interrupted instruction, dropping the red-zone
 * gap. The callee-saved registers survive the C call by the ABI.
 */
	.text
	.globl cubi_host_irq_exit_tramp
	.type cubi_host_irq_exit_tramp, @function
cubi_host_irq_exit_tramp:
	pushfq
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbp
	movq %rsp, %rbp
	/* A 64-byte aligned XSAVE area of cubi_host_xsave_size bytes with
	 * its 64-byte header zeroed (XRSTOR checks the reserved bytes). */
	andq $-64, %rsp
	subq cubi_host_xsave_size(%rip), %rsp
	xorl %eax, %eax
	movq %rax, 512(%rsp)
	movq %rax, 520(%rsp)
	movq %rax, 528(%rsp)
	movq %rax, 536(%rsp)
	movq %rax, 544(%rsp)
	movq %rax, 552(%rsp)
	movq %rax, 560(%rsp)
	movq %rax, 568(%rsp)
	movl $-1, %eax
	movl $-1, %edx
	xsave64 (%rsp)
	call cubi_host_irq_exit
	movl $-1, %eax
	movl $-1, %edx
	xrstor64 (%rsp)
	movq %rbp, %rsp
	popq %rbp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	popfq
	ret $128
	.size cubi_host_irq_exit_tramp, . - cubi_host_irq_exit_tramp

	.section .note.GNU-stack, "", @progbits
