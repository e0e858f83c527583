/*
 * tcp_in.c - TCP input (RFC 9293 3.10.7, with RFC 5961's checks of RST
 * and SYN): header checks and checksum, demultiplexing to a connection,
 * a listener or a RST for a closed port, and the state machine.
 *
 * Invariants: every segment handed in ends in exactly one of tcp_bad
 * (malformed options included), tcp_bad_cksum, tcp_no_port,
 * tcp_backlog_drops, tcp_to_conn; data is taken only within the window
 * (the receive ring's room beyond rcv_nxt) and reaches the reader only
 * in order (tcp_ooo.c keeps what comes early), so rcv_nxt - irs - 1
 * bytes (minus a FIN) were queued, each once; a segment beyond rcv_nxt
 * draws an immediate duplicate ACK (with SACK blocks when agreed). The
 * peer's window is scaled by snd_wscale here (sync_input), except in a
 * SYN. With timestamps agreed, PAWS judges a segment before the
 * sequence check and TS.Recent moves only after it (tcp_ts.c).
 * Contexts: task (the receive coroutine), nif->lock held.
 */
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

static bool tcp_parse(struct cub_netif *nif, const struct cubi_ip4_pkt *p,
		      struct tcp_seg *s)
{
	const uint8_t *h = p->l4;
	size_t off;

	if (p->l4len < TCP_HLEN || p->bcast || !nif->addr)
		goto bad;
	off = (size_t)(h[12] >> 4) * 4;
	if (off < TCP_HLEN || off > p->l4len)
		goto bad;
	if (cubi_cksum_fold(cubi_cksum_pseudo(p->src, p->dst, IP4_PROTO_TCP,
					      (uint16_t)p->l4len) +
			    cubi_cksum_add(0, h, p->l4len)) != 0) {
		nif->st.tcp_bad_cksum++;
		return false;
	}
	s->src = p->src;
	s->dst = p->dst;
	s->sport = get16(h);
	s->dport = get16(h + 2);
	s->seq = get32(h + 4);
	s->ack = get32(h + 8);
	s->flags = h[13] & 0x3f;
	s->wnd = get16(h + 14);
	if (!cubi_tcp_opt_parse(s, h + TCP_HLEN, off - TCP_HLEN))
		goto bad;
	s->data = h + off;
	s->len = (uint32_t)(p->l4len - off);
	s->eth_src = p->frame + ETH_OFF_SRC;
	if (s->sport == 0 || s->dport == 0)
		goto bad;
	return true;
bad:
	nif->st.tcp_bad++;
	return false;
}

/* A SYN to a listener: a child in SYN_RCVD answers with SYN-ACK. */
static void listen_input(struct cub_tcp *l, const struct tcp_seg *s)
{
	struct cub_netif *nif = l->nif;
	struct cub_tcp *c;

	if ((s->flags & (TH_RST | TH_ACK | TH_SYN)) != TH_SYN) {
		nif->st.tcp_to_conn++;
		if ((s->flags & TH_ACK) && !(s->flags & TH_RST))
			cubi_tcp_send_rst_for(nif, s);
		return;
	}
	if (l->nchildren >= l->backlog || !(c = cubi_tcp_alloc(nif, true))) {
		nif->st.tcp_backlog_drops++;
		return;
	}
	nif->st.tcp_to_conn++;
	nif->st.tcp_passive_opens++;
	c->passive = true;
	c->user_mss = l->user_mss;	/* before the SYN's options */
	c->lport = l->lport;
	c->raddr = s->src;
	c->rport = s->sport;
	cub_memcpy(c->mac, s->eth_src, 6);
	c->parent = l;
	cub_list_push_back(&l->children, &c->child_link);
	l->nchildren++;
	c->irs = s->seq;
	c->rcv_nxt = c->rcv_adv = s->seq + 1;
	c->iss = cubi_tcp_iss(nif, c);
	c->ts_off = cubi_tcp_ts_offset(nif, c);
	c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	cubi_tcp_opt_take_syn(c, s);
	cubi_tcp_set_state(c, TCP_SYN_RCVD);
	cubi_tcp_output(c);
}

