/*
 * tcp_out.c - TCP output: segments built on the caller's stack (one
 * frame, the payload copied from the send ring), what is due to be sent
 * (SYN, data within the peer's window, FIN, ACKs), resets, the
 * advertised window with receiver-side silly window avoidance (RFC 9293
 * 3.8.6.2.2) and window scaling (RFC 7323 2), timestamps (RFC 7323 3,
 * tcp_ts.c), SACK blocks in ACKs and data segments while out-of-order
 * data is held (RFC 2018), resending from any point for recovery, and
 * RTO estimation (RFC 6298).
 *
 * Invariants: we never advertise a right edge (rcv_adv) left of one we
 * advertised before (a scaled window is rounded down when the edge
 * moves, up when it must stay); the window of a SYN is never scaled;
 * the options of a segment fit TCP_OPT_MAX and its payload is at most
 * snd_mss less their length (seg_max), so a frame never exceeds the
 * path MTU as known (snd_mss <= pmtu - 40, tcp_pmtu.c); every segment
 * carries DF unless the path reported an MTU below the floor; an ACK owed for out-of-order data goes out empty before any data
 * (the peer counts only empty ones as duplicate ACKs, RFC 5681 2), and
 * data sent while holes remain carries the SACK blocks too; every
 * segment that carries an ACK records it as Last.ACK.sent (tcp_ts.c);
 * every segment that occupies sequence space leaves with the
 * retransmission timer armed; a send refused by the driver is counted
 * (tx_errors) and treated as lost on the wire: the timer sends it
 * again. Contexts: task, nif->lock held.
 */
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

struct tcp_hdr {
	cub_ip4_t dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t optlen;			/* bytes of opt (a multiple of 4) */
	bool nodf;			/* without DF (tcp_pmtu.c's floor) */
	uint8_t opt[TCP_OPT_MAX];
};

/* Copies len bytes of the send ring from offset off (from s_head). */
static void ring_copy_out(const struct cub_tcp *c, uint8_t *to, uint32_t off,
			  uint32_t len)
{
	uint32_t at = (uint32_t)(((uint64_t)c->s_head + off) % c->ssize);
	uint32_t first = CUB_MIN(len, c->ssize - at);

	cub_memcpy(to, c->sbuf + at, first);
	cub_memcpy(to + first, c->sbuf, len - first);
}

/* Builds and sends one segment; c (may be NULL) provides len bytes of
 * payload from send-ring offset off. Returns 0 or the send's error. */
static int tcp_xmit(struct cub_netif *nif, const uint8_t mac[6],
		    const struct tcp_hdr *h, const struct cub_tcp *c,
		    uint32_t off, uint32_t len)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	uint8_t *t = f + NET_L4_OFF;
	size_t hl = TCP_HLEN + h->optlen;
	int r;

	put16(t, h->sport);
	put16(t + 2, h->dport);
	put32(t + 4, h->seq);
	put32(t + 8, h->ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = h->flags;
	put16(t + 14, h->wnd);
	put32(t + 16, 0);		/* checksum, urgent pointer */
	cub_memcpy(t + TCP_HLEN, h->opt, h->optlen);
	if (len)
		ring_copy_out(c, t + hl, off, len);
	put16(t + 16, cubi_cksum_fold(cubi_cksum_pseudo(nif->addr, h->dst,
							IP4_PROTO_TCP,
							(uint16_t)(hl + len)) +
				      cubi_cksum_add(0, t, hl + len)));
	r = cubi_ip4_output_df(nif, f, hl + len, mac, h->dst, IP4_PROTO_TCP,
			       !h->nodf);
	if (r == 0) {
		nif->st.tcp_tx++;
		if (h->flags & TH_RST)
			nif->st.tcp_rst_tx++;
	}
	return r;
}

uint32_t cubi_tcp_rcv_wnd(const struct cub_tcp *c)
{
	return CUB_MIN(c->rsize - c->r_len, 65535u << c->rcv_wscale);
}

