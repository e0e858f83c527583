/*
 * tcp_opt.c - TCP options (RFC 9293 3.1, RFC 7323 2, RFC 2018): parsing
 * a segment's list and building ours.
 *
 * Known kinds: 0 end, 1 NOP, 2 MSS (length 4), 3 window scale (3),
 * 4 SACK-permitted (2), 5 SACK (2 + 8 n, 1 <= n <= 4), 8 timestamps
 * (10: TSval, TSecr). Other kinds are skipped by their length.
 * Invariants: parsing never reads o[len] or beyond: every length byte is
 * checked to be present and every option to end within the list; a
 * list that breaks either rule, or a known kind with another length, is
 * malformed and the segment is dropped (tcp_bad), nothing of it used.
 * Building: at most TCP_OPT_MAX bytes, a multiple of 4; timestamps
 * (NOP, NOP, TS: 12 bytes) come first, SACK blocks take what is left
 * (4 blocks alone, 3 beside timestamps). Contexts: task, nif->lock held
 * (any for the pure helpers).
 */
#include <cubrt/string.h>

#include "tcp_impl.h"

enum {
	OPT_END = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WS = 3,
	OPT_SACK_OK = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

/* One option of kind o[0] and length n (checked to fit) into s. */
static bool parse_one(struct tcp_seg *s, const uint8_t *o, size_t n)
{
	switch (o[0]) {
	case OPT_MSS:
		if (n != 4)
			return false;
		s->mss = get16(o + 2);
		return true;
	case OPT_WS:
		if (n != 3)
			return false;
		s->ws = (int8_t)CUB_MIN(o[2], TCP_WS_MAX);
		return true;
	case OPT_SACK_OK:
		if (n != 2)
			return false;
		s->sack_ok = true;
		return true;
	case OPT_SACK:
		if (n < 10 || (n - 2) % 8 || (n - 2) / 8 > TCP_SACK_BLOCKS)
			return false;
		s->nsack = (uint8_t)((n - 2) / 8);
		for (unsigned i = 0; i < s->nsack; i++) {
			s->sack[i].start = get32(o + 2 + 8 * i);
			s->sack[i].end = get32(o + 6 + 8 * i);
		}
		return true;
	case OPT_TS:
		if (n != 10)
			return false;
		s->ts = true;
		s->tsval = get32(o + 2);
		s->tsecr = get32(o + 6);
		return true;
	default:
		return true;
	}
}

bool cubi_tcp_opt_parse(struct tcp_seg *s, const uint8_t *o, size_t len)
{
	size_t i = 0;

	s->mss = 0;
	s->ws = -1;
	s->sack_ok = false;
	s->nsack = 0;
	s->ts = false;
	while (i < len && o[i] != OPT_END) {
		size_t n;

		if (o[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;	/* no length byte */
		n = o[i + 1];
		if (n < 2 || n > len - i)
			return false;	/* runs past the header */
		if (!parse_one(s, o + i, n))
			return false;
		i += n;
	}
	return true;
}

uint8_t cubi_tcp_wscale_for(uint32_t rsize)
{
	uint8_t sh = 0;

	while (sh < TCP_WS_MAX && (rsize >> sh) > 65535u)
		sh++;
	return sh;
}

/* NOP, NOP, timestamps: TSval now and TSecr (RFC 7323 3.2). */
static size_t build_ts(const struct cub_tcp *c, uint32_t ecr, uint8_t *o)
{
	o[0] = OPT_NOP;
	o[1] = OPT_NOP;
	o[2] = OPT_TS;
	o[3] = 10;
	put32(o + 4, cubi_tcp_ts_now(c));
	put32(o + 8, ecr);
	return TCP_TS_OPTLEN;
}

/* A SYN's TSecr is 0 (no ACK); a SYN-ACK echoes the SYN's TSval. */
static size_t build_syn(const struct cub_tcp *c, bool synack, uint8_t *o)
{
	size_t n = 0;

	o[n++] = OPT_MSS;
	o[n++] = 4;
	put16(o + n, c->user_mss ? CUB_MIN(c->user_mss, CUB_TCP_MSS)
				 : CUB_TCP_MSS);
	n += 2;
	if (!synack || c->sack_ok) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_NOP;
		o[n++] = OPT_SACK_OK;
		o[n++] = 2;
	}
	if (!synack || c->ws_ok) {
		o[n++] = OPT_NOP;
		o[n++] = OPT_WS;
		o[n++] = 3;
		o[n++] = c->rcv_wscale;
	}
	if (synack ? c->ts_ok : c->ts_offer)
		n += build_ts(c, synack ? c->ts_recent : 0, o + n);
	return n;
}

unsigned cubi_tcp_sack_room(const struct cub_tcp *c)
{
	return c->ts_ok ? TCP_SACK_BLOCKS_TS : TCP_SACK_BLOCKS;
}

size_t cubi_tcp_opt_build(const struct cub_tcp *c, uint8_t flags,
			  const struct tcp_range *sack, unsigned nsack,
			  uint8_t *o)
{
	size_t n = 0;

	if (flags & TH_SYN)
		return build_syn(c, (flags & TH_ACK) != 0, o);
	if (c->ts_ok)
		n = build_ts(c, (flags & TH_ACK) ? c->ts_recent : 0, o);
	if (!nsack)
		return n;
	nsack = CUB_MIN(nsack, cubi_tcp_sack_room(c));
	o[n++] = OPT_NOP;
	o[n++] = OPT_NOP;
	o[n++] = OPT_SACK;
	o[n++] = (uint8_t)(2 + 8 * nsack);
	for (unsigned i = 0; i < nsack; i++) {
		put32(o + n, sack[i].start);
		put32(o + n + 4, sack[i].end);
		n += 8;
	}
	return n;
}

/* Contexts: task, nif->lock held; c's SYN not yet answered. */
void cubi_tcp_opt_take_syn(struct cub_tcp *c, const struct tcp_seg *s)
{
	uint16_t m = s->mss ? s->mss : TCP_DEFAULT_MSS;

	if (c->user_mss && c->user_mss < m)
		m = c->user_mss;	/* TCP_MAXSEG's bound, as Linux */
	c->peer_mss = (uint16_t)CUB_MAX(CUB_MIN(m, CUB_TCP_MSS), 64);
	cubi_tcp_pmtu_start(c);		/* the cache, an ICMP about our SYN */
	c->ws_ok = s->ws >= 0;
	c->snd_wscale = c->ws_ok ? (uint8_t)s->ws : 0;
	c->rcv_wscale = c->ws_ok ? cubi_tcp_wscale_for(c->rsize) : 0;
	c->sack_ok = s->sack_ok;
	cubi_tcp_ts_take_syn(c, s);
}
