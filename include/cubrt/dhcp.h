/*
 * cubrt/dhcp.h - the DHCP client (RFC 2131): a lease, its
 * conflict check, release, and the keeper that renews it.
 * Part of the network API: <cubrt/net.h> has the interface, its
 * counters and parameters, the locking rule and the contexts every call
 * here follows, and includes this header.
 */
#ifndef CUBRT_DHCP_H
#define CUBRT_DHCP_H

#include <cubrt/net.h>

#define CUB_DHCP_RETRY_NS (1000ull * 1000 * 1000)	/* first retry; doubles
							 * up to 8x */
/* Defaults of struct cub_dhcp_params (cub_dhcp_set_params) and their
 * bounds. The conflict check: three probes as RFC 5227 2.1.1 asks, but
 * 40-60 ms apart with no wait before and 100 ms after (180-220 ms in
 * all) instead of its 1-2 s apart, up to 1 s before and 2 s after (4-7
 * s): an answer is one round trip on the link (the whole DHCP exchange
 * took 3-10 ms under QEMU TCG) and every boot without a conflict waits
 * the whole window; the three probes still cover a lost one. See
 * docs/net.md. */
#define CUB_DHCP_PROBE_NUM 3
#define CUB_DHCP_PROBE_NUM_MAX 16
#define CUB_DHCP_PROBE_WAIT_NS 0ull
#define CUB_DHCP_PROBE_MIN_NS (40ull * 1000 * 1000)
#define CUB_DHCP_PROBE_MAX_NS (60ull * 1000 * 1000)
#define CUB_DHCP_ANNOUNCE_WAIT_NS (100ull * 1000 * 1000)
#define CUB_DHCP_PROBE_TIME_MAX_NS (10ull * 1000 * 1000 * 1000)	/* each */
/* RFC 5227 2.1.1's MAX_CONFLICTS and RATE_LIMIT_INTERVAL. */
#define CUB_DHCP_MAX_CONFLICTS 10
#define CUB_DHCP_MAX_CONFLICTS_MAX 1000
#define CUB_DHCP_RATE_LIMIT_NS (60ull * 1000 * 1000 * 1000)
#define CUB_DHCP_RATE_LIMIT_MAX_NS (3600ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DECLINE_WAIT_NS (10ull * 1000 * 1000 * 1000)	/* RFC 2131 */
#define CUB_DHCP_DECLINE_WAIT_MAX_NS (3600ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DECLINES 3		/* conflicts before giving up */
#define CUB_DHCP_DECLINES_MAX 16
/* After a lease's address is configured (RFC 5227 2.3, 2.4: ANNOUNCE_NUM,
 * ANNOUNCE_INTERVAL, DEFEND_INTERVAL), and the bounds of each. */
#define CUB_DHCP_ANNOUNCE_NUM 2
#define CUB_DHCP_ANNOUNCE_MAX 16
#define CUB_DHCP_ANNOUNCE_INTERVAL_NS (2ull * 1000 * 1000 * 1000)
#define CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS (60ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DEFEND_INTERVAL_NS (10ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DEFEND_INTERVAL_MAX_NS (3600ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DNS_MAX 3		/* DNS servers kept from option 6 (as
					 * CUB_DNS_SERVERS_MAX, resolv.conf's
					 * MAXNS) */

/* What a DHCP server leased (host byte order). */
struct cub_dhcp_lease {
	cub_ip4_t addr;			/* the interface's address now */
	unsigned prefix_len;		/* from the subnet mask option (or the
					 * address's class when absent) */
	cub_ip4_t gateway;		/* the first router on the subnet, or 0 */
	cub_ip4_t dns;			/* the first DNS server, or 0 */
	cub_ip4_t dns_all[CUB_DHCP_DNS_MAX];	/* the first dns_count DNS
						 * servers of option 6, in its
						 * order (0s skipped); the rest
						 * 0; dns_all[0] == dns. Give
						 * them to cub_dns_lookup_servers */
	unsigned dns_count;
	cub_ip4_t server;		/* the DHCP server */
	uint32_t lease_s;		/* seconds; 0xffffffff: infinite */
	uint32_t renew_s;		/* T1: renew this long after acquired_ns
					 * (option 58, else lease_s / 2) */
	uint32_t rebind_s;		/* T2: rebind (option 59, else 7/8 of
					 * lease_s); T1 < T2 < lease_s, or all
					 * three infinite */
	uint64_t acquired_ns;		/* cub_time_now() when the granted
					 * REQUEST went out: the lease's start */
	unsigned ignored;		/* replies ignored: malformed, not ours */
	unsigned declined;		/* addresses declined on the way to this
					 * one (ARP conflicts) */
};

