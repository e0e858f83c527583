/*
 * sntp.c - an SNTP client (RFC 4330, RFC 5905 client mode): one request
 * to a server over UDP, sent again every CUB_SNTP_RETRY_NS, the reply
 * checked field by field and its timestamps turned into the clock offset
 * and round-trip delay (cubrt/sntp.h).
 *
 * Invariants: sent[] holds the nonces and local send times of the last
 * CUB_SNTP_SENT_MAX requests (a ring, nsent of them in all), so a late
 * reply to an earlier request is still matched to its own send time;
 * every read of a reply is within its CUB_SNTP_LEN checked bytes.
 * ICMP errors (RFC 1122 4.1.3.3): the endpoint is connected to the
 * server (cub_udp_connect), so udp.c hands it the errors that quote a
 * request of ours to the server's address and port (as for DNS,
 * dns_query.c), and the first one ends the query with its code: a port
 * unreachable -CUB_ECONNREFUSED with res->kiss empty (a kiss-o'-death
 * fills it: that is how the two are told apart), a host unreachable or
 * time exceeded -CUB_EHOSTUNREACH, a net unreachable -CUB_ENETUNREACH.
 * A "fragmentation needed" (-CUB_EMSGSIZE from udp.c) about the
 * request (76 bytes with its headers, sent with DF as every datagram
 * that fits a frame is, ip4.c) leaves nothing to adapt: the request
 * cannot be smaller, and a path that will not carry it is no way to the
 * server, so it is -CUB_EHOSTUNREACH (and no caller reads "message too
 * long" as something it could fix). No quote check (cubi_udp_quote_set): what an
 * error quotes of the payload starts with bytes every request shares
 * (LI/VN/mode, stratum, poll, precision: 0x23 0 0 0) and RFC 792 quotes
 * only 8 of them; the nonce is the transmit timestamp at offset 40, out
 * of the check's reach. So an error forged by someone who guessed the
 * ephemeral port is believed, which costs this one query (a keeper
 * fails over and asks again later), never a wrong time.
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open);
 * the query lives on the caller's stack (about 300 bytes).
 */
#include <cubrt/arch.h>
#include <cubrt/sntp.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

#define NSEC 1000000000ull
#define MODE_CLIENT 3
#define MODE_SERVER 4
#define VERSION 4
#define LEAP_UNSYNC 3
#define STRATUM_MAX 15
#define OFF_REF_ID 12
#define OFF_ORIGINATE 24
#define OFF_RECEIVE 32
#define OFF_TRANSMIT 40
#define IGNORE CUBI_UDP_QUERY_IGNORE	/* judge: not a reply to believe */

struct query {
	struct cubi_udp_query uq;	/* first: the exchange's callbacks
					 * get it back by a cast */
	struct cub_sntp_result *res;
	struct {
		uint64_t nonce;		/* our transmit timestamp */
		uint64_t t1;		/* local wall time it left */
	} sent[CUB_SNTP_SENT_MAX];
	unsigned nsent;
	uint8_t in[CUB_SNTP_LEN + 4];	/* a longer reply is cut, still judged */
};

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

bool cub_sntp_to_unix(uint64_t ts, uint64_t near_unix_ns, uint64_t *unix_ns)
{
	int64_t local = (int64_t)(near_unix_ns / NSEC + CUB_SNTP_UNIX_EPOCH);
	uint32_t s = (uint32_t)(ts >> 32);
	int64_t full = local + (int32_t)(s - (uint32_t)local);	/* nearest era */
	uint64_t frac = ((ts & 0xffffffffu) * NSEC) >> 32;

	if (full < (int64_t)CUB_SNTP_UNIX_EPOCH ||
	    (uint64_t)full - CUB_SNTP_UNIX_EPOCH > UINT64_MAX / NSEC - 1)
		return false;
	*unix_ns = ((uint64_t)full - CUB_SNTP_UNIX_EPOCH) * NSEC + frac;
	return true;
}

/* (a + b) / 2 without overflowing (a, b below 2^62 in magnitude). */
static int64_t half_sum(int64_t a, int64_t b)
{
	return a / 2 + b / 2 + (a % 2 + b % 2) / 2;
}

void cub_sntp_offset(uint64_t t1, uint64_t t2, uint64_t t3, uint64_t t4, int64_t *offset,
		     int64_t *delay)
{
	int64_t d = (int64_t)(t4 - t1) - (int64_t)(t3 - t2);

	*offset = half_sum((int64_t)(t2 - t1), (int64_t)(t3 - t4));
	*delay = d > 0 ? d : 0;
}

/* The request with nonce n (LI 0, VN 4, mode 3, all else 0). */
static void build(uint8_t *out, uint64_t n)
{
	cub_memset(out, 0, CUB_SNTP_LEN);
	out[0] = VERSION << 3 | MODE_CLIENT;
	put64(out + OFF_TRANSMIT, n);
}

/* The index in q->sent of the request whose nonce is n, or -1. */
static int sent_with(const struct query *q, uint64_t n)
{
	unsigned have = CUB_MIN(q->nsent, CUB_SNTP_SENT_MAX);

	for (unsigned i = 0; i < have; i++)
		if (q->sent[i].nonce == n)
			return (int)i;
	return -1;
}

/* A kiss-o'-death that ends the query: RATE, DENY, RSTR (RFC 4330 8). */
static bool fatal_kiss(const uint8_t *code)
{
	return !cub_memcmp(code, "RATE", 4) || !cub_memcmp(code, "DENY", 4) ||
	       !cub_memcmp(code, "RSTR", 4);
}

