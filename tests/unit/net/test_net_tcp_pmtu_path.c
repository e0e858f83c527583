/*
 * test_net_tcp_pmtu_path.c - TCP path MTU discovery between two cubrt
 * ends (src/net/tcp_pmtu.c; the rules one by one against a hand-played
 * peer: test_net_tcp_pmtu) through a router played by the wire's
 * filter, which drops TCP datagrams to B over its MTU with DF set and
 * answers them with "fragmentation needed": 64 KiB arrive intact
 * through an MTU of 1000 (MSS 960), through an old router of 1200 that
 * reports MTU 0 (the plateaus 1492, then 1006) and through an MTU of
 * 300 (the floor: 552-byte datagrams without DF, which the router
 * passes as if it fragmented them). Without path MTU discovery the
 * connection times out. A path that gets better is used again once the
 * cache entry expires (a short lifetime), and one that gets worse
 * again is reported again. After each test every connection is gone and
 * the counters add up.
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

#include "../slow.h"
#include "tcp_test.h"

static const struct cub_tcp_params fast = {
	.rto_initial = 300 * MS, .rto_min = 300 * MS, .rto_max = 600 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

static size_t too_big(uint8_t *f, const uint8_t *q, uint16_t mtu)
{
	return t_icmp_too_big(f, MAC_A, MAC_B, IP_B, IP_A, q, mtu);
}

static struct cub_tcp_info info_of(struct cub_tcp *c)
{
	struct cub_tcp_info i;

	assert_int_equal(cub_tcp_info(c, &i), 0);
	return i;
}

#define PORT 5555
#define BULK (64u * 1024)

/* The router between A and B: TCP datagrams to B longer than mtu with
 * DF set are dropped and answered (with report as the MTU it gives:
 * mtu, or 0 for an old router); without DF they pass (fragmented and
 * reassembled on the way, as far as B can tell). */
static struct {
	uint16_t mtu, report;
	unsigned dropped, nodf;
	unsigned full;			/* 1500-byte datagrams passed */
} rt;

static bool router(struct wire *w, struct wire_frame *fr)
{
	static uint8_t f[CUB_ETH_FRAME_MAX];
	const uint8_t *ip = fr->data + 14;

	(void)w;
	if (fr->to != 1 || ip[9] != 6)
		return true;
	if (t_get16(ip + 2) <= rt.mtu) {
		rt.full += t_get16(ip + 2) == 1500;
		return true;
	}
	if (!(ip[6] & 0x40)) {
		rt.nodf++;
		return true;
	}
	rt.dropped++;
	cub_netif_input(&w->end[0].nif, f, too_big(f, ip, rt.report));
	return false;
}

static uint8_t bulk[BULK], got[BULK];
static size_t got_n;

static void *bulk_reader(void *arg)
{
	struct cub_tcp *l = arg, *c;
	long n;

	assert_int_equal(cub_tcp_accept(l, &c, 5000 * MS), 0);
	got_n = 0;
	while (got_n < sizeof got &&
	       (n = cub_tcp_recv(c, got + got_n, sizeof got - got_n,
				 10000 * MS)) > 0)
		got_n += (size_t)n;
	assert_int_equal(cub_tcp_recv(c, &n, 1, 10000 * MS), 0);	/* FIN */
	assert_int_equal(cub_tcp_close(c), 0);
	return NULL;
}

/* 64 KiB from A to B through the router; returns A's connection info
 * before it closes. */
static struct cub_tcp_info through_router(uint16_t mtu, uint16_t report)
{
	struct cub_tcp_info i;
	struct cub_coro *co;
	struct cub_tcp *l, *c;
	size_t sent = 0;

	for (size_t k = 0; k < sizeof bulk; k++)
		bulk[k] = (uint8_t)(k * 31 + (k >> 11));
	memset(&rt, 0, sizeof rt);
	rt.mtu = mtu;
	rt.report = report;
	start_with(&fast);
	W.filter = router;
	assert_int_equal(cub_tcp_listen(B, PORT, 1, &l), 0);
	assert_int_equal(cub_coro_spawn(&co, bulk_reader, l, NULL), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 2000 * MS, &c), 0);
	while (sent < sizeof bulk) {
		long n = cub_tcp_send(c, bulk + sent, sizeof bulk - sent,
				      5000 * MS);

		assert_true(n > 0);
		sent += (size_t)n;
	}
	assert_int_equal(cub_tcp_shutdown(c), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(got_n, sizeof bulk);
	assert_memory_equal(got, bulk, sizeof bulk);
	i = info_of(c);
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	assert_true(rt.dropped > 0);
	stop();
	return i;
}

static void *router_main(void *arg)
{
	struct cub_tcp_info i;

	(void)arg;
	i = through_router(1000, 1000);
	assert_int_equal(i.pmtu, 1000);
	assert_int_equal(i.snd_mss, 960);
	assert_int_equal(rt.nodf, 0);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	return NULL;
}

static void test_pmtu_through_router(void **state)
{
	(void)state;
	run(router_main);
}

