/*
 * test_net_dhcp_keep.c - cub_dhcp_keeper (RFC 2131 4.4.5) against the
 * fake server of dhcp_fake.h, with leases of a few seconds (the unit of
 * the lease options) so that T1, T2 and the end pass during a test.
 *
 * Proves: at T1 a REQUEST for the address held goes to the server by
 * unicast (ciaddr set, no requested-address or server option, no
 * broadcast flag) and its ACK starts the lease anew without touching the
 * interface; unanswered until T2, the REQUEST is broadcast and any
 * server's ACK rebinds; unanswered until the end, the interface is
 * unconfigured and a new lease taken from DISCOVER; a NAK does the same
 * at once; the callback sees each change; T1/T2 come from options 58/59
 * or default to 1/2 and 7/8 of the lease (also when inconsistent); stop
 * ends the keeper at once wherever it waits and frees port 68; bad
 * arguments.
 *
 * Stop is timed so that a descheduled process fails nothing: a stop
 * slower than 100 ms is ambiguous and proven again on 10 s waits, where
 * under 5 s is proof (end_keep).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../slow.h"
#include "../stall.h"
#include "dhcp_fake.h"
#include "dhcp_keeper.h"

#define SEC CUB_NSEC_PER_SEC

static struct stall_meter M;		/* how late the test ran (sent_by()) */

/* What the change callback saw. */
static struct {
	unsigned calls;
	struct cub_dhcp_lease last;
	cub_ip4_t addrs[8];
} seen;

static void changed(void *arg, const struct cub_dhcp_lease *l)
{
	assert_ptr_equal(arg, &seen);
	if (seen.calls < 8)
		seen.addrs[seen.calls] = l->addr;
	seen.calls++;
	seen.last = *l;
}

/* Starts the server with a lease of lease_s (T1, T2 as given), leases
 * an address for A and starts the keeper; *l is the first lease. */
static void lease_and_keep(uint32_t lease_s, uint32_t t1, uint32_t t2,
			   struct cub_dhcp_lease *l)
{
	dsrv_defaults();
	S.lease = lease_s;
	S.t1 = t1;
	S.t2 = t2;
	memset(&seen, 0, sizeof(seen));
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, l), 0);
	stall_start(&M);
	assert_int_equal(cub_dhcp_keeper_start(&K, A, l, changed, &seen), 0);
	nsent = 0;
}

/* Sent message i is a keeping REQUEST from OFFER_IP to dst (RFC 2131
 * table 5: ciaddr, no options 50 and 54, no broadcast flag). */
static void check_keep_msg(unsigned i, cub_ip4_t dst)
{
	const uint8_t *f = sent[i].f, *ip = f + 14, *o;
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n);

	assert_true(i < nsent);
	assert_int_equal(t_get32(ip + 12), OFFER_IP);
	assert_int_equal(t_get32(ip + 16), dst);
	assert_int_equal(t_cksum(t_pseudo(OFFER_IP, dst, 17, (uint32_t)(n + 8)),
				 f + 34, n + 8), 0);
	assert_int_equal(m[0], 1);
	assert_int_equal(t_get16(m + 10), 0);		/* no broadcast flag */
	assert_int_equal(t_get32(m + 12), OFFER_IP);	/* ciaddr */
	assert_int_equal(t_get32(m + 16), 0);		/* yiaddr */
	o = find_opt(m, n, 53, &olen);
	assert_non_null(o);
	assert_int_equal(o[0], REQUEST);
	assert_null(find_opt(m, n, 50, &olen));
	assert_null(find_opt(m, n, 54, &olen));
}

/* Sent message i went out at `due` (a lease time), not more than 300 ms
 * later than that plus what the process was seen late in between
 * (stall.h): the keeper's timer fired then, not at its next retry. */
static void sent_by(unsigned i, uint64_t due)
{
	assert_true(sent[i].t >= due);
	assert_true(sent[i].t < due + 300 * MS + stall_late(&M, due, sent[i].t));
}

/* Stops the keeper, checks that port 68 is free, then stops the wire
 * and the server: how long the keeper's stop took. */
static uint64_t stop_w0;	/* test_waited_ns() when the last stop began */

static uint64_t stop_keeper(void)
{
	uint64_t t0, took;
	struct cub_udp u;

	stop_w0 = test_waited_ns();
	t0 = cub_time_now();

	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	took = cub_time_now() - t0;
	stall_stop(&M);
	assert_int_equal(cub_udp_open(&u, A, 68), 0);	/* port 68 is free */
	assert_int_equal(cub_udp_close(&u), 0);
	stop(true);
	return took;
}

static void stop_within(uint64_t most)
{
	assert_true(stop_keeper() < test_bound(most, stop_w0));
}

/* Stop ends the keeper's two waits made 10 s long, for T1 and for the
 * answer to a renewal (which waits until T2 when that is under 60 s
 * away, RFC 2131 4.4.5), well before they would end: under half of
 * them, a bound no stall of the host short of 5 s reaches. */
