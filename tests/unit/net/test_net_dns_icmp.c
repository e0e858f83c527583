/*
 * test_net_dns_icmp.c - an ICMP error about a DNS query ends that
 * server's share of a lookup (dns_query.c: the query's endpoint is
 * connected to the server; udp.c and icmp_err.c match the error),
 * against three servers 10.0.1.1-3 behind gateway B (dns_nat.h): an
 * UNREACH server's query is dropped and an ICMP destination unreachable
 * built by hand comes back instead.
 *
 * Proves: a port unreachable from the first server's host (quoting the
 * whole query, or only its UDP header as RFC 792 allows) passes the
 * lookup to the second at once, far inside the first's share; host and
 * net unreachable from the gateway do the same; an error quoting
 * another ID, another source port or another destination port is not
 * taken (counted ignored or unmatched) and the server's share runs out
 * as for silence; all servers unreachable: the last one's error, at
 * once; unreachable then silent: the refusal, at the timeout; one
 * server refused by B's own stack (no DNS server on B): at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>

#include "../stall.h"
#include "dns_nat.h"

/* What one lookup through [1, 2] took: its result, server, and time. */
struct took {
	int rc;
	struct cub_dns_result r;
	uint64_t ns;
	uint64_t late;			/* stall_late over the lookup */
};

static struct took timed_ask(unsigned n, uint64_t timeout, struct stall_meter *m)
{
	struct took t;
	uint64_t t0 = cub_time_now();

	t.rc = ask(n, "a.example", timeout, &t.r);
	t.ns = cub_time_now() - t0;
	t.late = stall_late(m, t0, t0 + t.ns);
	return t;
}

/* The share of the first of two servers in a 6 s lookup: 3 s. The
 * failover after an ICMP error wants one round trip on the wire; QUICK
 * is its tolerance (a loaded host's timers and scheduling), far below
 * the share, so a lookup that waited out the share fails the check
 * unless the stall meter saw the process stopped that long. */
#define TIMEOUT (6 * SEC)
#define SHARE (TIMEOUT / 2)
#define QUICK (300 * MS)

/* Asserts a lookup through [UNREACH, ANSWER] that failed over quickly,
 * one query to each. */
static void check_quick(const struct took *t)
{
	assert_int_equal(t->rc, 0);
	assert_int_equal(t->r.server, NS(2));
	assert_int_equal(t->r.addr[0], CUB_IP4(192, 0, 2, 2));
	assert_int_equal(t->r.queries, 2);
	assert_true(t->ns <= QUICK + t->late);
	assert_int_equal(N.seen, 2);
	assert_int_equal(N.order[0], 1);
	assert_int_equal(N.order[1], 2);
	assert_int_equal(N.icmp_sent, 1);
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
}

static void *refused_main(void *arg)
{
	static struct stall_meter m;
	struct took t;

	(void)arg;
	stall_start(&m);
	/* A port unreachable quoting the whole query. */
	begin(UNREACH, ANSWER, ANSWER);
	t = timed_ask(2, TIMEOUT, &m);
	check_quick(&t);
	stop();
	/* Quoting only the IP and UDP headers (no ID to check): taken. */
	begin(UNREACH, ANSWER, ANSWER);
	N.spoil = QUOTE_MIN;
	t = timed_ask(2, TIMEOUT, &m);
	check_quick(&t);
	stop();
	/* Host unreachable (code 1) and net unreachable (code 0) from the
	 * gateway. */
	for (uint8_t code = 0; code <= 1; code++) {
		begin(UNREACH, ANSWER, ANSWER);
		N.code[1] = code;
		t = timed_ask(2, TIMEOUT, &m);
		check_quick(&t);
		stop();
	}
	stall_stop(&m);
	return NULL;
}

static void test_icmp_ends_share(void **state)
{
	(void)state;
	run(refused_main);
}