/* Takes the believed reply's timestamps into res: 0, or IGNORE when one
 * cannot be a Unix time, the receive timestamp is 0 (unknown, RFC 5905
 * 6: read in the nearest era it would be 2036) or the server sent
 * before it received (T3 < T2: either is false, and the offset would
 * be off by half the difference). t4 is the local wall time it
 * arrived. */
static int take_times(const uint8_t *m, uint64_t t1, uint64_t t4, struct cub_sntp_result *res)
{
	uint64_t t2, t3;

	if (get64(m + OFF_RECEIVE) == 0 ||
	    !cub_sntp_to_unix(get64(m + OFF_RECEIVE), t4, &t2) ||
	    !cub_sntp_to_unix(get64(m + OFF_TRANSMIT), t4, &t3) || t3 < t2)
		return IGNORE;
	cub_sntp_offset(t1, t2, t3, t4, &res->offset_ns, &res->delay_ns);
	if (res->offset_ns < 0 && (uint64_t)-(res->offset_ns + 1) + 1 > t4)
		return IGNORE;
	res->time_ns = t4 + (uint64_t)res->offset_ns;
	return 0;
}

/*
 * Judges the n-byte reply in q->in that arrived at local wall time t4:
 * 0 (res filled), IGNORE, or -CUB_ECONNREFUSED (a fatal kiss-o'-death).
 */
static int judge(const struct query *q, size_t n, uint64_t t4, struct cub_sntp_result *res)
{
	const uint8_t *m = q->in;
	unsigned leap, version, mode, stratum;
	int at;

	if (n < CUB_SNTP_LEN)
		return IGNORE;
	leap = m[0] >> 6;
	version = m[0] >> 3 & 7;
	mode = m[0] & 7;
	stratum = m[1];
	if (mode != MODE_SERVER || (version != 3 && version != 4) ||
	    (at = sent_with(q, get64(m + OFF_ORIGINATE))) < 0)
		return IGNORE;
	if (stratum == 0) {
		if (!fatal_kiss(m + OFF_REF_ID))
			return IGNORE;
		cub_memcpy(res->kiss, m + OFF_REF_ID, 4);
		res->kiss[4] = '\0';
		return -CUB_ECONNREFUSED;
	}
	if (stratum > STRATUM_MAX || leap == LEAP_UNSYNC || get64(m + OFF_TRANSMIT) == 0)
		return IGNORE;
	if (take_times(m, q->sent[at].t1, t4, res))
		return IGNORE;
	res->stratum = stratum;
	res->leap = leap;
	res->version = version;
	res->ref_id = get32(m + OFF_REF_ID);
	return 0;
}

/* A random 64-bit nonce; without an RNG, the clocks mixed (a guess is
 * then harder than a fixed value, not hard). */
static uint64_t nonce(unsigned nth)
{
	uint64_t r;

	if (!cub_arch_random(&r))
		r = (cub_time_now() ^ cub_time_wall() << 17 ^ nth) * 0x9e3779b97f4a7c15ull;
	return r ? r : 1;
}

/* cubi_udp_query's send: a new request, remembered in q->sent: 0 or
 * the send's error. */
static int send_one(struct cubi_udp_query *uq)
{
	struct query *q = (struct query *)uq;
	struct cub_sntp_result *res = q->res;
	unsigned slot = q->nsent % CUB_SNTP_SENT_MAX;
	uint8_t out[CUB_SNTP_LEN];
	int rc;

	q->sent[slot].nonce = nonce(q->nsent);
	build(out, q->sent[slot].nonce);
	q->sent[slot].t1 = cub_time_wall();
	rc = cub_udp_sendto(&uq->u, uq->server, uq->port, out, sizeof(out));
	if (rc < 0)
		return rc;
	q->nsent++;
	res->queries++;
	return 0;
}

/* cubi_udp_query's judge: the reply, stamped with its arrival. */
static int judge_reply(struct cubi_udp_query *uq, size_t len)
{
	struct query *q = (struct query *)uq;

	return judge(q, len, cub_time_wall(), q->res);
}

/* Contexts: task. */
int cubi_sntp_query_hooked(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
			   uint64_t timeout_ns, struct cub_sntp_result *res,
			   const struct cubi_sntp_hook *h)
{
	struct query q = { .uq = { .server = server, .port = port ? port : CUB_SNTP_PORT,
				   .retry_ns = CUB_SNTP_RETRY_NS, .send = send_one,
				   .judge = judge_reply },
			   .res = res };
	int rc;

	if (!nif || !res || !server)
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	q.uq.in = q.in;
	q.uq.in_cap = sizeof(q.in);
	if ((rc = cubi_udp_query_open(&q.uq, nif)) != 0)
		return rc;
	rc = cub_udp_connect(&q.uq.u, server, q.uq.port);	/* hears ICMP errors */
	if (rc == 0 && h && h->open(h->arg, &q.uq.u))
		rc = -CUB_EBADF;
	if (rc == 0)
		rc = cubi_udp_query_run(&q.uq, cubi_deadline(cub_time_now(), timeout_ns));
	if (h)
		h->done(h->arg);
	res->ignored = q.uq.ignored;
	cub_udp_close(&q.uq.u);	/* -CUB_EBADF if h's owner closed it */
	if (rc == -CUB_EMSGSIZE)
		rc = -CUB_EHOSTUNREACH;	/* "fragmentation needed" about a
					 * request that cannot be smaller:
					 * no way to this server (top) */
	return rc;
}

/* Contexts: task. */
int cub_sntp_query(struct cub_netif *nif, cub_ip4_t server, uint16_t port,
		   uint64_t timeout_ns, struct cub_sntp_result *res)
{
	return cubi_sntp_query_hooked(nif, server, port, timeout_ns, res, NULL);
}
