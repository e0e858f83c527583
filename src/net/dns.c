/*
 * dns.c - the DNS resolver's messages (RFC 1035 4.1): the question (A,
 * PTR or SRV) encoded, a reply checked and its answer section walked,
 * CNAMEs followed, the records of the type asked taken (A's addresses,
 * a PTR's name, SRV records packed for dns_srv.c), the SOA of a
 * negative answer read for its TTL (RFC 2308 5).
 * The exchange is dns_query.c's (UDP) and dns_tcp.c's; the cache
 * dns_cache.c's (cubrt/dns.h).
 *
 * Invariants of the message walk: every read is bounds-checked against
 * the reply's length before it happens; a name is at most
 * CUB_DNS_NAME_MAX characters however it is spelt; a compression
 * pointer must point before itself and at most NAME_HOPS are followed,
 * so that no reply can make the walk loop or read past the message. A
 * name inside a record's data (CNAME, PTR, SRV target, SOA) is read
 * within that record's data, and a CNAME's, PTR's or SRV's must end
 * exactly where the data does (RDLENGTH is not to lie either way).
 *
 * Nothing is allocated; the walk uses the query (dns_impl.h) and a few
 * names on the caller's stack. No lock: a query is its lookup's own.
 */
#include <cubrt/arch.h>
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

#define HDR CUBI_DNS_HDR
#define NAME_HOPS 32			/* compression pointers followed */
#define TYPE_A CUBI_DNS_A
#define TYPE_CNAME CUBI_DNS_CNAME
#define TYPE_SOA CUBI_DNS_SOA
#define TYPE_PTR CUBI_DNS_PTR
#define TYPE_SRV CUBI_DNS_SRV
#define CLASS_IN 1
#define F_QR 0x8000
#define F_TC 0x0200
#define F_RD 0x0100
#define RCODE_NXDOMAIN 3
#define RCODE_SERVFAIL 2
#define IGNORE CUBI_DNS_IGNORE

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 'a' - 'A') : c;
}

/* Contexts: any. */
int cubi_dns_name(struct cubi_dns_query *q, const char *name)
{
	size_t n = cub_strlen(name), label = 0;

	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > CUB_DNS_NAME_MAX)
		return -CUB_EINVAL;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? name[i] : '.';

		if (c == '.') {
			if (i == label || i - label > 63)
				return -CUB_EINVAL;	/* empty or long label */
			label = i + 1;
		} else if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f) {
			return -CUB_EINVAL;
		}
		q->name[i] = lower(c);
	}
	q->name[n] = '\0';
	return 0;
}

/* Contexts: any. */
void cubi_dns_build(struct cubi_dns_query *q)
{
	size_t at = HDR, label = 0, n = cub_strlen(q->name);

	cub_memset(q->out, 0, HDR);
	put16(q->out, q->id);
	put16(q->out + 2, F_RD);
	put16(q->out + 4, 1);		/* QDCOUNT */
	for (size_t i = 0; i <= n; i++) {
		if (i < n && q->name[i] != '.') {
			q->out[at + 1 + i - label] = (uint8_t)q->name[i];
			continue;
		}
		q->out[at] = (uint8_t)(i - label);
		at += 1 + i - label;
		label = i + 1;
	}
	q->out[at++] = 0;
	put16(q->out + at, q->qtype);
	put16(q->out + at + 2, CLASS_IN);
	q->out_len = at + 4;
}

/* Can byte c stand in a name handed out (PTR, SRV target)? As
 * cubi_dns_name has them: printable, no space; and no dot in a label. */
static bool plain(uint8_t c)
{
	return c > ' ' && c < 0x7f && c != '.';
}

/*
 * Reads the name at *off of message m (n bytes) into out (lower case,
 * dotted, CUB_DNS_NAME_MAX + 1 bytes), leaving *off after it where it
 * appears (after its first pointer, if any). 0, or -1 when malformed;
 * *odd (unless NULL) is set when a label holds a byte that is not
 * plain().
 */
static int read_name_odd(const uint8_t *m, size_t n, size_t *off, char *out, bool *odd)
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
		for (unsigned i = 0; i < c; i++) {
			if (odd && !plain(m[p + 1 + i]))
				*odd = true;
			out[len++] = lower((char)m[p + 1 + i]);
		}
		p += 1 + c;
	}
	out[len] = '\0';
	if (!jumped)
		*off = p + 1;
	return 0;
}

