/*
 * switch.h - the switch paths shared by coro.c (yield, park, ready) and
 * life.c (spawn, finish, join, run). Private to the scheduler.
 *
 * Everything here is always inlined: a switch resumes the other
 * coroutine with a jump, so each call level between a blocking API and
 * cub_arch_ctx_switch leaves a return-stack-buffer entry behind, and the
 * resumed coroutine's `ret`s are then predicted from the wrong stack (one
 * misprediction per level per switch; docs/scheduler.md "Resuming by
 * jump"). Only the rare paths (idling, a bad ready, the last coroutine
 * ending) are out-of-line functions.
 *
 * Critical sections: every function here expects interrupts disabled
 * (sched_impl.h).
 */
#ifndef CUBRT_SCHED_SWITCH_H
#define CUBRT_SCHED_SWITCH_H

#include "sched_impl.h"

#define CUBI_ALWAYS_INLINE inline __attribute__((always_inline))
#define CUBI_NOINLINE __attribute__((noinline))

/* coro.c: the run queue is empty: idles until an interrupt readies a
 * coroutine and pops it; NULL when no coroutine is left at all. */
CUBI_NOINLINE struct cub_coro *cubi_sched_take_idle(void);
/* coro.c: panics, c was not parked (cubi_sched_ready's check). */
CUBI_NOINLINE CUB_NORETURN void cubi_sched_ready_bad(struct cub_coro *c);
/* life.c: the last coroutine ended: back to cub_sched_run's caller. */
CUBI_NOINLINE CUB_NORETURN void cubi_sched_to_boot(struct cub_coro *prev);

/* Runs on the coroutine just switched to (every resume path runs it):
 * the switch hook, then frees the one that ended. The hook (CPU-time
 * accounting of the shim's threads) costs a program that never hooked a
 * coroutine one test of a flag on a line the switch touched anyway
 * (loaded_tls's); here on the resumed side, it adds nothing to the code
 * before the switch (cub_coro_yield's fast path stays small enough for
 * link-time inlining: measured, a test there cost W1 7 instructions a
 * switch through a call). */
static CUBI_ALWAYS_INLINE void cubi_after_switch(void)
{
	if (CUB_UNLIKELY(cubi_sched.hooking))
		cubi_sched_resumed_hooked();
	if (CUB_UNLIKELY(cubi_sched.reap != NULL)) {
		struct cub_coro *c = cubi_sched.reap;

		cubi_sched.reap = NULL;
		cubi_coro_release(c);
	}
}

/* Everything a switch from prev to next does before the register switch. */
static CUBI_ALWAYS_INLINE void cubi_switch_prepare(struct cub_coro *prev,
						  struct cub_coro *next)
{
	cubi_coro_check_canary(prev);
	next->state = CUB_CORO_RUNNING;
	cubi_sched.cur = next;
	cubi_sched.switches++;
	if (CUB_UNLIKELY(next->tls != cubi_sched.loaded_tls)) {
		cubi_sched.loaded_tls = next->tls;
		cub_arch_set_tls(next->tls);
	}
}

static CUBI_ALWAYS_INLINE void cubi_switch_to(struct cub_coro *prev,
					      struct cub_coro *next)
{
	cubi_switch_prepare(prev, next);
	cub_arch_ctx_switch(&prev->ctx, &next->ctx);
	cubi_after_switch();
}

/* Pops the next ready coroutine, idling while there is none; NULL when
 * no coroutine is left at all. */
static CUBI_ALWAYS_INLINE struct cub_coro *cubi_take_next(void)
{
	struct cub_list *n = cub_list_pop_front(&cubi_sched.runq);

	if (CUB_UNLIKELY(!n))
		return cubi_sched_take_idle();
	return cub_container_of(n, struct cub_coro, link);
}

/* Makes c READY at the tail of the run queue (cubi_sched_ready's body). */
static CUBI_ALWAYS_INLINE void cubi_ready_locked(struct cub_coro *c)
{
	if (CUB_UNLIKELY(c->state != CUB_CORO_PARKED &&
			 c->state != CUB_CORO_RUNNING))
		cubi_sched_ready_bad(c);
	c->state = CUB_CORO_READY;
	cub_list_push_back(&cubi_sched.runq, &c->link);
	cubi_preempt_kick();
}

/* cubi_ready_locked followed by taking c off the (otherwise empty) run
 * queue: only the state check remains. */
static CUBI_ALWAYS_INLINE struct cub_coro *cubi_ready_direct(struct cub_coro *c)
{
	if (CUB_UNLIKELY(c->state != CUB_CORO_PARKED &&
			 c->state != CUB_CORO_RUNNING))
		cubi_sched_ready_bad(c);
	return c;
}

#endif
