/*
 * tcp_sack.c - the sender's side of SACK (RFC 2018, with the loss
 * recovery of RFC 6675 simplified): a fixed scoreboard of the ranges
 * the peer reported holding, and, in fast recovery, retransmission of
 * the holes below the highest SACKed byte rather than of one segment
 * per round trip.
 *
 * Invariants (under nif->lock): sacked[0..nsacked) are sorted, disjoint
 * and within snd_una..snd_max (blocks outside, inverted or empty are
 * ignored; a block that needs a slot when all TCP_SACK_MAX are taken is
 * ignored too: the sender then resends a little more, never less);
 * high_rxt is only meaningful in_recovery, with snd_una <= high_rxt <=
 * snd_max. The scoreboard is cleared on a timeout (the peer may renege,
 * RFC 2018 8). A hole is deemed lost once SACKed data lies above it
 * (RFC 6675's IsLost with DupThresh 1 segment: between two cubrt ends
 * reordering is rare and a spurious resend costs one segment).
 * pipe = the bytes above the highest SACKed one (in flight) + the hole
 * bytes below high_rxt (resent, in flight again).
 * Contexts: task, nif->lock held.
 */
#include <cubrt/string.h>

#include "tcp_impl.h"

static void sb_remove(struct cub_tcp *c, unsigned i, unsigned n)
{
	cub_memmove(&c->sacked[i], &c->sacked[i + n],
		    (c->nsacked - i - n) * sizeof(c->sacked[0]));
	c->nsacked = (uint8_t)(c->nsacked - n);
}

/* Drops what lies below una. */
static void sb_trim(struct cub_tcp *c, uint32_t una)
{
	while (c->nsacked && SEQ_LEQ(c->sacked[0].end, una))
		sb_remove(c, 0, 1);
	if (c->nsacked && SEQ_LT(c->sacked[0].start, una))
		c->sacked[0].start = una;
}

static void sb_add(struct cub_tcp *c, uint32_t a, uint32_t b)
{
	unsigned i = 0, j;

	while (i < c->nsacked && SEQ_LT(c->sacked[i].end, a))
		i++;
	j = i;
	while (j < c->nsacked && SEQ_LEQ(c->sacked[j].start, b))
		j++;
	if (j == i) {
		if (c->nsacked == TCP_SACK_MAX)
			return;
		cub_memmove(&c->sacked[i + 1], &c->sacked[i],
			    (c->nsacked - i) * sizeof(c->sacked[0]));
		c->nsacked++;
		c->sacked[i] = (struct tcp_range){ a, b };
		return;
	}
	if (SEQ_LT(c->sacked[i].start, a))
		a = c->sacked[i].start;
	if (SEQ_GT(c->sacked[j - 1].end, b))
		b = c->sacked[j - 1].end;
	c->sacked[i] = (struct tcp_range){ a, b };
	sb_remove(c, i + 1, j - i - 1);
}

void cubi_tcp_sack_input(struct cub_tcp *c, const struct tcp_seg *s)
{
	uint32_t una = c->snd_una;

	if (SEQ_GT(s->ack, una) && SEQ_LEQ(s->ack, c->snd_max))
		una = s->ack;
	sb_trim(c, una);
	if (!c->sack_ok)
		return;
	for (unsigned k = 0; k < s->nsack; k++) {
		uint32_t a = s->sack[k].start, b = s->sack[k].end;

		if (SEQ_LT(a, b) && SEQ_LEQ(una, a) && SEQ_LEQ(b, c->snd_max))
			sb_add(c, a, b);
	}
	if (c->in_recovery && SEQ_LT(c->high_rxt, una))
		c->high_rxt = una;
}

void cubi_tcp_sack_clear(struct cub_tcp *c)
{
	c->nsacked = 0;
}

/* Hole bytes in [snd_una, to). */
static uint32_t holes_below(const struct cub_tcp *c, uint32_t to)
{
	uint32_t n = to - c->snd_una;

	for (unsigned i = 0; i < c->nsacked; i++) {
		const struct tcp_range *r = &c->sacked[i];

		if (SEQ_GEQ(r->start, to))
			break;
		n -= (SEQ_LT(r->end, to) ? r->end : to) - r->start;
	}
	return n;
}

uint32_t cubi_tcp_sack_pipe(const struct cub_tcp *c)
{
	uint32_t high = c->nsacked ? c->sacked[c->nsacked - 1].end :
				     c->snd_una;
	uint32_t rxt = SEQ_LT(c->high_rxt, high) ? c->high_rxt : high;

	if (!c->in_recovery || SEQ_LT(rxt, c->snd_una))
		rxt = c->snd_una;
	return (c->snd_max - high) + holes_below(c, rxt);
}

/* The next hole at or after from and below the highest SACKed byte:
 * its start and length; false when there is none. */
static bool next_hole(const struct cub_tcp *c, uint32_t from, uint32_t *seq,
		      uint32_t *len)
{
	for (unsigned i = 0; i < c->nsacked; i++) {
		const struct tcp_range *r = &c->sacked[i];

		if (SEQ_LEQ(r->start, from)) {
			if (SEQ_GT(r->end, from))
				from = r->end;
			continue;
		}
		*seq = from;
		*len = r->start - from;
		return true;
	}
	return false;
}

void cubi_tcp_sack_send(struct cub_tcp *c)
{
	for (;;) {
		uint32_t seq, len, sent;

		if (cubi_tcp_sack_pipe(c) + c->snd_mss > c->cwnd)
			return;
		if (!next_hole(c, SEQ_LT(c->high_rxt, c->snd_una) ?
				  c->snd_una : c->high_rxt, &seq, &len))
			return;		/* new data: cubi_tcp_output */
		sent = cubi_tcp_resend(c, seq, len);
		if (!sent)
			return;
		c->high_rxt = seq + sent;
	}
}
