/*
 * tftp_opt.c - the TFTP request and RFC 2347 option negotiation: the
 * read or write request in its mode with the options asked (RFC 2348
 * blksize, RFC 2349 timeout and tsize, RFC 7440 windowsize), and the
 * judgement of the server's OACK.
 *
 * Rules (RFC 2347-2349, 7440): an option goes into the request as two
 * NUL-terminated strings, its name and a decimal value. The server
 * answers with an OACK naming the options it accepts, each with its
 * value, or ignores them all (then RFC 1350's defaults hold). It may
 * lower blksize but not raise it or go below 8, lower windowsize but
 * not raise it or go below 1, must echo timeout as asked, and tells a
 * read's tsize (the file's size) or echoes a write's. Anything else -
 * an option not asked, a value not a number, a string running past the
 * packet - makes the OACK unacceptable: the client answers ERROR 8 (RFC
 * 2347: "terminate the transfer due to option negotiation") and fails
 * -CUB_EPROTO. Option names compare without regard to case, as RFC 2347
 * says.
 */
#include <cubrt/net.h>
#include <cubrt/string.h>

#include "tftp_int.h"

/* Appends the string s and its NUL at *p. */
static uint8_t *add_str(uint8_t *p, const char *s)
{
	size_t n = cub_strlen(s) + 1;

	cub_memcpy(p, s, n);
	return p + n;
}

/* Appends v in decimal and a NUL at *p. */
static uint8_t *add_num(uint8_t *p, uint64_t v)
{
	char d[21];
	unsigned n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n)
		*p++ = (uint8_t)d[--n];
	*p++ = 0;
	return p;
}

/*
 * The largest window a read asks: what the endpoint's receive queue
 * holds (CUB_UDP_QUEUE_LEN datagrams, CUB_UDP_RCVBUF bytes) of blocks
 * of the size asked. A larger window arrives faster than a busy reader
 * empties the queue: the blocks past it are lost at the endpoint, no
 * later block shows the gap, and the server's resent window brings the
 * blocks already taken first, so only the reader's retransmission
 * interval would recover, once per window (model_tftp: 109 blocks in
 * windows of 64 took 3.0 s on a perfect link, none of it with 16).
 */
static uint32_t read_window_max(const struct cubi_tftp *t)
{
	size_t b = 4 + (size_t)(t->ask_blksize ? t->ask_blksize : CUB_TFTP_BLOCK);

	return (uint32_t)CUB_MAX((size_t)1, CUB_MIN((size_t)CUB_UDP_QUEUE_LEN,
						    CUB_UDP_RCVBUF / b));
}

/* Appends opts' options to the request at *p, noting what was asked;
 * NULL when blksize or windowsize is out of range. */
static uint8_t *add_opts(struct cubi_tftp *t, uint8_t *p, const struct cub_tftp_opts *o)
{
	uint32_t w;

	if (o->blksize) {
		uint16_t b = o->blksize;

		if (b < CUB_TFTP_BLKSIZE_MIN || b > CUB_TFTP_BLKSIZE_MAX)
			return NULL;
		if (b > CUB_TFTP_BLKSIZE_FRAME && !o->fragment)
			b = CUB_TFTP_BLKSIZE_FRAME;	/* one frame per DATA */
		p = add_num(add_str(p, "blksize"), b);
		t->ask_blksize = b;
	}
	if (o->timeout_s) {
		p = add_num(add_str(p, "timeout"), o->timeout_s);
		t->ask_timeout = o->timeout_s;
	}
	if (o->tsize) {
		size_t n = !t->put ? 0 : t->netascii ? cubi_tftp_wire_len(t->data, t->len)
						      : t->len;

		p = add_num(add_str(p, "tsize"), n);
		t->ask_tsize = true;
	}
	if (o->windowsize > CUB_TFTP_WINDOW_MAX)
		return NULL;
	w = t->put ? o->windowsize : CUB_MIN(o->windowsize, read_window_max(t));
	if (w > 1) {
		p = add_num(add_str(p, "windowsize"), w);
		t->ask_window = (uint16_t)w;
	}
	t->asked = t->ask_blksize || t->ask_timeout || t->ask_tsize || t->ask_window;
	return p;
}

/*
 * Builds the read or write request (t->put) for t->name, in the mode of
 * opts (NULL: t->netascii's, as it is) with its options (NULL: none),
 * into t->req as the packet to send to port 69, and sets the defaults
 * the OACK may change. 0 or -CUB_EINVAL (a name empty or too long, a
 * blksize or windowsize out of range).
 */
