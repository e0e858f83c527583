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
 *   pipe        two coroutines bouncing 64 bytes through two pipes with
 *               read/write through the `syscall` instruction, per round trip
 *   chan        the same with two cubrt channels of 64-byte elements (the
 *               floor: what a program using cubrt directly pays)
 *   pipe-idle   pipe, while IDLE other coroutines sit blocked in read on
 *               pipes of their own that stay empty (what unrelated
 *               blocked threads cost the two that work)
 *   epoll-idle  pipe, each side waiting in epoll_wait on its own instance
 *               before it reads, while IDLE other coroutines wait in
 *               epoll_wait on instances of their own (event loops)
 *   touch       mmap 4 MiB of anonymous memory, write a byte to each page,
 *               munmap, per page: the pages come by demand faults (one per
 *               64 KiB block with fault-around)
 *   touch-1     the same with fault-around off (one fault per page)
 *   populate    the same with MAP_POPULATE: every frame taken in mmap, no
 *               fault (the floor, and what mmap cost before demand paging)
 * Prints "result: N instructions".
 */
#include <cubrt/chan.h>
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>
#include <cubrt/string.h>

#define CALLS 20000
#define TOUCH_PAGES 1024	/* 4 MiB */
#define TOUCH_ROUNDS 8

/* mm_fault.c's fault-around block, in pages (touch-1 sets it to 1). */
extern unsigned cubi_mm_fault_around;
#define HANDOFFS 5000
#define IDLE 16

static volatile uint32_t turn;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* A system call with four arguments (the rest, r8 and r9, zero). */
static inline long sys4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = 0;
	register long r9 __asm__("r9") = 0;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
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

/* Pipe round trips: side 0 writes first on pipes[0] and reads pipes[1]. */
static int pipes[2][2];
static struct cub_chan chans[2];

static void *pipe_side(void *arg)
{
	int me = (int)(uintptr_t)arg;
	char msg[64] = { 0 };

	for (int i = 0; i < HANDOFFS; i++) {
		if (me == 0)
			sys3(1, pipes[0][1], (long)msg, sizeof(msg));
		sys3(0, pipes[me == 0][0], (long)msg, sizeof(msg));
		if (me == 1)
			sys3(1, pipes[1][1], (long)msg, sizeof(msg));
	}
	return NULL;
}

/* epoll-idle: one instance per side, watching the pipe it reads. */
static int side_ep[2];

/* One epoll_wait, then the read it announced. */
static void epoll_read(int me, char *msg)
{
	uint8_t ev[12];

	sys4(281, side_ep[me], (long)ev, 1, -1);	/* epoll_pwait */
	sys3(0, pipes[me == 0][0], (long)msg, 64);
}

static void *epoll_side(void *arg)
{
	int me = (int)(uintptr_t)arg;
	char msg[64] = { 0 };

	for (int i = 0; i < HANDOFFS; i++) {
		if (me == 0)
			sys3(1, pipes[0][1], (long)msg, sizeof(msg));
		epoll_read(me, msg);
		if (me == 1)
			sys3(1, pipes[1][1], (long)msg, sizeof(msg));
	}
	return NULL;
}

/* Waits in epoll_wait on an instance of its own until the end. */
static void *idle_poller(void *arg)
{
	uint8_t ev[12];

	sys4(281, (int)(uintptr_t)arg, (long)ev, 1, -1);
	return NULL;
}

/* Blocks in read on its own pipe until the benchmark is over. */
static void *idle_reader(void *arg)
{
	char c;

	sys3(0, (int)(uintptr_t)arg, (long)&c, 1);
	return NULL;
}

