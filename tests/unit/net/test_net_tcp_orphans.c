/*
 * test_net_tcp_orphans.c - the number of orphans (docs/net.md,
 * "Orphans"): params.max_orphans at once per interface; a close that
 * would make one more resets its connection at once (a RST on the
 * wire, the data behind the peer's shut window never sent, counted in
 * tcp_orphan_overflow); tcp_orphans, the current count, goes down by
 * every way an orphan leaves (it finishes, the peer resets it, the
 * orphan_retries rule resets it, FIN_WAIT_2 times out), after which a
 * close is allowed again; a limit lowered below the count resets none;
 * closes with nothing left to do are no orphans; bad params are
 * rejected and change nothing.
 *
 * The peers are B's ends of real connections whose handles stay open
 * and do not read until the test says (tcp_orphan.h): each A end has
 * filled B's 4 KiB ring and its own, so it waits behind a zero window.
 * orphan_retries is large (1000) unless a test lowers it, so no orphan
 * is reset by probes while a test looks at the counts.
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

#include "tcp_orphan.h"

#define RETRIES 1000			/* no reset by probes meanwhile */

/* The RSTs A sent to B (a wire filter): A's source port of each. */
static unsigned nrst;
static uint16_t rst_port[8];

static bool rst_tap(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to == 1 && f->data[23] == 6 && (f->data[34 + 13] & 0x04) &&
	    nrst < 8)
		rst_port[nrst++] = t_get16(f->data + 34);
	return true;
}

/* Waits (at most 10 s) until A counts n orphans. */
static void wait_orphans(uint64_t n)
{
	uint64_t end = cub_time_now() + 10000 * MS;

	while (if_stats(A).tcp_orphans != n && cub_time_now() < end)
		cub_sleep(5 * MS);
	assert_int_equal(if_stats(A).tcp_orphans, n);
}

static uint16_t port_of(struct cub_tcp *a)
{
	uint16_t port;

	assert_int_equal(cub_tcp_local(a, NULL, &port), 0);
	return port;
}

/* A pair on a port of its own: B's ends of earlier pairs may still
 * hold theirs (LAST_ACK, or open). */
static uint16_t next_port = PORT;

static void fresh_pair(struct cub_tcp **a, struct cub_tcp **b)
{
	pair_on(next_port++, a, b);
}

/* Sets A's max_orphans alone. */
static int set_max(unsigned max_orphans)
{
	struct cub_tcp_params p = { .max_orphans = max_orphans };

	return cub_tcp_set_params(A, &p);
}

/* ------------------------------------------------------------ overflow */

/* Bad values are refused whole: orphan_retries 1 beside them is not
 * taken (the orphans below would be reset after one probe). */
static void bad_params(void)
{
	struct cub_tcp_params p = {
		.max_orphans = CUB_TCP_ORPHANS_MAX + 1, .orphan_retries = 1,
	};

	assert_int_equal(cub_tcp_set_params(A, &p), -CUB_EINVAL);
	p.max_orphans = UINT32_MAX;
	assert_int_equal(cub_tcp_set_params(A, &p), -CUB_EINVAL);
	assert_int_equal(set_max(CUB_TCP_ORPHANS_MAX), 0);	/* the bound */
	assert_int_equal(set_max(2), 0);
	assert_int_equal(set_max(0), 0);			/* keeps 2 */
}

/* max_orphans 2: three connections closed behind a zero window; two
 * stay orphans, the third is reset at once; the two finish when B
 * reads, and then a close is allowed again. */
static void *overflow_main(void *arg)
{
	struct cub_tcp *a[4], *b[4];
	size_t n[4], got;
	uint16_t ap[3];

	(void)arg;
	start_orphans(RETRIES, 5);
	bad_params();
	nrst = 0;
	W.filter = rst_tap;
	for (int i = 0; i < 3; i++) {
		fresh_pair(&a[i], &b[i]);
		n[i] = fill(a[i]);
		ap[i] = port_of(a[i]);
	}
	assert_int_equal(cub_tcp_close(a[0]), 0);
	assert_int_equal(cub_tcp_close(a[1]), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 2);
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_int_equal(live(A), 3);
	/* The third: reset and freed by its close. */
	assert_int_equal(cub_tcp_close(a[2]), 0);
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 1);
	assert_int_equal(if_stats(A).tcp_orphans, 2);
	assert_int_equal(if_stats(A).tcp_rst_tx, 1);
	assert_int_equal(live(A), 2);
	wire_settle(&W);
	assert_int_equal(nrst, 1);
	assert_int_equal(rst_port[0], ap[2]);
	/* A limit lowered below the count resets none of the orphans. */
	assert_int_equal(set_max(1), 0);
	wire_settle(&W);
	assert_int_equal(if_stats(A).tcp_orphans, 2);
	assert_int_equal(if_stats(A).tcp_rst_tx, 1);
	assert_int_equal(live(A), 2);
	assert_int_equal(set_max(2), 0);
	/* B has the 4 KiB its window took, nothing after: the RST. */
	assert_int_equal(drain(b[2], &got), -CUB_ECONNRESET);
	assert_int_equal(got, CUB_TCP_BUF_MIN);
	assert_true(n[2] > got);
	/* The two orphans deliver everything and their FINs. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(drain(b[i], &got), 0);
		assert_int_equal(got, n[i]);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(cub_tcp_close(b[i]), 0);
	wait_orphans(0);			/* TIME_WAIT: finished */
	/* A close is allowed again (limit 2, none left). */
	fresh_pair(&a[3], &b[3]);
	n[3] = fill(a[3]);
	assert_int_equal(cub_tcp_close(a[3]), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	assert_int_equal(drain(b[3], &got), 0);
	assert_int_equal(got, n[3]);
	assert_int_equal(cub_tcp_close(b[3]), 0);
	wait_orphans(0);
	stop();
	assert_int_equal(nrst, 1);
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 1);
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	assert_int_equal(if_stats(A).tcp_gave_up, 0);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	return NULL;
}

