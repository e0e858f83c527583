/*
 * model_replies_mut.h - the hostile server's generic mutations for
 * model_replies.c: a reply (struct reply) built from a client's template
 * is cut at a random length, has bits flipped or a byte set to an edge
 * value, or gets bytes appended; the client's own structural mutation
 * (its length fields, names, options) is drawn most often.
 *
 * Invariant: random flips and byte edits never touch a byte the template
 * marks as a value (prot[i] set): such a byte (an A record's address, a
 * TTL, a lease's option value, an SNTP timestamp, a TFTP block's data)
 * changed gives a different but well-formed answer that no client can
 * tell from the truth, so the test could not judge it. Structural
 * mutations may write anywhere: they only make the reply malformed or
 * say something whose result the check knows (a different rcode, a
 * kiss code, leap 3).
 */
#ifndef MODEL_REPLIES_MUT_H
#define MODEL_REPLIES_MUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLY_MAX 1472		/* one frame's UDP payload */

struct reply {
	uint8_t m[REPLY_MAX];
	uint8_t prot[REPLY_MAX];	/* 1: a value byte, not flipped */
	uint8_t orig[REPLY_MAX];	/* the template, before mutations */
	size_t n;
	cub_ip4_t dst;			/* where it goes (A, or broadcast) */
	uint16_t dport, sport;
	cub_ip4_t src;
	/* Limits of the generic mutations, for replies whose every longer
	 * cut or appended byte would be another honest answer (a TFTP
	 * DATA's block: a shorter or longer file): cut_max, when not 0, a
	 * cut leaves fewer than cut_max bytes; no_append, nothing is
	 * appended (the structural mutation is drawn instead). */
	size_t cut_max;
	bool no_append;
};

static uint64_t rng;

static inline uint64_t rnd64(void)
{
	return model_xorshift(&rng);
}

/* A number in 0..n-1 (n > 0). */
static inline size_t rnd(size_t n)
{
	return (size_t)(rnd64() % n);
}

/* A random byte position of r that is not a value byte, or r->n when
 * every byte is one (or the reply is empty). */
static size_t mut_pos(const struct reply *r)
{
	for (int tries = 0; tries < 64 && r->n; tries++) {
		size_t at = rnd(r->n);

		if (!r->prot[at])
			return at;
	}
	return r->n;
}

static void mut_flip(struct reply *r)
{
	for (size_t k = 1 + rnd(3); k; k--) {
		size_t at = mut_pos(r);

		if (at < r->n)
			r->m[at] ^= (uint8_t)(1u << rnd(8));
	}
}

static void mut_byte(struct reply *r)
{
	static const uint8_t edge[] = { 0, 1, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff };
	size_t at = mut_pos(r);

	if (at < r->n)
		r->m[at] = edge[rnd(sizeof(edge))];
}

/* Appends random bytes; where a cut took value bytes away they come
 * back as they were (a random timestamp after a cut would be another
 * honest-looking value). */
static void mut_append(struct reply *r)
{
	for (size_t k = 1 + rnd(40); k && r->n < REPLY_MAX; k--, r->n++)
		r->m[r->n] = r->prot[r->n] ? r->orig[r->n] : (uint8_t)rnd64();
}

/* Writes v big-endian at off when it fits. */
static inline void mut_put16(struct reply *r, size_t off, uint16_t v)
{
	if (off + 2 <= r->n)
		t_put16(r->m + off, v);
}

/* 16-bit values that length and count fields get. */
static inline uint16_t mut_len16(uint16_t was)
{
	static const uint16_t edge[] = { 0, 1, 2, 3, 0x7fff, 0x8000, 0xffff };

	switch (rnd(3)) {
	case 0:
		return (uint16_t)(was + 1);
	case 1:
		return (uint16_t)(was - 1);
	default:
		return edge[rnd(sizeof(edge) / sizeof(edge[0]))];
	}
}

/* One mutation of r: structural (the client's own, `structural`) half
 * the time, else a cut, flips, an edge byte or appended bytes. A cut
 * goes to every length 0..n-1 with equal chance. Returns its name. */
static const char *mutate(struct reply *r, const char *(*structural)(struct reply *))
{
	switch (rnd(10)) {
	case 0:
	case 1:
		r->n = r->n ? rnd(r->cut_max && r->cut_max < r->n ? r->cut_max : r->n) : 0;
		return "cut";
	case 2:
	case 3:
		mut_flip(r);
		return "flip";
	case 4:
		mut_byte(r);
		return "byte";
	case 5:
		if (r->no_append)
			return structural(r);
		mut_append(r);
		return "append";
	default:
		return structural(r);
	}
}

#endif
