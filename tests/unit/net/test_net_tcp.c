/*
 * test_net_tcp.c - TCP between two interfaces, A (10.0.0.1/24) and B
 * (10.0.0.2/24), on the in-memory wire of net_test.h (a longer queue: a
 * whole window is in flight at once), with short timers (RTO from 20 ms,
 * TIME_WAIT 100 ms): the handshake, data both ways (1 byte, an MSS,
 * 1 MiB checked byte for byte), half-close, simultaneous close, refused
 * and unanswered connects, abort, close with unread data, a full
 * receive window and the persist timer, backlog overflow, a peer that
 * vanishes, a faulty wire, simultaneous open and a peer played by hand
 * (old, duplicate and out-of-order segments, RFC 5961's RST and SYN
 * checks, TIME_WAIT), congestion control against a peer played by hand
 * (RFC 5681 / 6928 / 6582: initial window, slow start, fast retransmit
 * and recovery, congestion avoidance, the loss window after a timeout),
 * bad arguments, malformed segments, poll and notify. After each test
 * every connection is gone and the counters add up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "tcp_test.h"
#include "../slow.h"

#define PORT 8080

static const struct cub_tcp_params fast = {
	.rto_initial = 100 * MS, .rto_min = 20 * MS, .rto_max = 400 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 100 * MS,
	.fin_timeout = 500 * MS,
};

#define start() start_with(&fast)

/* A connected pair: *a on A (connect), *b on B (accept). */
static void pair(struct cub_tcp **a, struct cub_tcp **b, struct cub_tcp **l)
{
	struct cub_tcp *lis;

	assert_int_equal(cub_tcp_listen(B, PORT, 4, &lis), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 1000 * MS, a), 0);
	assert_int_equal(cub_tcp_accept(lis, b, 1000 * MS), 0);
	if (l)
		*l = lis;
	else
		assert_int_equal(cub_tcp_close(lis), 0);
}

/* Sends all of buf (blocking). */
static void send_all(struct cub_tcp *c, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = cub_tcp_send(c, buf + done, len - done, 5000 * MS);

		assert_true(n > 0);
		done += (size_t)n;
	}
}

/* Receives exactly len bytes into buf. */
static void recv_all(struct cub_tcp *c, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		long n = cub_tcp_recv(c, buf + done, len - done, 5000 * MS);

		assert_true(n > 0);
		done += (size_t)n;
	}
}

static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)((i * 131 + (i >> 8) * 7 + seed) & 0xff);
}

/* ------------------------------------------------------- basic exchange */

static void *basic_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t out[CUB_TCP_MSS], in[CUB_TCP_MSS];
	cub_ip4_t ip;
	uint16_t port, aport;

	struct cub_tcp *l;

	(void)arg;
	start();
	/* Data sent before the accept waits for the reader. */
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 1000 * MS, &a), 0);
	assert_int_equal(cub_tcp_send(a, "early", 5, 0), 5);
	wire_settle(&W);
	assert_int_equal(cub_tcp_accept(l, &b, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	recv_all(b, in, 5);
	assert_memory_equal(in, "early", 5);
	assert_string_equal(cub_tcp_state_name(a), "ESTABLISHED");
	assert_string_equal(cub_tcp_state_name(b), "ESTABLISHED");
	assert_int_equal(cub_tcp_local(a, &ip, &aport), 0);
	assert_int_equal(ip, IP_A);
	assert_true(aport >= CUB_UDP_EPHEMERAL_MIN);
	assert_int_equal(cub_tcp_peer(a, &ip, &port), 0);
	assert_int_equal(ip, IP_B);
	assert_int_equal(port, PORT);
	assert_int_equal(cub_tcp_peer(b, &ip, &port), 0);
	assert_int_equal(ip, IP_A);
	assert_int_equal(port, aport);
	/* One byte each way. */
	assert_int_equal(cub_tcp_send(a, "x", 1, 0), 1);
	assert_int_equal(cub_tcp_recv(b, in, sizeof in, 1000 * MS), 1);
	assert_int_equal(in[0], 'x');
	assert_int_equal(cub_tcp_send(b, "y", 1, 0), 1);
	assert_int_equal(cub_tcp_recv(a, in, sizeof in, 1000 * MS), 1);
	assert_int_equal(in[0], 'y');
	/* An MSS-sized segment: one frame of 1514 bytes. */
	for (size_t i = 0; i < sizeof out; i++)
		out[i] = pattern(i, 1);
	assert_int_equal(cub_tcp_send(a, out, sizeof out, 0), sizeof out);
	recv_all(b, in, sizeof in);
	assert_memory_equal(in, out, sizeof out);
	{
		bool full = false;

		for (int i = 0; i < WIRE_TAP; i++)
			full |= W.tap[i].len == CUB_ETH_FRAME_MAX;
		assert_true(full);
	}
	/* Nothing more: polling says so. */
	assert_int_equal(cub_tcp_recv(b, in, 1, 0), -CUB_EAGAIN);
	assert_int_equal(cub_tcp_recv(b, in, 1, 20 * MS), -CUB_ETIMEDOUT);
	/* A closes first: B sees the end, closes; A waits in TIME_WAIT. */
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, in, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_recv(b, in, 1, 0), 0);
	assert_string_equal(cub_tcp_state_name(b), "CLOSE_WAIT");
	assert_int_equal(cub_tcp_send(b, "z", 1, 0), 1);	/* A is gone: */
	wire_settle(&W);
	assert_int_equal(cub_tcp_recv(b, in, 1, 1000 * MS), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(if_stats(A).tcp_established, 1);
	assert_int_equal(if_stats(B).tcp_established, 1);
	assert_int_equal(if_stats(B).tcp_rst_rx, 1);
	assert_int_equal(if_stats(A).tcp_retransmits, 0);
	stop();
	return NULL;
}

static void test_basic(void **state)
{
	(void)state;
	run(basic_main);
}

static void *graceful_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t c;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, &c, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	wire_settle(&W);
	/* B's LAST_ACK ended with A's ACK; A sits in TIME_WAIT 100 ms. */
	assert_int_equal(live(B), 0);
	assert_int_equal(live(A), 1);
	cub_sleep(200 * MS);
	assert_int_equal(live(A), 0);
	assert_int_equal(if_stats(A).tcp_rst_tx + if_stats(B).tcp_rst_tx, 0);
	stop();
	return NULL;
}

