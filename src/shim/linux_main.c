/*
 * linux_main.c - cub_main() of a Linux program image (scripts/musl-image).
 *
 * The image links an unmodified static program - musl's crt1.o and
 * libc.a with the program's objects - together with cubrt. cubrt boots,
 * and this cub_main starts the program through musl's own _start with the
 * initial stack a Linux kernel would build (start.c). The program's ELF
 * and program headers are loaded with the image (cubrt.ld), so AT_PHDR
 * points at them and musl finds its PT_TLS segment.
 *
 * The boot command line becomes the program's environment and arguments
 * (args.c). Linux threads are preemptible: a 10 ms time slice is
 * switched on.
 */
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#include "../core/elf.h"
#include "../sched/sched_hooks.h"
#include "shim_impl.h"

extern char __image_start[];
extern void _start(void);		/* musl's crt1.o */
extern const char cubi_linux_program_name[];	/* from scripts/musl-image */

int cub_main(void)
{
	const struct elf64_ehdr *eh = (const void *)__image_start;
	char *argv[CUBI_ARGS_MAX + 2], *envp[CUBI_ARGS_MAX + 1];
	int argc, rc;

	if (cub_memcmp(eh->ident, "\177ELF", 4))
		cub_panic("linux: the image carries no ELF header (link with cubrt.ld)");
	argc = cubi_shim_cmdline_args(cubi_linux_program_name, argv, envp);
	cubi_preempt_set_slice(CUBI_LINUX_SLICE_NS);
	rc = cubi_shim_start(&(struct cubi_program){
		.entry = (uintptr_t)_start,
		.phdr = (uintptr_t)__image_start + eh->phoff,
		.phnum = eh->phnum }, argc, argv, envp);
	cub_panic("linux: cannot start %s: %s", cubi_linux_program_name,
		  cub_strerror(rc));
}
