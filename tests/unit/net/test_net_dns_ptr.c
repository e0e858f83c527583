/*
 * test_net_dns_ptr.c - reverse lookups (cub_dns_reverse,
 * cub_dns_cache_reverse) against the fake DNS server of dns_fake.h,
 * whose replies are built by hand (RFC 1035 4.1, 3.5; RFC 2317).
 *
 * Proves: the question on the wire ("d.c.b.a.in-addr.arpa", type PTR,
 * class IN); the name out of a compressed PTR, lower-cased; an RFC 2317
 * CNAME to a classless zone followed (res->canonical, the smallest
 * TTL); NXDOMAIN -CUB_ENOENT with its SOA's TTL; no PTR, only records of
 * other types, or only unusable names (a space, a dot inside a label,
 * the root) -CUB_ENOENT, an unusable one skipped for the next; malformed
 * replies ignored and counted (a pointer loop in the PTR's name, a
 * forward pointer, RDLENGTH shorter or longer than the name, a CNAME
 * loop); the caller's buffer: exact fit, one byte short -CUB_ENOSPC;
 * bad arguments -CUB_EINVAL without a query; through a cache: a hit
 * without a query, expiry after the TTL, a negative answer kept for
 * its SOA's TTL, the PTR and an A question of the same name two keys.
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

#define ADDR CUB_IP4(192, 0, 2, 5)
#define ARPA "5.2.0.192.in-addr.arpa"

static const cub_ip4_t srv1[] = { SRV_IP };

static int rev(cub_ip4_t a, char *name, size_t cap, struct cub_dns_result *r)
{
	return cub_dns_reverse(A, srv1, 1, 0, a, 2 * SEC, name, cap, r);
}

/* "Host.Example.COM": "Host" then a pointer to "Example.COM", which
 * an unused A record's owner spells out first. */
static void ptr_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	uint8_t rd[8] = { 4, 'H', 'o', 's', 't' };
	size_t ex;

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 2);
	ex = m->n;
	put_name(m, "Example.COM");
	rr_tail(m, 1, 5, "\1\2\3\4", 4);	/* another type: not used */
	t_put16(rd + 5, 0xc000 | (unsigned)ex);
	put_ptr(m, 12);
	rr_tail(m, 12, 300, rd, 7);
}

static void *answer_main(void *arg)
{
	static const uint8_t want[] = "\0015\0012\0010\003192\7in-addr\4arpa";
	struct cub_dns_result r;
	char name[CUB_DNS_NAME_MAX + 1];

	(void)arg;
	start(ptr_reply);
	assert_int_equal(rev(ADDR, name, sizeof(name), &r), 0);
	assert_string_equal(name, "host.example.com");
	assert_string_equal(r.canonical, ARPA);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.ttl_s, 300);
	assert_int_equal(r.queries, 1);
	assert_int_equal(r.ignored, 0);
	assert_int_equal(S.qlen[0], 12 + sizeof(want) + 4);
	assert_memory_equal(S.q[0] + 12, want, sizeof(want));
	assert_int_equal(qtype(S.q[0], S.qlen[0]), 12);
	assert_int_equal(t_get16(S.q[0] + 12 + sizeof(want) + 2), 1);
	/* Exactly the room it needs, then a byte less. */
	assert_int_equal(rev(ADDR, name, strlen("host.example.com") + 1, &r), 0);
	assert_int_equal(rev(ADDR, name, strlen("host.example.com"), &r), -CUB_ENOSPC);
	assert_string_equal(name, "");
	stop();
	return NULL;
}

static void test_ptr_answer(void **state)
{
	(void)state;
	run(answer_main);
}

/* RFC 2317: 5.2.0.192.in-addr.arpa CNAME 5.0/26.2.0.192.in-addr.arpa
 * (labels "5", "0/26", then a pointer to the question's "2.0.192..."
 * at 14), the PTR there; records in reverse order. */
static void classless_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	static const uint8_t alias[] = { 1, '5', 4, '0', '/', '2', '6', 0xc0, 14 };
	struct msg r = { .n = 0 };
	size_t at;

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 2);
	at = m->n;
	put(m, alias, sizeof(alias));		/* the PTR's owner */
	put_name(&r, "mail.example.net");
	rr_tail(m, 12, 900, r.b, r.n);
	put_ptr(m, 12);
	t_put16(r.b, 0xc000 | (unsigned)at);
	rr_tail(m, 5, 120, r.b, 2);
}

static void *classless_main(void *arg)
{
	struct cub_dns_result r;
	char name[64];

	(void)arg;
	start(classless_reply);
	assert_int_equal(rev(ADDR, name, sizeof(name), &r), 0);
	assert_string_equal(name, "mail.example.net");
	assert_string_equal(r.canonical, "5.0/26.2.0.192.in-addr.arpa");
	assert_int_equal(r.ttl_s, 120);
	stop();
	return NULL;
}