/* cub_tcp_undelivered counts what is queued or in flight until the peer
 * acknowledges it (a FIN counts one), whether or not the peer has read
 * it, and forgets a connection that died. */
static void *undelivered_main(void *arg)
{
	static uint8_t data[3000];
	struct cub_tcp *a, *b;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_undelivered(A), 0);
	send_all(a, data, sizeof(data));
	assert_int_equal(cub_tcp_undelivered(A), sizeof(data));	/* nothing acked yet */
	wire_settle(&W);
	assert_int_equal(cub_tcp_undelivered(A), 0);		/* acked, not read */
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_int_equal(cub_tcp_undelivered(A), 1);		/* the FIN */
	wire_settle(&W);
	assert_int_equal(cub_tcp_undelivered(A), 0);
	send_all(b, data, 100);
	assert_int_equal(cub_tcp_abort(b), 0);			/* reset: gone */
	assert_int_equal(cub_tcp_undelivered(B), 0);
	assert_int_equal(cub_tcp_undelivered(NULL), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	stop();
	return NULL;
}

static void test_undelivered(void **state)
{
	(void)state;
	run(undelivered_main);
}

static void test_graceful_close(void **state)
{
	(void)state;
	run(graceful_main);
}

/* ---------------------------------------------------------- 1 MiB each way */

#define BIG (1024 * 1024)
static uint8_t big_out[2][BIG], big_in[2][BIG];

struct xfer {
	struct cub_tcp *c;
	const uint8_t *buf;
	size_t len;
};

static void *sender(void *arg)
{
	struct xfer *x = arg;

	send_all(x->c, x->buf, x->len);
	return NULL;
}

static void *big_main(void *arg)
{
	struct cub_tcp *a, *b;
	struct cub_coro *ca, *cb;
	struct xfer xa, xb;
	uint8_t c;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	for (size_t i = 0; i < BIG; i++) {
		big_out[0][i] = pattern(i, 3);
		big_out[1][i] = pattern(i, 5);
	}
	xa = (struct xfer){ a, big_out[0], BIG };
	xb = (struct xfer){ b, big_out[1], BIG };
	assert_int_equal(cub_coro_spawn(&ca, sender, &xa, NULL), 0);
	assert_int_equal(cub_coro_spawn(&cb, sender, &xb, NULL), 0);
	recv_all(b, big_in[0], BIG);
	recv_all(a, big_in[1], BIG);
	cub_coro_join(ca, NULL);
	cub_coro_join(cb, NULL);
	assert_memory_equal(big_in[0], big_out[0], BIG);
	assert_memory_equal(big_in[1], big_out[1], BIG);
	assert_int_equal(if_stats(A).tcp_bytes_tx, BIG);
	assert_int_equal(if_stats(B).tcp_bytes_rx, BIG);
	assert_int_equal(if_stats(A).tcp_retransmits, 0);
	assert_int_equal(W.full, 0);
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_int_equal(cub_tcp_shutdown(b), 0);
	assert_int_equal(cub_tcp_recv(a, &c, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_recv(b, &c, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_big(void **state)
{
	(void)state;
	run(big_main);
}

/* ------------------------------------------------------------ half-close */

static void *half_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t buf[100];

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_send(a, "last words", 10, 0), 10);
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_int_equal(cub_tcp_shutdown(a), 0);		/* again: 0 */
	assert_int_equal(cub_tcp_send(a, "more", 4, 0), -CUB_EPIPE);
	recv_all(b, buf, 10);
	assert_memory_equal(buf, "last words", 10);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof buf, 1000 * MS), 0);
	assert_true(cub_tcp_poll(b) & CUB_TCP_POLLRDHUP);
	wire_settle(&W);
	assert_string_equal(cub_tcp_state_name(a), "FIN_WAIT_2");
	/* The other direction still works. */
	assert_int_equal(cub_tcp_send(b, "reply", 5, 0), 5);
	recv_all(a, buf, 5);
	assert_memory_equal(buf, "reply", 5);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(cub_tcp_recv(a, buf, sizeof buf, 1000 * MS), 0);
	assert_string_equal(cub_tcp_state_name(a), "TIME_WAIT");
	assert_true(cub_tcp_poll(a) & CUB_TCP_POLLHUP);
	assert_int_equal(cub_tcp_close(a), 0);
	stop();
	return NULL;
}

static void test_half_close(void **state)
{
	(void)state;
	run(half_main);
}

/* Both ends send FIN before either arrives: CLOSING, then TIME_WAIT. */
static void *simul_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t c;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_int_equal(cub_tcp_shutdown(b), 0);
	assert_string_equal(cub_tcp_state_name(a), "FIN_WAIT_1");
	assert_string_equal(cub_tcp_state_name(b), "FIN_WAIT_1");
	assert_int_equal(cub_tcp_recv(a, &c, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_recv(b, &c, 1, 1000 * MS), 0);
	wire_settle(&W);
	assert_string_equal(cub_tcp_state_name(a), "TIME_WAIT");
	assert_string_equal(cub_tcp_state_name(b), "TIME_WAIT");
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(if_stats(A).tcp_rst_tx + if_stats(B).tcp_rst_tx, 0);
	stop();
	return NULL;
}

