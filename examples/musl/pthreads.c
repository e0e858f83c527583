/*
 * pthreads.c - an ordinary POSIX threads program (musl), run on cubrt:
 * threads incrementing a shared counter under a mutex, a condition-variable
 * hand-off, pthread_join with results, thread-local variables, large
 * malloc/free (mmap-backed in musl), and printf with floats.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static long counter;
static int baton = -1;		/* whose turn in the hand-off */
static _Thread_local long mine;	/* each thread's own count */

static void *worker(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
		mine++;
		if (i % 1000 == 0)
			sched_yield();
	}
	/* Hand-off: wait for our turn, pass the baton on. */
	pthread_mutex_lock(&lock);
	while (baton != id)
		pthread_cond_wait(&ready, &lock);
	baton = (int)id + 1;
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	return (void *)(mine * 10 + id);
}

static int big_blocks(void)
{
	for (int i = 0; i < 16; i++) {
		size_t n = (size_t)(1 + i) << 20;	/* 1..16 MiB */
		unsigned char *p = malloc(n);

		if (!p)
			return -1;
		memset(p, i, n);
		if (p[n - 1] != i || p[n / 2] != i)
			return -1;
		free(p);
	}
	return 0;
}

int main(void)
{
	pthread_t t[THREADS];
	long sum = 0;

	for (long i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i))
			return 10;
	pthread_mutex_lock(&lock);
	baton = 0;
	pthread_cond_broadcast(&ready);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < THREADS; i++) {
		void *res;

		if (pthread_join(t[i], &res))
			return 11;
		if ((long)res != (long)ROUNDS * 10 + i)
			return 12;	/* each thread counted in its own TLS */
		sum += (long)res / 10;
	}
	if (big_blocks())
		return 13;
	printf("counter=%ld sum=%ld baton=%d mine(main)=%ld pi~%.4f ratio=%g\n",
	       counter, sum, baton, mine, 3.14159265, (double)counter / THREADS);
	return counter == (long)THREADS * ROUNDS && baton == THREADS ? 0 : 14;
}
