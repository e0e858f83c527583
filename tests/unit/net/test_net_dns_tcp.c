/*
 * test_net_dns_tcp.c - cub_dns_lookup's TCP fallback (RFC 1035 4.2.2,
 * RFC 7766) against the fake servers of dns_fake.h: the UDP one answers
 * with TC set, the TCP one on the same port answers as each test says.
 *
 * Proves: a truncated UDP answer (with or without addresses) is asked
 * again over TCP with the same query behind a two-byte length, and the
 * TCP answer is the result, longer than 512 bytes and arriving in
 * pieces; up to CUB_DNS_TCP_REPLY_MAX bytes accepted, one more
 * -CUB_EMSGSIZE; the TCP answer's codes (NXDOMAIN, SERVFAIL, TC again
 * without addresses); a reply with another ID or malformed is ignored
 * and counted and the next one read; the server closing without a
 * believable reply (nothing, half a length, a length cut short, a
 * wrong-ID or malformed reply) is -CUB_EIO; a silent server ends at the
 * lookup's timeout, UDP and TCP together; no connection left behind.
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
#include "../stall.h"

/* UDP: truncated, with one address (not to be used). */
static void tc_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	(void)nth;
	reply_to(m, q, qlen, 0, 1, 1);
	t_put16(m->b + 2, t_get16(m->b + 2) | 0x0200);
	rr_a(m, 100, CUB_IP4(192, 0, 2, 250));
}

/* A full answer: n A records 198.51.100.1.., TTL 50. */
static void full_answer(const uint8_t *q, size_t qlen, unsigned n, struct msg *m)
{
	reply_to(m, q, qlen, 0, 1, n);
	for (unsigned i = 0; i < n; i++)
		rr_a(m, 50, CUB_IP4(198, 51, 100, 1 + i));
}

/* A run of one test: UDP truncates, TCP answers with fn. */
static int tcp_lookup(tcp_fn *fn, uint64_t timeout, struct cub_dns_result *r)
{
	start(tc_reply);
	tcp_start(fn);
	return lookup("big.example", timeout, r);
}

static void end(void)
{
	tcp_stop();
	stop();
}

/* 40 records (640 bytes of them), the length in two pieces. */
static void big_tcp(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	struct msg m;
	uint8_t len[2];

	(void)nth;
	full_answer(q, qlen, 40, &m);
	assert_true(m.n > 512);
	t_put16(len, (uint32_t)m.n);
	tcp_raw(c, len, 1);
	cub_sleep(20 * MS);
	tcp_raw(c, len + 1, 1);
	tcp_raw(c, m.b, 100);
	cub_sleep(20 * MS);
	tcp_raw(c, m.b + 100, m.n - 100);
}

static void *ok_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	assert_int_equal(tcp_lookup(big_tcp, 3 * SEC, &r), 0);
	assert_true(r.tcp);
	assert_int_equal(r.count, CUB_DNS_ADDRS_MAX);
	for (unsigned i = 0; i < r.count; i++)
		assert_int_equal(r.addr[i], CUB_IP4(198, 51, 100, 1 + i));
	assert_int_equal(r.ttl_s, 50);
	assert_string_equal(r.canonical, "big.example");
	assert_int_equal(r.queries, 2);
	assert_int_equal(r.ignored, 0);
	/* The same query over TCP as over UDP, behind its length. */
	assert_int_equal(S.queries, 1);
	assert_int_equal(T.queries, 1);
	assert_int_equal(T.qlen, S.qlen[0]);
	assert_memory_equal(T.q, S.q[0], T.qlen);
	end();
	return NULL;
}

static void test_dns_tcp_ok(void **state)
{
	(void)state;
	run(ok_main);
}

/* A reply of exactly `size` bytes: 2 A records and a TXT record filling
 * the rest. */
static size_t size;

static void sized_tcp(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	static struct msg m;
	static uint8_t txt[4096];
	size_t rd;

	(void)nth;
	full_answer(q, qlen, 3, &m);
	t_put16(m.b + 6, 3);
	m.n -= 16;			/* the third A record becomes the TXT */
	rd = size - m.n - 12;
	put_ptr(&m, 12);
	rr_tail(&m, 16, 1, txt, rd);
	assert_int_equal(m.n, size);
	tcp_msg(c, &m);
}

static void *sizes_main(void *arg)
{
	struct cub_dns_result r;

	(void)arg;
	size = CUB_DNS_TCP_REPLY_MAX;
	assert_int_equal(tcp_lookup(sized_tcp, 3 * SEC, &r), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.ttl_s, 50);		/* the TXT's TTL not used */
	end();
	size = CUB_DNS_TCP_REPLY_MAX + 1;
	assert_int_equal(tcp_lookup(sized_tcp, 3 * SEC, &r), -CUB_EMSGSIZE);
	assert_int_equal(r.count, 0);
	end();
	return NULL;
}

static void test_dns_tcp_sizes(void **state)
{
	(void)state;
	run(sizes_main);
}

/* The kinds of TCP behaviour, one lookup each. */
enum { NXDOMAIN, SERVFAIL, TC_AGAIN, WRONG_ID_THEN_GOOD, BAD_THEN_GOOD, CLOSE,
       HALF_LENGTH, CUT_SHORT, WRONG_ID_CLOSE, BAD_CLOSE, TINY, KINDS };

