/*
 * test_net_tcp_close.c - a handle closed while another coroutine is
 * blocked in a call on it (docs/net.md, "Handles and closing"): accept
 * on a listener (with and without a half-open connection in its
 * backlog), recv and send on a connection, several waiters at once,
 * UDP's recvfrom. Each blocked call must return -CUB_EBADF, the close
 * must return 0, and the block must be freed exactly once, whoever
 * drops the last reference. And a handle passed after its block was
 * freed: refused, the block type-stable (never freed memory).
 *
 * The dangerous moment is between the waiter's leaving and the closer's
 * running again: the scheduler is a FIFO run queue, so the tests place
 * a third coroutine (the "kicker") there on purpose. It either wakes
 * the TCP timer coroutine (a send on another connection of the same
 * interface arms a retransmission), which then runs before the closer
 * and frees a CLOSED block nobody holds; or, after one yield, it feeds
 * the interface a RST for the connection being closed, which moves it
 * to CLOSED and frees it on the spot. Before the ownership fix both
 * freed the block under the closer (a use after free, then a double
 * free in cub_list_del).
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
#include "../../../src/net/tcp_impl.h"	/* TCP_MAGIC, the block's size */
#include <cubrt/heap.h>

#define PORT 8080
#define PPORT 7777			/* the hand-played peer's port */
#define P0 5001u			/* the hand peer's first data byte */

static const struct cub_tcp_params fast = {
	.rto_initial = 100 * MS, .rto_min = 20 * MS, .rto_max = 400 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 100 * MS,
	.fin_timeout = 500 * MS, .sndbuf = CUB_TCP_BUF_MIN,
};

/* ------------------------------------------------------------- waiters */

enum op { OP_ACCEPT, OP_RECV, OP_SEND };

struct waiter {
	enum op op;
	struct cub_tcp *c;
	long r;
	struct cub_tcp *got;		/* accept's connection */
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	static uint8_t buf[256];

	switch (w->op) {
	case OP_ACCEPT:
		w->r = cub_tcp_accept(w->c, &w->got, UINT64_MAX);
		break;
	case OP_RECV:
		w->r = cub_tcp_recv(w->c, buf, sizeof(buf), UINT64_MAX);
		break;
	case OP_SEND:
		w->r = cub_tcp_send(w->c, buf, sizeof(buf), UINT64_MAX);
		break;
	}
	return NULL;
}

/* Spawns a waiter and lets it block. */
static struct cub_coro *wait_in(struct waiter *w)
{
	struct cub_coro *co;

	w->r = 1;
	assert_int_equal(cub_coro_spawn(&co, waiter_main, w, NULL), 0);
	wire_settle(&W);
	assert_int_equal(w->r, 1);	/* still blocked */
	return co;
}

/* -------------------------------------------------------------- kickers */

static struct cub_tcp *kick_conn;	/* an idle connection of B */
static uint16_t hand_port;		/* A's port towards the hand peer */

/* Wakes B's timer coroutine before the waiter leaves: a byte on an idle
 * connection arms its retransmission deadline, earlier than any. */
static void *timer_kicker(void *arg)
{
	(void)arg;
	assert_int_equal(cub_tcp_send(kick_conn, "k", 1, 0), 1);
	return NULL;
}

/* Lets the waiter leave first, then has the hand peer reset A's
 * connection: the segment's processing frees what nothing holds. */
static void *rst_kicker(void *arg)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT, hand_port, P0,
			 0, 0x04, 0, NULL, 0, NULL, 0);

	(void)arg;
	cub_coro_yield();
	cub_netif_input(A, f, n);
	return NULL;
}

/* Closes (or aborts) c with the kicker queued in front of the waiter. */
static void close_kicked(struct cub_tcp *c, cub_coro_fn kicker, bool rst)
{
	struct cub_coro *k;

	assert_int_equal(cub_coro_spawn(&k, kicker, NULL, NULL), 0);
	assert_int_equal(rst ? cub_tcp_abort(c) : cub_tcp_close(c), 0);
	cub_coro_join(k, NULL);
}

