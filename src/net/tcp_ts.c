/*
 * tcp_ts.c - TCP timestamps (RFC 7323 3-5): agreeing on them in the
 * handshake, which TSval we echo (TS.Recent), PAWS (protection against
 * wrapped sequence numbers: a segment older than the last one echoed is
 * an old duplicate, whatever its sequence number) and RTT samples taken
 * from the echoed TSecr, which time retransmitted segments too.
 *
 * Our clock: TSval = ts_off + cub_time_now() in ms (RFC 7323 5.4: 1 ms
 * ticks, within its 1 ms .. 1 s bounds; ts_off a keyed hash per
 * connection, tcp_pcb.c). Timestamps compare mod 2^32 like sequence
 * numbers.
 * Invariants (under nif->lock), once ts_ok:
 *  - ts_recent is the TSval of the SYN or of an acceptable segment that
 *    began at or before ts_last_ack (Last.ACK.sent, the ACK field of
 *    our last segment, hdr_of in tcp_out.c) and was not older than the
 *    ts_recent before it (RFC 7323 4.3 (2), 5.3 R3); so out-of-order
 *    segments never move it, and the one that fills a hole does: the
 *    ACKs echo the segment that advanced the window (4.2 (B), (C));
 *  - ts_recent_at is when it was set; once older than paws_idle (24
 *    days) it is not trusted (5.5): PAWS is skipped and the next
 *    acceptable segment sets it whatever its TSval;
 *  - a non-RST segment without the option is dropped (3.2 SHOULD,
 *    tcp_ts_missing); RSTs are never judged by their timestamp (5.3
 *    R1), only by their sequence number;
 *  - RTT: an ACK of new data beyond ts_rtt_seq gives one sample, now -
 *    TSecr, and moves ts_rtt_seq to snd_max (one sample per flight, the
 *    rate RFC 6298's weights expect; RFC 7323 Appendix G). An echo from
 *    the future or older than rto_max is ignored.
 * Contexts: task, nif->lock held (cubi_tcp_ts_now: any).
 */
#include <cubrt/time.h>

#include "tcp_impl.h"

#define NS_PER_MS 1000000ull

#define TS_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)

uint32_t cubi_tcp_ts_now(const struct cub_tcp *c)
{
	return c->ts_off + (uint32_t)(cub_time_now() / NS_PER_MS);
}

static void set_recent(struct cub_tcp *c, uint32_t tsval)
{
	c->ts_recent = tsval;
	c->ts_recent_at = cub_time_now();
}

/* Agreed when our side offers (an active open's SYN did; a listener's
 * child answers when its params allow) and the peer's SYN carried it;
 * a SYN-ACK with the option answering a SYN without it is ignored
 * (3.2). */
void cubi_tcp_ts_take_syn(struct cub_tcp *c, const struct tcp_seg *s)
{
	c->ts_ok = c->ts_offer && s->ts;
	if (!c->ts_ok)
		return;
	set_recent(c, s->tsval);
	c->ts_last_ack = s->seq + 1;
	c->ts_rtt_seq = c->iss;		/* the SYN's ACK gives a sample */
}

/* TS.Recent still trusted (5.5). */
static bool recent_valid(const struct cub_tcp *c)
{
	return cub_time_now() - c->ts_recent_at <= cubi_tcp_params(c)->paws_idle;
}

bool cubi_tcp_ts_check(struct cub_tcp *c, const struct tcp_seg *s)
{
	if (!c->ts_ok || (s->flags & TH_RST))
		return true;
	if (!s->ts) {
		c->nif->st.tcp_ts_missing++;
		return false;
	}
	if (!TS_LT(s->tsval, c->ts_recent) || !recent_valid(c))
		return true;
	/* R1: not acceptable; the ACK keeps a half-open connection
	 * detectable (RFC 793 p. 69). */
	c->nif->st.tcp_paws++;
	c->ack_now = true;
	cubi_tcp_output(c);
	return false;
}

void cubi_tcp_ts_update(struct cub_tcp *c, const struct tcp_seg *s,
			uint32_t seq)
{
	if (!c->ts_ok || !s->ts || SEQ_GT(seq, c->ts_last_ack))
		return;
	if (!TS_LT(s->tsval, c->ts_recent) || !recent_valid(c))
		set_recent(c, s->tsval);
}

bool cubi_tcp_ts_rtt(struct cub_tcp *c, const struct tcp_seg *s)
{
	uint32_t d;

	if (!c->ts_ok)
		return false;
	if (!s->ts || !(s->flags & TH_ACK) || !SEQ_GT(s->ack, c->ts_rtt_seq))
		return true;
	d = cubi_tcp_ts_now(c) - s->tsecr;
	if ((int32_t)d < 0 ||
	    (uint64_t)d * NS_PER_MS > cubi_tcp_params(c)->rto_max)
		return true;		/* not an echo of ours */
	cubi_tcp_rtt_sample(c, (uint64_t)d * NS_PER_MS);
	c->ts_rtt_seq = c->snd_max;
	return true;
}
