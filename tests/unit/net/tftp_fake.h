/*
 * tftp_fake.h - a fake TFTP server that takes writes and RFC 2347
 * options, for test_net_tftp_put.c and test_net_tftp_opts.c. Interface
 * A (10.0.0.1/24, the client) and B (10.0.0.2/24) share the in-memory
 * wire of net_test.h. On B a coroutine takes requests on port 69 and
 * serves each from a fresh port (its transfer ID) in a coroutine of its
 * own, lock-step: a write stores DATA n at its place and answers ACK n
 * (a duplicate DATA is ACKed again, not stored again); a read sends
 * DATA n and waits for ACK n. Options are parsed from the request and
 * answered by an OACK that echoes them, or as the file says: another
 * blksize, some left out, a raw OACK of the test's, none at all (RFC
 * 1350's server). A file may ask the server to misbehave: lose a DATA
 * or an ACK once, answer from a foreign port, fall silent, send an
 * ERROR. Include after cmocka.h.
 */
#ifndef TFTP_FAKE_H
#define TFTP_FAKE_H

#include <stdlib.h>
#include <string.h>

#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "net_unit.h"

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

enum { RRQ = 1, WRQ = 2, DATA = 3, ACKOP = 4, ERR = 5, OACK = 6 };
#define PKT_BIG (4 + 65536)

struct ffile {
	const char *name;
	size_t len;		/* a read: the file's length */
	uint8_t *store;		/* a write: where the bytes land */
	size_t store_cap;
	int error;		/* >= 0: answer the request with this ERROR */
	bool silent;		/* never answer the request */
	bool ignore_opts;	/* an RFC 1350 server: no OACK */
	long oack_blksize;	/* 0 echo the asked, > 0 this, -1 leave out */
	bool omit_timeout, omit_tsize;
	const uint8_t *raw_oack;	/* sent instead of the OACK built */
	size_t raw_len;
	uint64_t retry_ns;	/* the server's resend time (0: none, 4 s
				 * of silence ends it) */
	unsigned lose_data;	/* a read: the first send of DATA n lost */
	unsigned drop_data;	/* a write: the first DATA n not taken */
	unsigned lose_ack;	/* a write: the first ACK n not sent */
	bool twice;		/* a write: every ACK n sent twice */
	unsigned lose_ack0;	/* a read: the first ACK 0 ignored */
	unsigned foreign_at;	/* a write: after DATA n, a foreign ERROR */
	unsigned stop_after;	/* a write: after ACK n, only count DATA */
	unsigned error_after;	/* a write: after DATA n, ERROR mid_error */
	int mid_error;
	/* What happened (written by the server). */
	unsigned reqs, data_sent, data_rx, dup_data, acks, acks_sent;
	unsigned oacks_sent, stop_data;
	unsigned ack0s;		/* a read: ACK 0 received */
	int client_error, foreign_reply;
	size_t max_payload;	/* a write: the largest DATA payload */
	/* A write: ACKs 1..n sent (ACK 0, the first answer, not counted). */
	uint8_t req[700];
	int req_len;
	long ask_blksize, ask_timeout;	/* -1: not in the request */
	long long ask_tsize;
	bool octet;		/* the mode was "octet" */
	size_t written;		/* a write: bytes stored */
	bool complete;		/* a write: the short block came */
	uint16_t client_port, tid;
	bool active, done;
};

#define NFILES 32
static struct ffile F[NFILES];
static unsigned nfiles;

static struct ffile *ffile(const char *name, size_t len)
{
	struct ffile *f = &F[nfiles++];

	assert_true(nfiles <= NFILES);
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->len = len;
	f->error = -1;
	f->client_error = -1;
	f->foreign_reply = -1;
	f->ask_blksize = f->ask_timeout = -1;
	f->ask_tsize = -1;
	return f;
}

/* Byte i of a file named name: differs between files and blocks. */
static uint8_t fgen(const char *name, size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + name[0] + strlen(name));
}

static bool fcheck(const char *name, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != fgen(name, i))
			return false;
	return true;
}

/* ------------------------------------------------------------ the server */

static struct cub_udp srv69;
static struct cub_coro *srv_coro;
static struct cub_coro *xfers[NFILES * 2];
static unsigned nxfers;

struct xfer {
	struct ffile *f;
	cub_ip4_t client;
	uint16_t port;
	bool write;
	size_t blksize;
	uint64_t wait;		/* one receive's wait */
	uint8_t *pkt;		/* PKT_BIG bytes */
	uint8_t last[PKT_BIG];	/* a read: the DATA in flight */
};

