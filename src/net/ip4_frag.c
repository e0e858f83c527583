/*
 * ip4_frag.c - IPv4 fragmentation (sending) and reassembly (receiving),
 * RFC 791 3.2 and RFC 815.
 *
 * Reassembly: a fragment is held in the slot of its datagram, keyed by
 * (source, destination, protocol, identification), one of the first
 * nslots() of struct cub_netif's CUB_IP4_REASM_SLOTS_MAX (the
 * interface's reasm_slots, CUB_IP4_REASM_SLOTS by default, set at run
 * time by cub_ip4_set_reasm_slots). A slot's buffer (RA_SIZE
 * bytes, about 68 KiB) is allocated when the first fragment of a datagram
 * arrives and freed when the datagram completes, times out, is evicted
 * or dropped: an interface that never sees a fragment costs nothing, and
 * at most nslots() buffers exist per interface (one
 * allocation per fragmented datagram that finds a free slot, none per
 * fragment; an evicted datagram's buffer passes to the new one). It holds room
 * for the Ethernet and IPv4 headers of the offset-0 fragment (copied
 * there, so that the whole datagram is one contiguous frame for the
 * protocol input), the payload at its offset, and three bitmaps over
 * 8-byte blocks: held, a fragment starts, a fragment ends.
 *
 * Invariants (nif->lock held):
 *  - slot s is free iff s->buf == NULL; reasm_busy counts the busy ones,
 *    all among the first nslots() (lowering the count frees the rest);
 *  - the held fragments of a busy slot do not overlap; held is the sum
 *    of their lengths, top the largest end; end, once nonzero, is the
 *    final fragment's end and top <= end; the datagram is complete iff
 *    end != 0 && held == end (then every byte of [0, end) is held);
 *  - a non-final fragment is a multiple of 8 bytes, so only the final
 *    one may end inside a block, and no other fragment may touch it.
 * Rules: an exact duplicate (same offset and length as a held fragment)
 * is dropped alone; any other overlap, a final fragment that disagrees
 * with the known end, or data beyond it drop the whole datagram (RFC
 * 5722's rule, which Linux applies to IPv4). All slots busy: the oldest
 * datagram is evicted for the new one. Timeouts are noticed lazily: by
 * cubi_ip4_reasm_expire on every IPv4 frame while a slot is busy, and by
 * cub_ip4_reasm_busy. A timed-out datagram whose offset-0 fragment came
 * (ihl != 0: its Ethernet and IPv4 headers and at least 8 payload bytes
 * are in the buffer) is reported to its sender with an ICMP time
 * exceeded (icmp.c, cubi_icmp_reasm_timeout, which applies the rules
 * and the rate limit); an evicted or conflicting one is not.
 *
 * Fragmentation: cubi_ip4_send builds each fragment in the caller's one
 * frame buffer, copying its part of the message; nothing is allocated.
 */
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

/* The reassembly buffer's layout. */
#define RA_PAYLOAD (CUB_ETH_HLEN + 60)		/* room for the headers */
#define RA_BLOCKS (65536 / 8)
#define RA_HELD (RA_PAYLOAD + 65536)
#define RA_START (RA_HELD + RA_BLOCKS / 8)
#define RA_END (RA_START + RA_BLOCKS / 8)
#define RA_SIZE (RA_END + RA_BLOCKS / 8)

#define FRAG_TX_TRIES 200			/* -CUB_EAGAIN: 10 ms */
#define FRAG_TX_RETRY_NS (50ull * 1000)

