/*
 * test_net_dhcp.c - cub_net_dhcp against a fake DHCP server. Interface A
 * (the client, unconfigured) and B (10.0.2.2/24) share the in-memory wire
 * of net_test.h; on B a server coroutine with a UDP endpoint on port 67
 * builds BOOTP/DHCP replies by hand (RFC 2131, options RFC 2132) and
 * broadcasts them to 255.255.255.255:68 or, as a test chooses, unicasts
 * them to the offered address and the client's MAC (a frame of its own,
 * as real servers do without ARP). A wire filter keeps every message A
 * sends to port 67 with its arrival time.
 *
 * Proves: the full exchange yields the lease the server gave and a
 * configured interface that pings B; the messages on the wire are what
 * RFC 2131 says (op, htype, hlen, xid, flags, chaddr, cookie, message
 * type, requested address and server ID, 0.0.0.0:68 to
 * 255.255.255.255:67, checksums); a lost DISCOVER and a lost REQUEST are
 * sent again after CUB_DHCP_RETRY_NS with the same xid; a NAK starts over
 * with a new xid; every malformed or foreign reply is ignored and counted;
 * the classful default mask; a router off the subnet is not used; no
 * server: -CUB_ETIMEDOUT in time with the interface as it was; port 68
 * bound: -CUB_EADDRINUSE; NULL arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "net_test.h"

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
enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

/* ------------------------------------------------- what A sent, in order */

#define MSGS 16

struct sent {
	uint8_t f[CUB_ETH_FRAME_MAX];
	size_t len;
	uint64_t t;			/* when the wire carried it */
};

static struct sent sent[MSGS];
static unsigned nsent;

