/*
 * futex_pi.c - Linux's priority-inheritance futexes: FUTEX_LOCK_PI,
 * FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI and FUTEX_UNLOCK_PI, which musl's and
 * glibc's PTHREAD_PRIO_INHERIT mutexes are made of, and the pair glibc's
 * condition variables with such a mutex use: FUTEX_WAIT_REQUEUE_PI (wait
 * on a plain futex, the condvar, to be moved onto the PI one) and
 * FUTEX_CMP_REQUEUE_PI (give the PI futex to the first such waiter if it
 * is free, move the others behind it).
 *
 * The futex word is the lock: 0 when free, else the owner's TID (bits
 * 0-29), with FUTEX_WAITERS (bit 31) set by the shim once a thread waits
 * for it, so that the owner's user-space unlock (a compare-and-swap of
 * its TID to 0) fails and it calls FUTEX_UNLOCK_PI, and FUTEX_OWNER_DIED
 * (bit 30) set by robust-list processing (musl's pthread_exit) when an
 * owner died holding it; a lock of a word with no TID keeps that bit.
 *
 * State: what Linux keeps in a pi_state exists here only while a futex
 * has waiters: each waiter is a struct pi_waiter on its own stack, linked
 * FIFO into `waiters` (every PI futex's: few are contended at once, so a
 * scan is cheap), holding the futex's key and address, its own TID and the
 * owner's TID as recorded when the first waiter came (all waiters of one
 * key agree; a hand-off rewrites them all). Linux's consistency checks
 * compare that owner with the word. A waiter sleeps on a word of its own
 * (`granted`) with futex.c's wait, so its timeout, a step of the wall
 * clock and a signal act as on every other wait; the unlocker (or the
 * exiting owner) unlinks it, writes the futex word for it, sets granted
 * and wakes it: the lock passes directly, first come first served. A
 * WAIT_REQUEUE_PI waiter is the same record on `cond_waiters` (on_cond),
 * keyed by the condvar, naming the PI futex it expects (key2, uaddr2);
 * CMP_REQUEUE_PI grants it the PI futex or moves it onto `waiters`.
 *
 * Priority inheritance itself: cubrt's threads are coroutines of equal
 * priority on one CPU, so an owner has no priority to inherit; only the
 * protocol (the word, the hand-off, the errors, the timeouts) is Linux's.
 *
 * Locking: `waiters`, every pi_waiter and the futex words are changed
 * only inside the shim's critical section (irq_save), which also makes a
 * word's read-modify-write atomic against the program's other threads
 * (one CPU: none runs while interrupts are off). cubi_user_writable,
 * before it, brings the word's page in, so no fault is taken inside.
 */
#include <cubrt/arch.h>
#include <cubrt/sched.h>

#include "../sched/park.h"
#include "shim_impl.h"

#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_LOCK_PI2 13
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu

struct pi_waiter {
	struct cub_list link;		/* in waiters or cond_waiters, FIFO */
	uintptr_t key, uaddr;
	int tid;			/* the waiting thread */
	int owner;			/* the futex's owner, as recorded */
	volatile uint32_t granted;	/* 1: the lock is ours; waited on */
	bool on_cond;			/* in cond_waiters: key is the condvar's */
	uintptr_t key2, uaddr2;		/* on_cond: the PI futex it expects */
};

static struct cub_list waiters = CUB_LIST_INIT(waiters);
static struct cub_list cond_waiters = CUB_LIST_INIT(cond_waiters);
static unsigned nwaiters;		/* linked in either list */

bool cubi_futex_pi_op(unsigned op)
{
	return op == FUTEX_LOCK_PI || op == FUTEX_UNLOCK_PI || op == FUTEX_TRYLOCK_PI ||
	       op == FUTEX_LOCK_PI2 || op == FUTEX_WAIT_REQUEUE_PI || op == FUTEX_CMP_REQUEUE_PI;
}

/* The first WAIT_REQUEUE_PI waiter on the condvar key, or NULL (irq off). */
static struct pi_waiter *first_cond(uintptr_t key)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &cond_waiters) {
		struct pi_waiter *w = cub_container_of(pos, struct pi_waiter, link);

		if (w->key == key)
			return w;
	}
	return NULL;
}

/* The first waiter whose key (key_match) or recorded owner is the given
 * one, or NULL (irq off). The first for an owner is its key's first: all
 * of a key's waiters record the same owner. */
static struct pi_waiter *first(uintptr_t key, int owner, bool key_match)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &waiters) {
		struct pi_waiter *w = cub_container_of(pos, struct pi_waiter, link);

		if (key_match ? w->key == key : w->owner == owner)
			return w;
	}
	return NULL;
}