/*
 * Sets nif's DHCP tunables to *p (every field; read them first with
 * cub_dhcp_get_params to change one); NULL p restores the defaults.
 * They apply from the next cub_net_dhcp or keeper lease on. 0 or
 * -CUB_EINVAL (nothing set): NULL nif; probe_num over
 * CUB_DHCP_PROBE_NUM_MAX; probe_wait_ns, probe_min_ns, probe_max_ns or
 * announce_wait_ns over CUB_DHCP_PROBE_TIME_MAX_NS; probe_min_ns over
 * probe_max_ns; probe_num 0 with any of those times not 0; probe_num
 * not 0 with announce_wait_ns 0; decline_wait_ns over
 * CUB_DHCP_DECLINE_WAIT_MAX_NS; max_declines not in
 * 1..CUB_DHCP_DECLINES_MAX; max_conflicts not in
 * 1..CUB_DHCP_MAX_CONFLICTS_MAX; rate_limit_ns over
 * CUB_DHCP_RATE_LIMIT_MAX_NS; announce_num over CUB_DHCP_ANNOUNCE_MAX,
 * announce_interval_ns over CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS,
 * defend_interval_ns over CUB_DHCP_DEFEND_INTERVAL_MAX_NS.
 * Contexts: task.
 */
int cub_dhcp_set_params(struct cub_netif *nif, const struct cub_dhcp_params *p);

/* Copies nif's DHCP tunables into *p. 0 or -CUB_EINVAL (NULL argument).
 * Contexts: task. */
int cub_dhcp_get_params(struct cub_netif *nif, struct cub_dhcp_params *p);

/*
 * Leases an address for nif by DHCP (RFC 2131: DISCOVER, OFFER,
 * REQUEST, ACK; a NAK starts over) and configures nif with it
 * (cub_netif_configure: address, prefix, gateway). Messages are
 * retransmitted after CUB_DHCP_RETRY_NS, then twice, four and eight
 * times that, until timeout_ns. Before nif is configured the ACKed
 * address is checked (RFC 2131 3.1 step 5, RFC 5227 2.1.1): probe_num
 * ARP requests from sender 0.0.0.0 for it, spaced as cub_dhcp_params
 * says, watched from the start until announce_wait_ns after the last
 * (probe_num 0: no check). An ARP packet from that address, or another
 * host's probe for it, anywhere in that window is a conflict: a DECLINE
 * (broadcast, naming the address and the server) goes out, and after
 * decline_wait_ns a new DISCOVER with a new transaction ID; after
 * max_declines conflicts, or when the wait would pass timeout_ns, the
 * call gives up with -CUB_EADDRNOTAVAIL. Once nif has seen max_conflicts
 * conflicts (probes' and addresses lost, across calls and keepers), a
 * new address is probed at most once per rate_limit_ns (RFC 5227
 * 2.1.1): the call waits for its turn before DISCOVER, and gives up at
 * once with -CUB_EADDRNOTAVAIL when that turn comes at or after
 * timeout_ns. The count starts over at a conflict that comes
 * rate_limit_ns or more after DHCP last configured nif.
 *
 * Once nif is configured the address is announced and defended (RFC
 * 5227 2.3, 2.4 (b)): the first ARP announcement (a broadcast request,
 * sender and target the address, target hardware 0) goes out before
 * the call returns, announce_num - 1 more announce_interval_ns apart
 * from the stack's "arp announce" coroutine (the call does not wait for
 * them). From then until nif's address changes, an ARP packet from
 * another MAC whose sender is the address is a conflict
 * (arp_conflicts_defended): answered with one announcement, the address
 * kept; a second within defend_interval_ns of a defended one loses it
 * (arp_conflicts_lost): nif is unconfigured (address 0, as at a lease's
 * end). Without a keeper a program learns of that from cub_netif_config
 * (address 0) or the counter; a keeper leases anew at once (below).
 * Another host's probe for the address (sender 0.0.0.0) is answered
 * (arp.c), not a conflict.
 *
 * Returns 0 and *lease; -CUB_ETIMEDOUT (no usable answer in time: nif
 * is left as it was); -CUB_EADDRNOTAVAIL (only addresses in use were
 * offered: nif left as it was); -CUB_EADDRINUSE (port 68 is bound on
 * nif: another client runs); -CUB_EINVAL (NULL arguments); the errors
 * of cub_udp_open / cub_udp_sendto. The lease ends lease_s after
 * acquired_ns: keep it with cub_dhcp_keeper_start, give it back with
 * cub_dhcp_release. Contexts: task (blocks).
 */
int cub_net_dhcp(struct cub_netif *nif, uint64_t timeout_ns,
		 struct cub_dhcp_lease *lease);

/*
 * Gives lease (nif's, from cub_net_dhcp) back to its server (RFC 2131
 * 4.4.6): a RELEASE (ciaddr the address, the server ID, nothing else)
 * unicast from port 68 to lease->server:67, then nif is unconfigured
 * (address 0) whether or not the send worked. No answer is awaited: a
 * lost RELEASE only leaves the address taken until the lease ends.
 * Returns 0; -CUB_EINVAL (NULL argument, lease->addr not nif's address,
 * no unicast server: nif untouched); -CUB_EADDRINUSE (port 68 bound: a
 * keeper runs, use cub_dhcp_keeper_release; nif untouched); the errors
 * of cub_udp_sendto (e.g. -CUB_EHOSTUNREACH: the server's MAC did not
 * resolve; nif unconfigured all the same). Contexts: task (blocks while
 * the server's address resolves).
 */
