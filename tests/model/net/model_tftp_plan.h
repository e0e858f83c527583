/*
 * model_tftp_plan.h - what one iteration of model_tftp.c does, drawn at
 * random: the direction, the client's mode and options, how the fake
 * server answers them, the file (its length and bytes), the link's
 * faults, the deadline; and the reference: netascii's conversion both
 * ways written plainly here (independent of src/net/tftp_ascii.c), the
 * agreed block size and window, and the result without faults.
 */
#ifndef MODEL_TFTP_PLAN_H
#define MODEL_TFTP_PLAN_H

#define CR '\r'
#define LF '\n'
#define MAX_BYTES (300u * 1024)	/* the largest file on the wire */
#define MAX_BLOCKS 2500u
#define WRAP_ONE_IN 256		/* iterations past block 65535, at 8..11
				 * bytes a block */

/* How the fake server takes the options. */
enum srv_mode { S_ECHO, S_LOWER, S_OMIT, S_IGNORE, S_REFUSE, S_BAD, S_MODES };
static const char *const srv_names[S_MODES] = { "echo", "lower", "omit", "ignore",
						"refuse", "bad-oack" };

struct plan {
	bool put, netascii, use_opts, missing, wrap;
	struct cub_tftp_opts o;
	enum srv_mode srv;
	long oack_blksize, oack_window;	/* as struct ffile's */
	bool omit_timeout, omit_tsize;
	const char *raw_oack;		/* S_BAD: an OACK of these bytes */
	size_t raw_len;
	int req_error;			/* ERROR to the request (-1: none) */
	unsigned error_after, mid_error;	/* an ERROR mid-way (0: none) */
	uint64_t srv_retry_ns;
	unsigned srv_timeouts;		/* struct ffile's max_timeouts */
	bool srv_quiet;			/* ...quiet_dup_acks */
	/* The agreed values and the file. */
	size_t ask_win;			/* the window asked (0: none; a read
					 * asks what its queue holds) */
	size_t blk, win;
	size_t host_len, wire_len;	/* the caller's bytes, the wire's */
	uint8_t *host, *wire;
	size_t cap;			/* a read's buffer */
	uint64_t timeout_ns;
	bool faults;			/* any link fault rate above 0 */
	bool lossy;			/* ...of drops or cuts */
	long expect;			/* the result on a perfect link */
};

static uint64_t rng;

static uint64_t rnd(uint64_t n)
{
	return model_xorshift(&rng) % n;
}

/* ------------------------------------------------------- netascii, plainly */

/* The wire's bytes for the caller's (LF -> CR LF, CR -> CR NUL): their
 * number; dst may be NULL to count. */
static size_t ref_encode(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i] == LF || src[i] == CR) {
			if (dst) {
				dst[k] = CR;
				dst[k + 1] = src[i] == LF ? LF : 0;
			}
			k += 2;
		} else {
			if (dst)
				dst[k] = src[i];
			k++;
		}
	}
	return k;
}

/* The caller's bytes for the wire's (CR LF -> LF, CR NUL -> CR, any
 * other CR as it is): their number. */
static size_t ref_decode(const uint8_t *src, size_t n, uint8_t *dst)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i] == CR && i + 1 < n && (src[i + 1] == LF || src[i + 1] == 0)) {
			dst[k++] = src[i + 1] == LF ? LF : CR;
			i++;
		} else {
			dst[k++] = src[i];
		}
	}
	return k;
}

/* ---------------------------------------------------------------- options */

static void plan_opts(struct plan *p)
{
	static const uint16_t sizes[] = { 8, 9, 100, 512, 513, 1024, 1428, 1468, 1469, 4096 };
	struct cub_tftp_opts *o = &p->o;

	p->netascii = rnd(10) < 3;
	p->use_opts = p->netascii || rnd(10) < 8 || rnd(WRAP_ONE_IN) == 0;
	if (!p->use_opts)
		return;
	o->netascii = p->netascii;
	if (rnd(3))
		o->blksize = rnd(2) ? sizes[rnd(10)] : (uint16_t)(8 + rnd(1461));
	if (o->blksize > CUB_TFTP_BLKSIZE_FRAME && rnd(4) == 0) {
		o->fragment = true;	/* asked as it is: IPv4 fragments */
		o->blksize = (uint16_t)(CUB_TFTP_BLKSIZE_FRAME + 1 + rnd(8192));
	}
	p->wrap = rnd(WRAP_ONE_IN) == 0;
	if (p->wrap)
		o->blksize = (uint16_t)(8 + rnd(4));
	if (rnd(3))
		o->windowsize = (uint32_t)(rnd(2) ? 1 + rnd(64) : 1 + rnd(8));
	p->ask_win = o->windowsize > 1 ? o->windowsize : 0;
	if (!p->put && p->ask_win) {	/* what the reader's queue holds */
		size_t b = 4 + (o->blksize > CUB_TFTP_BLKSIZE_FRAME && !o->fragment ?
				CUB_TFTP_BLKSIZE_FRAME : o->blksize ? o->blksize : 512);
		size_t fit = CUB_MIN((size_t)CUB_UDP_QUEUE_LEN, CUB_UDP_RCVBUF / b);

		p->ask_win = fit < p->ask_win ? (fit > 1 ? fit : 0) : p->ask_win;
	}
	o->tsize = rnd(2);
	if (rnd(10) < 3)
		o->timeout_s = (uint8_t)(rnd(10) ? 1 + rnd(3) : 5 + rnd(6));
}

