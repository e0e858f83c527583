/*
 * runtime.c - portable start-up: initialise the subsystems in layer order,
 * then run the application's cub_main() and exit with its status.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>

const char *cub_cmdline(void)
{
	return cub_arch_cmdline();
}

CUB_NORETURN void cubi_runtime_start(void)
{
	cub_exit(cub_main());
}
