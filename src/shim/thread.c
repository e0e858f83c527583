/*
 * thread.c - Linux threads as cubrt coroutines: clone, exit, exit_group,
 * set_tid_address, gettid, arch_prctl (the robust list: robust.c).
 *
 * A thread created by clone is a coroutine whose entry (thread_main)
 * copies the parent's saved registers, then continues the program at the
 * parent's return address on the new stack with rax = 0, exactly where a
 * Linux child starts. Its struct cubi_thread lives in thread_main's frame
 * on the coroutine's own stack, so creating a thread allocates nothing
 * beyond the coroutine.
 *
 * Only threads: a clone without CLONE_THREAD (a new process) fails with
 * -ENOSYS, so fork, system, popen and posix_spawn fail cleanly.
 *
 * Invariants: `threads` lists every live thread record; tids are unique
 * and never reused (a 31-bit counter); the initial thread (the first
 * coroutine to make a system call) is tid 1. Other coroutines that call
 * into the shim without being clone()d share the initial thread's
 * identity, and from their first call to cubi_thread_self its CPU time
 * (cputime.c). Locking: `threads` and `next_tid` under irq_save.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../sched/sched_hooks.h"
#include "netdev.h"
#include "persist.h"
#include "shim_impl.h"

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_VFORK 0x4000
#define CLONE_PARENT 0x8000
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED 0x400000
#define CLONE_UNTRACED 0x800000
#define CLONE_CHILD_SETTID 0x1000000
#define CLONE_SUPPORTED (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
			 CLONE_PARENT | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | \
			 CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | \
			 CLONE_UNTRACED | CLONE_CHILD_SETTID | 0xff)
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define CANONICAL_LIMIT 0x0000800000000000ull
#define THREAD_CORO_STACK (16u * 1024)	/* only the shim runs on it */

static struct cub_list threads = CUB_LIST_INIT(threads);
static struct cubi_thread initial = { .tid = 1, .link = CUB_LIST_INIT(initial.link),
				      CUBI_THREAD_SIGNALS(0) };
static int next_tid = 2;
static int live_threads;

/* What the parent hands to thread_main; lives on the parent's stack until
 * the child sets `taken` (the parent waits for that). */
struct start {
	struct cub_shim_regs regs;
	struct cubi_thread *parent;
	uint64_t flags, tls;
	uintptr_t child_tid;
	int tid;
	volatile bool taken;
};

__attribute__((noinline)) uintptr_t cubi_stack_below_caller(void)
{
	return CUB_ALIGN_DOWN((uintptr_t)__builtin_frame_address(0) - 64, 16);
}

struct cubi_thread *cubi_thread_current(void)
{
	struct cubi_thread *t = cubi_sched_owner();

	return t ? t : cub_list_linked(&initial.link) ? &initial : NULL;
}

struct cubi_thread *cubi_thread_by_tid(int64_t tid)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_thread *found = NULL;
	struct cub_list *pos;

	cub_list_for_each(pos, &threads) {
		struct cubi_thread *t = cub_container_of(pos, struct cubi_thread, link);

		if (t->tid == tid)
			found = t;
	}
	cub_arch_irq_restore(irq);
	return found;
}

int cubi_thread_tids(int *tids, int max)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *pos;
	int n = 0;

	cub_list_for_each(pos, &threads) {
		if (n == max)
			break;
		tids[n++] = cub_container_of(pos, struct cubi_thread, link)->tid;
	}
	cub_arch_irq_restore(irq);
	return n;
}

struct cubi_thread *cubi_thread_next(struct cubi_thread *prev)
{
	struct cub_list *next = prev ? prev->link.next : threads.next;

	return next == &threads ? NULL : cub_container_of(next, struct cubi_thread, link);
}

struct cubi_thread *cubi_thread_self(void)
{
	struct cub_coro *me = cub_coro_self();
	unsigned long irq = cub_arch_irq_save();
	struct cubi_thread *found = cubi_sched_owner();

	if (!found && me) {	/* its CPU time is the initial thread's too */
		cubi_sched_set_owner(&initial);
		cubi_cputime_start(&initial);
	}
	if (!found)
		found = &initial;
	if (found == &initial && !cub_list_linked(&initial.link)) {
		initial.coro = me;
		cub_list_push_back(&threads, &initial.link);
		live_threads++;
	}
	cub_arch_irq_restore(irq);
	return found;
}

/* Never returns (the thread leaves by exit, from the program's stack), so
 * its frame stays on the coroutine's stack: built without ASan's redzones,
 * which would otherwise stay poisoned in a stack that a later coroutine
 * reuses (host sanitizer builds; no effect elsewhere). */
