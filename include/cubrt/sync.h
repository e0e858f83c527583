/*
 * cubrt/sync.h - synchronisation between coroutines: mutex, condition
 * variable, wait group, once, reader-writer lock, counting semaphore.
 *
 * All of them queue waiters FIFO in records on the waiting coroutine's
 * stack: blocking never allocates. Every object has an _init function and
 * a static initialiser. They are for coroutines (task context); only
 * cub_cond_signal/broadcast and cub_wg_add/done may also be called from an
 * interrupt handler, and cub_sem_release and cub_sem_tryacquire.
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

/* ------------------------------------------------- reader-writer lock */

/*
 * Go's sync.RWMutex: any number of readers, or one writer. Waiters queue
 * FIFO and a writer waiting keeps new readers out (they queue behind
 * it), so writers do not starve; a writer's unlock lets in the readers
 * at the head of the queue together, up to the next writer. As in Go,
 * a read lock must not be taken recursively: with a writer waiting in
 * between, that deadlocks (the scheduler's deadlock report names it).
 * Not recursive for writers either (a panic).
 */
struct cub_rwlock {
	struct cub_coro *writer;	/* the write lock's holder, or NULL */
	unsigned long readers;		/* read locks held */
	struct cub_list waiters;	/* readers and writers, FIFO */
};

#define CUB_RWLOCK_INIT(l) { NULL, 0, CUB_LIST_INIT((l).waiters) }

/* Contexts: any (l not in use). */
void cub_rwlock_init(struct cub_rwlock *l);
/* Blocks until the caller holds a read lock. Contexts: task. */
void cub_rwlock_rdlock(struct cub_rwlock *l);
/* Takes a read lock if that needs no wait (no writer holds or waits):
 * true, else false at once. Contexts: task. */
bool cub_rwlock_tryrdlock(struct cub_rwlock *l);
/* Releases a read lock; panics when none is held. Contexts: task. */
void cub_rwlock_rdunlock(struct cub_rwlock *l);
/* Blocks until the caller holds the write lock; panics when it already
 * does. Contexts: task. */
void cub_rwlock_wrlock(struct cub_rwlock *l);
/* Takes the write lock if free: true, else false at once. Contexts: task. */
bool cub_rwlock_trywrlock(struct cub_rwlock *l);
/* Releases the write lock; panics unless the caller holds it.
 * Contexts: task. */
void cub_rwlock_wrunlock(struct cub_rwlock *l);

/* ---------------------------------------------------- counting semaphore */

/*
 * A counting semaphore with weighted requests (Go's
 * golang.org/x/sync/semaphore): acquire takes n units, waiting FIFO; a
 * waiter at the head that wants more than is free keeps later, smaller
 * requests waiting too, so a large one does not starve. Release may come
 * from an interrupt handler (a driver's completion, for example).
 */
struct cub_sem {
	unsigned long count;		/* units free */
	struct cub_list waiters;	/* FIFO */
};

#define CUB_SEM_INIT(s, n) { (n), CUB_LIST_INIT((s).waiters) }

/* Contexts: any (s not in use). */
void cub_sem_init(struct cub_sem *s, unsigned long count);
/* Takes n units, waiting until they are free and every earlier waiter
 * is served. 0, or -CUB_EINVAL for n == 0. Contexts: task. */
int cub_sem_acquire(struct cub_sem *s, unsigned long n);
/* Like cub_sem_acquire, giving up at deadline_ns (cub_time_now() scale):
 * 0, -CUB_ETIMEDOUT (nothing taken) or -CUB_EINVAL. Contexts: task. */
int cub_sem_acquire_until(struct cub_sem *s, unsigned long n,
			  uint64_t deadline_ns);
/* Takes n units if free and nobody waits: true, else false (n == 0:
 * false). Contexts: any. */
bool cub_sem_tryacquire(struct cub_sem *s, unsigned long n);
/* Gives back n units and serves the waiters they satisfy, in order;
 * panics when the count would overflow. Contexts: any. */
void cub_sem_release(struct cub_sem *s, unsigned long n);
/* Units free now (a snapshot). Contexts: any. */
unsigned long cub_sem_value(const struct cub_sem *s);

#endif
