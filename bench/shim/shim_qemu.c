/*
 * shim_qemu.c - system-call costs on bare metal, in guest instructions.
 *
 * Booted under QEMU with -icount shift=0, where the TSC advances by one
 * per executed instruction, so rdtsc differences count instructions.
 *   syscall     getpid through the `syscall` instruction (entry, frame,
 *               FXSAVE, dispatch, iretq): the null system call
 *   call        getpid by calling the dispatcher directly (the floor)
 *   futex       two coroutines handing a token back and forth with futex
 *               wait/wake through the `syscall` instruction, per hand-off
 *   yield       two coroutines handing over with cub_coro_yield (the floor)
 * Prints "result: N instructions".
 */
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>
#include <cubrt/string.h>

#define CALLS 20000
#define HANDOFFS 5000

static volatile uint32_t turn;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A system call with three arguments; the fourth (r10: futex's timeout)
 * is zero, as the C library passes it. */
static inline long sys3(long nr, long a, long b, long c)
{
	register long r10 __asm__("r10") = 0;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static void *side(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;

	for (int i = 0; i < HANDOFFS; i++) {
		while (turn != me)
			sys3(202, (long)&turn, 128, (long)!me);	/* FUTEX_WAIT_PRIVATE */
		turn = !me;
		sys3(202, (long)&turn, 129, 1);			/* FUTEX_WAKE_PRIVATE */
	}
	return NULL;
}

static void *yielder(void *arg)
{
	(void)arg;
	for (int i = 0; i < HANDOFFS; i++)
		cub_coro_yield();
	return NULL;
}

static uint64_t pair(cub_coro_fn fn)
{
	struct cub_coro *a, *b;
	uint64_t t0 = tsc();

	cub_coro_spawn(&a, fn, (void *)0, NULL);
	cub_coro_spawn(&b, fn, (void *)1, NULL);
	cub_coro_join(a, NULL);
	cub_coro_join(b, NULL);
	return (tsc() - t0) / (2 * HANDOFFS);
}

int cub_main(void)
{
	const char *mode = cub_cmdline();
	uint64_t t0, per;

	cub_shim_init();
	if (!cub_strcmp(mode, "syscall")) {
		t0 = tsc();
		for (int i = 0; i < CALLS; i++)
			sys3(39, 0, 0, 0);
		per = (tsc() - t0) / CALLS;
	} else if (!cub_strcmp(mode, "call")) {
		t0 = tsc();
		for (int i = 0; i < CALLS; i++)
			cub_shim_call(39, 0, 0, 0, 0, 0, 0);
		per = (tsc() - t0) / CALLS;
	} else if (!cub_strcmp(mode, "futex")) {
		per = pair(side);
	} else if (!cub_strcmp(mode, "yield")) {
		per = pair(yielder);
	} else {
		cub_printk("usage: shim_qemu syscall|call|futex|yield\n");
		return 2;
	}
	cub_printk("result: %lu instructions\n", (unsigned long)per);
	return 0;
}
