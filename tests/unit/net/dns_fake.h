/*
 * dns_fake.h - the fake DNS server of the resolver's tests (test_net_dns,
 * test_net_dns_tcp, test_net_dns_cache): replies built by hand (RFC
 * 1035 4.1, independently of src/net/dns*.c) and sent by the fake UDP
 * server of udp_fake.h on B's port 53; and a fake TCP server on the same
 * port (tcp_start) that reads each query behind its two-byte length
 * (RFC 1035 4.2.2) and lets the running test's function answer on the
 * connection, as it likes: well, badly, or not at all. Include after
 * cmocka.h, once per program (everything is static).
 */
#ifndef DNS_FAKE_H
#define DNS_FAKE_H

#include <cubrt/dns.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "udp_fake.h"

#define SEC CUB_NSEC_PER_SEC

/* ------------------------------------------------------- reply building */

struct msg {
	uint8_t b[4200];
	size_t n;
};

static inline void put(struct msg *m, const void *p, size_t len)
{
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static inline void put16(struct msg *m, unsigned v)
{
	t_put16(m->b + m->n, v);
	m->n += 2;
}

static inline void put32(struct msg *m, uint32_t v)
{
	t_put32(m->b + m->n, v);
	m->n += 4;
}

/* A name in labels, uncompressed ("a.b" -> 1 a 1 b 0). */
static inline void put_name(struct msg *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t len = dot ? (size_t)(dot - s) : strlen(s);

		m->b[m->n++] = (uint8_t)len;
		put(m, s, len);
		s += len + (dot != NULL);
	}
	m->b[m->n++] = 0;
}

static inline void put_ptr(struct msg *m, unsigned off)
{
	put16(m, 0xc000 | off);
}

/* The header answering query q (its ID; QR, RD, RA, rcode) with qd and
 * an counts, then q's question copied when qd is 1. */
static inline void reply_to(struct msg *m, const uint8_t *q, size_t qlen, unsigned rcode,
		     unsigned qd, unsigned an)
{
	m->n = 0;
	put16(m, t_get16(q));
	put16(m, 0x8000 | 0x0100 | 0x0080 | rcode);
	put16(m, qd);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
	if (qd == 1)
		put(m, q + 12, qlen - 12);
}

/* A record's type, class IN, TTL and rdata after its owner name. */
static inline void rr_tail(struct msg *m, unsigned type, uint32_t ttl, const void *rd, size_t len)
{
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, (unsigned)len);
	put(m, rd, len);
}

/* An A record whose owner is the question's name (pointer to 12). */
static inline void rr_a(struct msg *m, uint32_t ttl, cub_ip4_t a)
{
	uint8_t rd[4];

	t_put32(rd, a);
	put_ptr(m, 12);
	rr_tail(m, 1, ttl, rd, 4);
}

/* The question's name of query q, dotted. */
static inline void qname(const uint8_t *q, char *out)
{
	size_t at = 12, n = 0;

	while (q[at]) {
		if (n)
			out[n++] = '.';
		memcpy(out + n, q + at + 1, q[at]);
		n += q[at];
		at += 1 + q[at];
	}
	out[n] = '\0';
}

/* An SOA record for zone, TTL ttl, MINIMUM min, in the authority
 * section (NSCOUNT 1). */
static inline void soa(struct msg *m, const char *zone, uint32_t ttl, uint32_t min)
{
	static const uint8_t rd[] = "\2ns\7example\0\1h\7example\0"
				    "\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4";
	struct msg r = { .n = 0 };

	put(&r, rd, sizeof(rd) - 1);
	t_put32(r.b + r.n, min);
	r.n += 4;
	t_put16(m->b + 8, 1);
	put_name(m, zone);
	rr_tail(m, 6, ttl, r.b, r.n);
}

/* The question's type of query q (qlen bytes). */
static inline unsigned qtype(const uint8_t *q, size_t qlen)
{
	return t_get16(q + qlen - 4);
}

/* A PTR record whose owner is the question's name (pointer to 12),
 * pointing at name, uncompressed. */
static inline void rr_ptr(struct msg *m, uint32_t ttl, const char *name)
{
	struct msg r = { .n = 0 };

	put_name(&r, name);
	put_ptr(m, 12);
	rr_tail(m, 12, ttl, r.b, r.n);
}

/* An SRV record (RFC 2782) owned by the name at owner (a pointer), its
 * target uncompressed ("" is the root, "."). */
static inline void rr_srv(struct msg *m, unsigned owner, uint32_t ttl, unsigned prio,
			  unsigned weight, unsigned port, const char *target)
{
	struct msg r = { .n = 0 };

	put16(&r, prio);
	put16(&r, weight);
	put16(&r, port);
	put_name(&r, target);
	put_ptr(m, owner);
	rr_tail(m, 33, ttl, r.b, r.n);
}

/* ---------------------------------------------------------- the server */

/* A test's reply: built into *out (left empty: no answer), sent after. */
typedef void build_fn(const uint8_t *q, size_t qlen, unsigned nth, struct msg *out);

