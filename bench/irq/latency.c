/*
 * latency.c - interrupt-to-coroutine latency in guest instructions.
 *
 * Booted under QEMU with -icount shift=0, where the TSC advances by one
 * per executed guest instruction, so rdtsc differences count instructions
 * (the emulator's speed does not enter the result).
 *
 *   irq     (default) a trigger coroutine reads the TSC and raises vector
 *           0x70 with `int`; the handler sends the value on a channel
 *           (cub_chan_send_isr), which readies the waiting coroutine; on
 *           interrupt exit the trigger yields, the waiter runs and
 *           records the TSC. Interrupt entry with SSE save, dispatch, the
 *           channel hand-off, the irq-exit hook, exit and the switch count.
 *   switch  the same coroutine pair handing over with cub_coro_yield():
 *           the cost of a plain coroutine switch, measured the same way.
 *
 * Prints the median over ROUNDS as "result: N instructions" and notes.
 */
#include <cubrt/chan.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#define ROUNDS 201
#define VEC 0x70

static struct cub_chan *ch;
static uint64_t t_start, samples[ROUNDS];
static volatile bool waiting;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void handler(void *ctx)
{
	(void)ctx;
	if (cub_chan_send_isr(ch, &t_start))
		cub_panic("bench: channel full");
}

static void *waiter_irq(void *arg)
{
	uint64_t t0;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		waiting = true;
		if (cub_chan_recv(ch, &t0) != 1)
			cub_panic("bench: recv");
		samples[i] = tsc() - t0;
	}
	return NULL;
}

static void *waiter_switch(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		waiting = true;
		cub_coro_yield();
		samples[i] = tsc() - t_start;
	}
	return NULL;
}

/* TSC ticks for a loop of exactly 2000 instructions (plus the lfence/
 * rdtsc pair): shows that under -icount shift=0 one tick = one guest
 * instruction. */
static uint64_t calibrate(void)
{
	uint64_t t0 = tsc();
	unsigned long n = 1000;

	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n));
	return tsc() - t0;
}

static uint64_t median(void)
{
	for (int i = 1; i < ROUNDS; i++)	/* insertion sort: small n */
		for (int j = i; j > 0 && samples[j - 1] > samples[j]; j--) {
			uint64_t t = samples[j];

			samples[j] = samples[j - 1];
			samples[j - 1] = t;
		}
	return samples[ROUNDS / 2];
}

int cub_main(void)
{
	bool irq = cub_strcmp(cub_cmdline(), "switch") != 0;
	struct cub_coro *w;
	uint64_t med;

	if (cub_chan_new(&ch, sizeof(uint64_t), 1) ||
	    cub_irq_register(CUB_IRQ_VECTOR(VEC), handler, NULL))
		cub_panic("bench: setup");
	if (cub_coro_spawn(&w, irq ? waiter_irq : waiter_switch, NULL, NULL))
		cub_panic("bench: spawn");
	for (int i = 0; i < ROUNDS; i++) {
		while (!waiting)
			cub_coro_yield();	/* let the waiter park again */
		waiting = false;
		t_start = tsc();
		if (irq)
			__asm__ volatile("int $0x70" ::: "memory");
		cub_coro_yield();
	}
	cub_coro_join(w, NULL);
	med = median();
	cub_printk("note: %s, median of %d rounds (min %lu, max %lu)\n",
		   irq ? "int -> handler -> cub_chan_send_isr -> coroutine"
		       : "cub_coro_yield -> coroutine", ROUNDS,
		   (unsigned long)samples[0], (unsigned long)samples[ROUNDS - 1]);
	cub_printk("note: a 2000-instruction loop measures %lu\n",
		   (unsigned long)calibrate());
	cub_printk("result: %lu instructions\n", (unsigned long)med);
	return 0;
}
