/*
 * dhcp_impl.h - private interface between the DHCP client's files:
 *   dhcp.c       messages (build, parse, wait for a reply) and the
 *                leasing exchange, cub_net_dhcp
 *   dhcp_keep.c  the keeper: renewing, rebinding and leasing anew in the
 *                background (RFC 2131 4.4.5)
 *   dhcp_check.c the tunables, the ARP probes of an ACKed address, the
 *                rate limit and the DECLINE after a conflict (RFC 2131
 *                3.1 step 5, 4.4.1; RFC 5227 2.1.1), the RELEASE (4.4.6)
 * A client owns a UDP endpoint on port 68 of its interface; only one can
 * exist per interface (the port is the lock).
 */
#ifndef CUBRT_DHCP_IMPL_H
#define CUBRT_DHCP_IMPL_H

#include "net_impl.h"

#define CUBI_DHCP_MSG_MAX 576		/* what every client must take */

/* Message types (option 53). */
enum { CUBI_DHCP_DISCOVER = 1, CUBI_DHCP_OFFER = 2, CUBI_DHCP_REQUEST = 3,
       CUBI_DHCP_DECLINE = 4, CUBI_DHCP_ACK = 5, CUBI_DHCP_NAK = 6,
       CUBI_DHCP_RELEASE = 7 };

/* What a reply said (0 where an option was absent). */
struct cubi_dhcp_reply {
	unsigned type;
	cub_ip4_t yiaddr, mask, router, server;
	cub_ip4_t dns[CUB_DHCP_DNS_MAX];	/* option 6's first, 0s skipped */
	unsigned dns_count;
	uint32_t lease_s, renew_s, rebind_s;
	bool has_mask;
};

/* One client's state: on cub_net_dhcp's or the keeper's stack. u is the
 * bound port-68 endpoint (the caller's storage). */
struct cubi_dhcp_client {
	struct cub_netif *nif;
	struct cub_udp *u;
	uint32_t xid;
	uint8_t pkt[CUBI_DHCP_MSG_MAX];
	unsigned ignored;
	unsigned probes, conflicts, declines;	/* cubi_dhcp_check's counts
						 * (declines: decline_lost's too) */
	unsigned rate_limited;		/* cubi_dhcp_rate_wait's waits */
};

/* A REQUEST that keeps a lease (RFC 2131 4.3.2, RENEWING / REBINDING):
 * ciaddr is the address held; no requested-address or server option. */
struct cubi_dhcp_keep_msg {
	cub_ip4_t ciaddr;
	cub_ip4_t to;			/* the server, or broadcast */
};

/* Picks a fresh transaction ID for c. */
void cubi_dhcp_new_xid(struct cubi_dhcp_client *c);

/* Sends a REQUEST that renews (k->to the server) or rebinds (broadcast)
 * the lease on k->ciaddr. 0 or a send error. */
int cubi_dhcp_send_keep(struct cubi_dhcp_client *c, const struct cubi_dhcp_keep_msg *k);

/* Sends a DECLINE of addr, offered by server: broadcast (we hold no
 * address), no broadcast flag, ciaddr 0, options type, requested address
 * and server ID only (RFC 2131 4.4.1, table 5). 0 or a send error. */
int cubi_dhcp_send_decline(struct cubi_dhcp_client *c, cub_ip4_t addr, cub_ip4_t server);

/* Sends a RELEASE of addr (ciaddr; nif configured with it) unicast to
 * server:67, options type and server ID only (RFC 2131 4.4.6, table 5).
 * 0 or a send error. */
int cubi_dhcp_send_release(struct cubi_dhcp_client *c, cub_ip4_t addr, cub_ip4_t server);

/* The next well-formed reply to c's transaction whose type is in want (a
 * bit mask of 1 << type; 0 takes none: a wait that ignores everything)
 * before deadline: its type and *r, -CUB_ETIMEDOUT, or a receive error
 * (-CUB_EBADF once c->u is closed). Offers and ACKs must be usable. */
int cubi_dhcp_await(struct cubi_dhcp_client *c, unsigned want, uint64_t deadline,
		    struct cubi_dhcp_reply *r);

/* Leases an address from scratch (DISCOVER ... ACK; a NAK starts over;
 * an address found in use is declined, cubi_dhcp_check) before deadline
 * and configures the interface: 0 and *l, or an error. */
int cubi_dhcp_lease_new(struct cubi_dhcp_client *c, uint64_t deadline,
			struct cub_dhcp_lease *l);

/* The lease ACK a grants, asked for at time asked (monotonic ns): fills
 * *l, the interface not touched. T1/T2 default to 1/2 and 7/8 of the
 * lease when absent or inconsistent (RFC 2131 4.4.5). */
void cubi_dhcp_lease_of(const struct cubi_dhcp_reply *a, uint64_t asked,
			struct cub_dhcp_lease *l);

/* A copy of nif's DHCP tunables. Locks: takes nif->lock. */
void cubi_dhcp_params_of(struct cub_netif *nif, struct cub_dhcp_params *p);

/* Sets or clears nif's dhcp flag (a client runs: unconfigured, nif takes
 * IPv4 to any address and sends broadcasts from 0.0.0.0). Locks: takes
 * nif->lock. */
void cubi_dhcp_set_running(struct cub_netif *nif, bool on);

/*
 * The conflict check of the address ACK a grants (RFC 2131 3.1 step 5,
 * RFC 5227 2.1.1): p->probe_num ARP probes timed as p says (none when
 * 0); on a conflict a DECLINE, and unless that was the run's
 * p->max_declines-th (*declined counts them) or the wait, or the rate
 * limit's next turn, would reach deadline, p->decline_wait_ns of
 * waiting on c->u. Returns 0 (configure the address), 1 (waited: start
 * over from DISCOVER), -CUB_EADDRNOTAVAIL (give up), -CUB_EBADF (c->u
 * closed) or a send error. Counts c->probes (sent), conflicts and
 * declines, and the conflict on the interface (the rate limit's).
 */
int cubi_dhcp_check(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
		    const struct cubi_dhcp_reply *a, uint64_t deadline, unsigned *declined);

/* The earliest time a new conflict check of nif may begin under p's
 * rate limit (0: now). Locks: takes nif->lock. */
uint64_t cubi_dhcp_next_try(struct cub_netif *nif, const struct cub_dhcp_params *p);

/* Waits on c->u for that time (counted in c->rate_limited and
 * arp_rate_limited when there is a wait). 0 (go on), -CUB_EADDRNOTAVAIL
 * (it comes at or after deadline: not waited), -CUB_EBADF (c->u closed)
 * or a receive error. */
int cubi_dhcp_rate_wait(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
			uint64_t deadline);

/* DHCP configured nif with a lease's address: the time that starts the
 * rate limit's count over, if it is held long enough. Locks: takes
 * nif->lock. */
void cubi_dhcp_bound(struct cub_netif *nif);

/*
 * Declines lease l, whose address nif lost to an ARP conflict (nif
 * unconfigured): a DECLINE of l->addr to l->server as after a probe's
 * conflict (RFC 2131 4.4.1), counted in c->declines, then
 * p->decline_wait_ns of waiting on c->u (RFC 2131 3.1 step 5). 0,
 * -CUB_EBADF (c->u closed) or a receive error; a failed send is as a
 * lost one.
 */
int cubi_dhcp_decline_lost(struct cubi_dhcp_client *c, const struct cub_dhcp_params *p,
			   const struct cub_dhcp_lease *l);

#endif
