/*
 * cubrt/sntp.h - an SNTP client (RFC 4330; RFC 5905's client mode, NTPv4
 * over UDP): the time of a server, and how far the local wall clock
 * (cub_time_wall, cubrt/time.h) is from it, over the stack's UDP
 * (cubrt/net.h). It only asks: setting the clock is the caller's
 * choice (cub_time_set_wall(cub_time_wall() + res.offset_ns)).
 *
 * One 48-byte request (version 4, mode 3) goes to the server from a
 * random ephemeral port; its transmit timestamp is a random 64-bit
 * nonce, not the local time (RFC 4330 5 allows it), which the server
 * must echo as the originate timestamp. Without a believable reply the
 * request goes out again every CUB_SNTP_RETRY_NS, with a new nonce,
 * until the timeout; a reply to any of the last CUB_SNTP_SENT_MAX
 * requests counts. A reply is believed only when it comes from the
 * server's address and port, is at least 48 bytes, has mode 4 (server),
 * version 3 or 4, the originate timestamp equal to a nonce we sent, a
 * nonzero transmit timestamp, stratum 1..15 and a leap indicator other
 * than 3 (unsynchronised); anything else is ignored and counted. A
 * stratum-0 reply to our nonce carrying the kiss code RATE, DENY or RSTR
 * (a kiss-o'-death) ends the query with -CUB_ECONNREFUSED (other kiss
 * codes are ignored). The endpoint is connected to the server, so an
 * ICMP error about a request (RFC 1122 4.1.3.3) ends the query at once
 * instead of its timeout: a port unreachable (the host has no NTP
 * server) with -CUB_ECONNREFUSED and res->kiss empty, which is how it
 * is told from a kiss-o'-death. Such an error is not checked against
 * the nonce (it is at byte 40, beyond what errors quote), so one forged
 * by someone who guessed the ephemeral port ends a query early; it
 * cannot make a time believed.
 *
 * Timestamps are seconds since 1900 in 32 bits: each is read in the era
 * (136-year span) that puts it nearest the local wall clock, so a
 * server's time is understood across the 2036 wrap as long as the local
 * clock is within 68 years of it.
 */
#ifndef CUBRT_SNTP_H
#define CUBRT_SNTP_H

#include <cubrt/base.h>
#include <cubrt/net.h>

#define CUB_SNTP_PORT 123
#define CUB_SNTP_RETRY_NS (1000ull * 1000 * 1000)	/* between requests */
#define CUB_SNTP_SENT_MAX 8		/* requests whose replies count */
#define CUB_SNTP_LEN 48			/* an NTP packet without extensions */
#define CUB_SNTP_UNIX_EPOCH 2208988800ull	/* 1970 in seconds since 1900 */

/* What a query found (a kiss-o'-death fills only kiss, queries, ignored). */
struct cub_sntp_result {
	uint64_t time_ns;	/* the server's time when its reply came,
				 * Unix ns: the local wall time then plus
				 * offset_ns */
	int64_t offset_ns;	/* server minus local clock:
				 * ((T2 - T1) + (T3 - T4)) / 2 */
	int64_t delay_ns;	/* round trip less the server's holding:
				 * (T4 - T1) - (T3 - T2), at least 0 */
	unsigned stratum;	/* 1..15 */
	unsigned leap;		/* leap indicator 0..2 (1: a leap second
				 * will be added today, 2: removed) */
	unsigned version;	/* the reply's, 3 or 4 */
	uint32_t ref_id;	/* reference id (stratum 1: a source code) */
	char kiss[5];		/* a kiss-o'-death's code, else "" */
	unsigned queries;	/* requests sent */
	unsigned ignored;	/* replies ignored: foreign, malformed,
				 * unbelievable */
};

