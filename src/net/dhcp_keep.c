/*
 * dhcp_keep.c - keeps a DHCP lease alive (RFC 2131 4.4.5): the keeper
 * coroutine of cub_dhcp_keeper_start.
 *
 * States, by time since the lease's start (acquired_ns):
 *   BOUND      before T1: waits on port 68, ignoring what arrives;
 *   RENEWING   T1..T2: REQUESTs with ciaddr to the server (unicast);
 *   REBINDING  T2..end: the same, broadcast, any server's ACK;
 *   INIT       after a NAK or the end: interface unconfigured, a new
 *              lease from DISCOVER (cubi_dhcp_lease_new, which waits
 *              for the rate limit's turn, probes and declines an
 *              address in use), retried.
 * An ACK in RENEWING or REBINDING starts the lease anew from when its
 * REQUEST went out. An address lost to an ARP conflict (arp_defend.c,
 * which unconfigures the interface) ends the wait or send the keeper is
 * in with LOST: it DECLINEs the address to the server that leased it
 * (RFC 2131 4.4.1's intent: the server should not lease it again while
 * another host holds it), waits decline_wait_ns (3.1 step 5) and goes
 * to INIT. Every wait is a receive on the keeper's endpoint,
 * or an ARP probe cancelled by it, so cub_dhcp_keeper_stop only has to
 * close it: the receive (or send, or probe) fails with -CUB_EBADF and
 * the coroutine ends. cub_dhcp_keeper_release stops, then releases.
 *
 * Invariants: k->lease is what the interface is configured with (addr 0
 * while in INIT). Locks: k->lock around k->lease and k->stats (the
 * coroutine writes, cub_dhcp_keeper_status reads); never held across a
 * network call.
 */
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dhcp_impl.h"

#define KEEPER_MAGIC 0x44484b50u	/* "DHKP" */
#define RETRY_MIN_NS (60ull * CUB_NSEC_PER_SEC)	/* RFC 2131 4.4.5 */
#define INIT_TRY_NS (30ull * CUB_NSEC_PER_SEC)	/* one INIT attempt */
#define KEEPER_STACK (16u * 1024)
/* What a receive or send on the keeper's endpoint returns once the
 * address was lost to an ARP conflict (arp_defend.c's cubi_udp_fail:
 * the endpoint is never connected, so no ICMP error gives it). */
#define LOST (-CUB_EADDRNOTAVAIL)

/* When a lease time (seconds after the lease's start) falls. */
static uint64_t at(const struct cub_dhcp_lease *l, uint32_t s)
{
	return l->acquired_ns + (uint64_t)s * CUB_NSEC_PER_SEC;
}

/* Replaces the lease held (under k->lock) and tells the callback. */
static void publish(struct cub_dhcp_keeper *k, const struct cub_dhcp_lease *l,
		    unsigned *counter, unsigned ignored)
{
	struct cub_dhcp_lease copy;

	cub_mutex_lock(&k->lock);
	k->lease = *l;
	k->lease.ignored = 0;
	k->lease.declined = 0;		/* in stats.declines */
	(*counter)++;
	k->stats.ignored += ignored;
	copy = k->lease;
	cub_mutex_unlock(&k->lock);
	if (k->changed)
		k->changed(k->arg, &copy);
}

/* An ACK a for the address held: the lease it grants, in *nl; the
 * interface reconfigured when its prefix or gateway changed. 0 or the
 * error of cub_netif_configure. */
static int take_ack(struct cub_dhcp_keeper *k, const struct cubi_dhcp_reply *a,
		    uint64_t asked, struct cub_dhcp_lease *nl)
{
	const struct cub_dhcp_lease *old = &k->lease;

	cubi_dhcp_lease_of(a, asked, nl);
	if (nl->prefix_len == old->prefix_len && nl->gateway == old->gateway)
		return 0;
	return cub_netif_configure(k->nif, nl->addr, nl->prefix_len, nl->gateway);
}

/*
 * RENEWING (rebind false) or REBINDING until the time end: 0 after an
 * ACK (the lease published), 1 after a NAK, -CUB_ETIMEDOUT at end, or
 * an error (-CUB_EBADF: stopped).
 */
