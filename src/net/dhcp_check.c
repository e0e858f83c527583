/*
 * dhcp_check.c - what a DHCP client does besides asking: the conflict
 * check of an ACKed address (RFC 2131 3.1 step 5 and 4.4.1; the probe's
 * form from RFC 5227 2.1.1), giving a lease back (RFC 2131 4.4.6), and
 * the interface's DHCP tunables (those of the announcements and defence
 * after configuration too: arp_defend.c does them).
 *
 * The check: one ARP probe (sender 0.0.0.0, target the address), then
 * probe_ns of waiting for an ARP packet from that address or another
 * host's probe for it (arp.c). A conflict: a DECLINE naming the address
 * and the server, then decline_wait_ns before the caller starts over;
 * max_declines conflicts in one run give up. RFC 5227's full timings
 * (up to 1 s before, three probes 1-2 s apart, 2 s after) would add
 * seconds to every boot; one probe and a short wait catch a neighbour
 * that answers ARP, which is what the check is for (docs/net.md).
 *
 * Locks: nif->dhcp_params under nif->lock; the probe takes it itself.
 */
#include <cubrt/time.h>

#include "dhcp_impl.h"

static const struct cub_dhcp_params defaults = {
	.probe_ns = CUB_DHCP_PROBE_NS,
	.decline_wait_ns = CUB_DHCP_DECLINE_WAIT_NS,
	.max_declines = CUB_DHCP_DECLINES,
	.announce_num = CUB_DHCP_ANNOUNCE_NUM,
	.announce_interval_ns = CUB_DHCP_ANNOUNCE_INTERVAL_NS,
	.defend_interval_ns = CUB_DHCP_DEFEND_INTERVAL_NS,
};

/* Contexts: any (nif->lock held, or nif not in use). */
void cubi_dhcp_params_default(struct cub_netif *nif)
{
	nif->dhcp_params = defaults;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_dhcp_set_params(struct cub_netif *nif, const struct cub_dhcp_params *p)
{
	if (!nif)
		return -CUB_EINVAL;
	if (!p)
		p = &defaults;
	if (p->probe_ns > CUB_DHCP_PROBE_MAX_NS ||
	    p->decline_wait_ns > CUB_DHCP_DECLINE_WAIT_MAX_NS || p->max_declines < 1 ||
	    p->max_declines > CUB_DHCP_DECLINES_MAX || p->announce_num > CUB_DHCP_ANNOUNCE_MAX ||
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

/* Contexts: task. Locks: takes nif->lock through the ARP and UDP calls.
 * The probe is cancelled with c->u: a keeper's stop closes it. */
int cubi_dhcp_check(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
		    const struct cubi_dhcp_reply *a, uint64_t deadline, unsigned *declined)
{
	struct cubi_dhcp_reply r;
	uint64_t until;
	int rc;

	if (!p->probe_ns)
		return 0;
	c->probes++;
	rc = cubi_arp_probe(c->nif, a->yiaddr, p->probe_ns, &c->u->magic);
	if (rc <= 0)
		return rc;
	c->conflicts++;
	rc = cubi_dhcp_send_decline(c, a->yiaddr, a->server);
	if (rc == -CUB_EBADF)
		return rc;
	c->declines += rc == 0;		/* a lost DECLINE: as if on the wire */
	until = cubi_deadline(cub_time_now(), p->decline_wait_ns);
	if (++*declined >= p->max_declines || until >= deadline)
		return -CUB_EADDRNOTAVAIL;
	rc = cubi_dhcp_await(c, 0, until, &r);	/* RFC 2131 3.1 step 5 */
	return rc == -CUB_ETIMEDOUT ? 1 : rc;
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
