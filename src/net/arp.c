/*
 * arp.c - the Address Resolution Protocol (RFC 826) for IPv4 over
 * Ethernet: a small cache, requests with retries, replies for our
 * address.
 *
 * Invariants (all under nif->lock):
 *  - an entry is FREE, PENDING (a request is out; waiters > 0 coroutines
 *    are in cubi_arp_resolve_locked for it) or VALID (mac known until
 *    expires; an expired VALID entry counts as absent);
 *  - a PENDING entry is never evicted nor flushed while it has waiters,
 *    so a waiter's entry pointer stays its own; the last waiter to give
 *    up frees it;
 *  - only our own requests (PENDING) and requests for our address
 *    (RFC 826's merge: the asker will talk to us) create entries;
 *    gratuitous or unsolicited packets update existing entries only, so
 *    a stranger cannot fill the cache;
 *  - arp_cond is broadcast whenever an entry becomes VALID or is freed,
 *    and when a probe finds a conflict;
 *  - at most one conflict check (cubi_arp_probe: its probes and the
 *    waits between and after them) runs per interface: arp_probe_ip is
 *    its address while it runs, 0 otherwise; arp_probe_conflict is only
 *    meaningful while it runs;
 *  - every well-formed packet (so never our own, echoed back) is shown
 *    to the defence of a leased address (arp_defend.c) before it is
 *    acted on: a conflict may unconfigure the interface first.
 */
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

enum { CUBI_ARP_FREE, CUBI_ARP_PENDING, CUBI_ARP_VALID };

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
/* Offsets in the ARP packet (after the Ethernet header). */
#define ARP_OFF_OP 6
#define ARP_OFF_SHA 8
#define ARP_OFF_SPA 14
#define ARP_OFF_THA 18
#define ARP_OFF_TPA 24

static bool entry_live(const struct cubi_arp_entry *e, uint64_t now)
{
	return e->state == CUBI_ARP_PENDING ||
	       (e->state == CUBI_ARP_VALID && e->expires > now);
}

static struct cubi_arp_entry *arp_find(struct cub_netif *nif, cub_ip4_t ip,
				       uint64_t now)
{
	for (unsigned i = 0; i < CUB_ARP_CACHE_SIZE; i++)
		if (nif->arp[i].ip == ip && entry_live(&nif->arp[i], now))
			return &nif->arp[i];
	return NULL;
}

/* A free or expired entry, else the VALID one closest to expiry; NULL
 * when every entry is PENDING. */
static struct cubi_arp_entry *arp_alloc(struct cub_netif *nif, uint64_t now)
{
	struct cubi_arp_entry *best = NULL;

	for (unsigned i = 0; i < CUB_ARP_CACHE_SIZE; i++) {
		struct cubi_arp_entry *e = &nif->arp[i];

		if (!entry_live(e, now))
			return e;
		if (e->state == CUBI_ARP_VALID &&
		    (!best || e->expires < best->expires))
			best = e;
	}
	return best;
}

static void arp_fill(struct cub_netif *nif, struct cubi_arp_entry *e,
		     cub_ip4_t ip, const uint8_t *mac, uint64_t now)
{
	e->ip = ip;
	cub_memcpy(e->mac, mac, 6);
	e->state = CUBI_ARP_VALID;
	e->expires = cubi_deadline(now, nif->arp_ttl_ns);
	nif->st.arp_updates++;
	cub_cond_broadcast(&nif->arp_cond);
}

/* Sends an ARP packet: op, sender protocol address spa, target hardware
 * and protocol address; to eth_dst. */
static int arp_send(struct cub_netif *nif, uint16_t op, cub_ip4_t spa,
		    const uint8_t tha[6], cub_ip4_t tpa, const uint8_t eth_dst[6])
{
	uint8_t f[CUB_ETH_HLEN + ARP_LEN];
	uint8_t *a = f + CUB_ETH_HLEN;

	put16(a, 1);			/* Ethernet */
	put16(a + 2, ETH_TYPE_IP4);
	a[4] = 6;
	a[5] = 4;
	put16(a + ARP_OFF_OP, op);
	cub_memcpy(a + ARP_OFF_SHA, nif->mac, 6);
	put32(a + ARP_OFF_SPA, spa);
	cub_memcpy(a + ARP_OFF_THA, tha, 6);
	put32(a + ARP_OFF_TPA, tpa);
	return cubi_eth_output(nif, f, sizeof(f), eth_dst, ETH_TYPE_ARP);
}

static bool arp_malformed(const struct cub_netif *nif, const uint8_t *a,
			  size_t len)
{
	uint16_t op;

	if (len < ARP_LEN || get16(a) != 1 || get16(a + 2) != ETH_TYPE_IP4 ||
	    a[4] != 6 || a[5] != 4)
		return true;
	op = get16(a + ARP_OFF_OP);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return true;
	/* A group or zero sender, or our own frame echoed back. */
	return (a[ARP_OFF_SHA] & 1) ||
	       !cub_memcmp(a + ARP_OFF_SHA, nif->mac, 6) ||
	       !(a[ARP_OFF_SHA] | a[ARP_OFF_SHA + 1] | a[ARP_OFF_SHA + 2] |
		 a[ARP_OFF_SHA + 3] | a[ARP_OFF_SHA + 4] | a[ARP_OFF_SHA + 5]);
}

