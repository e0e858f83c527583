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
 *   idle    a device interrupt wakes an idle machine: the waiter parks on
 *           the channel, the main coroutine starts the PIT (one-shot, ISA
 *           line 0) and sleeps, the scheduler halts. With -icount
 *           sleep=off, virtual time jumps to the PIT's expiry, which is
 *           known from when it was loaded, so the waiter's TSC minus that
 *           expiry counts the instructions from the interrupt to the
 *           coroutine: entry, dispatch, the channel, exit, the scheduler
 *           leaving its idle loop and the switch (give or take the few
 *           instructions between reading the TSC and loading the PIT).
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
#include <cubrt/time.h>

#define ROUNDS 201
#define VEC 0x70
#define PIT_HZ 1193182ull
#define PIT_COUNT 100		/* about 84 us */

enum mode { IRQ, IDLE, SWITCH };

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

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* Loads PIT channel 0 in one-shot mode; returns the expiry in TSC ticks
 * (= ns = instructions under -icount shift=0). */
static uint64_t pit_oneshot(void)
{
	uint64_t t;

	outb(0x43, 0x30);		/* channel 0, lo/hi, mode 0 */
	outb(0x40, PIT_COUNT & 0xFF);
	t = tsc();
	outb(0x40, PIT_COUNT >> 8);	/* the count starts here */
	return t + PIT_COUNT * 1000000000ull / PIT_HZ;
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

static const char *const what[] = {
	"int -> handler -> cub_chan_send_isr -> coroutine (busy CPU, yield)",
	"PIT interrupt on an idle CPU -> cub_chan_send_isr -> coroutine",
	"cub_coro_yield -> coroutine",
};

int cub_main(void)
{
	enum mode m = !cub_strcmp(cub_cmdline(), "switch") ? SWITCH :
		      !cub_strcmp(cub_cmdline(), "idle") ? IDLE : IRQ;
	struct cub_coro *w;
	uint64_t med;

	if (cub_chan_new(&ch, sizeof(uint64_t), 1) ||
	    cub_irq_register(m == IDLE ? CUB_IRQ_PIT : CUB_IRQ_VECTOR(VEC),
			     handler, NULL))
		cub_panic("bench: setup");
	if (cub_coro_spawn(&w, m == SWITCH ? waiter_switch : waiter_irq, NULL, NULL))
		cub_panic("bench: spawn");
	for (int i = 0; i < ROUNDS; i++) {
		while (!waiting)
			cub_coro_yield();	/* let the waiter park again */
		waiting = false;
		if (m == IDLE) {
			t_start = pit_oneshot();
			cub_sleep(1000000);	/* idle until the PIT fires */
			continue;
		}
		t_start = tsc();
		if (m == IRQ)
			__asm__ volatile("int $0x70" ::: "memory");
		cub_coro_yield();
	}
	cub_coro_join(w, NULL);
	med = median();
	cub_printk("note: %s, median of %d rounds (min %lu, max %lu)\n",
		   what[m], ROUNDS, (unsigned long)samples[0],
		   (unsigned long)samples[ROUNDS - 1]);
	cub_printk("note: a 2000-instruction loop measures %lu\n",
		   (unsigned long)calibrate());
	cub_printk("result: %lu instructions\n", (unsigned long)med);
	return 0;
}
