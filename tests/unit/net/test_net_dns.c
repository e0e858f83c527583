/*
 * test_net_dns.c - cub_dns_lookup against a fake DNS server. Interface A
 * (10.0.0.1) asks; on B (10.0.0.2) a server coroutine on port 53 keeps
 * each query and answers with what the running test's reply builder
 * writes by hand (RFC 1035 4.1, independently of dns.c).
 *
 * Proves: the query on the wire (random ID and source port, RD, one
 * question, the name in lower-case labels, type A class IN); addresses,
 * the smallest TTL, a CNAME chain in any record order with compression
 * pointers; NXDOMAIN and an empty answer -CUB_ENOENT, SERVFAIL
 * -CUB_EAGAIN, REFUSED and FORMERR -CUB_EIO, a truncated answer (empty
 * or not) asked again over TCP, here refused (test_net_dns_tcp has the
 * TCP side); every foreign or malformed
 * reply ignored and counted (wrong ID, source address or port, not a
 * response, another opcode, another question, names past the end,
 * forward or looping pointers, reserved labels, records past the end, a
 * CNAME loop, a CNAME whose name ends before its data, an A record of
 * 7 bytes), and 400 randomly spoilt ones; an alias with a byte no name
 * may have skipped; a lost query sent again after CUB_DNS_RETRY_NS with
 * the same ID; no server: -CUB_ETIMEDOUT; literal addresses need no query;
 * malformed names and arguments -CUB_EINVAL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/dns.h>
#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "dns_fake.h"
#include "../slow.h"

/* ------------------------------------------------------------------ tests */

/* Three addresses, an AAAA record and another name's A record. */
static void answer_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	uint8_t six[16] = { 0x20, 0x01 };
	uint8_t rd[4];

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 5);
	rr_a(m, 300, CUB_IP4(192, 0, 2, 1));
	put_ptr(m, 12);
	rr_tail(m, 28, 5, six, 16);		/* AAAA: not used, TTL not either */
	rr_a(m, 60, CUB_IP4(192, 0, 2, 2));
	put_name(m, "other.example.com");
	t_put32(rd, CUB_IP4(198, 51, 100, 9));
	rr_tail(m, 1, 1, rd, 4);		/* another owner: not used */
	rr_a(m, 120, CUB_IP4(192, 0, 2, 3));
}

static void *answer_main(void *arg)
{
	static const uint8_t qname[] = "\3www\7example\3com";
	struct cub_dns_result r;
	const uint8_t *q;

	(void)arg;
	start(answer_reply);
	assert_int_equal(lookup("WWW.Example.COM.", 2 * SEC, &r), 0);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 1));
	assert_int_equal(r.addr[1], CUB_IP4(192, 0, 2, 2));
	assert_int_equal(r.addr[2], CUB_IP4(192, 0, 2, 3));
	assert_int_equal(r.ttl_s, 60);
	assert_string_equal(r.canonical, "www.example.com");
	assert_int_equal(r.queries, 1);
	assert_int_equal(r.ignored, 0);
	/* The query: RD, one question, lower-case labels, A IN. */
	assert_int_equal(S.queries, 1);
	q = S.q[0];
	assert_int_equal(S.qlen[0], 12 + sizeof(qname) + 4);
	assert_int_equal(t_get16(q + 2), 0x0100);
	assert_int_equal(t_get16(q + 4), 1);
	assert_int_equal(t_get16(q + 6), 0);
	assert_int_equal(t_get16(q + 8), 0);
	assert_int_equal(t_get16(q + 10), 0);
	assert_memory_equal(q + 12, qname, sizeof(qname));
	assert_int_equal(t_get16(q + 12 + sizeof(qname)), 1);
	assert_int_equal(t_get16(q + 14 + sizeof(qname)), 1);
	assert_true(S.qport[0] >= 49152);
	/* A second lookup: another ID (random, so equal once in 65536). */
	assert_int_equal(lookup("www.example.com", 2 * SEC, &r), 0);
	assert_true(t_get16(S.q[1]) != t_get16(S.q[0]) || S.qport[1] != S.qport[0]);
	stop();
	return NULL;
}

