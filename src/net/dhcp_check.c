/*
 * dhcp_check.c - what a DHCP client does besides asking: the conflict
 * check of an ACKed address (RFC 2131 3.1 step 5 and 4.4.1; RFC 5227
 * 2.1.1's probes and rate limit), the DECLINE of an address found in
 * use or lost, giving a lease back (RFC 2131 4.4.6), and the
 * interface's DHCP tunables (those of the announcements and defence
 * after configuration too: arp_defend.c does them).
 *
 * The check: probe_num ARP probes (sender 0.0.0.0, target the address),
 * the first after a random wait up to probe_wait_ns, the others a random
 * probe_min_ns..probe_max_ns apart, watched until announce_wait_ns after
 * the last for an ARP packet from that address or another host's probe
 * for it (arp.c). A conflict: a DECLINE naming the address and the
 * server, then decline_wait_ns before the caller starts over;
 * max_declines conflicts in one run give up. The defaults keep RFC
 * 5227's three probes in about 200 ms instead of its 4-7 s, which every
 * boot would wait (docs/net.md).
 *
 * The rate limit (RFC 5227 2.1.1): the interface counts its conflicts
 * (those found here and addresses lost, arp_defend.c); from
 * max_conflicts on, a check may begin no sooner than rate_limit_ns
 * after the one before (cubi_dhcp_rate_wait, before each DISCOVER). The
 * count starts over at a conflict that comes rate_limit_ns or more after
 * DHCP last configured the interface: the address held that long was a
 * success, and the conflicts before it are not "in a row".
 *
 * Locks: nif->dhcp_params, dhcp_conflicts, dhcp_probe_at, dhcp_bound_at
 * and the counters under nif->lock; the probe takes it itself.
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "dhcp_impl.h"

static const struct cub_dhcp_params defaults = {
	.probe_num = CUB_DHCP_PROBE_NUM,
	.probe_wait_ns = CUB_DHCP_PROBE_WAIT_NS,
	.probe_min_ns = CUB_DHCP_PROBE_MIN_NS,
	.probe_max_ns = CUB_DHCP_PROBE_MAX_NS,
	.announce_wait_ns = CUB_DHCP_ANNOUNCE_WAIT_NS,
	.decline_wait_ns = CUB_DHCP_DECLINE_WAIT_NS,
	.max_declines = CUB_DHCP_DECLINES,
	.max_conflicts = CUB_DHCP_MAX_CONFLICTS,
	.rate_limit_ns = CUB_DHCP_RATE_LIMIT_NS,
	.announce_num = CUB_DHCP_ANNOUNCE_NUM,
	.announce_interval_ns = CUB_DHCP_ANNOUNCE_INTERVAL_NS,
	.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_NS,
};

/* Contexts: any (nif->lock held, or nif not in use). */
void cubi_dhcp_params_default(struct cub_netif *nif)
{
	nif->dhcp_params = defaults;
}

