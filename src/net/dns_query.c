/*
 * dns_query.c - the DNS resolver's exchange (cubrt/dns.h): the question
 * over UDP (udp_query.c: random port and ID, resends, foreign replies
 * ignored) and, when the answer comes back truncated (TC), again over
 * TCP (dns_tcp.c) within the same deadline; the servers of a list asked
 * in turn (cubi_dns_ask); cub_dns_lookup and cub_dns_lookup_servers, the
 * uncached lookups.
 *
 * Failover (RFC 1123 6.1.3.1, as glibc's resolver walks resolv.conf's
 * nameservers in order): server i of n gets an equal share of the time
 * left, (deadline - now) / (n - i), resending within it every
 * CUB_DNS_RETRY_NS; silence, SERVFAIL, REFUSED and the other failure
 * codes, and an unreachable server or TCP port pass to the next one. A
 * definite answer (addresses, NXDOMAIN, no data, an answer too long)
 * ends the lookup at once. When all fail, the last server's error that
 * was an answer or a refusal is returned (it says more than silence);
 * -CUB_ETIMEDOUT only when every one was silent.
 *
 * ICMP errors (RFC 1122 4.1.3.3: UDP passes them up): the query's
 * endpoint is connected to the server (cub_udp_connect), the way udp.c
 * already hands a connected endpoint the errors about its datagrams,
 * so a port unreachable (-CUB_ECONNREFUSED), host or net unreachable or
 * time exceeded about the query ends that server's share at once (as
 * glibc's connected socket gets ECONNREFUSED and moves on; musl's
 * unconnected one waits). Connecting needs no change to udp.c's
 * matching (quoted addresses and ports: the server's address and port,
 * our address and port); the one addition there is the quote check
 * (cubi_udp_quote_set): when the error quotes the payload's first two
 * bytes they must be the query's ID, so an error about an earlier
 * lookup's query from the same port, or one forged by someone who
 * guessed the port, is ignored as a reply with a wrong ID is. A
 * "fragmentation needed" about a query this small (sent with DF, as
 * ip4.c sends every datagram that fits a frame, but far below any
 * real path MTU) cannot be acted on: it counts as the server
 * unreachable.
 *
 * Rotation (resolv.conf's "options rotate"; cub_dns_params.rotate of
 * the interface, off by default): successive lookups through an
 * interface start at successive servers of their list (nif->dns_next,
 * under nif->lock, taken once per lookup that asks: cache hits and
 * coalesced waiters take no turn), then go on in the list's order,
 * wrapping. The list itself is the caller's, unchanged: the cache keys
 * it as given, so rotation never splits an answer across keys.
 *
 * A truncated UDP answer is never used, even with addresses (it may
 * lack some): TCP's answer, or TCP's error, is the lookup's.
 *
 * Nothing is allocated but the UDP endpoint's receive ring
 * (cub_udp_open) and, for a TCP fallback, the connection's (cub_tcp_*);
 * the query lives on the caller's stack (dns_impl.h, about 5.2 KiB).
 * No lock for the query: it is its lookup's own; nif->lock guards the
 * interface's DNS params and rotation counter.
 */
#include <cubrt/arch.h>
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

_Static_assert(CUB_DHCP_DNS_MAX == CUB_DNS_SERVERS_MAX,
	       "a lease's DNS servers are one lookup's list");

/* cubi_udp_query's send: the query (again). */
static int send_query(struct cubi_udp_query *uq)
{
	struct cubi_dns_query *q = (struct cubi_dns_query *)uq;
	int rc = cub_udp_sendto(&uq->u, uq->server, uq->port, q->out, q->out_len);

	if (rc < 0)
		return rc;
	q->res->queries++;
	return 0;
}

/* cubi_udp_query's judge: the verdict on the UDP reply. */
static int judge_reply(struct cubi_udp_query *uq, size_t len)
{
	return cubi_dns_judge((struct cubi_dns_query *)uq, len, false);
}

/* Contexts: any. */
bool cubi_dns_literal(const char *s, cub_ip4_t *a)
{
	unsigned part = 0, parts = 0, digits = 0;

	for (*a = 0;; s++) {
		if (*s >= '0' && *s <= '9' && digits < 3) {
			part = part * 10 + (unsigned)(*s - '0');
			digits++;
		} else if ((*s == '.' || !*s) && digits && part < 256 && parts < 4) {
			*a = *a << 8 | part;
			parts++;
			if (!*s)
				return parts == 4;
			part = digits = 0;
		} else {
			return false;
		}
	}
}

