/*
 * dhcp_defend.h - the fixture of the RFC 5227 after-lease tests
 * (test_net_dhcp_defend.c, test_net_dhcp_lose.c): A's ARP frames tapped
 * as it sends them (with their send times), the lease callback's
 * record, the documented defaults written out, a lease of OFFER_IP from
 * the fake server of dhcp_fake.h, and the neighbour's hand-built ARP
 * frames (MAC_X). One test file includes it once: its state is static.
 */
#ifndef TESTS_UNIT_NET_DHCP_DEFEND_H
#define TESTS_UNIT_NET_DHCP_DEFEND_H

#include "dhcp_fake.h"
#include "dhcp_keeper.h"
#include "../stall.h"

#define SEC CUB_NSEC_PER_SEC
#define TOL (50 * MS * (uint64_t)test_slowness())	/* the host's timer lateness */

static struct stall_meter M;

/* ------------------------------------------- A's ARP frames, as it sends */

#define TX 32
static struct {
	uint8_t f[42];
	size_t len;
	uint64_t t;			/* when A's stack sent it */
} tx[TX];
static unsigned ntx;

static int tap_send(struct cub_netif *nif, const void *frame, size_t len)
{
	const uint8_t *f = frame;

	if (len >= 42 && t_get16(f + 12) == 0x0806 && ntx < TX) {
		memcpy(tx[ntx].f, f, 42);
		tx[ntx].len = len;
		tx[ntx++].t = cub_time_now();
	}
	return wire_send(nif, frame, len);
}

static const struct cub_netif_ops tap_ops = { .send = tap_send };

/* Whether tx[i] is an announcement of ip (sender and target ip). */
static bool is_announce(unsigned i, cub_ip4_t ip)
{
	const uint8_t *a = tx[i].f + 14;

	return t_get16(a + 6) == 1 && t_get32(a + 14) == ip && t_get32(a + 24) == ip;
}

/* The indices of A's announcements of ip, in order, into idx (up to
 * TX); returns how many. */
static unsigned announces(cub_ip4_t ip, unsigned *idx)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ntx; i++)
		if (is_announce(i, ip) && idx)
			idx[n++] = i;
		else if (is_announce(i, ip))
			n++;
	return n;
}

/* tx[i] is an announcement of ip, byte by byte (RFC 5227 2.3). */
static inline void check_announce(unsigned i, cub_ip4_t ip)
{
	static const uint8_t zero[6];
	const uint8_t *f = tx[i].f, *a = f + 14;

	assert_true(i < ntx);
	assert_int_equal(tx[i].len, 42);
	assert_memory_equal(f, T_BCAST, 6);
	assert_memory_equal(f + 6, MAC_A, 6);
	assert_int_equal(t_get16(f + 12), 0x0806);
	assert_int_equal(t_get16(a), 1);		/* Ethernet */
	assert_int_equal(t_get16(a + 2), 0x0800);	/* IPv4 */
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(t_get16(a + 6), 1);		/* a request */
	assert_memory_equal(a + 8, MAC_A, 6);
	assert_int_equal(t_get32(a + 14), ip);
	assert_memory_equal(a + 18, zero, 6);
	assert_int_equal(t_get32(a + 24), ip);
}

/* ------------------------------------------------------------- harness */

static struct {
	unsigned calls;
	cub_ip4_t addrs[8];
} seen;

static inline void changed(void *arg, const struct cub_dhcp_lease *l)
{
	assert_ptr_equal(arg, &seen);
	if (seen.calls < 8)
		seen.addrs[seen.calls] = l->addr;
	seen.calls++;
}

/* The documented defaults (dhcp.h), written out. */
static struct cub_dhcp_params defaults(void)
{
	return (struct cub_dhcp_params){
		.probe_num = CUB_DHCP_PROBE_NUM, .probe_wait_ns = CUB_DHCP_PROBE_WAIT_NS,
		.probe_min_ns = CUB_DHCP_PROBE_MIN_NS, .probe_max_ns = CUB_DHCP_PROBE_MAX_NS,
		.announce_wait_ns = CUB_DHCP_ANNOUNCE_WAIT_NS,
		.decline_wait_ns = CUB_DHCP_DECLINE_WAIT_NS,
		.max_declines = CUB_DHCP_DECLINES, .max_conflicts = CUB_DHCP_MAX_CONFLICTS,
		.rate_limit_ns = CUB_DHCP_RATE_LIMIT_NS, .announce_num = CUB_DHCP_ANNOUNCE_NUM,
		.announce_interval_ns = CUB_DHCP_ANNOUNCE_INTERVAL_NS,
		.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_NS,
	};
}

/* The server up, A tapped, the tunables p set (NULL: defaults), and A
 * leased OFFER_IP. */
static void lease(const struct cub_dhcp_params *p, struct cub_dhcp_lease *l)
{
	dsrv_defaults();
	memset(&seen, 0, sizeof(seen));
	start(true);
	A->ops = &tap_ops;
	ntx = 0;
	assert_int_equal(cub_dhcp_set_params(A, p), 0);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, l), 0);
	assert_int_equal(l->addr, OFFER_IP);
}

/* An ARP packet from the neighbour: op (1 request, 2 reply) from sender
 * hardware sha, sender spa, about tpa; to A's MAC (a reply) or
 * broadcast (a request). Delivered before it returns. */
static void neighbour_arp(uint16_t op, const uint8_t sha[6], cub_ip4_t spa, cub_ip4_t tpa)
{
	static const uint8_t zero[6];
	uint8_t f[42];

	t_arp(f, op == 2 ? MAC_A : T_BCAST, op, sha, spa, op == 2 ? MAC_A : zero, tpa);
	memcpy(f + 6, MAC_X, 6);	/* the neighbour's frame, whatever it says */
	assert_int_equal(wire_send(B, f, sizeof(f)), 0);
	wire_settle(&W);
}

/* A conflict: the neighbour's reply with A's address as its own. */
static void conflict(void)
{
	neighbour_arp(2, MAC_X, OFFER_IP, OFFER_IP);
}

#endif
