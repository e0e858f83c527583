/*
 * scen_sync.c - shared scenarios (see scenarios.h) for sync.h: mutex,
 * condition variable, wait group, once, reader-writer lock and counting
 * semaphore.
 */
#include <string.h>

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

/* --------------------------------------------------- reader-writer lock */

static struct cub_rwlock rw = CUB_RWLOCK_INIT(rw);
static int rw_readers, rw_writers, rw_max_readers, rw_bad;
static char rw_log[16];
static int rw_nlog;

/* A reader ('r') or writer ('w') that holds the lock across yields,
 * checking exclusion, and logs the order it got in. */
static void *rw_user(void *arg)
{
	char kind = (char)(intptr_t)arg;

	if (kind == 'w') {
		cub_rwlock_wrlock(&rw);
		rw_log[rw_nlog++] = 'w';
		if (rw_readers || rw_writers++)
			rw_bad++;
		cub_coro_yield();
		rw_writers--;
		cub_rwlock_wrunlock(&rw);
	} else {
		cub_rwlock_rdlock(&rw);
		rw_log[rw_nlog++] = 'r';
		if (rw_writers)
			rw_bad++;
		if (++rw_readers > rw_max_readers)
			rw_max_readers = rw_readers;
		cub_coro_yield();
		cub_coro_yield();
		rw_readers--;
		cub_rwlock_rdunlock(&rw);
	}
	return NULL;
}

static void *scen_rwlock(void *arg)
{
	static const char order[] = "rrrwrrw";
	struct cub_coro *c[7];

	(void)arg;
	cub_rwlock_init(&rw);
	rw_readers = rw_writers = rw_max_readers = rw_bad = rw_nlog = 0;
	/* readers share; a writer waits for them, then excludes */
	CHECK(cub_rwlock_tryrdlock(&rw));
	CHECK(cub_rwlock_tryrdlock(&rw));
	CHECK(!cub_rwlock_trywrlock(&rw));
	cub_rwlock_rdunlock(&rw);
	cub_rwlock_rdunlock(&rw);
	CHECK(cub_rwlock_trywrlock(&rw));
	CHECK(!cub_rwlock_tryrdlock(&rw) && !cub_rwlock_trywrlock(&rw));
	/* queued behind our write lock: r r r w r r w in spawn order */
	for (int i = 0; i < 7; i++)
		CHECK(cub_coro_spawn(&c[i], rw_user, (void *)(intptr_t)order[i],
				     NULL) == 0);
	cub_coro_yield();
	cub_rwlock_wrunlock(&rw);	/* the first three readers go in */
	for (int i = 0; i < 7; i++)
		CHECK(cub_coro_join(c[i], NULL) == 0);
	CHECK(rw_bad == 0);
	CHECK(rw_nlog == 7 && memcmp(rw_log, "rrrwrrw", 7) == 0);
	CHECK(rw_max_readers == 3);
	/* a waiting writer keeps new readers out (no writer starvation) */
	cub_rwlock_rdlock(&rw);
	CHECK(cub_coro_spawn(&c[0], rw_user, (void *)(intptr_t)'w', NULL) == 0);
	cub_coro_yield();		/* the writer waits for our read lock */
	CHECK(!cub_rwlock_tryrdlock(&rw));
	CHECK(cub_coro_spawn(&c[1], rw_user, (void *)(intptr_t)'r', NULL) == 0);
	rw_nlog = 0;
	cub_coro_yield();
	cub_rwlock_rdunlock(&rw);	/* writer, then the late reader */
	CHECK(cub_coro_join(c[0], NULL) == 0 && cub_coro_join(c[1], NULL) == 0);
	CHECK(rw_nlog == 2 && rw_log[0] == 'w' && rw_log[1] == 'r');
	CHECK(rw.writer == NULL && rw.readers == 0);
	return NULL;
}

/* ------------------------------------------------------------ semaphore */

static struct cub_sem sem = CUB_SEM_INIT(sem, 0);
static int sem_inside, sem_peak, sem_order[8], sem_nord;

/* Takes (arg & 0xff) units, holds them across yields, gives them back. */
static void *sem_user(void *arg)
{
	unsigned long n = (unsigned long)(intptr_t)arg & 0xff;
	int id = (int)((intptr_t)arg >> 8);

	if (cub_sem_acquire(&sem, n))
		return (void *)"acquire failed";
	sem_order[sem_nord++] = id;
	sem_inside += (int)n;
	if (sem_inside > sem_peak)
		sem_peak = sem_inside;
	cub_coro_yield();
	sem_inside -= (int)n;
	cub_sem_release(&sem, n);
	return NULL;
}

