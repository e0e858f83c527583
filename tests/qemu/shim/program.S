/* program.S - embeds the static-pie executable named by PROGRAM. */
	.section .rodata
	.balign 4096
	.globl embedded_program, embedded_program_end
embedded_program:
	.incbin PROGRAM
embedded_program_end:
	.section .note.GNU-stack, "", @progbits
