/*
 * scen_sync.c - shared scenarios (see scenarios.h) for sync.h: mutex,
 * condition variable, wait group and once.
 */
#include <cubrt/sched.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "scenarios.h"

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c))                                               \
			return (void *)("check failed: " #c);           \
	} while (0)

/* ---------------------------------------------------------------- mutex */

static struct cub_mutex mu = CUB_MUTEX_INIT(mu);
static int inside, counter, violations;
static int lock_order[8], nlock;

static void *locker(void *arg)
{
	for (int i = 0; i < 10; i++) {
		cub_mutex_lock(&mu);
		if (i == 0)
			lock_order[nlock++] = (int)(intptr_t)arg;
		if (inside++)
			violations++;
		cub_coro_yield();	/* others pile up on the mutex */
		counter++;
		inside--;
		cub_mutex_unlock(&mu);
	}
	return NULL;
}

static void *scen_mutex(void *arg)
{
	struct cub_coro *c[6];

	(void)arg;
	cub_mutex_init(&mu);
	inside = counter = violations = nlock = 0;
	CHECK(cub_mutex_trylock(&mu));
	CHECK(!cub_mutex_trylock(&mu));
	for (int i = 0; i < 6; i++)
		CHECK(cub_coro_spawn(&c[i], locker, (void *)(intptr_t)i, NULL) == 0);
	cub_coro_yield();		/* all six block, in spawn order */
	cub_mutex_unlock(&mu);		/* handed to locker 0 */
	CHECK(mu.owner != cub_coro_self());
	for (int i = 0; i < 6; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	CHECK(violations == 0);
	CHECK(counter == 60);
	for (int i = 0; i < 6; i++)
		CHECK(lock_order[i] == i);	/* FIFO hand-off */
	CHECK(mu.owner == NULL);
	return NULL;
}

/* ----------------------------------------------------------------- cond */

static struct cub_cond cv = CUB_COND_INIT(cv);
static int items, consumed, woken;

static void *consumer(void *arg)
{
	(void)arg;
	cub_mutex_lock(&mu);
	while (items == 0)
		cub_cond_wait(&cv, &mu);
	items--;
	consumed++;
	cub_mutex_unlock(&mu);
	return NULL;
}

static void *broadcast_waiter(void *arg)
{
	(void)arg;
	cub_mutex_lock(&mu);
	cub_cond_wait(&cv, &mu);
	woken++;
	cub_mutex_unlock(&mu);
	return NULL;
}

static void *scen_cond(void *arg)
{
	struct cub_coro *c[4];
	uint64_t t0;

	(void)arg;
	cub_mutex_init(&mu);
	cub_cond_init(&cv);
	items = consumed = woken = 0;
	for (int i = 0; i < 4; i++)
		CHECK(cub_coro_spawn(&c[i], consumer, NULL, NULL) == 0);
	cub_coro_yield();
	for (int i = 0; i < 4; i++) {
		cub_mutex_lock(&mu);
		items++;
		cub_cond_signal(&cv);
		cub_mutex_unlock(&mu);
		cub_coro_yield();
		CHECK(consumed == i + 1);	/* signal woke exactly one */
	}
	for (int i = 0; i < 4; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	cub_cond_signal(&cv);			/* nobody waits: no effect */
	for (int i = 0; i < 4; i++)
		CHECK(cub_coro_spawn(&c[i], broadcast_waiter, NULL, NULL) == 0);
	cub_coro_yield();
	cub_cond_broadcast(&cv);
	for (int i = 0; i < 4; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	CHECK(woken == 4);
	/* Timed wait: times out with the mutex held again. */
	cub_mutex_lock(&mu);
	t0 = cub_time_now();
	CHECK(cub_cond_timedwait(&cv, &mu, t0 + 5 * CUB_NSEC_PER_MSEC) ==
	      -CUB_ETIMEDOUT);
	CHECK(cub_time_now() >= t0 + 5 * CUB_NSEC_PER_MSEC);
	CHECK(mu.owner == cub_coro_self());
	CHECK(cub_cond_timedwait(&cv, &mu, 0) == -CUB_ETIMEDOUT);
	cub_mutex_unlock(&mu);
	return NULL;
}

static void *signal_soon(void *arg)
{
	(void)arg;
	cub_sleep(2 * CUB_NSEC_PER_MSEC);
	cub_mutex_lock(&mu);
	cub_cond_signal(&cv);
	cub_mutex_unlock(&mu);
	return NULL;
}

static void *scen_cond_timed_signal(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	cub_mutex_init(&mu);
	cub_cond_init(&cv);
	cub_mutex_lock(&mu);
	CHECK(cub_coro_spawn(&c, signal_soon, NULL, NULL) == 0);
	CHECK(cub_cond_timedwait(&cv, &mu, cub_time_now() +
				 10 * CUB_NSEC_PER_SEC) == 0);
	CHECK(mu.owner == cub_coro_self());
	cub_mutex_unlock(&mu);
	CHECK(cub_coro_join(c, NULL) == 0);
	return NULL;
}

/* ----------------------------------------------------------- wait group */

static int wg_done_count;

static void *wg_worker(void *arg)
{
	cub_sleep((uint64_t)(wg_done_count % 3) * CUB_NSEC_PER_MSEC);
	wg_done_count++;
	cub_wg_done(arg);
	return NULL;
}

static void *wg_waiter(void *arg)
{
	cub_wg_wait(arg);
	return (void *)(intptr_t)wg_done_count;
}

static void *scen_wg(void *arg)
{
	struct cub_wg wg = CUB_WG_INIT(wg);
	struct cub_coro *w[3];
	void *r;

	(void)arg;
	wg_done_count = 0;
	cub_wg_wait(&wg);			/* zero: returns at once */
	cub_wg_add(&wg, 10);
	for (int i = 0; i < 3; i++)
		CHECK(cub_coro_spawn(&w[i], wg_waiter, &wg, NULL) == 0);
	for (int i = 0; i < 10; i++)
		CHECK(cub_coro_spawn(NULL, wg_worker, &wg, NULL) == 0);
	cub_wg_wait(&wg);
	CHECK(wg_done_count == 10);
	for (int i = 0; i < 3; i++) {
		CHECK(cub_coro_join(w[i], &r) == 0);
		CHECK(r == (void *)10);
	}
	return NULL;
}

/* ----------------------------------------------------------------- once */

static struct cub_once once = CUB_ONCE_INIT(once);
static int once_calls, once_value;

static void init_value(void *arg)
{
	once_calls++;
	cub_coro_yield();		/* the others must wait, not re-run */
	once_value = (int)(intptr_t)arg;
}

static void *once_user(void *arg)
{
	cub_once_do(&once, init_value, arg);
	return (void *)(intptr_t)once_value;
}

static void *scen_once(void *arg)
{
	struct cub_coro *c[5];
	void *r;

	(void)arg;
	cub_once_init(&once);
	once_calls = once_value = 0;
	for (int i = 0; i < 5; i++)
		CHECK(cub_coro_spawn(&c[i], once_user, (void *)(intptr_t)(i + 7),
				     NULL) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(cub_coro_join(c[i], &r) == 0);
		CHECK(r == (void *)7);
	}
	cub_once_do(&once, init_value, (void *)99);
	CHECK(once_calls == 1 && once_value == 7);
	return NULL;
}

const struct scenario sched_sync_scenarios[] = {
	{ "mutex", scen_mutex },
	{ "cond", scen_cond },
	{ "cond_timed_signal", scen_cond_timed_signal },
	{ "waitgroup", scen_wg },
	{ "once", scen_once },
};
const unsigned sched_sync_scenario_count = CUB_ARRAY_SIZE(sched_sync_scenarios);
