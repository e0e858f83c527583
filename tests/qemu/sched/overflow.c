/*
 * overflow.c - a coroutine that runs off the bottom of its guarded stack
 * must end in a fault report naming it (tests/qemu/sched/meson.build
 * checks the text and exit status 125).
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>

static void (*volatile descend)(unsigned);

/* Recursion whose frames stay live (no tail call). */
static void recurse(unsigned depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	descend(depth + 1);
	pad[1] = pad[0];
}

static void *diver(void *arg)
{
	(void)arg;
	descend = recurse;
	recurse(0);
	return NULL;
}

int cub_main(void)
{
	struct cub_coro *c;

	cub_printk("spawning deep-diver\n");
	if (cub_coro_spawn(&c, diver, NULL, &(struct cub_coro_attr){
				   .name = "deep-diver",
				   .stack_size = 16 * 1024 }))
		return 1;
	cub_coro_join(c, NULL);
	return 2;	/* not reached: the overflow ends the machine */
}
