/*
 * test_context.c - contexts (include/cubrt/context.h): cancel wakes
 * every receiver on done and a select waiting on it; the reasons; a
 * parent's cancellation reaches a deep tree (no recursion) while a
 * child's leaves its parent and siblings alone; a child of a cancelled
 * parent starts cancelled; deadlines, own and inherited, fire from the
 * timer interrupt; release unlinks (a released child's storage may go);
 * values: the nearest wins, through contexts without values, after
 * cancellation, from a timer callback (irq context), the release order
 * they ask and its panic; a NULL context's and a NULL key's panics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/context.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "chan_test.h"

#define MS CUB_NSEC_PER_MSEC

static void *recv_done(void *arg)
{
	return (void *)(intptr_t)cub_chan_recv(cub_context_done(arg), NULL);
}

/* A select on a channel nobody sends to and on done: done's case. */
static void *select_done(void *arg)
{
	struct cub_chan never;
	int v;
	struct cub_select_case k[2] = {
		{ .chan = &never, .dir = CUB_SELECT_RECV, .elem = &v },
		{ .chan = cub_context_done(arg), .dir = CUB_SELECT_RECV },
	};
	int r;

	cub_chan_init(&never, sizeof(int), 0, NULL);
	r = cub_select(k, 2);
	return (void *)(intptr_t)(r == 1 && !k[1].ok ? 1 : -1);
}

static void *cancel_main(void *arg)
{
	struct cub_context c;
	struct cub_coro *co[3];
	void *r;

	(void)arg;
	cub_context_init(&c, NULL);
	assert_int_equal(cub_context_err(&c), 0);
	assert_true(cub_context_deadline(&c) == UINT64_MAX);
	assert_int_equal(cub_chan_try_recv(cub_context_done(&c), NULL), -CUB_EAGAIN);
	assert_int_equal(cub_coro_spawn(&co[0], recv_done, &c, NULL), 0);
	assert_int_equal(cub_coro_spawn(&co[1], recv_done, &c, NULL), 0);
	assert_int_equal(cub_coro_spawn(&co[2], select_done, &c, NULL), 0);
	cub_coro_yield();		/* all three wait */
	cub_context_cancel(&c);
	assert_int_equal(cub_context_err(&c), -CUB_ECANCELED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cub_coro_join(co[i], &r), 0);
		assert_int_equal((intptr_t)r, i < 2 ? 0 : 1);	/* recv: closed */
	}
	cub_context_cancel(&c);		/* again: nothing */
	assert_int_equal(cub_context_err(&c), -CUB_ECANCELED);
	assert_int_equal(cub_chan_recv(cub_context_done(&c), NULL), 0);
	cub_context_release(&c);
	assert_int_equal(cub_context_err(NULL), -CUB_EINVAL);
	return NULL;
}

static void test_cancel(void **state)
{
	(void)state;
	chan_test_run(cancel_main, NULL);
}

/* ------------------------------------------------------------- trees */

#define DEEP 5000

static struct cub_context chain[DEEP];

static void *tree_main(void *arg)
{
	struct cub_context root, a, b, a1, a2, late;

	(void)arg;
	cub_context_init(&root, NULL);
	cub_context_init(&a, &root);
	cub_context_init(&b, &root);
	cub_context_init(&a1, &a);
	cub_context_init(&a2, &a);
	/* a child's cancellation stays below it */
	cub_context_cancel(&a1);
	assert_int_equal(cub_context_err(&a1), -CUB_ECANCELED);
	assert_int_equal(cub_context_err(&a), 0);
	assert_int_equal(cub_context_err(&a2), 0);
	assert_int_equal(cub_context_err(&root), 0);
	/* a parent's reaches everything below it, not above */
	cub_context_cancel(&a);
	assert_int_equal(cub_context_err(&a2), -CUB_ECANCELED);
	assert_int_equal(cub_context_err(&b), 0);
	assert_int_equal(cub_context_err(&root), 0);
	/* a child of a cancelled parent starts cancelled */
	cub_context_init(&late, &a);
	assert_int_equal(cub_context_err(&late), -CUB_ECANCELED);
	assert_int_equal(cub_chan_try_recv(cub_context_done(&late), NULL), 0);
	/* a released child is unlinked: its storage may be reused */
	cub_context_release(&b);
	memset(&b, 0x5a, sizeof(b));
	/* a chain far deeper than any stack would take recursively */
	cub_context_init(&chain[0], &root);
	for (int i = 1; i < DEEP; i++)
		cub_context_init(&chain[i], &chain[i - 1]);
	cub_context_cancel(&root);
	for (int i = 0; i < DEEP; i++)
		assert_int_equal(cub_context_err(&chain[i]), -CUB_ECANCELED);
	assert_int_equal(cub_chan_try_recv(cub_context_done(&chain[DEEP - 1]), NULL), 0);
	for (int i = DEEP - 1; i >= 0; i--)
		cub_context_release(&chain[i]);
	cub_context_release(&late);
	cub_context_release(&a2);
	cub_context_release(&a1);
	cub_context_release(&a);
	cub_context_release(&root);
	return NULL;
}