static int keep_until(struct cub_dhcp_keeper *k, struct cubi_dhcp_client *c, bool rebind,
		      uint64_t end)
{
	const struct cub_dhcp_lease *l = &k->lease;
	struct cubi_dhcp_keep_msg m = { .ciaddr = l->addr,
					.to = rebind ? CUB_IP4_BROADCAST : l->server };
	struct cubi_dhcp_reply r;
	struct cub_dhcp_lease nl;
	int rc;

	for (;;) {
		uint64_t now = cub_time_now(), wait;

		if (now >= end)
			return -CUB_ETIMEDOUT;
		wait = CUB_MIN(CUB_MAX((end - now) / 2, RETRY_MIN_NS), end - now);
		cubi_dhcp_new_xid(c);
		rc = cubi_dhcp_send_keep(c, &m);
		if (rc == -CUB_EBADF || rc == LOST)
			return rc;	/* stopped, or the address lost; other
					 * errors: as if the REQUEST was lost */
		while ((rc = cubi_dhcp_await(c, 1u << CUBI_DHCP_ACK | 1u << CUBI_DHCP_NAK,
					     now + wait, &r)) >= 0) {
			bool ours = rebind || r.server == l->server;

			if (rc == CUBI_DHCP_NAK && ours)
				return 1;
			if (rc == CUBI_DHCP_ACK && ours && r.yiaddr == l->addr) {
				if ((rc = take_ack(k, &r, now, &nl)))
					return rc;
				publish(k, &nl, rebind ? &k->stats.rebound : &k->stats.renewed,
					c->ignored);
				c->ignored = 0;
				return 0;
			}
			c->ignored++;	/* not about our request */
		}
		if (rc != -CUB_ETIMEDOUT)
			return rc;
	}
}

/* Adds c's probe counts to k's stats and clears them. */
static void count_checks(struct cub_dhcp_keeper *k, struct cubi_dhcp_client *c)
{
	cub_mutex_lock(&k->lock);
	k->stats.probes += c->probes;
	k->stats.conflicts += c->conflicts;
	k->stats.declines += c->declines;
	k->stats.rate_limited += c->rate_limited;
	cub_mutex_unlock(&k->lock);
	c->probes = c->conflicts = c->declines = c->rate_limited = 0;
}

/* The lease is gone (NAK, expiry, or an ARP conflict lost when
 * conflict): unconfigure, DECLINE a lost address to its server, then
 * lease anew until that works. Each try has INIT_TRY_NS from when the
 * rate limit lets it begin (so a limited turn is waited for, not
 * failed). 0, or -CUB_EBADF once stopped. */
static int start_over(struct cub_dhcp_keeper *k, struct cubi_dhcp_client *c, bool conflict)
{
	struct cub_dhcp_lease none = { 0 }, old = k->lease, nl;
	struct cub_dhcp_params p;
	int rc;

	(void)cub_netif_configure(k->nif, 0, 0, 0);
	if (conflict) {
		cub_mutex_lock(&k->lock);
		k->stats.conflicts_lost++;
		cub_mutex_unlock(&k->lock);
	}
	publish(k, &none, &k->stats.lost, 0);
	cubi_dhcp_params_of(k->nif, &p);
	if (conflict) {
		rc = cubi_dhcp_decline_lost(c, &p, &old);	/* RFC 2131 4.4.1 */
		count_checks(k, c);
		if (rc == -CUB_EBADF)
			return rc;
	}
	for (;;) {
		struct cubi_dhcp_reply r;
		uint64_t now = cub_time_now();

		cubi_dhcp_new_xid(c);
		now = CUB_MAX(now, cubi_dhcp_next_try(k->nif, &p));
		rc = cubi_dhcp_lease_new(c, cubi_deadline(now, INIT_TRY_NS), &nl);
		count_checks(k, c);
		if (rc == 0 || rc == -CUB_EBADF)
			break;
		if (rc != -CUB_ETIMEDOUT &&	/* a failed send: pause, try again */
		    cubi_dhcp_await(c, 0, cub_time_now() + CUB_DHCP_RETRY_NS, &r) == -CUB_EBADF)
			return -CUB_EBADF;
	}
	if (!rc)
		publish(k, &nl, &k->stats.leased, c->ignored);
	c->ignored = 0;
	return rc;
}

/* One turn through the lease's life: 0 when a lease is held again, or
 * the error that ends the keeper. */
