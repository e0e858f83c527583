/*
 * timerchan.c - tickers: channels fed by a cub_timer from irq context
 * (Go's time.After, time.NewTimer and time.Ticker).
 *
 * Invariants (under the irq-off critical section):
 *  - period != 0 exactly while the timer is pending or its callback is
 *    about to re-arm it; cub_ticker_stop() sets period to 0 and cancels the
 *    timer, so no tick is sent after it returns;
 *  - the channel has capacity 1 and holds at most one undelivered tick;
 *    a tick that finds it full is dropped (never blocks in irq context);
 *  - next advances by whole periods from the start time, skipping the
 *    periods that passed while a tick was late, so the phase is kept.
 */
#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>

#include "chan_impl.h"

/* Timer callback: irq context, interrupts disabled. */
static void tick(struct cub_timer *tm, void *arg)
{
	struct cub_ticker *t = arg;
	uint64_t now = cub_time_now();
	uint64_t late;

	(void)tm;
	if (!t->period)
		return;
	(void)cub_chan_send_isr(&t->chan, &now);	/* full: dropped */
	if (t->period == UINT64_MAX) {			/* CUB_TICKER_ONCE */
		t->period = 0;
		return;
	}
	if (t->period > UINT64_MAX - t->next) {		/* beyond time's end */
		t->period = 0;
		return;
	}
	t->next += t->period;
	if (t->next <= now) {
		late = now - t->next;
		t->next += (late / t->period + 1) * t->period;
	}
	cub_timer_start(&t->timer, t->next);
}

/* Contexts: any (t idle: never started, or stopped). */
int cub_ticker_init(struct cub_ticker *t, uint64_t period_ns, unsigned flags)
{
	int err;

	if (!t || !period_ns || (flags & ~CUB_TICKER_ONCE))
		return -CUB_EINVAL;
	if (flags & CUB_TICKER_ONCE && period_ns == UINT64_MAX)
		period_ns--;
	err = cub_chan_init(&t->chan, sizeof(uint64_t), 1, &t->slot);
	CUB_ASSERT(err == 0);
	t->allocated = false;
	t->next = cub_time_now();
	t->next = period_ns > UINT64_MAX - t->next ? UINT64_MAX :
		  t->next + period_ns;
	/* A one-shot ticker keeps the sentinel period UINT64_MAX until it
	 * fires; tick() tells it apart from a real period that way. */
	t->period = flags & CUB_TICKER_ONCE ? UINT64_MAX : period_ns;
	cub_timer_init(&t->timer, tick, t);
	cub_timer_start(&t->timer, t->next);
	return 0;
}

/* Contexts: task (the heap). */
int cub_ticker_new(struct cub_ticker **out, uint64_t period_ns,
		   unsigned flags)
{
	struct cub_ticker *t;
	int err;

	if (!out || !period_ns || (flags & ~CUB_TICKER_ONCE))
		return -CUB_EINVAL;
	t = cub_malloc(sizeof(*t));
	if (!t)
		return -CUB_ENOMEM;
	err = cub_ticker_init(t, period_ns, flags);
	CUB_ASSERT(err == 0);
	t->allocated = true;
	*out = t;
	return 0;
}

/* Contexts: any. */
struct cub_chan *cub_ticker_chan(struct cub_ticker *t)
{
	return t ? &t->chan : NULL;
}

/* Contexts: any. */
bool cub_ticker_stop(struct cub_ticker *t)
{
	unsigned long s;
	bool was;

	if (!t)
		return false;
	s = cub_arch_irq_save();
	was = t->period != 0;
	t->period = 0;
	cub_timer_stop(&t->timer);
	cub_arch_irq_restore(s);
	return was;
}

/* Contexts: task. */
int cub_ticker_free(struct cub_ticker *t)
{
	unsigned long s;
	bool busy;

	if (!t)
		return 0;
	if (!t->allocated)
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	busy = !cub_list_empty(&t->chan.recvq);
	if (!busy) {
		t->period = 0;
		cub_timer_stop(&t->timer);
	}
	cub_arch_irq_restore(s);
	if (busy)
		return -CUB_EBUSY;
	t->allocated = false;
	cub_free(t);
	return 0;
}
