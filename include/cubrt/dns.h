/*
 * cubrt/dns.h - a DNS stub resolver for native applications (RFC 1035):
 * a name's IPv4 addresses from a recursive server, over the stack's UDP
 * and TCP (cubrt/net.h), with an optional cache in caller storage.
 * Linux programs on the shim use their own libc's resolver with
 * /etc/resolv.conf instead.
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
 *
 * TCP fallback (RFC 1035 4.2.2, RFC 7766): a UDP answer with TC
 * (truncated) set is not used, even with addresses; the question is
 * asked again over a TCP connection to the same server and port, the
 * message behind a two-byte length, within the same timeout, and the
 * reply judged by the same rules (one not believed is counted and the
 * next message read). Replies over TCP are read into a buffer of
 * CUB_DNS_TCP_REPLY_MAX bytes on the caller's stack: a longer one is
 * -CUB_EMSGSIZE. A lookup needs about 5 KiB of stack (the default
 * coroutine stack has 64 KiB; CUB_CORO_STACK_SMALL is too small).
 *
 * Cache (struct cub_dns_cache, caller storage, no allocation): answers
 * keyed by server, port and name (case-insensitive, a final dot
 * ignored) kept for their smallest TTL, at most CUB_DNS_TTL_MAX; a TTL
 * of 0 is not kept. Negative answers (NXDOMAIN, or no A record) are kept
 * for min(SOA TTL, SOA MINIMUM) of the SOA in the authority section (RFC
 * 2308 5), at most CUB_DNS_NEG_TTL_MAX; without an SOA they are not
 * kept, nor are other errors. When every slot is taken the least
 * recently used answer is evicted. Several coroutines may look up
 * through one cache at once: a lookup that finds its name being asked
 * by another waits for that query (one query for both) and takes its
 * answer; when that answer is not kept (an error, TTL 0) each waiter
 * asks for itself, one after another. When every slot is waiting for a
 * server the lookup asks without caching.
 *
 * No search list, no IPv6 (AAAA), no EDNS0.
 */
#ifndef CUBRT_DNS_H
#define CUBRT_DNS_H

#include <cubrt/base.h>
#include <cubrt/net.h>
#include <cubrt/sync.h>

#define CUB_DNS_PORT 53
#define CUB_DNS_NAME_MAX 253		/* longest name, dots included */
#define CUB_DNS_ADDRS_MAX 8		/* addresses kept from one answer */
#define CUB_DNS_CNAME_MAX 8		/* aliases followed */
#define CUB_DNS_RETRY_NS (1000ull * 1000 * 1000)	/* between queries */
#define CUB_DNS_TCP_REPLY_MAX 4096	/* longest reply read over TCP */
#define CUB_DNS_TTL_MAX 86400u		/* cache: answers kept at most 1 day */
#define CUB_DNS_NEG_TTL_MAX 3600u	/* negative answers at most 1 hour */

/* What a lookup found. */
struct cub_dns_result {
	cub_ip4_t addr[CUB_DNS_ADDRS_MAX];	/* in the answer's order */
	unsigned count;			/* addresses in addr (>= 1 on success) */
	uint32_t ttl_s;			/* the smallest TTL of the records used
					 * (0xffffffff for a literal address);
					 * from the cache, the time left; for
					 * -CUB_ENOENT the negative TTL (0: no
					 * SOA) */
	char canonical[CUB_DNS_NAME_MAX + 1];	/* the name the addresses
						 * belong to (after CNAMEs),
						 * lower case */
	unsigned queries;		/* queries sent (UDP and TCP) */
	unsigned ignored;		/* replies ignored: foreign, malformed */
	bool tcp;			/* asked over TCP (UDP's was truncated) */
	bool cached;			/* answered from the cache, no query */
};

