/*
 * test_net_dhcp_defend.c - what follows a DHCP lease's configuration
 * (RFC 5227 2.3 and 2.4, arp_defend.c) against the fake server and
 * neighbour of dhcp_fake.h, with hand-built ARP frames from the
 * neighbour (MAC_X); the loss of the address is test_net_dhcp_lose.c's.
 *
 * Proves: cub_net_dhcp returns after the first of announce_num ARP
 * announcements (a broadcast request from A's MAC, sender and target the
 * address, target hardware 0: checked byte by byte, after the probe),
 * the rest following announce_interval_ns apart (measured where A sends
 * them, the bounds widened only by a stall the meter saw) and no more;
 * announce_num 0 sends none and 1 only the first, no coroutine left;
 * a conflict (a reply or a request from the address by another MAC) is
 * defended with one announcement and the address kept; two conflicts
 * farther apart than defend_interval_ns are both defended, and the
 * interval counts from the last defended one; the tunables' defaults
 * and bounds.
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

/* Announcements: the first before cub_net_dhcp returns, the rest
 * announce_interval_ns apart, no more than announce_num. */
static void *announce_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	unsigned idx[TX], n;
	const uint64_t gap = 300 * MS;

	(void)arg;
	stall_start(&M);
	p = defaults();
	set_one_probe(&p, 50 * MS);
	p.announce_num = 3;
	p.announce_interval_ns = gap;
	lease(&p, &l);
	/* Returned after the first: it did not wait for the others. */
	assert_int_equal(announces(OFFER_IP, idx), 1);
	assert_true(idx[0] >= 1);
	assert_int_equal(t_get32(tx[0].f + 28), 0);		/* the probe first */
	assert_int_equal(t_get32(tx[0].f + 38), OFFER_IP);
	assert_true(A->arp_timer_on);
	WAIT_FOR(announces(OFFER_IP, NULL) == 3, 3 * gap + 2 * SEC);
	cub_sleep(2 * gap);			/* and no fourth */
	n = announces(OFFER_IP, idx);
	assert_int_equal(n, 3);
	for (unsigned k = 0; k < n; k++)
		check_announce(idx[k], OFFER_IP);
	for (unsigned k = 0; k + 1 < n; k++) {
		uint64_t a = tx[idx[k]].t, b = tx[idx[k + 1]].t;
		uint64_t late = stall_late(&M, a, b);

		assert_true(b - a + late >= gap);
		assert_true(b - a <= gap + TOL + late);
	}
	assert_int_equal(if_stats(A).arp_announces_tx, 3);
	assert_false(A->arp_timer_on);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	stall_stop(&M);
	return NULL;
}

static void test_announce(void **state)
{
	(void)state;
	run(announce_main);
}

/* announce_num 0: none (the defence still armed); 1: only the first,
 * no coroutine started. */
static void *announce_few_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	unsigned idx[TX];

	(void)arg;
	p = defaults();
	set_one_probe(&p, 0);
	p.announce_num = 0;
	p.announce_interval_ns = 50 * MS;
	lease(&p, &l);
	assert_false(A->arp_timer_on);
	cub_sleep(200 * MS);
	assert_int_equal(announces(OFFER_IP, NULL), 0);
	assert_int_equal(ntx, 0);			/* no probe, nothing */
	assert_int_equal(if_stats(A).arp_announces_tx, 0);
	conflict();
	assert_int_equal(announces(OFFER_IP, idx), 1);	/* defended */
	check_announce(idx[0], OFFER_IP);
	assert_int_equal(if_stats(A).arp_conflicts_defended, 1);
	stop(true);

	p.announce_num = 1;
	lease(&p, &l);
	assert_false(A->arp_timer_on);
	assert_int_equal(announces(OFFER_IP, idx), 1);
	check_announce(idx[0], OFFER_IP);
	cub_sleep(200 * MS);
	assert_int_equal(announces(OFFER_IP, NULL), 1);
	assert_int_equal(if_stats(A).arp_announces_tx, 1);
	stop(true);
	return NULL;
}

static void test_announce_few(void **state)
{
	(void)state;
	run(announce_few_main);
}

/* One conflict, a reply from the address: one announcement, the address
 * kept; one more much later, a request from it (the neighbour resolving
 * someone): defended again. */
