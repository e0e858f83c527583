/*
 * dhcp_fake.h - the fake DHCP server and harness shared by test_net_dhcp
 * and test_net_dhcp_keep. Interface A (the client, unconfigured) and B
 * (10.0.2.2/24) share the in-memory wire of net_test.h; on B a server
 * coroutine with a UDP endpoint on port 67 builds BOOTP/DHCP replies by
 * hand (RFC 2131, options RFC 2132) and broadcasts them to
 * 255.255.255.255:68 or, as a test chooses, unicasts them to the offered
 * address and the client's MAC (a frame of its own, as real servers do
 * without ARP). A REQUEST from a client that holds an address (ciaddr
 * set: renewing or rebinding) is answered by unicast to ciaddr through
 * the stack, a NAK by broadcast (RFC 2131 4.1); a DECLINE or RELEASE is
 * counted (a DECLINE may move the server on to another address). A wire
 * filter keeps every message A sends to port 67 with its arrival time,
 * and every ARP packet A sends; a probe (sender 0.0.0.0) for an address
 * the test says is taken is answered by a fake neighbour (MAC_X) as the
 * test chooses (every probe, or only the n-th: the others lost). Included by one test program each: everything is
 * static.
 */
#ifndef DHCP_FAKE_H
#define DHCP_FAKE_H

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "net_unit.h"

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

#define SRV_IP CUB_IP4(10, 0, 2, 2)
#define OFFER_IP CUB_IP4(10, 0, 2, 15)
#define OTHER_IP CUB_IP4(10, 0, 2, 66)	/* what bad replies offer */
#define DNS_IP CUB_IP4(10, 0, 2, 3)
#define DNS2_IP CUB_IP4(10, 0, 2, 4)
#define OTHER_SRV CUB_IP4(10, 0, 2, 9)

/* DHCP wire constants, written out here independently of dhcp.c. */
#define HDR 236
#define COOKIE 0x63825363u
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6,
       RELEASE = 7 };

/* ------------------------------------------------- what A sent, in order */

#define MSGS 16

struct sent {
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t len;
	uint64_t t;			/* when the wire carried it */
};

static struct sent sent[MSGS];
static unsigned nsent;
static cub_ip4_t last_dst;		/* of the last message A sent to 67 */

#define ARPS 16
static struct sent arps[ARPS];		/* A's ARP packets, in order */
static unsigned narps;

/* The fake neighbour that holds the addresses in S.taken. */
static const uint8_t MAC_X[6] = { 0x02, 0, 0, 0, 0, 0x0c };
#define NEXT_IP CUB_IP4(10, 0, 2, 16)	/* offered after a DECLINE */

/* How the neighbour meets a probe of one of its addresses. */
enum holder {
	HOLDER_REPLY,		/* a reply from the address (as Linux sends:
				 * target 0.0.0.0, to the prober's MAC) */
	HOLDER_PROBE,		/* a probe of its own for it (RFC 5227 2.1.1) */
	HOLDER_NOISE,		/* ARP about other addresses, A's own probe
				 * echoed back, a malformed reply from the
				 * address: no conflict */
};

static void fake_arp(const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
		     cub_ip4_t spa, const uint8_t tha[6], cub_ip4_t tpa);
static void answer_probe(const uint8_t *f);

/* The wire filter: keeps A's UDP datagrams to port 67 and its ARP
 * packets, and answers its probes. */
static bool keep_dhcp(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to == 1 && f->len >= 42 && t_get16(f->data + 12) == 0x0806) {
		if (narps < ARPS) {
			memcpy(arps[narps].f, f->data, 42);
			arps[narps].len = f->len;
			arps[narps++].t = cub_time_now();
		}
		answer_probe(f->data);
	}
	if (f->to == 1 && f->len >= 42 && t_get16(f->data + 12) == 0x0800 &&
	    f->data[23] == 17 && t_get16(f->data + 36) == 67)
		last_dst = t_get32(f->data + 30);
	if (f->to == 1 && f->len >= 42 && t_get16(f->data + 12) == 0x0800 &&
	    f->data[23] == 17 && t_get16(f->data + 36) == 67 && nsent < MSGS) {
		memcpy(sent[nsent].f, f->data, f->len);
		sent[nsent].len = f->len;
		sent[nsent].t = cub_time_now();
		nsent++;
	}
	return true;
}