/*
 * Looks up name's IPv4 addresses at the DNS server server:port (port 0:
 * 53) through nif, waiting up to timeout_ns. A dotted-quad name is
 * answered at once, without a query. name may end in one dot; each
 * label 1..63 bytes, the whole at most CUB_DNS_NAME_MAX. Returns 0 and
 * *res; -CUB_ENOENT (no such name, or no A record: NXDOMAIN or an empty
 * answer); -CUB_EAGAIN (the server failed: SERVFAIL); -CUB_EIO (the
 * server refused or did not understand: REFUSED, FORMERR, NOTIMP, ...);
 * -CUB_ETIMEDOUT; -CUB_EINVAL (NULL arguments, a malformed name,
 * server 0); the errors of cub_udp_open and cub_udp_sendto. After a
 * truncated UDP answer (res->tcp): the TCP answer's codes, -CUB_EIO (the
 * server closed the connection before a believable reply),
 * -CUB_EMSGSIZE (a reply longer than CUB_DNS_TCP_REPLY_MAX, or TC set
 * over TCP too without addresses), the errors of cub_tcp_connect,
 * cub_tcp_send and cub_tcp_recv (-CUB_ECONNREFUSED: no DNS over TCP
 * there). Contexts: task (blocks).
 */
int cub_dns_lookup(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   const char *name, uint64_t timeout_ns, struct cub_dns_result *res);

/* ---------------------------------------------------------------- cache */

/* One cached answer (private to dns_cache.c; the caller gives storage). */
struct cub_dns_cache_entry {
	char name[CUB_DNS_NAME_MAX + 1];	/* the key, with server, port */
	cub_ip4_t server;
	uint16_t port;
	uint8_t state;			/* free, being asked, answered */
	unsigned count;			/* 0: a negative answer */
	cub_ip4_t addr[CUB_DNS_ADDRS_MAX];
	char canonical[CUB_DNS_NAME_MAX + 1];
	uint64_t expires;		/* cub_time_now() scale */
	uint64_t used;			/* LRU stamp */
};

/* What a cache did (cub_dns_cache_stats). */
struct cub_dns_cache_stats {
	uint64_t hits;			/* lookups answered from the cache,
					 * negative answers included */
	uint64_t misses;		/* lookups that asked the server */
	uint64_t waits;			/* lookups that waited for another's
					 * query of the same name */
	uint64_t evictions;		/* live answers given up for room */
	unsigned entries;		/* answers held now (not expired) */
};

/* A cache; its fields are private (lock protects them and the slots). */
struct cub_dns_cache {
	struct cub_mutex lock;
	struct cub_cond done;		/* a query has settled */
	struct cub_dns_cache_entry *slot;
	unsigned slots;
	uint64_t clock;			/* LRU stamps */
	struct cub_dns_cache_stats st;
};

/*
 * Makes c an empty cache over the n caller-owned slots (which must
 * outlive it; nothing to free). 0 or -CUB_EINVAL (NULL, n 0).
 * Contexts: any (c not in use).
 */
int cub_dns_cache_init(struct cub_dns_cache *c, struct cub_dns_cache_entry *slots,
		       unsigned n);

/*
 * As cub_dns_lookup, through cache c (see the top of this file): a live
 * answer for (server, port, name) is returned at once with
 * res->cached set, res->ttl_s the seconds left (rounded up) and
 * res->queries 0; a cached negative answer returns -CUB_ENOENT so.
 * Otherwise the server is asked and a keepable answer kept. A lookup
 * waiting for another's query of the same name gives -CUB_ETIMEDOUT at
 * its own timeout. Literal addresses and malformed names never touch
 * the cache. Returns as cub_dns_lookup; -CUB_EINVAL also for NULL c.
 * Contexts: task (blocks).
 */
int cub_dns_cache_lookup(struct cub_dns_cache *c, struct cub_netif *nif, cub_ip4_t server,
			 uint16_t port, const char *name, uint64_t timeout_ns,
			 struct cub_dns_result *res);

/* Copies c's counters: 0 or -CUB_EINVAL (NULL). Contexts: task. */
int cub_dns_cache_stats(struct cub_dns_cache *c, struct cub_dns_cache_stats *st);

#endif
