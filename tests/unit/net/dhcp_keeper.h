/*
 * dhcp_keeper.h - what the DHCP keeper tests share (test_net_dhcp_keep,
 * test_net_dhcp_keep_check, test_net_dhcp_defend, test_net_dhcp_rate):
 * the keeper K each runs, its statistics, and a bounded wait for what
 * the keeper brings about. Include after cmocka.h and dhcp_fake.h.
 */
#ifndef CUBRT_TEST_DHCP_KEEPER_H
#define CUBRT_TEST_DHCP_KEEPER_H

#include <cubrt/net.h>
#include <cubrt/time.h>
#include "../slow.h"

static struct cub_dhcp_keeper K;

/* K's statistics (and l, its lease, when l is not NULL). */
static inline struct cub_dhcp_keeper_stats kstats(struct cub_dhcp_lease *l)
{
	struct cub_dhcp_keeper_stats st;

	assert_int_equal(cub_dhcp_keeper_status(&K, l, &st), 0);
	return st;
}

/* Waits (polling the keeper) until cond holds, at most limit ns (and
 * the thread's wait for a CPU meanwhile: slow.h's test_bound). */
#define WAIT_FOR(cond, limit)                                                 \
	do {                                                                  \
		uint64_t w0_ = test_waited_ns(), t0_ = cub_time_now();       \
		while (!(cond) && cub_time_now() - t0_ < test_bound((limit), w0_)) \
			cub_sleep(10 * CUB_NSEC_PER_MSEC);                    \
		assert_true(cond);                                            \
	} while (0)

#endif