/* Our SYN's ACK (or the peer's SYN) arrived: synchronised. */
static void synced(struct cub_tcp *c, const struct tcp_seg *s)
{
	c->snd_una = s->ack;
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	/* Timed by the echo when timestamps are agreed (tcp_ts.c). */
	if (!cubi_tcp_ts_rtt(c, s) && c->rtt_on &&
	    SEQ_GEQ(s->ack, c->rtt_seq))
		cubi_tcp_rtt_sample(c, cub_time_now() - c->rtt_start);
	c->rtt_on = false;
	cubi_tcp_cc_init(c);		/* before retries is cleared */
	c->retries = 0;
	c->rtx_at = 0;
	cubi_tcp_set_state(c, TCP_ESTABLISHED);
}

static void syn_sent_input(struct cub_tcp *c, const struct tcp_seg *s)
{
	bool has_ack = s->flags & TH_ACK;

	if (has_ack && (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max))) {
		cubi_tcp_send_rst_for(c->nif, s);
		return;
	}
	if (s->flags & TH_RST) {
		if (has_ack) {
			c->nif->st.tcp_rst_rx++;
			cubi_tcp_reset(c, -CUB_ECONNREFUSED);
		}
		return;
	}
	if (!(s->flags & TH_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = c->rcv_adv = s->seq + 1;
	cubi_tcp_opt_take_syn(c, s);
	if (has_ack) {
		synced(c, s);
		c->ack_now = true;
	} else {			/* simultaneous open: SYN-ACK ours */
		c->snd_wnd = s->wnd;
		c->snd_wl1 = s->seq;
		c->snd_nxt = c->iss;
		cubi_tcp_set_state(c, TCP_SYN_RCVD);
	}
	cubi_tcp_output(c);
}

/* RFC 9293 3.10.7.4's acceptability test; a segment at rcv_nxt into a
 * closed window is kept for its ACK and RST, without data. A segment
 * without data may sit at the window's right edge (as Linux: a sender
 * that filled our window sends its ACKs there). Old bytes at the front
 * (and an old SYN or FIN) are trimmed off. */
static bool seq_ok(struct cub_tcp *c, struct tcp_seg *s)
{
	uint32_t wnd = cubi_tcp_rcv_wnd(c), len = tcp_seglen(s);
	uint32_t nxt = c->rcv_nxt, d;
	bool in = SEQ_LEQ(nxt, s->seq) && SEQ_LT(s->seq, nxt + wnd);

	if (len == 0 && SEQ_LEQ(nxt, s->seq) && SEQ_LEQ(s->seq, nxt + wnd))
		return true;
	if (wnd == 0 && s->seq == nxt) {
		s->len = 0;
		s->flags &= (uint8_t)~(TH_SYN | TH_FIN);
		c->ack_now = len > 0;
		return true;
	}
	if (len == 0 ? !(wnd ? in : s->seq == nxt) :
	    !(wnd && (in || (SEQ_LEQ(nxt, s->seq + len - 1) &&
			     SEQ_LT(s->seq + len - 1, nxt + wnd)))))
		return false;
	if (SEQ_GEQ(s->seq, nxt))
		return true;
	d = nxt - s->seq;		/* old bytes in front */
	c->ack_now = true;
	if (s->flags & TH_SYN) {
		s->flags &= (uint8_t)~TH_SYN;
		s->seq++;
		d--;
	}
	d = CUB_MIN(d, s->len);
	s->data += d;
	s->len -= d;
	s->seq += d;
	return true;
}

/*
 * The peer's RST at rcv_nxt ends the connection (RFC 9293 3.10.7.4). The
 * block is CLOSED before cubi_tcp_reset runs, so no RST answers it (a
 * RST is never answered with one, 3.10.7.1). Bytes already received in
 * order stay readable (as Linux keeps them: recv returns them, then the
 * error), only what waited to be sent and what came out of order go; in
 * ESTABLISHED, FIN_WAIT and CLOSE_WAIT (the peer's FIN before it too)
 * the error is -CUB_ECONNRESET. After both FINs (CLOSING, LAST_ACK,
 * TIME_WAIT) it just ends the block.
 */
static void rst_input(struct cub_tcp *c, const struct tcp_seg *s)
{
	uint32_t kept = c->r_len;
	int err = 0;

	if (s->seq != c->rcv_nxt) {	/* RFC 5961 3.2: challenge ACK */
		c->ack_now = true;
		cubi_tcp_output(c);
		return;
	}
	c->nif->st.tcp_rst_rx++;
	switch (c->state) {
	case TCP_SYN_RCVD:
		err = c->passive ? 0 : -CUB_ECONNREFUSED;
		kept = 0;
		break;
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
		err = -CUB_ECONNRESET;
		break;
	default:			/* CLOSING, LAST_ACK, TIME_WAIT */
		cubi_tcp_set_state(c, TCP_CLOSED);
		return;
	}
	cubi_tcp_set_state(c, TCP_CLOSED);
	cubi_tcp_reset(c, err);		/* CLOSED: sends nothing */
	c->r_len = kept;
}

static void enter_time_wait(struct cub_tcp *c)
{
	cubi_tcp_set_state(c, TCP_TIME_WAIT);
	c->rtx_at = c->persist_at = 0;
	c->close_at = cubi_deadline(cub_time_now(),
				    cubi_tcp_params(c)->time_wait);
	cubi_tcp_timer_kick(c->nif, c->close_at);
}

/* New data acknowledged (by s): free it from the send ring, time,
 * re-arm. */
static void ack_new(struct cub_tcp *c, const struct tcp_seg *s)
{
	uint32_t ack = s->ack, acked = ack - c->snd_una;
	uint32_t data = CUB_MIN(acked, c->s_len);

	c->s_head = (uint32_t)(((uint64_t)c->s_head + data) % c->ssize);
	c->s_len -= data;
	if (acked > data)
		c->fin_acked = true;
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, ack))
		c->snd_nxt = ack;
	/* With timestamps the echo times every flight, resends too. */
	if (!cubi_tcp_ts_rtt(c, s) && c->rtt_on && SEQ_GEQ(ack, c->rtt_seq)) {
		cubi_tcp_rtt_sample(c, cub_time_now() - c->rtt_start);
		c->rtt_on = false;
	}
	c->retries = 0;
	c->dupacks = 0;
	c->rtx_at = 0;
	if (c->snd_una != c->snd_max) {
		c->rtx_at = cubi_deadline(cub_time_now(), c->rto);
		cubi_tcp_timer_kick(c->nif, c->rtx_at);
	}
	cubi_tcp_cc_ack(c, acked);	/* may resend (partial ACK) */
	cubi_tcp_wake(c);		/* room in the send ring */
}

