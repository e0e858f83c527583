/*
 * chanbench - channel and select workloads (issue 5), the peer of
 * chanbench_go.go (same structure, GOMAXPROCS=1).
 *
 * usage: chanbench w3|w4a|w4b|w5a|w5b|w7|w7c [N]
 *   w3   ping-pong over two unbuffered channels      ns per message
 *   w4a  capacity-1 send then receive, one coroutine ns per send+receive
 *   w4b  producer -> consumer over capacity 128      ns per message
 *   w5a  w3 with every operation a 2-case select     ns per message
 *   w5b  8-case receive select with one case ready   ns per select
 *        (+ the try-send that makes that case ready)
 *   w7   close of a channel with 1000 parked receivers, until all of
 *        them ran again                              ns per waiter
 *   w7c  w7, timing only the close call (waking all 1000, before any
 *        of them runs)                               ns per waiter
 * Prints `result: <value> ns/op`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/chan.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

static long n_ops;
static double result;

/* ---------------------------------------------------------------- w3 */

static struct cub_chan c_ping, c_pong, c_quit;

static void *w3_peer(void *arg)
{
	long v, i;

	(void)arg;
	for (i = 0; i < n_ops; i++) {
		cub_chan_recv(&c_ping, &v);
		cub_chan_send(&c_pong, &v);
	}
	return NULL;
}

static void *w3(void *arg)
{
	struct cub_coro *p;
	long v = 0, i;
	uint64_t t0;

	(void)arg;
	cub_chan_init(&c_ping, sizeof(long), 0, NULL);
	cub_chan_init(&c_pong, sizeof(long), 0, NULL);
	cub_coro_spawn(&p, w3_peer, NULL, NULL);
	t0 = cub_time_now();
	for (i = 0; i < n_ops; i++) {
		cub_chan_send(&c_ping, &i);
		cub_chan_recv(&c_pong, &v);
	}
	result = (double)(cub_time_now() - t0) / (2.0 * (double)n_ops);
	cub_coro_join(p, NULL);
	return NULL;
}

/* --------------------------------------------------------------- w4a */

static void *w4a(void *arg)
{
	struct cub_chan c;
	long buf[1], v = 0, i;
	uint64_t t0;

	(void)arg;
	cub_chan_init(&c, sizeof(long), 1, buf);
	t0 = cub_time_now();
	for (i = 0; i < n_ops; i++) {
		cub_chan_send(&c, &i);
		cub_chan_recv(&c, &v);
	}
	result = (double)(cub_time_now() - t0) / (double)n_ops;
	if (v != n_ops - 1)
		abort();
	return NULL;
}

/* --------------------------------------------------------------- w4b */

static struct cub_chan c_pc;
static long pc_buf[128];

static void *w4b_producer(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < n_ops; i++)
		cub_chan_send(&c_pc, &i);
	cub_chan_close(&c_pc);
	return NULL;
}

static void *w4b(void *arg)
{
	struct cub_coro *p;
	long v, sum = 0;
	uint64_t t0;

	(void)arg;
	cub_chan_init(&c_pc, sizeof(long), 128, pc_buf);
	t0 = cub_time_now();
	cub_coro_spawn(&p, w4b_producer, NULL, NULL);
	while (cub_chan_recv(&c_pc, &v) == 1)
		sum += v;
	result = (double)(cub_time_now() - t0) / (double)n_ops;
	cub_coro_join(p, NULL);
	if (sum != n_ops * (n_ops - 1) / 2)
		abort();
	return NULL;
}

/* --------------------------------------------------------------- w5a */

static void *w5a_peer(void *arg)
{
	long v, i;
	struct cub_select_case r[2] = {
		{ .chan = &c_ping, .dir = CUB_SELECT_RECV, .elem = &v },
		{ .chan = &c_quit, .dir = CUB_SELECT_RECV },
	};
	struct cub_select_case s[2] = {
		{ .chan = &c_pong, .dir = CUB_SELECT_SEND, .elem = &v },
		{ .chan = &c_quit, .dir = CUB_SELECT_RECV },
	};

	(void)arg;
	for (i = 0; i < n_ops; i++) {
		cub_select(r, 2);
		cub_select(s, 2);
	}
	return NULL;
}

