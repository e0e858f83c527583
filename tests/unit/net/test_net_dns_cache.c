/*
 * test_net_dns_cache.c - cub_dns_cache_* against the fake servers of
 * dns_fake.h, whose UDP side answers by the question's name (a small
 * zone below), some names slowly.
 *
 * Proves: a second lookup (case and final dot aside) is answered from
 * the cache without a query, with the TTL left; another server port is
 * another key; an answer expires after its TTL, TTL 0 is not kept, a
 * huge TTL is capped at CUB_DNS_TTL_MAX; NXDOMAIN and an empty answer
 * with an SOA are kept for min(SOA TTL, MINIMUM) and capped at
 * CUB_DNS_NEG_TTL_MAX, without an SOA (or with another zone's) they are
 * not, nor SERVFAIL; the least recently used answer is evicted; an
 * answer that came over TCP is kept; concurrent lookups of one name
 * send one query, of a TTL-0 name get correct answers (one query
 * each), a waiter gives up at its own timeout, more concurrent names
 * than slots are all answered; hits, misses, waits, evictions and
 * entries counted; bad arguments -CUB_EINVAL, literals and malformed
 * names never touch the cache. The randomized test is
 * tests/model/net/model_dns_cache.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>

#include "dns_fake.h"

#define SLOTS 8

static struct cub_dns_cache C;
static struct cub_dns_cache_entry slots[SLOTS];
static uint32_t neg_min = 1;		/* the SOA MINIMUM of nx.example */

/* The zone: "sN.example" and "slowN.example" answer after N * 10 ms;
 * A records 192.0.2.<the name's first letter>, TTL 100 s but for
 * zero, s0 and s10 (0), one (1 s) and huge (0x7fffffff). */
static void zone_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	char name[256];
	unsigned k;

	(void)nth;
	qname(q, name);
	if (sscanf(name, "slow%u.example", &k) == 1 || sscanf(name, "s%u.example", &k) == 1)
		cub_sleep(k * 10 * MS);
	if (!strcmp(name, "nx.example") || !strcmp(name, "nxbig.example") ||
	    !strcmp(name, "nosoa.example") || !strcmp(name, "otherzone.example")) {
		reply_to(m, q, qlen, 3, 1, 0);
		if (!strcmp(name, "nx.example"))
			soa(m, "example", 300, neg_min);
		else if (!strcmp(name, "nxbig.example"))
			soa(m, "example", 0x7fffffff, 0x7fffffff);
		else if (!strcmp(name, "otherzone.example"))
			soa(m, "other.test", 300, 300);
	} else if (!strcmp(name, "nodata.example")) {
		reply_to(m, q, qlen, 0, 1, 0);
		soa(m, "EXAMPLE", 5, 300);		/* the TTL is smaller */
	} else if (!strcmp(name, "fail.example")) {
		reply_to(m, q, qlen, 2, 1, 0);
	} else {
		uint32_t ttl = !strcmp(name, "zero.example") || !strcmp(name, "s0.example") ||
			       !strcmp(name, "s10.example") ? 0 :
			       !strcmp(name, "huge.example") ? 0x7fffffff :
			       !strcmp(name, "one.example") ? 1 : 100;

		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, ttl, CUB_IP4(192, 0, 2, name[0]));	/* by its first letter */
	}
}

static int clookup(const char *name, uint64_t timeout, struct cub_dns_result *r)
{
	return cub_dns_cache_lookup(&C, A, SRV_IP, 0, name, timeout, r);
}

static struct cub_dns_cache_stats stats(void)
{
	struct cub_dns_cache_stats st;

	assert_int_equal(cub_dns_cache_stats(&C, &st), 0);
	return st;
}

static void begin(unsigned nslots)
{
	assert_int_equal(cub_dns_cache_init(&C, slots, nslots), 0);
	start(zone_reply);
}

