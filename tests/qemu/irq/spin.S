/*
 * spin.S - code that keeps live state where an interrupt could damage it:
 * 16 quadwords in the red zone below %rsp, all 16 XMM registers, an x87
 * value and the general registers, while spinning until *counter (bumped
 * by an interrupt handler) reaches target. Then it writes out what it
 * holds so the C side can compare with what it put there.
 *
 *   void irq_test_spin(volatile uint64_t *counter, uint64_t target,
 *                      struct spin_state *out, const struct spin_state *in);
 * (spin.h). The x87 value is pi.
 */
	.text
	.globl irq_test_spin
irq_test_spin:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* Live data in the red zone: nothing may be written below %rsp. */
	xorl %eax, %eax
1:	movq (%rcx,%rax,8), %r11
	movq %r11, -128(%rsp,%rax,8)
	incl %eax
	cmpl $16, %eax
	jne 1b
	movdqu 128 + 0 * 16(%rcx), %xmm0
	movdqu 128 + 1 * 16(%rcx), %xmm1
	movdqu 128 + 2 * 16(%rcx), %xmm2
	movdqu 128 + 3 * 16(%rcx), %xmm3
	movdqu 128 + 4 * 16(%rcx), %xmm4
	movdqu 128 + 5 * 16(%rcx), %xmm5
	movdqu 128 + 6 * 16(%rcx), %xmm6
	movdqu 128 + 7 * 16(%rcx), %xmm7
	movdqu 128 + 8 * 16(%rcx), %xmm8
	movdqu 128 + 9 * 16(%rcx), %xmm9
	movdqu 128 + 10 * 16(%rcx), %xmm10
	movdqu 128 + 11 * 16(%rcx), %xmm11
	movdqu 128 + 12 * 16(%rcx), %xmm12
	movdqu 128 + 13 * 16(%rcx), %xmm13
	movdqu 128 + 14 * 16(%rcx), %xmm14
	movdqu 128 + 15 * 16(%rcx), %xmm15
	fldpi
	movq 384 + 0 * 8(%rcx), %rbx
	movq 384 + 1 * 8(%rcx), %rbp
	movq 384 + 2 * 8(%rcx), %r8
	movq 384 + 3 * 8(%rcx), %r9
	movq 384 + 4 * 8(%rcx), %r10
	movq 384 + 5 * 8(%rcx), %r12
	movq 384 + 6 * 8(%rcx), %r13
	movq 384 + 7 * 8(%rcx), %r14
	movq 384 + 8 * 8(%rcx), %r15
2:	pause
	cmpq %rsi, (%rdi)
	jb 2b
	/* Write out everything (the red zone first: it is the most fragile). */
	xorl %eax, %eax
3:	movq -128(%rsp,%rax,8), %r11
	movq %r11, (%rdx,%rax,8)
	incl %eax
	cmpl $16, %eax
	jne 3b
	movdqu %xmm0, 128 + 0 * 16(%rdx)
	movdqu %xmm1, 128 + 1 * 16(%rdx)
	movdqu %xmm2, 128 + 2 * 16(%rdx)
	movdqu %xmm3, 128 + 3 * 16(%rdx)
	movdqu %xmm4, 128 + 4 * 16(%rdx)
	movdqu %xmm5, 128 + 5 * 16(%rdx)
	movdqu %xmm6, 128 + 6 * 16(%rdx)
	movdqu %xmm7, 128 + 7 * 16(%rdx)
	movdqu %xmm8, 128 + 8 * 16(%rdx)
	movdqu %xmm9, 128 + 9 * 16(%rdx)
	movdqu %xmm10, 128 + 10 * 16(%rdx)
	movdqu %xmm11, 128 + 11 * 16(%rdx)
	movdqu %xmm12, 128 + 12 * 16(%rdx)
	movdqu %xmm13, 128 + 13 * 16(%rdx)
	movdqu %xmm14, 128 + 14 * 16(%rdx)
	movdqu %xmm15, 128 + 15 * 16(%rdx)
	movq %rbx, 384 + 0 * 8(%rdx)
	movq %rbp, 384 + 1 * 8(%rdx)
	movq %r8, 384 + 2 * 8(%rdx)
	movq %r9, 384 + 3 * 8(%rdx)
	movq %r10, 384 + 4 * 8(%rdx)
	movq %r12, 384 + 5 * 8(%rdx)
	movq %r13, 384 + 6 * 8(%rdx)
	movq %r14, 384 + 7 * 8(%rdx)
	movq %r15, 384 + 8 * 8(%rdx)
	fstpt 456(%rdx)
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