static void test_tree(void **state)
{
	(void)state;
	chan_test_run(tree_main, NULL);
}

/* --------------------------------------------------------- deadlines */

static void *deadline_main(void *arg)
{
	struct cub_context root, own, inherit, later, past;
	uint64_t t0 = cub_time_now();

	(void)arg;
	/* an own deadline: cancelled by the timer, receivers woken */
	cub_context_init_deadline(&own, NULL, t0 + 5 * MS);
	assert_true(cub_context_deadline(&own) == t0 + 5 * MS);
	assert_int_equal(cub_chan_recv(cub_context_done(&own), NULL), 0);
	assert_true(cub_time_now() >= t0 + 5 * MS);
	assert_int_equal(cub_context_err(&own), -CUB_ETIMEDOUT);
	cub_context_release(&own);
	/* inherited: the parent's deadline is earlier than the child's own
	 * and cancels both with -CUB_ETIMEDOUT */
	t0 = cub_time_now();
	cub_context_init_deadline(&root, NULL, t0 + 5 * MS);
	cub_context_init(&inherit, &root);
	cub_context_init_deadline(&later, &root, t0 + 3600 * CUB_NSEC_PER_SEC);
	assert_true(cub_context_deadline(&inherit) == t0 + 5 * MS);
	assert_true(cub_context_deadline(&later) == t0 + 5 * MS);
	assert_int_equal(cub_chan_recv(cub_context_done(&later), NULL), 0);
	assert_int_equal(cub_context_err(&later), -CUB_ETIMEDOUT);
	assert_int_equal(cub_context_err(&inherit), -CUB_ETIMEDOUT);
	assert_int_equal(cub_context_err(&root), -CUB_ETIMEDOUT);
	/* a deadline already past: cancelled at once */
	cub_context_init_deadline(&past, NULL, 0);
	assert_int_equal(cub_context_err(&past), -CUB_ETIMEDOUT);
	cub_context_release(&past);
	/* released before its deadline: its timer is off the queue, so the
	 * storage may go (scribbled over here) before the deadline */
	cub_context_init_deadline(&past, NULL, cub_time_now() + 2 * MS);
	cub_context_release(&past);
	assert_int_equal(cub_context_err(&past), -CUB_ECANCELED);
	memset(&past, 0, sizeof(past));
	cub_sleep(5 * MS);
	cub_context_release(&later);
	cub_context_release(&inherit);
	cub_context_release(&root);
	return NULL;
}

static void test_deadline(void **state)
{
	(void)state;
	chan_test_run(deadline_main, NULL);
}

/* ------------------------------------------------------------ values */

/* Keys compare by address: two objects with equal contents differ. */
static const char key_a[] = "k", key_b[] = "k", key_c[] = "c";
static int val[4];

