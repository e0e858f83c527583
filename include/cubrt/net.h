/*
 * cubrt/net.h - a small IPv4 stack over Ethernet: ARP, IPv4, ICMP echo,
 * UDP and TCP on one interface address (docs/net.md).
 *
 * An interface (struct cub_netif, caller storage) owns one Ethernet
 * address, one IPv4 address with its prefix and default gateway, an ARP
 * cache and the UDP endpoints bound on it. It reaches its card through an
 * ops table: cub_net_attach() binds an arch NIC (arch.h, "network");
 * tests bind an in-memory wire. Received frames enter through
 * cub_netif_input(), one at a time, from a task (cub_net_attach's
 * receive coroutine "net rx N").
 *
 * Locking rule: each interface has one sleeping mutex (cub_netif.lock)
 * that protects everything reachable from it: its address, ARP cache,
 * counters, ping waiters, the list of its UDP endpoints and every
 * endpoint's queue, its TCP blocks with their rings and timers. Every call below takes it for its whole duration,
 * except while it waits (cond waits release it). ops->send is called
 * with it held: a send function must copy the frame and return without
 * blocking and must not call back into the stack (queue the frame, as a
 * NIC's transmit ring does). There is no other lock, so there is no lock
 * order; preemption (sched.h) may switch at any point and the mutex keeps
 * every invariant.
 *
 * Contexts: every call is task context (they take a mutex); none may be
 * called from an interrupt handler. Addresses (cub_ip4_t) and ports are
 * in host byte order.
 *
 * Allocation: none on the per-packet path. cub_udp_open allocates the
 * endpoint's receive ring once (freed by cub_udp_close), cub_net_attach
 * the interface and its receive buffer once, a TCP connection its block
 * and two rings when it is created (the rings freed when it is gone, the
 * block kept for the next connection: type-stable, see cub_tcp_close), a
 * fragmented IPv4 datagram a reassembly buffer when its first fragment
 * arrives (freed when it completes or is dropped; at most one per
 * reassembly slot: CUB_IP4_REASM_SLOTS per interface unless
 * cub_ip4_set_reasm_slots says otherwise).
 */
#ifndef CUBRT_NET_H
#define CUBRT_NET_H

#include <cubrt/base.h>
#include <cubrt/list.h>
#include <cubrt/sync.h>

typedef uint32_t cub_ip4_t;			/* host byte order */

#define CUB_IP4(a, b, c, d)                                              \
	((cub_ip4_t)(((uint32_t)(a) & 0xff) << 24 |                      \
		     ((uint32_t)(b) & 0xff) << 16 |                      \
		     ((uint32_t)(c) & 0xff) << 8 | ((uint32_t)(d) & 0xff)))
#define CUB_IP4_BROADCAST CUB_IP4(255, 255, 255, 255)

/* Sizes (bytes). */
#define CUB_ETH_HLEN 14
#define CUB_ETH_FRAME_MAX 1514		/* header + 1500, no FCS */
#define CUB_IP4_MTU 1500
#define CUB_IP4_DATAGRAM_MAX 65535	/* an IPv4 datagram, header included */
/* The largest UDP payload and echo payload: 65535 - 20 (IPv4) - 8. Above
 * CUB_UDP_FRAME_PAYLOAD (1500 - 20 - 8) they leave in fragments. */
#define CUB_UDP_PAYLOAD_MAX 65507
#define CUB_UDP_FRAME_PAYLOAD 1472
#define CUB_PING_PAYLOAD_MAX 65507

/* IPv4 reassembly (ip4_frag.c): datagrams reassembled at once per
 * interface by default and at most (cub_ip4_set_reasm_slots), and how
 * long an incomplete one is kept (Linux's 30 s). Each slot costs 48
 * bytes in struct cub_netif and, while busy, a 68 KiB buffer: 64 busy
 * slots hold about 4.3 MiB, near Linux's ipfrag_high_thresh (4 MiB)
 * for all of a namespace's reassembly. */
#define CUB_IP4_REASM_SLOTS 4
#define CUB_IP4_REASM_SLOTS_MAX 64
#define CUB_IP4_REASM_NS (30ull * 1000 * 1000 * 1000)

/* The path MTU cache (pmtu_cache.c, cub_pmtu_get below): entries per
 * interface and their lifetime (RFC 1191 6.3: 10 minutes). */
#define CUB_PMTU_CACHE_SIZE 8
#define CUB_PMTU_TTL_NS (600ull * 1000 * 1000 * 1000)

/* Ephemeral UDP ports (RFC 6335's dynamic range). */
#define CUB_UDP_EPHEMERAL_MIN 49152
#define CUB_UDP_EPHEMERAL_MAX 65535

