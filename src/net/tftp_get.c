/*
 * tftp_get.c - TFTP reads (RFC 1350 read request, octet or netascii)
 * on the engine of tftp.c.
 *
 * Block n is taken when it is the next in order (the one after the
 * last taken); its bytes land after what the buffer has (converted in
 * netascii, tftp_ascii.c). A block shorter than the block size ends the
 * file. With a window of W blocks (RFC 7440; lock-step is W = 1) a
 * block is acknowledged when it is the W-th after the last ACK or the
 * file's last; a later block before the next one (a gap: one was lost)
 * is answered once with the ACK of the last in-order block, and so is a
 * quiet retransmission interval (the engine's resend), so the server
 * starts its next window after it. The last block again after its ACK
 * (our ACK was lost and the server resent) is acknowledged again; any
 * other block out of order is ignored. Block numbers are 16 bits and
 * wrap after block 65535 to 0, as common servers do, so files past
 * 32 MiB work. With options asked the server may answer with an OACK
 * (acknowledged by ACK 0, and again when it comes again before DATA 1)
 * or ignore them and send DATA 1 (512-byte blocks, lock-step).
 */
#include <cubrt/net.h>

#include "tftp_int.h"

/* Makes ACK block the packet to (re)send, sends it, and notes it as the
 * last acknowledged. */
static int ack(struct cubi_tftp *t, unsigned block)
{
	cubi_tftp_put16(t->req, CUBI_TFTP_ACK);
	cubi_tftp_put16(t->req + 2, block);
	t->out = t->req;
	t->out_len = 4;
	t->out_port = t->tid;
	t->acked = (uint16_t)block;
	return cubi_tftp_send(t);
}

/* A read's resend (tftp_int.h): the ACK of the last block in order. */
static int resend_get(struct cubi_tftp *t)
{
	return ack(t, t->block);
}

/* The next block in order, len bytes in t->in from port: taken, and
 * acknowledged when it ends a window or the file. */
static int take_block(struct cubi_tftp *t, int len, uint16_t port, bool *fresh)
{
	size_t n = (size_t)len - 4;
	bool last = n < t->blksize;
	int rc;

	t->tid = port;
	if ((rc = cubi_tftp_decode(t, t->in + 4, n, last))) {
		cubi_tftp_error_to(t, port, 3, "disk full");
		return rc;
	}
	t->block = (uint16_t)(t->block + 1);
	t->blocks++;
	t->gap_acked = false;
	*fresh = true;
	if (last || (uint16_t)(t->block - t->acked) >= t->window)
		if ((rc = ack(t, t->block)))
			return rc;	/* cub_udp_sendto's error */
	return last;
}

/* A read's take function (tftp_int.h). */
static int take_get(struct cubi_tftp *t, int len, uint16_t port, unsigned op,
		    bool *fresh)
{
	unsigned block, d;
	int rc;

	if (op == CUBI_TFTP_OACK && t->asked && !t->blocks) {
		if (!t->tid) {		/* the answer to our options */
			if ((rc = cubi_tftp_oack(t, len, port)))
				return rc;
			t->tid = port;
			*fresh = true;
		}
		return ack(t, 0);	/* or again: our ACK 0 was lost */
	}
	if (op != CUBI_TFTP_DATA || len < 4 || (size_t)len > 4 + t->blksize)
		return 0;		/* not for us: ignored */
	block = cubi_tftp_get16(t->in + 2);
	d = (uint16_t)(block - t->block);
	if (d == 1 && (t->tid || block == 1))
		return take_block(t, len, port, fresh);
	if (!t->tid)
		return 0;
	if (d == 0 && t->blocks && t->acked == t->block)	/* our ACK was lost */
		return ack(t, block);
	if (d >= 2 && d <= t->window && !t->gap_acked) {	/* one was lost */
		t->gap_acked = true;
		return ack(t, t->block);
	}
	return 0;
}

long cub_tftp_get_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       void *buf, size_t cap, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info)
{
	struct cubi_tftp t = { .server = server, .name = name, .data = buf, .len = cap,
			       .take = take_get, .resend = resend_get };
	int rc;

	if (!nif || !server || (!buf && cap))
		return -CUB_EINVAL;
	if ((rc = cubi_tftp_request(&t, opts)))
		return rc;
	return cubi_tftp_run(&t, nif, timeout_ns, info);
}

long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns)
{
	return cub_tftp_get_opts(nif, server, name, buf, cap, timeout_ns, NULL, NULL);
}