bool cubi_futex_pi_waited(uintptr_t key)
{
	unsigned long irq;
	bool found;

	if (!nwaiters)		/* the common case: no PI futex is contended */
		return false;
	irq = cub_arch_irq_save();
	found = first(key, 0, true) || first_cond(key);
	cub_arch_irq_restore(irq);
	return found;
}

/*
 * Gives w's futex to w, its first waiter (irq off): the word names it,
 * with FUTEX_WAITERS, as Linux hands a PI futex on whether or not others
 * wait (the new owner's unlock comes here and stores 0 if nobody does);
 * FUTEX_OWNER_DIED is dropped (the new owner is alive) unless died (the
 * owner exited: the mark its robust list left stays for the new owner to
 * see, as Linux's new owner keeps it). The other waiters record the new
 * owner.
 */
static void hand_to(struct pi_waiter *w, bool died)
{
	volatile uint32_t *word = (volatile uint32_t *)w->uaddr;
	struct cub_list *pos;

	if (!died)
		*word = FUTEX_WAITERS | (uint32_t)w->tid;
	else if (cubi_user_writable(w->uaddr, 4))	/* unmapped since: no word */
		*word = (*word & FUTEX_OWNER_DIED) | FUTEX_WAITERS | (uint32_t)w->tid;
	cub_list_del(&w->link);
	nwaiters--;
	cub_list_for_each(pos, &waiters) {
		struct pi_waiter *o = cub_container_of(pos, struct pi_waiter, link);

		if (o->key == w->key)
			o->owner = w->tid;
	}
	w->granted = 1;
	cubi_futex_wake_locked((uintptr_t)&w->granted, 1, ~0u);
}

/*
 * A lock attempt by or for thread tid (irq off), as Linux's
 * futex_lock_pi_atomic: 1 taken (the word gets the extra bits too), 0 to
 * wait (*owner: the owner to wait for), or -CUB_EDEADLK
 * (ours already), -CUB_EINVAL (a FUTEX_WAIT waiter on it, or a word
 * that disagrees with the recorded owner), -CUB_ESRCH (the word names no
 * live thread; FUTEX_WAITERS stays set, as on Linux).
 */
static int try_acquire(uintptr_t uaddr, uintptr_t key, int tid, uint32_t extra, int *owner)
{
	volatile uint32_t *word = (volatile uint32_t *)uaddr;
	uint32_t uval = *word, pid = uval & FUTEX_TID_MASK;
	struct pi_waiter *top;

	if (pid == (uint32_t)tid)
		return -CUB_EDEADLK;
	if (cubi_futex_waited_locked(key) || first_cond(key))
		return -CUB_EINVAL;
	top = first(key, 0, true);
	if (top) {
		*owner = top->owner;
		if ((uval & FUTEX_OWNER_DIED) && !pid)
			return 0;	/* its robust list ran; it is exiting */
		return pid == (uint32_t)top->owner ? 0 : -CUB_EINVAL;
	}
	if (!pid) {		/* free (perhaps stale bits): take it */
		*word = (uval & FUTEX_OWNER_DIED) | (uint32_t)tid | extra;
		return 1;
	}
	*word = uval | FUTEX_WAITERS;
	if (!cubi_thread_by_tid(pid))
		return -CUB_ESRCH;
	*owner = (int)pid;
	return 0;
}

/*
 * Waits linked on list until granted, deadline (0: none; wall: absolute
 * REALTIME) or a signal (irq off): 0 if granted, whatever else happened
 * meanwhile (the lock is ours), else -CUB_ETIMEDOUT or -CUB_EINTR, w
 * unlinked from whichever list it is on by then.
 */
static long sleep_on(struct pi_waiter *w, struct cub_list *list, uint64_t deadline, bool wall)
{
	long rc;

	cub_list_push_back(list, &w->link);
	nwaiters++;
	rc = cubi_futex_wait_wall_locked((uintptr_t)&w->granted, 0, deadline, wall, "futex_pi");
	if (w->granted)
		return 0;
	cub_list_del(&w->link);
	nwaiters--;
	return rc;
}

/*
 * LOCK_PI, LOCK_PI2 (until deadline, 0: none; wall: an absolute REALTIME
 * one) and TRYLOCK_PI (trylock: -CUB_EAGAIN, Linux's EWOULDBLOCK, rather
 * than wait). A lock granted while a timeout or a signal was ending the
 * wait is taken: 0. A signal answers -CUBI_ERESTARTNOINTR: the call
 * starts again after the handler, as Linux restarts it.
 */
