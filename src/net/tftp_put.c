/*
 * tftp_put.c - TFTP writes (RFC 1350 write request, octet mode): the
 * caller's buffer goes to the server as a file, lock-step.
 *
 * The write request goes to port 69; the server answers from its
 * transfer ID with ACK 0 (or, to options, an OACK, or an ERROR). Then
 * DATA n (blocks of the agreed size, the last one shorter, empty when
 * the length is a whole number of blocks) goes out once ACK n-1 has
 * come, and again every retransmission interval until ACK n comes; the
 * ACK of the last block ends the write. A duplicate ACK (n-1 again: the
 * server retransmitted it) is ignored: resending DATA on it would
 * double every packet from then on (RFC 1123 4.2.3.1, the Sorcerer's
 * Apprentice), so only our own timeout resends. Block numbers wrap after
 * 65535 to 0, as reads take them (tftp.c).
 */
#include <cubrt/net.h>
#include <cubrt/string.h>

#include "tftp_int.h"

/* Makes DATA (block + 1), the next block of the file, the packet to
 * (re)send, and sends it once. */
static int next_data(struct cubi_tftp *t, bool *fresh)
{
	size_t n = CUB_MIN(t->blksize, t->len - t->done);

	t->block = (uint16_t)(t->block + 1);
	t->out = t->heap ? t->heap : t->out_small;
	cubi_tftp_put16(t->out, CUBI_TFTP_DATA);
	cubi_tftp_put16(t->out + 2, t->block);
	if (n)		/* data may be NULL with len 0 */
		cub_memcpy(t->out + 4, t->data + t->done, n);
	t->out_len = 4 + n;
	t->out_port = t->tid;
	t->inflight = n;
	*fresh = true;
	return cubi_tftp_send(t);
}

/* A write's take function (tftp_int.h). */
static int take_put(struct cubi_tftp *t, int len, uint16_t port, bool *fresh)
{
	unsigned op = len >= 2 ? cubi_tftp_get16(t->in) : 0;
	int rc;

	*fresh = false;
	if (t->tid && port != t->tid) {
		cubi_tftp_error_to(t, port, 5, "unknown transfer ID");
		return 0;
	}
	if (op == CUBI_TFTP_ERROR && len >= 4)
		return cubi_tftp_server_error(t, len);
	if (!t->tid) {			/* the answer to the request */
		if (op == CUBI_TFTP_OACK && t->asked) {
			if ((rc = cubi_tftp_oack(t, len, port)))
				return rc;
		} else if (op != CUBI_TFTP_ACK || len < 4 || cubi_tftp_get16(t->in + 2)) {
			return 0;	/* not ACK 0: ignored */
		}
		t->tid = port;
		return next_data(t, fresh);
	}
	if (op != CUBI_TFTP_ACK || len < 4 || cubi_tftp_get16(t->in + 2) != t->block)
		return 0;		/* a duplicate, an OACK again: ignored */
	t->done += t->inflight;
	if (t->inflight < t->blksize)
		return 1;		/* the last block arrived */
	return next_data(t, fresh);
}

long cub_tftp_put_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       const void *buf, size_t len, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info)
{
	/* data is only read from: the cast keeps one buffer field. */
	struct cubi_tftp t = { .server = server, .put = true,
			       .data = (uint8_t *)(uintptr_t)buf, .len = len };
	int rc;

	if (!nif || !server || (!buf && len) || len > (size_t)INT64_MAX)
		return -CUB_EINVAL;
	if ((rc = cubi_tftp_request(&t, name, opts)))
		return rc;
	return cubi_tftp_run(&t, nif, timeout_ns, take_put, info);
}

long cub_tftp_put(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  const void *buf, size_t len, uint64_t timeout_ns)
{
	return cub_tftp_put_opts(nif, server, name, buf, len, timeout_ns, NULL, NULL);
}