/* The BOOTP message in sent frame i, and its length. */
static inline const uint8_t *msg_of(unsigned i, size_t *len)
{
	*len = sent[i].len - 42;
	return sent[i].f + 42;
}

/* Finds option code in the options of message m (n bytes): its value
 * and *olen, or NULL. Fails the test on a malformed option area. */
static inline const uint8_t *find_opt(const uint8_t *m, size_t n, uint8_t code,
			       size_t *olen)
{
	size_t at = HDR + 4;

	while (at < n && m[at] != 255) {
		if (m[at] == 0) {
			at++;
			continue;
		}
		assert_true(at + 2 <= n && at + 2 + m[at + 1] <= n);
		if (m[at] == code) {
			*olen = m[at + 1];
			return m + at + 2;
		}
		at += 2 + (size_t)m[at + 1];
	}
	assert_true(at < n);		/* an END option */
	return NULL;
}

/* ---------------------------------------------------------- the server */

/* Ways to spoil a reply: each makes the client ignore it. */
enum bad {
	GOOD,
	BAD_OP,			/* a BOOTREQUEST */
	BAD_HTYPE,		/* not Ethernet */
	BAD_XID,
	BAD_CHADDR,
	NO_COOKIE,
	PAST_END,		/* the last option runs past the datagram */
	NO_TYPE,
	NO_SERVER,
	YIADDR_0,
	YIADDR_BCAST,
	YIADDR_MCAST,
	YIADDR_SUBNET_BCAST,	/* 10.0.2.255 in a /24 */
	YIADDR_SUBNET_ZERO,	/* 10.0.2.0 in a /24: the network */
	MASK_HOLES,
	MASK_SHORT,		/* a mask option of 3 bytes: the class's prefix
				 * was configured (found by model_replies) */
	ROUTER_ODD,		/* a router option of 5 bytes */
	OVERLOAD,		/* option 52: options in file, not read */
	NO_LEASE,		/* no lease time option (a MUST: RFC 2131
				 * table 3); was taken as an infinite lease
				 * (found by model_replies) */
	LEASE_0,		/* a lease of 0 s: was infinite too */
	SHORT,			/* shorter than the fixed part */
	WRONG_TYPE,		/* an ACK while selecting, an OFFER after */
	OTHER_SERVER,		/* (REQUEST phase) server ID of another */
	OTHER_ADDR,		/* (REQUEST phase) ACK for another address */
	NAK_OTHER_SERVER,	/* (REQUEST phase) another server's NAK */
	NBAD
};

struct dsrv {
	struct cub_udp u;
	struct cub_coro *coro;
	cub_ip4_t id, yiaddr, mask, router, dns;
	cub_ip4_t dns_more[4];		/* option 6's servers after DNS2_IP */
	unsigned dns_more_n;
	uint32_t lease, t1, t2;		/* t1, t2: options 58, 59 when not 0 */
	bool no_mask, unicast;
	unsigned skip_discovers, skip_requests, naks;
	unsigned bad_offers, bad_acks;	/* 1 << enum bad, sent first */
	unsigned discovers, requests;	/* received */
	/* REQUESTs with ciaddr set: unicast ones renew, broadcast ones
	 * rebind. Dropped while drop_* (a count, ~0u: all), NAKed while
	 * nak_keeps. */
	unsigned renews, rebinds, drop_renews, drop_rebinds, nak_keeps;
	cub_ip4_t taken[2];		/* the neighbour's addresses (0: none) */
	enum holder how;
	unsigned probes_seen;		/* A's probes (sender 0.0.0.0) so far */
	unsigned answer_only;		/* 0: the neighbour answers every probe
					 * of its addresses; n: only A's n-th
					 * probe (the others lost) */
	cub_ip4_t after_decline;	/* offered from the first DECLINE on */
	unsigned declines, releases;	/* received */
};

static struct dsrv S;

static void dsrv_defaults(void)
{
	memset(&S, 0, sizeof(S));
	S.id = SRV_IP;
	S.yiaddr = OFFER_IP;
	S.mask = CUB_IP4(255, 255, 255, 0);
	S.router = SRV_IP;
	S.dns = DNS_IP;
	S.lease = 3600;
}

