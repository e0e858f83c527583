/*
 * tcp_ooo.c - the receiver's reassembly: payload is written straight
 * into the receive ring at the place of its sequence number, in order
 * or not, and the out-of-order ranges held there are tracked in a small
 * fixed table per connection (c->ooo); nothing is allocated.
 *
 * Invariants (under nif->lock):
 *  - ooo[0..nooo) are sorted, disjoint and not touching (a gap between
 *    each two), every one inside rcv_nxt + 1 .. rcv_nxt + rsize - r_len
 *    (start > rcv_nxt: a range reaching rcv_nxt is taken in at once);
 *  - byte x of the window lives at ring index (r_head + r_len + x -
 *    rcv_nxt) % rsize: reading moves r_head and r_len together and
 *    taking data in moves r_len and rcv_nxt together, so a held byte
 *    never moves and nothing but its own sequence number writes there;
 *  - the window's right edge rcv_nxt + rsize - r_len never moves left,
 *    so data we hold never falls out of it;
 *  - tcp_bytes_rx counts what rcv_nxt passes, each byte once;
 *  - fin_ooo: a FIN was received at fin_seq > rcv_nxt; nothing beyond
 *    fin_seq is taken; it takes effect when rcv_nxt reaches fin_seq.
 * Contexts: task, nif->lock held.
 */
#include <cubrt/string.h>

#include "tcp_impl.h"

/* Writes len bytes of data for sequence number seq (in the window). */
static void ring_put(struct cub_tcp *c, uint32_t seq, const uint8_t *data,
		     uint32_t len)
{
	uint32_t at = (uint32_t)(((uint64_t)c->r_head + c->r_len +
				  (seq - c->rcv_nxt)) % c->rsize);
	uint32_t first = CUB_MIN(len, c->rsize - at);

	cub_memcpy(c->rbuf + at, data, first);
	cub_memcpy(c->rbuf, data + first, len - first);
}

static void ooo_remove(struct cub_tcp *c, unsigned i, unsigned n)
{
	cub_memmove(&c->ooo[i], &c->ooo[i + n],
		    (c->nooo - i - n) * sizeof(c->ooo[0]));
	c->nooo = (uint8_t)(c->nooo - n);
}

/* rcv_nxt moves to end, then over every range it reaches. */
static void advance(struct cub_tcp *c, uint32_t end)
{
	uint32_t d;

	while (c->nooo && SEQ_LEQ(c->ooo[0].start, end)) {
		if (SEQ_GT(c->ooo[0].end, end))
			end = c->ooo[0].end;
		ooo_remove(c, 0, 1);
	}
	d = end - c->rcv_nxt;
	c->r_len += d;
	c->rcv_nxt = end;
	c->nif->st.tcp_bytes_rx += d;
}

/* Adds [a, b) (a > rcv_nxt) to the table: merged with the ranges it
 * overlaps or touches, or a new one. Returns 1 when kept with new
 * bytes, 0 when every byte was held already, -1 when a new range was
 * needed and the table is full. */
static int ooo_add(struct cub_tcp *c, uint32_t a, uint32_t b)
{
	unsigned i = 0, j;

	while (i < c->nooo && SEQ_LT(c->ooo[i].end, a))
		i++;			/* ranges wholly before, with a gap */
	j = i;
	while (j < c->nooo && SEQ_LEQ(c->ooo[j].start, b))
		j++;			/* ranges i..j-1 overlap or touch */
	if (j == i) {
		if (c->nooo == TCP_OOO_MAX)
			return -1;
		cub_memmove(&c->ooo[i + 1], &c->ooo[i],
			    (c->nooo - i) * sizeof(c->ooo[0]));
		c->nooo++;
		c->ooo[i] = (struct tcp_ooo_range){ a, b, c->ooo_clock++ };
		return 1;
	}
	if (j == i + 1 && SEQ_LEQ(c->ooo[i].start, a) &&
	    SEQ_GEQ(c->ooo[i].end, b)) {
		c->ooo[i].stamp = c->ooo_clock++;
		return 0;		/* a duplicate */
	}
	if (SEQ_LT(c->ooo[i].start, a))
		a = c->ooo[i].start;
	if (SEQ_GT(c->ooo[j - 1].end, b))
		b = c->ooo[j - 1].end;
	c->ooo[i] = (struct tcp_ooo_range){ a, b, c->ooo_clock++ };
	ooo_remove(c, i + 1, j - i - 1);
	return 1;
}

