/*
 * sync.c - mutex, condition variable, wait group and once.
 *
 * Every blocked coroutine waits in a `struct cubi_waiter` on its own
 * stack (sync_impl.h), linked FIFO into the object's waiters list; the
 * waker unlinks it, fills in the outcome and readies the coroutine
 * (park.h protocol). Nothing is allocated. rwlock.c and sem.c are built
 * the same way.
 *
 * Invariants:
 *  - mutex: owner == NULL => waiters is empty; unlock hands ownership to
 *    the first waiter before waking it (no barging, no starvation);
 *  - cond: a waiter is on the list until signalled or timed out, and its
 *    timer is stopped before cub_cond_timedwait returns;
 *  - wait group: count >= 0, and waiters is empty whenever count == 0;
 *  - once: state goes 0 -> 1 -> 2 only; waiters is empty unless state 1.
 * Critical sections: interrupts disabled, protecting every object's fields
 * and the waiter records linked into it.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "sync_impl.h"

/* --------------------------------------------------------------- mutex */

void cub_mutex_init(struct cub_mutex *m)
{
	m->owner = NULL;
	cub_list_init(&m->waiters);
}

void cub_mutex_lock(struct cub_mutex *m)
{
	struct cubi_waiter w;
	unsigned long irq;

	cubi_sched_assert_can_block("cub_mutex_lock");
	irq = cub_arch_irq_save();
	if (!m->owner) {
		m->owner = cubi_sched.cur;
	} else {
		if (m->owner == cubi_sched.cur)
			cub_panic("cub_mutex_lock: %s already holds the mutex",
				  cub_coro_name(m->owner));
		cubi_wait_here(&m->waiters, &w, "mutex lock");
		CUB_ASSERT(m->owner == cubi_sched.cur);
	}
	cub_arch_irq_restore(irq);
}

bool cub_mutex_trylock(struct cub_mutex *m)
{
	unsigned long irq;
	bool got = false;

	cubi_sched_assert_can_block("cub_mutex_trylock");
	irq = cub_arch_irq_save();
	if (!m->owner) {
		m->owner = cubi_sched.cur;
		got = true;
	}
	cub_arch_irq_restore(irq);
	return got;
}

/* Interrupts disabled; the caller owns m. */
static void unlock_locked(struct cub_mutex *m)
{
	struct cub_list *n = cub_list_first(&m->waiters);

	m->owner = n ? cub_container_of(n, struct cubi_waiter, link)->coro : NULL;
	if (n)
		cubi_wake_one(&m->waiters);
}

void cub_mutex_unlock(struct cub_mutex *m)
{
	unsigned long irq;

	if (cub_arch_in_irq())
		cub_panic("cub_mutex_unlock: called from interrupt context");
	irq = cub_arch_irq_save();
	if (m->owner != cubi_sched.cur || !m->owner)
		cub_panic("cub_mutex_unlock: mutex not held by %s",
			  cub_coro_name(cubi_sched.cur));
	unlock_locked(m);
	cub_arch_irq_restore(irq);
}

/* ---------------------------------------------------------------- cond */

struct cond_waiter {
	struct cubi_waiter w;
	struct cub_timer timer;
};

void cub_cond_init(struct cub_cond *c)
{
	cub_list_init(&c->waiters);
}

/* Timer callback of a timed wait: irq context, interrupts disabled. */
static void cond_timeout(struct cub_timer *t, void *arg)
{
	struct cond_waiter *cw = arg;

	(void)t;
	if (!cub_list_linked(&cw->w.link))
		return;		/* signalled first */
	cub_list_del(&cw->w.link);
	cw->w.timed_out = true;
	cubi_sched_ready(cw->w.coro);
}

static int cond_wait(struct cub_cond *c, struct cub_mutex *m, uint64_t deadline,
		     bool timed)
{
	struct cond_waiter cw;
	unsigned long irq;

	cubi_sched_assert_can_block("cub_cond_wait");
	irq = cub_arch_irq_save();
	if (m->owner != cubi_sched.cur)
		cub_panic("cub_cond_wait: mutex not held by %s",
			  cub_coro_name(cubi_sched.cur));
	if (timed && deadline <= cub_arch_clock_ns()) {
		cub_arch_irq_restore(irq);
		return -CUB_ETIMEDOUT;
	}
	if (timed) {
		cub_timer_init(&cw.timer, cond_timeout, &cw);
		cub_timer_start(&cw.timer, deadline);
	}
	unlock_locked(m);
	cubi_wait_here(&c->waiters, &cw.w, timed ? "cond timedwait" : "cond wait");
	if (timed)
		cub_timer_stop(&cw.timer);
	cub_arch_irq_restore(irq);
	cub_mutex_lock(m);
	return cw.w.timed_out ? -CUB_ETIMEDOUT : 0;
}

void cub_cond_wait(struct cub_cond *c, struct cub_mutex *m)
{
	(void)cond_wait(c, m, 0, false);
}

int cub_cond_timedwait(struct cub_cond *c, struct cub_mutex *m,
		       uint64_t deadline_ns)
{
	return cond_wait(c, m, deadline_ns, true);
}

void cub_cond_signal(struct cub_cond *c)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_wake_one(&c->waiters);
	cub_arch_irq_restore(irq);
}

void cub_cond_broadcast(struct cub_cond *c)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_wake_all(&c->waiters);
	cub_arch_irq_restore(irq);
}

/* ----------------------------------------------------------- wait group */

void cub_wg_init(struct cub_wg *w)
{
	w->count = 0;
	cub_list_init(&w->waiters);
}

void cub_wg_add(struct cub_wg *w, long delta)
{
	unsigned long irq = cub_arch_irq_save();

	if ((delta < 0 && w->count < -delta) ||
	    (delta > 0 && w->count > __LONG_MAX__ - delta))
		cub_panic("cub_wg_add: count %ld, delta %ld: out of range", w->count,
			  delta);
	w->count += delta;
	if (w->count == 0)
		cubi_wake_all(&w->waiters);
	cub_arch_irq_restore(irq);
}

void cub_wg_done(struct cub_wg *w)
{
	cub_wg_add(w, -1);
}

void cub_wg_wait(struct cub_wg *w)
{
	struct cubi_waiter me;
	unsigned long irq;

	cubi_sched_assert_can_block("cub_wg_wait");
	irq = cub_arch_irq_save();
	if (w->count > 0)
		cubi_wait_here(&w->waiters, &me, "waitgroup wait");
	cub_arch_irq_restore(irq);
}

/* ---------------------------------------------------------------- once */

void cub_once_init(struct cub_once *o)
{
	o->state = 0;
	o->runner = NULL;
	cub_list_init(&o->waiters);
}

void cub_once_do(struct cub_once *o, void (*fn)(void *arg), void *arg)
{
	struct cubi_waiter me;
	unsigned long irq;

	cubi_sched_assert_can_block("cub_once_do");
	irq = cub_arch_irq_save();
	if (o->state == 0) {
		o->state = 1;
		o->runner = cubi_sched.cur;
		cub_arch_irq_restore(irq);
		fn(arg);
		irq = cub_arch_irq_save();
		o->state = 2;
		o->runner = NULL;
		cubi_wake_all(&o->waiters);
	} else if (o->state == 1) {
		if (o->runner == cubi_sched.cur)
			cub_panic("cub_once_do: fn called cub_once_do on the "
				  "same once (recursion)");
		cubi_wait_here(&o->waiters, &me, "once");
	}
	cub_arch_irq_restore(irq);
}
