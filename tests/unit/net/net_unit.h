/*
 * net_unit.h - what the cmocka programs of tests/unit/net share beyond
 * net_test.h (which the model tests use too, without cmocka): reading an
 * interface's counters and running a test body as the first coroutine.
 * Include after cmocka.h.
 */
#ifndef NET_UNIT_H
#define NET_UNIT_H

#include <cubrt/sched.h>

#include "net_test.h"

/* n's counters; the test fails if they cannot be read. */
static inline struct cub_netif_stats if_stats(struct cub_netif *n)
{
	struct cub_netif_stats st;

	assert_int_equal(cub_netif_stats(n, &st), 0);
	return st;
}

/* Runs fn as the scheduler's first coroutine, until every one ends. */
static inline void run(cub_coro_fn fn)
{
	assert_int_equal(cub_sched_run(fn, NULL, NULL), 0);
}

#endif