static void test_dns_answer(void **state)
{
	(void)state;
	run(answer_main);
}

/* www.example.com -> web.example.com -> host.example.net, records in
 * reverse order, names compressed. */
static void cname_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	size_t host_at, net_at;
	uint8_t rd[64];

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 3);
	host_at = m->n;
	put_name(m, "host.example.net");	/* A record's owner */
	net_at = host_at + 5;			/* "example.net" inside it */
	t_put32(rd, CUB_IP4(203, 0, 113, 7));
	rr_tail(m, 1, 900, rd, 4);
	/* web.example.com CNAME host.example.net: owner "web" + the
	 * question's "example.com" (offset 16), rdata "host" + pointer. */
	rd[0] = 3, memcpy(rd + 1, "web", 3), t_put16(rd + 4, 0xc000 | 16);
	put(m, rd, 6);
	rd[0] = 4, memcpy(rd + 1, "host", 4), t_put16(rd + 5, 0xc000 | (unsigned)net_at);
	rr_tail(m, 5, 30, rd, 7);
	/* www.example.com CNAME web.example.com */
	put_ptr(m, 12);
	rd[0] = 3, memcpy(rd + 1, "web", 3), t_put16(rd + 4, 0xc000 | 16);
	rr_tail(m, 5, 600, rd, 6);
}

static void *cname_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	start(cname_reply);
	assert_int_equal(lookup("www.example.com", 2 * SEC, &r), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.addr[0], CUB_IP4(203, 0, 113, 7));
	assert_string_equal(r.canonical, "host.example.net");
	assert_int_equal(r.ttl_s, 30);
	assert_int_equal(r.ignored, 0);
	stop();
	return NULL;
}

static void test_dns_cname(void **state)
{
	(void)state;
	run(cname_main);
}

/* www.example.com CNAME "h\177st.example.com" and that alias's A record:
 * an alias no caller could ask for is skipped like any unusable name,
 * so the A record is not the question's (found by model_replies: a
 * flipped label length made the alias "host\300", handed out as
 * res.canonical). */
static void odd_cname_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	uint8_t rd[8] = { 4, 'h', 0x7f, 's', 't', 0xc0, 16 };
	size_t alias_at;

	(void)nth;
	reply_to(m, q, qlen, 0, 1, 2);
	put_ptr(m, 12);
	rr_tail(m, 5, 600, rd, 7);
	alias_at = m->n - 7;
	put_ptr(m, (unsigned)alias_at);
	t_put32(rd, CUB_IP4(203, 0, 113, 9));
	rr_tail(m, 1, 900, rd, 4);
}

static void *odd_cname_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	start(odd_cname_reply);
	assert_int_equal(lookup("www.example.com", 2 * SEC, &r), -CUB_ENOENT);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.ignored, 0);
	stop();
	return NULL;
}

static void test_dns_odd_cname(void **state)
{
	(void)state;
	run(odd_cname_main);
}

/* The answers' error codes, one lookup each. */
static const struct {
	unsigned rcode, qd, an;
	bool tc;
	int want;
} errs[] = {
	{ 3, 1, 0, false, -CUB_ENOENT },	/* NXDOMAIN */
	{ 0, 1, 0, false, -CUB_ENOENT },	/* no A record */
	{ 2, 1, 0, false, -CUB_EAGAIN },	/* SERVFAIL */
	{ 5, 1, 0, false, -CUB_EIO },		/* REFUSED */
	{ 1, 0, 0, false, -CUB_EIO },		/* FORMERR, no question */
	{ 4, 1, 0, false, -CUB_EIO },		/* NOTIMP */
	/* Truncated: over TCP, which B refuses (test_net_dns_tcp has a
	 * TCP server); the truncated answer's address is not used. */
	{ 0, 1, 0, true, -CUB_ECONNREFUSED },
	{ 0, 1, 1, true, -CUB_ECONNREFUSED },
};

static void errors_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	reply_to(m, q, qlen, errs[nth].rcode, errs[nth].qd, errs[nth].an);
	if (errs[nth].tc)
		t_put16(m->b + 2, t_get16(m->b + 2) | 0x0200);
	if (errs[nth].an)
		rr_a(m, 10, CUB_IP4(192, 0, 2, 77));
}

