/*
 * net_impl.h - private interface between the files of src/net: wire
 * formats, byte order, the Internet checksum, and the per-layer entry
 * points. Every cubi_ function here is called with nif->lock held (the
 * one lock of an interface, see cubrt/net.h) unless it says otherwise.
 */
#ifndef CUBRT_NET_IMPL_H
#define CUBRT_NET_IMPL_H

#include <cubrt/net.h>

/* Ethernet */
#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_OFF_DST 0
#define ETH_OFF_SRC 6
#define ETH_OFF_TYPE 12

/* IPv4 (RFC 791) */
#define IP4_HLEN 20
#define IP4_PROTO_ICMP 1
#define IP4_PROTO_UDP 17
#define IP4_PROTO_TCP 6
#define IP4_TTL 64
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_OFFSET_MASK 0x1fff

/* UDP (RFC 768) and ICMP (RFC 792) */
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define ICMP_ECHO_REPLY 0
#define ICMP_UNREACH 3
#define ICMP_UNREACH_PORT 3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_EXC_FRAGTIME 1		/* its code: reassembly timed out */
#define ICMP_ECHO_REQUEST 8

/* Where a transport payload starts in a frame we build (no IP options). */
#define NET_L4_OFF (CUB_ETH_HLEN + IP4_HLEN)

static const uint8_t cubi_eth_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff };

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline bool ip4_is_multicast(cub_ip4_t a)
{
	return (a >> 28) == 0xe;
}

/* The interface's subnet broadcast (all host bits set); only meaningful
 * when configured. */
static inline cub_ip4_t cubi_net_bcast(const struct cub_netif *nif)
{
	return nif->addr | ~nif->mask;
}

/* cksum.c: the one's-complement sum of [p, p+len) added to sum (RFC 1071),
 * unfolded; fold it with cubi_cksum_fold. Contexts: any. */
uint32_t cubi_cksum_add(uint32_t sum, const void *p, size_t len);
/* Folds sum to 16 bits and complements it: the checksum field's value
 * (0 when the data including its checksum field is correct). */
uint16_t cubi_cksum_fold(uint32_t sum);
/* The UDP pseudo-header (src, dst, protocol 17, udp_len) summed. */
uint32_t cubi_cksum_pseudo(cub_ip4_t src, cub_ip4_t dst, uint8_t proto,
			   uint16_t len);

/* eth.c: fills in the Ethernet header of frame (dst, our MAC, type) and
 * passes len bytes to ops->send, counting tx or tx_errors. Returns 0 or
 * the send's code. */
int cubi_eth_output(struct cub_netif *nif, uint8_t *frame, size_t len,
		    const uint8_t dst[6], uint16_t type);

/* netif.c: cub_netif_configure's work with nif->lock held and the
 * arguments checked (prefix_len ignored with addr 0): a new address ends
 * the old one's announcements and defence (arp_defend.c). */
void cubi_netif_set(struct cub_netif *nif, cub_ip4_t addr, unsigned prefix_len,
		    cub_ip4_t gateway);

/* netif.c: the next hop for dst: 0 and *hop (the address to resolve),
 * or 1 when dst is a broadcast (no ARP: ff:ff:ff:ff:ff:ff), or
 * -CUB_ENETUNREACH / -CUB_EADDRNOTAVAIL (dst is our address). */
int cubi_net_route(struct cub_netif *nif, cub_ip4_t dst, cub_ip4_t *hop);

/* arp.c */
void cubi_arp_input(struct cub_netif *nif, const uint8_t *frame, size_t len);
void cubi_arp_flush(struct cub_netif *nif);
/*
 * As cub_arp_resolve with nif->lock held (released while waiting). When
 * cancel is non-NULL, the wait ends with -CUB_EBADF once *cancel is
 * nonzero (checked at each wake-up; whoever sets it broadcasts
 * nif->arp_cond).
 */
int cubi_arp_resolve_locked(struct cub_netif *nif, cub_ip4_t ip,
			    uint8_t mac[6], uint64_t timeout_ns,
			    const uint32_t *cancel, uint32_t cancel_ok);

/* When an ARP conflict check sends its probes (RFC 5227 2.1.1), each
 * time measured from the previous step's end: first_ns before the
 * first, gap_ns[i] between probe i and i + 1, last_ns after the last. */
struct cubi_arp_probe_plan {
	unsigned num;			/* 1 .. CUB_DHCP_PROBE_NUM_MAX */
	uint64_t first_ns;
	uint64_t gap_ns[CUB_DHCP_PROBE_NUM_MAX];
	uint64_t last_ns;
};