/* A probe's conflict (RFC 5227 2.1.1): any ARP packet whose sender is
 * the probed address (its owner answering, or announcing), or another
 * host's probe for it (sender 0.0.0.0; our own echoed back is dropped as
 * malformed before, by its sender MAC). */
static void probe_check(struct cub_netif *nif, uint16_t op, cub_ip4_t spa,
			cub_ip4_t tpa)
{
	cub_ip4_t ip = nif->arp_probe_ip;

	if (!ip || !(spa == ip || (op == ARP_OP_REQUEST && !spa && tpa == ip)))
		return;
	nif->arp_probe_conflict = true;
	cub_cond_broadcast(&nif->arp_cond);
}

/* Contexts: task, nif->lock held. */
void cubi_arp_input(struct cub_netif *nif, const uint8_t *frame, size_t len)
{
	const uint8_t *a = frame + CUB_ETH_HLEN;
	const uint8_t *sha = a + ARP_OFF_SHA;
	struct cubi_arp_entry *e = NULL;
	uint64_t now = cub_time_now();
	cub_ip4_t spa, tpa;
	bool for_us;

	nif->st.arp_rx++;
	if (arp_malformed(nif, a, len - CUB_ETH_HLEN)) {
		nif->st.arp_bad++;
		return;
	}
	spa = get32(a + ARP_OFF_SPA);
	tpa = get32(a + ARP_OFF_TPA);
	probe_check(nif, get16(a + ARP_OFF_OP), spa, tpa);
	cubi_arp_defend_check(nif, spa);	/* RFC 5227 2.4 (arp_defend.c) */
	/* Update what we know of the sender, never for an address that
	 * cannot be a neighbour's (0 is a probe, ours is a conflict). */
	bool sender_ok = spa && spa != nif->addr && spa != CUB_IP4_BROADCAST &&
			 !ip4_is_multicast(spa) && nif->addr;
	if (sender_ok) {
		e = arp_find(nif, spa, now);
		if (e)
			arp_fill(nif, e, spa, sha, now);
	}
	if (get16(a + ARP_OFF_OP) == ARP_OP_REPLY) {
		nif->st.arp_replies++;
		return;
	}
	for_us = nif->addr && tpa == nif->addr;
	if (!for_us) {
		nif->st.arp_other++;
		return;
	}
	nif->st.arp_requests++;
	if (sender_ok && !e && ((spa ^ nif->addr) & nif->mask) == 0) {
		e = arp_alloc(nif, now);
		if (e)
			arp_fill(nif, e, spa, sha, now);
	}
	arp_send(nif, ARP_OP_REPLY, nif->addr, sha, spa, sha);
}

/* Contexts: task, nif->lock held. */
void cubi_arp_flush(struct cub_netif *nif)
{
	for (unsigned i = 0; i < CUB_ARP_CACHE_SIZE; i++)
		if (!nif->arp[i].waiters)
			nif->arp[i].state = CUBI_ARP_FREE;
	cub_cond_broadcast(&nif->arp_cond);
}

static bool cancelled(const uint32_t *cancel, uint32_t ok)
{
	return cancel && *cancel != ok;
}

/* The wait loop of a resolution: e is PENDING for ip with us among its
 * waiters. Returns 0 (mac filled), -CUB_EHOSTUNREACH or -CUB_EBADF. */
static int arp_wait(struct cub_netif *nif, struct cubi_arp_entry *e,
		    cub_ip4_t ip, uint8_t mac[6], uint64_t timeout_ns,
		    const uint32_t *cancel, uint32_t cancel_ok)
{
	static const uint8_t zero[6];
	uint64_t now = cub_time_now();
	uint64_t deadline = cubi_deadline(now, timeout_ns);
	uint64_t interval = CUB_MIN(CUB_ARP_RETRY_NS, timeout_ns / CUB_ARP_TRIES);
	uint64_t next = now;
	unsigned tries = 0;

	for (;;) {
		if (cancelled(cancel, cancel_ok))
			return -CUB_EBADF;
		if (e->state == CUBI_ARP_VALID && e->ip == ip) {
			cub_memcpy(mac, e->mac, 6);
			return 0;
		}
		now = cub_time_now();
		/* The first request goes out even with no time to wait. */
		if (tries && (now >= deadline ||
			      (tries == CUB_ARP_TRIES && now >= next)))
			return -CUB_EHOSTUNREACH;
		if (tries < CUB_ARP_TRIES && now >= next) {
			arp_send(nif, ARP_OP_REQUEST, nif->addr, zero, ip,
				 cubi_eth_bcast);
			nif->st.arp_requests_tx++;
			e->sent = now;
			tries++;
			next = cubi_deadline(now, interval);
			if (timeout_ns == 0)
				return -CUB_EHOSTUNREACH;	/* asked, no wait */
		}
		cub_cond_timedwait(&nif->arp_cond, &nif->lock,
				   CUB_MIN(next, deadline));
	}
}