static void test_ptr_classless(void **state)
{
	(void)state;
	run(classless_main);
}

/* One reply per lookup, in order: what comes back. */
static const struct {
	const char *what;
	int want;
	const char *name;
} cases[] = {
	{ "nxdomain", -CUB_ENOENT, NULL },
	{ "empty", -CUB_ENOENT, NULL },
	{ "a only", -CUB_ENOENT, NULL },
	{ "odd names only", -CUB_ENOENT, NULL },
	{ "odd, then good", 0, "good.example" },
	{ "two", 0, "first.example" },
};

static void cases_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	switch (nth) {
	case 0:
		reply_to(m, q, qlen, 3, 1, 0);
		soa(m, "in-addr.arpa", 600, 30);
		break;
	case 1:
		reply_to(m, q, qlen, 0, 1, 0);
		break;
	case 2:
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, 60, CUB_IP4(192, 0, 2, 9));
		break;
	case 3:
		reply_to(m, q, qlen, 0, 1, 3);
		rr_ptr(m, 60, "a b.example");		/* a space */
		rr_ptr(m, 60, "");			/* the root */
		put_ptr(m, 12);				/* a dot inside a label */
		rr_tail(m, 12, 60, "\3a.b\7example\0", 13);
		break;
	case 4:
		reply_to(m, q, qlen, 0, 1, 2);
		rr_ptr(m, 60, "bad\x7f.example");
		rr_ptr(m, 70, "Good.Example");
		break;
	default:
		reply_to(m, q, qlen, 0, 1, 2);
		rr_ptr(m, 60, "first.example");
		rr_ptr(m, 50, "second.example");
		break;
	}
}

static void *cases_main(void *arg)
{
	(void)arg;
	start(cases_reply);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cub_dns_result r;
		char name[64];
		int rc = rev(ADDR, name, sizeof(name), &r);

		print_message("%s: %d\n", cases[i].what, rc);
		assert_int_equal(rc, cases[i].want);
		assert_int_equal(r.ignored, 0);
		assert_int_equal(r.queries, 1);
		if (cases[i].name)
			assert_string_equal(name, cases[i].name);
		else
			assert_string_equal(name, "");
		if (i == 0)
			assert_int_equal(r.ttl_s, 30);	/* min(600, MINIMUM) */
		if (i == 5)
			assert_int_equal(r.ttl_s, 60);	/* the record used */
	}
	stop();
	return NULL;
}

static void test_ptr_cases(void **state)
{
	(void)state;
	run(cases_main);
}

