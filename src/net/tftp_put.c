/*
 * tftp_put.c - TFTP writes (RFC 1350 write request, octet or netascii)
 * on the engine of tftp.c: the caller's buffer goes to the server as a
 * file.
 *
 * The write request goes to port 69; the server answers from its
 * transfer ID with ACK 0 (or, to options, an OACK, or an ERROR). Then a
 * window of DATA goes out: the blocks after the last acknowledged one,
 * as many as the agreed window (RFC 7440; lock-step is 1), fewer when
 * the file's last block (shorter than the block size, empty when the
 * file's wire bytes are a whole number of blocks) comes first. An ACK
 * of any block sent moves the window's start past it and sends the
 * next window from there: the last block of the window when all came,
 * an earlier one when the server saw a gap. The whole window goes again
 * every retransmission interval without such an ACK. An ACK of the
 * window's start again (a duplicate: the server retransmitted it) is
 * ignored: resending DATA on it would double every packet from then on
 * (RFC 1123 4.2.3.1, the Sorcerer's Apprentice), so only our own
 * timeout resends. The ACK of the file's last block ends the write.
 * Block numbers wrap after 65535 to 0, as reads take them.
 *
 * A block's bytes are made afresh from a cursor each time it is sent
 * (tftp_ascii.c), so a resent window needs no copy of its blocks: the
 * cursor at the window's start (t->at) is all that is kept.
 */
#include <cubrt/net.h>

#include "tftp_int.h"

/* Sends the window: up to t->window DATA after block t->block, made
 * from the cursor t->at, and notes how many went and the final one. */
static int send_window(struct cubi_tftp *t)
{
	struct cubi_tftp_cursor c = t->at;
	uint8_t *out = t->heap ? t->heap : t->out_small;
	int rc;

	t->out = out;
	t->out_port = t->tid;
	t->final = 0;
	for (t->sent = 0; t->sent < t->window && !t->final;) {
		size_t n = cubi_tftp_encode(t, &c, out + 4, t->blksize);

		t->sent++;
		cubi_tftp_put16(out, CUBI_TFTP_DATA);
		cubi_tftp_put16(out + 2, (uint16_t)(t->block + t->sent));
		t->out_len = 4 + n;
		if (n < t->blksize)
			t->final = t->sent;
		if ((rc = cubi_tftp_send(t)))
			return rc;
	}
	return 0;
}

/* A write's take function (tftp_int.h). */
static int take_put(struct cubi_tftp *t, int len, uint16_t port, unsigned op,
		    bool *fresh)
{
	unsigned d;
	int rc;

	if (!t->tid) {			/* the answer to the request */
		if (op == CUBI_TFTP_OACK && t->asked) {
			if ((rc = cubi_tftp_oack(t, len, port)))
				return rc;
		} else if (op != CUBI_TFTP_ACK || len < 4 || cubi_tftp_get16(t->in + 2)) {
			return 0;	/* not ACK 0: ignored */
		}
		t->tid = port;
		*fresh = true;
		return send_window(t);
	}
	if (op != CUBI_TFTP_ACK || len < 4)
		return 0;		/* an OACK again: ignored */
	d = (uint16_t)(cubi_tftp_get16(t->in + 2) - t->block);
	if (d == 0 || d > t->sent)
		return 0;		/* a duplicate or an old one: ignored */
	/* Past d blocks: all whole but for the final one. */
	cubi_tftp_encode(t, &t->at, NULL, (size_t)d * t->blksize);
	t->block = (uint16_t)(t->block + d);
	t->done = t->at.off;
	if (d == t->final)
		return 1;		/* the last block arrived */
	*fresh = true;
	return send_window(t);
}

long cub_tftp_put_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       const void *buf, size_t len, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info)
{
	/* data is only read from: the cast keeps one buffer field. */
	struct cubi_tftp t = { .server = server, .put = true, .name = name,
			       .data = (uint8_t *)(uintptr_t)buf, .len = len,
			       .take = take_put, .resend = send_window,
			       .at = { .off = 0, .pend = -1 } };
	int rc;

	if (!nif || !server || (!buf && len) || len > (size_t)INT64_MAX)
		return -CUB_EINVAL;
	if ((rc = cubi_tftp_request(&t, opts)))
		return rc;
	return cubi_tftp_run(&t, nif, timeout_ns, info);
}

long cub_tftp_put(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  const void *buf, size_t len, uint64_t timeout_ns)
{
	return cub_tftp_put_opts(nif, server, name, buf, len, timeout_ns, NULL, NULL);
}
