/*
 * test_net_frag_slots.c - the reassembly slots as a run-time tunable
 * and the ICMP "fragment reassembly time exceeded" of a timed-out
 * datagram (src/net/ip4_frag.c, icmp.c), against hand-built fragments
 * on the capture interface of frag_test.h:
 *  - N slots (1, 2, 7, the maximum) hold N datagrams, the (N+1)th
 *    evicts the oldest; lowering the count drops the datagrams beyond
 *    it, raising it lets more in; 0, above the maximum and NULL are
 *    refused and change nothing;
 *  - after a timeout, the time exceeded frame checked byte by byte
 *    against one built here (type 11 code 1, the offset-0 fragment's
 *    IPv4 header and first 8 bytes quoted);
 *  - none when the offset-0 fragment never came, for a broadcast
 *    destination (subnet and limited), a group Ethernet source, an
 *    ICMP error datagram, nor for an evicted datagram;
 *  - the rate limit shared with port unreachables.
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

#include "frag_test.h"

/* Feeds fragment 0 (1480 bytes, MF) of the UDP datagram in D (l4
 * bytes) as datagram id, after a millisecond so that ages differ. */
static void first_frag(uint16_t id, size_t l4)
{
	cub_sleep(1 * MS);
	feed(id, 17, l4, 1480, 0);
}

/* n slots: n datagrams held, the next evicts the oldest (its later
 * fragment then starts a new one, evicting the next oldest); the others
 * complete. No ICMP for any of it. */
static void fill_and_evict(unsigned n, struct cub_udp *u)
{
	struct cub_netif_stats s0 = stats();
	size_t l4 = make_udp(2000, 9);
	uint16_t id0 = (uint16_t)(100 * n);

	assert_int_equal(cub_ip4_set_reasm_slots(C, n), 0);
	for (unsigned i = 0; i < n; i++)
		first_frag((uint16_t)(id0 + i), l4);
	assert_int_equal(cub_ip4_reasm_busy(C), (int)n);
	assert_int_equal(stats().ip_reasm_evicted, s0.ip_reasm_evicted);
	first_frag((uint16_t)(id0 + n), l4);		/* the (n+1)th */
	assert_int_equal(stats().ip_reasm_evicted, s0.ip_reasm_evicted + 1);
	assert_int_equal(cub_ip4_reasm_busy(C), (int)n);
	feed(id0, 17, l4, 1480, 1);		/* evicted: a new one */
	assert_int_equal(stats().ip_reasm_evicted, s0.ip_reasm_evicted + 2);
	assert_int_equal(stats().ip_reassembled, s0.ip_reassembled);
	for (unsigned i = 2; i <= n; i++) {
		feed((uint16_t)(id0 + i), 17, l4, 1480, 1);
		expect_one(u, 2000);
	}
	assert_int_equal(stats().ip_reassembled, s0.ip_reassembled + n - 1);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);	/* id0's tail */
	assert_int_equal(CAP.n, 0);
	/* Clear it for the next round (no offset 0: no ICMP). */
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 0), 0);
	assert_int_equal(CAP.n, 0);
}

