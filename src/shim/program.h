/*
 * program.h - a Linux program's start and end in the shim: what start.c
 * needs of a loaded program and the initial stack it builds (start.c),
 * the boot command line as argv and envp (args.c), the time slice of
 * Linux threads, and the end of the whole program.
 *
 * Locking: none; cubi_shim_start runs once, in the coroutine that
 * becomes the initial thread.
 */
#ifndef CUBRT_SHIM_PROGRAM_H
#define CUBRT_SHIM_PROGRAM_H

#include <cubrt/base.h>

/* What start.c needs to know of a loaded program. */
struct cubi_program {
	uintptr_t entry;	/* AT_ENTRY, where execution starts */
	uintptr_t phdr;		/* AT_PHDR: its program headers in memory */
	unsigned phnum;		/* AT_PHNUM */
};

/* Builds the initial stack and jumps to pg->entry in the running
 * coroutine; returns only on error (-CUB_EINVAL, -CUB_ENOMEM). */
int cubi_shim_start(const struct cubi_program *pg, int argc, char *const argv[],
		    char *const envp[]);

/* args.c: the boot command line as argv (argv[0] = name) and envp, both
 * NULL-terminated; returns argc. */
#define CUBI_ARGS_MAX 64
int cubi_shim_cmdline_args(const char *name, char *argv[CUBI_ARGS_MAX + 2],
			   char *envp[CUBI_ARGS_MAX + 1]);

/* The time slice program images run their Linux threads with. */
#define CUBI_LINUX_SLICE_NS (10u * 1000 * 1000)

/* Ends the whole program (exit_group): flushes nothing, exits the machine. */
CUB_NORETURN void cubi_shim_exit_program(int status);

#endif
