/*
 * model_dns_cache.c - randomized test of the DNS cache (src/net/
 * dns_cache.c) against the fake DNS server of tests/unit/net/dns_fake.h.
 *
 * ASKERS coroutines each make OPS lookups of names drawn from a small
 * zone through one cache of 1..4 slots (the seed decides), sleeping a
 * random while now and then; each lookup asks for the name's A or its
 * SRV records (the seed decides too), so that one name is two keys. The
 * server answers each name after a delay of its own (0..40 ms) with A
 * 192.0.2.<the name's number>, or SRV port 1000 + the number, target
 * t<number>.example, and a TTL of 0, 1 or 100 s; "nxN" names are
 * NXDOMAIN with an SOA (kept 1 s), "flakyN" names fail (SERVFAIL) one
 * time in three. A checker coroutine looks at the slots between
 * lookups.
 *
 * Invariants checked: every answer is its own name's and its own
 * type's (address, or SRV port and target; canonical name), whether
 * asked or from the cache; a cached answer's
 * TTL left is at most its TTL; NXDOMAIN names always -CUB_ENOENT, flaky
 * ones 0 or -CUB_EAGAIN, nothing else ever fails; a TTL-0 answer or a
 * SERVFAIL comes "cached" only to a lookup that waited for another's
 * query (at most coalesced of them); no two live slots hold one key
 * (name and type; a name's A and SRV slots may live together); at
 * the end hits + misses = lookups and misses = the queries the server
 * got (no query lost or doubled; waiters never ask).
 *
 * usage: model_dns_cache [SEED [OPS]]   (or $CUBRT_SEED, $CUBRT_OPS)
 * The seed is printed; the same seed replays the same choices (the
 * interleaving of coroutines follows the clock).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>

#include "dns_fake.h"
#include "../model_args.h"
#include "../../unit/slow.h"

#define ASKERS 6
#define NAMES 10

static uint64_t seed, rng;
static unsigned ops = 40;
static struct cub_dns_cache C;
static struct cub_dns_cache_entry slots[4];
static bool done;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Name i of the zone, and what the server does with it. */
static const struct {
	const char *name;
	uint32_t ttl;
	unsigned delay_ms;
} zone[NAMES] = {
	{ "_s._tcp.n1.example", 0, 0 },       { "_s._tcp.n2.example", 1, 10 },
	{ "_s._tcp.n3.example", 100, 0 },     { "_s._tcp.n4.example", 100, 40 },
	{ "_s._tcp.n5.example", 0, 20 },      { "_s._tcp.n6.example", 1, 0 },
	{ "_s._tcp.nx7.example", 0, 10 },     { "_s._tcp.nx8.example", 0, 0 },
	{ "_s._tcp.flaky9.example", 100, 5 }, { "_s._tcp.flaky10.example", 1, 0 },
};

static unsigned index_of(const char *name)
{
	for (unsigned i = 0; i < NAMES; i++)
		if (!strcmp(zone[i].name, name))
			return i;
	fail_msg("a query for %s", name);
	return 0;
}

static void zone_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	char name[256];
	size_t at = 12, n = 0;
	unsigned i;

	(void)nth;
	for (; q[at]; at += 1 + q[at]) {
		if (n)
			name[n++] = '.';
		memcpy(name + n, q + at + 1, q[at]);
		n += q[at];
	}
	name[n] = '\0';
	i = index_of(name);
	cub_sleep(zone[i].delay_ms * MS);
	if (strstr(name, ".nx")) {
		static const uint8_t soa[] = "\2ns\0\1h\0\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\1\0\0\0\1";

		reply_to(m, q, qlen, 3, 1, 0);
		t_put16(m->b + 8, 1);
		put_name(m, "example");
		rr_tail(m, 6, 300, soa, sizeof(soa) - 1);	/* MINIMUM 1 */
	} else if (strstr(name, ".flaky") && rnd(3) == 0) {
		reply_to(m, q, qlen, 2, 1, 0);
	} else if (qtype(q, qlen) == 33) {
		char t[32];

		snprintf(t, sizeof(t), "t%u.example", i + 1);
		reply_to(m, q, qlen, 0, 1, 1);
		rr_srv(m, 12, zone[i].ttl, 0, 0, 1000 + i + 1, t);
	} else {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, zone[i].ttl, CUB_IP4(192, 0, 2, i + 1));
	}
}

static unsigned lookups;
static unsigned unkept;			/* "cached" results never kept */
/* Lookups that sent queries, and the queries they sent (resends after
 * CUB_DNS_RETRY_NS included: a crowded host can hold an answer that
 * long, so the server may see more queries than there were misses). */
static unsigned asked, sent;

