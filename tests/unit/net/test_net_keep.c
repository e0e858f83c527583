/*
 * test_net_keep.c - noticing a dead peer over TCP (src/net/tcp_keep.c):
 * keep-alive off by default, its probes' timing and form against a peer
 * played by hand (tcp_hand.h), the abort after count unanswered probes
 * waking a blocked recv with -CUB_ETIMEDOUT, an answer resetting the
 * count, the interface's params, bad arguments; ICMP errors about a
 * connection: port unreachable failing a connect, a soft error reported
 * instead of the timeout, mismatched and malformed quotes counted and
 * ignored. After each test every connection is gone and the counters
 * add up.
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

#include "../stall.h"
#include "tcp_test.h"
#include "tcp_hand.h"

static const struct cub_tcp_params fast = {
	.rto_initial = 300 * MS, .rto_min = 300 * MS, .rto_max = 600 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

static struct stall_meter M;		/* how late the test ran (AT) */
static bool metering;

static void stop_all(void)
{
	if (metering)
		stall_stop(&M);
	metering = false;
	cub_tcp_set_params(A, NULL);
	cub_tcp_set_params(B, NULL);
	stop();
}

static uint64_t t0;			/* the peer's last segment */

/* The peer sends an empty ACK: the idle time starts. */
static void peer_ack(void)
{
	if (!metering)
		stall_start(&M);
	metering = true;
	t0 = cub_time_now();	/* before: the stack may take it at once */
	peer(P0, 0x10, NULL, 0);
}

/*
 * Waits (up to limit) for A to have sent a segment beyond `before`,
 * takes that one (seg()) and returns the ms from t0 to when A sent it.
 * Segments are taken one at a time by their send times, so a test
 * coroutine that a loaded host runs late still sees each probe's own
 * timing, not its own lateness.
 */
static uint64_t wait_seg(uint64_t limit_ms)
{
	uint64_t t = cub_time_now();

	while (ncap == before && cub_time_now() - t < limit_ms * MS)
		cub_sleep(MS);
	assert_true(ncap > before);
	before++;
	return (cap_at[before - 1] - t0) / MS;
}

/* The TCP header of the segment wait_seg took last. */
static const uint8_t *seg(void)
{
	return cap[before - 1].data + 34;
}

/* A segment at `at` ms after t0: never early, late by a loaded host's
 * scheduling at most: 120 ms, and what stall.h saw the process run late
 * between when it was due and when it went. */
static void at_ms(uint64_t ms, uint64_t at)
{
	uint64_t late = stall_late(&M, t0 + at * MS, t0 + ms * MS) / MS;

	assert_in_range(ms, at, at + 120 + late);
}

#define AT(ms, at) at_ms(ms, at)

/* The segment taken is a keep-alive probe: an empty ACK at snd_nxt - 1. */
static void expect_probe(void)
{
	const uint8_t *ip = cap[before - 1].data + 14;

	assert_int_equal(seg()[13], 0x10);
	assert_int_equal(t_get32(seg() + 4), a_iss);	/* snd_nxt - 1 */
	assert_int_equal(t_get32(seg() + 8), P0);
	assert_int_equal(t_get16(ip + 2), 20 + (seg()[12] >> 4) * 4);
}

static const struct cub_tcp_keepalive ka_fast = {
	.on = true, .idle_ns = 100 * MS, .interval_ns = 50 * MS, .count = 3,
};

/* For a test that must answer a probe before the next one: the 300 ms
 * between them is the latest a loaded host may run the test coroutine
 * (with 50 ms, an ASan run beside a busy build sent a third probe). */
static const struct cub_tcp_keepalive ka_slow = {
	.on = true, .idle_ns = 100 * MS, .interval_ns = 300 * MS, .count = 3,
};

/* ------------------------------------------------------------ defaults */

static void *off_main(void *arg)
{
	struct cub_tcp_keepalive ka;
	struct cub_tcp_info info;
	struct cub_tcp *c;

	(void)arg;
	start_with(&fast);
	c = hand_open(NULL, 0);
	assert_int_equal(cub_tcp_get_keepalive(c, &ka), 0);
	assert_false(ka.on);
	assert_true(ka.idle_ns == CUB_TCP_KEEPIDLE);
	assert_true(ka.interval_ns == CUB_TCP_KEEPINTVL);
	assert_int_equal(ka.count, CUB_TCP_KEEPCNT);
	assert_int_equal(cub_tcp_info(c, &info), 0);
	assert_false(info.keepalive);
	before = ncap;
	cub_sleep(400 * MS);		/* idle: nothing is sent */
	assert_int_equal(ncap, before);
	assert_int_equal(if_stats(A).tcp_keepalive_probes, 0);
	assert_string_equal(cub_tcp_state_name(c), "ESTABLISHED");
	cub_tcp_abort(c);
	stop_all();
	return NULL;
}

