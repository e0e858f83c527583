/*
 * icmp.c - ICMP (RFC 792): answers echo requests, runs the echo client
 * (cub_net_ping) and reports closed UDP ports (port unreachable).
 *
 * Invariants (under nif->lock): nif->pings lists the pings waiting for a
 * reply; each record lives on its waiting coroutine's stack and is
 * unlinked by that coroutine before it returns. A reply marks the one
 * record whose identifier, sequence and payload match, then broadcasts
 * ping_cond. Replies go back to the Ethernet source of the request (the
 * sender itself, or the router it came through), so answering needs no
 * ARP and never blocks.
 */
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

/* A ping waiting for its reply (on the caller's stack). */
struct cubi_ping {
	struct cub_list link;		/* in nif->pings */
	uint16_t id, seq;
	size_t len;			/* payload bytes */
	bool done;
	uint64_t at;			/* when the reply arrived */
};

static uint8_t ping_byte(uint16_t seq, size_t i)
{
	return (uint8_t)((0x20 + i) ^ seq);
}

static bool ping_match(const struct cubi_ping *w, const uint8_t *l4,
		       size_t l4len)
{
	if (w->done || get16(l4 + 4) != w->id || get16(l4 + 6) != w->seq ||
	    l4len - ICMP_HLEN != w->len)
		return false;
	for (size_t i = 0; i < w->len; i++)
		if (l4[ICMP_HLEN + i] != ping_byte(w->seq, i))
			return false;
	return true;
}

static void echo_reply_input(struct cub_netif *nif, const uint8_t *l4,
			     size_t l4len)
{
	struct cub_list *pos;

	nif->st.icmp_echo_replies++;
	cub_list_for_each(pos, &nif->pings) {
		struct cubi_ping *w = cub_container_of(pos, struct cubi_ping,
						       link);

		if (ping_match(w, l4, l4len)) {
			w->done = true;
			w->at = cub_time_now();
			cub_cond_broadcast(&nif->ping_cond);
			return;
		}
	}
}

/* Sends type/code with l4len bytes of ICMP message at f + NET_L4_OFF
 * (checksum computed here) back to the sender of p. */
static void icmp_send_back(struct cub_netif *nif, const struct cubi_ip4_pkt *p,
			   uint8_t *f, size_t l4len)
{
	uint8_t *m = f + NET_L4_OFF;
	const uint8_t *eth_src = p->frame + ETH_OFF_SRC;

	if (eth_src[0] & 1)
		return;			/* never answer to a group address */
	put16(m + 2, 0);
	put16(m + 2, cubi_cksum_fold(cubi_cksum_add(0, m, l4len)));
	cubi_ip4_output(nif, f, l4len, eth_src, p->src, IP4_PROTO_ICMP);
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct cub_netif_stats *st = &nif->st;
	uint8_t f[CUB_ETH_FRAME_MAX];

	st->icmp_rx++;
	if (p->l4len < ICMP_HLEN ||
	    cubi_cksum_fold(cubi_cksum_add(0, p->l4, p->l4len)) != 0) {
		st->icmp_bad++;
		return;
	}
	if (p->l4[0] == ICMP_ECHO_REPLY && p->l4[1] == 0) {
		echo_reply_input(nif, p->l4, p->l4len);
	} else if (p->l4[0] == ICMP_ECHO_REQUEST && p->l4[1] == 0 && !p->bcast) {
		/* l4len <= 1500 - 20: the reply fits the frame. */
		st->icmp_echo_requests++;
		cub_memcpy(f + NET_L4_OFF, p->l4, p->l4len);
		f[NET_L4_OFF] = ICMP_ECHO_REPLY;
		icmp_send_back(nif, p, f, p->l4len);
	} else {
		st->icmp_other++;	/* broadcast echoes are ignored too */
	}
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_port_unreach(struct cub_netif *nif,
			    const struct cubi_ip4_pkt *p)
{
	uint8_t f[NET_L4_OFF + ICMP_HLEN + 60 + 8];
	size_t quote = p->ihl + CUB_MIN(p->l4len, (size_t)8);
	uint8_t *m = f + NET_L4_OFF;

	m[0] = ICMP_UNREACH;
	m[1] = ICMP_UNREACH_PORT;
	put32(m + 4, 0);
	cub_memcpy(m + ICMP_HLEN, p->ip, quote);	/* header + 8 bytes */
	nif->st.icmp_unreach_tx++;
	icmp_send_back(nif, p, f, ICMP_HLEN + quote);
}

/* Sends the echo request of w to dst via mac. */
static int ping_send(struct cub_netif *nif, const struct cubi_ping *w,
		     cub_ip4_t dst, const uint8_t mac[6])
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	uint8_t *m = f + NET_L4_OFF;

	m[0] = ICMP_ECHO_REQUEST;
	m[1] = 0;
	put16(m + 2, 0);
	put16(m + 4, w->id);
	put16(m + 6, w->seq);
	for (size_t i = 0; i < w->len; i++)
		m[ICMP_HLEN + i] = ping_byte(w->seq, i);
	put16(m + 2, cubi_cksum_fold(cubi_cksum_add(0, m, ICMP_HLEN + w->len)));
	return cubi_ip4_output(nif, f, ICMP_HLEN + w->len, mac, dst,
			       IP4_PROTO_ICMP);
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
int cub_net_ping(struct cub_netif *nif, cub_ip4_t dst, uint16_t seq,
		 size_t payload_len, uint64_t timeout_ns, uint64_t *rtt_ns)
{
	struct cubi_ping w = { .seq = seq, .len = payload_len };
	uint64_t deadline, sent;
	uint8_t mac[6];
	int r;

	if (!nif || !dst)
		return -CUB_EINVAL;
	if (payload_len > CUB_PING_PAYLOAD_MAX)
		return -CUB_EMSGSIZE;
	cub_mutex_lock(&nif->lock);
	deadline = cubi_deadline(cub_time_now(), timeout_ns);
	r = cubi_net_nexthop_mac(nif, dst, mac, timeout_ns, NULL, 0);
	if (r == -CUB_EHOSTUNREACH)
		r = -CUB_ETIMEDOUT;	/* nobody answered: ARP or echo */
	if (r < 0)
		goto out;
	w.id = nif->ping_id++;
	cub_list_push_back(&nif->pings, &w.link);
	sent = cub_time_now();
	r = ping_send(nif, &w, dst, mac);
	while (r == 0 && !w.done) {
		if (cub_cond_timedwait(&nif->ping_cond, &nif->lock, deadline) &&
		    !w.done)
			r = -CUB_ETIMEDOUT;
	}
	cub_list_del(&w.link);
	if (r == 0 && rtt_ns)
		*rtt_ns = w.at - sent;
out:
	cub_mutex_unlock(&nif->lock);
	return r;
}
