/*
 * model_replies_tftp.h - cub_tftp_get_opts against the hostile server of
 * model_replies.c. The server takes read requests on port 69 and the
 * client's ACKs on its transfer ID (TFTP_TID), and answers from that ID:
 * a request with options with an OACK (each option echoed, blksize
 * sometimes lowered, tsize the file's length) or, one time in five,
 * DATA 1 as a server that ignores options does; a request without
 * options with DATA 1; ACK k with DATA k + 1 at the block size the
 * client agreed; a missing file (one in eight) with ERROR 1.
 *
 * Value bytes: a DATA's block number and bytes, an OACK's values, an
 * OACK's and an ERROR's opcode. Other
 * mutations a client cannot tell from the truth are kept out: a DATA is
 * cut only inside its header (a cut block would be a shorter file) and
 * gets no appended bytes (a short block's tail would be more file; a
 * DATA too long is a structural mutation); a block number only becomes one the client
 * has already passed or never reaches (0, earlier, 0x8000, 0xfffe,
 * 0xffff), since a late or duplicated block renumbered to one the
 * client is about to take would be taken. Structural mutations: DATA's
 * opcode (any, ERROR and OACK among them), block numbers, a DATA longer
 * than the block, a DATA turned ERROR with an unterminated message;
 * OACK's values out of range (0, 7, asked + 1, 65465, 20 and 21 digits,
 * empty, not a number), tsize lies (over cap: -CUB_ENOSPC; under or
 * over the file but within cap: the file all the same), options not
 * asked (windowsize, an unknown one, timeout), an option twice, names
 * in capitals, the last NUL removed; ERROR's code, its message
 * unterminated, empty or filling the frame.
 *
 * The judgement follows what the client was sent (the `sent` hook sees
 * every frame put on the wire, in the order the client reads them):
 * for each port the client asks from, the first reply it would take -
 * an OACK judged by RFC 2347-2349's rules as the client must judge it,
 * a DATA 1 (512-byte blocks), an ERROR - fixes the block size the
 * server then sends (so a cut that leaves an OACK without its blksize
 * is a consistent answer, not a trap) and what may go wrong. Right:
 * the file's length with exactly its bytes, nothing written past it,
 * info's block size and tsize as agreed; or an error for what was
 * sent: -CUB_ENOENT, -CUB_EACCES, -CUB_EIO for an ERROR 1, 2 or another
 * code from the server's port, -CUB_EPROTO for an OACK the rules refuse
 * or an ERROR 8 but to the first request with options (which the
 * client asks again without them, from a new port), -CUB_ENOSPC when
 * the file or an agreed tsize is over cap, -CUB_ETIMEDOUT only when a
 * reply was mutated, lost, late, doubled or from elsewhere. A failed
 * read leaves a prefix of the file and nothing past cap.
 */
#ifndef MODEL_REPLIES_TFTP_H
#define MODEL_REPLIES_TFTP_H

#include <cubrt/tftp.h>

#define TFTP_TID 3069
#define TFTP_FILE_MAX (5 * 1468)
#define TFTP_GUARD 64
#define TFTP_PAT(i) ((uint8_t)(0xa5 ^ (i) * 7))

/* What the client knows about one of its ports (it asks from at most
 * two: the retry without options moves). */
struct tftp_port {
	uint16_t port;
	bool drawn;			/* the server chose how to answer it: */
	bool plain;			/* ...DATA 1 (options ignored) */
	uint16_t offer;			/* ...the blksize of its OACK */
	bool asked;			/* its request carried options */
	uint16_t ask_blksize;		/* ...these (0: not asked) */
	uint8_t ask_timeout;
	bool ask_tsize;
	bool decided;			/* a first reply was taken: */
	uint16_t tid, blksize;		/* ...its port, the block size */
	bool tsize_known;
	uint64_t tsize;
};

static struct {
	uint8_t file[TFTP_FILE_MAX];
	size_t len, cap;
	bool missing, use_opts;
	struct cub_tftp_opts o;
	struct cub_tftp_info info;
	struct tftp_port port[4];
	unsigned nport;
	/* What may go wrong, from what was sent: */
	bool err_code[10];		/* ERROR codes 0..8, 9: another */
	bool eproto, enospc;
	/* The reply being built: its kind and block size, for structural. */
	unsigned kind;			/* CUBI-style opcode: 3, 5 or 6 */
	uint16_t block;
	size_t bs;
	/* The OACK's pairs, built then serialised. */
	char oname[8][24], oval[8][32];
	unsigned nopt;
} TF;