/* Datagrams an endpoint queues before it drops (counted), and the
 * payload bytes its queue holds (two datagrams of the largest size). */
#define CUB_UDP_QUEUE_LEN 16
#define CUB_UDP_RCVBUF (128u * 1024)

/* ARP: cache entries per interface, requests per resolution, defaults. */
#define CUB_ARP_CACHE_SIZE 16
#define CUB_ARP_TRIES 3
#define CUB_ARP_RETRY_NS (1000ull * 1000 * 1000)	/* between requests */
#define CUB_ARP_TTL_NS (60ull * 1000 * 1000 * 1000)	/* entry lifetime */
#define CUB_ARP_RESOLVE_NS (3ull * 1000 * 1000 * 1000)	/* sendto's wait */

struct cub_netif;
struct cub_udp;

struct cub_netif_ops {
	/* Transmits one Ethernet frame (14..1514 bytes, copied before
	 * return); 0 or a negative code (the stack counts the drop in
	 * tx_errors). Called with the interface's lock held: must not
	 * block nor call into the stack. */
	int (*send)(struct cub_netif *nif, const void *frame, size_t len);
};

/*
 * Counters. Every received frame ends in exactly one of the "terminal"
 * counters, so these sums hold whenever the lock is free:
 *   rx_frames = rx_short + rx_too_long + rx_not_ours + rx_unknown_type
 *               + arp_rx + ip_rx
 *   arp_rx    = arp_bad + arp_requests + arp_replies + arp_other
 *   ip_rx + ip_reassembled
 *             = ip_bad_header + ip_bad_cksum + ip_fragments + ip_not_ours
 *               + ip_unknown_proto + icmp_rx + udp_rx + tcp_rx
 *   ip_fragments = ip_frag_bad + ip_frag_dup + ip_frag_conflict
 *               + ip_frag_nomem + ip_frag_queued
 *   icmp_rx   = icmp_bad + icmp_echo_requests + icmp_echo_replies
 *               + icmp_other + icmp_err_bad + icmp_err_unmatched
 *               + icmp_err_ignored + icmp_err_reported
 *   udp_rx    = udp_bad + udp_bad_cksum + udp_no_port + udp_queue_full
 *               + udp_delivered
 *   tcp_rx    = tcp_bad + tcp_bad_cksum + tcp_no_port + tcp_backlog_drops
 *               + tcp_to_conn
 */
struct cub_netif_stats {
	uint64_t rx_frames, rx_bytes;	/* given to cub_netif_input */
	uint64_t rx_short;		/* under 14 bytes */
	uint64_t rx_too_long;		/* over 1514 bytes */
	uint64_t rx_not_ours;		/* destination MAC neither ours nor
					 * broadcast */
	uint64_t rx_unknown_type;	/* ethertype neither IPv4 nor ARP */
	uint64_t tx_frames, tx_bytes;	/* accepted by ops->send */
	uint64_t tx_errors;		/* refused by ops->send (dropped) */

	uint64_t arp_rx;		/* ARP frames */
	uint64_t arp_bad;		/* malformed (short, not Ethernet/IPv4,
					 * unknown operation, bad sender) */
	uint64_t arp_requests;		/* requests for our address (answered) */
	uint64_t arp_replies;		/* replies */
	uint64_t arp_other;		/* requests for other addresses */
	uint64_t arp_updates;		/* cache entries filled or refreshed */
	uint64_t arp_requests_tx;	/* requests we sent */
	uint64_t arp_failures;		/* resolutions given up (no answer) */
	/* RFC 5227 after a DHCP lease configured the address (arp_defend.c):
	 * announcements (the lease's and each defence), conflicts (ARP from
	 * another MAC with our address as sender) defended with one, and
	 * conflicts that cost the address (a second within
	 * defend_interval_ns of a defended one: unconfigured). */
	uint64_t arp_announces_tx;
	uint64_t arp_conflicts_defended;
	uint64_t arp_conflicts_lost;
	/* RFC 5227 2.1.1 before a DHCP lease's address is configured
	 * (dhcp_check.c): probes sent, conflict checks that found the
	 * address in use, and new attempts delayed by the rate limit
	 * (max_conflicts, rate_limit_ns of cub_dhcp_params). */
	uint64_t arp_probes_tx;
	uint64_t arp_probe_conflicts;
	uint64_t arp_rate_limited;

