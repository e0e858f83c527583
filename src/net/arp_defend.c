/*
 * arp_defend.c - what RFC 5227 asks of a host after its address checked
 * out: announce it (2.3) and defend it (2.4, option (b)). Only for an
 * address a DHCP lease configured (dhcp.c calls cubi_arp_announce right
 * after cub_netif_configure); an address set by hand is neither
 * announced nor defended.
 *
 * Announcements: ARP requests with our address as sender and target,
 * target hardware 0, broadcast. The first goes out from the caller (the
 * DHCP client, which does not wait), the rest from the "arp announce"
 * coroutine: spawned on demand and detached, it sleeps on
 * nif->arp_timer_cond until the next is due and ends when none is left
 * (the pattern of tcp_timer.c, whose coroutine only lives while TCP
 * blocks do, so it cannot carry these).
 *
 * Defence: an ARP packet whose sender is our address and whose sender
 * MAC is not ours (our own frames echoed back are dropped before, as
 * malformed, in arp.c) is a conflict. The first is recorded and
 * answered with one announcement; a later one within defend_ns of the
 * last recorded one loses: the interface is unconfigured (address 0, as
 * after a lease's end), the conflict counted for the rate limit of new
 * addresses, and a DHCP keeper on it is woken to decline the address
 * and lease anew.
 * A conflict later than that is recorded and defended again. Another
 * host's probe (sender 0.0.0.0) is not a conflict once we hold the
 * address: arp.c answers it, which is the prober's conflict.
 *
 * Invariants (all under nif->lock): arp_defend_ip is 0 or nif->addr
 * (cubi_netif_set clears it through cubi_arp_defend_stop when the
 * address changes); arp_announce_left is 0 while arp_defend_ip is 0;
 * arp_timer_on is true exactly while the coroutine runs, and it ends at
 * its next wake once arp_announce_left is 0 (a stop broadcasts
 * arp_timer_cond). The interface storage must outlive the coroutine:
 * unconfigure it and let the coroutine run before reusing it.
 */
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

#define ARP_LEN 28

/* Sends one announcement of nif's defended address. */
static void announce(struct cub_netif *nif)
{
	static const uint8_t zero[6];
	uint8_t f[CUB_ETH_HLEN + ARP_LEN];
	uint8_t *a = f + CUB_ETH_HLEN;
	cub_ip4_t ip = nif->arp_defend_ip;

	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_TYPE_IP4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);		/* a request (RFC 5227 2.3) */
	cub_memcpy(a + 8, nif->mac, 6);
	put32(a + 14, ip);
	cub_memcpy(a + 18, zero, 6);
	put32(a + 24, ip);
	nif->st.arp_announces_tx++;
	(void)cubi_eth_output(nif, f, sizeof(f), cubi_eth_bcast, ETH_TYPE_ARP);
}

/* The coroutine: the announcements after the first. Contexts: task.
 * Locks: takes nif->lock (released while it waits). */
static void *announce_main(void *arg)
{
	struct cub_netif *nif = arg;

	cub_mutex_lock(&nif->lock);
	while (nif->arp_announce_left) {
		uint64_t now = cub_time_now();

		if (now < nif->arp_announce_at) {
			cub_cond_timedwait(&nif->arp_timer_cond, &nif->lock,
					   nif->arp_announce_at);
			continue;
		}
		announce(nif);
		nif->arp_announce_left--;
		/* From after the send: the gap holds between the frames. */
		nif->arp_announce_at = cubi_deadline(cub_time_now(), nif->arp_announce_gap);
	}
	nif->arp_timer_on = false;
	cub_mutex_unlock(&nif->lock);
	return NULL;
}

/* Contexts: task. Locks: takes nif->lock. */
int cubi_arp_announce(struct cub_netif *nif, cub_ip4_t addr, unsigned num,
		      uint64_t interval_ns, uint64_t defend_ns)
{
	static const struct cub_coro_attr attr = { .name = "arp announce" };
	int r = 0;

	cub_mutex_lock(&nif->lock);
	if (!addr || nif->addr != addr)
		goto out;		/* changed meanwhile: not ours to defend */
	cubi_arp_defend_stop(nif);
	nif->arp_defend_ip = addr;
	nif->arp_defend_ns = defend_ns;
	if (num)
		announce(nif);
	nif->arp_announce_left = num ? num - 1 : 0;
	nif->arp_announce_gap = interval_ns;
	nif->arp_announce_at = cubi_deadline(cub_time_now(), interval_ns);
	if (nif->arp_announce_left && !nif->arp_timer_on) {
		r = cub_coro_spawn(NULL, announce_main, nif, &attr);
		if (r < 0)
			nif->arp_announce_left = 0;
		else
			nif->arp_timer_on = true;
	}
	cub_cond_broadcast(&nif->arp_timer_cond);	/* a new due time */
out:
	cub_mutex_unlock(&nif->lock);
	return r < 0 ? r : 0;
}

/* Contexts: task, nif->lock held. */
void cubi_arp_defend_stop(struct cub_netif *nif)
{
	nif->arp_defend_ip = 0;
	nif->arp_conflict_seen = false;
	nif->arp_announce_left = 0;
	cub_cond_broadcast(&nif->arp_timer_cond);
}

/* The address is lost: unconfigured, counted for RFC 5227's rate limit
 * (dhcp_check.c), and a keeper on the interface told through its
 * endpoint (its wait ends with -CUB_EADDRNOTAVAIL; it DECLINEs the
 * address to its server before it leases anew). */
static void lose(struct cub_netif *nif)
{
	nif->st.arp_conflicts_lost++;
	cubi_dhcp_conflict_locked(nif);
	cubi_netif_set(nif, 0, 0, 0);
	if (nif->dhcp_keeper_u)
		cubi_udp_fail(nif->dhcp_keeper_u, -CUB_EADDRNOTAVAIL);
}

/* Contexts: task, nif->lock held. */
void cubi_arp_defend_check(struct cub_netif *nif, cub_ip4_t spa)
{
	uint64_t now;

	if (!nif->arp_defend_ip || spa != nif->arp_defend_ip)
		return;
	now = cub_time_now();
	if (nif->arp_conflict_seen && now - nif->arp_conflict_at < nif->arp_defend_ns) {
		lose(nif);
		return;
	}
	nif->arp_conflict_seen = true;
	nif->arp_conflict_at = now;
	nif->st.arp_conflicts_defended++;
	announce(nif);
}