static void *chan_side(void *arg)
{
	int me = (int)(uintptr_t)arg;
	char msg[64] = { 0 };

	for (int i = 0; i < HANDOFFS; i++) {
		if (me == 0)
			cub_chan_send(&chans[0], msg);
		cub_chan_recv(&chans[me == 0], msg);
		if (me == 1)
			cub_chan_send(&chans[1], msg);
	}
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

/* An epoll instance watching fd for input. */
static int epoll_on(int fd)
{
	int ep = (int)sys3(291, 0, 0, 0);			/* epoll_create1 */
	struct __attribute__((packed)) { uint32_t events; uint64_t data; } e = { 1, 0 };

	sys4(233, ep, 1, fd, (long)&e);				/* EPOLL_CTL_ADD */
	return ep;
}

/* The pipe round trip through epoll with IDLE idle event loops beside it. */
static uint64_t epoll_idle(void)
{
	static int idle[IDLE][2];
	struct cub_coro *c[IDLE];
	uint64_t per;

	for (int me = 0; me < 2; me++)
		side_ep[me] = epoll_on(pipes[me == 0][0]);
	for (int i = 0; i < IDLE; i++) {
		sys3(22, (long)idle[i], 0, 0);
		cub_coro_spawn(&c[i], idle_poller, (void *)(uintptr_t)epoll_on(idle[i][0]), NULL);
	}
	cub_coro_yield();	/* let them wait */
	per = pair(epoll_side) * 2;
	for (int i = 0; i < IDLE; i++) {
		sys3(1, idle[i][1], (long)"x", 1);
		cub_coro_join(c[i], NULL);
	}
	return per;
}

/* The pipe round trip with IDLE blocked readers beside it. */
static uint64_t pipe_idle(void)
{
	static int idle[IDLE][2];
	struct cub_coro *c[IDLE];
	uint64_t per;

	for (int i = 0; i < IDLE; i++) {
		sys3(22, (long)idle[i], 0, 0);
		cub_coro_spawn(&c[i], idle_reader, (void *)(uintptr_t)idle[i][0], NULL);
	}
	cub_coro_yield();	/* let them block */
	per = pair(pipe_side) * 2;
	for (int i = 0; i < IDLE; i++) {
		sys3(1, idle[i][1], (long)"x", 1);
		cub_coro_join(c[i], NULL);
	}
	return per;
}

/* mmap, a write to each page, munmap: instructions per page. */
static uint64_t touch(long flags)
{
	uint64_t t0 = tsc();

	for (int r = 0; r < TOUCH_ROUNDS; r++) {
		long n = TOUCH_PAGES * 4096l;
		volatile char *p = (volatile char *)sys4(9, 0, n, 3, flags);	/* mmap */

		for (long off = 0; off < n; off += 4096)
			p[off] = 1;
		sys3(11, (long)p, n, 0);					/* munmap */
	}
	return (tsc() - t0) / (TOUCH_PAGES * TOUCH_ROUNDS);
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
	} else if (!cub_strcmp(mode, "pipe")) {
		sys3(22, (long)pipes[0], 0, 0);
		sys3(22, (long)pipes[1], 0, 0);
		per = pair(pipe_side) * 2;	/* pair() counts hand-offs */
	} else if (!cub_strcmp(mode, "pipe-idle")) {
		sys3(22, (long)pipes[0], 0, 0);
		sys3(22, (long)pipes[1], 0, 0);
		per = pipe_idle();
	} else if (!cub_strcmp(mode, "epoll-idle")) {
		sys3(22, (long)pipes[0], 0, 0);
		sys3(22, (long)pipes[1], 0, 0);
		per = epoll_idle();
	} else if (!cub_strcmp(mode, "touch") || !cub_strcmp(mode, "touch-1")) {
		if (mode[5])
			cubi_mm_fault_around = 1;
		per = touch(0x22);				/* MAP_PRIVATE|ANONYMOUS */
	} else if (!cub_strcmp(mode, "populate")) {
		per = touch(0x22 | 0x8000);			/* | MAP_POPULATE */
	} else if (!cub_strcmp(mode, "chan")) {
		cub_chan_init(&chans[0], 64, 0, NULL);
		cub_chan_init(&chans[1], 64, 0, NULL);
		per = pair(chan_side) * 2;
	} else {
		cub_printk("usage: shim_qemu syscall|call|futex|yield|pipe|pipe-idle|epoll-idle|chan|"
			   "touch|touch-1|populate\n");
		return 2;
	}
	cub_printk("result: %lu instructions\n", (unsigned long)per);
	return 0;
}