/* The wire filter: keeps A's UDP datagrams to port 67. */
static bool keep_dhcp(struct wire *w, struct wire_frame *f)
{
	(void)w;
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
static const uint8_t *msg_of(unsigned i, size_t *len)
{
	*len = sent[i].len - 42;
	return sent[i].f + 42;
}

/* Finds option code in the options of message m (n bytes): its value
 * and *olen, or NULL. Fails the test on a malformed option area. */
static const uint8_t *find_opt(const uint8_t *m, size_t n, uint8_t code,
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

/*
 * Checks sent frame i as a client message of the given type (RFC 2131
 * table 5): Ethernet broadcast from A, IPv4 0.0.0.0 -> 255.255.255.255,
 * UDP 68 -> 67 with a correct checksum, the BOOTP fields, the options.
 * For a REQUEST, the requested address and server ID. Returns the xid.
 */
static uint32_t check_msg(unsigned i, unsigned type, cub_ip4_t req,
			  cub_ip4_t server)
{
	const uint8_t *f = sent[i].f, *ip = f + 14, *u = f + 34, *o;
	static const uint8_t zero[16];
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n);

	assert_true(i < nsent);
	assert_memory_equal(f, T_BCAST, 6);
	assert_memory_equal(f + 6, MAC_A, 6);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(t_cksum(0, ip, 20), 0);
	assert_int_equal(t_get16(ip + 2), sent[i].len - 14);
	assert_int_equal(t_get32(ip + 12), 0);
	assert_int_equal(t_get32(ip + 16), CUB_IP4_BROADCAST);
	assert_int_equal(t_get16(u), 68);
	assert_int_equal(t_get16(u + 2), 67);
	assert_int_equal(t_get16(u + 4), n + 8);
	assert_int_equal(t_cksum(t_pseudo(0, CUB_IP4_BROADCAST, 17,
					  (uint32_t)(n + 8)), u, n + 8), 0);
	assert_true(n >= 300);		/* BOOTP's minimum message */
	assert_int_equal(m[0], 1);	/* BOOTREQUEST */
	assert_int_equal(m[1], 1);	/* Ethernet */
	assert_int_equal(m[2], 6);
	assert_int_equal(m[3], 0);	/* hops */
	assert_int_equal(t_get16(m + 10), 0x8000);	/* broadcast flag */
	assert_memory_equal(m + 12, zero, 16);	/* ciaddr..giaddr */
	assert_memory_equal(m + 28, MAC_A, 6);
	assert_memory_equal(m + 34, zero, 10);
	assert_int_equal(t_get32(m + HDR), COOKIE);
	o = find_opt(m, n, 53, &olen);
	assert_non_null(o);
	assert_int_equal(olen, 1);
	assert_int_equal(o[0], type);
	o = find_opt(m, n, 50, &olen);
	if (type == REQUEST) {
		assert_non_null(o);
		assert_int_equal(olen, 4);
		assert_int_equal(t_get32(o), req);
		o = find_opt(m, n, 54, &olen);
		assert_non_null(o);
		assert_int_equal(olen, 4);
		assert_int_equal(t_get32(o), server);
	} else {
		/* A DISCOVER must not name a server (RFC 2131 table 5). */
		assert_null(find_opt(m, n, 54, &olen));
	}
	return t_get32(m + 4);
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
	uint32_t lease;
	bool no_mask, unicast;
	unsigned skip_discovers, skip_requests, naks;
	unsigned bad_offers, bad_acks;	/* 1 << enum bad, sent first */
	unsigned discovers, requests;	/* received */
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
	memcpy(r + 10, req + 10, 2);	/* flags */
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
		r[at++] = 51, r[at++] = 4, t_put32(r + at, S.lease), at += 4;
		if (!S.no_mask)
			r[at++] = 1, r[at++] = 4, t_put32(r + at, mask), at += 4;
		r[at++] = 0;		/* a pad between options */
		if (S.router) {
			r[at++] = 3, r[at++] = 8, t_put32(r + at, S.router);
			t_put32(r + at + 4, CUB_IP4(10, 0, 2, 254));
			at += 8;
		}
		if (S.dns) {
			r[at++] = 6, r[at++] = 8, t_put32(r + at, S.dns);
			t_put32(r + at + 4, DNS2_IP);
			at += 8;
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
	cub_ip4_t yi = t_get32(r + 16);

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

/* ------------------------------------------------------------- harness */

static struct cub_netif_stats stats(struct cub_netif *n)
{
	struct cub_netif_stats st;

	assert_int_equal(cub_netif_stats(n, &st), 0);
	return st;
}

static void run(cub_coro_fn fn)
{
	assert_int_equal(cub_sched_run(fn, NULL, NULL), 0);
}

/* The wire with A unconfigured and B at 10.0.2.2/24; the server on B
 * when `server`. */
static void start(bool server)
{
	assert_int_equal(wire_start(&W), 0);
	W.filter = keep_dhcp;
	nsent = 0;
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
	wire_stop(&W);
	assert_int_equal(W.full, 0);
}

static void assert_config(cub_ip4_t addr, unsigned plen, cub_ip4_t gw)
{
	cub_ip4_t a = 1, g = 1;
	unsigned p = 99;

	assert_int_equal(cub_netif_config(A, &a, &p, &g), 0);
	assert_int_equal(a, addr);
	if (addr)
		assert_int_equal(p, plen);
	assert_int_equal(g, gw);
}

/* ------------------------------------------------------------------ tests */

static void *exchange_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint32_t xid;
	uint8_t f[128];
	size_t len;

	(void)arg;
	dsrv_defaults();
	start(true);
	memset(&l, 0xa5, sizeof(l));
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(l.prefix_len, 24);
	assert_int_equal(l.gateway, SRV_IP);
	assert_int_equal(l.dns, DNS_IP);	/* the first of two */
	assert_int_equal(l.server, SRV_IP);
	assert_int_equal(l.lease_s, 3600);
	assert_int_equal(l.ignored, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	/* One DISCOVER and one REQUEST, both by the book, one xid. */
	assert_int_equal(nsent, 2);
	assert_int_equal(S.discovers, 1);
	assert_int_equal(S.requests, 1);
	xid = check_msg(0, DISCOVER, 0, 0);
	assert_int_equal(check_msg(1, REQUEST, OFFER_IP, SRV_IP), xid);
	/* The interface works: ARP both ways, a ping to the server. */
	assert_int_equal(cub_net_ping(A, SRV_IP, 1, 56, 1000 * MS, NULL), 0);
	/* The client is gone: IPv4 to another address is not taken now. */
	len = t_udp(f, MAC_A, MAC_B, SRV_IP, CUB_IP4(10, 0, 2, 99), 67, 68,
		    "x", 1);
	assert_int_equal(wire_send(B, f, len), 0);
	wire_settle(&W);
	assert_int_equal(stats(A).ip_not_ours, 1);
	stop(true);
	return NULL;
}

static void test_dhcp_exchange(void **state)
{
	(void)state;
	run(exchange_main);
}

/* The server unicasts OFFER and ACK to the offered address, and the
 * lease is infinite. */
static void *unicast_main(void *arg)
{
	struct cub_dhcp_lease l;

	(void)arg;
	dsrv_defaults();
	S.unicast = true;
	S.lease = 0xffffffffu;
	S.router = 0;
	S.dns = 0;
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(l.prefix_len, 24);
	assert_int_equal(l.gateway, 0);
	assert_int_equal(l.dns, 0);
	assert_int_equal(l.lease_s, 0xffffffffu);
	assert_int_equal(l.ignored, 0);
	assert_config(OFFER_IP, 24, 0);
	assert_int_equal(stats(A).udp_delivered, 2);
	assert_int_equal(cub_net_ping(A, SRV_IP, 1, 0, 1000 * MS, NULL), 0);
	stop(true);
	return NULL;
}

static void test_dhcp_unicast(void **state)
{
	(void)state;
	run(unicast_main);
}

/* The server ignores the first DISCOVER and the first REQUEST: each is
 * sent again after CUB_DHCP_RETRY_NS, in the same transaction. */
static void *lost_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint32_t xid;
	uint64_t t0 = cub_time_now();

	(void)arg;
	dsrv_defaults();
	S.skip_discovers = 1;
	S.skip_requests = 1;
	start(true);
	assert_int_equal(cub_net_dhcp(A, 10000 * MS, &l), 0);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(nsent, 4);
	assert_int_equal(S.discovers, 2);
	assert_int_equal(S.requests, 2);
	xid = check_msg(0, DISCOVER, 0, 0);
	assert_int_equal(check_msg(1, DISCOVER, 0, 0), xid);
	assert_int_equal(check_msg(2, REQUEST, OFFER_IP, SRV_IP), xid);
	assert_int_equal(check_msg(3, REQUEST, OFFER_IP, SRV_IP), xid);
	for (unsigned i = 1; i < 4; i += 2) {
		uint64_t gap = sent[i].t - sent[i - 1].t;

		assert_true(gap >= CUB_DHCP_RETRY_NS - 5 * MS);
		assert_true(gap < CUB_DHCP_RETRY_NS + 500 * MS);
	}
	assert_true(cub_time_now() - t0 < 2 * CUB_DHCP_RETRY_NS + 1000 * MS);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_dhcp_lost_discover_request(void **state)
{
	(void)state;
	run(lost_main);
}

/* A NAK for the first REQUEST: a new DISCOVER with a new xid at once. */
static void *nak_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint32_t x1, x2;
	uint64_t t0 = cub_time_now();

	(void)arg;
	dsrv_defaults();
	S.naks = 1;
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_true(cub_time_now() - t0 < CUB_DHCP_RETRY_NS / 2);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(l.ignored, 0);
	assert_int_equal(nsent, 4);
	x1 = check_msg(0, DISCOVER, 0, 0);
	assert_int_equal(check_msg(1, REQUEST, OFFER_IP, SRV_IP), x1);
	x2 = check_msg(2, DISCOVER, 0, 0);
	assert_int_not_equal(x2, x1);
	assert_int_equal(check_msg(3, REQUEST, OFFER_IP, SRV_IP), x2);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_dhcp_nak(void **state)
{
	(void)state;
	run(nak_main);
}

/* Before the good OFFER, one of every spoilt kind; before the good ACK,
 * the same plus replies about another server or address: all ignored
 * and counted, and the lease is the good one. Once broadcast, once
 * unicast. */
static void *ignored_main(void *arg)
{
	unsigned common = 0, offers, acks;

	(void)arg;
	for (int b = BAD_OP; b <= WRONG_TYPE; b++)
		common |= 1u << b;
	offers = common;
	acks = common | 1u << OTHER_SERVER | 1u << OTHER_ADDR |
	       1u << NAK_OTHER_SERVER;
	for (int uni = 0; uni < 2; uni++) {
		struct cub_dhcp_lease l;

		dsrv_defaults();
		S.unicast = uni;
		S.bad_offers = offers;
		S.bad_acks = acks;
		start(true);
		assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
		assert_int_equal(l.addr, OFFER_IP);
		assert_int_equal(l.prefix_len, 24);
		assert_int_equal(l.server, SRV_IP);
		assert_int_equal(l.ignored, __builtin_popcount(offers) +
				 __builtin_popcount(acks));
		/* One exchange: nothing restarted, nothing resent. */
		assert_int_equal(nsent, 2);
		assert_int_equal(stats(A).udp_queue_full, 0);
		assert_config(OFFER_IP, 24, SRV_IP);
		stop(true);
	}
	return NULL;
}

static void test_dhcp_ignored(void **state)
{
	(void)state;
	run(ignored_main);
}

/* Without a subnet mask option the address's class gives the prefix. */
static void *classful_main(void *arg)
{
	static const struct {
		cub_ip4_t addr;
		unsigned plen;
	} c[] = {
		{ CUB_IP4(10, 0, 2, 15), 8 },
		{ CUB_IP4(172, 16, 5, 4), 16 },
		{ CUB_IP4(192, 168, 1, 7), 24 },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct cub_dhcp_lease l;

		dsrv_defaults();
		S.no_mask = true;
		S.yiaddr = c[i].addr;
		S.router = 0;
		start(true);
		assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
		assert_int_equal(l.addr, c[i].addr);
		assert_int_equal(l.prefix_len, c[i].plen);
		assert_int_equal(l.ignored, 0);
		assert_config(c[i].addr, c[i].plen, 0);
		stop(true);
	}
	return NULL;
}

static void test_dhcp_classful_mask(void **state)
{
	(void)state;
	run(classful_main);
}

/* A router the lease cannot reach is not used: gateway 0. */
static void *router_main(void *arg)
{
	static const cub_ip4_t bad[] = {
		CUB_IP4(10, 0, 3, 1),		/* another subnet */
		OFFER_IP,			/* the address itself */
		CUB_IP4(10, 0, 2, 255),		/* the subnet's broadcast */
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cub_dhcp_lease l;

		dsrv_defaults();
		S.router = bad[i];
		start(true);
		assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
		assert_int_equal(l.addr, OFFER_IP);
		assert_int_equal(l.prefix_len, 24);
		assert_int_equal(l.gateway, 0);
		assert_config(OFFER_IP, 24, 0);
		stop(true);
	}
	return NULL;
}

static void test_dhcp_router_off_subnet(void **state)
{
	(void)state;
	run(router_main);
}

/* No server: -CUB_ETIMEDOUT when the timeout passes, the interface as it
 * was (unconfigured, or configured). */
static void *no_server_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint64_t t0, dt;

	(void)arg;
	start(false);
	t0 = cub_time_now();
	assert_int_equal(cub_net_dhcp(A, 300 * MS, &l), -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 300 * MS && dt < 800 * MS);
	assert_int_equal(l.ignored, 0);
	assert_config(0, 0, 0);
	wire_settle(&W);
	assert_int_equal(nsent, 1);	/* the first retry is 1 s away */
	check_msg(0, DISCOVER, 0, 0);
	/* B had no port 67: no port unreachable for a broadcast. */
	assert_int_equal(stats(B).udp_no_port, 1);
	assert_int_equal(stats(B).icmp_unreach_tx, 0);

	assert_int_equal(cub_netif_configure(A, CUB_IP4(10, 0, 2, 50), 24,
					     SRV_IP), 0);
	assert_int_equal(cub_net_dhcp(A, 100 * MS, &l), -CUB_ETIMEDOUT);
	assert_config(CUB_IP4(10, 0, 2, 50), 24, SRV_IP);
	/* Port 68 was given back: a later run may bind it. */
	assert_int_equal(cub_net_dhcp(A, 1, &l), -CUB_ETIMEDOUT);
	stop(false);
	return NULL;
}

static void test_dhcp_no_server(void **state)
{
	(void)state;
	run(no_server_main);
}

static void *args_main(void *arg)
{
	struct cub_dhcp_lease l;
	struct cub_udp u;

	(void)arg;
	start(false);
	assert_int_equal(cub_net_dhcp(NULL, 100 * MS, &l), -CUB_EINVAL);
	assert_int_equal(cub_net_dhcp(A, 100 * MS, NULL), -CUB_EINVAL);
	/* Another client holds port 68. */
	assert_int_equal(cub_udp_open(&u, A, 68), 0);
	assert_int_equal(cub_net_dhcp(A, 100 * MS, &l), -CUB_EADDRINUSE);
	assert_int_equal(cub_udp_close(&u), 0);
	wire_settle(&W);
	assert_int_equal(nsent, 0);
	assert_int_equal(stats(A).tx_frames, 0);
	assert_config(0, 0, 0);
	stop(false);
	return NULL;
}

static void test_dhcp_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dhcp_exchange),
		cmocka_unit_test(test_dhcp_unicast),
		cmocka_unit_test(test_dhcp_lost_discover_request),
		cmocka_unit_test(test_dhcp_nak),
		cmocka_unit_test(test_dhcp_ignored),
		cmocka_unit_test(test_dhcp_classful_mask),
		cmocka_unit_test(test_dhcp_router_off_subnet),
		cmocka_unit_test(test_dhcp_no_server),
		cmocka_unit_test(test_dhcp_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
