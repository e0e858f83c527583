/*
 * scen_preempt.c - shared scenario (see scenarios.h): with preemption on,
 * two coroutines that spin without ever yielding both make progress. Each
 * spins until the other has advanced while it was itself mid-loop, which
 * only a timer-driven switch allows; without preemption the first spinner
 * never ends (the host test's and the QEMU runner's timeouts catch that).
 * The caller switches preemption on (cubi_preempt_set_slice) first.
 */
#include <cubrt/sched.h>
#include <cubrt/time.h>

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

/*
 * Two coroutines woken by the interrupt that is also the slice tick's,
 * while the CPU idles: each marks that it ran, then spins until the other
 * has too. The tick must stay armed for the one left in the run queue
 * (it once was dropped because the CPU was idling when it fired, and the
 * first to run spun forever). The spin is bounded so that a regression
 * fails instead of hanging.
 */
#define WOKEN_SPIN_NS (5 * CUB_NSEC_PER_SEC)

static uint64_t woken_at;
static volatile bool woken_ran[2];

static void *woken(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t end;

	cub_sleep_until(woken_at);
	woken_ran[me] = true;
	end = cub_time_now() + WOKEN_SPIN_NS;
	while (!woken_ran[1 - me])
		if (cub_time_now() > end)
			return (void *)"a coroutine woken with another was never preempted";
	return NULL;
}

void *sched_preempt_woken_scenario(void *arg)
{
	struct cub_coro *c[2];
	void *r[2] = { NULL, NULL };

	(void)arg;
	woken_ran[0] = woken_ran[1] = false;
	for (int i = 0; i < 2; i++)
		if (cub_coro_spawn(&c[i], woken, (void *)(intptr_t)i, NULL))
			return (void *)"spawn failed";
	/* Both wait in the run queue, so the tick is armed: sleeping until
	 * exactly its deadline makes one interrupt wake both and find the
	 * tick due, with nothing running. */
	woken_at = cubi_preempt_deadline();
	if (!woken_at)
		return (void *)"no slice tick armed with coroutines ready";
	for (int i = 0; i < 2; i++)
		cub_coro_join(c[i], &r[i]);
	return r[0] ? r[0] : r[1];
}

/*
 * A coroutine spawned at boot, before cub_sched_run, must get the CPU
 * from a main that spins: the tick is armed when main starts with others
 * ready. Spawn boot_spawned_scenario's helper with
 * sched_preempt_boot_spawn() first, then run the scenario.
 */
static volatile bool boot_ran;

static void *boot_spawned(void *arg)
{
	(void)arg;
	boot_ran = true;
	return NULL;
}

int sched_preempt_boot_spawn(void)
{
	boot_ran = false;
	return cub_coro_spawn(NULL, boot_spawned, NULL, NULL);
}

void *sched_preempt_boot_scenario(void *arg)
{
	uint64_t end = cub_time_now() + WOKEN_SPIN_NS;

	(void)arg;
	while (!boot_ran)
		if (cub_time_now() > end)
			return (void *)"a coroutine spawned at boot never ran beside a spinning main";
	return NULL;
}