static long lock_pi(uintptr_t uaddr, uintptr_t key, uint64_t deadline, bool wall, bool trylock)
{
	struct pi_waiter w = { .key = key, .uaddr = uaddr, .tid = cubi_thread_self()->tid };
	unsigned long irq;
	long rc;

	if (!trylock)
		cubi_sched_assert_can_block("futex_pi");
	irq = cub_arch_irq_save();
	rc = try_acquire(uaddr, key, w.tid, 0, &w.owner);
	if (rc == 0 && trylock)
		rc = -CUB_EAGAIN;
	if (rc != 0) {
		cub_arch_irq_restore(irq);
		return rc > 0 ? 0 : rc;
	}
	rc = sleep_on(&w, &waiters, deadline, wall);	/* the word keeps FUTEX_WAITERS */
	cub_arch_irq_restore(irq);
	return rc == -CUB_EINTR ? -CUBI_ERESTARTNOINTR : rc;
}

/* UNLOCK_PI, as Linux's futex_unlock_pi: to the first waiter, or free. */
static long unlock_pi(uintptr_t uaddr, uintptr_t key)
{
	volatile uint32_t *word = (volatile uint32_t *)uaddr;
	int tid = cubi_thread_self()->tid;
	unsigned long irq = cub_arch_irq_save();
	struct pi_waiter *top = first(key, 0, true);
	long rc = 0;

	if ((*word & FUTEX_TID_MASK) != (uint32_t)tid)
		rc = -CUB_EPERM;
	else if (cubi_futex_waited_locked(key) || first_cond(key) || (top && top->owner != tid))
		rc = -CUB_EINVAL;	/* not a PI futex, or not as recorded */
	else if (top)
		hand_to(top, false);
	else
		*word = 0;
	cub_arch_irq_restore(irq);
	return rc;
}

/*
 * WAIT_REQUEUE_PI: waits on the condvar at uaddr while it holds val, for
 * CMP_REQUEUE_PI to give it the PI futex at uaddr2: 0 (it owns that
 * futex), -CUB_EAGAIN (val differs), -CUB_ETIMEDOUT; a signal before it
 * was moved restarts the call after the handler (-CUBI_ERESTARTNOINTR),
 * after it -CUB_EAGAIN (EWOULDBLOCK), as Linux answers.
 */
static long wait_requeue_pi(struct pi_waiter *w, uint32_t val, uint64_t deadline, bool wall)
{
	unsigned long irq;
	long rc;

	cubi_sched_assert_can_block("futex_pi");
	irq = cub_arch_irq_save();
	if (*(volatile uint32_t *)w->uaddr != val) {
		cub_arch_irq_restore(irq);
		return -CUB_EAGAIN;
	}
	rc = sleep_on(w, &cond_waiters, deadline, wall);
	cub_arch_irq_restore(irq);
	if (rc == -CUB_EINTR)
		return w->on_cond ? -CUBI_ERESTARTNOINTR : -CUB_EAGAIN;
	return rc;
}

/* Moves w from its condvar onto the PI futex it expects (irq off). */
static void requeue_one(struct pi_waiter *w, int owner)
{
	cub_list_del(&w->link);
	w->on_cond = false;
	w->key = w->key2;
	w->uaddr = w->uaddr2;
	w->owner = owner;
	cub_list_push_back(&waiters, &w->link);
}

/*
 * CMP_REQUEUE_PI, as Linux's futex_requeue: if the condvar holds cmpval
 * (else -CUB_EAGAIN), its first waiter gets the PI futex if that is free
 * (with FUTEX_WAITERS when others are to follow) and is woken, then up to
 * nr_requeue waiters (one more if the first did not get it) move behind
 * the owner; returns how many were woken or moved. -CUB_EINVAL for a
 * waiter that is no WAIT_REQUEUE_PI one or expects another PI futex;
 * the PI futex's own errors (EDEADLK for its owner, ESRCH, EINVAL) as
 * LOCK_PI's, with nothing moved.
 */
