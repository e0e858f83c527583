/*
 * preempt.c - with preemption on, two coroutines that spin without ever
 * yielding both make progress: each spins until the other has advanced
 * while it was itself mid-loop, which only a timer-driven switch allows.
 * Without preemption the first spinner never ends (the runner's timeout).
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "sched_hooks.h"

static volatile long spins[2];
static volatile bool spun_out[2];

static void *spinner(void *arg)
{
	int me = (int)(intptr_t)arg;
	long start = spins[1 - me];

	while (!spun_out[1 - me] && spins[1 - me] < start + 1000)
		spins[me]++;
	spun_out[me] = true;
	return NULL;
}

int cub_main(void)
{
	struct cub_coro *a, *b;

	cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	if (cub_coro_spawn(&a, spinner, (void *)0, NULL) ||
	    cub_coro_spawn(&b, spinner, (void *)1, NULL))
		return 1;
	cub_coro_join(a, NULL);
	cub_coro_join(b, NULL);
	cub_printk("spinners: %ld and %ld iterations, %lu preemptions\n",
		   spins[0], spins[1], (unsigned long)cubi_preempt_count());
	return spins[0] >= 1000 && spins[1] > 0 && cubi_preempt_count() > 0
		       ? 0 : 1;
}
