/*
 * test_net_dhcp_check.c - the DHCP client's conflict check, DECLINE and
 * RELEASE (RFC 2131 3.1 step 5, 4.4.1, 4.4.6; the probe's form RFC 5227
 * 2.1.1) against the fake server and neighbour of dhcp_fake.h.
 *
 * Proves: after the ACK the default three ARP probes of the address go
 * out (broadcast, sender 0.0.0.0 and A's MAC, target hardware 0, target
 * the address) and the interface is configured only after the check's
 * window (180-220 ms), by no more than that later; probe_num 0 sends
 * none; with one probe (the other tests) a reply from the address,
 * or another host's probe for it, is a conflict: a DECLINE (broadcast
 * from 0.0.0.0, no broadcast flag, ciaddr and yiaddr 0, options type,
 * requested address and server ID only), decline_wait_ns of silence,
 * then a new DISCOVER with a new xid whose second address is taken;
 * ARP about other addresses, A's own probe echoed and a malformed reply
 * from the address are no conflict;
 * conflicts up to max_declines end in -CUB_EADDRNOTAVAIL with the
 * interface as it was, as does one whose wait would pass the timeout;
 * cub_dhcp_release sends a well-formed RELEASE (unicast to the server
 * from the address, ciaddr, server ID only) and unconfigures; the
 * tunables' defaults, bounds and NULL; release's bad arguments.
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

/* A probe wait that a conflict cuts short: long, so that an answer the
 * loaded machine delays still comes within it (a probe that finds no
 * conflict waits it out). */
#define LONG_PROBE (1000 * MS)

/* ARP frame i that A sent is a probe of ip (RFC 5227 2.1.1). */
static void check_probe(unsigned i, cub_ip4_t ip)
{
	static const uint8_t zero[6];
	const uint8_t *f = arps[i].f, *a = f + 14;

	assert_true(i < narps);
	assert_memory_equal(f, T_BCAST, 6);
	assert_memory_equal(f + 6, MAC_A, 6);
	assert_int_equal(t_get16(a), 1);		/* Ethernet */
	assert_int_equal(t_get16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(t_get16(a + 6), 1);		/* request */
	assert_memory_equal(a + 8, MAC_A, 6);
	assert_int_equal(t_get32(a + 14), 0);		/* sender 0.0.0.0 */
	assert_memory_equal(a + 18, zero, 6);
	assert_int_equal(t_get32(a + 24), ip);
}

/* The message type of sent message i, its xid in *xid. */
static unsigned msg_type(unsigned i, uint32_t *xid)
{
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n), *o;

	assert_true(i < nsent);
	o = find_opt(m, n, 53, &olen);
	assert_non_null(o);
	assert_int_equal(olen, 1);
	*xid = t_get32(m + 4);
	return o[0];
}

/* Option code of sent message i is a 4-byte value: returns it. */
static uint32_t opt32(unsigned i, uint8_t code)
{
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n), *o = find_opt(m, n, code, &olen);

	assert_non_null(o);
	assert_int_equal(olen, 4);
	return t_get32(o);
}

/* Sent message i is a DECLINE of addr (RFC 2131 4.4.1, table 5). */
static void check_decline(unsigned i, cub_ip4_t addr)
{
	const uint8_t *f = sent[i].f, *ip = f + 14;
	static const uint8_t zero[16];
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n);
	uint32_t xid;

	assert_int_equal(msg_type(i, &xid), DECLINE);
	assert_memory_equal(f, T_BCAST, 6);
	assert_int_equal(t_get32(ip + 12), 0);
	assert_int_equal(t_get32(ip + 16), CUB_IP4_BROADCAST);
	assert_int_equal(t_get16(f + 34), 68);
	assert_int_equal(t_get16(f + 36), 67);
	assert_int_equal(t_cksum(t_pseudo(0, CUB_IP4_BROADCAST, 17, (uint32_t)(n + 8)),
				 f + 34, n + 8), 0);
	assert_int_equal(m[0], 1);
	assert_int_equal(t_get16(m + 10), 0);		/* no broadcast flag */
	assert_memory_equal(m + 12, zero, 16);		/* ciaddr..giaddr */
	assert_memory_equal(m + 28, MAC_A, 6);
	assert_int_equal(t_get32(m + HDR), COOKIE);
	assert_int_equal(opt32(i, 50), addr);
	assert_int_equal(opt32(i, 54), SRV_IP);
	assert_null(find_opt(m, n, 55, &olen));	/* table 5: MUST NOT */
	assert_null(find_opt(m, n, 51, &olen));
}

/* A's DHCP tunables: one probe heard out for probe_ns, decline_ns after
 * a DECLINE, 3 declines. */