static void test_simultaneous_close(void **state)
{
	(void)state;
	run(simul_main);
}

/* ------------------------------------------------------------- failures */

static bool drop_tcp(struct wire *w, struct wire_frame *f)
{
	(void)w;
	return !(t_get16(f->data + 12) == 0x0800 && f->data[23] == 6);
}

static void *refused_main(void *arg)
{
	struct cub_tcp *a;
	uint64_t t0, w0;

	(void)arg;
	start();
	assert_int_equal(cub_tcp_connect(A, IP_B, 9, 1000 * MS, &a),
			 -CUB_ECONNREFUSED);
	assert_int_equal(if_stats(B).tcp_no_port, 1);
	assert_int_equal(if_stats(B).tcp_rst_tx, 1);
	assert_int_equal(if_stats(A).tcp_rst_rx, 1);
	/* Nobody at the address: ARP fails. */
	assert_int_equal(cub_tcp_connect(A, IP_NOBODY, 80, 300 * MS, &a),
			 -CUB_EHOSTUNREACH);
	/* Nobody answers the SYN: a short timeout, then the retries. The
	 * SYN's RTO made 10 s, the 50 ms timeout ends the connect long
	 * before its first resend: under half of it, a bound no stall of
	 * the host short of 5 s reaches. */
	W.filter = drop_tcp;
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.rto_initial = 10 * CUB_NSEC_PER_SEC,
				.rto_max = 10 * CUB_NSEC_PER_SEC, .syn_retries = 1 }), 0);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_tcp_connect(A, IP_B, 80, 50 * MS, &a),
			 -CUB_ETIMEDOUT);
	assert_true(cub_time_now() - t0 < test_bound(5 * CUB_NSEC_PER_SEC, w0));
	assert_int_equal(if_stats(A).tcp_timeouts, 0);
	assert_int_equal(cub_tcp_set_params(A, &fast), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, 80, UINT64_MAX, &a),
			 -CUB_ETIMEDOUT);
	/* 100 + 200 + 400 + 400 ms: syn_retries 3, then give up. */
	assert_int_equal(if_stats(A).tcp_gave_up, 1);
	assert_true(if_stats(A).tcp_timeouts >= 3);
	W.filter = NULL;
	stop();
	return NULL;
}

static void test_connect_failures(void **state)
{
	(void)state;
	run(refused_main);
}

static void *abort_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t buf[16];

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_abort(a), 0);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof buf, 1000 * MS),
			 -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_send(b, "x", 1, 0), -CUB_ECONNRESET);
	assert_true(cub_tcp_poll(b) & CUB_TCP_POLLERR);
	assert_string_equal(cub_tcp_state_name(b), "CLOSED");
	assert_int_equal(cub_tcp_close(b), 0);
	/* Close with unread data: RST too (as Linux). */
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_send(b, "unread", 6, 0), 6);
	wire_settle(&W);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof buf, 1000 * MS),
			 -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 2);
	assert_int_equal(if_stats(B).tcp_rst_rx, 2);
	stop();
	return NULL;
}

static void test_abort_and_unread(void **state)
{
	(void)state;
	run(abort_main);
}

/* ------------------------------------------------- window and persist */

static unsigned drop_from_b;

/* Drops the next drop_from_b TCP frames B sends. */
static bool drop_b(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (drop_from_b && f->to == 0 && f->data[23] == 6) {
		drop_from_b--;
		return false;
	}
	return true;
}

#define WIN_TOTAL (300 * 1024)

