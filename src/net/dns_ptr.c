/*
 * dns_ptr.c - reverse lookups (cub_dns_reverse, cub_dns_cache_reverse;
 * cubrt/dns.h): an IPv4 address's name from its PTR record under
 * in-addr.arpa (RFC 1035 3.5), asked as an A question is (dns_query.c:
 * failover, TCP fallback, ICMP errors; dns_cache.c: one slot per
 * (servers, port, name, PTR)).
 *
 * The question's name is the address's four bytes in reverse order,
 * "d.c.b.a.in-addr.arpa". CNAMEs are followed as for A (dns.c), which
 * RFC 2317's classless delegation relies on (5.2.0.192.in-addr.arpa
 * CNAME 5.0-63.2.0.192.in-addr.arpa, the PTR there). dns.c takes the
 * first PTR record of the chain's end whose name is well formed and
 * plain (printable, no space, no dot inside a label, not the root);
 * the name is copied out here.
 *
 * Nothing is allocated; the query lives on the caller's stack (as a
 * forward lookup's, about 5.2 KiB). No lock of its own: the cache's and
 * the interface's are taken inside cubi_dns_run.
 */
#include <cubrt/dns.h>
#include <cubrt/fmt.h>
#include <cubrt/string.h>

#include "dns_impl.h"

/* Contexts: task. */
static int reverse(struct cub_dns_cache *c, struct cub_netif *nif, const cub_ip4_t *servers,
		   unsigned n, uint16_t port, cub_ip4_t addr, uint64_t timeout_ns, char *name,
		   size_t cap, struct cub_dns_result *res)
{
	struct cubi_dns_query q = { .res = res, .qtype = CUBI_DNS_PTR };
	char arpa[32];
	size_t len;
	int rc;

	if (!nif || !name || cap == 0 || !res || cubi_dns_servers_check(servers, n))
		return -CUB_EINVAL;
	name[0] = '\0';
	cub_memset(res, 0, sizeof(*res));
	cub_snprintf(arpa, sizeof(arpa), "%u.%u.%u.%u.in-addr.arpa", (unsigned)(addr & 0xff),
		     (unsigned)(addr >> 8 & 0xff), (unsigned)(addr >> 16 & 0xff),
		     (unsigned)(addr >> 24));
	if ((rc = cubi_dns_name(&q, arpa)))
		return rc;
	if ((rc = cubi_dns_run(c, &q, nif, servers, n, port, timeout_ns)))
		return rc;
	len = cub_strnlen((const char *)q.data, q.data_len);
	if (len == 0 || len == q.data_len)
		return -CUB_EIO;	/* cannot be: dns.c keeps a name */
	if (len >= cap)
		return -CUB_ENOSPC;
	cub_memcpy(name, q.data, len + 1);
	return 0;
}

/* Contexts: task. */
int cub_dns_reverse(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n, uint16_t port,
		    cub_ip4_t addr, uint64_t timeout_ns, char *name, size_t cap,
		    struct cub_dns_result *res)
{
	return reverse(NULL, nif, servers, n, port, addr, timeout_ns, name, cap, res);
}

/* Contexts: task. */
int cub_dns_cache_reverse(struct cub_dns_cache *c, struct cub_netif *nif,
			  const cub_ip4_t *servers, unsigned n, uint16_t port, cub_ip4_t addr,
			  uint64_t timeout_ns, char *name, size_t cap,
			  struct cub_dns_result *res)
{
	if (!c)
		return -CUB_EINVAL;
	return reverse(c, nif, servers, n, port, addr, timeout_ns, name, cap, res);
}