static void *errors_main(void *arg)
{
	(void)arg;
	start(errors_reply);
	for (unsigned i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct cub_dns_result r;
		uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

		assert_int_equal(lookup("x.example", 10 * SEC, &r), errs[i].want);
		/* no waiting out the 10 s: under half of it, and what the
		 * thread waited for a CPU (slow.h) */
		assert_true(cub_time_now() - t0 < test_bound(5 * SEC, w0));
		assert_int_equal(r.ignored, 0);
		assert_int_equal(r.count, errs[i].want == 0);
		assert_int_equal(r.tcp, errs[i].tc);
		assert_int_equal(r.queries, 1);
	}
	stop();
	return NULL;
}

static void test_dns_errors(void **state)
{
	(void)state;
	run(errors_main);
}

/* Every spoilt reply, each ignored; then the good one. */
enum { BAD_FORGED = 2 };		/* the two forged ones, besides these */

static unsigned spoil(const uint8_t *q, size_t qlen, unsigned kind, struct msg *m)
{
	uint8_t rd[4] = { 192, 0, 2, 99 };
	size_t at;

	reply_to(m, q, qlen, 0, 1, 1);
	switch (kind) {
	case 0:	t_put16(m->b, t_get16(q) ^ 1); break;		/* ID */
	case 1:	t_put16(m->b + 2, 0x0100); break;		/* a query */
	case 2:	t_put16(m->b + 2, 0x8000 | 2 << 11); break;	/* opcode */
	case 3:	m->b[13] ^= 1; break;				/* question name */
	case 4:	t_put16(m->b + qlen - 4, 28); break;		/* question type */
	case 5:	t_put16(m->b + 4, 2); put(m, q + 12, qlen - 12); break;
	case 6:	reply_to(m, q, qlen, 0, 0, 0); break;		/* no question */
	case 7:	m->b[m->n++] = 40, put(m, "abc", 3); return 0;	/* name past end */
	case 8:	put_ptr(m, (unsigned)m->n + 2); break;		/* forward pointer */
	case 9:	put_ptr(m, (unsigned)m->n); break;		/* itself */
	case 10: m->b[m->n++] = 0x41, put(m, "a", 1), m->b[m->n++] = 0; break;
	case 11: /* a label, then a pointer back to it: a loop */
		at = m->n;
		m->b[m->n++] = 1, m->b[m->n++] = 'a';
		put_ptr(m, (unsigned)at);
		break;
	case 12: /* a name of 4 x 63 = 255 characters */
		for (int i = 0; i < 4; i++) {
			m->b[m->n++] = 63;
			memset(m->b + m->n, 'n', 63);
			m->n += 63;
		}
		m->b[m->n++] = 0;
		break;
	case 13: /* rdata past the end */
		put_ptr(m, 12);
		put16(m, 1), put16(m, 1), put32(m, 1), put16(m, 8), put(m, rd, 4);
		return 0;
	case 14: /* qname CNAME a.example, a.example CNAME qname: a loop */
		t_put16(m->b + 6, 2);
		put_ptr(m, 12);
		at = m->n + 10;
		rr_tail(m, 5, 1, "\1a\7example\0", 11);
		put_ptr(m, (unsigned)at);
		rr_tail(m, 5, 1, (uint8_t[]){ 0xc0, 12 }, 2);
		return 0;
	case 15: m->n = 5; return 0;				/* shorter than a header */
	case 16: /* qname CNAME ".", its name ending before its RDATA's 7
		  * bytes, and "." A: found by model_replies (a flipped
		  * label length), the alias was followed */
		t_put16(m->b + 6, 2);
		put_ptr(m, 12);
		rr_tail(m, 5, 1, "\0abcdef", 7);
		m->b[m->n++] = 0;
		rr_tail(m, 1, 1, rd, 4);
		return 0;
	case 17: /* qname A of 7 bytes (RFC 1035 3.4.1: 4), then a good
		  * one: found by model_replies (a CNAME's type flipped to
		  * A), the bad record was skipped and the good one taken */
		t_put16(m->b + 6, 2);
		put_ptr(m, 12);
		rr_tail(m, 1, 1, "hostÀ", 7);
		rr_a(m, 1, CUB_IP4(192, 0, 2, 99));
		return 0;
	default: return 1;
	}
	if (kind <= 6)
		rr_a(m, 1, CUB_IP4(192, 0, 2, 99));
	else
		rr_tail(m, 1, 1, rd, 4);
	return 0;
}

