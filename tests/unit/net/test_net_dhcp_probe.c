/*
 * test_net_dhcp_probe.c - RFC 5227 2.1.1's probing of an ACKed address
 * (dhcp_check.c, arp.c's cubi_arp_probe) against the fake server and
 * neighbour of dhcp_fake.h, A's frames timed where its stack sends them
 * (dhcp_tap.h).
 *
 * Proves: probe_num probes go out, each well-formed; the first within
 * probe_wait_ns of the REQUEST, each next one probe_min_ns..probe_max_ns
 * after the one before (the upper bounds widened only by the host's
 * timer lateness and a stall the meter saw), the address configured
 * announce_wait_ns after the last and no sooner; with min == max and no
 * initial wait, the gaps are that exactly (within the same lateness);
 * a neighbour that answers only the second probe (the first lost) is a
 * conflict: the address declined after the second probe, no third, the
 * next address leased; one that answers only the last, in
 * ANNOUNCE_WAIT, likewise; the timings' bounds: min over max, probe_num
 * 0 with a time, probe_num with announce_wait_ns 0, a count or time
 * over its maximum, max_conflicts and rate_limit_ns out of bounds, each
 * -CUB_EINVAL with nothing set, the maxima accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_fake.h"
#include "dhcp_tap.h"
#include "../stall.h"

#define SEC CUB_NSEC_PER_SEC
#define TOL (50 * MS * (uint64_t)test_slowness())	/* the host's timer lateness */

static struct stall_meter M;

/* The defaults with the given check, 100 ms after a DECLINE, no
 * announcements. */
static struct cub_dhcp_params params(unsigned num, uint64_t wait, uint64_t min, uint64_t max,
				     uint64_t after)
{
	struct cub_dhcp_params p = one_probe(0, 100 * MS, 3);

	p.probe_num = num;
	p.probe_wait_ns = wait;
	p.probe_min_ns = min;
	p.probe_max_ns = max;
	p.announce_wait_ns = after;
	return p;
}

/* The server up (the test set S first), A tapped, the check (num,
 * wait, min, max, after) set. */
static void go(unsigned num, uint64_t wait, uint64_t min, uint64_t max, uint64_t after)
{
	struct cub_dhcp_params p;

	start(true);
	A->ops = &tap_ops;
	ntx = 0;
	p = params(num, wait, min, max, after);
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
}

/* tx[i] is a probe of ip byte by byte (RFC 5227 2.1.1). */
static void check_probe(unsigned i, cub_ip4_t ip)
{
	static const uint8_t zero[6];
	const uint8_t *f = tx[i].f, *a = f + 14;

	assert_memory_equal(f, T_BCAST, 6);
	assert_memory_equal(f + 6, MAC_A, 6);
	assert_int_equal(t_get16(a), 1);
	assert_int_equal(t_get16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(t_get16(a + 6), 1);
	assert_memory_equal(a + 8, MAC_A, 6);
	assert_int_equal(t_get32(a + 14), 0);
	assert_memory_equal(a + 18, zero, 6);
	assert_int_equal(t_get32(a + 24), ip);
}

/* One lease with the check (num, wait, min, max, after) and nobody
 * holding the address: the probes' number and spacing. */
static void spaced(unsigned num, uint64_t wait, uint64_t min, uint64_t max, uint64_t after)
{
	struct cub_dhcp_lease l;
	unsigned idx[TX];
	uint64_t t_end, a, b;
	int req;

	dsrv_defaults();
	go(num, wait, min, max, after);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
	t_end = cub_time_now();
	assert_int_equal(l.addr, OFFER_IP);
	assert_int_equal(probes_of(0, idx), num);
	assert_int_equal(probes_of(OFFER_IP, idx), num);
	assert_int_equal(if_stats(A).arp_probes_tx, num);
	for (unsigned k = 0; k < num; k++)
		check_probe(idx[k], OFFER_IP);
	req = last_before(REQUEST, idx[0]);
	assert_true(req >= 0);
	a = tx[req].t, b = tx[idx[0]].t;
	assert_true(b - a <= wait + TOL + stall_late(&M, a, b));
	for (unsigned k = 1; k < num; k++) {
		a = tx[idx[k - 1]].t, b = tx[idx[k]].t;
		assert_true(b - a >= min);
		assert_true(b - a <= max + TOL + stall_late(&M, a, b));
	}
	a = tx[idx[num - 1]].t;
	assert_true(t_end - a >= after);		/* heard out */
	assert_true(t_end - a <= after + TOL + stall_late(&M, a, t_end));
	assert_int_equal(S.declines, 0);
	stop(true);
}

static void *spacing_main(void *arg)
{
	(void)arg;
	stall_start(&M);
	spaced(4, 100 * MS, 60 * MS, 120 * MS, 150 * MS);
	spaced(3, 0, 80 * MS, 80 * MS, 50 * MS);
	spaced(1, 0, 0, 0, 100 * MS);
	stall_stop(&M);
	return NULL;
}

static void test_probe_spacing(void **state)
{
	(void)state;
	run(spacing_main);
}

/* The neighbour holds OFFER_IP but answers only A's probe number nth
 * (of 3): a conflict all the same, found after that probe; no probe of
 * OFFER_IP after it; DECLINE, and NEXT_IP leased. */
static void answered_only(unsigned nth)
{
	struct cub_dhcp_lease l;
	unsigned idx[TX];
	int dec;
	uint64_t w0;

	dsrv_defaults();
	S.taken[0] = OFFER_IP;
	S.after_decline = NEXT_IP;
	S.answer_only = nth;
	go(3, 0, 100 * MS, 100 * MS, 200 * MS);
	w0 = test_waited_ns();
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, &l), 0);
	assert_int_equal(l.addr, NEXT_IP);
	assert_int_equal(l.declined, 1);
	assert_int_equal(probes_of(OFFER_IP, idx), nth);
	dec = first_after(DECLINE, idx[nth - 1]);
	assert_true(dec >= 0);
	assert_int_equal(last_before(DECLINE, (unsigned)dec), -1);	/* the only one */
	/* Found right after the answered probe: well before the next one
	 * would have gone (or the window's end). */
	assert_true(tx[dec].t - tx[idx[nth - 1]].t < 100 * MS + TOL + (test_waited_ns() - w0));
	assert_int_equal(probes_of(NEXT_IP, idx), 3);
	assert_int_equal(if_stats(A).arp_probe_conflicts, 1);
	assert_int_equal(if_stats(A).arp_probes_tx, nth + 3);
	assert_int_equal(S.declines, 1);
	assert_config(NEXT_IP, 24, SRV_IP);
	stop(true);
}

