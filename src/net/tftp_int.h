/*
 * tftp_int.h - what the TFTP client's files share (private): one
 * transfer's state, its packet helpers and the lock-step engine
 * (tftp.c), the request and OACK of RFC 2347 (tftp_opt.c); reads are in
 * tftp.c, writes in tftp_put.c.
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

/* opcode, name, 0, "octet", 0, then "blksize" 0 "65464" 0,
 * "timeout" 0 "255" 0, "tsize" 0 and a 64-bit decimal 0. */
#define CUBI_TFTP_REQ_MAX (2 + CUB_TFTP_NAME_MAX + 1 + 6 + 14 + 12 + 27)
#define CUBI_TFTP_PKT (4 + CUB_TFTP_BLOCK)	/* a 512-byte block's DATA */

/*
 * One transfer, on the caller's stack. Only its coroutine touches it,
 * so there is no lock. Invariants: tid is 0 until the server's first
 * reply and fixed after; blksize is CUB_TFTP_BLOCK unless an OACK
 * lowered (or confirmed) it; in_cap >= 4 + the largest block asked, so
 * a DATA that fits the agreed block always fits in.
 */
struct cubi_tftp {
	struct cub_udp u;
	cub_ip4_t server;
	bool put;			/* a write (else a read) */
	uint16_t tid;			/* the server's port; 0 until it spoke */
	uint16_t block;			/* a read: the last block taken; a
					 * write: the DATA in flight (0: the
					 * request) - both mod 2^16 */
	uint64_t blocks;		/* a read: DATA blocks taken */
	size_t blksize;			/* the agreed block size */
	uint64_t retry_ns;		/* the retransmission interval */
	uint8_t *data;			/* the caller's buffer */
	size_t len;			/* a read: cap; a write: the file's length */
	size_t done;			/* bytes taken / acknowledged */
	size_t inflight;		/* a write: bytes of the DATA in flight */
	/* What was asked (0 / false: not asked); asked: any of them. */
	bool asked;
	uint16_t ask_blksize;
	uint8_t ask_timeout;
	bool ask_tsize;
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

/*
 * Handles one datagram of len bytes (t->in, possibly truncated to
 * in_cap) from port: 1 when the transfer is complete, 0 to go on, or a
 * negative code that ends it. *fresh: it made progress and sent the
 * next packet once (the retransmission count starts over).
 */
typedef int (*cubi_tftp_take_fn)(struct cubi_tftp *t, int len, uint16_t port,
				 bool *fresh);

/* tftp.c */
int cubi_tftp_send(struct cubi_tftp *t);
void cubi_tftp_error_to(struct cubi_tftp *t, uint16_t port, unsigned code,
			const char *msg);
int cubi_tftp_server_error(const struct cubi_tftp *t, int len);
long cubi_tftp_run(struct cubi_tftp *t, struct cub_netif *nif, uint64_t timeout_ns,
		   cubi_tftp_take_fn take, struct cub_tftp_info *info);

/* tftp_opt.c */
int cubi_tftp_request(struct cubi_tftp *t, const char *name,
		      const struct cub_tftp_opts *o);
int cubi_tftp_oack(struct cubi_tftp *t, int len, uint16_t port);

#endif
