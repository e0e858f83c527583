/*
 * test_net_dns_srv.c - service records (cub_dns_lookup_srv,
 * cub_dns_cache_lookup_srv; RFC 2782) against the fake DNS servers of
 * dns_fake.h, replies built by hand.
 *
 * Proves: the question on the wire (type SRV 33, class IN); records
 * with compressed owners and targets, sorted by priority, the smallest
 * TTL; RFC 2782's weighted order within a priority, by exact counts
 * over fixed seeds (cubi_dns_srv_order) and by distribution bounds over
 * 4000 cached lookups drawing from the real random source (bounds 8
 * standard deviations wide: a false failure is under 1e-14); weight-0
 * records first and rarely; a sole "." target -CUB_EADDRNOTAVAIL, a "."
 * among others left out; too small an array -CUB_ENOSPC with the
 * count; a truncated UDP answer asked again over TCP (20 records); more
 * records than CUB_DNS_DATA_MAX holds: those that fit; malformed
 * replies ignored (a pointer loop in a target, RDLENGTH too short for
 * the fixed part, shorter or longer than the target), records of
 * another type skipped (an answer of only A records: -CUB_ENOENT);
 * bad names and arguments -CUB_EINVAL without a query; the cache: a
 * hit without a query, expiry after the TTL, a negative answer kept,
 * one name's A and SRV answers two keys.
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

void cubi_dns_srv_order(struct cub_dns_srv *s, unsigned n, uint64_t seed);

#define NAME "_sip._tcp.example.com"

static const cub_ip4_t srv1[] = { SRV_IP };
static struct cub_dns_srv out[64];

static int srv(const char *name, unsigned cap, struct cub_dns_result *r)
{
	return cub_dns_lookup_srv(A, srv1, 1, 0, name, 2 * SEC, out, cap, r);
}

/* Three records in the answer's order prio 20, 10, 10; the targets
 * "b.Example.com" (spelt out) and "a" + a pointer into it. */
static void three_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	uint8_t rd[16];
	size_t ex;

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 3);
	rr_srv(m, 12, 300, 20, 0, 5061, "b.Example.com");
	ex = m->n - 13;				/* "Example.com" in it */
	t_put16(rd, 10), t_put16(rd + 2, 5), t_put16(rd + 4, 5060);
	rd[6] = 1, rd[7] = 'a', t_put16(rd + 8, 0xc000 | (unsigned)ex);
	put_ptr(m, 12);
	rr_tail(m, 33, 60, rd, 10);
	rr_srv(m, 12, 120, 10, 5, 5062, "c.example.com");
}

static void *answer_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	start(three_reply);
	assert_int_equal(srv("_SIP._TCP.Example.com.", 8, &r), 3);
	assert_int_equal(qtype(S.q[0], S.qlen[0]), 33);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.ttl_s, 60);
	assert_string_equal(r.canonical, NAME);
	assert_int_equal(out[0].priority, 10);
	assert_int_equal(out[1].priority, 10);
	assert_true((!strcmp(out[0].target, "a.example.com") && out[0].port == 5060 &&
		     !strcmp(out[1].target, "c.example.com") && out[1].port == 5062) ||
		    (!strcmp(out[1].target, "a.example.com") && out[1].port == 5060 &&
		     !strcmp(out[0].target, "c.example.com") && out[0].port == 5062));
	assert_int_equal(out[2].priority, 20);
	assert_int_equal(out[2].port, 5061);
	assert_string_equal(out[2].target, "b.example.com");
	/* Too small: -CUB_ENOSPC, the count in res; exactly enough. */
	assert_int_equal(srv(NAME, 2, &r), -CUB_ENOSPC);
	assert_int_equal(r.count, 3);
	assert_int_equal(srv(NAME, 3, &r), 3);
	stop();
	return NULL;
}

static void test_srv_answer(void **state)
{
	(void)state;
	run(answer_main);
}

