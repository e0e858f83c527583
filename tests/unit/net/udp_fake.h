/*
 * udp_fake.h - a fake UDP server for the client tests (test_net_dns,
 * test_net_sntp): interface A (10.0.0.1) asks; on B (10.0.0.2) a server
 * coroutine on the test's port keeps each request (the first FAKE_QMAX:
 * bytes, length, source port, arrival time) and hands it to the running
 * test's reply function, which answers with srv_send, or as if from
 * elsewhere with forge. Other ports of B a test wants silent (a server
 * that never answers) get an endpoint each that is never read
 * (silent_port): without one, B's stack answers with an ICMP port
 * unreachable, which a client with a connected endpoint (SNTP, DNS)
 * hears as -CUB_ECONNREFUSED at once. Include after cmocka.h, once per
 * program (everything is static).
 */
#ifndef UDP_FAKE_H
#define UDP_FAKE_H

#include <cubrt/time.h>

#include "net_unit.h"

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)
#define SRV_IP IP_B
#define FAKE_QMAX 8
#define FAKE_QCOPY 300
#define FAKE_SILENT 4			/* silent ports at most */

/* Answers request q (S.last_len bytes), the nth since start_server. */
typedef void reply_fn(const uint8_t *q, unsigned nth);

static struct {
	struct cub_udp u;
	struct cub_coro *coro;
	reply_fn *reply;		/* NULL: never answer */
	unsigned skip;			/* requests to leave unanswered first */
	unsigned queries;		/* requests received */
	uint8_t q[FAKE_QMAX][FAKE_QCOPY];
	size_t qlen[FAKE_QMAX];
	uint16_t qport[FAKE_QMAX];
	uint64_t qt[FAKE_QMAX];		/* when request i came */
	uint64_t at[FAKE_QMAX];		/* when it was answered (or not) */
	uint16_t last_port;		/* of the latest request */
	size_t last_len;
	struct cub_udp silent[FAKE_SILENT];	/* never read; closed by stop */
	unsigned nsilent;
} S;

/* Sends n bytes to the asker of the latest request, from the server. */
static void srv_send(const void *b, size_t n)
{
	assert_int_equal(cub_udp_sendto(&S.u, IP_A, S.last_port, b, n), (int)n);
}

/* The same as if from src:sport (another address or port), as a frame
 * of its own, and lets the wire carry it. */
static inline void forge(const void *b, size_t n, cub_ip4_t src, uint16_t sport)
{
	static uint8_t f[CUB_ETH_FRAME_MAX];
	size_t len = t_udp(f, MAC_A, MAC_B, src, IP_A, sport, S.last_port, b, n);

	assert_int_equal(wire_send(B, f, len), 0);
	wire_settle(&W);
}

static void *srv_main(void *arg)
{
	static uint8_t q[600];
	cub_ip4_t src;
	uint16_t port;
	int n;

	(void)arg;
	while ((n = cub_udp_recvfrom(&S.u, q, sizeof(q), &src, &port, UINT64_MAX)) >= 0) {
		unsigned i = S.queries++;

		assert_int_equal(src, IP_A);
		S.last_port = port;
		S.last_len = (size_t)n;
		if (i < FAKE_QMAX) {
			memcpy(S.q[i], q, (size_t)n < FAKE_QCOPY ? (size_t)n : FAKE_QCOPY);
			S.qlen[i] = (size_t)n;
			S.qport[i] = port;
			S.qt[i] = cub_time_now();
		}
		if (S.reply && !(S.skip && S.skip--))
			S.reply(q, i);
		if (i < FAKE_QMAX)
			S.at[i] = cub_time_now();
	}
	assert_int_equal(n, -CUB_EBADF);	/* closed by stop */
	return NULL;
}

/* The wire, and the server on B's port answering with fn. */
static void start_server(reply_fn *fn, uint16_t port)
{
	memset(&S, 0, sizeof(S));
	S.reply = fn;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_udp_open(&S.u, B, port), 0);
	assert_int_equal(cub_coro_spawn(&S.coro, srv_main, NULL, NULL), 0);
}

/* B's port made silent (after start_server): what comes there is
 * queued, or dropped once the queue is full, and never answered. */
static inline void silent_port(uint16_t port)
{
	assert_true(S.nsilent < FAKE_SILENT);
	assert_int_equal(cub_udp_open(&S.silent[S.nsilent], B, port), 0);
	S.nsilent++;
}

/* How many requests silent port i (in silent_port's order) received,
 * up to CUB_UDP_QUEUE_LEN (taken off its queue, so counted once). */
static inline unsigned silent_heard(unsigned i)
{
	static uint8_t b[64];
	unsigned n = 0;

	while (cub_udp_recvfrom(&S.silent[i], b, sizeof(b), NULL, NULL, 0) >= 0)
		n++;
	return n;
}

static void stop(void)
{
	for (unsigned i = 0; i < S.nsilent; i++)
		assert_int_equal(cub_udp_close(&S.silent[i]), 0);
	S.nsilent = 0;
	assert_int_equal(cub_udp_close(&S.u), 0);
	cub_coro_join(S.coro, NULL);
	wire_stop(&W);
	assert_int_equal(W.full, 0);
}

#endif
