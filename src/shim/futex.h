/*
 * futex.h - the futex waits and wakes (futex.c) every blocking call of
 * the shim is built on (fd_rw.c's waits on files and on I/O, the
 * futex call itself, the signal waits), and their interruption by a
 * signal.
 *
 * Locking: the waiter buckets are protected by the shim's critical
 * section (interrupts disabled, irq_save), which covers a wait's value
 * check and its enqueue, so no wake between them is lost; the _locked
 * variants run inside the caller's section (the fd layer's), the others
 * take it. Waiting parks the calling coroutine (task context only).
 */
#ifndef CUBRT_SHIM_FUTEX_H
#define CUBRT_SHIM_FUTEX_H

#include <cubrt/base.h>

/* Wakes up to n waiters on the futex word at uaddr; returns the count.
 * _locked: the same inside the caller's critical section (irq off). */
int cubi_futex_wake(uintptr_t uaddr, int n, uint32_t bitset);
int cubi_futex_wake_locked(uintptr_t uaddr, int n, uint32_t bitset);
/* Waits while *uaddr == val (checked with the enqueue, atomically), until
 * woken, deadline (0 = none) or a signal with a handler for the calling
 * thread: 0, -CUB_EAGAIN, -CUB_ETIMEDOUT or -CUB_EINTR. `what` names the
 * wait in ps and deadlock reports. Every blocking call of the shim but
 * console input waits here (that one: io.c, cub_console_interrupt), so
 * every one can be interrupted. */
long cubi_futex_wait(uintptr_t uaddr, uint32_t val, uint64_t deadline,
		     uint32_t bitset, const char *what);
/* The same inside the caller's critical section: called with interrupts
 * disabled, returns with them disabled (they are enabled while another
 * coroutine runs). Contexts: task (parks). */
long cubi_futex_wait_locked(uintptr_t uaddr, uint32_t val, uint64_t deadline,
			    uint32_t bitset, const char *what);
/* The same for a wait whose deadline, if wall, is an absolute
 * CLOCK_REALTIME time that follows steps of the wall clock. */
long cubi_futex_wait_wall_locked(uintptr_t uaddr, uint32_t val, uint64_t deadline, bool wall,
				 const char *what);
/* Whether a FUTEX_WAIT-style waiter waits on key (irq off). */
bool cubi_futex_waited_locked(uintptr_t key);
/* The futex call's timeout argument (a user struct timespec at uts, 0:
 * none), relative or absolute on CLOCK_REALTIME or CLOCK_MONOTONIC, as
 * an absolute monotonic deadline in *out (0: none): 0, -CUB_EFAULT or
 * -CUB_EINVAL (a negative or too large field). */
int cubi_futex_deadline(uintptr_t uts, bool absolute, bool realtime, uint64_t *out);
/* Ends a thread's wait with -CUB_EINTR (its `sleeping`; irq off). */
void cubi_futex_interrupt(void *waiter);
/* The wall clock moved by step ns (time.c): absolute CLOCK_REALTIME
 * waits move their deadlines with it. Contexts: task. */
void cubi_futex_wall_step(int64_t step);

/*
 * futex_pi.c: the priority-inheritance futexes (FUTEX_LOCK_PI,
 * FUTEX_LOCK_PI2, FUTEX_TRYLOCK_PI, FUTEX_UNLOCK_PI), with Linux's
 * semantics; see futex_pi.c's header.
 */
/* Whether op (the futex call's op without PRIVATE and CLOCK_REALTIME)
 * is one of futex_pi.c's (the four above, FUTEX_WAIT_REQUEUE_PI and
 * FUTEX_CMP_REQUEUE_PI). */
bool cubi_futex_pi_op(unsigned op);
/* The call for such an op: the futex call's arguments (uaddr 4-byte
 * aligned, op with its flags; uts is also CMP_REQUEUE_PI's count). May
 * return -CUBI_ERESTARTNOINTR (a signal ended a wait that restarts after
 * the handler). */
long cubi_futex_pi(uintptr_t uaddr, unsigned op, uint32_t val, uintptr_t uts,
		   uintptr_t uaddr2, uint32_t val3);
/* Whether a PI or WAIT_REQUEUE_PI waiter waits on key (a snapshot). */
bool cubi_futex_pi_waited(uintptr_t key);
/* Thread tid exits: every PI futex it owns with waiters goes to its
 * first waiter, as Linux's exit_pi_state_list hands them on. Contexts:
 * task. */
void cubi_futex_pi_exit(int tid);

#endif