static uint8_t tftp_buf[TFTP_FILE_MAX + 2048 + TFTP_GUARD];

static struct tftp_port *tftp_port_of(uint16_t port, bool make)
{
	for (unsigned i = 0; i < TF.nport; i++)
		if (TF.port[i].port == port)
			return &TF.port[i];
	if (!make || TF.nport == 4)
		return NULL;
	TF.port[TF.nport] = (struct tftp_port){ .port = port };
	return &TF.port[TF.nport++];
}

static bool tftp_same(const char *a, const char *lower)
{
	for (;; a++, lower++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;

		if (x != *lower)
			return false;
		if (!x)
			return true;
	}
}

/* The decimal number s as the client reads it: 1..20 digits, no
 * overflow. */
static bool tftp_number(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return true;
}

/* Judges the OACK m[0..n) for port p as RFC 2347-2349 say a client
 * must: true and p's agreed values, or false (unacceptable). */
static bool tftp_oack_ok(struct tftp_port *p, const uint8_t *m, size_t n)
{
	size_t at = 2, in_cap = 4 + (p->ask_blksize > 512 ? p->ask_blksize : 512);

	p->blksize = 512;
	p->tsize_known = false;
	if (n > in_cap)
		return false;
	while (at < n) {
		const char *name = (const char *)m + at, *val;
		size_t k = strnlen(name, n - at);
		uint64_t v;

		if (at + k == n)
			return false;
		at += k + 1;
		val = (const char *)m + at;
		k = strnlen(val, n - at);
		if (at + k == n || !tftp_number(val, &v))
			return false;
		at += k + 1;
		if (tftp_same(name, "blksize")) {
			if (!p->ask_blksize || v < 8 || v > p->ask_blksize)
				return false;
			p->blksize = (uint16_t)v;
		} else if (tftp_same(name, "timeout")) {
			if (!p->ask_timeout || v != p->ask_timeout)
				return false;
		} else if (tftp_same(name, "tsize") && p->ask_tsize) {
			p->tsize_known = true;
			p->tsize = v;
		} else {
			return false;
		}
	}
	return true;
}

/* An ERROR's code as what it lets the client return. */
static void tftp_note_error(unsigned code)
{
	TF.err_code[code < 9 ? code : 9] = true;
}

/* Every frame the server puts on the wire, in order: what the client
 * takes from it (tftp.c's screen, tftp_get.c's take). */
static void tftp_sent(const struct reply *r)
{
	struct tftp_port *p = tftp_port_of(r->dport, false);
	unsigned op = r->n >= 2 ? t_get16(r->m) : 0;

	if (!p || r->src != IP_B)
		return;			/* a port gone or a stranger */
	if (p->decided) {
		if (r->sport == p->tid && op == 5 && r->n >= 4)
			tftp_note_error(t_get16(r->m + 2));
		return;
	}
	if (op == 5 && r->n >= 4) {
		unsigned code = t_get16(r->m + 2);

		p->decided = true;	/* the transfer ends, or moves */
		p->tid = r->sport;
		if (code != 8 || !p->asked)
			tftp_note_error(code);
	} else if (op == 6 && p->asked) {
		p->decided = true;
		p->tid = r->sport;
		if (!tftp_oack_ok(p, r->m, r->n))
			TF.eproto = true;
		else if (p->tsize_known && p->tsize > TF.cap)
			TF.enospc = true;
	} else if (op == 3 && r->n >= 4 && r->n <= 4 + 512 && t_get16(r->m + 2) == 1) {
		p->decided = true;
		p->tid = r->sport;
		p->blksize = 512;
	}
}

static void tftp_oack_put(struct reply *r)
{
	size_t at = 2;

	t_put16(r->m, 6);
	memset(r->prot, 0, sizeof(r->prot));
	r->prot[0] = r->prot[1] = 1;	/* the opcode: see tftp_error */
	for (unsigned i = 0; i < TF.nopt; i++) {
		size_t a = strlen(TF.oname[i]) + 1, b = strlen(TF.oval[i]) + 1;

		memcpy(r->m + at, TF.oname[i], a);
		memcpy(r->m + at + a, TF.oval[i], b);
		memset(r->prot + at + a, 1, b - 1);
		at += a + b;
	}
	r->n = at;
}

