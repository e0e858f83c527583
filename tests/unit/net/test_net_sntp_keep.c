/*
 * test_net_sntp_keep.c - cub_sntp_keeper against the fake UDP server of
 * udp_fake.h playing an SNTP server whose clock is the platform's
 * (cub_arch_wallclock_ns, which no slew or step moves) plus `shift`,
 * with poll intervals of a fraction of a second so that the backoff
 * shows during a test.
 *
 * Proves: an offset under the step threshold is slewed (the remaining
 * adjustment is the offset, the clock not stepped) and the poll interval
 * doubles from the minimum up to the maximum; a larger one (either way)
 * is stepped, the callback told the step, the interval back at the
 * minimum, the next offset small and slewed; a silent server or a RATE
 * kiss backs the polls off, a DENY kiss ends the asking; first_ns
 * delays the first query; stop ends the keeper at once, asleep or in a
 * query; bad arguments. With a list of servers: a silent server is
 * failed over at once and the answering one kept; a poll asks each
 * server once and backs off once; a refusing server is dropped and the
 * keeper stops when all have refused; a server whose host has no NTP
 * server (a port unreachable) is failed over at once, long before the
 * query's timeout, and not refused: asked again when the next fails;
 * the list's bad arguments. The silent servers of a list are ports of
 * B with an endpoint that never answers (silent_port), not closed ones
 * (B would say port unreachable).
 *
 * Stop is timed so that a descheduled process fails nothing: a stop
 * slower than 50 ms is ambiguous and proven again on 10 s waits, where
 * under 5 s is proof (end_keeper).
 */
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
static void answer(const uint8_t *q, unsigned nth)
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

static void stepped(void *arg, int64_t step)
{
	assert_ptr_equal(arg, &seen);
	seen.calls++;
	seen.step = step;
}

/* got within tol of want, tol scaled by how slow this run is (slow.h:
 * an offset measured over a slower exchange is less exact, and polls
 * land later). */
static void near(int64_t got, int64_t want, int64_t tol)
{
	int64_t d = got > want ? got - want : want - got;

	tol *= test_slowness();
	if (d > tol)
		fail_msg("%lld is not within %lld of %lld", (long long)got, (long long)tol,
			 (long long)want);
}

static struct cub_sntp_keeper_stats kstats(void)
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
static void near_answer(int64_t got, int64_t want)
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

/* The server answering with fn, the clock back at the platform's, and
 * the keeper started with the short polls. */
static void start_keeper(reply_fn *fn, int64_t sh, uint64_t first)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = POLL_MIN, .max_poll_ns = POLL_MAX,
					  .timeout_ns = 150 * MS, .first_ns = first,
					  .stepped = stepped, .arg = &seen };

	cub_time_set_wall(cub_arch_wallclock_ns());
	cub_time_adjust(0, NULL);
	start_server(fn, 123);
	shift = sh;
	kiss = NULL;
	deny_first = 0;
	memset(&seen, 0, sizeof(seen));
	stall_start(&M);
	assert_int_equal(cub_sntp_keeper_start(&K, A, SRV_IP, 0, &o), 0);
}

/* The same with a list of servers (ports on B; only 123 answers) and
 * queries of timeout ns. quiet: the other ports are silent servers (an
 * endpoint that never answers: udp_fake.h's silent_port, in the list's
 * order); else closed (B answers with a port unreachable). */
static void start_list(const struct cub_sntp_server *l, unsigned n, uint64_t timeout,
		       bool quiet)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = POLL_MIN, .max_poll_ns = POLL_MAX,
					  .timeout_ns = timeout };

	cub_time_set_wall(cub_arch_wallclock_ns());
	cub_time_adjust(0, NULL);
	start_server(answer, 123);
	for (unsigned i = 0; i < n && quiet; i++)
		if (l[i].port && l[i].port != 123)
			silent_port(l[i].port);
	shift = 60 * (int64_t)MS;
	kiss = NULL;
	deny_first = 0;
	memset(&seen, 0, sizeof(seen));
	stall_start(&M);
	assert_int_equal(cub_sntp_keeper_start_list(&K, A, l, n, &o), 0);
}