/* Whether the request carries options (tftp_opt.c's rule). */
static bool plan_asks(const struct plan *p)
{
	return p->use_opts && (p->o.blksize || p->o.timeout_s || p->o.tsize ||
			       p->ask_win);
}

static void plan_bad_oack(struct plan *p, size_t ask_blk)
{
	static const char unknown[] = "\0\6" "foo\0" "1";
	static const char word[] = "\0\6" "blksize\0" "many";
	static const char zero_win[] = "\0\6" "windowsize\0" "0";

	switch (rnd(4)) {
	case 0:
		if (ask_blk && ask_blk < CUB_TFTP_BLKSIZE_MAX) {
			p->oack_blksize = (long)(ask_blk + 1 + rnd(50));	/* raised */
			return;
		}
		/* fall through */
	case 1:
		if (p->ask_win) {
			p->oack_window = (long)p->ask_win + 1;	/* raised */
			return;
		}
		/* fall through */
	case 2:
		p->raw_oack = rnd(2) ? unknown : zero_win;
		p->raw_len = p->raw_oack == unknown ? sizeof(unknown) : sizeof(zero_win);
		return;
	default:
		p->raw_oack = word;
		p->raw_len = sizeof(word);
	}
}

/*
 * The server's own resend time, and how many of its timeouts it waits
 * through: always longer than the client's (CUB_TFTP_TRIES times its
 * retransmission interval, and two more: a datagram the link holds back
 * may make a silence of two), so that a transfer the client would
 * finish is not lost to a server that gave up first (real servers wait
 * seconds between resends). Short ones (the server resends its window every 10
 * or 50 ms) only with windows of up to CUB_UDP_QUEUE_LEN blocks: a
 * larger window resent that often is tens of thousands of datagrams a
 * second of the client's wait. A write with a larger window needs a
 * receiver's timer shorter than the client's: the fake's endpoint keeps
 * CUB_UDP_QUEUE_LEN datagrams, so of each window resent the same first
 * ones reach it, and only its own ACK of the last in order, sent when
 * nothing came for its retry time (RFC 7440's receiver timeout), moves
 * the window on; the client's resends every interval keep a longer
 * timer from ever expiring.
 */
static void plan_server_timer(struct plan *p)
{
	bool timeout = plan_asks(p) && p->o.timeout_s && !p->omit_timeout &&
		       (p->srv == S_ECHO || p->srv == S_LOWER || p->srv == S_OMIT);
	uint64_t client = timeout ? p->o.timeout_s * 1000 * MS : CUB_TFTP_RETRY_NS;
	uint64_t r = (uint64_t[]){ 0, 10 * MS, 50 * MS, 200 * MS, 700 * MS }[rnd(5)];

	if (r && r < 200 * MS && p->win > CUB_UDP_QUEUE_LEN)
		r = 200 * MS;
	if (!r && 2 * client >= 4000 * MS)	/* the fake's 4 s of silence */
		r = 700 * MS;
	if (p->put && p->win > CUB_UDP_QUEUE_LEN && (!r || r >= client))
		r = 200 * MS;
	p->srv_retry_ns = r;
	/* A read's server that resends its window on a duplicate ACK (as
	 * the fake does by default) and a client that acknowledges a
	 * duplicate of its last block again make the Sorcerer's
	 * Apprentice (RFC 1123 4.2.3.1): every datagram the link doubles
	 * doubles from then on. Correct, but a 65536-block file takes
	 * millions of datagrams: one server in four does, never past
	 * block 65535; the others resend only on their own timeout. */
	p->srv_quiet = r && (p->wrap || rnd(4));
	p->srv_timeouts = r ? (unsigned)((CUB_TFTP_TRIES + 2) * client / r + 4) : 0;
}