static void test_keepalive_off_by_default(void **state)
{
	(void)state;
	run(off_main);
}

/* ------------------------------------------------------- probes, abort */

static struct cub_tcp *kc;
static long kc_r;

static void *blocked_reader(void *arg)
{
	char b[8];

	(void)arg;
	kc_r = cub_tcp_recv(kc, b, sizeof b, UINT64_MAX);
	return NULL;
}

static void *probes_main(void *arg)
{
	struct cub_tcp_info info;
	struct cub_coro *co;
	uint64_t ms;

	(void)arg;
	start_with(&fast);
	kc = hand_open(NULL, 0);
	assert_int_equal(cub_coro_spawn(&co, blocked_reader, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(cub_tcp_set_keepalive(kc, &ka_fast), 0);
	before = ncap;
	peer_ack();			/* the idle time starts now */
	ms = wait_seg(1000);
	AT(ms, 100);
	expect_probe();
	for (int i = 0; i < 2; i++) {
		ms = wait_seg(1000);
		AT(ms, 150 + 50 * i);
		expect_probe();
	}
	assert_int_equal(cub_tcp_info(kc, &info), 0);
	assert_int_equal(info.keepalive_probes, 3);
	ms = wait_seg(1000);		/* the third unanswered: RST */
	AT(ms, 250);
	assert_int_equal(seg()[13] & 0x04, 0x04);
	cub_coro_join(co, NULL);
	assert_int_equal(kc_r, -CUB_ETIMEDOUT);
	assert_int_equal(cub_tcp_send(kc, "x", 1, 0), -CUB_ETIMEDOUT);
	assert_int_equal(if_stats(A).tcp_keepalive_probes, 3);
	assert_int_equal(if_stats(A).tcp_keepalive_drops, 1);
	assert_int_equal(cub_tcp_close(kc), 0);
	stop_all();
	return NULL;
}

static void test_keepalive_probes_then_abort(void **state)
{
	(void)state;
	run(probes_main);
}

static void *answer_main(void *arg)
{
	struct cub_tcp_info info;
	struct cub_tcp *c;
	uint64_t ms;

	(void)arg;
	start_with(&fast);
	c = hand_open(NULL, 0);
	assert_int_equal(cub_tcp_set_keepalive(c, &ka_slow), 0);
	before = ncap;
	peer_ack();
	for (int round = 0; round < 4; round++) {
		/* two probes, then the peer answers the second: the count
		 * starts over and the next probe waits a full idle time */
		ms = wait_seg(1000);
		AT(ms, 100);
		expect_probe();
		ms = wait_seg(1000);
		AT(ms, 400);
		expect_probe();
		assert_int_equal(cub_tcp_info(c, &info), 0);
		assert_int_equal(info.keepalive_probes, 2);
		peer_ack();
		assert_int_equal(cub_tcp_info(c, &info), 0);
		assert_int_equal(info.keepalive_probes, 0);
	}
	assert_string_equal(cub_tcp_state_name(c), "ESTABLISHED");
	assert_int_equal(if_stats(A).tcp_keepalive_drops, 0);
	/* Off again: silence. */
	struct cub_tcp_keepalive off = ka_slow;

	off.on = false;
	assert_int_equal(cub_tcp_set_keepalive(c, &off), 0);
	cub_sleep(300 * MS);
	assert_int_equal(ncap, before);
	cub_tcp_abort(c);
	stop_all();
	return NULL;
}

static void test_keepalive_answer_resets_count(void **state)
{
	(void)state;
	run(answer_main);
}

/* Keep-alive from the interface's params; bad arguments. */
static void *params_main(void *arg)
{
	struct cub_tcp_params p = fast;
	struct cub_tcp_keepalive ka, bad;
	struct cub_tcp *c, *l;

	(void)arg;
	p.keepalive = 1;
	p.keep_idle = 100 * MS;
	p.keep_intvl = 40 * MS;
	p.keep_cnt = 2;
	start_with(&p);
	c = hand_open(NULL, 0);
	assert_int_equal(cub_tcp_get_keepalive(c, &ka), 0);
	assert_true(ka.on);
	assert_true(ka.idle_ns == 100 * MS && ka.interval_ns == 40 * MS);
	assert_int_equal(ka.count, 2);
	before = ncap;
	peer_ack();
	AT(wait_seg(1000), 100);
	expect_probe();
	AT(wait_seg(1000), 140);
	AT(wait_seg(1000), 180);	/* RST */
	assert_int_equal(seg()[13] & 0x04, 0x04);
	assert_int_equal(cub_tcp_recv(c, &ka, 1, 0), -CUB_ETIMEDOUT);
	assert_int_equal(cub_tcp_close(c), 0);
	p.keep_cnt = 256;
	assert_int_equal(cub_tcp_set_params(A, &p), -CUB_EINVAL);
	/* bad arguments */
	assert_int_equal(cub_tcp_listen(A, 99, 1, &l), 0);
	assert_int_equal(cub_tcp_set_keepalive(l, &ka_fast), -CUB_EINVAL);
	assert_int_equal(cub_tcp_set_keepalive(NULL, &ka_fast), -CUB_EINVAL);
	assert_int_equal(cub_tcp_get_keepalive(l, NULL), -CUB_EINVAL);
	bad = ka_fast;
	bad.count = 0;
	assert_int_equal(cub_tcp_set_keepalive(l, &bad), -CUB_EINVAL);
	bad.count = 256;
	assert_int_equal(cub_tcp_set_keepalive(l, &bad), -CUB_EINVAL);
	bad = ka_fast;
	bad.idle_ns = 0;
	assert_int_equal(cub_tcp_set_keepalive(l, &bad), -CUB_EINVAL);
	bad = ka_fast;
	bad.interval_ns = 0;
	assert_int_equal(cub_tcp_set_keepalive(l, &bad), -CUB_EINVAL);
	assert_int_equal(cub_tcp_close(l), 0);
	stop_all();
	return NULL;
}

static void test_keepalive_params_and_arguments(void **state)
{
	(void)state;
	run(params_main);
}

/* ---------------------------------------------------------- ICMP errors */

/* An ICMP error (type, code) from B about A's captured segment k,
 * quoting qlen bytes of it (0: header + 8); edit may change the quote
 * first. */
static void icmp_about(unsigned k, uint8_t type, uint8_t code, size_t qlen,
		       void (*edit)(uint8_t *q))
{
	uint8_t f[CUB_ETH_FRAME_MAX], q[128];

	memcpy(q, cap[k].data + 14, 60);
	if (edit)
		edit(q);
	cub_netif_input(A, f, t_icmp_err(f, MAC_A, MAC_B, IP_B, IP_A, type,
					  code, q, qlen ? qlen : 28));
	wire_settle(&W);
}

static void *refused_main(void *arg)
{
	struct cub_coro *co;

	(void)arg;
	start_with(&fast);
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_coro_spawn(&co, connector, NULL, NULL), 0);
	wire_settle(&W);
	assert_int_equal(ncap, 1);	/* the SYN */
	/* Host unreachable is soft: the connect goes on. */
	icmp_about(0, 3, 1, 0, NULL);
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
	assert_int_equal(live(A), 1);
	/* Port unreachable ends it. */
	icmp_about(0, 3, 3, 0, NULL);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, -CUB_ECONNREFUSED);
	assert_int_equal(if_stats(A).icmp_err_reported, 2);
	stop_all();
	return NULL;
}

