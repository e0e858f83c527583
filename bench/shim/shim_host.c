/*
 * shim_host.c - the shim's host dispatcher path against Linux itself.
 *
 *   getpid        cub_shim_call(getpid): dispatch + handler, ns/op
 *   linux-getpid  the real Linux getpid system call, ns/op
 *   futex         two coroutines handing a token back and forth with
 *                 FUTEX_WAIT/FUTEX_WAKE through the dispatcher, ns/hand-off
 *   linux-futex   two Linux threads doing the same with real futexes
 *                 (pinned to one CPU, as cubrt runs), ns/hand-off
 * Prints "result: <ns> ns/op" for scripts/bench.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>

#include "host_util.h"

#define CALLS 5000000l
#define HANDOFFS 500000l

static volatile uint32_t turn;	/* whose turn: 0 or 1 */

typedef long (*futex_fn)(volatile uint32_t *, long, long);

static long shim_futex(volatile uint32_t *a, long op, long val)
{
	return cub_shim_call(SYS_futex, (long)a, op, val, 0, 0, 0);
}

static long linux_futex(volatile uint32_t *a, long op, long val)
{
	return syscall(SYS_futex, a, op, val, NULL, NULL, 0);
}

/* Plays side `me` for HANDOFFS rounds: wait for our turn, pass it on. */
static void play(futex_fn f, uint32_t me)
{
	for (long i = 0; i < HANDOFFS; i++) {
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me)
			f(&turn, FUTEX_WAIT_PRIVATE, (long)!me);
		__atomic_store_n(&turn, !me, __ATOMIC_RELEASE);
		f(&turn, FUTEX_WAKE_PRIVATE, 1);
	}
}

static void *shim_side(void *arg)
{
	play(shim_futex, (uint32_t)(uintptr_t)arg);
	return NULL;
}

static void *shim_pair(void *unused)
{
	struct cub_coro *a, *b;

	(void)unused;
	cub_coro_spawn(&a, shim_side, (void *)0, NULL);
	cub_coro_spawn(&b, shim_side, (void *)1, NULL);
	cub_coro_join(a, NULL);
	cub_coro_join(b, NULL);
	return NULL;
}

static void *linux_side(void *arg)
{
	play(linux_futex, (uint32_t)(uintptr_t)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "getpid";
	double t0, ops;

	cubi_mem_init();
	pin_to_cpu0();
	t0 = now();
	if (!strcmp(mode, "getpid")) {
		volatile long nr = 39;	/* the number is data, as in a real call */

		for (long i = 0; i < CALLS; i++) {
			long pid = cub_shim_call(nr, 0, 0, 0, 0, 0, 0);

			/* Keep each call: link-time optimisation sees through it. */
			__asm__ volatile("" : : "r"(pid) : "memory");
		}
		ops = CALLS;
	} else if (!strcmp(mode, "linux-getpid")) {
		for (long i = 0; i < CALLS; i++)
			syscall(SYS_getpid);
		ops = CALLS;
	} else if (!strcmp(mode, "futex")) {
		cub_sched_run(shim_pair, NULL, NULL);
		ops = 2.0 * HANDOFFS;
	} else if (!strcmp(mode, "linux-futex")) {
		pthread_t a, b;

		pthread_create(&a, NULL, linux_side, (void *)0);
		pthread_create(&b, NULL, linux_side, (void *)1);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		ops = 2.0 * HANDOFFS;
	} else {
		fprintf(stderr, "usage: %s getpid|linux-getpid|futex|linux-futex\n", argv[0]);
		return 2;
	}
	printf("result: %.2f ns/op\n", (now() - t0) / ops);
	return 0;
}
