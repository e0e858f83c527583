/*
 * kids.h - Linux threads for the shim's host tests (test_shim_futex_pi.c,
 * test_shim_requeue_pi.c, test_shim_robust.c): clone'd threads, each with a TID of its own and a
 * stack of its own, running a body given as a C function and exiting
 * after it; joined through CLONE_CHILD_CLEARTID as pthread_join does; and
 * a gate each can be held at. Include after cmocka.h and sys.h. A thread
 * records what it saw in its struct kid; the test asserts on the main
 * coroutine (an assertion on a thread's own stack could not unwind).
 * Also the run and absolute-timeout helpers those tests share.
 */
#ifndef CUBRT_TEST_SHIM_KIDS_H
#define CUBRT_TEST_SHIM_KIDS_H

#include <cubrt/shim.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define KID_STACK_REGISTER(lo, hi) ((void)VALGRIND_STACK_REGISTER(lo, hi))
#else
#define KID_STACK_REGISTER(lo, hi) ((void)0)
#endif

/* A clone'd thread. ptid comes first: the entry finds its kid by it (the
 * clone's rdx, the parent-tid pointer, is the entry's third argument). */
struct kid {
	volatile uint32_t ptid, ctid;
	void (*body)(struct kid *);
	volatile uint32_t *word;
	volatile long rc, rc2;
	volatile uint32_t seen, seen2;	/* the word after its calls */
	volatile int order;		/* when it got the lock (1, 2, ...) */
	volatile uint32_t gate;		/* it waits while 0, if told to */
	long op;
	int64_t ts[2];
	int tid;
};

#define NSTACKS 24
#define STACK_WORDS 8192	/* 64 KiB: ASan's frames are large */
static uint64_t stacks[NSTACKS][STACK_WORDS] __attribute__((aligned(16)));
static int stacks_used;	/* each clone a fresh stack: a dead one's
			 * frames keep ASan's poison */

static inline void kid_entry(long flags, long sp, struct kid *k)
{
	(void)flags;
	(void)sp;
	k->body(k);
	SYS1(SYS_exit, 0);
	for (;;)
		;
}

/* Starts k->body in a new thread; returns when it first blocks (or ends). */
static inline void spawn(struct kid *k)
{
	uint64_t flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 |
			 0x100000 | 0x200000;
	uint64_t *top, rflags;
	struct cub_shim_regs r = { 0 };
	long tid;

	assert_true(stacks_used < NSTACKS);
	/* Told to valgrind as a stack of its own: the stacks lie closer
	 * than its --max-stackframe, so a switch from one to a higher one
	 * looked like a frame popped on one stack, and the threads' frames
	 * in between (a sleeper's record, read by another thread) turned
	 * inaccessible to it. */
	KID_STACK_REGISTER(stacks[stacks_used], stacks[stacks_used] + STACK_WORDS);
	top = &stacks[stacks_used++][STACK_WORDS - 1];
	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	top[0] = 0;	/* a return address kid_entry never uses */
	r.rax = SYS_clone;
	r.rdi = flags;
	r.rsi = (uint64_t)top;
	r.rdx = (uint64_t)&k->ptid;
	r.r10 = (uint64_t)&k->ctid;
	r.rip = (uint64_t)kid_entry;
	r.rflags = rflags;
	k->ctid = 1;
	tid = cub_shim_syscall(&r);
	assert_true(tid > 1);
	k->tid = (int)tid;
}

/* pthread_join: until the thread's exit clears its tid word. */
static inline void join(struct kid *k)
{
	while (k->ctid != 0)
		SYS6(SYS_futex, &k->ctid, 0 /* WAIT */, k->ctid, 0, 0, 0);
}

static inline void hold(struct kid *k)
{
	while (!k->gate)
		SYS6(SYS_futex, &k->gate, 0 /* WAIT */, 0, 0, 0, 0);
}

static inline void release(struct kid *k)
{
	k->gate = 1;
	SYS6(SYS_futex, &k->gate, 1 /* WAKE */, 1, 0, 0, 0);
}

/* Runs body as the first coroutine; its result. */
static inline void *kids_run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

/* ts = an absolute time ms from now on clock clk (0 REALTIME, 1
 * MONOTONIC), as futex timeouts take it. */
static inline void kids_at(int64_t ts[2], int clk, long ms)
{
	const int64_t ms_ns = 1000000;

	assert_int_equal(SYS2(SYS_clock_gettime, clk, ts), 0);
	ts[1] += ms * ms_ns;
	ts[0] += ts[1] / (1000 * ms_ns);
	ts[1] %= 1000 * ms_ns;
}

#endif