static long cmp_requeue_pi(uintptr_t uaddr, uintptr_t key, uintptr_t uaddr2, uintptr_t key2,
			   int nr_requeue, uint32_t cmpval)
{
	unsigned long irq = cub_arch_irq_save();
	struct pi_waiter *top = NULL, *w;
	long done = 0, rc = 0;
	int owner = 0;

	if (*(volatile uint32_t *)uaddr != cmpval)
		rc = -CUB_EAGAIN;
	else if (cubi_futex_waited_locked(key) || first(key, 0, true))
		rc = -CUB_EINVAL;
	else if ((top = first_cond(key)) != NULL && top->key2 != key2)
		rc = -CUB_EINVAL;
	else if (top)
		rc = try_acquire(uaddr2, key2, top->tid, nr_requeue > 0 ? FUTEX_WAITERS : 0, &owner);
	if (rc == 1) {		/* taken for top: it returns owning it */
		cub_list_del(&top->link);
		nwaiters--;
		top->on_cond = false;
		owner = top->tid;
		top->granted = 1;
		cubi_futex_wake_locked((uintptr_t)&top->granted, 1, ~0u);
		done = rc;
		rc = 0;
	}
	while (rc == 0 && top && done - 1 < nr_requeue && (w = first_cond(key)) != NULL) {
		if (w->key2 != key2) {
			rc = -CUB_EINVAL;	/* those moved stay moved, as on Linux */
			break;
		}
		requeue_one(w, owner);
		done++;
	}
	cub_arch_irq_restore(irq);
	return rc ? rc : done;
}

/* The requeue pair's argument checks, in Linux's order. */
static long requeue_call(uintptr_t uaddr, unsigned op, uint32_t val, uintptr_t uts,
			 uintptr_t uaddr2, uint32_t val3, uint64_t deadline)
{
	bool wait = (op & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)) ==
		    FUTEX_WAIT_REQUEUE_PI;
	bool shared = !(op & FUTEX_PRIVATE_FLAG);
	uintptr_t key, key2;

	if (!wait && ((int)val != 1 || (int)uts < 0))
		return -CUB_EINVAL;	/* wakes exactly one; requeues >= 0 */
	if (wait && uaddr == uaddr2)
		return -CUB_EINVAL;
	if (!cubi_user_readable(uaddr, 4))
		return -CUB_EFAULT;
	if (uaddr2 % 4)
		return -CUB_EINVAL;
	if (!cubi_user_writable(uaddr2, 4))
		return -CUB_EFAULT;
	key = shared ? cubi_mm_futex_key(uaddr) : uaddr;
	key2 = shared ? cubi_mm_futex_key(uaddr2) : uaddr2;
	if (key == key2)
		return -CUB_EINVAL;
	if (wait) {
		struct pi_waiter w = { .key = key, .uaddr = uaddr, .on_cond = true,
				       .key2 = key2, .uaddr2 = uaddr2,
				       .tid = cubi_thread_self()->tid };

		return wait_requeue_pi(&w, val, deadline, deadline && (op & FUTEX_CLOCK_REALTIME));
	}
	return cmp_requeue_pi(uaddr, key, uaddr2, key2, (int)uts, val3);
}

void cubi_futex_pi_exit(int tid)
{
	unsigned long irq = cub_arch_irq_save();
	struct pi_waiter *w;

	while ((w = first(0, tid, false)) != NULL)
		hand_to(w, true);
	cub_arch_irq_restore(irq);
}

/*
 * Linux's order of checks: the timeout (LOCK_PI's is absolute on
 * CLOCK_REALTIME, LOCK_PI2's and WAIT_REQUEUE_PI's on CLOCK_MONOTONIC
 * unless FUTEX_CLOCK_REALTIME; the others take none), then
 * FUTEX_CLOCK_REALTIME on any other op (-CUB_ENOSYS), then the words.
 */
long cubi_futex_pi(uintptr_t uaddr, unsigned op, uint32_t val, uintptr_t uts,
		   uintptr_t uaddr2, uint32_t val3)
{
	unsigned cmd = op & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	bool realtime = cmd == FUTEX_LOCK_PI || (op & FUTEX_CLOCK_REALTIME);
	bool locks = cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2;
	uint64_t deadline = 0;
	uintptr_t key;
	int rc;

	if (locks || cmd == FUTEX_WAIT_REQUEUE_PI) {
		rc = cubi_futex_deadline(uts, true, realtime, &deadline);
		if (rc)
			return rc;
	}
	if ((op & FUTEX_CLOCK_REALTIME) && cmd != FUTEX_LOCK_PI2 && cmd != FUTEX_WAIT_REQUEUE_PI)
		return -CUB_ENOSYS;
	if (cmd == FUTEX_WAIT_REQUEUE_PI || cmd == FUTEX_CMP_REQUEUE_PI)
		return requeue_call(uaddr, op, val, uts, uaddr2, val3, deadline);
	if (!cubi_user_writable(uaddr, 4))
		return -CUB_EFAULT;
	key = op & FUTEX_PRIVATE_FLAG ? uaddr : cubi_mm_futex_key(uaddr);
	if (cmd == FUTEX_UNLOCK_PI)
		return unlock_pi(uaddr, key);
	return lock_pi(uaddr, key, deadline, realtime && deadline, !locks);
}
