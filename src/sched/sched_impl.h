/*
 * sched_impl.h - private state shared by the scheduler's files: the
 * coroutine record (switching in coro.c, spawn and join in life.c,
 * records in record.c), the timer queue (timer.c), sync objects
 * (sync.c) and preemption (preempt.c). Not for other subsystems: they use
 * park.h and the public headers.
 *
 * Critical sections: everything here is protected by disabling interrupts
 * (cub_arch_irq_save/restore); cubrt runs on one CPU and interrupt
 * handlers may wake coroutines and expire timers. There are no locks and
 * so no lock order.
 */
#ifndef CUBRT_SCHED_IMPL_H
#define CUBRT_SCHED_IMPL_H

#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/sched.h>
#include <cubrt/stack.h>
#include <cubrt/time.h>

#include "park.h"
#include "sched_hooks.h"

/*
 * A coroutine. The record comes from the heap (the stack allocator wants
 * its struct cub_stack at a fixed address, here inside the record); ended
 * records keep their stack and are cached for the next spawn of the same
 * class (record.c), so the common spawn allocates nothing.
 *
 * Invariants:
 *  - state READY    <=> link is on the run queue;
 *  - state RUNNING  <=> this is sched.cur;
 *  - state PARKED: link is free for the blocking primitive's use only
 *    through its own waiter record (link stays self-linked), wait names
 *    the wait;
 *  - state DONE: only joinable coroutines stay in this state (on the all
 *    list) until cub_coro_join releases them;
 *  - all links every coroutine not yet released, oldest first.
 */
struct cub_coro {
	/* Hot: touched by every switch, park and wake-up, first in the
	 * record in the order a wake-up needs them: the saved registers and
	 * the thread pointer (what resuming loads), the run-queue link and
	 * state (what readying writes), the park fields, then the stack (its
	 * canary, checked when switching away) and the park area (a
	 * channel's waiter). With many coroutines each line is a cache miss
	 * per switch. The order was measured: with link before ctx, W3 and
	 * W5b lost 3-4 ns; with state apart from link, W7 lost 2 ns
	 * (docs/scheduler.md). */
	struct cub_arch_ctx ctx;	/* saved registers while not running */
	uint64_t tls;			/* thread pointer (FS base) it runs with;
					 * inherited at spawn, loaded at switch */
	struct cub_list link;		/* run queue */
	uint8_t state;			/* enum cub_coro_state */
	bool joinable;
	bool small;			/* canary-checked stack, no guard page */
	bool irq_wait;			/* parked by cubi_sched_park_irq */
	bool hooked;			/* switches to and from it call the
					 * switch hook (cubi_sched_hook_switches;
					 * in what was padding: the layout and
					 * the hot lines are unchanged) */
	uint8_t block_skew;		/* a record on top of its stack: bytes
					 * from its heap block to the stack's
					 * base (record.c; padding too: a
					 * pointer at the end grew the record,
					 * moved every heap record and W3
					 * measured about 1 ns slower) */
	const char *wait;		/* what a parked coroutine waits on */
	cubi_resume_fn on_resume;	/* cubi_sched_park_tail's, while parked */
	unsigned long park_irq;		/* irq state to restore at that resume */
	struct cub_stack stack;		/* from <cubrt/stack.h> */
	/* cubi_sched_park_area: the tail-parked wait's records. */
	_Alignas(16) unsigned char park_area[CUBI_PARK_AREA];
	/* Cold: spawn, exit, join, ps. */
	struct cub_list all;		/* sched.all */
	union {
		struct cub_coro *next_cached;	/* ended: on a record cache
						 * (record.c) */
		uintptr_t kstack;	/* taken off a cache or new: 0, or
					 * where the platform runs system calls
					 * and interrupt exits that come from
					 * program code on another stack
					 * (cubi_sched_set_kstack) */
	};
	void *owner;			/* taken off a cache or new: NULL, or
					 * what cubi_sched_set_owner gave */
	cub_coro_fn fn;
	void *arg;
	void *result;
	const char *name;		/* NULL: namebuf, filled lazily */
	const char *stack_name;		/* last given to cub_stack_set_name */
	struct cub_coro *joiner;	/* coroutine blocked in join on us */
	uint64_t id;
	char namebuf[24];		/* "coro#<id>" for unnamed ones */
};

