/*
 * test_net_sntp_keep.c - cub_sntp_keeper with one server, against the
 * fake SNTP server of sntp_keep.h.
 *
 * Proves: an offset under the step threshold is slewed (the remaining
 * adjustment is the offset, the clock not stepped) and the poll interval
 * doubles from the minimum up to the maximum; a larger one (either way)
 * is stepped, the callback told the step, the interval back at the
 * minimum, the next offset small and slewed; a silent server or a RATE
 * kiss backs the polls off, a DENY kiss ends the asking; first_ns
 * delays the first query; stop ends the keeper at once, asleep or in a
 * query; bad arguments. Lists of servers: test_net_sntp_keep_list.c.
 */
#include "sntp_keep.h"

static void stepped(void *arg, int64_t step)
{
	assert_ptr_equal(arg, &seen);
	seen.calls++;
	seen.step = step;
}

/* The server answering with fn, the clock back at the platform's, and
 * the keeper started with the short polls. */
static void start_keeper(reply_fn *fn, int64_t sh, uint64_t first)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = POLL_MIN, .max_poll_ns = POLL_MAX,
					  .timeout_ns = 150 * MS, .first_ns = first,
					  .stepped = stepped, .arg = &seen };

	fixture_reset(sh);
	start_server(fn, 123);
	stall_start(&M);
	assert_int_equal(cub_sntp_keeper_start(&K, A, SRV_IP, 0, &o), 0);
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
	unsigned n;

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
	/* the next request refused (the 4th, or a later one when this
	 * coroutine ran late: a loaded host) and then no more */
	n = S.queries + 1;
	kiss = "DENY";
	wait_queries(n, 2 * SEC);
	cub_sleep(POLL_MAX + 200 * MS);
	assert_int_equal(S.queries, n);		/* no more */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_slew),
		cmocka_unit_test(test_keep_step),
		cmocka_unit_test(test_keep_silent),
		cmocka_unit_test(test_keep_kiss),
		cmocka_unit_test(test_keep_stop),
		cmocka_unit_test(test_keep_args),
	};

	(void)forge;	/* udp_fake.h's, not needed here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