static struct xfer xs[NFILES * 2];

static void send_err(struct cub_udp *u, cub_ip4_t to, uint16_t port, unsigned code)
{
	uint8_t e[16];

	t_put16(e, ERR);
	t_put16(e + 2, code);
	memcpy(e + 4, "nope", 5);
	assert_int_equal(cub_udp_sendto(u, to, port, e, 9), 9);
}

/* Parses the request's mode and options (after the name) into f. */
static void parse_req(struct ffile *f, const uint8_t *p, int n)
{
	const char *s = (const char *)p + 2, *end = (const char *)p + n;

	s += strlen(s) + 1;
	f->octet = s < end && strcmp(s, "octet") == 0;
	for (s += strlen(s) + 1; s < end;) {
		const char *v = s + strlen(s) + 1;

		assert_true(v < end);
		if (strcmp(s, "blksize") == 0)
			f->ask_blksize = atol(v);
		else if (strcmp(s, "timeout") == 0)
			f->ask_timeout = atol(v);
		else if (strcmp(s, "tsize") == 0)
			f->ask_tsize = atoll(v);
		else
			fail_msg("unknown option %s", s);
		s = v + strlen(v) + 1;
	}
}

static bool asked_any(const struct ffile *f)
{
	return f->ask_blksize >= 0 || f->ask_timeout >= 0 || f->ask_tsize >= 0;
}

/* Builds the OACK for f into p (its length), and the block size the
 * server then uses. */
static size_t build_oack(const struct ffile *f, uint8_t *p, size_t *blksize)
{
	size_t n = 2;

	t_put16(p, OACK);
	*blksize = 512;
	if (f->raw_oack) {	/* its blksize, if any, in oack_blksize */
		if (f->oack_blksize > 0)
			*blksize = (size_t)f->oack_blksize;
		memcpy(p, f->raw_oack, f->raw_len);
		return f->raw_len;
	}
	if (f->ask_blksize >= 0 && f->oack_blksize >= 0) {
		long b = f->oack_blksize ? f->oack_blksize : f->ask_blksize;

		n += (size_t)sprintf((char *)p + n, "blksize") + 1;
		n += (size_t)sprintf((char *)p + n, "%ld", b) + 1;
		*blksize = (size_t)b;
	}
	if (f->ask_timeout >= 0 && !f->omit_timeout) {
		n += (size_t)sprintf((char *)p + n, "timeout") + 1;
		n += (size_t)sprintf((char *)p + n, "%ld", f->ask_timeout) + 1;
	}
	if (f->ask_tsize >= 0 && !f->omit_tsize) {
		n += (size_t)sprintf((char *)p + n, "tsize") + 1;
		n += (size_t)sprintf((char *)p + n, "%llu",
				     f->ask_tsize ? (unsigned long long)f->ask_tsize
						  : (unsigned long long)f->len) + 1;
	}
	return n;
}

/* Receives from the client (its TID checked): the length, -1 after the
 * wait, or -2 when the client sent an ERROR (kept). */
static int from_client(struct cub_udp *u, struct xfer *x)
{
	uint16_t port;
	int r = cub_udp_recvfrom(u, x->pkt, PKT_BIG, NULL, &port, x->wait);

	if (r == -CUB_ETIMEDOUT)
		return -1;
	assert_true(r >= 4);
	assert_int_equal(port, x->port);
	if (t_get16(x->pkt) == ERR) {
		x->f->client_error = t_get16(x->pkt + 2);
		return -2;
	}
	return r;
}

/* From another port of B: an ERROR 3, and keeps what comes back. */
static void foreign(struct xfer *x)
{
	struct cub_udp o;
	uint8_t p[64];
	int r;

	assert_int_equal(cub_udp_open(&o, B, 0), 0);
	send_err(&o, x->client, x->port, 3);
	r = cub_udp_recvfrom(&o, p, sizeof(p), NULL, NULL, 1000 * MS);
	if (r >= 4 && t_get16(p) == ERR)
		x->f->foreign_reply = t_get16(p + 2);
	assert_int_equal(cub_udp_close(&o), 0);
}

