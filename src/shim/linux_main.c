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
 * The boot command line becomes the program's environment and arguments,
 * like env(1): leading NAME=value words are environment variables, the
 * rest argv[1..]. Words are separated by spaces; no quoting. Linux
 * threads are preemptible: a 10 ms time slice is switched on.
 */
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#include "../core/elf.h"
#include "../sched/sched_hooks.h"
#include "shim_impl.h"

#define MAX_WORDS 64
#define SLICE_NS (10u * 1000 * 1000)

extern char __image_start[];
extern void _start(void);		/* musl's crt1.o */
extern const char cubi_linux_program_name[];	/* from scripts/musl-image */

static char cmdline[1024];

/* Splits s in place at spaces; returns the number of words. */
static int split(char *s, char *words[], int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ')
			*s++ = '\0';
		if (!*s)
			break;
		words[n++] = s;
		while (*s && *s != ' ')
			s++;
	}
	return n;
}

int cub_main(void)
{
	const struct elf64_ehdr *eh = (const void *)__image_start;
	char *words[MAX_WORDS], *argv[MAX_WORDS + 2], *envp[MAX_WORDS + 1];
	int n, argc = 0, envc = 0, i = 0, rc;

	if (cub_memcmp(eh->ident, "\177ELF", 4))
		cub_panic("linux: the image carries no ELF header (link with cubrt.ld)");
	cub_strlcpy(cmdline, cub_cmdline(), sizeof(cmdline));
	n = split(cmdline, words, MAX_WORDS);
	for (; i < n && cub_strchr(words[i], '=') && words[i][0] != '='; i++)
		envp[envc++] = words[i];
	envp[envc] = NULL;
	argv[argc++] = (char *)cubi_linux_program_name;
	for (; i < n; i++)
		argv[argc++] = words[i];
	argv[argc] = NULL;
	cubi_preempt_set_slice(SLICE_NS);
	rc = cubi_shim_start(&(struct cubi_program){
		.entry = (uintptr_t)_start,
		.phdr = (uintptr_t)__image_start + eh->phoff,
		.phnum = eh->phnum }, argc, argv, envp);
	cub_panic("linux: cannot start %s: %s", cubi_linux_program_name,
		  cub_strerror(rc));
}
