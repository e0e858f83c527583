/*
 * cubrt/dns.h - a DNS stub resolver for native applications (RFC 1035):
 * a name's IPv4 addresses (A), an address's name (PTR, reverse lookups)
 * and a service's servers (SRV, RFC 2782) from a recursive server, over
 * the stack's UDP and TCP (cubrt/net.h), with an optional cache in
 * caller storage.
 * Linux programs on the shim use their own libc's resolver with
 * /etc/resolv.conf instead.
 *
 * One question (type A, PTR or SRV, class IN, recursion desired) goes to the server
 * from a random ephemeral port with a random 16-bit ID; it goes out
 * again every CUB_DNS_RETRY_NS without an answer, until the timeout. A
 * reply is believed only when it comes from the server's address and
 * port, carries our ID, is a response to a standard query and repeats
 * our question; anything else, or a malformed reply (a name running past
 * the message, a compression pointer that does not point backwards, a
 * record past the end), is ignored and counted. CNAME records are
 * followed within the answer section (up to CUB_DNS_CNAME_MAX links).
 * Names inside records handed out (a CNAME's and a PTR's, an SRV's
 * target) are read within their record's data, which they must fill
 * exactly (a record whose RDLENGTH lies makes the reply malformed); one with a byte that
 * is not printable ASCII, a space, or a dot inside a label is skipped,
 * as are records of another type than asked.
 *
 * TCP fallback (RFC 1035 4.2.2, RFC 7766): a UDP answer with TC
 * (truncated) set is not used, even with addresses; the question is
 * asked again over a TCP connection to the same server and port, the
 * message behind a two-byte length, within the same timeout, and the
 * reply judged by the same rules (one not believed is counted and the
 * next message read). Replies over TCP are read into a buffer of
 * CUB_DNS_TCP_REPLY_MAX bytes on the caller's stack: a longer one is
 * -CUB_EMSGSIZE. A lookup needs about 6 KiB of stack (the default
 * coroutine stack has 64 KiB; CUB_CORO_STACK_SMALL is too small).
 *
 * Several servers (cub_dns_lookup_servers): up to CUB_DNS_SERVERS_MAX
 * (resolv.conf's MAXNS), asked in order, as a stub resolver walks its
 * nameserver list (RFC 1123 6.1.3.1; glibc without "rotate"): server i
 * of n gets an equal share of the time left, (left) / (n - i), and is
 * followed by the next when it stays silent, answers SERVFAIL, REFUSED
 * or another failure code, or cannot be reached: its address does not
 * resolve, TCP refused or closed early, or an ICMP error about the
 * query comes back (RFC 1122 4.1.3.3; port unreachable: no DNS server
 * there, -CUB_ECONNREFUSED; host or net unreachable, time exceeded),
 * which ends that server's share at once. Such an error counts only
 * when it quotes our query: its addresses and ports and, when the
 * quote reaches that far, its ID. A definite answer (addresses,
 * NXDOMAIN, no data, one too long) ends the lookup at once.
 *
 * Rotation (resolv.conf's "options rotate"): off by default, the first
 * server takes every lookup it answers. With cub_dns_params.rotate set
 * on the interface (cub_dns_set_params), successive lookups through it
 * start at successive servers of their list (one counter per
 * interface, modulo the list's length; each lookup that sends queries
 * takes a turn, a cache hit or a coalesced waiter does not) and fail
 * over in the list's order from there, wrapping. The cache's key is
 * still the list as given, so rotation does not split it.
 *
 * Cache (struct cub_dns_cache, caller storage, no allocation): answers
 * keyed by the server list (in its order), port, name (case-insensitive,
 * a final dot ignored) and record type (A, PTR, SRV: one name's A and
 * SRV answers are two entries) kept for their smallest TTL,
 * at most CUB_DNS_TTL_MAX; a TTL of 0 is not kept. The same name through
 * another list (another order, a server more or less) is another key,
 * asked again: a list stands for one view of the names, and an answer
 * found through [A, B] may be B's when A was down. Negative answers
 * (NXDOMAIN, or no record of the type asked) are kept for min(SOA TTL, SOA MINIMUM) of
 * the SOA in the authority section (RFC 2308 5), at most
 * CUB_DNS_NEG_TTL_MAX; without an SOA they are not kept, nor are other
 * errors. When every slot is taken the least recently used answer is
 * evicted.
 *
 * Coalescing: several coroutines may look up through one cache at once.
 * A lookup that finds its key being asked by another waits for that
 * query (one query for all) and takes its result, whether the answer is
 * kept or not (TTL 0, no SOA) and errors included (SERVFAIL everywhere,
 * ...): they asked the same servers the same question at the same time.
 * Only the asker's -CUB_ETIMEDOUT is not passed on (its timeout may be
 * shorter than a waiter's): a waiter with time left asks again, one for
 * all. The answer waits in the asker's slot until its last waiter has
 * taken it (no allocation per waiter); a waiter still leaves with
 * -CUB_ETIMEDOUT at its own timeout. When every slot is waiting for a
 * server (or for its waiters) the lookup asks without caching.
 *
 * No search list, no IPv6 (AAAA, ip6.arpa), no EDNS0.
 */
