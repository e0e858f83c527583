/*
 * netif.c - interfaces: initialisation, address configuration, counters
 * and the routing decision (on-link, gateway or broadcast).
 *
 * Invariants: addr == 0 (unconfigured) or addr is a unicast address with
 * mask a contiguous prefix of 1..32 bits; gateway is 0 or on-link and
 * not addr. All fields are protected by nif->lock (see cubrt/net.h).
 */
#include <cubrt/string.h>

#include "net_impl.h"

/* Contexts: any (nif not in use). */
int cub_netif_init(struct cub_netif *nif, const char *name,
		   const uint8_t mac[6], const struct cub_netif_ops *ops,
		   void *driver)
{
	static const uint8_t zero[6];

	if (!nif || !name || !mac || !ops || !ops->send)
		return -CUB_EINVAL;
	if ((mac[0] & 1) || !cub_memcmp(mac, zero, 6))
		return -CUB_EINVAL;	/* group address or 00:00:00:00:00:00 */
	cub_memset(nif, 0, sizeof(*nif));
	cub_mutex_init(&nif->lock);
	cub_strlcpy(nif->name, name, sizeof(nif->name));
	cub_memcpy(nif->mac, mac, 6);
	nif->ops = ops;
	nif->driver = driver;
	/* Start the ephemeral ports and identifiers somewhere that differs
	 * between interfaces (their MACs differ), as RFC 6056 suggests. */
	nif->next_port = (uint16_t)(CUB_UDP_EPHEMERAL_MIN +
				    (mac[4] << 8 | mac[5]) % 16384);
	nif->ping_id = (uint16_t)(mac[5] << 8 | mac[4]);
	nif->arp_ttl_ns = CUB_ARP_TTL_NS;
	nif->arp_resolve_ns = CUB_ARP_RESOLVE_NS;
	cub_cond_init(&nif->arp_cond);
	cub_list_init(&nif->pings);
	cub_cond_init(&nif->ping_cond);
	cub_list_init(&nif->udps);
	cub_list_init(&nif->tcps);
	cub_cond_init(&nif->tcp_timer_cond);
	cub_cond_init(&nif->arp_timer_cond);
	cubi_tcp_params_default(nif);
	cubi_dhcp_params_default(nif);
	return 0;
}

/* Contexts: any. */
void *cub_netif_driver(const struct cub_netif *nif)
{
	return nif ? nif->driver : NULL;
}

static bool config_ok(cub_ip4_t addr, unsigned prefix_len, cub_ip4_t gw)
{
	cub_ip4_t mask;

	if (addr == 0)
		return true;
	if (prefix_len < 1 || prefix_len > 32)
		return false;
	if (ip4_is_multicast(addr) || addr == CUB_IP4_BROADCAST ||
	    (addr >> 24) == 0)
		return false;
	mask = prefix_len == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix_len);
	if (gw && (gw == addr || ((gw ^ addr) & mask) ||
		   gw == (addr | ~mask) || ip4_is_multicast(gw)))
		return false;
	return true;
}

/* Contexts: task, nif->lock held. */
void cubi_netif_set(struct cub_netif *nif, cub_ip4_t addr, unsigned prefix_len,
		    cub_ip4_t gateway)
{
	if (addr != nif->addr)
		cubi_arp_defend_stop(nif);	/* not the announced address */
	nif->addr = addr;
	nif->mask = !addr ? 0 : prefix_len == 32 ? 0xffffffffu :
		    ~(0xffffffffu >> prefix_len);
	nif->gateway = addr ? gateway : 0;
	cubi_arp_flush(nif);
	cubi_pmtu_flush(nif);		/* other addresses, other paths */
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_netif_configure(struct cub_netif *nif, cub_ip4_t addr,
			unsigned prefix_len, cub_ip4_t gateway)
{
	if (!nif || !config_ok(addr, prefix_len, gateway))
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	cubi_netif_set(nif, addr, prefix_len, gateway);
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* The prefix length of a contiguous mask. */
static unsigned prefix_of(cub_ip4_t mask)
{
	unsigned n = 0;

	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	return n;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_netif_config(struct cub_netif *nif, cub_ip4_t *addr,
		     unsigned *prefix_len, cub_ip4_t *gateway)
{
	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	if (addr)
		*addr = nif->addr;
	if (prefix_len)
		*prefix_len = prefix_of(nif->mask);
	if (gateway)
		*gateway = nif->gateway;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_netif_stats(struct cub_netif *nif, struct cub_netif_stats *st)
{
	if (!nif || !st)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	*st = nif->st;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task, nif->lock held. */
int cubi_net_route(struct cub_netif *nif, cub_ip4_t dst, cub_ip4_t *hop)
{
	if (!nif->addr && nif->dhcp && dst == CUB_IP4_BROADCAST)
		return 1;		/* a DHCP client's, from 0.0.0.0 */
	if (!nif->addr || ip4_is_multicast(dst))
		return -CUB_ENETUNREACH;
	if (dst == CUB_IP4_BROADCAST)
		return 1;
	if (dst == nif->addr)
		return -CUB_EADDRNOTAVAIL;
	if (((dst ^ nif->addr) & nif->mask) == 0) {
		if (nif->mask != 0xffffffffu && dst == cubi_net_bcast(nif))
			return 1;
		*hop = dst;
		return 0;
	}
	if (!nif->gateway)
		return -CUB_ENETUNREACH;
	*hop = nif->gateway;
	return 0;
}

/* Contexts: task, nif->lock held (released while resolving). */
int cubi_net_nexthop_mac(struct cub_netif *nif, cub_ip4_t dst, uint8_t mac[6],
			 uint64_t timeout_ns, const uint32_t *cancel,
			 uint32_t cancel_ok)
{
	cub_ip4_t hop = 0;
	int r = cubi_net_route(nif, dst, &hop);

	if (r < 0)
		return r;
	if (r == 1) {
		cub_memcpy(mac, cubi_eth_bcast, 6);
		return 0;
	}
	return cubi_arp_resolve_locked(nif, hop, mac, timeout_ns, cancel,
				       cancel_ok);
}
