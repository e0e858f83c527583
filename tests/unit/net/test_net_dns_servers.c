/*
 * test_net_dns_servers.c - several DNS servers per lookup
 * (cub_dns_lookup_servers, cub_dns_cache_lookup_servers) and the cache's
 * coalescing of concurrent lookups, against the fake server of
 * dns_fake.h, as three servers 10.0.1.1-3 behind gateway B (dns_nat.h:
 * each answers as the test planned).
 *
 * Proves: failover on silence (after the server's share of the time,
 * with resends within it), SERVFAIL and REFUSED; none on NXDOMAIN or an
 * answer; the list asked in order; all failing: the last answered
 * error, -CUB_ETIMEDOUT only when all are silent; bad lists -CUB_EINVAL
 * (NULL, none, more than CUB_DNS_SERVERS_MAX, a 0); the cache keyed by
 * the whole list in order. Coalescing: N lookups of a TTL-0 name send
 * one query and all get its answer; a waiter with a shorter timeout
 * leaves with -CUB_ETIMEDOUT while the others get it; a SERVFAIL is
 * handed to the waiters; the asker's own timeout is not: a waiter with
 * time left asks again.
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
#include "../slow.h"

/*
 * The lookups here split their time among the servers, so which server
 * is asked and answers depends on when the wakes at the shares' ends
 * come. They come late only when the thread waited for a CPU (slow.h):
 * crowded(w0, ns) says it waited ns since w0, and only then are the
 * other outcomes a late wake makes allowed.
 */
static bool crowded(uint64_t w0, uint64_t ns)
{
	return test_waited_ns() - w0 >= ns;
}

/* ------------------------------------------------------------- failover */

static void *order_main(void *arg)
{
	struct cub_dns_result r;
	uint64_t t0, w0;
	int rc;

	(void)arg;
	/* The first answers: the others are never asked. */
	begin(ANSWER, ANSWER, ANSWER);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 1));
	assert_int_equal(r.server, NS(1));
	assert_int_equal(N.seen, 1);
	stop();
	/* SERVFAIL, then REFUSED, then an answer: 1, 2, 3 in order. */
	begin(SERVFAIL, REFUSED, ANSWER);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), 0);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 3));
	assert_int_equal(r.server, NS(3));
	assert_int_equal(r.queries, 3);
	assert_int_equal(N.seen, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(N.order[i], i + 1);
	stop();
	/* A silent first server: its share is a third of 3 s (one resend
	 * after CUB_DNS_RETRY_NS would not fit: one query), then the next
	 * (whose 1 s share only a thread kept from its CPU can miss). */
	begin(SILENT, ANSWER, ANSWER);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	rc = ask(3, "a.example", 3 * SEC, &r);
	if (rc != 0 || r.server != NS(2)) {
		assert_true(crowded(w0, 900 * MS));
	} else {
		assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 2));
		assert_true(cub_time_now() - t0 >= SEC);
		/* before the timeout */
		assert_true(cub_time_now() - t0 < test_bound(3 * SEC, w0));
		assert_int_equal(N.seen, 2);
	}
	stop();
	return NULL;
}

static void test_servers_order(void **state)
{
	(void)state;
	run(order_main);
}

static void *definite_main(void *arg)
{
	struct cub_dns_result r;
	uint64_t w0;

	(void)arg;
	/* NXDOMAIN from the first is the answer: no failover. */
	begin(NXDOMAIN, ANSWER, ANSWER);
	assert_int_equal(ask(3, "a.example", 2 * SEC, &r), -CUB_ENOENT);
	assert_int_equal(r.server, NS(1));
	assert_int_equal(N.seen, 1);
	stop();
	/* A silent first with a 2.5 s share: resent within it (at 1 s and,
	 * unless the machine is slow, 2 s), then the second's NXDOMAIN. */
	begin(SILENT, NXDOMAIN, ANSWER);
	w0 = test_waited_ns();
	assert_int_equal(ask(2, "a.example", 5 * SEC, &r), -CUB_ENOENT);
	assert_int_equal(r.server, NS(2));
	assert_true((N.seen >= 3 || crowded(w0, 1400 * MS)) && N.seen <= 4);
	for (unsigned i = 0; i + 1 < N.seen; i++)
		assert_int_equal(N.order[i], 1);
	assert_int_equal(N.order[N.seen - 1], 2);
	stop();
	return NULL;
}

static void test_servers_definite(void **state)
{
	(void)state;
	run(definite_main);
}