#ifndef CUBRT_DNS_H
#define CUBRT_DNS_H

#include <cubrt/base.h>
#include <cubrt/net.h>
#include <cubrt/sync.h>

#define CUB_DNS_PORT 53
#define CUB_DNS_SERVERS_MAX 3		/* servers in one lookup's list */
#define CUB_DNS_NAME_MAX 253		/* longest name, dots included */
#define CUB_DNS_ADDRS_MAX 8		/* addresses kept from one answer */
#define CUB_DNS_CNAME_MAX 8		/* aliases followed */
#define CUB_DNS_RETRY_NS (1000ull * 1000 * 1000)	/* between queries */
#define CUB_DNS_TCP_REPLY_MAX 4096	/* longest reply read over TCP */
#define CUB_DNS_TTL_MAX 86400u		/* cache: answers kept at most 1 day */
#define CUB_DNS_NEG_TTL_MAX 3600u	/* negative answers at most 1 hour */
#define CUB_DNS_DATA_MAX 512		/* an answer's PTR name or packed SRV
					 * records (7 bytes + the target's
					 * length each) kept at most */

/* What a lookup found. */
struct cub_dns_result {
	cub_ip4_t addr[CUB_DNS_ADDRS_MAX];	/* in the answer's order */
	unsigned count;			/* addresses in addr (>= 1 on success);
					 * of cub_dns_reverse 1, of
					 * cub_dns_lookup_srv the SRV records
					 * kept (see there) */
	uint32_t ttl_s;			/* the smallest TTL of the records used
					 * (0xffffffff for a literal address);
					 * from the cache, the time left; for
					 * -CUB_ENOENT the negative TTL (0: no
					 * SOA) */
	char canonical[CUB_DNS_NAME_MAX + 1];	/* the name the addresses
						 * (PTR, SRV records) belong
						 * to (after CNAMEs), lower
						 * case */
	unsigned queries;		/* queries sent (UDP and TCP) */
	unsigned ignored;		/* replies ignored: foreign, malformed */
	cub_ip4_t server;		/* the server whose answer (or error)
					 * this is: the last one asked; 0 for
					 * a literal address */
	bool tcp;			/* that server was asked over TCP (its
					 * UDP answer was truncated) */
	bool cached;			/* answered from the cache, no query
					 * of its own (a kept answer, or
					 * another lookup's query's) */
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
 * server 0); the errors of cub_udp_open and cub_udp_sendto; an ICMP
 * error about the query, at once: -CUB_ECONNREFUSED (port unreachable:
 * nothing listens on the server's port), -CUB_EHOSTUNREACH (host
 * unreachable, time exceeded, fragmentation needed), -CUB_ENETUNREACH
 * (net unreachable). After a truncated UDP answer (res->tcp): the TCP answer's codes, -CUB_EIO (the
 * server closed the connection before a believable reply),
 * -CUB_EMSGSIZE (a reply longer than CUB_DNS_TCP_REPLY_MAX, or TC set
 * over TCP too without addresses), the errors of cub_tcp_connect,
 * cub_tcp_send and cub_tcp_recv (-CUB_ECONNREFUSED: no DNS over TCP
 * there). Contexts: task (blocks).
 */
int cub_dns_lookup(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   const char *name, uint64_t timeout_ns, struct cub_dns_result *res);

