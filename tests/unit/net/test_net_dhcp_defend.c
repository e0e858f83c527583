/*
 * test_net_dhcp_defend.c - what follows a DHCP lease's configuration
 * (RFC 5227 2.3 and 2.4, arp_defend.c) against the fake server and
 * neighbour of dhcp_fake.h, with hand-built ARP frames from the
 * neighbour (MAC_X).
 *
 * Proves: cub_net_dhcp returns after the first of announce_num ARP
 * announcements (a broadcast request from A's MAC, sender and target the
 * address, target hardware 0: checked byte by byte, after the probe),
 * the rest following announce_interval_ns apart (measured where A sends
 * them, the bounds widened only by a stall the meter saw) and no more;
 * announce_num 0 sends none and 1 only the first, no coroutine left;
 * a conflict (a reply or a request from the address by another MAC) is
 * defended with one announcement and the address kept; a second within
 * defend_interval_ns loses it (address 0, arp_conflicts_lost) and a
 * keeper on the interface DECLINEs it to the server at once (well
 * before T1), then after decline_wait_ns leases another and announces
 * it (the callback saw 0 then the new address, the keeper's stats
 * lost, conflicts_lost and declines); two conflicts farther apart
 * than defend_interval_ns are both defended, and the interval counts
 * from the last defended one; our own announcement echoed back (A's
 * MAC), another host's probe of the address, ARP about other addresses
 * are no conflict (the probe answered as before); an address configured
 * by hand is not defended, nor a lease's after the address changed or
 * was released (its pending announcements not sent); the tunables'
 * defaults and bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

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
static void check_announce(unsigned i, cub_ip4_t ip)
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

static void changed(void *arg, const struct cub_dhcp_lease *l)
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
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
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
		cmocka_unit_test(test_lose),
		cmocka_unit_test(test_not_conflict),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_params),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