static void *all_fail_main(void *arg)
{
	struct cub_dns_result r;
	uint64_t t0, w0;
	int rc;

	(void)arg;
	/* All silent: -CUB_ETIMEDOUT at the lookup's timeout, each asked
	 * (the third missed only if the second's 300 ms share ended past
	 * the deadline: a thread kept that long from its CPU). */
	begin(SILENT, SILENT, SILENT);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(ask(3, "a.example", 900 * MS, &r), -CUB_ETIMEDOUT);
	assert_true(cub_time_now() - t0 >= 900 * MS);
	assert_true(N.seen >= 1 && N.seen <= 3);
	assert_true(crowded(w0, (3 - N.seen) * 250 * MS));
	stop();
	/* A SERVFAIL says more than the silence after it. */
	begin(SERVFAIL, SILENT, SILENT);
	w0 = test_waited_ns();
	assert_int_equal(ask(3, "a.example", 900 * MS, &r), -CUB_EAGAIN);
	assert_true(N.seen >= 1 && N.seen <= 3);
	assert_true(crowded(w0, (3 - N.seen) * 400 * MS));
	stop();
	/* The last answered error: REFUSED after SERVFAIL. */
	begin(SERVFAIL, SILENT, REFUSED);
	w0 = test_waited_ns();
	rc = ask(3, "a.example", 2 * SEC, &r);
	if (rc == -CUB_EAGAIN) {	/* the third never asked */
		assert_true(crowded(w0, 900 * MS));
	} else {
		assert_int_equal(rc, -CUB_EIO);
		assert_int_equal(r.server, NS(3));
	}
	stop();
	return NULL;
}

static void test_servers_all_fail(void **state)
{
	(void)state;
	run(all_fail_main);
}

