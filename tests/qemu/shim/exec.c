/*
 * exec.c - cub_shim_exec: load a separate static-pie Linux executable (an
 * unmodified `musl-gcc -static-pie` binary, embedded with .incbin by
 * program.S) into the VM window and run it in this coroutine.
 */
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/shim.h>

extern const char embedded_program[], embedded_program_end[];

int cub_main(void)
{
	char *argv[] = { "hello", "from", "exec", NULL };
	char *envp[] = { "WHO=exec", NULL };
	int rc;

	/* Bad images are refused before anything runs. */
	rc = cub_shim_exec("not an ELF file at all, sorry", 30, 1, argv, envp);
	cub_printk("exec of garbage: %s\n", cub_strerror(rc));
	if (rc != -CUB_EINVAL)
		return 1;
	rc = cub_shim_exec(embedded_program, (size_t)(embedded_program_end - embedded_program),
			   3, argv, envp);
	cub_panic("exec failed: %s", cub_strerror(rc));
}
