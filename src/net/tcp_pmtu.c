/*
 * tcp_pmtu.c - TCP path MTU discovery (RFC 1191 for IPv4, with RFC
 * 8201's rules where they carry over): every segment leaves with DF
 * (tcp_out.c); a router whose next hop cannot carry it drops it and
 * answers ICMP destination unreachable, "fragmentation needed and DF
 * set" (type 3 code 4), with that hop's MTU. icmp_err.c validates the
 * message and hands it here with the quoted addresses, ports, sequence
 * number and the quoted datagram's total length.
 *
 * Believed only when (RFC 5927 4.1, as the other ICMP errors in
 * tcp_keep.c) a connection has the quoted addresses and ports and the
 * quoted sequence number is in flight (snd_una <= seq < snd_max), and
 * the reported MTU is below the quoted datagram's length (a datagram
 * that fits was not too big: a forged or broken report). A reported MTU
 * of 0 is an old router's (RFC 1191 5): the estimate is then the
 * largest plateau of RFC 1191 7's table below the quoted length.
 *
 * The estimate (pmtu) starts at the interface's MTU (1500); a report
 * lowers it, one at or above it changes nothing (RFC 1191 3: never
 * raised by an ICMP). It goes up again only by time (RFC 1191 6.3):
 * each lowered estimate is noted in the interface's cache
 * (pmtu_cache.c) and the connection looks there again when that entry
 * expires (pmtu_at, run by tcp_timer.c): an entry another report
 * renewed meanwhile is waited for again (and a higher one taken), a
 * gone one sends pmtu back to 1500 and snd_mss to min(peer's MSS,
 * 1460): the next full segment tries the larger size, and if the path
 * is still small its report lowers the estimate again and renews the
 * entry. So an estimate rises at most once per lifetime of the cache
 * (cub_pmtu_set_ttl) after it was last lowered, never faster. Floor: TCP_PMTU_MIN, 552 bytes, Linux's
 * min_pmtu (RFC 791's 68 would allow an MSS of 28 bytes, which a forged
 * report could impose on a connection); a report below it sets pmtu to
 * 552 and the connection's segments leave without DF from then on, so
 * a router before a really smaller hop fragments them (Linux's
 * behaviour for a "locked" MTU).
 *
 * Effect: snd_mss = min(the peer's MSS, pmtu - 40) (cubi_tcp_mss_sync,
 * also when the peer's SYN comes: a report about our SYN holds), and
 * when a synchronised connection has data in flight it goes back to
 * snd_una at once and sends it again in segments of the new size
 * (tcp_out.c's output resegments the send ring). This is not a
 * congestion signal (RFC 1191 6.4): cwnd and ssthresh stay (a NewReno
 * recovery in progress ends deflated to ssthresh), the retransmission
 * timer is not backed off; the timed segment is dropped (Karn) and
 * the SACK scoreboard forgotten, as after a timeout; recover moves to
 * snd_max so that the duplicate ACKs of this resend start no fast
 * retransmit. Each lowered estimate goes into the interface's cache
 * (pmtu_cache.c), from which a later connection to the same address
 * starts when the peer's SYN or SYN-ACK arrives (cubi_tcp_pmtu_start;
 * our own SYN is small enough anyway).
 *
 * Locking: under nif->lock, as every cubi_tcp_ function.
 */
#include "tcp_impl.h"

/* RFC 1191 7, table 7-1's plateaus, largest first. */
static const uint16_t plateaus[] = {
	65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68,
};

uint16_t cubi_pmtu_guess(uint16_t mtu, uint16_t qlen)
{
	if (mtu)
		return mtu;
	for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
		if (plateaus[i] < qlen)
			return plateaus[i];
	return 0;
}

void cubi_tcp_mss_sync(struct cub_tcp *c)
{
	c->snd_mss = (uint16_t)CUB_MIN(c->peer_mss, c->pmtu - TCP_IP_HLEN);
}

/* Arms pmtu_at for an estimate that came from the cache entry that
 * expires at until (0: none, nothing to wait for). */
static void pmtu_arm(struct cub_tcp *c, uint64_t until)
{
	c->pmtu_at = until;
	if (until)
		(void)cubi_tcp_timer_kick(c->nif, until);	/* running */
}

