/*
 * chan_irq.c - channels on bare metal: ping-pong between coroutines, and
 * an interrupt source (a periodic cub_timer, whose callback runs in irq
 * context) feeding values to coroutines through the _isr calls at a fast
 * rate: no value lost, duplicated or reordered, no lost wake-up (a lost
 * wake-up hangs the receiver and the runner's timeout fails the test).
 * Also a ticker composed with select and a deadline, and a context
 * tree cancelled by its deadline from the timer interrupt, whose value
 * a later timer callback still reads (a lookup in irq context).
 */
#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/context.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#define FAIL(...)                                                   \
	do {                                                        \
		cub_printk("chan_irq: FAIL: " __VA_ARGS__);         \
		cub_exit(1);                                        \
	} while (0)

/* ------------------------------------------------------------ ping-pong */

static struct cub_chan ping, pong;

static void *ponger(void *arg)
{
	uint64_t v;

	(void)arg;
	while (cub_chan_recv(&ping, &v) == 1) {
		v++;
		cub_chan_send(&pong, &v);
	}
	cub_chan_close(&pong);
	return NULL;
}

static void pingpong(void)
{
	uint64_t v = 0, i;

	cub_chan_init(&ping, sizeof(v), 0, NULL);
	cub_chan_init(&pong, sizeof(v), 0, NULL);
	cub_coro_spawn(NULL, ponger, NULL, NULL);
	for (i = 0; i < 20000; i++) {
		if (cub_chan_send(&ping, &v) || cub_chan_recv(&pong, &v) != 1 ||
		    v != i + 1)
			FAIL("ping-pong round %llu got %llu\n",
			     (unsigned long long)i, (unsigned long long)v);
	}
	cub_chan_close(&ping);
	if (cub_chan_recv(&pong, &v) != 0)
		FAIL("pong not closed\n");
	cub_printk("chan_irq: ping-pong: 20000 round trips\n");
}

/* ------------------------------------------------------- irq-fed values */

struct feed {
	struct cub_chan c;
	uint32_t buf[8];
	struct cub_timer t;
	uint64_t period;
	uint32_t next;		/* next value to deliver */
	uint32_t attempts, dropped;
	bool stop;
};

/* irq context, interrupts off: deliver the next value if there is room or
 * a parked receiver; the receiver is woken and runs on interrupt exit. */
static void feed_tick(struct cub_timer *t, void *arg)
{
	struct feed *f = arg;

	if (!cub_arch_in_irq())
		FAIL("timer callback outside irq context\n");
	if (f->stop)
		return;
	f->attempts++;
	if (cub_chan_send_isr(&f->c, &f->next) == 0)
		f->next++;
	else
		f->dropped++;
	cub_timer_start(t, cub_time_now() + f->period);
}

static void irq_feed(size_t cap, uint32_t want, uint64_t period)
{
	static struct feed f;
	uint32_t v, got = 0;

	f = (struct feed){ .period = period };
	cub_chan_init(&f.c, sizeof(uint32_t), cap, cap ? f.buf : NULL);
	cub_timer_init(&f.t, feed_tick, &f);
	cub_timer_start(&f.t, cub_time_now() + period);
	while (got < want) {
		if (cub_chan_recv(&f.c, &v) != 1 || v != got)
			FAIL("irq feed (cap %zu): value %u, expected %u\n", cap,
			     v, got);
		got++;
	}
	{
		unsigned long s = cub_arch_irq_save();

		f.stop = true;
		cub_timer_stop(&f.t);
		cub_arch_irq_restore(s);
	}
	while (cub_chan_try_recv(&f.c, &v) == 1) {
		if (v != got++)
			FAIL("irq feed tail: %u\n", v);
	}
	if (got < want || got != f.next || f.attempts != f.next + f.dropped)
		FAIL("irq feed: got %u, delivered %u, attempts %u, dropped %u\n",
		     got, f.next, f.attempts, f.dropped);
	cub_printk("chan_irq: irq feed (cap %zu, period %llu us): %u values, "
		   "%u interrupts, %u found no room, all in order\n", cap,
		   (unsigned long long)(period / 1000), got, f.attempts,
		   f.dropped);
}

/* --------------------------------------------------- ticker and select */

