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
 * arrives (freed when it completes or is dropped; at most
 * CUB_IP4_REASM_SLOTS per interface).
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
 * interface, and how long an incomplete one is kept (Linux's 30 s). */
#define CUB_IP4_REASM_SLOTS 4
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
					 * UDP peer, a kind not used, a TCP
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
};

/*
 * DHCP tunables of an interface (cub_dhcp_set_params), taken by each
 * cub_net_dhcp and each new lease of a keeper when it starts. Defaults:
 * CUB_DHCP_* in the DHCP section below.
 */
struct cub_dhcp_params {
	uint64_t probe_ns;		/* after an ACK, how long one ARP probe
					 * of the address waits for its owner
					 * (RFC 5227) before it is configured;
					 * 0: no probe */
	uint64_t decline_wait_ns;	/* after a DECLINE, before DISCOVER
					 * again (RFC 2131 3.1 step 5: 10 s) */
	unsigned max_declines;		/* conflicts (1..CUB_DHCP_DECLINES_MAX)
					 * after which a run gives up:
					 * -CUB_EADDRNOTAVAIL */
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
	cub_ip4_t arp_probe_ip;		/* an ARP probe (RFC 5227) waits for
					 * this address's owner (0: none) */
	bool arp_probe_conflict;	/* ...and someone answered or probed
					 * it too (arp.c) */
	struct cubi_ip4_reasm reasm[CUB_IP4_REASM_SLOTS];	/* ip4_frag.c */
	unsigned reasm_busy;		/* slots in use */
	uint64_t reasm_ns;		/* their timeout (0: CUB_IP4_REASM_NS) */
	uint64_t unreach_at;		/* port unreachable token bucket: */
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
 * CUB_IP4_REASM_SLOTS slots per interface, each with a 65535-byte buffer
 * taken from the heap when a datagram's first fragment arrives and given
 * back when it completes or is dropped. An incomplete datagram is dropped
 * once its timeout (from its first fragment) has passed, noticed when the
 * next IPv4 frame arrives or by cub_ip4_reasm_busy; when every slot is
 * busy a new datagram evicts the oldest. Overlapping fragments drop the
 * whole datagram (exact duplicates are dropped alone). docs/net.md.
 */

/*
 * Sets how long nif keeps an incomplete datagram (0: CUB_IP4_REASM_NS,
 * 30 s), counted from each datagram's first fragment (those being
 * reassembled included). Returns 0 or
 * -CUB_EINVAL (NULL nif). Contexts: task. Locks: takes nif->lock.
 */
int cub_ip4_set_reasm_timeout(struct cub_netif *nif, uint64_t timeout_ns);

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
 * Drops the incomplete datagrams whose timeout has passed and returns
 * how many slots are still busy (0..CUB_IP4_REASM_SLOTS), or -CUB_EINVAL
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

/* ------------------------------------------------------------------ UDP */

struct cubi_udp_ring;

/*
 * A UDP endpoint in caller storage, bound to one local port of one
 * interface. Fields are private. Between cub_udp_open and the return of
 * cub_udp_close the storage belongs to the stack.
 */
struct cub_udp {
	uint32_t magic;			/* CUBI_UDP_OPEN while open */
	struct cub_list link;		/* in nif->udps */
	struct cub_netif *nif;
	uint16_t port;
	unsigned users;			/* calls inside (close waits for 0) */
	struct cub_cond cond;		/* data arrived, or closing */
	struct cubi_udp_ring *ring;	/* the queue (heap, udp.c) */
	unsigned head, len;		/* oldest queued slot, queued count */
	size_t dhead, dlen;		/* oldest queued byte, bytes queued */
	uint64_t drops;			/* datagrams dropped: queue full */
	cub_ip4_t peer;			/* cub_udp_connect's peer, 0: none */
	uint16_t peer_port;
	int err;			/* an ICMP error for the next call */
};

/*
 * Opens u on nif bound to local_port, or with local_port 0 to a free
 * ephemeral port (49152..65535, handed out round robin). Returns 0;
 * -CUB_EADDRINUSE when the port is bound on nif (or, for 0, none is
 * free); -CUB_EINVAL (NULL argument); -CUB_ENOMEM (the receive ring).
 * Contexts: task.
 */
int cub_udp_open(struct cub_udp *u, struct cub_netif *nif,
		 uint16_t local_port);

/* u's local port (0 when u is not open). Contexts: task. */
uint16_t cub_udp_port(const struct cub_udp *u);

/*
 * Sends len bytes to dst:port from nif's address and u's port, with a
 * UDP checksum. Resolves the next hop (dst on-link, else the gateway) by
 * ARP, blocking up to the interface's resolve time (CUB_ARP_RESOLVE_NS);
 * the limited broadcast 255.255.255.255 and the subnet's broadcast go to
 * ff:ff:ff:ff:ff:ff without ARP. Returns len; -CUB_EHOSTUNREACH (no ARP
 * answer); -CUB_EMSGSIZE above CUB_UDP_PAYLOAD_MAX (65507; above
 * CUB_UDP_FRAME_PAYLOAD the datagram leaves in fragments of one IPv4
 * identification, DF clear);
 * -CUB_ENETUNREACH (unconfigured, multicast, or off-link without a
 * gateway); -CUB_EADDRNOTAVAIL (dst is nif's own address: no loopback);
 * -CUB_EINVAL (NULL u, NULL buf with len > 0, dst 0, port 0);
 * -CUB_EBADF (u not open, or closed while resolving); -CUB_EAGAIN (every
 * ARP entry is being resolved) or another ops->send error (counted in
 * tx_errors; a NIC's full transmit ring gives -CUB_EAGAIN: try again).
 * Contexts: task (blocks while resolving).
 */
int cub_udp_sendto(struct cub_udp *u, cub_ip4_t dst, uint16_t port,
		   const void *buf, size_t len);

/*
 * Takes the oldest queued datagram: copies at most cap bytes into buf
 * and returns the datagram's full length (the rest is discarded), with
 * the sender in *src and *src_port (each may be NULL). Waits up to
 * timeout_ns for one: 0 polls (-CUB_EAGAIN when none is queued),
 * UINT64_MAX waits forever. Returns -CUB_ETIMEDOUT, -CUB_EBADF (u not
 * open, or closed while waiting), -CUB_EINVAL (NULL u, NULL buf with
 * cap > 0). Several coroutines may wait on one endpoint: each datagram
 * goes to exactly one of them. Contexts: task (blocks).
 */
int cub_udp_recvfrom(struct cub_udp *u, void *buf, size_t cap,
		     cub_ip4_t *src, uint16_t *src_port, uint64_t timeout_ns);

/* Datagrams u dropped because its queue was full. Contexts: task. */
uint64_t cub_udp_drops(const struct cub_udp *u);

/*
 * Connects u to dst:port for ICMP errors (RFC 1122 4.1.3.3): an ICMP
 * destination unreachable or time exceeded about a datagram u sent to
 * that peer is kept as u's pending error, which the next
 * cub_udp_sendto (sending nothing) or cub_udp_recvfrom (a blocked one
 * wakes) returns once: -CUB_ECONNREFUSED (port or protocol
 * unreachable), -CUB_EHOSTUNREACH (host unreachable, time exceeded),
 * -CUB_ENETUNREACH (net unreachable), -CUB_EMSGSIZE (fragmentation
 * needed). An unconnected endpoint never hears of them (as on Linux:
 * they are counted, icmp_err_ignored). Sending to and receiving from
 * other addresses still works (no filter). dst 0 disconnects (and
 * drops a pending error). 0, -CUB_EINVAL (NULL u, dst with port 0),
 * -CUB_EBADF (u not open). Contexts: task.
 */
int cub_udp_connect(struct cub_udp *u, cub_ip4_t dst, uint16_t port);

/* Takes u's pending ICMP error (negative), or 0 when there is none;
 * -CUB_EBADF when u is not open. Contexts: task. */
int cub_udp_error(struct cub_udp *u);

/*
 * Unbinds u: queued datagrams are discarded, blocked receivers (and
 * senders waiting for ARP) return -CUB_EBADF; returns once none of them
 * is still inside, so u's storage is the caller's again. Returns 0 or
 * -CUB_EBADF when u is not open (-CUB_EINVAL for NULL). Contexts: task.
 */
int cub_udp_close(struct cub_udp *u);

/* ----------------------------------------------------------------- DHCP */

#define CUB_DHCP_RETRY_NS (1000ull * 1000 * 1000)	/* first retry; doubles
							 * up to 8x */
/* Defaults of struct cub_dhcp_params (cub_dhcp_set_params). One probe
 * and 200 ms, not RFC 5227's three probes over 4-7 s: an answer is one
 * round trip on the link (the whole DHCP exchange took 3-10 ms under
 * QEMU TCG), and every boot without a conflict waits the whole probe;
 * see docs/net.md. */
#define CUB_DHCP_PROBE_NS (200ull * 1000 * 1000)
#define CUB_DHCP_PROBE_MAX_NS (10ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DECLINE_WAIT_NS (10ull * 1000 * 1000 * 1000)	/* RFC 2131 */
#define CUB_DHCP_DECLINE_WAIT_MAX_NS (3600ull * 1000 * 1000 * 1000)
#define CUB_DHCP_DECLINES 3		/* conflicts before giving up */
#define CUB_DHCP_DECLINES_MAX 16

/* What a DHCP server leased (host byte order). */
struct cub_dhcp_lease {
	cub_ip4_t addr;			/* the interface's address now */
	unsigned prefix_len;		/* from the subnet mask option (or the
					 * address's class when absent) */
	cub_ip4_t gateway;		/* the first router on the subnet, or 0 */
	cub_ip4_t dns;			/* the first DNS server, or 0 */
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
 * -CUB_EINVAL (NULL nif; probe_ns over CUB_DHCP_PROBE_MAX_NS,
 * decline_wait_ns over CUB_DHCP_DECLINE_WAIT_MAX_NS, max_declines not in
 * 1..CUB_DHCP_DECLINES_MAX). Contexts: task.
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
 * address is probed (RFC 2131 3.1 step 5, RFC 5227): one ARP request
 * from sender 0.0.0.0 for it, and cub_dhcp_params.probe_ns of waiting
 * (0: no probe). An ARP packet from that address, or another host's
 * probe for it, is a conflict: a DECLINE (broadcast, naming the address
 * and the server) goes out, and after decline_wait_ns a new DISCOVER
 * with a new transaction ID; after max_declines conflicts, or when the
 * wait would pass timeout_ns, the call gives up with -CUB_EADDRNOTAVAIL.
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
	unsigned lost;			/* leases ended: a NAK, or expiry */
	unsigned leased;		/* new leases after a loss */
	unsigned ignored;		/* replies ignored: malformed, not ours */
	unsigned probes;		/* ARP probes of ACKed addresses */
	unsigned conflicts;		/* ...that found the address in use */
	unsigned declines;		/* DECLINEs sent for them */
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
 *     succeeds or the keeper stops.
 * An ACK that changes the prefix, gateway or DNS reconfigures the
 * interface (flushing its ARP cache); one that keeps them does not touch
 * it. changed (may be NULL) is called from the keeper's coroutine after
 * each change of the interface: the address lost (addr 0) or a new
 * lease; it may not block for long. Infinite leases need no keeper.
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

/* ----------------------------------------------------------------- TFTP */

#define CUB_TFTP_NAME_MAX 255		/* longest file name asked for */
#define CUB_TFTP_TRIES 5		/* sends of one request or ACK */
#define CUB_TFTP_RETRY_NS (500ull * 1000 * 1000)	/* between them */

/*
 * Fetches file `name` from the TFTP server at server:69 (RFC 1350, octet
 * mode) into buf, lock-step, retransmitting a lost request or ACK every
 * CUB_TFTP_RETRY_NS up to CUB_TFTP_TRIES times. Returns the file's
 * length; -CUB_ENOENT / -CUB_EACCES when the server says the file is
 * missing / not readable, -CUB_EIO for its other errors; -CUB_ENOSPC
 * when the file is longer than cap (the server is told); -CUB_ETIMEDOUT
 * when the server stops answering or timeout_ns passes (UINT64_MAX:
 * no limit but the tries); -CUB_EINVAL (NULL nif, server 0, a name
 * empty or longer than CUB_TFTP_NAME_MAX, NULL buf with cap > 0); the
 * errors of cub_udp_open and cub_udp_sendto (e.g. -CUB_EHOSTUNREACH).
 * Contexts: task (blocks).
 */
long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns);

/* ------------------------------------------------------------------ TCP */

/*
 * TCP (RFC 9293; retransmission timer per RFC 6298, congestion control
 * per RFC 5681). A connection or a
 * listener is a struct cub_tcp that the stack allocates (connect, accept,
 * listen) and frees itself once the handle is released (close, abort)
 * and the connection has finished (FIN exchange, TIME_WAIT). A handle
 * must not be used after cub_tcp_close / cub_tcp_abort returns.
 *
 * Buffers: each connection allocates, when it is created, a send and a
 * receive ring of the interface's params.sndbuf / rcvbuf bytes (default
 * CUB_TCP_SNDBUF / CUB_TCP_RCVBUF, 64 KiB); nothing is allocated per
 * segment. The receive window is the receive ring's free space beyond
 * rcv_nxt, scaled (RFC 7323) when both SYNs carried the window scale
 * option (ours: the smallest shift that fits the ring), at most 65535
 * otherwise; a reader freeing space sends a window update. Segments
 * beyond rcv_nxt within the window are kept in the receive ring (up to
 * 8 separate ranges per connection: tcp_ooo_kept; more are dropped:
 * tcp_ooo) and draw an immediate duplicate ACK with SACK blocks (RFC
 * 2018) when both SYNs offered SACK; a FIN beyond a hole waits for it.
 *
 * Timers run in one coroutine per interface ("tcp timer"), spawned with
 * the first TCP block and ended with the last, that sleeps until the
 * earliest deadline: retransmission (RTO from RFC 6298: initial
 * rto_initial, bounds rto_min..rto_max, doubled at each timeout; after
 * max_retries timeouts of one segment, syn_retries of a SYN, the
 * connection fails with -CUB_ETIMEDOUT), persist (zero-window probes,
 * same backoff, failing after max_retries unanswered probes; a closed
 * handle's connection is reset after orphan_retries probes, answered or
 * not, while the window stays shut: tcp_orphan_resets), TIME_WAIT
 * (time_wait, default 2 s: shorter than RFC 9293's 2 MSL, fine on a LAN)
 * and FIN_WAIT_2 of a closed handle (fin_timeout).
 *
 * Congestion control (RFC 5681): the sender keeps at most min(cwnd,
 * the peer's window) beyond the first unacknowledged byte. cwnd starts
 * at RFC 6928's initial window (10 segments of 1460; 1 MSS when the SYN
 * timed out), grows by the bytes ACKed (at most 2 MSS per ACK) in slow
 * start and by one MSS per cwnd ACKed past ssthresh; three duplicate
 * ACKs resend the first unacknowledged segment (fast retransmit,
 * tcp_fast_retransmits), halve ssthresh and start NewReno's fast
 * recovery (RFC 6582: each partial ACK resends the next hole,
 * tcp_partial_acks); a timeout sets ssthresh to half the flight and
 * cwnd to one MSS, and sending starts again at the first
 * unacknowledged byte. With SACK agreed, fast recovery follows RFC 6675
 * (cwnd = ssthresh; every ACK resends the holes below the highest
 * SACKed byte while pipe leaves room). cub_tcp_info shows cwnd and
 * ssthresh. Options sent: MSS (CUB_TCP_MSS), window scale and
 * SACK-permitted on SYNs, timestamps (RFC 7323: offered in our SYN,
 * answered when the peer's SYN carried them; then in every segment,
 * echoed by its rules, RTT samples from the echo, PAWS drops segments
 * with an old timestamp: tcp_paws), SACK blocks in ACKs and data
 * segments while out-of-order data is held (as many as the 40 bytes
 * leave: 4, or 3 beside timestamps); the payload of a segment is the
 * MSS minus its options. The peer's MSS is honoured (536 without the
 * option); a malformed option list drops the segment (tcp_bad). No
 * Nagle, no delayed ACKs, no urgent data. Keep-alive when asked
 * (cub_tcp_set_keepalive, cub_tcp_params.keepalive). ICMP errors
 * about a connection's segments (RFC 1122 4.2.3.9, matched by
 * addresses, ports and a sequence number in flight): port or protocol
 * unreachable in SYN_SENT fails the connect (-CUB_ECONNREFUSED); the
 * others are soft errors, kept and given instead of -CUB_ETIMEDOUT if
 * the connection then times out (as Linux). Path MTU discovery (RFC
 * 1191): segments carry DF; "fragmentation needed" with an MTU below
 * the connection's estimate (1500 at first) and the quoted datagram's
 * length lowers the send MSS to that MTU - 40 and resends what is in
 * flight at once in segments of the new size (MTU 0: RFC 1191's
 * plateaus; below 552: 552 and no DF from then on); kept 10 minutes
 * per destination for the next connections (cub_pmtu_get); when that
 * entry expires, the connection's estimate goes back up to 1500 and
 * the next full segment tries it (RFC 1191 6.3; tcp_pmtu_raised), at
 * most once per lifetime after a lowering (cub_tcp_info: pmtu,
 * pmtu_nodf).
 *
 * Errors of a connection (-CUB_ECONNRESET: the peer reset it;
 * -CUB_ECONNREFUSED: a RST answered our SYN; -CUB_ETIMEDOUT: the peer
 * stopped answering) are sticky: every later send or recv returns them.
 * The peer's RST (at rcv_nxt; elsewhere in the window it draws a
 * challenge ACK, RFC 5961) ends an ESTABLISHED, FIN_WAIT or CLOSE_WAIT
 * connection at once with -CUB_ECONNRESET, also after the peer's FIN:
 * no RST answers it, what waited to be sent is dropped, a recv blocked
 * on it wakes. Bytes received in order before it stay readable, as
 * Linux keeps them: recv returns them first, then the error.
 *
 * Locking: all state lives under the interface's lock (nif->lock); the
 * calls block only in condition waits, which release it. Contexts: task.
 */
#define CUB_TCP_MSS 1460		/* 1500 - 20 (IPv4) - 20 (TCP) */
#define CUB_TCP_MSS_MIN 88		/* the least user MSS (Linux's
					 * TCP_MIN_MSS) */
