/*
 * runtime.c - portable start-up: initialise the subsystems in layer order,
 * then run the application's cub_main() as the first coroutine and exit
 * with its status (as in Go, the program ends when cub_main returns, even
 * if other coroutines are still running). The boot switch CUBRT_PROF=hz
 * profiles the whole run (prof.c; cub_exit prints the report).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>

#include "prof_impl.h"

const char *cub_cmdline(void)
{
	return cub_arch_cmdline();
}

/* The first coroutine. Contexts: task. */
static void *main_coro(void *arg)
{
	(void)arg;
	cubi_prof_boot(cub_arch_cmdline());	/* CUBRT_PROF=hz */
	cub_exit(cub_main());
}

CUB_NORETURN void cubi_runtime_start(void)
{
	int rc;

	cubi_mem_init();	/* first: frames, heap and stacks */
	rc = cub_sched_run(main_coro, NULL, NULL);

	cub_panic("cubi_runtime_start: the scheduler returned (%s)",
		  cub_strerror(rc));
}
