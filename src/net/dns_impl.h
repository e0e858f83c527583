/*
 * dns_impl.h - what the DNS resolver's files share (cubrt/dns.h):
 * dns.c encodes the question and judges a reply, dns_query.c runs the
 * exchange (UDP, then TCP for a truncated answer), dns_cache.c keeps
 * answers for their TTL; dns_ptr.c (reverse lookups) and dns_srv.c
 * (service records) are front ends to the same machinery, the question's
 * type (q->qtype) being the only difference until their answers are
 * handed out.
 *
 * A struct cubi_dns_query lives on the looking-up coroutine's stack
 * (5352 bytes on x86-64: the reply buffer is CUBI_DNS_TCP_MAX, a UDP reply uses
 * its first CUBI_DNS_UDP_MAX bytes) and is private to that lookup: no
 * lock.
 */
#ifndef CUBRT_NET_DNS_IMPL_H
#define CUBRT_NET_DNS_IMPL_H

#include <cubrt/dns.h>

#include "net_impl.h"

#define CUBI_DNS_HDR 12
#define CUBI_DNS_QUERY_MAX (CUBI_DNS_HDR + CUB_DNS_NAME_MAX + 2 + 4)
#define CUBI_DNS_UDP_MAX 512		/* RFC 1035 2.3.4: UDP messages */
#define CUBI_DNS_TCP_MAX CUB_DNS_TCP_REPLY_MAX

/* Record types (RFC 1035 3.2.2, RFC 2782). */
#define CUBI_DNS_A 1
#define CUBI_DNS_CNAME 5
#define CUBI_DNS_SOA 6
#define CUBI_DNS_PTR 12
#define CUBI_DNS_SRV 33

/* One SRV record packed in q->data: priority, weight, port (each two
 * bytes, network order), the target's length, then the target (lower
 * case, dotted, no NUL; length 0: the root, "."). */
#define CUBI_DNS_SRV_FIXED 7

/* cubi_dns_judge's verdicts besides 0 and a negative error. */
#define CUBI_DNS_IGNORE CUBI_UDP_QUERY_IGNORE	/* not a reply to believe */
#define CUBI_DNS_TRUNCATED 2		/* TC over UDP: ask over TCP */

struct cubi_dns_query {
	struct cubi_udp_query uq;	/* first: the exchange's callbacks
					 * get it back by a cast */
	struct cub_dns_result *res;
	uint16_t id;
	char name[CUB_DNS_NAME_MAX + 1];	/* lower case, no final dot */
	uint16_t qtype;			/* CUBI_DNS_A, _PTR or _SRV */
	uint8_t out[CUBI_DNS_QUERY_MAX];
	size_t out_len;
	uint32_t neg_ttl;		/* of a negative answer: min(SOA TTL,
					 * SOA minimum), 0 without an SOA */
	/* The answer's records besides A's addresses (those go to
	 * res->addr): PTR, the name (NUL-terminated); SRV, records packed
	 * (CUBI_DNS_SRV_FIXED). data_len bytes are used; a cache hit
	 * copies its slot's here. */
	uint8_t data[CUB_DNS_DATA_MAX];
	size_t data_len;
	uint8_t in[CUBI_DNS_TCP_MAX];
};

/* dns.c: name into q->name, lower case, a final dot dropped: 0, or
 * -CUB_EINVAL for a malformed name. */
int cubi_dns_name(struct cubi_dns_query *q, const char *name);
/* dns.c: the query for q->name, q->qtype with q->id into q->out. */
void cubi_dns_build(struct cubi_dns_query *q);
/* dns.c: judges the n-byte reply in q->in (tcp: it came over TCP):
 * 0 (q->res filled), CUBI_DNS_IGNORE, CUBI_DNS_TRUNCATED (over UDP, TC
 * set; q->res holds what addresses it had), or the answer's error
 * (q->neg_ttl set for -CUB_ENOENT). */
int cubi_dns_judge(struct cubi_dns_query *q, size_t n, bool tcp);

/* dns_query.c: asks server:port (port already defaulted) about q->name
 * (set by cubi_dns_name) until deadline, over UDP and, for a truncated
 * answer, over TCP; q->res filled as cub_dns_lookup says. */
int cubi_dns_resolve(struct cubi_dns_query *q, struct cub_netif *nif, cub_ip4_t server,
		     uint16_t port, uint64_t deadline);
/* dns_query.c: asks the n servers in turn (failover, see dns_query.c)
 * about q->name until deadline: the answer of the first that gives a
 * definite one, else the most telling error; res->server the server
 * last asked. */
int cubi_dns_ask(struct cubi_dns_query *q, struct cub_netif *nif, const cub_ip4_t *servers,
		 unsigned n, uint16_t port, uint64_t deadline);
/* dns_query.c: 0 for a list of 1..CUB_DNS_SERVERS_MAX servers none of
 * them 0, else -CUB_EINVAL. */
int cubi_dns_servers_check(const cub_ip4_t *servers, unsigned n);
/* dns_query.c: a dotted quad: true and *a. */
bool cubi_dns_literal(const char *s, cub_ip4_t *a);
/* dns_query.c: asks about q->name and q->qtype (set, q->res zeroed)
 * through cache c (NULL: uncached) the n servers (checked) on port (0:
 * 53) within timeout_ns: as cub_dns_lookup_servers or
 * cub_dns_cache_lookup_servers, the records in q->res and q->data. */
int cubi_dns_run(struct cub_dns_cache *c, struct cubi_dns_query *q, struct cub_netif *nif,
		 const cub_ip4_t *servers, unsigned n, uint16_t port, uint64_t timeout_ns);

/* dns_cache.c: cubi_dns_run's cached half (c not NULL, port defaulted). */
int cubi_dns_cache_ask(struct cub_dns_cache *c, struct cubi_dns_query *q,
		       struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
		       uint16_t port, uint64_t deadline);

/* dns_srv.c: sorts the n records by priority (stable), each
 * priority's put in RFC 2782's weighted random order drawn from seed
 * (the same seed, the same order; tests declare it themselves). */
void cubi_dns_srv_order(struct cub_dns_srv *s, unsigned n, uint64_t seed);

/* dns_tcp.c: asks q's question again over a TCP connection to the
 * server, the reply judged as over UDP: 0, the answer's error,
 * -CUB_EIO (the server closed without a believable reply),
 * -CUB_EMSGSIZE (a reply over CUBI_DNS_TCP_MAX), -CUB_ETIMEDOUT, or
 * cub_tcp_connect's, send's or recv's error. Contexts: task. */
int cubi_dns_tcp(struct cubi_dns_query *q, struct cub_netif *nif, uint64_t deadline);

#endif