static void tftp_opt(const char *name, uint64_t v)
{
	snprintf(TF.oname[TF.nopt], sizeof(TF.oname[0]), "%s", name);
	snprintf(TF.oval[TF.nopt], sizeof(TF.oval[0]), "%llu", (unsigned long long)v);
	TF.nopt++;
}

static void tftp_data(struct reply *r, uint16_t block, size_t bs)
{
	size_t from = (size_t)(block - 1) * bs;
	size_t n = from + bs <= TF.len ? bs : TF.len - from;

	TF.kind = 3;
	TF.block = block;
	TF.bs = bs;
	t_put16(r->m, 3);
	t_put16(r->m + 2, block);
	memcpy(r->m + 4, TF.file + from, n);
	r->n = 4 + n;
	memset(r->prot + 2, 1, 2 + n);
	/* A longer cut is a shorter file; bytes appended to a short block
	 * (or to a cut one: the block's own come back) more file. The
	 * structural mutation makes blocks too long. */
	r->cut_max = 4;
	r->no_append = true;
}

static void tftp_error(struct reply *r, unsigned code, const char *msg)
{
	TF.kind = 5;
	t_put16(r->m, 5);
	t_put16(r->m + 2, code);
	r->n = 4 + strlen(msg) + 1;
	memcpy(r->m + 4, msg, r->n - 4);
	/* The opcode is a value: an ERROR 1 flipped into a DATA is block 1
	 * of a file made of its message, an honest-looking answer (seeds
	 * 537, 1268). Opcodes change only by the structural mutations. */
	r->prot[0] = r->prot[1] = 1;
}

/* The first reply to a read request q[0..n) from port. */
static bool tftp_first(const uint8_t *q, size_t n, struct reply *r, struct tftp_port *p)
{
	size_t at = 2;

	p->asked = false;
	p->ask_blksize = p->ask_timeout = 0;
	p->ask_tsize = false;		/* (the same in every copy) */
	for (int i = 0; i < 2; i++)			/* the name, the mode */
		at += strnlen((const char *)q + at, n - at) + 1;
	while (at < n) {
		const char *name = (const char *)q + at, *val;
		uint64_t v = 0;

		at += strnlen(name, n - at) + 1;
		val = (const char *)q + at;
		at += strnlen(val, n - at) + 1;
		if (at > n || !tftp_number(val, &v))
			return false;
		p->asked = true;
		if (!strcmp(name, "blksize"))
			p->ask_blksize = (uint16_t)v;
		else if (!strcmp(name, "timeout"))
			p->ask_timeout = (uint8_t)v;
		else if (!strcmp(name, "tsize"))
			p->ask_tsize = true;
	}
	if (TF.missing) {
		tftp_error(r, 1, "File not found");
		return true;
	}
	/* One choice per request port, as a server runs one transfer per
	 * transfer ID: the answers to a request's copies agree. */
	if (!p->drawn) {
		p->drawn = true;
		p->plain = !p->asked || rnd(5) == 0;
		p->offer = p->ask_blksize;
		if (p->offer >= 16 && rnd(3) == 0)	/* at most twice the blocks */
			p->offer = (uint16_t)(p->offer - rnd(p->offer / 2));
	}
	if (p->plain) {
		tftp_data(r, 1, 512);
		return true;
	}
	TF.kind = 6;
	TF.nopt = 0;
	if (p->ask_blksize)
		tftp_opt("blksize", p->offer);
	if (p->ask_timeout)
		tftp_opt("timeout", p->ask_timeout);
	if (p->ask_tsize)
		tftp_opt("tsize", TF.len);
	tftp_oack_put(r);
	return true;
}

static bool tftp_answer(unsigned ep, const uint8_t *q, size_t n, struct reply *r)
{
	struct tftp_port *p;
	unsigned op = n >= 2 ? t_get16(q) : 0;

	r->sport = TFTP_TID;			/* a server speaks from its TID */
	if (ep == 0) {
		if (op != 1 || !(p = tftp_port_of(r->dport, true)) || p->decided)
			return false;		/* (a decided port's resend: stale) */
		return tftp_first(q, n, r, p);
	}
	p = tftp_port_of(r->dport, false);
	if (op != 4 || n != 4 || !p || !p->decided || TF.missing)
		return false;
	{
		size_t bs = p->blksize, blocks = TF.len / bs + 1;
		unsigned k = t_get16(q + 2);

		if (k >= blocks)
			return false;
		tftp_data(r, (uint16_t)(k + 1), bs);
	}
	return true;
}

