/*
 * model_replies_dns.h - cub_dns_lookup against the hostile server of
 * model_replies.c. The template answers "www.example.org" A with
 *   www.example.org  CNAME host.example.org   (TTL 600; the owner a
 *                    pointer to the question, the target's tail a
 *                    pointer to its "example.org")
 *   host.example.org A     192.0.2.7          (TTL 300; the owner a
 *                    pointer to the CNAME's target)
 * and in the authority section example.org NS ns.example.org. Value
 * bytes: every record's type, class and TTL, the address and the
 * letters of "host" (a change there renames the alias consistently,
 * since the A record's owner points at it: another true answer). A
 * type is a value: the CNAME's made unknown while a pointer chain made
 * the A record's owner the question's name is another true answer,
 * without an alias (seeds 738, 811). Structural mutations: RDLENGTH of
 * any record, the four counts, compression pointers made loops (to
 * themselves), forward, out of the message, or chains of pointers,
 * label lengths with the reserved bits 0x40/0x80, the rcode, TC (the
 * TCP fallback finds nothing listening: -CUB_ECONNREFUSED), QR and the
 * opcode, the ID, the question's type and class, an A record of 3 or 5
 * bytes.
 *
 * Right: 0 with exactly 192.0.2.7, TTL 300 and canonical
 * "host.example.org" (or "host" with another suffix of the message: a
 * pointer moved consistently, the A record's owner being a pointer to
 * the alias); or -CUB_ENOENT, -CUB_EAGAIN, -CUB_EIO,
 * -CUB_ECONNREFUSED, -CUB_EMSGSIZE, -CUB_ETIMEDOUT (cubrt/dns.h).
 */
#ifndef MODEL_REPLIES_DNS_H
#define MODEL_REPLIES_DNS_H

#include <cubrt/dns.h>

#define DNS_ADDR CUB_IP4(192, 0, 2, 7)

static struct cub_dns_result dns_res;

/* Where the template's parts are (offsets into the reply). */
static struct {
	size_t qname_end;		/* after the question's name */
	size_t rr[3];			/* each record's start */
	size_t rdlen[3];		/* each record's RDLENGTH */
	size_t ptr[5];			/* every compression pointer */
	size_t label[4];		/* label length bytes */
	size_t a_data;
	bool a_moved;			/* the A record made 3 or 5 bytes: its
					 * RDLENGTH set back to 4 would make
					 * another address, well formed */
} D;

static size_t dns_rr(struct reply *r, size_t at, unsigned i, uint16_t owner, uint16_t type,
		     uint32_t ttl, const uint8_t *data, size_t len)
{
	uint8_t *m = r->m;

	D.rr[i] = at;
	t_put16(m + at, 0xc000u | owner);
	t_put16(m + at + 2, type);
	t_put16(m + at + 4, 1);
	t_put32(m + at + 6, ttl);
	memset(r->prot + at + 2, 1, 8);		/* type, class, TTL */
	D.rdlen[i] = at + 10;
	t_put16(m + at + 10, (uint32_t)len);
	memcpy(m + at + 12, data, len);
	return at + 12 + len;
}

static bool dns_answer(unsigned ep, const uint8_t *q, size_t n, struct reply *r)
{
	static const uint8_t addr[4] = { 192, 0, 2, 7 };
	uint8_t *m = r->m, cname[7] = { 4, 'h', 'o', 's', 't', 0xc0, 16 },
		ns[5] = { 2, 'n', 's', 0xc0, 16 };
	size_t at = 12, cn;

	(void)ep;
	while (at < n && q[at])
		at += 1 + (size_t)q[at];
	if (n < 12 || at + 5 > n || at - 12 != 16)	/* www.example.org */
		return false;
	D.qname_end = at + 1;
	D.a_moved = false;
	memcpy(m, q, at + 5);
	t_put16(m + 2, 0x8180);		/* QR, RD, RA, NOERROR */
	t_put16(m + 6, 2);
	t_put16(m + 8, 1);
	t_put16(m + 10, 0);
	D.label[0] = 12, D.label[1] = 16, D.label[2] = 24;
	at += 5;
	cn = at + 12;				/* the CNAME's target */
	at = dns_rr(r, at, 0, 12, 5, 600, cname, sizeof(cname));
	memset(r->prot + cn + 1, 1, 4);
	D.label[3] = cn;
	at = dns_rr(r, at, 1, (uint16_t)cn, 1, 300, addr, 4);
	D.a_data = at - 4;
	memset(r->prot + D.a_data, 1, 4);
	at = dns_rr(r, at, 2, 16, 2, 3600, ns, sizeof(ns));
	D.ptr[0] = D.rr[0], D.ptr[1] = cn + 5, D.ptr[2] = D.rr[1], D.ptr[3] = D.rr[2];
	D.ptr[4] = at - 2;
	r->n = at;
	return true;
}

