/*
 * test_net_frag.c - IPv4 fragmentation and reassembly (src/net/ip4_frag.c)
 * against hand-built fragments: a capture interface C (10.0.0.1/24,
 * net_test.h) and a made-up peer P (10.0.0.2) feeding it through
 * cub_netif_input. A UDP datagram (or ICMP echo) is built whole with its
 * checksum, cut into fragments by t_frag, and fed in order, reversed,
 * shuffled, duplicated, overlapping, with one missing (timeout), to more
 * datagrams than there are slots, and malformed; what the stack sends
 * in fragments (UDP, echo replies) is checked field by field and put
 * back together here. Every test ends with the counters' sums checked
 * and no slot busy.
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

/* ------------------------------------------------------------- orders */

static void *orders_main(void *arg)
{
	static const size_t lens[] = { 1473, 4000, 8000, 65507 };
	struct cub_udp u;
	uint64_t rng = 12345;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	for (unsigned li = 0; li < 4; li++) {
		size_t l4 = make_udp(lens[li], li), piece = 1480;
		unsigned n = nfrags(l4, piece), order[64];

		/* In order. */
		for (unsigned k = 0; k < n; k++)
			feed(1, 17, l4, piece, k);
		expect_one(&u, lens[li]);
		/* Reversed, with small 8-byte-multiple pieces for 4000. */
		piece = lens[li] == 4000 ? 64 : 1480;
		n = nfrags(l4, piece);
		for (unsigned k = n; k-- > 0;)
			feed(2, 17, l4, piece, k);
		expect_one(&u, lens[li]);
		/* Shuffled (Fisher-Yates), every fragment twice. */
		piece = 1480;
		n = nfrags(l4, piece);
		for (unsigned k = 0; k < n; k++)
			order[k] = k;
		for (unsigned k = n; k > 1; k--) {
			unsigned j, t;

			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			j = (unsigned)(rng % k);
			t = order[k - 1], order[k - 1] = order[j], order[j] = t;
		}
		for (unsigned k = 0; k < n; k++) {
			feed(3, 17, l4, piece, order[k]);
			if (k + 1 < n)	/* the last one completes it */
				feed(3, 17, l4, piece, order[k]);
		}
		expect_one(&u, lens[li]);
		assert_int_equal(cub_ip4_reasm_busy(C), 0);
	}
	/* 4 datagrams x 3 deliveries; the duplicates dropped alone. */
	assert_int_equal(stats().ip_reassembled, 12);
	assert_int_equal(stats().udp_delivered, 12);
	assert_int_equal(stats().ip_frag_dup, 1 + 2 + 5 + 44);
	assert_int_equal(CAP.n, 0);		/* nothing answered */
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_orders(void **state)
{
	(void)state;
	run(orders_main);
}

/* ---------------------------------------------------- overlap, timeout */

static void *overlap_main(void *arg)
{
	struct cub_udp u;
	size_t l4;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	l4 = make_udp(3000, 7);
	/* [0, 1480) then [1472, 2952): overlap, the datagram is dropped; the
	 * rest starts a new one that never completes. */
	cub_netif_input(C, F, t_frag(9, 17, 0, 1480, true));
	cub_netif_input(C, F, t_frag(9, 17, 1472, 1480, true));
	assert_int_equal(stats().ip_frag_conflict, 1);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	/* A fragment covering two held ones exactly is an overlap too. */
	cub_netif_input(C, F, t_frag(10, 17, 0, 8, true));
	cub_netif_input(C, F, t_frag(10, 17, 8, 8, true));
	cub_netif_input(C, F, t_frag(10, 17, 0, 16, true));
	assert_int_equal(stats().ip_frag_conflict, 2);
	/* A final fragment ending before held data; two different ends. */
	cub_netif_input(C, F, t_frag(11, 17, 1480, 1480, true));
	cub_netif_input(C, F, t_frag(11, 17, 8, 1000, false));
	assert_int_equal(stats().ip_frag_conflict, 3);
	cub_netif_input(C, F, t_frag(12, 17, 2960, l4 - 2960, false));
	cub_netif_input(C, F, t_frag(12, 17, 2960, l4 - 2960 - 8, false));
	assert_int_equal(stats().ip_frag_conflict, 4);
	/* Data beyond a known end. */
	cub_netif_input(C, F, t_frag(13, 17, 1480, 1480, false));
	cub_netif_input(C, F, t_frag(13, 17, 2960, 8, true));
	assert_int_equal(stats().ip_frag_conflict, 5);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(stats().ip_reassembled, 0);
	assert_int_equal(cub_udp_recvfrom(&u, BUF, sizeof(BUF), NULL, NULL, 0),
			 -CUB_EAGAIN);
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_overlap_dropped(void **state)
{
	(void)state;
	run(overlap_main);
}

static void *timeout_main(void *arg)
{
	struct cub_udp u;
	size_t l4;
	uint64_t t0;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 50 * MS), 0);
	l4 = make_udp(4000, 3);
	t0 = cub_time_now();
	feed(20, 17, l4, 1480, 0);
	feed(20, 17, l4, 1480, 2);		/* fragment 1 never comes */
	assert_int_equal(cub_ip4_reasm_busy(C), 1);
	cub_sleep(20 * MS);
	if (cub_time_now() - t0 < 50 * MS)	/* a slow host may be late */
		assert_int_equal(cub_ip4_reasm_busy(C), 1);
	cub_sleep(40 * MS);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);	/* freed */
	assert_int_equal(stats().ip_reasm_timeouts, 1);
	/* Its missing fragment now starts a new datagram, never complete. */
	feed(20, 17, l4, 1480, 1);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);
	cub_sleep(60 * MS);
	/* The next IPv4 frame notices the timeout too. */
	cub_netif_input(C, F, t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 1, 9, "x", 1));
	assert_int_equal(stats().ip_reasm_timeouts, 2);
	assert_int_equal(stats().ip_reassembled, 0);
	assert_int_equal(cub_udp_recvfrom(&u, BUF, sizeof(BUF), NULL, NULL, 0),
			 -CUB_EAGAIN);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(cub_ip4_set_reasm_timeout(NULL, 1), -CUB_EINVAL);
	assert_int_equal(cub_ip4_reasm_busy(NULL), -CUB_EINVAL);
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_timeout(void **state)
{
	(void)state;
	run(timeout_main);
}

