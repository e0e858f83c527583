/*
 * sntp_keep.h - the fixture shared by the cub_sntp_keeper tests
 * (test_net_sntp_keep.c: one server; test_net_sntp_keep_list.c: a list
 * of servers): udp_fake.h's server playing an SNTP server whose clock is
 * the platform's (cub_arch_wallclock_ns, which no slew or step moves)
 * plus `shift`, answering (answer) or with a kiss-o'-death, and the
 * helpers that wait for its requests, check offsets and poll gaps, and
 * end a keeper. Poll intervals are a fraction of a second so that the
 * backoff shows during a test.
 *
 * Stop is timed so that a descheduled process fails nothing: a stop
 * slower than 50 ms is ambiguous and proven again on 10 s waits, where
 * under 5 s is proof (end_keeper).
 *
 * One includer per program: the state below is the program's own.
 */
#ifndef CUBRT_TEST_SNTP_KEEP_H
#define CUBRT_TEST_SNTP_KEEP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/sntp.h>
#include <cubrt/time.h>

#include "../slow.h"
#include "../stall.h"
#include "udp_fake.h"
#include "ntp_fake.h"

#define SEC CUB_NSEC_PER_SEC
#define POLL_MIN (200 * MS)
#define POLL_MAX (800 * MS)

static struct cub_sntp_keeper K;
static struct stall_meter M;		/* how late the test ran (gap()) */
static int64_t shift;			/* the server's clock minus the platform's */
static const char *kiss;		/* non-NULL: answer with this kiss code */
static unsigned deny_first;		/* requests answered DENY first */
static struct {
	unsigned calls;
	int64_t step;
} seen;

/* A stratum-2 answer at platform time + shift (or a kiss-o'-death). */
static inline void answer(const uint8_t *q, unsigned nth)
{
	uint8_t m[48] = { 0 };
	uint64_t now = ntp_of(cub_arch_wallclock_ns() + (uint64_t)shift);

	if (nth < deny_first)
		kiss = "DENY";
	else if (deny_first && nth == deny_first)
		kiss = NULL;
	m[0] = 4 << 3 | 4;
	m[1] = kiss ? 0 : 2;
	if (kiss)
		memcpy(m + 12, kiss, 4);
	else
		t_put32(m + 12, CUB_IP4(10, 0, 0, 9));
	t_put64(m + 24, t_get64(q + 40));
	t_put64(m + 32, now);
	t_put64(m + 40, now);
	srv_send(m, sizeof(m));
}

/* Before a keeper starts: the clock back at the platform's (no step, no
 * slew left), the server `sh` ns ahead, answering without kisses, the
 * step callback's record cleared. */
static inline void fixture_reset(int64_t sh)
{
	cub_time_set_wall(cub_arch_wallclock_ns());
	cub_time_adjust(0, NULL);
	shift = sh;
	kiss = NULL;
	deny_first = 0;
	memset(&seen, 0, sizeof(seen));
}

/* got within tol of want, tol scaled by how slow this run is (slow.h:
 * an offset measured over a slower exchange is less exact, and polls
 * land later). */
static inline void near(int64_t got, int64_t want, int64_t tol)
{
	int64_t d = got > want ? got - want : want - got;

	tol *= test_slowness();
	if (d > tol)
		fail_msg("%lld is not within %lld of %lld", (long long)got, (long long)tol,
			 (long long)want);
}

static inline struct cub_sntp_keeper_stats kstats(void)
{
	struct cub_sntp_keeper_stats st;

	assert_int_equal(cub_sntp_keeper_status(&K, &st), 0);
	return st;
}

/* An answer's offset (or what followed from it: the slew left, the wall
 * clock's step) got, near want: within 5 ms (scaled as near() does) and
 * half the answer's round-trip delay, the most an exchange can be off by
 * when its two halves took different times (a loaded host descheduling
 * the server or the keeper mid-exchange: 52 ms off under valgrind). */
static inline void near_answer(int64_t got, int64_t want)
{
	int64_t delay = kstats().last_delay_ns;

	assert_true(delay >= 0 && delay <= 150 * (int64_t)MS);	/* the timeout */
	if (got > want + delay / 2)
		got -= delay / 2;
	else if (got < want - delay / 2)
		got += delay / 2;
	else
		got = want;
	near(got, want, 5 * (int64_t)MS);
}

