/*
 * tcp_orphan.h - what test_net_tcp_orphan and test_net_tcp_orphans
 * share: the wire with small rings (B's window shuts after 4 KiB) and
 * short RTOs, a connected pair (A connects, B accepts), A filling its
 * send ring behind B's shut window, and waits on A's counters. Include
 * after tcp_test.h.
 */
#ifndef TCP_ORPHAN_H
#define TCP_ORPHAN_H

#define PORT 8080
#define TOTAL (3 * CUB_TCP_BUF_MIN)	/* B's ring, A's ring and more */

/* Starts the wire with small rings and RTOs from 20 ms (persist probes
 * 20, 40, 80, 160, 320 ms apart, then every 400 ms) on both ends,
 * orphan_retries and max_orphans as given (0: keep the default). */
static inline void start_orphans(unsigned orphan_retries,
				 unsigned max_orphans)
{
	struct cub_tcp_params p = {
		.rto_initial = 100 * MS, .rto_min = 20 * MS,
		.rto_max = 400 * MS, .max_retries = 5, .syn_retries = 3,
		.time_wait = 100 * MS, .fin_timeout = 500 * MS,
		.sndbuf = CUB_TCP_BUF_MIN, .rcvbuf = CUB_TCP_BUF_MIN,
		.orphan_retries = orphan_retries,
		.max_orphans = max_orphans,
	};

	start_with(&p);
}

static uint8_t out[TOTAL];

/* A connected pair: *a on A (connect), *b on B (accept) on B's port
 * `port` (a listener is refused the port while B's end of an earlier
 * pair still has it). */
static inline void pair_on(uint16_t port, struct cub_tcp **a,
			   struct cub_tcp **b)
{
	struct cub_tcp *l;

	assert_int_equal(cub_tcp_listen(B, port, 4, &l), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, port, 1000 * MS, a), 0);
	assert_int_equal(cub_tcp_accept(l, b, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(l), 0);
}

static inline void pair(struct cub_tcp **a, struct cub_tcp **b)
{
	pair_on(PORT, a, b);
}

/* A sends until its ring is full too; B reads nothing, so its window
 * shuts with A's data waiting. Returns the bytes A queued. */
static inline size_t fill(struct cub_tcp *a)
{
	long n;

	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (uint8_t)(i * 7 + 3);
	n = cub_tcp_send(a, out, TOTAL, 300 * MS);
	assert_true(n >= (long)CUB_TCP_BUF_MIN && n < (long)TOTAL);
	return (size_t)n;
}

/* Waits (at most 10 s) until A sent at least n zero-window probes. */
static inline void wait_probes(uint64_t n)
{
	uint64_t end = cub_time_now() + 10000 * MS;

	while (if_stats(A).tcp_persist_probes < n && cub_time_now() < end)
		cub_sleep(5 * MS);
	assert_true(if_stats(A).tcp_persist_probes >= n);
}

/* Waits (at most 10 s) until A has no connection left. */
static inline void wait_freed(void)
{
	uint64_t end = cub_time_now() + 10000 * MS;

	while (live(A) && cub_time_now() < end)
		cub_sleep(5 * MS);
	assert_int_equal(live(A), 0);
}

/* Reads b until it ends (end of file or an error, which is returned)
 * and checks the bytes are the first of out[]; *got: how many. */
static inline long drain(struct cub_tcp *b, size_t *got)
{
	static uint8_t in[TOTAL];
	long n;

	*got = 0;
	while ((n = cub_tcp_recv(b, in + *got, TOTAL - *got, 2000 * MS)) > 0)
		*got += (size_t)n;
	assert_memory_equal(in, out, *got);
	return n;
}

#endif
