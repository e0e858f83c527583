/*
 * preempt.c - the irq-exit hook switches coroutines: with the scheduler's
 * time slices on, three coroutines spin in spin.S (never yielding, live
 * data in their red zones, XMM, x87 and general registers) while a PIT
 * storm runs a handler that clobbers SSE/x87. Each is preempted from its
 * irq-exit hook many times, resumed later through the frame left on its
 * own stack, and must find all of its state intact.
 */
#include <cubrt/sched.h>

#include "spin.h"

/* The scheduler's slice control (src/sched/preempt.c). */
uint64_t cubi_preempt_set_slice(uint64_t ns);
uint64_t cubi_preempt_count(void);

#define MIN_PREEMPTIONS 6
#define MAX_ROUNDS 200

static volatile uint64_t ticks;
static volatile unsigned rounds_done[3];
static uint64_t p0;

static void tick(void *ctx)
{
	(void)ctx;
	ticks++;
	__asm__ volatile("pcmpeqd %%xmm3, %%xmm3\n\tfninit" ::: "xmm3");
}

static void *spinner(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	struct spin_state in, out;

	/* At least 3 rounds, and until the scheduler preempted enough (a
	 * slice is 1 ms of the TSC clock, whatever its calibration). */
	for (unsigned r = 0; r < 3 || (cubi_preempt_count() - p0 < MIN_PREEMPTIONS &&
				       r < MAX_ROUNDS); r++) {
		spin_fill(&in, 100 * id + r);
		irq_test_spin(&ticks, ticks + 300, &out, &in);
		spin_check(&out, &in, cub_coro_name(cub_coro_self()));
		rounds_done[id]++;
	}
	return NULL;
}

int cub_main(void)
{
	static const char *const names[3] = { "spin0", "spin1", "spin2" };
	struct cub_coro *c[3];

	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, tick, NULL), 0);
	pit_periodic(20000);
	cubi_preempt_set_slice(1000000);	/* 1 ms */
	p0 = cubi_preempt_count();
	for (unsigned i = 0; i < 3; i++) {
		struct cub_coro_attr a = { .name = names[i] };

		CHECK_EQ(cub_coro_spawn(&c[i], spinner, (void *)(uintptr_t)i, &a), 0);
	}
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(cub_coro_join(c[i], NULL), 0);
	cubi_preempt_set_slice(0);
	pit_periodic(0);
	for (unsigned i = 0; i < 3; i++)
		CHECK(rounds_done[i] >= 3);
	cub_printk("preemptions from the irq-exit hook: %lu, %lu interrupts\n",
		   (unsigned long)(cubi_preempt_count() - p0),
		   (unsigned long)ticks);
	CHECK(cubi_preempt_count() - p0 >= MIN_PREEMPTIONS);
	cub_printk("irq preempt: ok\n");
	return 0;
}
