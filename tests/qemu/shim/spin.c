/*
 * spin.c - Linux threads are preemptible: two threads spin without ever
 * making a system call, yet main (sleeping) and both spinners progress.
 * Without a time slice the first spinner would keep the CPU forever.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static volatile unsigned long count[2];
static volatile int stop;

static void *spinner(void *arg)
{
	long id = (long)arg;

	while (!stop)
		count[id]++;
	return NULL;
}

int main(void)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	pthread_t t[2];
	unsigned long seen[2];

	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spinner, (void *)i);
	nanosleep(&tick, NULL);
	seen[0] = count[0];
	seen[1] = count[1];
	nanosleep(&tick, NULL);
	stop = 1;
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("spinners: both progressed: %s (%lu -> %lu, %lu -> %lu)\n",
	       seen[0] && seen[1] && count[0] > seen[0] && count[1] > seen[1] ? "yes" : "no",
	       seen[0], count[0], seen[1], count[1]);
	return seen[0] && seen[1] && count[0] > seen[0] && count[1] > seen[1] ? 0 : 1;
}