static void set_params(uint64_t probe_ns, uint64_t decline_ns)
{
	struct cub_dhcp_params p = one_probe(probe_ns, decline_ns, 3);

	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
}

/* The least and the most the default check lasts without a conflict:
 * the gaps between its probes and the wait after the last. */
#define CHECK_MIN (2 * CUB_DHCP_PROBE_MIN_NS + CUB_DHCP_ANNOUNCE_WAIT_NS)
#define CHECK_MAX (CUB_DHCP_PROBE_WAIT_NS + 2 * CUB_DHCP_PROBE_MAX_NS + CUB_DHCP_ANNOUNCE_WAIT_NS)

/* No neighbour holds the address: the default check (three probes),
 * configured after its wait and no later than that. */
static void *probe_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now(), dt;

	(void)arg;
	dsrv_defaults();
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	dt = cub_time_now() - t0;
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(l.declined, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	assert_int_equal(nsent, 2);			/* DISCOVER, REQUEST */
	wire_settle(&W);
	assert_int_equal(narps, 4);			/* three probes, an announcement */
	for (unsigned i = 0; i < 3; i++)
		check_probe(i, OFFER_IP);
	assert_int_equal(if_stats(A).arp_probes_tx, 3);
	assert_true(arps[0].t >= sent[1].t);		/* after the REQUEST */
	/* The window ran out before the address was configured (the times
	 * are when the wire carried a frame, at or after its send: the
	 * REQUEST's is a bound below the first probe's send). */
	assert_true(dt >= CHECK_MIN);
	assert_true(cub_time_now() - sent[1].t >= CHECK_MIN);
	assert_true(dt < CHECK_MAX + test_bound(800 * MS, w0));
	assert_int_equal(S.declines, 0);
	stop(true);

	/* probe_num 0: no probe, no wait. */
	dsrv_defaults();
	start(true);
	set_params(0, 0);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_true(cub_time_now() - t0 < test_bound(CHECK_MIN, w0));
	wire_settle(&W);
	assert_int_equal(narps, 0);
	assert_int_equal(if_stats(A).arp_probes_tx, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_check_probe(void **state)
{
	(void)state;
	run(probe_main);
}

/* The neighbour holds OFFER_IP and says so (how): DECLINE, the wait,
 * DISCOVER anew with a new xid, NEXT_IP probed and configured. */
static void conflict_once(enum holder how)
{
	struct cub_dhcp_lease l;
	uint32_t x1, x2, x;

	dsrv_defaults();
	S.taken[0] = OFFER_IP;
	S.how = how;
	S.after_decline = NEXT_IP;
	start(true);
	set_params(LONG_PROBE, 150 * MS);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_int_equal(l.addr, NEXT_IP);
	assert_int_equal(l.declined, 1);
	assert_config(NEXT_IP, 24, SRV_IP);
	wire_settle(&W);
	assert_int_equal(nsent, 5);
	assert_int_equal(msg_type(0, &x1), DISCOVER);
	assert_int_equal(msg_type(1, &x), REQUEST);
	assert_int_equal(opt32(1, 50), OFFER_IP);
	check_decline(2, OFFER_IP);
	assert_int_equal(msg_type(3, &x2), DISCOVER);
	assert_int_not_equal(x2, x1);
	assert_int_equal(msg_type(4, &x), REQUEST);
	assert_int_equal(x, x2);
	assert_int_equal(opt32(4, 50), NEXT_IP);
	/* The conflict cut the probe short; the wait came before DISCOVER
	 * (measured from the probe's carrying, which came before the
	 * DECLINE's send: the DECLINE's own carrying may lag its send). */
	assert_true(sent[2].t - arps[0].t < LONG_PROBE / 2);
	assert_true(sent[3].t - arps[0].t >= 150 * MS);
	assert_int_equal(narps, 2);
	check_probe(0, OFFER_IP);
	check_probe(1, NEXT_IP);
	assert_int_equal(S.declines, 1);
	assert_int_equal(S.discovers, 2);
	stop(true);
}

static void *conflict_main(void *arg)
{
	(void)arg;
	conflict_once(HOLDER_REPLY);
	conflict_once(HOLDER_PROBE);
	return NULL;
}

static void test_check_conflict(void **state)
{
	(void)state;
	run(conflict_main);
}

/* ARP about other addresses during the probe, A's own probe echoed
 * back, a reply from the address with a bad hardware length: the
 * address is configured, nothing declined. */
static void *noise_main(void *arg)
{
	struct cub_dhcp_lease l;

	(void)arg;
	dsrv_defaults();
	S.how = HOLDER_NOISE;
	start(true);
	set_params(500 * MS, 0);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(l.declined, 0);
	assert_int_equal(nsent, 2);
	assert_int_equal(S.declines, 0);
	wire_settle(&W);
	assert_int_equal(if_stats(A).arp_bad, 2);	/* the echo, the bad one */
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_check_noise(void **state)
{
	(void)state;
	run(noise_main);
}

/* Every address offered is taken: max_declines DECLINEs, then
 * -CUB_EADDRNOTAVAIL, the interface as it was; a conflict whose wait
 * would pass the timeout gives up at once. */
static void *repeated_main(void *arg)
{
	struct cub_dhcp_lease l;
	uint64_t t0, w0;
	uint32_t x;

	(void)arg;
	dsrv_defaults();
	S.taken[0] = OFFER_IP;
	S.taken[1] = NEXT_IP;
	S.after_decline = NEXT_IP;
	start(true);
	set_params(LONG_PROBE, 50 * MS);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), -CUB_EADDRNOTAVAIL);
	assert_config(0, 0, 0);
	wire_settle(&W);
	assert_int_equal(S.declines, 3);
	assert_int_equal(S.discovers, 3);
	assert_int_equal(nsent, 9);
	check_decline(2, OFFER_IP);
	check_decline(5, NEXT_IP);
	check_decline(8, NEXT_IP);
	assert_int_equal(narps, 3);

	/* Configured before: left so. The default 10 s wait does not fit in
	 * a 2 s run: one DECLINE, then the error without waiting. */
	assert_int_equal(cub_netif_configure(A, CUB_IP4(10, 0, 2, 50), 24, SRV_IP), 0);
	assert_int_equal(cub_dhcp_set_params(A, NULL), 0);
	nsent = 0;
	S.declines = 0;
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_net_dhcp(A, 2000 * MS, &l), -CUB_EADDRNOTAVAIL);
	assert_true(cub_time_now() - t0 < test_bound(1000 * MS, w0));
	assert_config(CUB_IP4(10, 0, 2, 50), 24, SRV_IP);
	wire_settle(&W);
	assert_int_equal(S.declines, 1);
	assert_int_equal(nsent, 3);
	assert_int_equal(msg_type(2, &x), DECLINE);
	stop(true);
	return NULL;
}

