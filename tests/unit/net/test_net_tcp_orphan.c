/*
 * test_net_tcp_orphan.c - the orphan limit (docs/net.md, "Timers"): a
 * connection whose handle was closed with data still waiting behind the
 * peer's zero window sends params.orphan_retries zero-window probes,
 * answered or not, and is then reset (RST) and freed, counted in
 * tcp_orphan_resets; a connection whose handle is still open (also
 * after its own shutdown) probes on for as long as the peer answers
 * (RFC 9293 3.8.6.1); a window that opens before the limit lets the
 * data and the FIN through as ever; orphan_retries 0 in the params
 * keeps the value, and the default is CUB_TCP_ORPHAN_RETRIES.
 *
 * The peer is B's end of a real connection whose handle stays open and
 * never reads: its 4 KiB receive ring fills, its window is 0, and it
 * answers every probe (an old sequence number) with an ACK of window 0
 * (counted in B's tcp_dup). A's probes are counted exactly, so the
 * checks hold however slowly the machine runs; after each test every
 * connection is freed and the counters add up (tcp_test.h).
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

#include "../slow.h"
#include "tcp_test.h"

#include "tcp_orphan.h"

static void start_orphan(unsigned orphan_retries)
{
	start_orphans(orphan_retries, 0);
}

/* Sets A's orphan_retries alone (0: keep). */
static void set_orphan(unsigned orphan_retries)
{
	struct cub_tcp_params p = { .orphan_retries = orphan_retries };

	assert_int_equal(cub_tcp_set_params(A, &p), 0);
}

/* Closes a behind the shut window and checks its orphan is reset after
 * exactly `limit` probes, all answered by B, whose handle then finds
 * the RST after the bytes it holds. */
static void orphan_reset(unsigned limit)
{
	static uint8_t in[TOTAL];
	struct cub_tcp *a, *b;
	size_t got = 0;
	long n;

	pair(&a, &b);
	fill(a);
	wait_probes(1);			/* the window is shut */
	assert_int_equal(cub_tcp_close(a), 0);	/* FIN behind the data */
	/* No yield since the close: the timer has not run, the orphan is
	 * there (the exact count below shows it lasted `limit` probes). */
	assert_int_equal(live(A), 1);
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	wait_freed();
	assert_int_equal(if_stats(A).tcp_orphan_resets, 1);
	assert_int_equal(if_stats(A).tcp_orphans, 0);
	assert_int_equal(if_stats(A).tcp_orphan_overflow, 0);
	assert_int_equal(if_stats(A).tcp_persist_probes, limit);
	assert_int_equal(if_stats(A).tcp_gave_up, 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 1);
	assert_true(if_stats(B).tcp_dup >= limit);	/* B answered */
	/* B reads what it holds, then the reset. */
	while ((n = cub_tcp_recv(b, in + got, TOTAL - got, 1000 * MS)) > 0)
		got += (size_t)n;
	assert_int_equal(n, -CUB_ECONNRESET);
	assert_int_equal(got, CUB_TCP_BUF_MIN);
	assert_memory_equal(in, out, got);
	assert_int_equal(if_stats(B).tcp_rst_rx, 1);
	assert_int_equal(cub_tcp_close(b), 0);
}

static void *limit_main(void *arg)
{
	(void)arg;
	start_orphan(3);
	set_orphan(0);			/* keeps 3 */
	orphan_reset(3);
	stop();
	return NULL;
}

static void test_orphan_reset(void **state)
{
	(void)state;
	run(limit_main);
}

/* orphan_retries 0 keeps the value; the default is 8 probes. */
static void *default_main(void *arg)
{
	(void)arg;
	start_orphan(0);		/* a new interface's default */
	orphan_reset(CUB_TCP_ORPHAN_RETRIES);
	stop();
	return NULL;
}

static void test_orphan_default(void **state)
{
	(void)state;
	run(default_main);
}

/* ------------------------------------------------------- open handles */

/* An open handle's connection, also after its own shutdown (FIN_WAIT_1
 * with its FIN behind the data), probes on while B answers, well past
 * the orphan limit; then B reads and everything arrives. */
static void *open_main(void *arg)
{
	static uint8_t in[TOTAL];
	struct cub_tcp *a, *b;
	size_t n, got = 0;
	long r;
	const unsigned limit = 2;

	(void)arg;
	start_orphan(limit);
	pair(&a, &b);
	n = fill(a);
	assert_int_equal(cub_tcp_shutdown(a), 0);
	assert_string_equal(cub_tcp_state_name(a), "FIN_WAIT_1");
	wait_probes(limit + 5);
	assert_int_equal(live(A), 1);
	assert_int_equal(if_stats(A).tcp_orphans, 0);	/* a handle */
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	assert_int_equal(if_stats(A).tcp_gave_up, 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_false(cub_tcp_poll(a) & CUB_TCP_POLLERR);
	while ((r = cub_tcp_recv(b, in + got, TOTAL - got, 2000 * MS)) > 0)
		got += (size_t)r;
	assert_int_equal(r, 0);			/* A's FIN */
	assert_int_equal(got, n);
	assert_memory_equal(in, out, n);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	return NULL;
}

static void test_open_handle_probes_on(void **state)
{
	(void)state;
	run(open_main);
}

/* -------------------------------------------------- the window opens */

/* The orphan's window opens before the limit: its data and FIN get
 * through, byte for byte, and the close ends normally. */
static void *opens_main(void *arg)
{
	static uint8_t in[TOTAL];
	struct cub_tcp *a, *b;
	size_t n, got = 0;
	long r;
	/* 10 probes: 2.6 s after the first, room for a slow machine
	 * (more under valgrind, slow.h); the test never waits for it. */
	const unsigned limit = 10 * (unsigned)test_slowness();

	(void)arg;
	start_orphan(limit);
	pair(&a, &b);
	n = fill(a);
	wait_probes(1);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(live(A), 1);
	assert_int_equal(if_stats(A).tcp_orphans, 1);
	while ((r = cub_tcp_recv(b, in + got, TOTAL - got, 2000 * MS)) > 0)
		got += (size_t)r;
	assert_int_equal(r, 0);			/* the orphan's FIN */
	assert_int_equal(got, n);
	assert_memory_equal(in, out, n);
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	assert_true(if_stats(A).tcp_persist_probes < limit);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	assert_int_equal(if_stats(A).tcp_orphan_resets, 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_int_equal(if_stats(B).tcp_rst_rx, 0);
	assert_int_equal(if_stats(A).tcp_orphans, 0);	/* it finished */
	return NULL;
}

static void test_window_opens_in_time(void **state)
{
	(void)state;
	run(opens_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orphan_reset),
		cmocka_unit_test(test_orphan_default),
		cmocka_unit_test(test_open_handle_probes_on),
		cmocka_unit_test(test_window_opens_in_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