	uint64_t ip_rx;			/* IPv4 frames */
	uint64_t ip_bad_header;		/* version, IHL, lengths, TTL 0, source */
	uint64_t ip_bad_cksum;
	uint64_t ip_fragments;		/* fragments for us (ip4_frag.c) */
	uint64_t ip_not_ours;		/* not our address nor a broadcast */
	uint64_t ip_unknown_proto;	/* neither ICMP, UDP nor TCP */
	/* Reassembly. Each fragment ends in one of the five ip_frag_ ones;
	 * a held (queued) one later leaves with its datagram: reassembled,
	 * timed out, evicted, or dropped by a conflicting fragment. */
	uint64_t ip_frag_bad;		/* zero length, a non-final one not a
					 * multiple of 8, beyond 65535 bytes */
	uint64_t ip_frag_dup;		/* the same offset and length as a
					 * held one: dropped alone */
	uint64_t ip_frag_conflict;	/* overlaps a held one or disagrees on
					 * the end: it and its datagram dropped */
	uint64_t ip_frag_nomem;		/* no buffer for a new datagram */
	uint64_t ip_frag_queued;	/* held for reassembly */
	uint64_t ip_reassembled;	/* datagrams completed (then counted
					 * again by their protocol's *_rx) */
	uint64_t ip_reasm_timeouts;	/* incomplete datagrams timed out */
	uint64_t ip_reasm_evicted;	/* incomplete datagrams dropped for a
					 * new one, all slots being busy */
	uint64_t ip_frag_tx;		/* fragments sent */
	uint64_t ip_reasm_icmp_tx;	/* ICMP "fragment reassembly time
					 * exceeded" sent about a timed-out
					 * datagram whose offset-0 fragment
					 * came (RFC 1122 3.3.2) */
	uint64_t ip_reasm_icmp_limited;	/* ...not sent: over the rate limit
					 * (the port unreachables' bucket) */

	uint64_t icmp_rx;
	uint64_t icmp_bad;		/* short or bad checksum */
	uint64_t icmp_echo_requests;	/* answered */
	uint64_t icmp_echo_replies;	/* to a ping or not */
	uint64_t icmp_other;		/* other types, broadcast echoes */
	/* ICMP errors (destination unreachable, time exceeded) about a
	 * datagram we sent: each ends in one of these four. */
	uint64_t icmp_err_bad;		/* the quoted datagram is truncated,
					 * malformed or not from us */
	uint64_t icmp_err_unmatched;	/* no UDP endpoint or TCP connection
					 * has its ports (or the TCP sequence
					 * number is outside the flight) */
	uint64_t icmp_err_ignored;	/* matched, not acted on: an
					 * unconnected UDP endpoint, another
					 * UDP peer or payload (the DNS
					 * query's ID), a kind not used, a TCP
					 * "fragmentation needed" not lower
					 * or not believed (tcp_pmtu.c) */
	uint64_t icmp_err_reported;	/* given to a connected UDP endpoint
					 * or a TCP connection */
	uint64_t icmp_unreach_tx;	/* port unreachable sent */
	uint64_t icmp_unreach_limited;	/* port unreachable not sent: over
					 * the rate limit */

	uint64_t udp_rx;
	uint64_t udp_bad;		/* short, length field inconsistent */
	uint64_t udp_bad_cksum;
	uint64_t udp_no_port;		/* no endpoint bound to the port */
	uint64_t udp_queue_full;	/* the endpoint's queue was full */
	uint64_t udp_delivered;		/* queued on an endpoint */
	uint64_t udp_tx;		/* datagrams sent */

