/*
 * tftp.c - the TFTP client's lock-step engine and its reads (RFC 1350,
 * octet mode) over the stack's UDP endpoints: enough to fetch a file at
 * boot from a server such as QEMU's built-in one (`-netdev
 * user,tftp=DIR`), as network boot loaders do. Writes are tftp_put.c's,
 * the options of RFC 2347 tftp_opt.c's.
 *
 * The engine (cubi_tftp_run) sends what is in t->out and waits: when
 * nothing useful arrives within the retry time (CUB_TFTP_RETRY_NS, or
 * the timeout the server agreed to) the same packet goes out again, up
 * to CUB_TFTP_TRIES sends; the direction's take function judges each
 * datagram from the server's address and replaces t->out when the
 * transfer moves on. A packet from a port other than the server's
 * transfer ID (fixed by its first reply) is answered with ERROR 5
 * (unknown transfer ID) and does not disturb the transfer.
 *
 * A read: block n is acknowledged by ACK n, a block shorter than the
 * block size ends the file. A duplicate block (its ACK was lost) is
 * acknowledged again and otherwise ignored. Block numbers are 16 bits
 * and wrap after block 65535 to 0, as common servers do, so files past
 * 32 MiB work. With options asked the server may answer with an OACK
 * (acknowledged by ACK 0, and again when it comes again before DATA 1)
 * or ignore them and send DATA 1 (512-byte blocks).
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open)
 * and, for a block over 512 bytes, one packet buffer on the heap; the
 * rest is on the caller's stack (about 1.4 KiB).
 */
#include <cubrt/heap.h>
#include <cubrt/net.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tftp_int.h"

/* Sends the packet in t->out to the server's port out_port. */
int cubi_tftp_send(struct cubi_tftp *t)
{
	int rc = cub_udp_sendto(&t->u, t->server, t->out_port, t->out, t->out_len);

	t->info.sends++;
	return rc < 0 ? rc : 0;
}

/* An ERROR (code, message) to port, best effort: no retransmission. */
void cubi_tftp_error_to(struct cubi_tftp *t, uint16_t port, unsigned code,
			const char *msg)
{
	uint8_t e[40];
	size_t n = cub_strlen(msg);

	cubi_tftp_put16(e, CUBI_TFTP_ERROR);
	cubi_tftp_put16(e + 2, code);
	cub_memcpy(e + 4, msg, n + 1);
	(void)cub_udp_sendto(&t->u, t->server, port, e, 4 + n + 1);
}

/* The server's ERROR in t->in as a code: 1 not found, 2 access
 * violation, 8 options refused; for a write also 3 disk full and 6 file
 * exists (a read cannot meet those); anything else an I/O error. */
int cubi_tftp_server_error(const struct cubi_tftp *t, int len)
{
	unsigned code = len >= 4 ? cubi_tftp_get16(t->in + 2) : 0;

	switch (code) {
	case 1:
		return -CUB_ENOENT;
	case 2:
		return -CUB_EACCES;
	case 3:
		return t->put ? -CUB_ENOSPC : -CUB_EIO;
	case 6:
		return t->put ? -CUB_EEXIST : -CUB_EIO;
	case 8:
		return -CUB_EPROTO;
	default:
		return -CUB_EIO;
	}
}

/* Makes a read's ACK block the packet to (re)send, and sends it. */
static int ack(struct cubi_tftp *t, unsigned block)
{
	cubi_tftp_put16(t->req, CUBI_TFTP_ACK);
	cubi_tftp_put16(t->req + 2, block);
	t->out = t->req;
	t->out_len = 4;
	t->out_port = t->tid;
	return cubi_tftp_send(t);
}

/* A read's DATA block, the next one: taken, acknowledged. */
static int take_block(struct cubi_tftp *t, int len, uint16_t port, bool *fresh)
{
	size_t n = (size_t)len - 4;
	int rc;

	if (n > t->len - t->done) {
		t->tid = port;
		cubi_tftp_error_to(t, port, 3, "disk full");
		return -CUB_ENOSPC;
	}
	if (n)		/* data may be NULL with cap 0 */
		cub_memcpy(t->data + t->done, t->in + 4, n);
	t->done += n;
	t->tid = port;
	t->block = (uint16_t)(t->block + 1);
	t->blocks++;
	*fresh = true;
	if ((rc = ack(t, t->block)))
		return rc;	/* cub_udp_sendto's error */
	return n < t->blksize;
}