/* cubi_dns_srv_order over seeds 1..N: exact, so fixed bounds hold. */
static void test_srv_order(void **state)
{
	static const uint16_t prio[] = { 5, 1, 1, 1, 1, 5, 5 };
	static const uint16_t weight[] = { 1, 60, 0, 30, 10, 0, 0 };
	enum { N = 20000 };
	unsigned first[7] = { 0 }, second_zero = 0;

	(void)state;
	for (unsigned seed = 1; seed <= N; seed++) {
		struct cub_dns_srv s[7];

		for (unsigned i = 0; i < 7; i++)
			s[i] = (struct cub_dns_srv){ .priority = prio[i], .weight = weight[i],
						     .port = (uint16_t)i };
		cubi_dns_srv_order(s, 7, seed);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(s[i].priority, 1);
		for (unsigned i = 4; i < 7; i++)
			assert_int_equal(s[i].priority, 5);
		first[s[0].port]++;
		second_zero += s[1].port == 2;
		/* Priority 5: zero weights 5 and 6 first, in their order,
		 * unless the draw (1 in 2) takes weight 1 ahead. */
		assert_true((s[4].port == 5 && s[5].port == 6 && s[6].port == 0) ||
			    (s[4].port == 0 && s[5].port == 5 && s[6].port == 6) ||
			    (s[4].port == 5 && s[5].port == 0 && s[6].port == 6));
	}
	/* First of priority 1: weight 0 with 1/101, 60 with 60/101, 30
	 * with 30/101, 10 with 10/101. */
	print_message("first: w0 %u w60 %u w30 %u w10 %u\n", first[2], first[1], first[3],
		      first[4]);
	assert_in_range(first[2], 100, 320);		/* ~198 */
	assert_in_range(first[1], 11300, 12460);	/* ~11881 */
	assert_in_range(first[3], 5450, 6430);		/* ~5941 */
	assert_in_range(first[4], 1630, 2330);		/* ~1980 */
	assert_true(second_zero > 0);
}

/* Weights 60, 30, 10 at one priority, TTL 300: the cache answers. */
static void weighted_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	(void)nth;
	reply_to(m, q, qlen, 0, 1, 3);
	rr_srv(m, 12, 300, 1, 60, 1, "sixty.example");
	rr_srv(m, 12, 300, 1, 30, 2, "thirty.example");
	rr_srv(m, 12, 300, 1, 10, 3, "ten.example");
}

static void *weighted_main(void *arg)
{
	static struct cub_dns_cache c;
	static struct cub_dns_cache_entry sl[2];
	enum { N = 4000 };
	unsigned first[4] = { 0 };
	struct cub_dns_result r;

	(void)arg;
	assert_int_equal(cub_dns_cache_init(&c, sl, 2), 0);
	start(weighted_reply);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(cub_dns_cache_lookup_srv(&c, A, srv1, 1, 0, NAME, 2 * SEC, out, 3,
							  &r), 3);
		assert_true(i == 0 || r.cached);
		first[out[0].port]++;
	}
	assert_int_equal(S.queries, 1);
	print_message("first of %u: w60 %u w30 %u w10 %u\n", N, first[1], first[2], first[3]);
	/* (w + 1) / 101 for the first record, w / 101 for the others:
	 * expected 2416, 1188, 396; 8 standard deviations either side. */
	assert_in_range(first[1], 2416 - 250, 2416 + 250);
	assert_in_range(first[2], 1188 - 235, 1188 + 235);
	assert_in_range(first[3], 396 - 155, 396 + 155);
	stop();
	return NULL;
}

static void test_srv_weighted(void **state)
{
	(void)state;
	run(weighted_main);
}

/* One reply per lookup: "." alone, "." among others, A records only,
 * nothing. */
static void cases_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	switch (nth) {
	case 0:
		reply_to(m, q, qlen, 0, 1, 1);
		rr_srv(m, 12, 60, 0, 0, 0, "");
		break;
	case 1:
		reply_to(m, q, qlen, 0, 1, 2);
		rr_srv(m, 12, 60, 0, 0, 0, "");
		rr_srv(m, 12, 60, 1, 1, 80, "web.example");
		break;
	case 2:
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, 60, CUB_IP4(192, 0, 2, 1));
		break;
	default:
		reply_to(m, q, qlen, 3, 1, 0);
		break;
	}
}

static void *cases_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	start(cases_reply);
	assert_int_equal(srv(NAME, 4, &r), -CUB_EADDRNOTAVAIL);
	assert_int_equal(srv(NAME, 4, &r), 1);
	assert_string_equal(out[0].target, "web.example");
	assert_int_equal(r.count, 1);
	assert_int_equal(srv(NAME, 4, &r), -CUB_ENOENT);
	assert_int_equal(srv(NAME, 4, &r), -CUB_ENOENT);
	assert_int_equal(S.queries, 4);
	stop();
	return NULL;
}