#define CUB_TCP_SNDBUF (64u * 1024)	/* default ring sizes */
#define CUB_TCP_RCVBUF (64u * 1024)
#define CUB_TCP_BUF_MIN (4u * 1024)	/* bounds of params.sndbuf/rcvbuf */
#define CUB_TCP_BUF_MAX (16u * 1024 * 1024)
#define CUB_TCP_BACKLOG_MAX 128
#define CUB_TCP_RTO_INITIAL (1000ull * 1000 * 1000)
#define CUB_TCP_RTO_MIN (200ull * 1000 * 1000)	/* as Linux; RFC 6298: 1 s */
#define CUB_TCP_RTO_MAX (60ull * 1000 * 1000 * 1000)
#define CUB_TCP_MAX_RETRIES 8
#define CUB_TCP_SYN_RETRIES 5
#define CUB_TCP_TIME_WAIT (2ull * 1000 * 1000 * 1000)
#define CUB_TCP_FIN_TIMEOUT (30ull * 1000 * 1000 * 1000)
#define CUB_TCP_ORPHAN_RETRIES 8	/* Linux's tcp_orphan_retries when 0:
					 * about 100 s at a 200 ms RTO */
#define CUB_TCP_PAWS_IDLE (24ull * 24 * 3600 * 1000 * 1000 * 1000)
#define CUB_TCP_KEEPIDLE (7200ull * 1000 * 1000 * 1000)	/* Linux's */
#define CUB_TCP_KEEPINTVL (75ull * 1000 * 1000 * 1000)
#define CUB_TCP_KEEPCNT 9

