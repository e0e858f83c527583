/*
 * cubrt/udp.h - UDP endpoints (RFC 768) on an interface:
 * datagrams, a bounded receive queue, connect for ICMP errors.
 * Part of the network API: <cubrt/net.h> has the interface, its
 * counters and parameters, the locking rule and the contexts every call
 * here follows, and includes this header.
 */
#ifndef CUBRT_UDP_H
#define CUBRT_UDP_H

#include <cubrt/net.h>

struct cubi_udp_ring;

#define CUBI_UDP_QUOTE_MAX 4		/* private: udp.c's quote check */

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
	uint8_t quote[CUBI_UDP_QUOTE_MAX];	/* an ICMP error must quote a
						 * payload beginning so ... */
	uint8_t quote_len;		/* ... this long (0: any; udp.c) */
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

#endif
