/*
 * flock.c - flock(2) advisory locks, as Linux keeps them: a lock
 * belongs to an open file (shared by its dup'd descriptors, dropped with
 * LOCK_UN or when the file's last reference goes) and locks a node (a
 * file of the tree; a pipe or socket locks only itself). Any number of
 * shared locks, or one exclusive lock, per node. A request that
 * conflicts waits, interruptibly, until some lock is dropped, or with
 * LOCK_NB fails with -EWOULDBLOCK. Converting a lock (shared <->
 * exclusive) drops the old one first, as on Linux: it is not atomic,
 * and a failed LOCK_NB conversion leaves no lock.
 *
 * Invariants: locks[i].owner != NULL for a used slot; at most one slot
 * per owner; no node has an exclusive lock beside any other lock.
 * Locking: the table is read and changed with interrupts disabled (the
 * fd layer drops a closing file's lock inside its critical section);
 * waiters sleep on the futex word `dropped`, bumped by every unlock.
 */
#include <cubrt/arch.h>

#include "shim_impl.h"

#define LOCK_SH 1u
#define LOCK_EX 2u
#define LOCK_NB 4u
#define LOCK_UN 8u
#define ENOLCK 37
#define LOCKS_MAX (2 * CUBI_FD_MAX)	/* every open file could hold one */

struct lock {
	const void *key;		/* the node, or the file itself */
	struct cubi_file *owner;	/* NULL: a free slot */
	bool excl;
};

static struct lock locks[LOCKS_MAX];
static uint32_t dropped;		/* futex word: bumped per unlock */

static struct lock *find_owner(const struct cubi_file *f)
{
	for (size_t i = 0; i < LOCKS_MAX; i++)
		if (locks[i].owner == f)
			return &locks[i];
	return NULL;
}

/* Drops f's lock, waking every waiter to look again (irq off). */
static void drop(struct cubi_file *f)
{
	struct lock *l = find_owner(f);

	if (!l)
		return;
	l->owner = NULL;
	dropped++;
	cubi_futex_wake((uintptr_t)&dropped, INT32_MAX, UINT32_MAX);
}

void cubi_flock_forget(struct cubi_file *f)
{
	drop(f);
}

static bool conflicts(const void *key, const struct cubi_file *f, bool excl)
{
	for (size_t i = 0; i < LOCKS_MAX; i++)
		if (locks[i].owner && locks[i].owner != f && locks[i].key == key &&
		    (excl || locks[i].excl))
			return true;
	return false;
}

/* One try (irq off): 0 (locked), 1 (must wait), -ENOLCK (table full). */
static int try_lock(const void *key, struct cubi_file *f, bool excl)
{
	struct lock *l = find_owner(f);

	if (l && l->excl == excl)
		return 0;		/* held already */
	if (l)
		drop(f);		/* conversion: not atomic */
	if (conflicts(key, f, excl))
		return 1;
	if (!(l = find_owner(NULL)))
		return -ENOLCK;
	*l = (struct lock){ key, f, excl };
	return 0;
}

static long lock_file(struct cubi_file *f, unsigned op)
{
	const void *key = cubi_file_node(f) ? (const void *)cubi_file_node(f) : f;
	bool excl = (op & ~LOCK_NB) == LOCK_EX;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = dropped;
		int rc;

		if ((op & ~LOCK_NB) == LOCK_UN) {
			drop(f);
			rc = 0;
		} else {
			rc = try_lock(key, f, excl);
		}
		cub_arch_irq_restore(irq);
		if (rc <= 0)
			return rc;
		if (op & LOCK_NB)
			return -CUB_EAGAIN;	/* EWOULDBLOCK */
		rc = (int)cubi_futex_wait((uintptr_t)&dropped, seq, 0, UINT32_MAX, "flock");
		if (rc == -CUB_EINTR)
			return rc;
	}
}

CUBI_SYS(flock)
{
	unsigned op = (unsigned)A1(r);
	struct cubi_file *f;
	long rc;

	if ((op & ~(LOCK_SH | LOCK_EX | LOCK_NB | LOCK_UN)) ||
	    ((op & ~LOCK_NB) != LOCK_SH && (op & ~LOCK_NB) != LOCK_EX &&
	     (op & ~LOCK_NB) != LOCK_UN))
		return cubi_fd_valid(A0(r)) ? -CUB_EINVAL : -CUB_EBADF;
	if (!(f = cubi_fd_get(A0(r))))
		return -CUB_EBADF;
	rc = lock_file(f, op);
	cubi_file_put(f);
	return rc;
}
