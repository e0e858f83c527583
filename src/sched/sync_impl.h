/*
 * sync_impl.h - the waiter record every sync.h object queues (sync.c:
 * mutex, cond, wait group, once; rwlock.c; sem.c).
 *
 * A blocked coroutine waits in a record on its own stack, linked FIFO
 * into the object's waiters list; the waker unlinks it, fills in the
 * outcome and readies the coroutine (park.h protocol). Nothing is
 * allocated. Every function here expects interrupts disabled (the
 * objects' critical section).
 */
#ifndef CUBRT_SCHED_SYNC_IMPL_H
#define CUBRT_SCHED_SYNC_IMPL_H

#include <cubrt/list.h>

#include "sched_impl.h"

struct cubi_waiter {
	struct cub_list link;
	struct cub_coro *coro;
	bool timed_out;
};

/* Queues w for the running coroutine at the tail of q and parks until a
 * waker (or a timeout) unlinks it; `what` names the wait for ps and
 * deadlock reports. */
static inline void cubi_wait_here(struct cub_list *q, struct cubi_waiter *w,
				  const char *what)
{
	w->coro = cubi_sched.cur;
	w->timed_out = false;
	cub_list_push_back(q, &w->link);
	cubi_sched_park(what);
}

/* The first waiter of q, still queued, or NULL. */
static inline struct cubi_waiter *cubi_first_waiter(struct cub_list *q)
{
	struct cub_list *n = cub_list_first(q);

	return n ? cub_container_of(n, struct cubi_waiter, link) : NULL;
}

/* Wakes the first waiter of q; returns it or NULL. */
static inline struct cubi_waiter *cubi_wake_one(struct cub_list *q)
{
	struct cub_list *n = cub_list_pop_front(q);
	struct cubi_waiter *w;

	if (!n)
		return NULL;
	w = cub_container_of(n, struct cubi_waiter, link);
	cubi_sched_ready_irqoff(w->coro);
	return w;
}

static inline void cubi_wake_all(struct cub_list *q)
{
	while (cubi_wake_one(q))
		;
}

#endif