/* Contexts: task, nif->lock held (released while waiting). */
int cubi_arp_resolve_locked(struct cub_netif *nif, cub_ip4_t ip,
			    uint8_t mac[6], uint64_t timeout_ns,
			    const uint32_t *cancel, uint32_t cancel_ok)
{
	struct cubi_arp_entry *e;
	uint64_t now = cub_time_now();
	int r;

	e = arp_find(nif, ip, now);
	if (e && e->state == CUBI_ARP_VALID) {
		cub_memcpy(mac, e->mac, 6);
		return 0;
	}
	if (!e) {
		e = arp_alloc(nif, now);
		if (!e)
			return -CUB_EAGAIN;
		e->ip = ip;
		e->state = CUBI_ARP_PENDING;
		e->sent = 0;
	}
	e->waiters++;
	r = arp_wait(nif, e, ip, mac, timeout_ns, cancel, cancel_ok);
	e->waiters--;
	if (r < 0 && !e->waiters && e->state == CUBI_ARP_PENDING) {
		e->state = CUBI_ARP_FREE;
		nif->st.arp_failures++;
	}
	return r;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_arp_resolve(struct cub_netif *nif, cub_ip4_t ip, uint8_t mac[6],
		    uint64_t timeout_ns)
{
	int r;

	if (!nif || !mac || !ip || ip == CUB_IP4_BROADCAST ||
	    ip4_is_multicast(ip))
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	if (!nif->addr || ((ip ^ nif->addr) & nif->mask) ||
	    ip == cubi_net_bcast(nif))
		r = -CUB_ENETUNREACH;
	else if (ip == nif->addr)
		r = (cub_memcpy(mac, nif->mac, 6), 0);
	else
		r = cubi_arp_resolve_locked(nif, ip, mac, timeout_ns, NULL, 0);
	cub_mutex_unlock(&nif->lock);
	return r;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_arp_lookup(struct cub_netif *nif, cub_ip4_t ip, uint8_t mac[6])
{
	struct cubi_arp_entry *e;
	int r = -CUB_ENOENT;

	if (!nif || !mac)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	e = arp_find(nif, ip, cub_time_now());
	if (e && e->state == CUBI_ARP_VALID) {
		cub_memcpy(mac, e->mac, 6);
		r = 0;
	}
	cub_mutex_unlock(&nif->lock);
	return r;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_arp_set_timeouts(struct cub_netif *nif, uint64_t ttl_ns,
			 uint64_t resolve_ns)
{
	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	if (ttl_ns)
		nif->arp_ttl_ns = ttl_ns;
	if (resolve_ns)
		nif->arp_resolve_ns = resolve_ns;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting).
 * The window is watched from the call on: a conflict before the first
 * probe counts too (RFC 5227 2.1.1, "from the beginning of the probing
 * process"). Each step's time runs from the end of the one before, so
 * probes are never closer than the plan's gaps, whatever the delays. */
int cubi_arp_probe(struct cub_netif *nif, cub_ip4_t ip,
		   const struct cubi_arp_probe_plan *plan, const uint32_t *cancel,
		   unsigned *sent)
{
	static const uint8_t zero[6];
	unsigned i = 0;
	uint32_t ok;
	uint64_t next;
	int r = 0;

	cub_mutex_lock(&nif->lock);
	ok = cancel ? *cancel : 0;
	if (cancel && !ok) {
		r = -CUB_EBADF;
		goto out;
	}
	if (nif->arp_probe_ip) {
		r = -CUB_EBUSY;
		goto out;
	}
	nif->arp_probe_ip = ip;
	nif->arp_probe_conflict = false;
	next = cubi_deadline(cub_time_now(), plan->first_ns);
	while (!r && !nif->arp_probe_conflict && !cancelled(cancel, ok)) {
		if (cub_time_now() < next) {
			cub_cond_timedwait(&nif->arp_cond, &nif->lock, next);
			continue;
		}
		if (i == plan->num)
			break;		/* the window is over */
		r = arp_send(nif, ARP_OP_REQUEST, 0, zero, ip, cubi_eth_bcast);
		if (r)
			break;
		nif->st.arp_probes_tx++;
		(*sent)++;
		i++;
		next = cubi_deadline(cub_time_now(),
				     i < plan->num ? plan->gap_ns[i - 1] : plan->last_ns);
	}
	if (!r)
		r = cancelled(cancel, ok) ? -CUB_EBADF : nif->arp_probe_conflict;
	nif->arp_probe_ip = 0;
out:
	cub_mutex_unlock(&nif->lock);
	return r;
}