static bool bit(const uint8_t *map, size_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *map, size_t i)
{
	map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* The slots new datagrams may take: reasm[0..nslots). */
static unsigned nslots(const struct cub_netif *nif)
{
	return nif->reasm_slots ? nif->reasm_slots : CUB_IP4_REASM_SLOTS;
}

static void slot_free(struct cub_netif *nif, struct cubi_ip4_reasm *s)
{
	cub_free(s->buf);
	cub_memset(s, 0, sizeof(*s));
	nif->reasm_busy--;
}

/* Tells the sender of s's timed-out datagram, when its offset-0
 * fragment came: its headers lie in front of the payload, which holds
 * at least that fragment's 8 bytes (a non-final fragment is a nonzero
 * multiple of 8). */
static void report_timeout(struct cub_netif *nif,
			   const struct cubi_ip4_reasm *s)
{
	const uint8_t *ip = s->buf + RA_PAYLOAD - s->ihl;
	struct cubi_ip4_pkt p = {
		.frame = ip - CUB_ETH_HLEN, .ip = ip, .ihl = s->ihl,
		.l4 = s->buf + RA_PAYLOAD, .l4len = 8,
		.src = s->src, .dst = s->dst, .bcast = s->bcast,
	};

	if (s->ihl)
		cubi_icmp_reasm_timeout(nif, &p);
}

/* Contexts: task, nif->lock held. */
void cubi_ip4_reasm_expire(struct cub_netif *nif)
{
	uint64_t now = cub_time_now();

	for (unsigned i = 0; i < nslots(nif); i++) {
		struct cubi_ip4_reasm *s = &nif->reasm[i];

		if (s->buf && now >= s->expires) {
			nif->st.ip_reasm_timeouts++;
			report_timeout(nif, s);
			slot_free(nif, s);
		}
	}
}

/* The busy slot of p's datagram, or NULL. */
static struct cubi_ip4_reasm *slot_find(struct cub_netif *nif,
					const struct cubi_ip4_pkt *p)
{
	for (unsigned i = 0; i < nslots(nif); i++) {
		struct cubi_ip4_reasm *s = &nif->reasm[i];

		if (s->buf && s->src == p->src && s->dst == p->dst &&
		    s->proto == p->ip[9] && s->id == get16(p->ip + 4))
			return s;
	}
	return NULL;
}

/* A slot for p's new datagram: a free one with a new buffer, else the
 * oldest, evicted, with its buffer (so that a flood of fragments of new
 * datagrams allocates nothing once the slots are busy). NULL when the
 * heap has no buffer (counted). */
static struct cubi_ip4_reasm *slot_new(struct cub_netif *nif,
				       const struct cubi_ip4_pkt *p)
{
	struct cubi_ip4_reasm *s = NULL;
	uint64_t now = cub_time_now();
	uint8_t *buf;

	for (unsigned i = 0; i < nslots(nif); i++) {
		struct cubi_ip4_reasm *t = &nif->reasm[i];

		if (!t->buf) {
			s = t;
			break;
		}
		if (!s || t->born < s->born)
			s = t;
	}
	if (s->buf) {
		nif->st.ip_reasm_evicted++;
		buf = s->buf;
		s->buf = NULL;
		slot_free(nif, s);		/* frees nothing: buf kept */
	} else if (!(buf = cub_malloc(RA_SIZE))) {
		nif->st.ip_frag_nomem++;
		return NULL;
	}
	cub_memset(s, 0, sizeof(*s));
	cub_memset(buf + RA_HELD, 0, RA_SIZE - RA_HELD);
	s->buf = buf;
	s->src = p->src;
	s->dst = p->dst;
	s->proto = p->ip[9];
	s->id = get16(p->ip + 4);
	s->bcast = p->bcast;
	s->born = now;
	s->expires = cubi_deadline(now, nif->reasm_ns ? nif->reasm_ns :
					CUB_IP4_REASM_NS);
	nif->reasm_busy++;
	return s;
}

/* Where [b0, b1) (blocks) stands against what s holds: 0 free, 1 an
 * exact duplicate of one held fragment, -1 an overlap. */
static int overlap(const struct cubi_ip4_reasm *s, size_t b0, size_t b1)
{
	const uint8_t *held = s->buf + RA_HELD;
	bool any = false, all = true;

	for (size_t b = b0; b < b1; b++) {
		if (bit(held, b))
			any = true;
		else
			all = false;
	}
	if (!any)
		return 0;
	if (!all || !bit(s->buf + RA_START, b0) || !bit(s->buf + RA_END, b1 - 1))
		return -1;
	for (size_t b = b0 + 1; b < b1; b++)
		if (bit(s->buf + RA_START, b))
			return -1;
	return 1;
}

/* Whether p's fragment [off, stop) (final when !mf) contradicts the end
 * of s's datagram: beyond a known end, a second, different end, held
 * data beyond it, or a datagram over 65535 bytes with the offset-0
 * fragment's header. */
static bool end_conflict(const struct cubi_ip4_reasm *s,
			 const struct cubi_ip4_pkt *p, size_t stop, bool mf)
{
	size_t ihl = s->ihl ? s->ihl : p->ihl, top = CUB_MAX(s->top, stop);

	if (s->end && (stop > s->end || (!mf && stop != s->end)))
		return true;
	if (!mf && s->top > stop)
		return true;
	/* The offset-0 fragment's header may be longer than this one's. */
	return ihl + top > CUB_IP4_DATAGRAM_MAX ||
	       (stop == p->l4len && p->ihl + s->top > CUB_IP4_DATAGRAM_MAX);
}

/* Copies the offset-0 fragment's Ethernet and IPv4 headers in front of
 * the payload, its total length and flags made the whole datagram's. */
static void keep_headers(struct cubi_ip4_reasm *s,
			 const struct cubi_ip4_pkt *p)
{
	uint8_t *ip = s->buf + RA_PAYLOAD - p->ihl;

	cub_memcpy(ip - CUB_ETH_HLEN, p->frame, CUB_ETH_HLEN);
	cub_memcpy(ip, p->ip, p->ihl);
	s->ihl = (uint8_t)p->ihl;
}

/* Hands s's complete datagram to its protocol, then frees s. */
static void deliver(struct cub_netif *nif, struct cubi_ip4_reasm *s,
		    bool bcast)
{
	uint8_t *ip = s->buf + RA_PAYLOAD - s->ihl;
	struct cubi_ip4_pkt p = {
		.frame = ip - CUB_ETH_HLEN, .ip = ip, .ihl = s->ihl,
		.l4 = s->buf + RA_PAYLOAD, .l4len = s->end,
		.src = s->src, .dst = s->dst, .bcast = bcast,
	};

	put16(ip + 2, (uint16_t)(s->ihl + s->end));
	put16(ip + 6, 0);
	put16(ip + 10, 0);
	put16(ip + 10, cubi_cksum_fold(cubi_cksum_add(0, ip, s->ihl)));
	nif->st.ip_reassembled++;
	cubi_ip4_deliver(nif, &p);
	slot_free(nif, s);
}

/* Whether p's fragment is well formed alone: not empty, a multiple of 8
 * unless final, inside a 65535-byte datagram. */
static bool frag_ok(const struct cubi_ip4_pkt *p, size_t off, bool mf)
{
	if (p->l4len == 0 || (mf && p->l4len % 8))
		return false;
	return p->ihl + off + p->l4len <= CUB_IP4_DATAGRAM_MAX;
}

/* Contexts: task, nif->lock held. */
void cubi_ip4_frag_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p)
{
	struct cub_netif_stats *st = &nif->st;
	uint16_t fl = get16(p->ip + 6);
	size_t off = (size_t)(fl & IP4_OFFSET_MASK) * 8;
	size_t stop = off + p->l4len, b0 = off / 8, b1 = (stop + 7) / 8;
	bool mf = fl & IP4_FLAG_MF;
	struct cubi_ip4_reasm *s;
	int o;

	st->ip_fragments++;
	if (!frag_ok(p, off, mf)) {
		st->ip_frag_bad++;
		return;
	}
	s = slot_find(nif, p);
	if (!s && !(s = slot_new(nif, p)))
		return;
	o = end_conflict(s, p, stop, mf) ? -1 : overlap(s, b0, b1);
	if (o) {
		if (o > 0) {
			st->ip_frag_dup++;
			return;
		}
		st->ip_frag_conflict++;
		slot_free(nif, s);
		return;
	}
	st->ip_frag_queued++;
	cub_memcpy(s->buf + RA_PAYLOAD + off, p->l4, p->l4len);
	for (size_t b = b0; b < b1; b++)
		set_bit(s->buf + RA_HELD, b);
	set_bit(s->buf + RA_START, b0);
	set_bit(s->buf + RA_END, b1 - 1);
	s->held += (uint32_t)p->l4len;
	s->top = CUB_MAX(s->top, (uint32_t)stop);
	if (!mf)
		s->end = (uint32_t)stop;
	if (off == 0)
		keep_headers(s, p);
	if (s->end && s->held == s->end)
		deliver(nif, s, p->bcast);
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_ip4_set_reasm_timeout(struct cub_netif *nif, uint64_t timeout_ns)
{
	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	nif->reasm_ns = timeout_ns;
	for (unsigned i = 0; i < nslots(nif); i++) {
		struct cubi_ip4_reasm *s = &nif->reasm[i];

		if (s->buf)
			s->expires = cubi_deadline(s->born, timeout_ns ?
						   timeout_ns : CUB_IP4_REASM_NS);
	}
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. Fewer slots: the datagrams
 * held beyond them are dropped, so that the busy slots stay among the
 * first nslots() and no buffer outlives its slot's use. */
int cub_ip4_set_reasm_slots(struct cub_netif *nif, unsigned slots)
{
	if (!nif || slots == 0 || slots > CUB_IP4_REASM_SLOTS_MAX)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	for (unsigned i = slots; i < nslots(nif); i++) {
		struct cubi_ip4_reasm *s = &nif->reasm[i];

		if (s->buf) {
			nif->st.ip_reasm_evicted++;
			slot_free(nif, s);
		}
	}
	nif->reasm_slots = slots;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_ip4_reasm_busy(struct cub_netif *nif)
{
	int n;

	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	cubi_ip4_reasm_expire(nif);
	n = (int)nif->reasm_busy;
	cub_mutex_unlock(&nif->lock);
	return n;
}

/* ---------------------------------------------------------------- send */

/* Contexts: any. */
void cubi_ip4_copy_linear(const void *arg, uint8_t *to, size_t off, size_t n)
{
	cub_memcpy(to, (const uint8_t *)arg + off, n);
}

/* Contexts: any. */
uint32_t cubi_ip4_msg_sum(const struct cubi_ip4_msg *m, uint8_t *scratch)
{
	uint32_t sum = 0;

	if (m->copy == cubi_ip4_copy_linear)
		return m->len ? cubi_cksum_add(0, m->arg, m->len) : 0;
	/* Chunks of an even length keep the bytes' positions in the sum. */
	for (size_t off = 0, n; off < m->len; off += n) {
		n = CUB_MIN(m->len - off, (size_t)IP4_L4_MAX);
		m->copy(m->arg, scratch, off, n);
		sum = cubi_cksum_add(sum, scratch, n);	/* each adds < 2^17 */
	}
	return sum;
}

/* Bytes [off, off + n) of m (header, then payload) into to. */
static void msg_bytes(const struct cubi_ip4_msg *m, uint8_t *to, size_t off,
		      size_t n)
{
	if (off < m->hlen) {
		size_t k = CUB_MIN(n, m->hlen - off);

		cub_memcpy(to, m->hdr + off, k);
		to += k;
		off += k;
		n -= k;
	}
	if (n)
		m->copy(m->arg, to, off - m->hlen, n);
}

/* Sends one fragment frame, waiting out a full transmit ring for a while
 * (the rest of the datagram would be lost with it). Counts as
 * cubi_eth_output does. */
static int frag_xmit(struct cub_netif *nif, uint8_t *f, size_t len,
		     const uint8_t mac[6])
{
	int r;

	cub_memcpy(f + ETH_OFF_DST, mac, 6);
	cub_memcpy(f + ETH_OFF_SRC, nif->mac, 6);
	put16(f + ETH_OFF_TYPE, ETH_TYPE_IP4);
	r = nif->ops->send(nif, f, len);
	for (int i = 0; r == -CUB_EAGAIN && i < FRAG_TX_TRIES; i++) {
		cub_sleep(FRAG_TX_RETRY_NS);
		r = nif->ops->send(nif, f, len);
	}
	if (r < 0) {
		nif->st.tx_errors++;
		return r;
	}
	nif->st.tx_frames++;
	nif->st.tx_bytes += len;
	nif->st.ip_frag_tx++;
	return 0;
}

/* Contexts: task, nif->lock held. */
int cubi_ip4_send(struct cub_netif *nif, uint8_t *f,
		  const struct cubi_ip4_msg *m, const uint8_t mac[6],
		  cub_ip4_t dst, uint8_t proto)
{
	size_t l4len = m->hlen + m->len;
	uint16_t id;

	if (l4len <= IP4_L4_MAX) {
		msg_bytes(m, f + NET_L4_OFF, 0, l4len);
		return cubi_ip4_output(nif, f, l4len, mac, dst, proto);
	}
	CUB_ASSERT(l4len <= IP4_DATAGRAM_L4_MAX);
	id = nif->ip_id++;
	for (size_t off = 0, n; off < l4len; off += n) {
		bool more = l4len - off > IP4_L4_MAX;
		int r;

		n = more ? IP4_L4_MAX : l4len - off;
		msg_bytes(m, f + NET_L4_OFF, off, n);
		cubi_ip4_header(nif, f + CUB_ETH_HLEN, n, id,
				(uint16_t)((more ? IP4_FLAG_MF : 0) | off / 8),
				dst, proto);
		r = frag_xmit(nif, f, NET_L4_OFF + n, mac);
		if (r < 0)
			return r;
	}
	return 0;
}
