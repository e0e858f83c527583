/*
 * test_time.c - channels, time and interrupts: select deadlines and their
 * cancellation, tickers (periodic, one-shot, stop, dropped ticks), timer
 * callbacks (irq context) feeding channels and completing parked selects,
 * and the panic for a blocking call from irq context.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "chan_test.h"
#include "../slow.h"

#define RECV(ch, p) { .chan = (ch), .dir = CUB_SELECT_RECV, .elem = (p) }
#define SEND(ch, p) { .chan = (ch), .dir = CUB_SELECT_SEND, .elem = (p) }

/* -------------------------------------------------------- deadlines */

static void *deadline_main(void *arg)
{
	struct cub_chan a;
	int v = 0;
	struct cub_select_case k[1] = { RECV(&a, &v) };
	uint64_t t0, dl, w0;
	struct peer p = { &a, 77, -99 };
	int r;
	struct cub_coro *co;

	(void)arg;
	cub_chan_init(&a, sizeof(int), 0, NULL);
	/* Expiry. */
	t0 = cub_time_now();
	dl = t0 + 2 * CUB_NSEC_PER_MSEC;
	assert_int_equal(cub_select_deadline(k, 1, dl), -CUB_ETIMEDOUT);
	assert_true(cub_time_now() >= dl);
	assert_int_equal(cub_select_timeout(k, 1, CUB_NSEC_PER_MSEC),
			 -CUB_ETIMEDOUT);
	/* The withdrawn case left no waiter behind. */
	assert_int_equal(cub_chan_try_send(&a, &v), -CUB_EAGAIN);
	/* A deadline in the past: immediate. */
	assert_int_equal(cub_select_deadline(k, 1, 0), -CUB_ETIMEDOUT);
	assert_int_equal(cub_chan_recv_deadline(&a, &v, 1), -CUB_ETIMEDOUT);
	assert_int_equal(cub_chan_send_deadline(&a, &v, 1), -CUB_ETIMEDOUT);
	/*
	 * A case fires first (the peer runs as soon as we park): the timer is
	 * cancelled and never fires into the finished call's frame. The peer
	 * needs microseconds; only a thread kept from its CPU for most of the
	 * 200 ms (test_waited_ns: a crowded machine) lets the deadline win,
	 * and then the value is still the peer's to receive.
	 */
	w0 = test_waited_ns();
	cub_coro_spawn(&co, peer_send, &p, NULL);
	r = cub_chan_recv_deadline(&a, &v, cub_time_now() + 200 * CUB_NSEC_PER_MSEC);
	if (r == -CUB_ETIMEDOUT) {
		assert_true(test_waited_ns() - w0 >= 100 * CUB_NSEC_PER_MSEC);
		r = cub_chan_recv(&a, &v);
	}
	assert_int_equal(r, 1);
	assert_int_equal(v, 77);
	cub_coro_join(co, NULL);
	p.v = 78;
	cub_coro_spawn(&co, peer_recv, &p, NULL);
	v = 79;
	assert_int_equal(cub_chan_send_deadline(&a, &v,
		cub_time_now() + 10 * CUB_NSEC_PER_SEC), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(p.v, 79);
	cub_sleep(300 * CUB_NSEC_PER_MSEC);	/* a stale timer would fault */
	cub_chan_close(&a);
	assert_int_equal(cub_chan_send_deadline(&a, &v, UINT64_MAX), -CUB_EPIPE);
	assert_int_equal(cub_chan_recv_deadline(&a, &v, UINT64_MAX), 0);
	return NULL;
}

static void test_deadline(void **state)
{
	(void)state;
	chan_test_run(deadline_main, NULL);
}

/* -------------------------------------------------------- tickers */

static void *ticker_main(void *arg)
{
	struct cub_ticker t, once;
	struct cub_ticker *heap_t;
	uint64_t stamp, prev = 0, t0 = cub_time_now();
	int i;

	(void)arg;
	assert_int_equal(cub_ticker_init(NULL, 1, 0), -CUB_EINVAL);
	assert_int_equal(cub_ticker_init(&t, 0, 0), -CUB_EINVAL);
	assert_int_equal(cub_ticker_init(&t, 1, 8), -CUB_EINVAL);
	assert_int_equal(cub_ticker_new(NULL, 1, 0), -CUB_EINVAL);

	assert_int_equal(cub_ticker_init(&t, CUB_NSEC_PER_MSEC, 0), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(cub_chan_recv(cub_ticker_chan(&t), &stamp), 1);
		assert_true(stamp > prev);
		assert_true(stamp >= t0 + (uint64_t)(i + 1) * CUB_NSEC_PER_MSEC);
		prev = stamp;
	}
	assert_true(cub_ticker_stop(&t));
	assert_false(cub_ticker_stop(&t));
	cub_sleep(5 * CUB_NSEC_PER_MSEC);
	/* At most the tick buffered before the stop, then nothing. */
	if (cub_chan_try_recv(cub_ticker_chan(&t), &stamp) == 1)
		assert_true(stamp > prev);
	assert_int_equal(cub_chan_try_recv(cub_ticker_chan(&t), &stamp),
			 -CUB_EAGAIN);

	/* One-shot (Go's time.After) composes with select as a timeout. */
	assert_int_equal(cub_ticker_init(&once, 2 * CUB_NSEC_PER_MSEC,
					 CUB_TICKER_ONCE), 0);
	{
		struct cub_chan never;
		int v;
		struct cub_select_case k[2] = {
			RECV(&never, &v), RECV(cub_ticker_chan(&once), &stamp) };

		cub_chan_init(&never, sizeof(int), 0, NULL);
		assert_int_equal(cub_select(k, 2), 1);
		assert_true(k[1].ok);
	}
	assert_false(cub_ticker_stop(&once));	/* already fired */
	cub_sleep(4 * CUB_NSEC_PER_MSEC);
	assert_int_equal(cub_chan_try_recv(cub_ticker_chan(&once), &stamp),
			 -CUB_EAGAIN);

	/* A slow receiver sees dropped ticks, never a backlog. */
	assert_int_equal(cub_ticker_new(&heap_t, CUB_NSEC_PER_MSEC / 4, 0), 0);
	cub_sleep(5 * CUB_NSEC_PER_MSEC);
	assert_true(cub_chan_len(cub_ticker_chan(heap_t)) <= 1);
	assert_int_equal(cub_chan_recv(cub_ticker_chan(heap_t), &stamp), 1);
	assert_int_equal(cub_ticker_free(heap_t), 0);
	assert_int_equal(cub_ticker_free(&t), -CUB_EINVAL);
	assert_int_equal(cub_ticker_free(NULL), 0);
	return NULL;
}

static void test_ticker(void **state)
{
	(void)state;
	chan_test_run(ticker_main, NULL);
}

/* --------------------------------------------------------- irq context */

/* A timer callback (irq context) feeds a coroutine through _isr calls. */
struct isr_feed {
	struct cub_chan c;
	int buf[4];
	struct cub_timer t;
	int next, n, dropped;
};

static void feed_tick(struct cub_timer *t, void *arg)
{
	struct isr_feed *f = arg;

	assert_true(cub_arch_in_irq());
	if (cub_chan_send_isr(&f->c, &f->next) == 0)
		f->next++;
	else
		f->dropped++;
	if (f->next < f->n)
		cub_timer_start(t, cub_time_now() + 20000);
	else
		assert_int_equal(cub_chan_close(&f->c), 0);
}

static void *isr_main(void *arg)
{
	struct isr_feed f;
	int v, want = 0;

	(void)arg;
	assert_int_equal(cub_chan_init(&f.c, sizeof(int), 4, f.buf), 0);
	f.next = 0;
	f.n = 200;
	f.dropped = 0;
	cub_timer_init(&f.t, feed_tick, &f);
	cub_timer_start(&f.t, cub_time_now() + 20000);
	while (cub_chan_recv(&f.c, &v) == 1)
		assert_int_equal(v, want++);
	assert_int_equal(want, 200);
	return NULL;
}

static void test_isr_feed(void **state)
{
	(void)state;
	chan_test_run(isr_main, NULL);
}

static void block_in_irq(struct cub_timer *t, void *arg)
{
	int v = 0;

	(void)t;
	cub_chan_send(arg, &v);
}

static void *irq_block_main(void *arg)
{
	struct cub_chan c;
	struct cub_timer t;

	(void)arg;
	cub_chan_init(&c, sizeof(int), 0, NULL);
	cub_timer_init(&t, block_in_irq, &c);
	cub_timer_start(&t, cub_time_now());
	cub_sleep(50 * CUB_NSEC_PER_MSEC);
	return NULL;
}

static void test_block_in_irq_panics(void **state)
{
	(void)state;
	chan_test_expect_fault("irq-block",
			       "chan send: blocking call from interrupt context", NULL);
}

static void isr_close(struct cub_timer *t, void *arg)
{
	(void)t;
	assert_int_equal(cub_chan_close(arg), 0);
}

/* A timer callback (irq context) completes a parked select. */
static void isr_send(struct cub_timer *t, void *arg)
{
	static int v = 1234;

	(void)t;
	assert_true(cub_arch_in_irq());
	assert_int_equal(cub_chan_send_isr(arg, &v), 0);
}

static void *isr_select_main(void *arg)
{
	struct cub_chan a, b;
	struct cub_timer t;
	int x = 0, y = 0;
	struct cub_select_case k[2] = { RECV(&a, &x), RECV(&b, &y) };

	(void)arg;
	cub_chan_init(&a, sizeof(int), 0, NULL);
	cub_chan_init(&b, sizeof(int), 0, NULL);
	cub_timer_init(&t, isr_send, &b);
	cub_timer_start(&t, cub_time_now() + CUB_NSEC_PER_MSEC);
	assert_int_equal(cub_select(k, 2), 1);
	assert_true(k[1].ok);
	assert_int_equal(y, 1234);
	assert_int_equal(cub_chan_try_send(&a, &x), -CUB_EAGAIN);
	/* And a close from irq context wakes a parked select with !ok. */
	cub_timer_init(&t, isr_close, &a);
	cub_timer_start(&t, cub_time_now() + CUB_NSEC_PER_MSEC);
	x = 3;
	assert_int_equal(cub_select_timeout(k, 2, CUB_NSEC_PER_SEC), 0);
	assert_false(k[0].ok);
	assert_int_equal(x, 0);
	return NULL;
}

static void test_isr_wakes_select(void **state)
{
	(void)state;
	chan_test_run(isr_select_main, NULL);
}

static const struct chan_scenario scenarios[] = {
	{ "irq-block", irq_block_main },
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_ticker),
		cmocka_unit_test(test_isr_feed),
		cmocka_unit_test(test_isr_wakes_select),
		cmocka_unit_test(test_block_in_irq_panics),
	};

	cubi_mem_init();
	chan_test_child(argc, argv, scenarios, CUB_ARRAY_SIZE(scenarios));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