static int keep_once(struct cub_dhcp_keeper *k, struct cubi_dhcp_client *c)
{
	struct cub_dhcp_lease l = k->lease;	/* only this coroutine writes it */
	struct cubi_dhcp_reply r;
	int rc;

	rc = cubi_dhcp_await(c, 0, at(&l, l.renew_s), &r);	/* BOUND */
	if (rc == -CUB_ETIMEDOUT)
		rc = keep_until(k, c, false, at(&l, l.rebind_s));
	if (rc == -CUB_ETIMEDOUT)
		rc = keep_until(k, c, true, at(&l, l.lease_s));
	if (rc == 1 || rc == -CUB_ETIMEDOUT || rc == LOST)
		rc = start_over(k, c, rc == LOST);
	return rc;
}

static void *keeper_main(void *arg)
{
	struct cub_dhcp_keeper *k = arg;
	struct cubi_dhcp_client c = { .nif = k->nif, .u = &k->u };

	while (keep_once(k, &c) == 0)
		;
	cub_mutex_lock(&k->lock);
	k->stats.ignored += c.ignored;
	cub_mutex_unlock(&k->lock);
	return NULL;
}

/* Makes u the endpoint a lost address wakes (NULL: none). Port 68 is
 * the keeper's, so there is one at most per interface. */
static void set_wake(struct cub_netif *nif, struct cub_udp *u)
{
	cub_mutex_lock(&nif->lock);
	nif->dhcp_keeper_u = u;
	cub_mutex_unlock(&nif->lock);
}

/* Contexts: task. */
int cub_dhcp_keeper_start(struct cub_dhcp_keeper *k, struct cub_netif *nif,
			  const struct cub_dhcp_lease *lease,
			  void (*changed)(void *arg, const struct cub_dhcp_lease *lease),
			  void *arg)
{
	static const struct cub_coro_attr attr = { .name = "dhcp", .stack_size = KEEPER_STACK };
	cub_ip4_t addr;
	unsigned plen;
	int rc;

	if (!k || !nif || !lease || lease->lease_s == 0xffffffffu ||
	    !(lease->renew_s < lease->rebind_s && lease->rebind_s < lease->lease_s) ||
	    cub_netif_config(nif, &addr, &plen, NULL) || !addr || addr != lease->addr)
		return -CUB_EINVAL;
	*k = (struct cub_dhcp_keeper){ .nif = nif, .lease = *lease, .changed = changed,
				       .arg = arg };
	k->lease.ignored = 0;
	cub_mutex_init(&k->lock);
	if ((rc = cub_udp_open(&k->u, nif, 68)))
		return rc;
	set_wake(nif, &k->u);
	if ((rc = cub_coro_spawn(&k->coro, keeper_main, k, &attr))) {
		set_wake(nif, NULL);
		cub_udp_close(&k->u);
		return rc;
	}
	k->magic = KEEPER_MAGIC;
	return 0;
}

/* Contexts: task. */
int cub_dhcp_keeper_status(struct cub_dhcp_keeper *k, struct cub_dhcp_lease *lease,
			   struct cub_dhcp_keeper_stats *stats)
{
	if (!k || k->magic != KEEPER_MAGIC)
		return -CUB_EINVAL;
	cub_mutex_lock(&k->lock);
	if (lease)
		*lease = k->lease;
	if (stats)
		*stats = k->stats;
	cub_mutex_unlock(&k->lock);
	return 0;
}

/* Contexts: task. Closing the endpoint wakes the keeper wherever it
 * waits (every wait is a receive; a send fails likewise). */
int cub_dhcp_keeper_stop(struct cub_dhcp_keeper *k)
{
	if (!k || k->magic != KEEPER_MAGIC)
		return -CUB_EINVAL;
	k->magic = 0;
	set_wake(k->nif, NULL);
	cub_udp_close(&k->u);
	cub_coro_join(k->coro, NULL);
	return 0;
}

/* Contexts: task. */
int cub_dhcp_keeper_release(struct cub_dhcp_keeper *k)
{
	struct cub_dhcp_lease l;
	int rc = cub_dhcp_keeper_stop(k);

	if (rc)
		return rc;
	l = k->lease;			/* the interface's (k's invariant) */
	return l.addr ? cub_dhcp_release(k->nif, &l) : 0;
}