static void *slots_main(void *arg)
{
	static const unsigned ns[] = { 1, 2, 7, CUB_IP4_REASM_SLOTS_MAX };
	struct cub_udp u;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	for (unsigned k = 0; k < 4; k++)
		fill_and_evict(ns[k], &u);
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_n_slots(void **state)
{
	(void)state;
	run(slots_main);
}

/* Lowering drops what is beyond; raising lets more in; bad values
 * change nothing. */
static void *resize_main(void *arg)
{
	struct cub_udp u;
	size_t l4;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	l4 = make_udp(2000, 4);
	assert_int_equal(cub_ip4_set_reasm_slots(C, 8), 0);
	for (uint16_t id = 0; id < 8; id++)
		first_frag(id, l4);
	assert_int_equal(cub_ip4_reasm_busy(C), 8);
	assert_int_equal(cub_ip4_set_reasm_slots(C, 3), 0);
	assert_int_equal(stats().ip_reasm_evicted, 5);
	assert_int_equal(cub_ip4_reasm_busy(C), 3);
	/* The bad values: the count stays 3. */
	assert_int_equal(cub_ip4_set_reasm_slots(C, 0), -CUB_EINVAL);
	assert_int_equal(cub_ip4_set_reasm_slots(C, CUB_IP4_REASM_SLOTS_MAX + 1),
			 -CUB_EINVAL);
	assert_int_equal(cub_ip4_set_reasm_slots(NULL, 3), -CUB_EINVAL);
	first_frag(50, l4);				/* evicts the oldest */
	assert_int_equal(stats().ip_reasm_evicted, 6);
	assert_int_equal(cub_ip4_reasm_busy(C), 3);
	/* Ids 1 and 2 are the ones left of the first eight. */
	for (uint16_t id = 1; id < 3; id++) {
		feed(id, 17, l4, 1480, 1);
		expect_one(&u, 2000);
	}
	/* Raised to 5: four new ones fit beside 50, nothing evicted. */
	assert_int_equal(cub_ip4_set_reasm_slots(C, 5), 0);
	for (uint16_t id = 60; id < 64; id++)
		first_frag(id, l4);
	assert_int_equal(cub_ip4_reasm_busy(C), 5);
	assert_int_equal(stats().ip_reasm_evicted, 6);
	assert_int_equal(CAP.n, 0);
	assert_int_equal(cub_ip4_set_reasm_slots(C, 1), 0);	/* 4 dropped */
	assert_int_equal(stats().ip_reasm_evicted, 10);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);
	assert_int_equal(CAP.n, 0);				/* no ICMP */
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_resize(void **state)
{
	(void)state;
	run(resize_main);
}

/* ------------------------------------------------------- time exceeded */

/* Times out the datagrams held (held with the default 30 s, so that no
 * delay of a loaded machine times them out before): a 1 ns timeout
 * applies to them at once, cub_ip4_reasm_busy notices. */
static void expire_all(void)
{
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 0), 0);
}

/* The frame C must send about fragment 0 of datagram id (as t_frag
 * built it): into x, with the IPv4 identification of got (C's own);
 * returns its length. */
static size_t expected_te(uint8_t *x, const uint8_t *got, uint16_t id,
			  size_t l4)
{
	uint8_t *ip = x + 14, *m = x + 34;

	t_frag(id, 17, 0, 1480, l4 > 1480);	/* the quoted fragment */
	t_eth(x, MAC_P, MAC_C, 0x0800);
	m[0] = 11;
	m[1] = 1;
	t_put16(m + 2, 0);
	t_put32(m + 4, 0);
	memcpy(m + 8, F + 14, 20 + 8);		/* its header + 8 bytes */
	t_put16(m + 2, t_cksum(0, m, 8 + 28));
	ip[0] = 0x45;
	ip[1] = 0;
	t_put16(ip + 2, 20 + 8 + 28);
	memcpy(ip + 4, got + 18, 2);		/* C's identification */
	t_put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = 1;
	t_put16(ip + 10, 0);
	t_put32(ip + 12, IP_C);
	t_put32(ip + 16, IP_P);
	t_put16(ip + 10, t_cksum(0, ip, 20));
	return 34 + 8 + 28;
}

static void *te_main(void *arg)
{
	static uint8_t x[128];
	size_t l4, n;

	(void)arg;
	cap_start();
	l4 = make_udp(4000, 3);
	feed(70, 17, l4, 1480, 0);
	feed(70, 17, l4, 1480, 2);		/* fragment 1 never comes */
	assert_int_equal(CAP.n, 0);
	expire_all();
	assert_int_equal(stats().ip_reasm_timeouts, 1);
	assert_int_equal(stats().ip_reasm_icmp_tx, 1);
	assert_int_equal(CAP.n, 1);
	n = expected_te(x, CAP.frame[0], 70, l4);
	assert_int_equal(CAP.len[0], n);
	assert_memory_equal(CAP.frame[0], x, n);
	/* The quote is the offset-0 fragment's, whichever came first. */
	CAP.n = 0;
	feed(71, 17, l4, 1480, 2);
	feed(71, 17, l4, 1480, 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	/* Noticed by the next IPv4 frame this time. */
	cub_netif_input(C, F, t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 1, 9, "x", 1));
	assert_int_equal(stats().ip_reasm_icmp_tx, 2);
	assert_int_equal(CAP.n >= 1, 1);	/* (and a port unreachable) */
	n = expected_te(x, CAP.frame[0], 71, l4);
	assert_int_equal(CAP.len[0], n);
	assert_memory_equal(CAP.frame[0], x, n);
	cap_end();
	return NULL;
}

