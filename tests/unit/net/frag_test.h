/*
 * frag_test.h - what test_net_frag and test_net_frag_slots share: a
 * capture interface C (10.0.0.1/24, net_test.h) that has learnt the
 * made-up peer P (10.0.0.2), UDP datagrams built whole in D and cut
 * into hand-built fragments, the counters' sums, and the end of a test
 * (every slot freed). Include after cmocka.h.
 */
#ifndef FRAG_TEST_H
#define FRAG_TEST_H

#include "net_unit.h"

static struct cap CAP;
#define C (&CAP.nif)
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t MAC_P[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t ZERO6[6];
#define IP_C CUB_IP4(10, 0, 0, 1)
#define IP_P CUB_IP4(10, 0, 0, 2)
#define PORT 5000

static uint8_t F[2048];
static uint8_t D[65536];		/* a datagram's transport bytes */
static uint8_t BUF[65536];

static inline struct cub_netif_stats stats(void)
{
	struct cub_netif_stats st;

	assert_int_equal(cub_netif_stats(C, &st), 0);
	return st;
}

static inline void check_sums(void)
{
	struct cub_netif_stats s = stats();

	assert_int_equal(s.rx_frames, s.rx_short + s.rx_too_long +
			 s.rx_not_ours + s.rx_unknown_type + s.arp_rx + s.ip_rx);
	assert_int_equal(s.ip_rx + s.ip_reassembled, s.ip_bad_header +
			 s.ip_bad_cksum + s.ip_fragments + s.ip_not_ours +
			 s.ip_unknown_proto + s.icmp_rx + s.udp_rx + s.tcp_rx);
	assert_int_equal(s.ip_fragments, s.ip_frag_bad + s.ip_frag_dup +
			 s.ip_frag_conflict + s.ip_frag_nomem +
			 s.ip_frag_queued);
	assert_int_equal(s.udp_rx, s.udp_bad + s.udp_bad_cksum +
			 s.udp_no_port + s.udp_queue_full + s.udp_delivered);
}

static inline void cap_start(void)
{
	size_t n;

	memset(&CAP, 0, sizeof(CAP));
	assert_int_equal(cub_netif_init(C, "cap", MAC_C, &cap_ops, &CAP), 0);
	assert_int_equal(cub_netif_configure(C, IP_C, 24, 0), 0);
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);	/* learn P */
	cub_netif_input(C, F, n);
	CAP.n = 0;
}

static inline void cap_end(void)
{
	check_sums();
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	check_sums();
}

/* A UDP datagram from P:777 to C:PORT with len payload bytes in D, its
 * checksum set; returns its transport length. */
static inline size_t make_udp(size_t len, unsigned salt)
{
	uint16_t sum;

	t_put16(D, 777);
	t_put16(D + 2, PORT);
	t_put16(D + 4, (uint32_t)(8 + len));
	t_put16(D + 6, 0);
	for (size_t i = 0; i < len; i++)
		D[8 + i] = (uint8_t)(i * 31 + salt + (i >> 8));
	sum = t_cksum(t_pseudo(IP_P, IP_C, 17, (uint32_t)(8 + len)), D,
		      8 + len);
	t_put16(D + 6, sum ? sum : 0xffff);
	return 8 + len;
}

/* A fragment frame in F: bytes [off, off + n) of D as datagram id, MF
 * when more; returns its length. */
static inline size_t t_frag(uint16_t id, uint8_t proto, size_t off, size_t n,
		     bool more)
{
	uint8_t *ip = F + 14;

	t_eth(F, MAC_C, MAC_P, 0x0800);
	memcpy(ip + 20, D + off, n);
	t_ip(F, IP_P, IP_C, proto, n);
	t_put16(ip + 4, id);
	t_put16(ip + 6, (uint32_t)((more ? 0x2000 : 0) | off / 8));
	t_ip_refresh(F);
	return 34 + n;
}

/* Feeds fragment k of l4len bytes cut at `piece` (a multiple of 8). */
static inline void feed(uint16_t id, uint8_t proto, size_t l4len, size_t piece,
		 unsigned k)
{
	size_t off = k * piece, n = l4len - off < piece ? l4len - off : piece;

	cub_netif_input(C, F, t_frag(id, proto, off, n, off + n < l4len));
}

static inline unsigned nfrags(size_t l4len, size_t piece)
{
	return (unsigned)((l4len + piece - 1) / piece);
}

/* The one datagram u should hold now: len payload bytes, D's. */
static inline void expect_one(struct cub_udp *u, size_t len)
{
	cub_ip4_t src;
	uint16_t sport;

	assert_int_equal(cub_udp_recvfrom(u, BUF, sizeof(BUF), &src, &sport, 0),
			 (int)len);
	assert_memory_equal(BUF, D + 8, len);
	assert_int_equal(src, IP_P);
	assert_int_equal(sport, 777);
	assert_int_equal(cub_udp_recvfrom(u, BUF, sizeof(BUF), NULL, NULL, 0),
			 -CUB_EAGAIN);
}

#endif