static const struct {
	int want;
	unsigned ignored;
} kinds[KINDS] = {
	[NXDOMAIN] = { -CUB_ENOENT, 0 },
	[SERVFAIL] = { -CUB_EAGAIN, 0 },
	[TC_AGAIN] = { -CUB_EMSGSIZE, 0 },
	[WRONG_ID_THEN_GOOD] = { 0, 1 },
	[BAD_THEN_GOOD] = { 0, 1 },
	[CLOSE] = { -CUB_EIO, 0 },
	[HALF_LENGTH] = { -CUB_EIO, 0 },
	[CUT_SHORT] = { -CUB_EIO, 0 },
	[WRONG_ID_CLOSE] = { -CUB_EIO, 1 },
	[BAD_CLOSE] = { -CUB_EIO, 1 },
	[TINY] = { -CUB_EIO, 1 },
};

static unsigned kind;

static void kinds_tcp(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	struct msg m;
	uint8_t len[2];

	(void)nth;
	switch (kind) {
	case NXDOMAIN:
	case SERVFAIL:
		reply_to(&m, q, qlen, kind == NXDOMAIN ? 3 : 2, 1, 0);
		break;
	case TC_AGAIN:
		reply_to(&m, q, qlen, 0, 1, 0);
		t_put16(m.b + 2, t_get16(m.b + 2) | 0x0200);
		break;
	case WRONG_ID_THEN_GOOD:
	case WRONG_ID_CLOSE:
		full_answer(q, qlen, 1, &m);
		t_put16(m.b, t_get16(q) ^ 0x8000);
		tcp_msg(c, &m);
		if (kind == WRONG_ID_CLOSE)
			return;
		full_answer(q, qlen, 1, &m);
		break;
	case BAD_THEN_GOOD:
	case BAD_CLOSE:
		full_answer(q, qlen, 1, &m);
		m.n -= 2;			/* rdata past the end */
		tcp_msg(c, &m);
		if (kind == BAD_CLOSE)
			return;
		full_answer(q, qlen, 1, &m);
		break;
	case CLOSE:
		return;
	case HALF_LENGTH:
		tcp_raw(c, "\0", 1);
		return;
	case CUT_SHORT:
		full_answer(q, qlen, 1, &m);
		t_put16(len, (uint32_t)m.n);
		tcp_raw(c, len, 2);
		tcp_raw(c, m.b, m.n - 3);
		return;
	case TINY:		/* shorter than a header */
		tcp_raw(c, "\0\5abcde", 7);
		return;
	default:
		fail();
	}
	tcp_msg(c, &m);
}

static void *kinds_main(void *arg)
{
	(void)arg;
	for (kind = 0; kind < KINDS; kind++) {
		struct cub_dns_result r;
		uint64_t w0 = test_waited_ns(), t0 = cub_time_now();
		int rc = tcp_lookup(kinds_tcp, 3 * SEC, &r);

		print_message("kind %u: %d\n", kind, rc);
		assert_int_equal(rc, kinds[kind].want);
		assert_true(cub_time_now() - t0 < test_bound(1 * SEC, w0));	/* no waiting */
		assert_true(r.tcp);
		assert_int_equal(r.ignored, kinds[kind].ignored);
		assert_int_equal(r.count, rc == 0);
		if (rc == 0)
			assert_int_equal(r.addr[0], CUB_IP4(198, 51, 100, 1));
		assert_int_equal(T.queries, 1);
		end();
	}
	return NULL;
}

static void test_dns_tcp_kinds(void **state)
{
	(void)state;
	run(kinds_main);
}

/* The server reads the query and says nothing for 2 s. */
static void silent_tcp(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth)
{
	(void)c, (void)q, (void)qlen, (void)nth;
	cub_sleep(2 * SEC);
}

/* The first UDP query is lost: the TCP exchange has what is left of
 * the timeout, and the whole lookup ends at it: within 300 ms of it, and
 * what the stall meter saw the process run late during the lookup (a
 * stall only lengthens it; a TCP exchange given the whole timeout again
 * ends near 2.5 s). */
static void *silent_main(void *arg)
{
	struct stall_meter m;
	struct cub_dns_result r;
	uint64_t t0, dt;

	(void)arg;
	stall_start(&m);
	t0 = cub_time_now();
	start(tc_reply);
	S.skip = 1;
	tcp_start(silent_tcp);
	assert_int_equal(lookup("big.example", 1500 * MS, &r), -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 1500 * MS);
	assert_true(dt < 1800 * MS + stall_late(&m, t0, t0 + dt));
	stall_stop(&m);
	assert_true(r.tcp);
	assert_int_equal(r.queries, 3);		/* two over UDP, one over TCP */
	assert_int_equal(T.queries, 1);
	end();
	return NULL;
}

static void test_dns_tcp_silent(void **state)
{
	(void)state;
	run(silent_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns_tcp_ok),
		cmocka_unit_test(test_dns_tcp_sizes),
		cmocka_unit_test(test_dns_tcp_kinds),
		cmocka_unit_test(test_dns_tcp_silent),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