/* The answers the keeper has taken, k (its count), checked against the
 * `sent` the server answered: all of them, or all but the latest when
 * this coroutine ran late past a poll (a loaded host) and looks while
 * that answer is on its way back; at least `least`. A check of counts
 * after a wait_queries then holds however late it runs. */
static inline unsigned taken(unsigned k, unsigned sent, unsigned least)
{
	assert_true(k >= least);
	assert_true(k == sent || k + 1 == sent);
	return k;
}

/* The poll interval after k answers in a row from the minimum. */
static inline uint64_t poll_after(unsigned k)
{
	uint64_t p = POLL_MIN;

	while (k-- && p < POLL_MAX)
		p *= 2;
	return p < POLL_MAX ? p : POLL_MAX;
}

/* Waits until the server has had n requests (at most limit ns). */
static inline void wait_queries(unsigned n, uint64_t limit)
{
	uint64_t until = cub_time_now() + limit;

	while (S.queries < n && cub_time_now() < until)
		cub_sleep(5 * MS);
	assert_true(S.queries >= n);
	cub_sleep(20 * MS);	/* the answer taken */
}

/* Stops the keeper, which must end within `most` ns. */
static inline void stop_within(uint64_t most)
{
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

	assert_int_equal(cub_sntp_keeper_stop(&K), 0);
	assert_true(cub_time_now() - t0 < test_bound(most, w0));
}

/* Stop ends the keeper's two waits made 10 s long, a nap after an
 * answer and a query nobody answers, well before they would end: under
 * half of them, a bound no stall of the host short of 5 s reaches. */
static inline void stop_long_waits(void)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = 10 * SEC, .max_poll_ns = 10 * SEC,
					  .timeout_ns = 10 * SEC };

	start_server(answer, 123);
	shift = 0;
	kiss = NULL;
	deny_first = 0;
	assert_int_equal(cub_sntp_keeper_start(&K, A, SRV_IP, 0, &o), 0);
	wait_queries(1, SEC);			/* answered: asleep for 10 s */
	stop_within(5 * SEC);
	stop();
	start_server(NULL, 123);
	assert_int_equal(cub_sntp_keeper_start(&K, A, SRV_IP, 0, &o), 0);
	wait_queries(1, SEC);			/* in a 10 s query */
	stop_within(5 * SEC);
	stop();
}

/*
 * Ends a test: the keeper stops at once, not after the nap (up to
 * POLL_MAX) or the query (up to 150 ms) it is in. Under 50 ms (times
 * slow.h) is proof; a stop that took longer is ambiguous (it waited, or
 * the host descheduled this process), and then stop is proven again in
 * the same two waits made 10 s long (stop_long_waits), so a stall fails
 * nothing and a stop that waits still fails.
 */
static inline void end_keeper(void)
{
	uint64_t t0 = cub_time_now(), took;

	assert_int_equal(cub_sntp_keeper_stop(&K), 0);
	took = cub_time_now() - t0;
	stall_stop(&M);
	stop();
	if (took >= 50 * MS * (uint64_t)test_slowness()) {
		print_message("stop took %llu ms: proving it on 10 s waits\n",
			      (unsigned long long)(took / MS));
		stop_long_waits();
	}
	cub_time_set_wall(cub_arch_wallclock_ns());
	cub_time_adjust(0, NULL);
}

/* The wait between the server's answer to request i-1 (or its silence)
 * and request i, near want: the keeper waits from when it has the
 * outcome, so a stall inside the exchange does not count. A stall of
 * the process between the two only lengthens the gap: up to what the
 * meter saw of it then is allowed on top (stall.h). */
static inline void gap(unsigned i, uint64_t want)
{
	int64_t got = (int64_t)(S.qt[i] - S.at[i - 1]);
	int64_t late = (int64_t)stall_late(&M, S.at[i - 1], S.qt[i]);

	if (got > (int64_t)want && got - late < (int64_t)want)
		got = (int64_t)want;		/* within the stall */
	else if (got > (int64_t)want)
		got -= late;
	near(got, (int64_t)want, (int64_t)(60 * MS));
}

#endif