/* cub_tcp_poll bits (Linux's poll values). */
#define CUB_TCP_POLLIN 0x001		/* data, the peer's FIN (or our
					 * cub_tcp_shutdown_recv), or
					 * (listener) a connection to accept */
#define CUB_TCP_POLLOUT 0x004		/* room in the send ring */
#define CUB_TCP_POLLERR 0x008		/* an error is pending */
#define CUB_TCP_POLLHUP 0x010		/* both directions are closed */
#define CUB_TCP_POLLRDHUP 0x2000	/* the peer sent FIN, or
					 * cub_tcp_shutdown_recv was called */

struct cub_tcp;

/*
 * Sets nif's TCP tunables (for new and existing connections); a zero
 * field keeps its value. NULL p restores the defaults. 0 or -CUB_EINVAL
 * (NULL nif, rto_min > rto_max). Contexts: task.
 */
int cub_tcp_set_params(struct cub_netif *nif, const struct cub_tcp_params *p);

/*
 * Listens on nif's port `port` (1..65535): SYNs to it create
 * connections (each with its buffers) that complete the handshake on
 * their own and wait for cub_tcp_accept; at most backlog (1..
 * CUB_TCP_BACKLOG_MAX, 0 is taken as 1, larger is clamped) wait at once,
 * half-open ones included: SYNs beyond are dropped and counted
 * (tcp_backlog_drops), the peer retries. Returns 0 and *out;
 * -CUB_EADDRINUSE (a listener or connection has the port);
 * -CUB_EINVAL (NULL nif or out, port 0); -CUB_ENOMEM. Contexts: task.
 */
