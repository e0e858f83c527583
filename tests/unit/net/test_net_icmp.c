/*
 * test_net_icmp.c - ICMP errors to UDP endpoints (src/net/icmp_err.c,
 * udp.c) over the in-memory wire: a connected endpoint gets each kind
 * once from its next call (a blocked receiver wakes), an unconnected one
 * or one connected elsewhere only counts it; the port unreachable that
 * B sends for a closed port, rate limited by its token bucket.
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

#include "net_unit.h"

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

static void check_sums(struct cub_netif *n)
{
	struct cub_netif_stats s = if_stats(n);

	assert_int_equal(s.icmp_rx, s.icmp_bad + s.icmp_echo_requests +
			 s.icmp_echo_replies + s.icmp_other + s.icmp_err_bad +
			 s.icmp_err_unmatched + s.icmp_err_ignored +
			 s.icmp_err_reported);
}

static void stop(void)
{
	wire_stop(&W);
	check_sums(A);
	check_sums(B);
}

/* An ICMP error (type, code) to A about a datagram from A's sport to
 * dst:dport, quoting its header and 8 bytes, as B would send it. */
static void icmp_to_a(uint8_t type, uint8_t code, uint16_t sport,
		      uint32_t dst, uint16_t dport)
{
	uint8_t f[CUB_ETH_FRAME_MAX], d[CUB_ETH_FRAME_MAX];
	size_t n = t_udp(d, MAC_B, MAC_A, IP_A, dst, sport, dport, "abc", 3);

	(void)n;
	cub_netif_input(A, f, t_icmp_err(f, MAC_A, MAC_B, IP_B, IP_A, type,
					  code, d + 14, 28));
}

static struct cub_udp ua;
static int rx_r;

static void *receiver(void *arg)
{
	char b[8];

	(void)arg;
	rx_r = cub_udp_recvfrom(&ua, b, sizeof b, NULL, NULL, UINT64_MAX);
	return NULL;
}

static void *refused_main(void *arg)
{
	struct cub_coro *co;
	char b[8];

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_udp_open(&ua, A, 0), 0);
	assert_int_equal(cub_udp_connect(&ua, IP_B, 9999), 0);
	assert_int_equal(cub_coro_spawn(&co, receiver, NULL, NULL), 0);
	cub_coro_yield();
	/* B has nothing on 9999: its port unreachable wakes the reader */
	assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
	wire_settle(&W);
	cub_coro_join(co, NULL);
	assert_int_equal(rx_r, -CUB_ECONNREFUSED);
	assert_int_equal(if_stats(A).icmp_err_reported, 1);
	assert_int_equal(if_stats(B).icmp_unreach_tx, 1);
	/* once only */
	assert_int_equal(cub_udp_recvfrom(&ua, b, sizeof b, NULL, NULL, 0),
			 -CUB_EAGAIN);
	/* again: this time the next send takes it and sends nothing */
	assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
	wire_settle(&W);
	uint64_t tx = if_stats(A).udp_tx;

	assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1),
			 -CUB_ECONNREFUSED);
	assert_int_equal(if_stats(A).udp_tx, tx);
	assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
	wire_settle(&W);
	assert_int_equal(cub_udp_error(&ua), -CUB_ECONNREFUSED);
	assert_int_equal(cub_udp_error(&ua), 0);
	assert_int_equal(cub_udp_close(&ua), 0);
	assert_int_equal(cub_udp_error(&ua), -CUB_EBADF);
	stop();
	return NULL;
}

static void test_udp_connected_refused(void **state)
{
	(void)state;
	run(refused_main);
}

