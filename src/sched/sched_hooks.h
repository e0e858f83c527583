/*
 * sched_hooks.h - scheduler hooks for tests and for the platform's boot
 * configuration (not application API).
 */
#ifndef CUBRT_SCHED_HOOKS_H
#define CUBRT_SCHED_HOOKS_H

#include <cubrt/base.h>

/* Sets the preemption time slice in ns (0: off; the 'preempt' build
 * option makes 10 ms the default). Returns the previous one.
 * Contexts: any. */
uint64_t cubi_preempt_set_slice(uint64_t ns);

/* How many times a coroutine was preempted so far. Contexts: any. */
uint64_t cubi_preempt_count(void);

/*
 * Sets the running coroutine's thread pointer (FS base on x86): loaded
 * whenever it is switched to, inherited by coroutines it spawns. Used by
 * the syscall shim for Linux threads (arch_prctl, clone). From boot
 * context it sets what coroutines spawned at boot inherit.
 * Contexts: task, boot.
 */
void cubi_sched_set_tls(uint64_t base);

#endif