int cub_tcp_listen(struct cub_netif *nif, uint16_t port, unsigned backlog,
		   struct cub_tcp **out);

/*
 * Takes the oldest established connection of listener l, waiting up to
 * timeout_ns for one (0 polls, UINT64_MAX forever). Returns 0 and *conn;
 * -CUB_EAGAIN (poll, none), -CUB_ETIMEDOUT, -CUB_EINVAL (NULL
 * arguments, l not a listener), -CUB_EBADF (l closed meanwhile: a
 * cub_tcp_close of l by another coroutine wakes this call, which
 * returns -CUB_EBADF at once; the connections not yet accepted are
 * reset). Contexts: task (blocks).
 */
int cub_tcp_accept(struct cub_tcp *l, struct cub_tcp **conn,
		   uint64_t timeout_ns);

/*
 * Opens a connection from nif's address and an ephemeral port
 * (49152..65535) to dst:port: resolves the next hop by ARP, sends SYN
 * (retransmitted with backoff) and waits up to timeout_ns for the
 * handshake. Returns 0 and *out (ESTABLISHED); -CUB_ECONNREFUSED (a RST
 * answered), -CUB_ETIMEDOUT (no answer within timeout_ns or the SYN's
 * retries), -CUB_EHOSTUNREACH (no ARP answer), -CUB_ENETUNREACH /
 * -CUB_EADDRNOTAVAIL (routing, as cub_udp_sendto), -CUB_EINVAL (NULL
 * nif or out, dst 0 or a broadcast, port 0), -CUB_EADDRINUSE (no free
 * port), -CUB_ENOMEM. There is no handle to close until it returns:
 * the wait ends only by the handshake, a RST, the SYN's retries or the
 * timeout. Contexts: task (blocks).
 */
