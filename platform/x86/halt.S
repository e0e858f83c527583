/*
 * halt.S - the idle halt, at addresses of its own.
 *
 * cub_arch_idle (intr.c) calls cubi_x86_halt with interrupts disabled:
 * sti's one-instruction shadow keeps an interrupt from arriving between
 * it and the hlt, so no wake-up is lost. An interrupt taken while halted
 * returns to cubi_x86_halted, which is how the sampling profiler
 * (sample.c) tells idle time: an interrupted RIP of cubi_x86_halt_at or
 * cubi_x86_halted. Returns with interrupts disabled.
 */
	.text
	.code64

	.globl cubi_x86_halt, cubi_x86_halt_at, cubi_x86_halted
	.type cubi_x86_halt, @function
cubi_x86_halt:
	sti
cubi_x86_halt_at:
	hlt
cubi_x86_halted:
	cli
	ret
	.size cubi_x86_halt, . - cubi_x86_halt

	.section .note.GNU-stack, "", @progbits