static void *hit_main(void *arg)
{
	struct cub_dns_result r;
	struct cub_dns_cache_stats st;

	(void)arg;
	begin(SLOTS);
	assert_int_equal(clookup("b.example", 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(r.queries, 1);
	assert_int_equal(r.ttl_s, 100);
	assert_int_equal(clookup("B.Example.", 2 * SEC, &r), 0);
	assert_true(r.cached);
	assert_int_equal(r.queries, 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 'b'));
	assert_string_equal(r.canonical, "b.example");
	assert_true(r.ttl_s == 100 || r.ttl_s == 99);
	assert_int_equal(S.queries, 1);
	/* Another port is another key: asked (B's port unreachable). */
	assert_int_equal(cub_dns_cache_lookup(&C, A, SRV_IP, 5353, "b.example", 200 * MS, &r),
			 -CUB_ECONNREFUSED);
	st = stats();
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.waits, 0);
	stop();
	return NULL;
}

static void test_cache_hit(void **state)
{
	(void)state;
	run(hit_main);
}

static void *expiry_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	begin(SLOTS);
	assert_int_equal(clookup("one.example", 2 * SEC, &r), 0);
	cub_sleep(400 * MS);
	assert_int_equal(clookup("one.example", 2 * SEC, &r), 0);
	assert_true(r.cached);
	assert_int_equal(r.ttl_s, 1);		/* 0.6 s left, rounded up */
	cub_sleep(700 * MS);
	assert_int_equal(clookup("one.example", 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(S.queries, 2);
	/* TTL 0: never kept. */
	assert_int_equal(clookup("zero.example", 2 * SEC, &r), 0);
	assert_int_equal(clookup("zero.example", 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(S.queries, 4);
	/* A huge TTL: kept for a day. */
	assert_int_equal(clookup("huge.example", 2 * SEC, &r), 0);
	assert_int_equal(r.ttl_s, 0x7fffffff);
	assert_int_equal(clookup("huge.example", 2 * SEC, &r), 0);
	assert_true(r.cached);
	assert_int_equal(r.ttl_s, CUB_DNS_TTL_MAX);
	assert_int_equal(stats().entries, 2);	/* one.example, huge */
	stop();
	return NULL;
}

static void test_cache_expiry(void **state)
{
	(void)state;
	run(expiry_main);
}

/* Looks name up twice: the second's rc, *cached and the queries it
 * took. */
static int twice(const char *name, struct cub_dns_result *r, unsigned *queries, int want)
{
	unsigned q0 = S.queries;

	assert_int_equal(clookup(name, 2 * SEC, r), want);
	assert_false(r->cached);
	assert_int_equal(clookup(name, 2 * SEC, r), want);
	*queries = S.queries - q0;
	return r->cached;
}

static void *negative_main(void *arg)
{
	struct cub_dns_result r;
	unsigned q;

	(void)arg;
	begin(SLOTS);
	assert_int_equal(clookup("nx.example", 2 * SEC, &r), -CUB_ENOENT);
	assert_int_equal(r.ttl_s, 1);		/* min(300, MINIMUM 1) */
	assert_int_equal(clookup("NX.example", 2 * SEC, &r), -CUB_ENOENT);
	assert_true(r.cached);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.queries, 0);
	assert_int_equal(S.queries, 1);
	cub_sleep(1100 * MS);
	assert_int_equal(clookup("nx.example", 2 * SEC, &r), -CUB_ENOENT);
	assert_false(r.cached);
	assert_int_equal(S.queries, 2);
	/* No A record, an SOA whose TTL (5) is below its MINIMUM. */
	assert_true(twice("nodata.example", &r, &q, -CUB_ENOENT));
	assert_int_equal(q, 1);
	assert_int_equal(r.ttl_s, 5);
	assert_true(twice("nxbig.example", &r, &q, -CUB_ENOENT));
	assert_int_equal(r.ttl_s, CUB_DNS_NEG_TTL_MAX);
	/* Not kept: no SOA, another zone's SOA, SERVFAIL. */
	assert_false(twice("nosoa.example", &r, &q, -CUB_ENOENT));
	assert_int_equal(q, 2);
	assert_int_equal(r.ttl_s, 0);
	assert_false(twice("otherzone.example", &r, &q, -CUB_ENOENT));
	assert_int_equal(q, 2);
	assert_false(twice("fail.example", &r, &q, -CUB_EAGAIN));
	assert_int_equal(q, 2);
	assert_int_equal(stats().entries, 3);	/* nx, nodata, nxbig */
	stop();
	return NULL;
}

static void test_cache_negative(void **state)
{
	(void)state;
	run(negative_main);
}

static bool cached(const char *name)
{
	struct cub_dns_result r;

	assert_int_equal(clookup(name, 2 * SEC, &r), 0);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, name[0]));
	return r.cached;
}

