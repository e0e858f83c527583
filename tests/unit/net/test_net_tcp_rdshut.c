/*
 * test_net_tcp_rdshut.c - cub_tcp_shutdown_recv (docs/net.md, "The API
 * by example"), between A and B on the in-memory wire: what was queued
 * is read, then recv returns 0 at once instead of waiting (also with
 * UINT64_MAX); our direction still sends; data arriving later is
 * queued and read (as Linux); a coroutine blocked in recv (forever or
 * with a timeout) is woken and returns 0, and the notify callback is
 * called; poll shows POLLIN | POLLRDHUP, and POLLHUP once our FIN is
 * queued too; with both directions shut, data from the peer resets the
 * connection (RST, -CUB_ECONNRESET both sides); after the peer's FIN
 * it changes nothing; bad arguments (NULL, a listener, a reset
 * connection) and a second call. After each test every connection is
 * freed and the counters add up (tcp_test.h).
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

/* A connected pair: *a on A (connect), *b on B (accept); *l the
 * listener when l is not NULL, else closed. */
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

/* Waits (at most 5 s) until poll(c) shows all of bits. */
static void wait_poll(struct cub_tcp *c, unsigned bits)
{
	uint64_t end = cub_time_now() + 5000 * MS;

	while ((cub_tcp_poll(c) & bits) != bits && cub_time_now() < end)
		cub_sleep(2 * MS);
	assert_int_equal(cub_tcp_poll(c) & bits, bits);
}

/* recv on c returns 0 at once, though told to wait for ever. */
static void eof_now(struct cub_tcp *c)
{
	uint8_t buf[16];
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

	assert_int_equal(cub_tcp_recv(c, buf, sizeof(buf), UINT64_MAX), 0);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof(buf), 0), 0);
	assert_true(cub_time_now() - t0 < test_bound(1000 * MS, w0));	/* no wait */
}

/* --------------------------------------------- queued data, then EOF */

static void *queued_main(void *arg)
{
	uint8_t buf[256], msg[100];
	struct cub_tcp *a, *b;
	uint64_t end;
	long n;
	unsigned m;

	(void)arg;
	start_with(&fast);
	pair(&a, &b, NULL);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i + 1);
	assert_int_equal(cub_tcp_send(b, msg, sizeof(msg), UINT64_MAX), 100);
	wait_poll(a, CUB_TCP_POLLIN);
	assert_false(cub_tcp_poll(a) & CUB_TCP_POLLRDHUP);
	assert_int_equal(cub_tcp_shutdown_recv(a), 0);
	m = cub_tcp_poll(a);
	assert_int_equal(m & (CUB_TCP_POLLIN | CUB_TCP_POLLRDHUP),
			 CUB_TCP_POLLIN | CUB_TCP_POLLRDHUP);
	assert_false(m & (CUB_TCP_POLLHUP | CUB_TCP_POLLERR));
	assert_true(m & CUB_TCP_POLLOUT);	/* we still send */
	/* What was queued comes first, then end of file, at once. */
	assert_int_equal(cub_tcp_recv(a, buf, sizeof(buf), UINT64_MAX), 100);
	assert_memory_equal(buf, msg, sizeof(msg));
	eof_now(a);
	/* A second call changes nothing. */
	assert_int_equal(cub_tcp_shutdown_recv(a), 0);
	eof_now(a);
	/* Our direction is open: B gets what A sends. */
	assert_int_equal(cub_tcp_send(a, "hello", 5, UINT64_MAX), 5);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 2000 * MS), 5);
	assert_memory_equal(buf, "hello", 5);
	/* Data arriving later is queued and readable (Linux's rule). */
	assert_int_equal(cub_tcp_send(b, msg, 50, UINT64_MAX), 50);
	end = cub_time_now() + 5000 * MS;
	while ((n = cub_tcp_recv(a, buf, sizeof(buf), UINT64_MAX)) == 0 &&
	       cub_time_now() < end)
		cub_sleep(2 * MS);
	assert_int_equal(n, 50);
	assert_memory_equal(buf, msg, 50);
	eof_now(a);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	/* Nothing unread: both close cleanly. */
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 2000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	assert_int_equal(if_stats(A).tcp_rst_tx + if_stats(B).tcp_rst_tx, 0);
	return NULL;
}

static void test_queued_then_eof(void **state)
{
	(void)state;
	run(queued_main);
}

/* ---------------------------------------------------- blocked readers */

struct reader {
	struct cub_tcp *c;
	uint64_t timeout;
	long r;
	bool done;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	uint8_t buf[64];

	rd->r = cub_tcp_recv(rd->c, buf, sizeof(buf), rd->timeout);
	rd->done = true;
	return NULL;
}

static unsigned notified;

static void on_notify(void *arg)
{
	(void)arg;
	notified++;
}