/* A read's take function (tftp_int.h). */
static int take_get(struct cubi_tftp *t, int len, uint16_t port, bool *fresh)
{
	unsigned op = len >= 2 ? cubi_tftp_get16(t->in) : 0, block;
	int rc;

	*fresh = false;
	if (t->tid && port != t->tid) {
		cubi_tftp_error_to(t, port, 5, "unknown transfer ID");
		return 0;
	}
	if (op == CUBI_TFTP_ERROR && len >= 4)
		return cubi_tftp_server_error(t, len);
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
	if (block == (uint16_t)(t->block + 1) && (t->tid || block == 1))
		return take_block(t, len, port, fresh);
	if (t->tid && t->blocks && block == t->block)	/* our ACK was lost */
		return ack(t, block);
	return 0;
}

/* Runs the transfer until it ends, an error or the deadline. */
static long transfer(struct cubi_tftp *t, uint64_t deadline, cubi_tftp_take_fn take)
{
	unsigned tries = 0;
	uint64_t retry_at = 0;

	for (;;) {
		uint64_t now = cub_time_now();
		cub_ip4_t src;
		uint16_t port;
		bool fresh;
		int len, rc;

		if (now >= deadline)
			return -CUB_ETIMEDOUT;
		if (now >= retry_at) {
			if (tries++ == CUB_TFTP_TRIES)
				return -CUB_ETIMEDOUT;
			if ((rc = cubi_tftp_send(t)))
				return rc;
			retry_at = now + t->retry_ns;
		}
		len = cub_udp_recvfrom(&t->u, t->in, t->in_cap, &src, &port,
				       CUB_MIN(retry_at, deadline) - now);
		if (len == -CUB_ETIMEDOUT)
			continue;
		if (len < 0)
			return len;
		if (src != t->server)
			continue;	/* someone else: not this transfer */
		if ((rc = take(t, len, port, &fresh)) != 0)
			return rc < 0 ? rc : (long)t->done;
		if (fresh) {
			tries = 1;	/* take() sent the next packet once */
			retry_at = cub_time_now() + t->retry_ns;
		}
	}
}

/*
 * Runs a transfer whose request is built (t->req, the ask_* fields):
 * takes the large block's buffer if one is needed, opens the endpoint,
 * runs, and cleans up. Returns what transfer() returns; *info (if not
 * NULL) gets t->info in every case.
 */
long cubi_tftp_run(struct cubi_tftp *t, struct cub_netif *nif, uint64_t timeout_ns,
		   cubi_tftp_take_fn take, struct cub_tftp_info *info)
{
	uint64_t now = cub_time_now();
	long rc;

	t->in = t->in_small;
	t->in_cap = sizeof(t->in_small);
	if (t->ask_blksize > CUB_TFTP_BLOCK) {
		if (!(t->heap = cub_malloc(4 + (size_t)t->ask_blksize)))
			return -CUB_ENOMEM;
		if (!t->put) {		/* a read receives big blocks */
			t->in = t->heap;
			t->in_cap = 4 + (size_t)t->ask_blksize;
		}
	}
	rc = cub_udp_open(&t->u, nif, 0);
	if (rc == 0) {
		rc = transfer(t, timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns,
			      take);
		cub_udp_close(&t->u);
	}
	cub_free(t->heap);
	if (info)
		*info = t->info;
	return rc;
}

long cub_tftp_get_opts(struct cub_netif *nif, cub_ip4_t server, const char *name,
		       void *buf, size_t cap, uint64_t timeout_ns,
		       const struct cub_tftp_opts *opts, struct cub_tftp_info *info)
{
	struct cubi_tftp t = { .server = server, .data = buf, .len = cap };
	int rc;

	if (!nif || !server || (!buf && cap))
		return -CUB_EINVAL;
	if ((rc = cubi_tftp_request(&t, name, opts)))
		return rc;
	return cubi_tftp_run(&t, nif, timeout_ns, take_get, info);
}

long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns)
{
	return cub_tftp_get_opts(nif, server, name, buf, cap, timeout_ns, NULL, NULL);
}