static void *window_main(void *arg)
{
	static uint8_t out[WIN_TOTAL], in[WIN_TOTAL];
	struct cub_tcp *a, *b;
	struct xfer xa;
	struct cub_coro *ca;
	long n;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	for (size_t i = 0; i < WIN_TOTAL; i++)
		out[i] = pattern(i, 9);
	/* B does not read: A's ring and B's fill, then send blocks. */
	n = cub_tcp_send(a, out, WIN_TOTAL, 200 * MS);
	assert_true(n >= (long)CUB_TCP_SNDBUF && n < WIN_TOTAL);
	assert_false(cub_tcp_poll(a) & CUB_TCP_POLLOUT);
	/* The window is closed: A probes it, with backoff. */
	cub_sleep(300 * MS);
	assert_true(if_stats(A).tcp_persist_probes >= 1);
	assert_int_equal(if_stats(A).tcp_gave_up, 0);
	/* The reader frees space; its window update is lost: a probe
	 * finds the open window. */
	W.filter = drop_b;
	drop_from_b = 1;
	xa = (struct xfer){ a, out + n, WIN_TOTAL - (size_t)n };
	assert_int_equal(cub_coro_spawn(&ca, sender, &xa, NULL), 0);
	recv_all(b, in, WIN_TOTAL);
	assert_memory_equal(in, out, WIN_TOTAL);
	cub_coro_join(ca, NULL);
	W.filter = NULL;
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_window_persist(void **state)
{
	(void)state;
	run(window_main);
}

/* ---------------------------------------------------------- backlog */

struct conn_try {
	struct cub_tcp *c;
	int r;
};

static void *connector(void *arg)
{
	struct conn_try *t = arg;

	t->r = cub_tcp_connect(A, IP_B, PORT, 3000 * MS, &t->c);
	return NULL;
}

static void *backlog_main(void *arg)
{
	struct cub_tcp *l, *b1, *b2;
	struct conn_try t[2] = { { 0 } };
	struct cub_coro *co[2];

	(void)arg;
	start();
	assert_int_equal(cub_tcp_listen(B, PORT, 1, &l), 0);
	assert_int_equal(cub_tcp_listen(B, PORT, 1, &b1), -CUB_EADDRINUSE);
	for (int i = 0; i < 2; i++)
		assert_int_equal(cub_coro_spawn(&co[i], connector, &t[i], NULL),
				 0);
	wire_settle(&W);
	/* One fits the backlog; the other's SYN was dropped. */
	assert_int_equal(if_stats(B).tcp_backlog_drops, 1);
	assert_true(cub_tcp_poll(l) & CUB_TCP_POLLIN);
	assert_int_equal(cub_tcp_accept(l, &b1, 1000 * MS), 0);
	/* Its retransmitted SYN gets in once there is room. */
	assert_int_equal(cub_tcp_accept(l, &b2, 2000 * MS), 0);
	for (int i = 0; i < 2; i++) {
		cub_coro_join(co[i], NULL);
		assert_int_equal(t[i].r, 0);
		assert_int_equal(cub_tcp_close(t[i].c), 0);
	}
	assert_int_equal(cub_tcp_accept(l, &t[0].c, 0), -CUB_EAGAIN);
	assert_int_equal(cub_tcp_close(b1), 0);
	assert_int_equal(cub_tcp_close(b2), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_backlog(void **state)
{
	(void)state;
	run(backlog_main);
}

/* A peer that vanishes mid-transfer: retransmissions, then ETIMEDOUT. */
static void *vanish_main(void *arg)
{
	static uint8_t out[200 * 1024];
	struct cub_tcp *a, *b;
	uint8_t buf[1000];
	long n;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_send(a, out, 5000, 0), 5000);
	recv_all(b, buf, 1000);
	W.filter = drop_tcp;		/* B is gone */
	n = cub_tcp_send(a, out, sizeof out, UINT64_MAX);
	assert_true(n > 0);		/* what fitted, then the error */
	assert_int_equal(cub_tcp_recv(a, buf, sizeof buf, UINT64_MAX),
			 -CUB_ETIMEDOUT);
	assert_int_equal(cub_tcp_send(a, buf, 1, 0), -CUB_ETIMEDOUT);
	assert_int_equal(if_stats(A).tcp_gave_up, 1);
	assert_true(if_stats(A).tcp_timeouts >= fast.max_retries);
	assert_true(if_stats(A).tcp_retransmits >= fast.max_retries);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_abort(b), 0);
	W.filter = NULL;
	stop();
	return NULL;
}

static void test_vanishing_peer(void **state)
{
	(void)state;
	run(vanish_main);
}

/* Drops, duplicates and reorders: the data still arrives intact. */
static void *faulty_main(void *arg)
{
	struct cub_tcp *a, *b;
	struct cub_coro *ca;
	struct xfer xa;
	size_t len = 256 * 1024;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	for (size_t i = 0; i < len; i++)
		big_out[0][i] = pattern(i, 11);
	W.rng = 12345;
	W.drop_pm = 20;
	W.dup_pm = 20;
	W.reorder_pm = 20;
	xa = (struct xfer){ a, big_out[0], len };
	assert_int_equal(cub_coro_spawn(&ca, sender, &xa, NULL), 0);
	recv_all(b, big_in[0], len);
	cub_coro_join(ca, NULL);
	assert_memory_equal(big_in[0], big_out[0], len);
	assert_true(W.dropped > 0 && W.duplicated > 0 && W.reordered > 0);
	assert_true(if_stats(A).tcp_retransmits > 0);
	assert_true(if_stats(B).tcp_dup + if_stats(B).tcp_ooo > 0);
	W.drop_pm = W.dup_pm = W.reorder_pm = 0;
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_faulty_wire(void **state)
{
	(void)state;
	run(faulty_main);
}

/* ------------------------------------------- simultaneous open, peer MSS */

/* A's TCP frames are kept here instead of reaching B; the test plays
 * the peer by hand. */
static struct wire_frame cap_a[64];
static unsigned ncap_a;

static bool capture_a(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to != 1 || f->data[23] != 6)
		return true;
	if (ncap_a < 64)
		cap_a[ncap_a++] = *f;
	return false;
}

static struct conn_try simul_try;

/* The peer played by hand sends one segment to A's port pa_port. */
static uint16_t pa_port;

static void *simul_connector(void *arg)
{
	(void)arg;
	simul_try.r = cub_tcp_connect(A, IP_B, 7777, 2000 * MS, &simul_try.c);
	return NULL;
}

static void *simul_open_main(void *arg)
{
	static const uint8_t mss536[4] = { 2, 4, 0x02, 0x18 };
	static uint8_t data[2000];
	uint8_t f[CUB_ETH_FRAME_MAX];
	struct cub_coro *co;
	const uint8_t *t;
	uint16_t aport;
	uint32_t iss;
	size_t n;

	(void)arg;
	start();
	ncap_a = 0;
	W.filter = capture_a;
	assert_int_equal(cub_coro_spawn(&co, simul_connector, NULL, NULL), 0);
	wire_settle(&W);
	/* A's SYN, with our MSS option. */
	assert_int_equal(ncap_a, 1);
	t = cap_a[0].data + 34;
	assert_int_equal(t[13], 0x02);
	/* MSS 1460, SACK-permitted, window scale 1 (a 64 KiB ring),
	 * timestamps (TSecr 0: no ACK). */
	assert_int_equal(t[12] >> 4, 11);
	assert_memory_equal(t + 20, "\x02\x04\x05\xb4\x01\x01\x04\x02"
			    "\x01\x03\x03\x01\x01\x01\x08\x0a", 16);
	assert_int_equal(t_get32(t + 40), 0);
	aport = t_get16(t);
	iss = t_get32(t + 4);
	/* The peer's own SYN crosses it: A answers SYN-ACK (SYN_RCVD). */
	n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, aport, 1000, 0, 0x02,
		  8000, mss536, 4, NULL, 0);
	cub_netif_input(A, f, n);
	wire_settle(&W);
	assert_int_equal(ncap_a, 2);
	t = cap_a[1].data + 34;
	assert_int_equal(t[13], 0x12);
	assert_int_equal(t_get32(t + 4), iss);
	assert_int_equal(t_get32(t + 8), 1001);
	/* Its ACK of our SYN completes the open. */
	n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, aport, 1001, iss + 1,
		  0x10, 8000, NULL, 0, NULL, 0);
	cub_netif_input(A, f, n);
	cub_coro_join(co, NULL);
	assert_int_equal(simul_try.r, 0);
	assert_string_equal(cub_tcp_state_name(simul_try.c), "ESTABLISHED");
	/* The peer's MSS (536) bounds what A sends. */
	assert_int_equal(cub_tcp_send(simul_try.c, data, sizeof data, 0),
			 sizeof data);
	wire_settle(&W);
	assert_int_equal(ncap_a, 2 + 4);	/* 536 + 536 + 536 + 392 */
	for (unsigned i = 2; i < ncap_a; i++) {
		t = cap_a[i].data + 34;
		assert_int_equal(t_get32(t + 4), iss + 1 + 536 * (i - 2));
		assert_int_equal(t_get16(cap_a[i].data + 16) - 40,
				 i < 5 ? 536 : 392);
	}
	assert_int_equal(cub_tcp_abort(simul_try.c), 0);
	wire_settle(&W);
	assert_int_equal(cap_a[ncap_a - 1].data[34 + 13] & 0x04, 0x04);
	W.filter = NULL;
	assert_int_equal(if_stats(A).tcp_established, 1);
	stop();
	return NULL;
}

