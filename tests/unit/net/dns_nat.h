/*
 * dns_nat.h - several DNS servers for the resolver's list tests
 * (test_net_dns_servers, test_net_dns_icmp, test_net_dns_rotate) on top
 * of dns_fake.h's one server. The servers 10.0.1.1-3 are off-link
 * behind gateway B; a wire filter translates them to and from B's one
 * server (by A's source port), drops the queries of a server the test
 * made silent, and notes the order in which the servers were asked.
 * Each server answers as the test planned: A 192.0.2.<its number>, or
 * SERVFAIL, REFUSED, NXDOMAIN; or (UNREACH) its query is dropped and an
 * ICMP error built by hand goes back to A instead, quoting the query as
 * N.icmp says (whole or RFC 792's minimum, or spoilt: another ID,
 * source port or destination port). Include after cmocka.h, once per
 * program (everything is static).
 */
#ifndef DNS_NAT_H
#define DNS_NAT_H

#include "dns_fake.h"

#define NS(i) CUB_IP4(10, 0, 1, i)	/* server i, 1..3 */
#define PORTS 32

enum plan { ANSWER, SILENT, SERVFAIL, REFUSED, NXDOMAIN, UNREACH };

/* How an UNREACH server's ICMP error quotes the query. */
enum spoil { QUOTE_ALL, QUOTE_MIN, OTHER_ID, OTHER_SPORT, OTHER_DPORT };

static struct {
	enum plan plan[4];		/* by server number */
	uint8_t code[4];		/* UNREACH: the ICMP code (3: port) */
	enum spoil spoil;		/* UNREACH: the quote */
	unsigned icmp_sent;		/* ICMP errors sent to A */
	uint16_t port[PORTS];		/* A's source port of a query ... */
	unsigned server[PORTS];		/* ... and the server it went to */
	unsigned seen;			/* queries the filter saw */
	unsigned order[16];		/* the server of each, in turn */
} N;

static uint8_t *udp_of(struct wire_frame *f)
{
	uint8_t *ip = f->data + 14;

	if (f->len < 42 || t_get16(f->data + 12) != 0x0800 || ip[9] != 17 || (ip[0] & 0xf) != 5)
		return NULL;
	return ip + 20;
}

/* The ICMP error (type 3, N.code[s]) about the query datagram at ip,
 * from server s's host (a port unreachable) or from the gateway B (a
 * router's host or net unreachable), quoting it as N.spoil says. */
static void unreach(const uint8_t *ip, unsigned s)
{
	static uint8_t f[CUB_ETH_FRAME_MAX], q[600];
	size_t n = CUB_MIN((size_t)t_get16(ip + 2), sizeof(q));
	uint8_t code = N.code[s];

	memcpy(q, ip, n);
	if (N.spoil == QUOTE_MIN)
		n = 28;				/* header and 8 bytes */
	else if (N.spoil == OTHER_ID)
		t_put16(q + 28, t_get16(q + 28) ^ 0x8001u);
	else if (N.spoil == OTHER_SPORT)
		t_put16(q + 20, t_get16(q + 20) + 1u);
	else if (N.spoil == OTHER_DPORT)
		t_put16(q + 22, 54);
	n = t_icmp_err(f, MAC_A, MAC_B, code == 3 ? NS(s) : IP_B, IP_A, 3, code, q, n);
	assert_int_equal(wire_send(B, f, n), 0);
	N.icmp_sent++;
}

/* The filter: queries to 10.0.1.N become B's, replies B's become N's. */
static bool nat(struct wire *w, struct wire_frame *f)
{
	uint8_t *ip = f->data + 14, *u = udp_of(f);

	(void)w;
	if (!u)
		return true;
	if (f->to == 1 && (t_get32(ip + 16) & 0xffffff00u) == CUB_IP4(10, 0, 1, 0)) {
		unsigned s = t_get32(ip + 16) & 0xff, i = N.seen++;

		N.order[i % 16] = s;
		N.port[i % PORTS] = t_get16(u);
		N.server[i % PORTS] = s;
		if (s <= 3 && N.plan[s] == UNREACH)
			unreach(ip, s);
		if (s > 3 || N.plan[s] == SILENT || N.plan[s] == UNREACH)
			return false;
		t_put32(ip + 16, IP_B);
	} else if (f->to == 0 && t_get32(ip + 12) == IP_B && t_get16(u) == 53) {
		for (unsigned i = 0; i < PORTS; i++)
			if (N.port[i] == t_get16(u + 2) && N.server[i])
				t_put32(ip + 12, NS(N.server[i]));
	} else {
		return true;
	}
	t_put16(u + 6, 0);		/* no checksum: the addresses changed */
	t_ip_refresh(f->data);
	return true;
}

/* The server number of the query from A's port (0: unknown). */
static unsigned server_of(uint16_t port)
{
	for (unsigned i = 0; i < PORTS; i++)
		if (N.port[i] == port)
			return N.server[i];
	return 0;
}

/* Answers by the plan of the server asked; "slowN..." after N * 10 ms;
 * a first label with "keep" in it with TTL 100, others 0; "fail..."
 * SERVFAIL everywhere. */
static void plan_reply(const uint8_t *q, size_t qlen, unsigned nth, struct msg *m)
{
	unsigned s = server_of(S.last_port), k;
	char name[64] = "";

	(void)nth;
	memcpy(name, q + 13, CUB_MIN((size_t)q[12], sizeof(name) - 1));	/* the first label */
	if (sscanf(name, "slow%u", &k) == 1)
		cub_sleep(k * 10 * MS);
	if (!strncmp(name, "fail", 4) || N.plan[s] == SERVFAIL) {
		reply_to(m, q, qlen, 2, 1, 0);
	} else if (N.plan[s] == REFUSED) {
		reply_to(m, q, qlen, 5, 1, 0);
	} else if (N.plan[s] == NXDOMAIN) {
		reply_to(m, q, qlen, 3, 1, 0);
	} else {
		reply_to(m, q, qlen, 0, 1, 1);
		rr_a(m, strstr(name, "keep") ? 100 : 0, CUB_IP4(192, 0, 2, s));
	}
}

static void begin(enum plan p1, enum plan p2, enum plan p3)
{
	memset(&N, 0, sizeof(N));
	N.plan[1] = p1;
	N.plan[2] = p2;
	N.plan[3] = p3;
	for (unsigned s = 1; s <= 3; s++)
		N.code[s] = 3;
	start(plan_reply);
	W.filter = nat;
	assert_int_equal(cub_netif_configure(A, IP_A, 24, IP_B), 0);
}

static const cub_ip4_t ns3[] = { NS(1), NS(2), NS(3) };

static int ask(unsigned n, const char *name, uint64_t timeout, struct cub_dns_result *r)
{
	return cub_dns_lookup_servers(A, ns3, n, 0, name, timeout, r);
}

#endif