static void check_answer(unsigned i, bool srv, int rc, const struct cub_dns_result *r,
			 const struct cub_dns_srv *s)
{
	if (strstr(zone[i].name, ".nx")) {
		assert_int_equal(rc, -CUB_ENOENT);
		assert_true(r->ttl_s <= 1);
		return;
	}
	if (strstr(zone[i].name, ".flaky") && rc == -CUB_EAGAIN) {
		unkept += r->cached;	/* another's SERVFAIL, waited for */
		return;
	}
	assert_int_equal(rc, srv ? 1 : 0);
	assert_int_equal(r->count, 1);
	if (srv) {
		char t[32];

		snprintf(t, sizeof(t), "t%u.example", i + 1);
		assert_int_equal(s->port, 1000 + i + 1);
		assert_string_equal(s->target, t);
		assert_int_equal(r->addr[0], 0);
	} else {
		assert_int_equal(r->addr[0], CUB_IP4(192, 0, 2, i + 1));
	}
	assert_string_equal(r->canonical, zone[i].name);
	assert_true(r->ttl_s <= zone[i].ttl);
	unkept += r->cached && zone[i].ttl == 0;	/* another's TTL-0 answer */
	assert_true(!r->cached || r->queries == 0);
}

static void *asker(void *arg)
{
	(void)arg;
	for (unsigned k = 0; k < ops; k++) {
		unsigned i = rnd(NAMES);
		bool srv = rnd(2);
		const cub_ip4_t list[] = { SRV_IP };
		struct cub_dns_result r;
		struct cub_dns_srv s[2];
		uint64_t w0 = test_waited_ns();
		int rc = srv ? cub_dns_cache_lookup_srv(&C, A, list, 1, 0, zone[i].name, 3 * SEC,
							s, 2, &r)
			     : cub_dns_cache_lookup(&C, A, SRV_IP, 0, zone[i].name, 3 * SEC, &r);

		lookups++;
		asked += r.queries > 0;
		sent += r.queries;
		/* Answers come within 40 ms and queries go again every
		 * second: only a thread kept 1 s from its CPU (slow.h) sees
		 * the 3 s pass. */
		if (rc == -CUB_ETIMEDOUT)
			assert_true(test_waited_ns() - w0 >= 1000 * MS);
		else
			check_answer(i, srv, rc, &r, s);
		if (rnd(4) == 0)
			cub_sleep(rnd(400) * MS);
	}
	return NULL;
}

/* No two live slots hold one key (the cache's lock keeps them still). */
static void *checker(void *arg)
{
	(void)arg;
	while (!done) {
		uint64_t now;

		cub_mutex_lock(&C.lock);
		now = cub_time_now();	/* (read before the lock, an entry could
					 * expire and be refilled meanwhile) */
		for (unsigned a = 0; a < C.slots; a++)
			for (unsigned b = a + 1; b < C.slots; b++) {
				const struct cub_dns_cache_entry *x = &C.slot[a], *y = &C.slot[b];
				bool lx = x->state == 1 || (x->state == 2 && now < x->expires);
				bool ly = y->state == 1 || (y->state == 2 && now < y->expires);

				assert_false(lx && ly && x->qtype == y->qtype &&
					     !strcmp(x->name, y->name));
			}
		cub_mutex_unlock(&C.lock);
		cub_sleep(7 * MS);
	}
	return NULL;
}

static void *model_main(void *arg)
{
	struct cub_coro *co[ASKERS], *chk;
	struct cub_dns_cache_stats st;
	unsigned n = 1 + rnd(4);

	(void)arg;
	assert_int_equal(cub_dns_cache_init(&C, slots, n), 0);
	start(zone_reply);
	assert_int_equal(cub_coro_spawn(&chk, checker, NULL, NULL), 0);
	for (int i = 0; i < ASKERS; i++)
		assert_int_equal(cub_coro_spawn(&co[i], asker, NULL, NULL), 0);
	for (int i = 0; i < ASKERS; i++)
		cub_coro_join(co[i], NULL);
	done = true;
	cub_coro_join(chk, NULL);
	assert_int_equal(cub_dns_cache_stats(&C, &st), 0);
	assert_int_equal(lookups, ASKERS * ops);
	assert_int_equal(st.hits + st.misses, lookups);
	/* Every miss asked, nothing else did, and every query it sent
	 * reached the server: none from a lookup that waited for another's. */
	assert_int_equal(st.misses, asked);
	assert_int_equal(S.queries, sent);
	assert_true(S.queries >= st.misses);
	assert_true(unkept <= st.coalesced);	/* only by waiting */
	assert_true(st.coalesced <= st.waits);
	assert_true(st.entries <= n);
	printf("model_dns_cache seed %llu: %u slots, %u lookups, %llu hits, %llu misses, "
	       "%llu waits, %llu coalesced, %llu evictions\n", (unsigned long long)seed, n,
	       lookups, (unsigned long long)st.hits, (unsigned long long)st.misses,
	       (unsigned long long)st.waits, (unsigned long long)st.coalesced,
	       (unsigned long long)st.evictions);
	stop();
	return NULL;
}

static void test_model(void **state)
{
	(void)state;
	run(model_main);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_model) };

	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = model_arg(argc, argv, 1, "CUBRT_SEED", 0);
	ops = (unsigned)model_arg(argc, argv, 2, "CUBRT_OPS", 40);
	if (seed == 0)
		seed = (uint64_t)cub_time_now() ^ 0x5eed;
	rng = seed | 1;
	printf("model_dns_cache: seed %llu, %u ops per asker\n", (unsigned long long)seed, ops);
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