static void stop_long_waits(void)
{
	struct cub_dhcp_lease l;

	lease_and_keep(3600, 10, 20, &l);		/* BOUND until T1, 10 s */
	stop_within(5 * SEC);
	lease_and_keep(3600, 1, 11, &l);
	S.drop_renews = ~0u;
	WAIT_FOR(S.renews == 1, 3 * SEC);		/* RENEWING, 10 s to T2 */
	stop_within(5 * SEC);
}

/*
 * Ends a test: the keeper stops at once, not after the timer it waits
 * for (T1, a second or less away). Under 100 ms is proof; a stop that
 * took longer is ambiguous (it waited, or the host descheduled this
 * process), and then stop is proven again on 10 s waits
 * (stop_long_waits), so a stall fails nothing and a stop that waits
 * still fails.
 */
static void end_keep(void)
{
	uint64_t took = stop_keeper();

	if (took >= 100 * MS * (uint64_t)test_slowness()) {
		print_message("stop took %llu ms: proving it on long waits\n",
			      (unsigned long long)(took / MS));
		stop_long_waits();
	}
}

/* T1 = 1 s: a unicast REQUEST then, ACKed; the lease starts anew. */
static void *renew_main(void *arg)
{
	struct cub_dhcp_lease l0, l;
	uint64_t arps;

	(void)arg;
	lease_and_keep(10, 1, 8, &l0);
	assert_int_equal(l0.renew_s, 1);
	assert_int_equal(l0.rebind_s, 8);
	WAIT_FOR(kstats(NULL).renewed == 1, 3 * SEC);
	assert_int_equal(nsent, 1);
	check_keep_msg(0, SRV_IP);
	sent_by(0, l0.acquired_ns + 1 * SEC);
	assert_int_equal(S.renews, 1);
	assert_int_equal(S.rebinds, 0);
	kstats(&l);
	assert_int_equal(l.addr, OFFER_IP);
	assert_true(l.acquired_ns >= l0.acquired_ns + 1 * SEC);
	assert_int_equal(l.lease_s, 10);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.last.acquired_ns, l.acquired_ns);
	/* The interface was not reconfigured: the ARP entry for the server
	 * that the renewal made survives (a ping needs no new request). */
	assert_config(OFFER_IP, 24, SRV_IP);
	arps = if_stats(A).arp_requests_tx;
	assert_int_equal(cub_net_ping(A, SRV_IP, 1, 8, 1 * SEC, NULL), 0);
	assert_int_equal(if_stats(A).arp_requests_tx, arps);
	end_keep();
	return NULL;
}

static void test_keep_renew(void **state)
{
	(void)state;
	run(renew_main);
}

/* The server ignores renewals: at T2 the REQUEST is broadcast, and its
 * ACK rebinds. */
static void *rebind_main(void *arg)
{
	struct cub_dhcp_lease l0;
	struct cub_dhcp_keeper_stats st;

	(void)arg;
	lease_and_keep(10, 1, 2, &l0);
	S.drop_renews = ~0u;
	WAIT_FOR(kstats(NULL).rebound == 1, 4 * SEC);
	st = kstats(NULL);
	assert_int_equal(st.renewed, 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(S.renews, 1);	/* 60 s apart at least: one before T2 */
	assert_int_equal(S.rebinds, 1);
	assert_int_equal(nsent, 2);
	check_keep_msg(0, SRV_IP);
	check_keep_msg(1, CUB_IP4_BROADCAST);
	sent_by(1, l0.acquired_ns + 2 * SEC);
	assert_config(OFFER_IP, 24, SRV_IP);
	end_keep();
	return NULL;
}

static void test_keep_rebind(void **state)
{
	(void)state;
	run(rebind_main);
}

/* Nothing answers a REQUEST with ciaddr: at the end of the lease the
 * interface loses its address, and DISCOVER leases a new one. */
static void *expire_main(void *arg)
{
	struct cub_dhcp_lease l0, l;
	struct cub_dhcp_keeper_stats st;
	const cub_ip4_t next = CUB_IP4(10, 0, 2, 16);

	(void)arg;
	lease_and_keep(3, 1, 2, &l0);
	S.drop_renews = S.drop_rebinds = ~0u;
	S.skip_discovers = 1;		/* the first DISCOVER goes unanswered */
	S.yiaddr = next;
	WAIT_FOR(kstats(NULL).lost == 1, 4 * SEC);
	assert_true(cub_time_now() >= l0.acquired_ns + 3 * SEC);
	assert_config(0, 0, 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.addrs[0], 0);
	WAIT_FOR(kstats(NULL).leased == 1, 3 * SEC);
	st = kstats(&l);
	assert_int_equal(st.renewed + st.rebound, 0);
	assert_int_equal(l.addr, next);
	assert_int_equal(l.lease_s, 3);
	assert_config(next, 24, SRV_IP);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.addrs[1], next);
	assert_int_equal(S.discovers, 3);	/* the first lease's, 2 now */
	assert_int_equal(cub_net_ping(A, SRV_IP, 1, 8, 1 * SEC, NULL), 0);
	end_keep();
	return NULL;
}