static void *args_main(void *arg)
{
	static struct cub_dns_cache_entry slot[2];
	static struct cub_dns_cache c;
	const cub_ip4_t four[] = { NS(1), NS(2), NS(3), NS(1) };
	const cub_ip4_t zero[] = { NS(1), 0, NS(3) };
	struct cub_dns_result r;

	(void)arg;
	begin(ANSWER, ANSWER, ANSWER);
	assert_int_equal(cub_dns_cache_init(&c, slot, 2), 0);
	assert_int_equal(cub_dns_lookup_servers(A, NULL, 1, 0, "a.example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_servers(A, ns3, 0, 0, "a.example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_servers(A, four, 4, 0, "a.example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_servers(A, zero, 3, 0, "a.example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_servers(A, zero, 3, 0, "1.2.3.4", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_servers(&c, A, NULL, 1, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_servers(&c, A, ns3, 0, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_servers(&c, A, four, 4, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_servers(&c, A, zero, 3, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_servers(NULL, A, ns3, 3, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(N.seen, 0);
	/* CUB_DNS_SERVERS_MAX of them, a literal: fine without a query. */
	assert_int_equal(cub_dns_lookup_servers(A, ns3, 3, 0, "1.2.3.4", SEC, &r), 0);
	assert_int_equal(r.addr[0], CUB_IP4(1, 2, 3, 4));
	assert_int_equal(r.server, 0);
	assert_int_equal(N.seen, 0);
	stop();
	return NULL;
}

static void test_servers_args(void **state)
{
	(void)state;
	run(args_main);
}

/* ---------------------------------------------------------------- cache */

static struct cub_dns_cache C;
static struct cub_dns_cache_entry slots[4];

static int cask(const cub_ip4_t *list, unsigned n, const char *name, uint64_t timeout,
		struct cub_dns_result *r)
{
	return cub_dns_cache_lookup_servers(&C, A, list, n, 0, name, timeout, r);
}

static void *cache_key_main(void *arg)
{
	const cub_ip4_t rev[] = { NS(2), NS(1) };
	struct cub_dns_result r;

	(void)arg;
	begin(SILENT, ANSWER, ANSWER);
	assert_int_equal(cub_dns_cache_init(&C, slots, 4), 0);
	/* [1, 2]: 1 silent, 2 answers; kept under [1, 2]. */
	assert_int_equal(cask(ns3, 2, "keep.example", 2 * SEC, &r), 0);
	assert_int_equal(r.server, NS(2));
	assert_int_equal(cask(ns3, 2, "keep.example", 2 * SEC, &r), 0);
	assert_true(r.cached);
	assert_int_equal(r.server, NS(2));
	assert_int_equal(N.seen, 2);
	/* [2, 1], [1], [1, 2, 3]: other keys, asked again. */
	assert_int_equal(cask(rev, 2, "keep.example", 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(N.seen, 3);
	assert_int_equal(cask(ns3, 1, "keep.example", 300 * MS, &r), -CUB_ETIMEDOUT);
	assert_int_equal(cask(ns3, 3, "keep.example", 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(cask(rev, 2, "keep.example", 2 * SEC, &r), 0);
	assert_true(r.cached);
	stop();
	return NULL;
}

static void test_cache_key(void **state)
{
	(void)state;
	run(cache_key_main);
}

struct asker {
	const char *name;
	uint64_t timeout;
	int rc;
	struct cub_dns_result r;
	struct cub_coro *co;
};

static void *ask_main(void *arg)
{
	struct asker *a = arg;

	a->rc = cask(ns3, 3, a->name, a->timeout, &a->r);
	return NULL;
}

static void ask_all(struct asker *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(cub_coro_spawn(&a[i].co, ask_main, &a[i], NULL), 0);
	for (unsigned i = 0; i < n; i++)
		cub_coro_join(a[i].co, NULL);
}

static struct cub_dns_cache_stats stats(void)
{
	struct cub_dns_cache_stats st;

	assert_int_equal(cub_dns_cache_stats(&C, &st), 0);
	return st;
}

/* The number of askers whose lookup sent queries. */
static unsigned askers_asking(const struct asker *a, unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		k += a[i].r.queries > 0;
		assert_int_equal(a[i].r.cached, a[i].r.queries == 0);
	}
	return k;
}

static void *coalesce_main(void *arg)
{
	static struct asker a[6];
	struct cub_dns_cache_stats st;

	(void)arg;
	begin(SILENT, ANSWER, ANSWER);
	assert_int_equal(cub_dns_cache_init(&C, slots, 4), 0);
	/* Six lookups of a TTL-0 name through [1 silent, 2, 3]: one lookup
	 * fails over, one query to each of 1 and 2, all get 2's answer. */
	for (int i = 0; i < 6; i++)
		a[i] = (struct asker){ .name = "slow5.example", .timeout = 3 * SEC };
	ask_all(a, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, 2));
		assert_int_equal(a[i].r.server, NS(2));
	}
	assert_int_equal(askers_asking(a, 6), 1);
	assert_int_equal(N.seen, 2);
	st = stats();
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.waits, 5);
	assert_int_equal(st.coalesced, 5);
	assert_int_equal(st.hits, 5);
	assert_int_equal(st.entries, 0);	/* TTL 0: not kept */
	/* A waiter with a short timeout leaves; the others get the answer. */
	for (int i = 0; i < 4; i++)
		a[i] = (struct asker){ .name = "slow5.example", .timeout = 3 * SEC };
	a[2].timeout = 200 * MS;
	ask_all(a, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a[i].rc, i == 2 ? -CUB_ETIMEDOUT : 0);
		if (i != 2)
			assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, 2));
	}
	assert_int_equal(N.seen, 4);
	assert_int_equal(stats().coalesced, 7);
	/* Every slot free again: nothing held for waiters gone. */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(slots[i].waiters, 0);
	stop();
	return NULL;
}

static void test_coalesce(void **state)
{
	(void)state;
	run(coalesce_main);
}

static void *coalesce_fail_main(void *arg)
{
	static struct asker a[4];
	uint64_t w0;

	(void)arg;
	begin(ANSWER, ANSWER, ANSWER);
	assert_int_equal(cub_dns_cache_init(&C, slots, 4), 0);
	/* SERVFAIL everywhere: one lookup asks the three, all get -EAGAIN. */
	for (int i = 0; i < 4; i++)
		a[i] = (struct asker){ .name = "fail.example", .timeout = 3 * SEC };
	ask_all(a, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(a[i].rc, -CUB_EAGAIN);
	assert_int_equal(askers_asking(a, 4), 1);
	assert_int_equal(N.seen, 3);
	assert_int_equal(stats().coalesced, 3);
	stop();
	/* The asker times out (50 ms, the answer 300 ms away): not handed
	 * on; the waiter with time left asks again and gets the answer.
	 * (Only a thread kept 250 ms from its CPU lets the answer come
	 * first: then it is everyone's, and the rest is not this case.) */
	begin(ANSWER, ANSWER, ANSWER);
	assert_int_equal(cub_dns_cache_init(&C, slots, 4), 0);
	a[0] = (struct asker){ .name = "slow30.example", .timeout = 50 * MS };
	a[1] = (struct asker){ .name = "slow30.example", .timeout = 3 * SEC };
	w0 = test_waited_ns();
	ask_all(a, 2);
	if (a[0].rc == 0 && crowded(w0, 200 * MS)) {
		stop();
		return NULL;
	}
	assert_int_equal(a[0].rc, -CUB_ETIMEDOUT);
	if (a[1].rc == -CUB_ETIMEDOUT) {	/* 3 s for a 300 ms answer */
		assert_true(crowded(w0, 1000 * MS));
		stop();
		return NULL;
	}
	assert_int_equal(a[1].rc, 0);
	/* The fake server still sleeps over the asker's three queries
	 * (300 ms each): whichever server answered, its own answer. */
	assert_int_equal(a[1].r.addr[0], CUB_IP4(192, 0, 2, a[1].r.server & 0xff));
	assert_true(a[1].r.queries > 0);
	assert_int_equal(stats().misses, 2);
	assert_int_equal(stats().waits, 1);
	assert_int_equal(stats().coalesced, 0);
	stop();
	return NULL;
}

static void test_coalesce_fail(void **state)
{
	(void)state;
	run(coalesce_fail_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_servers_order),
		cmocka_unit_test(test_servers_definite),
		cmocka_unit_test(test_servers_all_fail),
		cmocka_unit_test(test_servers_args),
		cmocka_unit_test(test_cache_key),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_coalesce_fail),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
