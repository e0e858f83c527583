/*
 * sleeps.c - timer-driven sleeps on the local APIC timer (tickless): ten
 * coroutines sleep for shuffled durations and must wake in deadline order,
 * never early and at most TOLERANCE late. Booted with -icount so virtual
 * time is deterministic. Between wake-ups nothing is due, so the timer
 * interrupt count must stay close to the number of sleeps (no periodic
 * tick).
 */
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "util.h"

#define N 10
#define TOLERANCE (2 * CUB_NSEC_PER_MSEC)

static const unsigned ms[N] = { 50, 10, 90, 30, 70, 20, 100, 60, 40, 80 };
static unsigned order[N], n_woken;
static uint64_t late[N];
static uint64_t t0;

static void *sleeper(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	uint64_t deadline = t0 + ms[i] * CUB_NSEC_PER_MSEC;
	uint64_t now;

	cub_sleep_until(deadline);
	now = cub_time_now();
	CHECK(now >= deadline);
	late[i] = now - deadline;
	order[n_woken++] = i;
	return NULL;
}

int cub_main(void)
{
	struct cub_coro *c[N];
	uint64_t timer0 = cub_irq_count(CUB_IRQ_VECTOR(0xF0)), fired;
	uint64_t worst = 0;

	t0 = cub_time_now() + 5 * CUB_NSEC_PER_MSEC;
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(cub_coro_spawn(&c[i], sleeper, (void *)(uintptr_t)i, NULL), 0);
	for (unsigned i = 0; i < N; i++)
		CHECK_EQ(cub_coro_join(c[i], NULL), 0);
	for (unsigned k = 1; k < N; k++)
		CHECK(ms[order[k - 1]] < ms[order[k]]);
	for (unsigned i = 0; i < N; i++) {
		worst = CUB_MAX(worst, late[i]);
		if (late[i] > TOLERANCE) {
			cub_printk("FAIL: sleep of %u ms woke %lu ns late\n", ms[i],
				   (unsigned long)late[i]);
			return 1;
		}
	}
	fired = cub_irq_count(CUB_IRQ_VECTOR(0xF0)) - timer0;
	cub_printk("woke in order; worst lateness %lu us; %lu timer "
		   "interrupts for %d sleeps\n", (unsigned long)(worst / 1000),
		   (unsigned long)fired, N);
	CHECK(fired >= 1 && fired <= 3 * N);
	cub_printk("irq sleeps: ok\n");
	return 0;
}
