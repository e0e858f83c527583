/*
 * cubrt/sync.h - synchronisation between coroutines: mutex, condition
 * variable, wait group, once.
 *
 * All of them queue waiters FIFO in records on the waiting coroutine's
 * stack: blocking never allocates. Every object has an _init function and
 * a static initialiser. They are for coroutines (task context); only
 * cub_cond_signal/broadcast and cub_wg_add/done may also be called from an
 * interrupt handler.
 */
#ifndef CUBRT_SYNC_H
#define CUBRT_SYNC_H

#include <cubrt/base.h>
#include <cubrt/list.h>

struct cub_coro;

/* --------------------------------------------------------------- mutex */

/*
 * A sleeping mutex, not recursive. Unlock hands the mutex directly to the
 * longest waiter (FIFO, no barging), so no waiter starves.
 */
struct cub_mutex {
	struct cub_coro *owner;		/* NULL when unlocked */
	struct cub_list waiters;
};

#define CUB_MUTEX_INIT(m) { NULL, CUB_LIST_INIT((m).waiters) }

/* Contexts: any (m not in use). */
void cub_mutex_init(struct cub_mutex *m);
/* Blocks until the caller owns m; panics when it already does.
 * Contexts: task. */
void cub_mutex_lock(struct cub_mutex *m);
/* Takes m if free: returns true, else false at once. Contexts: task. */
bool cub_mutex_trylock(struct cub_mutex *m);
/* Releases m; panics unless the caller owns it. Contexts: task. */
void cub_mutex_unlock(struct cub_mutex *m);

/* ---------------------------------------------------- condition variable */

struct cub_cond {
	struct cub_list waiters;
};

#define CUB_COND_INIT(c) { CUB_LIST_INIT((c).waiters) }

/* Contexts: any (c not in use). */
void cub_cond_init(struct cub_cond *c);
/*
 * Atomically unlocks m (which the caller must own) and waits for a signal,
 * then relocks m before returning. There are no spurious wake-ups, but the
 * condition may have changed again before m was retaken: wait in a loop.
 * Contexts: task.
 */
void cub_cond_wait(struct cub_cond *c, struct cub_mutex *m);
/* Like cub_cond_wait, giving up at deadline_ns (cub_time_now() scale):
 * returns 0 when signalled, -CUB_ETIMEDOUT (m relocked in both cases). */
int cub_cond_timedwait(struct cub_cond *c, struct cub_mutex *m,
		       uint64_t deadline_ns);
/* Wakes the longest waiter / every waiter. Contexts: any. */
void cub_cond_signal(struct cub_cond *c);
void cub_cond_broadcast(struct cub_cond *c);

/* ------------------------------------------------------------ wait group */

/* Counts outstanding work; cub_wg_wait blocks until the count is zero. */
struct cub_wg {
	long count;
	struct cub_list waiters;
};

#define CUB_WG_INIT(w) { 0, CUB_LIST_INIT((w).waiters) }

/* Contexts: any (w not in use). */
void cub_wg_init(struct cub_wg *w);
/* Adds delta (may be negative); panics when the count would go below
 * zero. Reaching zero wakes every waiter. Contexts: any. */
void cub_wg_add(struct cub_wg *w, long delta);
/* cub_wg_add(w, -1). Contexts: any. */
void cub_wg_done(struct cub_wg *w);
/* Blocks until the count is zero. Contexts: task. */
void cub_wg_wait(struct cub_wg *w);

/* ------------------------------------------------------------------ once */

struct cub_once {
	int state;			/* 0 new, 1 running, 2 done */
	struct cub_coro *runner;	/* the coroutine running fn */
	struct cub_list waiters;
};

#define CUB_ONCE_INIT(o) { 0, NULL, CUB_LIST_INIT((o).waiters) }

/* Contexts: any (o not in use). */
void cub_once_init(struct cub_once *o);
/*
 * Calls fn(arg) if no call on o has started yet; other callers block until
 * that call has returned, so after cub_once_do returns fn's effects are
 * visible. fn must not call cub_once_do on the same o (that panics).
 * Contexts: task.
 */
void cub_once_do(struct cub_once *o, void (*fn)(void *arg), void *arg);

#endif
