/*
 * dns.c - a DNS stub resolver (RFC 1035 4.1): one A question to a
 * recursive server over UDP, the reply checked and its answer section
 * walked, CNAMEs followed (cubrt/dns.h).
 *
 * Invariants of the message walk: every read is bounds-checked against
 * the reply's length before it happens; a name is at most
 * CUB_DNS_NAME_MAX characters however it is spelt; a compression
 * pointer must point before itself and at most NAME_HOPS are followed,
 * so that no reply can make the walk loop or read past the message.
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open);
 * the query, the reply and the names live on the caller's stack (about
 * 1.2 KiB).
 */
#include <cubrt/arch.h>
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

#define HDR 12
#define QUERY_MAX (HDR + CUB_DNS_NAME_MAX + 2 + 4)
#define REPLY_MAX 512			/* RFC 1035 2.3.4: UDP messages */
#define NAME_HOPS 32			/* compression pointers followed */
#define TYPE_A 1
#define TYPE_CNAME 5
#define CLASS_IN 1
#define F_QR 0x8000
#define F_TC 0x0200
#define F_RD 0x0100
#define RCODE_NXDOMAIN 3
#define RCODE_SERVFAIL 2
#define IGNORE CUBI_UDP_QUERY_IGNORE	/* parse: not a reply to believe */

struct query {
	struct cubi_udp_query uq;	/* first: the exchange's callbacks
					 * get it back by a cast */
	struct cub_dns_result *res;
	uint16_t id;
	char name[CUB_DNS_NAME_MAX + 1];	/* lower case, no final dot */
	uint8_t out[QUERY_MAX];
	size_t out_len;
	uint8_t in[REPLY_MAX];
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

/* Copies name into q->name (lower case, a final dot dropped) and builds
 * the query: 0, or -CUB_EINVAL for a malformed name. */
static int build(struct query *q, const char *name)
{
	size_t n = cub_strlen(name), at = HDR, label = 0;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > CUB_DNS_NAME_MAX)
		return -CUB_EINVAL;
	cub_memset(q->out, 0, HDR);
	put16(q->out, q->id);
	put16(q->out + 2, F_RD);
	put16(q->out + 4, 1);		/* QDCOUNT */
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? name[i] : '.';

		if (c == '.') {
			if (i == label || i - label > 63)
				return -CUB_EINVAL;	/* empty or long label */
			q->out[at] = (uint8_t)(i - label);
			at += 1 + i - label;
			label = i + 1;
		} else if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f) {
			return -CUB_EINVAL;
		} else {
			q->out[at + 1 + i - label] = (uint8_t)lower(c);
		}
		q->name[i] = lower(c);
	}
	q->name[n] = '\0';
	q->out[at++] = 0;
	put16(q->out + at, TYPE_A);
	put16(q->out + at + 2, CLASS_IN);
	q->out_len = at + 4;
	return 0;
}

/*
 * Reads the name at *off of message m (n bytes) into out (lower case,
 * dotted, CUB_DNS_NAME_MAX + 1 bytes), leaving *off after it where it
 * appears (after its first pointer, if any). 0, or -1 when malformed.
 */
static int read_name(const uint8_t *m, size_t n, size_t *off, char *out)
{
	size_t p = *off, len = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		unsigned c;

		if (p >= n)
			return -1;
		c = m[p];
		if (c == 0)
			break;
		if ((c & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= n || ++hops > NAME_HOPS)
				return -1;
			to = (size_t)(c & 0x3f) << 8 | m[p + 1];
			if (to >= p)
				return -1;	/* only backwards */
			if (!jumped)
				*off = p + 2;
			jumped = true;
			p = to;
			continue;
		}
		if (c & 0xc0 || p + 1 + c > n || len + (len > 0) + c > CUB_DNS_NAME_MAX)
			return -1;	/* reserved label type, past the end, long */
		if (len)
			out[len++] = '.';
		for (unsigned i = 0; i < c; i++)
			out[len++] = lower((char)m[p + 1 + i]);
		p += 1 + c;
	}
	out[len] = '\0';
	if (!jumped)
		*off = p + 1;
	return 0;
}

/* A resource record's fixed part, located. */
struct rr {
	char owner[CUB_DNS_NAME_MAX + 1];
	unsigned type, class;
	uint32_t ttl;
	size_t rdata, rdlen;		/* offset and length of its data */
};

/* Reads the record at *off into *r and moves *off past it: 0 or -1. */
static int read_rr(const uint8_t *m, size_t n, size_t *off, struct rr *r)
{
	if (read_name(m, n, off, r->owner) || *off + 10 > n)
		return -1;
	r->type = get16(m + *off);
	r->class = get16(m + *off + 2);
	r->ttl = get32(m + *off + 4);
	r->rdlen = get16(m + *off + 8);
	r->rdata = *off + 10;
	if (r->rdata + r->rdlen > n)
		return -1;
	*off = r->rdata + r->rdlen;
	return 0;
}

/* Skips the question section (qd entries) from *off, checking that a
 * single question is ours: 0 or -1. */
static int check_question(const struct query *q, const uint8_t *m, size_t n, unsigned qd,
			  size_t *off)
{
	char name[CUB_DNS_NAME_MAX + 1];

	if (qd == 0)
		return 0;
	if (qd != 1 || read_name(m, n, off, name) || *off + 4 > n ||
	    cub_strcmp(name, q->name) || get16(m + *off) != TYPE_A ||
	    get16(m + *off + 2) != CLASS_IN)
		return -1;
	*off += 4;
	return 0;
}

