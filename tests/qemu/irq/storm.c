/*
 * storm.c - an interrupt storm loses nothing: for STORM_IRQS interrupts
 * (at most STORM_MAX_MS) the PIT fires at 20 kHz and its handler sends
 * sequence numbers on a buffered channel (cub_chan_send_isr); meanwhile
 * a producer and a consumer exchange numbered messages over an unbuffered
 * channel, and sleepers wake every few hundred microseconds on the APIC
 * timer. Every interrupt's message
 * must arrive in order, every task message must arrive in order, and
 * every sleeper must complete all its wake-ups.
 */
#include <cubrt/chan.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "util.h"

#define STORM_IRQS 30000	/* 1.5 s at 20 kHz, longer on a loaded host */
#define STORM_MAX_MS 20000
#define SLEEPERS 4

static struct cub_chan *isr_ch, *task_ch;
static volatile uint64_t isr_sent, isr_full;
static volatile bool stop;
static uint64_t sleeps_done[SLEEPERS];

static void pit_handler(void *ctx)
{
	uint64_t seq = isr_sent;

	(void)ctx;
	if (stop)
		return;
	if (cub_chan_send_isr(isr_ch, &seq) == 0)
		isr_sent++;
	else
		isr_full++;	/* buffer full: not sent, so not lost */
}

static void *isr_reader(void *arg)
{
	uint64_t want = 0, got;

	(void)arg;
	while (cub_chan_recv(isr_ch, &got) == 1) {
		if (got != want) {
			cub_printk("FAIL: isr message %lu, want %lu\n",
				   (unsigned long)got, (unsigned long)want);
			cub_exit(1);
		}
		want++;
	}
	return (void *)(uintptr_t)want;
}

static void *producer(void *arg)
{
	uint64_t n = 0;

	(void)arg;
	while (!stop) {
		CHECK_EQ(cub_chan_send(task_ch, &n), 0);
		n++;
	}
	CHECK_EQ(cub_chan_close(task_ch), 0);
	return (void *)(uintptr_t)n;
}

static void *consumer(void *arg)
{
	uint64_t want = 0, got;

	(void)arg;
	while (cub_chan_recv(task_ch, &got) == 1) {
		CHECK_EQ(got, want);
		want++;
	}
	return (void *)(uintptr_t)want;
}

static void *sleeper(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;

	while (!stop) {
		cub_sleep((200 + 100 * id) * CUB_NSEC_PER_USEC);
		sleeps_done[id]++;
	}
	return NULL;
}

int cub_main(void)
{
	struct cub_coro *r, *p, *c, *s[SLEEPERS];
	void *got_isr, *sent, *recvd;
	uint64_t pit0 = cub_irq_count(CUB_IRQ_PIT);
	uint64_t t_end = cub_time_now() + STORM_MAX_MS * CUB_NSEC_PER_MSEC;

	CHECK_EQ(cub_chan_new(&isr_ch, sizeof(uint64_t), 4096), 0);
	CHECK_EQ(cub_chan_new(&task_ch, sizeof(uint64_t), 0), 0);
	CHECK_EQ(cub_coro_spawn(&r, isr_reader, NULL, NULL), 0);
	CHECK_EQ(cub_coro_spawn(&p, producer, NULL, NULL), 0);
	CHECK_EQ(cub_coro_spawn(&c, consumer, NULL, NULL), 0);
	for (unsigned i = 0; i < SLEEPERS; i++)
		CHECK_EQ(cub_coro_spawn(&s[i], sleeper, (void *)(uintptr_t)i, NULL), 0);
	CHECK_EQ(cub_irq_register(CUB_IRQ_PIT, pit_handler, NULL), 0);
	pit_periodic(20000);
	/* Counted in PIT interrupts, which keep real time: the TSC clock
	 * can be calibrated far off on a loaded host. */
	while (cub_time_now() < t_end &&
	       cub_irq_count(CUB_IRQ_PIT) - pit0 < STORM_IRQS)
		cub_sleep(10 * CUB_NSEC_PER_MSEC);
	stop = true;
	pit_periodic(0);
	CHECK_EQ(cub_irq_unregister(CUB_IRQ_PIT), 0);
	CHECK_EQ(cub_chan_close(isr_ch), 0);
	CHECK_EQ(cub_coro_join(r, &got_isr), 0);
	CHECK_EQ(cub_coro_join(p, &sent), 0);
	CHECK_EQ(cub_coro_join(c, &recvd), 0);
	for (unsigned i = 0; i < SLEEPERS; i++) {
		CHECK_EQ(cub_coro_join(s[i], NULL), 0);
		CHECK(sleeps_done[i] > 0);
	}
	CHECK_EQ((uintptr_t)got_isr, isr_sent);
	CHECK_EQ((uintptr_t)sent, (uintptr_t)recvd);
	CHECK(cub_irq_count(CUB_IRQ_PIT) - pit0 >= 1000);
	cub_printk("storm: %lu PIT interrupts, %lu isr messages (%lu refused "
		   "when full), %lu task messages, sleeper wake-ups %lu/%lu/%lu/%lu\n",
		   (unsigned long)(cub_irq_count(CUB_IRQ_PIT) - pit0),
		   (unsigned long)isr_sent, (unsigned long)isr_full,
		   (unsigned long)(uintptr_t)recvd,
		   (unsigned long)sleeps_done[0], (unsigned long)sleeps_done[1],
		   (unsigned long)sleeps_done[2], (unsigned long)sleeps_done[3]);
	cub_printk("irq storm: ok\n");
	return 0;
}
