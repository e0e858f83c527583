/*
 * floor.S - the physical floor of booting under QEMU: a multiboot image of
 * a few instructions that exits at once through isa-debug-exit (status 0).
 * bench/boot compares booting examples/hello against booting this.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS (1 << 16)

	.section .multiboot, "a"
	.balign 4
hdr:	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
	.long hdr, __image_start, floor_end, floor_end, floor_entry

	.section .boot32, "ax"
	.code32
	.globl floor_entry
floor_entry:
	movw $0xF4, %dx
	movl $1, %eax		/* status 0 + 1, see platform/x86/machine.c */
	outl %eax, %dx
1:	hlt
	jmp 1b
floor_end:

	.section .note.GNU-stack, "", @progbits
