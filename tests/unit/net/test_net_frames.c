/*
 * test_net_frames.c - the stack against hand-built frames: a capture
 * interface C (02:00:00:00:00:0c, 10.0.0.1/24, net_test.h) keeps every
 * frame it sends, and a made-up peer P (02:00:00:00:00:0b, 10.0.0.2)
 * talks to it through cub_netif_input. Covers ARP answers for our
 * address only, the cache rules (requests for us merge the sender,
 * gratuitous and unsolicited replies only update), the request a
 * resolution sends, echo replies and port unreachable byte by byte, the
 * UDP wire format and checksum, every malformed-input drop counter with
 * nothing delivered, init/configure arguments and cub_net_attach on the
 * host (no cards: -CUB_ENODEV).
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

#include "net_unit.h"

static struct cap CAP;
#define C (&CAP.nif)
static const uint8_t MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const uint8_t MAC_P[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t MAC_P2[6] = { 0x02, 0, 0, 0, 0, 0xbb };
static const uint8_t ZERO6[6];
#define IP_C CUB_IP4(10, 0, 0, 1)
#define IP_P CUB_IP4(10, 0, 0, 2)

static uint8_t F[2048];

static struct cub_netif_stats stats(void)
{
	struct cub_netif_stats st;

	assert_int_equal(cub_netif_stats(C, &st), 0);
	return st;
}

static void cap_start(void)
{
	memset(&CAP, 0, sizeof(CAP));
	assert_int_equal(cub_netif_init(C, "cap", MAC_C, &cap_ops, &CAP), 0);
	assert_int_equal(cub_netif_configure(C, IP_C, 24, 0), 0);
}

/* Checks frame i is a valid IPv4 packet from C to P; returns its header. */
static const uint8_t *sent_ip(unsigned i, uint8_t proto, size_t *l4len)
{
	const uint8_t *f = CAP.frame[i];
	const uint8_t *ip = f + 14;

	assert_true(i < CAP.n);
	assert_memory_equal(f, MAC_P, 6);
	assert_memory_equal(f + 6, MAC_C, 6);
	assert_int_equal(t_get16(f + 12), 0x0800);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(t_cksum(0, ip, 20), 0);
	assert_int_equal(t_get16(ip + 2), CAP.len[i] - 14);
	assert_int_equal(t_get16(ip + 6), 0x4000);	/* DF, no fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], proto);
	assert_int_equal(t_get32(ip + 12), IP_C);
	assert_int_equal(t_get32(ip + 16), IP_P);
	*l4len = CAP.len[i] - 34;
	return ip;
}

/* ------------------------------------------------------------------ ARP */

static void *arp_answer_main(void *arg)
{
	const uint8_t *a;
	uint8_t mac[6];
	size_t n;

	(void)arg;
	cap_start();
	/* A request for another address: no answer, nothing learnt. */
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, CUB_IP4(10, 0, 0, 3));
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 0);
	assert_int_equal(stats().arp_other, 1);
	assert_int_equal(cub_arp_lookup(C, IP_P, mac), -CUB_ENOENT);
	/* An unsolicited reply: counted, no entry created. */
	n = t_arp(F, MAC_C, 2, MAC_P, IP_P, MAC_C, IP_C);
	cub_netif_input(C, F, n);
	assert_int_equal(stats().arp_replies, 1);
	assert_int_equal(cub_arp_lookup(C, IP_P, mac), -CUB_ENOENT);
	/* A request for our address: one reply, and P is learnt. */
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 1);
	assert_int_equal(CAP.len[0], 42);
	a = CAP.frame[0] + 14;
	assert_memory_equal(CAP.frame[0], MAC_P, 6);
	assert_memory_equal(CAP.frame[0] + 6, MAC_C, 6);
	assert_int_equal(t_get16(CAP.frame[0] + 12), 0x0806);
	assert_int_equal(t_get16(a), 1);
	assert_int_equal(t_get16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(t_get16(a + 6), 2);
	assert_memory_equal(a + 8, MAC_C, 6);
	assert_int_equal(t_get32(a + 14), IP_C);
	assert_memory_equal(a + 18, MAC_P, 6);
	assert_int_equal(t_get32(a + 24), IP_P);
	assert_int_equal(stats().arp_requests, 1);
	assert_int_equal(cub_arp_lookup(C, IP_P, mac), 0);
	assert_memory_equal(mac, MAC_P, 6);
	/* A gratuitous reply updates the existing entry. */
	n = t_arp(F, T_BCAST, 2, MAC_P2, IP_P, T_BCAST, IP_P);
	cub_netif_input(C, F, n);
	assert_int_equal(cub_arp_lookup(C, IP_P, mac), 0);
	assert_memory_equal(mac, MAC_P2, 6);
	/* ... but a gratuitous one for a stranger creates nothing. */
	n = t_arp(F, T_BCAST, 1, MAC_P2, CUB_IP4(10, 0, 0, 9), ZERO6,
		  CUB_IP4(10, 0, 0, 9));
	cub_netif_input(C, F, n);
	assert_int_equal(cub_arp_lookup(C, CUB_IP4(10, 0, 0, 9), mac),
			 -CUB_ENOENT);
	assert_int_equal(CAP.n, 1);
	/* Unconfigured: no answers. */
	assert_int_equal(cub_netif_configure(C, 0, 0, 0), 0);
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 1);
	return NULL;
}