/* A duplicate ACK (RFC 5681 2: nothing new acked, no data, same
 * window, data outstanding): counted for fast retransmit (tcp_cc.c). */
static void ack_dup(struct cub_tcp *c, const struct tcp_seg *s)
{
	if (s->ack != c->snd_una || s->len || (s->flags & TH_FIN) ||
	    s->wnd != c->snd_wnd || c->snd_una == c->snd_max) {
		c->dupacks = 0;
		return;
	}
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	cubi_tcp_cc_dupack(c);
}

/* The ACK field; false when the segment is to be dropped. */
static bool ack_input(struct cub_tcp *c, const struct tcp_seg *s)
{
	if (c->state == TCP_SYN_RCVD) {
		if (SEQ_LEQ(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max)) {
			cubi_tcp_send_rst_for(c->nif, s);
			return false;
		}
		synced(c, s);
		return true;
	}
	if (SEQ_GT(s->ack, c->snd_max)) {
		c->ack_now = true;	/* acks what we never sent */
		cubi_tcp_output(c);
		return false;
	}
	cubi_tcp_sack_input(c, s);
	if (SEQ_GT(s->ack, c->snd_una))
		ack_new(c, s);
	else
		ack_dup(c, s);
	if (SEQ_LT(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		if (s->wnd > c->snd_wnd)
			cubi_tcp_wake(c);
		c->snd_wnd = s->wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	if (c->persist_at)
		c->retries = 0;		/* the peer answers our probes */
	if (!c->fin_acked)
		return true;
	if (c->state == TCP_FIN_WAIT_1) {
		cubi_tcp_set_state(c, TCP_FIN_WAIT_2);
		if (tcp_orphan(c)) {
			c->close_at = cubi_deadline(cub_time_now(),
					cubi_tcp_params(c)->fin_timeout);
			cubi_tcp_timer_kick(c->nif, c->close_at);
		}
	} else if (c->state == TCP_CLOSING) {
		enter_time_wait(c);
	} else if (c->state == TCP_LAST_ACK) {
		cubi_tcp_set_state(c, TCP_CLOSED);
		return false;
	}
	return true;
}

/* Payload (and a FIN beyond rcv_nxt) into the receive ring (tcp_ooo.c);
 * an empty FIN at rcv_nxt is left to fin_input. */
static void data_input(struct cub_tcp *c, struct tcp_seg *s)
{
	if (s->len == 0 && (!(s->flags & TH_FIN) || s->seq == c->rcv_nxt))
		return;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 &&
	    c->state != TCP_FIN_WAIT_2) {
		s->flags &= (uint8_t)~TH_FIN;	/* after their FIN: ignored */
		return;
	}
	if (s->len && tcp_orphan(c)) {	/* closed: nobody reads */
		cubi_tcp_reset(c, 0);
		return;
	}
	/* Both directions shut by the user (cub_tcp_shutdown_recv, then our
	 * FIN): new data has no reader either, and the peer is told, as
	 * Linux does (RFC 1122 4.2.2.13); before our FIN it is queued. */
	if (s->len && c->rd_shut && c->state != TCP_ESTABLISHED) {
		cubi_tcp_reset(c, -CUB_ECONNRESET);
		return;
	}
	cubi_tcp_rcv_data(c, s);
}

static void fin_input(struct cub_tcp *c, const struct tcp_seg *s)
{
	if (!cubi_tcp_fin_due(c, s))
		return;
	c->fin_ooo = false;
	c->rcv_nxt++;
	c->fin_rcvd = true;
	c->ack_now = true;
	switch (c->state) {
	case TCP_ESTABLISHED:
		cubi_tcp_set_state(c, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT_1:
		if (c->fin_acked)
			enter_time_wait(c);
		else
			cubi_tcp_set_state(c, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT_2:
	case TCP_TIME_WAIT:
		enter_time_wait(c);
		break;
	default:
		break;
	}
	cubi_tcp_wake(c);
}

/* Every state after SYN_SENT. */
static void sync_input(struct cub_tcp *c, struct tcp_seg *s)
{
	uint32_t seq = s->seq;		/* before seq_ok trims it */

	if (c->state == TCP_SYN_RCVD && (s->flags & TH_SYN) &&
	    !(s->flags & TH_ACK) && s->seq == c->irs) {
		c->snd_nxt = c->iss;	/* our SYN-ACK was lost: again */
		cubi_tcp_output(c);
		return;
	}
	if (!(s->flags & TH_SYN))
		s->wnd <<= c->snd_wscale;	/* RFC 7323 2.3 */
	if (!cubi_tcp_ts_check(c, s))
		return;				/* PAWS (tcp_ts.c) */
	if (!seq_ok(c, s)) {
		c->nif->st.tcp_dup++;
		if (c->state == TCP_TIME_WAIT && (s->flags & TH_FIN))
			enter_time_wait(c);	/* our last ACK was lost */
		/* ACK it (the sender learns where we are), except a RST or
		 * an empty segment beyond the window: answering that could
		 * start an ACK war with a confused peer. */
		if (!(s->flags & TH_RST) &&
		    (tcp_seglen(s) || SEQ_LT(s->seq, c->rcv_nxt))) {
			c->ack_now = true;
			cubi_tcp_output(c);
		}
		return;
	}
	cubi_tcp_ts_update(c, s, seq);
	if (s->flags & TH_RST) {
		rst_input(c, s);
		return;
	}
	if ((s->flags & TH_SYN) || !(s->flags & TH_ACK)) {
		if (s->flags & TH_SYN) {	/* RFC 5961 4.2 */
			c->ack_now = true;
			cubi_tcp_output(c);
		}
		return;
	}
	if (!ack_input(c, s))
		return;
	data_input(c, s);
	if (c->state == TCP_CLOSED)
		return;
	fin_input(c, s);
	cubi_tcp_output(c);
}

/* Contexts: task, nif->lock held. */
void cubi_tcp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct tcp_seg s;
	struct cub_tcp *c;

	nif->st.tcp_rx++;
	if (!tcp_parse(nif, p, &s))
		return;
	c = cubi_tcp_find(nif, s.src, s.sport, s.dport);
	if (!c) {
		struct cub_tcp *l = cubi_tcp_find_listener(nif, s.dport);

		if (l) {
			listen_input(l, &s);
			return;
		}
		nif->st.tcp_no_port++;
		cubi_tcp_send_rst_for(nif, &s);
		return;
	}
	nif->st.tcp_to_conn++;
	if (c->state == TCP_SYN_SENT)
		syn_sent_input(c, &s);
	else
		sync_input(c, &s);
	cubi_tcp_ka_heard(c);
	cubi_tcp_maybe_free(c);
}