/*
 * As cub_dns_lookup, asking the n servers in order (failover, see the
 * top of this file; all on port, 0: 53; with rotation on, from the
 * interface's next turn on), within timeout_ns in all.
 * res->server says whose answer it is; res->queries and res->ignored
 * count over all the servers asked. When every server fails: the last
 * error that was a server's answer or an unreachable server
 * (-CUB_EAGAIN, -CUB_EIO, -CUB_ECONNREFUSED, -CUB_EHOSTUNREACH, ...),
 * -CUB_ETIMEDOUT only when all were silent. -CUB_EINVAL also for
 * servers NULL, n 0 or over CUB_DNS_SERVERS_MAX, or a 0 in the list.
 * cub_dns_lookup(nif, s, ...) is cub_dns_lookup_servers(nif, &s, 1, ...).
 * Contexts: task (blocks).
 */
int cub_dns_lookup_servers(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
			   uint16_t port, const char *name, uint64_t timeout_ns,
			   struct cub_dns_result *res);

/*
 * Sets nif's DNS tunables to *p (NULL: the defaults, all off); they
 * apply from the next lookup through nif on. 0 or -CUB_EINVAL (NULL
 * nif). Contexts: task.
 */
int cub_dns_set_params(struct cub_netif *nif, const struct cub_dns_params *p);

/* Copies nif's DNS tunables into *p. 0 or -CUB_EINVAL (NULL argument).
 * Contexts: task. */
int cub_dns_get_params(struct cub_netif *nif, struct cub_dns_params *p);

/* ------------------------------------------------------ PTR and SRV */

/*
 * Looks up addr's name (its PTR record; RFC 1035 3.5: the question is
 * "d.c.b.a.in-addr.arpa" for a.b.c.d) at the n servers as
 * cub_dns_lookup_servers does (failover, TCP fallback, port 0: 53,
 * within timeout_ns), CNAMEs followed (RFC 2317's classless delegation
 * uses them). Returns 0 with the name (lower case, no final dot) in
 * name[0 .. cap) and res->canonical the in-addr.arpa name the PTR was
 * found under, res->count 1 (the first usable PTR record of several);
 * -CUB_ENOSPC when the name and its NUL do not fit in cap (a cap of
 * CUB_DNS_NAME_MAX + 1 always does); -CUB_ENOENT (NXDOMAIN, or no
 * usable PTR record: wrong types, names with odd bytes, the root);
 * -CUB_EINVAL for NULL nif, name or res, cap 0, a bad server list; the
 * other errors of cub_dns_lookup_servers. name is "" on any error.
 * Contexts: task (blocks).
 */
int cub_dns_reverse(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n, uint16_t port,
		    cub_ip4_t addr, uint64_t timeout_ns, char *name, size_t cap,
		    struct cub_dns_result *res);

/* One SRV record (RFC 2782). */
struct cub_dns_srv {
	uint16_t priority;		/* lower first */
	uint16_t weight;		/* share within a priority */
	uint16_t port;
	char target[CUB_DNS_NAME_MAX + 1];	/* the host, lower case, no
						 * final dot */
};

/*
 * Looks up the SRV records of name, "_service._proto.domain" (RFC 2782:
 * the first two labels each an underscore and at least one character,
 * then at least one label more), at the n servers as
 * cub_dns_lookup_servers does (failover; a truncated answer asked again
 * over TCP; port 0: 53; within timeout_ns), CNAMEs followed. Returns the
 * number of records written to srv[0 ..), at least 1, in the order to
 * try them: by priority, lowest first; within a priority in RFC 2782's
 * weighted random order, drawn anew for each call (a cache hit too)
 * from cub_arch_random, or the clock where the machine has no random
 * source (see src/net/dns_srv.c). res->count is the number of records
 * the answer had (those that fit CUB_DNS_DATA_MAX bytes, 7 + the
 * target's length each; more are left out), res->ttl_s their smallest
 * TTL. Errors: -CUB_ENOSPC when res->count records do not fit in cap
 * (srv holds the first cap in the answer's order, unsorted: ask again
 * with res->count, through a cache at no cost); -CUB_EADDRNOTAVAIL when
 * the only target is "." (the service is decidedly not available at
 * this domain; a "." among other targets is left out); -CUB_ENOENT
 * (NXDOMAIN or no usable SRV record); -CUB_EINVAL for NULL nif, name,
 * srv or res, cap 0, a bad server list, or a name that is not
 * "_service._proto.domain" ("_sip._tcp" alone, "sip._tcp.example.com");
 * the other errors of cub_dns_lookup_servers. Contexts: task (blocks).
 */
int cub_dns_lookup_srv(struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
		       uint16_t port, const char *name, uint64_t timeout_ns,
		       struct cub_dns_srv *srv, unsigned cap, struct cub_dns_result *res);