static void test_arp_answers_ours_only(void **state)
{
	(void)state;
	run(arp_answer_main);
}

struct resolver {
	uint8_t mac[6];
	int r;
	bool done;
};

static void *resolve_peer(void *arg)
{
	struct resolver *rs = arg;

	rs->r = cub_arp_resolve(C, IP_P, rs->mac, 1000 * MS);
	rs->done = true;
	return NULL;
}

static void *arp_request_main(void *arg)
{
	struct resolver rs = { .done = false };
	struct cub_coro *co;
	const uint8_t *a;
	size_t n;

	(void)arg;
	cap_start();
	assert_int_equal(cub_coro_spawn(&co, resolve_peer, &rs, NULL), 0);
	cub_coro_yield();
	assert_int_equal(CAP.n, 1);
	a = CAP.frame[0] + 14;
	assert_memory_equal(CAP.frame[0], T_BCAST, 6);
	assert_int_equal(t_get16(a + 6), 1);
	assert_memory_equal(a + 8, MAC_C, 6);
	assert_int_equal(t_get32(a + 14), IP_C);
	assert_int_equal(t_get32(a + 24), IP_P);
	assert_false(rs.done);
	/* A reply from the wrong address does not complete it. */
	n = t_arp(F, MAC_C, 2, MAC_P2, CUB_IP4(10, 0, 0, 3), MAC_C, IP_C);
	cub_netif_input(C, F, n);
	cub_coro_yield();
	assert_false(rs.done);
	n = t_arp(F, MAC_C, 2, MAC_P, IP_P, MAC_C, IP_C);
	cub_netif_input(C, F, n);
	cub_coro_join(co, NULL);
	assert_int_equal(rs.r, 0);
	assert_memory_equal(rs.mac, MAC_P, 6);
	assert_int_equal(CAP.n, 1);	/* answered before any retry */
	return NULL;
}

static void test_arp_request_frame(void **state)
{
	(void)state;
	run(arp_request_main);
}

/* Makes C know P without any exchange on the wire. */
static void learn_peer(void)
{
	size_t n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);

	cub_netif_input(C, F, n);
	CAP.n = 0;
}

/* ----------------------------------------------------------------- ICMP */

static void *echo_main(void *arg)
{
	const uint8_t *ip, *m;
	size_t n, l4len;

	(void)arg;
	cap_start();
	n = t_icmp_echo(F, MAC_C, MAC_P, IP_P, IP_C, 8, 0x4242, 7, 100);
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 1);
	ip = sent_ip(0, 1, &l4len);
	m = ip + 20;
	assert_int_equal(l4len, 108);
	assert_int_equal(m[0], 0);
	assert_int_equal(m[1], 0);
	assert_int_equal(t_cksum(0, m, l4len), 0);
	assert_int_equal(t_get16(m + 4), 0x4242);
	assert_int_equal(t_get16(m + 6), 7);
	assert_memory_equal(m + 8, F + 42, 100);
	assert_int_equal(stats().icmp_echo_requests, 1);
	/* An echo to the broadcast address is ignored. */
	n = t_icmp_echo(F, T_BCAST, MAC_P, IP_P, CUB_IP4_BROADCAST, 8, 1, 1, 8);
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 1);
	assert_int_equal(stats().icmp_other, 1);
	/* A reply nobody waits for is counted only. */
	n = t_icmp_echo(F, MAC_C, MAC_P, IP_P, IP_C, 0, 1, 1, 8);
	cub_netif_input(C, F, n);
	assert_int_equal(stats().icmp_echo_replies, 1);
	assert_int_equal(CAP.n, 1);
	return NULL;
}