void cubi_tcp_pmtu_start(struct cub_tcp *c)
{
	bool nodf;
	uint64_t until;
	uint16_t m = cubi_pmtu_find(c->nif, c->raddr, &nodf, &until);

	if (m <= c->pmtu) {
		c->pmtu = m;
		c->pmtu_nodf = c->pmtu_nodf || nodf;
		pmtu_arm(c, until);
	}
	cubi_tcp_mss_sync(c);
}

void cubi_tcp_pmtu_timeout(struct cub_tcp *c)
{
	bool nodf;
	uint64_t until;
	uint16_t m = cubi_pmtu_find(c->nif, c->raddr, &nodf, &until);

	c->pmtu_at = 0;
	if (c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT)
		return;
	if (c->pmtu >= m) {		/* renewed meanwhile: still small */
		pmtu_arm(c, until);
		return;
	}
	/* The entry is gone (or another connection's later report left a
	 * higher one): try the larger size. cwnd >= snd_mss and ssthresh
	 * >= 2 * snd_mss (tcp_cc.c's bounds) stay true. */
	c->pmtu = m;
	c->pmtu_nodf = nodf;
	cubi_tcp_mss_sync(c);
	pmtu_arm(c, until);
	c->nif->st.tcp_pmtu_raised++;
	if (c->state >= TCP_ESTABLISHED) {
		c->cwnd = CUB_MAX(c->cwnd, (uint32_t)c->snd_mss);
		c->ssthresh = CUB_MAX(c->ssthresh, 2u * c->snd_mss);
		cubi_tcp_output(c);
	}
	cubi_tcp_wake(c);		/* the shim's pump copies snd_mss */
}

/* Sends again, in segments of the new MSS, all that is in flight. */
static void pmtu_resend(struct cub_tcp *c)
{
	if (c->state < TCP_ESTABLISHED || c->state == TCP_TIME_WAIT ||
	    c->snd_nxt == c->snd_una || c->s_len == 0)
		return;			/* a SYN, a FIN: small enough */
	c->rtt_on = false;		/* Karn: the timed one is resent */
	cubi_tcp_sack_clear(c);
	if (c->in_recovery) {
		c->cwnd = CUB_MAX(c->ssthresh, (uint32_t)c->snd_mss);
		c->in_recovery = false;
	}
	c->recover = c->snd_max;
	c->dupacks = 0;
	c->snd_nxt = c->snd_una;
	cubi_tcp_output(c);
}

/* The quoted segment (seq, qlen bytes of IP datagram) still holds bytes
 * in flight: it starts before snd_max and ends after snd_una. RFC 5927
 * asks for seq within snd_una..snd_max; a segment that begins below
 * snd_una is accepted too when its end is above it: a resend from an
 * older snd_una whose ACK overtook the report (the rest of it is still
 * unacknowledged, and ignoring the report would leave it to the RTO).
 * The payload is taken as at most qlen - 40 (IP and TCP headers of 20
 * bytes at least). */
static bool quotes_flight(const struct cub_tcp *c, uint32_t seq, uint16_t qlen)
{
	uint32_t len = qlen > TCP_IP_HLEN ? qlen - TCP_IP_HLEN : 0;

	return SEQ_LT(seq, c->snd_max) && SEQ_GT(seq + len, c->snd_una);
}

int cubi_tcp_icmp_too_big(struct cub_netif *nif, cub_ip4_t raddr,
			  uint16_t rport, uint16_t lport, uint32_t seq,
			  uint16_t mtu, uint16_t qlen)
{
	struct cub_tcp *c = cubi_tcp_find(nif, raddr, rport, lport);
	uint16_t m = cubi_pmtu_guess(mtu, qlen);
	uint64_t until;
	bool nodf = false;

	if (!c || !quotes_flight(c, seq, qlen))
		return -1;
	if (m == 0 || m >= qlen)
		return 0;		/* it fitted: not believed */
	if (m < TCP_PMTU_MIN) {
		m = TCP_PMTU_MIN;
		nodf = true;
	}
	/* Never up; at the floor already, only the news that DF must go. */
	if (m > c->pmtu || (m == c->pmtu && (!nodf || c->pmtu_nodf)))
		return 0;
	c->pmtu = m;
	c->pmtu_nodf = c->pmtu_nodf || nodf;
	cubi_tcp_mss_sync(c);
	cubi_pmtu_note(nif, raddr, c->pmtu, c->pmtu_nodf);
	(void)cubi_pmtu_find(nif, raddr, &nodf, &until);
	pmtu_arm(c, until);		/* the entry just noted */
	nif->st.tcp_pmtu_lowered++;
	pmtu_resend(c);
	return 1;
}
