/*
 * cubrt/sched.h - coroutines: cubrt's goroutines.
 *
 * A coroutine runs fn(arg) on its own stack. cubrt runs on one CPU, so
 * exactly one coroutine runs at a time; the others are ready (in a FIFO
 * run queue), parked (blocked on a channel, mutex, sleep, ...) or done.
 * A coroutine gives up the CPU only when it blocks, yields or exits,
 * unless preemption is configured (meson option 'preempt', see
 * docs/scheduler.md), in which case one that runs past its time slice is
 * switched away from at a timer interrupt.
 *
 * Execution contexts (DESIGN.md): "task" is a coroutine; every blocking
 * call panics when made from an interrupt handler.
 */
#ifndef CUBRT_SCHED_H
#define CUBRT_SCHED_H

#include <cubrt/base.h>

struct cub_coro;

typedef void *(*cub_coro_fn)(void *arg);

/* Stack classes for cub_coro_attr.flags. */
#define CUB_CORO_SMALL 1u	/* small stack without guard page: a canary at
				 * its bottom is checked at every switch (cheap
				 * in memory; an overflow is caught late) */

/* Default and smallest stack sizes (bytes). */
#define CUB_CORO_STACK_DEFAULT (64u * 1024)
#define CUB_CORO_STACK_SMALL   (4096u - 16 - 448) /* one page: canary and
						 * 8 cache colours (stack.c) */
#define CUB_CORO_STACK_MIN     (2u * 1024)

struct cub_coro_attr {
	const char *name;	/* shown by ps and fault reports; must stay
				 * valid while the coroutine lives; NULL:
				 * "coro#<id>" */
	size_t stack_size;	/* 0: CUB_CORO_STACK_DEFAULT (or _SMALL with
				 * CUB_CORO_SMALL); usable bytes, at least
				 * CUB_CORO_STACK_MIN, at most 64 MiB;
				 * guarded stacks round up to whole pages;
				 * CUB_CORO_SMALL up to about 3 KiB shares
				 * one heap block with the coroutine's
				 * record, which sits right above it */
	unsigned flags;		/* CUB_CORO_* */
};

/*
 * Creates a coroutine running fn(arg) and puts it at the tail of the run
 * queue; it runs when the caller blocks or yields (spawning never blocks).
 * attr may be NULL (defaults). With out != NULL the coroutine is joinable:
 * *out is its handle and it stays (with its stack) until cub_coro_join();
 * with out == NULL it is detached and vanishes when it ends.
 * Returns 0, -CUB_EINVAL (fn NULL, stack_size below the minimum or
 * unknown flags) or -CUB_ENOMEM (no memory for the stack).
 * Contexts: task, boot (queued until cub_sched_run).
 */
int cub_coro_spawn(struct cub_coro **out, cub_coro_fn fn, void *arg,
		   const struct cub_coro_attr *attr);

/* Moves the running coroutine to the tail of the run queue and runs the
 * head (returns at once when nothing else is ready). Contexts: task. */
void cub_coro_yield(void);

/* Ends the running coroutine with result (as if fn returned it).
 * Contexts: task. */
CUB_NORETURN void cub_coro_exit(void *result);

/*
 * Waits until joinable coroutine c ends, stores its result in *result
 * (when result is non-NULL) and releases it: c is invalid afterwards.
 * Returns 0, -CUB_EINVAL (c NULL or already being joined) or
 * -CUB_EDEADLK (c is the caller). Contexts: task.
 */
int cub_coro_join(struct cub_coro *c, void **result);

/* The running coroutine, NULL outside any (boot, or no scheduler).
 * Contexts: any (in irq context: the interrupted coroutine). */
struct cub_coro *cub_coro_self(void);

/* The name of c ("coro#<id>" when spawned without one). Contexts: any. */
const char *cub_coro_name(const struct cub_coro *c);

/* A unique number (1 is the first coroutine of cub_sched_run). */
uint64_t cub_coro_id(const struct cub_coro *c);

/*
 * Runs fn(arg) as the first coroutine on the calling (boot) stack's
 * behalf and returns when every coroutine has ended, with fn's result in
 * *result (when non-NULL). If all remaining coroutines block with nothing
 * that could wake them (no timer pending, no interrupt awaited), prints a
 * deadlock report listing them and what each waits on, and exits with
 * CUB_EXIT_FAULT like a panic. Returns 0, -CUB_EINVAL (fn NULL),
 * -CUB_EBUSY (already running) or -CUB_ENOMEM. Contexts: boot.
 */
int cub_sched_run(cub_coro_fn fn, void *arg, void **result);

/* ------------------------------------------------------------------ ps */

enum cub_coro_state {
	CUB_CORO_READY,		/* in the run queue */
	CUB_CORO_RUNNING,
	CUB_CORO_PARKED,	/* blocked; see cub_coro_info.wait */
	CUB_CORO_DONE,		/* ended, waiting to be joined */
};

struct cub_coro_info {
	uint64_t id;
	const char *name;
	enum cub_coro_state state;
	const char *wait;	/* what a parked coroutine waits on, else NULL */
	size_t stack_size;
	size_t stack_used;	/* bytes in use now (depth of its frame) */
};

/*
 * Fills out[0..max) with the live coroutines (oldest first) and returns
 * how many exist (may exceed max: call again with a larger array).
 * Contexts: any.
 */
size_t cub_coro_list(struct cub_coro_info *out, size_t max);

/*
 * High-water mark of c's stack: bytes ever written (a stack reused from an
 * ended coroutine keeps that one's mark). Scans the stack's unused part,
 * which valgrind reports as reads of undefined memory. Contexts: any.
 */
size_t cub_coro_stack_peak(const struct cub_coro *c);

/* Prints a `ps`-like table of the live coroutines (with the peak of each
 * stack). Contexts: any. */
void cub_coro_ps(void);

/* "ready", "running", "parked" or "done". */
const char *cub_coro_state_name(enum cub_coro_state s);

#endif
