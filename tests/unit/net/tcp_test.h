/*
 * tcp_test.h - the harness test_net_tcp and test_net_tcp_ooo share: two
 * interfaces A and B on a 512-frame wire with the test's TCP parameters,
 * the count of connections not yet freed, the counters' documented sums,
 * and a stop that waits for every connection (TIME_WAIT included) to be
 * freed before it checks them. Include after cmocka.h.
 */
#ifndef TCP_TEST_H
#define TCP_TEST_H

#define WIRE_QUEUE 512
#include "net_unit.h"

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

/* Connections n opened and has not freed yet. */
static inline uint64_t live(struct cub_netif *n)
{
	struct cub_netif_stats s = if_stats(n);

	return s.tcp_active_opens + s.tcp_passive_opens - s.tcp_freed;
}

/* Every received frame, IPv4 packet and TCP segment ends in exactly one
 * counter (docs/net.md, "What is counted"). */
static inline void check_sums(struct cub_netif *n)
{
	struct cub_netif_stats s = if_stats(n);

	assert_int_equal(s.rx_frames, s.rx_short + s.rx_too_long +
			 s.rx_not_ours + s.rx_unknown_type + s.arp_rx + s.ip_rx);
	assert_int_equal(s.ip_rx + s.ip_reassembled, s.ip_bad_header +
			 s.ip_bad_cksum + s.ip_fragments + s.ip_not_ours +
			 s.ip_unknown_proto + s.icmp_rx + s.udp_rx + s.tcp_rx);
	assert_int_equal(s.tcp_rx, s.tcp_bad + s.tcp_bad_cksum +
			 s.tcp_no_port + s.tcp_backlog_drops + s.tcp_to_conn);
}

/* Starts the wire with p as both ends' TCP parameters. */
static inline void start_with(const struct cub_tcp_params *p)
{
	assert_int_equal(wire_start(&W), 0);
	assert_int_equal(cub_tcp_set_params(A, p), 0);
	assert_int_equal(cub_tcp_set_params(B, p), 0);
}

/* Waits until both ends have freed every connection (at most 5 s),
 * stops the wire and checks the counters. */
static inline void stop(void)
{
	uint64_t end = cub_time_now() + 5000 * MS;

	W.filter = NULL;
	while ((live(A) || live(B)) && cub_time_now() < end)
		cub_sleep(10 * MS);
	assert_int_equal(live(A), 0);
	assert_int_equal(live(B), 0);
	wire_stop(&W);
	check_sums(A);
	check_sums(B);
}

#endif