static void test_check_repeated(void **state)
{
	(void)state;
	run(repeated_main);
}

/* Sent message i is a RELEASE of OFFER_IP to the server (RFC 2131 4.4.6,
 * table 5): unicast from the address, ciaddr, the server ID alone. */
static void check_release(unsigned i)
{
	const uint8_t *f = sent[i].f, *ip = f + 14;
	static const uint8_t zero[12];
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n);
	uint32_t xid;

	assert_int_equal(msg_type(i, &xid), RELEASE);
	assert_memory_equal(f, MAC_B, 6);
	assert_memory_equal(f + 6, MAC_A, 6);
	assert_int_equal(t_get32(ip + 12), OFFER_IP);
	assert_int_equal(t_get32(ip + 16), SRV_IP);
	assert_int_equal(t_get16(f + 34), 68);
	assert_int_equal(t_get16(f + 36), 67);
	assert_int_equal(t_cksum(t_pseudo(OFFER_IP, SRV_IP, 17, (uint32_t)(n + 8)),
				 f + 34, n + 8), 0);
	assert_int_equal(m[0], 1);
	assert_int_equal(t_get16(m + 10), 0);
	assert_int_equal(t_get32(m + 12), OFFER_IP);	/* ciaddr */
	assert_memory_equal(m + 16, zero, 12);		/* yiaddr..giaddr */
	assert_memory_equal(m + 28, MAC_A, 6);
	assert_int_equal(t_get32(m + HDR), COOKIE);
	assert_int_equal(opt32(i, 54), SRV_IP);
	assert_null(find_opt(m, n, 50, &olen));	/* table 5: MUST NOT */
	assert_null(find_opt(m, n, 55, &olen));
}

