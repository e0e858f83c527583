/*
 * scen_preempt.c - shared scenario (see scenarios.h): with preemption on,
 * two coroutines that spin without ever yielding both make progress. Each
 * spins until the other has advanced while it was itself mid-loop, which
 * only a timer-driven switch allows; without preemption the first spinner
 * never ends (the host test's and the QEMU runner's timeouts catch that).
 * The caller switches preemption on (cubi_preempt_set_slice) first.
 */
#include <cubrt/sched.h>

#include "scenarios.h"
#include "sched_hooks.h"

volatile long sched_preempt_spins[2];
static volatile bool spun_out[2];

static void *spinner(void *arg)
{
	int me = (int)(intptr_t)arg;
	long start = sched_preempt_spins[1 - me];

	while (!spun_out[1 - me] && sched_preempt_spins[1 - me] < start + 1000)
		sched_preempt_spins[me]++;
	spun_out[me] = true;
	return NULL;
}

void *sched_preempt_scenario(void *arg)
{
	uint64_t before = cubi_preempt_count();
	struct cub_coro *a, *b;

	(void)arg;
	sched_preempt_spins[0] = sched_preempt_spins[1] = 0;
	spun_out[0] = spun_out[1] = false;
	if (cub_coro_spawn(&a, spinner, (void *)0, NULL) ||
	    cub_coro_spawn(&b, spinner, (void *)1, NULL))
		return (void *)"spawn failed";
	cub_coro_join(a, NULL);
	cub_coro_join(b, NULL);
	if (sched_preempt_spins[0] < 1000 || sched_preempt_spins[1] <= 0)
		return (void *)"a spinner made no progress";
	if (cubi_preempt_count() == before)
		return (void *)"no preemption counted";
	return NULL;
}