static void *values_main(void *arg)
{
	struct cub_context root, va, plain, timed, vb, shadow, leaf, other;

	(void)arg;
	cub_context_init(&root, NULL);
	assert_null(cub_context_value(&root, key_a));	/* none anywhere */
	cub_context_init_value(&va, &root, key_a, &val[0]);
	cub_context_init(&plain, &va);
	cub_context_init_deadline(&timed, &plain, cub_time_now() + 3600 * CUB_NSEC_PER_SEC);
	cub_context_init_value(&vb, &timed, key_b, &val[1]);
	cub_context_init_value(&shadow, &vb, key_a, &val[2]);
	cub_context_init(&leaf, &shadow);
	cub_context_init_value(&other, &va, key_c, &val[3]);
	/* a context answers for itself and through cancel-only and
	 * deadline contexts; keys by address, the nearest wins */
	assert_ptr_equal(cub_context_value(&va, key_a), &val[0]);
	assert_null(cub_context_value(&va, key_b));
	assert_ptr_equal(cub_context_value(&plain, key_a), &val[0]);
	assert_ptr_equal(cub_context_value(&timed, key_a), &val[0]);
	assert_ptr_equal(cub_context_value(&vb, key_a), &val[0]);
	assert_ptr_equal(cub_context_value(&vb, key_b), &val[1]);
	assert_ptr_equal(cub_context_value(&leaf, key_a), &val[2]);
	assert_ptr_equal(cub_context_value(&leaf, key_b), &val[1]);
	assert_null(cub_context_value(&leaf, key_c));	/* a sibling's */
	assert_ptr_equal(cub_context_value(&other, key_a), &val[0]);
	assert_null(cub_context_value(&root, key_a));	/* not upwards */
	assert_null(cub_context_value(&leaf, NULL));	/* none carries NULL */
	/* a cancellation changes no answer, above or below it */
	cub_context_cancel(&timed);
	assert_int_equal(cub_context_err(&leaf), -CUB_ECANCELED);
	assert_int_equal(cub_context_err(&va), 0);
	assert_ptr_equal(cub_context_value(&leaf, key_a), &val[2]);
	assert_ptr_equal(cub_context_value(&leaf, key_b), &val[1]);
	assert_ptr_equal(cub_context_value(&vb, key_a), &val[0]);
	/* contexts without values still go in any order: the plain and
	 * deadline ones between va and vb first, scribbled over */
	cub_context_release(&plain);
	cub_context_release(&timed);
	memset(&plain, 0x5a, sizeof(plain));
	memset(&timed, 0xa5, sizeof(timed));
	cub_context_release(&root);
	memset(&root, 0x3c, sizeof(root));
	assert_ptr_equal(cub_context_value(&leaf, key_a), &val[2]);
	assert_ptr_equal(cub_context_value(&vb, key_a), &val[0]);
	assert_int_equal(cub_context_err(&va), -CUB_ECANCELED);
	/* a child of a cancelled context starts cancelled, value and all */
	cub_context_release(&other);
	cub_context_init_value(&other, &leaf, key_c, NULL);
	assert_int_equal(cub_context_err(&other), -CUB_ECANCELED);
	assert_null(cub_context_value(&other, key_c));	/* a NULL value */
	assert_ptr_equal(cub_context_value(&other, key_b), &val[1]);
	/* the value order: leaves first; a second release does nothing */
	cub_context_release(&other);
	cub_context_release(&leaf);
	cub_context_release(&leaf);
	cub_context_release(&shadow);
	cub_context_release(&vb);
	cub_context_release(&va);
	cub_context_release(&va);
	return NULL;
}

static void test_values(void **state)
{
	(void)state;
	chan_test_run(values_main, NULL);
}

static struct cub_context chain_v[DEEP];

/* A chain of thousands, a value every 100th, cancelled at the top. */
static void *values_deep_main(void *arg)
{
	static int keys[DEEP / 100];

	(void)arg;
	for (int i = 0; i < DEEP; i++) {
		struct cub_context *p = i ? &chain_v[i - 1] : NULL;

		if (i % 100 == 0)
			cub_context_init_value(&chain_v[i], p, &keys[i / 100],
					       &chain_v[i]);
		else
			cub_context_init(&chain_v[i], p);
	}
	cub_context_cancel(&chain_v[0]);
	for (int k = 0; k < DEEP / 100; k++)
		assert_ptr_equal(cub_context_value(&chain_v[DEEP - 1], &keys[k]),
				 &chain_v[k * 100]);
	assert_null(cub_context_value(&chain_v[DEEP - 1], &chain_v[0]));
	for (int i = DEEP - 1; i >= 0; i--)
		cub_context_release(&chain_v[i]);
	return NULL;
}

