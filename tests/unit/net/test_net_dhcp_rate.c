/*
 * test_net_dhcp_rate.c - RFC 5227 2.1.1's rate limit on new addresses
 * (MAX_CONFLICTS, RATE_LIMIT_INTERVAL: dhcp_check.c) and the DECLINE of
 * an address lost after configuration (dhcp_keep.c, arp_defend.c),
 * against the fake server and neighbour of dhcp_fake.h, A's frames timed
 * where its stack sends them (dhcp_tap.h).
 *
 * Proves: with max_conflicts 2 and every offer taken, the first two
 * checks follow each other after decline_wait_ns, and each later one
 * begins rate_limit_ns or more after the one before began (its DISCOVER
 * no sooner than the previous REQUEST plus the limit, and not much
 * later than the previous probe plus it), counted in arp_rate_limited;
 * a new call whose turn comes after its timeout fails at once with
 * -CUB_EADDRNOTAVAIL, sending nothing; one with time enough waits for
 * its turn and leases; after an address held rate_limit_ns the count
 * starts over (two checks again before the limit). With a keeper, an
 * address lost to a conflict is DECLINEd to the server that leased it
 * at once (field by field), counted (declines, conflicts_lost), and
 * counts for the limit: with max_conflicts 1 the new DISCOVER waits for
 * the turn after the first lease's check (rate_limited).
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
#include "dhcp_tap.h"
#include "../stall.h"

#define SEC CUB_NSEC_PER_SEC
#define TOL (50 * MS * (uint64_t)test_slowness())	/* the host's timer lateness */
#define RATE (700 * MS)				/* rate_limit_ns */
#define DECLINE_WAIT (50 * MS)

static struct stall_meter M;

/* One probe heard out for 300 ms (a conflict cuts it short), DECLINE_WAIT,
 * `declines` per run, max_conflicts 2 (or `conflicts`), RATE. */
static void set_rate(unsigned declines, unsigned conflicts)
{
	struct cub_dhcp_params p = one_probe(300 * MS, DECLINE_WAIT, declines);

	p.max_conflicts = conflicts;
	p.rate_limit_ns = RATE;
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
}

/* Probe k (tx index idx[k]) began rate_limit_ns or more after probe k-1
 * did: its DISCOVER no sooner than the REQUEST before probe k-1 (which
 * came before that check began) plus RATE, and not much later than
 * probe k-1 plus RATE. */
static void limited(const unsigned *idx, unsigned k)
{
	int req = last_before(REQUEST, idx[k - 1]), dis = first_after(DISCOVER, idx[k - 1]);
	uint64_t a = tx[idx[k - 1]].t;

	assert_true(req >= 0 && dis >= 0 && (unsigned)dis < idx[k]);
	assert_true(tx[dis].t - tx[req].t >= RATE);
	assert_true(tx[dis].t - a <= RATE + TOL + stall_late(&M, a, tx[dis].t));
}

/* Probe k followed probe k-1 after the decline wait, not the limit. */
static void not_limited(const unsigned *idx, unsigned k)
{
	uint64_t a = tx[idx[k - 1]].t, b = tx[idx[k]].t;

	assert_true(b - a >= DECLINE_WAIT);
	assert_true(b - a < RATE / 2 + stall_late(&M, a, b));
}

static void *rate_main(void *arg)
{
	struct cub_dhcp_lease l;
	unsigned idx[TX], n0;
	uint64_t t0, w0;

	(void)arg;
	stall_start(&M);
	dsrv_defaults();
	S.taken[0] = OFFER_IP;
	S.taken[1] = NEXT_IP;
	S.after_decline = NEXT_IP;
	start(true);
	A->ops = &tap_ops;
	ntx = 0;
	set_rate(5, 2);
	assert_int_equal(cub_net_dhcp(A, 10 * SEC, &l), -CUB_EADDRNOTAVAIL);
	assert_int_equal(probes_of(0, idx), 5);
	not_limited(idx, 1);
	for (unsigned k = 2; k < 5; k++)
		limited(idx, k);
	assert_int_equal(if_stats(A).arp_probe_conflicts, 5);
	assert_int_equal(if_stats(A).arp_rate_limited, 3);
	assert_int_equal(S.declines, 5);

	/* The next turn is RATE after the last check: a call with less time
	 * gives up at once and sends nothing. */
	n0 = ntx;
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_net_dhcp(A, RATE / 4, &l), -CUB_EADDRNOTAVAIL);
	assert_true(cub_time_now() - t0 < test_bound(RATE / 4, w0));
	assert_int_equal(ntx, n0);
	assert_int_equal(if_stats(A).arp_rate_limited, 3);

	/* The neighbour gone: one with time enough waits for its turn. */
	S.taken[0] = S.taken[1] = 0;
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
	assert_int_equal(l.addr, NEXT_IP);
	assert_int_equal(probes_of(0, idx), 6);
	limited(idx, 5);
	assert_int_equal(if_stats(A).arp_rate_limited, 4);

	/* Held RATE: the count starts over at the next conflict, so two
	 * checks go before the limit again (max_declines 3 ends it after
	 * the third, the first limited one). */
	cub_sleep(RATE);
	assert_int_equal(cub_dhcp_release(A, &l), 0);
	S.taken[0] = OFFER_IP;
	S.taken[1] = NEXT_IP;
	set_rate(3, 2);
	assert_int_equal(cub_net_dhcp(A, 10 * SEC, &l), -CUB_EADDRNOTAVAIL);
	assert_int_equal(probes_of(0, idx), 9);
	not_limited(idx, 7);
	limited(idx, 8);
	assert_int_equal(if_stats(A).arp_rate_limited, 5);
	stop(true);
	stall_stop(&M);
	return NULL;
}