static void *lost_probe_main(void *arg)
{
	(void)arg;
	answered_only(2);	/* the first lost: the second covers it */
	answered_only(3);	/* the last, heard in ANNOUNCE_WAIT */
	return NULL;
}

static void test_probe_lost(void **state)
{
	(void)state;
	run(lost_probe_main);
}

/* set_params(q) fails and leaves A's tunables at *p. */
static void refused(const struct cub_dhcp_params *q, const struct cub_dhcp_params *p)
{
	struct cub_dhcp_params now;

	assert_int_equal(cub_dhcp_set_params(A, q), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_get_params(A, &now), 0);
	assert_memory_equal(&now, p, sizeof(now));
}

static void *params_main(void *arg)
{
	const uint64_t tmax = CUB_DHCP_PROBE_TIME_MAX_NS;
	struct cub_dhcp_params p, q;

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_dhcp_set_params(A, NULL), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	q = p, q.probe_min_ns = q.probe_max_ns + 1;			/* min > max */
	refused(&q, &p);
	q = p, q.probe_num = 0;				/* no probe, but times */
	refused(&q, &p);
	q = p, q.probe_num = 0, q.probe_wait_ns = q.probe_min_ns = q.probe_max_ns = 0;
	refused(&q, &p);				/* ...announce_wait_ns */
	q.announce_wait_ns = 0, q.probe_wait_ns = 1;
	refused(&q, &p);
	q.probe_wait_ns = 0, q.probe_max_ns = 1;
	refused(&q, &p);
	q = p, q.announce_wait_ns = 0;			/* the last not heard */
	refused(&q, &p);
	q = p, q.probe_num = CUB_DHCP_PROBE_NUM_MAX + 1;
	refused(&q, &p);
	q = p, q.probe_wait_ns = tmax + 1;
	refused(&q, &p);
	q = p, q.probe_max_ns = tmax + 1;
	refused(&q, &p);
	q = p, q.probe_min_ns = q.probe_max_ns = tmax + 1;
	refused(&q, &p);
	q = p, q.announce_wait_ns = tmax + 1;
	refused(&q, &p);
	q = p, q.max_conflicts = 0;
	refused(&q, &p);
	q = p, q.max_conflicts = CUB_DHCP_MAX_CONFLICTS_MAX + 1;
	refused(&q, &p);
	q = p, q.rate_limit_ns = CUB_DHCP_RATE_LIMIT_MAX_NS + 1;
	refused(&q, &p);

	/* The maxima, then no check at all with every time 0. */
	q = p;
	q.probe_num = CUB_DHCP_PROBE_NUM_MAX;
	q.probe_wait_ns = q.probe_min_ns = q.probe_max_ns = q.announce_wait_ns = tmax;
	q.max_conflicts = CUB_DHCP_MAX_CONFLICTS_MAX;
	q.rate_limit_ns = CUB_DHCP_RATE_LIMIT_MAX_NS;
	assert_int_equal(cub_dhcp_set_params(A, &q), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	q.probe_num = 0;
	q.probe_wait_ns = q.probe_min_ns = q.probe_max_ns = q.announce_wait_ns = 0;
	q.max_conflicts = 1;
	q.rate_limit_ns = 0;
	assert_int_equal(cub_dhcp_set_params(A, &q), 0);
	assert_int_equal(cub_dhcp_get_params(A, &p), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	wire_stop(&W);
	return NULL;
}

static void test_probe_params(void **state)
{
	(void)state;
	run(params_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_spacing),
		cmocka_unit_test(test_probe_lost),
		cmocka_unit_test(test_probe_params),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