	/* TCP (tcp_rx's terminal counters sum up as above). */
	uint64_t tcp_rx;		/* segments received */
	uint64_t tcp_bad;		/* short header, bad data offset, to a
					 * broadcast */
	uint64_t tcp_bad_cksum;
	uint64_t tcp_no_port;		/* no connection nor listener: RST */
	uint64_t tcp_backlog_drops;	/* SYNs to a listener whose backlog
					 * was full (or no memory) */
	uint64_t tcp_to_conn;		/* taken by a connection or listener */
	uint64_t tcp_tx;		/* segments sent (RSTs included) */
	uint64_t tcp_rst_rx;		/* RSTs received that were acted on */
	uint64_t tcp_rst_tx;		/* RSTs sent */
	uint64_t tcp_retransmits;	/* segments sent again (timeout, fast
					 * retransmit) */
	uint64_t tcp_timeouts;		/* retransmission timeouts */
	uint64_t tcp_fast_retransmits;	/* fast retransmits: 3 duplicate
					 * ACKs began a fast recovery */
	uint64_t tcp_partial_acks;	/* NewReno partial ACKs in recovery
					 * (each resends one segment) */
	uint64_t tcp_persist_probes;	/* zero-window probes */
	uint64_t tcp_dup;		/* segments wholly old or outside the
					 * window (ACKed, dropped) */
	uint64_t tcp_ooo;		/* segments beyond rcv_nxt dropped
					 * (out-of-order table full), ACKed */
	uint64_t tcp_ooo_kept;		/* segments beyond rcv_nxt kept in the
					 * receive ring for reassembly */
	uint64_t tcp_active_opens;	/* connections created by connect */
	uint64_t tcp_passive_opens;	/* created by a listener (SYN) */
	uint64_t tcp_established;	/* reached ESTABLISHED */
	uint64_t tcp_freed;		/* connections gone (rings freed);
					 * live = active + passive - freed */
	uint64_t tcp_gave_up;		/* connections failed: -CUB_ETIMEDOUT */
	uint64_t tcp_bytes_rx, tcp_bytes_tx;	/* new payload in order /
						 * first sends */
	uint64_t tcp_paws;		/* segments dropped by PAWS (RFC 7323
					 * 5: a TSval older than the last
					 * echoed one), ACKed */
	uint64_t tcp_ts_missing;	/* segments without the timestamps
					 * option where it was agreed: dropped
					 * (RFC 7323 3.2) */
	uint64_t tcp_keepalive_probes;	/* keep-alive probes sent */
	uint64_t tcp_keepalive_drops;	/* connections aborted: count probes
					 * unanswered (-CUB_ETIMEDOUT) */
	uint64_t tcp_pmtu_lowered;	/* ICMP "fragmentation needed" that
					 * lowered a connection's path MTU
					 * (also in icmp_err_reported) */
	uint64_t tcp_pmtu_raised;	/* connections whose lowered path MTU
					 * went back up when its cache entry
					 * expired (RFC 1191 6.3) */
	uint64_t tcp_orphan_resets;	/* orphans (handle closed) reset after
					 * params.orphan_retries zero-window
					 * probes with the window still shut */
	uint64_t tcp_orphan_overflow;	/* closes reset at once (RST, data
					 * dropped) because the connection
					 * would have been one orphan more
					 * than params.max_orphans */
	uint64_t tcp_orphans;		/* orphans now: a level, not a
					 * counter (docs/net.md, "Orphans") */
};

/*
 * TCP tunables of an interface (cub_tcp_set_params); every time in ns.
 * Defaults: CUB_TCP_* below.
 */
struct cub_tcp_params {
	uint64_t rto_initial;		/* before the first RTT sample */
	uint64_t rto_min, rto_max;	/* bounds of the computed RTO */
	unsigned max_retries;		/* timeouts of one segment before the
					 * connection fails (-CUB_ETIMEDOUT) */
	unsigned syn_retries;		/* the same for a SYN or SYN-ACK */
	uint64_t time_wait;		/* TIME_WAIT (our "2 MSL") */
	uint64_t fin_timeout;		/* a closed handle's FIN_WAIT_2 */
	unsigned orphan_retries;	/* zero-window probes a closed
					 * handle's connection sends, answered
					 * or not, before it is reset
					 * (CUB_TCP_ORPHAN_RETRIES; an open
					 * handle's probes for ever while the
					 * peer answers, RFC 9293 3.8.6.1) */
	uint32_t sndbuf, rcvbuf;	/* ring sizes of connections created
					 * from now on (CUB_TCP_BUF_MIN..
					 * CUB_TCP_BUF_MAX bytes) */
	int timestamps;			/* > 0: connections created from now
					 * on offer and accept RFC 7323
					 * timestamps (the default); < 0:
					 * they do neither */
	uint64_t paws_idle;		/* TS.Recent older than this is no
					 * longer used by PAWS (RFC 7323 5.5:
					 * 24 days, CUB_TCP_PAWS_IDLE) */
	/* Keep-alive of connections created from now on (RFC 9293
	 * 3.8.4; cub_tcp_set_keepalive changes one connection's). */
	int keepalive;			/* > 0: on; < 0: off (the default) */
	uint64_t keep_idle;		/* CUB_TCP_KEEPIDLE */
	uint64_t keep_intvl;		/* CUB_TCP_KEEPINTVL */
	unsigned keep_cnt;		/* CUB_TCP_KEEPCNT */
	unsigned max_orphans;		/* orphans at once (1..
					 * CUB_TCP_ORPHANS_MAX; default
					 * CUB_TCP_ORPHANS): a close that would
					 * make one more resets its connection
					 * instead (Linux's tcp_max_orphans) */
};

/*
 * DHCP tunables of an interface (cub_dhcp_set_params), taken by each
 * cub_net_dhcp and each new lease of a keeper when it starts. Defaults:
 * CUB_DHCP_* in the DHCP section below.
 */
