/*
 * test_net_tcp_ooo.c - TCP's out-of-order queue, window scaling and SACK
 * (src/net/tcp_ooo.c, tcp_opt.c, tcp_sack.c) against a peer played by
 * hand on the wire of net_test.h (A's frames to B are captured, the
 * test answers them), and between two cubrt ends: segments beyond
 * rcv_nxt in every arrangement (after a hole, overlapping, duplicated,
 * touching, filling the hole, a FIN beyond a hole, the range table
 * full, beyond the window) with the immediate duplicate ACK and its
 * SACK blocks checked; window scaling negotiated both ways, refused
 * when the peer has none, the peer's shift honoured; malformed options
 * dropped; the sender resending SACK holes; one loss between two cubrt
 * ends recovered with one retransmission. After each test every
 * connection is gone and the counters add up.
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

static const struct cub_tcp_params fast = {
	.rto_initial = 300 * MS, .rto_min = 300 * MS, .rto_max = 600 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

#define start() start_with(&fast)

static const uint8_t opt_all[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2,
				     1, 3, 3, 2 };	/* MSS, SACK, WS 2 */
static uint8_t payload[4096];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
}

/* Receives exactly len bytes and compares them with payload[off..];
 * then a poll returns after (-CUB_EAGAIN, or 0 after the FIN). */