static void test_echo_reply_frame(void **state)
{
	(void)state;
	run(echo_main);
}

static void *unreach_main(void *arg)
{
	const uint8_t *ip, *m;
	size_t n, l4len;

	(void)arg;
	cap_start();
	n = t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 1234, 4321, "abcdefghij", 10);
	cub_netif_input(C, F, n);
	assert_int_equal(CAP.n, 1);
	ip = sent_ip(0, 1, &l4len);
	m = ip + 20;
	assert_int_equal(l4len, 8 + 20 + 8);
	assert_int_equal(m[0], 3);
	assert_int_equal(m[1], 3);
	assert_int_equal(t_cksum(0, m, l4len), 0);
	/* The offending IPv4 header and its first 8 bytes of data. */
	assert_memory_equal(m + 8, F + 14, 28);
	assert_int_equal(stats().udp_no_port, 1);
	assert_int_equal(stats().icmp_unreach_tx, 1);
	return NULL;
}

static void test_port_unreach_frame(void **state)
{
	(void)state;
	run(unreach_main);
}

/* ------------------------------------------------------------------ UDP */

static void *udp_frame_main(void *arg)
{
	struct cub_udp u;
	const uint8_t *ip, *h;
	size_t l4len, n;
	char buf[16];
	cub_ip4_t src;
	uint16_t sport;

	(void)arg;
	cap_start();
	learn_peer();
	assert_int_equal(cub_udp_open(&u, C, 5353), 0);
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, "query", 5), 5);
	assert_int_equal(CAP.n, 1);
	ip = sent_ip(0, 17, &l4len);
	h = ip + 20;
	assert_int_equal(l4len, 13);
	assert_int_equal(t_get16(h), 5353);
	assert_int_equal(t_get16(h + 2), 53);
	assert_int_equal(t_get16(h + 4), 13);
	assert_int_not_equal(t_get16(h + 6), 0);
	assert_int_equal(t_cksum(t_pseudo(IP_C, IP_P, 17, 13), h, 13), 0);
	assert_memory_equal(h + 8, "query", 5);
	/* A send error of the card is returned and counted. */
	CAP.fail = -CUB_EAGAIN;
	assert_int_equal(cub_udp_sendto(&u, IP_P, 53, "query", 5), -CUB_EAGAIN);
	assert_int_equal(stats().tx_errors, 1);
	CAP.fail = 0;
	/* Checksum 0 (none) is accepted; Ethernet padding is ignored. */
	n = t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 53, 5353, "ans", 3);
	t_put16(F + 40, 0);
	memset(F + n, 0x55, 60 - n);
	cub_netif_input(C, F, 60);
	assert_int_equal(cub_udp_recvfrom(&u, buf, sizeof(buf), &src, &sport, 0),
			 3);
	assert_memory_equal(buf, "ans", 3);
	assert_int_equal(src, IP_P);
	assert_int_equal(sport, 53);
	assert_int_equal(cub_udp_close(&u), 0);
	return NULL;
}

static void test_udp_frame(void **state)
{
	(void)state;
	run(udp_frame_main);
}

/* ------------------------------------------------------- malformed input */

/* Feeds len bytes of F and checks that exactly counter moved by one and
 * nothing was delivered or sent. */
#define DROPPED(len, field) do {                                          \
	struct cub_netif_stats b_ = stats(), a_;                            \
	cub_netif_input(C, F, (len));                                       \
	a_ = stats();                                                       \
	if (a_.field != b_.field + 1)                                       \
		fail_msg("%s: %s not counted", #field, #len);               \
	assert_int_equal(a_.udp_delivered, b_.udp_delivered);               \
	assert_int_equal(a_.rx_frames, b_.rx_frames + 1);                   \
	assert_int_equal(CAP.n, 0);                                         \
} while (0)

/* A valid datagram for u at port 5000 in F; returns its length. */
static size_t good_udp(void)
{
	return t_udp(F, MAC_C, MAC_P, IP_P, IP_C, 777, 5000, "payload!", 8);
}

