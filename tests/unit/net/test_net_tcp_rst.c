/*
 * test_net_tcp_rst.c - the peer's RST on an established connection
 * (RFC 9293 3.10.7.4, src/net/tcp_in.c's rst_input), against a peer
 * played by hand (tcp_hand.h): nothing answers the RST; bytes received
 * in order before it stay readable, then every recv and send returns
 * -CUB_ECONNRESET and poll shows POLLERR and POLLHUP; out-of-order bytes
 * are dropped; after the peer's FIN (CLOSE_WAIT) the RST is a reset
 * too; a recv blocked when it comes wakes with -CUB_ECONNRESET; a RST
 * not at rcv_nxt draws a challenge ACK and changes nothing. After each
 * test every connection is gone and the counters add up.
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
#include "tcp_hand.h"

#define RST 0x04
#define DATA 0x18			/* PSH | ACK */
#define FIN 0x11			/* FIN | ACK */
#define DEAD (CUB_TCP_POLLERR | CUB_TCP_POLLHUP | CUB_TCP_POLLIN)

static uint8_t buf[64];

static const struct cub_tcp_params fast = { .time_wait = 50 * MS };

static void start(void)
{
	start_with(&fast);
}

static void stop_all(void)
{
	cub_tcp_set_params(A, NULL);
	cub_tcp_set_params(B, NULL);
	stop();
}

/* The peer's RST at P0 + rel: counted, answered by nothing, the
 * connection CLOSED. */
static void peer_rst(struct cub_tcp *c, uint32_t rel)
{
	uint64_t rx = if_stats(A).tcp_rst_rx;

	before = ncap;
	peer(P0 + rel, RST, NULL, 0);
	assert_int_equal(ncap, before);		/* no RST for a RST */
	assert_int_equal(if_stats(A).tcp_rst_rx, rx + 1);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_string_equal(cub_tcp_state_name(c), "CLOSED");
}

/* Every later call: the sticky reset. */
static void expect_reset(struct cub_tcp *c)
{
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 0), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 100 * MS), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_send(c, "x", 1, 0), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_poll(c) & (DEAD | CUB_TCP_POLLOUT), DEAD);
}

/* ------------------------------------------------- unread data, then RST */

static void *unread_main(void *arg)
{
	struct cub_tcp *c;

	(void)arg;
	start();
	c = hand_open(NULL, 0);
	peer(P0, DATA, "0123456789", 10);
	peer(P0 + 20, DATA, "out-of-ord", 10);	/* a hole at 10..20 */
	peer_rst(c, 10);
	/* In order before the RST: still read (as Linux); the bytes beyond
	 * the hole never are. */
	assert_int_equal(cub_tcp_poll(c) & DEAD, DEAD);
	assert_int_equal(cub_tcp_recv(c, buf, 4, 0), 4);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 0), 6);
	assert_memory_equal(buf, "456789", 6);
	expect_reset(c);
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);	/* close: none either */
	stop_all();
	return NULL;
}

static void test_rst_keeps_unread_data(void **state)
{
	(void)state;
	run(unread_main);
}

/* ------------------------------------------------ after the peer's FIN */

static void *after_fin_main(void *arg)
{
	struct cub_tcp *c;

	(void)arg;
	start();
	c = hand_open(NULL, 0);
	/* Read to the end: CLOSE_WAIT, end of file at each recv. */
	peer(P0, DATA | 0x01, "abc", 3);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 0), 3);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 0), 0);
	assert_string_equal(cub_tcp_state_name(c), "CLOSE_WAIT");
	assert_int_equal(cub_tcp_poll(c) & CUB_TCP_POLLERR, 0);
	peer_rst(c, 4);			/* after the FIN's number */
	expect_reset(c);
	assert_int_equal(cub_tcp_close(c), 0);

	/* The FIN with data unread: the data, then the reset. */
	c = hand_open(NULL, 0);
	peer(P0, DATA, "xy", 2);
	peer(P0 + 2, FIN, NULL, 0);
	assert_string_equal(cub_tcp_state_name(c), "CLOSE_WAIT");
	peer_rst(c, 3);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 0), 2);
	assert_memory_equal(buf, "xy", 2);
	expect_reset(c);
	assert_int_equal(cub_tcp_close(c), 0);
	stop_all();
	return NULL;
}

static void test_rst_after_fin(void **state)
{
	(void)state;
	run(after_fin_main);
}

/* ------------------------------------ a blocked recv, a RST out of place */

static struct cub_tcp *bc;
static long br = 1;

static void *blocked_recv(void *arg)
{
	(void)arg;
	br = cub_tcp_recv(bc, buf, sizeof buf, 2000 * MS);
	return NULL;
}

static void *blocked_main(void *arg)
{
	struct cub_coro *co;

	(void)arg;
	start();
	bc = hand_open(NULL, 0);
	peer(P0, DATA, "abcd", 4);
	assert_int_equal(cub_tcp_recv(bc, buf, sizeof buf, 0), 4);
	/* Not at rcv_nxt (RFC 5961 3.2): one challenge ACK, nothing else. */
	before = ncap;
	peer(P0 + 5, RST, NULL, 0);
	expect_ack(4);
	assert_string_equal(cub_tcp_state_name(bc), "ESTABLISHED");
	assert_int_equal(cub_tcp_poll(bc) & CUB_TCP_POLLERR, 0);
	/* A recv waiting for data wakes with the reset. */
	assert_int_equal(cub_coro_spawn(&co, blocked_recv, NULL, NULL), 0);
	cub_sleep(20 * MS);
	assert_int_equal(br, 1);
	peer_rst(bc, 4);
	cub_coro_join(co, NULL);
	assert_int_equal(br, -CUB_ECONNRESET);
	expect_reset(bc);
	assert_int_equal(cub_tcp_abort(bc), 0);	/* nothing to send: no RST */
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	stop_all();
	return NULL;
}

static void test_rst_wakes_recv(void **state)
{
	(void)state;
	run(blocked_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rst_keeps_unread_data),
		cmocka_unit_test(test_rst_after_fin),
		cmocka_unit_test(test_rst_wakes_recv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