/* A 2 s lookup through [1, 2]: the first's share is 1 s. */
static void check_share_ran_out(enum spoil spoil)
{
	struct cub_dns_result r;
	uint64_t t0;

	begin(UNREACH, ANSWER, ANSWER);
	N.spoil = spoil;
	t0 = cub_time_now();
	assert_int_equal(ask(2, "a.example", 2 * SEC, &r), 0);
	assert_true(cub_time_now() - t0 >= SEC);	/* a stall only adds */
	assert_int_equal(r.server, NS(2));
	assert_int_equal(r.queries, 2);
	assert_int_equal(N.icmp_sent, 1);
	assert_int_equal(if_stats(A).icmp_err_reported, 0);
	if (spoil == OTHER_SPORT)	/* no endpoint has that port */
		assert_int_equal(if_stats(A).icmp_err_unmatched, 1);
	else
		assert_int_equal(if_stats(A).icmp_err_ignored, 1);
	stop();
}

static void *foreign_main(void *arg)
{
	(void)arg;
	check_share_ran_out(OTHER_ID);
	check_share_ran_out(OTHER_SPORT);
	check_share_ran_out(OTHER_DPORT);
	return NULL;
}

static void test_icmp_foreign_ignored(void **state)
{
	(void)state;
	run(foreign_main);
}

static void *all_main(void *arg)
{
	static struct stall_meter m;
	struct cub_dns_result r;
	uint64_t t0, t1;

	(void)arg;
	stall_start(&m);
	/* All three unreachable: the last one's error, long before the
	 * timeout (each share would be 2 s). */
	begin(UNREACH, UNREACH, UNREACH);
	N.code[2] = 1;
	t0 = cub_time_now();
	assert_int_equal(ask(3, "a.example", TIMEOUT, &r), -CUB_ECONNREFUSED);
	t1 = cub_time_now();
	assert_true(t1 - t0 <= QUICK + stall_late(&m, t0, t1));
	assert_int_equal(r.server, NS(3));
	assert_int_equal(r.queries, 3);
	assert_int_equal(N.seen, 3);
	assert_int_equal(if_stats(A).icmp_err_reported, 3);
	stop();
	begin(UNREACH, UNREACH, UNREACH);
	N.code[3] = 0;
	assert_int_equal(ask(3, "a.example", TIMEOUT, &r), -CUB_ENETUNREACH);
	stop();
	begin(UNREACH, UNREACH, UNREACH);
	N.code[3] = 1;
	assert_int_equal(ask(3, "a.example", TIMEOUT, &r), -CUB_EHOSTUNREACH);
	stop();
	/* Unreachable, then silent: the refusal says more than silence,
	 * returned when the 1 s timeout is over. */
	begin(UNREACH, SILENT, SILENT);
	t0 = cub_time_now();
	assert_int_equal(ask(2, "a.example", SEC, &r), -CUB_ECONNREFUSED);
	assert_true(cub_time_now() - t0 >= SEC);
	assert_int_equal(r.server, NS(2));
	stop();
	stall_stop(&m);
	return NULL;
}

static void test_icmp_all_unreachable(void **state)
{
	(void)state;
	run(all_main);
}

static void *b_refuses_main(void *arg)
{
	static struct stall_meter m;
	struct cub_dns_result r;
	uint64_t t0, t1;

	(void)arg;
	stall_start(&m);
	/* No server on B's port 53: B's own stack answers the query with a
	 * port unreachable; cub_dns_lookup ends at once with it. */
	assert_int_equal(wire_start(&W), 0);
	t0 = cub_time_now();
	assert_int_equal(cub_dns_lookup(A, IP_B, 0, "a.example", TIMEOUT, &r), -CUB_ECONNREFUSED);
	t1 = cub_time_now();
	assert_true(t1 - t0 <= QUICK + stall_late(&m, t0, t1));
	assert_int_equal(r.queries, 1);
	assert_int_equal(if_stats(B).icmp_unreach_tx, 1);
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
	wire_stop(&W);
	stall_stop(&m);
	return NULL;
}

static void test_icmp_single_server(void **state)
{
	(void)state;
	run(b_refuses_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmp_ends_share),
		cmocka_unit_test(test_icmp_foreign_ignored),
		cmocka_unit_test(test_icmp_all_unreachable),
		cmocka_unit_test(test_icmp_single_server),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