/* ----------------------------------------------------------- the slots */

static void *slots_main(void *arg)
{
	struct cub_udp u;
	size_t l4;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	l4 = make_udp(2000, 5);
	/* Five incomplete datagrams: the fifth evicts the first (oldest). */
	for (uint16_t id = 30; id < 30 + CUB_IP4_REASM_SLOTS + 1; id++) {
		feed(id, 17, l4, 1480, 0);
		cub_sleep(1 * MS);		/* distinct ages */
	}
	assert_int_equal(stats().ip_reasm_evicted, 1);
	assert_int_equal(cub_ip4_reasm_busy(C), CUB_IP4_REASM_SLOTS);
	/* The evicted one's last fragment cannot complete it (and evicts
	 * the next oldest, 31); 32..34 complete. */
	feed(30, 17, l4, 1480, 1);
	assert_int_equal(stats().ip_reasm_evicted, 2);
	for (uint16_t id = 32; id < 35; id++) {
		feed(id, 17, l4, 1480, 1);
		expect_one(&u, 2000);
	}
	assert_int_equal(stats().ip_reassembled, 3);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);	/* 30's tail */
	/* The same id from another protocol is another datagram. */
	feed(30, 1, l4, 1480, 0);
	assert_int_equal(cub_ip4_reasm_busy(C), 2);
	cub_udp_close(&u);
	cap_end();
	assert_int_equal(stats().ip_reasm_timeouts, 2);
	return NULL;
}

static void test_slots(void **state)
{
	(void)state;
	run(slots_main);
}

/* ------------------------------------------------------------ malformed */

#define BAD(len, field) do {                                             \
	struct cub_netif_stats b_ = stats(), a_;                            \
	cub_netif_input(C, F, (len));                                       \
	a_ = stats();                                                       \
	if (a_.field != b_.field + 1)                                       \
		fail_msg("%s not counted: %s", #field, #len);               \
	assert_int_equal(a_.ip_fragments, b_.ip_fragments + 1);            \
	assert_int_equal(a_.ip_frag_queued, b_.ip_frag_queued);            \
} while (0)