static void *release_main(void *arg)
{
	struct cub_dhcp_lease l;
	struct cub_udp u;

	(void)arg;
	dsrv_defaults();
	start(true);
	set_params(0, 0);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	nsent = 0;
	assert_int_equal(cub_dhcp_release(A, &l), 0);
	assert_config(0, 0, 0);
	wire_settle(&W);
	assert_int_equal(nsent, 1);
	check_release(0);
	assert_int_equal(S.releases, 1);
	assert_int_equal(cub_udp_open(&u, A, 68), 0);	/* port 68 given back */
	assert_int_equal(cub_udp_close(&u), 0);
	/* Released: the lease is no longer the interface's. */
	assert_int_equal(cub_dhcp_release(A, &l), -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(nsent, 1);
	stop(true);
	return NULL;
}

static void test_check_release(void **state)
{
	(void)state;
	run(release_main);
}

/* Bad arguments to release (nothing sent, the interface kept) and to the
 * tunables (nothing changed). */
static void *args_main(void *arg)
{
	static const cub_ip4_t bad_srv[] = { 0, CUB_IP4_BROADCAST, CUB_IP4(224, 0, 0, 1),
					     OFFER_IP, CUB_IP4(0, 1, 2, 3) };
	struct cub_dhcp_params p, q;
	struct cub_dhcp_lease l, bad;
	struct cub_udp u;

	(void)arg;
	dsrv_defaults();
	start(true);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	assert_int_equal(p.probe_num, CUB_DHCP_PROBE_NUM);
	assert_int_equal(p.probe_num, 3);
	assert_int_equal(p.probe_wait_ns, CUB_DHCP_PROBE_WAIT_NS);
	assert_int_equal(p.probe_min_ns, CUB_DHCP_PROBE_MIN_NS);
	assert_int_equal(p.probe_max_ns, CUB_DHCP_PROBE_MAX_NS);
	assert_int_equal(p.announce_wait_ns, CUB_DHCP_ANNOUNCE_WAIT_NS);
	assert_int_equal(CHECK_MIN, 180 * MS);
	assert_int_equal(CHECK_MAX, 220 * MS);
	assert_int_equal(p.decline_wait_ns, CUB_DHCP_DECLINE_WAIT_NS);
	assert_int_equal(p.max_declines, CUB_DHCP_DECLINES);
	assert_int_equal(p.max_conflicts, CUB_DHCP_MAX_CONFLICTS);
	assert_int_equal(p.max_conflicts, 10);
	assert_int_equal(p.rate_limit_ns, CUB_DHCP_RATE_LIMIT_NS);
	assert_int_equal(p.rate_limit_ns, 60 * 1000 * MS);
	assert_int_equal(cub_dhcp_get_params(NULL, &p), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_get_params(A, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_set_params(NULL, &p), -CUB_EINVAL);
	q = p, q.decline_wait_ns = CUB_DHCP_DECLINE_WAIT_MAX_NS + 1;
	assert_int_equal(cub_dhcp_set_params(A, &q), -CUB_EINVAL);
	q = p, q.max_declines = 0;
	assert_int_equal(cub_dhcp_set_params(A, &q), -CUB_EINVAL);
	q = p, q.max_declines = CUB_DHCP_DECLINES_MAX + 1;
	assert_int_equal(cub_dhcp_set_params(A, &q), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_get_params(A, &q), 0);
	assert_memory_equal(&q, &p, sizeof(p));	/* unchanged */
	q = p, q.max_declines = 16, q.decline_wait_ns = CUB_DHCP_DECLINE_WAIT_MAX_NS;
	assert_int_equal(cub_dhcp_set_params(A, &q), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	assert_memory_equal(&q, &p, sizeof(p));
	set_params(0, 0);

	assert_int_equal(cub_dhcp_release(A, NULL), -CUB_EINVAL);
	assert_int_equal(cub_net_dhcp(A, 5000 * MS, &l), 0);
	nsent = 0;
	assert_int_equal(cub_dhcp_release(NULL, &l), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_release(A, NULL), -CUB_EINVAL);
	bad = l, bad.addr = OTHER_IP;
	assert_int_equal(cub_dhcp_release(A, &bad), -CUB_EINVAL);
	for (size_t i = 0; i < sizeof(bad_srv) / sizeof(bad_srv[0]); i++) {
		bad = l, bad.server = bad_srv[i];
		assert_int_equal(cub_dhcp_release(A, &bad), -CUB_EINVAL);
	}
	assert_int_equal(cub_udp_open(&u, A, 68), 0);	/* a keeper, say */
	assert_int_equal(cub_dhcp_release(A, &l), -CUB_EADDRINUSE);
	assert_int_equal(cub_udp_close(&u), 0);
	wire_settle(&W);
	assert_int_equal(nsent, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	/* A server that does not answer ARP: the RELEASE cannot go out,
	 * the address is given up all the same. */
	assert_int_equal(cub_arp_set_timeouts(A, 0, 100 * MS), 0);
	bad = l, bad.server = CUB_IP4(10, 0, 2, 77);
	assert_int_equal(cub_dhcp_release(A, &bad), -CUB_EHOSTUNREACH);
	assert_config(0, 0, 0);
	assert_int_equal(cub_dhcp_release(A, &l), -CUB_EINVAL);	/* unconfigured */
	assert_int_equal(S.releases, 0);
	stop(true);
	return NULL;
}

static void test_check_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_probe),
		cmocka_unit_test(test_check_conflict),
		cmocka_unit_test(test_check_noise),
		cmocka_unit_test(test_check_repeated),
		cmocka_unit_test(test_check_release),
		cmocka_unit_test(test_check_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