/* The window field to advertise: the free space (rounded down to the
 * scale), except that the right edge only moves by at least min(half
 * the ring, an MSS) (no silly window); when it stays, the old edge is
 * rounded up so that it never moves left. A SYN's is not scaled. */
static uint16_t tcp_adv_wnd(struct cub_tcp *c, bool syn)
{
	uint8_t sh = syn ? 0 : c->rcv_wscale;
	uint32_t free = CUB_MIN(cubi_tcp_rcv_wnd(c), 65535u << sh);
	uint32_t edge, step = CUB_MIN(c->rsize / 2, (uint32_t)CUB_TCP_MSS);

	free = free >> sh << sh;
	edge = c->rcv_nxt + free;
	if (SEQ_GEQ(c->rcv_adv, c->rcv_nxt) &&
	    SEQ_LT(edge, c->rcv_adv + step)) {
		uint32_t w = c->rcv_adv - c->rcv_nxt;
		uint32_t f = CUB_MIN((w + (1u << sh) - 1) >> sh, 65535u);

		c->rcv_adv = c->rcv_nxt + (f << sh);
		return (uint16_t)f;
	}
	c->rcv_adv = edge;
	return (uint16_t)(free >> sh);
}

static void hdr_of(struct cub_tcp *c, struct tcp_hdr *h, uint32_t seq,
		   uint8_t flags)
{
	struct tcp_range b[TCP_SACK_BLOCKS];
	unsigned nb = 0;

	h->dst = c->raddr;
	h->sport = c->lport;
	h->dport = c->rport;
	h->seq = seq;
	h->flags = flags;
	h->nodf = c->pmtu_nodf;
	h->ack = (flags & TH_ACK) ? c->rcv_nxt : 0;
	h->wnd = (flags & TH_RST) ? 0 : tcp_adv_wnd(c, flags & TH_SYN);
	if ((flags & TH_ACK) && !(flags & (TH_SYN | TH_RST)) && c->sack_ok)
		nb = cubi_tcp_ooo_blocks(c, b, cubi_tcp_sack_room(c));
	h->optlen = (uint8_t)cubi_tcp_opt_build(c, flags, b, nb, h->opt);
	if (flags & TH_ACK)
		c->ts_last_ack = h->ack;	/* Last.ACK.sent (tcp_ts.c) */
}

/* The payload a data segment may carry now: the peer's MSS less the
 * options it will carry (RFC 6691): timestamps, and SACK blocks while
 * out-of-order data is held. */
static uint32_t seg_max(const struct cub_tcp *c)
{
	uint32_t o = c->ts_ok ? TCP_TS_OPTLEN : 0;

	if (c->sack_ok && c->nooo)
		o += 4 + 8 * CUB_MIN((unsigned)c->nooo, cubi_tcp_sack_room(c));
	return c->snd_mss - o;
}

void cubi_tcp_send_ctl(struct cub_tcp *c, uint32_t seq, uint8_t flags)
{
	struct tcp_hdr h;

	hdr_of(c, &h, seq, flags);
	tcp_xmit(c->nif, c->mac, &h, NULL, 0, 0);
}

void cubi_tcp_send_rst_for(struct cub_netif *nif, const struct tcp_seg *s)
{
	struct tcp_hdr h = { .dst = s->src, .sport = s->dport,
			     .dport = s->sport, .optlen = 0 };

	if (s->flags & TH_RST)
		return;			/* never answer a RST */
	if (s->flags & TH_ACK) {
		h.seq = s->ack;
		h.flags = TH_RST;
	} else {
		h.ack = s->seq + tcp_seglen(s);
		h.flags = TH_RST | TH_ACK;
	}
	tcp_xmit(nif, s->eth_src, &h, NULL, 0, 0);
}

/* The sequence number of an empty segment: the highest we sent, kept
 * within the peer's window (as Linux's tcp_acceptable_seq), so that it
 * is acceptable to the peer even while we resend from snd_una. */