/*
 * Asks the SNTP server server:port (port 0: 123) through nif for its
 * time, waiting up to timeout_ns. Returns 0 and *res; -CUB_ECONNREFUSED
 * with res->kiss "RATE", "DENY" or "RSTR" (a kiss-o'-death), or with
 * res->kiss "" (an ICMP port unreachable: nothing listens on the
 * server's port); -CUB_EHOSTUNREACH (an ICMP host unreachable, time
 * exceeded or fragmentation needed about a request, or the server's
 * next hop does not answer ARP); -CUB_ENETUNREACH (an ICMP net
 * unreachable); -CUB_ETIMEDOUT; -CUB_EINVAL (NULL arguments, server 0);
 * the other errors of cub_udp_open and cub_udp_sendto. An ICMP error
 * ends the query at once; res->queries and res->ignored count what
 * came before it. Contexts: task (blocks).
 */
int cub_sntp_query(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   uint64_t timeout_ns, struct cub_sntp_result *res);

/*
 * The NTP timestamp ts (32.32 fixed point, seconds since 1900, any era)
 * as Unix ns, in the era nearest near_unix_ns (a Unix ns time). Returns
 * true, or false when that time is before 1970 (not representable).
 * Contexts: any.
 */
bool cub_sntp_to_unix(uint64_t ts, uint64_t near_unix_ns, uint64_t *unix_ns);

/*
 * The four-timestamp computation, in Unix ns: t1 request sent (local),
 * t2 received by the server, t3 reply sent (server), t4 reply received
 * (local). *offset = ((t2 - t1) + (t3 - t4)) / 2, *delay = (t4 - t1) -
 * (t3 - t2), or 0 if that is negative. Contexts: any.
 */
void cub_sntp_offset(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, int64_t *offset,
		     int64_t *delay);

/* ---------------------------------------------------------- the keeper */

#define CUB_SNTP_POLL_MIN_NS (64ull * 1000 * 1000 * 1000)	/* ntpd's minpoll 6 */
#define CUB_SNTP_POLL_MAX_NS (1024ull * 1000 * 1000 * 1000)	/* maxpoll 10 */
#define CUB_SNTP_STEP_NS (128ull * 1000 * 1000)	/* ntpd's step threshold */
#define CUB_SNTP_QUERY_NS (5ull * 1000 * 1000 * 1000)	/* one query's wait */

/* How a keeper polls; a 0 field takes the default beside it. */
struct cub_sntp_keeper_opts {
	uint64_t min_poll_ns;	/* CUB_SNTP_POLL_MIN_NS */
	uint64_t max_poll_ns;	/* CUB_SNTP_POLL_MAX_NS */
	uint64_t step_ns;	/* CUB_SNTP_STEP_NS: smaller offsets slew */
	uint64_t timeout_ns;	/* CUB_SNTP_QUERY_NS */
	uint64_t first_ns;	/* before the first query: 0, at once */
	/* Told of every step (step: new minus old wall time), in the
	 * keeper's coroutine, after the clock moved; may be NULL. */
	void (*stepped)(void *arg, int64_t step_ns);
	void *arg;
};

/* What a keeper has done (cub_sntp_keeper_status). */
struct cub_sntp_keeper_stats {
	unsigned polls;		/* queries made */
	unsigned slews;		/* offsets slewed (cub_time_adjust) */
	unsigned steps;		/* offsets stepped (cub_time_set_wall) */
	unsigned failures;	/* queries without an answer (timeouts,
				 * send errors, ICMP errors,
				 * kisses-o'-death) */
	unsigned failovers;	/* moves to another server of the list */
	unsigned server;	/* the list index asked next */
	int last_error;		/* the latest failure's, else 0 */
	int64_t last_offset_ns;	/* the latest answer's offset */
	uint64_t poll_ns;	/* the wait before the next query */
	bool refused;		/* every server refused (a DENY or RSTR
				 * kiss): it stopped asking */
	int64_t last_delay_ns;	/* the latest answer's round-trip delay:
				 * its offset is right within half of it */
};

/* One server of a keeper's list: its address and UDP port (0: 123). */
struct cub_sntp_server {
	cub_ip4_t addr;
	uint16_t port;
};