int cubi_tftp_request(struct cubi_tftp *t, const struct cub_tftp_opts *o)
{
	size_t n = t->name ? cub_strnlen(t->name, CUB_TFTP_NAME_MAX + 1) : 0;
	uint8_t *p = t->req;

	if (n == 0 || n > CUB_TFTP_NAME_MAX)
		return -CUB_EINVAL;
	if (o)
		t->netascii = o->netascii;
	cubi_tftp_put16(p, t->put ? CUBI_TFTP_WRQ : CUBI_TFTP_RRQ);
	p = add_str(add_str(p + 2, t->name), t->netascii ? "netascii" : "octet");
	if (o && !(p = add_opts(t, p, o)))
		return -CUB_EINVAL;
	t->out = t->req;
	t->out_len = (size_t)(p - t->req);
	t->out_port = CUB_TFTP_PORT;
	t->blksize = CUB_TFTP_BLOCK;
	t->window = 1;
	t->retry_ns = CUB_TFTP_RETRY_NS;
	t->info.blksize = CUB_TFTP_BLOCK;
	t->info.windowsize = 1;
	return 0;
}

/* a and b equal but for the case of ASCII letters. */
static bool same_name(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;

		if (x != *b)
			return false;
		if (!x)
			return true;
	}
}

/* The decimal number s (1 to 20 digits, no overflow) in *v: 0 or -1. */
static int number(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

/* Judges one option name = v of an OACK: 0 taken (into t->info),
 * -1 unacceptable. */
static int option(struct cubi_tftp *t, const char *name, uint64_t v)
{
	if (same_name(name, "blksize")) {
		if (!t->ask_blksize || v < CUB_TFTP_BLKSIZE_MIN || v > t->ask_blksize)
			return -1;	/* not asked, or raised */
		t->info.blksize = (uint16_t)v;
	} else if (same_name(name, "timeout")) {
		if (!t->ask_timeout || v != t->ask_timeout)
			return -1;
		t->info.timeout_s = t->ask_timeout;
	} else if (same_name(name, "windowsize")) {
		if (!t->ask_window || v < 1 || v > t->ask_window)
			return -1;	/* not asked, 0, or raised */
		t->info.windowsize = (uint16_t)v;
	} else if (same_name(name, "tsize")) {
		if (!t->ask_tsize)
			return -1;
		t->info.tsize_known = true;
		t->info.tsize = v;
	} else {
		return -1;		/* never asked */
	}
	return 0;
}

/* Parses the OACK's pairs into t->info: 0 or -1 (malformed or
 * unacceptable). */
static int parse(struct cubi_tftp *t, int len)
{
	const char *p = (const char *)t->in + 2, *end = (const char *)t->in + len;

	if ((size_t)len > t->in_cap)
		return -1;		/* truncated: longer than any sane one */
	while (p < end) {
		const char *name = p, *val;
		uint64_t v;
		size_t n = cub_strnlen(name, (size_t)(end - name));

		if (name + n == end)
			return -1;	/* no NUL */
		val = name + n + 1;
		n = cub_strnlen(val, (size_t)(end - val));
		if (val + n == end || number(val, &v) || option(t, name, v))
			return -1;
		p = val + n + 1;
	}
	return 0;
}

/*
 * Takes the OACK of len bytes in t->in, the server's first reply from
 * port: applies the agreed block size, window and timeout. 0;
 * -CUB_EPROTO when it is malformed or unacceptable; -CUB_ENOSPC when an
 * octet read's tsize is over cap. Either failure tells the server with ERROR 8.
 */
int cubi_tftp_oack(struct cubi_tftp *t, int len, uint16_t port)
{
	t->info.oack = true;
	if (parse(t, len)) {
		cubi_tftp_error_to(t, port, 8, "bad option");
		return -CUB_EPROTO;
	}
	/* netascii's wire size is no bound on the bytes it makes. */
	if (!t->put && !t->netascii && t->info.tsize_known && t->info.tsize > t->len) {
		cubi_tftp_error_to(t, port, 8, "file too large");
		return -CUB_ENOSPC;
	}
	t->blksize = t->info.blksize;
	t->window = t->info.windowsize;
	if (t->info.timeout_s)
		t->retry_ns = t->info.timeout_s * 1000000000ull;
	return 0;
}