static void test_icmp_refuses_connect(void **state)
{
	(void)state;
	run(refused_main);
}

static void *proto_main(void *arg)
{
	struct cub_coro *co;

	(void)arg;
	start_with(&fast);
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_coro_spawn(&co, connector, NULL, NULL), 0);
	wire_settle(&W);
	icmp_about(0, 3, 2, 0, NULL);	/* protocol unreachable */
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, -CUB_ECONNREFUSED);
	stop_all();
	return NULL;
}

static void test_icmp_protocol_unreachable(void **state)
{
	(void)state;
	run(proto_main);
}

/* A soft error is what a connection that times out reports. */
static void *soft_main(void *arg)
{
	struct cub_tcp_keepalive ka = ka_fast;
	struct cub_tcp_info info;
	struct cub_tcp *c;

	(void)arg;
	start_with(&fast);
	c = hand_open(NULL, 0);
	icmp_about(1, 3, 1, 0, NULL);	/* about our ACK: seq outside flight */
	assert_int_equal(if_stats(A).icmp_err_unmatched, 1);
	assert_int_equal(cub_tcp_send(c, "hello", 5, 0), 5);
	wire_settle(&W);
	icmp_about(ncap - 1, 11, 0, 0, NULL);	/* about the data: in flight */
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
	assert_int_equal(cub_tcp_info(c, &info), 0);
	assert_int_equal(info.soft_err, -CUB_EHOSTUNREACH);
	assert_string_equal(info.state, "ESTABLISHED");
	peer(P0, 0x10, NULL, 0);	/* (acks nothing: a_iss + 1) */
	peer_opt(P0, a_iss + 6, 0x10, 8000, NULL, 0, NULL, 0);
	ka.count = 1;
	assert_int_equal(cub_tcp_set_keepalive(c, &ka), 0);
	cub_sleep(300 * MS);
	assert_int_equal(cub_tcp_recv(c, &info, 1, 0), -CUB_EHOSTUNREACH);
	assert_int_equal(cub_tcp_close(c), 0);
	stop_all();
	return NULL;
}