static uint32_t ctl_seq(const struct cub_tcp *c)
{
	uint32_t end = c->snd_una + c->snd_wnd;

	if (SEQ_LEQ(c->snd_max, end))
		return c->snd_max;
	return SEQ_GT(end, c->snd_nxt) ? end : c->snd_nxt;
}

static void arm_rtx(struct cub_tcp *c)
{
	if (c->rtx_at)
		return;
	c->rtx_at = cubi_deadline(cub_time_now(), c->rto);
	cubi_tcp_timer_kick(c->nif, c->rtx_at);
}

/* Sends (or resends) SYN / SYN-ACK when snd_nxt is back at iss. */
static void output_syn(struct cub_tcp *c)
{
	uint8_t flags = c->state == TCP_SYN_RCVD ? TH_SYN | TH_ACK : TH_SYN;

	if (c->snd_nxt == c->iss) {
		if (SEQ_LT(c->snd_nxt, c->snd_max)) {
			c->nif->st.tcp_retransmits++;
			c->rexmits++;
		}
		cubi_tcp_send_ctl(c, c->iss, flags);
		c->snd_nxt = c->iss + 1;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!c->rtt_on && c->retries == 0) {
			c->rtt_on = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start = cub_time_now();
		}
		arm_rtx(c);
	} else if (c->ack_now) {
		cubi_tcp_send_ctl(c, c->snd_nxt, TH_ACK);
	}
	c->ack_now = false;
}

/* Sends one segment of n bytes (and FIN when fin) at snd_nxt. */
static int output_one(struct cub_tcp *c, uint32_t n, bool fin)
{
	struct tcp_hdr h;
	uint32_t off = c->snd_nxt - c->snd_una;
	bool fresh = SEQ_GEQ(c->snd_nxt, c->snd_max);
	int r;

	hdr_of(c, &h, c->snd_nxt, (uint8_t)(TH_ACK | (fin ? TH_FIN : 0) |
					    (n ? TH_PSH : 0)));
	r = tcp_xmit(c->nif, c->mac, &h, c, off, n);
	if (fresh) {
		c->nif->st.tcp_bytes_tx += n;
		if (!c->rtt_on) {
			c->rtt_on = true;
			c->rtt_seq = c->snd_nxt + n + fin;
			c->rtt_start = cub_time_now();
		}
	} else {
		c->nif->st.tcp_retransmits++;
		c->rexmits++;
	}
	c->snd_nxt += n + fin;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	arm_rtx(c);
	return r;
}

static bool fin_state(const struct cub_tcp *c)
{
	return c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING ||
	       c->state == TCP_LAST_ACK;
}

uint32_t cubi_tcp_resend(struct cub_tcp *c, uint32_t seq, uint32_t max)
{
	struct tcp_hdr h;
	uint32_t out = c->snd_nxt - c->snd_una, off = seq - c->snd_una;
	uint32_t n, data;
	bool fin;

	if (off >= out)
		return 0;		/* nothing sent yet: output sends it */
	data = off < c->s_len ? CUB_MIN(c->s_len, out) - off : 0;
	n = CUB_MIN(CUB_MIN(data, max), seg_max(c));
	fin = fin_state(c) && !c->fin_acked && off + n == c->s_len &&
	      out == c->s_len + 1;
	if (n == 0 && !fin)
		return 0;
	hdr_of(c, &h, seq, (uint8_t)(TH_ACK | (fin ? TH_FIN : 0) |
				     (n ? TH_PSH : 0)));
	tcp_xmit(c->nif, c->mac, &h, c, off, n);
	c->nif->st.tcp_retransmits++;
	c->rexmits++;
	arm_rtx(c);
	return n + fin;
}

void cubi_tcp_resend_first(struct cub_tcp *c)
{
	(void)cubi_tcp_resend(c, c->snd_una, UINT32_MAX);
}

/* Data (and FIN) within the peer's window and the congestion window
 * (RFC 5681: at most min(cwnd, snd_wnd) beyond snd_una); true when
 * anything left. */
