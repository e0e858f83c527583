/*
 * pmtu_cache.c - the path MTU cache of an interface (RFC 1191 6.3):
 * the estimates that "fragmentation needed" taught TCP connections
 * (tcp_pmtu.c), by destination address, so that the next connection to
 * the same host starts from them instead of losing its first full-sized
 * segments again.
 *
 * Invariants (under nif->lock): an entry is free while mtu is 0; at most
 * one entry per destination; a used entry holds an estimate below
 * CUB_IP4_MTU (1500 is what no entry means) and the time it was last
 * lowered or confirmed. An entry older than its lifetime (pmtu_ttl_ns,
 * default CUB_PMTU_TTL_NS) is as good as free: looked up, it is freed
 * and the path is taken to be 1500 again (RFC 1191's way of noticing a
 * path that grew: the next too-big segment is reported again). A new
 * destination takes a free or expired entry, else the oldest.
 * Nothing here changes a live connection: each keeps its own estimate,
 * and looks here again when the entry that estimate came from would
 * expire (cubi_pmtu_find's *until, tcp_pmtu.c's raise): the cache is
 * what says whether the path is still taken to be small.
 */
#include <cubrt/time.h>

#include "net_impl.h"

static uint64_t ttl_of(const struct cub_netif *nif)
{
	return nif->pmtu_ttl_ns ? nif->pmtu_ttl_ns : CUB_PMTU_TTL_NS;
}

static bool live(const struct cub_netif *nif, const struct cubi_pmtu_entry *e,
		 uint64_t now)
{
	return e->mtu && now - e->at < ttl_of(nif);
}

/* Contexts: task, nif->lock held. */
uint16_t cubi_pmtu_find(struct cub_netif *nif, cub_ip4_t dst, bool *nodf,
			uint64_t *until)
{
	uint64_t now = cub_time_now();

	*nodf = false;
	*until = 0;
	for (unsigned i = 0; i < CUB_PMTU_CACHE_SIZE; i++) {
		struct cubi_pmtu_entry *e = &nif->pmtu[i];

		if (!e->mtu || e->dst != dst)
			continue;
		if (!live(nif, e, now)) {
			e->mtu = 0;		/* expired: 1500 again */
			break;
		}
		*nodf = e->nodf;
		*until = e->at + ttl_of(nif);
		return e->mtu;
	}
	return CUB_IP4_MTU;
}

/* Contexts: task, nif->lock held. */
void cubi_pmtu_note(struct cub_netif *nif, cub_ip4_t dst, uint16_t mtu,
		    bool nodf)
{
	struct cubi_pmtu_entry *e = NULL;
	uint64_t now = cub_time_now();

	for (unsigned i = 0; i < CUB_PMTU_CACHE_SIZE && !e; i++)
		if (nif->pmtu[i].mtu && nif->pmtu[i].dst == dst)
			e = &nif->pmtu[i];
	for (unsigned i = 0; i < CUB_PMTU_CACHE_SIZE && !e; i++)
		if (!live(nif, &nif->pmtu[i], now))
			e = &nif->pmtu[i];
	if (!e) {
		e = &nif->pmtu[0];
		for (unsigned i = 1; i < CUB_PMTU_CACHE_SIZE; i++)
			if (nif->pmtu[i].at < e->at)
				e = &nif->pmtu[i];
	}
	*e = (struct cubi_pmtu_entry){ .dst = dst, .mtu = mtu, .nodf = nodf,
				       .at = now };
}

/* Contexts: task, nif->lock held. */
void cubi_pmtu_flush(struct cub_netif *nif)
{
	for (unsigned i = 0; i < CUB_PMTU_CACHE_SIZE; i++)
		nif->pmtu[i].mtu = 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_pmtu_set_ttl(struct cub_netif *nif, uint64_t ttl_ns)
{
	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	nif->pmtu_ttl_ns = ttl_ns;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_pmtu_get(struct cub_netif *nif, cub_ip4_t dst, uint16_t *mtu)
{
	uint64_t until;
	bool nodf;

	if (!nif || !mtu)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	*mtu = cubi_pmtu_find(nif, dst, &nodf, &until);
	cub_mutex_unlock(&nif->lock);
	return 0;
}