/* A pointer mutation at pointer p: to itself, forward, out of the
 * message, or to another pointer (a chain, perhaps a loop). */
static const char *dns_pointer(struct reply *r)
{
	size_t p = D.ptr[rnd(5)];

	if (p + 2 > r->n)
		return "none (cut)";
	switch (rnd(4)) {
	case 0:
		mut_put16(r, p, (uint16_t)(0xc000u | p));
		return "pointer loop";
	case 1:
		mut_put16(r, p, (uint16_t)(0xc000u | (p + 2 + rnd(r->n - p - 1))));
		return "pointer forward";
	case 2:
		mut_put16(r, p, (uint16_t)(0xc000u | ((r->n + rnd(0x4000 - r->n)) & 0x3fff)));
		return "pointer out";
	default:
		mut_put16(r, p, (uint16_t)(0xc000u | D.ptr[rnd(5)]));
		return "pointer chain";
	}
}

static const char *dns_structural(struct reply *r)
{
	uint8_t *m = r->m;
	size_t at;

	if (r->n < D.rr[2])
		return "none (cut)";
	switch (rnd(12)) {
	case 0:
	case 1:
		at = D.rdlen[D.a_moved ? 2 * rnd(2) : rnd(3)];
		mut_put16(r, at, mut_len16(t_get16(m + at)));
		return "rdlength";
	case 2:
		at = 4 + 2 * rnd(4);
		mut_put16(r, at, mut_len16(t_get16(m + at)));
		return "count";
	case 3:
	case 4:
		return dns_pointer(r);
	case 5:
		m[D.label[rnd(4)]] |= (uint8_t)(rnd(2) ? 0x40 : 0x80);
		return "label bits";
	case 6:
		m[3] = (uint8_t)((m[3] & 0xf0) | (1 + rnd(15)));
		return "rcode";
	case 7:
		m[2] |= 0x02;
		return "TC";
	case 8:
		m[2] = rnd(2) ? (uint8_t)(m[2] & 0x7f) : (uint8_t)(m[2] | (1 + rnd(15)) << 3);
		return "QR or opcode";
	case 9:
		m[rnd(2)] ^= (uint8_t)(1 + rnd(255));
		return "ID";
	case 10:
		mut_put16(r, D.qname_end + 2 * rnd(2), (uint16_t)rnd(256));
		return "question type or class";
	default:
		/* an A record of 3 or 5 bytes: its RDLENGTH says so, and the
		 * records after it move */
		if (rnd(2)) {
			t_put16(m + D.rdlen[1], 3);
			memmove(m + D.a_data + 3, m + D.a_data + 4, r->n - D.a_data - 4);
			r->n--;
		} else if (r->n < REPLY_MAX) {
			t_put16(m + D.rdlen[1], 5);
			memmove(m + D.a_data + 5, m + D.a_data + 4, r->n - D.a_data - 4);
			m[D.a_data + 4] = 0;
			r->n++;
		}
		D.a_moved = true;
		memset(r->prot + D.a_data, 0, 8);	/* positions moved */
		memcpy(r->orig, r->m, r->n);
		return "A of 3 or 5 bytes";
	}
}

static void dns_setup(void)
{
	memset(&dns_res, 0, sizeof(dns_res));
}

static long dns_call(uint64_t timeout_ns)
{
	return cub_dns_lookup(A, IP_B, 0, "www.example.org", timeout_ns, &dns_res);
}

static const char *dns_check(long r)
{
	const struct cub_dns_result *d = &dns_res;

	tcp_used = d->tcp;
	if (verbose && r == 0)
		printf("  %u addresses (%u.%u.%u.%u), TTL %u, canonical \"%s\"\n", d->count,
		       d->addr[0] >> 24, d->addr[0] >> 16 & 255, d->addr[0] >> 8 & 255,
		       d->addr[0] & 255, d->ttl_s, d->canonical);

	if (r == -CUB_ENOENT || r == -CUB_EAGAIN || r == -CUB_EIO || r == -CUB_ECONNREFUSED ||
	    r == -CUB_EMSGSIZE || r == -CUB_ETIMEDOUT)
		return NULL;
	if (r != 0)
		return "an error not documented";
	if (d->count != 1 || d->addr[0] != DNS_ADDR)
		return "addresses other than the answer's";
	if (d->ttl_s != 300)
		return "a TTL other than the answer's";
	/* A pointer mutation may give the alias another, consistent
	 * suffix ("host.www.example.org"): its protected label stays. */
	if (strncmp(d->canonical, "host", 4) != 0 ||
	    (d->canonical[4] != '\0' && d->canonical[4] != '.'))
		return "a canonical name other than the answer's";
	return NULL;
}

static const struct client dns_client = {
	.name = "dns", .port = 53, .setup = dns_setup, .answer = dns_answer,
	.structural = dns_structural, .call = dns_call, .check = dns_check,
};

#endif