static void test_keep_expire(void **state)
{
	(void)state;
	run(expire_main);
}

/* A NAK to the renewal: the address goes at once, a new lease comes. */
static void *nak_main(void *arg)
{
	struct cub_dhcp_lease l0, l;
	struct cub_dhcp_keeper_stats st;
	uint64_t w0;

	(void)arg;
	lease_and_keep(30, 1, 20, &l0);
	S.nak_keeps = 1;
	w0 = test_waited_ns();
	WAIT_FOR(kstats(NULL).leased == 1, 3 * SEC);
	assert_true(cub_time_now() - l0.acquired_ns < test_bound(2 * SEC, w0));
	st = kstats(&l);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.renewed, 0);
	assert_int_equal(S.renews, 1);
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.addrs[0], 0);
	assert_int_equal(seen.addrs[1], OFFER_IP);
	assert_config(OFFER_IP, 24, SRV_IP);
	end_keep();
	return NULL;
}

static void test_keep_nak(void **state)
{
	(void)state;
	run(nak_main);
}

/* T1/T2 defaults: absent, T1 >= T2, T2 >= the lease. */
static void *times_main(void *arg)
{
	static const struct {
		uint32_t lease, t1, t2, want1, want2;
	} c[] = {
		{ 3600, 0, 0, 1800, 3150 },
		{ 3600, 600, 0, 600, 3150 },
		{ 3600, 0, 1000, 500, 1000 },	/* T1 past T2: half of T2 */
		{ 3600, 3000, 2000, 1800, 2000 },	/* T1 past T2: the default */
		{ 3600, 100, 4000, 100, 3150 },	/* T2 past the lease */
		{ 3600, 5000, 5000, 1800, 3150 },
		{ 0xffffffffu, 10, 20, 0xffffffffu, 0xffffffffu },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct cub_dhcp_lease l;

		dsrv_defaults();
		S.lease = c[i].lease;
		S.t1 = c[i].t1;
		S.t2 = c[i].t2;
		start(true);
		assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
		assert_int_equal(l.renew_s, c[i].want1);
		assert_int_equal(l.rebind_s, c[i].want2);
		stop(true);
	}
	return NULL;
}

static void test_keep_times(void **state)
{
	(void)state;
	run(times_main);
}

static void *args_main(void *arg)
{
	struct cub_dhcp_lease l, bad;
	struct cub_dhcp_keeper k2;
	struct cub_udp u;

	(void)arg;
	dsrv_defaults();
	start(true);
	memset(&K, 0, sizeof(K));
	assert_int_equal(cub_dhcp_keeper_status(&K, &l, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_stop(&K), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_stop(NULL), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_status(NULL, &l, NULL), -CUB_EINVAL);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
	assert_int_equal(cub_dhcp_keeper_start(NULL, A, &l, NULL, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_start(&K, NULL, &l, NULL, NULL), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_start(&K, A, NULL, NULL, NULL), -CUB_EINVAL);
	bad = l, bad.addr = OTHER_IP;			/* not A's address */
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &bad, NULL, NULL), -CUB_EINVAL);
	bad = l, bad.lease_s = bad.renew_s = bad.rebind_s = 0xffffffffu;
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &bad, NULL, NULL), -CUB_EINVAL);
	bad = l, bad.renew_s = bad.rebind_s;		/* T1 == T2 */
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &bad, NULL, NULL), -CUB_EINVAL);
	assert_int_equal(cub_udp_open(&u, A, 68), 0);	/* another client */
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &l, NULL, NULL), -CUB_EADDRINUSE);
	assert_int_equal(cub_udp_close(&u), 0);
	/* Started: a second keeper on the interface finds port 68 taken;
	 * stop works once. */
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &l, NULL, NULL), 0);
	assert_int_equal(cub_dhcp_keeper_start(&k2, A, &l, NULL, NULL), -CUB_EADDRINUSE);
	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	assert_int_equal(cub_dhcp_keeper_stop(&K), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_status(&K, &l, NULL), -CUB_EINVAL);
	/* The unconfigured interface: nothing to keep. */
	assert_int_equal(cub_netif_configure(A, 0, 0, 0), 0);
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &l, NULL, NULL), -CUB_EINVAL);
	stop(true);
	return NULL;
}

static void test_keep_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_renew),
		cmocka_unit_test(test_keep_rebind),
		cmocka_unit_test(test_keep_expire),
		cmocka_unit_test(test_keep_nak),
		cmocka_unit_test(test_keep_times),
		cmocka_unit_test(test_keep_args),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
