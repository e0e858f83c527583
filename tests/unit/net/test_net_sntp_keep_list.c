/*
 * test_net_sntp_keep_list.c - cub_sntp_keeper with a list of servers,
 * against the fake SNTP server of sntp_keep.h (one server:
 * test_net_sntp_keep.c).
 *
 * Proves: a silent server is failed over at once and the answering one
 * kept; a poll asks each server once and backs off once; a refusing
 * server is dropped and the keeper stops when all have refused; a
 * server whose host has no NTP server (a port unreachable) is failed
 * over at once, long before the query's timeout, and not refused: asked
 * again when the next fails; the list's bad arguments. The silent
 * servers of a list are ports of B with an endpoint that never answers
 * (silent_port), not closed ones (B would say port unreachable).
 */
#include "sntp_keep.h"

/* The server answering on port 123, 60 ms ahead, the clock back at the
 * platform's, and the keeper started with the short polls on a list of
 * servers (ports on B; only 123 answers) and queries of timeout ns. quiet: the other ports are silent servers (an
 * endpoint that never answers: udp_fake.h's silent_port, in the list's
 * order); else closed (B answers with a port unreachable). */
static void start_list(const struct cub_sntp_server *l, unsigned n, uint64_t timeout,
		       bool quiet)
{
	struct cub_sntp_keeper_opts o = { .min_poll_ns = POLL_MIN, .max_poll_ns = POLL_MAX,
					  .timeout_ns = timeout };

	fixture_reset(60 * (int64_t)MS);
	start_server(answer, 123);
	for (unsigned i = 0; i < n && quiet; i++)
		if (l[i].port && l[i].port != 123)
			silent_port(l[i].port);
	stall_start(&M);
	assert_int_equal(cub_sntp_keeper_start_list(&K, A, l, n, &o), 0);
}

/* A silent first server: the keeper fails over to the second at once
 * (not a poll interval later) and stays with it. */
static void *failover_main(void *arg)
{
	const struct cub_sntp_server l[] = { { SRV_IP, 124 }, { SRV_IP, 0 } };
	struct cub_sntp_keeper_stats st;
	uint64_t t0 = cub_time_now();
	unsigned k;

	(void)arg;
	start_list(l, 2, 150 * MS, true);
	wait_queries(1, SEC);
	assert_true(S.qt[0] - t0 >= 140 * MS);		/* 124's timeout first */
	assert_int_equal(silent_heard(0), 1);		/* 124 was asked */
	/* then at once, not a poll later: a stall only delays it */
	assert_true(S.qt[0] - t0 < 150 * MS + POLL_MIN + stall_late(&M, t0, S.qt[0]));
	st = kstats();
	k = taken(st.slews, S.queries, 1);		/* 1 unless late */
	assert_int_equal(st.polls, 1 + k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.failovers, 1);
	assert_int_equal(st.server, 1);
	assert_int_equal(st.poll_ns, poll_after(k));	/* the poll succeeded */
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
	unsigned k, n;

	(void)arg;
	start_list(l, 2, 150 * MS, true);
	deny_first = 1;
	wait_queries(2, SEC);
	st = kstats();
	k = taken(st.slews, S.queries - 1, 1);		/* 1 unless late */
	assert_int_equal(st.polls, 1 + k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.last_error, -CUB_ECONNREFUSED);
	assert_int_equal(st.server, 1);
	assert_false(st.refused);
	assert_int_equal(K.refused_mask, 1);
	/* asked at once, not a poll later: a stall only delays it */
	assert_true(S.qt[1] - S.qt[0] < POLL_MIN + stall_late(&M, S.qt[0], S.qt[1]));
	wait_queries(3, SEC);
	gap(2, POLL_MIN);
	/* the next request refused (the 4th, or a later one when this
	 * coroutine ran late: a loaded host) and then no more */
	n = S.queries + 1;
	kiss = "DENY";
	wait_queries(n, 2 * SEC);
	cub_sleep(POLL_MAX + 200 * MS);
	assert_int_equal(S.queries, n);			/* no more */
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
		cmocka_unit_test(test_keep_failover),
		cmocka_unit_test(test_keep_all_silent),
		cmocka_unit_test(test_keep_refused),
		cmocka_unit_test(test_keep_closed),
		cmocka_unit_test(test_keep_list_args),
	};

	(void)forge;	/* udp_fake.h's, not needed here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
