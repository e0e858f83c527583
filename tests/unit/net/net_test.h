/*
 * net_test.h - helpers shared by the network tests (unit and model):
 *  - a capture interface whose send keeps the frames for inspection;
 *  - an in-memory wire joining two interfaces: a send queues the frame on
 *    a buffered channel (never blocking, -CUB_EAGAIN when full), and a
 *    wire coroutine delivers it to the other end with cub_netif_input,
 *    so input never recurses into a send; a tap keeps the last frames;
 *  - builders of hand-made frames (Ethernet, ARP, IPv4, UDP, ICMP) with
 *    their own checksum code, independent of src/net's.
 */
#ifndef NET_TEST_H
#define NET_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cubrt/chan.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#define MS (1000ull * 1000)

/* ----------------------------------------------------------- byte order */

static inline uint16_t t_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t t_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void t_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void t_put32(uint8_t *p, uint32_t v)
{
	t_put16(p, v >> 16);
	t_put16(p + 2, v);
}

/* RFC 1071 checksum of [p, p+len) plus a starting sum. */
static inline uint16_t t_cksum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t t_pseudo(uint32_t src, uint32_t dst, uint32_t proto,
				uint32_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
}

/* ------------------------------------------------------------- builders */

static const uint8_t T_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline void t_eth(uint8_t *f, const uint8_t dst[6],
			 const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	t_put16(f + 12, type);
}

/* An ARP packet; returns the frame length (42). */
static inline size_t t_arp(uint8_t *f, const uint8_t eth_dst[6], uint16_t op,
			   const uint8_t sha[6], uint32_t spa,
			   const uint8_t tha[6], uint32_t tpa)
{
	uint8_t *a = f + 14;

	t_eth(f, eth_dst, sha, 0x0806);
	t_put16(a, 1);
	t_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	t_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	t_put32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	t_put32(a + 24, tpa);
	return 42;
}

/* An IPv4 header (IHL 5) at f + 14 for l4len transport bytes; returns
 * the frame length. */
static inline size_t t_ip(uint8_t *f, uint32_t src, uint32_t dst,
			  uint8_t proto, size_t l4len)
{
	uint8_t *ip = f + 14;

	ip[0] = 0x45;
	ip[1] = 0;
	t_put16(ip + 2, (uint32_t)(20 + l4len));
	t_put16(ip + 4, 0x1234);
	t_put16(ip + 6, 0);
	ip[8] = 64;
	ip[9] = proto;
	t_put16(ip + 10, 0);
	t_put32(ip + 12, src);
	t_put32(ip + 16, dst);
	t_put16(ip + 10, t_cksum(0, ip, 20));
	return 34 + l4len;
}

/* Recomputes the IPv4 header checksum after an edit. */
static inline void t_ip_refresh(uint8_t *f)
{
	uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;

	t_put16(ip + 10, 0);
	t_put16(ip + 10, t_cksum(0, ip, ihl));
}

/* A whole UDP datagram frame with a correct checksum; returns its length. */
static inline size_t t_udp(uint8_t *f, const uint8_t dst_mac[6],
			   const uint8_t src_mac[6], uint32_t src,
			   uint32_t dst, uint16_t sport, uint16_t dport,
			   const void *data, size_t len)
{
	uint8_t *u = f + 34;
	uint16_t sum;

	t_eth(f, dst_mac, src_mac, 0x0800);
	t_put16(u, sport);
	t_put16(u + 2, dport);
	t_put16(u + 4, (uint32_t)(8 + len));
	t_put16(u + 6, 0);
	memcpy(u + 8, data, len);
	sum = t_cksum(t_pseudo(src, dst, 17, (uint32_t)(8 + len)), u, 8 + len);
	t_put16(u + 6, sum ? sum : 0xffff);
	return t_ip(f, src, dst, 17, 8 + len);
}

/* An ICMP echo request or reply frame; returns its length. */
static inline size_t t_icmp_echo(uint8_t *f, const uint8_t dst_mac[6],
				 const uint8_t src_mac[6], uint32_t src,
				 uint32_t dst, uint8_t type, uint16_t id,
				 uint16_t seq, size_t len)
{
	uint8_t *m = f + 34;

	t_eth(f, dst_mac, src_mac, 0x0800);
	m[0] = type;
	m[1] = 0;
	t_put16(m + 2, 0);
	t_put16(m + 4, id);
	t_put16(m + 6, seq);
	for (size_t i = 0; i < len; i++)
		m[8 + i] = (uint8_t)(i * 7);
	t_put16(m + 2, t_cksum(0, m, 8 + len));
	return t_ip(f, src, dst, 1, 8 + len);
}

