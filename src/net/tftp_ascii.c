/*
 * tftp_ascii.c - a TFTP transfer's bytes between the caller's buffer
 * and the wire: as they are in octet mode, converted in netascii.
 *
 * netascii (RFC 1350, which takes RFC 764's NVT ASCII): a line ends
 * with CR LF on the wire, and a CR that does not end a line goes as CR
 * NUL. The caller's side has LF for a line end and CR for CR. A write
 * turns LF into CR LF and CR into CR NUL; a read turns CR LF into LF
 * and CR NUL into CR. Either pair may straddle two blocks: a write's
 * cursor carries the byte still owed (pend), a read's t->cr the CR that
 * ended the last block. A read keeps a CR followed by anything else (not
 * netascii, but a server's file need not be), and a CR that ends the
 * file, as they are.
 */
#include <cubrt/net.h>
#include <cubrt/string.h>

#include "tftp_int.h"

/*
 * Fills dst (cap bytes, NULL: only moves c on) with the next wire
 * bytes of a write from cursor c, and moves c past them. Returns how
 * many: cap unless the caller's bytes run out first.
 */
size_t cubi_tftp_encode(const struct cubi_tftp *t, struct cubi_tftp_cursor *c,
			uint8_t *dst, size_t cap)
{
	size_t n = 0;

	if (!t->netascii) {
		n = CUB_MIN(cap, t->len - c->off);
		if (dst && n)	/* data may be NULL with len 0 */
			cub_memcpy(dst, t->data + c->off, n);
		c->off += n;
		return n;
	}
	while (n < cap) {
		uint8_t b;

		if (c->pend >= 0) {
			b = (uint8_t)c->pend;
			c->pend = -1;
		} else if (c->off < t->len) {
			b = t->data[c->off++];
			if (b == '\n' || b == '\r') {
				c->pend = b == '\n' ? '\n' : '\0';
				b = '\r';
			}
		} else {
			break;
		}
		if (dst)
			dst[n] = b;
		n++;
	}
	return n;
}

/* The netascii wire size of len bytes at src: one more per LF and CR. */
size_t cubi_tftp_wire_len(const uint8_t *src, size_t len)
{
	size_t n = len;

	for (size_t i = 0; i < len; i++)
		n += src[i] == '\n' || src[i] == '\r';
	return n;
}

/* Appends byte b to a read's buffer: 0, or -1 when it is full. */
static int put_byte(struct cubi_tftp *t, uint8_t b)
{
	if (t->done == t->len)
		return -1;
	t->data[t->done++] = b;
	return 0;
}

/*
 * Takes n wire bytes of a read's block into the caller's buffer after
 * what it has; last: the file's last block (a CR that ends it is kept).
 * 0, or -CUB_ENOSPC when they do not fit (what fitted is there).
 */
int cubi_tftp_decode(struct cubi_tftp *t, const uint8_t *src, size_t n, bool last)
{
	if (!t->netascii) {
		if (n > t->len - t->done)
			return -CUB_ENOSPC;
		if (n)		/* data may be NULL with cap 0 */
			cub_memcpy(t->data + t->done, src, n);
		t->done += n;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t b = src[i];

		if (t->cr) {
			t->cr = false;
			if (b == '\n' || b == '\0') {
				if (put_byte(t, b == '\n' ? '\n' : '\r'))
					return -CUB_ENOSPC;
				continue;
			}
			if (put_byte(t, '\r'))	/* a CR before another byte */
				return -CUB_ENOSPC;
		}
		if (b == '\r')
			t->cr = true;
		else if (put_byte(t, b))
			return -CUB_ENOSPC;
	}
	if (last && t->cr) {
		t->cr = false;
		if (put_byte(t, '\r'))
			return -CUB_ENOSPC;
	}
	return 0;
}