struct cub_dhcp_params {
	/* The conflict check of an ACKed address (RFC 5227 2.1.1; the
	 * names in capitals are its constants): probe_num ARP probes, the
	 * first after a random 0..probe_wait_ns, each next one a random
	 * probe_min_ns..probe_max_ns after the one before, then
	 * announce_wait_ns after the last before the address is taken. A
	 * conflict anywhere in that window declines it. Each time is at
	 * most CUB_DHCP_PROBE_TIME_MAX_NS. */
	unsigned probe_num;		/* PROBE_NUM (0 .. CUB_DHCP_PROBE_NUM_MAX;
					 * 0: no check, and then every time
					 * below must be 0) */
	uint64_t probe_wait_ns;		/* PROBE_WAIT */
	uint64_t probe_min_ns;		/* PROBE_MIN (at most probe_max_ns) */
	uint64_t probe_max_ns;		/* PROBE_MAX */
	uint64_t announce_wait_ns;	/* ANNOUNCE_WAIT (not 0 when probe_num
					 * is: the last probe is answered
					 * within it) */
	uint64_t decline_wait_ns;	/* after a DECLINE, before DISCOVER
					 * again (RFC 2131 3.1 step 5: 10 s) */
	unsigned max_declines;		/* conflicts (1..CUB_DHCP_DECLINES_MAX)
					 * after which a run gives up:
					 * -CUB_EADDRNOTAVAIL */
	/* RFC 5227 2.1.1's rate limit: once the interface has seen
	 * max_conflicts conflicts (probes that found their address in use,
	 * addresses lost), a new address is probed at most once per
	 * rate_limit_ns. */
	unsigned max_conflicts;		/* MAX_CONFLICTS (1 ..
					 * CUB_DHCP_MAX_CONFLICTS_MAX) */
	uint64_t rate_limit_ns;		/* RATE_LIMIT_INTERVAL (0 ..
					 * CUB_DHCP_RATE_LIMIT_MAX_NS; 0: no
					 * limit) */
	/* Once a lease's address is configured (RFC 5227 2.3, 2.4): */
	unsigned announce_num;		/* ARP announcements of it (0 ..
					 * CUB_DHCP_ANNOUNCE_MAX; 0: none) */
	uint64_t announce_interval_ns;	/* between them (0 ..
					 * CUB_DHCP_ANNOUNCE_INTERVAL_MAX_NS) */
	uint64_t defend_interval_ns;	/* a conflict this soon after a
					 * defended one loses the address
					 * (0 .. CUB_DHCP_DEFEND_INTERVAL_MAX_NS;
					 * 0: every conflict is defended) */
};

/*
 * DNS tunables of an interface (cub_dns_set_params in cubrt/dns.h),
 * taken by each lookup through it. Default: all off (zero).
 */
struct cub_dns_params {
	bool rotate;			/* resolv.conf's "options rotate":
					 * successive lookups start at
					 * successive servers of their list */
};

/* One ARP cache entry (private). */
struct cubi_arp_entry {
	cub_ip4_t ip;
	uint8_t mac[6];
	uint8_t state;			/* CUBI_ARP_FREE/PENDING/VALID (arp.c) */
	uint8_t waiters;		/* coroutines resolving this entry */
	uint64_t expires;		/* VALID: cub_time_now() deadline */
	uint64_t sent;			/* PENDING: when the last request left */
};

/* One path MTU cache entry (private, pmtu_cache.c); free while mtu is
 * 0. */
struct cubi_pmtu_entry {
	cub_ip4_t dst;
	uint16_t mtu;			/* the estimate, 552..1499 */
	bool nodf;			/* reported below 552: send without DF */
	uint64_t at;			/* when it was learnt (cub_time_now) */
};

/* A datagram being reassembled (ip4_frag.c); free while buf is NULL. */
struct cubi_ip4_reasm {
	uint8_t *buf;			/* heap: headers, payload, bitmaps */
	cub_ip4_t src, dst;
	uint16_t id;
	uint8_t proto;
	uint8_t ihl;			/* the offset-0 fragment's header
					 * length (0 until it came) */
	uint32_t end;			/* payload length once the last
					 * fragment came, else 0 */
	uint32_t held;			/* payload bytes held */
	uint32_t top;			/* the largest end held */
	bool bcast;			/* to a broadcast address */
	uint64_t born, expires;		/* cub_time_now() */
};

/*
 * An interface in caller storage. Fields are private: use the calls.
 * The storage must stay valid while anything uses the interface.
 */