static void test_simultaneous_open(void **state)
{
	(void)state;
	run(simul_open_main);
}


static void peer_send(uint32_t seq, uint32_t ack, uint8_t flags,
		      const void *data, size_t len)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, pa_port, seq, ack,
			 flags, 8000, NULL, 0, data, len);

	cub_netif_input(A, f, n);
	wire_settle(&W);
}

/* The TCP header of the last frame A sent. */
static const uint8_t *last_a(void)
{
	return cap_a[ncap_a - 1].data + 34;
}

#define EXPECT_ACK(ackno) do {                                             \
	assert_int_equal(ncap_a, before + 1);                               \
	assert_int_equal(last_a()[13], 0x10);                               \
	assert_int_equal(t_get32(last_a() + 8), (ackno));                   \
	before = ncap_a;                                                    \
} while (0)

/* Old, duplicate and out-of-order segments, RSTs and SYNs that fail
 * RFC 5961's checks, an ACK of unsent data, TIME_WAIT answering a
 * retransmitted FIN: every answer checked. */
static void *peer_main(void *arg)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	struct cub_coro *co;
	uint8_t buf[16];
	unsigned before;
	uint32_t iss;

	(void)arg;
	start();
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.time_wait = 400 * MS }), 0);
	ncap_a = 0;
	W.filter = capture_a;
	assert_int_equal(cub_coro_spawn(&co, simul_connector, NULL, NULL), 0);
	wire_settle(&W);
	pa_port = t_get16(last_a());
	iss = t_get32(last_a() + 4);
	{
		uint8_t f[CUB_ETH_FRAME_MAX];
		size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, pa_port,
				 5000, iss + 1, 0x12, 8000, mss, 4, NULL, 0);

		cub_netif_input(A, f, n);
	}
	cub_coro_join(co, NULL);
	assert_int_equal(simul_try.r, 0);
	wire_settle(&W);
	before = ncap_a;
	peer_send(5001, iss + 1, 0x18, "hello", 5);
	EXPECT_ACK(5006);
	assert_int_equal(cub_tcp_recv(simul_try.c, buf, sizeof buf, 0), 5);
	/* The same segment again: ACKed, not delivered twice. */
	peer_send(5001, iss + 1, 0x18, "hello", 5);
	EXPECT_ACK(5006);
	assert_int_equal(cub_tcp_recv(simul_try.c, buf, sizeof buf, 0),
			 -CUB_EAGAIN);
	/* Beyond rcv_nxt: kept, a duplicate ACK (no SACK: the peer's
	 * SYN-ACK did not offer it). */
	peer_send(5010, iss + 1, 0x18, "zz", 2);
	EXPECT_ACK(5006);
	assert_int_equal(last_a()[12] >> 4, 5);
	assert_int_equal(if_stats(A).tcp_ooo_kept, 1);
	assert_int_equal(if_stats(A).tcp_ooo, 0);
	/* A RST in the window but not at rcv_nxt, a SYN: challenge ACKs. */
	peer_send(5007, 0, 0x04, NULL, 0);
	EXPECT_ACK(5006);
	peer_send(5006, 0, 0x02, NULL, 0);
	EXPECT_ACK(5006);
	/* An ACK of data never sent: an ACK. */
	peer_send(5006, iss + 1000, 0x10, NULL, 0);
	EXPECT_ACK(5006);
	assert_string_equal(cub_tcp_state_name(simul_try.c), "ESTABLISHED");
	assert_int_equal(if_stats(A).tcp_rst_rx, 0);
	/* A closes: FIN; the peer ACKs it with its own FIN: TIME_WAIT. */
	assert_int_equal(cub_tcp_close(simul_try.c), 0);
	wire_settle(&W);
	assert_int_equal(ncap_a, before + 1);
	assert_int_equal(last_a()[13], 0x11);
	assert_int_equal(t_get32(last_a() + 4), iss + 1);
	before = ncap_a;
	peer_send(5006, iss + 2, 0x11, NULL, 0);
	EXPECT_ACK(5007);
	/* The FIN again (our ACK was lost): ACKed, TIME_WAIT (400 ms
	 * here) restarts. */
	cub_sleep(250 * MS);
	peer_send(5006, iss + 2, 0x11, NULL, 0);
	EXPECT_ACK(5007);
	cub_sleep(250 * MS);
	assert_int_equal(live(A), 1);
	cub_sleep(300 * MS);
	assert_int_equal(live(A), 0);
	/* Gone: a segment for it draws a RST <SEQ=SEG.ACK>. */
	peer_send(5007, iss + 2, 0x10, NULL, 0);
	assert_int_equal(ncap_a, before + 1);
	assert_int_equal(last_a()[13], 0x04);
	assert_int_equal(t_get32(last_a() + 4), iss + 2);
	W.filter = NULL;
	stop();
	return NULL;
}

