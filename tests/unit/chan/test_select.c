/*
 * test_select.c - select: ready cases, default, disabled cases, argument
 * checks, blocking wake-up by send/receive/close, fairness (chi-square),
 * deadlock report with every case disabled.
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

#include "chan_impl.h"
#include "chan_test.h"

#define RECV(ch, p) { .chan = (ch), .dir = CUB_SELECT_RECV, .elem = (p) }
#define SEND(ch, p) { .chan = (ch), .dir = CUB_SELECT_SEND, .elem = (p) }

static void test_ready_and_default(void **state)
{
	struct cub_chan a, b;
	int abuf[2], bbuf[2], x = 5, y = 0;
	struct cub_select_case k[2] = { RECV(&a, &y), SEND(&b, &x) };

	(void)state;
	cub_chan_init(&a, sizeof(int), 2, abuf);
	cub_chan_init(&b, sizeof(int), 1, bbuf);
	/* b has room: only the send case is ready. */
	assert_int_equal(cub_select_try(k, 2), 1);
	assert_true(k[1].ok);
	assert_int_equal(cub_chan_len(&b), 1);
	/* Now nothing is ready: default. */
	assert_int_equal(cub_select_try(k, 2), -CUB_EAGAIN);
	/* A value in a: the receive case fires (never blocks when ready). */
	x = 6;
	assert_int_equal(cub_chan_try_send(&a, &x), 0);
	assert_int_equal(cub_select(k, 2), 0);
	assert_true(k[0].ok);
	assert_int_equal(y, 6);
}

static void test_disabled_cases(void **state)
{
	struct cub_chan a;
	int abuf[4], v = 1, i;
	struct cub_select_case k[4] = {
		RECV(NULL, &v),				/* nil channel */
		{ .chan = &a, .dir = CUB_SELECT_NONE },	/* switched off */
		RECV(&a, &v),
		SEND(NULL, &v),
	};

	(void)state;
	cub_chan_init(&a, sizeof(int), 4, abuf);
	assert_int_equal(cub_select_try(k, 4), -CUB_EAGAIN);
	for (i = 0; i < 100; i++) {
		assert_int_equal(cub_chan_try_send(&a, &i), 0);
		assert_int_equal(cub_select_try(k, 4), 2);
		assert_int_equal(v, i);
	}
	assert_int_equal(cub_select_try(k, 0), -CUB_EAGAIN);
	assert_int_equal(cub_select_try(NULL, 0), -CUB_EAGAIN);
}

static void test_bad_args(void **state)
{
	struct cub_chan a;
	int abuf[1], v = 5;
	struct cub_select_case k[1] = { { .chan = &a, .dir = 7 } };
	struct cub_select_case m[2] = { RECV(&a, &v), { .chan = &a, .dir = 7 } };

	(void)state;
	cub_chan_init(&a, sizeof(int), 1, abuf);
	assert_int_equal(cub_select_try(NULL, 1), -CUB_EINVAL);
	assert_int_equal(cub_select(NULL, 1), -CUB_EINVAL);
	assert_int_equal(cub_select_try(k, 1), -CUB_EINVAL);
	k[0].dir = CUB_SELECT_SEND;		/* NULL source */
	assert_int_equal(cub_select_try(k, 1), -CUB_EINVAL);
	assert_int_equal(cub_chan_send_deadline(NULL, abuf, 0), -CUB_EINVAL);
	assert_int_equal(cub_chan_recv_deadline(NULL, abuf, 0), -CUB_EINVAL);
	/* A bad case after a ready one: rejected, and nothing was done. */
	assert_int_equal(cub_chan_try_send(&a, &v), 0);
	v = 0;
	assert_int_equal(cub_select_try(m, 2), -CUB_EINVAL);
	assert_int_equal(cub_select(m, 2), -CUB_EINVAL);
	assert_int_equal(cub_chan_len(&a), 1);
	assert_int_equal(v, 0);
}

static void test_closed_cases(void **state)
{
	struct cub_chan a, b;
	int abuf[1], v = 9;
	struct cub_select_case k[1] = { RECV(&a, &v) };
	struct cub_select_case s[1] = { SEND(&b, &v) };

	(void)state;
	cub_chan_init(&a, sizeof(int), 1, abuf);
	cub_chan_init(&b, sizeof(int), 0, NULL);
	cub_chan_close(&a);
	cub_chan_close(&b);
	assert_int_equal(cub_select_try(k, 1), 0);
	assert_false(k[0].ok);
	assert_int_equal(v, 0);
	v = 3;
	assert_int_equal(cub_select_try(s, 1), 0);
	assert_false(s[0].ok);			/* send on closed: reported */
}

