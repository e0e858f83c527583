/*
 * tftp.c - the TFTP client's engine (RFC 1350) over the stack's UDP
 * endpoints: enough to fetch a file at boot from a server such as
 * QEMU's built-in one (`-netdev user,tftp=DIR`), as network boot loaders
 * do, or to store one. Reads are tftp_get.c's, writes tftp_put.c's, the
 * options of RFC 2347 tftp_opt.c's, netascii tftp_ascii.c's.
 *
 * The engine (cubi_tftp_run) sends the request and waits: when nothing
 * useful arrives within the retry time (CUB_TFTP_RETRY_NS, or the
 * timeout the server agreed to) the request goes out again, or once the
 * server has spoken its direction's resend (a read's ACK, a write's
 * window), up to CUB_TFTP_TRIES sends. Every datagram from the server's
 * address passes the engine's screen first: one from a port other than
 * the server's transfer ID (fixed by its first reply) is answered with
 * ERROR 5 (unknown transfer ID) and does not disturb the transfer; the
 * server's ERROR ends it, but for an ERROR 8 (options refused, RFC 2347)
 * answering a request with options, which makes the engine ask once more
 * without them (same mode), from a new port: the server's answers to the
 * first request (an ERROR 8 for each copy of it the network or our
 * retries duplicated) then go to the old port, which is closed, and
 * cannot pass for a refusal of the second. The rest goes to the
 * direction's take function, which judges it and sends what comes next.
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open;
 * two for a moment when the port changes) and, for a block over 512
 * bytes, one packet buffer on the heap; the rest is on the caller's
 * stack (about 1.8 KiB).
 */
#include <cubrt/heap.h>
#include <cubrt/net.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tftp_int.h"

/* Sends the packet in t->out to the server's port out_port. */
int cubi_tftp_send(struct cubi_tftp *t)
{
	int rc = cub_udp_sendto(t->u, t->server, t->out_port, t->out, t->out_len);

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
	(void)cub_udp_sendto(t->u, t->server, port, e, 4 + n + 1);
}

/* The server's ERROR code as a code of ours: 1 not found, 2 access
 * violation, 8 options refused; for a write also 3 disk full and 6 file
 * exists (a read cannot meet those); anything else an I/O error. */
static int server_error(const struct cubi_tftp *t, unsigned code)
{
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

/* The server refused the request's options (ERROR 8 before any other
 * reply): the request again without them, RFC 1350's defaults, from a
 * new port (a new transfer ID, RFC 1350 4). The new endpoint is opened
 * before the old one closes, so its port differs. */
static int ask_plain(struct cubi_tftp *t)
{
	unsigned sends = t->info.sends;
	struct cub_udp *fresh = t->u == &t->ep[0] ? &t->ep[1] : &t->ep[0];
	int rc;

	if ((rc = cub_udp_open(fresh, t->nif, 0)))
		return rc;
	cub_udp_close(t->u);
	t->u = fresh;
	t->asked = false;
	t->ask_blksize = t->ask_timeout = 0;
	t->ask_tsize = false;
	t->ask_window = 0;
	cub_memset(&t->info, 0, sizeof(t->info));
	if ((rc = cubi_tftp_request(t, NULL)))
		return rc;	/* cannot fail: the name passed before */
	t->info.sends = sends;
	t->info.refused = true;
	return cubi_tftp_send(t);
}

/*
 * The engine's screen (the file's comment), then the direction's take:
 * what take returns, or 0 after a foreign port's packet or the retry
 * without options.
 */
static int judge(struct cubi_tftp *t, int len, uint16_t port, bool *fresh)
{
	unsigned op = len >= 2 ? cubi_tftp_get16(t->in) : 0, code;

	*fresh = false;
	if (t->tid && port != t->tid) {
		cubi_tftp_error_to(t, port, 5, "unknown transfer ID");
		return 0;
	}
	if (op == CUBI_TFTP_ERROR && len >= 4) {
		code = cubi_tftp_get16(t->in + 2);
		if (code == 8 && !t->tid && t->asked && !t->info.refused) {
			*fresh = true;		/* sent once */
			return ask_plain(t);
		}
		return server_error(t, code);
	}
	return t->take(t, len, port, op, fresh);
}

/* Runs the transfer until it ends, an error or the deadline. */
static long transfer(struct cubi_tftp *t, uint64_t deadline)
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
			if ((rc = t->tid ? t->resend(t) : cubi_tftp_send(t)))
				return rc;
			retry_at = now + t->retry_ns;
		}
		len = cub_udp_recvfrom(t->u, t->in, t->in_cap, &src, &port,
				       CUB_MIN(retry_at, deadline) - now);
		if (len == -CUB_ETIMEDOUT)
			continue;
		if (len < 0)
			return len;
		if (src != t->server)
			continue;	/* someone else: not this transfer */
		if ((rc = judge(t, len, port, &fresh)) != 0)
			return rc < 0 ? rc : (long)t->done;
		if (fresh) {
			tries = 1;	/* progress: the count starts over */
			retry_at = cub_time_now() + t->retry_ns;
		}
	}
}

/*
 * Runs a transfer whose request is built (t->req, the ask_* fields) and
 * whose take and resend are set: takes the large block's buffer if one
 * is needed, opens the endpoint, runs, and cleans up. Returns what
 * transfer() returns; *info (if not NULL) gets t->info in every case.
 */
long cubi_tftp_run(struct cubi_tftp *t, struct cub_netif *nif, uint64_t timeout_ns,
		   struct cub_tftp_info *info)
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
	t->nif = nif;
	t->u = &t->ep[0];
	rc = cub_udp_open(t->u, nif, 0);
	if (rc == 0) {
		rc = transfer(t, timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns);
		cub_udp_close(t->u);
	}
	cub_free(t->heap);
	if (info)
		*info = t->info;
	return rc;
}
