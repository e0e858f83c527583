/*
 * scenarios.h - scheduler scenarios shared by the host cmocka tests
 * (test_sched.c) and the bare-metal QEMU test (tests/qemu/sched).
 *
 * Each scenario is a coroutine body for cub_sched_run: it returns NULL on
 * success or a static string describing the first failed check. They use
 * only the public API, so the same source runs on both platforms.
 */
#ifndef SCHED_SCENARIOS_H
#define SCHED_SCENARIOS_H

#include <cubrt/sched.h>

struct scenario {
	const char *name;
	void *(*fn)(void *arg);
};

/* scen_coro.c: coroutines, ps, sleep, timers; scen_sync.c: sync.h. */
extern const struct scenario sched_scenarios[];
extern const unsigned sched_scenario_count;
extern const struct scenario sched_sync_scenarios[];
extern const unsigned sched_sync_scenario_count;

/* scen_preempt.c: two spinners that never yield both progress; run with
 * preemption on. sched_preempt_spins: each one's iterations. */
void *sched_preempt_scenario(void *arg);
extern volatile long sched_preempt_spins[2];
/* Two coroutines woken together while the CPU idles both progress. */
void *sched_preempt_woken_scenario(void *arg);
/* A coroutine spawned at boot (sched_preempt_boot_spawn, before
 * cub_sched_run) runs beside a spinning main (the scenario). */
int sched_preempt_boot_spawn(void);
void *sched_preempt_boot_scenario(void *arg);

/* Runs one scenario under cub_sched_run; returns NULL or the failure. */
const char *sched_scenario_run(const struct scenario *s);

/* Sleep lateness tolerated by the accuracy checks (ns); the platform's
 * timer resolution and an emulator's pauses are far below it. */
extern uint64_t sched_sleep_slack_ns;

#endif