int cub_tcp_connect(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
		    uint64_t timeout_ns, struct cub_tcp **out);

/*
 * As cub_tcp_connect, with a user MSS (Linux's TCP_MAXSEG set before
 * connect; 0: none, else at least CUB_TCP_MSS_MIN, or -CUB_EINVAL): the
 * MSS our SYN announces is min(mss, CUB_TCP_MSS) and the peer's is
 * taken as at most mss, so no segment either way carries more than mss
 * bytes (options included), whatever the path MTU (which still lowers
 * it, and going back up never passes it). Contexts: task (blocks).
 */
int cub_tcp_connect_mss(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
			uint16_t mss, uint64_t timeout_ns, struct cub_tcp **out);

/*
 * The user MSS of listener l's future connections (as
 * cub_tcp_connect_mss's, for the SYN-ACK and the peer's SYN; those
 * already queued keep theirs). 0 removes it. 0; -CUB_EINVAL (NULL, not
 * a listener, 1..CUB_TCP_MSS_MIN-1); -CUB_EBADF (closed). A connection
 * has no such call: as on Linux, an MSS set after the handshake does
 * not change what is sent. Contexts: task.
 */
int cub_tcp_set_mss(struct cub_tcp *l, uint16_t mss);

/*
 * Queues up to len bytes of buf for sending, blocking while the send
 * ring is full, up to timeout_ns (0: queue what fits now). Returns the
 * bytes queued (> 0, fewer than len when the time ran out with some
 * queued); -CUB_EAGAIN (0 or timeout with nothing queued: -CUB_ETIMEDOUT
 * for a timeout > 0); -CUB_EPIPE after cub_tcp_shutdown or once the
 * connection closed; the connection's sticky error; -CUB_ENOTCONN (a
 * listener); -CUB_EBADF (c closed, also by another coroutine while this
 * call waits for room: it returns at once, with the bytes it had queued
 * if there are some); -CUB_EINVAL (NULL c, NULL buf with len > 0). len 0
 * returns 0. Contexts: task (blocks).
 */
