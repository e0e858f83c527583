/*
 * model_chan.c - randomized model test of channels and select.
 *
 * NCORO worker coroutines perform random blocking and non-blocking sends,
 * receives, selects (with and without default, with disabled cases),
 * closes and re-opens over NCHAN channels of different capacities and
 * element sizes. Before each real operation the worker applies the same
 * operation to a reference model of Go's semantics (FIFO buffers, FIFO
 * parked senders and receivers, close rules, a select fires exactly one
 * case) and records what the real call must return: its status, the case
 * that fired (for a select: one of the ready cases the model allows), ok,
 * and the exact bytes received. The scheduler runs one coroutine at a
 * time, so model and channels move in lock step; an operation the model
 * says will block is completed in the model by the partner (or close) that
 * completes it for real. Every sent value is unique (sender, sequence), so
 * a lost, duplicated or reordered value is a mismatch. A quarter of the
 * blocking calls carry a (far) deadline, so select's timer is armed and
 * cancelled throughout.
 *
 * The reference model is model_ref.c (shared state: model.h).
 *
 * usage: model_chan [SEED [OPS]]   (or $CUBRT_SEED, $CUBRT_OPS)
 * The seed is printed; the same seed replays the same run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "chan_impl.h"
#include "model.h"
#include "../model_args.h"

static uint64_t ops_total;
static long long ops_per_coro;
static unsigned long long n_reopen, n_select;

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void make_val(struct val *v, int from, uint32_t seq, size_t size)
{
	size_t i;

	memset(v, 0, sizeof(*v));
	memcpy(v->b, &from, 4);
	memcpy(v->b + 4, &seq, 4);
	for (i = 8; i < size; i++)
		v->b[i] = (unsigned char)(from * 13 + seq * 7 + i);
}

/* ----------------------------------------------------------- the workers */

struct worker {
	int id;
	uint64_t rng;
	uint32_t seq;
};

/*
 * A deadline that never passes during the run: the blocking call arms and
 * cancels a timer (exercising that path under load) yet completes exactly
 * like the plain call, so the model needs no notion of time.
 */
static uint64_t far_deadline(void)
{
	return cub_time_now() + 3600 * CUB_NSEC_PER_SEC;
}

static void check_bytes(int self, const void *got, const struct val *want,
			size_t size)
{
	if (memcmp(got, want->b, size))
		die("received bytes differ from the model's value", self);
}

/* After an operation the model predicted to complete at once. */
static void check_unparked(int self)
{
	if (running != self)
		die("operation blocked although the model says it is ready", self);
}

/* After an operation the model parked: it must have been completed. */
static void check_woken(int self)
{
	running = self;
	if (mc[self].parked || !mc[self].done)
		die("real operation returned while the model has it parked", self);
	mc[self].done = false;
}

static void op_send(struct worker *w, int c, bool try)
{
	struct val v;
	int self = w->id, r;
	bool ok;

	make_val(&v, self, w->seq++, sizes[c]);
	running = self;
	if (m_can_send(c)) {
		ok = m_send(c, &v);
		r = try ? cub_chan_try_send(&chans[c], v.b) :
			  cub_chan_send(&chans[c], v.b);
		check_unparked(self);
		if (r != (ok ? 0 : -CUB_EPIPE))
			die("send status", self);
	} else if (try || !others_runnable(self)) {
		if (cub_chan_try_send(&chans[c], v.b) != -CUB_EAGAIN)
			die("try-send should find no room", self);
	} else {
		mc[self].ncase = 1;
		mc[self].cases[0] = (struct mcase){ c, CUB_SELECT_SEND, v };
		m_park(self);
		r = rnd(&w->rng) & 3 ? cub_chan_send(&chans[c], v.b) :
		    cub_chan_send_deadline(&chans[c], v.b, far_deadline());
		check_woken(self);
		if (r != (mc[self].ok ? 0 : -CUB_EPIPE))
			die("parked send status", self);
	}
}