struct cub_netif {
	struct cub_mutex lock;		/* protects everything below */
	char name[16];
	uint8_t mac[6];
	const struct cub_netif_ops *ops;
	void *driver;			/* the ops' own pointer */
	cub_ip4_t addr, mask, gateway;	/* addr 0: unconfigured */
	uint16_t ip_id;			/* next IPv4 identification */
	uint16_t ping_id;		/* next echo identifier */
	uint16_t next_port;		/* next ephemeral port to try */
	bool dhcp;			/* a DHCP client runs: unconfigured, it
					 * takes IPv4 to any address and sends
					 * broadcasts from 0.0.0.0 (dhcp.c) */
	uint64_t arp_ttl_ns, arp_resolve_ns;
	struct cubi_arp_entry arp[CUB_ARP_CACHE_SIZE];
	struct cub_cond arp_cond;	/* broadcast when an entry changes */
	struct cub_list pings;		/* cubi_ping waiters (on their stacks) */
	struct cub_cond ping_cond;	/* broadcast when a ping is answered */
	struct cub_list udps;		/* open endpoints (cub_udp.link) */
	struct cub_list tcps;		/* TCP blocks (cub_tcp.link, tcp*.c) */
	struct cub_cond tcp_timer_cond;	/* wakes the TCP timer coroutine */
	uint64_t tcp_timer_at;		/* when it wakes next (UINT64_MAX) */
	bool tcp_timer_on;		/* it runs (exits when tcps is empty) */
	uint16_t tcp_next_port;		/* next ephemeral port to try */
	uint64_t tcp_secret;		/* ISN key (RFC 6528), from
					 * cub_arch_random at init */
	struct cub_tcp_params tcp_params;
	struct cub_dhcp_params dhcp_params;
	struct cub_dns_params dns_params;
	unsigned dns_next;		/* rotation: the next lookup's first
					 * server, modulo its list (dns_query.c) */
	cub_ip4_t arp_probe_ip;		/* an ARP probe (RFC 5227) waits for
					 * this address's owner (0: none) */
	bool arp_probe_conflict;	/* ...and someone answered or probed
					 * it too (arp.c) */
	/* RFC 5227 2.3 and 2.4 for an address leased by DHCP (arp_defend.c):
	 * defend_ip is 0 or addr (a configure to another address clears
	 * it and ends the announcements). */
	cub_ip4_t arp_defend_ip;	/* announced and defended (0: none) */
	uint64_t arp_defend_ns;		/* its defend_interval_ns */
	bool arp_conflict_seen;		/* a conflict was defended, at */
	uint64_t arp_conflict_at;	/* ...this time (cub_time_now) */
	unsigned arp_announce_left;	/* announcements still to send */
	uint64_t arp_announce_at;	/* when the next one is due */
	uint64_t arp_announce_gap;	/* announce_interval_ns */
	bool arp_timer_on;		/* the "arp announce" coroutine runs */
	struct cub_cond arp_timer_cond;	/* wakes it */
	struct cub_udp *dhcp_keeper_u;	/* a keeper's port 68 (dhcp_keep.c):
					 * told of a lost address */
	/* RFC 5227's rate limit (dhcp_check.c, arp_defend.c): conflicts
	 * counted since the count last started over, which it does at a
	 * conflict that comes rate_limit_ns or more after an address was
	 * configured by DHCP (held that long without one); when the last
	 * conflict check began; when DHCP last configured an address (0:
	 * none since the last conflict). */
	unsigned dhcp_conflicts;
	uint64_t dhcp_probe_at;
	uint64_t dhcp_bound_at;
	struct cubi_ip4_reasm reasm[CUB_IP4_REASM_SLOTS_MAX];	/* ip4_frag.c */
	unsigned reasm_busy;		/* slots in use */
	unsigned reasm_slots;		/* slots usable, the busy ones among
					 * the first so many (0:
					 * CUB_IP4_REASM_SLOTS) */
	uint64_t reasm_ns;		/* their timeout (0: CUB_IP4_REASM_NS) */
	uint64_t unreach_at;		/* ICMP errors' token bucket: */
	unsigned unreach_tokens;	/* last refill, tokens (icmp_err.c) */
	struct cubi_pmtu_entry pmtu[CUB_PMTU_CACHE_SIZE];	/* pmtu_cache.c */
	uint64_t pmtu_ttl_ns;		/* their lifetime (0: CUB_PMTU_TTL_NS) */
	struct cub_netif_stats st;
};

/*
 * Initialises nif in caller storage: name (copied, at most 15 bytes
 * kept), Ethernet address mac (unicast), ops (ops->send non-NULL) and the
 * driver's pointer (cub_netif_driver). Unconfigured: no address, so
 * nothing IPv4 is accepted or sent until cub_netif_configure.
 * Returns 0 or -CUB_EINVAL (NULL argument, multicast or zero MAC).
 * Contexts: any (nif not in use).
 */
int cub_netif_init(struct cub_netif *nif, const char *name,
		   const uint8_t mac[6], const struct cub_netif_ops *ops,
		   void *driver);

/* The driver pointer given to cub_netif_init. Contexts: any. */
void *cub_netif_driver(const struct cub_netif *nif);