long cub_tcp_send(struct cub_tcp *c, const void *buf, size_t len,
		  uint64_t timeout_ns);

/*
 * Copies up to cap received bytes into buf, waiting up to timeout_ns for
 * some (0 polls). Returns the bytes copied (> 0); 0 when the peer sent
 * FIN and everything before it was read (again at each call), and after
 * cub_tcp_shutdown_recv whenever nothing is queued (it never waits);
 * -CUB_EAGAIN (poll) / -CUB_ETIMEDOUT; the sticky error once the bytes
 * received before it are read (a reset: -CUB_ECONNRESET, also after
 * the peer's FIN);
 * -CUB_ENOTCONN (a listener); -CUB_EBADF (c closed, also by another
 * coroutine while this call waits: it returns at once);
 * -CUB_EINVAL (NULL c, NULL buf, cap 0).
 * Freeing space may send a window update. Contexts: task (blocks).
 */
long cub_tcp_recv(struct cub_tcp *c, void *buf, size_t cap,
		  uint64_t timeout_ns);

/*
 * Ends our direction: FIN goes after the queued data; receiving goes on.
 * 0 (also when already shut down); -CUB_ENOTCONN (not connected, a
 * listener); -CUB_EINVAL (NULL). Contexts: task.
 */
int cub_tcp_shutdown(struct cub_tcp *c);

