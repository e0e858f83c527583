/*
 * abi_probe.S - executes the `syscall` instruction as Linux code does and
 * checks the x86-64 Linux system-call ABI held across it: every general
 * register except rax (result), rcx (= return rip) and r11 (= rflags)
 * preserved, including the argument registers; all 16 SSE registers
 * preserved; the 128-byte red zone below rsp untouched.
 *
 * long abi_probe(long nr, const long args[3], long *violations)
 * returns the call's rax and stores how many expectations failed.
 */
	.text
	.globl abi_probe
abi_probe:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx			/* -48(%rbp): violations pointer */
	pushq $0			/* -56(%rbp): violation count */
	pushq %rsi			/* -64(%rbp): args */
	movq %rdi, %rax
	movq 16(%rsi), %rdx
	movq 0(%rsi), %rdi
	movq 8(%rsi), %rsi
	movabsq $0x1010101010101010, %rbx
	movabsq $0x1212121212121212, %r12
	movabsq $0x1313131313131313, %r13
	movabsq $0x1414141414141414, %r14
	movabsq $0x1515151515151515, %r15
	movabsq $0x0808080808080808, %r8
	movabsq $0x0909090909090909, %r9
	movabsq $0x0a0a0a0a0a0a0a0a, %r10
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	movabsq $(0x0101010101010101 * (\n + 1)), %rcx
	movq %rcx, %xmm\n
	.endr
	.irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
	movabsq $(0x7e7e7e7e00000000 + \n), %rcx
	movq %rcx, -(\n * 8)(%rsp)
	.endr
	syscall
after:
	btq $1, %r11			/* rflags: bit 1 is always set */
	jc 1f
	incq -56(%rbp)
1:	leaq after(%rip), %r11
	cmpq %r11, %rcx
	je 1f
	incq -56(%rbp)
1:	movq -64(%rbp), %r11
	cmpq 0(%r11), %rdi
	je 1f
	incq -56(%rbp)
1:	cmpq 8(%r11), %rsi
	je 1f
	incq -56(%rbp)
1:	cmpq 16(%r11), %rdx
	je 1f
	incq -56(%rbp)
1:
	.macro CHECK reg, val
	movabsq $\val, %rcx
	cmpq %rcx, \reg
	je 1f
	incq -56(%rbp)
1:
	.endm
	CHECK %rbx, 0x1010101010101010
	CHECK %r12, 0x1212121212121212
	CHECK %r13, 0x1313131313131313
	CHECK %r14, 0x1414141414141414
	CHECK %r15, 0x1515151515151515
	CHECK %r8, 0x0808080808080808
	CHECK %r9, 0x0909090909090909
	CHECK %r10, 0x0a0a0a0a0a0a0a0a
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	movq %xmm\n, %r11
	CHECK %r11, (0x0101010101010101 * (\n + 1))
	.endr
	.irp n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
	movq -(\n * 8)(%rsp), %r11
	CHECK %r11, (0x7e7e7e7e00000000 + \n)
	.endr
	movq -48(%rbp), %rcx
	movq -56(%rbp), %r11
	movq %r11, (%rcx)
	leaq -40(%rbp), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
