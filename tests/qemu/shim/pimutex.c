/*
 * pimutex.c - musl's priority-inheritance mutexes on cubrt's PI futexes
 * (futex_pi.c): pthread_mutexattr_setprotocol(PTHREAD_PRIO_INHERIT)
 * accepted (musl probes FUTEX_LOCK_PI), four threads contending for one
 * mutex with a yield inside the critical section (mutual exclusion and
 * the count checked), trylock of a held mutex (EBUSY),
 * pthread_mutex_timedlock timing out and then granted, an error-checking
 * one's EDEADLK and EPERM, and a robust one whose owner exits holding it
 * while another thread waits (EOWNERDEAD, made consistent, usable again).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#include "checks.h"

#define THREADS 4
#define ROUNDS 300

static pthread_mutex_t mu;
static volatile long counter;
static volatile int inside, overlaps;

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static struct timespec wall_in(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000l;
	ts.tv_sec += ts.tv_nsec / 1000000000l;
	ts.tv_nsec %= 1000000000l;
	return ts;
}

static int init_pi(pthread_mutex_t *m, int type, int robust)
{
	pthread_mutexattr_t a;
	int rc;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	if (robust)
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	if (rc == 0)
		rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

static void *contender(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		long v;

		if (pthread_mutex_lock(&mu))
			return (void *)1;
		if (inside++)
			overlaps++;
		v = counter;
		if (i % 3 == 0)
			sched_yield();	/* the others find it held */
		counter = v + 1;
		inside--;
		if (pthread_mutex_unlock(&mu))
			return (void *)1;
	}
	return NULL;
}

static void contention(void)
{
	pthread_t t[THREADS];
	long bad = 0;

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, contender, NULL);
	for (int i = 0; i < THREADS; i++) {
		void *r;

		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	printf("pimutex: counter=%ld overlaps=%d\n", counter, overlaps);
	check("contended lock/unlock: no errors", bad == 0);
	check("mutual exclusion", overlaps == 0 && counter == THREADS * ROUNDS);
}

static int try_result, timed_result, granted_result;
static long long timed_waited;

static void *try_and_time(void *arg)
{
	struct timespec at = wall_in(50);
	long long t0 = now_ns(CLOCK_MONOTONIC);

	(void)arg;
	try_result = pthread_mutex_trylock(&mu);
	timed_result = pthread_mutex_timedlock(&mu, &at);
	timed_waited = now_ns(CLOCK_MONOTONIC) - t0;
	at = wall_in(20000);
	granted_result = pthread_mutex_timedlock(&mu, &at);	/* main lets go */
	if (granted_result == 0)
		pthread_mutex_unlock(&mu);
	return NULL;
}

static void trylock_and_timeouts(void)
{
	pthread_t t;
	struct timespec nap = { 0, 120000000 };

	pthread_mutex_lock(&mu);
	pthread_create(&t, NULL, try_and_time, NULL);
	nanosleep(&nap, NULL);	/* its trylock and 50 ms wait end first */
	pthread_mutex_unlock(&mu);
	pthread_join(t, NULL);
	check("trylock of a held PI mutex: EBUSY", try_result == EBUSY);
	check("timedlock: ETIMEDOUT after its 50 ms",
	      timed_result == ETIMEDOUT && timed_waited >= 49000000);
	check("timedlock granted when the owner unlocks", granted_result == 0);
	check("trylock of a free one", pthread_mutex_trylock(&mu) == 0 &&
	      pthread_mutex_unlock(&mu) == 0);
}

static pthread_mutex_t ec;
static int foreign_unlock;

static void *unlock_foreign(void *arg)
{
	(void)arg;
	foreign_unlock = pthread_mutex_unlock(&ec);
	return NULL;
}

static void errorcheck(void)
{
	pthread_t t;

	check("error-checking PI mutex", init_pi(&ec, PTHREAD_MUTEX_ERRORCHECK, 0) == 0);
	pthread_mutex_lock(&ec);
	check("relock: EDEADLK", pthread_mutex_lock(&ec) == EDEADLK);
	pthread_create(&t, NULL, unlock_foreign, NULL);
	pthread_join(t, NULL);
	check("unlock by another thread: EPERM", foreign_unlock == EPERM);
	check("unlock by the owner", pthread_mutex_unlock(&ec) == 0);
}

static pthread_mutex_t rb;
static volatile int holding;

static void *die_holding(void *arg)
{
	struct timespec nap = { 0, 50000000 };

	(void)arg;
	pthread_mutex_lock(&rb);
	holding = 1;
	nanosleep(&nap, NULL);	/* main blocks on it meanwhile */
	return NULL;		/* exits with it held */
}

static void robust_owner_dies(void)
{
	pthread_t t;
	int rc;

	check("robust PI mutex", init_pi(&rb, PTHREAD_MUTEX_NORMAL, 1) == 0);
	pthread_create(&t, NULL, die_holding, NULL);
	while (!holding)
		sched_yield();
	rc = pthread_mutex_lock(&rb);	/* waits until the owner exits */
	check("owner exited holding it: EOWNERDEAD to the waiter", rc == EOWNERDEAD);
	check("made consistent", pthread_mutex_consistent(&rb) == 0);
	check("unlocked", pthread_mutex_unlock(&rb) == 0);
	pthread_join(t, NULL);
	check("locked again afterwards", pthread_mutex_lock(&rb) == 0 &&
	      pthread_mutex_unlock(&rb) == 0);
}

int main(void)
{
	check("PTHREAD_PRIO_INHERIT accepted", init_pi(&mu, PTHREAD_MUTEX_NORMAL, 0) == 0);
	contention();
	trylock_and_timeouts();
	errorcheck();
	robust_owner_dies();
	printf("pimutex: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
