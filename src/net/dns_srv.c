/*
 * dns_srv.c - service records (cub_dns_lookup_srv,
 * cub_dns_cache_lookup_srv; cubrt/dns.h, RFC 2782): the SRV records of
 * "_service._proto.domain", asked as an A question is (dns_query.c:
 * failover, TCP fallback for a truncated answer, ICMP errors;
 * dns_cache.c: one slot per (servers, port, name, SRV)), then put in
 * the order a client is to try them.
 *
 * The order (RFC 2782, "Usage rules"): by priority, lowest first; within
 * one priority, the records with weight 0 first, then repeatedly: the
 * weights of those not yet placed summed, a random number drawn
 * uniformly in 0..sum, the first record whose running sum reaches it
 * placed next. So of those left, the first comes next with probability
 * (w + 1) / (sum + 1) and any other of weight w with w / (sum + 1): a
 * weight-0 record only as the first, when 0 is drawn. The draw is made again for every lookup, a
 * cache hit included: the cache keeps the records in the answer's order.
 *
 * Randomness: one 64-bit seed per lookup from cub_arch_random (x86:
 * RDRAND; host: getrandom), or, on a machine without either, the clock
 * mixed with the caller's array address; each draw is the next number
 * of xorshift64* from it (splitmix64-mixed), reduced modulo sum + 1 (the bias, under
 * sum / 2^64, is nothing). This is load spreading, not security.
 *
 * A target of "." says the service is decidedly not available there:
 * when every record's target is ".", -CUB_EADDRNOTAVAIL; a "." among
 * other targets is left out (RFC 2782 means it alone).
 *
 * Nothing is allocated; no lock of its own (cubi_dns_run takes the
 * cache's and the interface's).
 */
#include <cubrt/arch.h>
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

/* Is label [p, p + len) "_x..." (an underscore and at least one more)? */
static bool under(const char *p, size_t len)
{
	return len >= 2 && p[0] == '_';
}

/* Is q->name (checked by cubi_dns_name) "_service._proto.domain"? */
static bool srv_name(const char *name)
{
	const char *d1 = cub_strchr(name, '.'), *d2;

	if (!d1 || !under(name, (size_t)(d1 - name)))
		return false;
	d2 = cub_strchr(d1 + 1, '.');
	return d2 && under(d1 + 1, (size_t)(d2 - d1 - 1)) && d2[1];
}

/* splitmix64's finalizer: seeds near each other (1, 2, ...) made far
 * apart, so that xorshift64*'s first numbers from them are not alike;
 * never 0 out for the states used (0 is replaced). */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ z >> 27) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 0x9e3779b97f4a7c15ull;
}

/* xorshift64*: the next number from *s (never 0). */
static uint64_t next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Moves s[from] to s[to] (to <= from), the ones between one up. */
static void lift(struct cub_dns_srv *s, unsigned from, unsigned to)
{
	struct cub_dns_srv t;

	if (from == to)
		return;
	t = s[from];
	cub_memmove(s + to + 1, s + to, (from - to) * sizeof(*s));
	s[to] = t;
}

/* RFC 2782's weighted order of the n records of one priority. */
static void weigh(struct cub_dns_srv *s, unsigned n, uint64_t *rng)
{
	unsigned zeros = 0;

	for (unsigned i = 0; i < n; i++)
		if (s[i].weight == 0)
			lift(s, i, zeros++);
	for (unsigned i = 0; i + 1 < n; i++) {
		uint32_t sum = 0, run = 0, pick;
		unsigned j;

		for (j = i; j < n; j++)
			sum += s[j].weight;
		pick = (uint32_t)(next(rng) % ((uint64_t)sum + 1));
		for (j = i; j < n - 1; j++) {
			run += s[j].weight;
			if (run >= pick)
				break;
		}
		lift(s, j, i);
	}
}

/* Contexts: any. The n records sorted by priority (stable), each
 * priority's in RFC 2782's weighted random order drawn from seed. */
void cubi_dns_srv_order(struct cub_dns_srv *s, unsigned n, uint64_t seed)
{
	uint64_t rng = mix(seed);

	for (unsigned i = 1; i < n; i++) {
		unsigned j = i;

		while (j > 0 && s[j - 1].priority > s[i].priority)
			j--;
		lift(s, i, j);
	}
	for (unsigned i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && s[j].priority == s[i].priority; j++)
			;
		weigh(s + i, j - i, &rng);
	}
}

/*
 * The records packed in q->data (dns.c) into srv: their number, the
 * "." ones left out; *roots counts those. Only the first cap are
 * written.
 */
static unsigned unpack(const struct cubi_dns_query *q, struct cub_dns_srv *srv, unsigned cap,
		       unsigned *roots)
{
	unsigned kept = 0;

	*roots = 0;
	for (size_t at = 0; at + CUBI_DNS_SRV_FIXED <= q->data_len;) {
		const uint8_t *p = q->data + at;
		size_t len = p[6];

		at += CUBI_DNS_SRV_FIXED + len;
		if (len == 0) {
			(*roots)++;
			continue;
		}
		if (kept < cap) {
			srv[kept].priority = get16(p);
			srv[kept].weight = get16(p + 2);
			srv[kept].port = get16(p + 4);
			cub_memcpy(srv[kept].target, p + CUBI_DNS_SRV_FIXED, len);
			srv[kept].target[len] = '\0';
		}
		kept++;
	}
	return kept;
}

/* Contexts: task. */
static int lookup_srv(struct cub_dns_cache *c, struct cub_netif *nif, const cub_ip4_t *servers,
		      unsigned n, uint16_t port, const char *name, uint64_t timeout_ns,
		      struct cub_dns_srv *srv, unsigned cap, struct cub_dns_result *res)
{
	struct cubi_dns_query q = { .res = res, .qtype = CUBI_DNS_SRV };
	unsigned kept, roots;
	uint64_t seed;
	int rc;

	if (!nif || !name || !srv || cap == 0 || !res || cubi_dns_servers_check(servers, n))
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	if (cubi_dns_name(&q, name) || !srv_name(q.name))
		return -CUB_EINVAL;
	if ((rc = cubi_dns_run(c, &q, nif, servers, n, port, timeout_ns)))
		return rc;
	kept = unpack(&q, srv, cap, &roots);
	res->count = kept;
	if (kept == 0)
		return roots ? -CUB_EADDRNOTAVAIL : -CUB_EIO;	/* EIO: cannot be */
	if (kept > cap)
		return -CUB_ENOSPC;
	if (!cub_arch_random(&seed))
		seed = cub_time_now() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)srv;
	cubi_dns_srv_order(srv, kept, seed);
	return (int)kept;
}

/* Contexts: task. */
int cub_dns_lookup_srv(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
		       uint16_t port, const char *name, uint64_t timeout_ns,
		       struct cub_dns_srv *srv, unsigned cap, struct cub_dns_result *res)
{
	return lookup_srv(NULL, nif, servers, n, port, name, timeout_ns, srv, cap, res);
}

/* Contexts: task. */
int cub_dns_cache_lookup_srv(struct cub_dns_cache *c, struct cub_netif *nif,
			     const cub_ip4_t *servers, unsigned n, uint16_t port,
			     const char *name, uint64_t timeout_ns, struct cub_dns_srv *srv,
			     unsigned cap, struct cub_dns_result *res)
{
	if (!c)
		return -CUB_EINVAL;
	return lookup_srv(c, nif, servers, n, port, name, timeout_ns, srv, cap, res);
}
