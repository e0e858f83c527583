/*
 * sem.c - the counting semaphore of sync.h, with weighted requests.
 *
 * Invariants (interrupts disabled around every look):
 *  - the head of waiters, if any, wants more than count: whoever adds
 *    units or removes the head serves the queue in order (serve) until
 *    the head does not fit, so waiters are served FIFO and a request
 *    never overtakes an earlier one;
 *  - a woken waiter's units were taken for it before it was readied.
 * A timed wait's timer fires in irq context: it unlinks its waiter (if
 * still queued) and serves the queue, since the head may have changed.
 * Critical sections: interrupts disabled.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "sync_impl.h"

struct sem_waiter {
	struct cubi_waiter w;
	unsigned long n;
	struct cub_sem *sem;
	struct cub_timer timer;
};

void cub_sem_init(struct cub_sem *s, unsigned long count)
{
	s->count = count;
	cub_list_init(&s->waiters);
}

/* Gives units to the waiters at the head, in order, while they fit. */
static void serve(struct cub_sem *s)
{
	struct cubi_waiter *w;

	while ((w = cubi_first_waiter(&s->waiters))) {
		struct sem_waiter *sw = cub_container_of(w, struct sem_waiter, w);

		if (sw->n > s->count)
			return;
		s->count -= sw->n;
		cubi_wake_one(&s->waiters);
	}
}

/* A timed wait's deadline: irq context, interrupts disabled. */
static void sem_timeout(struct cub_timer *t, void *arg)
{
	struct sem_waiter *sw = arg;

	(void)t;
	if (!cub_list_linked(&sw->w.link))
		return;		/* served first */
	cub_list_del(&sw->w.link);
	sw->w.timed_out = true;
	cubi_sched_ready(sw->w.coro);
	serve(sw->sem);		/* it may have held up the ones behind */
}

static int acquire(struct cub_sem *s, unsigned long n, uint64_t deadline,
		   bool timed)
{
	struct sem_waiter me = { .n = n, .sem = s };
	unsigned long irq;

	cubi_sched_assert_can_block("cub_sem_acquire");
	if (n == 0)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	if (cub_list_empty(&s->waiters) && s->count >= n) {
		s->count -= n;
		cub_arch_irq_restore(irq);
		return 0;
	}
	if (timed && deadline <= cub_arch_clock_ns()) {
		cub_arch_irq_restore(irq);
		return -CUB_ETIMEDOUT;
	}
	if (timed) {
		cub_timer_init(&me.timer, sem_timeout, &me);
		cub_timer_start(&me.timer, deadline);
	}
	cubi_wait_here(&s->waiters, &me.w, timed ? "sem acquire timed" :
						   "sem acquire");
	if (timed)
		cub_timer_stop(&me.timer);
	cub_arch_irq_restore(irq);
	return me.w.timed_out ? -CUB_ETIMEDOUT : 0;
}

int cub_sem_acquire(struct cub_sem *s, unsigned long n)
{
	return acquire(s, n, 0, false);
}

int cub_sem_acquire_until(struct cub_sem *s, unsigned long n,
			  uint64_t deadline_ns)
{
	return acquire(s, n, deadline_ns, true);
}

bool cub_sem_tryacquire(struct cub_sem *s, unsigned long n)
{
	unsigned long irq = cub_arch_irq_save();
	bool got = n && cub_list_empty(&s->waiters) && s->count >= n;

	if (got)
		s->count -= n;
	cub_arch_irq_restore(irq);
	return got;
}

void cub_sem_release(struct cub_sem *s, unsigned long n)
{
	unsigned long irq = cub_arch_irq_save();

	if (n > ~0ul - s->count)
		cub_panic("cub_sem_release: count %lu + %lu overflows", s->count,
			  n);
	s->count += n;
	serve(s);
	cub_arch_irq_restore(irq);
}

unsigned long cub_sem_value(const struct cub_sem *s)
{
	return s->count;
}
