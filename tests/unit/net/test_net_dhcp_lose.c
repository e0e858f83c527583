/*
 * test_net_dhcp_lose.c - a DHCP lease's address lost to a conflict, and
 * what is no conflict (RFC 5227 2.4, arp_defend.c), against the fake
 * server and neighbour of dhcp_fake.h (fixture: dhcp_defend.h).
 *
 * Proves: a second conflict within defend_interval_ns loses the address
 * (address 0, arp_conflicts_lost) and a keeper on the interface
 * DECLINEs it to the server at once (well before T1), then after
 * decline_wait_ns leases another and announces it (the callback saw 0
 * then the new address, the keeper's stats lost, conflicts_lost and
 * declines); our own announcement echoed back (A's MAC), another host's
 * probe of the address, ARP about other addresses are no conflict (the
 * probe answered as before); an address configured by hand is not
 * defended, nor a lease's after the address changed or was released
 * (its pending announcements not sent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_defend.h"

/* --------------------------------------------------------------- tests */

/* True once the keeper has sent a DISCOVER (of what sent[] holds from
 * index from on): its index, else -1. */
static int discover_from(unsigned from)
{
	for (unsigned i = from; i < nsent; i++) {
		size_t n;
		const uint8_t *m = msg_of(i, &n);

		size_t olen;
		const uint8_t *o = find_opt(m, n, 53, &olen);

		if (o && olen == 1 && o[0] == DISCOVER)
			return (int)i;
	}
	return -1;
}

/* Sent message i is a DECLINE of addr to SRV_IP, broadcast from
 * 0.0.0.0 (RFC 2131 4.4.1, table 5). */
static void check_decline(unsigned i, cub_ip4_t addr)
{
	size_t n, olen;
	const uint8_t *m = msg_of(i, &n), *o;

	assert_true(i < nsent);
	assert_int_equal(type_of(m, n), DECLINE);
	assert_int_equal(t_get32(sent[i].f + 26), 0);		/* from 0.0.0.0 */
	assert_int_equal(t_get32(sent[i].f + 30), CUB_IP4_BROADCAST);
	assert_int_equal(t_get32(m + 12), 0);			/* ciaddr */
	o = find_opt(m, n, 50, &olen);
	assert_true(o && olen == 4 && t_get32(o) == addr);
	o = find_opt(m, n, 54, &olen);
	assert_true(o && olen == 4 && t_get32(o) == SRV_IP);
}

/* Two conflicts within defend_interval_ns (the default 10 s) with a
 * keeper on A: the address lost, the keeper DECLINEs it at once (the
 * server moves on to another), and after decline_wait_ns leases and
 * announces another. */
static void *lose_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l, kl;
	struct cub_dhcp_keeper_stats ks;
	struct cub_netif_stats st;
	const uint64_t wait = 100 * MS;
	uint64_t t_lost;
	int d;

	(void)arg;
	stall_start(&M);
	p = defaults();				/* A may be fresh: not its params */
	set_one_probe(&p, 300 * MS);
	p.decline_wait_ns = wait;
	p.announce_num = 1;
	lease(&p, &l);				/* T1 in 1800 s */
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &l, changed, &seen), 0);
	S.taken[0] = OFFER_IP;			/* the neighbour keeps it */
	S.after_decline = NEXT_IP;
	nsent = 0;
	conflict();
	assert_config(OFFER_IP, 24, SRV_IP);	/* the first: defended */
	t_lost = cub_time_now();
	conflict();
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended, 1);
	assert_int_equal(st.arp_conflicts_lost, 1);
	assert_int_equal(announces(OFFER_IP, NULL), 2);	/* the lease's, the defence */
	WAIT_FOR(kstats(NULL).leased == 1, 5 * SEC);
	ks = kstats(&kl);
	assert_int_equal(ks.lost, 1);
	assert_int_equal(ks.conflicts_lost, 1);
	assert_int_equal(ks.renewed + ks.rebound, 0);
	assert_int_equal(ks.declines, 1);	/* the lost address's */
	assert_int_equal(ks.conflicts, 0);	/* NEXT_IP probed: free */
	assert_int_equal(ks.probes, 1);
	assert_int_equal(S.declines, 1);
	assert_int_equal(kl.addr, NEXT_IP);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.addrs[0], 0);
	assert_int_equal(seen.addrs[1], NEXT_IP);
	assert_config(NEXT_IP, 24, SRV_IP);
	/* The DECLINE came at once (not at T1), the DISCOVER after the
	 * decline wait. */
	check_decline(0, OFFER_IP);
	assert_true(sent[0].t >= t_lost);
	assert_true(sent[0].t - t_lost <= TOL + stall_late(&M, t_lost, sent[0].t));
	d = discover_from(0);
	assert_int_equal(d, 1);
	assert_true(sent[d].t >= t_lost + wait);
	assert_true(sent[d].t - t_lost <= wait + TOL + stall_late(&M, t_lost, sent[d].t));
	assert_int_equal(announces(NEXT_IP, NULL), 1);	/* the new lease's */
	assert_int_equal(announces(OFFER_IP, NULL), 2);	/* none since */
	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	stop(true);
	stall_stop(&M);
	return NULL;
}