/*
 * An ARP conflict check of ip as plan says: plan->num probes (requests
 * from sender 0.0.0.0, target hardware address 0, broadcast), watched
 * for a conflict from the call until last_ns after the last: an ARP
 * packet from ip, or another host's probe for it. *sent counts the
 * probes that went out (nif->st.arp_probes_tx too). Returns 0 (none
 * came), 1 (a conflict: no more probes), -CUB_EBUSY (another check
 * runs on nif), -CUB_EBADF (cancel non-NULL and *cancel zero when
 * called or changed since: the caller's endpoint closed, whose closer
 * broadcasts nif->arp_cond) or a send's error. Contexts: task. Locks:
 * takes nif->lock (released while waiting).
 */
int cubi_arp_probe(struct cub_netif *nif, cub_ip4_t ip,
		   const struct cubi_arp_probe_plan *plan, const uint32_t *cancel,
		   unsigned *sent);

/*
 * arp_defend.c: RFC 5227 2.3 and 2.4 for an address a DHCP lease
 * configured. cubi_arp_announce (nif->lock not held; it takes it)
 * starts them for addr when it is nif's address: the first announcement
 * (an ARP request, sender and target addr, target hardware 0,
 * broadcast) at once, num - 1 more interval_ns apart from the "arp
 * announce" coroutine (spawned, detached, when none runs; it ends when
 * none are left), and from then on the defence: an ARP packet from
 * another MAC with addr as sender is a conflict, defended with one
 * announcement unless it comes within defend_ns of the last defended
 * one, which loses the address: nif unconfigured, the keeper's endpoint
 * (nif->dhcp_keeper_u) woken with -CUB_EADDRNOTAVAIL. Returns 0 or the
 * spawn's error (the later announcements lost; the defence runs).
 * Contexts: task.
 */
int cubi_arp_announce(struct cub_netif *nif, cub_ip4_t addr, unsigned num,
		      uint64_t interval_ns, uint64_t defend_ns);
/* ARP from sender spa (hardware address not ours): a conflict with the
 * defended address is defended or loses it, as above. */
void cubi_arp_defend_check(struct cub_netif *nif, cub_ip4_t spa);
/* Ends the announcements and the defence (the address changes). */
void cubi_arp_defend_stop(struct cub_netif *nif);

/* udp.c: gives u's next call (a blocked receive at once) the error err,
 * as an ICMP error does to a connected endpoint. */
void cubi_udp_fail(struct cub_udp *u, int err);

/*
 * Resolves the next hop of dst into mac (broadcast when cubi_net_route
 * says so) waiting up to timeout_ns; the codes of cubi_net_route and
 * cubi_arp_resolve_locked.
 */
int cubi_net_nexthop_mac(struct cub_netif *nif, cub_ip4_t dst, uint8_t mac[6],
			 uint64_t timeout_ns, const uint32_t *cancel,
			 uint32_t cancel_ok);

/* ip4.c: l4len (<= CUB_IP4_MTU - IP4_HLEN) bytes of transport header
 * and payload are at frame + NET_L4_OFF; writes the IPv4 header (our
 * address as source, DF set) and sends the frame to dst_mac. */
int cubi_ip4_output(struct cub_netif *nif, uint8_t *frame, size_t l4len,
		    const uint8_t dst_mac[6], cub_ip4_t dst, uint8_t proto);
/* pmtu_cache.c (nif->lock held): the cached estimate for dst
 * (CUB_IP4_MTU: none, or expired), whether it goes without DF and when
 * it expires (*until, cub_time_now's clock; 0 with CUB_IP4_MTU); an
 * estimate learnt (or confirmed) now; all forgotten. */
uint16_t cubi_pmtu_find(struct cub_netif *nif, cub_ip4_t dst, bool *nodf,
			uint64_t *until);
void cubi_pmtu_note(struct cub_netif *nif, cub_ip4_t dst, uint16_t mtu,
		    bool nodf);
void cubi_pmtu_flush(struct cub_netif *nif);

/* The same with DF only when df (TCP on a path whose MTU is below the
 * floor of tcp_pmtu.c sends without it). */
int cubi_ip4_output_df(struct cub_netif *nif, uint8_t *frame, size_t l4len,
		       const uint8_t dst_mac[6], cub_ip4_t dst, uint8_t proto,
		       bool df);
/* Writes an IPv4 header (IHL 5, TTL 64, our address, checksum) at ip
 * for l4len bytes after it, with id and frag (flags and offset). */
