/*
 * test_net_dns_rotate.c - rotation of a lookup's first server
 * (cub_dns_params.rotate, resolv.conf's "options rotate"; dns_query.c)
 * against three servers 10.0.1.1-3 behind gateway B (dns_nat.h).
 *
 * Proves: off by default (every lookup starts at the first server);
 * on, successive lookups start at servers 1, 2, 3, 1, ... of their list
 * (a list of two alternates between its two) and fail over from there
 * in the list's order, wrapping (an ICMP-unreachable or SERVFAIL start
 * passes to the next); through the cache the key is the list as given:
 * concurrent lookups of one name send one query, the answer is kept in
 * one entry and found by later lookups whichever server's turn it is,
 * and only lookups that ask take a turn; the params' calls and their
 * bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>

#include "dns_nat.h"

static void rotate(bool on)
{
	const struct cub_dns_params p = { .rotate = on };

	assert_int_equal(cub_dns_set_params(A, &p), 0);
}

static void *params_main(void *arg)
{
	struct cub_dns_params p = { .rotate = true };

	(void)arg;
	begin(ANSWER, ANSWER, ANSWER);
	assert_int_equal(cub_dns_get_params(A, &p), 0);
	assert_false(p.rotate);			/* the default */
	rotate(true);
	assert_int_equal(cub_dns_get_params(A, &p), 0);
	assert_true(p.rotate);
	assert_int_equal(cub_dns_set_params(A, NULL), 0);	/* defaults */
	assert_int_equal(cub_dns_get_params(A, &p), 0);
	assert_false(p.rotate);
	assert_int_equal(cub_dns_set_params(NULL, &p), -CUB_EINVAL);
	assert_int_equal(cub_dns_get_params(NULL, &p), -CUB_EINVAL);
	assert_int_equal(cub_dns_get_params(A, NULL), -CUB_EINVAL);
	stop();
	return NULL;
}

static void test_rotate_params(void **state)
{
	(void)state;
	run(params_main);
}

static void *spread_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	/* Off: six lookups, all answered by the first server. */
	begin(ANSWER, ANSWER, ANSWER);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);
		assert_int_equal(r.server, NS(1));
	}
	stop();
	/* On: 1, 2, 3, 1, 2, 3, each answering, one query each. */
	begin(ANSWER, ANSWER, ANSWER);
	rotate(true);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);
		assert_int_equal(r.server, NS(i % 3 + 1));
		assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, i % 3 + 1));
		assert_int_equal(r.queries, 1);
		assert_int_equal(N.order[i], i % 3 + 1);
	}
	assert_int_equal(N.seen, 6);
	/* A list of two from the same counter (now 6): 1, 2, 1, 2. */
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ask(2, "a.example", 2 * SEC, &r), 0);
		assert_int_equal(r.server, NS(i % 2 + 1));
	}
	/* Off again: the first server, the counter untouched. */
	rotate(false);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);
	assert_int_equal(r.server, NS(1));
	assert_int_equal(A->dns_next, 10u);
	stop();
	return NULL;
}

static void test_rotate_spread(void **state)
{
	(void)state;
	run(spread_main);
}

