/*
 * test_net_tcp_pmtu.c - TCP path MTU discovery (src/net/tcp_pmtu.c,
 * icmp_err.c, DF in tcp_out.c / ip4.c). Against a peer played by hand
 * (tcp_hand.h): every segment carries DF; an ICMP "fragmentation
 * needed" (type 3 code 4) about a segment in flight lowers the MSS to
 * the MTU - 40 and resends what is in flight at once, in segments of
 * the new size, contiguous, cwnd kept, no timeout; the estimate never
 * goes up; bogus reports (sequence number outside the flight, another
 * connection, an MTU at or above the current one or the quoted
 * datagram's length, no plateau below a tiny datagram) change nothing
 * and are counted; a report below 552 clamps to 552 and turns DF off;
 * a report about our SYN holds when the SYN-ACK's MSS comes (the same
 * between two cubrt ends through a router: test_net_tcp_pmtu_path).
 * After each test every connection is gone and the counters add up.
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

/* No timer may resend anything the test did not ask for, even on a
 * loaded machine: RTOs of seconds (every connection here is aborted). */
static const struct cub_tcp_params fast = {
	.rto_initial = 5000 * MS, .rto_min = 5000 * MS, .rto_max = 10000 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

#define SMSS 1460u
static const uint8_t opt_all[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2,
				     1, 3, 3, 2 };	/* MSS, SACK, WS 2 */
static uint8_t data[8 * SMSS];

static void fill_data(void)
{
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13 + (i >> 9));
}

/* Fields of a captured frame k. */
static const uint8_t *ip_of(unsigned k) { return cap[k].data + 14; }
static uint16_t ip_len(unsigned k) { return t_get16(ip_of(k) + 2); }
static bool df_of(unsigned k) { return (ip_of(k)[6] & 0x40) != 0; }
static uint32_t seq_of(unsigned k) { return t_get32(cap[k].data + 38); }
static uint32_t payload_of(unsigned k)
{
	return ip_len(k) - 20u - (cap[k].data[46] >> 4) * 4u;
}

/* ICMP "fragmentation needed" (3/4) reporting mtu, as B would send it
 * about the datagram q (its header and 8 bytes quoted). */
static size_t too_big(uint8_t *f, const uint8_t *q, uint16_t mtu)
{
	return t_icmp_too_big(f, MAC_A, MAC_B, IP_B, IP_A, q, mtu);
}

/* The report about captured frame k, quote edited by edit (or not). */
static void too_big_about(unsigned k, uint16_t mtu, void (*edit)(uint8_t *))
{
	uint8_t f[CUB_ETH_FRAME_MAX], q[60];

	memcpy(q, ip_of(k), sizeof q);
	if (edit)
		edit(q);
	cub_netif_input(A, f, too_big(f, q, mtu));
	wire_settle(&W);
}

static struct cub_tcp_info info_of(struct cub_tcp *c)
{
	struct cub_tcp_info i;

	assert_int_equal(cub_tcp_info(c, &i), 0);
	return i;
}

/* The data segments captured in [from, ncap) start at rel (from a_iss
 * + 1) and follow each other without a gap up to end, each at most max
 * bytes of payload in an IP datagram of at most mtu bytes, DF as df,
 * and carry data[] byte for byte. */
static void expect_resegmented(unsigned from, uint32_t rel, uint32_t end,
			       uint32_t max, uint16_t mtu, bool df)
{
	uint32_t at = rel;

	for (unsigned k = from; k < ncap; k++) {
		uint32_t n = payload_of(k);
		const uint8_t *t = cap[k].data + 34;

		if (!n)
			continue;
		assert_int_equal(seq_of(k), a_iss + 1 + at);
		assert_true(n <= max);
		assert_true(ip_len(k) <= mtu);
		assert_int_equal(df_of(k), df);
		assert_memory_equal(t + (t[12] >> 4) * 4, data + at, n);
		at += n;
	}
	assert_int_equal(at, end);
}

/* ------------------------------------------------- the hand-played peer */

/* DF on every segment; the report about the second of four full
 * segments: MSS 960, all four resent at once in 960-byte segments. */