/* The message type of the client message m (n bytes), 0 when absent. */
static unsigned type_of(const uint8_t *m, size_t n)
{
	size_t at = HDR + 4;

	if (n < at || t_get32(m + HDR) != COOKIE)
		return 0;
	while (at + 2 <= n && m[at] != 255) {
		if (m[at] == 0) {
			at++;
			continue;
		}
		if (m[at] == 53 && m[at + 1] == 1 && at + 3 <= n)
			return m[at + 2];
		at += 2 + (size_t)m[at + 1];
	}
	return 0;
}

/* Builds the server's reply of `type` to client message req, spoilt as
 * `bad` says, into r; returns its length. */
static size_t build_reply(const uint8_t *req, uint8_t *r, unsigned type,
			  enum bad bad)
{
	cub_ip4_t yi = type == NAK ? 0 :
		       bad == GOOD || bad == OTHER_SERVER ? S.yiaddr : OTHER_IP;
	cub_ip4_t mask = S.mask;
	size_t at = HDR + 4;

	memset(r, 0, 600);
	if (bad == YIADDR_0)
		yi = 0;
	else if (bad == YIADDR_BCAST)
		yi = CUB_IP4_BROADCAST;
	else if (bad == YIADDR_MCAST)
		yi = CUB_IP4(224, 0, 0, 5);
	else if (bad == YIADDR_SUBNET_BCAST)
		yi = CUB_IP4(10, 0, 2, 255), mask = CUB_IP4(255, 255, 255, 0);
	else if (bad == YIADDR_SUBNET_ZERO)
		yi = CUB_IP4(10, 0, 2, 0), mask = CUB_IP4(255, 255, 255, 0);
	else if (bad == MASK_HOLES)
		mask = CUB_IP4(255, 0, 255, 0);
	else if (bad == OTHER_ADDR)
		yi = OTHER_IP;
	else if (bad == WRONG_TYPE)
		type = type == OFFER ? ACK : OFFER;
	r[0] = bad == BAD_OP ? 1 : 2;
	r[1] = bad == BAD_HTYPE ? 6 : 1;
	r[2] = 6;
	memcpy(r + 4, req + 4, 4);	/* xid */
	if (bad == BAD_XID)
		r[7] ^= 0x40;
	memcpy(r + 10, req + 10, 6);	/* flags, ciaddr */
	t_put32(r + 16, yi);
	t_put32(r + 20, S.id);		/* siaddr: next server */
	memcpy(r + 28, req + 28, 16);	/* chaddr */
	if (bad == BAD_CHADDR)
		r[33] ^= 1;
	if (bad != NO_COOKIE)
		t_put32(r + HDR, COOKIE);
	if (bad != NO_TYPE)
		r[at++] = 53, r[at++] = 1, r[at++] = (uint8_t)type;
	if (bad != NO_SERVER) {
		r[at++] = 54, r[at++] = 4;
		t_put32(r + at, bad == OTHER_SERVER || bad == NAK_OTHER_SERVER ?
			OTHER_SRV : S.id);
		at += 4;
	}
	if (type != NAK) {
		if (bad != NO_LEASE)
			r[at++] = 51, r[at++] = 4,
			t_put32(r + at, bad == LEASE_0 ? 0 : S.lease), at += 4;
		if (S.t1)
			r[at++] = 58, r[at++] = 4, t_put32(r + at, S.t1), at += 4;
		if (S.t2)
			r[at++] = 59, r[at++] = 4, t_put32(r + at, S.t2), at += 4;
		if (bad == OVERLOAD)
			r[at++] = 52, r[at++] = 1, r[at++] = 1;
		if (bad == MASK_SHORT)
			r[at++] = 1, r[at++] = 3, t_put32(r + at, mask), at += 3;
		else if (!S.no_mask)
			r[at++] = 1, r[at++] = 4, t_put32(r + at, mask), at += 4;
		if (bad == ROUTER_ODD)
			r[at++] = 3, r[at++] = 5, t_put32(r + at, S.router), r[at + 4] = 0, at += 5;
		r[at++] = 0;		/* a pad between options */
		if (S.router) {
			r[at++] = 3, r[at++] = 8, t_put32(r + at, S.router);
			t_put32(r + at + 4, CUB_IP4(10, 0, 2, 254));
			at += 8;
		}
		if (S.dns) {
			r[at++] = 6, r[at++] = (uint8_t)(8 + 4 * S.dns_more_n);
			t_put32(r + at, S.dns);
			t_put32(r + at + 4, DNS2_IP);
			at += 8;
			for (unsigned i = 0; i < S.dns_more_n; i++, at += 4)
				t_put32(r + at, S.dns_more[i]);
		}
		r[at++] = 12, r[at++] = 4, memcpy(r + at, "host", 4), at += 4;
	}
	if (bad == PAST_END) {
		r[at++] = 12, r[at++] = 40, r[at++] = 'h', r[at++] = 'o';
		return at;		/* 38 bytes short */
	}
	if (bad == SHORT)
		return 200;
	r[at++] = 255;
	return at < 300 ? 300 : at;
}

