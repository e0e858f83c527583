/*
 * select.c - Go's select over send and receive cases, with default and
 * deadline (see include/cubrt/chan.h).
 *
 * Invariants (under the irq-off critical section, like chan.c):
 *  - a blocked select has exactly one waiter record per enabled case queued
 *    on that case's channel (the records are in the caller's case array),
 *    all pointing at one struct cubi_select in the selecting coroutine's
 *    park area; disabled cases' records are self-linked;
 *  - sel.fired goes from -1 to a case index or CUBI_SELECT_TIMEOUT exactly
 *    once, and in the same critical section every record of that select is
 *    withdrawn (cubi_select_unlink), so no channel queue ever holds a record
 *    of a select that already fired;
 *  - the deadline timer, when armed, is stopped (or has run) before the
 *    select returns, so it never touches the park area of a later wait.
 *
 * Fairness: among the ready cases one is chosen uniformly at random (count
 * them, draw an index); the generator state is protected by the critical
 * section too.
 */
#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "../sched/park.h"
#include "chan_impl.h"

static uint64_t rng_state = 0x853c49e6748fea9bULL;

/* Contexts: any. */
void cubi_select_seed(uint64_t seed)
{
	unsigned long s = cub_arch_irq_save();

	rng_state = seed ? seed : 0x853c49e6748fea9bULL;
	cub_arch_irq_restore(s);
}

/* xorshift64*: a uniform index in [0, k), k <= 2^32. Interrupts off. */
static size_t rng_below(size_t k)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (size_t)(((x * 0x2545f4914f6cdd1dULL) >> 32) * (uint64_t)k >> 32);
}

static inline bool case_enabled(const struct cub_select_case *k)
{
	return k->chan && k->dir != CUB_SELECT_NONE;
}

static inline bool case_ready(const struct cub_select_case *k)
{
	if (k->dir == CUB_SELECT_RECV)
		return cubi_chan_can_recv(k->chan);
	return cubi_chan_can_send(k->chan);
}

static inline bool case_valid(const struct cub_select_case *k)
{
	if (k->dir > CUB_SELECT_SEND)
		return false;
	return !(k->chan && k->dir == CUB_SELECT_SEND && !k->elem &&
		 k->chan->elem_size);
}

#define NONE_READY (-1)

/*
 * Checks the case array and counts its ready cases in one pass; returns
 * a uniformly chosen ready index, NONE_READY, or -CUB_EINVAL for a
 * malformed array (then nothing was done). Interrupts off.
 */
static int pick_ready(const struct cub_select_case *cases, size_t n)
{
	size_t i, ready = 0, first = 0, r;

	if ((!cases && n) || n > INT32_MAX)
		return -CUB_EINVAL;
	for (i = 0; i < n; i++) {
		const struct cub_select_case *k = &cases[i];

		if (CUB_UNLIKELY(!case_valid(k)))
			return -CUB_EINVAL;
		if (case_enabled(k) && case_ready(k) && !ready++)
			first = i;
	}
	if (!ready)
		return NONE_READY;
	if (ready == 1)
		return (int)first;
	r = rng_below(ready);
	for (i = first;; i++) {
		if (case_enabled(&cases[i]) && case_ready(&cases[i]) && !r--)
			return (int)i;
	}
}

/* Performs ready case i and returns i. Interrupts off. */
static int perform(struct cub_select_case *cases, int i)
{
	struct cub_select_case *k = &cases[i];
	int r;

	if (k->dir == CUB_SELECT_SEND) {
		r = cubi_chan_send_locked(k->chan, k->elem);
		k->ok = r == 0;
	} else {
		r = cubi_chan_recv_locked(k->chan, k->elem);
		k->ok = r == 1;
	}
	CUB_ASSERT(r != -CUB_EAGAIN);
	return i;
}

/* Interrupts disabled; any context. */
void cubi_select_fire(struct cubi_chan_waiter *w, bool ok)
{
	struct cubi_select *sel = w->sel;

	w->ok = ok;
	w->done = true;
	CUB_ASSERT(sel->fired == -1);
	sel->fired = (int)(cub_container_of(w, struct cub_select_case, w) -
			   sel->cases);
	cubi_select_unlink(sel);
	cubi_sched_ready_irqoff(w->coro);
}

/* Interrupts disabled; any context. */
void cubi_select_unlink(struct cubi_select *sel)
{
	size_t i;

	for (i = 0; i < sel->n; i++)
		cub_list_del(&sel->cases[i].w.link);
}

/* Timer callback (irq context, interrupts off): the deadline passed. */
static void select_expired(struct cub_timer *t, void *arg)
{
	struct cubi_select *sel = arg;

	(void)t;
	if (sel->fired != -1)
		return;
	sel->fired = CUBI_SELECT_TIMEOUT;
	cubi_select_unlink(sel);
	cubi_sched_ready_irqoff(sel->coro);
}