static void *lower_main(void *arg)
{
	struct cub_tcp_info i0, i;
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	fill_data();
	start_with(&fast);
	c = hand_open(opt_all, sizeof opt_all);
	assert_true(df_of(0));		/* the SYN */
	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	from = ncap;
	assert_int_equal(cub_tcp_send(c, data, 4 * SMSS, 0), 4 * SMSS);
	wire_settle(&W);
	assert_int_equal(ncap, from + 4);
	for (unsigned k = 0; k < ncap; k++)
		assert_true(df_of(k));
	assert_int_equal(ip_len(from), 1500);
	i0 = info_of(c);
	assert_int_equal(i0.pmtu, 1500);
	assert_int_equal(i0.snd_mss, SMSS);
	/* The first segment arrived (ACKed); the router drops the rest. */
	peer_opt(P0, a_iss + 1 + SMSS, 0x10, 65535, NULL, 0, NULL, 0);
	from = ncap;
	too_big_about(from - 3, 1000, NULL);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
	i = info_of(c);
	assert_int_equal(i.pmtu, 1000);
	assert_int_equal(i.snd_mss, 960);
	assert_false(i.pmtu_nodf);
	assert_int_equal(i.soft_err, 0);	/* not an error */
	assert_int_equal(i.cwnd, i0.cwnd + SMSS);	/* one ACK grew it */
	/* At once: 3 x 1460 from snd_una as 960 + 960 + ... */
	expect_resegmented(from, SMSS, 4 * SMSS, 960, 1000, true);
	assert_int_equal(ncap - from, (3 * SMSS + 959) / 960);
	assert_int_equal(if_stats(A).tcp_timeouts, 0);
	assert_int_equal(i.retransmits, ncap - from);
	/* New data goes in 960-byte segments too. */
	from = ncap;
	assert_int_equal(cub_tcp_send(c, data + 4 * SMSS, 1500, 0), 1500);
	wire_settle(&W);
	expect_resegmented(from, 4 * SMSS, 4 * SMSS + 1500, 960, 1000, true);
	/* The same report again, and a higher one: never up. */
	too_big_about(from, 1000, NULL);
	too_big_about(from, 1200, NULL);
	assert_int_equal(info_of(c).pmtu, 1000);
	assert_int_equal(if_stats(A).icmp_err_ignored, 2);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	peer_opt(P0, a_iss + 1 + 4 * SMSS + 1500, 0x10, 65535, NULL, 0,
		 NULL, 0);
	assert_int_equal(info_of(c).flight, 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_lowers_mss_and_resends(void **state)
{
	(void)state;
	run(lower_main);
}

/* A segment ending where snd_una is: every byte of it acknowledged. */
static void quote_seq_low(uint8_t *q) { t_put32(q + 24, t_get32(q + 24) - SMSS); }
static void quote_seq_high(uint8_t *q) { t_put32(q + 24, t_get32(q + 24) + 5 * SMSS); }
static void quote_sport(uint8_t *q) { q[21] ^= 1; }
static void quote_raddr(uint8_t *q) { q[19] ^= 4; }
static void quote_len_68(uint8_t *q) { t_put16(q + 2, 68); }

/* A connection with two full segments in flight, captured before
 * *from. */
static struct cub_tcp *two_in_flight(unsigned *from)
{
	struct cub_tcp *c;

	fill_data();
	start_with(&fast);
	c = hand_open(opt_all, sizeof opt_all);
	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_send(c, data, 2 * SMSS, 0), 2 * SMSS);
	wire_settle(&W);
	*from = ncap;
	return c;
}

/* Reports that must change nothing. */
static void *bogus_main(void *arg)
{
	struct cub_netif_stats s;
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	c = two_in_flight(&from);
	/* The first is ACKed: a report about it is outside the flight. */
	peer_opt(P0, a_iss + 1 + SMSS, 0x10, 65535, NULL, 0, NULL, 0);
	too_big_about(from - 2, 1000, NULL);
	too_big_about(from - 1, 1000, quote_seq_low);	/* ends at snd_una */
	too_big_about(from - 1, 1000, quote_seq_high);	/* beyond snd_max */
	too_big_about(from - 1, 1000, quote_sport);	/* no connection */
	too_big_about(from - 1, 1000, quote_raddr);
	s = if_stats(A);
	assert_int_equal(s.icmp_err_unmatched, 5);
	/* Matched but not believed: at or above the quoted length, and
	 * the current MTU; an old router's 0 about a datagram of 68
	 * bytes (no plateau below it). */
	too_big_about(from - 1, 1500, NULL);
	too_big_about(from - 1, 1600, NULL);
	too_big_about(from - 1, 0, quote_len_68);
	s = if_stats(A);
	assert_int_equal(s.icmp_err_ignored, 3);
	assert_int_equal(s.icmp_err_reported, 0);
	assert_int_equal(s.tcp_pmtu_lowered, 0);
	assert_int_equal(info_of(c).pmtu, 1500);
	assert_int_equal(info_of(c).snd_mss, SMSS);
	assert_int_equal(ncap, from);		/* nothing resent */
	assert_int_equal(info_of(c).retransmits, 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_bogus_reports_ignored(void **state)
{
	(void)state;
	run(bogus_main);
}

/* A report about a resend that began below snd_una, its ACK having
 * overtaken the report: the rest of it is still in flight, so the
 * report is believed and the flight resent at once (model_tcp seed 6239
 * in reorder mode waited for the RTO instead). */
static void *partly_acked_main(void *arg)
{
	struct cub_netif_stats s;
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	c = two_in_flight(&from);
	peer_opt(P0, a_iss + 1 + SMSS / 2, 0x10, 65535, NULL, 0, NULL, 0);
	too_big_about(from - 2, 1000, NULL);	/* the first: half ACKed */
	s = if_stats(A);
	assert_int_equal(s.icmp_err_unmatched, 0);
	assert_int_equal(s.tcp_pmtu_lowered, 1);
	assert_int_equal(info_of(c).pmtu, 1000);
	assert_int_equal(info_of(c).snd_mss, 960);
	assert_true(ncap > from);		/* resent at once */
	assert_int_equal(if_stats(A).tcp_timeouts, 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_partly_acked_believed(void **state)
{
	(void)state;
	run(partly_acked_main);
}

/* A report below the floor: 552 and no DF from then on; then a lower
 * one still changes nothing. An old router's 0 takes the plateau. */
static void *floor_main(void *arg)
{
	struct cub_tcp_info i;
	struct cub_tcp *c;
	unsigned from, k;

	(void)arg;
	fill_data();
	start_with(&fast);
	c = hand_open(opt_all, sizeof opt_all);
	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_send(c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	from = ncap;
	too_big_about(from - 1, 0, NULL);	/* 1500: plateau 1492 */
	i = info_of(c);
	assert_int_equal(i.pmtu, 1492);
	assert_int_equal(i.snd_mss, 1452);
	expect_resegmented(from, 0, SMSS, 1452, 1492, true);
	k = from;			/* the 1492-byte one */
	from = ncap;
	too_big_about(k, 0, NULL);		/* 1492: plateau 1006 */
	assert_int_equal(info_of(c).pmtu, 1006);
	expect_resegmented(from, 0, SMSS, 966, 1006, true);
	k = from;
	from = ncap;
	too_big_about(k, 100, NULL);		/* the floor, DF off */
	i = info_of(c);
	assert_int_equal(i.pmtu, 552);
	assert_int_equal(i.snd_mss, 512);
	assert_true(i.pmtu_nodf);
	expect_resegmented(from, 0, SMSS, 512, 552, false);
	from = ncap;
	too_big_about(from - 1, 68, NULL);	/* nothing new */
	assert_int_equal(ncap, from);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 3);
	assert_int_equal(if_stats(A).icmp_err_ignored, 1);
	/* Control segments lose DF too. */
	peer_opt(P0, a_iss + 1 + SMSS, 0x18, 65535, NULL, 0, "hi", 2);
	assert_int_equal(payload_of(ncap - 1), 0);
	assert_false(df_of(ncap - 1));
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_floor_and_plateaus(void **state)
{
	(void)state;
	run(floor_main);
}

/* The floor reached by a report of exactly 552 (DF kept); a later one
 * below it only turns DF off. */
static void *at_floor_main(void *arg)
{
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	fill_data();
	start_with(&fast);
	c = hand_open(opt_all, sizeof opt_all);
	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_send(c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	too_big_about(ncap - 1, 552, NULL);
	assert_int_equal(info_of(c).pmtu, 552);
	assert_false(info_of(c).pmtu_nodf);
	assert_true(df_of(ncap - 1));
	from = ncap;
	too_big_about(ncap - 1, 400, NULL);
	assert_true(info_of(c).pmtu_nodf);
	expect_resegmented(from, 0, SMSS, 512, 552, false);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 2);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_at_floor_df_off(void **state)
{
	(void)state;
	run(at_floor_main);
}

/* A report about our SYN: it stands when the SYN-ACK's MSS comes. The
 * SYN is 64 bytes: only a report below that (the floor) is believed. */
static void *syn_main(void *arg)
{
	uint8_t f[CUB_ETH_FRAME_MAX], q[60];
	struct cub_coro *co;
	struct cub_tcp_info i;

	(void)arg;
	start_with(&fast);
	co = hand_syn();
	assert_true(df_of(0));
	memcpy(q, ip_of(0), sizeof q);
	cub_netif_input(A, f, too_big(f, q, 60));
	wire_settle(&W);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	assert_int_equal(ncap, 1);	/* the SYN is not resent for it */
	peer_opt(P0 - 1, a_iss + 1, 0x12, 8000, opt_all, sizeof opt_all,
		 NULL, 0);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	i = info_of(ct.c);
	assert_int_equal(i.pmtu, 552);
	assert_int_equal(i.snd_mss, 512);
	assert_true(i.pmtu_nodf);
	assert_int_equal(cub_tcp_abort(ct.c), 0);
	stop();
	return NULL;
}

static void test_pmtu_report_about_syn(void **state)
{
	(void)state;
	run(syn_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmtu_lowers_mss_and_resends),
		cmocka_unit_test(test_pmtu_bogus_reports_ignored),
		cmocka_unit_test(test_pmtu_partly_acked_believed),
		cmocka_unit_test(test_pmtu_floor_and_plateaus),
		cmocka_unit_test(test_pmtu_at_floor_df_off),
		cmocka_unit_test(test_pmtu_report_about_syn),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
