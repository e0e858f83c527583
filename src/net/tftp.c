/*
 * tftp.c - a TFTP client (RFC 1350, octet mode, 512-byte blocks) over
 * the stack's UDP endpoints: enough to fetch a file at boot from a
 * server such as QEMU's built-in one (`-netdev user,tftp=DIR`), as
 * network boot loaders do.
 *
 * The transfer is lock-step: the read request goes to the server's port
 * 69 from an ephemeral endpoint; the server answers from a port of its
 * own (its transfer ID, TID), which the first DATA block fixes; each
 * block n is acknowledged by ACK n, and a block shorter than 512 bytes
 * ends the file. Lost packets are recovered by retransmission: when
 * nothing useful arrives within the retry time, the last request or ACK
 * goes out again, up to CUB_TFTP_TRIES times. A duplicate block (its ACK
 * was lost) is acknowledged again and otherwise ignored; a packet from
 * another port is answered with ERROR 5 (unknown transfer ID) and does
 * not disturb the transfer. Block numbers are 16 bits and wrap after
 * block 65535 to 0, as common servers do, so files past 32 MiB work.
 *
 * Nothing is allocated but the endpoint's receive ring (cub_udp_open);
 * the packet buffer is on the caller's stack (516 bytes).
 */
#include <cubrt/net.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#define OP_RRQ 1
#define OP_DATA 3
#define OP_ACK 4
#define OP_ERROR 5
#define BLOCK 512
#define PKT_MAX (4 + BLOCK)

/* One transfer's state; lives on cub_tftp_get's stack. */
struct tftp {
	struct cub_udp u;
	cub_ip4_t server;
	uint16_t tid;			/* the server's port; 0 until DATA 1 */
	uint16_t block;			/* last block taken (mod 2^16) */
	uint8_t *buf;
	size_t cap, got;
	uint8_t pkt[PKT_MAX];		/* received */
	uint8_t out[4 + CUB_TFTP_NAME_MAX + 1 + 6];	/* RRQ or ACK */
	size_t out_len;
	uint16_t out_port;
};

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Sends the packet in t->out to the server's port out_port. */
static int resend(struct tftp *t)
{
	int rc = cub_udp_sendto(&t->u, t->server, t->out_port, t->out, t->out_len);

	return rc < 0 ? rc : 0;
}

/* Makes ACK block the packet to (re)send, and sends it. */
static int ack(struct tftp *t, unsigned block)
{
	put16(t->out, OP_ACK);
	put16(t->out + 2, block);
	t->out_len = 4;
	t->out_port = t->tid;
	return resend(t);
}

/* An ERROR (code, message) to port, best effort: no retransmission. */
static void error_to(struct tftp *t, uint16_t port, unsigned code, const char *msg)
{
	uint8_t e[40];
	size_t n = cub_strlen(msg);

	put16(e, OP_ERROR);
	put16(e + 2, code);
	cub_memcpy(e + 4, msg, n + 1);
	(void)cub_udp_sendto(&t->u, t->server, port, e, 4 + n + 1);
}

/* The server's ERROR as a code: 1 not found, 2 access violation,
 * anything else an I/O error. */
static int server_error(const uint8_t *p, int len)
{
	unsigned code = len >= 4 ? get16(p + 2) : 0;

	return code == 1 ? -CUB_ENOENT : code == 2 ? -CUB_EACCES : -CUB_EIO;
}

/*
 * Handles one datagram of len bytes from port: 1 when the file is
 * complete, 0 to go on (a retransmission clock restarts only on new
 * data: *fresh), or a negative code that ends the transfer.
 */
static int take(struct tftp *t, int len, uint16_t port, bool *fresh)
{
	unsigned op = len >= 4 ? get16(t->pkt) : 0, block;
	size_t n;
	int rc;

	*fresh = false;
	if (t->tid && port != t->tid) {
		error_to(t, port, 5, "unknown transfer ID");
		return 0;
	}
	if (op == OP_ERROR)
		return server_error(t->pkt, len);
	if (op != OP_DATA || len > PKT_MAX)
		return 0;		/* not for us: ignored */
	block = get16(t->pkt + 2);
	if (block == (uint16_t)(t->block + 1) && (t->tid || block == 1)) {
		n = (size_t)len - 4;
		if (n > t->cap - t->got) {
			t->tid = port;
			error_to(t, port, 3, "disk full");
			return -CUB_ENOSPC;
		}
		if (n)		/* buf may be NULL with cap 0 */
			cub_memcpy(t->buf + t->got, t->pkt + 4, n);
		t->got += n;
		t->tid = port;
		t->block = (uint16_t)block;
		*fresh = true;
		if ((rc = ack(t, block)))
			return rc;	/* cub_udp_sendto's error */
		return n < BLOCK;
	}
	if (t->tid && block == t->block)	/* our ACK was lost */
		return ack(t, block);
	return 0;
}

/* Builds the read request for name in octet mode: 0 or -EINVAL. */
static int request(struct tftp *t, const char *name)
{
	size_t n = name ? cub_strlen(name) : 0;

	if (n == 0 || n > CUB_TFTP_NAME_MAX)
		return -CUB_EINVAL;
	put16(t->out, OP_RRQ);
	cub_memcpy(t->out + 2, name, n + 1);
	cub_memcpy(t->out + 2 + n + 1, "octet", 6);
	t->out_len = 2 + n + 1 + 6;
	t->out_port = 69;
	return 0;
}

/* Runs the transfer until the last block, an error or the deadline. */
static long transfer(struct tftp *t, uint64_t deadline)
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
			if ((rc = resend(t)))
				return rc;
			retry_at = now + CUB_TFTP_RETRY_NS;
		}
		len = cub_udp_recvfrom(&t->u, t->pkt, sizeof(t->pkt), &src, &port,
				       CUB_MIN(retry_at, deadline) - now);
		if (len == -CUB_ETIMEDOUT)
			continue;
		if (len < 0)
			return len;
		if (src != t->server)
			continue;	/* someone else: not this transfer */
		if ((rc = take(t, len, port, &fresh)) != 0)
			return rc < 0 ? rc : (long)t->got;
		if (fresh) {
			tries = 1;	/* take() sent the new ACK once */
			retry_at = cub_time_now() + CUB_TFTP_RETRY_NS;
		}
	}
}

long cub_tftp_get(struct cub_netif *nif, cub_ip4_t server, const char *name,
		  void *buf, size_t cap, uint64_t timeout_ns)
{
	struct tftp t = { .server = server, .buf = buf, .cap = cap };
	uint64_t now = cub_time_now();
	long rc;

	if (!nif || !server || (!buf && cap))
		return -CUB_EINVAL;
	if ((rc = request(&t, name)) || (rc = cub_udp_open(&t.u, nif, 0)))
		return rc;
	rc = transfer(&t, timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns);
	cub_udp_close(&t.u);
	return rc;
}