/* ---------------------------------------------------------------- cache */

/* One cached answer (private to dns_cache.c; the caller gives storage;
 * 1112 bytes on x86-64). */
struct cub_dns_cache_entry {
	char name[CUB_DNS_NAME_MAX + 1];	/* the key, with servers, port */
	cub_ip4_t server[CUB_DNS_SERVERS_MAX];	/* the list, in order */
	uint8_t nservers;
	uint16_t port;
	uint8_t state;			/* free, being asked, answered, done */
	uint16_t waiters;		/* lookups waiting for its query */
	int rc;				/* the query's result */
	unsigned count;			/* 0: a negative answer */
	cub_ip4_t addr[CUB_DNS_ADDRS_MAX];
	uint16_t qtype;			/* the key's record type */
	uint16_t data_len;		/* bytes of data used */
	uint8_t data[CUB_DNS_DATA_MAX];	/* the PTR name, the SRV records */
	cub_ip4_t from;			/* the server that answered */
	uint32_t ttl_s;			/* the answer's TTL as it came */
	char canonical[CUB_DNS_NAME_MAX + 1];
	uint64_t expires;		/* cub_time_now() scale */
	uint64_t used;			/* LRU stamp */
};

/* What a cache did (cub_dns_cache_stats). */
struct cub_dns_cache_stats {
	uint64_t hits;			/* lookups answered without a query
					 * of their own, negative answers,
					 * coalesced ones included */
	uint64_t misses;		/* lookups that asked the servers */
	uint64_t waits;			/* lookups that waited for another's
					 * query of the same key */
	uint64_t coalesced;		/* of the hits, those that took the
					 * result of another's query they
					 * waited for (kept or not, errors
					 * included) */
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
 * that waited for another's query of the same key returns that query's
 * result with res->cached set and res->queries 0 (res->ttl_s the seconds
 * left of a kept answer, else the answer's own TTL), or -CUB_ETIMEDOUT
 * at its own timeout. Literal addresses and malformed names never touch
 * the cache. Returns as cub_dns_lookup; -CUB_EINVAL also for NULL c.
 * It is cub_dns_cache_lookup_servers(c, nif, &server, 1, ...).
 * Contexts: task (blocks).
 */
int cub_dns_cache_lookup(struct cub_dns_cache *c, struct cub_netif *nif, cub_ip4_t server,
			 uint16_t port, const char *name, uint64_t timeout_ns,
			 struct cub_dns_result *res);

/*
 * As cub_dns_cache_lookup with the n servers asked in order as
 * cub_dns_lookup_servers does, the answer kept under the whole list
 * (in its order), port and name. Returns as cub_dns_lookup_servers;
 * -CUB_EINVAL also for NULL c. Contexts: task (blocks).
 */
int cub_dns_cache_lookup_servers(struct cub_dns_cache *c, struct cub_netif *nif,
				 const cub_ip4_t *servers, unsigned n, uint16_t port,
				 const char *name, uint64_t timeout_ns,
				 struct cub_dns_result *res);

/*
 * As cub_dns_reverse and cub_dns_lookup_srv, through cache c: the
 * answer (the PTR name; the SRV records in the answer's order, each
 * call drawing its own weighted order from them) kept under (servers,
 * port, the in-addr.arpa or SRV name, the type) for its TTL, negative
 * answers with an SOA for their negative TTL, concurrent lookups of one
 * key coalesced, as for A. -CUB_EINVAL also for NULL c.
 * Contexts: task (blocks).
 */
int cub_dns_cache_reverse(struct cub_dns_cache *c, struct cub_netif *nif,
			  const cub_ip4_t *servers, unsigned n, uint16_t port, cub_ip4_t addr,
			  uint64_t timeout_ns, char *name, size_t cap,
			  struct cub_dns_result *res);
int cub_dns_cache_lookup_srv(struct cub_dns_cache *c, struct cub_netif *nif,
			     const cub_ip4_t *servers, unsigned n, uint16_t port,
			     const char *name, uint64_t timeout_ns, struct cub_dns_srv *srv,
			     unsigned cap, struct cub_dns_result *res);

/* Copies c's counters: 0 or -CUB_EINVAL (NULL). Contexts: task. */
int cub_dns_cache_stats(struct cub_dns_cache *c, struct cub_dns_cache_stats *st);

#endif
