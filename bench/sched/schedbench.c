/*
 * schedbench - scheduler workloads (issue 4), the peer of schedbench_go.go
 * (same structure; scripts/bench runs Go with GOMAXPROCS=1).
 *
 * usage: schedbench w1|w2|w6|w6page|w6mem [N]
 *   w1     two coroutines yielding to each other, N switches in all
 *          (default 20M)                                 ns per switch
 *   w2     spawn a coroutine running an empty function, wait for it
 *          and reap it, N times (default 10M)             ns per spawn
 *   w6     "whispers": a chain of N coroutines (default 100,000) joined
 *          by unbuffered channels passes a value from end to end,
 *          10 times, or more for a short chain: at least 1M hops
 *          (a 1,000-coroutine chain fits in the caches)   ns per hop
 *          Whisperers are CUB_CORO_SMALL with 2 KiB stacks
 *          (CUB_CORO_STACK_MIN), the size a goroutine starts with.
 *   w6page the same chain with one-page small stacks (the
 *          CUB_CORO_SMALL default), for reference         ns per hop
 *   w6mem  the same chain: resident memory added per idle coroutine
 *          (peak RSS growth while all N wait)          bytes per coro
 * Prints `result: <value> <unit>`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/chan.h>
#include <cubrt/heap.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

static long n_ops;
static double result;

/* ---------------------------------------------------------------- w1 */

static void *w1_peer(void *arg)
{
	for (long i = 0; i < (long)(intptr_t)arg; i++)
		cub_coro_yield();
	return NULL;
}

static void *w1(void *arg)
{
	long half = n_ops / 2;
	struct cub_coro *p;
	uint64_t t0;

	(void)arg;
	cub_coro_spawn(&p, w1_peer, (void *)(intptr_t)half, NULL);
	t0 = cub_time_now();
	for (long i = 0; i < half; i++)
		cub_coro_yield();
	result = (double)(cub_time_now() - t0) / (double)(2 * half);
	cub_coro_join(p, NULL);
	return NULL;
}

/* ---------------------------------------------------------------- w2 */

static void *empty(void *arg)
{
	return arg;
}

static void *w2(void *arg)
{
	struct cub_coro *c;
	uint64_t t0;

	(void)arg;
	t0 = cub_time_now();
	for (long i = 0; i < n_ops; i++) {
		if (cub_coro_spawn(&c, empty, NULL, NULL))
			abort();
		cub_coro_join(c, NULL);
	}
	result = (double)(cub_time_now() - t0) / (double)n_ops;
	return NULL;
}

/* ---------------------------------------------------------------- w6 */

/* Passes of the value along the chain: 10, or enough for 1M hops. */
static long w6_rounds;

static struct cub_chan *links;	/* n_ops + 1 unbuffered channels */
static size_t w6_stack = CUB_CORO_STACK_MIN;	/* w6page: 0, the default */
static long rss_idle_kib;

static void *whisper(void *arg)
{
	long i = (long)(intptr_t)arg, v;

	for (long r = 0; r < w6_rounds; r++) {
		cub_chan_recv(&links[i + 1], &v);
		v++;
		cub_chan_send(&links[i], &v);
	}
	return NULL;
}

/* Peak resident set (VmHWM) in KiB. */
static long peak_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

static void *w6(void *arg)
{
	struct cub_coro_attr small = { .stack_size = w6_stack,
				       .flags = CUB_CORO_SMALL };
	long before, v = 0;
	uint64_t t0;

	(void)arg;
	w6_rounds = n_ops < 100000 ? 1000000 / n_ops : 10;
	links = calloc((size_t)n_ops + 1, sizeof(*links));
	for (long i = 0; i <= n_ops; i++)
		cub_chan_init(&links[i], sizeof(long), 0, NULL);
	before = peak_rss_kib();
	for (long i = 0; i < n_ops; i++)
		if (cub_coro_spawn(NULL, whisper, (void *)(intptr_t)i, &small))
			abort();
	cub_coro_yield();	/* every whisperer runs and waits */
	rss_idle_kib = peak_rss_kib() - before;
	t0 = cub_time_now();
	for (long r = 0; r < w6_rounds; r++) {
		cub_chan_send(&links[n_ops], &v);
		cub_chan_recv(&links[0], &v);
	}
	result = (double)(cub_time_now() - t0) /
		 (double)(w6_rounds * n_ops);
	if (v != w6_rounds * n_ops)
		abort();
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		cub_coro_fn fn;
		long n;
	} w[] = {
		{ "w1", w1, 20000000 }, { "w2", w2, 10000000 },
		{ "w6", w6, 100000 }, { "w6page", w6, 100000 },
		{ "w6mem", w6, 100000 },
	};

	for (size_t i = 0; argc > 1 && i < sizeof(w) / sizeof(w[0]); i++) {
		if (strcmp(argv[1], w[i].name))
			continue;
		n_ops = argc > 2 ? atol(argv[2]) : w[i].n;
		if (strcmp(argv[1], "w6page") == 0)
			w6_stack = 0;
		if (n_ops < 2 || cub_sched_run(w[i].fn, NULL, NULL))
			return 1;
		if (strcmp(argv[1], "w6mem") == 0)
			printf("result: %.0f bytes\n",
			       (double)rss_idle_kib * 1024 / (double)n_ops);
		else
			printf("result: %.2f ns/op\n", result);
		return 0;
	}
	fprintf(stderr, "usage: schedbench w1|w2|w6|w6page|w6mem [N]\n");
	return 2;
}