void cubi_ip4_header(struct cub_netif *nif, uint8_t *ip, size_t l4len,
		     uint16_t id, uint16_t frag, cub_ip4_t dst, uint8_t proto);
void cubi_ip4_input(struct cub_netif *nif, const uint8_t *frame, size_t len);

/* The largest transport bytes in one frame, and a fragment's (the same:
 * 1480 is a multiple of 8). */
#define IP4_L4_MAX (CUB_IP4_MTU - IP4_HLEN)
#define IP4_DATAGRAM_L4_MAX (CUB_IP4_DATAGRAM_MAX - IP4_HLEN)

/*
 * ip4_frag.c, sending: a transport message of hlen header bytes (its
 * checksum filled in) followed by len bytes that copy(arg, to, off, n)
 * produces ([off, off + n) of them), so that a payload need not be in
 * one buffer (ping's is generated).
 */
typedef void cubi_ip4_copy_fn(const void *arg, uint8_t *to, size_t off,
			      size_t n);
struct cubi_ip4_msg {
	const uint8_t *hdr;
	size_t hlen;
	cubi_ip4_copy_fn *copy;
	const void *arg;
	size_t len;
};
/* copy for a payload in one buffer (arg). */
void cubi_ip4_copy_linear(const void *arg, uint8_t *to, size_t off,
			  size_t n);
/* The unfolded checksum sum of m's len payload bytes (generated through
 * scratch, CUB_ETH_FRAME_MAX bytes). */
uint32_t cubi_ip4_msg_sum(const struct cubi_ip4_msg *m, uint8_t *scratch);
/*
 * Sends m (hlen + len <= IP4_DATAGRAM_L4_MAX) to dst via dst_mac, built
 * in frame (CUB_ETH_FRAME_MAX bytes): one frame with DF when it fits the
 * MTU (as cubi_ip4_output), else fragments of 1480 bytes (the last
 * shorter) sharing one identification, DF clear, each counted in
 * ip_frag_tx. A fragment the driver refuses with -CUB_EAGAIN is tried
 * again after a short sleep (the lock held), a bounded number of times.
 * Returns 0 or the driver's error (fragments already sent stay sent).
 */
int cubi_ip4_send(struct cub_netif *nif, uint8_t *frame,
		  const struct cubi_ip4_msg *m, const uint8_t dst_mac[6],
		  cub_ip4_t dst, uint8_t proto);

/*
 * What cubi_ip4_input hands a transport protocol: the frame, the IPv4
 * header (ip, ihl bytes) and the transport bytes [l4, l4 + l4len). For a
 * reassembled datagram all of it lies in the reassembly buffer (the
 * offset-0 fragment's headers in front) and l4len may reach 65515.
 */
struct cubi_ip4_pkt {
	const uint8_t *frame;		/* Ethernet header first */
	const uint8_t *ip;
	size_t ihl;
	const uint8_t *l4;
	size_t l4len;
	cub_ip4_t src, dst;
	bool bcast;			/* dst was a broadcast address */
};

/* ip4.c: hands p to its protocol (ICMP, UDP, TCP) by p->ip[9]. */
void cubi_ip4_deliver(struct cub_netif *nif, const struct cubi_ip4_pkt *p);

/* ip4_frag.c, receiving: p is a fragment for us (header checked); it is
 * held for reassembly or dropped, and counted (net.h, ip_frag_*). */
void cubi_ip4_frag_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);
/* Drops the incomplete datagrams whose timeout has passed. */
void cubi_ip4_reasm_expire(struct cub_netif *nif);

/* icmp.c */
void cubi_icmp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);
/* Sends "port unreachable" about p back to its sender. */
void cubi_icmp_port_unreach(struct cub_netif *nif,
			    const struct cubi_ip4_pkt *p);

/* Sends "fragment reassembly time exceeded" (11/1) about p, the
 * offset-0 fragment of a datagram that timed out (its headers and 8
 * payload bytes), back to p's Ethernet source, within the rate limit
 * (ip_reasm_icmp_tx / ip_reasm_icmp_limited); never about a datagram
 * to a broadcast or multicast address, from address 0 or a group MAC,
 * nor about an ICMP error (RFC 1122 3.2.2). */
void cubi_icmp_reasm_timeout(struct cub_netif *nif,
			     const struct cubi_ip4_pkt *p);

/* icmp_err.c */
/* An ICMP destination unreachable or time exceeded p (checksum checked):
 * validated, matched and counted (icmp_err_*). */