/*
 * Ends our reading, as Linux's shutdown(SHUT_RD): from now on
 * cub_tcp_recv never waits. It returns what is queued, then 0 (end of
 * file) whenever the ring is empty; calls blocked in recv on c wake and
 * return 0 (or the data that got there first); poll shows POLLIN |
 * POLLRDHUP (and POLLHUP once our FIN is queued too). Nothing is sent:
 * the peer is not told. Data arriving later while our direction is
 * still open (ESTABLISHED) is acknowledged and queued as before, and
 * recv returns it (Linux does the same); once we have also sent our FIN
 * (cub_tcp_shutdown), new data resets the connection (RST; send and
 * recv then give -CUB_ECONNRESET), as it would after a close. A close
 * with unread data resets as ever. 0 (also when already shut);
 * -CUB_ENOTCONN (a listener, or a connection already CLOSED by a reset
 * or timeout); -CUB_EBADF (closed handle); -CUB_EINVAL (NULL).
 * Contexts: task.
 */
int cub_tcp_shutdown_recv(struct cub_tcp *c);

/*
 * Releases the handle. A connection with unread received data is reset
 * (RST, as Linux); otherwise the stack sends FIN after the queued data
 * and finishes the close itself (FIN_WAIT, TIME_WAIT), then frees it;
 * data arriving after close draws a RST. A listener resets the
 * connections not yet accepted. Calls blocked on c in other coroutines
 * (accept, send, recv) wake and return -CUB_EBADF, never wait on; close
 * returns once they have all left, and the block is freed exactly once,
 * by whoever lets go of it last (close itself, or the stack when the
 * connection's closing handshake ends). Only calls already inside c
 * when close starts are woken so: the handle is dead from then on, and
 * a call that starts on it later (even one that began before close
 * returned) gets -CUB_EBADF, or, once a new connection has reused the
 * block (blocks are type-stable, never returned to the heap), acts on
 * that connection, as a reused file descriptor number would; never on
 * freed memory. 0, -CUB_EBADF (c already closed) or -CUB_EINVAL
 * (NULL).
 * Contexts: task (blocks while other calls leave).
 */
int cub_tcp_close(struct cub_tcp *c);

/* As cub_tcp_close, but a connection is reset (RST) at once, whatever
 * its state. 0 or -CUB_EINVAL. Contexts: task. */
int cub_tcp_abort(struct cub_tcp *c);

/*
 * What nif's connections still have to deliver: the bytes queued or sent
 * but not yet acknowledged, plus one for each FIN not yet acknowledged,
 * over every connection that can still deliver (established or closing,
 * no error). 0: the peers have everything. A machine about to stop waits
 * for 0 (the syscall shim does at a program's exit), as Linux's kernel
 * goes on sending after a process exits. Contexts: task.
 */
size_t cub_tcp_undelivered(struct cub_netif *nif);

/* CUB_TCP_POLL* bits of c now (0 for NULL). A connection with an error
 * (reset, timed out) shows POLLERR | POLLHUP | POLLIN, and no POLLOUT.
 * Contexts: task. */
unsigned cub_tcp_poll(struct cub_tcp *c);

/*
 * fn(arg) is called, with the interface's lock held (it must not block
 * nor call into the stack), whenever cub_tcp_poll(c)'s answer may have
 * changed. NULL fn removes it. 0 or -CUB_EINVAL. Contexts: task.
 */
