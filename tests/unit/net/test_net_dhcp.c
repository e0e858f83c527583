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

#include "dhcp_fake.h"
#include "../slow.h"

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
	assert_int_equal(l.dns_count, 2);	/* both kept, in order */
	assert_int_equal(l.dns_all[0], DNS_IP);
	assert_int_equal(l.dns_all[1], DNS2_IP);
	assert_int_equal(l.dns_all[2], 0);
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
	assert_int_equal(if_stats(A).ip_not_ours, 1);
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
	assert_int_equal(l.dns_count, 0);
	assert_int_equal(l.dns_all[0], 0);
	assert_int_equal(l.lease_s, 0xffffffffu);
	assert_int_equal(l.ignored, 0);
	assert_config(OFFER_IP, 24, 0);
	assert_int_equal(if_stats(A).udp_delivered, 2);
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
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

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
		assert_true(gap < test_bound(CUB_DHCP_RETRY_NS + 500 * MS, w0));
	}
	assert_true(cub_time_now() - t0 < test_bound(2 * CUB_DHCP_RETRY_NS + 1000 * MS, w0));
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
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

	(void)arg;
	dsrv_defaults();
	S.naks = 1;
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_true(cub_time_now() - t0 < test_bound(CUB_DHCP_RETRY_NS / 2, w0));
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
		assert_int_equal(if_stats(A).udp_queue_full, 0);
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

/* Option 6 naming five servers, one of them 0: the first three others
 * kept, in order. */
static void *dns_servers_main(void *arg)
{
	struct cub_dhcp_lease l;

	(void)arg;
	dsrv_defaults();
	S.dns_more[0] = 0;
	S.dns_more[1] = CUB_IP4(10, 0, 2, 7);
	S.dns_more[2] = CUB_IP4(10, 0, 2, 8);
	S.dns_more_n = 3;
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_int_equal(l.dns, DNS_IP);
	assert_int_equal(l.dns_count, CUB_DHCP_DNS_MAX);
	assert_int_equal(l.dns_all[0], DNS_IP);
	assert_int_equal(l.dns_all[1], DNS2_IP);
	assert_int_equal(l.dns_all[2], CUB_IP4(10, 0, 2, 7));
	stop(true);
	return NULL;
}

static void test_dhcp_dns_servers(void **state)
{
	(void)state;
	run(dns_servers_main);
}

/* No server: -CUB_ETIMEDOUT when the timeout passes, the interface as it
 * was (unconfigured, or configured). */
static void *no_server_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint64_t t0, dt, w0;

	(void)arg;
	start(false);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_net_dhcp(A, 300 * MS, &l), -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 300 * MS && dt < test_bound(800 * MS, w0));
	assert_int_equal(l.ignored, 0);
	assert_config(0, 0, 0);
	wire_settle(&W);
	assert_int_equal(nsent, 1);	/* the first retry is 1 s away */
	check_msg(0, DISCOVER, 0, 0);
	/* B had no port 67: no port unreachable for a broadcast. */
	assert_int_equal(if_stats(B).udp_no_port, 1);
	assert_int_equal(if_stats(B).icmp_unreach_tx, 0);

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
	assert_int_equal(if_stats(A).tx_frames, 0);
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
		cmocka_unit_test(test_dhcp_dns_servers),
		cmocka_unit_test(test_dhcp_no_server),
		cmocka_unit_test(test_dhcp_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