static void *malformed_main(void *arg)
{
	struct cub_udp u;
	struct cub_netif_stats s;
	char buf[16];
	size_t n;

	(void)arg;
	cap_start();
	learn_peer();
	assert_int_equal(cub_udp_open(&u, C, 5000), 0);
	/* Ethernet. */
	n = good_udp();
	DROPPED(10, rx_short);
	DROPPED(CUB_ETH_FRAME_MAX + 1, rx_too_long);
	memcpy(F, MAC_P2, 6);
	DROPPED(n, rx_not_ours);
	n = good_udp();
	t_put16(F + 12, 0x86dd);
	DROPPED(n, rx_unknown_type);
	/* ARP. */
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);
	DROPPED(n - 1, arp_bad);
	F[14 + 7] = 3;			/* operation 3 */
	DROPPED(n, arp_bad);
	n = t_arp(F, T_BCAST, 1, MAC_P, IP_P, ZERO6, IP_C);
	F[14 + 4] = 8;			/* hardware length */
	DROPPED(n, arp_bad);
	n = t_arp(F, T_BCAST, 1, T_BCAST, IP_P, ZERO6, IP_C);
	DROPPED(n, arp_bad);		/* broadcast sender */
	/* IPv4 header. */
	n = good_udp();
	DROPPED(14 + 19, ip_bad_header);
	F[14] = 0x44;			/* IHL 4 */
	t_ip_refresh(F);
	DROPPED(n, ip_bad_header);
	n = good_udp();
	F[14] = 0x65;			/* version 6 */
	t_ip_refresh(F);
	DROPPED(n, ip_bad_header);
	n = good_udp();
	F[14] = 0x4f;			/* IHL 15: 60 bytes, beyond the frame */
	DROPPED(14 + 40, ip_bad_header);
	n = good_udp();
	t_put16(F + 16, (uint32_t)(n - 14 + 1));	/* longer than the frame */
	t_ip_refresh(F);
	DROPPED(n, ip_bad_header);
	n = good_udp();
	t_put16(F + 16, 19);		/* shorter than the header */
	t_ip_refresh(F);
	DROPPED(n, ip_bad_header);
	n = good_udp();
	F[14 + 8] = 0;			/* TTL 0 */
	t_ip_refresh(F);
	DROPPED(n, ip_bad_header);
	n = good_udp();
	F[14 + 10] ^= 0x01;		/* checksum */
	DROPPED(n, ip_bad_cksum);
	/* Fragments are held, not delivered (test_net_frag.c has the
	 * rest); with a 1 ns timeout the next IPv4 frame drops them (an
	 * offset-0 one with an ICMP time exceeded, taken out here). */
	assert_int_equal(cub_ip4_set_reasm_timeout(C, 1), 0);
	n = good_udp();
	t_put16(F + 20, 0x2000);	/* more fragments */
	t_ip_refresh(F);
	DROPPED(n, ip_fragments);
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(CAP.n, 1);
	assert_int_equal(CAP.frame[0][34], 11);
	CAP.n = 0;
	n = good_udp();
	t_put16(F + 20, 0x0010);	/* a later fragment */
	t_ip_refresh(F);
	DROPPED(n, ip_frag_queued);
	n = good_udp();
	t_put32(F + 30, CUB_IP4(10, 0, 0, 3));	/* not our address */
	t_ip_refresh(F);
	DROPPED(n, ip_not_ours);
	n = good_udp();
	F[14 + 9] = 47;			/* GRE */
	t_ip_refresh(F);
	DROPPED(n, ip_unknown_proto);
	/* UDP. */
	n = t_ip(F, IP_P, IP_C, 17, 6);	/* 6 bytes: short header */
	DROPPED(n, udp_bad);
	n = good_udp();
	t_put16(F + 38, 17);		/* length beyond the IPv4 payload */
	DROPPED(n, udp_bad);
	n = good_udp();
	F[42] ^= 0x20;			/* a payload bit: checksum fails */
	DROPPED(n, udp_bad_cksum);
	/* ICMP. */
	n = t_icmp_echo(F, MAC_C, MAC_P, IP_P, IP_C, 8, 1, 1, 16);
	F[50] ^= 1;
	DROPPED(n, icmp_bad);
	n = t_ip(F, IP_P, IP_C, 1, 4);	/* shorter than an ICMP header */
	DROPPED(n, icmp_bad);
	/* None of that was delivered; the valid one is, once. */
	assert_int_equal(cub_udp_recvfrom(&u, buf, sizeof(buf), NULL, NULL, 0),
			 -CUB_EAGAIN);
	n = good_udp();
	cub_netif_input(C, F, n);
	assert_int_equal(cub_udp_recvfrom(&u, buf, sizeof(buf), NULL, NULL, 0),
			 8);
	assert_memory_equal(buf, "payload!", 8);
	assert_int_equal(stats().ip_reasm_timeouts, 2);	/* each alone */
	assert_int_equal(cub_ip4_reasm_busy(C), 0);
	assert_int_equal(cub_udp_recvfrom(&u, buf, sizeof(buf), NULL, NULL, 0),
			 -CUB_EAGAIN);
	/* NULL input is ignored, not counted. */
	s = stats();
	cub_netif_input(C, NULL, 60);
	cub_netif_input(NULL, F, 60);
	assert_int_equal(stats().rx_frames, s.rx_frames);
	assert_int_equal(cub_udp_close(&u), 0);
	return NULL;
}