static void *kinds_main(void *arg)
{
	static const struct {
		uint8_t type, code;
		int err;
	} k[] = {
		{ 3, 0, -CUB_ENETUNREACH }, { 3, 1, -CUB_EHOSTUNREACH },
		{ 3, 2, -CUB_ECONNREFUSED }, { 3, 3, -CUB_ECONNREFUSED },
		{ 3, 4, -CUB_EMSGSIZE }, { 11, 0, -CUB_EHOSTUNREACH },
		{ 11, 1, -CUB_EHOSTUNREACH }, { 3, 13, -CUB_EHOSTUNREACH },
	};
	const uint32_t far = CUB_IP4(192, 0, 2, 9);
	uint16_t port;
	char b[4];

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_udp_open(&ua, A, 0), 0);
	port = cub_udp_port(&ua);
	/* unconnected: counted, not reported */
	icmp_to_a(3, 3, port, far, 53);
	assert_int_equal(if_stats(A).icmp_err_ignored, 1);
	assert_int_equal(cub_udp_error(&ua), 0);
	assert_int_equal(cub_udp_connect(&ua, far, 53), 0);
	for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
		icmp_to_a(k[i].type, k[i].code, port, far, 53);
		assert_int_equal(cub_udp_recvfrom(&ua, b, 4, NULL, NULL, 0),
				 k[i].err);
	}
	assert_int_equal(if_stats(A).icmp_err_reported, 8);
	/* another peer or port, another local port: not ours */
	icmp_to_a(3, 3, port, far + 1, 53);
	icmp_to_a(3, 3, port, far, 54);
	assert_int_equal(if_stats(A).icmp_err_ignored, 3);
	icmp_to_a(3, 3, (uint16_t)(port + 1), far, 53);
	assert_int_equal(if_stats(A).icmp_err_unmatched, 1);
	/* an unknown code, time exceeded code 2: malformed */
	icmp_to_a(3, 16, port, far, 53);
	icmp_to_a(11, 2, port, far, 53);
	assert_int_equal(if_stats(A).icmp_err_bad, 2);
	assert_int_equal(cub_udp_error(&ua), 0);
	/* disconnected: ignored again, a pending error dropped */
	icmp_to_a(3, 3, port, far, 53);
	assert_int_equal(cub_udp_connect(&ua, 0, 0), 0);
	assert_int_equal(cub_udp_error(&ua), 0);
	icmp_to_a(3, 3, port, far, 53);
	assert_int_equal(if_stats(A).icmp_err_ignored, 4);
	/* arguments */
	assert_int_equal(cub_udp_connect(NULL, far, 53), -CUB_EINVAL);
	assert_int_equal(cub_udp_connect(&ua, far, 0), -CUB_EINVAL);
	assert_int_equal(cub_udp_error(NULL), -CUB_EINVAL);
	assert_int_equal(cub_udp_close(&ua), 0);
	assert_int_equal(cub_udp_connect(&ua, far, 53), -CUB_EBADF);
	stop();
	return NULL;
}

static void test_udp_error_kinds(void **state)
{
	(void)state;
	run(kinds_main);
}

/* B answers at most its bucket (10) at once, then 100 a second. */
static void *limit_main(void *arg)
{
	struct cub_netif_stats s;

	(void)arg;
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_udp_open(&ua, A, 0), 0);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
		wire_settle(&W);
	}
	s = if_stats(B);
	assert_int_equal(s.udp_no_port, 30);
	assert_in_range(s.icmp_unreach_tx, 10, 11);
	assert_int_equal(s.icmp_unreach_tx + s.icmp_unreach_limited, 30);
	assert_int_equal(if_stats(A).icmp_err_ignored, s.icmp_unreach_tx);
	uint64_t t = cub_time_now(), back;

	cub_sleep(55 * MS);		/* 5 tokens back (more if slept long) */
	back = CUB_MIN((cub_time_now() - t) / (10 * MS), 10) + 1;
	for (int i = 0; i < 12; i++) {
		assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
		wire_settle(&W);
	}
	uint64_t tx0 = s.icmp_unreach_tx;

	s = if_stats(B);
	assert_in_range(s.icmp_unreach_tx, tx0 + 5, tx0 + back);
	cub_sleep(500 * MS);		/* full again, not more */
	for (int i = 0; i < 20; i++) {
		assert_int_equal(cub_udp_sendto(&ua, IP_B, 9999, "x", 1), 1);
		wire_settle(&W);
	}
	assert_int_equal(if_stats(B).icmp_unreach_tx, s.icmp_unreach_tx + 10);
	/* never for a broadcast */
	uint64_t tx = if_stats(B).icmp_unreach_tx;

	cub_sleep(200 * MS);
	assert_int_equal(cub_udp_sendto(&ua, CUB_IP4_BROADCAST, 9999, "x", 1), 1);
	wire_settle(&W);
	assert_int_equal(if_stats(B).icmp_unreach_tx, tx);
	assert_int_equal(cub_udp_close(&ua), 0);
	stop();
	return NULL;
}

static void test_port_unreach_rate_limit(void **state)
{
	(void)state;
	run(limit_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_connected_refused),
		cmocka_unit_test(test_udp_error_kinds),
		cmocka_unit_test(test_port_unreach_rate_limit),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