static build_fn *builder;

static inline void build_and_send(const uint8_t *q, unsigned nth)
{
	static struct msg out;

	out.n = 0;
	builder(q, S.last_len, nth, &out);
	if (out.n)
		srv_send(out.b, out.n);
}

static inline void start(build_fn *fn)
{
	builder = fn;
	start_server(fn ? build_and_send : NULL, 53);
}

static inline int lookup(const char *name, uint64_t timeout, struct cub_dns_result *r)
{
	return cub_dns_lookup(A, SRV_IP, 0, name, timeout, r);
}

/* Sends m to the asker of the latest query at once (a reply before the
 * last). */
static inline void send_now(unsigned nth, const struct msg *m)
{
	(void)nth;
	srv_send(m->b, m->n);
	wire_settle(&W);
}

/* ------------------------------------------------------ the TCP server */

/* A test's TCP behaviour: answers query q (qlen bytes, the nth over
 * TCP) on connection c, which the server closes after it returns. */
typedef void tcp_fn(struct cub_tcp *c, const uint8_t *q, size_t qlen, unsigned nth);

static struct {
	struct cub_tcp *l;
	struct cub_coro *coro;
	tcp_fn *fn;
	unsigned conns;			/* connections accepted */
	unsigned queries;		/* queries read whole */
	uint8_t q[FAKE_QCOPY];		/* the latest */
	size_t qlen;
	bool accepting;			/* the server is in cub_tcp_accept */
} T;

/* Sends n bytes as they are on c (all of them). */
static inline void tcp_raw(struct cub_tcp *c, const void *b, size_t n)
{
	assert_int_equal(cub_tcp_send(c, b, n, 2 * SEC), (long)n);
}

/* Sends m behind its two-byte length. */
static inline void tcp_msg(struct cub_tcp *c, const struct msg *m)
{
	uint8_t len[2];

	t_put16(len, (uint32_t)m->n);
	tcp_raw(c, len, 2);
	tcp_raw(c, m->b, m->n);
}

/* Reads n bytes from c: true, or false when it ended first. */
static inline bool tcp_read(struct cub_tcp *c, uint8_t *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		long r = cub_tcp_recv(c, b + got, n - got, 2 * SEC);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* The server accepts until tcp_stop closes the listener under it: the
 * blocked accept then returns -CUB_EBADF (docs/net.md, "Handles and
 * closing"). A handle must not be closed before a call that is to see
 * the close is inside: tcp_stop waits until the server is in accept. */
static inline void *tcp_main(void *arg)
{
	struct cub_tcp *c;
	int rc;

	(void)arg;
	for (;;) {
		uint8_t len[2];

		T.accepting = true;
		rc = cub_tcp_accept(T.l, &c, UINT64_MAX);
		T.accepting = false;
		if (rc < 0)
			break;
		T.conns++;
		if (tcp_read(c, len, 2) && t_get16(len) <= FAKE_QCOPY &&
		    tcp_read(c, T.q, t_get16(len))) {
			T.qlen = t_get16(len);
			T.queries++;
			if (T.fn)
				T.fn(c, T.q, T.qlen, T.queries - 1);
		}
		assert_int_equal(cub_tcp_close(c), 0);
	}
	assert_int_equal(rc, -CUB_EBADF);
	return NULL;
}

/* The TCP server on B's port 53, answering with fn (after start()). */
static inline void tcp_start(tcp_fn *fn)
{
	static const struct cub_tcp_params p = { .time_wait = 20 * MS };

	memset(&T, 0, sizeof(T));
	T.fn = fn;
	assert_int_equal(cub_tcp_set_params(A, &p), 0);
	assert_int_equal(cub_tcp_set_params(B, &p), 0);
	assert_int_equal(cub_tcp_listen(B, 53, 4, &T.l), 0);
	assert_int_equal(cub_coro_spawn(&T.coro, tcp_main, NULL, NULL), 0);
}

/* Connections n opened and has not freed yet. */
static inline uint64_t tcp_live(struct cub_netif *n)
{
	struct cub_netif_stats s = if_stats(n);

	return s.tcp_active_opens + s.tcp_passive_opens - s.tcp_freed;
}

/* Ends the TCP server and waits (at most 5 s) until both ends have
 * freed every connection: the resolver left none behind. */
static inline void tcp_stop(void)
{
	uint64_t end = cub_time_now() + 5 * SEC;

	while (!T.accepting && cub_time_now() < end)
		cub_sleep(MS);
	cub_sleep(MS);			/* ... and blocked in it */
	assert_true(T.accepting);
	assert_int_equal(cub_tcp_close(T.l), 0);	/* the accept leaves */
	cub_coro_join(T.coro, NULL);
	while ((tcp_live(A) || tcp_live(B)) && cub_time_now() < end)
		cub_sleep(10 * MS);
	assert_int_equal(tcp_live(A), 0);
	assert_int_equal(tcp_live(B), 0);
}

#endif