static void *failover_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	/* 1 SERVFAIL, 2 unreachable, 3 answers. Starting at 1: 1, 2, 3;
	 * at 2: 2, 3; at 3: 3 alone. */
	begin(SERVFAIL, UNREACH, ANSWER);
	rotate(true);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(ask(3, "a.example", 6 * SEC, &r), 0);
		assert_int_equal(r.server, NS(3));
		assert_int_equal(r.queries, 3 - i);
	}
	assert_int_equal(N.seen, 6);
	const unsigned want[] = { 1, 2, 3, 2, 3, 3 };
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(N.order[i], want[i]);
	stop();
	/* Wrapping: 1 answers, 2 and 3 SERVFAIL. Starting at 2: 2, 3, 1;
	 * at 3: 3, 1. */
	begin(ANSWER, SERVFAIL, SERVFAIL);
	rotate(true);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);	/* at 1 */
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);	/* at 2 */
	assert_int_equal(r.server, NS(1));
	assert_int_equal(r.queries, 3);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);	/* at 3 */
	assert_int_equal(r.server, NS(1));
	assert_int_equal(r.queries, 2);
	const unsigned wrap[] = { 1, 2, 3, 1, 3, 1 };
	assert_int_equal(N.seen, 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(N.order[i], wrap[i]);
	/* All failing (1 REFUSED): the last asked's error, in the rotated
	 * order: starting at 1, 3's SERVFAIL; at 2, 1's REFUSED. */
	N.plan[1] = REFUSED;
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), -CUB_EAGAIN);	/* at 1 */
	assert_int_equal(r.server, NS(3));
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), -CUB_EIO);	/* at 2 */
	assert_int_equal(r.server, NS(1));
	stop();
	return NULL;
}

static void test_rotate_failover(void **state)
{
	(void)state;
	run(failover_main);
}

/* ---------------------------------------------------------------- cache */

static struct cub_dns_cache C;
static struct cub_dns_cache_entry slots[4];

struct asker {
	const char *name;
	int rc;
	struct cub_dns_result r;
	struct cub_coro *co;
};

static void *ask_main(void *arg)
{
	struct asker *a = arg;

	a->rc = cub_dns_cache_lookup_servers(&C, A, ns3, 3, 0, a->name, 3 * SEC, &a->r);
	return NULL;
}

static struct cub_dns_cache_stats stats(void)
{
	struct cub_dns_cache_stats st;

	assert_int_equal(cub_dns_cache_stats(&C, &st), 0);
	return st;
}

static void *cache_main(void *arg)
{
	static struct asker a[5];
	struct cub_dns_cache_stats st;
	struct cub_dns_result r;

	(void)arg;
	begin(ANSWER, ANSWER, ANSWER);
	rotate(true);
	assert_int_equal(cub_dns_cache_init(&C, slots, 4), 0);
	/* Five concurrent lookups of a kept name (the answer 50 ms away):
	 * one asks (the counter's first turn: server 1), four wait for it. */
	for (int i = 0; i < 5; i++) {
		a[i] = (struct asker){ .name = "slow5keep.example" };
		assert_int_equal(cub_coro_spawn(&a[i].co, ask_main, &a[i], NULL), 0);
	}
	for (int i = 0; i < 5; i++)
		cub_coro_join(a[i].co, NULL);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_int_equal(a[i].r.server, NS(1));
		assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, 1));
	}
	assert_int_equal(N.seen, 1);
	st = stats();
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.coalesced, 4);
	assert_int_equal(st.entries, 1);
	/* Later lookups find the one entry, take no turn, send nothing. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cub_dns_cache_lookup_servers(&C, A, ns3, 3, 0, "slow5keep.example",
							      SEC, &r), 0);
		assert_true(r.cached);
		assert_int_equal(r.server, NS(1));
	}
	assert_int_equal(N.seen, 1);
	assert_int_equal(stats().entries, 1);
	/* The next lookup that asks has the next turn: server 2; its
	 * name's answer is a second entry under the same list. */
	assert_int_equal(cub_dns_cache_lookup_servers(&C, A, ns3, 3, 0, "keep2.example", SEC, &r),
			 0);
	assert_false(r.cached);
	assert_int_equal(r.server, NS(2));
	assert_int_equal(N.seen, 2);
	assert_int_equal(stats().entries, 2);
	assert_int_equal(stats().misses, 2);
	stop();
	return NULL;
}

static void test_rotate_cache(void **state)
{
	(void)state;
	run(cache_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate_params),
		cmocka_unit_test(test_rotate_spread),
		cmocka_unit_test(test_rotate_failover),
		cmocka_unit_test(test_rotate_cache),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