/*
 * A blocked select parks by tail call (park.h): its shared state and
 * deadline timer live in the coroutine's park area, its per-case records
 * in the caller's case array.
 */
struct select_park {
	struct cubi_select sel;
	struct cub_timer timer;
	bool timed;
};

_Static_assert(sizeof(struct select_park) <= CUBI_PARK_AREA,
	       "park area too small for a select");

/* Runs on the woken selector, interrupts off: the fired index or
 * -CUB_ETIMEDOUT. */
static int select_resumed(struct cub_coro *self)
{
	struct select_park *p = cubi_sched_park_area(self);
	int fired = p->sel.fired;

	if (p->timed && fired != CUBI_SELECT_TIMEOUT)
		cub_timer_stop(&p->timer);
	if (fired == CUBI_SELECT_TIMEOUT)
		return -CUB_ETIMEDOUT;
	if (CUB_UNLIKELY(fired < 0))
		cub_panic("cub_select: woken without completion");
	/* The waker filled in elem (zeros on close); the channel may be
	 * gone already. */
	p->sel.cases[fired].ok = p->sel.cases[fired].w.ok;
	return fired;
}

/* Queues one record per enabled case and parks; returns what
 * select_resumed does, with interrupts restored to s. Interrupts off,
 * task context. */
static __attribute__((noinline)) int
park_select(struct cub_select_case *cases, size_t n, bool timed,
	    uint64_t deadline_ns, unsigned long s)
{
	struct select_park *p;
	struct cub_select_case *k;
	size_t i;

	cubi_sched_assert_can_block("select");
	p = cubi_sched_park_area(cub_coro_self());
	p->sel = (struct cubi_select){ cases, n, cub_coro_self(), -1 };
	p->timed = timed;
	for (i = 0; i < n; i++) {
		k = &cases[i];
		k->w.coro = p->sel.coro;
		k->w.elem = k->elem;
		k->w.sel = &p->sel;
		k->w.ok = false;
		k->w.done = false;
		cub_list_init(&k->w.link);
		if (!case_enabled(k))
			continue;
		cub_list_push_back(k->dir == CUB_SELECT_RECV ? &k->chan->recvq :
				   &k->chan->sendq, &k->w.link);
	}
	if (timed) {
		cub_timer_init(&p->timer, select_expired, &p->sel);
		cub_timer_start(&p->timer, deadline_ns);
	}
	return cubi_sched_park_tail("select", s, select_resumed);
}

/* The common body; deadline 0 with timed = false means "no deadline". */
static int do_select(struct cub_select_case *cases, size_t n, bool block,
		     bool timed, uint64_t deadline_ns)
{
	unsigned long s;
	int r;

	s = cub_arch_irq_save();
	r = pick_ready(cases, n);
	if (r >= 0)
		r = perform(cases, r);
	else if (r == -CUB_EINVAL)
		;
	else if (!block)
		r = -CUB_EAGAIN;
	else if (timed && deadline_ns <= cub_time_now())
		r = -CUB_ETIMEDOUT;
	else
		return park_select(cases, n, timed, deadline_ns, s);
	cub_arch_irq_restore(s);
	return r;
}

/* Contexts: task (irq: only when a case is ready). */
int cub_select(struct cub_select_case *cases, size_t n)
{
	return do_select(cases, n, true, false, 0);
}

/* Contexts: any. */
int cub_select_try(struct cub_select_case *cases, size_t n)
{
	return do_select(cases, n, false, false, 0);
}

/* Contexts: task. */
int cub_select_deadline(struct cub_select_case *cases, size_t n,
			uint64_t deadline_ns)
{
	return do_select(cases, n, true, true, deadline_ns);
}

/* Contexts: task. */
int cub_select_timeout(struct cub_select_case *cases, size_t n,
		       uint64_t timeout_ns)
{
	uint64_t now = cub_time_now();
	uint64_t dl = timeout_ns > UINT64_MAX - now ? UINT64_MAX :
		      now + timeout_ns;

	return do_select(cases, n, true, true, dl);
}

/* A one-case select. Contexts: task. */
int cub_chan_send_deadline(struct cub_chan *c, const void *elem,
			   uint64_t deadline_ns)
{
	struct cub_select_case k = { .chan = c, .dir = CUB_SELECT_SEND,
				     .elem = (void *)elem };
	int r;

	if (!c)
		return -CUB_EINVAL;
	r = cub_select_deadline(&k, 1, deadline_ns);
	if (r < 0)
		return r;
	return k.ok ? 0 : -CUB_EPIPE;
}

/* A one-case select. Contexts: task. */
int cub_chan_recv_deadline(struct cub_chan *c, void *elem,
			   uint64_t deadline_ns)
{
	struct cub_select_case k = { .chan = c, .dir = CUB_SELECT_RECV,
				     .elem = elem };
	int r;

	if (!c)
		return -CUB_EINVAL;
	r = cub_select_deadline(&k, 1, deadline_ns);
	if (r < 0)
		return r;
	return k.ok ? 1 : 0;
}