static int read_name(const uint8_t *m, size_t n, size_t *off, char *out)
{
	return read_name_odd(m, n, off, out, NULL);
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
static int check_question(const struct cubi_dns_query *q, const uint8_t *m, size_t n, unsigned qd,
			  size_t *off)
{
	char name[CUB_DNS_NAME_MAX + 1];

	if (qd == 0)
		return 0;
	if (qd != 1 || read_name(m, n, off, name) || *off + 4 > n ||
	    cub_strcmp(name, q->name) || get16(m + *off) != q->qtype ||
	    get16(m + *off + 2) != CLASS_IN)
		return -1;
	*off += 4;
	return 0;
}

static int data_name(const uint8_t *m, const struct rr *r, size_t d, char *out, bool root_ok);

/*
 * Follows the CNAME chain from q->name through the an answers starting
 * at off into res->canonical: 0, or -1 (a malformed record, a chain
 * longer than CUB_DNS_CNAME_MAX). An alias is used whatever the record
 * order; its TTL counts. An alias that is not a name the caller could
 * have asked for (data_name: odd bytes, or the root) is skipped like
 * any unusable record: it would be handed out as res->canonical.
 */
static int follow_cnames(const uint8_t *m, size_t n, size_t off, unsigned an,
			 struct cub_dns_result *res)
{
	char alias[CUB_DNS_NAME_MAX + 1];
	unsigned links = 0;
	bool moved = true;
	struct rr r;

	while (moved) {
		size_t at = off;

		moved = false;
		for (unsigned i = 0; i < an && !moved; i++) {
			int use;

			if (read_rr(m, n, &at, &r))
				return -1;
			if (r.type != TYPE_CNAME || r.class != CLASS_IN ||
			    cub_strcmp(r.owner, res->canonical))
				continue;
			if (++links > CUB_DNS_CNAME_MAX)
				return -1;
			if ((use = data_name(m, &r, r.rdata, alias, false)) < 0)
				return -1;	/* RDLENGTH lies */
			if (!use)
				continue;
			cub_strlcpy(res->canonical, alias, sizeof(res->canonical));
			res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
			moved = true;
		}
	}
	return 0;
}

/* Takes the A records of res->canonical among the an answers at off:
 * 0, or -1 when one of them is not 4 bytes long (RFC 1035 3.4.1): such
 * a reply is malformed, not one whose other addresses may be taken. */
static int take_addrs(const uint8_t *m, size_t n, size_t off, unsigned an,
		      struct cub_dns_result *res)
{
	struct rr r;

	for (unsigned i = 0; i < an && read_rr(m, n, &off, &r) == 0; i++) {
		if (r.type != TYPE_A || r.class != CLASS_IN || cub_strcmp(r.owner, res->canonical))
			continue;
		if (r.rdlen != 4)
			return -1;
		if (res->count == CUB_DNS_ADDRS_MAX)
			continue;
		res->addr[res->count++] = get32(m + r.rdata);
		res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
	}
	return 0;
}

/*
 * Reads the name in r's data from *d into out: 1 to use it, 0 to skip
 * the record (a byte not plain() in a label; empty when !root_ok), -1
 * when malformed (past the data, or ending before it: RDLENGTH lies).
 */
static int data_name(const uint8_t *m, const struct rr *r, size_t d, char *out, bool root_ok)
{
	size_t end = r->rdata + r->rdlen;
	bool odd = false;

	if (read_name_odd(m, end, &d, out, &odd) || d != end)
		return -1;
	return !odd && (root_ok || out[0]);
}

/*
 * Takes the first usable PTR record of res->canonical among the an
 * answers at off (its name into q->data): 0, or -1 for a malformed
 * one. A name with odd bytes, or the root, is skipped.
 */
static int take_ptr(struct cubi_dns_query *q, size_t n, size_t off, unsigned an)
{
	struct cub_dns_result *res = q->res;
	char name[CUB_DNS_NAME_MAX + 1];
	struct rr r;

	for (unsigned i = 0; i < an; i++) {
		int use;

		if (read_rr(q->in, n, &off, &r))
			return -1;
		if (r.type != TYPE_PTR || r.class != CLASS_IN || cub_strcmp(r.owner, res->canonical))
			continue;
		if ((use = data_name(q->in, &r, r.rdata, name, false)) < 0)
			return -1;
		if (use && res->count == 0) {
			q->data_len = cub_strlcpy((char *)q->data, name, sizeof(q->data)) + 1;
			res->count = 1;
			res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
		}
	}
	return 0;
}

/*
 * Takes the SRV records of res->canonical among the an answers at off,
 * packed into q->data (CUBI_DNS_SRV_FIXED) as long as they fit: 0, or
 * -1 for a malformed one. A target with odd bytes is skipped; the root
 * (".") is kept, dns_srv.c judges it.
 */
static int take_srv(struct cubi_dns_query *q, size_t n, size_t off, unsigned an)
{
	struct cub_dns_result *res = q->res;
	char name[CUB_DNS_NAME_MAX + 1];
	struct rr r;

	for (unsigned i = 0; i < an; i++) {
		size_t len;
		int use;

		if (read_rr(q->in, n, &off, &r))
			return -1;
		if (r.type != TYPE_SRV || r.class != CLASS_IN || cub_strcmp(r.owner, res->canonical))
			continue;
		if (r.rdlen < 7 || (use = data_name(q->in, &r, r.rdata + 6, name, true)) < 0)
			return -1;
		len = cub_strlen(name);
		if (!use || q->data_len + CUBI_DNS_SRV_FIXED + len > sizeof(q->data))
			continue;
		cub_memcpy(q->data + q->data_len, q->in + r.rdata, 6);
		q->data[q->data_len + 6] = (uint8_t)len;
		cub_memcpy(q->data + q->data_len + CUBI_DNS_SRV_FIXED, name, len);
		q->data_len += CUBI_DNS_SRV_FIXED + len;
		res->count++;
		res->ttl_s = CUB_MIN(res->ttl_s, r.ttl);
	}
	return 0;
}

/* Takes the records of the type asked: 0, or -1 for a malformed one. */
static int take_answer(struct cubi_dns_query *q, size_t n, size_t off, unsigned an)
{
	q->data_len = 0;
	if (q->qtype == TYPE_PTR)
		return take_ptr(q, n, off, an);
	if (q->qtype == TYPE_SRV)
		return take_srv(q, n, off, an);
	return take_addrs(q->in, n, off, an, q->res);
}

/* Is zone the name itself or a suffix of it at a label boundary? */
static bool in_zone(const char *name, const char *zone)
{
	size_t n = cub_strlen(name), z = cub_strlen(zone);

	if (z == 0)
		return true;		/* the root */
	if (z > n || cub_strcmp(name + n - z, zone))
		return false;
	return z == n || name[n - z - 1] == '.';
}

/*
 * The negative TTL (RFC 2308 5) from the authority section's SOA at
 * off (ns records after the an answers): min(its TTL, its MINIMUM),
 * for a zone that holds name or alias (the end of its CNAME chain, ""
 * when not walked: RFC 2308 2.1 has the SOA be the last name's); 0
 * without one (not to be cached).
 */
static uint32_t soa_ttl(const uint8_t *m, size_t n, size_t off, unsigned an, unsigned ns,
			const char *name, const char *alias)
{
	char skip[CUB_DNS_NAME_MAX + 1];
	struct rr r;

	for (unsigned i = 0; i < an + ns; i++) {
		size_t d;

		if (read_rr(m, n, &off, &r))
			return 0;
		if (i < an || r.type != TYPE_SOA || r.class != CLASS_IN ||
		    !(in_zone(name, r.owner) || (alias[0] && in_zone(alias, r.owner))))
			continue;
		d = r.rdata;
		if (read_name(m, r.rdata + r.rdlen, &d, skip) ||
		    read_name(m, r.rdata + r.rdlen, &d, skip) || d + 20 != r.rdata + r.rdlen)
			return 0;	/* MNAME, RNAME, five numbers */
		return CUB_MIN(r.ttl, get32(m + d + 16));
	}
	return 0;
}

/* The error of a reply without addresses, its negative TTL in q. */
static int negative(struct cubi_dns_query *q, size_t n, size_t off, unsigned rcode)
{
	const uint8_t *m = q->in;

	if (rcode && rcode != RCODE_NXDOMAIN)
		return rcode == RCODE_SERVFAIL ? -CUB_EAGAIN : -CUB_EIO;
	q->neg_ttl = soa_ttl(m, n, off, get16(m + 6), get16(m + 8), q->name, q->res->canonical);
	q->res->ttl_s = q->neg_ttl;
	return -CUB_ENOENT;
}

/* Contexts: any. */
int cubi_dns_judge(struct cubi_dns_query *q, size_t n, bool tcp)
{
	struct cub_dns_result *res = q->res;
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
	q->neg_ttl = 0;
	q->data_len = 0;
	res->count = 0;
	res->ttl_s = 0;
	if (rcode && rcode != RCODE_NXDOMAIN)
		return negative(q, n, off, rcode);
	cub_strlcpy(res->canonical, q->name, sizeof(res->canonical));
	res->ttl_s = 0xffffffffu;
	if (follow_cnames(m, n, off, an, res))
		return IGNORE;
	if (rcode)
		return negative(q, n, off, rcode);
	if (take_answer(q, n, off, an))
		return IGNORE;
	if (flags & F_TC && !tcp)
		return CUBI_DNS_TRUNCATED;
	if (res->count)
		return 0;
	if (flags & F_TC)
		return -CUB_EMSGSIZE;
	return negative(q, n, off, 0);
}
