/*
 * tcp_keep.c - noticing a dead peer: keep-alive probes (RFC 9293 3.8.4,
 * RFC 1122 4.2.3.6) and the ICMP errors about a connection's segments
 * (RFC 1122 4.2.3.9, RFC 5927 4.1's sequence number check).
 *
 * Keep-alive: while ka_on, a synchronised connection (ESTABLISHED up to
 * LAST_ACK; not TIME_WAIT) with nothing outstanding (all sent data and
 * FIN acknowledged, the send ring empty: otherwise the retransmission
 * and persist timers watch the peer) has a deadline rx_at + ka_idle +
 * ka_probes * ka_intvl. At it the timer coroutine sends a probe (an
 * empty ACK at snd_nxt - 1: one byte the peer already has, so it must
 * answer with an ACK; Linux's form) and counts it; when ka_probes
 * reaches ka_cnt the connection is reset with cubi_tcp_timeout_err.
 * Every segment from the peer sets rx_at and clears ka_probes
 * (cubi_tcp_ka_heard, from cubi_tcp_input).
 *
 * ICMP errors (icmp.c parses and validates the message, then calls
 * cubi_tcp_icmp_error with the quoted ports and sequence number): the
 * connection must exist and the sequence number lie in snd_una ..
 * snd_max (RFC 5927 4.1: a blind attacker must guess it). A hard error
 * (port or protocol unreachable) in SYN_SENT fails the connect with
 * -CUB_ECONNREFUSED; every other matched error is a soft one (Linux
 * without IP_RECVERR): kept in soft_err and reported only if the
 * connection then times out, instead of -CUB_ETIMEDOUT. "Fragmentation
 * needed" does not come here: it is path MTU discovery (tcp_pmtu.c).
 *
 * Locking: everything under nif->lock, as every cubi_tcp_ function.
 * The public calls enter through cubi_tcp_enter (tcp_close.c).
 */
#include <cubrt/time.h>

#include "tcp_impl.h"

#define KA_CNT_MAX 255

int cubi_tcp_timeout_err(const struct cub_tcp *c)
{
	return c->soft_err ? c->soft_err : -CUB_ETIMEDOUT;
}

static bool ka_due(const struct cub_tcp *c)
{
	return c->ka_on && c->state >= TCP_ESTABLISHED &&
	       c->state != TCP_TIME_WAIT && c->snd_una == c->snd_max &&
	       c->s_len == 0 && !c->err;
}

uint64_t cubi_tcp_ka_deadline(const struct cub_tcp *c)
{
	if (!ka_due(c))
		return 0;
	return c->rx_at + c->ka_idle + (uint64_t)c->ka_probes * c->ka_intvl;
}

void cubi_tcp_ka_heard(struct cub_tcp *c)
{
	uint64_t at;

	c->rx_at = cub_time_now();
	c->ka_probes = 0;
	at = cubi_tcp_ka_deadline(c);
	if (at)
		(void)cubi_tcp_timer_kick(c->nif, at);	/* it runs: c exists */
}

void cubi_tcp_ka_timeout(struct cub_tcp *c)
{
	if (c->ka_probes >= c->ka_cnt) {
		c->nif->st.tcp_keepalive_drops++;
		c->nif->st.tcp_gave_up++;
		cubi_tcp_reset(c, cubi_tcp_timeout_err(c));
		return;
	}
	c->ka_probes++;
	c->nif->st.tcp_keepalive_probes++;
	cubi_tcp_send_ctl(c, c->snd_nxt - 1, TH_ACK);
}

static bool ka_valid(const struct cub_tcp_keepalive *ka)
{
	return ka->idle_ns && ka->interval_ns && ka->count &&
	       ka->count <= KA_CNT_MAX;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_set_keepalive(struct cub_tcp *c, const struct cub_tcp_keepalive *ka)
{
	struct cub_netif *nif;
	uint64_t at;
	int r = 0;

	if (!c || !ka || !ka_valid(ka))
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EBADF;
	if (c->state == TCP_LISTEN) {
		r = -CUB_EINVAL;
		goto out;
	}
	c->ka_on = ka->on;
	c->ka_idle = ka->idle_ns;
	c->ka_intvl = ka->interval_ns;
	c->ka_cnt = (uint8_t)ka->count;
	at = cubi_tcp_ka_deadline(c);
	if (at)
		r = cubi_tcp_timer_kick(nif, at);
out:
	cubi_tcp_leave(nif, c);
	return r;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_get_keepalive(struct cub_tcp *c, struct cub_tcp_keepalive *ka)
{
	struct cub_netif *nif;

	if (!ka)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EINVAL;
	*ka = (struct cub_tcp_keepalive){ c->ka_on, c->ka_idle, c->ka_intvl,
					  c->ka_cnt };
	cubi_tcp_leave(nif, c);
	return 0;
}

int cubi_tcp_icmp_error(struct cub_netif *nif, cub_ip4_t raddr,
			uint16_t rport, uint16_t lport, uint32_t seq, int err,
			bool hard)
{
	struct cub_tcp *c = cubi_tcp_find(nif, raddr, rport, lport);

	if (!c || SEQ_LT(seq, c->snd_una) || SEQ_GEQ(seq, c->snd_max))
		return -1;
	if (c->state == TCP_SYN_SENT && hard) {
		cubi_tcp_reset(c, -CUB_ECONNREFUSED);	/* wakes connect */
		cubi_tcp_maybe_free(c);
		return 1;
	}
	c->soft_err = err;
	return 1;
}
