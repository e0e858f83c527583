/*
 * boot.S - multiboot 1 entry: 32-bit protected mode -> 64-bit long mode.
 *
 * QEMU's -kernel loader (and GRUB) enters cubi_boot_entry32 in 32-bit
 * protected mode, paging off, eax = multiboot magic, ebx = info pointer.
 * We clear .bss, check for long mode, identity-map the first 4 GiB with
 * 2 MiB pages (temporary: paging.c replaces them with fine-grained,
 * protected tables), enable PAE + long mode + NX + write-protect, load a
 * 64-bit GDT, enable SSE, and call cubi_x86_boot(magic, info) on the boot
 * stack, which has an unmapped guard page below it once paging.c ran.
 */
#include "x86_asm.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))	/* align mods, mem map, addresses */

	.section .multiboot, "a"
	.balign 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header			/* header_addr */
	.long __image_start		/* load_addr */
	.long __data_end		/* load_end_addr */
	.long __image_end		/* bss_end_addr */
	.long cubi_boot_entry32		/* entry_addr */

	.section .boot32, "ax"
	.code32
	.globl cubi_boot_entry32
cubi_boot_entry32:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info

	/* Zero .bss (holds the boot stack and page tables used below). */
	movl $__bss_start, %edi
	movl $__image_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $cubi_boot_stack_top, %esp

	/* Long mode present? cpuid 0x80000001 edx bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* pml4[0] -> pdpt; pdpt[0..3] -> pd[0..3]; pd[i] = i * 2 MiB, PS|RW|P. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $0x3, %eax
	xorl %ecx, %ecx
1:	movl %eax, boot_pdpt(, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jne 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, boot_pd(, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: (i * 2 MiB) >> 32 */
	movl %eax, boot_pd + 4(, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $(1 << 5), %eax		/* PAE */
	movl %eax, %cr4
	movl $0xC0000080, %ecx		/* EFER: LME | NXE */
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax	/* PG | WP | PE */
	movl %eax, %cr0
	lgdt boot_gdt_ptr
	ljmp $0x08, $entry64

no_long_mode:
	movl $msg_no_lm, %esi
3:	lodsb
	testb %al, %al
	jz 4f
	movw $0x3F8, %dx
	outb %al, %dx
	jmp 3b
4:	movw $0xF4, %dx			/* isa-debug-exit: status 125 */
	movl $(125 + 1), %eax
	outl %eax, %dx
5:	hlt
	jmp 5b

	.code64
entry64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $cubi_boot_stack_top, %rsp

	/* SSE for applications: CR0.EM=0, CR0.MP=1; CR4.OSFXSR|OSXMMEXCPT
	 * (an unmasked SSE exception raises #XM, not #UD). CR0.NE: an
	 * unmasked x87 exception raises #MF, not the legacy FERR#/IRQ 13. */
	movq %cr0, %rax
	andq $~(1 << 2), %rax
	orq $((1 << 1) | (1 << 5)), %rax
	movq %rax, %cr0
	movq %cr4, %rax
	orq $((1 << 9) | (1 << 10)), %rax
	movq %rax, %cr4
	fninit

	xorl %ebp, %ebp			/* ends frame-pointer backtraces */
	movl boot_magic, %edi
	movl boot_info, %esi
	call cubi_x86_boot
	ud2

	.section .rodata
msg_no_lm:
	.asciz "cubrt: this CPU has no 64-bit long mode\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209A0000000000	/* 0x08: 64-bit code */
	.quad 0x0000920000000000	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.data
	.balign 4
boot_magic:
	.long 0
boot_info:
	.long 0

	.section .bss.boot, "aw", @nobits
	.balign 4096
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	/* The boot stack: one guard page (unmapped by paging.c), then 32 KiB. */
	.globl cubi_boot_stack_guard, cubi_boot_stack_bottom, cubi_boot_stack_top
cubi_boot_stack_guard:
	.skip 4096
cubi_boot_stack_bottom:
	.skip BOOT_STACK_SIZE
cubi_boot_stack_top:

	.section .note.GNU-stack, "", @progbits
