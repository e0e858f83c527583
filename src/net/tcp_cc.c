/*
 * tcp_cc.c - TCP congestion control of the sender (RFC 5681): an
 * initial window of RFC 6928, slow start with appropriate byte counting
 * (RFC 3465, L = 2 * MSS), congestion avoidance (one MSS per window of
 * ACKed bytes), fast retransmit and fast recovery with NewReno's partial
 * ACKs (RFC 6582), and the loss window after a retransmission timeout.
 * When both ends agreed on SACK, fast recovery follows RFC 6675
 * instead: cwnd = ssthresh, no inflation, and every ACK in recovery
 * resends holes the scoreboard shows while pipe leaves room
 * (tcp_sack.c); new data goes out as cwnd - pipe allows.
 *
 * Invariants: once synchronised, snd_mss <= cwnd <= CC_CWND_MAX and
 * 2 * snd_mss <= ssthresh; in_recovery only while snd_una is before
 * recover (the snd_max of the fast retransmit); tcp_out.c sends at most
 * min(cwnd, snd_wnd) bytes beyond snd_una. Contexts: task, nif->lock held.
 */
#include "tcp_impl.h"

/* cwnd never needs to exceed what the send ring can have in flight;
 * the bound also keeps the additions below from wrapping. */
#define CC_CWND_MAX(c) (2u * (c)->ssize)

static uint32_t flight(const struct cub_tcp *c)
{
	return c->snd_max - c->snd_una;
}

static void cwnd_add(struct cub_tcp *c, uint32_t n)
{
	c->cwnd = CUB_MIN(c->cwnd + n, CC_CWND_MAX(c));
}

/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS). */
static void halve(struct cub_tcp *c)
{
	c->ssthresh = CUB_MAX(flight(c) / 2, 2u * c->snd_mss);
}

void cubi_tcp_cc_init(struct cub_tcp *c)
{
	uint32_t mss = c->snd_mss;

	/* RFC 6928: min(10 * MSS, max(2 * MSS, 14600)); one MSS when the
	 * SYN or SYN-ACK timed out (retries, not yet cleared: RFC 6928 2,
	 * RFC 5681 3.1). */
	c->cwnd = CUB_MIN(10 * mss, CUB_MAX(2 * mss, 14600u));
	if (c->retries)
		c->cwnd = mss;
	c->ssthresh = UINT32_MAX;
	c->ca_acked = 0;
	c->in_recovery = false;
}

/* In fast recovery: a full ACK (recover reached) ends it with cwnd
 * deflated to min(ssthresh, FlightSize + MSS) (RFC 6582 3.2 (3), option
 * 1: no burst); a partial ACK resends the next hole at once and deflates
 * cwnd by what it acked, adding back one MSS when that was at least one
 * (3.2 (4)). */
static void recovery_ack(struct cub_tcp *c, uint32_t acked)
{
	if (SEQ_GEQ(c->snd_una, c->recover)) {
		c->in_recovery = false;
		c->cwnd = CUB_MIN(c->ssthresh,
				  CUB_MAX(flight(c), (uint32_t)c->snd_mss) +
				  c->snd_mss);
		c->ca_acked = 0;
		return;
	}
	c->nif->st.tcp_partial_acks++;
	if (c->sack_ok) {		/* RFC 6675: pipe does the counting */
		cubi_tcp_sack_send(c);
		return;
	}
	cubi_tcp_resend_first(c);
	c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
	if (acked >= c->snd_mss)
		c->cwnd += c->snd_mss;
	c->cwnd = CUB_MAX(c->cwnd, (uint32_t)c->snd_mss);
}

void cubi_tcp_cc_ack(struct cub_tcp *c, uint32_t acked)
{
	if (c->in_recovery) {
		recovery_ack(c, acked);
		return;
	}
	if (c->cwnd < c->ssthresh) {	/* slow start, RFC 3465 L = 2 */
		cwnd_add(c, CUB_MIN(acked, 2u * c->snd_mss));
		return;
	}
	/* Congestion avoidance: one MSS per cwnd of bytes ACKed (RFC 5681
	 * 3.1's byte counting, about one MSS per round trip). */
	c->ca_acked += acked;
	if (c->ca_acked >= c->cwnd) {
		c->ca_acked -= c->cwnd;
		cwnd_add(c, c->snd_mss);
	}
}

void cubi_tcp_cc_dupack(struct cub_tcp *c)
{
	if (c->in_recovery) {		/* RFC 5681 3.2 (4): a segment left */
		if (c->sack_ok)
			cubi_tcp_sack_send(c);
		else
			cwnd_add(c, c->snd_mss);
		return;
	}
	/* The third; not again for losses in a window already recovered
	 * (RFC 6582 3.2 (2): the ACK must cover more than recover). */
	if (c->dupacks != 3 || SEQ_LT(c->snd_una, c->recover))
		return;
	c->nif->st.tcp_fast_retransmits++;
	halve(c);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->rtt_on = false;		/* Karn: the timed one may be resent */
	c->ca_acked = 0;
	if (c->sack_ok) {		/* RFC 6675 5 (4): the first hole */
		c->cwnd = c->ssthresh;
		c->high_rxt = c->snd_una + cubi_tcp_resend(c, c->snd_una,
							   UINT32_MAX);
		cubi_tcp_sack_send(c);
		return;
	}
	cubi_tcp_resend_first(c);
	c->cwnd = c->ssthresh + 3u * c->snd_mss;
}

uint32_t cubi_tcp_cc_room(const struct cub_tcp *c)
{
	uint32_t used = c->snd_nxt - c->snd_una;

	if (c->in_recovery && c->sack_ok)
		used = cubi_tcp_sack_pipe(c);
	return c->cwnd > used ? c->cwnd - used : 0;
}

void cubi_tcp_cc_timeout(struct cub_tcp *c)
{
	/* RFC 5681 3.1 (4): halve once; a segment resent again keeps
	 * ssthresh (the flight then is what the first timeout left). */
	if (c->retries <= 1)
		halve(c);
	c->cwnd = c->snd_mss;
	c->ca_acked = 0;
	c->in_recovery = false;
}