static void test_lose(void **state)
{
	(void)state;
	run(lose_main);
}

/* Not conflicts: our own announcement and reply echoed back (A's MAC:
 * malformed), another host's probe of the address (answered), ARP from
 * and about other addresses. Then a real one is defended: the defence
 * was on. */
static void *not_conflict_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	struct cub_netif_stats st0, st;
	const uint8_t *a;

	(void)arg;
	p = defaults();
	set_one_probe(&p, 0);
	p.announce_num = 0;
	lease(&p, &l);
	st0 = if_stats(A);
	neighbour_arp(1, MAC_A, OFFER_IP, OFFER_IP);	/* our announcement */
	neighbour_arp(2, MAC_A, OFFER_IP, SRV_IP);	/* our reply */
	st = if_stats(A);
	assert_int_equal(st.arp_bad, st0.arp_bad + 2);
	assert_int_equal(ntx, 0);
	neighbour_arp(1, MAC_X, 0, OFFER_IP);		/* a probe of it */
	assert_int_equal(ntx, 1);			/* answered: */
	a = tx[0].f + 14;
	assert_int_equal(t_get16(a + 6), 2);
	assert_int_equal(t_get32(a + 14), OFFER_IP);
	assert_memory_equal(a + 18, MAC_X, 6);
	assert_int_equal(t_get32(a + 24), 0);
	neighbour_arp(1, MAC_X, OTHER_IP, OTHER_IP);	/* another's */
	neighbour_arp(2, MAC_X, OTHER_IP, OFFER_IP);
	neighbour_arp(1, MAC_X, OTHER_IP, OFFER_IP);	/* resolving us */
	assert_int_equal(announces(OFFER_IP, NULL), 0);
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended, 0);
	assert_int_equal(st.arp_conflicts_lost, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	conflict();
	assert_int_equal(announces(OFFER_IP, NULL), 1);
	assert_int_equal(if_stats(A).arp_conflicts_defended, 1);
	stop(true);
	return NULL;
}

static void test_not_conflict(void **state)
{
	(void)state;
	run(not_conflict_main);
}

/* Only a lease's address is defended, and only while it is the
 * interface's: not one set by hand, not after a change or a release
 * (which also ends its pending announcements). */
static void *scope_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	struct cub_netif_stats st;

	(void)arg;
	p = defaults();
	set_one_probe(&p, 0);
	p.announce_num = 4;
	p.announce_interval_ns = 200 * MS;
	lease(&p, &l);
	assert_int_equal(announces(OFFER_IP, NULL), 1);
	assert_int_equal(cub_dhcp_release(A, &l), 0);
	while (A->arp_timer_on)			/* it ends at once */
		cub_coro_yield();
	cub_sleep(500 * MS);
	assert_int_equal(announces(OFFER_IP, NULL), 1);
	assert_int_equal(cub_netif_configure(A, OFFER_IP, 24, 0), 0);	/* by hand */
	conflict();
	conflict();
	assert_int_equal(announces(OFFER_IP, NULL), 1);
	assert_config(OFFER_IP, 24, 0);
	stop(true);

	p.announce_num = 0;
	lease(&p, &l);
	assert_int_equal(cub_netif_configure(A, NEXT_IP, 24, 0), 0);	/* changed */
	neighbour_arp(2, MAC_X, NEXT_IP, NEXT_IP);
	neighbour_arp(2, MAC_X, NEXT_IP, NEXT_IP);
	assert_int_equal(cub_netif_configure(A, OFFER_IP, 24, 0), 0);	/* and back */
	conflict();
	conflict();
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended + st.arp_conflicts_lost, 0);
	assert_int_equal(st.arp_announces_tx, 0);
	assert_config(OFFER_IP, 24, 0);
	stop(true);
	return NULL;
}

static void test_scope(void **state)
{
	(void)state;
	run(scope_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lose),
		cmocka_unit_test(test_not_conflict),
		cmocka_unit_test(test_scope),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