static bool output_data(struct cub_tcp *c)
{
	bool sent = false;

	for (;;) {
		uint32_t out = c->snd_nxt - c->snd_una;
		uint32_t unsent = out < c->s_len ? c->s_len - out : 0;
		uint32_t room = CUB_MIN(c->snd_wnd > out ? c->snd_wnd - out : 0,
					cubi_tcp_cc_room(c));
		uint32_t mss = seg_max(c);
		uint32_t n = CUB_MIN(CUB_MIN(unsent, room), mss);
		bool fin = fin_state(c) && !c->fin_acked && n == unsent &&
			   out <= c->s_len;

		if (n == 0 && !fin)
			break;
		/* No runt segment only because cwnd (not the peer) limits:
		 * an ACK will open it (out > 0, so one is coming). */
		if (n < mss && n < unsent && c->cwnd < c->snd_wnd &&
		    out > 0)
			break;
		sent = true;
		if (output_one(c, n, fin) < 0 || fin)
			break;		/* refused: the timer resends */
	}
	return sent;
}

/* The persist timer runs while the peer's window is closed, something
 * waits to be sent and nothing is in flight to draw an ACK. */
static void update_persist(struct cub_tcp *c)
{
	uint32_t out = c->snd_nxt - c->snd_una;

	if (c->snd_wnd == 0 && out == 0 && c->s_len > 0) {
		if (!c->persist_at) {
			uint64_t d = CUB_MIN(c->rto << c->probe_shift,
					     cubi_tcp_params(c)->rto_max);

			c->persist_at = cubi_deadline(cub_time_now(), d);
			cubi_tcp_timer_kick(c->nif, c->persist_at);
		}
	} else {
		c->persist_at = 0;
		if (c->snd_wnd) {
			c->probe_shift = 0;
			c->zw_probes = 0;
		}
	}
}

void cubi_tcp_output(struct cub_tcp *c)
{
	switch (c->state) {
	case TCP_CLOSED:
	case TCP_LISTEN:
		return;
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
		output_syn(c);
		return;
	case TCP_TIME_WAIT:
		if (c->ack_now)
			cubi_tcp_send_ctl(c, ctl_seq(c), TH_ACK);
		c->ack_now = false;
		return;
	default:
		break;
	}
	if (c->ack_now && c->sack_ok && c->nooo) {
		cubi_tcp_send_ctl(c, ctl_seq(c), TH_ACK);	/* dup ACK */
		c->ack_now = false;
	}
	if (!output_data(c) && c->ack_now)
		cubi_tcp_send_ctl(c, ctl_seq(c), TH_ACK);
	c->ack_now = false;
	update_persist(c);
}

void cubi_tcp_reset(struct cub_tcp *c, int err)
{
	if (c->state != TCP_CLOSED && c->state != TCP_LISTEN &&
	    c->state != TCP_SYN_SENT && c->state != TCP_TIME_WAIT)
		cubi_tcp_send_ctl(c, ctl_seq(c), TH_RST | TH_ACK);
	if (err)
		c->err = err;
	c->r_len = 0;
	c->s_len = 0;
	cubi_tcp_ooo_clear(c);
	cubi_tcp_sack_clear(c);
	cubi_tcp_set_state(c, TCP_CLOSED);
}

void cubi_tcp_rtt_sample(struct cub_tcp *c, uint64_t r)
{
	const struct cub_tcp_params *p = cubi_tcp_params(c);
	const uint64_t g = 1000 * 1000;	/* clock granularity we assume */
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (c->srtt == 0) {
		c->srtt = r;
		c->rttvar = r / 2;
	} else {
		uint64_t d = c->srtt > r ? c->srtt - r : r - c->srtt;

		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	rto = c->srtt + CUB_MAX(g, 4 * c->rttvar);
	c->rto = CUB_MIN(CUB_MAX(rto, p->rto_min), p->rto_max);
}