static void ignored_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	unsigned kind = 0;

	while (spoil(q, qlen, kind, m) == 0) {
		send_now(nth, m);
		kind++;
	}
	/* The good answer, first forged from elsewhere, then for real. */
	reply_to(m, q, qlen, 0, 1, 1);
	rr_a(m, 77, CUB_IP4(192, 0, 2, 1));
	forge(m->b, m->n, IP_NOBODY, 53);		/* another address */
	forge(m->b, m->n, SRV_IP, 5353);		/* another port */
}

static void *ignored_main(void *arg)
{
	struct cub_dns_result r;
	struct msg m;
	unsigned kinds = 0;

	(void)arg;
	while (spoil((const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\1a\0\0\1\0\1", 19, kinds, &m) == 0)
		kinds++;
	start(ignored_reply);
	assert_int_equal(lookup("www.example.com", 2 * SEC, &r), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 1));
	assert_int_equal(r.ttl_s, 77);
	assert_int_equal(r.ignored, kinds + BAD_FORGED);
	assert_int_equal(r.queries, 1);
	assert_int_equal(if_stats(A).udp_queue_full, 0);
	stop();
	return NULL;
}

static void test_dns_ignored(void **state)
{
	(void)state;
	run(ignored_main);
}

/* Randomized: before each good answer a copy of cname_reply's answer
 * with 1-4 random bytes changed, or cut short. Whatever a spoilt reply
 * says, the lookup ends with a sound result, reads nothing out of
 * bounds (the sanitizer builds) and never loops. */
static uint64_t fuzz_rng = 0x9e3779b97f4a7c15ull;

static unsigned fuzz_rand(unsigned n)
{
	fuzz_rng ^= fuzz_rng << 13;
	fuzz_rng ^= fuzz_rng >> 7;
	fuzz_rng ^= fuzz_rng << 17;
	return (unsigned)(fuzz_rng % n);
}

static void fuzz_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	unsigned changes = 1 + fuzz_rand(4);

	cname_reply(q, qlen, nth, m);
	if (fuzz_rand(4) == 0) {
		m->n = fuzz_rand((unsigned)m->n);
	} else {
		while (changes--) {
			unsigned at = 12 + fuzz_rand((unsigned)m->n - 12);

			m->b[at] = fuzz_rand(3) ? (uint8_t)fuzz_rand(256) : (uint8_t)(0xc0 | fuzz_rand(64));
		}
	}
	send_now(nth, m);
	cname_reply(q, qlen, nth, m);
}

static void *fuzz_main(void *arg)
{
	unsigned spoilt_taken = 0;

	(void)arg;
	start(fuzz_reply);
	for (int i = 0; i < 400; i++) {
		struct cub_dns_result r;
		int rc = lookup("www.example.com", 2 * SEC, &r);

		assert_true(rc == 0 || rc == -CUB_ENOENT || rc == -CUB_EAGAIN || rc == -CUB_EIO ||
			    rc == -CUB_ECONNREFUSED);	/* TC: TCP, refused */
		assert_true(r.count <= CUB_DNS_ADDRS_MAX);
		assert_true(strlen(r.canonical) <= CUB_DNS_NAME_MAX);
		assert_int_equal(r.queries, 1);
		assert_true(r.ignored <= 1);
		spoilt_taken += r.ignored == 0;
		wire_settle(&W);	/* the good answer a spoilt one beat */
	}
	print_message("spoilt replies taken as answers: %u of 400\n", spoilt_taken);
	stop();
	return NULL;
}

static void test_dns_fuzz(void **state)
{
	(void)state;
	run(fuzz_main);
}

static void good_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	(void)nth;
	reply_to(m, q, qlen, 0, 1, 1);
	rr_a(m, 5, CUB_IP4(192, 0, 2, 5));
}