/* -------------------------------------------------------- blocking */

static void *peer_close(void *arg)
{
	struct peer *p = arg;

	p->r = cub_chan_close(p->c);
	return NULL;
}

static void *wake_main(void *arg)
{
	struct cub_chan a, b, c;
	int x = 0, y = 11, z = 0;
	struct cub_select_case k[3] = { RECV(&a, &x), SEND(&b, &y), RECV(&c, &z) };
	struct peer pa = { &a, 321, -99 }, pb = { &b, 0, -99 }, pc = { &c, 0, -99 };
	struct cub_coro *co;

	(void)arg;
	cub_chan_init(&a, sizeof(int), 0, NULL);
	cub_chan_init(&b, sizeof(int), 0, NULL);
	cub_chan_init(&c, sizeof(int), 0, NULL);
	/* Woken by a sender. */
	assert_int_equal(cub_coro_spawn(&co, peer_send, &pa, NULL), 0);
	assert_int_equal(cub_select(k, 3), 0);
	assert_true(k[0].ok);
	assert_int_equal(x, 321);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	assert_int_equal(pa.r, 0);
	/* The other cases were withdrawn: nobody waits on b or c. */
	assert_int_equal(cub_chan_try_send(&c, &z), -CUB_EAGAIN);
	assert_int_equal(cub_chan_try_recv(&b, &z), -CUB_EAGAIN);
	/* Woken by a receiver: the value goes from y to the peer. */
	assert_int_equal(cub_coro_spawn(&co, peer_recv, &pb, NULL), 0);
	assert_int_equal(cub_select(k, 3), 1);
	assert_true(k[1].ok);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	assert_int_equal(pb.r, 1);
	assert_int_equal(pb.v, 11);
	/* Woken by close. */
	z = 55;
	assert_int_equal(cub_coro_spawn(&co, peer_close, &pc, NULL), 0);
	assert_int_equal(cub_select(k, 3), 2);
	assert_false(k[2].ok);
	assert_int_equal(z, 0);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	assert_int_equal(pc.r, 0);
	return NULL;
}

static void test_blocking_wake(void **state)
{
	(void)state;
	chan_test_run(wake_main, NULL);
}

/* Two selects parked on the same channels: each value reaches one. */
static void *sel_recv2(void *arg)
{
	struct cub_chan **ch = arg;
	int v = -1;
	struct cub_select_case k[2] = { RECV(ch[0], &v), RECV(ch[1], &v) };
	int i = cub_select(k, 2);

	assert_true(i == 0 || i == 1);
	return (void *)(intptr_t)v;
}

static void *shared_main(void *arg)
{
	struct cub_chan a, b;
	struct cub_chan *ch[2] = { &a, &b };
	struct cub_coro *s1, *s2;
	void *r1, *r2;
	int v;

	(void)arg;
	cub_chan_init(&a, sizeof(int), 0, NULL);
	cub_chan_init(&b, sizeof(int), 0, NULL);
	cub_coro_spawn(&s1, sel_recv2, ch, NULL);
	cub_coro_spawn(&s2, sel_recv2, ch, NULL);
	cub_coro_yield();
	v = 1;
	assert_int_equal(cub_chan_try_send(&a, &v), 0);	/* to s1 */
	v = 2;
	assert_int_equal(cub_chan_try_send(&a, &v), 0);	/* to s2 */
	v = 3;
	assert_int_equal(cub_chan_try_send(&b, &v), -CUB_EAGAIN);
	cub_coro_join(s1, &r1);
	cub_coro_join(s2, &r2);
	assert_int_equal((intptr_t)r1, 1);
	assert_int_equal((intptr_t)r2, 2);
	return NULL;
}

static void test_shared_waiters(void **state)
{
	(void)state;
	chan_test_run(shared_main, NULL);
}

/* One select may send and receive on the same channel (Go allows it). */
static void *both_dirs_main(void *arg)
{
	struct cub_chan c;
	int out = 5, in = 0, r;
	struct cub_select_case k[2] = { SEND(&c, &out), RECV(&c, &in) };
	struct peer p = { &c, 0, -99 }, q = { &c, 9, -99 };
	struct cub_coro *co;

	(void)arg;
	cub_chan_init(&c, sizeof(int), 0, NULL);
	cub_coro_spawn(&co, peer_recv, &p, NULL);
	r = cub_select(k, 2);
	cub_coro_join(co, NULL);
	assert_int_equal(r, 0);
	assert_int_equal(p.v, 5);
	cub_coro_spawn(&co, peer_send, &q, NULL);
	r = cub_select(k, 2);
	cub_coro_join(co, NULL);
	assert_int_equal(r, 1);
	assert_int_equal(in, 9);
	return NULL;
}