static void test_overflow_resets(void **state)
{
	(void)state;
	run(overflow_main);
}

/* ------------------------------------------------------ leaving paths */

/* A's one orphan behind a zero window (max_orphans 1): *a closed, *b
 * open; a second close meanwhile is reset (one overflow more). */
static void one_orphan(struct cub_tcp **b, uint64_t overflow)
{
	struct cub_tcp *a, *a2, *b2;
	size_t got;

	fresh_pair(&a, b);
	fill(a);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	fresh_pair(&a2, &b2);
	fill(a2);
	assert_int_equal(cub_tcp_close(a2), 0);
	assert_int_equal(if_stats(A).tcp_orphan_overflow, overflow + 1);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	assert_int_equal(drain(b2, &got), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(b2), 0);
}

/* The peer resets it (B aborts): the count goes down, the next close
 * may leave an orphan. */
static void leave_by_peer_rst(void)
{
	struct cub_tcp *b;
	uint64_t rst = if_stats(A).tcp_rst_rx;

	one_orphan(&b, 0);
	assert_int_equal(cub_tcp_abort(b), 0);
	wait_orphans(0);
	assert_int_equal(if_stats(A).tcp_rst_rx, rst + 1);
}

/* The orphan_retries rule resets it. */
static void leave_by_retries(void)
{
	struct cub_tcp_params p = { .orphan_retries = 2 };
	struct cub_tcp *b;
	size_t got;

	one_orphan(&b, 1);
	assert_int_equal(cub_tcp_set_params(A, &p), 0);
	wait_orphans(0);
	assert_int_equal(if_stats(A).tcp_orphan_resets, 1);
	assert_int_equal(drain(b, &got), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(b), 0);
	p.orphan_retries = RETRIES;
	assert_int_equal(cub_tcp_set_params(A, &p), 0);
}

/* It finishes: B reads everything and closes. */
static void leave_by_finish(void)
{
	struct cub_tcp *b;
	size_t got;

	one_orphan(&b, 2);
	assert_int_equal(drain(b, &got), 0);
	assert_true(got >= CUB_TCP_BUF_MIN);
	assert_int_equal(cub_tcp_close(b), 0);
	wait_orphans(0);
}

/* FIN_WAIT_2 times out: nothing to send, B never closes. */
static void leave_by_fin_timeout(void)
{
	struct cub_tcp *a, *b;

	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	wait_orphans(0);			/* fin_timeout, 500 ms */
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 3);
	assert_int_equal(cub_tcp_recv(b, out, 1, 0), 0);	/* A's FIN */
	assert_int_equal(cub_tcp_close(b), 0);	/* A answers its FIN: RST */
}

static void *paths_main(void *arg)
{
	struct cub_tcp *a, *b;

	(void)arg;
	start_orphans(RETRIES, 1);
	leave_by_peer_rst();
	leave_by_retries();
	leave_by_finish();
	leave_by_fin_timeout();
	/* One last close is allowed: nothing counted is left over. */
	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	assert_int_equal(cub_tcp_recv(b, out, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	wait_orphans(0);
	stop();
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 3);
	assert_int_equal(if_stats(A).tcp_orphan_resets, 1);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	return NULL;
}

static void test_leaving_paths(void **state)
{
	(void)state;
	run(paths_main);
}

/* ----------------------------------------------------- what is counted */

/* Closes that leave nothing to do are no orphans: after both FINs
 * (TIME_WAIT, or CLOSED by the peer's reset) and an abort; with
 * max_orphans 1 they never overflow. */
static void *not_orphans_main(void *arg)
{
	struct cub_tcp *a, *b;

	(void)arg;
	start_orphans(RETRIES, 1);
	/* B closes first; A reads its FIN, then closes: LAST_ACK is an
	 * orphan until B's ACK, then gone. */
	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_close(b), 0);
	assert_int_equal(cub_tcp_recv(a, out, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(a), 0);
	wait_orphans(0);
	/* Both shut down, both FINs ACKed: TIME_WAIT is no orphan. */
	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_int_equal(cub_tcp_recv(b, out, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_shutdown(b), 0);
	assert_int_equal(cub_tcp_recv(a, out, 1, 1000 * MS), 0);
	wire_settle(&W);
	assert_string_equal(cub_tcp_state_name(a), "TIME_WAIT");
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	assert_int_equal(cub_tcp_close(b), 0);
	/* Reset by the peer before the close. */
	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_abort(b), 0);
	wire_settle(&W);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	/* Aborts, and a close with unread data, reset: no orphan. */
	fresh_pair(&a, &b);
	assert_int_equal(cub_tcp_send(b, "x", 1, 0), 1);
	wire_settle(&W);
	assert_int_equal(cub_tcp_close(a), 0);	/* unread: RST */
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 0);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	return NULL;
}

static void test_not_orphans(void **state)
{
	(void)state;
	run(not_orphans_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_resets),
		cmocka_unit_test(test_leaving_paths),
		cmocka_unit_test(test_not_orphans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
