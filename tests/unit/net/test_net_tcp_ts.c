/*
 * test_net_tcp_ts.c - TCP timestamps and PAWS (RFC 7323 3-5, src/net/
 * tcp_ts.c, tcp_opt.c) and SACK blocks on data segments (RFC 2018,
 * tcp_out.c), against a peer played by hand (tcp_hand.h) and between two
 * cubrt ends: the option negotiated both ways, refused when the peer's
 * SYN lacks it or the params turn it off; the TSecr A echoes (in-order
 * segments move it, out-of-order ones do not, the one filling a hole
 * does, mod 2^32); malformed timestamp options; SACK blocks on data
 * segments within the 40 option bytes, the payload shrunk by the
 * options. PAWS and RTT samples: test_net_tcp_paws.c. After each test
 * every connection is gone and the counters add up.
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

#include "tcp_test.h"
#include "tcp_hand.h"
#include "tcp_ts_test.h"

/* ---------------------------------------------------------- negotiation */

static void *nego_active_main(void *arg)
{
	struct cub_tcp_info i;
	struct cub_tcp *c;
	uint32_t v, e;

	(void)arg;
	fill_payload();
	start();
	/* Both: agreed; A's ACK echoes the SYN-ACK's TSval; every data
	 * segment carries the option and 1460 - 12 bytes. */
	c = ts_open(true, 1000);
	assert_true(syn_had_ts);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_true(i.timestamps);
	assert_int_equal(ncap, 2);
	assert_int_equal(last()[13], 0x10);
	a_tsval = expect_ecr(1000);
	before = ncap;
	assert_int_equal(cub_tcp_send(c, payload, 3000, 0), 3000);
	wire_settle(&W);
	assert_int_equal(ncap, before + 3);
	for (unsigned k = before; k < ncap; k++) {
		assert_true(seg_ts(cap[k].data + 34, &v, &e));
		assert_int_equal(e, 1000);
		assert_int_equal(cap_len(k), k < before + 2 ? 1448 : 104);
	}
	assert_int_equal(cub_tcp_abort(c), 0);
	wire_settle(&W);
	/* The RST carries them too (RFC 7323 3.2 SHOULD). */
	assert_int_equal(last()[13] & 0x04, 0x04);
	assert_true(seg_ts(last(), &v, &e));
	stop();

	/* A peer without them: not agreed, A sends none; a timestamps
	 * option arriving later is ignored, the segment taken normally. */
	start();
	c = ts_open(false, 0);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_false(i.timestamps);
	assert_false(seg_ts(last(), &v, &e));
	before = ncap;
	TSEG(0, 10, 5);
	expect_ack(10);
	assert_false(seg_ts(last(), &v, &e));
	assert_int_equal(cub_tcp_recv(c, payload + 4096, 10, 1000 * MS), 10);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();

	/* Turned off on A: its SYN offers none, a SYN-ACK's is ignored. */
	start();
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.timestamps = -1 }), 0);
	c = ts_open(true, 1000);
	assert_false(syn_had_ts);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_false(i.timestamps);
	assert_false(seg_ts(last(), &v, &e));
	assert_int_equal(cub_tcp_abort(c), 0);
	stop_all();
	return NULL;
}

static void test_negotiate_active(void **state)
{
	(void)state;
	run(nego_active_main);
}

/* A listener answers timestamps only when the SYN carried them (and its
 * params allow); its SYN-ACK echoes the SYN's TSval. */
static void *nego_passive_main(void *arg)
{
	static const uint8_t syn_ts[16] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10,
					    0, 0, 3, 9, 0, 0, 0, 0 };
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	struct cub_tcp *l;
	uint32_t v, e;

	(void)arg;
	start();
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_tcp_listen(A, 80, 4, &l), 0);
	aport = 80;
	peer_opt(1000, 0, 0x02, 8000, syn_ts, sizeof syn_ts, NULL, 0);
	assert_int_equal(ncap, 1);
	assert_int_equal(last()[13], 0x12);
	assert_true(seg_ts(last(), &v, &e));
	assert_int_equal(e, 0x309);
	/* Another peer port, without the option: none in the answer. */
	{
		uint8_t f[CUB_ETH_FRAME_MAX];
		size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT + 1, 80,
				 3000, 0, 0x02, 8000, mss_only, 4, NULL, 0);

		cub_netif_input(A, f, n);
		wire_settle(&W);
	}
	assert_int_equal(ncap, 2);
	assert_int_equal(last()[13], 0x12);
	assert_false(seg_ts(last(), &v, &e));
	/* Turned off: the SYN's option is not answered. */
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.timestamps = -1 }), 0);
	{
		uint8_t f[CUB_ETH_FRAME_MAX];
		size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT + 2, 80,
				 5000, 0, 0x02, 8000, syn_ts, sizeof syn_ts,
				 NULL, 0);

		cub_netif_input(A, f, n);
		wire_settle(&W);
	}
	assert_int_equal(ncap, 3);
	assert_int_equal(last()[13], 0x12);
	assert_false(seg_ts(last(), &v, &e));
	assert_int_equal(cub_tcp_close(l), 0);
	stop_all();
	return NULL;
}