/* Sends reply r (n bytes) to the client: broadcast through the stack, or
 * unicast to yiaddr at A's MAC as a frame of our own (no ARP, as servers
 * do with the chaddr; A's, so a spoilt chaddr still reaches A). */
static void send_reply(const uint8_t *r, size_t n)
{
	cub_ip4_t yi = t_get32(r + 16), ci = t_get32(r + 12);

	if (ci && yi) {			/* an ACK to a client that has an address */
		assert_int_equal(cub_udp_sendto(&S.u, ci, 68, r, n), (int)n);
		return;
	}
	if (S.unicast && yi && r[0] == 2) {
		static uint8_t f[CUB_ETH_FRAME_MAX];
		size_t len = t_udp(f, MAC_A, MAC_B, SRV_IP, yi, 67, 68, r, n);

		assert_int_equal(wire_send(B, f, len), 0);
		return;
	}
	assert_int_equal(cub_udp_sendto(&S.u, CUB_IP4_BROADCAST, 68, r, n),
			 (int)n);
}

/* Sends a reply of each spoilt kind in mask, then the good one, letting
 * the client take each (its queue holds CUB_UDP_QUEUE_LEN). */
static void answer(const uint8_t *req, unsigned type, unsigned bad_mask)
{
	uint8_t r[600];

	for (int b = 1; b < NBAD; b++)
		if (bad_mask & (1u << b)) {
			send_reply(r, build_reply(req, r,
				   b == NAK_OTHER_SERVER ? NAK : type,
				   (enum bad)b));
			wire_settle(&W);
		}
	send_reply(r, build_reply(req, r, type, GOOD));
}

static void *dsrv_main(void *arg)
{
	uint8_t m[1500];
	int n;

	(void)arg;
	while ((n = cub_udp_recvfrom(&S.u, m, sizeof(m), NULL, NULL,
				     UINT64_MAX)) >= 0) {
		unsigned type = type_of(m, (size_t)n);

		if (type == DISCOVER) {
			S.discovers++;
			if (S.skip_discovers && S.skip_discovers--)
				continue;
			answer(m, OFFER, S.bad_offers);
		} else if (type == REQUEST && t_get32(m + 12)) {
			bool renew = last_dst != CUB_IP4_BROADCAST;
			unsigned *drop = renew ? &S.drop_renews : &S.drop_rebinds;

			renew ? S.renews++ : S.rebinds++;
			if (*drop && (*drop == ~0u || (*drop)--))
				continue;
			answer(m, S.nak_keeps && S.nak_keeps-- ? NAK : ACK, 0);
		} else if (type == DECLINE) {
			S.declines++;
			if (S.after_decline)
				S.yiaddr = S.after_decline;
		} else if (type == RELEASE) {
			S.releases++;
		} else if (type == REQUEST) {
			S.requests++;
			if (S.skip_requests && S.skip_requests--)
				continue;
			if (S.naks && S.naks--)
				answer(m, NAK, 0);
			else
				answer(m, ACK, S.bad_acks);
		}
	}
	assert_int_equal(n, -CUB_EBADF);	/* closed by the test */
	return NULL;
}

/* An ARP frame from the neighbour side of the wire to A (runs in the
 * wire coroutine: queued behind what it carries). */
static void fake_arp(const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
		     cub_ip4_t spa, const uint8_t tha[6], cub_ip4_t tpa)
{
	uint8_t f[42];

	t_arp(f, eth_dst, op, sha, spa, tha, tpa);
	memcpy(f + 6, MAC_X, 6);	/* the frame is the neighbour's */
	if (op == 0x102) {		/* a reply with a bad hardware length */
		t_put16(f + 20, 2);
		f[18] = 8;
	}
	assert_int_equal(wire_send(B, f, sizeof(f)), 0);
}

