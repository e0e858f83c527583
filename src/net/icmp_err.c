/*
 * icmp_err.c - ICMP errors (RFC 792; RFC 1122 3.2.2.1, 4.1.3.3,
 * 4.2.3.9): destination unreachable and time exceeded about a datagram
 * we sent, matched to the UDP endpoint or TCP connection it came from;
 * and the rate limit of the errors we send.
 *
 * An error carries the offending datagram's IPv4 header and at least 8
 * bytes after it (the ports, TCP's sequence number). It is believed
 * only when all of that is there (the quoted header's own length,
 * version 4, IHL >= 5), the quoted datagram is ours (its source our
 * address) and a first fragment (offset 0: the ports are in it);
 * otherwise it is dropped (icmp_err_bad). UDP and TCP then look for the
 * endpoint or connection by the quoted addresses and ports (and, TCP, a
 * sequence number in flight); none: icmp_err_unmatched. What each does
 * with it: udp.c (a connected endpoint's next call; the payload
 * quoted past the UDP header, when it is, checked against what the
 * endpoint's owner expects there: the DNS query's ID), tcp_keep.c
 * (connect refused, or a soft error) and, for "fragmentation needed"
 * (type 3 code 4) about TCP, tcp_pmtu.c with the next-hop MTU (the
 * ICMP header's bytes 6-7, RFC 1191 4) and the quoted datagram's total
 * length (path MTU discovery).
 *
 * Meaning of a code (Linux's icmp_err_convert, simplified): port and
 * protocol unreachable -CUB_ECONNREFUSED (hard); net unreachable
 * (codes 0, 6, 9, 11) -CUB_ENETUNREACH; fragmentation needed
 * -CUB_EMSGSIZE; any other unreachable code and time exceeded
 * -CUB_EHOSTUNREACH (soft).
 *
 * Rate limit: a token bucket per interface, ICMP_TB_BURST tokens, one
 * more every ICMP_TB_NS (100 per second); each error we send takes one
 * or is not sent: a port unreachable (icmp_unreach_limited) and a
 * reassembly time exceeded (ip_reasm_icmp_limited; icmp.c) share it.
 * Errors are never sent about broadcasts (udp.c, icmp.c) nor about
 * ICMP errors (UDP sends port unreachables; icmp.c checks the type of
 * a timed-out ICMP datagram).
 *
 * Locking: all under nif->lock (cubi_icmp_input's caller holds it).
 */
#include <cubrt/time.h>

#include "tcp_impl.h"

#define ICMP_TB_BURST 10u
#define ICMP_TB_NS (10ull * 1000 * 1000)	/* 100 tokens a second */
#define IP4_MIN_HLEN 20
#define QUOTE_L4 8				/* bytes quoted past the header */

/* What an error means (0: a kind we do not take). */
static int icmp_meaning(uint8_t type, uint8_t code, bool *hard)
{
	*hard = false;
	if (type == ICMP_TIME_EXCEEDED)
		return code <= 1 ? -CUB_EHOSTUNREACH : 0;
	switch (code) {
	case 2: case 3:
		*hard = true;
		return -CUB_ECONNREFUSED;
	case 0: case 6: case 9: case 11:
		return -CUB_ENETUNREACH;
	case 4:
		return -CUB_EMSGSIZE;
	default:
		return code <= 15 ? -CUB_EHOSTUNREACH : 0;
	}
}

/* The quoted datagram q (qlen bytes): its header length when it is a
 * sound first fragment from us with 8 bytes past its header, else 0. */
static size_t quote_check(const struct cub_netif *nif, const uint8_t *q,
			  size_t qlen)
{
	size_t ihl;

	if (qlen < IP4_MIN_HLEN || (q[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(q[0] & 0x0f) * 4;
	if (ihl < IP4_MIN_HLEN || qlen < ihl + QUOTE_L4)
		return 0;
	if (get32(q + 12) != nif->addr || (get16(q + 6) & 0x1fff))
		return 0;
	return ihl;
}

/* The bytes of the quoted datagram q (qlen bytes, header ihl: checked
 * by quote_check) past its first 8 after the header, bounded by its own
 * total length (an error may be padded). */
static size_t quote_payload(const uint8_t *q, size_t qlen, size_t ihl)
{
	size_t total = CUB_MIN(qlen, (size_t)get16(q + 2));

	return total > ihl + QUOTE_L4 ? total - ihl - QUOTE_L4 : 0;
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_error_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct cub_netif_stats *st = &nif->st;
	const uint8_t *q = p->l4 + ICMP_HLEN;
	size_t ihl = quote_check(nif, q, p->l4len - ICMP_HLEN);
	bool hard;
	int err = icmp_meaning(p->l4[0], p->l4[1], &hard), r = -1;
	cub_ip4_t dst;

	if (!ihl || !err) {
		st->icmp_err_bad++;
		return;
	}
	dst = get32(q + 16);
	if (q[9] == IP4_PROTO_UDP)
		r = cubi_udp_icmp_error(nif, dst, get16(q + ihl + 2), get16(q + ihl),
					q + ihl + QUOTE_L4,
					quote_payload(q, p->l4len - ICMP_HLEN, ihl), err);
	else if (q[9] == IP4_PROTO_TCP && err == -CUB_EMSGSIZE)
		r = cubi_tcp_icmp_too_big(nif, dst, get16(q + ihl + 2),
					  get16(q + ihl), get32(q + ihl + 4),
					  get16(p->l4 + 6), get16(q + 2));
	else if (q[9] == IP4_PROTO_TCP)
		r = cubi_tcp_icmp_error(nif, dst, get16(q + ihl + 2),
					get16(q + ihl), get32(q + ihl + 4),
					err, hard);
	if (r < 0)
		st->icmp_err_unmatched++;
	else if (r == 0)
		st->icmp_err_ignored++;
	else
		st->icmp_err_reported++;
}

/* Contexts: task, nif->lock held. */
bool cubi_icmp_err_token(struct cub_netif *nif)
{
	uint64_t now = cub_time_now(), n;

	if (!nif->unreach_at) {		/* the first: a full bucket */
		nif->unreach_at = now;
		nif->unreach_tokens = ICMP_TB_BURST;
	}
	n = (now - nif->unreach_at) / ICMP_TB_NS;
	if (n) {
		nif->unreach_tokens = (unsigned)CUB_MIN(nif->unreach_tokens + n,
						(uint64_t)ICMP_TB_BURST);
		nif->unreach_at = n >= ICMP_TB_BURST ? now :
				  nif->unreach_at + n * ICMP_TB_NS;
	}
	if (!nif->unreach_tokens)
		return false;
	nif->unreach_tokens--;
	return true;
}