static void test_srv_cases(void **state)
{
	(void)state;
	run(cases_main);
}

/* Truncated over UDP; 20 records over TCP (each "hostNN.example"). */
static void tc_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	(void)nth;
	reply_to(m, q, qlen, 0, 1, 0);
	t_put16(m->b + 2, t_get16(m->b + 2) | 0x0200);
}

static unsigned tcp_records = 20;

static void tc_tcp(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	static struct msg m;
	char t[64];

	(void)nth;
	reply_to(&m, q, qlen, 0, 1, tcp_records);
	for (unsigned i = 0; i < tcp_records; i++) {
		snprintf(t, sizeof(t), "host%02u.%s", i,
			 tcp_records > 20 ? "long-long-long-long.example" : "example");
		rr_srv(&m, 12, 100 + i, i % 3, 1, (uint16_t)(1000 + i), t);
	}
	tcp_msg(c, &m);
}

static void *tc_main(void *arg)
{
	struct cub_dns_result r;
	bool seen[20] = { false };
	int n;

	(void)arg;
	start(tc_reply);
	tcp_start(tc_tcp);
	n = srv(NAME, 64, &r);
	assert_int_equal(n, 20);
	assert_true(r.tcp);
	assert_int_equal(r.queries, 2);
	assert_int_equal(r.ttl_s, 100);
	for (int i = 0; i < n; i++) {
		unsigned k = out[i].port - 1000u;

		assert_true(k < 20 && !seen[k]);
		seen[k] = true;
		assert_int_equal(out[i].priority, k % 3);
		assert_true(i == 0 || out[i - 1].priority <= out[i].priority);
	}
	/* 60 records of 7 + 34 bytes packed: the first 12 fit 512. */
	tcp_records = 60;
	n = srv(NAME, 64, &r);
	assert_int_equal(n, 12);
	assert_int_equal(r.count, 12);
	for (int i = 0; i < n; i++)
		assert_true(out[i].port < 1012);
	tcp_stop();
	stop();
	return NULL;
}

static void test_srv_tcp(void **state)
{
	(void)state;
	run(tc_main);
}

/* Malformed replies, each ignored, then a good one. */
static unsigned spoil(const uint8_t *q, size_t qlen, unsigned kind, struct msg *m)
{
	uint8_t rd[16] = { 0, 1, 0, 1, 0, 80 };
	size_t at;

	reply_to(m, q, qlen, 0, 1, 1);
	put_ptr(m, 12);
	switch (kind) {
	case 0: /* the target: a label, then a pointer back to it */
		at = m->n + 10 + 6;
		rd[6] = 1, rd[7] = 'a', t_put16(rd + 8, 0xc000 | (unsigned)at);
		rr_tail(m, 33, 1, rd, 10);
		break;
	case 1: /* RDLENGTH 5: no room for the fixed part and a name */
		rr_tail(m, 33, 1, rd, 5);
		break;
	case 2: /* RDLENGTH 8, the target 3 bytes ("\1a\0") after 6 */
		rd[6] = 1, rd[7] = 'a', rd[8] = 0;
		rr_tail(m, 33, 1, rd, 8);
		break;
	case 3: /* RDLENGTH 10, the target 3 bytes and one more */
		rd[6] = 1, rd[7] = 'a', rd[8] = 0, rd[9] = 'x';
		rr_tail(m, 33, 1, rd, 10);
		break;
	case 4: /* a reserved label type in the target */
		rd[6] = 0x41, rd[7] = 'a', rd[8] = 0;
		rr_tail(m, 33, 1, rd, 9);
		break;
	default:
		return 1;
	}
	return 0;
}

static void spoilt_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	unsigned kind = 0;

	while (spoil(q, qlen, kind, m) == 0) {
		send_now(nth, m);
		kind++;
	}
	reply_to(m, q, qlen, 0, 1, 1);
	rr_srv(m, 12, 5, 0, 0, 443, "ok.example");
}

