/*
 * thread.h - Linux threads in the shim: struct cubi_thread (a coroutine
 * plus the per-thread state Linux keeps: its signal mask and pending
 * signals, alternate stack, futex wait, name), finding and walking the
 * live threads (thread.c), their names (prctl.c), pid checks (ids.c),
 * and the platform's way back into program code.
 *
 * Locking: the thread list and every thread's signal fields are
 * protected by the shim's critical section (interrupts disabled,
 * cub_arch_irq_save); functions marked "irq off" expect it held, the
 * others (cubi_thread_self, cubi_thread_by_tid, ...) take it.
 */
#ifndef CUBRT_SHIM_THREAD_H
#define CUBRT_SHIM_THREAD_H

#include <cubrt/base.h>
#include <cubrt/list.h>
#include <cubrt/shim.h>

/*
 * A Linux thread: a coroutine plus the per-thread state Linux keeps.
 * Lives in the thread's coroutine stack frame of thread_main (thread.c) or,
 * for the initial thread, in static storage.
 */
struct cubi_altstack {			/* Linux's stack_t */
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

/* Pending signals: bit sig-1 each, and how each was sent (its siginfo
 * si_code: CUBI_SI_USER, _TKILL, _KERNEL or _TIMER). */
struct cubi_sigq;
struct cubi_sigpend {
	uint64_t bits;
	int16_t code[64];
	struct cubi_sigq *queue;	/* instances with their own siginfo
					 * (signal_queue.c) */
};
#define CUBI_SI_USER 0		/* kill */
#define CUBI_SI_KERNEL 0x80	/* setitimer, alarm */
#define CUBI_SI_TIMER (-2)	/* timer_create timers */
#define CUBI_SI_TKILL (-6)	/* tkill, tgkill, a fault of the thread */
#define CUBI_SI_QUEUE (-1)	/* sigqueue: rt_sigqueueinfo */

struct cubi_thread {
	int tid;
	struct cub_coro *coro;
	uint64_t fs_base;
	uintptr_t clear_child_tid;	/* user address, 0 = none */
	uintptr_t robust_list;		/* set_robust_list's head (robust.c) */
	struct cub_list link;		/* all threads; irq-save protected */
	/* Signals (signal.c), irq-save protected: bit sig-1 of each. */
	uint64_t sigmask;		/* blocked */
	struct cubi_sigpend pending;	/* sent to it, not yet taken */
	uint64_t waitset;		/* waited for in rt_sigtimedwait */
	uint64_t suspend_saved;		/* rt_sigsuspend: the mask a handler
					 * returns to (with suspended) */
	bool suspended;
	struct cubi_altstack altstack;	/* sigaltstack */
	void *sleeping;			/* its futex waiter while blocked */
	bool console_wait;		/* blocked in a console read */
	long restart_nr;		/* 1 + a call a signal interrupted, to
					 * restart with SA_RESTART, or 0 */
	bool restart_always;		/* ... and without SA_RESTART too
					 * (-CUBI_ERESTARTNOINTR) */
	char name[16];			/* prctl PR_SET_NAME (ids.c), NUL-
					 * terminated; "": the program's */
	bool keepcaps;			/* prctl PR_SET_KEEPCAPS: a per-thread
					 * credential bit, as on Linux;
					 * inherited by clone */
	/* CPU time (cputime.c), irq-save protected: ns charged to it so far
	 * (the current run not yet), the part in system calls, and whether
	 * it is in one now. */
	uint64_t cpu_ns, sys_ns;
	bool in_sys;
};

/* A new thread's signal state: the creator's mask, no alternate stack. */
#define CUBI_THREAD_SIGNALS(mask) \
	.sigmask = (mask), .altstack = { 0, 2 /* SS_DISABLE */, 0, 0 }

/* cubi_thread_self without creating a record: NULL before the first
 * system call (irq off). */
struct cubi_thread *cubi_thread_current(void);
/* The live thread with this tid, or NULL. */
struct cubi_thread *cubi_thread_by_tid(int64_t tid);
/* The tids of up to max live threads, in creation order; returns how
 * many were stored (a snapshot, for /proc/1/task). */
int cubi_thread_tids(int *tids, int max);
/* The live threads, oldest first: the first with prev NULL, then the one
 * after prev, NULL after the last (irq off throughout). */
struct cubi_thread *cubi_thread_next(struct cubi_thread *prev);

/* The calling thread; creates the record for a coroutine that has none
 * (the first caller becomes the initial thread, tid 1). */
struct cubi_thread *cubi_thread_self(void);
/* prctl.c: thread t's name (t NULL: the program's), NUL-terminated. */
void cubi_thread_name(const struct cubi_thread *t, char name[16]);
/* prctl.c: names thread tid (0: the first thread) with the first 15
 * bytes of name[0..len), as a write to its /proc comm does: 0, or
 * -CUB_ESRCH when it is gone. name is the shim's own memory. */
long cubi_thread_rename(int tid, const char *name, size_t len);
/* ids.c: pid names this process (0, 1 or a live tid): 0, -CUB_EINVAL
 * (negative) or -CUB_ESRCH. */
int cubi_check_pid(int64_t pid);

/* An address safely below the caller's frame on the running stack: a
 * Linux thread's kernel stack top, set before it enters program code. */
uintptr_t cubi_stack_below_caller(void);

/* robust.c: thread t exits: every futex its robust list (and the list's
 * pending entry) names that t owns gets FUTEX_OWNER_DIED, as Linux's
 * exit_robust_list; a non-PI one with waiters wakes one. Contexts: task. */
void cubi_robust_exit(struct cubi_thread *t);

/* Platform: continue a Linux thread at regs (rip, rsp, all registers). */
CUB_NORETURN void cubi_shim_resume(const struct cub_shim_regs *regs);

#endif