int cub_dhcp_release(struct cub_netif *nif, const struct cub_dhcp_lease *lease);

/* What a keeper has done (cub_dhcp_keeper_status). */
struct cub_dhcp_keeper_stats {
	unsigned renewed;		/* ACKs to a REQUEST sent to the server */
	unsigned rebound;		/* ACKs to a broadcast REQUEST (after T2) */
	unsigned lost;			/* leases ended: a NAK, expiry, or an
					 * ARP conflict lost */
	unsigned leased;		/* new leases after a loss */
	unsigned ignored;		/* replies ignored: malformed, not ours */
	unsigned probes;		/* ARP probes sent (of ACKed addresses) */
	unsigned conflicts;		/* conflict checks that found the
					 * address in use */
	unsigned declines;		/* DECLINEs sent: one per conflict and
					 * one per address lost (conflicts_lost) */
	unsigned conflicts_lost;	/* leases lost (also in lost) to an ARP
					 * conflict after configuration (RFC
					 * 5227 2.4, see cub_net_dhcp) */
	unsigned rate_limited;		/* new leases delayed by RFC 5227's rate
					 * limit (see cub_net_dhcp) */
};

/*
 * A lease kept alive in the background (RFC 2131 4.4.5), the caller's
 * storage; every field is the keeper's. Its coroutine holds port 68 and:
 *   - at T1 (RENEWING) sends a REQUEST for its address to the server,
 *     again after half the time left to T2 (at least 60 s, at most up
 *     to T2), until an ACK - the lease starts anew - or T2;
 *   - at T2 (REBINDING) broadcasts the REQUEST, likewise until the lease
 *     ends, and takes an ACK from any server;
 *   - on a NAK or at the lease's end unconfigures the interface (address
 *     0: nothing IPv4 is sent or taken) and leases anew from DISCOVER,
 *     probing and declining as cub_net_dhcp does, retrying until it
 *     succeeds or the keeper stops;
 *   - when its address is lost to an ARP conflict (see cub_net_dhcp: the
 *     interface already unconfigured), whatever state it was in, sends
 *     a DECLINE of it to the server that leased it (as after a probe's
 *     conflict: RFC 2131 4.4.1), waits decline_wait_ns and leases anew
 *     (counted in lost, conflicts_lost and declines).
 * Each new lease is announced and defended as cub_net_dhcp's is.
 * An ACK that changes the prefix, gateway or DNS reconfigures the
 * interface (flushing its ARP cache); one that keeps them does not touch
 * it. changed (may be NULL) is called from the keeper's coroutine after
 * each change of the interface: the address lost (addr 0: a NAK, the
 * lease's end or an ARP conflict lost) or a new lease; it may not block
 * for long. Infinite leases need no keeper.
 * Locks: lock protects lease and stats (take it with cub_dhcp_keeper_status).
 */
struct cub_dhcp_keeper {
	uint32_t magic;
	struct cub_netif *nif;
	struct cub_udp u;		/* port 68 while the keeper runs */
	struct cub_coro *coro;
	struct cub_mutex lock;
	struct cub_dhcp_lease lease;
	struct cub_dhcp_keeper_stats stats;
	void (*changed)(void *arg, const struct cub_dhcp_lease *lease);
	void *arg;
};

/*
 * Starts keeping lease (from cub_net_dhcp on nif, nif configured with
 * it) alive. 0; -CUB_EINVAL (NULL k, nif or lease, a lease that is not
 * nif's address, or an infinite one); -CUB_EADDRINUSE (port 68 bound on
 * nif: another DHCP client runs); -CUB_ENOMEM. Contexts: task.
 */
int cub_dhcp_keeper_start(struct cub_dhcp_keeper *k, struct cub_netif *nif,
			  const struct cub_dhcp_lease *lease,
			  void (*changed)(void *arg, const struct cub_dhcp_lease *lease),
			  void *arg);

/* Copies the lease held now (addr 0 while none) and the counters; either
 * pointer may be NULL. 0 or -CUB_EINVAL (k not started). Contexts: task. */
int cub_dhcp_keeper_status(struct cub_dhcp_keeper *k, struct cub_dhcp_lease *lease,
			   struct cub_dhcp_keeper_stats *stats);

/* Stops the keeper and waits for its coroutine to end; the interface
 * keeps its address and the lease stays taken (as dhclient leaves it
 * on exit without -r), port 68 is free, k's storage is the caller's
 * again. 0 or -CUB_EINVAL (k not started).
 * Contexts: task (not the keeper's changed callback). */
int cub_dhcp_keeper_stop(struct cub_dhcp_keeper *k);

/* Stops the keeper as cub_dhcp_keeper_stop does, then gives the lease it
 * held back as cub_dhcp_release does (RELEASE to the server, interface
 * unconfigured); without a lease (lost, none yet again) only the stop.
 * k's storage is the caller's again. 0, -CUB_EINVAL (k not started) or
 * the send's error (the interface unconfigured all the same).
 * Contexts: task (not the keeper's changed callback). */
int cub_dhcp_keeper_release(struct cub_dhcp_keeper *k);

#endif