static void op_recv(struct worker *w, int c, bool try)
{
	unsigned char got[MAXSZ];
	struct val want;
	int self = w->id, r;
	bool ok;

	memset(got, 0xa5, sizeof(got));
	running = self;
	if (m_can_recv(c)) {
		ok = m_recv(c, &want);
		r = try ? cub_chan_try_recv(&chans[c], got) :
			  cub_chan_recv(&chans[c], got);
		check_unparked(self);
		if (r != (ok ? 1 : 0))
			die("receive status", self);
		check_bytes(self, got, &want, sizes[c]);
	} else if (try || !others_runnable(self)) {
		if (cub_chan_try_recv(&chans[c], got) != -CUB_EAGAIN)
			die("try-receive should find nothing", self);
	} else {
		mc[self].ncase = 1;
		mc[self].cases[0] = (struct mcase){ .chan = c, .dir = CUB_SELECT_RECV };
		m_park(self);
		r = rnd(&w->rng) & 3 ? cub_chan_recv(&chans[c], got) :
		    cub_chan_recv_deadline(&chans[c], got, far_deadline());
		check_woken(self);
		if (r != (mc[self].ok ? 1 : 0))
			die("parked receive status", self);
		check_bytes(self, got, &mc[self].got, sizes[c]);
	}
}

/* Picks random cases; returns how many the model finds ready. */
static int make_cases(struct worker *w, struct cub_select_case *k,
		      unsigned char (*got)[MAXSZ], int n, bool *ready)
{
	struct mcoro *m = &mc[w->id];
	int i, c, nready = 0;

	m->ncase = n;
	for (i = 0; i < n; i++) {
		struct mcase *mk = &m->cases[i];

		c = (int)(rnd(&w->rng) % (NCHAN + 1)) - 1;
		mk->chan = c;
		mk->dir = rnd(&w->rng) & 1 ? CUB_SELECT_SEND : CUB_SELECT_RECV;
		memset(got[i], 0xa5, MAXSZ);
		if (c >= 0 && mk->dir == CUB_SELECT_SEND)
			make_val(&mk->v, w->id, w->seq++, sizes[c]);
		k[i] = (struct cub_select_case){
			.chan = c < 0 ? NULL : &chans[c], .dir = mk->dir,
			.elem = mk->dir == CUB_SELECT_SEND ? mk->v.b : got[i] };
		ready[i] = c >= 0 && (mk->dir == CUB_SELECT_SEND ?
				      m_can_send(c) : m_can_recv(c));
		nready += ready[i];
	}
	return nready;
}

static void op_select(struct worker *w, bool try)
{
	struct cub_select_case k[MAXK];
	unsigned char got[MAXK][MAXSZ];
	bool ready[MAXK], ok;
	struct val want;
	int self = w->id, n = 1 + (int)(rnd(&w->rng) % MAXK), r, c;

	n_select++;
	running = self;
	if (!make_cases(w, k, got, n, ready)) {
		if (!try && others_runnable(self)) {
			for (c = 0; c < n; c++)
				if (mc[self].cases[c].chan >= 0)
					break;
			if (c < n) {	/* at least one enabled case */
				m_park(self);
				r = rnd(&w->rng) & 3 ? cub_select(k, (size_t)n) :
				    cub_select_deadline(k, (size_t)n,
							far_deadline());
				check_woken(self);
				if (r != mc[self].fired || k[r].ok != mc[self].ok)
					die("parked select fired another case", self);
				if (k[r].dir == CUB_SELECT_RECV)
					check_bytes(self, got[r], &mc[self].got,
						    sizes[mc[self].cases[r].chan]);
				return;
			}
		}
		if (cub_select_try(k, (size_t)n) != -CUB_EAGAIN)
			die("select with no ready case did not default", self);
		return;
	}
	r = try ? cub_select_try(k, (size_t)n) : cub_select(k, (size_t)n);
	check_unparked(self);
	if (r < 0 || r >= n || !ready[r])
		die("select chose a case that is not ready", self);
	c = mc[self].cases[r].chan;
	if (k[r].dir == CUB_SELECT_SEND) {
		ok = m_send(c, &mc[self].cases[r].v);
	} else {
		ok = m_recv(c, &want);
		check_bytes(self, got[r], &want, sizes[c]);
	}
	if (k[r].ok != ok)
		die("select ok flag", self);
}

static void op_close(struct worker *w, int c)
{
	running = w->id;
	if (cub_chan_close(&chans[c]) != m_close(c))
		die("close status", w->id);
	check_unparked(w->id);
}