static void ticker_select(void)
{
	struct cub_ticker tk;
	struct cub_chan never;
	uint64_t stamp, prev = 0;
	int v, ticks = 0, r;
	struct cub_select_case k[2] = {
		{ .chan = &never, .dir = CUB_SELECT_RECV, .elem = &v },
		{ .chan = cub_ticker_chan(&tk), .dir = CUB_SELECT_RECV,
		  .elem = &stamp },
	};

	cub_chan_init(&never, sizeof(int), 0, NULL);
	cub_ticker_init(&tk, 500 * CUB_NSEC_PER_USEC, 0);
	while (ticks < 10) {
		r = cub_select_timeout(k, 2, 100 * CUB_NSEC_PER_MSEC);
		if (r != 1 || stamp <= prev)
			FAIL("ticker select returned %d\n", r);
		prev = stamp;
		ticks++;
	}
	cub_ticker_stop(&tk);
	r = cub_select_timeout(k, 1, 2 * CUB_NSEC_PER_MSEC);
	if (r != -CUB_ETIMEDOUT)
		FAIL("deadline select returned %d\n", r);
	cub_printk("chan_irq: ticker: 10 ticks through select; deadline expired\n");
}

/* --------------------------------------------------------- contexts */

static void *ctx_waiter(void *arg)
{
	return (void *)(intptr_t)cub_chan_recv(cub_context_done(arg), NULL);
}

static const char ctx_key = 'k';
static void *ctx_irq_value = &ctx_irq_value;	/* not yet looked up */

/* irq context: the deepest context's value, after its cancellation. */
static void ctx_lookup(struct cub_timer *t, void *arg)
{
	(void)t;
	if (!cub_arch_in_irq())
		FAIL("timer callback outside irq context\n");
	ctx_irq_value = cub_context_value(arg, &ctx_key);
}

/* A tree of contexts under one deadline: the APIC timer's interrupt
 * cancels it, and every waiter below wakes with -CUB_ETIMEDOUT; the
 * value above it stays readable, from a timer callback too. */
static void context_deadline(void)
{
	struct cub_context vc, root, kid[4];
	struct cub_coro *co[4];
	struct cub_timer lookup;
	uint64_t t0 = cub_time_now();
	void *r;

	cub_context_init_value(&vc, NULL, &ctx_key, &vc);
	cub_context_init_deadline(&root, &vc, t0 + 3 * CUB_NSEC_PER_MSEC);
	for (int i = 0; i < 4; i++) {
		cub_context_init(&kid[i], i ? &kid[i - 1] : &root);
		if (cub_coro_spawn(&co[i], ctx_waiter, &kid[i], NULL))
			FAIL("spawn\n");
	}
	for (int i = 0; i < 4; i++) {
		if (cub_coro_join(co[i], &r) || r != NULL ||
		    cub_context_err(&kid[i]) != -CUB_ETIMEDOUT)
			FAIL("context %d: err %d\n", i, cub_context_err(&kid[i]));
	}
	if (cub_time_now() < t0 + 3 * CUB_NSEC_PER_MSEC)
		FAIL("context deadline early\n");
	cub_timer_init(&lookup, ctx_lookup, &kid[3]);
	cub_timer_start(&lookup, cub_time_now());
	while (ctx_irq_value == &ctx_irq_value)
		cub_sleep(CUB_NSEC_PER_MSEC);
	if (ctx_irq_value != &vc)
		FAIL("context value in irq: %p\n", ctx_irq_value);
	for (int i = 3; i >= 0; i--)
		cub_context_release(&kid[i]);
	cub_context_release(&root);
	cub_context_release(&vc);
	cub_printk("chan_irq: context: a deadline cancelled 4 levels, "
		   "its value read in irq context\n");
}

int cub_main(void)
{
	pingpong();
	irq_feed(8, 3000, 20 * CUB_NSEC_PER_USEC);
	irq_feed(1, 2000, 10 * CUB_NSEC_PER_USEC);
	irq_feed(0, 1000, 10 * CUB_NSEC_PER_USEC);
	irq_feed(8, 5000, 2 * CUB_NSEC_PER_USEC);	/* as fast as TCG goes */
	ticker_select();
	context_deadline();
	cub_printk("chan_irq: OK\n");
	return 0;
}
