/*
 * scenarios_main.c - the scheduler's shared scenarios (tests/unit/sched/
 * scen_*.c, also run by the host cmocka test) on bare metal. cub_main is
 * already the first coroutine ("main"), so each scenario body runs
 * directly in it. Exit status: 0 when all pass, 1 otherwise.
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>

#include "scenarios.h"

static int run_all(const struct scenario *s, unsigned n)
{
	int failed = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *err = s[i].fn(NULL);

		cub_printk("sched scenario %s: %s\n", s[i].name,
			   err ? err : "ok");
		failed += err != NULL;
	}
	return failed;
}

int cub_main(void)
{
	int failed = run_all(sched_scenarios, sched_scenario_count) +
		     run_all(sched_sync_scenarios, sched_sync_scenario_count);

	cub_printk("sched scenarios: %d failed\n", failed);
	return failed ? 1 : 0;
}