/* Waits until the server has had n requests (at most limit ns). */
static void wait_queries(unsigned n, uint64_t limit)
{
	uint64_t until = cub_time_now() + limit;

	while (S.queries < n && cub_time_now() < until)
		cub_sleep(5 * MS);
	assert_true(S.queries >= n);
	cub_sleep(20 * MS);	/* the answer taken */
}

/* Stops the keeper, which must end within `most` ns. */
static void stop_within(uint64_t most)
{
	uint64_t t0 = cub_time_now();

	assert_int_equal(cub_sntp_keeper_stop(&K), 0);
	assert_true(cub_time_now() - t0 < most);
}

/* Stop ends the keeper's two waits made 10 s long, a nap after an
 * answer and a query nobody answers, well before they would end: under
 * half of them, a bound no stall of the host short of 5 s reaches. */
static void stop_long_waits(void)
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
static void end_keeper(void)
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
static void gap(unsigned i, uint64_t want)
{
	int64_t got = (int64_t)(S.qt[i] - S.at[i - 1]);
	int64_t late = (int64_t)stall_late(&M, S.at[i - 1], S.qt[i]);

	if (got > (int64_t)want && got - late < (int64_t)want)
		got = (int64_t)want;		/* within the stall */
	else if (got > (int64_t)want)
		got -= late;
	near(got, (int64_t)want, (int64_t)(60 * MS));
}

/* 60 ms off: slewed every time, the polls 200, 400, 800, 800 ms apart. */
static void *slew_main(void *arg)
{
	struct cub_sntp_keeper_stats st;

	(void)arg;
	start_keeper(answer, 60 * (int64_t)MS, 0);
	wait_queries(1, SEC);
	near_answer(cub_time_adjust_left(), 60 * (int64_t)MS);
	near((int64_t)(cub_time_wall() - cub_arch_wallclock_ns()), 0, (int64_t)MS);
	st = kstats();
	assert_int_equal(st.polls, 1);
	assert_int_equal(st.slews, 1);
	assert_int_equal(st.steps, 0);
	near_answer(st.last_offset_ns, 60 * (int64_t)MS);
	assert_int_equal(st.poll_ns, 2 * POLL_MIN);
	wait_queries(5, 3 * SEC);
	gap(1, POLL_MIN);
	gap(2, 2 * POLL_MIN);
	gap(3, POLL_MAX);
	gap(4, POLL_MAX);
	st = kstats();
	assert_int_equal(st.slews, 5);
	assert_int_equal(st.steps, 0);
	assert_int_equal(st.poll_ns, POLL_MAX);
	assert_int_equal(seen.calls, 0);
	/* the slew was measured anew each time: still about 60 ms to go */
	near_answer(cub_time_adjust_left(), 60 * (int64_t)MS);
	end_keeper();
	return NULL;
}

static void test_keep_slew(void **state)
{
	(void)state;
	run(slew_main);
}

/* 5 s ahead, then (the server jumping) 300 ms behind: each stepped, the
 * interval back at the minimum; in between small offsets slew. */