static void send_ack(struct cub_udp *u, struct xfer *x, unsigned blk)
{
	uint8_t a[4];

	t_put16(a, ACKOP);
	t_put16(a + 2, blk & 0xffff);
	for (int i = 0; i <= x->f->twice; i++) {
		assert_int_equal(cub_udp_sendto(u, x->client, x->port, a, 4), 4);
		x->f->acks_sent++;
	}
}

/* Takes DATA n (the one expected, 1-based count n): stores it. 1 when
 * it was the last. */
static int store(struct xfer *x, uint64_t n, int r)
{
	struct ffile *f = x->f;
	size_t len = (size_t)r - 4, off = (size_t)(n - 1) * x->blksize;

	assert_true(len <= x->blksize);
	assert_true(off + len <= f->store_cap);
	memcpy(f->store + off, x->pkt + 4, len);
	f->written += len;
	if (len > f->max_payload)
		f->max_payload = len;
	return len < x->blksize;
}

/* A write, lock-step; the first answer (ACK 0 or an OACK) is in first. */
static void serve_write(struct cub_udp *u, struct xfer *x, const uint8_t *first,
			size_t first_len)
{
	struct ffile *f = x->f;
	uint64_t n = 1;		/* the DATA expected, counted from 1 */
	unsigned timeouts = 0;

	assert_int_equal(cub_udp_sendto(u, x->client, x->port, first, first_len),
			 (int)first_len);
	for (;;) {
		int r = from_client(u, x);
		unsigned blk;

		if (r == -1 && f->retry_ns && ++timeouts <= 8) {
			/* our own timeout: the last ACK again */
			if (n == 1)
				assert_int_equal(cub_udp_sendto(u, x->client, x->port, first,
								first_len), (int)first_len);
			else
				send_ack(u, x, (unsigned)(n - 1));
			continue;
		}
		if (r < 0)
			return;
		assert_int_equal(t_get16(x->pkt), DATA);
		blk = t_get16(x->pkt + 2);
		f->data_rx++;
		if (f->stop_after && n > f->stop_after) {
			f->stop_data++;	/* until the client gives up */
			x->wait = CUB_TFTP_RETRY_NS + 300 * MS;
			continue;
		}
		if (blk == ((n - 1) & 0xffff)) {	/* a duplicate */
			f->dup_data++;
			send_ack(u, x, blk);
			continue;
		}
		assert_int_equal(blk, n & 0xffff);
		if (f->drop_data == n) {
			f->drop_data = 0;	/* lost on the way */
			continue;
		}
		timeouts = 0;
		f->complete = store(x, n, r);
		if (f->foreign_at == n)
			foreign(x);
		if (f->error_after == n) {
			send_err(u, x->client, x->port, (unsigned)f->mid_error);
			return;
		}
		if (f->lose_ack == n)
			f->lose_ack = 0;	/* lost on the way */
		else
			send_ack(u, x, blk);
		n++;
		if (f->complete && !f->retry_ns)
			return;	/* no dally unless the file asks to */
	}
}

/* DATA n (1-based) of a read into x->last; its length. */
static size_t data_pkt(struct xfer *x, uint64_t n)
{
	size_t off = (size_t)(n - 1) * x->blksize;
	size_t len = CUB_MIN(x->f->len - off, x->blksize);

	t_put16(x->last, DATA);
	t_put16(x->last + 2, (uint32_t)(n & 0xffff));
	for (size_t i = 0; i < len; i++)
		x->last[4 + i] = fgen(x->f->name, off + i);
	return 4 + len;
}

/* Waits for ACK want of a read: 1 it came, 0 resend, -1 end. */
static int read_ack(struct cub_udp *u, struct xfer *x, unsigned want)
{
	for (;;) {
		int r = from_client(u, x);

		if (r == -1)
			return x->f->retry_ns ? 0 : -1;
		if (r < 0)
			return -1;
		assert_int_equal(t_get16(x->pkt), ACKOP);
		x->f->acks++;
		if (t_get16(x->pkt + 2) != (want & 0xffff))
			continue;	/* a duplicate */
		if (want == 0) {
			x->f->ack0s++;
			if (x->f->lose_ack0) {
				x->f->lose_ack0 = 0;
				continue;	/* lost: the OACK again */
			}
		}
		return 1;
	}
}