/* The first query is lost: the same one again after the retry time. */
static void *lost_main(void *arg)
{
	struct cub_dns_result r;
	uint64_t gap, w0;

	(void)arg;
	start(good_reply);
	S.skip = 1;
	w0 = test_waited_ns();
	assert_int_equal(lookup("a.example", 5 * SEC, &r), 0);
	assert_int_equal(r.queries, 2);
	assert_int_equal(S.queries, 2);
	assert_int_equal(S.qlen[0], S.qlen[1]);
	assert_memory_equal(S.q[0], S.q[1], S.qlen[0]);		/* same ID */
	assert_int_equal(S.qport[0], S.qport[1]);
	gap = S.qt[1] - S.qt[0];
	assert_true(gap >= CUB_DNS_RETRY_NS - 5 * MS && gap < test_bound(CUB_DNS_RETRY_NS + 500 * MS, w0));
	assert_int_equal(r.addr[0], CUB_IP4(192, 0, 2, 5));
	stop();
	return NULL;
}

static void test_dns_lost(void **state)
{
	(void)state;
	run(lost_main);
}

/* Nobody answers: -CUB_ETIMEDOUT at the timeout; nobody at all. */
static void *timeout_main(void *arg)
{
	struct cub_dns_result r;
	uint64_t t0, dt, w0;

	(void)arg;
	start(NULL);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(lookup("a.example", 300 * MS, &r), -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 300 * MS && dt < test_bound(800 * MS, w0));
	assert_int_equal(r.queries, 1);
	assert_int_equal(cub_dns_lookup(A, IP_NOBODY, 0, "a.example", 300 * MS, &r),
			 -CUB_EHOSTUNREACH);
	stop();
	return NULL;
}

static void test_dns_timeout(void **state)
{
	(void)state;
	run(timeout_main);
}

static void *args_main(void *arg)
{
	static const char *bad[] = {
		"", ".", "..", "a..b", ".a", "a b", "a\001b", "a\x7f",
		/* a 64-byte label */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
	};
	char name[300];
	struct cub_dns_result r;

	(void)arg;
	start(NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lookup(bad[i], 100 * MS, &r), -CUB_EINVAL);
	/* 254 characters: too long; 253 (a final dot allowed): asked. */
	memset(name, 'a', 254);
	for (int i = 63; i < 254; i += 64)
		name[i] = '.';
	name[254] = '\0';
	assert_int_equal(lookup(name, 100 * MS, &r), -CUB_EINVAL);
	assert_int_equal(S.queries, 0);
	name[253] = '.';
	assert_int_equal(lookup(name, 100 * MS, &r), -CUB_ETIMEDOUT);
	name[253] = '\0';
	assert_int_equal(lookup(name, 100 * MS, &r), -CUB_ETIMEDOUT);
	wire_settle(&W);
	assert_int_equal(S.queries, 2);
	assert_int_equal(S.qlen[0], 12 + 255 + 4);
	/* A literal address: no query. */
	assert_int_equal(lookup("10.0.2.2", 100 * MS, &r), 0);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.addr[0], CUB_IP4(10, 0, 2, 2));
	assert_int_equal(r.queries, 0);
	assert_int_equal(lookup("10.0.2.256", 100 * MS, &r), -CUB_ETIMEDOUT);
	assert_int_equal(cub_dns_lookup(NULL, SRV_IP, 0, "a", 1, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup(A, 0, 0, "a", 1, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup(A, SRV_IP, 0, NULL, 1, &r), -CUB_EINVAL);
	assert_int_equal(cub_dns_lookup(A, SRV_IP, 0, "a", 1, NULL), -CUB_EINVAL);
	stop();
	return NULL;
}

static void test_dns_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_answer),
		cmocka_unit_test(test_dns_cname),
		cmocka_unit_test(test_dns_odd_cname),
		cmocka_unit_test(test_dns_errors),
		cmocka_unit_test(test_dns_ignored),
		cmocka_unit_test(test_dns_fuzz),
		cmocka_unit_test(test_dns_lost),
		cmocka_unit_test(test_dns_timeout),
		cmocka_unit_test(test_dns_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