/*
 * Processes one received Ethernet frame (copied as needed before return;
 * frame is the caller's again afterwards): counts it and either drops it
 * (counted by reason) or hands it to ARP / IPv4; may send replies (ARP
 * reply, echo reply, port unreachable) through ops->send before
 * returning. Never blocks except on the interface's lock.
 * NULL nif or frame: ignored. Contexts: task.
 */
void cub_netif_input(struct cub_netif *nif, const void *frame, size_t len);

/*
 * Gives nif the address addr/prefix_len and default gateway (0: none, so
 * only on-link destinations are reachable). addr 0 unconfigures it. The
 * ARP cache is flushed. Returns 0 or -CUB_EINVAL: NULL nif, prefix_len
 * outside 1..32 (0 allowed only with addr 0), addr multicast or
 * 255.255.255.255, a gateway that is not on-link or is addr itself.
 * Contexts: task.
 */
int cub_netif_configure(struct cub_netif *nif, cub_ip4_t addr,
			unsigned prefix_len, cub_ip4_t gateway);

/*
 * nif's configuration: its address (0: unconfigured), prefix length and
 * gateway (0: none); each pointer may be NULL. 0 or -CUB_EINVAL (NULL
 * nif). Contexts: task.
 */
int cub_netif_config(struct cub_netif *nif, cub_ip4_t *addr,
		     unsigned *prefix_len, cub_ip4_t *gateway);

/* Copies nif's counters into *st. 0 or -CUB_EINVAL. Contexts: task. */
int cub_netif_stats(struct cub_netif *nif, struct cub_netif_stats *st);

/*
 * Binds arch NIC `nic` (arch.h): allocates an interface named "net<nic>"
 * with the card's MAC whose send is cub_arch_nic_send, and spawns the
 * receive coroutine "net rx <nic>" that takes every frame with
 * cub_arch_nic_recv and gives it to cub_netif_input, sleeping on an irq
 * event signalled by cub_arch_nic_set_notify between bursts. The
 * interface starts unconfigured. Returns 0 and *out; -CUB_ENODEV when
 * there is no such card (always on the host); -CUB_EBUSY when nic is
 * already attached; -CUB_EINVAL (out NULL); -CUB_ENOMEM. Contexts: task.
 */
int cub_net_attach(unsigned nic, struct cub_netif **out);

/* ------------------------------------------------------------------ ARP */

/*
 * Sets nif's ARP entry lifetime (ttl_ns, default CUB_ARP_TTL_NS) and how
 * long cub_udp_sendto waits for a resolution (resolve_ns, default
 * CUB_ARP_RESOLVE_NS); 0 keeps a value. 0 or -CUB_EINVAL. Contexts: task.
 */
int cub_arp_set_timeouts(struct cub_netif *nif, uint64_t ttl_ns,
			 uint64_t resolve_ns);

/*
 * Finds ip's Ethernet address: from the cache when it holds a live entry
 * (no request sent), otherwise by broadcasting up to CUB_ARP_TRIES
 * requests, min(CUB_ARP_RETRY_NS, timeout_ns / CUB_ARP_TRIES) apart, and
 * blocking until a reply fills the entry. Returns 0 and mac;
 * -CUB_EHOSTUNREACH when no reply came within the tries and timeout_ns;
 * -CUB_ENETUNREACH when nif is unconfigured or ip is not on-link;
 * -CUB_EINVAL (NULL arguments, ip 0 or a broadcast); -CUB_EAGAIN when
 * every cache entry is being resolved. Contexts: task (blocks).
 */
int cub_arp_resolve(struct cub_netif *nif, cub_ip4_t ip, uint8_t mac[6],
		    uint64_t timeout_ns);

/*
 * Non-blocking cache lookup: 0 and mac when ip has a live entry, else
 * -CUB_ENOENT (-CUB_EINVAL for NULL arguments). Contexts: task.
 */
int cub_arp_lookup(struct cub_netif *nif, cub_ip4_t ip, uint8_t mac[6]);

/* ----------------------------------------------------------------- IPv4 */

/*
 * Received fragments are reassembled (RFC 791, RFC 815) in
 * CUB_IP4_REASM_SLOTS slots per interface (cub_ip4_set_reasm_slots),
 * each with a 65535-byte buffer taken from the heap when a datagram's
 * first fragment arrives and given back when it completes or is
 * dropped. An incomplete datagram is dropped once its timeout (from its
 * first fragment) has passed, noticed when the next IPv4 frame arrives
 * or by cub_ip4_reasm_busy; if its offset-0 fragment came, an ICMP
 * "fragment reassembly time exceeded" (type 11 code 1) quoting that
 * fragment's IPv4 header and first 8 bytes goes back to the sender's
 * Ethernet address (RFC 792, RFC 1122 3.3.2), unless it was sent to a
 * broadcast or multicast address, from no address, or is an ICMP error
 * itself, and only within the token bucket that limits port
 * unreachables (about 100 a second, bursts of 10). When every slot is
 * busy a new datagram evicts the oldest (no ICMP). Overlapping
 * fragments drop the whole datagram (exact duplicates are dropped
 * alone). docs/net.md.
 */