static void *step_main(void *arg)
{
	struct cub_sntp_keeper_stats st;

	(void)arg;
	start_keeper(answer, 5 * (int64_t)SEC, 0);
	wait_queries(1, SEC);
	near_answer((int64_t)(cub_time_wall() - cub_arch_wallclock_ns()),
		    5 * (int64_t)SEC);
	assert_int_equal(seen.calls, 1);
	near_answer(seen.step, 5 * (int64_t)SEC);
	assert_int_equal(cub_time_adjust_left(), 0);
	st = kstats();
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.slews, 0);
	wait_queries(3, 2 * SEC);		/* 200, then 400 ms later */
	gap(1, POLL_MIN);
	gap(2, 2 * POLL_MIN);
	st = kstats();
	assert_int_equal(st.steps, 1);
	assert_int_equal(st.slews, 2);
	/* about 0 off now: what the step missed by is slewed back */
	near_answer(cub_time_adjust_left(), 5 * (int64_t)SEC - seen.step);
	/* the step: the server's 300 ms jump less what is still off (a
	 * slew gains 500 ppm: 0.2 ms by the next poll) */
	int64_t off = (int64_t)(cub_time_wall() - cub_arch_wallclock_ns());

	shift = 5 * (int64_t)SEC - 300 * (int64_t)MS;
	wait_queries(4, 2 * SEC);
	assert_int_equal(seen.calls, 2);
	near_answer(seen.step, shift - off);
	near_answer((int64_t)(cub_time_wall() - cub_arch_wallclock_ns()), shift);
	assert_int_equal(kstats().poll_ns, 2 * POLL_MIN);
	wait_queries(5, 2 * SEC);
	gap(4, POLL_MIN);			/* back at the minimum */
	end_keeper();
	return NULL;
}

static void test_keep_step(void **state)
{
	(void)state;
	run(step_main);
}

/* Nobody answers: failures, the polls backing off (150 ms of waiting
 * for an answer each, then 200, 400, 800 ms); the clock untouched. */
static void *silent_main(void *arg)
{
	struct cub_sntp_keeper_stats st;

	(void)arg;
	start_keeper(NULL, 0, 0);
	wait_queries(4, 3 * SEC);
	gap(1, 150 * MS + POLL_MIN);
	gap(2, 150 * MS + 2 * POLL_MIN);
	gap(3, 150 * MS + POLL_MAX);
	st = kstats();
	assert_true(st.failures >= 3);
	assert_int_equal(st.last_error, -CUB_ETIMEDOUT);
	assert_int_equal(st.slews + st.steps, 0);
	assert_int_equal(cub_time_adjust_left(), 0);
	assert_int_equal(seen.calls, 0);
	end_keeper();
	return NULL;
}

static void test_keep_silent(void **state)
{
	(void)state;
	run(silent_main);
}

/* RATE backs off; DENY ends the asking (and stop still works). */
static void *kiss_main(void *arg)
{
	struct cub_sntp_keeper_stats st;

	(void)arg;
	start_keeper(answer, 0, 0);
	kiss = "RATE";
	wait_queries(3, 2 * SEC);
	gap(1, POLL_MIN);
	gap(2, 2 * POLL_MIN);
	st = kstats();
	assert_true(st.failures >= 2);
	assert_int_equal(st.last_error, -CUB_ECONNREFUSED);
	assert_false(st.refused);
	kiss = "DENY";
	wait_queries(4, 2 * SEC);
	cub_sleep(POLL_MAX + 200 * MS);
	assert_int_equal(S.queries, 4);		/* no more */
	assert_true(kstats().refused);
	end_keeper();
	return NULL;
}

static void test_keep_kiss(void **state)
{
	(void)state;
	run(kiss_main);
}

/* first_ns delays the first query; stop ends a sleep and a query. */
static void *stop_main(void *arg)
{
	struct cub_sntp_keeper_opts o = { .timeout_ns = 10 * SEC };
	uint64_t t0;

	(void)arg;
	start_keeper(answer, 0, 300 * MS);
	t0 = cub_time_now();
	wait_queries(1, SEC);
	assert_true(S.qt[0] - t0 >= 290 * MS);
	end_keeper();				/* asleep for 200 ms */
	start_server(NULL, 123);
	assert_int_equal(cub_sntp_keeper_start(&K, A, SRV_IP, 123, &o), 0);
	wait_queries(1, SEC);			/* in a 10 s query */
	/* not the query's 10 s: a stall of the host may take some of it */
	stop_within(5 * SEC);
	assert_int_equal(cub_sntp_keeper_stop(&K), -CUB_EINVAL);	/* not started */
	stop();
	return NULL;
}