static void *old_router_main(void *arg)
{
	struct cub_tcp_info i;

	(void)arg;
	i = through_router(1200, 0);	/* 1500 -> 1492 -> 1006 */
	assert_int_equal(i.pmtu, 1006);
	assert_int_equal(i.snd_mss, 966);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 2);
	return NULL;
}

static void test_pmtu_through_old_router(void **state)
{
	(void)state;
	run(old_router_main);
}

static void *tiny_router_main(void *arg)
{
	struct cub_tcp_info i;

	(void)arg;
	i = through_router(300, 300);
	assert_int_equal(i.pmtu, 552);
	assert_int_equal(i.snd_mss, 512);
	assert_true(i.pmtu_nodf);
	assert_true(rt.nodf > 0);
	return NULL;
}

static void test_pmtu_through_tiny_mtu(void **state)
{
	(void)state;
	run(tiny_router_main);
}

/* ------------------------------------------ a path that got better */

static long read_all(struct cub_tcp *c, size_t want)
{
	while (got_n < want) {
		long n = cub_tcp_recv(c, got + got_n, sizeof got - got_n,
				      10000 * MS);

		if (n <= 0)
			return n;
		got_n += (size_t)n;
	}
	return 0;
}

static void send_all(struct cub_tcp *c, const uint8_t *p, size_t len)
{
	while (len) {
		long n = cub_tcp_send(c, p, len, 5000 * MS);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Waits for B to hold want bytes (the reader coroutine counts). */
static void until_got(size_t want)
{
	uint64_t w0 = test_waited_ns(), t0 = cub_time_now();

	while (got_n < want) {
		assert_true(cub_time_now() - t0 < test_bound(10000 * MS, w0));
		cub_sleep(2 * MS);
	}
}

static void *phase_reader(void *arg)
{
	struct cub_tcp *l = arg, *c;

	assert_int_equal(cub_tcp_accept(l, &c, 5000 * MS), 0);
	assert_int_equal(read_all(c, sizeof got), 0);
	assert_int_equal(cub_tcp_recv(c, got, 1, 10000 * MS), 0);	/* FIN */
	assert_int_equal(cub_tcp_close(c), 0);
	return NULL;
}

/* Through a router of 1000 with a cache lifetime of 300 ms (times
 * slow.h's factor, so that the first quarter surely fits in it): the
 * connection learns 1000; the router's next hop grows to 1500 and,
 * once the entry expires, the same connection sends full 1500-byte
 * datagrams; the hop shrinks again and the next report brings it back
 * to 1000. Every byte arrives; never a rise before the lifetime after
 * a lowering. */
static void *better_main(void *arg)
{
	uint64_t ttl = 300 * MS * (uint64_t)test_slowness(), t0, end, w0;
	const size_t q = BULK / 4;
	struct cub_coro *co;
	struct cub_tcp *l, *c;

	(void)arg;
	for (size_t k = 0; k < sizeof bulk; k++)
		bulk[k] = (uint8_t)(k * 7 + (k >> 9));
	memset(&rt, 0, sizeof rt);
	rt.mtu = rt.report = 1000;
	start_with(&fast);
	assert_int_equal(cub_pmtu_set_ttl(A, ttl), 0);
	W.filter = router;
	got_n = 0;
	assert_int_equal(cub_tcp_listen(B, PORT, 1, &l), 0);
	assert_int_equal(cub_coro_spawn(&co, phase_reader, l, NULL), 0);
	assert_int_equal(cub_tcp_connect(A, IP_B, PORT, 2000 * MS, &c), 0);
	t0 = cub_time_now();
	send_all(c, bulk, q);
	until_got(q);
	assert_int_equal(info_of(c).pmtu, 1000);
	assert_int_equal(rt.full, 0);
	rt.mtu = 1500;				/* the path got better */
	end = cub_time_now();
	w0 = test_waited_ns();
	while (info_of(c).pmtu != 1500) {
		assert_true(cub_time_now() - end < test_bound(5000 * MS, w0));
		cub_sleep(5 * MS);
	}
	assert_true(cub_time_now() - t0 >= ttl);
	assert_int_equal(info_of(c).snd_mss, 1460);
	send_all(c, bulk + q, q);
	until_got(2 * q);
	assert_true(rt.full > 0);		/* full-sized again */
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	rt.mtu = 1000;				/* and worse again */
	send_all(c, bulk + 2 * q, 2 * q);
	assert_int_equal(cub_tcp_shutdown(c), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(got_n, sizeof bulk);
	assert_memory_equal(got, bulk, sizeof bulk);
	assert_true(if_stats(A).tcp_pmtu_lowered >= 2);	/* a slow run: */
	assert_true(if_stats(A).tcp_pmtu_raised >= 1);	/* up, down again */
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_pmtu_path_got_better(void **state)
{
	(void)state;
	run(better_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmtu_through_router),
		cmocka_unit_test(test_pmtu_through_old_router),
		cmocka_unit_test(test_pmtu_through_tiny_mtu),
		cmocka_unit_test(test_pmtu_path_got_better),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