static void test_rate_limit(void **state)
{
	(void)state;
	run(rate_main);
}

/* tx[i] is a DECLINE of addr to SRV_IP, broadcast from 0.0.0.0 with
 * ciaddr 0 (RFC 2131 4.4.1, table 5). */
static void check_decline(unsigned i, cub_ip4_t addr)
{
	const uint8_t *f = tx[i].f, *m = f + 42;

	assert_int_equal(tx_type(i), DECLINE);
	assert_memory_equal(f, T_BCAST, 6);
	assert_int_equal(t_get32(f + 26), 0);
	assert_int_equal(t_get32(f + 30), CUB_IP4_BROADCAST);
	assert_int_equal(t_get16(m + 10), 0);			/* no broadcast flag */
	assert_int_equal(t_get32(m + 12), 0);			/* ciaddr */
	assert_int_equal(t_get32(m + 16), 0);			/* yiaddr */
	assert_memory_equal(m + 28, MAC_A, 6);
	/* type (checked), then 50 and 54, as the client writes them */
	assert_int_equal(m[HDR + 7], 50);
	assert_int_equal(m[HDR + 8], 4);
	assert_int_equal(t_get32(m + HDR + 9), addr);
	assert_int_equal(m[HDR + 13], 54);
	assert_int_equal(m[HDR + 14], 4);
	assert_int_equal(t_get32(m + HDR + 15), SRV_IP);
	assert_int_equal(m[HDR + 19], 255);			/* nothing else */
}

/* A keeper's address lost to two conflicts: DECLINEd at once, then
 * (max_conflicts 1: the loss is the interface's first conflict, which
 * reaches it) the new DISCOVER waits for RATE after the first check. */
static void *lost_main(void *arg)
{
	struct cub_dhcp_params p;
	struct cub_dhcp_lease l, kl;
	struct cub_dhcp_keeper_stats ks;
	unsigned idx[TX];
	uint64_t t_lost;
	int dec, dis;

	(void)arg;
	stall_start(&M);
	dsrv_defaults();
	start(true);
	A->ops = &tap_ops;
	ntx = 0;
	set_rate(3, 1);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	p.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_NS;	/* a second conflict loses */
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
	assert_int_equal(cub_dhcp_keeper_start(&K, A, &l, NULL, NULL), 0);
	S.taken[0] = OFFER_IP;
	S.after_decline = NEXT_IP;
	t_lost = cub_time_now();
	fake_arp(MAC_A, 2, MAC_X, OFFER_IP, MAC_A, 0);	/* defended... */
	fake_arp(MAC_A, 2, MAC_X, OFFER_IP, MAC_A, 0);	/* ...then lost */
	wire_settle(&W);
	assert_int_equal(if_stats(A).arp_conflicts_lost, 1);
	WAIT_FOR(kstats(NULL).leased == 1, 5 * SEC);
	ks = kstats(&kl);
	assert_int_equal(kl.addr, NEXT_IP);
	assert_int_equal(ks.lost, 1);
	assert_int_equal(ks.conflicts_lost, 1);
	assert_int_equal(ks.declines, 1);
	assert_int_equal(ks.conflicts, 0);
	assert_int_equal(ks.rate_limited, 1);
	assert_int_equal(if_stats(A).arp_rate_limited, 1);
	assert_int_equal(S.declines, 1);
	assert_int_equal(probes_of(0, idx), 2);
	dec = first_after(DECLINE, idx[0]);
	assert_true(dec >= 0);
	check_decline((unsigned)dec, OFFER_IP);
	assert_true(tx[dec].t - t_lost <= TOL + stall_late(&M, t_lost, tx[dec].t));
	dis = first_after(DISCOVER, (unsigned)dec);
	assert_true(dis >= 0 && (unsigned)dis < idx[1]);
	assert_true(tx[dis].t - tx[dec].t >= DECLINE_WAIT);
	limited(idx, 1);
	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	stop(true);
	stall_stop(&M);
	return NULL;
}

static void test_rate_lost(void **state)
{
	(void)state;
	run(lost_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_rate_lost),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
