/*
 * scen_coro.c - shared scenarios (see scenarios.h): coroutines, FIFO
 * order, join, exit, ps listing, sleep and timers.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "scenarios.h"
#include "sched_hooks.h"

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c))                                               \
			return (void *)("check failed: " #c);           \
	} while (0)

uint64_t sched_sleep_slack_ns = 500 * CUB_NSEC_PER_MSEC;

/* ----------------------------------------------------------- FIFO order */

static int order[64];
static unsigned norder;

static void *record_rounds(void *arg)
{
	for (int round = 0; round < 3; round++) {
		order[norder++] = (int)(intptr_t)arg + 10 * round;
		cub_coro_yield();
	}
	return NULL;
}

/* The order of yields alone: preemption (the preempt build's 10 ms
 * slice) is off meanwhile, since a preempted coroutine goes to the back
 * of the run queue between its record and its yield - which a loaded
 * host pausing QEMU for two slices did (x86-options). */
static void *scen_fifo(void *arg)
{
	uint64_t slice = cubi_preempt_set_slice(0);
	struct cub_coro *c[5];

	(void)arg;
	norder = 0;
	for (int i = 0; i < 5; i++)
		CHECK(cub_coro_spawn(&c[i], record_rounds, (void *)(intptr_t)i,
				     NULL) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	cubi_preempt_set_slice(slice);
	CHECK(norder == 15);
	/* Round robin: everybody's round r before anybody's round r + 1. */
	for (unsigned k = 0; k < 15; k++)
		CHECK(order[k] == (int)(k % 5) + 10 * (int)(k / 5));
	return NULL;
}

/* -------------------------------------------------------- join and exit */

static void *twice(void *arg)
{
	cub_coro_yield();
	return (void *)((intptr_t)arg * 2);
}

static void exit_deep(int depth, void *result);
static void (*volatile exit_deeper)(int, void *) = exit_deep;

/* Exits from a few frames down (the frames are simply abandoned). */
static void exit_deep(int depth, void *result)
{
	if (depth > 0)
		exit_deeper(depth - 1, result);
	cub_coro_exit(result);
}

static void *exits(void *arg)
{
	exit_deep(5, arg);
	return (void *)-1;	/* not reached */
}

static void *joins_target(void *arg)
{
	void *r;

	return (void *)(intptr_t)cub_coro_join(arg, &r);
}

static void *scen_join(void *arg)
{
	struct cub_coro *c[8], *e, *j1, *j2;
	void *r = NULL;

	(void)arg;
	for (int i = 0; i < 8; i++)
		CHECK(cub_coro_spawn(&c[i], twice, (void *)(intptr_t)i, NULL) == 0);
	for (int i = 7; i >= 0; i--) {
		CHECK(cub_coro_join(c[i], &r) == 0);
		CHECK(r == (void *)(intptr_t)(2 * i));
	}
	CHECK(cub_coro_spawn(&e, exits, (void *)0x1234, NULL) == 0);
	CHECK(cub_coro_join(e, &r) == 0 && r == (void *)0x1234);
	CHECK(cub_coro_join(cub_coro_self(), NULL) == -CUB_EDEADLK);
	CHECK(cub_coro_join(NULL, NULL) == -CUB_EINVAL);
	/* A second joiner is refused while the first waits. */
	CHECK(cub_coro_spawn(&e, twice, (void *)1, NULL) == 0);
	CHECK(cub_coro_spawn(&j1, joins_target, e, NULL) == 0);
	cub_coro_yield();	/* j1 now waits in join; e yielded once */
	CHECK(cub_coro_spawn(&j2, joins_target, e, NULL) == 0);
	CHECK(cub_coro_join(j2, &r) == 0 && r == (void *)(intptr_t)-CUB_EINVAL);
	CHECK(cub_coro_join(j1, &r) == 0 && r == (void *)0);
	return NULL;
}

/* A joiner woken by the end of its target queues behind coroutines that
 * were ready first (FIFO), and runs at once when none is. */
static void *yield_then_record(void *arg)
{
	cub_coro_yield();
	order[norder++] = (int)(intptr_t)arg;
	return NULL;
}

static void *record_yield_record(void *arg)
{
	order[norder++] = (int)(intptr_t)arg;
	cub_coro_yield();
	order[norder++] = (int)(intptr_t)arg + 2;
	return NULL;
}

static void *scen_join_order(void *arg)
{
	struct cub_coro *t, *r;
	static const int want[] = { 2, 1, 4, 5, 6, 7 };

	(void)arg;
	norder = 0;
	CHECK(cub_coro_spawn(&t, yield_then_record, (void *)1, NULL) == 0);
	CHECK(cub_coro_spawn(&r, record_yield_record, (void *)2, NULL) == 0);
	/* t yields, r records 2 and yields, t records 1 and ends: r was
	 * ready before this joiner, so r finishes (4) before we go on. */
	CHECK(cub_coro_join(t, NULL) == 0);
	order[norder++] = 5;
	CHECK(cub_coro_join(r, NULL) == 0);
	/* Nothing else ready: the target hands the CPU straight back. */
	CHECK(cub_coro_spawn(&t, yield_then_record, (void *)6, NULL) == 0);
	CHECK(cub_coro_join(t, NULL) == 0);
	order[norder++] = 7;
	CHECK(norder == 6);
	for (unsigned k = 0; k < norder; k++)
		CHECK(order[k] == want[k]);
	return NULL;
}

/* -------------------------------------------------- spawn and attributes */

static int detached_ran;

static void *detached(void *arg)
{
	detached_ran++;
	cub_wg_done(arg);
	return NULL;
}

static const struct cub_coro_attr tiny = {
	.stack_size = CUB_CORO_STACK_MIN, .flags = CUB_CORO_SMALL };

static void *scen_spawn(void *arg)
{
	struct cub_coro_attr a = { .name = "named", .flags = CUB_CORO_SMALL };
	struct cub_coro *c;
	struct cub_wg wg;
	void *r;

	(void)arg;
	CHECK(cub_coro_self() != NULL);
	CHECK(cub_strcmp(cub_coro_name(cub_coro_self()), "main") == 0);
	CHECK(cub_coro_spawn(&c, NULL, NULL, NULL) == -CUB_EINVAL);
	CHECK(cub_coro_spawn(&c, twice, NULL, &(struct cub_coro_attr){
				     .stack_size = 100 }) == -CUB_EINVAL);
	CHECK(cub_coro_spawn(&c, twice, NULL, &(struct cub_coro_attr){
				     .flags = 0x80 }) == -CUB_EINVAL);
	CHECK(cub_coro_spawn(&c, twice, (void *)21, &a) == 0);
	CHECK(cub_strcmp(cub_coro_name(c), "named") == 0);
	CHECK(cub_coro_join(c, &r) == 0 && r == (void *)42);
	CHECK(cub_coro_spawn(&c, twice, (void *)1, &(struct cub_coro_attr){
				     .stack_size = 256 * 1024 }) == 0);
	CHECK(cub_strncmp(cub_coro_name(c), "coro#", 5) == 0);
	CHECK(cub_coro_id(c) > cub_coro_id(cub_coro_self()));
	CHECK(cub_coro_join(c, NULL) == 0);
	/* A 2 KiB small stack: one heap block with its record. */
	CHECK(cub_coro_spawn(&c, twice, (void *)8, &tiny) == 0);
	CHECK(cub_coro_join(c, &r) == 0 && r == (void *)16);
	/* Detached coroutines vanish on their own (the 2 KiB ones go back
	 * to the heap 16 at a time). */
	cub_wg_init(&wg);
	detached_ran = 0;
	cub_wg_add(&wg, 60);
	for (int i = 0; i < 60; i++)
		CHECK(cub_coro_spawn(NULL, detached, &wg,
				     i < 20 ? NULL : &tiny) == 0);
	cub_wg_wait(&wg);
	CHECK(detached_ran == 60);
	return NULL;
}

/* -------------------------------------------------------------- listing */

static void *lock_and_hold(void *arg)
{
	cub_mutex_lock(arg);
	cub_mutex_unlock(arg);
	return NULL;
}

static void *scen_ps(void *arg)
{
	struct cub_coro_info info[8];
	struct cub_mutex m = CUB_MUTEX_INIT(m);
	struct cub_coro *c;
	size_t n;
	bool seen = false;

	(void)arg;
	cub_mutex_lock(&m);
	CHECK(cub_coro_spawn(&c, lock_and_hold, &m, &(struct cub_coro_attr){
				     .name = "waiter" }) == 0);
	cub_coro_yield();
	n = cub_coro_list(info, CUB_ARRAY_SIZE(info));
	CHECK(n >= 2 && n <= CUB_ARRAY_SIZE(info));
	CHECK(cub_coro_list(NULL, 0) == n);
	for (size_t i = 0; i < n; i++) {
		if (cub_strcmp(info[i].name, "waiter") != 0)
			continue;
		seen = true;
		CHECK(info[i].state == CUB_CORO_PARKED);
		CHECK(cub_strcmp(info[i].wait, "mutex lock") == 0);
		CHECK(info[i].stack_used > 0 &&
		      info[i].stack_used < info[i].stack_size);
	}
	CHECK(seen);
	CHECK(cub_coro_list(info, 1) == n);	/* count even when truncated */
	CHECK(info[0].state == CUB_CORO_RUNNING);	/* main, the oldest */
	CHECK(info[0].id == cub_coro_id(cub_coro_self()));
	CHECK(cub_strcmp(cub_coro_state_name(CUB_CORO_RUNNING), "running") == 0);
	CHECK(cub_strcmp(cub_coro_state_name(CUB_CORO_DONE), "done") == 0);
	/* cub_coro_stack_peak and cub_coro_ps read dead stack memory, which
	 * valgrind flags: the host deadlock test (a child) shows the table. */
	cub_mutex_unlock(&m);
	cub_coro_yield();	/* the waiter takes the mutex and ends */
	n = cub_coro_list(info, CUB_ARRAY_SIZE(info));
	seen = false;
	for (size_t i = 0; i < n && i < CUB_ARRAY_SIZE(info); i++)
		if (cub_strcmp(info[i].name, "waiter") == 0)
			seen = info[i].state == CUB_CORO_DONE && !info[i].wait;
	CHECK(seen);		/* ended, kept until joined */
	CHECK(cub_coro_join(c, NULL) == 0);
	return NULL;
}

/* ------------------------------------------------------------- sleeping */

static int woke[8];
static bool woke_late[8];	/* its deadline had passed when it slept */
static unsigned nwoke;
static bool early;
static uint64_t sleep_base;	/* the deadlines count from one instant, so
				 * their order is the durations' order
				 * however late a sleeper starts (a loaded
				 * host can pause the machine between two) */

static void *sleeper(void *arg)
{
	uint64_t ms = (uint64_t)(uintptr_t)arg;
	uint64_t deadline = sleep_base + ms * CUB_NSEC_PER_MSEC;
	bool late = cub_time_now() >= deadline;

	cub_sleep_until(deadline);
	if (cub_time_now() < deadline ||
	    cub_time_now() > deadline + sched_sleep_slack_ns)
		early = true;
	woke_late[nwoke] = late;
	woke[nwoke++] = (int)ms;
	return NULL;
}

static void *scen_sleep(void *arg)
{
	static const int ms[] = { 40, 10, 30, 0, 20, 5, 15, 25 };
	struct cub_coro *c[8];
	uint64_t t0, t1;

	(void)arg;
	nwoke = 0;
	early = false;
	sleep_base = cub_time_now();
	for (unsigned i = 0; i < 8; i++)
		CHECK(cub_coro_spawn(&c[i], sleeper, (void *)(uintptr_t)ms[i],
				     NULL) == 0);
	for (unsigned i = 0; i < 8; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	CHECK(!early);
	/* Those that slept before their deadline woke in deadline order.
	 * One whose deadline had passed when it got to run (ms 0 always;
	 * others when a loaded host paused the machine for milliseconds)
	 * only yielded, and wakes in run-queue order. */
	for (int i = 0, prev = -1; i < 8; i++) {
		if (woke_late[i])
			continue;
		CHECK(prev < woke[i]);
		prev = woke[i];
	}
	t0 = cub_time_now();
	CHECK(cub_sleep(3 * CUB_NSEC_PER_MSEC) == 0);
	t1 = cub_time_now();
	CHECK(t1 - t0 >= 3 * CUB_NSEC_PER_MSEC);
	CHECK(cub_sleep(0) == 0);
	CHECK(cub_sleep_until(0) == 0);
	return NULL;
}

/* --------------------------------------------------------------- timers */

static unsigned fired_mask;
static bool fired_badctx;

static void on_timer(struct cub_timer *t, void *arg)
{
	(void)t;
	if (!cub_arch_in_irq() || cub_arch_irq_enabled())
		fired_badctx = true;
	fired_mask |= 1u << (uintptr_t)arg;
}

static void *scen_timers(void *arg)
{
	struct cub_timer t[16];
	uint64_t now = cub_time_now();

	(void)arg;
	fired_mask = 0;
	fired_badctx = false;
	/* Evens but 0 expire within 2..16 ms, in a shuffled order; the odd
	 * ones and t[0] lie far enough out (a second, 100 ms) that a loaded
	 * host pausing the machine cannot let them fire before they are
	 * cancelled or moved. */
	for (uintptr_t i = 0; i < 16; i++) {
		uint64_t ms = i % 2 ? 1000 : i == 0 ? 100 : 2 + (i * 7) % 16;

		cub_timer_init(&t[i], on_timer, (void *)i);
		CHECK(!cub_timer_pending(&t[i]));
		cub_timer_start(&t[i], now + ms * CUB_NSEC_PER_MSEC);
	}
	for (unsigned i = 1; i < 16; i += 2)
		CHECK(cub_timer_stop(&t[i]));	/* pending: cancelled */
	CHECK(!cub_timer_stop(&t[1]));		/* already stopped */
	/* Restarting moves the deadline: t[0] later, t[2] into the past. */
	cub_timer_start(&t[0], now + 200 * CUB_NSEC_PER_MSEC);
	cub_timer_start(&t[2], 0);
	cub_sleep_until(now + 20 * CUB_NSEC_PER_MSEC);
	CHECK(!fired_badctx);
	CHECK(fired_mask == 0x5554);		/* evens but 0 */
	CHECK(!cub_timer_stop(&t[4]));		/* already expired */
	cub_sleep_until(now + 250 * CUB_NSEC_PER_MSEC);
	CHECK(fired_mask == 0x5555);
	for (unsigned i = 0; i < 16; i++)
		CHECK(!cub_timer_pending(&t[i]));
	return NULL;
}

const struct scenario sched_scenarios[] = {
	{ "fifo", scen_fifo },
	{ "join", scen_join },
	{ "join_order", scen_join_order },
	{ "spawn", scen_spawn },
	{ "ps", scen_ps },
	{ "sleep", scen_sleep },
	{ "timers", scen_timers },
};
const unsigned sched_scenario_count = CUB_ARRAY_SIZE(sched_scenarios);

const char *sched_scenario_run(const struct scenario *s)
{
	void *r = (void *)"cub_sched_run failed";
	int rc = cub_sched_run(s->fn, NULL, &r);

	if (rc)
		return "cub_sched_run failed";
	return r;
}
