/*
 * test_context.c - contexts (include/cubrt/context.h): cancel wakes
 * every receiver on done and a select waiting on it; the reasons; a
 * parent's cancellation reaches a deep tree (no recursion) while a
 * child's leaves its parent and siblings alone; a child of a cancelled
 * parent starts cancelled; deadlines, own and inherited, fire from the
 * timer interrupt; release unlinks (a released child's storage may go);
 * a NULL context's panic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

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

/* ------------------------------------------------------------ misuse */

static void *null_cancel(void *arg)
{
	(void)arg;
	cub_context_cancel(NULL);
	return NULL;
}

static const struct chan_scenario children[] = {
	{ "null-cancel", null_cancel },
};

static void test_null(void **state)
{
	(void)state;
	chan_test_expect_fault("null-cancel", "cub_context_cancel: NULL context",
			       NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_null),
	};

	chan_test_child(argc, argv, children, CUB_ARRAY_SIZE(children));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