static void *malformed_main(void *arg)
{
	struct cub_udp u;
	size_t l4, n;

	(void)arg;
	cap_start();
	assert_int_equal(cub_udp_open(&u, C, PORT), 0);
	l4 = make_udp(3000, 1);
	BAD(t_frag(40, 17, 0, 0, true), ip_frag_bad);		/* empty */
	BAD(t_frag(40, 17, 8, 0, false), ip_frag_bad);		/* empty, last */
	BAD(t_frag(40, 17, 0, 1476, true), ip_frag_bad);	/* not 8k */
	BAD(t_frag(40, 17, 65528, 8, false), ip_frag_bad);	/* > 65535 */
	BAD(t_frag(40, 17, 64056, 1480, true), ip_frag_bad);	/* > 65535 */
	/* Exactly 65535 bytes is fine: 20 + 65512 + 3 (held, incomplete). */
	cub_netif_input(C, F, t_frag(40, 17, 65512, 3, false));
	assert_int_equal(stats().ip_frag_queued, 1);
	/* A bad header checksum on a fragment: ip_bad_cksum, not held. */
	n = t_frag(41, 17, 0, 1480, true);
	F[14 + 10] ^= 1;
	cub_netif_input(C, F, n);
	assert_int_equal(stats().ip_fragments, 6);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);
	/* A fragment to another address: ip_not_ours. */
	n = t_frag(42, 17, 0, 1480, true);
	t_put32(F + 30, CUB_IP4(10, 0, 0, 9));
	t_ip_refresh(F);
	cub_netif_input(C, F, n);
	assert_int_equal(stats().ip_not_ours, 1);
	assert_int_equal(cub_ip4_reasm_busy(C), 1);
	/* A whole datagram with a wrong UDP checksum: counted once done. */
	D[100] ^= 0x40;
	for (unsigned k = 0; k < nfrags(l4, 1480); k++)
		feed(43, 17, l4, 1480, k);
	assert_int_equal(stats().ip_reassembled, 1);
	assert_int_equal(stats().udp_bad_cksum, 1);
	assert_int_equal(cub_udp_recvfrom(&u, BUF, sizeof(BUF), NULL, NULL, 0),
			 -CUB_EAGAIN);
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_malformed(void **state)
{
	(void)state;
	run(malformed_main);
}

/* ---------------------------------------------------------------- send */

/* Checks C's sent frames [first, first + n) are the fragments of one
 * datagram to P (proto) and puts its transport bytes together in BUF;
 * returns their length. */
static size_t sent_frags(unsigned first, unsigned n, uint8_t proto)
{
	size_t total = 0;
	uint16_t id = t_get16(CAP.frame[first] + 14 + 4);

	for (unsigned k = 0; k < n; k++) {
		const uint8_t *f = CAP.frame[first + k], *ip = f + 14;
		size_t len = CAP.len[first + k] - 34;
		uint16_t fl = t_get16(ip + 6);

		assert_memory_equal(f, MAC_P, 6);
		assert_memory_equal(f + 6, MAC_C, 6);
		assert_int_equal(t_get16(f + 12), 0x0800);
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(t_cksum(0, ip, 20), 0);
		assert_int_equal(t_get16(ip + 2), 20 + len);
		assert_int_equal(t_get16(ip + 4), id);	/* one id */
		assert_int_equal(fl & 0x4000, 0);	/* DF clear */
		assert_int_equal((fl & 0x1fff) * 8, total);
		assert_int_equal(!!(fl & 0x2000), k + 1 < n);	/* MF */
		if (k + 1 < n)
			assert_int_equal(len, 1480);
		assert_true(len > 0 && len <= 1480);
		assert_int_equal(ip[8], 64);
		assert_int_equal(ip[9], proto);
		assert_int_equal(t_get32(ip + 12), IP_C);
		assert_int_equal(t_get32(ip + 16), IP_P);
		memcpy(BUF + total, ip + 20, len);
		total += len;
	}
	return total;
}

