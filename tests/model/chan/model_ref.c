/*
 * model_ref.c - the reference model of Go's channel semantics used by
 * model_chan.c: FIFO buffers, FIFO queues of parked senders and receivers
 * (a parked select sits in one queue per enabled case and leaves all of
 * them when one fires), close rules.
 *
 * Invariants: a worker is in a model queue exactly while mc[w].parked; a
 * closed model channel has empty queues; 0 <= len <= caps[c].
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

const size_t caps[NCHAN] = { 0, 0, 1, 3, 8 };
const size_t sizes[NCHAN] = { 8, 24, 8, 100, 8 };
struct cub_chan chans[NCHAN];
unsigned char bufs[NCHAN][MAXCAP * MAXSZ];
struct mchan model[NCHAN];
struct mcoro mc[NCORO];
uint64_t seed, ops_done;
int running = -1;
unsigned long long n_sent, n_recv, n_closed_recv, n_close, n_block;

void die(const char *what, int who)
{
	fprintf(stderr, "model_chan: MISMATCH (%s) in coroutine %d after %" PRIu64
		" ops; reproduce with seed %" PRIu64 "\n", what, who, ops_done, seed);
	exit(1);
}

/* ------------------------------------------------------------ the model */

static void q_remove(struct qent *q, int *n, int coro)
{
	int i, j = 0;

	for (i = 0; i < *n; i++)
		if (q[i].coro != coro)
			q[j++] = q[i];
	*n = j;
}

static struct qent q_pop(struct qent *q, int *n)
{
	struct qent e = q[0];

	memmove(q, q + 1, (size_t)(*n - 1) * sizeof(*q));
	(*n)--;
	return e;
}

/* The model completes parked coroutine e.coro's case e.k. */
static void complete(struct qent e, bool ok, const struct val *got)
{
	struct mcoro *m = &mc[e.coro];
	int c;

	if (!m->parked || m->done)
		die("model completes a coroutine that is not parked", e.coro);
	for (c = 0; c < NCHAN; c++) {
		q_remove(model[c].sendq, &model[c].nsend, e.coro);
		q_remove(model[c].recvq, &model[c].nrecv, e.coro);
	}
	m->parked = false;
	m->done = true;
	m->ok = ok;
	m->fired = e.k;
	memset(&m->got, 0, sizeof(m->got));
	if (got)
		m->got = *got;
}

bool m_can_send(int c)
{
	struct mchan *m = &model[c];

	return m->closed || m->nrecv > 0 || (size_t)m->len < caps[c];
}

bool m_can_recv(int c)
{
	struct mchan *m = &model[c];

	return m->closed || m->len > 0 || m->nsend > 0;
}

/* A send the model knows can proceed; returns ok. */
bool m_send(int c, const struct val *v)
{
	struct mchan *m = &model[c];

	if (m->closed)
		return false;
	if (m->nrecv) {
		complete(q_pop(m->recvq, &m->nrecv), true, v);
		n_recv++;		/* by the parked receiver */
	} else {
		m->buf[(m->head + m->len) % (int)caps[c]] = *v;
		m->len++;
	}
	n_sent++;
	return true;
}

/* A receive the model knows can proceed; returns ok and the value. */
bool m_recv(int c, struct val *out)
{
	struct mchan *m = &model[c];
	struct qent e;

	memset(out, 0, sizeof(*out));
	if (m->len) {
		*out = m->buf[m->head];
		m->head = (m->head + 1) % (int)caps[c];
		m->len--;
		if (m->nsend) {
			e = q_pop(m->sendq, &m->nsend);
			m->buf[(m->head + m->len) % (int)caps[c]] =
				mc[e.coro].cases[e.k].v;
			m->len++;
			complete(e, true, NULL);
			n_sent++;	/* by the parked sender */
		}
	} else if (m->nsend) {
		e = q_pop(m->sendq, &m->nsend);
		*out = mc[e.coro].cases[e.k].v;
		complete(e, true, NULL);
		n_sent++;		/* by the parked sender */
	} else {
		if (!m->closed)
			die("model receive on an empty open channel", running);
		n_closed_recv++;
		return false;
	}
	n_recv++;
	return true;
}

int m_close(int c)
{
	struct mchan *m = &model[c];

	if (m->closed)
		return -CUB_EBADF;
	m->closed = true;
	while (m->nrecv)
		complete(q_pop(m->recvq, &m->nrecv), false, NULL);
	while (m->nsend)
		complete(q_pop(m->sendq, &m->nsend), false, NULL);
	n_close++;
	return 0;
}

/* True when some live worker other than self can run. */
bool others_runnable(int self)
{
	int i;

	for (i = 0; i < NCORO; i++)
		if (i != self && mc[i].live && !mc[i].parked)
			return true;
	return false;
}

/* Parks worker self on every enabled case of mc[self].cases. */
void m_park(int self)
{
	struct mcoro *m = &mc[self];
	int k, c;

	m->parked = true;
	m->done = false;
	for (k = 0; k < m->ncase; k++) {
		c = m->cases[k].chan;
		if (c < 0)
			continue;
		if (m->cases[k].dir == CUB_SELECT_SEND)
			model[c].sendq[model[c].nsend++] = (struct qent){ self, k };
		else
			model[c].recvq[model[c].nrecv++] = (struct qent){ self, k };
	}
	n_block++;
}