/* Re-opens a closed, drained channel; otherwise checks len and cap. */
static void op_reopen(struct worker *w, int c)
{
	struct mchan *m = &model[c];

	if (cub_chan_len(&chans[c]) != (size_t)m->len ||
	    cub_chan_cap(&chans[c]) != caps[c] ||
	    cub_chan_closed(&chans[c]) != m->closed)
		die("len/cap/closed differ from the model", w->id);
	if (!m->closed || m->len)
		return;
	if (m->nsend || m->nrecv)
		die("closed channel has parked coroutines in the model", w->id);
	cub_chan_init(&chans[c], sizes[c], caps[c], bufs[c]);
	memset(m, 0, sizeof(*m));
	n_reopen++;
}

/*
 * One random operation. Interrupts stay disabled from the model update to
 * the real call's return, so that with preemption configured no other
 * coroutine runs in between (a parked call lets others run, as it must;
 * each resumes with its own interrupt state).
 */
static void one_op(struct worker *w)
{
	unsigned pick = (unsigned)(rnd(&w->rng) % 100);
	int c = (int)(rnd(&w->rng) % NCHAN);
	unsigned long s = cub_arch_irq_save();

	if (pick < 24)
		op_send(w, c, false);
	else if (pick < 48)
		op_recv(w, c, false);
	else if (pick < 55)
		op_send(w, c, true);
	else if (pick < 62)
		op_recv(w, c, true);
	else if (pick < 84)
		op_select(w, false);
	else if (pick < 91)
		op_select(w, true);
	else if (pick < 92)
		op_close(w, c);
	else
		op_reopen(w, c);
	ops_done++;
	cub_arch_irq_restore(s);
}

/* Before leaving, make sure the others are not all parked for good. */
static void leave_locked(struct worker *w)
{
	int c;

	mc[w->id].live = false;
	for (c = 0; c < NCHAN; c++) {
		bool others = false;
		int i;

		for (i = 0; i < NCORO; i++)
			others |= mc[i].live;
		if (!others || others_runnable(w->id))
			return;
		if (model[c].nsend || model[c].nrecv)
			op_close(w, c);
	}
	if (!others_runnable(w->id)) {
		for (c = 0; c < NCORO; c++)
			if (mc[c].live)
				die("live workers left parked", w->id);
	}
}

static void leave(struct worker *w)
{
	unsigned long s = cub_arch_irq_save();

	leave_locked(w);
	cub_arch_irq_restore(s);
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	long long i;

	for (i = 0; i < ops_per_coro; i++)
		one_op(w);
	leave(w);
	return NULL;
}

static void *model_main(void *arg)
{
	struct worker w[NCORO];
	struct cub_coro *co[NCORO];
	int i;

	(void)arg;
	for (i = 0; i < NCHAN; i++)
		cub_chan_init(&chans[i], sizes[i], caps[i], bufs[i]);
	for (i = 0; i < NCORO; i++) {
		w[i] = (struct worker){ i, seed * 0x100000001b3ULL + (uint64_t)i, 0 };
		mc[i].live = true;
		if (cub_coro_spawn(&co[i], worker, &w[i], NULL))
			die("spawn", i);
	}
	for (i = 0; i < NCORO; i++)
		cub_coro_join(co[i], NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long long left = 0;
	int c;

	seed = model_arg(argc, argv, 1, "CUBRT_SEED", (uint64_t)time(NULL));
	ops_total = model_arg(argc, argv, 2, "CUBRT_OPS", 1200000);
	ops_per_coro = (long long)((ops_total + NCORO - 1) / NCORO);
	printf("model_chan: seed %" PRIu64 " (replay: model_chan %" PRIu64
	       "), %d coroutines, %d channels, %llu ops\n", seed, seed, NCORO,
	       NCHAN, (unsigned long long)ops_per_coro * NCORO);
	fflush(stdout);
	cubi_mem_init();
	cubi_select_seed(seed ^ 0x5eed5eed5eedULL);
	if (cub_sched_run(model_main, NULL, NULL))
		die("cub_sched_run", -1);
	for (c = 0; c < NCHAN; c++) {
		left += (unsigned long long)model[c].len;
		if (cub_chan_len(&chans[c]) != (size_t)model[c].len)
			die("final channel length", -1);
	}
	if (n_sent != n_recv + left)
		die("values sent != received + still buffered", -1);
	printf("model_chan: OK: %" PRIu64 " ops, %llu values sent, %llu received,"
	       " %llu buffered at the end, %llu closed-receives, %llu selects,"
	       " %llu parked ops, %llu closes, %llu re-opens\n", ops_done,
	       n_sent, n_recv, left, n_closed_recv, n_select, n_block, n_close,
	       n_reopen);
	return 0;
}
