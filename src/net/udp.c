/*
 * udp.c - UDP (RFC 768): endpoints bound to ports of one interface,
 * checksums, and a bounded receive queue per endpoint.
 *
 * Invariants (all under nif->lock, the interface's one lock):
 *  - an endpoint is open exactly while magic == UDP_OPEN; then it is in
 *    nif->udps, no other open endpoint of nif has its port, and ring
 *    holds CUB_UDP_QUEUE_LEN slots of which len (<= CUB_UDP_QUEUE_LEN),
 *    from index head on, describe the queued datagrams, oldest first,
 *    and a byte ring of CUB_UDP_RCVBUF bytes of which dlen (the sum of
 *    their lengths), from offset dhead on (wrapping), are their payloads
 *    in the same order: the oldest one's starts at dhead;
 *  - users counts the sendto/recvfrom calls inside the endpoint; close
 *    clears magic, broadcasts cond and arp_cond (so they leave with
 *    -CUB_EBADF), and waits until users is 0 before freeing the ring, so
 *    no call touches u after close returns;
 *  - a datagram is queued whole or dropped (udp_queue_full), never
 *    partly; each queued datagram is taken by exactly one recvfrom;
 *  - err (an ICMP error, only while connected: peer != 0; or what
 *    cubi_udp_fail gives, a DHCP keeper's lost address) is taken by
 *    exactly one call, the next sendto or recvfrom (or cub_udp_error),
 *    before any queued datagram: a receiver blocked on cond wakes. An
 *    error counts only when it quotes a datagram to the peer from our
 *    port and, when the endpoint's owner set one (cubi_udp_quote_set,
 *    the DNS resolver its ID), a payload beginning with the quote bytes
 *    as far as it is quoted.
 * Allocation: the ring, once per open; nothing per datagram. Datagrams
 * larger than a frame arrive reassembled (ip4_frag.c) and leave in
 * fragments (cubi_ip4_send), up to CUB_UDP_PAYLOAD_MAX bytes.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

#define UDP_OPEN 0x55445031u		/* "UDP1" */

struct cubi_udp_slot {
	cub_ip4_t src;
	uint16_t sport;
	uint16_t len;
};

struct cubi_udp_ring {
	struct cubi_udp_slot slot[CUB_UDP_QUEUE_LEN];
	uint8_t data[CUB_UDP_RCVBUF];
};

_Static_assert(CUB_UDP_RCVBUF >= CUB_UDP_PAYLOAD_MAX,
	       "the largest datagram fits an empty queue");

/* Appends n bytes to u's byte ring (room checked), wrapping. */
static void ring_put(struct cub_udp *u, const uint8_t *b, size_t n)
{
	size_t at = (u->dhead + u->dlen) % CUB_UDP_RCVBUF;
	size_t k = CUB_MIN(n, CUB_UDP_RCVBUF - at);

	cub_memcpy(u->ring->data + at, b, k);
	if (n > k)
		cub_memcpy(u->ring->data, b + k, n - k);
	u->dlen += n;
}

/* Copies cap of the oldest n bytes out of u's byte ring and drops n. */
static void ring_get(struct cub_udp *u, uint8_t *b, size_t cap, size_t n)
{
	size_t k = CUB_MIN(cap, CUB_UDP_RCVBUF - u->dhead);

	if (cap)
		cub_memcpy(b, u->ring->data + u->dhead, k);
	if (cap > k)
		cub_memcpy(b + k, u->ring->data, cap - k);
	u->dhead = (u->dhead + n) % CUB_UDP_RCVBUF;
	u->dlen -= n;
}

static struct cub_udp *udp_find(struct cub_netif *nif, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &nif->udps) {
		struct cub_udp *u = cub_container_of(pos, struct cub_udp, link);

		if (u->port == port)
			return u;
	}
	return NULL;
}

/* Contexts: task, nif->lock held. */
void cubi_udp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct cub_netif_stats *st = &nif->st;
	const uint8_t *h = p->l4;
	struct cubi_udp_slot *s;
	struct cub_udp *u;
	uint16_t ulen;

	st->udp_rx++;
	ulen = p->l4len >= UDP_HLEN ? get16(h + 4) : 0;
	if (ulen < UDP_HLEN || ulen > p->l4len) {
		st->udp_bad++;
		return;
	}
	if (get16(h + 6) &&
	    cubi_cksum_fold(cubi_cksum_pseudo(p->src, p->dst, IP4_PROTO_UDP,
					      ulen) +
			    cubi_cksum_add(0, h, ulen)) != 0) {
		st->udp_bad_cksum++;
		return;
	}
	u = udp_find(nif, get16(h + 2));
	if (!u) {
		st->udp_no_port++;
		if (!p->bcast)
			cubi_icmp_port_unreach(nif, p);
		return;
	}
	if (u->len == CUB_UDP_QUEUE_LEN ||
	    u->dlen + (ulen - UDP_HLEN) > CUB_UDP_RCVBUF) {
		st->udp_queue_full++;
		u->drops++;
		return;
	}
	s = &u->ring->slot[(u->head + u->len) % CUB_UDP_QUEUE_LEN];
	s->src = p->src;
	s->sport = get16(h);
	s->len = (uint16_t)(ulen - UDP_HLEN);	/* <= 65535 - 20 - 8 */
	ring_put(u, h + UDP_HLEN, s->len);
	u->len++;
	st->udp_delivered++;
	cub_cond_broadcast(&u->cond);
}

