/*
 * test_net_tcp_paws.c - TCP's use of timestamps once agreed (RFC 7323
 * 4-5, src/net/tcp_ts.c), against a peer played by hand (tcp_hand.h):
 * PAWS dropping an old duplicate that the sequence check alone would
 * take, a segment without the option dropped, RSTs exempt, the 24-day
 * rule (paws_idle); an RTT sample from the ACK of a retransmission, and
 * none without timestamps (Karn). After each test every connection is
 * gone and the counters add up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "tcp_test.h"
#include "tcp_hand.h"
#include "tcp_ts_test.h"

/* --------------------------------------------------------------- PAWS */

static void *paws_main(void *arg)
{
	static const uint8_t stale[10] = "OLD-BYTES!";
	static uint8_t buf[64];
	struct cub_tcp *c;
	uint64_t dup0;

	(void)arg;
	fill_payload();
	start();
	c = ts_open(true, 5000);
	a_tsval = expect_ecr(5000);
	before = ncap;
	TSEG(0, 10, 5010);
	expect_ack(10);
	/* An old duplicate from a previous trip round the sequence space:
	 * its number is rcv_nxt (the sequence check takes it), its TSval
	 * older than TS.Recent: dropped, ACKed, not read. */
	dup0 = if_stats(A).tcp_dup;
	ts_seg(10, 0x18, 5001, stale, sizeof stale);
	expect_ack(10);
	expect_ecr(5010);
	assert_int_equal(if_stats(A).tcp_paws, 1);
	assert_int_equal(if_stats(A).tcp_dup, dup0);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 1000 * MS), 10);
	assert_memory_equal(buf, payload, 10);
	assert_int_equal(cub_tcp_recv(c, buf, 1, 0), -CUB_EAGAIN);
	/* The real bytes, a newer TSval: taken. */
	TSEG(10, 20, 5020);
	expect_ack(20);
	expect_ecr(5020);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 1000 * MS), 10);
	assert_memory_equal(buf, payload + 10, 10);
	/* Without the option where it was agreed: dropped, no answer. */
	peer(P0 + 20, 0x18, payload + 20, 10);
	assert_int_equal(ncap, before);
	assert_int_equal(if_stats(A).tcp_ts_missing, 1);
	assert_int_equal(cub_tcp_recv(c, buf, 1, 0), -CUB_EAGAIN);
	/* The 24-day rule (RFC 7323 5.5), here 100 ms: a TS.Recent that
	 * old is not trusted, the old TSval taken and echoed. */
	assert_int_equal(cub_tcp_set_params(A, &(struct cub_tcp_params){
				.paws_idle = 100 * MS }), 0);
	ts_seg(20, 0x18, 5002, payload + 20, 10);
	expect_ack(20);				/* still PAWS */
	assert_int_equal(if_stats(A).tcp_paws, 2);
	cub_sleep(150 * MS);
	TSEG(20, 30, 5003);
	expect_ack(30);
	expect_ecr(5003);
	assert_int_equal(cub_tcp_recv(c, buf, sizeof buf, 1000 * MS), 10);
	assert_memory_equal(buf, payload + 20, 10);
	/* A RST is not judged by its TSval (5.3 R1), only by its number. */
	ts_seg(30, 0x04, 1, NULL, 0);
	assert_string_equal(cub_tcp_state_name(c), "CLOSED");
	assert_int_equal(cub_tcp_recv(c, buf, 1, 0), -CUB_ECONNRESET);
	assert_int_equal(if_stats(A).tcp_paws, 2);
	assert_int_equal(cub_tcp_close(c), 0);
	stop_all();
	return NULL;
}

static void test_paws(void **state)
{
	(void)state;
	run(paws_main);
}

/* --------------------------------------------------- RTT from a resend */

/* A segment times out and is resent; the peer ACKs the resend, echoing
 * its TSval: with timestamps that is an RTT sample (the RTO comes back
 * from its backoff to the estimate, here rto_min); without them Karn's
 * rule takes none (the backed-off RTO stays). */
static void *rtt_main(void *arg)
{
	struct cub_tcp_info i;
	struct cub_tcp *c;

	(void)arg;
	fill_payload();
	for (int ts = 1; ts >= 0; ts--) {
		uint64_t end, srtt0;
		uint32_t v1 = 0, v2 = 0, e;

		start();
		c = ts_open(ts, 7000);
		a_tsval = ts ? expect_ecr(7000) : 0;
		assert_int_equal(cub_tcp_info(c, &i), 0);
		srtt0 = i.srtt;
		assert_int_equal(i.rto, 300 * MS);
		before = ncap;
		assert_int_equal(cub_tcp_send(c, payload, 100, 0), 100);
		wire_settle(&W);
		assert_int_equal(ncap, before + 1);
		assert_int_equal(seg_ts(last(), &v1, &e), ts);
		end = cub_time_now() + 2000 * MS;
		while (ncap == before + 1 && cub_time_now() < end)
			cub_sleep(10 * MS);
		assert_int_equal(ncap, before + 2);	/* the resend */
		assert_int_equal(if_stats(A).tcp_timeouts, 1);
		assert_int_equal(t_get32(last() + 4), a_iss + 1);
		assert_int_equal(seg_ts(last(), &v2, &e), ts);
		if (ts)
			assert_true(v2 - v1 >= 250);	/* ms later */
		assert_int_equal(cub_tcp_info(c, &i), 0);
		assert_int_equal(i.rto, 600 * MS);	/* backed off */
		cub_sleep(20 * MS);
		if (ts) {			/* the ACK echoes the resend */
			uint8_t o[12] = { 1, 1, 8, 10 };

			t_put32(o + 4, 7100);
			t_put32(o + 8, v2);
			peer_opt(P0, a_iss + 101, 0x10, 8000, o, 12, NULL, 0);
		} else {
			peer_opt(P0, a_iss + 101, 0x10, 8000, NULL, 0, NULL, 0);
		}
		assert_int_equal(cub_tcp_info(c, &i), 0);
		assert_int_equal(i.flight, 0);
		if (ts) {
			/* A sample of ~20 ms, not ~320 (the first send). */
			assert_int_equal(i.rto, 300 * MS);
			assert_true(i.srtt > srtt0);
			assert_true(i.srtt < srtt0 + 200 * MS / 8);
		} else {
			assert_int_equal(i.rto, 600 * MS);
			assert_int_equal(i.srtt, srtt0);
		}
		assert_int_equal(cub_tcp_abort(c), 0);
		stop();
	}
	return NULL;
}

static void test_rtt_from_resend(void **state)
{
	(void)state;
	run(rtt_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paws),
		cmocka_unit_test(test_rtt_from_resend),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
