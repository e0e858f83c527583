/*
 * tftp_fake.h - a fake TFTP server for the TFTP client's tests
 * (test_net_tftp.c, test_net_tftp_put.c, test_net_tftp_opts.c,
 * test_net_tftp_win.c). Interface A (10.0.0.1/24, the client) and B
 * (10.0.0.2/24) share the in-memory wire of net_test.h. On B a
 * coroutine takes requests on port 69 and serves each from a fresh port
 * (its transfer ID) in a coroutine of its own (tftp_fake_serve.h): a
 * read sends windows of DATA (one block unless windowsize was agreed,
 * RFC 7440) and starts the next after the block an ACK names, resending
 * the window on a duplicate ACK or its own timeout; a write stores DATA
 * n at its place and acknowledges the end of each window, the last
 * block in order on a gap, a duplicate of the last block again. A
 * file's bytes are generated from its name (fgen) or given (content);
 * a write stores the wire's bytes (netascii unconverted). Options are
 * parsed from the request and answered by an OACK that echoes them, or
 * as the file says: another blksize or windowsize, some left out, a
 * raw OACK of the test's, none at all (RFC 1350's server), ERROR 8 to a
 * request with options. A file may ask the server to misbehave: lose a
 * DATA or an ACK once, answer from a foreign port, fall silent, send an
 * ERROR. A name no file has gets ERROR 1. tests/model/net/model_tftp.c
 * uses it over a faulty link, with the hooks such a link needs (late
 * ACKs ignored, a resent window answered, no resend on a duplicate ACK,
 * patience beyond the client's). Include after cmocka.h.
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
	long oack_window;	/* windowsize likewise */
	bool refuse_opts;	/* ERROR 8 to a request with options */
	bool refuse_twice;	/* with refuse_opts: a second ERROR 8 from
				 * another port, as to a copy of the request */
	const uint8_t *content;	/* a read: the wire's bytes (else fgen) */
	bool omit_timeout, omit_tsize;
	const uint8_t *raw_oack;	/* sent instead of the OACK built */
	size_t raw_len;
	uint64_t retry_ns;	/* the server's resend time (0: none, 4 s
				 * of silence ends it) */
	unsigned max_timeouts;	/* its timeouts in a row before it gives
				 * up (0: 8) */
	unsigned lose_data;	/* a read: the first send of DATA n lost */
	unsigned lose_rack;	/* a read: the first ACK n ignored */
	bool drop_arp_after;	/* a read: after DATA 1, B's ARP replies lost */
	unsigned drop_data;	/* a write: the first DATA n not taken */
	bool reack_old;		/* a write: a DATA already taken (a window
				 * resent after an ACK was lost) gets the
				 * ACK of the last in order, once until the
				 * next in order, as a gap does: else a
				 * client that resends more often than the
				 * server's timeout starves it */
	unsigned lose_ack;	/* a write: the first ACK n not sent */
	bool twice;		/* a write: every ACK n sent twice */
	unsigned lose_ack0;	/* a read: the first ACK 0 ignored */
	bool quiet_dup_acks;	/* a read: a duplicate ACK is not answered
				 * by resending the window (RFC 1123
				 * 4.2.3.1: the Sorcerer's Apprentice);
				 * only the server's own timeout resends */
	bool stale_ok;		/* a read: an ACK of a block before the
				 * window's start (late, from a link that
				 * reorders) is counted in stale_acks and
				 * ignored instead of failing the test */
	unsigned foreign_at;	/* after DATA n, a foreign ERROR (a write)
				 * or DATA n + 1 (a read) */
	unsigned stop_after;	/* after ACK n / DATA n, only count DATA
				 * (a write) or ACKs (a read) */
	unsigned error_after;	/* after DATA n / ACK n, ERROR mid_error */
	int mid_error;
	/* What happened (written by the server). */
	unsigned reqs, data_sent, data_rx, dup_data, acks, acks_sent;
	unsigned oacks_sent, stop_data, stop_acks;
	unsigned dup_acks;	/* a read: duplicate ACKs (window resent) */
	unsigned ack0s;		/* a read: ACK 0 received */
	unsigned stale_acks;	/* a read: stale ACKs ignored (stale_ok) */
	int client_error, foreign_reply;
	size_t max_payload;	/* a write: the largest DATA payload */
	/* A write: ACKs 1..n sent (ACK 0, the first answer, not counted). */
	uint8_t req[700];
	int req_len;
	long ask_blksize, ask_timeout, ask_window;	/* -1: not asked */
	long long ask_tsize;
	bool octet;		/* the mode was "octet" */
	char mode[12];		/* ...the mode asked */
	size_t written;		/* a write: bytes stored */
	bool complete;		/* a write: the short block came */
	uint16_t client_port, tid;
	bool active, done;
};