int cub_tcp_set_notify(struct cub_tcp *c, void (*fn)(void *), void *arg);

/* c's local / remote address and port (each pointer may be NULL; a
 * listener's remote is 0:0). 0 or -CUB_EINVAL. Contexts: task. */
int cub_tcp_local(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port);
int cub_tcp_peer(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port);

/* c's state: "LISTEN", "SYN_SENT", ..., "TIME_WAIT", "CLOSED" ("?" for
 * NULL). Contexts: task. */
const char *cub_tcp_state_name(struct cub_tcp *c);

/*
 * A connection's sender state, for tests and diagnostics. cwnd and
 * ssthresh are RFC 5681's congestion window and slow start threshold
 * (bytes; ssthresh is UINT32_MAX until the first loss); the sender has
 * at most min(cwnd, snd_wnd) bytes in flight. srtt and rto are in ns
 * (srtt 0: no sample yet); retransmits counts this connection's
 * segments sent again (timeouts, fast retransmits, partial ACKs).
 */
struct cub_tcp_info {
	const char *state;		/* as cub_tcp_state_name */
	uint32_t cwnd, ssthresh;
	uint32_t snd_wnd;		/* the peer's window */
	uint32_t flight;		/* bytes sent, not yet acknowledged */
	uint16_t snd_mss;		/* the MSS we send */
	bool in_recovery;		/* fast recovery (RFC 6582) */
	uint64_t srtt, rto;
	uint32_t retransmits;
	bool wscale;			/* window scaling agreed (RFC 7323) */
	uint8_t snd_wscale, rcv_wscale;	/* the peer's shift, ours (0
					 * without wscale) */
	bool sack;			/* SACK agreed (RFC 2018) */
	bool timestamps;		/* timestamps agreed (RFC 7323) */
	uint32_t sacked;		/* bytes the peer SACKed (scoreboard) */
	uint8_t ooo_ranges;		/* out-of-order ranges we hold */
	uint32_t sndbuf, rcvbuf;	/* this connection's ring sizes */
	bool keepalive;			/* keep-alive on */
	uint8_t keepalive_probes;	/* probes sent since the peer's last
					 * segment */
	int soft_err;			/* an ICMP error kept for a timeout
					 * (-CUB_EHOSTUNREACH...), or 0 */
	uint16_t pmtu;			/* path MTU estimate (1500 until an
					 * ICMP lowers it; snd_mss <= pmtu -
					 * 40) */
	bool pmtu_nodf;			/* a report below 552 came: sent
					 * without DF */
};

/* Fills *info from c. 0 or -CUB_EINVAL (NULL, released handle).
 * Contexts: task. */
int cub_tcp_info(struct cub_tcp *c, struct cub_tcp_info *info);

/* A connection's keep-alive (RFC 9293 3.8.4, RFC 1122 4.2.3.6). */
struct cub_tcp_keepalive {
	bool on;
	uint64_t idle_ns;		/* nothing from the peer this long: the
					 * first probe */
	uint64_t interval_ns;		/* between probes */
	unsigned count;			/* unanswered probes before the abort
					 * (1..255) */
};

/*
 * Sets c's keep-alive (off by default, or as cub_tcp_params.keepalive
 * says when c was created). When on, a synchronised connection with
 * nothing outstanding that has received no segment for idle_ns sends a
 * probe (an empty ACK at SND.NXT - 1, which the peer must answer with
 * an ACK, as Linux sends it), another every interval_ns, and after
 * count unanswered probes is reset (RST) with -CUB_ETIMEDOUT (or the
 * soft error an ICMP message left: -CUB_EHOSTUNREACH,
 * -CUB_ENETUNREACH) for every call, blocked ones woken. Any segment
 * from the peer restarts the idle time and the count. 0;
 * -CUB_EINVAL (NULL, a listener, idle or interval 0, count 0 or above
 * 255); -CUB_EBADF (c closed). Contexts: task.
 */
int cub_tcp_set_keepalive(struct cub_tcp *c, const struct cub_tcp_keepalive *ka);
/* c's keep-alive settings into *ka. 0, -CUB_EINVAL. Contexts: task. */
int cub_tcp_get_keepalive(struct cub_tcp *c, struct cub_tcp_keepalive *ka);

#endif