static void test_negotiate_passive(void **state)
{
	(void)state;
	run(nego_passive_main);
}

/* Two cubrt ends agree; with one end turned off neither uses them. */
static void *two_ends_main(void *arg)
{
	struct cub_tcp *a, *b, *l;
	struct cub_tcp_info ia, ib;
	uint8_t buf[16];

	(void)arg;
	for (int off = 0; off < 2; off++) {
		start();
		if (off)
			assert_int_equal(cub_tcp_set_params(B,
				&(struct cub_tcp_params){ .timestamps = -1 }), 0);
		assert_int_equal(cub_tcp_listen(B, 80, 4, &l), 0);
		assert_int_equal(cub_tcp_connect(A, IP_B, 80, 1000 * MS, &a), 0);
		assert_int_equal(cub_tcp_accept(l, &b, 1000 * MS), 0);
		assert_int_equal(cub_tcp_close(l), 0);
		assert_int_equal(cub_tcp_send(a, "ping", 4, 0), 4);
		assert_int_equal(cub_tcp_recv(b, buf, sizeof buf, 1000 * MS), 4);
		assert_int_equal(cub_tcp_info(a, &ia), 0);
		assert_int_equal(cub_tcp_info(b, &ib), 0);
		assert_int_equal(ia.timestamps, !off);
		assert_int_equal(ib.timestamps, !off);
		assert_true(ia.srtt > 0 && ib.srtt > 0);
		assert_int_equal(cub_tcp_close(a), 0);
		assert_int_equal(cub_tcp_recv(b, buf, 1, 1000 * MS), 0);
		assert_int_equal(cub_tcp_close(b), 0);
		stop_all();
	}
	return NULL;
}

static void test_two_ends(void **state)
{
	(void)state;
	run(two_ends_main);
}

/* ------------------------------------------------------------- TSecr */

/* Which TSval A echoes (RFC 7323 4.3): the peer's clock starts just
 * below 2^32 so that it wraps on the way. */
#define T0 0xfffffff0u

