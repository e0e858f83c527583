/*
 * sched_hooks.h - scheduler hooks for tests and for the platform's boot
 * configuration (not application API).
 */
#ifndef CUBRT_SCHED_HOOKS_H
#define CUBRT_SCHED_HOOKS_H

#include <cubrt/arch_fiber.h>

/* For platform assembly: where the running coroutine's record is
 * (cubi_sched's first field) and where its kernel stack top is in it.
 * The record starts with struct cub_arch_ctx, which host ASan builds
 * extend by CUB_ARCH_CTX_EXTRA bytes (0 elsewhere). */
#define CUBI_CORO_KSTACK_OFFSET (304 + CUB_ARCH_CTX_EXTRA)
/* ... and its stack's bounds: lo, and size (struct cub_stack's first
 * fields), which tell cubrt's frames from a Linux thread's program code. */
#define CUBI_CORO_STACK_LO_OFFSET (112 + CUB_ARCH_CTX_EXTRA)
#define CUBI_CORO_STACK_SIZE_OFFSET (120 + CUB_ARCH_CTX_EXTRA)

#ifndef __ASSEMBLER__
#include <cubrt/base.h>

/* Sets the preemption time slice in ns (0: off; the 'preempt' build
 * option makes 10 ms the default). Returns the previous one.
 * Contexts: any. */
uint64_t cubi_preempt_set_slice(uint64_t ns);

/* How many times a coroutine was preempted so far. Contexts: any. */
uint64_t cubi_preempt_count(void);

/* When the armed slice tick fires (cub_time_now scale), 0 when none is
 * armed: with preemption on, one is armed whenever coroutines wait in the
 * run queue. Contexts: any. */
uint64_t cubi_preempt_deadline(void);

/*
 * Sets the running coroutine's thread pointer (FS base on x86): loaded
 * whenever it is switched to, inherited by coroutines it spawns. Used by
 * the syscall shim for Linux threads (arch_prctl, clone). From boot
 * context it sets what coroutines spawned at boot inherit.
 * Contexts: task, boot.
 */
void cubi_sched_set_tls(uint64_t base);

/*
 * Sets the running coroutine's kernel stack top: when it runs program
 * code on a stack of the program's own (a Linux thread), the platform
 * takes its system calls and interrupt exits on its coroutine stack below
 * `top` instead, as Linux takes them on a kernel stack, so that cubrt's
 * frames never land on a small program stack (a goroutine's). 0: none.
 * Reset at spawn. Contexts: task.
 */
void cubi_sched_set_kstack(uintptr_t top);
/* The running coroutine's kernel stack top, 0 for none. Contexts: task. */
uintptr_t cubi_sched_kstack(void);
/* True when the running coroutine has a kernel stack and sp lies outside
 * its coroutine stack: it was running program code there (a Linux
 * thread), as the platform's interrupt exit tells it. Contexts: any. */
bool cubi_sched_in_program(uintptr_t sp);
/* Bytes of the running coroutine's stack below sp when sp lies in it;
 * SIZE_MAX when no coroutine runs or sp lies elsewhere (a stack the
 * scheduler does not know). For a platform that runs an interrupt exit
 * on the interrupted stack (the host): it must not on a stack without
 * room. Contexts: any. */
size_t cubi_sched_stack_room(uintptr_t sp);

/*
 * One word in the running coroutine's record for the subsystem that runs
 * it (the shim: the Linux thread it is), found again without a search.
 * NULL at spawn. cubi_sched_owner is NULL outside a coroutine.
 * Contexts: task.
 */
void cubi_sched_set_owner(void *owner);
void *cubi_sched_owner(void);

/*
 * The switch hook: a subsystem that accounts the CPU time of some
 * coroutines (the shim: its Linux threads, cputime.c) marks them hooked
 * and learns where the CPU goes whenever it goes to or from one of them:
 * hook(owner) with the owner (cubi_sched_set_owner) of the hooked
 * coroutine now starting to run, or hook(NULL) when the CPU goes to a
 * coroutine that is not hooked, to idle (the running hooked coroutine
 * parked and nothing is ready: called before the idle wait, and
 * hook(owner) after it if that same coroutine resumes without a switch)
 * or back to cub_sched_run's caller. So the time between two calls
 * belongs to the owner named by the first (NULL: to none). Called with
 * interrupts disabled, from task or (preemption's switch) irq context;
 * it must not block or switch. The scheduler calls it on the resumed
 * side of a switch (cubi_after_switch): until a coroutine is first
 * hooked that costs one flag test per switch; after, every resume calls
 * an out-of-line check of the resumed coroutine's flag.
 *
 * cubi_sched_set_switch_hook installs fn (NULL: none) for all hooked
 * coroutines. Contexts: task, boot.
 * cubi_sched_hook_switches marks the running coroutine hooked (on) or
 * not; a spawn starts unhooked (an ended record is unhooked when it is
 * released). The call itself does not call the hook:
 * the caller accounts the change of state it makes. Contexts: task.
 */
typedef void (*cubi_switch_hook_fn)(void *owner);
void cubi_sched_set_switch_hook(cubi_switch_hook_fn fn);
void cubi_sched_hook_switches(bool on);
#endif

#endif