static void test_malformed_dropped(void **state)
{
	(void)state;
	run(malformed_main);
}

/* ------------------------------------------------------------ arguments */

static void *init_configure_main(void *arg)
{
	struct cub_netif n;
	struct cub_netif_stats st;
	static const uint8_t group[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	static const struct cub_netif_ops no_send = { 0 };

	(void)arg;
	assert_int_equal(cub_netif_init(NULL, "x", MAC_C, &cap_ops, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, NULL, MAC_C, &cap_ops, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "x", NULL, &cap_ops, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "x", MAC_C, NULL, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "x", MAC_C, &no_send, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "x", group, &cap_ops, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "x", ZERO6, &cap_ops, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_init(&n, "a-very-long-interface-name",
					MAC_C, &cap_ops, &n), 0);
	assert_string_equal(n.name, "a-very-long-int");
	assert_ptr_equal(cub_netif_driver(&n), &n);
	assert_int_equal(cub_netif_configure(NULL, IP_C, 24, 0), -CUB_EINVAL);
	assert_int_equal(cub_netif_configure(&n, IP_C, 0, 0), -CUB_EINVAL);
	assert_int_equal(cub_netif_configure(&n, CUB_IP4_BROADCAST, 24, 0),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_configure(&n, IP_C, 24,
					     CUB_IP4(10, 0, 0, 255)),
			 -CUB_EINVAL);
	assert_int_equal(cub_netif_configure(&n, IP_C, 32, 0), 0);
	assert_int_equal(cub_netif_stats(&n, NULL), -CUB_EINVAL);
	assert_int_equal(cub_netif_stats(NULL, &st), -CUB_EINVAL);
	assert_int_equal(cub_netif_stats(&n, &st), 0);
	assert_int_equal(st.rx_frames, 0);
	assert_int_equal(cub_arp_set_timeouts(NULL, 1, 1), -CUB_EINVAL);
	return NULL;
}

static void test_init_configure(void **state)
{
	(void)state;
	run(init_configure_main);
}

static void *attach_main(void *arg)
{
	struct cub_netif *n = NULL;

	(void)arg;
	assert_int_equal(cub_net_attach(0, &n), -CUB_ENODEV);
	assert_int_equal(cub_net_attach(1, &n), -CUB_ENODEV);
	assert_int_equal(cub_net_attach(1000, &n), -CUB_ENODEV);
	assert_null(n);
	assert_int_equal(cub_net_attach(0, NULL), -CUB_EINVAL);
	return NULL;
}

/* src/net's checksum (four bytes a load, byte-swapped on little-endian
 * machines) against the test's byte-by-byte one: every length 0..1514 at
 * every alignment 0..7 of pseudo-random bytes, and sums carried across
 * calls (a header then a payload, both starting at even offsets). */
uint32_t cubi_cksum_add(uint32_t sum, const void *p, size_t len);
uint16_t cubi_cksum_fold(uint32_t sum);

static void test_checksum(void **state)
{
	static uint8_t buf[1514 + 8];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 1514; len++)
			assert_int_equal(cubi_cksum_fold(cubi_cksum_add(0, buf + off, len)),
					 t_cksum(0, buf + off, len));
	for (size_t h = 0; h <= 60; h += 2)
		assert_int_equal(cubi_cksum_fold(cubi_cksum_add(cubi_cksum_add(7, buf, h),
								 buf + h, 1400 - h)),
				 t_cksum(7, buf, 1400));
	memset(buf, 0xff, sizeof(buf));		/* every carry */
	assert_int_equal(cubi_cksum_fold(cubi_cksum_add(0, buf, 1514)), t_cksum(0, buf, 1514));
}

static void test_attach_host(void **state)
{
	(void)state;
	run(attach_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp_answers_ours_only),
		cmocka_unit_test(test_arp_request_frame),
		cmocka_unit_test(test_echo_reply_frame),
		cmocka_unit_test(test_port_unreach_frame),
		cmocka_unit_test(test_udp_frame),
		cmocka_unit_test(test_malformed_dropped),
		cmocka_unit_test(test_init_configure),
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_attach_host),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
