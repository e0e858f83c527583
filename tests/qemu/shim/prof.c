/*
 * prof.c - an unmodified musl program profiled by CUBRT_PROF=hz on the
 * command line: it spins in musl_spin_here, and the runtime prints the
 * profile when the program exits (exit_group -> cub_exit).
 */
#include <stdio.h>
#include <time.h>

static volatile unsigned long sink;

__attribute__((noinline)) void musl_spin_here(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			sink++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
}

int main(void)
{
	musl_spin_here();
	printf("musl prof: spun\n");
	return 0;
}