/*
 * Sets how long nif keeps an incomplete datagram (0: CUB_IP4_REASM_NS,
 * 30 s), counted from each datagram's first fragment (those being
 * reassembled included). Returns 0 or
 * -CUB_EINVAL (NULL nif). Contexts: task. Locks: takes nif->lock.
 */
int cub_ip4_set_reasm_timeout(struct cub_netif *nif, uint64_t timeout_ns);

/*
 * Sets how many datagrams nif reassembles at once (1..
 * CUB_IP4_REASM_SLOTS_MAX; a new interface has CUB_IP4_REASM_SLOTS).
 * Raising it lets more datagrams in from now on; lowering it drops at
 * once the incomplete datagrams held beyond the new count (counted in
 * ip_reasm_evicted, their buffers freed; no ICMP). Returns 0 or
 * -CUB_EINVAL (NULL nif, slots 0 or above the maximum; nothing
 * changed). Contexts: task. Locks: takes nif->lock.
 */
int cub_ip4_set_reasm_slots(struct cub_netif *nif, unsigned slots);

/*
 * The path MTU cache (pmtu_cache.c, RFC 1191 6.3): what "fragmentation
 * needed" taught a TCP connection about a destination (tcp_pmtu.c) is
 * kept per interface for CUB_PMTU_TTL_NS (10 minutes, RFC 1191 6.3's
 * suggestion), in CUB_PMTU_CACHE_SIZE entries (the oldest makes room);
 * a connection to that destination opened meanwhile starts from it
 * (its MSS at once, when the peer's SYN or SYN-ACK comes). When an
 * entry expires, new connections start at 1500 again (RFC 1191's way
 * to find a path that grew), and so do live connections whose estimate
 * came from it (tcp_pmtu.c looks again when it would expire: a report
 * that renewed it meanwhile keeps them low a lifetime longer). The
 * estimate of a path that is still small falls again at the next
 * report: a lifetime is the least time between two rises.
 * cub_netif_configure empties it.
 */
/* CUB_PMTU_CACHE_SIZE, CUB_PMTU_TTL_NS: at the top. */

/* The lifetime of new and existing entries (0: CUB_PMTU_TTL_NS);
 * a live connection whose estimate came from an entry looks at it
 * again when the lifetime in force then says it expires (a shorter
 * lifetime set later reaches it at that look, not sooner).
 * 0 or -CUB_EINVAL (NULL nif). Contexts: task. */
int cub_pmtu_set_ttl(struct cub_netif *nif, uint64_t ttl_ns);

/* nif's path MTU estimate for dst: the cached one, or CUB_IP4_MTU
 * when none is cached (or it expired). 0 or -CUB_EINVAL (NULL
 * argument). Contexts: task. */
int cub_pmtu_get(struct cub_netif *nif, cub_ip4_t dst, uint16_t *mtu);

/*
 * Drops the incomplete datagrams whose timeout has passed (each with its
 * ICMP time exceeded, as above) and returns
 * how many slots are still busy (0 up to the slot count), or -CUB_EINVAL
 * (NULL nif). Contexts: task. Locks: takes nif->lock.
 */
int cub_ip4_reasm_busy(struct cub_netif *nif);

/* ----------------------------------------------------------------- ICMP */

/*
 * Sends one ICMP echo request (seq, payload_len pattern bytes) to dst
 * (through the gateway when off-link) and waits for the matching reply
 * (identifier, sequence and payload checked). Returns 0 and *rtt_ns
 * (when rtt_ns is non-NULL); -CUB_ETIMEDOUT when no reply came within
 * timeout_ns, the ARP resolution of the next hop included;
 * -CUB_EMSGSIZE above CUB_PING_PAYLOAD_MAX; -CUB_ENETUNREACH
 * unconfigured / no route; -CUB_EINVAL (NULL nif, dst 0); a send error
 * of ops->send. Contexts: task (blocks).
 */
int cub_net_ping(struct cub_netif *nif, cub_ip4_t dst, uint16_t seq,
		 size_t payload_len, uint64_t timeout_ns, uint64_t *rtt_ns);

/*
 * The protocols' calls, each in a header of its own (all included here,
 * so that <cubrt/net.h> gives the whole network API).
 */
#include <cubrt/udp.h>
#include <cubrt/dhcp.h>
#include <cubrt/tftp.h>
#include <cubrt/tcp.h>

#endif