/* Whether the probe timings of p are in bounds and consistent. */
static bool probe_ok(const struct cub_dhcp_params *p)
{
	const uint64_t max = CUB_DHCP_PROBE_TIME_MAX_NS;

	if (p->probe_num > CUB_DHCP_PROBE_NUM_MAX || p->probe_wait_ns > max ||
	    p->probe_min_ns > max || p->probe_max_ns > max || p->announce_wait_ns > max ||
	    p->probe_min_ns > p->probe_max_ns)
		return false;
	if (!p->probe_num)	/* no check: a time would mean nothing */
		return !(p->probe_wait_ns | p->probe_max_ns | p->announce_wait_ns);
	return p->announce_wait_ns != 0;	/* the last probe is heard out */
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_dhcp_set_params(struct cub_netif *nif, const struct cub_dhcp_params *p)
{
	if (!nif)
		return -CUB_EINVAL;
	if (!p)
		p = &defaults;
	if (!probe_ok(p) || p->decline_wait_ns > CUB_DHCP_DECLINE_WAIT_MAX_NS ||
	    p->max_declines < 1 || p->max_declines > CUB_DHCP_DECLINES_MAX ||
	    p->max_conflicts < 1 || p->max_conflicts > CUB_DHCP_MAX_CONFLICTS_MAX ||
	    p->rate_limit_ns > CUB_DHCP_RATE_LIMIT_MAX_NS ||
	    p->announce_num > CUB_DHCP_ANNOUNCE_MAX ||
	    p->announce_interval_ns > CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS ||
	    p->defend_interval_ns > CUB_DHCP_DEFEND_INTERVAL_MAX_NS)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	nif->dhcp_params = *p;
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_dhcp_get_params(struct cub_netif *nif, struct cub_dhcp_params *p)
{
	if (!nif || !p)
		return -CUB_EINVAL;
	cubi_dhcp_params_of(nif, p);
	return 0;
}

void cubi_dhcp_params_of(struct cub_netif *nif, struct cub_dhcp_params *p)
{
	cub_mutex_lock(&nif->lock);
	*p = nif->dhcp_params;
	cub_mutex_unlock(&nif->lock);
}

/* A uniformly random time in lo..hi (hi >= lo). Without a random source
 * the clock's low bits stand in: the spread is what matters, not that
 * it cannot be guessed. */
static uint64_t between(uint64_t lo, uint64_t hi)
{
	uint64_t r;

	if (hi == lo)
		return lo;
	if (!cub_arch_random(&r))
		r = cub_time_now() * 0x9e3779b97f4a7c15ull;
	return lo + r % (hi - lo + 1);
}

/* The probes' schedule of one check under p (p->probe_num > 0). */
static void plan_of(const struct cub_dhcp_params *p, struct cubi_arp_probe_plan *pl)
{
	pl->num = p->probe_num;
	pl->first_ns = between(0, p->probe_wait_ns);
	for (unsigned i = 0; i + 1 < p->probe_num; i++)
		pl->gap_ns[i] = between(p->probe_min_ns, p->probe_max_ns);
	pl->last_ns = p->announce_wait_ns;
}

/* Contexts: task, nif->lock held. */
void cubi_dhcp_conflict_locked(struct cub_netif *nif)
{
	uint64_t now = cub_time_now();

	if (nif->dhcp_bound_at && now - nif->dhcp_bound_at >= nif->dhcp_params.rate_limit_ns)
		nif->dhcp_conflicts = 0;	/* held long enough: a new row */
	nif->dhcp_bound_at = 0;
	if (nif->dhcp_conflicts < CUB_DHCP_MAX_CONFLICTS_MAX)
		nif->dhcp_conflicts++;	/* saturates where no limit reaches */
}

/* Contexts: task. Locks: takes nif->lock. */
void cubi_dhcp_bound(struct cub_netif *nif)
{
	cub_mutex_lock(&nif->lock);
	nif->dhcp_bound_at = CUB_MAX(cub_time_now(), 1);
	cub_mutex_unlock(&nif->lock);
}

/* Contexts: task. Locks: takes nif->lock. */
uint64_t cubi_dhcp_next_try(struct cub_netif *nif, const struct cub_dhcp_params *p)
{
	uint64_t at = 0;

	cub_mutex_lock(&nif->lock);
	if (p->rate_limit_ns && nif->dhcp_probe_at && nif->dhcp_conflicts >= p->max_conflicts)
		at = cubi_deadline(nif->dhcp_probe_at, p->rate_limit_ns);
	cub_mutex_unlock(&nif->lock);
	return at;
}

/* Contexts: task. Locks: takes nif->lock (not across the wait). */
int cubi_dhcp_rate_wait(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
			uint64_t deadline)
{
	uint64_t at = cubi_dhcp_next_try(c->nif, p);
	struct cubi_dhcp_reply r;
	int rc;

	if (at <= cub_time_now())
		return 0;
	if (at >= deadline)
		return -CUB_EADDRNOTAVAIL;
	c->rate_limited++;
	cub_mutex_lock(&c->nif->lock);
	c->nif->st.arp_rate_limited++;
	cub_mutex_unlock(&c->nif->lock);
	rc = cubi_dhcp_await(c, 0, at, &r);
	return rc == -CUB_ETIMEDOUT ? 0 : rc;
}

/* Starts a check: its time recorded for the rate limit. */
static void check_begins(struct cub_netif *nif)
{
	cub_mutex_lock(&nif->lock);
	nif->dhcp_probe_at = CUB_MAX(cub_time_now(), 1);
	cub_mutex_unlock(&nif->lock);
}

/* A check found its address in use: counted on the interface. */
static void check_conflict(struct cub_netif *nif)
{
	cub_mutex_lock(&nif->lock);
	nif->st.arp_probe_conflicts++;
	cubi_dhcp_conflict_locked(nif);
	cub_mutex_unlock(&nif->lock);
}

/* Contexts: task. Locks: takes nif->lock through the ARP and UDP calls.
 * The probe is cancelled with c->u: a keeper's stop closes it. The wait
 * here is decline_wait_ns only; the rate limit's rest is waited before
 * the next DISCOVER (cubi_dhcp_rate_wait), but a turn past the deadline
 * gives up now. */
int cubi_dhcp_check(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
		    const struct cubi_dhcp_reply *a, uint64_t deadline, unsigned *declined)
{
	struct cubi_arp_probe_plan plan;
	struct cubi_dhcp_reply r;
	uint64_t until;
	int rc;

	if (!p->probe_num)
		return 0;
	plan_of(p, &plan);
	check_begins(c->nif);
	rc = cubi_arp_probe(c->nif, a->yiaddr, &plan, &c->u->magic, &c->probes);
	if (rc <= 0)
		return rc;
	c->conflicts++;
	check_conflict(c->nif);
	rc = cubi_dhcp_send_decline(c, a->yiaddr, a->server);
	if (rc == -CUB_EBADF)
		return rc;
	c->declines += rc == 0;		/* a lost DECLINE: as if on the wire */
	until = cubi_deadline(cub_time_now(), p->decline_wait_ns);
	if (++*declined >= p->max_declines ||
	    CUB_MAX(until, cubi_dhcp_next_try(c->nif, p)) >= deadline)
		return -CUB_EADDRNOTAVAIL;
	rc = cubi_dhcp_await(c, 0, until, &r);	/* RFC 2131 3.1 step 5 */
	return rc == -CUB_ETIMEDOUT ? 1 : rc;
}

/* Contexts: task. Locks: takes nif->lock through the UDP calls. */
int cubi_dhcp_decline_lost(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
			   const struct cub_dhcp_lease *l)
{
	struct cubi_dhcp_reply r;
	int rc;

	cubi_dhcp_new_xid(c);
	cubi_dhcp_set_running(c->nif, true);	/* a broadcast from 0.0.0.0 */
	rc = cubi_dhcp_send_decline(c, l->addr, l->server);
	cubi_dhcp_set_running(c->nif, false);
	if (rc == -CUB_EBADF)
		return rc;
	c->declines += rc == 0;
	rc = cubi_dhcp_await(c, 0, cubi_deadline(cub_time_now(), p->decline_wait_ns), &r);
	return rc == -CUB_ETIMEDOUT ? 0 : rc;
}

/* Contexts: task. Locks: takes nif->lock through the UDP calls. */
int cub_dhcp_release(struct cub_netif *nif, const struct cub_dhcp_lease *lease)
{
	struct cub_udp u;
	struct cubi_dhcp_client c = { .nif = nif, .u = &u };
	cub_ip4_t addr = 0, srv;
	int rc;

	if (!nif || !lease || cub_netif_config(nif, &addr, NULL, NULL))
		return -CUB_EINVAL;
	srv = lease->server;
	if (!addr || addr != lease->addr || !srv || srv == addr || srv == CUB_IP4_BROADCAST ||
	    ip4_is_multicast(srv) || (srv >> 24) == 0)
		return -CUB_EINVAL;
	if ((rc = cub_udp_open(&u, nif, 68)))
		return rc;
	cubi_dhcp_new_xid(&c);
	rc = cubi_dhcp_send_release(&c, addr, srv);
	cub_udp_close(&u);
	(void)cub_netif_configure(nif, 0, 0, 0);
	return rc;
}
