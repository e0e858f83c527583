/*
 * rwlock.c - the reader-writer lock of sync.h.
 *
 * Invariants (interrupts disabled around every look):
 *  - writer != NULL => readers == 0;
 *  - waiters non-empty => the lock is held (writer or readers): whoever
 *    frees it hands it to the head of the queue at once (grant), so a
 *    free lock never has waiters and no arrival can barge past them;
 *  - a queued reader waits only because a writer holds the lock or waits
 *    ahead of it.
 * A waiter's record (struct rw_waiter, on its stack) says which it wants;
 * grant sets writer or counts the reader before readying it, so a woken
 * coroutine already holds what it asked for.
 * Critical sections: interrupts disabled.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sync.h>

#include "sync_impl.h"

struct rw_waiter {
	struct cubi_waiter w;
	bool write;
};

void cub_rwlock_init(struct cub_rwlock *l)
{
	l->writer = NULL;
	l->readers = 0;
	cub_list_init(&l->waiters);
}

/* The lock just became free (no writer, no reader): hands it to the
 * head of the queue, a writer alone or every reader up to the next
 * writer. */
static void grant(struct cub_rwlock *l)
{
	struct cubi_waiter *w;

	while ((w = cubi_first_waiter(&l->waiters))) {
		bool write = cub_container_of(w, struct rw_waiter, w)->write;

		if (write && l->readers)
			return;		/* readers went in ahead of it */
		if (write)
			l->writer = w->coro;
		else
			l->readers++;
		cubi_wake_one(&l->waiters);
		if (write)
			return;
	}
}

static bool rd_free(const struct cub_rwlock *l)
{
	return !l->writer && cub_list_empty(&l->waiters);
}

void cub_rwlock_rdlock(struct cub_rwlock *l)
{
	struct rw_waiter me = { .write = false };
	unsigned long irq;

	cubi_sched_assert_can_block("cub_rwlock_rdlock");
	irq = cub_arch_irq_save();
	if (l->writer == cubi_sched.cur)
		cub_panic("cub_rwlock_rdlock: %s holds the write lock",
			  cub_coro_name(l->writer));
	if (rd_free(l))
		l->readers++;
	else
		cubi_wait_here(&l->waiters, &me.w, "rwlock read");
	cub_arch_irq_restore(irq);
}

bool cub_rwlock_tryrdlock(struct cub_rwlock *l)
{
	unsigned long irq;
	bool got;

	cubi_sched_assert_can_block("cub_rwlock_tryrdlock");
	irq = cub_arch_irq_save();
	got = rd_free(l);
	if (got)
		l->readers++;
	cub_arch_irq_restore(irq);
	return got;
}

void cub_rwlock_rdunlock(struct cub_rwlock *l)
{
	unsigned long irq;

	if (cub_arch_in_irq())
		cub_panic("cub_rwlock_rdunlock: called from interrupt context");
	irq = cub_arch_irq_save();
	if (l->readers == 0)
		cub_panic("cub_rwlock_rdunlock: not read-locked (%s)",
			  l->writer ? "write-locked" : "free");
	if (--l->readers == 0)
		grant(l);
	cub_arch_irq_restore(irq);
}

void cub_rwlock_wrlock(struct cub_rwlock *l)
{
	struct rw_waiter me = { .write = true };
	unsigned long irq;

	cubi_sched_assert_can_block("cub_rwlock_wrlock");
	irq = cub_arch_irq_save();
	if (l->writer == cubi_sched.cur)
		cub_panic("cub_rwlock_wrlock: %s already holds the write lock",
			  cub_coro_name(l->writer));
	if (!l->writer && !l->readers)
		l->writer = cubi_sched.cur;	/* free: no waiters either */
	else
		cubi_wait_here(&l->waiters, &me.w, "rwlock write");
	CUB_ASSERT(l->writer == cubi_sched.cur);
	cub_arch_irq_restore(irq);
}

bool cub_rwlock_trywrlock(struct cub_rwlock *l)
{
	unsigned long irq;
	bool got;

	cubi_sched_assert_can_block("cub_rwlock_trywrlock");
	irq = cub_arch_irq_save();
	got = !l->writer && !l->readers;
	if (got)
		l->writer = cubi_sched.cur;
	cub_arch_irq_restore(irq);
	return got;
}

void cub_rwlock_wrunlock(struct cub_rwlock *l)
{
	unsigned long irq;

	if (cub_arch_in_irq())
		cub_panic("cub_rwlock_wrunlock: called from interrupt context");
	irq = cub_arch_irq_save();
	if (!l->writer || l->writer != cubi_sched.cur)
		cub_panic("cub_rwlock_wrunlock: write lock not held by %s",
			  cub_coro_name(cubi_sched.cur));
	l->writer = NULL;
	grant(l);
	cub_arch_irq_restore(irq);
}