#define CUB_SNTP_KEEPER_SERVERS 4	/* the longest list a keeper takes */

/*
 * A clock kept in time by SNTP servers, the caller's storage; every
 * field is the keeper's. Its coroutine asks one server of its list
 * (cub_sntp_query, opts.timeout_ns) and then:
 *   - an offset under opts.step_ns (either way) is slewed: it replaces
 *     any slew in progress (cub_time_adjust), and the poll interval
 *     doubles, from opts.min_poll_ns up to opts.max_poll_ns;
 *   - a larger one is stepped (cub_time_set_wall, then opts.stepped),
 *     and the interval goes back to the minimum;
 *   - no answer, a RATE kiss-o'-death or any other error (an ICMP
 *     port unreachable included: -CUB_ECONNREFUSED with no kiss, at
 *     once rather than after the timeout): the keeper fails over to the
 *     next server of the list at once, until one answers or each has
 *     failed once in this poll; when all failed the interval doubles
 *     likewise; such a server is asked again in a later poll;
 *   - a DENY or RSTR kiss-o'-death: that server is never asked again
 *     (RFC 4330 8) and the next one is asked at once; when every
 *     server has refused the keeper stops asking (stats.refused).
 * It stays with the server that answered last (stats.server), going
 * round the list only as servers fail. The first query is opts.first_ns
 * after the start, each next one the interval after the last ended. A
 * slew at 500 ppm takes 2000 times its size (128 ms: about 4 min), so
 * an interval under that hands the next offset on, still measured
 * against the server, to a fresh slew.
 */
struct cub_sntp_keeper {
	uint32_t magic;
	struct cub_netif *nif;
	struct cub_sntp_server servers[CUB_SNTP_KEEPER_SERVERS];	/* ports set */
	unsigned n_servers;
	unsigned refused_mask;		/* bit i: servers[i] refused */
	struct cub_sntp_keeper_opts o;
	struct cub_coro *coro;
	struct cub_mutex lock;		/* the fields below */
	struct cub_cond wake;		/* signalled by stop */
	bool stopping;
	struct cub_udp *active;		/* the running query's endpoint */
	struct cub_sntp_keeper_stats stats;	/* .server: the one asked next */
};

/*
 * Starts keeping the wall clock by server:port (port 0: 123) through
 * nif, opts NULL for every default: cub_sntp_keeper_start_list with a
 * list of one. 0; -CUB_EINVAL (NULL k or nif, server 0, max_poll_ns
 * below min_poll_ns); -CUB_ENOMEM. Contexts: task.
 */
int cub_sntp_keeper_start(struct cub_sntp_keeper *k, struct cub_netif *nif,
			  cub_ip4_t server, uint16_t port,
			  const struct cub_sntp_keeper_opts *opts);

/*
 * Starts keeping the wall clock by the n servers of list (copied; the
 * first is asked first, the others in order as servers fail) through
 * nif. 0; -CUB_EINVAL (NULL k, nif or list, n 0 or above
 * CUB_SNTP_KEEPER_SERVERS, an address 0, max_poll_ns below
 * min_poll_ns); -CUB_ENOMEM. Contexts: task.
 */
int cub_sntp_keeper_start_list(struct cub_sntp_keeper *k, struct cub_netif *nif,
			       const struct cub_sntp_server *list, unsigned n,
			       const struct cub_sntp_keeper_opts *opts);

/* Copies the counters to *stats. 0 or -CUB_EINVAL (k not started, NULL
 * stats). Contexts: task. */
int cub_sntp_keeper_status(struct cub_sntp_keeper *k, struct cub_sntp_keeper_stats *stats);

/* Stops the keeper at once, wherever it waits (a query in flight ends),
 * and waits for its coroutine; a slew in progress goes on. 0 or
 * -CUB_EINVAL (k not started). Contexts: task (not opts.stepped). */
int cub_sntp_keeper_stop(struct cub_sntp_keeper *k);

#endif