/* A connected pair through listener l on B: *a on A, *b on B. */
static void pair_on(struct cub_tcp *l, struct cub_tcp **a, struct cub_tcp **b)
{
	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 1000 * MS, a), 0);
	assert_int_equal(cub_tcp_accept(l, b, 1000 * MS), 0);
}

/* The kicker's byte arrives; the kick connection closes on both ends. */
static void end_kick(struct cub_tcp *ka)
{
	uint8_t c = 0;

	assert_int_equal(cub_tcp_recv(ka, &c, 1, 1000 * MS), 1);
	assert_int_equal(c, 'k');
	assert_int_equal(cub_tcp_close(ka), 0);
	assert_int_equal(cub_tcp_close(kick_conn), 0);
}

/* ------------------------------------------------------------- accept */

static void *accept_main(void *arg)
{
	struct waiter w = { .op = OP_ACCEPT };
	struct cub_tcp *l, *ka;
	struct cub_coro *co;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	pair_on(l, &ka, &kick_conn);
	w.c = l;
	co = wait_in(&w);
	close_kicked(l, timer_kicker, false);
	cub_coro_join(co, NULL);
	assert_int_equal(w.r, -CUB_EBADF);
	end_kick(ka);
	stop();
	return NULL;
}

/* The listener is closed under a coroutine blocked in accept. */
static void test_accept_closed(void **state)
{
	(void)state;
	run(accept_main);
}

/* Drops A's bare ACKs to B while set: a handshake stays half-open. */
static bool drop_acks;

static bool ack_filter(struct wire *w, struct wire_frame *f)
{
	(void)w;
	return !(drop_acks && f->to == 1 && f->data[23] == 6 &&
		 f->data[47] == 0x10 && f->len <= 14 + 20 + 20 + 12 + 6);
}

static void *connect_main(void *arg)
{
	struct cub_tcp **c = arg;

	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 1000 * MS, c), 0);
	return NULL;
}

static void *backlog_main(void *arg)
{
	struct waiter w = { .op = OP_ACCEPT };
	struct cub_tcp *l, *ka, *half;
	struct cub_coro *co, *cc;
	uint8_t c;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	pair_on(l, &ka, &kick_conn);
	W.filter = ack_filter;
	drop_acks = true;
	assert_int_equal(cub_coro_spawn(&cc, connect_main, &half, NULL), 0);
	w.c = l;
	co = wait_in(&w);		/* the child is SYN_RCVD: it waits */
	cub_coro_join(cc, NULL);
	close_kicked(l, timer_kicker, false);
	drop_acks = false;
	cub_coro_join(co, NULL);
	assert_int_equal(w.r, -CUB_EBADF);
	/* The half-open child was reset with the listener. */
	assert_int_equal(cub_tcp_recv(half, &c, 1, 1000 * MS),
			 -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(half), 0);
	end_kick(ka);
	stop();
	return NULL;
}

/* The same with a half-open connection in the listener's backlog. */
static void test_accept_closed_backlog(void **state)
{
	(void)state;
	run(backlog_main);
}

static void *two_main(void *arg)
{
	struct waiter w[2] = { { .op = OP_ACCEPT }, { .op = OP_ACCEPT } };
	struct cub_tcp *l, *ka;
	struct cub_coro *co[2];

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	pair_on(l, &ka, &kick_conn);
	for (int i = 0; i < 2; i++) {
		w[i].c = l;
		co[i] = wait_in(&w[i]);
	}
	close_kicked(l, timer_kicker, false);
	for (int i = 0; i < 2; i++) {
		cub_coro_join(co[i], NULL);
		assert_int_equal(w[i].r, -CUB_EBADF);
	}
	end_kick(ka);
	stop();
	return NULL;
}

/* Two coroutines blocked in accept; both leave, the closer frees. */
static void test_accept_two_waiters(void **state)
{
	(void)state;
	run(two_main);
}

/* --------------------------------------------------------- recv, send */

static void *recv_abort_main(void *arg)
{
	struct waiter w = { .op = OP_RECV };
	struct cub_tcp *l, *ka, *a, *b;
	struct cub_coro *co;
	uint8_t c;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	pair_on(l, &ka, &kick_conn);
	pair_on(l, &a, &b);
	assert_int_equal(cub_tcp_close(l), 0);
	w.c = b;
	co = wait_in(&w);
	close_kicked(b, timer_kicker, true);	/* abort: CLOSED at once */
	cub_coro_join(co, NULL);
	assert_int_equal(w.r, -CUB_EBADF);
	assert_int_equal(cub_tcp_recv(a, &c, 1, 1000 * MS), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(a), 0);
	end_kick(ka);
	stop();
	return NULL;
}