/* An ICMP error frame (type, code) quoting qlen bytes of a datagram
 * (its IPv4 header first); returns its length. */
static inline size_t t_icmp_err(uint8_t *f, const uint8_t dst_mac[6],
				const uint8_t src_mac[6], uint32_t src,
				uint32_t dst, uint8_t type, uint8_t code,
				const void *quote, size_t qlen)
{
	uint8_t *m = f + 34;

	t_eth(f, dst_mac, src_mac, 0x0800);
	m[0] = type;
	m[1] = code;
	t_put16(m + 2, 0);
	t_put32(m + 4, 0);
	memcpy(m + 8, quote, qlen);
	t_put16(m + 2, t_cksum(0, m, 8 + qlen));
	return t_ip(f, src, dst, 1, 8 + qlen);
}

/* An ICMP "fragmentation needed and DF set" (3/4) reporting next-hop
 * mtu (RFC 1191 4) about the datagram at ip (its header and 8 bytes
 * quoted); returns its length. */
static inline size_t t_icmp_too_big(uint8_t *f, const uint8_t dst_mac[6],
				    const uint8_t src_mac[6], uint32_t src,
				    uint32_t dst, const uint8_t *ip,
				    uint16_t mtu)
{
	size_t q = (size_t)(ip[0] & 0x0f) * 4 + 8;
	size_t n = t_icmp_err(f, dst_mac, src_mac, src, dst, 3, 4, ip, q);
	uint8_t *m = f + 34;

	t_put16(m + 6, mtu);
	t_put16(m + 2, 0);
	t_put16(m + 2, t_cksum(0, m, 8 + q));
	return n;
}

/* A TCP segment frame (data offset 5 + opt_len/4, options copied from
 * opt) with a correct checksum; returns its length. */
static inline size_t t_tcp(uint8_t *f, const uint8_t dst_mac[6],
			   const uint8_t src_mac[6], uint32_t src,
			   uint32_t dst, uint16_t sport, uint16_t dport,
			   uint32_t seq, uint32_t ack, uint8_t flags,
			   uint16_t wnd, const uint8_t *opt, size_t opt_len,
			   const void *data, size_t len)
{
	uint8_t *t = f + 34;
	size_t hl = 20 + opt_len;

	t_eth(f, dst_mac, src_mac, 0x0800);
	t_put16(t, sport);
	t_put16(t + 2, dport);
	t_put32(t + 4, seq);
	t_put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	t_put16(t + 14, wnd);
	t_put32(t + 16, 0);
	if (opt_len)
		memcpy(t + 20, opt, opt_len);
	if (len)
		memcpy(t + hl, data, len);
	t_put16(t + 16, t_cksum(t_pseudo(src, dst, 6, (uint32_t)(hl + len)),
				t, hl + len));
	return t_ip(f, src, dst, 6, hl + len);
}

/* -------------------------------------------------------------- capture */

#define CAP_FRAMES 64

struct cap {
	struct cub_netif nif;
	uint8_t frame[CAP_FRAMES][CUB_ETH_FRAME_MAX];
	size_t len[CAP_FRAMES];
	unsigned n;			/* frames kept */
	int fail;			/* when nonzero, send returns it */
};

static inline int cap_send(struct cub_netif *nif, const void *frame,
			   size_t len)
{
	struct cap *c = cub_netif_driver(nif);

	if (c->fail)
		return c->fail;
	if (c->n == CAP_FRAMES || len < 14 || len > CUB_ETH_FRAME_MAX)
		return -CUB_EAGAIN;
	memcpy(c->frame[c->n], frame, len);
	c->len[c->n++] = len;
	return 0;
}

static const struct cub_netif_ops cap_ops = { .send = cap_send };

/* ----------------------------------------------------------------- wire */

struct wire_frame {
	int to;				/* end index */
	size_t len;
	uint8_t data[CUB_ETH_FRAME_MAX];
};

#ifndef WIRE_QUEUE			/* a test may want a longer one */
#define WIRE_QUEUE 64
#endif
#define WIRE_TAP 8

struct wire;

struct wire_end {
	struct cub_netif nif;
	struct wire *w;
	int side;
};