/* The scheduler's state (coro.c, life.c). */
struct cubi_sched {
	struct cub_coro *cur;		/* running coroutine or NULL */
	struct cub_list runq;		/* READY coroutines, FIFO */
	struct cub_list all;		/* every unreleased coroutine */
	size_t live;			/* coroutines not DONE */
	size_t irq_waiters;		/* parked by cubi_sched_park_irq */
	uint64_t switches;		/* context switches so far */
	bool idling;			/* in cub_arch_idle, cur is parked */
	bool hooking;			/* a coroutine was ever hooked: resumes
					 * check for the switch hook */
	bool hook_on;			/* the hook's last call named a hooked
					 * coroutine (it is being charged) */
	struct cub_coro *reap;		/* ended, to free after the switch
					 * (cubi_after_switch, switch.h) */
	uint64_t loaded_tls;		/* last given to cub_arch_set_tls */
	uint64_t boot_tls;		/* inherited by spawns at boot */
	cubi_switch_hook_fn hook;	/* cubi_sched_set_switch_hook's */
	uintptr_t resumed_last;		/* cubi_resume_stride's: the record */
	intptr_t resumed_stride;	/* last resumed and its distance from
					 * the one before */
};

extern struct cubi_sched cubi_sched;

/*
 * Resume-order stride prediction, for park_tail_resumed (coro.c).
 * Coroutines spawned one after another lie at a constant distance in
 * memory (record.c), and chains, rings and pools of them are often woken
 * in that order or its reverse: W6's whisperers, the waiters of a wait
 * group or a broadcast (woken in the order they waited). With many of
 * them each wake-up's lines are DRAM misses, and leaving them to the
 * hardware's stride prefetchers made W6 take anywhere from 30 to 80 ns
 * a hop as the code's layout changed (docs/scheduler.md). When the last
 * three records resumed were equally spaced, returns the distance from c
 * to the record CUBI_RESUME_AHEAD resumes further along that line, for
 * its lines to be prefetched; otherwise 0 (also for a coroutine resumed
 * twice in a row). Interrupts disabled.
 */
#define CUBI_RESUME_AHEAD 6
static inline intptr_t cubi_resume_stride(struct cubi_sched *s,
					  const struct cub_coro *c)
{
	intptr_t d = (intptr_t)((uintptr_t)c - s->resumed_last);
	intptr_t o = d == s->resumed_stride ? d * CUBI_RESUME_AHEAD : 0;

	s->resumed_stride = d;
	s->resumed_last = (uintptr_t)c;
	return o;
}

/* record.c: records with stacks (see there). */
struct cub_coro *cubi_coro_cached_record(size_t size, bool small);
struct cub_coro *cubi_coro_alloc_record(size_t size, bool small);
void cubi_coro_release(struct cub_coro *c);	/* interrupts disabled */
bool cubi_coro_release_pending(void);		/* interrupts disabled */
CUB_NORETURN void cubi_coro_canary_failed(struct cub_coro *c);

/* Panics when the small stack of c (no guard page) lost its canary: run
 * at every switch away from c. Inline: it is on every switch path. */
static inline void cubi_coro_check_canary(struct cub_coro *c)
{
	if (c->small && CUB_UNLIKELY(!cub_stack_canary_intact(&c->stack)))
		cubi_coro_canary_failed(c);
}
void cubi_coro_default_name(struct cub_coro *c);

/* ps.c: the deadlock report; exits. Interrupts disabled. */
CUB_NORETURN void cubi_sched_deadlock(void);

/* timer.c: true while any timer is pending (idle can wait for it). */
bool cubi_timer_any(void);
/* timer.c: registers the platform timer handler. Contexts: boot. */
void cubi_timer_setup(void);
/* timer.c: arms the platform timer for min(earliest timer, extra) when
 * that changed; extra 0 = none. Interrupts disabled. */
void cubi_timer_rearm(void);

/* preempt.c: time slice handling. */
void cubi_preempt_setup(void);
/* Called with interrupts disabled whenever the run queue gains a
 * coroutine while another runs; starts the slice tick when needed. */
void cubi_preempt_kick(void);
/* cubi_preempt_deadline (sched_hooks.h): timer.c arms for it too. */
/* Called from the timer interrupt when the tick deadline passed. */
void cubi_preempt_tick(uint64_t now);

/* coro.c: switch away from the running (preempted) coroutine to the next
 * ready one; interrupts disabled. */
void cubi_sched_preempt_switch(void);

/* hooks.c: the CPU goes to `to` (a hooked coroutine, or NULL: to one that
 * is not, or to idle): calls the switch hook with its owner. Out of line:
 * only switches from or to a hooked coroutine get here. Interrupts
 * disabled. */
__attribute__((noinline)) void cubi_sched_call_hook(struct cub_coro *to);
/* hooks.c: a coroutine resumed (cur; NULL: back in cub_sched_run's
 * caller) once cubi_sched.hooking: calls the hook when cur is hooked or
 * the last call named a hooked coroutine. Interrupts disabled. */
__attribute__((noinline)) void cubi_sched_resumed_hooked(void);

#endif