/* A's ARP frame f: a probe (request from 0.0.0.0) of a taken address is
 * answered as S.how says; with HOLDER_NOISE every probe draws ARP that
 * is not a conflict. */
static void answer_probe(const uint8_t *f)
{
	static const uint8_t zero[6];
	const uint8_t *a = f + 14;
	cub_ip4_t tpa = t_get32(a + 24);
	bool taken = tpa && (tpa == S.taken[0] || tpa == S.taken[1]);

	if (t_get16(a + 6) != 1 || t_get32(a + 14) != 0)
		return;
	S.probes_seen++;
	if (S.answer_only && S.probes_seen != S.answer_only)
		return;
	if (S.how == HOLDER_NOISE) {
		fake_arp(MAC_A, 2, MAC_X, OTHER_IP, MAC_A, 0);	/* another's reply */
		fake_arp(T_BCAST, 1, MAC_X, 0, zero, OTHER_IP);	/* another probe */
		fake_arp(T_BCAST, 1, MAC_X, OTHER_IP, zero, OTHER_IP); /* announce */
		fake_arp(T_BCAST, 1, MAC_A, 0, zero, tpa);	/* A's own, echoed */
		fake_arp(MAC_A, 0x102, MAC_X, tpa, MAC_A, 0);	/* malformed */
	} else if (taken && S.how == HOLDER_REPLY) {
		fake_arp(MAC_A, 2, MAC_X, tpa, MAC_A, 0);
	} else if (taken) {
		fake_arp(T_BCAST, 1, MAC_X, 0, zero, tpa);
	}
}

/* ------------------------------------------------------------- harness */

/* The wire with A unconfigured and B at 10.0.2.2/24; the server on B
 * when `server`. */
static void start(bool server)
{
	assert_int_equal(wire_start(&W), 0);
	W.filter = keep_dhcp;
	nsent = 0;
	narps = 0;
	assert_int_equal(cub_netif_configure(A, 0, 0, 0), 0);
	assert_int_equal(cub_netif_configure(B, SRV_IP, 24, 0), 0);
	if (server) {
		assert_int_equal(cub_udp_open(&S.u, B, 67), 0);
		assert_int_equal(cub_coro_spawn(&S.coro, dsrv_main, NULL, NULL),
				 0);
	}
}

static void stop(bool server)
{
	if (server) {
		assert_int_equal(cub_udp_close(&S.u), 0);
		cub_coro_join(S.coro, NULL);
	}
	/* A's lease may still be announced (arp_defend.c): a new address
	 * ends that, and the coroutine must be gone before the next
	 * start() initialises A again. */
	assert_int_equal(cub_netif_configure(A, 0, 0, 0), 0);
	while (A->arp_timer_on)
		cub_coro_yield();
	wire_stop(&W);
	assert_int_equal(W.full, 0);
}

/* Makes p's conflict check one probe heard out for wait_ns (0: no
 * check), as the tests that are not about the probes' number and
 * spacing want: their timings stay what they were. */
static inline void set_one_probe(struct cub_dhcp_params *p, uint64_t wait_ns)
{
	p->probe_num = wait_ns ? 1 : 0;
	p->probe_wait_ns = p->probe_min_ns = p->probe_max_ns = 0;
	p->announce_wait_ns = wait_ns;
}

/* The defaults with set_one_probe(wait_ns), decline_ns after a DECLINE,
 * `declines` conflicts per run, and no announcements or defence (as the
 * tests before arp_defend.c had it). */
static inline struct cub_dhcp_params one_probe(uint64_t wait_ns, uint64_t decline_ns,
					       unsigned declines)
{
	struct cub_dhcp_params p;

	assert_int_equal(cub_dhcp_set_params(A, NULL), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	set_one_probe(&p, wait_ns);
	p.decline_wait_ns = decline_ns;
	p.max_declines = declines;
	p.announce_num = 0;
	p.announce_interval_ns = p.defend_interval_ns = 0;
	return p;
}

static inline void assert_config(cub_ip4_t addr, unsigned plen, cub_ip4_t gw)
{
	cub_ip4_t a = 1, g = 1;
	unsigned p = 99;

	assert_int_equal(cub_netif_config(A, &a, &p, &g), 0);
	assert_int_equal(a, addr);
	if (addr)
		assert_int_equal(p, plen);
	assert_int_equal(g, gw);
}

#endif