#define NFILES 40
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
	f->ask_blksize = f->ask_timeout = f->ask_window = -1;
	f->ask_tsize = -1;
	return f;
}

/* Byte i of a file named name: differs between files and blocks. */
static uint8_t fgen(const char *name, size_t i)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + name[0] + strlen(name));
}

/* Byte i of a read of f on the wire. */
static inline uint8_t fbyte(const struct ffile *f, size_t i)
{
	return f->content ? f->content[i] : fgen(f->name, i);
}

static inline bool fcheck(const char *name, const uint8_t *buf, size_t len)
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
static volatile bool drop_arp;	/* the wire loses B's ARP replies */

struct xfer {
	struct ffile *f;
	cub_ip4_t client;
	uint16_t port;
	bool write;
	size_t blksize;
	uint64_t window;	/* blocks per window (1: lock-step) */
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
	snprintf(f->mode, sizeof(f->mode), "%s", s < end ? s : "");
	f->ask_blksize = f->ask_timeout = f->ask_window = -1;
	f->ask_tsize = -1;
	for (s += strlen(s) + 1; s < end;) {
		const char *v = s + strlen(s) + 1;

		assert_true(v < end);
		if (strcmp(s, "blksize") == 0)
			f->ask_blksize = atol(v);
		else if (strcmp(s, "timeout") == 0)
			f->ask_timeout = atol(v);
		else if (strcmp(s, "tsize") == 0)
			f->ask_tsize = atoll(v);
		else if (strcmp(s, "windowsize") == 0)
			f->ask_window = atol(v);
		else
			fail_msg("unknown option %s", s);
		s = v + strlen(v) + 1;
	}
}

static bool asked_any(const struct ffile *f)
{
	return f->ask_blksize >= 0 || f->ask_timeout >= 0 || f->ask_tsize >= 0 ||
	       f->ask_window >= 0;
}

/* Appends option name = v to the OACK at p + n: the new length. */
static size_t oack_opt(uint8_t *p, size_t n, const char *name, unsigned long long v)
{
	n += (size_t)sprintf((char *)p + n, "%s", name) + 1;
	return n + (size_t)sprintf((char *)p + n, "%llu", v) + 1;
}

/* Builds the OACK for f into p (its length), and the block size and
 * window the server then uses. */