/* A read, lock-step; an OACK first when one is in oack. */
static void serve_read(struct cub_udp *u, struct xfer *x, const uint8_t *oack,
		       size_t oack_len)
{
	struct ffile *f = x->f;
	uint64_t nblocks = f->len / x->blksize + 1;
	unsigned tries = 0;
	int r;

	while (oack) {
		assert_int_equal(cub_udp_sendto(u, x->client, x->port, oack, oack_len),
				 (int)oack_len);
		f->oacks_sent++;
		if ((r = read_ack(u, x, 0)) < 0 || ++tries > 8)
			return;
		if (r == 1)
			break;
	}
	tries = 0;
	for (uint64_t n = 1; n <= nblocks;) {
		size_t len = data_pkt(x, n);

		if (f->lose_data == n)
			f->lose_data = 0;
		else
			assert_int_equal(cub_udp_sendto(u, x->client, x->port, x->last, len),
					 (int)len);
		f->data_sent++;
		if ((r = read_ack(u, x, (unsigned)n)) < 0 || ++tries > 8)
			return;
		if (r == 1)
			n++, tries = 0;
	}
}

static void *xfer_main(void *arg)
{
	struct xfer *x = arg;
	struct ffile *f = x->f;
	struct cub_udp u;
	uint8_t first[600];
	size_t n = 4;

	x->pkt = malloc(PKT_BIG);
	assert_non_null(x->pkt);
	x->wait = f->retry_ns ? f->retry_ns : 4000 * MS;
	x->blksize = 512;
	assert_int_equal(cub_udp_open(&u, B, 0), 0);	/* a fresh TID */
	f->tid = cub_udp_port(&u);
	if (f->error >= 0) {
		send_err(&u, x->client, x->port, (unsigned)f->error);
	} else if (asked_any(f) && !f->ignore_opts) {
		n = build_oack(f, first, &x->blksize);
		if (x->write)
			serve_write(&u, x, first, n);
		else
			serve_read(&u, x, first, n);
	} else if (x->write) {
		t_put16(first, ACKOP);
		t_put16(first + 2, 0);
		serve_write(&u, x, first, 4);
	} else {
		serve_read(&u, x, NULL, 0);
	}
	assert_int_equal(cub_udp_close(&u), 0);
	free(x->pkt);
	f->active = false;
	f->done = true;
	return NULL;
}

static void *srv_main(void *arg)
{
	uint8_t p[700];
	cub_ip4_t src;
	uint16_t port;
	int n;

	(void)arg;
	while ((n = cub_udp_recvfrom(&srv69, p, sizeof(p) - 1, &src, &port,
				     UINT64_MAX)) >= 0) {
		struct ffile *f = NULL;
		struct xfer *x;
		unsigned op = n >= 2 ? t_get16(p) : 0;

		p[n < (int)sizeof(p) - 1 ? n : (int)sizeof(p) - 1] = 0;
		if (n < 4 || (op != RRQ && op != WRQ))
			continue;
		for (unsigned i = 0; i < nfiles; i++)
			if (strcmp((char *)p + 2, F[i].name) == 0)
				f = &F[i];
		assert_non_null(f);	/* tests only ask for their files */
		f->reqs++;
		memcpy(f->req, p, (size_t)n);
		f->req_len = n;
		parse_req(f, p, n);
		if (f->silent || (f->active && port == f->client_port))
			continue;	/* a retransmitted request: served */
		f->active = true;
		f->done = false;
		f->client_port = port;
		assert_true(nxfers < NFILES * 2);
		x = &xs[nxfers];
		x->f = f;
		x->client = src;
		x->port = port;
		x->write = op == WRQ;
		assert_int_equal(cub_coro_spawn(&xfers[nxfers++], xfer_main, x, NULL), 0);
	}
	assert_int_equal(n, -CUB_EBADF);
	for (unsigned i = 0; i < nxfers; i++)
		cub_coro_join(xfers[i], NULL);
	return NULL;
}

/* -------------------------------------------------------------- harness */

static void fstart(void)
{
	assert_int_equal(wire_start(&W), 0);
	nfiles = 0;
	nxfers = 0;
	assert_int_equal(cub_udp_open(&srv69, B, 69), 0);
	assert_int_equal(cub_coro_spawn(&srv_coro, srv_main, NULL, NULL), 0);
}

/* Waits (bounded) until the server is done with f. */
static void fwait(struct ffile *f)
{
	for (int i = 0; i < 10000 && !f->done; i++)
		cub_sleep(MS);
	assert_true(f->done);
}

static void fstop(void)
{
	assert_int_equal(cub_udp_close(&srv69), 0);
	cub_coro_join(srv_coro, NULL);
	wire_stop(&W);
	assert_int_equal(W.full, 0);
}

#endif