/* A connection aborted under a coroutine blocked in recv. */
static void test_recv_aborted(void **state)
{
	(void)state;
	run(recv_abort_main);
}

/* A's TCP frames to B go to the hand peer: the last one is kept. */
static uint8_t hand_last[CUB_ETH_FRAME_MAX];
static unsigned hand_frames;

static bool to_hand(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to != 1 || f->data[23] != 6)
		return true;
	memcpy(hand_last, f->data, f->len);
	hand_frames++;
	return false;
}

static struct cub_tcp *hand_c;

static void *hand_connector(void *arg)
{
	(void)arg;
	assert_int_equal(cub_tcp_connect(A, IP_B, PPORT, 2000 * MS, &hand_c),
			 0);
	return NULL;
}

/* The hand peer sends a segment from PPORT to A's hand_port. */
static void hand_send(uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT, hand_port, seq,
			 ack, flags, 8000, NULL, 0, NULL, 0);

	cub_netif_input(A, f, n);
	wire_settle(&W);
}

/* A connects to a peer played by hand (window 8000, no options); its
 * frames are swallowed from now on. */
static struct cub_tcp *hand_open(void)
{
	struct cub_coro *co;
	uint32_t iss;

	hand_frames = 0;
	W.filter = to_hand;
	assert_int_equal(cub_coro_spawn(&co, hand_connector, NULL, NULL), 0);
	wire_settle(&W);
	assert_int_equal(hand_frames, 1);	/* the SYN */
	hand_port = t_get16(hand_last + 34);
	iss = t_get32(hand_last + 34 + 4);
	hand_send(P0 - 1, iss + 1, 0x12);	/* SYN-ACK */
	cub_coro_join(co, NULL);
	return hand_c;
}

/* A coroutine blocked in op on a connection to the hand peer; a
 * graceful close (FIN_WAIT_1), then the peer's RST ends it. */
static void closed_then_reset(enum op op)
{
	static uint8_t fill[CUB_TCP_BUF_MIN];
	struct waiter w = { .op = op };
	struct cub_coro *co;

	start_with(&fast);
	w.c = hand_open();
	/* send: the ring (4 KiB) fills, nothing is acknowledged */
	if (op == OP_SEND)
		assert_int_equal(cub_tcp_send(w.c, fill, sizeof(fill), 0),
				 (long)sizeof(fill));
	co = wait_in(&w);
	close_kicked(w.c, rst_kicker, false);
	cub_coro_join(co, NULL);
	assert_int_equal(w.r, -CUB_EBADF);
	assert_int_equal(if_stats(A).tcp_rst_rx, 1);
	stop();
}

static void *recv_close_main(void *arg)
{
	(void)arg;
	closed_then_reset(OP_RECV);
	return NULL;
}

/* A connection closed under a coroutine blocked in recv, and reset by
 * its peer before the close has run again. */
static void test_recv_closed_then_reset(void **state)
{
	(void)state;
	run(recv_close_main);
}

static void *send_close_main(void *arg)
{
	(void)arg;
	closed_then_reset(OP_SEND);
	return NULL;
}

/* The same for a coroutine blocked in send on a full ring. */
static void test_send_closed_then_reset(void **state)
{
	(void)state;
	run(send_close_main);
}

/* ----------------------------------------------------------------- UDP */

static struct cub_udp udp;
static int udp_r;

static void *udp_waiter(void *arg)
{
	uint8_t b[16];

	(void)arg;
	udp_r = cub_udp_recvfrom(&udp, b, sizeof(b), NULL, NULL, UINT64_MAX);
	return NULL;
}