static void *echo_main(void *arg)
{
	static uint8_t buf[64];
	struct cub_tcp *c;

	(void)arg;
	fill_payload();
	start();
	c = ts_open(true, T0);
	a_tsval = expect_ecr(T0);
	before = ncap;
	/* In order: echoed. */
	TSEG(0, 10, T0 + 5);
	expect_ack(10);
	expect_ecr(T0 + 5);
	/* Out of order (beyond Last.ACK.sent): not echoed. */
	TSEG(20, 30, T0 + 0x10);
	expect_ack(10);
	expect_ecr(T0 + 5);
	TSEG(40, 50, T0 + 0x20);		/* wrapped: 0x10 */
	expect_ack(10);
	expect_ecr(T0 + 5);
	/* The segment that fills the hole is echoed, not the later ones
	 * held (4.2 (C)). */
	TSEG(10, 20, T0 + 0x12);
	expect_ack(30);
	expect_ecr(T0 + 0x12);
	/* The same TSval again is not older: taken, echoed. */
	TSEG(30, 40, T0 + 0x12);
	expect_ack(50);
	expect_ecr(T0 + 0x12);
	/* A pure ACK at rcv_nxt moves it too, past the wrap: the dup ACK
	 * for a later hole echoes it. */
	ts_seg(50, 0x10, T0 + 0x30, NULL, 0);
	assert_int_equal(ncap, before);		/* nothing to answer */
	TSEG(70, 80, T0 + 0x40);
	expect_ack(50);
	expect_ecr(T0 + 0x30);
	TSEG(50, 70, T0 + 0x41);
	expect_ack(80);
	expect_ecr(T0 + 0x41);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 1000 * MS), 64);
	assert_memory_equal(buf, payload, 64);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 1000 * MS), 16);
	assert_memory_equal(buf, payload + 64, 16);
	assert_int_equal(if_stats(A).tcp_paws, 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_echo_rules(void **state)
{
	(void)state;
	run(echo_main);
}

/* ------------------------------------------------ malformed timestamps */

/* A timestamps option of another length than 10 is malformed like any
 * known kind's (the segment dropped, tcp_bad, no answer); one running
 * past the header too. A SYN's TSecr (no ACK) is ignored. */
static void *badts_main(void *arg)
{
	static const struct {
		uint8_t o[12];
		uint8_t n;
	} bad[] = {
		{ { 8, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, 12 },	/* len 9 */
		{ { 8, 11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 }, 12 },	/* len 11 */
		{ { 8, 2, 1, 1 }, 4 },				/* len 2 */
		{ { 1, 1, 8, 10, 0, 0, 0, 1 }, 8 },		/* past end */
	};
	static const uint8_t odd_ecr[12] = { 1, 1, 8, 10, 0, 0, 0, 42,
					     0xde, 0xad, 0xbe, 0xef };
	struct cub_tcp *l;
	uint64_t bad0;
	uint32_t v, e;

	(void)arg;
	start();
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_tcp_listen(A, 80, 4, &l), 0);
	aport = 80;
	bad0 = if_stats(A).tcp_bad;
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		peer_opt(1000, 0, 0x02, 8000, bad[k].o, bad[k].n, NULL, 0);
		assert_int_equal(if_stats(A).tcp_bad, bad0 + k + 1);
		assert_int_equal(ncap, 0);
	}
	peer_opt(1000, 0, 0x02, 8000, odd_ecr, sizeof odd_ecr, NULL, 0);
	assert_int_equal(ncap, 1);
	assert_int_equal(last()[13], 0x12);
	assert_true(seg_ts(last(), &v, &e));
	assert_int_equal(e, 42);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_malformed_ts(void **state)
{
	(void)state;
	run(badts_main);
}

/* ----------------------------------------------- SACK on data segments */

/* The peer leaves holes; A, sending data while it holds out-of-order
 * ranges, puts the SACK blocks (most recent first) on its data
 * segments: 3 beside timestamps (40 bytes of options, 1420 of
 * payload), 4 without (36, 1424). Once the holes fill, full segments
 * without SACK again. */
static void *sack_data_main(void *arg)
{
	struct cub_tcp *c;
	int32_t got[4][2];
	uint32_t v, e;

	(void)arg;
	fill_payload();
	for (int ts = 1; ts >= 0; ts--) {
		start();
		c = ts_open(ts, 9000);
		a_tsval = ts ? expect_ecr(9000) : 0;
		before = ncap;
		for (int k = 0; k < 4; k++) {
			if (ts)
				TSEG(100 + 20 * k, 110 + 20 * k, 9001 + k);
			else
				peer(P0 + 100 + 20 * k, 0x18,
				     payload + 100 + 20 * k, 10);
			expect_ack(0);
		}
		assert_int_equal(last_sack(got), ts ? 3 : 4);
		before = ncap;
		assert_int_equal(cub_tcp_send(c, payload, 3000, 0), 3000);
		wire_settle(&W);
		assert_int_equal(ncap, before + 3);
		for (unsigned k = before; k < ncap; k++) {
			const uint8_t *t = cap[k].data + 34;

			assert_int_equal(t[12] >> 4, ts ? 15 : 14);
			assert_int_equal(seg_ts(t, &v, &e), ts);
		}
		assert_int_equal(cap_len(before), ts ? 1420 : 1424);
		assert_int_equal(cap_len(before + 1), ts ? 1420 : 1424);
		assert_int_equal(last_sack(got), ts ? 3 : 4);
		for (unsigned k = 0; k < (ts ? 3u : 4u); k++) {
			assert_int_equal(got[k][0], 160 - 20 * (int)k);
			assert_int_equal(got[k][1], 170 - 20 * (int)k);
		}
		/* The holes fill (in order, ACKing A's data). */
		before = ncap;
		if (ts) {
			uint8_t o[12] = { 1, 1, 8, 10 };

			t_put32(o + 4, 9010);
			t_put32(o + 8, a_tsval);
			peer_opt(P0, a_iss + 3001, 0x18, 8000, o, 12, payload,
				 170);
		} else {
			peer_opt(P0, a_iss + 3001, 0x18, 8000, NULL, 0,
				 payload, 170);
		}
		expect_ack(170);
		assert_int_equal(last_sack(got), 0);
		before = ncap;
		assert_int_equal(cub_tcp_send(c, payload, 2000, 0), 2000);
		wire_settle(&W);
		assert_int_equal(ncap, before + 2);
		assert_int_equal(cap_len(before), ts ? 1448 : 1460);
		assert_int_equal(cub_tcp_abort(c), 0);
		stop();
	}
	return NULL;
}

static void test_sack_on_data(void **state)
{
	(void)state;
	run(sack_data_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate_active),
		cmocka_unit_test(test_negotiate_passive),
		cmocka_unit_test(test_two_ends),
		cmocka_unit_test(test_echo_rules),
		cmocka_unit_test(test_malformed_ts),
		cmocka_unit_test(test_sack_on_data),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