static void *blocked_main(void *arg)
{
	struct reader r1 = { .timeout = UINT64_MAX, .r = 1 };
	struct reader r2 = { .timeout = 5000 * MS, .r = 1 };
	struct cub_coro *c1, *c2;
	struct cub_tcp *a, *b;
	uint64_t t0, w0;

	(void)arg;
	start_with(&fast);
	pair(&a, &b, NULL);
	r1.c = r2.c = a;
	assert_int_equal(cub_coro_spawn(&c1, reader_main, &r1, NULL), 0);
	assert_int_equal(cub_coro_spawn(&c2, reader_main, &r2, NULL), 0);
	cub_sleep(30 * MS);
	assert_false(r1.done);
	assert_false(r2.done);
	assert_int_equal(cub_tcp_set_notify(a, on_notify, NULL), 0);
	notified = 0;
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_tcp_shutdown_recv(a), 0);
	assert_true(notified >= 1);
	cub_coro_join(c1, NULL);
	cub_coro_join(c2, NULL);
	assert_true(cub_time_now() - t0 < test_bound(2000 * MS, w0));	/* woken, not
							 * timed out */
	assert_int_equal(r1.r, 0);
	assert_int_equal(r2.r, 0);
	/* The connection is whole: B still talks to A's open direction. */
	assert_int_equal(cub_tcp_send(a, "x", 1, UINT64_MAX), 1);
	{
		uint8_t c;

		assert_int_equal(cub_tcp_recv(b, &c, 1, 2000 * MS), 1);
		assert_int_equal(c, 'x');
	}
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_blocked_recv_woken(void **state)
{
	(void)state;
	run(blocked_main);
}

/* ---------------------------------------------- both directions shut */

static void *both_main(void *arg)
{
	uint8_t buf[64];
	struct cub_tcp *a, *b;

	(void)arg;
	start_with(&fast);
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_shutdown_recv(a), 0);
	assert_false(cub_tcp_poll(a) & CUB_TCP_POLLHUP);
	assert_int_equal(cub_tcp_shutdown(a), 0);	/* our FIN */
	assert_true(cub_tcp_poll(a) & CUB_TCP_POLLHUP);
	/* B sees the FIN and, still allowed to, sends: A has no reader
	 * for it and resets the connection. */
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 2000 * MS), 0);
	assert_int_equal(cub_tcp_send(b, "late", 4, UINT64_MAX), 4);
	wait_poll(a, CUB_TCP_POLLERR);
	assert_int_equal(cub_tcp_recv(a, buf, sizeof(buf), 0),
			 -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_send(a, "x", 1, 0), -CUB_ECONNRESET);
	assert_int_equal(if_stats(A).tcp_rst_tx, 1);
	wait_poll(b, CUB_TCP_POLLERR);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 0),
			 -CUB_ECONNRESET);
	/* A reset connection: nothing to shut. */
	assert_int_equal(cub_tcp_shutdown_recv(a), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_shutdown_recv(b), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_both_shut_then_data(void **state)
{
	(void)state;
	run(both_main);
}

/* ---------------------------------------------- after the peer's FIN */

static void *after_fin_main(void *arg)
{
	uint8_t buf[64];
	struct cub_tcp *a, *b;

	(void)arg;
	start_with(&fast);
	pair(&a, &b, NULL);
	assert_int_equal(cub_tcp_send(b, "bye", 3, UINT64_MAX), 3);
	assert_int_equal(cub_tcp_shutdown(b), 0);
	wait_poll(a, CUB_TCP_POLLRDHUP);	/* CLOSE_WAIT */
	assert_int_equal(cub_tcp_shutdown_recv(a), 0);
	assert_int_equal(cub_tcp_recv(a, buf, sizeof(buf), UINT64_MAX), 3);
	eof_now(a);
	assert_int_equal(cub_tcp_send(a, "ok", 2, UINT64_MAX), 2);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 2000 * MS), 2);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 2000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	assert_int_equal(if_stats(A).tcp_rst_tx + if_stats(B).tcp_rst_tx, 0);
	return NULL;
}

static void test_after_peer_fin(void **state)
{
	(void)state;
	run(after_fin_main);
}

/* ------------------------------------------------------- bad arguments */

static void *args_main(void *arg)
{
	struct cub_tcp *a, *b, *l;
	uint8_t buf[8];

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_tcp_shutdown_recv(NULL), -CUB_EINVAL);
	pair(&a, &b, &l);
	assert_int_equal(cub_tcp_shutdown_recv(l), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_poll(l) & CUB_TCP_POLLRDHUP, 0);
	/* The listener still accepts after the refused call. */
	{
		struct cub_tcp *a2, *b2;

		assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 1000 * MS,
						 &a2), 0);
		assert_int_equal(cub_tcp_accept(l, &b2, 1000 * MS), 0);
		assert_int_equal(cub_tcp_close(a2), 0);
		assert_int_equal(cub_tcp_close(b2), 0);
	}
	/* Twice: 0 both times, as cub_tcp_shutdown and Linux's
	 * shutdown(SHUT_RD). */
	assert_int_equal(cub_tcp_shutdown_recv(b), 0);
	assert_int_equal(cub_tcp_shutdown_recv(b), 0);
	assert_int_equal(cub_tcp_recv(b, buf, sizeof(buf), 0), 0);
	/* A connection reset by its peer. */
	assert_int_equal(cub_tcp_abort(b), 0);
	wait_poll(a, CUB_TCP_POLLERR);
	assert_int_equal(cub_tcp_shutdown_recv(a), -CUB_ENOTCONN);
	assert_int_equal(cub_tcp_recv(a, buf, sizeof(buf), 0),
			 -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_arguments(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queued_then_eof),
		cmocka_unit_test(test_blocked_recv_woken),
		cmocka_unit_test(test_both_shut_then_data),
		cmocka_unit_test(test_after_peer_fin),
		cmocka_unit_test(test_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