void cubi_icmp_error_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);
/* Takes a token of the rate limit of the ICMP errors we send (port
 * unreachable, reassembly time exceeded): false when there is none (the
 * caller counts it). */
bool cubi_icmp_err_token(struct cub_netif *nif);

/* udp.c */
void cubi_udp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);
/* An ICMP error err about a datagram from port sport to dst:dport
 * whose payload's first plen bytes (what the error quotes past the UDP
 * header, 0 or more) are at pay: 1 when a connected endpoint took it, 0
 * when an endpoint has the port but is not connected to dst:dport or
 * the quote does not begin as its cubi_udp_quote_set says, -1 when none
 * has it. */
int cubi_udp_icmp_error(struct cub_netif *nif, cub_ip4_t dst, uint16_t dport,
			uint16_t sport, const uint8_t *pay, size_t plen, int err);
/* Makes u believe an ICMP error only when the payload it quotes begins
 * with the n bytes at b (n <= CUBI_UDP_QUOTE_MAX; 0: any), as far as the
 * quote goes: the nonce that leads every datagram u sends (DNS's ID), so
 * that an error about another exchange on the same ports (a stale one,
 * or a forged one that guessed the port) is not taken for this one's. A
 * quote of the UDP header alone (RFC 792's minimum) still counts.
 * 0, -CUB_EINVAL (n too large), -CUB_EBADF (u not open). Contexts:
 * task. Locks: takes nif->lock. */
int cubi_udp_quote_set(struct cub_udp *u, const void *b, size_t n);

/* tcp_in.c */
void cubi_tcp_input(struct cub_netif *nif, const struct cubi_ip4_pkt *p);
/* tcp_pcb.c: the TCP defaults and ISN key of a new interface. */
void cubi_tcp_params_default(struct cub_netif *nif);
/* dhcp_check.c: sets nif's DHCP tunables to their defaults (nif->lock
 * held, or nif not in use). */
void cubi_dhcp_params_default(struct cub_netif *nif);
/* dhcp_check.c: nif had an address conflict (a probe's, or an address
 * lost): counted for RFC 5227's rate limit, the count started over
 * first when DHCP configured nif rate_limit_ns or more before.
 * Contexts: task, nif->lock held. */
void cubi_dhcp_conflict_locked(struct cub_netif *nif);

/* A deadline timeout_ns from now, saturating (UINT64_MAX: never). */
static inline uint64_t cubi_deadline(uint64_t now, uint64_t timeout_ns)
{
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

/* sntp.c: cub_sntp_query telling h (if not NULL) of its endpoint: h->open
 * right after it is opened (nonzero: end at once with -CUB_EBADF),
 * h->done before it is closed; a close of that endpoint meanwhile ends
 * the query with -CUB_EBADF (the SNTP keeper's stop). Contexts: task. */
struct cub_sntp_result;
struct cubi_sntp_hook {
	int (*open)(void *arg, struct cub_udp *u);
	void (*done)(void *arg);
	void *arg;
};
int cubi_sntp_query_hooked(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
			   uint64_t timeout_ns, struct cub_sntp_result *res,
			   const struct cubi_sntp_hook *h);

/* udp_query.c: a client's request/reply exchange with one server (the
 * DNS and SNTP clients). The protocol fills server, port, retry_ns, in
 * and in_cap and the two calls; send sends the request (again): 0 or
 * cub_udp_sendto's error; judge looks at the len bytes in `in` from the
 * server: CUBI_UDP_QUERY_IGNORE (counted in ignored) or the exchange's
 * result. */
#define CUBI_UDP_QUERY_IGNORE 1
struct cubi_udp_query {
	struct cub_udp u;
	cub_ip4_t server;
	uint16_t port;
	uint64_t retry_ns;
	uint8_t *in;
	size_t in_cap;
	int (*send)(struct cubi_udp_query *q);
	int (*judge)(struct cubi_udp_query *q, size_t len);
	unsigned ignored;
};
/* Opens q->u on a random ephemeral port (a few tries), else any free
 * one: 0 or cub_udp_open's error. Contexts: task. */
int cubi_udp_query_open(struct cubi_udp_query *q, struct cub_netif *nif);
/* Sends and resends until judge gives a result or the deadline passes
 * (-CUB_ETIMEDOUT); a send's or receive's error ends it. The caller
 * closes q->u. Contexts: task. */
int cubi_udp_query_run(struct cubi_udp_query *q, uint64_t deadline);

#endif