/* Malformed replies, each ignored, then the good one. */
static unsigned spoil(const uint8_t *q, size_t qlen, unsigned kind, struct msg *m)
{
	size_t at;

	reply_to(m, q, qlen, 0, 1, 1);
	put_ptr(m, 12);
	switch (kind) {
	case 0: /* the name: a label, then a pointer back to it */
		at = m->n + 10;
		rr_tail(m, 12, 1, (uint8_t[]){ 1, 'a', 0xc0, 0 }, 4);
		t_put16(m->b + at + 2, 0xc000 | (unsigned)at);
		break;
	case 1: /* a forward pointer */
		at = m->n + 10;
		rr_tail(m, 12, 1, (uint8_t[]){ 0xc0, 0 }, 2);
		t_put16(m->b + at, 0xc000 | (unsigned)(at + 2));
		break;
	case 2: /* RDLENGTH 5, the name 9 bytes ("\3abc\3def\0") */
		rr_tail(m, 12, 1, "\3abc\3def\0", 9);
		t_put16(m->b + m->n - 11, 5);
		m->n -= 4;
		break;
	case 3: /* RDLENGTH 12, the name 9 bytes and 3 more */
		rr_tail(m, 12, 1, "\3abc\3def\0xyz", 12);
		break;
	case 4: /* the question CNAME a.example, a.example CNAME it */
		t_put16(m->b + 6, 2);
		at = m->n + 10;
		rr_tail(m, 5, 1, "\1a\7example\0", 11);
		put_ptr(m, (unsigned)at);
		rr_tail(m, 5, 1, (uint8_t[]){ 0xc0, 12 }, 2);
		break;
	case 5: /* a question of type A */
		t_put16(m->b + qlen - 4, 1);
		rr_tail(m, 12, 1, "\1x\0", 3);
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
	rr_ptr(m, 77, "ok.example");
}

static void *spoilt_main(void *arg)
{
	struct cub_dns_result r;
	char name[64];
	struct msg m;
	unsigned kinds = 0;

	(void)arg;
	while (spoil((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\1a\0\0\14\0\1", 19, kinds, &m) == 0)
		kinds++;
	start(spoilt_reply);
	assert_int_equal(rev(ADDR, name, sizeof(name), &r), 0);
	assert_string_equal(name, "ok.example");
	assert_int_equal(r.ignored, kinds);
	assert_int_equal(r.queries, 1);
	stop();
	return NULL;
}

static void test_ptr_spoilt(void **state)
{
	(void)state;
	run(spoilt_main);
}

static void *args_main(void *arg)
{
	const cub_ip4_t zero[] = { 0 };
	struct cub_dns_result r;
	char name[8] = "x";

	(void)arg;
	start(ptr_reply);
	assert_int_equal(cub_dns_reverse(NULL, srv1, 1, 0, ADDR, SEC, name, 8, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, NULL, 1, 0, ADDR, SEC, name, 8, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, srv1, 0, 0, ADDR, SEC, name, 8, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, zero, 1, 0, ADDR, SEC, name, 8, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, srv1, 1, 0, ADDR, SEC, NULL, 8, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, srv1, 1, 0, ADDR, SEC, name, 0, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_reverse(A, srv1, 1, 0, ADDR, SEC, name, 8, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dns_cache_reverse(NULL, A, srv1, 1, 0, ADDR, SEC, name, 8, &r),
			 -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(S.queries, 0);
	stop();
	return NULL;
}

static void test_ptr_args(void **state)
{
	(void)state;
	run(args_main);
}

/* The cache: 192.0.2.5 TTL 1 s, 192.0.2.6 NXDOMAIN (SOA MINIMUM 1),
 * others TTL 100 s. */
static void zone_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	char name[256];

	(void)nth;
	qname(q, name);
	if (qtype(q, qlen) == 1) {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, 100, CUB_IP4(198, 51, 100, 1));
	} else if (!strcmp(name, "6.2.0.192.in-addr.arpa")) {
		reply_to(m, q, qlen, 3, 1, 0);
		soa(m, "2.0.192.in-addr.arpa", 100, 1);
	} else {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_ptr(m, strcmp(name, ARPA) ? 100 : 1, "h.example");
	}
}

static void *cache_main(void *arg)
{
	static struct cub_dns_cache c;
	static struct cub_dns_cache_entry sl[4];
	struct cub_dns_cache_stats st;
	struct cub_dns_result r;
	char name[64];

	(void)arg;
	assert_int_equal(cub_dns_cache_init(&c, sl, 4), 0);
	start(zone_reply);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cub_dns_cache_reverse(&c, A, srv1, 1, 0, ADDR, 2 * SEC, name,
						       sizeof(name), &r), 0);
		assert_string_equal(name, "h.example");
		assert_int_equal(r.cached, i == 1);
		assert_int_equal(r.queries, i == 0);
	}
	assert_int_equal(S.queries, 1);
	/* An A question of the in-addr.arpa name: another key. */
	assert_int_equal(cub_dns_cache_lookup(&c, A, SRV_IP, 0, ARPA, 2 * SEC, &r), 0);
	assert_false(r.cached);
	assert_int_equal(r.addr[0], CUB_IP4(198, 51, 100, 1));
	assert_int_equal(S.queries, 2);
	/* NXDOMAIN, kept for 1 s. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cub_dns_cache_reverse(&c, A, srv1, 1, 0, CUB_IP4(192, 0, 2, 6),
						       2 * SEC, name, sizeof(name), &r),
				 -CUB_ENOENT);
		assert_int_equal(r.cached, i == 1);
	}
	assert_int_equal(S.queries, 3);
	/* After a second both are asked again. */
	cub_sleep(1100 * MS);
	assert_int_equal(cub_dns_cache_reverse(&c, A, srv1, 1, 0, ADDR, 2 * SEC, name,
					       sizeof(name), &r), 0);
	assert_false(r.cached);
	assert_int_equal(cub_dns_cache_reverse(&c, A, srv1, 1, 0, CUB_IP4(192, 0, 2, 6),
					       2 * SEC, name, sizeof(name), &r), -CUB_ENOENT);
	assert_false(r.cached);
	assert_int_equal(S.queries, 5);
	/* A name too long for the buffer, from the cache: -CUB_ENOSPC. */
	assert_int_equal(cub_dns_cache_reverse(&c, A, srv1, 1, 0, ADDR, 2 * SEC, name, 4, &r),
			 -CUB_ENOSPC);
	assert_true(r.cached);
	assert_int_equal(cub_dns_cache_stats(&c, &st), 0);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 5);
	stop();
	return NULL;
}

static void test_ptr_cache(void **state)
{
	(void)state;
	run(cache_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ptr_answer),
		cmocka_unit_test(test_ptr_classless),
		cmocka_unit_test(test_ptr_cases),
		cmocka_unit_test(test_ptr_spoilt),
		cmocka_unit_test(test_ptr_args),
		cmocka_unit_test(test_ptr_cache),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