static void *send_main(void *arg)
{
	static uint8_t out[CUB_UDP_PAYLOAD_MAX + 1];
	struct cub_udp u;
	size_t l4;
	uint16_t id0;

	(void)arg;
	cap_start();
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i ^ i >> 8);
	assert_int_equal(cub_udp_open(&u, C, 6000), 0);
	/* 1472 bytes: one frame with DF; 1473: two fragments (1480 + 1). */
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out, 1472), 1472);
	assert_int_equal(CAP.n, 1);
	assert_int_equal(t_get16(CAP.frame[0] + 20), 0x4000);
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out, 1473), 1473);
	assert_int_equal(CAP.n, 3);
	assert_int_equal(sent_frags(1, 2, 17), 1481);
	assert_int_equal(CAP.len[2], 34 + 1);
	/* 4000 bytes: 1480, 1480, 1048, offsets 0, 185, 370. */
	CAP.n = 0;
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out, 4000), 4000);
	assert_int_equal(CAP.n, 3);
	assert_int_equal(t_get16(CAP.frame[1] + 20), 0x2000 | 185);
	assert_int_equal(t_get16(CAP.frame[2] + 20), 370);
	id0 = t_get16(CAP.frame[0] + 18);
	l4 = sent_frags(0, 3, 17);
	assert_int_equal(l4, 4008);
	assert_int_equal(t_get16(BUF), 6000);
	assert_int_equal(t_get16(BUF + 2), 53);
	assert_int_equal(t_get16(BUF + 4), 4008);
	assert_int_equal(t_cksum(t_pseudo(IP_C, IP_P, 17, 4008), BUF, 4008), 0);
	assert_memory_equal(BUF + 8, out, 4000);
	/* The largest, 45 fragments, the next id; one more byte refused. */
	CAP.n = 0;
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out, CUB_UDP_PAYLOAD_MAX),
			 CUB_UDP_PAYLOAD_MAX);
	assert_int_equal(CAP.n, 45);
	assert_int_equal(t_get16(CAP.frame[0] + 18), (uint16_t)(id0 + 1));
	l4 = sent_frags(0, 45, 17);
	assert_int_equal(l4, 65515);
	assert_int_equal(t_cksum(t_pseudo(IP_C, IP_P, 17, 65515), BUF, 65515),
			 0);
	assert_memory_equal(BUF + 8, out, CUB_UDP_PAYLOAD_MAX);
	assert_int_equal(stats().ip_frag_tx, 2 + 3 + 45);
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out,
					CUB_UDP_PAYLOAD_MAX + 1), -CUB_EMSGSIZE);
	/* A driver error in the middle of a datagram is returned. */
	CAP.n = CAP_FRAMES - 1;
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, out, 3000),
			 -CUB_EAGAIN);
	cub_udp_close(&u);
	cap_end();
	return NULL;
}

static void test_send(void **state)
{
	(void)state;
	run(send_main);
}

/* A fragmented echo request of 8000 bytes: the reply leaves in fragments
 * with the same payload; cub_net_ping's large request is fragmented. */
static void *echo_main(void *arg)
{
	size_t l4 = 8 + 8000;

	(void)arg;
	cap_start();
	D[0] = 8;
	D[1] = 0;
	t_put16(D + 2, 0);
	t_put16(D + 4, 0x4242);
	t_put16(D + 6, 7);
	for (size_t i = 8; i < l4; i++)
		D[i] = (uint8_t)(i * 3);
	t_put16(D + 2, t_cksum(0, D, l4));
	for (unsigned k = nfrags(l4, 1480); k-- > 0;)
		feed(50, 1, l4, 1480, k);
	assert_int_equal(stats().icmp_echo_requests, 1);
	assert_int_equal(CAP.n, 6);
	assert_int_equal(sent_frags(0, 6, 1), l4);
	assert_int_equal(BUF[0], 0);			/* echo reply */
	assert_int_equal(t_get16(BUF + 4), 0x4242);
	assert_int_equal(t_get16(BUF + 6), 7);
	assert_memory_equal(BUF + 8, D + 8, 8000);
	assert_int_equal(t_cksum(0, BUF, l4), 0);
	/* Our own ping of 3000 bytes goes out in three fragments (no reply
	 * comes: the capture is a dead end). */
	CAP.n = 0;
	assert_int_equal(cub_net_ping(C, IP_P, 1, 3000, 10 * MS, NULL),
			 -CUB_ETIMEDOUT);
	assert_int_equal(CAP.n, 3);
	assert_int_equal(sent_frags(0, 3, 1), 3008);
	assert_int_equal(BUF[0], 8);
	assert_int_equal(t_cksum(0, BUF, 3008), 0);
	cap_end();
	return NULL;
}

static void test_echo(void **state)
{
	(void)state;
	run(echo_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_overlap_dropped),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_echo),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