/*
 * Follows the CNAME chain from q->name through the an answers starting
 * at off into res->canonical: 0, or -1 (a malformed record, a chain
 * longer than CUB_DNS_CNAME_MAX). An alias is used whatever the record
 * order; its TTL counts.
 */
static int follow_cnames(const uint8_t *m, size_t n, size_t off, unsigned an,
			 struct cub_dns_result *res)
{
	unsigned links = 0;
	bool moved = true;
	struct rr r;

	while (moved) {
		size_t at = off;

		moved = false;
		for (unsigned i = 0; i < an && !moved; i++) {
			size_t d;

			if (read_rr(m, n, &at, &r))
				return -1;
			if (r.type != TYPE_CNAME || r.class != CLASS_IN ||
			    cub_strcmp(r.owner, res->canonical))
				continue;
			if (++links > CUB_DNS_CNAME_MAX)
				return -1;
			d = r.rdata;
			if (read_name(m, r.rdata + r.rdlen, &d, res->canonical))
				return -1;
			res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
			moved = true;
		}
	}
	return 0;
}

/* Takes the A records of res->canonical among the an answers at off. */
static void take_addrs(const uint8_t *m, size_t n, size_t off, unsigned an,
		       struct cub_dns_result *res)
{
	struct rr r;

	for (unsigned i = 0; i < an && read_rr(m, n, &off, &r) == 0; i++) {
		if (r.type != TYPE_A || r.class != CLASS_IN || r.rdlen != 4 ||
		    cub_strcmp(r.owner, res->canonical) || res->count == CUB_DNS_ADDRS_MAX)
			continue;
		res->addr[res->count++] = get32(m + r.rdata);
		res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
	}
}

/*
 * Judges the n-byte reply in q->in: 0 (res filled), IGNORE (not a
 * reply to this query, or malformed), or the answer's error.
 */
static int parse(const struct query *q, size_t n, struct cub_dns_result *res)
{
	const uint8_t *m = q->in;
	unsigned flags, rcode, an;
	size_t off = HDR;

	if (n < HDR || get16(m) != q->id)
		return IGNORE;
	flags = get16(m + 2);
	rcode = flags & 0xf;
	an = get16(m + 6);
	if (!(flags & F_QR) || (flags >> 11 & 0xf) != 0 ||
	    check_question(q, m, n, get16(m + 4), &off) ||
	    (get16(m + 4) == 0 && rcode == 0))
		return IGNORE;
	if (rcode)
		return rcode == RCODE_NXDOMAIN ? -CUB_ENOENT :
		       rcode == RCODE_SERVFAIL ? -CUB_EAGAIN : -CUB_EIO;
	cub_strlcpy(res->canonical, q->name, sizeof(res->canonical));
	res->ttl_s = 0xffffffffu;
	res->count = 0;
	if (follow_cnames(m, n, off, an, res))
		return IGNORE;
	take_addrs(m, n, off, an, res);
	if (res->count)
		return 0;
	return flags & F_TC ? -CUB_EMSGSIZE : -CUB_ENOENT;
}

/* cubi_udp_query's send: the query (again). */
static int send_query(struct cubi_udp_query *uq)
{
	struct query *q = (struct query *)uq;
	int rc = cub_udp_sendto(&uq->u, uq->server, uq->port, q->out, q->out_len);

	if (rc < 0)
		return rc;
	q->res->queries++;
	return 0;
}

/* cubi_udp_query's judge: parse's verdict on the reply. */
static int judge_reply(struct cubi_udp_query *uq, size_t len)
{
	struct query *q = (struct query *)uq;

	return parse(q, len, q->res);
}

/* A dotted quad ("10.0.2.2"): true and *a. */
static bool literal(const char *s, cub_ip4_t *a)
{
	unsigned part = 0, parts = 0, digits = 0;

	for (*a = 0;; s++) {
		if (*s >= '0' && *s <= '9' && digits < 3) {
			part = part * 10 + (unsigned)(*s - '0');
			digits++;
		} else if ((*s == '.' || !*s) && digits && part < 256 && parts < 4) {
			*a = *a << 8 | part;
			parts++;
			if (!*s)
				return parts == 4;
			part = digits = 0;
		} else {
			return false;
		}
	}
}

/* Contexts: task. */
int cub_dns_lookup(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   const char *name, uint64_t timeout_ns, struct cub_dns_result *res)
{
	struct query q = { .uq = { .server = server, .port = port ? port : CUB_DNS_PORT,
				   .retry_ns = CUB_DNS_RETRY_NS, .send = send_query,
				   .judge = judge_reply },
			   .res = res };
	uint64_t r = 0;
	cub_ip4_t a;
	int rc;

	if (!nif || !name || !res || !server)
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	if (literal(name, &a)) {
		res->addr[0] = a;
		res->count = 1;
		res->ttl_s = 0xffffffffu;
		cub_strlcpy(res->canonical, name, sizeof(res->canonical));
		return 0;
	}
	if (!cub_arch_random(&r))
		r = cub_time_now() * 0x9e3779b97f4a7c15ull;
	q.id = (uint16_t)(r >> 24);
	q.uq.in = q.in;
	q.uq.in_cap = sizeof(q.in);
	if ((rc = build(&q, name)) || (rc = cubi_udp_query_open(&q.uq, nif)))
		return rc;
	rc = cubi_udp_query_run(&q.uq, cubi_deadline(cub_time_now(), timeout_ns));
	res->ignored = q.uq.ignored;
	cub_udp_close(&q.uq.u);
	return rc;
}
