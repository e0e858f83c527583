/*
 * frames.h - hand-built Ethernet, ARP, IPv4 and ICMP frames for the NIC
 * tests, and the checks a test needs on the replies. Byte offsets are the
 * wire's (network byte order throughout).
 */
#ifndef NET_TEST_FRAMES_H
#define NET_TEST_FRAMES_H

#include <cubrt/base.h>
#include <cubrt/string.h>

#define ETH_HLEN 14
#define ETH_ARP 0x0806
#define ETH_IP 0x0800
#define ARP_LEN (ETH_HLEN + 28)
#define IP_HLEN 20
#define ICMP_HLEN 8

static const uint8_t ip_ours[4] = { 10, 0, 2, 15 };
static const uint8_t ip_gw[4] = { 10, 0, 2, 2 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void eth_header(uint8_t *f, const uint8_t *dst,
			      const uint8_t *src, uint16_t type)
{
	cub_memcpy(f, dst, 6);
	cub_memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

/* An ARP request "who has tpa? tell spa" from mac; ARP_LEN bytes. */
static inline void arp_request(uint8_t *f, const uint8_t *mac,
			       const uint8_t *spa, const uint8_t *tpa)
{
	uint8_t *a = f + ETH_HLEN;

	eth_header(f, mac_bcast, mac, ETH_ARP);
	put16(a, 1);		/* Ethernet */
	put16(a + 2, ETH_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);	/* request */
	cub_memcpy(a + 8, mac, 6);
	cub_memcpy(a + 14, spa, 4);
	cub_memset(a + 18, 0, 6);
	cub_memcpy(a + 24, tpa, 4);
}

/* True for slirp's ARP reply to arp_request(mac, ip_ours, ip_gw). */
static inline bool is_arp_reply(const uint8_t *f, int n, const uint8_t *mac)
{
	const uint8_t *a = f + ETH_HLEN;

	return n >= ARP_LEN && get16(f + 12) == ETH_ARP &&
	       !cub_memcmp(f, mac, 6) && get16(a) == 1 &&
	       get16(a + 2) == ETH_IP && a[4] == 6 && a[5] == 4 &&
	       get16(a + 6) == 2 && !cub_memcmp(a + 14, ip_gw, 4) &&
	       !cub_memcmp(a + 18, mac, 6) && !cub_memcmp(a + 24, ip_ours, 4);
}

/* The Internet checksum (RFC 1071) of n bytes. */
static inline uint16_t inet_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An ICMP echo request from us to the gateway with plen payload bytes
 * (i * 7 + seq); returns the frame's length. */
static inline size_t icmp_echo(uint8_t *f, const uint8_t *mac,
			       const uint8_t *gw_mac, uint16_t id,
			       uint16_t seq, size_t plen)
{
	uint8_t *ip = f + ETH_HLEN, *ic = ip + IP_HLEN;

	eth_header(f, gw_mac, mac, ETH_IP);
	cub_memset(ip, 0, IP_HLEN + ICMP_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP_HLEN + ICMP_HLEN + plen));
	put16(ip + 4, seq);	/* identification */
	ip[8] = 64;		/* TTL */
	ip[9] = 1;		/* ICMP */
	cub_memcpy(ip + 12, ip_ours, 4);
	cub_memcpy(ip + 16, ip_gw, 4);
	put16(ip + 10, inet_csum(ip, IP_HLEN));
	ic[0] = 8;		/* echo request */
	put16(ic + 4, id);
	put16(ic + 6, seq);
	for (size_t i = 0; i < plen; i++)
		ic[ICMP_HLEN + i] = (uint8_t)(i * 7 + seq);
	put16(ic + 2, inet_csum(ic, ICMP_HLEN + plen));
	return ETH_HLEN + IP_HLEN + ICMP_HLEN + plen;
}

#endif
