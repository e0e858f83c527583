/*
 * dhcp_impl.h - private interface between the DHCP client's files:
 *   dhcp.c       messages (build, parse, wait for a reply) and the
 *                leasing exchange, cub_net_dhcp
 *   dhcp_keep.c  the keeper: renewing, rebinding and leasing anew in the
 *                background (RFC 2131 4.4.5)
 * A client owns a UDP endpoint on port 68 of its interface; only one can
 * exist per interface (the port is the lock).
 */
#ifndef CUBRT_DHCP_IMPL_H
#define CUBRT_DHCP_IMPL_H

#include "net_impl.h"

#define CUBI_DHCP_MSG_MAX 576		/* what every client must take */

/* Message types (option 53). */
enum { CUBI_DHCP_DISCOVER = 1, CUBI_DHCP_OFFER = 2, CUBI_DHCP_REQUEST = 3,
       CUBI_DHCP_ACK = 5, CUBI_DHCP_NAK = 6 };

/* What a reply said (0 where an option was absent). */
struct cubi_dhcp_reply {
	unsigned type;
	cub_ip4_t yiaddr, mask, router, dns, server;
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

/* The next well-formed reply to c's transaction whose type is in want (a
 * bit mask of 1 << type; 0 takes none: a wait that ignores everything)
 * before deadline: its type and *r, -CUB_ETIMEDOUT, or a receive error
 * (-CUB_EBADF once c->u is closed). Offers and ACKs must be usable. */
int cubi_dhcp_await(struct cubi_dhcp_client *c, unsigned want, uint64_t deadline,
		    struct cubi_dhcp_reply *r);

/* Leases an address from scratch (DISCOVER ... ACK; a NAK starts over)
 * before deadline and configures the interface: 0 and *l, or an error. */
int cubi_dhcp_lease_new(struct cubi_dhcp_client *c, uint64_t deadline,
			struct cub_dhcp_lease *l);

/* The lease ACK a grants, asked for at time asked (monotonic ns): fills
 * *l, the interface not touched. T1/T2 default to 1/2 and 7/8 of the
 * lease when absent or inconsistent (RFC 2131 4.4.5). */
void cubi_dhcp_lease_of(const struct cubi_dhcp_reply *a, uint64_t asked,
			struct cub_dhcp_lease *l);

#endif
