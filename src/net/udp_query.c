/*
 * udp_query.c - a client's request/reply exchange with one server over a
 * UDP endpoint (cubi_udp_query in net_impl.h), what the DNS and SNTP
 * clients share: an endpoint on a random ephemeral port (so that a
 * spoofed reply must guess it as well as the protocol's own nonce), the
 * request sent again every retry_ns without a believable answer, replies
 * from any other address or port ignored, the rest judged by the
 * protocol, until the deadline.
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open).
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "net_impl.h"

/* Contexts: task. */
int cubi_udp_query_open(struct cubi_udp_query *q, struct cub_netif *nif)
{
	for (int i = 0; i < 4; i++) {
		uint64_t r;

		if (!cub_arch_random(&r))
			break;
		if (cub_udp_open(&q->u, nif, (uint16_t)(49152 + r % 16384)) == 0)
			return 0;
	}
	return cub_udp_open(&q->u, nif, 0);
}

/* Contexts: task. */
int cubi_udp_query_run(struct cubi_udp_query *q, uint64_t deadline)
{
	uint64_t retry_at = 0;

	for (;;) {
		uint64_t now = cub_time_now();
		cub_ip4_t src;
		uint16_t port;
		int len, rc;

		if (now >= deadline)
			return -CUB_ETIMEDOUT;
		if (now >= retry_at) {
			if ((rc = q->send(q)) != 0)
				return rc;
			retry_at = now + q->retry_ns;
		}
		len = cub_udp_recvfrom(&q->u, q->in, q->in_cap, &src, &port,
				       CUB_MIN(retry_at, deadline) - now);
		if (len == -CUB_ETIMEDOUT)
			continue;
		if (len < 0)
			return len;
		if (src != q->server || port != q->port ||
		    (rc = q->judge(q, CUB_MIN((size_t)len, q->in_cap))) == CUBI_UDP_QUERY_IGNORE) {
			q->ignored++;
			continue;
		}
		return rc;
	}
}
