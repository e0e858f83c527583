/*
 * icmp.c - ICMP (RFC 792): answers echo requests, runs the echo client
 * (cub_net_ping), reports closed UDP ports (port unreachable) and
 * reassembly timeouts (time exceeded, for ip4_frag.c), both rate
 * limited by icmp_err.c's token bucket; ICMP errors received go to
 * icmp_err.c.
 *
 * Invariants (under nif->lock): nif->pings lists the pings waiting for a
 * reply; each record lives on its waiting coroutine's stack and is
 * unlinked by that coroutine before it returns. A reply marks the one
 * record whose identifier, sequence and payload match, then broadcasts
 * ping_cond. Replies go back to the Ethernet source of the request (the
 * sender itself, or the router it came through), so answering needs no
 * ARP (a fragmented answer may wait briefly for a full transmit ring,
 * cubi_ip4_send). Echo requests and replies may exceed a frame:
 * they arrive reassembled (ip4_frag.c) and leave in fragments
 * (cubi_ip4_send), up to CUB_PING_PAYLOAD_MAX payload bytes.
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

/* Sends the ICMP message m (its header's checksum computed here) back to
 * the sender of p, in fragments when it exceeds a frame; f is the frame
 * buffer. */
static void icmp_send_back(struct cub_netif *nif, const struct cubi_ip4_pkt *p,
			   uint8_t *f, uint8_t *hdr, struct cubi_ip4_msg *m)
{
	const uint8_t *eth_src = p->frame + ETH_OFF_SRC;

	if (eth_src[0] & 1)
		return;			/* never answer to a group address */
	put16(hdr + 2, 0);
	put16(hdr + 2, cubi_cksum_fold(cubi_cksum_add(0, hdr, m->hlen) +
				       cubi_ip4_msg_sum(m, f)));
	cubi_ip4_send(nif, f, m, eth_src, p->src, IP4_PROTO_ICMP);
}

/* Answers p's echo request: the same message as a reply, up to the
 * largest datagram (a reassembled request's reply leaves in fragments). */
static void echo_answer(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	uint8_t f[CUB_ETH_FRAME_MAX], h[ICMP_HLEN];
	struct cubi_ip4_msg m = { h, ICMP_HLEN, cubi_ip4_copy_linear,
				  p->l4 + ICMP_HLEN, p->l4len - ICMP_HLEN };

	cub_memcpy(h, p->l4, ICMP_HLEN);
	h[0] = ICMP_ECHO_REPLY;
	icmp_send_back(nif, p, f, h, &m);
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct cub_netif_stats *st = &nif->st;

	st->icmp_rx++;
	if (p->l4len < ICMP_HLEN ||
	    cubi_cksum_fold(cubi_cksum_add(0, p->l4, p->l4len)) != 0) {
		st->icmp_bad++;
		return;
	}
	if (p->l4[0] == ICMP_ECHO_REPLY && p->l4[1] == 0) {
		echo_reply_input(nif, p->l4, p->l4len);
	} else if (p->l4[0] == ICMP_ECHO_REQUEST && p->l4[1] == 0 && !p->bcast) {
		st->icmp_echo_requests++;
		echo_answer(nif, p);
	} else if ((p->l4[0] == ICMP_UNREACH ||
		    p->l4[0] == ICMP_TIME_EXCEEDED) && !p->bcast) {
		cubi_icmp_error_input(nif, p);
	} else {
		st->icmp_other++;	/* broadcast echoes are ignored too */
	}
}

/* Sends the ICMP error type/code about p back to its sender: p's IPv4
 * header and up to 8 bytes after it quoted (RFC 792). The caller has
 * applied the rules and the rate limit. */
static void error_send(struct cub_netif *nif, const struct cubi_ip4_pkt *p,
		       uint8_t type, uint8_t code)
{
	uint8_t f[CUB_ETH_FRAME_MAX], h[ICMP_HLEN + 60 + 8];
	size_t quote = p->ihl + CUB_MIN(p->l4len, (size_t)8);
	struct cubi_ip4_msg m = { h, ICMP_HLEN + quote, cubi_ip4_copy_linear,
				  NULL, 0 };

	h[0] = type;
	h[1] = code;
	put32(h + 4, 0);
	cub_memcpy(h + ICMP_HLEN, p->ip, quote);	/* header + 8 bytes */
	icmp_send_back(nif, p, f, h, &m);
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_port_unreach(struct cub_netif *nif,
			    const struct cubi_ip4_pkt *p)
{
	if (!cubi_icmp_err_token(nif)) {
		nif->st.icmp_unreach_limited++;
		return;
	}
	nif->st.icmp_unreach_tx++;
	error_send(nif, p, ICMP_UNREACH, ICMP_UNREACH_PORT);
}

/* Whether the ICMP message starting with type is an error (RFC 792:
 * unreachable, source quench, redirect, time exceeded, parameter
 * problem), about which no error may be sent (RFC 1122 3.2.2). */
static bool icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 ||
	       type == 12;
}

/* Contexts: task, nif->lock held. */
void cubi_icmp_reasm_timeout(struct cub_netif *nif,
			     const struct cubi_ip4_pkt *p)
{
	if (p->bcast || ip4_is_multicast(p->dst) || !p->src || !nif->addr ||
	    (p->frame[ETH_OFF_SRC] & 1) ||
	    (p->ip[9] == IP4_PROTO_ICMP && icmp_is_error(p->l4[0])))
		return;
	if (!cubi_icmp_err_token(nif)) {
		nif->st.ip_reasm_icmp_limited++;
		return;
	}
	nif->st.ip_reasm_icmp_tx++;
	error_send(nif, p, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME);
}

/* cubi_ip4_copy_fn of an echo request's payload (arg: the ping). */
static void ping_copy(const void *arg, uint8_t *to, size_t off, size_t n)
{
	const struct cubi_ping *w = arg;

	for (size_t i = 0; i < n; i++)
		to[i] = ping_byte(w->seq, off + i);
}

/* Sends the echo request of w to dst via mac (in fragments when it
 * exceeds a frame). */
static int ping_send(struct cub_netif *nif, const struct cubi_ping *w,
		     cub_ip4_t dst, const uint8_t mac[6])
{
	uint8_t f[CUB_ETH_FRAME_MAX], h[ICMP_HLEN];
	struct cubi_ip4_msg m = { h, ICMP_HLEN, ping_copy, w, w->len };

	h[0] = ICMP_ECHO_REQUEST;
	h[1] = 0;
	put16(h + 2, 0);
	put16(h + 4, w->id);
	put16(h + 6, w->seq);
	put16(h + 2, cubi_cksum_fold(cubi_cksum_add(0, h, ICMP_HLEN) +
				     cubi_ip4_msg_sum(&m, f)));
	return cubi_ip4_send(nif, f, &m, mac, dst, IP4_PROTO_ICMP);
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