static void *evict_main(void *arg)
{
	struct cub_dns_cache_stats st;

	(void)arg;
	begin(2);
	assert_false(cached("a.example"));
	assert_false(cached("b.example"));
	assert_true(cached("a.example"));	/* a is the more recent */
	assert_false(cached("c.example"));	/* evicts b */
	assert_true(cached("a.example"));
	assert_true(cached("c.example"));
	assert_false(cached("b.example"));	/* evicts a */
	assert_false(cached("a.example"));	/* evicts c */
	assert_true(cached("b.example"));
	assert_int_equal(S.queries, 5);
	st = stats();
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.hits, 4);
	assert_int_equal(st.misses, 5);
	assert_int_equal(st.entries, 2);
	stop();
	return NULL;
}

static void test_cache_evict(void **state)
{
	(void)state;
	run(evict_main);
}

/* UDP truncates tcp.example; TCP answers it. */
static void tc_zone_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	reply_to(m, q, qlen, 0, 1, 0);
	t_put16(m->b + 2, t_get16(m->b + 2) | 0x0200);
	(void)nth;
}

static void tcp_answer(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	struct msg m;

	(void)nth;
	reply_to(&m, q, qlen, 0, 1, 1);
	rr_a(&m, 60, CUB_IP4(192, 0, 2, 60));
	tcp_msg(c, &m);
}

static void *tcp_main_(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	assert_int_equal(cub_dns_cache_init(&C, slots, SLOTS), 0);
	start(tc_zone_reply);
	tcp_start(tcp_answer);
	assert_int_equal(clookup("tcp.example", 2 * SEC, &r), 0);
	assert_true(r.tcp);
	assert_int_equal(clookup("tcp.example", 2 * SEC, &r), 0);
	assert_true(r.cached);
	assert_false(r.tcp);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 60));
	assert_int_equal(S.queries, 1);
	assert_int_equal(T.queries, 1);
	tcp_stop();
	stop();
	return NULL;
}

static void test_cache_tcp(void **state)
{
	(void)state;
	run(tcp_main_);
}

/* ------------------------------------------------------------ concurrency */

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

	a->rc = clookup(a->name, a->timeout, &a->r);
	return NULL;
}

/* n coroutines looking up names[i % len] at once; all joined. */
static void ask_all(struct asker *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(cub_coro_spawn(&a[i].co, ask_main, &a[i], NULL), 0);
	for (unsigned i = 0; i < n; i++)
		cub_coro_join(a[i].co, NULL);
}

