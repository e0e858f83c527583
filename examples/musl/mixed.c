/*
 * mixed.c - a musl program that also uses cubrt's own coroutines and
 * channels: a producer coroutine sends 1..100, a squarer coroutine squares
 * them into a buffered channel, and main (a Linux thread, using libc's
 * malloc and printf) sums the squares. Built by scripts/musl-image with
 * -I include: the program is linked into the same image as cubrt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/chan.h>
#include <cubrt/sched.h>

struct pipeline {
	struct cub_chan *nums, *squares;
};

static void *producer(void *arg)
{
	struct pipeline *p = arg;

	for (long i = 1; i <= 100; i++)
		cub_chan_send(p->nums, &i);
	cub_chan_close(p->nums);
	return NULL;
}

static void *squarer(void *arg)
{
	struct pipeline *p = arg;
	long v, sq;

	while (cub_chan_recv(p->nums, &v) == 1) {
		sq = v * v;
		cub_chan_send(p->squares, &sq);
	}
	cub_chan_close(p->squares);
	return NULL;
}

int main(void)
{
	struct pipeline p;
	struct cub_coro *a, *b;
	long v, sum = 0, n = 0;
	char *text = malloc(64);

	if (!text || cub_chan_new(&p.nums, sizeof(long), 0) ||
	    cub_chan_new(&p.squares, sizeof(long), 8))
		return 10;
	if (cub_coro_spawn(&a, producer, &p, NULL) || cub_coro_spawn(&b, squarer, &p, NULL))
		return 11;
	while (cub_chan_recv(p.squares, &v) == 1) {
		sum += v;
		n++;
	}
	cub_coro_join(a, NULL);
	cub_coro_join(b, NULL);
	snprintf(text, 64, "%ld", sum);
	printf("mixed: %ld squares from cubrt coroutines, sum %s (libc printf)\n", n, text);
	v = strcmp(text, "338350") == 0 && n == 100 ? 0 : 12;
	free(text);
	return (int)v;
}