static size_t build_oack(const struct ffile *f, uint8_t *p, size_t *blksize,
			 uint64_t *window)
{
	size_t n = 2;

	t_put16(p, OACK);
	*blksize = 512;
	*window = 1;
	if (f->raw_oack) {	/* its blksize, if any, in oack_blksize */
		if (f->oack_blksize > 0)
			*blksize = (size_t)f->oack_blksize;
		memcpy(p, f->raw_oack, f->raw_len);
		return f->raw_len;
	}
	if (f->ask_blksize >= 0 && f->oack_blksize >= 0) {
		long b = f->oack_blksize ? f->oack_blksize : f->ask_blksize;

		n = oack_opt(p, n, "blksize", (unsigned long long)b);
		*blksize = (size_t)b;
	}
	if (f->ask_window >= 0 && f->oack_window >= 0) {
		long w = f->oack_window ? f->oack_window : f->ask_window;

		n = oack_opt(p, n, "windowsize", (unsigned long long)w);
		*window = w > 0 ? (uint64_t)w : 1;
	}
	if (f->ask_timeout >= 0 && !f->omit_timeout)
		n = oack_opt(p, n, "timeout", (unsigned long long)f->ask_timeout);
	if (f->ask_tsize >= 0 && !f->omit_tsize)
		n = oack_opt(p, n, "tsize", f->ask_tsize ? (unsigned long long)f->ask_tsize
							 : (unsigned long long)f->len);
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

#include "tftp_fake_serve.h"

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
	x->window = 1;
	assert_int_equal(cub_udp_open(&u, B, 0), 0);	/* a fresh TID */
	f->tid = cub_udp_port(&u);
	if (f->error >= 0) {
		send_err(&u, x->client, x->port, (unsigned)f->error);
	} else if (f->refuse_opts && asked_any(f)) {
		send_err(&u, x->client, x->port, 8);
		if (f->refuse_twice) {	/* as to a copy of the request */
			struct cub_udp o;

			assert_int_equal(cub_udp_open(&o, B, 0), 0);
			send_err(&o, x->client, x->port, 8);
			assert_int_equal(cub_udp_close(&o), 0);
		}
	} else if (asked_any(f) && !f->ignore_opts) {
		n = build_oack(f, first, &x->blksize, &x->window);
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
		if (!f) {		/* not found */
			struct cub_udp o;

			assert_int_equal(cub_udp_open(&o, B, 0), 0);
			send_err(&o, src, port, 1);
			assert_int_equal(cub_udp_close(&o), 0);
			continue;
		}
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

static bool lose_b_arp(struct wire *w, struct wire_frame *f)
{
	(void)w;
	return !(drop_arp && f->to == 0 && t_get16(f->data + 12) == 0x0806);
}

static void fstart(void)
{
	assert_int_equal(wire_start(&W), 0);
	W.filter = lose_b_arp;
	drop_arp = false;
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

/* A file of len bytes to write as name: src gets its bytes (fgen), the
 * server's store (cap bytes) is filled with 0x5a. */
static inline struct ffile *fwfile(const char *name, size_t len, uint8_t *src,
				   uint8_t *store, size_t cap)
{
	struct ffile *f = ffile(name, len);

	for (size_t i = 0; i < len; i++)
		src[i] = fgen(name, i);
	memset(store, 0x5a, cap);
	f->store = store;
	f->store_cap = cap;
	return f;
}

/* Reads f into b (size bytes, cap of them offered) with o; checks the
 * content (and nothing beyond it) when it arrives; waits for the
 * server. */
static inline long fget(struct ffile *f, uint8_t *b, size_t size, size_t cap,
			const struct cub_tftp_opts *o, struct cub_tftp_info *info)
{
	long r;

	memset(b, 0x5a, size);
	r = cub_tftp_get_opts(A, IP_B, f->name, b, cap, UINT64_MAX, o, info);
	if (r >= 0) {
		assert_int_equal(r, (long)f->len);
		assert_true(fcheck(f->name, b, f->len));
		assert_int_equal(b[f->len], 0x5a);
	}
	fwait(f);
	return r;
}

/* Writes f's len bytes of src with o; waits for the server and checks
 * what it stored when the write succeeds. */
static inline long fput(struct ffile *f, const uint8_t *src, const struct cub_tftp_opts *o,
			struct cub_tftp_info *info)
{
	long r = cub_tftp_put_opts(A, IP_B, f->name, src, f->len, UINT64_MAX, o, info);

	fwait(f);
	if (r >= 0) {
		assert_int_equal(r, (long)f->len);
		assert_true(f->complete);
		assert_int_equal(f->written, f->len);
		assert_true(fcheck(f->name, f->store, f->len));
		assert_int_equal(f->store[f->len], 0x5a);
	}
	return r;
}

static void fstop(void)
{
	assert_int_equal(cub_udp_close(&srv69), 0);
	cub_coro_join(srv_coro, NULL);
	wire_stop(&W);
	assert_int_equal(W.full, 0);
}

#endif