static void test_icmp_soft_error(void **state)
{
	(void)state;
	run(soft_main);
}

static void quote_other_src(uint8_t *q) { q[15] ^= 1; }
static void quote_ihl4(uint8_t *q) { q[0] = 0x44; }
static void quote_v6(uint8_t *q) { q[0] = 0x65; }
static void quote_frag(uint8_t *q) { q[7] = 8; }
static void quote_sport(uint8_t *q) { q[20] ^= 1; }
static void quote_dport(uint8_t *q) { q[23] ^= 1; }
static void quote_raddr(uint8_t *q) { q[19] ^= 4; }
static void quote_seq(uint8_t *q) { q[24] ^= 0x80; }
static void quote_icmp(uint8_t *q) { q[9] = 1; }
static void quote_ihl6(uint8_t *q) { q[0] = 0x46; }

/* Malformed, truncated or mismatched errors change nothing. */
static void *junk_main(void *arg)
{
	static void (*const bad[])(uint8_t *) = {
		quote_other_src, quote_ihl4, quote_v6, quote_frag,
	};
	static void (*const unmatched[])(uint8_t *) = {
		quote_sport, quote_dport, quote_raddr, quote_seq, quote_icmp,
	};
	struct cub_tcp_info info;
	struct cub_netif_stats s;
	struct cub_coro *co;

	(void)arg;
	start_with(&fast);
	ncap = 0;
	W.filter = capture;
	assert_int_equal(cub_coro_spawn(&co, connector, NULL, NULL), 0);
	wire_settle(&W);
	aport = t_get16(last());
	a_iss = t_get32(last() + 4);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		icmp_about(0, 3, 3, 0, bad[i]);
	icmp_about(0, 3, 3, 27, NULL);		/* 7 bytes past the header */
	icmp_about(0, 3, 3, 19, NULL);		/* not even a header */
	icmp_about(0, 3, 3, 31, quote_ihl6);	/* IHL 6: 24 + 7 */
	icmp_about(0, 11, 5, 0, NULL);		/* time exceeded, code 5 */
	s = if_stats(A);
	assert_int_equal(s.icmp_err_bad, 8);
	for (size_t i = 0; i < sizeof unmatched / sizeof unmatched[0]; i++)
		icmp_about(0, 3, 3, 0, unmatched[i]);
	s = if_stats(A);
	assert_int_equal(s.icmp_err_unmatched, 5);
	assert_int_equal(s.icmp_err_reported, 0);
	assert_int_equal(s.icmp_rx, s.icmp_bad + s.icmp_echo_requests +
			 s.icmp_echo_replies + s.icmp_other + s.icmp_err_bad +
			 s.icmp_err_unmatched + s.icmp_err_ignored +
			 s.icmp_err_reported);
	assert_int_equal(live(A), 1);	/* still connecting */
	peer_opt(P0 - 1, a_iss + 1, 0x12, 8000, NULL, 0, NULL, 0);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	assert_int_equal(cub_tcp_info(ct.c, &info), 0);
	assert_int_equal(info.soft_err, 0);
	/* Established: port unreachable is soft (it was sent about data). */
	assert_int_equal(cub_tcp_send(ct.c, "x", 1, 0), 1);
	wire_settle(&W);
	icmp_about(ncap - 1, 3, 3, 0, NULL);
	assert_int_equal(cub_tcp_info(ct.c, &info), 0);
	assert_int_equal(info.soft_err, -CUB_ECONNREFUSED);
	assert_string_equal(info.state, "ESTABLISHED");
	cub_tcp_abort(ct.c);
	stop_all();
	return NULL;
}

static void test_icmp_junk_ignored(void **state)
{
	(void)state;
	run(junk_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_off_by_default),
		cmocka_unit_test(test_keepalive_probes_then_abort),
		cmocka_unit_test(test_keepalive_answer_resets_count),
		cmocka_unit_test(test_keepalive_params_and_arguments),
		cmocka_unit_test(test_icmp_refuses_connect),
		cmocka_unit_test(test_icmp_protocol_unreachable),
		cmocka_unit_test(test_icmp_soft_error),
		cmocka_unit_test(test_icmp_junk_ignored),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
