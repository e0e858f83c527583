/*
 * stall.h - how late a host test ran, for the checks of a time that a
 * stall of the process only lengthens (README: tests on a loaded
 * machine). A host test is one OS thread running every coroutine and
 * timer, so a coroutine that asks to wake every STALL_TICK and records
 * each wake that came more than STALL_SLACK late (the host's timers
 * are often 10-25 ms late on a busy machine, which the checks' own
 * tolerances take) bounds how late any of them can have been: a host that descheduled the process, or a
 * coroutine that held the thread (the busy loop that forces a stall),
 * shows as such a late wake. A time that the feature makes want, and
 * that a stall only lengthens, is then checked as
 *     got <= want + tol + stall_late(&m, from, to)
 * where [from, to] is when it was measured: a stall outside that window
 * allows nothing, so a wrong time still fails a run that ran on time
 * then.
 *
 * Use from a coroutine (task context); include after cmocka.h.
 */
#ifndef CUBRT_TEST_STALL_H
#define CUBRT_TEST_STALL_H

#include <stdbool.h>
#include <stdint.h>

#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "slow.h"

#define STALL_TICK (5ull * 1000 * 1000)
#define STALL_SLACK (30ull * 1000 * 1000 * (uint64_t)test_slowness())
#define STALL_MAX 256

/* The late wakes, a ring of the last STALL_MAX: n counts all of them,
 * entry i % STALL_MAX is the i-th. */
struct stall_meter {
	struct cub_coro *co;
	volatile bool stop;
	unsigned long n;
	uint64_t due;			/* the first wake: set by stall_start */
	uint64_t from[STALL_MAX], to[STALL_MAX];	/* [asked, woke] */
};

static void *stall_main(void *arg)
{
	struct stall_meter *m = arg;
	uint64_t due = m->due;	/* from the start, not from when it first ran */

	while (!m->stop) {
		uint64_t now;

		cub_sleep_until(due);
		now = cub_time_now();
		if (now > due + STALL_SLACK) {
			m->from[m->n % STALL_MAX] = due - STALL_TICK;
			m->to[m->n % STALL_MAX] = now;
			m->n++;
		}
		due = now + STALL_TICK;
	}
	return NULL;
}

static inline void stall_start(struct stall_meter *m)
{
	*m = (struct stall_meter){ .due = cub_time_now() + STALL_TICK };
	assert_int_equal(cub_coro_spawn(&m->co, stall_main, m, NULL), 0);
}

/* How late anything can have run between from and to: the sum of the
 * late wakes' spans (from the wake before, so a stall's whole length)
 * that overlap [from, to]. Sleeps two ticks first, so that the meter has
 * woken since any stall before the call and recorded it. Fails the test
 * if the ring no longer holds every late wake since from (more than
 * STALL_MAX of them: the run is too slow for its times to mean
 * anything, and a check that let it pass would check nothing). */
static inline uint64_t stall_late(const struct stall_meter *m, uint64_t from, uint64_t to)
{
	unsigned long first;
	uint64_t late = 0;

	cub_sleep(2 * STALL_TICK);
	first = m->n > STALL_MAX ? m->n - STALL_MAX : 0;
	if (first > 0)		/* lost ones may overlap [from, to] */
		assert_true(m->to[first % STALL_MAX] < from);
	for (unsigned long i = first; i < m->n; i++) {
		unsigned k = (unsigned)(i % STALL_MAX);

		if (m->to[k] >= from && m->from[k] <= to)
			late += m->to[k] - m->from[k];
	}
	return late;
}

static inline void stall_stop(struct stall_meter *m)
{
	m->stop = true;
	cub_coro_join(m->co, NULL);
}

#endif
