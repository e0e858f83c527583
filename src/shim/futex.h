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
/* Ends a thread's wait with -CUB_EINTR (its `sleeping`; irq off). */
void cubi_futex_interrupt(void *waiter);
/* The wall clock moved by step ns (time.c): absolute CLOCK_REALTIME
 * waits move their deadlines with it. Contexts: task. */
void cubi_futex_wall_step(int64_t step);

#endif