static void test_hand_played_peer(void **state)
{
	(void)state;
	run(peer_main);
}

/* ------------------------------------------------- congestion control */

/* A's data segments to a peer played by hand (which ACKs by hand): how
 * many left, how many went again (below the highest sent), the last. */
static unsigned cc_segs, cc_resent;
static uint32_t cc_high, cc_last_seq, cc_last_len;

static bool cc_capture(struct wire *w, struct wire_frame *f)
{
	const uint8_t *t = f->data + 34;
	uint32_t seq, len;

	(void)w;
	if (f->to != 1 || f->data[23] != 6)
		return true;
	seq = t_get32(t + 4);
	len = (uint32_t)(t_get16(f->data + 16) - 20 - (t[12] >> 4) * 4);
	if (len) {
		cc_segs++;
		if (cc_segs > 1 && (int32_t)(seq - cc_high) < 0)
			cc_resent++;
		else
			cc_high = seq + len;
		cc_last_seq = seq;
		cc_last_len = len;
	}
	return false;
}

/* The peer ACKs up to ack (window 65535, its sequence number 5001). */
static void cc_ack(uint32_t ack)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, pa_port, 5001,
			 ack, 0x10, 65535, NULL, 0, NULL, 0);

	cub_netif_input(A, f, n);
	wire_settle(&W);
}

static struct cub_tcp_info cc_info(struct cub_tcp *c)
{
	struct cub_tcp_info i;

	assert_int_equal(cub_tcp_info(c, &i), 0);
	return i;
}

/* Keeps A's send ring full (what fits now). */
static void cc_fill(struct cub_tcp *c)
{
	static uint8_t junk[CUB_TCP_SNDBUF];

	(void)cub_tcp_send(c, junk, sizeof junk, 0);
	wire_settle(&W);
}

#define SMSS 1460u

/* RFC 5681 against a peer played by hand: the initial window (RFC
 * 6928: 10 segments of 1460), slow start (+1 MSS per MSS ACKed),
 * fast retransmit on the third duplicate ACK (one segment resent,
 * ssthresh half the flight, no timeout), NewReno's end of recovery,
 * congestion avoidance (+1 MSS per cwnd ACKed) and a timeout's loss
 * window (cwnd 1 MSS, ssthresh kept by later timeouts). */