static void test_time_exceeded(void **state)
{
	(void)state;
	run(te_main);
}

/* Fragment 0 of datagram id, edited by how: 1 to the subnet's
 * broadcast, 2 to 255.255.255.255, 3 from a group Ethernet address. */
static void odd_first(uint16_t id, size_t l4, int how)
{
	size_t n = t_frag(id, 17, 0, 1480, true);

	(void)l4;
	if (how == 1)
		t_put32(F + 30, CUB_IP4(10, 0, 0, 255));
	if (how == 2)
		t_put32(F + 30, CUB_IP4_BROADCAST);
	if (how == 3)
		F[6] |= 1;
	if (how == 1 || how == 2)
		memcpy(F, T_BCAST, 6);
	t_ip_refresh(F);
	cub_netif_input(C, F, n);
}

static void *no_te_main(void *arg)
{
	size_t l4;

	(void)arg;
	cap_start();
	assert_int_equal(cub_ip4_set_reasm_slots(C, 8), 0);
	l4 = make_udp(4000, 5);
	/* Fragment 0 never came. */
	feed(80, 17, l4, 1480, 1);
	feed(80, 17, l4, 1480, 2);
	/* Broadcast destinations, a group source. */
	for (int how = 1; how <= 3; how++)
		odd_first((uint16_t)(80 + how), l4, how);
	assert_int_equal(cub_ip4_reasm_busy(C), 4);
	/* An ICMP error in fragments (destination unreachable). */
	D[0] = 3;
	feed(90, 1, l4, 1480, 0);
	assert_int_equal(cub_ip4_reasm_busy(C), 5);
	expire_all();
	assert_int_equal(stats().ip_reasm_timeouts, 5);
	assert_int_equal(stats().ip_reasm_icmp_tx, 0);
	assert_int_equal(stats().ip_reasm_icmp_limited, 0);
	assert_int_equal(CAP.n, 0);
	cap_end();
	return NULL;
}

static void test_no_time_exceeded(void **state)
{
	(void)state;
	run(no_te_main);
}

/* 30 datagrams time out at once: the bucket's 10 tokens go to the
 * first ones, the rest are counted as limited, and a port unreachable
 * right after is limited too (the same bucket). A machine slow enough
 * to take 10 ms meanwhile refills tokens: then only the sums hold. */
static void *limit_main(void *arg)
{
	struct cub_netif_stats s;
	uint64_t t0, dt;
	size_t l4;

	(void)arg;
	cap_start();
	assert_int_equal(cub_ip4_set_reasm_slots(C, 30), 0);
	l4 = make_udp(2000, 6);
	for (uint16_t id = 0; id < 30; id++)
		feed(id, 17, l4, 1480, 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	t0 = cub_time_now();
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	cub_netif_input(C, F, t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 1, 9, "x", 1));
	dt = cub_time_now() - t0;
	s = stats();
	assert_int_equal(s.ip_reasm_timeouts, 30);
	assert_int_equal(s.ip_reasm_icmp_tx + s.ip_reasm_icmp_limited, 30);
	assert_true(s.ip_reasm_icmp_tx >= 10);
	assert_int_equal(CAP.n, s.ip_reasm_icmp_tx + s.icmp_unreach_tx);
	if (dt < 10 * MS) {
		assert_int_equal(s.ip_reasm_icmp_tx, 10);
		assert_int_equal(s.icmp_unreach_limited, 1);
		assert_int_equal(s.icmp_unreach_tx, 0);
	}
	cap_end();
	return NULL;
}

static void test_rate_limit(void **state)
{
	(void)state;
	run(limit_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_n_slots),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_time_exceeded),
		cmocka_unit_test(test_no_time_exceeded),
		cmocka_unit_test(test_rate_limit),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