static void *concurrent_main(void *arg)
{
	static struct asker a[6];
	struct cub_dns_cache_stats st;

	(void)arg;
	begin(SLOTS);
	/* One name, four askers, the answer 200 ms away: one query. */
	for (int i = 0; i < 4; i++)
		a[i] = (struct asker){ .name = "slow20.example", .timeout = 2 * SEC };
	ask_all(a, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, 's'));
	}
	assert_int_equal(S.queries, 1);
	st = stats();
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.waits, 3);
	assert_int_equal(st.coalesced, 3);
	/* TTL 0 ("s10.example", 100 ms away): not kept, yet the askers that
	 * came while it was asked take its answer: one query. */
	for (int i = 0; i < 3; i++)
		a[i] = (struct asker){ .name = "s10.example", .timeout = 2 * SEC };
	ask_all(a, 3);
	for (int i = 0, asked = 0; i < 3; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_int_equal(a[i].r.cached, a[i].r.queries == 0);
		asked += (int)a[i].r.queries;
		assert_int_equal(asked, a[i].r.cached ? asked : 1);
		assert_int_equal(a[i].r.ttl_s, 0);
		assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, 's'));
		assert_int_equal(a[i].r.server, SRV_IP);
	}
	assert_int_equal(S.queries, 2);
	st = stats();
	assert_int_equal(st.coalesced, 5);
	assert_int_equal(st.entries, 1);	/* slow20 only */
	/* A waiter with a short timeout gives up; the asker does not. */
	a[0] = (struct asker){ .name = "slow30.example", .timeout = 2 * SEC };
	a[1] = (struct asker){ .name = "slow30.example", .timeout = 50 * MS };
	ask_all(a, 2);
	assert_int_equal(a[0].rc, 0);
	assert_int_equal(a[1].rc, -CUB_ETIMEDOUT);
	stop();
	return NULL;
}

static void test_cache_concurrent(void **state)
{
	(void)state;
	run(concurrent_main);
}

/* Six names at once through two slots: all answered, some uncached. */
static void *crowd_main(void *arg)
{
	static const char *names[] = { "slow5.example", "a.example", "s5.example",
				       "b.example", "slow7.example", "c.example" };
	static struct asker a[6];

	(void)arg;
	begin(2);
	for (int i = 0; i < 6; i++)
		a[i] = (struct asker){ .name = names[i], .timeout = 2 * SEC };
	ask_all(a, 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(a[i].rc, 0);
		assert_int_equal(a[i].r.addr[0], CUB_IP4(192, 0, 2, names[i][0]));
		assert_string_equal(a[i].r.canonical, names[i]);
	}
	assert_int_equal(S.queries, 6);
	assert_true(stats().entries <= 2);
	stop();
	return NULL;
}

static void test_cache_crowd(void **state)
{
	(void)state;
	run(crowd_main);
}

static void *args_main(void *arg)
{
	struct cub_dns_result r;
	struct cub_dns_cache_stats st;

	(void)arg;
	assert_int_equal(cub_dns_cache_init(NULL, slots, 1), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_init(&C, NULL, 1), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_init(&C, slots, 0), -CUB_EINVAL);
	begin(SLOTS);
	assert_int_equal(cub_dns_cache_lookup(NULL, A, SRV_IP, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup(&C, NULL, SRV_IP, 0, "a.example", SEC, &r),
			 -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup(&C, A, 0, 0, "a.example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup(&C, A, SRV_IP, 0, NULL, SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup(&C, A, SRV_IP, 0, "a.example", SEC, NULL),
			 -CUB_EINVAL);
	assert_int_equal(clookup("a..example", SEC, &r), -CUB_EINVAL);
	assert_int_equal(clookup("", SEC, &r), -CUB_EINVAL);
	assert_int_equal(clookup("10.0.2.2", SEC, &r), 0);
	assert_int_equal(r.addr[0], CUB_IP4(10, 0, 2, 2));
	assert_int_equal(r.queries, 0);
	assert_false(r.cached);
	assert_int_equal(cub_dns_cache_stats(NULL, &st), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_stats(&C, NULL), -CUB_EINVAL);
	st = stats();
	assert_int_equal(st.hits + st.misses + st.entries, 0);
	assert_int_equal(S.queries, 0);
	stop();
	return NULL;
}

static void test_cache_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_cache_expiry),
		cmocka_unit_test(test_cache_negative),
		cmocka_unit_test(test_cache_evict),
		cmocka_unit_test(test_cache_tcp),
		cmocka_unit_test(test_cache_concurrent),
		cmocka_unit_test(test_cache_crowd),
		cmocka_unit_test(test_cache_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