static void *udp_main(void *arg)
{
	struct cub_coro *co[2];

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(cub_udp_open(&udp, B, 5353), 0);
		udp_r = 1;
		for (int i = 0; i < 2; i++)
			assert_int_equal(cub_coro_spawn(&co[i], udp_waiter,
							NULL, NULL), 0);
		wire_settle(&W);
		assert_int_equal(udp_r, 1);
		assert_int_equal(cub_udp_close(&udp), 0);
		for (int i = 0; i < 2; i++)
			cub_coro_join(co[i], NULL);
		assert_int_equal(udp_r, -CUB_EBADF);
		assert_int_equal(cub_udp_close(&udp), -CUB_EBADF);
	}
	wire_stop(&W);
	return NULL;
}

/* Two coroutines blocked in recvfrom when the endpoint closes: both
 * get -CUB_EBADF, close returns after them, and the storage is the
 * caller's again (opened a second time). */
static void test_udp_recvfrom_closed(void **state)
{
	(void)state;
	run(udp_main);
}

/* ------------------------------------------------ a handle after close */

/* Every call on stale, a handle whose block was freed: refused, and
 * (blocks being type-stable) no read of freed memory: ASan and valgrind
 * would report one. */
static void expect_dead(struct cub_tcp *stale)
{
	struct cub_tcp_info info;
	struct cub_tcp *got;
	uint8_t b = 0;

	assert_int_equal(cub_tcp_send(stale, &b, 1, 0), -CUB_EBADF);
	assert_int_equal(cub_tcp_recv(stale, &b, 1, 0), -CUB_EBADF);
	assert_int_equal(cub_tcp_accept(stale, &got, 0), -CUB_EBADF);
	assert_int_equal(cub_tcp_shutdown(stale), -CUB_EBADF);
	assert_int_equal(cub_tcp_info(stale, &info), -CUB_EINVAL);
	assert_int_equal(cub_tcp_poll(stale), 0);
	assert_int_equal(cub_tcp_close(stale), -CUB_EBADF);
	assert_int_equal(cub_tcp_abort(stale), -CUB_EBADF);
}

static void *stale_main(void *arg)
{
	struct cub_tcp *l, *a, *b, *a2, *b2;
	struct cub_tcp_info info;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_listen(B, PORT, 4, &l), 0);
	pair_on(l, &a, &b);
	/* a reset frees both blocks at once: no TIME_WAIT holds them */
	assert_int_equal(cub_tcp_abort(a), 0);
	for (int i = 0; i < 500 && live(B); i++)
		cub_sleep(MS);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(live(A) + live(B), 0);
	expect_dead(a);
	expect_dead(b);
	/* the heap's next blocks of that size, every word the live magic:
	 * had the blocks gone back to the heap, the stale handles would
	 * now look live and name an interface at a wild address */
	void *fill[8];

	for (int i = 0; i < 8; i++) {
		uint32_t *w = fill[i] = cub_malloc(sizeof(struct cub_tcp));

		assert_non_null(w);
		for (size_t k = 0; k < sizeof(struct cub_tcp) / 4; k++)
			w[k] = TCP_MAGIC;
	}
	expect_dead(a);
	expect_dead(b);
	for (int i = 0; i < 8; i++)
		cub_free(fill[i]);
	/* the next connections take the spare blocks (type-stable): the
	 * old handles now name them, as a closed descriptor's number names
	 * the next file opened */
	pair_on(l, &a2, &b2);
	assert_true((a2 == a || a2 == b) && (b2 == a || b2 == b));
	assert_int_equal(cub_tcp_info(a, &info), 0);
	assert_string_equal(info.state, "ESTABLISHED");
	assert_int_equal(cub_tcp_close(a2), 0);
	assert_int_equal(cub_tcp_close(b2), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	expect_dead(l);
	stop();
	expect_dead(a2);
	return NULL;
}

/* A handle passed after its close: -CUB_EBADF (or -CUB_EINVAL for the
 * queries), never a use after free. */
static void test_stale_handle(void **state)
{
	(void)state;
	run(stale_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_closed),
		cmocka_unit_test(test_accept_closed_backlog),
		cmocka_unit_test(test_accept_two_waiters),
		cmocka_unit_test(test_recv_aborted),
		cmocka_unit_test(test_recv_closed_then_reset),
		cmocka_unit_test(test_send_closed_then_reset),
		cmocka_unit_test(test_udp_recvfrom_closed),
		cmocka_unit_test(test_stale_handle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
