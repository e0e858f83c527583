/*
 * test_net_sntp_icmp.c - cub_sntp_query hearing ICMP errors about its
 * request (its endpoint connected to the server, sntp.c), against the
 * fake UDP server of udp_fake.h on B's port 123 answering as a
 * stratum-2 server, or sending an ICMP error built by hand instead.
 *
 * Proves: a port nobody listens on (B's 124, closed: B's own port
 * unreachable) ends a query with a 10 s timeout at once with
 * -CUB_ECONNREFUSED, res->kiss empty (not a kiss-o'-death), one
 * request; ICMP port, host and net unreachable, fragmentation needed
 * (as host unreachable) and time exceeded about the request end it with
 * their codes; errors quoting another source or destination port are
 * not about this query, which is answered.
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
#include <cubrt/sntp.h>
#include <cubrt/time.h>
#include "../slow.h"
#include "../stall.h"

#include "udp_fake.h"
#include "ntp_fake.h"

#define SEC CUB_NSEC_PER_SEC

/* A stratum-2 answer to request q at our own wall time. */
static void answer(const uint8_t *q, unsigned nth)
{
	uint64_t now = ntp_of(cub_time_wall());
	uint8_t m[48] = { 0 };

	(void)nth;
	m[0] = 4 << 3 | 4;
	m[1] = 2;
	t_put32(m + 12, CUB_IP4(10, 0, 0, 9));
	t_put64(m + 24, t_get64(q + 40));
	t_put64(m + 32, now);
	t_put64(m + 40, now);
	srv_send(m, sizeof(m));
}

static void start(reply_fn *fn)
{
	start_server(fn, 123);
}

static int query(uint64_t timeout, struct cub_sntp_result *r)
{
	return cub_sntp_query(A, SRV_IP, 0, timeout, r);
}

/* A port nobody listens on (B's 124): B's port unreachable ends the
 * query at once with -CUB_ECONNREFUSED and no kiss, not after its 10 s
 * (1 s allowed, plus any stall of the host: stall.h). */
static void *closed_main(void *arg)
{
	struct stall_meter m;
	struct cub_sntp_result r;
	struct cub_netif_stats st;
	uint64_t t0, t1;

	(void)arg;
	start(answer);
	stall_start(&m);
	t0 = cub_time_now();
	assert_int_equal(cub_sntp_query(A, SRV_IP, 124, 10 * SEC, &r), -CUB_ECONNREFUSED);
	t1 = cub_time_now();
	assert_true(t1 - t0 < SEC * (uint64_t)test_slowness() + stall_late(&m, t0, t1));
	assert_string_equal(r.kiss, "");
	assert_int_equal(r.queries, 1);
	assert_int_equal(cub_netif_stats(A, &st), 0);
	assert_int_equal(st.icmp_err_reported, 1);
	stall_stop(&m);
	stop();
	return NULL;
}

static void test_sntp_closed(void **state)
{
	(void)state;
	run(closed_main);
}

/* The ICMP error the server's side sends instead of an answer. */
static struct {
	uint8_t type, code;
	uint16_t dport;		/* the quoted destination port */
	uint16_t sport_add;	/* added to the quoted source port */
} icmp;

/* An ICMP error from B quoting request q (the datagram rebuilt as A
 * sent it, its ports changed as icmp says): the error about it, or one
 * about another exchange; then, for the latter, the answer. */
static void icmp_instead(const uint8_t *q, unsigned nth)
{
	static uint8_t d[CUB_ETH_FRAME_MAX], f[CUB_ETH_FRAME_MAX];
	size_t n = t_udp(d, MAC_B, MAC_A, IP_A, SRV_IP, (uint16_t)(S.last_port + icmp.sport_add),
			 icmp.dport, q, CUB_SNTP_LEN) - 14;

	n = t_icmp_err(f, MAC_A, MAC_B, SRV_IP, IP_A, icmp.type, icmp.code, d + 14, n);
	assert_int_equal(wire_send(B, f, n), 0);
	wire_settle(&W);
	if (icmp.dport != 123 || icmp.sport_add)
		answer(q, nth);
}

/* Each kind of ICMP error about the request ends the query at once
 * with its code, no kiss; "fragmentation needed" (code 4) as host
 * unreachable (sntp.c). Errors quoting another destination port or
 * another source port are not about this query: it is answered. */
static void *icmp_main(void *arg)
{
	static const struct {
		uint8_t type, code;
		int want;
	} k[] = { { 3, 3, -CUB_ECONNREFUSED }, { 3, 1, -CUB_EHOSTUNREACH },
		  { 3, 0, -CUB_ENETUNREACH }, { 3, 4, -CUB_EHOSTUNREACH },
		  { 11, 0, -CUB_EHOSTUNREACH } };
	struct cub_sntp_result r;

	(void)arg;
	start(icmp_instead);
	for (unsigned i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		icmp.type = k[i].type;
		icmp.code = k[i].code;
		icmp.dport = 123;
		icmp.sport_add = 0;
		r.kiss[0] = 'x';
		if (query(10 * SEC, &r) != k[i].want)
			fail_msg("ICMP %u/%u: not %d", k[i].type, k[i].code, k[i].want);
		assert_string_equal(r.kiss, "");
		assert_int_equal(r.queries, 1);
	}
	icmp.code = 3;
	icmp.type = 3;
	icmp.dport = 124;
	assert_int_equal(query(2 * SEC, &r), 0);
	icmp.dport = 123;
	icmp.sport_add = 1;
	assert_int_equal(query(2 * SEC, &r), 0);
	assert_int_equal(r.queries, 1);
	stop();
	return NULL;
}

static void test_sntp_icmp(void **state)
{
	(void)state;
	run(icmp_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sntp_closed),
		cmocka_unit_test(test_sntp_icmp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