static void test_keep_stop(void **state)
{
	(void)state;
	run(stop_main);
}

static void *args_main(void *arg)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = 2 * SEC, .max_poll_ns = SEC };
	struct cub_sntp_keeper_stats st;
	struct cub_sntp_keeper k = { 0 };

	(void)arg;
	assert_int_equal(cub_sntp_keeper_start(NULL, A, SRV_IP, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start(&k, NULL, SRV_IP, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start(&k, A, 0, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start(&k, A, SRV_IP, 0, &o), -CUB_EINVAL);
	o.max_poll_ns = 0;	/* the default max, 1024 s, below min */
	o.min_poll_ns = 2000 * SEC;
	assert_int_equal(cub_sntp_keeper_start(&k, A, SRV_IP, 0, &o), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_status(&k, &st), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_status(NULL, &st), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_stop(&k), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_stop(NULL), -CUB_EINVAL);
	/* the defaults */
	start_server(answer, 123);
	o = (struct cub_sntp_keeper_opts){ .first_ns = 10 * SEC };
	assert_int_equal(cub_sntp_keeper_start(&k, A, SRV_IP, 0, &o), 0);
	assert_int_equal(cub_sntp_keeper_status(&k, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_status(&k, &st), 0);
	assert_int_equal(st.poll_ns, CUB_SNTP_POLL_MIN_NS);
	assert_int_equal(k.o.max_poll_ns, CUB_SNTP_POLL_MAX_NS);
	assert_int_equal(k.o.step_ns, CUB_SNTP_STEP_NS);
	assert_int_equal(k.servers[0].port, CUB_SNTP_PORT);
	assert_int_equal(k.n_servers, 1);
	assert_int_equal(cub_sntp_keeper_stop(&k), 0);
	assert_int_equal(S.queries, 0);
	stop();
	return NULL;
}

static void test_keep_args(void **state)
{
	(void)state;
	run(args_main);
}

/* A silent first server: the keeper fails over to the second at once
 * (not a poll interval later) and stays with it. */
static void *failover_main(void *arg)
{
	const struct cub_sntp_server l[] = { { SRV_IP, 124 }, { SRV_IP, 0 } };
	struct cub_sntp_keeper_stats st;
	uint64_t t0 = cub_time_now();

	(void)arg;
	start_list(l, 2, 150 * MS, true);
	wait_queries(1, SEC);
	assert_true(S.qt[0] - t0 >= 140 * MS);		/* 124's timeout first */
	assert_int_equal(silent_heard(0), 1);		/* 124 was asked */
	/* then at once, not a poll later: a stall only delays it */
	assert_true(S.qt[0] - t0 < 150 * MS + POLL_MIN + stall_late(&M, t0, S.qt[0]));
	st = kstats();
	assert_int_equal(st.polls, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.failovers, 1);
	assert_int_equal(st.server, 1);
	assert_int_equal(st.slews, 1);
	assert_int_equal(st.poll_ns, 2 * POLL_MIN);	/* the poll succeeded */
	near_answer(cub_time_adjust_left(), 60 * (int64_t)MS);
	wait_queries(2, SEC);
	gap(1, POLL_MIN);				/* 123 again, no timeout */
	st = kstats();
	assert_int_equal(st.failovers, 1);
	assert_int_equal(st.failures, 1);
	end_keeper();
	return NULL;
}

static void test_keep_failover(void **state)
{
	(void)state;
	run(failover_main);
}

/* Nobody answers on a list of three: each poll asks all three in turn,
 * and the interval doubles once per poll, not once per server. The
 * third failure is waited for, not slept for (a stall of the process
 * during the timeouts delays it past any fixed sleep); the counts read
 * then hold for the nap of POLL_MIN * 2 that follows. The three
 * timeouts run back to back: the third ends near 450 ms (under 550
 * allowed, plus what stall.h saw late), not 850 ms as it would with a
 * nap of POLL_MIN between servers. */
static void *all_silent_main(void *arg)
{
	const struct cub_sntp_server l[] = { { SRV_IP, 124 }, { SRV_IP, 125 }, { SRV_IP, 126 } };
	struct cub_sntp_keeper_stats st;
	uint64_t t0 = cub_time_now(), until = t0 + 5 * SEC, t3;

	(void)arg;
	start_list(l, 3, 150 * MS, true);
	while (kstats().failures < 3 && cub_time_now() < until)
		cub_sleep(5 * MS);
	t3 = cub_time_now();
	st = kstats();
	assert_int_equal(st.failures, 3);
	assert_true(t3 - t0 < 3 * 150 * MS + POLL_MIN / 2 + stall_late(&M, t0, t3));
	assert_int_equal(st.polls, 3);
	assert_int_equal(st.failovers, 3);	/* round to the first again */
	assert_int_equal(st.server, 0);
	assert_int_equal(st.poll_ns, 2 * POLL_MIN);
	assert_int_equal(st.last_error, -CUB_ETIMEDOUT);
	assert_false(st.refused);
	assert_int_equal(S.queries, 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(silent_heard(i), 1);	/* each asked, once */
	assert_int_equal(cub_time_adjust_left(), 0);
	end_keeper();
	return NULL;
}

static void test_keep_all_silent(void **state)
{
	(void)state;
	run(all_silent_main);
}

/* The same server twice: refused (DENY) as the first entry, it is never
 * asked as that entry again; the second entry answers and is kept; when
 * it refuses too the keeper stops. */
static void *refused_main(void *arg)
{
	const struct cub_sntp_server l[] = { { SRV_IP, 123 }, { SRV_IP, 123 } };
	struct cub_sntp_keeper_stats st;

	(void)arg;
	start_list(l, 2, 150 * MS, true);
	deny_first = 1;
	wait_queries(2, SEC);
	st = kstats();
	assert_int_equal(st.polls, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.last_error, -CUB_ECONNREFUSED);
	assert_int_equal(st.server, 1);
	assert_int_equal(st.slews, 1);
	assert_false(st.refused);
	assert_int_equal(K.refused_mask, 1);
	/* asked at once, not a poll later: a stall only delays it */
	assert_true(S.qt[1] - S.qt[0] < POLL_MIN + stall_late(&M, S.qt[0], S.qt[1]));
	wait_queries(3, SEC);
	gap(2, POLL_MIN);
	kiss = "DENY";
	wait_queries(4, 2 * SEC);
	cub_sleep(POLL_MAX + 200 * MS);
	assert_int_equal(S.queries, 4);			/* no more */
	st = kstats();
	assert_true(st.refused);
	assert_int_equal(K.refused_mask, 3);
	end_keeper();
	return NULL;
}

static void test_keep_refused(void **state)
{
	(void)state;
	run(refused_main);
}

/* B's UDP port unreachables so far (each one a request to a closed
 * port, which B's rate limit lets through at these rates). */
static uint64_t unreachables(void)
{
	struct cub_netif_stats st;

	assert_int_equal(cub_netif_stats(B, &st), 0);
	assert_int_equal(st.icmp_unreach_limited, 0);
	return st.icmp_unreach_tx;
}

/* A first server whose host has no NTP server (B's port 124 closed: a
 * port unreachable comes back): its query ends at once, not after its
 * 10 s, and the keeper fails over to the second at once, as for
 * silence; the first is not refused (no kiss), so when the second
 * fails (a RATE kiss) the next poll asks the first again. */
static void *closed_main(void *arg)
{
	const struct cub_sntp_server l[] = { { SRV_IP, 124 }, { SRV_IP, 0 } };
	struct cub_sntp_keeper_stats st;
	uint64_t t0 = cub_time_now(), until;

	(void)arg;
	start_list(l, 2, 10 * SEC, false);
	wait_queries(1, 5 * SEC);
	/* 124's answer is a round trip on the wire: 1 s is lenient, the
	 * timeout 10 times that; a stall only delays it (stall.h) */
	assert_true(S.qt[0] - t0 < SEC * (uint64_t)test_slowness() + stall_late(&M, t0, S.qt[0]));
	st = kstats();
	assert_int_equal(st.polls, 2);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.failovers, 1);
	assert_int_equal(st.server, 1);
	assert_int_equal(st.slews, 1);
	assert_int_equal(st.last_error, -CUB_ECONNREFUSED);
	assert_false(st.refused);
	assert_int_equal(K.refused_mask, 0);
	assert_int_equal(unreachables(), 1);
	/* the second fails: the same poll asks the first again */
	kiss = "RATE";
	until = cub_time_now() + 5 * SEC;
	while (kstats().failures < 3 && cub_time_now() < until)
		cub_sleep(5 * MS);
	st = kstats();
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.failovers, 3);		/* to 124, back to 123 */
	assert_int_equal(st.server, 1);
	assert_int_equal(st.last_error, -CUB_ECONNREFUSED);
	assert_false(st.refused);
	assert_int_equal(K.refused_mask, 0);
	assert_int_equal(unreachables(), 2);
	kiss = NULL;
	wait_queries(S.queries + 1, 3 * SEC);		/* 123 answers again */
	assert_true(kstats().slews >= 2);
	end_keeper();
	return NULL;
}

static void test_keep_closed(void **state)
{
	(void)state;
	run(closed_main);
}

static void *list_args_main(void *arg)
{
	struct cub_sntp_server l[CUB_SNTP_KEEPER_SERVERS + 1] = {
		{ SRV_IP, 0 }, { SRV_IP, 124 }, { SRV_IP, 125 }, { SRV_IP, 126 }, { SRV_IP, 127 } };
	struct cub_sntp_keeper k = { 0 };
	struct cub_sntp_keeper_opts o = { .first_ns = 10 * SEC };

	(void)arg;
	assert_int_equal(cub_sntp_keeper_start_list(&k, A, NULL, 1, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start_list(&k, A, l, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start_list(&k, A, l, CUB_SNTP_KEEPER_SERVERS + 1, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start_list(NULL, A, l, 1, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_start_list(&k, NULL, l, 1, NULL), -CUB_EINVAL);
	l[2].addr = 0;
	assert_int_equal(cub_sntp_keeper_start_list(&k, A, l, 3, NULL), -CUB_EINVAL);
	assert_int_equal(cub_sntp_keeper_status(&k, &(struct cub_sntp_keeper_stats){ 0 }),
			 -CUB_EINVAL);
	l[2].addr = SRV_IP;
	assert_int_equal(cub_sntp_keeper_start_list(&k, A, l, CUB_SNTP_KEEPER_SERVERS, &o), 0);
	assert_int_equal(k.n_servers, CUB_SNTP_KEEPER_SERVERS);
	assert_int_equal(k.servers[0].port, CUB_SNTP_PORT);	/* 0: 123 */
	assert_int_equal(k.servers[3].port, 126);
	l[0].port = 9;					/* copied, not kept */
	assert_int_equal(k.servers[0].port, CUB_SNTP_PORT);
	assert_int_equal(cub_sntp_keeper_stop(&k), 0);
	return NULL;
}

static void test_keep_list_args(void **state)
{
	(void)state;
	run(list_args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_slew),
		cmocka_unit_test(test_keep_step),
		cmocka_unit_test(test_keep_silent),
		cmocka_unit_test(test_keep_kiss),
		cmocka_unit_test(test_keep_stop),
		cmocka_unit_test(test_keep_args),
		cmocka_unit_test(test_keep_failover),
		cmocka_unit_test(test_keep_all_silent),
		cmocka_unit_test(test_keep_refused),
		cmocka_unit_test(test_keep_closed),
		cmocka_unit_test(test_keep_list_args),
	};

	(void)forge;	/* udp_fake.h's, not needed here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
