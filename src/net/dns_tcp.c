/*
 * dns_tcp.c - the DNS resolver's TCP fallback (RFC 1035 4.2.2, RFC
 * 7766): a question whose UDP answer came back truncated is asked again
 * on a TCP connection to the same server and port, each message behind
 * a two-byte length, within the lookup's deadline.
 *
 * A reply is judged as over UDP (cubi_dns_judge); one not to believe
 * (another ID, another question, malformed) is counted in res->ignored
 * and the next message on the connection is read. Replies longer than
 * CUBI_DNS_TCP_MAX (CUB_DNS_TCP_REPLY_MAX) end the exchange with
 * -CUB_EMSGSIZE: the buffer is the query's, on the caller's stack, and
 * a stub resolver asking for A records needs no more. The server
 * closing before a believable reply is -CUB_EIO.
 *
 * One connection per fallback, closed before returning; it allocates
 * as every TCP connection does (cubrt/net.h), nothing else is. No lock:
 * the query is its lookup's own; the connection's state is under the
 * interface's lock inside cub_tcp_*.
 */
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

/* Time left before deadline, or 0 when it has passed. */
static uint64_t left(uint64_t deadline)
{
	uint64_t now = cub_time_now();

	return now < deadline ? deadline - now : 0;
}

/* Reads exactly n bytes into buf: 0, -CUB_EIO (the server closed
 * first), -CUB_ETIMEDOUT, or cub_tcp_recv's error. */
static int read_full(struct cub_tcp *c, uint8_t *buf, size_t n, uint64_t deadline)
{
	for (size_t got = 0; got < n;) {
		uint64_t t = left(deadline);
		long r;

		if (t == 0)
			return -CUB_ETIMEDOUT;
		r = cub_tcp_recv(c, buf + got, n - got, t);
		if (r == 0)
			return -CUB_EIO;
		if (r < 0)
			return (int)r;
		got += (size_t)r;
	}
	return 0;
}

/* Sends the query behind its length: 0 or an error. */
static int send_query(struct cub_tcp *c, const struct cubi_dns_query *q, uint64_t deadline)
{
	uint8_t msg[2 + CUBI_DNS_QUERY_MAX];
	size_t n = 2 + q->out_len;

	put16(msg, (uint16_t)q->out_len);
	cub_memcpy(msg + 2, q->out, q->out_len);
	for (size_t sent = 0; sent < n;) {
		uint64_t t = left(deadline);
		long r;

		if (t == 0)
			return -CUB_ETIMEDOUT;
		r = cub_tcp_send(c, msg + sent, n - sent, t);
		if (r < 0)
			return (int)r;
		sent += (size_t)r;
	}
	return 0;
}

/* Reads replies until one is believed: its verdict, or an error. */
static int read_replies(struct cub_tcp *c, struct cubi_dns_query *q, uint64_t deadline)
{
	for (;;) {
		uint8_t len[2];
		size_t n;
		int rc;

		if ((rc = read_full(c, len, 2, deadline)))
			return rc;
		n = get16(len);
		if (n > sizeof(q->in))
			return -CUB_EMSGSIZE;
		if ((rc = read_full(c, q->in, n, deadline)))
			return rc;
		rc = cubi_dns_judge(q, n, true);
		if (rc != CUBI_DNS_IGNORE)
			return rc;
		q->res->ignored++;
	}
}

/* Contexts: task. */
int cubi_dns_tcp(struct cubi_dns_query *q, struct cub_netif *nif, uint64_t deadline)
{
	struct cub_tcp *c = NULL;
	uint64_t t = left(deadline);
	int rc;

	if (t == 0)
		return -CUB_ETIMEDOUT;
	q->res->tcp = true;
	if ((rc = cub_tcp_connect(nif, q->uq.server, q->uq.port, t, &c)))
		return rc;
	q->res->queries++;
	rc = send_query(c, q, deadline);
	if (rc == 0)
		rc = read_replies(c, q, deadline);
	cub_tcp_close(c);
	return rc;
}