static void expect_data_then(struct cub_tcp *c, size_t off, size_t len,
			     long after)
{
	static uint8_t buf[sizeof payload];
	size_t got = 0;

	while (got < len) {
		long n = cub_tcp_recv(c, buf + got, len - got, 1000 * MS);

		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(buf, payload + off, len);
	assert_int_equal(cub_tcp_recv(c, buf, 1, 0), after);
}

static void expect_data(struct cub_tcp *c, size_t off, size_t len)
{
	expect_data_then(c, off, len, -CUB_EAGAIN);
}

#define SEG(a, b) peer(P0 + (a), 0x18, payload + (a), (size_t)((b) - (a)))

/* ----------------------------------------------- out-of-order arrivals */

static void *ooo_main(void *arg)
{
	struct cub_tcp *c;
	struct cub_tcp_info i;

	(void)arg;
	fill_payload();
	start();
	c = hand_open(opt_all, sizeof opt_all);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_true(i.sack && i.wscale);
	before = ncap;
	/* After a hole: kept, a duplicate ACK with its SACK block. */
	SEG(10, 20);
	expect_ack(0);
	expect_sack(1, (const int32_t[][2]){ { 10, 20 } });
	assert_int_equal(if_stats(A).tcp_ooo_kept, 1);
	assert_int_equal(cub_tcp_recv(c, payload, 1, 0), -CUB_EAGAIN);
	/* A second range: the most recent block first. */
	SEG(30, 40);
	expect_ack(0);
	expect_sack(2, (const int32_t[][2]){ { 30, 40 }, { 10, 20 } });
	/* A duplicate of a held range: ACKed, counted old, now first. */
	SEG(10, 20);
	expect_ack(0);
	expect_sack(2, (const int32_t[][2]){ { 10, 20 }, { 30, 40 } });
	assert_int_equal(if_stats(A).tcp_ooo_kept, 2);
	/* Overlapping one end: merged. */
	SEG(15, 25);
	expect_ack(0);
	expect_sack(2, (const int32_t[][2]){ { 10, 25 }, { 30, 40 } });
	/* Touching both ranges: one range. */
	SEG(25, 30);
	expect_ack(0);
	expect_sack(1, (const int32_t[][2]){ { 10, 40 } });
	/* In order, before the hole: taken; the range stays. */
	SEG(0, 5);
	expect_ack(5);
	expect_sack(1, (const int32_t[][2]){ { 10, 40 } });
	expect_data(c, 0, 5);
	/* Filling the hole (and overlapping the range): rcv_nxt jumps over
	 * it, an ACK at once without SACK, the reader gets it in order. */
	SEG(5, 12);
	expect_ack(40);
	assert_int_equal(last()[12] >> 4, 5);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_int_equal(i.ooo_ranges, 0);
	expect_data(c, 5, 35);
	assert_int_equal(if_stats(A).tcp_bytes_rx, 40);
	/* A FIN beyond a hole: remembered, not yet in effect. */
	peer(P0 + 50, 0x19, payload + 50, 10);
	expect_ack(40);
	expect_sack(1, (const int32_t[][2]){ { 50, 60 } });
	assert_string_equal(cub_tcp_state_name(c), "ESTABLISHED");
	/* Data beyond that FIN is not taken. */
	SEG(60, 70);
	expect_ack(40);
	expect_sack(1, (const int32_t[][2]){ { 50, 60 } });
	/* The hole fills: the FIN takes effect (ACK of FIN + 1). */
	SEG(40, 50);
	expect_ack(61);
	assert_string_equal(cub_tcp_state_name(c), "CLOSE_WAIT");
	expect_data_then(c, 40, 20, 0);
	assert_int_equal(if_stats(A).tcp_bytes_rx, 60);
	assert_int_equal(if_stats(A).tcp_ooo, 0);
	fill_payload();
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_ooo_arrangements(void **state)
{
	(void)state;
	run(ooo_main);
}

/* The table full (TCP_OOO_MAX = 8 ranges), the window's edge. */
static void *ooo_full_main(void *arg)
{
	struct cub_tcp *c;

	(void)arg;
	fill_payload();
	start();
	c = hand_open(opt_all, sizeof opt_all);
	before = ncap;
	for (int k = 0; k < 8; k++) {
		SEG(100 + 20 * k, 110 + 20 * k);
		expect_ack(0);
	}
	assert_int_equal(if_stats(A).tcp_ooo_kept, 8);
	/* At most 4 blocks, the newest first. */
	expect_sack(4, (const int32_t[][2]){ { 240, 250 }, { 220, 230 },
					     { 200, 210 }, { 180, 190 } });
	/* A ninth range: dropped, counted, still a duplicate ACK. */
	SEG(50, 60);
	expect_ack(0);
	assert_int_equal(if_stats(A).tcp_ooo, 1);
	assert_int_equal(if_stats(A).tcp_ooo_kept, 8);
	/* Joining a held range needs no slot: kept. */
	SEG(110, 115);
	expect_ack(0);
	expect_sack(4, (const int32_t[][2]){ { 100, 115 }, { 240, 250 },
					     { 220, 230 }, { 200, 210 } });
	assert_int_equal(if_stats(A).tcp_ooo_kept, 9);
	/* In order is always taken, whatever the table. */
	SEG(0, 100);
	expect_ack(115);
	expect_data(c, 0, 115);
	/* Beyond the window (64 KiB ring): not acceptable, ACKed. */
	peer(P0 + 70000, 0x18, payload, 10);
	expect_ack(115);
	assert_int_equal(if_stats(A).tcp_ooo, 1);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_ooo_table_full(void **state)
{
	(void)state;
	run(ooo_full_main);
}

/* -------------------------------------------------- window scaling */

static void *ws_main(void *arg)
{
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	struct cub_tcp_info i;
	struct cub_tcp *c;

	(void)arg;
	fill_payload();
	start();
	/* A peer with WS 2: the SYN-ACK's window (8000) is not scaled,
	 * later ones are (x 4); ours are shifted by 1 (64 KiB ring). */
	c = hand_open(opt_all, sizeof opt_all);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_true(i.wscale);
	assert_int_equal(i.snd_wscale, 2);
	assert_int_equal(i.rcv_wscale, 1);
	assert_int_equal(i.snd_wnd, 8000);
	before = ncap;
	peer_opt(P0, a_iss + 1, 0x10, 1000, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_int_equal(i.snd_wnd, 4000);
	SEG(0, 100);
	expect_ack(100);
	assert_int_equal(t_get16(last() + 14), (65536 - 100) / 2);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();

	/* A peer without WS: no scaling either way, windows <= 65535. */
	start();
	c = hand_open(mss_only, sizeof mss_only);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_false(i.wscale);
	assert_false(i.sack);
	assert_int_equal(i.snd_wscale, 0);
	assert_int_equal(i.rcv_wscale, 0);
	before = ncap;
	peer_opt(P0, a_iss + 1, 0x10, 1000, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_int_equal(i.snd_wnd, 1000);
	SEG(0, 100);
	expect_ack(100);
	/* Unscaled: the edge of the SYN's 65535 stays (it would move by
	 * a byte only). */
	assert_int_equal(t_get16(last() + 14), 65535 - 100);
	/* No SACK agreed: no blocks. */
	SEG(200, 210);
	expect_ack(100);
	assert_int_equal(last()[12] >> 4, 5);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_wscale_hand(void **state)
{
	(void)state;
	run(ws_main);
}

/* A listener answers a SYN's options: WS and SACK-permitted only when
 * offered; the SYN-ACK's window is never scaled. */
static void *ws_listen_main(void *arg)
{
	static const uint8_t mss_only[4] = { 2, 4, 0x05, 0xb4 };
	struct cub_tcp *l;
	const uint8_t *t;

	(void)arg;
	start();
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_tcp_listen(A, 80, 4, &l), 0);
	aport = 80;
	peer_opt(1000, 0, 0x02, 8000, opt_all, sizeof opt_all, NULL, 0);
	assert_int_equal(ncap, 1);
	t = last();
	assert_int_equal(t[13], 0x12);
	assert_int_equal(t_get16(t + 14), 65535);
	assert_int_equal(t[12] >> 4, 8);
	assert_memory_equal(t + 20, "\x02\x04\x05\xb4\x01\x01\x04\x02"
			    "\x01\x03\x03\x01", 12);
	/* Another peer port, without the options. */
	{
		uint8_t f[CUB_ETH_FRAME_MAX];
		size_t n = t_tcp(f, MAC_A, MAC_B, IP_B, IP_A, PPORT + 1, 80,
				 3000, 0, 0x02, 8000, mss_only, 4, NULL, 0);

		cub_netif_input(A, f, n);
		wire_settle(&W);
	}
	assert_int_equal(ncap, 2);
	t = last();
	assert_int_equal(t[13], 0x12);
	assert_int_equal(t[12] >> 4, 6);
	assert_memory_equal(t + 20, "\x02\x04\x05\xb4", 4);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_wscale_listen(void **state)
{
	(void)state;
	run(ws_listen_main);
}

/* Two cubrt ends with 256 KiB rings: shift 3 both ways, windows past
 * 64 KiB, 2 MiB checked. Ring sizes out of bounds: -CUB_EINVAL. */
static void *big_rings_main(void *arg)
{
	static uint8_t out[1 << 21], in[1 << 21];
	struct cub_tcp *a, *b, *l;
	struct cub_tcp_info i;
	uint32_t wmax = 0, fmax = 0;
	size_t got = 0;

	(void)arg;
	start();
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.sndbuf = 100, }), -CUB_EINVAL);
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.rcvbuf = CUB_TCP_BUF_MAX + 1, }),
			 -CUB_EINVAL);
	for (int k = 0; k < 2; k++)
		assert_int_equal(cub_tcp_set_params(&W.end[k].nif,
				&(struct cub_tcp_params){
					.sndbuf = 256 * 1024,
					.rcvbuf = 256 * 1024 }), 0);
	assert_int_equal(cub_tcp_listen(B, 80, 4, &l), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, 80, 1000 * MS, &a), 0);
	assert_int_equal(cub_tcp_accept(l, &b, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	assert_int_equal(cub_tcp_info(a, &i), 0);
	assert_true(i.wscale && i.sack);
	assert_int_equal(i.snd_wscale, 3);
	assert_int_equal(i.rcv_wscale, 3);
	assert_int_equal(i.sndbuf, 256 * 1024);
	assert_int_equal(i.rcvbuf, 256 * 1024);
	for (size_t k = 0; k < sizeof out; k++)
		out[k] = (uint8_t)(k * 13 + (k >> 9));
	while (got < sizeof in) {
		static size_t sent;
		long n;

		if (sent < sizeof out) {
			n = cub_tcp_send(a, out + sent, sizeof out - sent, 0);
			assert_true(n > 0 || n == -CUB_EAGAIN);
			sent += n > 0 ? (size_t)n : 0;
		}
		assert_int_equal(cub_tcp_info(a, &i), 0);
		wmax = i.snd_wnd > wmax ? i.snd_wnd : wmax;
		fmax = i.flight > fmax ? i.flight : fmax;
		n = cub_tcp_recv(b, in + got, sizeof in - got, 1000 * MS);
		assert_true(n > 0);
		got += (size_t)n;
		wire_settle(&W);
	}
	assert_memory_equal(in, out, sizeof out);
	/* The peer's scaled window and the flight went past 64 KiB. */
	assert_true(wmax > 65535);
	assert_true(fmax > 65535);
	assert_int_equal(if_stats(A).tcp_retransmits, 0);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, in, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	cub_tcp_set_params(A, NULL);
	cub_tcp_set_params(B, NULL);
	stop();
	return NULL;
}

static void test_big_rings(void **state)
{
	(void)state;
	run(big_rings_main);
}

/* ---------------------------------------------------- malformed options */

static void *badopt_main(void *arg)
{
	static const struct {
		uint8_t o[12];
		uint8_t n;
	} bad[] = {
		{ { 2, 0, 0, 0 }, 4 },			/* length 0 */
		{ { 2, 1, 0, 0 }, 4 },			/* length 1 */
		{ { 1, 1, 1, 2 }, 4 },			/* no length byte */
		{ { 8, 10, 0, 0 }, 4 },			/* past the header */
		{ { 2, 3, 5, 1 }, 4 },			/* MSS of length 3 */
		{ { 3, 4, 2, 0 }, 4 },			/* WS of length 4 */
		{ { 4, 3, 0, 1 }, 4 },			/* SACK-ok of 3 */
		{ { 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 }, /* SACK 11 */
		{ { 5, 2, 1, 1 }, 4 },			/* SACK, no block */
	};
	static const uint8_t odd[8] = { 99, 4, 0, 0, 2, 4, 0x05, 0xb4 };
	struct cub_tcp *l;
	uint64_t bad0;

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
	/* An unknown kind of a sound length is skipped. */
	peer_opt(1000, 0, 0x02, 8000, odd, sizeof odd, NULL, 0);
	assert_int_equal(ncap, 1);
	assert_int_equal(last()[13], 0x12);
	assert_int_equal(if_stats(A).tcp_bad, bad0 + sizeof bad / sizeof bad[0]);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_malformed_options(void **state)
{
	(void)state;
	run(badopt_main);
}

/* ------------------------------------------------------- SACK sender */

#define SMSS 1460u

/* The data segments A sent since ncap was `from`: did one start at
 * P-relative seq? */
static bool sent_at(unsigned from, uint32_t seq)
{
	for (unsigned k = from; k < ncap; k++) {
		const uint8_t *t = cap[k].data + 34;
		uint32_t len = (uint32_t)(t_get16(cap[k].data + 16) - 20 -
					  (t[12] >> 4) * 4);

		if (len && t_get32(t + 4) == seq)
			return true;
	}
	return false;
}

static void sack_ack(uint32_t ack, const uint32_t (*blk)[2], unsigned n)
{
	uint8_t o[36] = { 1, 1, 5, (uint8_t)(2 + 8 * n) };

	for (unsigned k = 0; k < n; k++) {
		t_put32(o + 4 + 8 * k, blk[k][0]);
		t_put32(o + 8 + 8 * k, blk[k][1]);
	}
	peer_opt(P0, ack, 0x10, 65535, o, 4 + 8 * n, NULL, 0);
}

/* Ten segments out; the peer lost the 2nd and the 5th: three duplicate
 * ACKs with SACK start recovery, and both holes are resent before any
 * partial ACK (NewReno would need a round trip for the second).
 * Blocks outside snd_una..snd_max are ignored. */
static void *sack_send_main(void *arg)
{
	static uint8_t data[10 * SMSS];
	struct cub_tcp_info i;
	struct cub_tcp *c;
	uint32_t u, m;
	unsigned from;

	(void)arg;
	start();
	c = hand_open(opt_all, sizeof opt_all);
	u = a_iss + 1;
	/* A window of 65535 x 4 from here on. */
	peer_opt(P0, u, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_send(c, data, sizeof data, 0), sizeof data);
	wire_settle(&W);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_int_equal(i.flight, 10 * SMSS);
	m = u + 10 * SMSS;
	/* Bogus blocks: beyond snd_max, inverted, below snd_una. */
	sack_ack(u, (const uint32_t[][2]){ { m, m + 100 },
					   { u + 2 * SMSS, u + SMSS },
					   { u - 100, u } }, 3);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_int_equal(i.sacked, 0);
	from = ncap;
	/* Segment 0 arrived; 1 lost; 2, 3 arrived; 4 lost; 5.. arrived. */
	u += SMSS;
	peer_opt(P0, u, 0x10, 65535, NULL, 0, NULL, 0);
	sack_ack(u, (const uint32_t[][2]){ { u + SMSS, u + 3 * SMSS } }, 1);
	sack_ack(u, (const uint32_t[][2]){ { u + 4 * SMSS, u + 5 * SMSS },
					   { u + SMSS, u + 3 * SMSS } }, 2);
	assert_int_equal(if_stats(A).tcp_fast_retransmits, 0);
	sack_ack(u, (const uint32_t[][2]){ { u + 4 * SMSS, u + 6 * SMSS },
					   { u + SMSS, u + 3 * SMSS } }, 2);
	assert_int_equal(if_stats(A).tcp_fast_retransmits, 1);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_true(i.in_recovery);
	assert_int_equal(i.sacked, 4 * SMSS);
	assert_int_equal(i.cwnd, 9 * SMSS / 2);
	assert_int_equal(i.ssthresh, 9 * SMSS / 2);
	/* The first hole at once; cwnd = ssthresh = 4.5 MSS, pipe 3 MSS
	 * above the SACKs + 1 resent: the second waits for room. */
	assert_true(sent_at(from, u));
	assert_false(sent_at(from, u + 3 * SMSS));
	/* Another duplicate ACK SACKs one more segment: pipe 3 MSS, the
	 * second hole goes, still before any partial ACK. */
	sack_ack(u, (const uint32_t[][2]){ { u + 4 * SMSS, u + 7 * SMSS },
					   { u + SMSS, u + 3 * SMSS } }, 2);
	assert_true(sent_at(from, u + 3 * SMSS));
	assert_int_equal(if_stats(A).tcp_retransmits, 2);
	assert_int_equal(if_stats(A).tcp_partial_acks, 0);
	assert_int_equal(if_stats(A).tcp_timeouts, 0);
	/* Everything acked: recovery ends. */
	peer_opt(P0, a_iss + 1 + 10 * SMSS, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_info(c, &i), 0);
	assert_false(i.in_recovery);
	assert_int_equal(i.sacked, 0);
	assert_int_equal(i.flight, 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_sack_sender(void **state)
{
	(void)state;
	run(sack_send_main);
}

/* ------------------------------------------------ the peer speaks first */

/* The SYN-ACK, a greeting and the peer's FIN arrive together, before the
 * connecting coroutine runs again (a server that greets, as SMTP or SSH
 * do, behind a fast link): connect succeeds, the greeting is there to
 * read, then the end of the stream. Before the fix the greeting found
 * the connection without its user and was answered with a RST. */
static void *speaks_first_main(void *arg)
{
	static uint8_t f[3][CUB_ETH_FRAME_MAX];
	static const char hello[] = "220 hello\r\n";
	size_t n[3], hl = sizeof(hello) - 1;
	struct cub_coro *co;
	char buf[32];

	(void)arg;
	start();
	co = hand_syn();
	n[0] = t_tcp(f[0], MAC_A, MAC_B, IP_B, IP_A, PPORT, aport, P0 - 1, a_iss + 1,
		     0x12, 8000, NULL, 0, NULL, 0);
	n[1] = t_tcp(f[1], MAC_A, MAC_B, IP_B, IP_A, PPORT, aport, P0, a_iss + 1,
		     0x18, 8000, NULL, 0, hello, hl);
	n[2] = t_tcp(f[2], MAC_A, MAC_B, IP_B, IP_A, PPORT, aport, P0 + (uint32_t)hl,
		     a_iss + 1, 0x11, 8000, NULL, 0, NULL, 0);
	for (int i = 0; i < 3; i++)
		cub_netif_input(A, f[i], n[i]);		/* no yield between */
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	assert_int_equal(if_stats(A).tcp_rst_tx, 0);
	assert_int_equal(cub_tcp_recv(ct.c, buf, sizeof buf, 1000 * MS), (long)hl);
	assert_memory_equal(buf, hello, hl);
	assert_int_equal(cub_tcp_recv(ct.c, buf, sizeof buf, 1000 * MS), 0);
	assert_int_equal(cub_tcp_abort(ct.c), 0);
	stop();
	return NULL;
}

static void test_peer_speaks_first(void **state)
{
	(void)state;
	run(speaks_first_main);
}

/* ------------------------------------------ one loss between two ends */

/* 1 MiB from A to B with one data frame lost on the way: the receiver
 * keeps what follows the hole and SACKs it, the sender resends the one
 * segment; no timeout, one retransmission. */
static void *one_loss_main(void *arg)
{
	static uint8_t out[1 << 20], in[1 << 20];
	struct cub_tcp *a, *b, *l;
	size_t got = 0, sent = 0;

	(void)arg;
	start();
	assert_int_equal(cub_tcp_listen(B, 80, 4, &l), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, 80, 1000 * MS, &a), 0);
	assert_int_equal(cub_tcp_accept(l, &b, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	for (size_t k = 0; k < sizeof out; k++)
		out[k] = (uint8_t)(k * 31 + (k >> 10));
	W.drop_nth = W.carried + 200;
	while (got < sizeof in) {
		long n;

		if (sent < sizeof out) {
			n = cub_tcp_send(a, out + sent, sizeof out - sent, 0);
			sent += n > 0 ? (size_t)n : 0;
		}
		n = cub_tcp_recv(b, in + got, sizeof in - got, 2000 * MS);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(in, out, sizeof out);
	assert_int_equal(W.dropped, 1);
	printf("one loss: A %llu retransmits, %llu timeouts; B kept %llu "
	       "out of order\n",
	       (unsigned long long)if_stats(A).tcp_retransmits,
	       (unsigned long long)if_stats(A).tcp_timeouts,
	       (unsigned long long)if_stats(B).tcp_ooo_kept);
	assert_int_equal(if_stats(A).tcp_timeouts + if_stats(B).tcp_timeouts, 0);
	assert_int_equal(if_stats(A).tcp_retransmits, 1);
	assert_true(if_stats(B).tcp_ooo_kept > 0);
	assert_int_equal(if_stats(B).tcp_ooo, 0);
	assert_int_equal(cub_tcp_close(a), 0);
	assert_int_equal(cub_tcp_recv(b, in, 1, 1000 * MS), 0);
	assert_int_equal(cub_tcp_close(b), 0);
	stop();
	return NULL;
}

static void test_one_loss(void **state)
{
	(void)state;
	run(one_loss_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ooo_arrangements),
		cmocka_unit_test(test_ooo_table_full),
		cmocka_unit_test(test_wscale_hand),
		cmocka_unit_test(test_wscale_listen),
		cmocka_unit_test(test_big_rings),
		cmocka_unit_test(test_malformed_options),
		cmocka_unit_test(test_sack_sender),
		cmocka_unit_test(test_one_loss),
		cmocka_unit_test(test_peer_speaks_first),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