/* Cuts s down to the window and to a FIN already seen; false when
 * nothing of it remains. */
static bool trim_tail(struct cub_tcp *c, struct tcp_seg *s)
{
	uint32_t edge = c->rcv_nxt + (c->rsize - c->r_len);

	if (c->fin_ooo && SEQ_LT(c->fin_seq, edge))
		edge = c->fin_seq;
	if (SEQ_GT(s->seq + s->len, edge)) {
		s->len = SEQ_GT(edge, s->seq) ? edge - s->seq : 0;
		s->flags &= (uint8_t)~TH_FIN;	/* not all taken */
	}
	return s->len > 0;
}

/* A segment beyond rcv_nxt. */
static void take_ooo(struct cub_tcp *c, struct tcp_seg *s)
{
	int r = 0;

	if (s->len) {
		r = ooo_add(c, s->seq, s->seq + s->len);
		if (r < 0) {
			c->nif->st.tcp_ooo++;
			s->flags &= (uint8_t)~TH_FIN;
			return;
		}
		if (r > 0)
			ring_put(c, s->seq, s->data, s->len);
	}
	if ((s->flags & TH_FIN) && !c->fin_ooo) {
		c->fin_ooo = true;
		c->fin_seq = s->seq + s->len;
		r = 1;
	}
	if (r > 0)
		c->nif->st.tcp_ooo_kept++;
	else
		c->nif->st.tcp_dup++;	/* every byte held already */
}

void cubi_tcp_rcv_data(struct cub_tcp *c, struct tcp_seg *s)
{
	bool fin = s->flags & TH_FIN;

	c->ack_now = true;		/* no delayed ACKs; dup ACK, RFC 5681 */
	if (!trim_tail(c, s) && !(fin && (s->flags & TH_FIN)))
		return;
	if (s->seq != c->rcv_nxt) {
		take_ooo(c, s);
		return;
	}
	ring_put(c, s->seq, s->data, s->len);
	advance(c, s->seq + s->len);
	cubi_tcp_wake(c);
}

bool cubi_tcp_fin_due(const struct cub_tcp *c, const struct tcp_seg *s)
{
	if ((s->flags & TH_FIN) && s->seq + s->len == c->rcv_nxt)
		return true;
	return c->fin_ooo && c->fin_seq == c->rcv_nxt;
}

/* Contexts: any (a copy of c's table is sorted). */
unsigned cubi_tcp_ooo_blocks(const struct cub_tcp *c, struct tcp_range *b,
			     unsigned max)
{
	uint32_t prev = 0;
	unsigned n = 0;

	/* Selection by stamp, newest first: nooo is tiny. */
	while (n < max && n < c->nooo) {
		int best = -1;

		for (unsigned i = 0; i < c->nooo; i++) {
			uint32_t age = c->ooo_clock - c->ooo[i].stamp;

			if (n && age <= prev)
				continue;	/* taken already */
			if (best < 0 ||
			    age < c->ooo_clock - c->ooo[best].stamp)
				best = (int)i;
		}
		if (best < 0)
			break;
		prev = c->ooo_clock - c->ooo[best].stamp;
		b[n].start = c->ooo[best].start;
		b[n].end = c->ooo[best].end;
		n++;
	}
	return n;
}

void cubi_tcp_ooo_clear(struct cub_tcp *c)
{
	c->nooo = 0;
	c->fin_ooo = false;
}
