/*
 * cubrt/dns.h - a DNS stub resolver for native applications (RFC 1035):
 * a name's IPv4 addresses from a recursive server, over the stack's UDP
 * (cubrt/net.h). Linux programs on the shim use their own libc's
 * resolver with /etc/resolv.conf instead.
 *
 * One question (type A, class IN, recursion desired) goes to the server
 * from a random ephemeral port with a random 16-bit ID; it goes out
 * again every CUB_DNS_RETRY_NS without an answer, until the timeout. A
 * reply is believed only when it comes from the server's address and
 * port, carries our ID, is a response to a standard query and repeats
 * our question; anything else, or a malformed reply (a name running past
 * the message, a compression pointer that does not point backwards, a
 * record past the end), is ignored and counted. CNAME records are
 * followed within the answer section (up to CUB_DNS_CNAME_MAX links).
 * No cache, no search list, no TCP fallback, no IPv6 (AAAA).
 */
#ifndef CUBRT_DNS_H
#define CUBRT_DNS_H

#include <cubrt/base.h>
#include <cubrt/net.h>

#define CUB_DNS_PORT 53
#define CUB_DNS_NAME_MAX 253		/* longest name, dots included */
#define CUB_DNS_ADDRS_MAX 8		/* addresses kept from one answer */
#define CUB_DNS_CNAME_MAX 8		/* aliases followed */
#define CUB_DNS_RETRY_NS (1000ull * 1000 * 1000)	/* between queries */

/* What a lookup found. */
struct cub_dns_result {
	cub_ip4_t addr[CUB_DNS_ADDRS_MAX];	/* in the answer's order */
	unsigned count;			/* addresses in addr (>= 1 on success) */
	uint32_t ttl_s;			/* the smallest TTL of the records used
					 * (0xffffffff for a literal address) */
	char canonical[CUB_DNS_NAME_MAX + 1];	/* the name the addresses
						 * belong to (after CNAMEs),
						 * lower case */
	unsigned queries;		/* queries sent */
	unsigned ignored;		/* replies ignored: foreign, malformed */
};

/*
 * Looks up name's IPv4 addresses at the DNS server server:port (port 0:
 * 53) through nif, waiting up to timeout_ns. A dotted-quad name is
 * answered at once, without a query. name may end in one dot; each
 * label 1..63 bytes, the whole at most CUB_DNS_NAME_MAX. Returns 0 and
 * *res; -CUB_ENOENT (no such name, or no A record: NXDOMAIN or an empty
 * answer); -CUB_EAGAIN (the server failed: SERVFAIL); -CUB_EIO (the
 * server refused or did not understand: REFUSED, FORMERR, NOTIMP, ...);
 * -CUB_EMSGSIZE (a truncated answer without addresses: the name needs
 * TCP); -CUB_ETIMEDOUT; -CUB_EINVAL (NULL arguments, a malformed name,
 * server 0); the errors of cub_udp_open and cub_udp_sendto.
 * Contexts: task (blocks).
 */
int cub_dns_lookup(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   const char *name, uint64_t timeout_ns, struct cub_dns_result *res);

#endif