/* How the server answers; the agreed block size and window. */
static void plan_server(struct plan *p)
{
	size_t ask_blk = p->o.blksize > CUB_TFTP_BLKSIZE_FRAME && !p->o.fragment ?
			 CUB_TFTP_BLKSIZE_FRAME : p->o.blksize;
	unsigned r = (unsigned)rnd(100);

	p->srv = r < 45 ? S_ECHO : r < 65 ? S_LOWER : r < 78 ? S_OMIT : r < 87 ? S_IGNORE :
		 r < 96 ? S_REFUSE : S_BAD;
	if (!plan_asks(p))
		p->srv = S_ECHO;	/* nothing to answer */
	if (p->srv == S_LOWER) {
		if (ask_blk && rnd(2))
			p->oack_blksize = (long)(8 + rnd(ask_blk - 7));
		if (p->ask_win && rnd(2))
			p->oack_window = (long)(1 + rnd(p->ask_win));
	} else if (p->srv == S_OMIT) {
		p->oack_blksize = rnd(2) ? -1 : 0;
		p->oack_window = rnd(2) ? -1 : 0;
		p->omit_timeout = rnd(2);
		p->omit_tsize = rnd(2);
	} else if (p->srv == S_BAD) {
		plan_bad_oack(p, ask_blk);
	}
	p->blk = CUB_TFTP_BLOCK;
	p->win = 1;
	if (plan_asks(p) && (p->srv == S_ECHO || p->srv == S_LOWER || p->srv == S_OMIT)) {
		if (ask_blk && p->oack_blksize >= 0)
			p->blk = p->oack_blksize ? (size_t)p->oack_blksize : ask_blk;
		if (p->ask_win && p->oack_window >= 0)
			p->win = p->oack_window ? (size_t)p->oack_window : p->ask_win;
	}
	plan_server_timer(p);
}

/* ------------------------------------------------------------------ file */

/* A byte of "text": heavy in CR, LF and NUL. */
static uint8_t text_byte(void)
{
	unsigned r = (unsigned)rnd(10);

	return r < 3 ? CR : r < 6 ? LF : r < 7 ? 0 : (uint8_t)('a' + rnd(26));
}

/* The length on the wire: 0, a whole number of blocks, one more or
 * less, or anything, mostly short. */
static size_t plan_wire_len(struct plan *p)
{
	size_t max_blocks = CUB_MIN((size_t)MAX_BLOCKS, MAX_BYTES / p->blk);
	size_t k = rnd(rnd(4) ? 1 + rnd(1 + max_blocks / 8) : 1 + max_blocks);
	size_t len;

	p->wrap = p->wrap && p->blk < 16;
	if (p->wrap)		/* block 65535 and past it to 0, 1, ... */
		return (65535 - rnd(2)) * p->blk + rnd(3 * p->blk);

	switch (rnd(8)) {
	case 0:
		return 0;
	case 1:
	case 2:
		len = k * p->blk;
		break;
	case 3:
		len = k * p->blk + 1;
		break;
	case 4:
		len = k ? k * p->blk - 1 : 1;
		break;
	default:
		len = k * p->blk + rnd(p->blk);
	}
	return len;
}

/* A read's wire bytes (served as they are) and what the caller gets. */
static void plan_read_file(struct plan *p)
{
	bool text = p->netascii || rnd(2);

	p->wire = malloc(p->wire_len + 1);
	p->host = malloc(p->wire_len + 1);
	for (size_t i = 0; i < p->wire_len; i++)
		p->wire[i] = text ? text_byte() : (uint8_t)rnd(256);
	/* A CR at some blocks' ends, so that its pair straddles two. */
	for (size_t b = p->blk; text && b <= p->wire_len; b += p->blk)
		if (rnd(3) == 0)
			p->wire[b - 1] = CR;
	p->host_len = p->netascii ? ref_decode(p->wire, p->wire_len, p->host) : p->wire_len;
	if (!p->netascii)
		memcpy(p->host, p->wire, p->wire_len);
}

/* A write's caller bytes, made so that their wire bytes are wire_len. */
static void plan_write_file(struct plan *p)
{
	bool text = p->netascii || rnd(2);
	size_t w = 0, n = 0;

	p->host = malloc(p->wire_len + 1);
	while (w < p->wire_len) {
		uint8_t b = text ? text_byte() : (uint8_t)rnd(256);

		if (p->netascii && (b == CR || b == LF) && p->wire_len - w < 2)
			b = 'z';	/* one wire byte left */
		p->host[n++] = b;
		w += p->netascii && (b == CR || b == LF) ? 2 : 1;
	}
	p->host_len = n;
	p->wire = malloc(p->wire_len + 1);
	if (p->netascii)
		ref_encode(p->host, n, p->wire);
	else
		memcpy(p->wire, p->host, n);
}

#endif