static void *spoilt_main(void *arg)
{
	struct cub_dns_result r;
	struct msg m;
	unsigned kinds = 0;

	(void)arg;
	while (spoil((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\1a\0\0\41\0\1", 19, kinds, &m) == 0)
		kinds++;
	start(spoilt_reply);
	assert_int_equal(srv(NAME, 4, &r), 1);
	assert_string_equal(out[0].target, "ok.example");
	assert_int_equal(out[0].port, 443);
	assert_int_equal(r.ignored, kinds);
	stop();
	return NULL;
}

static void test_srv_spoilt(void **state)
{
	(void)state;
	run(spoilt_main);
}

static void *args_main(void *arg)
{
	static const char *bad[] = {
		"_sip._tcp", "_sip._tcp.", "sip._tcp.example.com", "_sip.tcp.example.com",
		"_._tcp.example.com", "_sip._.example.com", "_sip", "", "_sip._tcp..com",
		"_s p._tcp.example.com",
	};
	struct cub_dns_result r;

	(void)arg;
	start(three_reply);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(srv(bad[i], 4, &r), -CUB_EINVAL);
	assert_int_equal(srv(NULL, 4, &r), -CUB_EINVAL);
	assert_int_equal(srv(NAME, 0, &r), -CUB_EINVAL);
	assert_int_equal(srv(NAME, 4, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_srv(A, srv1, 1, 0, NAME, SEC, NULL, 4, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_srv(NULL, srv1, 1, 0, NAME, SEC, out, 4, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup_srv(A, srv1, 4, 0, NAME, SEC, out, 4, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_lookup_srv(NULL, A, srv1, 1, 0, NAME, SEC, out, 4, &r),
			 -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(S.queries, 0);
	stop();
	return NULL;
}

static void test_srv_args(void **state)
{
	(void)state;
	run(args_main);
}

/* The cache: "_a._tcp.one.example" TTL 1 s, "_a._tcp.nx.example"
 * NXDOMAIN (SOA MINIMUM 1); A questions get an A record. */
static void zone_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	char name[256];

	(void)nth;
	qname(q, name);
	if (qtype(q, qlen) == 1) {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, 100, CUB_IP4(192, 0, 2, 1));
	} else if (strstr(name, ".nx.")) {
		reply_to(m, q, qlen, 3, 1, 0);
		soa(m, "example", 100, 1);
	} else {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_srv(m, 12, 1, 0, 0, 7, "t.example");
	}
}

static void *cache_main(void *arg)
{
	static struct cub_dns_cache c;
	static struct cub_dns_cache_entry sl[4];
	struct cub_dns_result r;

	(void)arg;
	assert_int_equal(cub_dns_cache_init(&c, sl, 4), 0);
	start(zone_reply);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cub_dns_cache_lookup_srv(&c, A, srv1, 1, 0, "_a._tcp.one.example",
							  2 * SEC, out, 4, &r), 1);
		assert_int_equal(r.cached, i == 1);
		assert_string_equal(out[0].target, "t.example");
		assert_int_equal(out[0].port, 7);
		assert_int_equal(cub_dns_cache_lookup_srv(&c, A, srv1, 1, 0, "_a._tcp.nx.example",
							  2 * SEC, out, 4, &r), -CUB_ENOENT);
		assert_int_equal(r.cached, i == 1);
		/* The same name's A answer: its own key. */
		assert_int_equal(cub_dns_cache_lookup(&c, A, SRV_IP, 0, "_a._tcp.one.example",
						      2 * SEC, &r), 0);
		assert_int_equal(r.cached, i == 1);
		assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 1));
	}
	assert_int_equal(S.queries, 3);
	cub_sleep(1100 * MS);
	assert_int_equal(cub_dns_cache_lookup_srv(&c, A, srv1, 1, 0, "_a._tcp.one.example",
						  2 * SEC, out, 4, &r), 1);
	assert_false(r.cached);
	assert_int_equal(cub_dns_cache_lookup_srv(&c, A, srv1, 1, 0, "_a._tcp.nx.example",
						  2 * SEC, out, 4, &r), -CUB_ENOENT);
	assert_false(r.cached);
	assert_int_equal(cub_dns_cache_lookup(&c, A, SRV_IP, 0, "_a._tcp.one.example", 2 * SEC,
					      &r), 0);
	assert_true(r.cached);
	assert_int_equal(S.queries, 5);
	stop();
	return NULL;
}

static void test_srv_cache(void **state)
{
	(void)state;
	run(cache_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_answer),
		cmocka_unit_test(test_srv_order),
		cmocka_unit_test(test_srv_weighted),
		cmocka_unit_test(test_srv_cases),
		cmocka_unit_test(test_srv_tcp),
		cmocka_unit_test(test_srv_spoilt),
		cmocka_unit_test(test_srv_args),
		cmocka_unit_test(test_srv_cache),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
