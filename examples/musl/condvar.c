/*
 * condvar.c - pthread_cond_broadcast to many threads: every waiter must
 * wake exactly once, and a generation counter proves none woke early.
 */
#include <pthread.h>
#include <stdio.h>

#define WAITERS 32

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t all_waiting = PTHREAD_COND_INITIALIZER;
static int generation, waiting, woken;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	int my_gen = generation;

	waiting++;
	pthread_cond_signal(&all_waiting);
	while (generation == my_gen)
		pthread_cond_wait(&cv, &m);
	woken++;
	pthread_mutex_unlock(&m);
	return NULL;
}

int main(void)
{
	pthread_t t[WAITERS];

	for (int i = 0; i < WAITERS; i++)
		if (pthread_create(&t[i], NULL, waiter, NULL))
			return 10;
	pthread_mutex_lock(&m);
	while (waiting < WAITERS)
		pthread_cond_wait(&all_waiting, &m);
	if (woken != 0)
		return 11;
	generation++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	for (int i = 0; i < WAITERS; i++)
		pthread_join(t[i], NULL);
	printf("broadcast woke %d of %d waiters\n", woken, WAITERS);
	return woken == WAITERS ? 0 : 12;
}
