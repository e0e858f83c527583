/*
 * exec_main.c - cub_main() of an image that carries a separate static
 * Linux executable (scripts/go-image).
 *
 * For programs whose own linker lays out the address space, like Go's:
 * the executable stays a file inside the image (cubi_exec_program, an
 * .incbin) and cub_shim_exec loads it like a kernel would, at its link
 * address inside the VM window (ET_EXEC) or as a static-pie. The boot
 * command line becomes its environment and arguments (args.c); its
 * threads run with a 10 ms time slice, as in linux_main.c.
 */
#include <cubrt/panic.h>
#include <cubrt/shim.h>

#include "../sched/sched_hooks.h"
#include "shim_impl.h"

/* From the image's generated assembly (scripts/go-image). */
extern const char cubi_exec_program[], cubi_exec_program_end[];
extern const char cubi_linux_program_name[];

int cub_main(void)
{
	char *argv[CUBI_ARGS_MAX + 2], *envp[CUBI_ARGS_MAX + 1];
	int argc = cubi_shim_cmdline_args(cubi_linux_program_name, argv, envp);
	int rc;

	cubi_preempt_set_slice(CUBI_LINUX_SLICE_NS);
	/* As integers: the two labels are different objects to C. */
	rc = cub_shim_exec(cubi_exec_program,
			   (uintptr_t)cubi_exec_program_end - (uintptr_t)cubi_exec_program,
			   argc, argv, envp);
	cub_panic("exec: cannot start %s: %s", cubi_linux_program_name,
		  cub_strerror(rc));
}