/* Contexts: task. */
int cubi_dns_resolve(struct cubi_dns_query *q, struct cub_netif *nif, cub_ip4_t server,
		     uint16_t port, uint64_t deadline)
{
	uint64_t r = 0;
	int rc;

	q->uq = (struct cubi_udp_query){ .server = server, .port = port,
					 .retry_ns = CUB_DNS_RETRY_NS, .send = send_query,
					 .judge = judge_reply, .in = q->in,
					 .in_cap = CUBI_DNS_UDP_MAX };
	if (!cub_arch_random(&r))
		r = cub_time_now() * 0x9e3779b97f4a7c15ull;
	q->id = (uint16_t)(r >> 24);
	cubi_dns_build(q);
	if ((rc = cubi_udp_query_open(&q->uq, nif)))
		return rc;
	if ((rc = cub_udp_connect(&q->uq.u, server, port)) == 0)
		rc = cubi_udp_quote_set(&q->uq.u, q->out, 2);	/* the ID */
	if (rc == 0)
		rc = cubi_udp_query_run(&q->uq, deadline);
	q->res->ignored += q->uq.ignored;
	cub_udp_close(&q->uq.u);
	if (rc == -CUB_EMSGSIZE)
		rc = -CUB_EHOSTUNREACH;	/* "fragmentation needed" about a
					 * query that cannot get smaller:
					 * no way to this server */
	if (rc != CUBI_DNS_TRUNCATED)
		return rc;
	q->res->count = 0;		/* a truncated answer is not used */
	q->res->ttl_s = 0;
	q->data_len = 0;
	return cubi_dns_tcp(q, nif, deadline);
}

/* Contexts: any. */
int cubi_dns_servers_check(const cub_ip4_t *servers, unsigned n)
{
	if (!servers || n == 0 || n > CUB_DNS_SERVERS_MAX)
		return -CUB_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!servers[i])
			return -CUB_EINVAL;
	return 0;
}

/* Does a server's rc pass the question to the next server? Silence, a
 * failure code (SERVFAIL -CUB_EAGAIN; REFUSED, FORMERR, NOTIMP, a TCP
 * connection closed early -CUB_EIO), no way to the server or its port. */
static bool next_server(int rc)
{
	switch (rc) {
	case -CUB_ETIMEDOUT:
	case -CUB_EAGAIN:
	case -CUB_EIO:
	case -CUB_ECONNREFUSED:
	case -CUB_ECONNRESET:
	case -CUB_EHOSTUNREACH:
	case -CUB_ENETUNREACH:
		return true;
	default:
		return false;
	}
}

/* The index of the server this lookup of n asks first: 0, or with
 * rotation on, nif's counter modulo n (which moves on). Takes
 * nif->lock. */
static unsigned first_server(struct cub_netif *nif, unsigned n)
{
	unsigned first = 0;

	cub_mutex_lock(&nif->lock);
	if (nif->dns_params.rotate)
		first = nif->dns_next++ % n;
	cub_mutex_unlock(&nif->lock);
	return first;
}

/* Contexts: task. Locks: takes nif->lock (first_server, then the
 * exchange's calls). */
int cubi_dns_ask(struct cubi_dns_query *q, struct cub_netif *nif, const cub_ip4_t *servers,
		 unsigned n, uint16_t port, uint64_t deadline)
{
	unsigned first = first_server(nif, n);
	int rc, err = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t now = cub_time_now(), until = deadline;
		cub_ip4_t server = servers[(first + i) % n];

		if (i && now >= deadline)
			break;		/* the first is always asked once */
		if (deadline != UINT64_MAX && now < deadline)
			until = now + (deadline - now) / (n - i);
		q->res->server = server;
		q->res->tcp = false;
		rc = cubi_dns_resolve(q, nif, server, port, until);
		if (!next_server(rc))
			return rc;
		if (rc != -CUB_ETIMEDOUT)
			err = rc;
	}
	return err ? err : -CUB_ETIMEDOUT;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_dns_set_params(struct cub_netif *nif, const struct cub_dns_params *p)
{
	static const struct cub_dns_params defaults;

	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	nif->dns_params = p ? *p : defaults;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_dns_get_params(struct cub_netif *nif, struct cub_dns_params *p)
{
	if (!nif || !p)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	*p = nif->dns_params;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. */
int cub_dns_lookup(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   const char *name, uint64_t timeout_ns, struct cub_dns_result *res)
{
	return cub_dns_lookup_servers(nif, &server, 1, port, name, timeout_ns, res);
}

/* Contexts: task. Locks: as cubi_dns_ask, and c->lock (dns_cache.c). */
int cubi_dns_run(struct cub_dns_cache *c, struct cubi_dns_query *q, struct cub_netif *nif,
		 const cub_ip4_t *servers, unsigned n, uint16_t port, uint64_t timeout_ns)
{
	uint64_t deadline = cubi_deadline(cub_time_now(), timeout_ns);

	port = port ? port : CUB_DNS_PORT;
	if (c)
		return cubi_dns_cache_ask(c, q, nif, servers, n, port, deadline);
	return cubi_dns_ask(q, nif, servers, n, port, deadline);
}

/* Contexts: task. */
int cub_dns_lookup_servers(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
			   uint16_t port, const char *name, uint64_t timeout_ns,
			   struct cub_dns_result *res)
{
	struct cubi_dns_query q = { .res = res, .qtype = CUBI_DNS_A };
	cub_ip4_t a;
	int rc;

	if (!nif || !name || !res || cubi_dns_servers_check(servers, n))
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	if (cubi_dns_literal(name, &a)) {
		res->addr[0] = a;
		res->count = 1;
		res->ttl_s = 0xffffffffu;
		cub_strlcpy(res->canonical, name, sizeof(res->canonical));
		return 0;
	}
	if ((rc = cubi_dns_name(&q, name)))
		return rc;
	return cubi_dns_run(NULL, &q, nif, servers, n, port, timeout_ns);
}