static void test_both_directions(void **state)
{
	(void)state;
	chan_test_run(both_dirs_main, NULL);
}

/* -------------------------------------------------------- fairness */

#define NCASES 5
#define TRIALS 50000

/*
 * Five always-ready cases (one disabled case in between must never be
 * chosen): the counts must fit a uniform distribution. The chi-square
 * statistic with 4 degrees of freedom exceeds 18.47 with probability
 * 0.001; the generator is seeded, so the result is reproducible.
 */
static void test_fairness(void **state)
{
	struct cub_chan ch[NCASES];
	int bufs[NCASES][1], v = 0;
	struct cub_select_case k[NCASES + 1];
	long count[NCASES + 1] = { 0 };
	double chi = 0, e = (double)TRIALS / NCASES;
	int i, j;

	(void)state;
	cubi_select_seed(12345);
	for (i = 0, j = 0; i <= NCASES; i++) {
		if (i == 2) {
			k[i] = (struct cub_select_case)RECV(NULL, &v);
			continue;
		}
		cub_chan_init(&ch[j], sizeof(int), 1, bufs[j]);
		cub_chan_try_send(&ch[j], &v);
		k[i] = (struct cub_select_case)RECV(&ch[j], &v);
		j++;
	}
	for (i = 0; i < TRIALS; i++) {
		int r = cub_select_try(k, NCASES + 1);

		assert_true(r >= 0 && r <= NCASES);
		count[r]++;
		cub_chan_try_send(k[r].chan, &v);	/* ready again */
	}
	assert_int_equal(count[2], 0);
	for (i = 0; i <= NCASES; i++) {
		if (i != 2)
			chi += (count[i] - e) * (count[i] - e) / e;
	}
	print_message("select fairness: chi-square %.2f (4 dof)\n", chi);
	assert_true(chi < 18.47);
}

/* Two ready cases of a blocking select (no default), also fair. */
static void test_fairness_two(void **state)
{
	struct cub_chan a, b;
	int ab[1], bb[1], v = 0, i;
	long count[2] = { 0 };
	struct cub_select_case k[2] = { RECV(&a, &v), RECV(&b, &v) };
	double e = 20000 / 2.0, chi;

	(void)state;
	cub_chan_init(&a, sizeof(int), 1, ab);
	cub_chan_init(&b, sizeof(int), 1, bb);
	for (i = 0; i < 20000; i++) {
		cub_chan_try_send(&a, &v);
		cub_chan_try_send(&b, &v);
		count[cub_select(k, 2)]++;	/* never blocks: both ready */
	}
	chi = (count[0] - e) * (count[0] - e) / e +
	      (count[1] - e) * (count[1] - e) / e;
	assert_true(chi < 10.83);		/* 1 dof, p = 0.001 */
}

/* -------------------------------------------------------- deadlock */

static void *all_disabled_main(void *arg)
{
	struct cub_select_case k[2] = { RECV(NULL, NULL),
					{ .chan = NULL, .dir = CUB_SELECT_SEND } };

	(void)arg;
	cub_select(k, 2);
	fail_msg("select with no enabled case returned");
	return NULL;
}

static void test_all_disabled_deadlock(void **state)
{
	(void)state;
	chan_test_expect_fault("all-disabled", "deadlock", "select");
}

static void *recv_deadlock_main(void *arg)
{
	struct cub_chan c;
	int v;

	(void)arg;
	cub_chan_init(&c, sizeof(int), 0, NULL);
	cub_chan_recv(&c, &v);
	return NULL;
}

static void test_recv_deadlock(void **state)
{
	(void)state;
	chan_test_expect_fault("recv-deadlock", "deadlock", "chan receive");
}

static const struct chan_scenario scenarios[] = {
	{ "all-disabled", all_disabled_main },
	{ "recv-deadlock", recv_deadlock_main },
};

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_and_default),
		cmocka_unit_test(test_disabled_cases),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_closed_cases),
		cmocka_unit_test(test_blocking_wake),
		cmocka_unit_test(test_shared_waiters),
		cmocka_unit_test(test_both_directions),
		cmocka_unit_test(test_fairness),
		cmocka_unit_test(test_fairness_two),
		cmocka_unit_test(test_all_disabled_deadlock),
		cmocka_unit_test(test_recv_deadlock),
	};

	cubi_mem_init();
	chan_test_child(argc, argv, scenarios, CUB_ARRAY_SIZE(scenarios));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
