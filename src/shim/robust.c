/*
 * robust.c - robust futex lists: set_robust_list, get_robust_list, and
 * what Linux's exit_robust_list does when a thread exits.
 *
 * A thread registers the head of a list in its own memory (struct
 * robust_list_head: next, futex_offset, list_op_pending; 24 bytes); each
 * entry is a pointer to the next, whose bit 0 marks a PI futex, and its
 * futex word lies futex_offset bytes from the entry. At exit every word
 * on the list (and the pending one) that still names the thread gets
 * FUTEX_OWNER_DIED with its FUTEX_WAITERS kept, and a non-PI one with
 * waiters wakes one of them (a PI one is handed on by futex_pi.c, after
 * this); a pending non-PI word that is 0 (the thread was between
 * unlocking and unlinking) wakes one too. The walk stops at the first
 * unreadable or misaligned entry and after 2048 entries (Linux's
 * ROBUST_LIST_LIMIT), so a corrupt list cannot hang or crash the exit.
 *
 * musl walks its own list in pthread_exit and leaves it empty, so for
 * musl programs this finds nothing; it is what a program that leaves the
 * work to the kernel (glibc) relies on.
 *
 * Locking: `robust_list` is the thread's own (set by itself, read by
 * itself at exit or by get_robust_list); a word's update is one critical
 * section (irq_save) after cubi_user_writable brought its page in.
 */
#include <cubrt/arch.h>

#include "shim_impl.h"

#define HEAD_SIZE 24
#define LIST_LIMIT 2048
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu

CUBI_SYS(set_robust_list)
{
	if (A1(r) != HEAD_SIZE)
		return -CUB_EINVAL;
	cubi_thread_self()->robust_list = A0(r);	/* not checked, as Linux */
	return 0;
}

/* pid 0: the caller; else any live thread of the process (-ESRCH). */
CUBI_SYS(get_robust_list)
{
	struct cubi_thread *t = A0(r) ? cubi_thread_by_tid((int64_t)(int)A0(r))
				      : cubi_thread_self();
	uint64_t len = HEAD_SIZE, head;

	if (!t)
		return -CUB_ESRCH;
	head = t->robust_list;
	if (cubi_copy_out(A2(r), &len, sizeof(len)) ||
	    cubi_copy_out(A1(r), &head, sizeof(head)))
		return -CUB_EFAULT;
	return 0;
}

/* The word at uaddr of a thread tid that died: -1 stops the walk. */
static int death(uintptr_t uaddr, int tid, bool pi, bool pending)
{
	volatile uint32_t *word = (volatile uint32_t *)uaddr;
	unsigned long irq;
	uint32_t uval;
	bool wake = false;

	if (uaddr % 4 || !cubi_user_writable(uaddr, 4))
		return -1;
	irq = cub_arch_irq_save();
	uval = *word;
	if (pending && !pi && !uval) {
		wake = true;
	} else if ((uval & FUTEX_TID_MASK) == (uint32_t)tid) {
		*word = (uval & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		wake = !pi && (uval & FUTEX_WAITERS);
	}
	cub_arch_irq_restore(irq);
	if (wake)
		cubi_futex_wake(cubi_mm_futex_key(uaddr), 1, ~0u);
	return 0;
}

/* An entry pointer at p: the entry and its PI bit; -1 if unreadable. */
static int fetch(uintptr_t p, uintptr_t *entry, bool *pi)
{
	uint64_t v;

	if (cubi_copy_in(&v, p, sizeof(v)))
		return -1;
	*entry = (uintptr_t)(v & ~1ull);
	*pi = v & 1;
	return 0;
}

void cubi_robust_exit(struct cubi_thread *t)
{
	uintptr_t head = t->robust_list, entry, next, pending;
	bool pi, next_pi, pending_pi;
	int64_t offset;
	int limit = LIST_LIMIT, rc;

	if (!head || fetch(head, &entry, &pi) ||
	    cubi_copy_in(&offset, head + 8, sizeof(offset)) ||
	    fetch(head + 16, &pending, &pending_pi))
		return;
	while (entry != head) {
		rc = fetch(entry, &next, &next_pi);
		if (entry != pending && death(entry + (uintptr_t)offset, t->tid, pi, false))
			return;
		if (rc)
			return;
		entry = next;
		pi = next_pi;
		if (!--limit)
			break;
	}
	if (pending)
		death(pending + (uintptr_t)offset, t->tid, pending_pi, true);
}
