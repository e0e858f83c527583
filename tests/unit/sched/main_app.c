/*
 * main_app.c - a host program built with cubrt_main_dep (platform/host/
 * main.c): cub_main runs as the first coroutine "main", with the command
 * line joined from argv. Exit status 0 when all of that holds.
 */
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

static void *child(void *arg)
{
	cub_sleep(CUB_NSEC_PER_MSEC);
	return arg;
}

int cub_main(void)
{
	struct cub_coro *c;
	void *r = NULL;

	if (cub_strcmp(cub_cmdline(), "one two") != 0)
		return 1;
	if (cub_strcmp(cub_coro_name(cub_coro_self()), "main") != 0)
		return 2;
	if (cub_coro_spawn(&c, child, (void *)7, NULL) ||
	    cub_coro_join(c, &r) || r != (void *)7)
		return 3;
	return 0;
}