static void test_values_deep(void **state)
{
	(void)state;
	chan_test_run(values_deep_main, NULL);
}

/* A lookup from a timer callback (irq context), of a context the
 * callback's deadline has just cancelled. */
struct irq_lookup {
	struct cub_timer t;
	struct cub_context *c;
	void *got;
	bool in_irq;
	struct cub_chan fired;
};

static void lookup_tick(struct cub_timer *t, void *arg)
{
	struct irq_lookup *l = arg;

	(void)t;
	l->in_irq = cub_arch_in_irq();
	l->got = cub_context_value(l->c, key_b);
	(void)cub_chan_close(&l->fired);
}

static void *values_irq_main(void *arg)
{
	struct cub_context v, d;
	struct irq_lookup l = { 0 };

	(void)arg;
	cub_context_init_value(&v, NULL, key_b, &val[1]);
	cub_context_init_deadline(&d, &v, cub_time_now() + 2 * MS);
	l.c = &d;
	cub_chan_init(&l.fired, 0, 0, NULL);
	cub_timer_init(&l.t, lookup_tick, &l);
	cub_timer_start(&l.t, cub_time_now() + 4 * MS);
	assert_int_equal(cub_chan_recv(&l.fired, NULL), 0);
	assert_true(l.in_irq);
	assert_int_equal(cub_context_err(&d), -CUB_ETIMEDOUT);
	assert_ptr_equal(l.got, &val[1]);
	cub_context_release(&d);
	cub_context_release(&v);
	return NULL;
}

static void test_values_irq(void **state)
{
	(void)state;
	chan_test_run(values_irq_main, NULL);
}

/* ------------------------------------------------------------ misuse */

static void *null_cancel(void *arg)
{
	(void)arg;
	cub_context_cancel(NULL);
	return NULL;
}

static void *null_key(void *arg)
{
	struct cub_context c;

	(void)arg;
	cub_context_init_value(&c, NULL, NULL, &val[0]);
	return NULL;
}

static void *null_value_ctx(void *arg)
{
	(void)arg;
	(void)cub_context_value(NULL, key_a);
	return NULL;
}

/* va carries a value; b is released twice (counted once), so releasing
 * va while a is unreleased must still panic. */
static void *value_order(void *arg)
{
	struct cub_context va, a, b;

	(void)arg;
	cub_context_init_value(&va, NULL, key_a, &val[0]);
	cub_context_init(&a, &va);
	cub_context_init(&b, &va);
	cub_context_release(&b);
	cub_context_release(&b);
	cub_context_release(&va);
	return NULL;
}

/* The count is of the contexts looking va up: a plain context between
 * them does not hide its children. */
static void *value_order_deep(void *arg)
{
	struct cub_context va, mid, a, b;

	(void)arg;
	cub_context_init_value(&va, NULL, key_a, &val[0]);
	cub_context_init(&mid, &va);
	cub_context_init(&a, &mid);
	cub_context_init_deadline(&b, &mid, 0);
	cub_context_release(&mid);
	cub_context_release(&va);
	return NULL;
}

static const struct chan_scenario children[] = {
	{ "null-cancel", null_cancel },
	{ "null-key", null_key },
	{ "null-value-ctx", null_value_ctx },
	{ "value-order", value_order },
	{ "value-order-deep", value_order_deep },
};

static void test_null(void **state)
{
	(void)state;
	chan_test_expect_fault("null-cancel", "cub_context_cancel: NULL context",
			       NULL);
	chan_test_expect_fault("null-key", "cub_context_init_value: NULL key",
			       NULL);
	chan_test_expect_fault("null-value-ctx", "cub_context_value: NULL context",
			       NULL);
}

static void test_value_order(void **state)
{
	(void)state;
	chan_test_expect_fault("value-order", "cub_context_release: a context "
			       "carrying a value is released before contexts "
			       "below it", "(1 unreleased)");
	chan_test_expect_fault("value-order-deep", "cub_context_release: a "
			       "context carrying a value", "(2 unreleased)");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_values_deep),
		cmocka_unit_test(test_values_irq),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_value_order),
	};

	chan_test_child(argc, argv, children, CUB_ARRAY_SIZE(children));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