static void *w5a(void *arg)
{
	struct cub_coro *p;
	long v = 0, i;
	uint64_t t0;
	struct cub_select_case s[2] = {
		{ .chan = &c_ping, .dir = CUB_SELECT_SEND, .elem = &i },
		{ .chan = &c_quit, .dir = CUB_SELECT_RECV },
	};
	struct cub_select_case r[2] = {
		{ .chan = &c_pong, .dir = CUB_SELECT_RECV, .elem = &v },
		{ .chan = &c_quit, .dir = CUB_SELECT_RECV },
	};

	(void)arg;
	cub_chan_init(&c_ping, sizeof(long), 0, NULL);
	cub_chan_init(&c_pong, sizeof(long), 0, NULL);
	cub_chan_init(&c_quit, 0, 0, NULL);
	cub_coro_spawn(&p, w5a_peer, NULL, NULL);
	t0 = cub_time_now();
	for (i = 0; i < n_ops; i++) {
		cub_select(s, 2);
		cub_select(r, 2);
	}
	result = (double)(cub_time_now() - t0) / (2.0 * (double)n_ops);
	cub_coro_join(p, NULL);
	return NULL;
}

/* --------------------------------------------------------------- w5b */

static void *w5b(void *arg)
{
	struct cub_chan c[8];
	long bufs[8][1], v, i;
	struct cub_select_case k[8];
	uint64_t t0;
	int j;

	(void)arg;
	for (j = 0; j < 8; j++) {
		cub_chan_init(&c[j], sizeof(long), 1, bufs[j]);
		k[j] = (struct cub_select_case){ .chan = &c[j],
			.dir = CUB_SELECT_RECV, .elem = &v };
	}
	t0 = cub_time_now();
	for (i = 0; i < n_ops; i++) {
		cub_chan_try_send(&c[i & 7], &i);
		if (cub_select(k, 8) != (int)(i & 7))
			abort();
	}
	result = (double)(cub_time_now() - t0) / (double)n_ops;
	return NULL;
}

/* ---------------------------------------------------------------- w7 */

#define W7_WAITERS 1000
#define W7_ROUNDS 200

static struct cub_chan w7_chans[W7_ROUNDS];
static int w7_woken;
static bool w7_close_only;	/* w7c: report the close call alone */

static void *w7_waiter(void *arg)
{
	int r;

	(void)arg;
	for (r = 0; r < W7_ROUNDS; r++) {
		cub_chan_recv(&w7_chans[r], NULL);
		w7_woken++;
	}
	return NULL;
}

static void *w7(void *arg)
{
	const struct cub_coro_attr small = { "waiter", 0, CUB_CORO_SMALL };
	uint64_t total = 0, close_only = 0, t0;
	int r, i;

	(void)arg;
	for (r = 0; r < W7_ROUNDS; r++)
		cub_chan_init(&w7_chans[r], 0, 0, NULL);
	for (i = 0; i < W7_WAITERS; i++)
		cub_coro_spawn(NULL, w7_waiter, NULL, &small);
	cub_coro_yield();			/* all park on round 0 */
	for (r = 0; r < W7_ROUNDS; r++) {
		w7_woken = 0;
		t0 = cub_time_now();
		cub_chan_close(&w7_chans[r]);
		close_only += cub_time_now() - t0;
		while (w7_woken < W7_WAITERS)
			cub_coro_yield();	/* they run and re-park */
		total += cub_time_now() - t0;
	}
	n_ops = (long)W7_ROUNDS * W7_WAITERS;
	result = (double)total / (double)n_ops;
	if (w7_close_only)
		result = (double)close_only / (double)n_ops;
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		cub_coro_fn fn;
		long n;
	} w[] = {
		{ "w3", w3, 10000000 }, { "w4a", w4a, 50000000 },
		{ "w4b", w4b, 20000000 }, { "w5a", w5a, 10000000 },
		{ "w5b", w5b, 20000000 }, { "w7", w7, 0 }, { "w7c", w7, 1 },
	};
	size_t i;

	cubi_mem_init();
	for (i = 0; argc > 1 && i < sizeof(w) / sizeof(w[0]); i++) {
		if (strcmp(argv[1], w[i].name))
			continue;
		n_ops = argc > 2 ? atol(argv[2]) : w[i].n;
		w7_close_only = !strcmp(w[i].name, "w7c");
		if (cub_sched_run(w[i].fn, NULL, NULL))
			return 1;
		printf("result: %.2f ns/op\n", result);
		return 0;
	}
	fprintf(stderr, "usage: chanbench w3|w4a|w4b|w5a|w5b|w7|w7c [N]\n");
	return 2;
}
