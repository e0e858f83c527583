/*
 * test_net_pmtu_cache.c - the path MTU cache (src/net/pmtu_cache.c,
 * cub_pmtu_get / cub_pmtu_set_ttl) against peers played by hand
 * (tcp_hand.h; other addresses answer A's ARP by hand): what a report
 * taught one connection, the next one to the same address starts from
 * (active: its MSS and first segments; passive: from the peer's SYN),
 * and no other address; the lifetime (300 ms times slow.h's factor:
 * 1500 again after it, for cub_pmtu_get and for a new connection);
 * cub_netif_configure empties it; a live connection's lowered
 * estimate goes back up when its entry expires, not before, and a
 * report after that lowers it and renews the entry (the next rise a
 * whole lifetime later); nine destinations in eight entries:
 * the oldest goes; bad arguments. After each test every connection is
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

#include "../slow.h"
#include "tcp_test.h"
#include "tcp_hand.h"

/* No timer may resend anything the test did not ask for, even on a
 * loaded machine: RTOs of seconds (every connection here is aborted). */
static const struct cub_tcp_params fast = {
	.rto_initial = 5000 * MS, .rto_min = 5000 * MS, .rto_max = 10000 * MS,
	.max_retries = 5, .syn_retries = 3, .time_wait = 50 * MS,
	.fin_timeout = 500 * MS,
};

#define SMSS 1460u
static const uint8_t opt_mss[4] = { 2, 4, 0x05, 0xb4 };	/* MSS 1460 */
static uint8_t data[2 * SMSS];

static uint16_t cached(cub_ip4_t dst)
{
	uint16_t m = 0;

	assert_int_equal(cub_pmtu_get(A, dst, &m), 0);
	return m;
}

static struct cub_tcp_info info_of(struct cub_tcp *c)
{
	struct cub_tcp_info i;

	assert_int_equal(cub_tcp_info(c, &i), 0);
	return i;
}

/* One full segment from c (already open to the hand peer at IP_B) and
 * a report of mtu about it. */