static void *sem_release_soon(void *arg)
{
	cub_sleep(2 * CUB_NSEC_PER_MSEC);
	cub_sem_release(&sem, (unsigned long)(intptr_t)arg);
	return NULL;
}

static void *sem_timed_five(void *arg)
{
	(void)arg;
	if (cub_sem_acquire_until(&sem, 5, cub_time_now() +
				  2 * CUB_NSEC_PER_MSEC) != -CUB_ETIMEDOUT)
		return (void *)"the 5-unit wait did not time out";
	return NULL;
}

static void *scen_sem(void *arg)
{
	/* ids 0-4 ask 1, 3, 1, 2, 1 units of 3 */
	static const int want[5] = { 1, 3, 1, 2, 1 };
	struct cub_coro *c[5];
	void *r;
	uint64_t t0;

	(void)arg;
	cub_sem_init(&sem, 0);
	sem_inside = sem_peak = sem_nord = 0;
	CHECK(cub_sem_acquire(&sem, 0) == -CUB_EINVAL);
	CHECK(!cub_sem_tryacquire(&sem, 1) && !cub_sem_tryacquire(&sem, 0));
	for (int i = 0; i < 5; i++)
		CHECK(cub_coro_spawn(&c[i], sem_user,
				     (void *)(intptr_t)(i << 8 | want[i]), NULL) == 0);
	cub_coro_yield();		/* all five queue, in spawn order */
	cub_sem_release(&sem, 3);
	for (int i = 0; i < 5; i++) {
		CHECK(cub_coro_join(c[i], &r) == 0);
		CHECK(r == NULL);
	}
	/* FIFO: the 3-unit request held up the 1-unit one behind it */
	for (int i = 0; i < 5; i++)
		CHECK(sem_order[i] == i);
	CHECK(sem_peak <= 3 && sem_inside == 0);
	CHECK(cub_sem_value(&sem) == 3);
	/* timed: gives up with nothing taken, or gets what a release gives */
	t0 = cub_time_now();
	CHECK(cub_sem_acquire_until(&sem, 4, t0 + 2 * CUB_NSEC_PER_MSEC) ==
	      -CUB_ETIMEDOUT);
	CHECK(cub_time_now() - t0 >= 2 * CUB_NSEC_PER_MSEC);
	CHECK(cub_sem_value(&sem) == 3);
	CHECK(cub_sem_acquire_until(&sem, 1, t0) == 0);	/* free: no wait */
	CHECK(cub_sem_acquire_until(&sem, 3, 0) == -CUB_ETIMEDOUT);
	CHECK(cub_coro_spawn(&c[0], sem_release_soon, (void *)1, NULL) == 0);
	CHECK(cub_sem_acquire_until(&sem, 3, cub_time_now() +
				    5 * CUB_NSEC_PER_SEC) == 0);
	CHECK(cub_coro_join(c[0], NULL) == 0);
	CHECK(cub_sem_value(&sem) == 0);
	/* a timed-out head no longer holds up the one behind it */
	CHECK(cub_coro_spawn(&c[0], sem_timed_five, NULL, NULL) == 0);
	CHECK(cub_coro_spawn(&c[1], sem_user, (void *)(intptr_t)(7 << 8 | 1),
			     NULL) == 0);
	sem_nord = 0;
	cub_coro_yield();		/* both queue, the 5-unit one first */
	cub_sem_release(&sem, 1);	/* not enough for the head */
	CHECK(sem_nord == 0);
	CHECK(cub_coro_join(c[0], &r) == 0 && r == NULL);
	CHECK(cub_coro_join(c[1], &r) == 0 && r == NULL);
	CHECK(sem_nord == 1 && sem_order[0] == 7);
	CHECK(cub_sem_value(&sem) == 1);
	return NULL;
}

const struct scenario sched_sync_scenarios[] = {
	{ "mutex", scen_mutex },
	{ "cond", scen_cond },
	{ "cond_timed_signal", scen_cond_timed_signal },
	{ "waitgroup", scen_wg },
	{ "once", scen_once },
	{ "rwlock", scen_rwlock },
	{ "semaphore", scen_sem },
};
const unsigned sched_sync_scenario_count = CUB_ARRAY_SIZE(sched_sync_scenarios);