/* Contexts: task, nif->lock held. */
int cubi_udp_icmp_error(struct cub_netif *nif, cub_ip4_t dst, uint16_t dport,
			uint16_t sport, const uint8_t *pay, size_t plen, int err)
{
	struct cub_udp *u = udp_find(nif, sport);

	if (!u)
		return -1;
	if (!u->peer || u->peer != dst || u->peer_port != dport)
		return 0;		/* Linux: unconnected sockets never hear */
	if (cub_memcmp(pay, u->quote, CUB_MIN(plen, (size_t)u->quote_len)))
		return 0;		/* about another exchange's datagram */
	u->err = err;
	cub_cond_broadcast(&u->cond);	/* a blocked receiver takes it */
	return 1;
}

/* A free port for port 0 (ephemeral, round robin), or port itself when
 * free; 0 when taken. Contexts: task, nif->lock held. */
static uint16_t udp_pick_port(struct cub_netif *nif, uint16_t port)
{
	unsigned span = CUB_UDP_EPHEMERAL_MAX - CUB_UDP_EPHEMERAL_MIN + 1;

	if (port)
		return udp_find(nif, port) ? 0 : port;
	for (unsigned i = 0; i < span; i++) {
		uint16_t p = nif->next_port;

		nif->next_port = p == CUB_UDP_EPHEMERAL_MAX ?
				 CUB_UDP_EPHEMERAL_MIN : (uint16_t)(p + 1);
		if (p >= CUB_UDP_EPHEMERAL_MIN && !udp_find(nif, p))
			return p;
	}
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_udp_open(struct cub_udp *u, struct cub_netif *nif,
		 uint16_t local_port)
{
	struct cubi_udp_ring *ring;
	uint16_t port;

	if (!u || !nif)
		return -CUB_EINVAL;
	ring = cub_malloc(sizeof(*ring));
	if (!ring)
		return -CUB_ENOMEM;
	cub_mutex_lock(&nif->lock);
	port = udp_pick_port(nif, local_port);
	if (!port) {
		cub_mutex_unlock(&nif->lock);
		cub_free(ring);
		return -CUB_EADDRINUSE;
	}
	cub_memset(u, 0, sizeof(*u));
	u->nif = nif;
	u->port = port;
	u->ring = ring;
	cub_cond_init(&u->cond);
	cub_list_push_back(&nif->udps, &u->link);
	u->magic = UDP_OPEN;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. */
uint16_t cub_udp_port(const struct cub_udp *u)
{
	return u && u->magic == UDP_OPEN ? u->port : 0;
}

/* Contexts: task. */
uint64_t cub_udp_drops(const struct cub_udp *u)
{
	return u ? u->drops : 0;
}

/* Takes the lock of u's interface and counts the caller in; NULL (lock
 * not taken) when u is not open. */
static struct cub_netif *udp_enter(struct cub_udp *u)
{
	struct cub_netif *nif;

	if (u->magic != UDP_OPEN)
		return NULL;
	nif = u->nif;
	cub_mutex_lock(&nif->lock);
	if (u->magic != UDP_OPEN) {
		cub_mutex_unlock(&nif->lock);
		return NULL;
	}
	u->users++;
	return nif;
}

static void udp_leave(struct cub_netif *nif, struct cub_udp *u)
{
	if (--u->users == 0 && u->magic != UDP_OPEN)
		cub_cond_broadcast(&u->cond);	/* close waits for this */
	cub_mutex_unlock(&nif->lock);
}

/* Builds and sends the datagram, in fragments when it exceeds a frame
 * (nif->lock held, next hop's mac known). */
static int udp_output(struct cub_netif *nif, struct cub_udp *u, cub_ip4_t dst,
		      uint16_t port, const void *buf, size_t len,
		      const uint8_t mac[6])
{
	uint8_t f[CUB_ETH_FRAME_MAX], h[UDP_HLEN];
	uint16_t ulen = (uint16_t)(UDP_HLEN + len), sum;
	struct cubi_ip4_msg m = { h, UDP_HLEN, cubi_ip4_copy_linear, buf, len };

	put16(h, u->port);
	put16(h + 2, port);
	put16(h + 4, ulen);
	put16(h + 6, 0);
	sum = cubi_cksum_fold(cubi_cksum_pseudo(nif->addr, dst, IP4_PROTO_UDP,
						ulen) +
			      cubi_cksum_add(0, h, UDP_HLEN) +
			      cubi_ip4_msg_sum(&m, f));
	put16(h + 6, sum ? sum : 0xffff);	/* 0 means "no checksum" */
	return cubi_ip4_send(nif, f, &m, mac, dst, IP4_PROTO_UDP);
}

/* Contexts: task. Locks: takes nif->lock (released while resolving). */
int cub_udp_sendto(struct cub_udp *u, cub_ip4_t dst, uint16_t port,
		   const void *buf, size_t len)
{
	struct cub_netif *nif;
	uint8_t mac[6];
	int r;

	if (!u || (!buf && len) || !dst || !port)
		return -CUB_EINVAL;
	if (len > CUB_UDP_PAYLOAD_MAX)
		return -CUB_EMSGSIZE;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	if (u->err) {			/* the error is the send's result */
		r = u->err;
		u->err = 0;
		goto out;
	}
	r = cubi_net_nexthop_mac(nif, dst, mac, nif->arp_resolve_ns,
				 &u->magic, UDP_OPEN);
	if (r == 0 && u->magic != UDP_OPEN)
		r = -CUB_EBADF;
	if (r == 0)
		r = udp_output(nif, u, dst, port, buf, len, mac);
	if (r == 0) {
		nif->st.udp_tx++;
		r = (int)len;
	}
out:
	udp_leave(nif, u);
	return r;
}

/* Copies out the oldest datagram; returns its length. */
static int udp_take(struct cub_udp *u, void *buf, size_t cap, cub_ip4_t *src,
		    uint16_t *src_port)
{
	struct cubi_udp_slot *s = &u->ring->slot[u->head];

	ring_get(u, buf, CUB_MIN(cap, (size_t)s->len), s->len);
	if (src)
		*src = s->src;
	if (src_port)
		*src_port = s->sport;
	u->head = (u->head + 1) % CUB_UDP_QUEUE_LEN;
	u->len--;
	return s->len;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
int cub_udp_recvfrom(struct cub_udp *u, void *buf, size_t cap,
		     cub_ip4_t *src, uint16_t *src_port, uint64_t timeout_ns)
{
	struct cub_netif *nif;
	uint64_t deadline;
	int r;

	if (!u || (!buf && cap))
		return -CUB_EINVAL;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	deadline = cubi_deadline(cub_time_now(), timeout_ns);
	for (;;) {
		if (u->magic != UDP_OPEN) {
			r = -CUB_EBADF;
			break;
		}
		if (u->err) {
			r = u->err;
			u->err = 0;
			break;
		}
		if (u->len) {
			r = udp_take(u, buf, cap, src, src_port);
			break;
		}
		if (timeout_ns == 0) {
			r = -CUB_EAGAIN;
			break;
		}
		if (timeout_ns == UINT64_MAX)
			cub_cond_wait(&u->cond, &nif->lock);
		else if (cub_cond_timedwait(&u->cond, &nif->lock, deadline) &&
			 !u->len && !u->err && u->magic == UDP_OPEN) {
			r = -CUB_ETIMEDOUT;
			break;
		}
	}
	udp_leave(nif, u);
	return r;
}

/* Contexts: task, nif->lock held. */
void cubi_udp_fail(struct cub_udp *u, int err)
{
	u->err = err;
	cub_cond_broadcast(&u->cond);
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_udp_connect(struct cub_udp *u, cub_ip4_t dst, uint16_t port)
{
	struct cub_netif *nif;

	if (!u || (dst && !port))
		return -CUB_EINVAL;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	u->peer = dst;
	u->peer_port = dst ? port : 0;
	if (!dst)
		u->err = 0;
	udp_leave(nif, u);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cubi_udp_quote_set(struct cub_udp *u, const void *b, size_t n)
{
	struct cub_netif *nif;

	if (!u || n > CUBI_UDP_QUOTE_MAX || (!b && n))
		return -CUB_EINVAL;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	if (n)
		cub_memcpy(u->quote, b, n);
	u->quote_len = (uint8_t)n;
	udp_leave(nif, u);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_udp_error(struct cub_udp *u)
{
	struct cub_netif *nif;
	int r;

	if (!u)
		return -CUB_EINVAL;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	r = u->err;
	u->err = 0;
	udp_leave(nif, u);
	return r;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
int cub_udp_close(struct cub_udp *u)
{
	struct cub_netif *nif;

	if (!u)
		return -CUB_EINVAL;
	nif = udp_enter(u);
	if (!nif)
		return -CUB_EBADF;
	u->users--;			/* udp_enter counted us in */
	u->magic = 0;
	cub_list_del(&u->link);
	u->len = 0;
	u->dlen = 0;
	cub_cond_broadcast(&u->cond);
	cub_cond_broadcast(&nif->arp_cond);	/* senders resolving */
	while (u->users)
		cub_cond_wait(&u->cond, &nif->lock);
	cub_free(u->ring);
	u->ring = NULL;
	cub_mutex_unlock(&nif->lock);
	return 0;
}