static void *defend_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	struct cub_netif_stats st;
	unsigned idx[TX];

	(void)arg;
	p = defaults();
	set_one_probe(&p, 0);
	p.announce_num = 0;
	p.defend_interval_ns = 300 * MS;
	lease(&p, &l);
	conflict();
	assert_int_equal(ntx, 1);
	assert_int_equal(announces(OFFER_IP, idx), 1);
	check_announce(idx[0], OFFER_IP);
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended, 1);
	assert_int_equal(st.arp_conflicts_lost, 0);
	assert_int_equal(st.arp_announces_tx, 1);
	assert_config(OFFER_IP, 24, SRV_IP);

	cub_sleep(700 * MS);			/* past defend_interval_ns */
	neighbour_arp(1, MAC_X, OFFER_IP, SRV_IP);
	assert_int_equal(announces(OFFER_IP, idx), 2);
	check_announce(idx[1], OFFER_IP);
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended, 2);
	assert_int_equal(st.arp_conflicts_lost, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_defend(void **state)
{
	(void)state;
	run(defend_main);
}

/* Two conflicts farther apart than defend_interval_ns: both defended;
 * a third right after the second (within the interval counted from the
 * second, not the first): lost. */
static void *defend_apart_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l;
	struct cub_netif_stats st;
	uint64_t t2, t3;
	const uint64_t interval = 300 * MS;

	(void)arg;
	stall_start(&M);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	set_one_probe(&p, 0);
	p.announce_num = 0;
	p.defend_interval_ns = interval;
	lease(&p, &l);
	conflict();
	cub_sleep(2 * interval);
	conflict();
	t2 = cub_time_now();
	st = if_stats(A);
	assert_int_equal(st.arp_conflicts_defended, 2);
	assert_int_equal(announces(OFFER_IP, NULL), 2);
	assert_config(OFFER_IP, 24, SRV_IP);
	conflict();
	t3 = cub_time_now();
	st = if_stats(A);
	if (st.arp_conflicts_lost == 0)	/* only a stall can have spaced them */
		assert_true(stall_late(&M, t2, t3) + TOL >= interval);
	else
		assert_config(0, 0, 0);
	assert_int_equal(st.arp_conflicts_lost + st.arp_conflicts_defended, 3);
	assert_int_equal(announces(OFFER_IP, NULL), st.arp_conflicts_defended);
	stop(true);
	stall_stop(&M);
	return NULL;
}

static void test_defend_apart(void **state)
{
	(void)state;
	run(defend_apart_main);
}

/* p and q hold the same tunables. */
static void same_params(const struct cub_dhcp_params *p, const struct cub_dhcp_params *q)
{
	assert_int_equal(p->probe_num, q->probe_num);
	assert_int_equal(p->probe_wait_ns, q->probe_wait_ns);
	assert_int_equal(p->probe_min_ns, q->probe_min_ns);
	assert_int_equal(p->probe_max_ns, q->probe_max_ns);
	assert_int_equal(p->announce_wait_ns, q->announce_wait_ns);
	assert_int_equal(p->max_conflicts, q->max_conflicts);
	assert_int_equal(p->rate_limit_ns, q->rate_limit_ns);
	assert_int_equal(p->decline_wait_ns, q->decline_wait_ns);
	assert_int_equal(p->max_declines, q->max_declines);
	assert_int_equal(p->announce_num, q->announce_num);
	assert_int_equal(p->announce_interval_ns, q->announce_interval_ns);
	assert_int_equal(p->defend_interval_ns, q->defend_interval_ns);
}

/* The tunables: defaults, each bound, nothing set by a rejected call. */
static void *params_main(void *arg)
{
	struct cub_dhcp_params p, q, bad;

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_dhcp_set_params(A, NULL), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	q = defaults();
	same_params(&p, &q);
	assert_int_equal(p.announce_num, 2);
	assert_int_equal(p.announce_interval_ns, 2 * SEC);
	assert_int_equal(p.defend_interval_ns, 10 * SEC);
	assert_int_equal(p.announce_num, CUB_DHCP_ANNOUNCE_NUM);
	assert_int_equal(p.announce_interval_ns, CUB_DHCP_ANNOUNCE_INTERVAL_NS);
	assert_int_equal(p.defend_interval_ns, CUB_DHCP_DEFEND_INTERVAL_NS);
	q = p;
	q.announce_num = CUB_DHCP_ANNOUNCE_MAX;
	q.announce_interval_ns = CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS;
	q.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_MAX_NS;
	assert_int_equal(cub_dhcp_set_params(A, &q), 0);	/* the maxima */
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	same_params(&p, &q);
	bad = q;
	bad.announce_num = CUB_DHCP_ANNOUNCE_MAX + 1;
	assert_int_equal(cub_dhcp_set_params(A, &bad), -CUB_EINVAL);
	bad = q;
	bad.announce_interval_ns = CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS + 1;
	assert_int_equal(cub_dhcp_set_params(A, &bad), -CUB_EINVAL);
	bad = q;
	bad.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_MAX_NS + 1;
	assert_int_equal(cub_dhcp_set_params(A, &bad), -CUB_EINVAL);
	bad = q;
	bad.defend_interval_ns = UINT64_MAX;
	assert_int_equal(cub_dhcp_set_params(A, &bad), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);	/* untouched */
	same_params(&p, &q);
	q.announce_num = 0;				/* the minima */
	q.announce_interval_ns = 0;
	q.defend_interval_ns = 0;
	assert_int_equal(cub_dhcp_set_params(A, &q), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	same_params(&p, &q);
	wire_stop(&W);
	return NULL;
}

static void test_params(void **state)
{
	(void)state;
	run(params_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce),
		cmocka_unit_test(test_announce_few),
		cmocka_unit_test(test_defend),
		cmocka_unit_test(test_defend_apart),
		cmocka_unit_test(test_params),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