__attribute__((no_sanitize("address"))) static void *thread_main(void *arg)
{
	struct start *st = arg;
	struct cubi_thread self = { .tid = st->tid, .coro = cub_coro_self(),
				    CUBI_THREAD_SIGNALS(st->parent->sigmask) };
	struct cub_shim_regs regs = st->regs;
	unsigned long irq;

	self.fs_base = st->flags & CLONE_SETTLS ? st->tls : st->parent->fs_base;
	cub_memcpy(self.name, st->parent->name, sizeof(self.name));	/* comm */
	self.keepcaps = st->parent->keepcaps;	/* credentials are copied */
	if (st->flags & CLONE_CHILD_CLEARTID)
		self.clear_child_tid = st->child_tid;
	if (st->flags & CLONE_CHILD_SETTID)
		cubi_copy_out(st->child_tid, &self.tid, sizeof(self.tid));
	irq = cub_arch_irq_save();
	cub_list_push_back(&threads, &self.link);
	live_threads++;
	cubi_sched_set_owner(&self);
	cubi_cputime_start(&self);
	cub_arch_irq_restore(irq);
	st->taken = true;	/* st is dead from here on */
	cubi_sched_set_tls(self.fs_base);
	cubi_sched_set_kstack(cubi_stack_below_caller());
	regs.rax = 0;
	cubi_shim_resume(&regs);
}

/* Linux's checks of the flag combinations, then: a new process (no
 * CLONE_THREAD: fork, vfork, posix_spawn's CLONE_VM|CLONE_VFORK) is
 * -ENOSYS, as fork(2) says of a machine without an MMU: there is one
 * address space and nothing to exec. */
static long check_clone_flags(uint64_t flags)
{
	if (flags & ~(uint64_t)(CLONE_SUPPORTED | CLONE_VFORK))
		return -CUB_EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -CUB_EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -CUB_EINVAL;
	if (!(flags & CLONE_THREAD))
		return -CUB_ENOSYS;
	return 0;
}

CUBI_SYS(clone)
{
	struct start st = { .regs = *r, .flags = A0(r), .tls = A4(r),
			    .child_tid = A3(r), .parent = cubi_thread_self() };
	struct cub_coro_attr attr = { "linux-thread", THREAD_CORO_STACK, 0 };
	long rc = check_clone_flags(st.flags);
	unsigned long irq;

	if (rc)
		return rc;
	if (A1(r) == 0 || A1(r) % 8)
		return -CUB_EINVAL;	/* a shared address space needs a new stack */
	if ((st.flags & CLONE_SETTLS) && st.tls >= CANONICAL_LIMIT)
		return -CUB_EPERM;
	if ((st.flags & CLONE_PARENT_SETTID) && !cubi_user_writable(A2(r), 4))
		return -CUB_EFAULT;
	if ((st.flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	    !cubi_user_writable(A3(r), 4))
		return -CUB_EFAULT;
	st.regs.rsp = A1(r);
	irq = cub_arch_irq_save();
	st.tid = next_tid++;
	cub_arch_irq_restore(irq);
	if (cub_coro_spawn(NULL, thread_main, &st, &attr))
		return -CUB_EAGAIN;	/* Linux's answer to no memory for a task */
	if (st.flags & CLONE_PARENT_SETTID)
		cubi_copy_out(A2(r), &st.tid, sizeof(st.tid));
	while (!st.taken)
		cub_coro_yield();
	return st.tid;
}

/* The process ends: data on its way to the network is delivered first
 * (at most 5 s), the persisted directory's last snapshot is written
 * (persist.c), then the machine stops. */
CUB_NORETURN void cubi_shim_exit_program(int status)
{
	cubi_tcpnet_flush(5 * CUB_NSEC_PER_SEC);
	cubi_persist_exit();
	cub_exit(status & 0xff);
}

CUBI_SYS(exit)
{
	struct cubi_thread *t = cubi_thread_self();
	unsigned long irq;
	int zero = 0, left;

	/* Linux: the futexes on its robust list are marked FUTEX_OWNER_DIED
	 * (musl's pthread_exit has emptied its own), the PI futexes it owns
	 * go to their first waiters, then the tid word is cleared and one
	 * futex waiter woken (pthread_join). */
	cubi_robust_exit(t);
	cubi_futex_pi_exit(t->tid);
	if (t->clear_child_tid && cubi_copy_out(t->clear_child_tid, &zero, sizeof(zero)) == 0)
		cubi_futex_wake(t->clear_child_tid, 1, ~0u);
	irq = cub_arch_irq_save();
	cub_list_del(&t->link);
	cubi_signal_thread_gone(t);
	left = --live_threads;
	cub_arch_irq_restore(irq);
	if (left == 0)	/* the last thread: the process ends */
		cubi_shim_exit_program((int)A0(r));
	cubi_cputime_exit(t);	/* t's record goes with its stack */
	cub_coro_exit(NULL);
}

CUBI_SYS(exit_group)
{
	cubi_shim_exit_program((int)A0(r));
}

CUBI_SYS(set_tid_address)
{
	struct cubi_thread *t = cubi_thread_self();

	t->clear_child_tid = A0(r);
	return t->tid;
}

CUBI_SYS(gettid)
{
	(void)r;
	return cubi_thread_self()->tid;
}

CUBI_SYS(arch_prctl)
{
	struct cubi_thread *t = cubi_thread_self();

	switch (A0(r)) {
	case ARCH_SET_FS:
		if (A1(r) >= CANONICAL_LIMIT)
			return -CUB_EPERM;
		t->fs_base = A1(r);
		cubi_sched_set_tls(t->fs_base);
		return 0;
	case ARCH_GET_FS:
		return cubi_copy_out(A1(r), &t->fs_base, sizeof(t->fs_base));
	case ARCH_SET_GS:
	case ARCH_GET_GS:
		return -CUB_EPERM;	/* GS belongs to cubrt */
	default:
		return -CUB_EINVAL;
	}
}
