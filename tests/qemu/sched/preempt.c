/*
 * preempt.c - the shared preemption scenario (tests/unit/sched/
 * scen_preempt.c, also run by the host cmocka test) on bare metal, with
 * 2 ms slices: two coroutines that spin without ever yielding both make
 * progress. cub_main is already a coroutine, so the scenario body runs
 * directly. Without preemption the first spinner never ends (the
 * runner's timeout). Then two coroutines woken by the slice tick's own
 * interrupt while the CPU idles (sched_preempt_woken_scenario).
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/time.h>

#include "scenarios.h"
#include "sched_hooks.h"

int cub_main(void)
{
	const char *failed;

	cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	failed = sched_preempt_scenario(NULL);
	cub_printk("spinners: %ld and %ld iterations, %lu preemptions\n",
		   sched_preempt_spins[0], sched_preempt_spins[1],
		   (unsigned long)cubi_preempt_count());
	if (failed) {
		cub_printk("preempt scenario: %s\n", failed);
		return 1;
	}
	failed = sched_preempt_woken_scenario(NULL);
	cub_printk("woken together: %s\n", failed ? failed : "both ran");
	return failed ? 1 : 0;
}