static void *cc_main(void *arg)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	uint8_t f[CUB_ETH_FRAME_MAX];
	struct cub_tcp_info i;
	struct cub_coro *co;
	struct cub_tcp *c;
	uint32_t una, cw, half;
	size_t n;

	(void)arg;
	start();
	/* RTOs long enough that a slow machine times nothing out before
	 * the test lets it. */
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.rto_min = 300 * MS, .rto_max = 600 * MS }), 0);
	cc_segs = cc_resent = 0;
	ncap_a = 0;
	W.filter = capture_a;
	assert_int_equal(cub_coro_spawn(&co, simul_connector, NULL, NULL), 0);
	wire_settle(&W);
	pa_port = t_get16(last_a());
	una = t_get32(last_a() + 4) + 1;
	n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, 7777, pa_port, 5000, una,
		  0x12, 65535, mss, 4, NULL, 0);
	cub_netif_input(A, f, n);
	cub_coro_join(co, NULL);
	assert_int_equal(simul_try.r, 0);
	c = simul_try.c;
	W.filter = cc_capture;
	i = cc_info(c);
	assert_int_equal(i.cwnd, 10 * SMSS);
	assert_int_equal(i.ssthresh, UINT32_MAX);
	assert_int_equal(i.snd_mss, SMSS);

	/* The initial window: 10 segments before the first ACK. */
	cc_fill(c);
	cub_sleep(5 * MS);		/* nothing more without an ACK */
	assert_int_equal(cc_segs, 10);
	assert_int_equal(cc_info(c).flight, 10 * SMSS);

	/* Slow start: each MSS ACKed opens cwnd by one MSS, and two
	 * segments leave for it. */
	for (unsigned k = 1; k <= 10; k++) {
		una += SMSS;
		cc_ack(una);
		cc_fill(c);
		i = cc_info(c);
		assert_int_equal(i.cwnd, (10 + k) * SMSS);
		assert_int_equal(i.flight, i.cwnd);
		assert_int_equal(cc_segs, 10 + 2 * k);
	}
	assert_int_equal(cc_resent, 0);

	/* One loss: three duplicate ACKs resend the first segment once;
	 * ssthresh is half the flight, cwnd ssthresh + 3 MSS. */
	cc_ack(una);
	cc_ack(una);
	assert_int_equal(if_stats(A).tcp_fast_retransmits, 0);
	cc_ack(una);
	i = cc_info(c);
	half = 20 * SMSS / 2;
	assert_int_equal(if_stats(A).tcp_fast_retransmits, 1);
	assert_int_equal(cc_resent, 1);
	assert_int_equal(cc_last_seq, una);
	assert_int_equal(cc_last_len, SMSS);
	assert_true(i.in_recovery);
	assert_int_equal(i.ssthresh, half);
	assert_int_equal(i.cwnd, half + 3 * SMSS);
	assert_int_equal(i.retransmits, 1);
	/* More duplicates inflate cwnd; nothing is resent again. */
	cc_ack(una);
	assert_int_equal(cc_info(c).cwnd, half + 4 * SMSS);
	assert_int_equal(cc_resent, 1);
	/* A partial ACK (the hole and one more) resends the next one. */
	una += 2 * SMSS;
	cc_ack(una);
	assert_int_equal(cc_resent, 2);
	assert_int_equal(cc_last_seq, una);
	assert_int_equal(if_stats(A).tcp_partial_acks, 1);
	/* The full ACK ends recovery: cwnd at most ssthresh. */
	una += cc_info(c).flight;
	cc_ack(una);
	i = cc_info(c);
	assert_false(i.in_recovery);
	assert_int_equal(i.ssthresh, half);
	assert_true(i.cwnd <= half && i.cwnd >= 2 * SMSS);
	assert_int_equal(if_stats(A).tcp_timeouts, 0);
	assert_int_equal(if_stats(A).tcp_fast_retransmits, 1);

	/* Slow start up to ssthresh, then congestion avoidance: one MSS
	 * more per cwnd of bytes ACKed (about one per round trip). */
	cc_fill(c);
	while (cc_info(c).cwnd < half) {
		una += SMSS;
		cc_ack(una);
		cc_fill(c);
	}
	cw = cc_info(c).cwnd;
	assert_true(cw >= half && cw <= half + 2 * SMSS);
	for (unsigned round = 0; round < 3; round++) {
		uint32_t acked = 0;

		while (acked + SMSS < cw) {
			una += SMSS;
			acked += SMSS;
			cc_ack(una);
			cc_fill(c);
			assert_int_equal(cc_info(c).cwnd, cw);
		}
		una += SMSS;
		cc_ack(una);
		cc_fill(c);
		i = cc_info(c);
		assert_true(i.cwnd > cw && i.cwnd <= cw + SMSS);
		cw = i.cwnd;
	}
	assert_int_equal(if_stats(A).tcp_timeouts, 0);

	/* No more ACKs: the timeout resends one segment (cwnd 1 MSS,
	 * ssthresh half the flight); a second keeps ssthresh. */
	i = cc_info(c);
	half = i.flight / 2 > 2 * SMSS ? i.flight / 2 : 2 * SMSS;
	n = cc_resent;
	while (if_stats(A).tcp_timeouts < 1)
		cub_sleep(2 * MS);
	wire_settle(&W);
	i = cc_info(c);
	assert_int_equal(i.cwnd, SMSS);
	assert_int_equal(i.ssthresh, half);
	assert_int_equal(cc_resent, n + 1);
	assert_int_equal(cc_last_seq, una);
	while (if_stats(A).tcp_timeouts < 2)
		cub_sleep(2 * MS);
	wire_settle(&W);
	i = cc_info(c);
	assert_int_equal(i.cwnd, SMSS);
	assert_int_equal(i.ssthresh, half);
	/* The resent segment's ACK: slow start again, two more leave. */
	n = cc_resent;
	una += SMSS;
	cc_ack(una);
	assert_int_equal(cc_info(c).cwnd, 2 * SMSS);
	assert_int_equal(cc_resent, n + 2);
	assert_int_equal(cub_tcp_abort(c), 0);
	W.filter = NULL;
	stop();
	return NULL;
}

static void test_congestion_control(void **state)
{
	(void)state;
	run(cc_main);
}

/* close wakes a reader blocked on the same connection: -CUB_EBADF. */
static struct cub_tcp *blocked_on;
static long blocked_r;

static void *blocked_reader(void *arg)
{
	uint8_t c;

	(void)arg;
	blocked_r = cub_tcp_recv(blocked_on, &c, 1, UINT64_MAX);
	return NULL;
}

