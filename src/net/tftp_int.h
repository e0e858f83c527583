/*
 * tftp_int.h - what the TFTP client's files share (private): one
 * transfer's state, its packet helpers and the engine (tftp.c), reads
 * (tftp_get.c), writes (tftp_put.c), the request and OACK of RFC 2347
 * (tftp_opt.c) and netascii's conversion (tftp_ascii.c).
 */
#ifndef CUBRT_NET_TFTP_INT_H
#define CUBRT_NET_TFTP_INT_H

#include <cubrt/net.h>

#define CUBI_TFTP_RRQ 1
#define CUBI_TFTP_WRQ 2
#define CUBI_TFTP_DATA 3
#define CUBI_TFTP_ACK 4
#define CUBI_TFTP_ERROR 5
#define CUBI_TFTP_OACK 6

/* opcode, name, 0, "netascii", 0, then "blksize" 0 "65464" 0,
 * "timeout" 0 "255" 0, "tsize" 0 and a 64-bit decimal 0, "windowsize"
 * 0 "65535" 0. */
#define CUBI_TFTP_REQ_MAX (2 + CUB_TFTP_NAME_MAX + 1 + 9 + 14 + 12 + 27 + 17)
#define CUBI_TFTP_PKT (4 + CUB_TFTP_BLOCK)	/* a 512-byte block's DATA */

/*
 * Where a write's conversion stands in the caller's bytes: off bytes
 * taken, and pend, the byte still owed to the wire (-1: none), the LF
 * or NUL after a CR that ended the last block.
 */
struct cubi_tftp_cursor {
	size_t off;
	int pend;
};

struct cubi_tftp;

/*
 * Handles one datagram of len bytes (t->in, possibly truncated to
 * in_cap) with opcode op from the server's transfer port (the engine
 * has already answered a foreign port and taken the server's ERRORs):
 * 1 when the transfer is complete, 0 to go on, or a negative code that
 * ends it. *fresh (false on entry): it made progress, so the
 * retransmission count starts over.
 */
typedef int (*cubi_tftp_take_fn)(struct cubi_tftp *t, int len, uint16_t port,
				 unsigned op, bool *fresh);
/* Sends again what is unacknowledged once the server has spoken (a
 * read's ACK, a write's window): 0 or cub_udp_sendto's error. */
typedef int (*cubi_tftp_resend_fn)(struct cubi_tftp *t);

/*
 * One transfer, on the caller's stack. Only its coroutine touches it,
 * so there is no lock. Invariants: tid is 0 until the server's first
 * reply other than an ERROR 8 to options, and fixed after; blksize is
 * CUB_TFTP_BLOCK and window 1 unless an OACK set them; in_cap >= 4 +
 * the largest block asked, so a DATA that fits the agreed block always
 * fits in; a read's acked is block or up to window - 1 blocks behind;
 * a write's sent <= window and final <= sent.
 */
struct cubi_tftp {
	struct cub_udp *u;		/* the open endpoint: one of ep[] */
	struct cub_udp ep[2];		/* a retry without options moves to
					 * the other (tftp.c's ask_plain) */
	struct cub_netif *nif;		/* u's interface */
	cub_ip4_t server;
	bool put;			/* a write (else a read) */
	bool netascii;			/* the mode (else octet) */
	const char *name;		/* the file asked for (the caller's) */
	cubi_tftp_take_fn take;
	cubi_tftp_resend_fn resend;
	uint16_t tid;			/* the server's port; 0 until it spoke */
	uint16_t block;			/* a read: the last block taken in
					 * order; a write: the last block
					 * acknowledged (0: the request) -
					 * both mod 2^16 */
	uint64_t blocks;		/* a read: DATA blocks taken */
	size_t blksize;			/* the agreed block size */
	uint16_t window;		/* the agreed window (1: lock-step) */
	uint64_t retry_ns;		/* the retransmission interval */
	uint8_t *data;			/* the caller's buffer */
	size_t len;			/* a read: cap; a write: the file's length */
	size_t done;			/* bytes taken / acknowledged */
	/* A read: the last block acknowledged; a gap was acknowledged
	 * since the last block taken in order; a netascii CR ended the
	 * last block. */
	uint16_t acked;
	bool gap_acked;
	bool cr;
	/* A write: the cursor at the first unacknowledged block, the
	 * blocks sent after it and which of them is the file's last (0:
	 * not sent yet). */
	struct cubi_tftp_cursor at;
	uint32_t sent, final;
	/* What was asked (0 / false: not asked); asked: any of them. */
	bool asked;
	uint16_t ask_blksize;
	uint8_t ask_timeout;
	bool ask_tsize;
	uint16_t ask_window;
	struct cub_tftp_info info;
	uint8_t *in;			/* received: in_small or heap */
	size_t in_cap;
	uint8_t *out;			/* to (re)send: req, out_small or heap */
	size_t out_len;
	uint16_t out_port;
	uint8_t *heap;			/* a large block's buffer, else NULL */
	uint8_t req[CUBI_TFTP_REQ_MAX];	/* the request, then a read's ACK */
	uint8_t in_small[CUBI_TFTP_PKT];
	uint8_t out_small[CUBI_TFTP_PKT];	/* a write's small DATA */
};

static inline void cubi_tftp_put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline unsigned cubi_tftp_get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* tftp.c */
int cubi_tftp_send(struct cubi_tftp *t);
void cubi_tftp_error_to(struct cubi_tftp *t, uint16_t port, unsigned code,
			const char *msg);
long cubi_tftp_run(struct cubi_tftp *t, struct cub_netif *nif, uint64_t timeout_ns,
		   struct cub_tftp_info *info);

/* tftp_opt.c */
int cubi_tftp_request(struct cubi_tftp *t, const struct cub_tftp_opts *o);
int cubi_tftp_oack(struct cubi_tftp *t, int len, uint16_t port);

/* tftp_ascii.c */
size_t cubi_tftp_encode(const struct cubi_tftp *t, struct cubi_tftp_cursor *c,
			uint8_t *dst, size_t cap);
size_t cubi_tftp_wire_len(const uint8_t *src, size_t len);
int cubi_tftp_decode(struct cubi_tftp *t, const uint8_t *src, size_t n, bool last);

#endif
