/*
 * deadlock.c - every coroutine blocked with nothing that could wake it:
 * the scheduler must print the deadlock report (each coroutine and what it
 * waits on) and exit with status 125 instead of halting forever.
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/sync.h>

static struct cub_mutex mu = CUB_MUTEX_INIT(mu);

static void *locker(void *arg)
{
	(void)arg;
	cub_mutex_lock(&mu);	/* held by main forever */
	return NULL;
}

int cub_main(void)
{
	struct cub_coro *c;

	cub_mutex_lock(&mu);
	if (cub_coro_spawn(&c, locker, NULL, &(struct cub_coro_attr){
				   .name = "stuck-locker" }))
		return 1;
	cub_printk("joining a coroutine that can never finish\n");
	cub_coro_join(c, NULL);
	return 2;	/* not reached */
}