static void *close_wakes_main(void *arg)
{
	struct cub_tcp *a, *b;
	struct cub_coro *co;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	blocked_on = b;
	assert_int_equal(cub_coro_spawn(&co, blocked_reader, NULL, NULL), 0);
	wire_settle(&W);
	assert_int_equal(cub_tcp_close(b), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(blocked_r, -CUB_EBADF);
	assert_int_equal(cub_tcp_recv(a, &(uint8_t){ 0 }, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	stop();
	return NULL;
}

static void test_close_wakes(void **state)
{
	(void)state;
	run(close_wakes_main);
}

/* ------------------------------------------------ arguments, malformed */

static void *args_main(void *arg)
{
	struct cub_tcp *l, *a, *b;
	uint8_t buf[4];

	(void)arg;
	start();
	assert_int_equal(cub_tcp_listen(NULL, 1, 1, &l), -CUB_EINVAL);
	assert_int_equal(cub_tcp_listen(B, 0, 1, &l), -CUB_EINVAL);
	assert_int_equal(cub_tcp_listen(B, 1, 1, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(NULL, IP_B, 1, 0, &a), -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(A, 0, 1, 0, &a), -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(A, IP_B, 0, 0, &a), -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(A, CUB_IP4_BROADCAST, 1, 0, &a),
			 -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(A, IP_B, 1, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_connect(A, IP_A, 1, 0, &a),
			 -CUB_EADDRNOTAVAIL);
	assert_int_equal(cub_tcp_connect(A, CUB_IP4(10, 9, 0, 1), 1, 0, &a),
			 -CUB_ENETUNREACH);
	assert_int_equal(cub_tcp_accept(NULL, &a, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_send(NULL, buf, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_recv(NULL, buf, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_shutdown(NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_close(NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_abort(NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_poll(NULL), 0);
	assert_int_equal(cub_tcp_set_notify(NULL, NULL, NULL), -CUB_EINVAL);
	assert_string_equal(cub_tcp_state_name(NULL), "?");
	assert_int_equal(cub_tcp_set_params(NULL, NULL), -CUB_EINVAL);
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.rto_min = 5000 * MS }), -CUB_EINVAL);
	pair(&a, &b, &l);
	assert_string_equal(cub_tcp_state_name(l), "LISTEN");
	assert_int_equal(cub_tcp_accept(a, &b, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_accept(l, NULL, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_send(l, buf, 1, 0), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_recv(l, buf, 1, 0), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_shutdown(l), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_send(a, NULL, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_send(a, buf, 0, 0), 0);
	assert_int_equal(cub_tcp_recv(a, NULL, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_recv(a, buf, 0, 0), -CUB_EINVAL);
	assert_int_equal(cub_tcp_accept(l, &b, 0), -CUB_EAGAIN);
	assert_int_equal(cub_tcp_accept(l, &b, 20 * MS), -CUB_ETIMEDOUT);
	assert_int_equal(cub_tcp_close(l), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_arguments(void **state)
{
	(void)state;
	run(args_main);
}

static void *malformed_main(void *arg)
{
	static const uint8_t mss_opt[4] = { 2, 4, 0x05, 0xb4 };
	uint8_t f[CUB_ETH_FRAME_MAX];
	struct cub_netif_stats s0, s1;
	struct cub_tcp *l;
	size_t n;

	(void)arg;
	start();
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	s0 = if_stats(B);
	/* A bad checksum. */
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, PORT, 1, 0, 0x02, 1000,
		  mss_opt, 4, NULL, 0);
	f[34 + 16] ^= 1;
	cub_netif_input(B, f, n);
	/* Short: 10 bytes of TCP header. */
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, PORT, 1, 0, 0x02, 1000,
		  NULL, 0, NULL, 0);
	t_put16(f + 16, 30);
	t_ip_refresh(f);
	cub_netif_input(B, f, 44);
	/* Data offsets 4 (under the header) and 15 (past the segment). */
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, PORT, 1, 0, 0x02, 1000,
		  NULL, 0, "abcd", 4);
	f[34 + 12] = 4 << 4;
	cub_netif_input(B, f, n);
	f[34 + 12] = 15 << 4;
	cub_netif_input(B, f, n);
	/* Port 0. */
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 0, PORT, 1, 0, 0x02, 1000,
		  NULL, 0, NULL, 0);
	cub_netif_input(B, f, n);
	s1 = if_stats(B);
	assert_int_equal(s1.tcp_bad_cksum - s0.tcp_bad_cksum, 1);
	assert_int_equal(s1.tcp_bad - s0.tcp_bad, 4);
	assert_int_equal(s1.tcp_to_conn, s0.tcp_to_conn);
	assert_int_equal(s1.tx_frames, s0.tx_frames);
	assert_int_equal(s1.tcp_passive_opens, 0);
	/* A lone ACK to a closed port draws RST <SEQ=SEG.ACK>; a RST draws
	 * nothing; an ACK to the listener draws a RST too. */
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, 99, 7, 777, 0x10, 1000,
		  NULL, 0, NULL, 0);
	cub_netif_input(B, f, n);
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, 99, 7, 777, 0x04, 1000,
		  NULL, 0, NULL, 0);
	cub_netif_input(B, f, n);
	n = t_tcp(f, MAC_B, MAC_A, IP_A, IP_B, 1234, PORT, 7, 778, 0x10, 1000,
		  NULL, 0, NULL, 0);
	cub_netif_input(B, f, n);
	wire_settle(&W);
	s1 = if_stats(B);
	assert_int_equal(s1.tcp_no_port - s0.tcp_no_port, 2);
	assert_int_equal(s1.tcp_rst_tx - s0.tcp_rst_tx, 2);
	/* A's stack got them (no connection there either): no answer to a
	 * RST, counted as no port. */
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_int_equal(if_stats(A).tcp_no_port, 2);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_malformed(void **state)
{
	(void)state;
	run(malformed_main);
}

/* ------------------------------------------------------ poll and notify */

static unsigned notified;

static void on_notify(void *arg)
{
	(*(unsigned *)arg)++;
}

static void *poll_main(void *arg)
{
	struct cub_tcp *a, *b;
	uint8_t buf[8];
	unsigned before;

	(void)arg;
	start();
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_poll(b), CUB_TCP_POLLOUT);
	assert_int_equal(cub_tcp_set_notify(b, on_notify, &notified), 0);
	before = notified;
	assert_int_equal(cub_tcp_send(a, "hi", 2, 0), 2);
	wire_settle(&W);
	assert_true(notified > before);
	assert_int_equal(cub_tcp_poll(b), CUB_TCP_POLLOUT | CUB_TCP_POLLIN);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof buf, 0), 2);
	assert_int_equal(cub_tcp_poll(b), CUB_TCP_POLLOUT);
	before = notified;
	assert_int_equal(cub_tcp_shutdown(a), 0);
	wire_settle(&W);
	assert_true(notified > before);
	assert_int_equal(cub_tcp_poll(b), CUB_TCP_POLLOUT | CUB_TCP_POLLIN |
			 CUB_TCP_POLLRDHUP);
	assert_int_equal(cub_tcp_shutdown(b), 0);
	assert_true(cub_tcp_poll(b) & CUB_TCP_POLLHUP);
	assert_int_equal(cub_tcp_set_notify(b, NULL, NULL), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_poll_notify(void **state)
{
	(void)state;
	run(poll_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_graceful_close),
		cmocka_unit_test(test_undelivered),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_connect_failures),
		cmocka_unit_test(test_abort_and_unread),
		cmocka_unit_test(test_window_persist),
		cmocka_unit_test(test_backlog),
		cmocka_unit_test(test_vanishing_peer),
		cmocka_unit_test(test_faulty_wire),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_close_wakes),
		cmocka_unit_test(test_hand_played_peer),
		cmocka_unit_test(test_congestion_control),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_poll_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