#include "model_replies_tftp_mut.h"

static void tftp_setup(void)
{
	uint16_t bs;

	memset(&TF, 0, sizeof(TF));
	TF.missing = rnd(8) == 0;
	TF.use_opts = rnd(4) != 0;
	if (TF.use_opts) {
		if (rnd(4))
			TF.o.blksize = (uint16_t)(rnd(2) ? 8 + rnd(1461) : 1468);
		if (rnd(4) == 0)
			TF.o.timeout_s = (uint8_t)(1 + rnd(2));
		TF.o.tsize = rnd(2);
	}
	bs = TF.o.blksize ? TF.o.blksize : 512;
	if (bs < 64)			/* a few blocks, not hundreds */
		TF.len = rnd(4 * 64);
	else
		TF.len = rnd(4) * bs + (rnd(3) ? rnd(bs) : 0);
	for (size_t i = 0; i < TF.len; i++)
		TF.file[i] = (uint8_t)rnd64();
	switch (rnd(4)) {
	case 0:
		TF.cap = TF.len ? rnd(TF.len) : 0;		/* short */
		break;
	case 1:
		TF.cap = TF.len + rnd(2048);
		break;
	default:
		TF.cap = TF.len + 1 - rnd(3);			/* one less .. one more */
		if (TF.cap == (size_t)-1)
			TF.cap = 0;
	}
	for (size_t i = 0; i < sizeof(tftp_buf); i++)
		tftp_buf[i] = TFTP_PAT(i);
}

static long tftp_call(uint64_t timeout_ns)
{
	return cub_tftp_get_opts(A, IP_B, "f.bin", tftp_buf, TF.cap, timeout_ns,
				 TF.use_opts ? &TF.o : NULL, &TF.info);
}

/* The port whose transfer the client ran last: the last one asked. */
static const struct tftp_port *tftp_last_port(void)
{
	return TF.nport ? &TF.port[TF.nport - 1] : NULL;
}

static const char *tftp_check(long r)
{
	size_t w = 0;
	const struct tftp_port *p = tftp_last_port();

	for (size_t i = 0; i < sizeof(tftp_buf); i++)
		if (tftp_buf[i] != TFTP_PAT(i))
			w = i + 1;
	if (w > TF.cap)
		return "bytes written past cap";
	if (w > TF.len || memcmp(tftp_buf, TF.file, w))
		return "the buffer is not a prefix of the file";
	if (verbose)
		printf("  file %zu bytes, cap %zu, %s; %u sends\n", TF.len, TF.cap,
		       TF.use_opts ? "options" : "plain", TF.info.sends);
	if (r >= 0) {
		if ((size_t)r != TF.len || TF.missing || TF.len > TF.cap)
			return "a length other than the file's";
		if (memcmp(tftp_buf, TF.file, TF.len))
			return "bytes other than the file's";
		if (!p || !p->decided || TF.info.blksize != p->blksize)
			return "a block size other than agreed";
		if (TF.info.tsize_known != p->tsize_known ||
		    (p->tsize_known && TF.info.tsize != p->tsize))
			return "a tsize other than the OACK's";
		return NULL;
	}
	switch (r) {
	case -CUB_ETIMEDOUT:
		return S.odd ? NULL : "timed out with every reply clean and sent";
	case -CUB_ENOENT:
		return TF.err_code[1] ? NULL : "ENOENT without ERROR 1";
	case -CUB_EACCES:
		return TF.err_code[2] ? NULL : "EACCES without ERROR 2";
	case -CUB_EPROTO:
		return TF.eproto || TF.err_code[8] ? NULL : "EPROTO without a bad OACK or ERROR 8";
	case -CUB_ENOSPC:
		return TF.len > TF.cap || TF.enospc ? NULL : "ENOSPC for a file that fits";
	case -CUB_EIO:
		for (unsigned c = 0; c < 10; c++)
			if (TF.err_code[c] && c != 1 && c != 2 && c != 8)
				return NULL;
		return "EIO without an ERROR";
	default:
		return "an error not documented";
	}
}

static const struct client tftp_client = {
	.name = "tftp", .port = CUB_TFTP_PORT, .port2 = TFTP_TID, .setup = tftp_setup,
	.answer = tftp_answer, .structural = tftp_structural, .call = tftp_call,
	.check = tftp_check, .sent = tftp_sent,
};

#endif