static void learn(struct cub_tcp *c, uint16_t mtu)
{
	uint8_t f[CUB_ETH_FRAME_MAX];

	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	assert_int_equal(cub_tcp_send(c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	cub_netif_input(A, f, t_icmp_too_big(f, MAC_A, MAC_B, IP_B, IP_A,
					     cap[ncap - 1].data + 14, mtu));
	wire_settle(&W);
	assert_int_equal(info_of(c).pmtu, mtu);
}

/* The next connection to IP_B starts at 1000 (MSS 960: its first
 * segments fit without a report); other addresses are not affected. */
static void *next_main(void *arg)
{
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cached(IP_B), 1500);
	c = hand_open(opt_mss, sizeof opt_mss);
	learn(c, 1000);
	assert_int_equal(cub_tcp_abort(c), 0);
	wire_settle(&W);			/* its RST */
	assert_int_equal(cached(IP_B), 1000);
	assert_int_equal(cached(IP_NOBODY), 1500);
	c = hand_open(opt_mss, sizeof opt_mss);
	assert_int_equal(info_of(c).pmtu, 1000);
	assert_int_equal(info_of(c).snd_mss, 960);
	peer_opt(P0, a_iss + 1, 0x10, 65535, NULL, 0, NULL, 0);
	from = ncap;
	assert_int_equal(cub_tcp_send(c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	assert_int_equal(ncap, from + 2);
	assert_int_equal(t_get16(cap[from].data + 16), 1000);
	assert_true(cap[from].data[20] & 0x40);		/* DF */
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 1);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_cache_next_connection(void **state)
{
	(void)state;
	run(next_main);
}

/* A passive connection from a cached address: from the peer's SYN. */
static void *passive_main(void *arg)
{
	struct cub_tcp *c, *l;

	(void)arg;
	start_with(&fast);
	c = hand_open(opt_mss, sizeof opt_mss);
	learn(c, 700);
	assert_int_equal(cub_tcp_abort(c), 0);
	wire_settle(&W);
	assert_int_equal(cub_tcp_listen(A, 8080, 1, &l), 0);
	aport = 8080;
	ncap = 0;
	peer_opt(P0 - 1, 0, 0x02, 8000, opt_mss, sizeof opt_mss, NULL, 0);
	assert_int_equal(ncap, 1);			/* SYN-ACK */
	assert_int_equal(cap[0].data[47], 0x12);
	a_iss = t_get32(last() + 4);
	peer(P0, 0x10, NULL, 0);
	assert_int_equal(cub_tcp_accept(l, &c, 0), 0);
	assert_int_equal(info_of(c).pmtu, 700);
	assert_int_equal(info_of(c).snd_mss, 660);
	assert_int_equal(cub_tcp_abort(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	stop();
	return NULL;
}

static void test_pmtu_cache_passive(void **state)
{
	(void)state;
	run(passive_main);
}

/* After its lifetime an entry is gone: 1500 again, also for the next
 * connection; cub_netif_configure empties the cache. */
static void *expiry_main(void *arg)
{
	uint64_t ttl = 300 * MS * (uint64_t)test_slowness();
	struct cub_tcp *c;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_pmtu_set_ttl(A, ttl), 0);
	c = hand_open(opt_mss, sizeof opt_mss);
	learn(c, 1000);
	assert_int_equal(cub_tcp_abort(c), 0);
	wire_settle(&W);			/* its RST */
	assert_int_equal(cached(IP_B), 1000);	/* well within the ttl */
	cub_sleep(ttl + 100 * MS);
	assert_int_equal(cached(IP_B), 1500);
	c = hand_open(opt_mss, sizeof opt_mss);
	assert_int_equal(info_of(c).pmtu, 1500);
	assert_int_equal(info_of(c).snd_mss, SMSS);
	/* Learnt again; a new configuration forgets it. */
	assert_int_equal(cub_pmtu_set_ttl(A, 0), 0);	/* 10 minutes */
	learn(c, 1200);
	assert_int_equal(cub_tcp_abort(c), 0);
	assert_int_equal(cached(IP_B), 1200);
	assert_int_equal(cub_netif_configure(A, IP_A, 24, 0), 0);
	assert_int_equal(cached(IP_B), 1500);
	stop();
	return NULL;
}

static void test_pmtu_cache_expiry_and_flush(void **state)
{
	(void)state;
	run(expiry_main);
}

/* --------------------------------------------- going back up */

/* The next segment c sends after `from` in cap: its IP total length,
 * with DF checked. */
static uint16_t sent_len(unsigned from)
{
	assert_true(ncap > from);
	assert_true(cap[from].data[20] & 0x40);		/* DF */
	return t_get16(cap[from].data + 16);
}

/* Waits (polling, bounded) until c's estimate is back at 1500; checks
 * that it was not before ttl after `since` (the lowering it follows). */
static void wait_raised(struct cub_tcp *c, uint64_t since, uint64_t ttl)
{
	uint64_t w0 = test_waited_ns();

	while (info_of(c).pmtu != 1500) {
		assert_true(cub_time_now() - since < ttl + test_bound(2000 * MS, w0));
		cub_sleep(5 * MS);
	}
	assert_true(cub_time_now() - since >= ttl);
	assert_int_equal(info_of(c).snd_mss, SMSS);
}

/* A lowered estimate goes back up when its cache entry expires (RFC
 * 1191 6.3): a live connection then sends full segments again; a new
 * report lowers it and renews the entry, so the next rise waits a
 * whole lifetime again (no flapping faster than the ttl). */
static void *raise_main(void *arg)
{
	uint64_t ttl = 300 * MS * (uint64_t)test_slowness(), t0, t1;
	uint8_t f[CUB_ETH_FRAME_MAX];
	struct cub_tcp *c;
	unsigned from;

	(void)arg;
	start_with(&fast);
	assert_int_equal(cub_pmtu_set_ttl(A, ttl), 0);
	c = hand_open(opt_mss, sizeof opt_mss);
	t0 = cub_time_now();
	learn(c, 1000);
	assert_int_equal(info_of(c).snd_mss, 960);
	wait_raised(c, t0, ttl);
	assert_int_equal(if_stats(A).tcp_pmtu_raised, 1);
	assert_int_equal(cached(IP_B), 1500);
	/* The larger size is tried: one 1500-byte datagram with DF. */
	from = ncap;
	assert_int_equal(cub_tcp_send(c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	assert_int_equal(ncap, from + 1);
	assert_int_equal(sent_len(from), 1500);
	/* Still too big: the report lowers it again, at once, and what is
	 * in flight (the first segment too) leaves at the smaller size. */
	t1 = cub_time_now();
	from = ncap;
	cub_netif_input(A, f, t_icmp_too_big(f, MAC_A, MAC_B, IP_B, IP_A,
					     cap[from - 1].data + 14, 1000));
	wire_settle(&W);
	assert_int_equal(info_of(c).pmtu, 1000);
	assert_int_equal(info_of(c).snd_mss, 960);
	assert_int_equal(if_stats(A).tcp_pmtu_lowered, 2);
	assert_int_equal(cached(IP_B), 1000);
	assert_true(ncap > from);
	for (unsigned k = from; k < ncap; k++)
		assert_true(sent_len(k) <= 1000);
	/* No second rise before the renewed entry's lifetime. */
	wait_raised(c, t1, ttl);
	assert_int_equal(if_stats(A).tcp_pmtu_raised, 2);
	assert_int_equal(cub_tcp_abort(c), 0);
	stop();
	return NULL;
}

static void test_pmtu_cache_raise_and_lower_again(void **state)
{
	(void)state;
	run(raise_main);
}

/* ---------------------------------------------- nine destinations */

#define HOST(k) CUB_IP4(10, 0, 0, 50 + (k))

static cub_ip4_t target;

static void *connect_to(void *arg)
{
	(void)arg;
	ct.r = cub_tcp_connect(A, target, PPORT, 2000 * MS, &ct.c);
	return NULL;
}

/* ARP frames A sends are captured too (the hand peer answers them). */
static bool capture_all(struct wire *w, struct wire_frame *f)
{
	(void)w;
	if (f->to != 1)
		return true;
	if (ncap < 256)
		cap[ncap++] = *f;
	return false;
}

/* A connects to HOST(k) (its ARP answered by hand while not cached),
 * sends a segment (as large as the path MTU cache allows) and is told
 * mtu about it; then the connection is aborted. */
static void learn_at(unsigned k, uint16_t mtu)
{
	uint8_t f[CUB_ETH_FRAME_MAX];
	struct cub_coro *co;
	const uint8_t *t;
	unsigned from;
	size_t n;

	target = HOST(k);
	ncap = 0;
	W.filter = capture_all;
	assert_int_equal(cub_coro_spawn(&co, connect_to, NULL, NULL), 0);
	wire_settle(&W);
	assert_int_equal(ncap, 1);
	if (t_get16(cap[0].data + 12) == 0x0806) {	/* ARP: not cached */
		cub_netif_input(A, f, t_arp(f, MAC_A, 2, MAC_B, target,
					    MAC_A, IP_A));
		wire_settle(&W);
		assert_int_equal(ncap, 2);		/* the SYN */
	}
	aport = t_get16(last());
	a_iss = t_get32(last() + 4);
	n = t_tcp(f, MAC_A, MAC_B, target, IP_A, PPORT, aport, P0 - 1,
		  a_iss + 1, 0x12, 65535, opt_mss, sizeof opt_mss, NULL, 0);
	cub_netif_input(A, f, n);
	cub_coro_join(co, NULL);
	assert_int_equal(ct.r, 0);
	from = ncap;
	assert_int_equal(cub_tcp_send(ct.c, data, SMSS, 0), SMSS);
	wire_settle(&W);
	t = cap[from].data + 14;		/* as the cache says */
	assert_int_equal(t_get16(t + 2), info_of(ct.c).pmtu);
	cub_netif_input(A, f, t_icmp_too_big(f, MAC_A, MAC_B, IP_NOBODY,
					     IP_A, t, mtu));
	assert_int_equal(info_of(ct.c).pmtu, mtu);
	assert_int_equal(cub_tcp_abort(ct.c), 0);
	wire_settle(&W);
}

static void *evict_main(void *arg)
{
	(void)arg;
	start_with(&fast);
	for (unsigned k = 0; k < CUB_PMTU_CACHE_SIZE; k++) {
		learn_at(k, (uint16_t)(1000 + k));
		cub_sleep(2 * MS);		/* distinct ages */
	}
	for (unsigned k = 0; k < CUB_PMTU_CACHE_SIZE; k++)
		assert_int_equal(cached(HOST(k)), 1000 + k);
	/* HOST(0) again, lower: updated in place, now the youngest. */
	learn_at(0, 900);
	cub_sleep(2 * MS);
	/* A ninth: the oldest (HOST(1)) makes room. */
	learn_at(CUB_PMTU_CACHE_SIZE, 800);
	assert_int_equal(cached(HOST(CUB_PMTU_CACHE_SIZE)), 800);
	assert_int_equal(cached(HOST(1)), 1500);
	assert_int_equal(cached(HOST(0)), 900);
	for (unsigned k = 2; k < CUB_PMTU_CACHE_SIZE; k++)
		assert_int_equal(cached(HOST(k)), 1000 + k);
	stop();
	return NULL;
}

static void test_pmtu_cache_oldest_evicted(void **state)
{
	(void)state;
	run(evict_main);
}

static void test_pmtu_cache_bad_arguments(void **state)
{
	uint16_t m;

	(void)state;
	assert_int_equal(cub_pmtu_get(NULL, IP_B, &m), -CUB_EINVAL);
	assert_int_equal(cub_pmtu_get(A, IP_B, NULL), -CUB_EINVAL);
	assert_int_equal(cub_pmtu_set_ttl(NULL, 0), -CUB_EINVAL);
	/* The user MSS (TCP_MAXSEG): below 88 refused before anything. */
	assert_int_equal(cub_tcp_connect_mss(A, IP_B, PPORT, 87, 0, &ct.c),
			 -CUB_EINVAL);
	assert_int_equal(cub_tcp_set_mss(NULL, 1000), -CUB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pmtu_cache_next_connection),
		cmocka_unit_test(test_pmtu_cache_passive),
		cmocka_unit_test(test_pmtu_cache_expiry_and_flush),
		cmocka_unit_test(test_pmtu_cache_raise_and_lower_again),
		cmocka_unit_test(test_pmtu_cache_oldest_evicted),
		cmocka_unit_test(test_pmtu_cache_bad_arguments),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