struct wire {
	struct wire_end end[2];
	struct cub_chan ch;
	struct wire_frame q[WIRE_QUEUE];
	struct wire_frame tap[WIRE_TAP];	/* last frames delivered */
	unsigned delivered;
	unsigned full;			/* sends refused: queue full */
	struct cub_coro *coro;
	/* Optional hook: may change or drop (return false) a frame in
	 * flight; runs in the wire coroutine. */
	bool (*filter)(struct wire *w, struct wire_frame *f);
	void *arg;
	/* Faults, all off by default: drop the frame numbered drop_nth
	 * (1 = the next one carried; 0: none), and per mille of frames at
	 * random (seeded by rng): drop, duplicate, or hold one back until
	 * the next has passed (reorder). Counted in dropped / duplicated /
	 * reordered. */
	unsigned drop_nth, carried;
	unsigned drop_pm, dup_pm, reorder_pm;
	uint64_t rng;
	unsigned dropped, duplicated, reordered;
	bool holding;
	struct wire_frame held;
};

static inline int wire_send(struct cub_netif *nif, const void *frame,
			    size_t len)
{
	struct wire_end *e = cub_netif_driver(nif);
	struct wire_frame f;

	f.to = 1 - e->side;
	f.len = len;
	memcpy(f.data, frame, len);
	if (cub_chan_try_send(&e->w->ch, &f) < 0) {
		e->w->full++;
		return -CUB_EAGAIN;
	}
	return 0;
}

static const struct cub_netif_ops wire_ops = { .send = wire_send };

/* xorshift64*: the wire's own random numbers (0..999). */
static inline unsigned wire_rand(struct wire *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (unsigned)((w->rng * 0x2545f4914f6cdd1dull) >> 33) % 1000;
}

static inline void wire_deliver(struct wire *w, struct wire_frame *f)
{
	w->tap[w->delivered++ % WIRE_TAP] = *f;
	cub_netif_input(&w->end[f->to].nif, f->data, f->len);
}

/* The faults of struct wire; false when f is dropped or held back. */
static inline bool wire_faults(struct wire *w, struct wire_frame *f,
			       bool *dup)
{
	*dup = false;
	if (++w->carried == w->drop_nth) {
		w->dropped++;
		return false;
	}
	if (!w->drop_pm && !w->dup_pm && !w->reorder_pm)
		return true;
	if (wire_rand(w) < w->drop_pm) {
		w->dropped++;
		return false;
	}
	if (!w->holding && wire_rand(w) < w->reorder_pm) {
		w->held = *f;
		w->holding = true;
		w->reordered++;
		return false;
	}
	*dup = wire_rand(w) < w->dup_pm;
	w->duplicated += *dup;
	return true;
}

static inline void *wire_main(void *arg)
{
	struct wire *w = arg;
	static struct wire_frame f;	/* one wire at a time */
	bool dup;

	for (;;) {
		if (w->holding && cub_chan_len(&w->ch) == 0) {
			w->holding = false;	/* nothing to pass it */
			wire_deliver(w, &w->held);
		}
		if (cub_chan_recv(&w->ch, &f) != 1)
			break;
		if (w->filter && !w->filter(w, &f))
			continue;
		if (!wire_faults(w, &f, &dup))
			continue;
		wire_deliver(w, &f);
		if (dup)
			wire_deliver(w, &f);
		if (w->holding && w->held.to == f.to) {
			w->holding = false;
			wire_deliver(w, &w->held);
		}
	}
	return NULL;
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
#define IP_A CUB_IP4(10, 0, 0, 1)
#define IP_B CUB_IP4(10, 0, 0, 2)
#define IP_NOBODY CUB_IP4(10, 0, 0, 77)

/* Two interfaces A (10.0.0.1/24) and B (10.0.0.2/24) on a wire, and the
 * coroutine that carries its frames. Contexts: task. */
static inline int wire_start(struct wire *w)
{
	int r;

	memset(w, 0, sizeof(*w));
	r = cub_chan_init(&w->ch, sizeof(struct wire_frame), WIRE_QUEUE, w->q);
	for (int i = 0; i < 2 && !r; i++) {
		w->end[i].w = w;
		w->end[i].side = i;
		r = cub_netif_init(&w->end[i].nif, i ? "B" : "A",
				   i ? MAC_B : MAC_A, &wire_ops, &w->end[i]);
	}
	if (!r)
		r = cub_netif_configure(&w->end[0].nif, IP_A, 24, 0);
	if (!r)
		r = cub_netif_configure(&w->end[1].nif, IP_B, 24, 0);
	if (!r)
		r = cub_coro_spawn(&w->coro, wire_main, w, NULL);
	return r;
}

/* Lets the wire deliver what is queued (and what that answers). */
static inline void wire_settle(struct wire *w)
{
	for (int i = 0; i < 8 || cub_chan_len(&w->ch); i++)
		cub_coro_yield();
}

static inline void wire_stop(struct wire *w)
{
	wire_settle(w);
	cub_chan_close(&w->ch);
	cub_coro_join(w->coro, NULL);
}

#endif
