/*
 * test_shim_ntpkeep.c - CUBRT_NTP's keeper in the shim (netdev.c): the
 * shim's card is interface A of the in-memory wire and an SNTP server
 * on B (tests/unit/net/udp_fake.h) answers with the platform's clock
 * plus 1000 s.
 *
 * Proves: cubi_netdev_time steps the clock at start-up and leaves a
 * keeper running by the same server, its first poll 64 s away; the
 * keeper's steps go through the shim, so an absolute REALTIME POSIX
 * timer follows them; a server that refuses (DENY) at start-up gets no
 * keeper; stopping the keeper frees it; a list of servers: the clock set
 * from the first that answers, the keeper given those that did not
 * refuse, the one that answered first, a closed port (a port
 * unreachable) kept as no refusal; none when all refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/sntp.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "netdev.h"
#include "sys.h"
#include "../net/udp_fake.h"
#include "../slow.h"

#define SEC CUB_NSEC_PER_SEC
#define EPOCH 2208988800ull
#define SHIFT (1000 * SEC)
#define SYS_timer_create 222
#define SYS_timer_settime 223
#define SYS_timer_gettime 224
#define SYS_timer_delete 226
#define CLOCK_REALTIME 0
#define TIMER_ABSTIME 1
#define SIGEV_NONE 1

static bool deny;
static unsigned deny_first;	/* requests answered DENY first */

static uint64_t t_get64(const uint8_t *p)
{
	return (uint64_t)t_get32(p) << 32 | t_get32(p + 4);
}

static void t_put64(uint8_t *p, uint64_t v)
{
	t_put32(p, (uint32_t)(v >> 32));
	t_put32(p + 4, (uint32_t)v);
}

/* A stratum-2 answer at the platform's time + SHIFT, or a DENY kiss. */
static void answer(const uint8_t *q, unsigned nth)
{
	uint64_t unix_ns = cub_arch_wallclock_ns() + SHIFT;
	uint64_t ts = ((unix_ns / SEC + EPOCH) & 0xffffffffu) << 32 |
		      ((unix_ns % SEC) << 32) / SEC;
	uint8_t m[48] = { 0 };

	bool no = deny || nth < deny_first;

	m[0] = 4 << 3 | 4;
	m[1] = no ? 0 : 2;
	memcpy(m + 12, no ? "DENY" : "GPS\0", 4);
	t_put64(m + 24, t_get64(q + 40));
	t_put64(m + 32, ts);
	t_put64(m + 40, ts);
	srv_send(m, sizeof(m));
}

static void up(void)
{
	start_server(answer, 123);
	cubi_netdev = (struct cubi_netdev){ .nif = A, .addr = IP_A, .prefix = 24 };
}

static void down(void)
{
	memset(&cubi_netdev, 0, sizeof(cubi_netdev));
	stop();
	cub_time_set_wall(cub_arch_wallclock_ns());
	cub_time_adjust(0, NULL);
}

static int64_t corr(void)
{
	return (int64_t)(cub_time_wall() - cub_arch_wallclock_ns());
}

/* The clock is SHIFT ahead, within what the exchange's delays allow:
 * 50 ms natively, scaled under valgrind (slow.h: the offset is only as
 * exact as the exchange is quick). */
static bool stepped_by_shift(void)
{
	int64_t tol = 50 * (int64_t)MS * test_slowness();

	return corr() > (int64_t)SHIFT - tol && corr() < (int64_t)SHIFT + tol;
}

static void *kept_main(void *arg)
{
	char *env[] = { "CUBRT_NTP=10.0.0.2", NULL };
	struct { uint64_t value; int32_t signo, notify, tid, pad[11]; } ev = { .notify = SIGEV_NONE };
	struct { int64_t isec, insec, sec, nsec; } it = { 0 }, cur;
	struct cub_sntp_keeper *k = cubi_netdev_ntp_keeper();
	struct cub_sntp_keeper_stats st;
	int32_t id = -1;

	(void)arg;
	up();
	cubi_netdev_time(env);
	assert_true(stepped_by_shift());
	assert_int_equal(S.queries, 1);
	assert_int_equal(cub_sntp_keeper_status(k, &st), 0);	/* it runs */
	assert_int_equal(st.polls, 0);				/* in 64 s */
	assert_int_equal(st.poll_ns, CUB_SNTP_POLL_MIN_NS);
	assert_int_equal(k->n_servers, 1);
	assert_int_equal(k->servers[0].addr, IP_B);
	assert_int_equal(k->servers[0].port, 123);
	/* a step of the keeper's: an absolute REALTIME timer follows */
	it.sec = (int64_t)((cub_time_wall() + 10 * SEC) / SEC);
	assert_int_equal(SYS3(SYS_timer_create, CLOCK_REALTIME, &ev, &id), 0);
	assert_int_equal(SYS4(SYS_timer_settime, id, TIMER_ABSTIME, &it, NULL), 0);
	assert_non_null(k->o.stepped);
	k->o.stepped(k->o.arg, cub_time_set_wall(cub_time_wall() + 6 * SEC));
	assert_int_equal(SYS2(SYS_timer_gettime, id, &cur), 0);
	assert_true(cur.sec * (int64_t)SEC + cur.nsec < 5 * (int64_t)SEC);	/* not 9..10 */
	assert_int_equal(SYS1(SYS_timer_delete, id), 0);
	assert_int_equal(cub_sntp_keeper_stop(k), 0);
	assert_int_equal(cub_sntp_keeper_status(k, &st), -CUB_EINVAL);
	down();
	return NULL;
}

static void test_kept(void **state)
{
	(void)state;
	run(kept_main);
}

static void *refused_main(void *arg)
{
	char *env[] = { "CUBRT_NTP=10.0.0.2:123", NULL };
	struct cub_sntp_keeper_stats st;

	(void)arg;
	up();
	deny = true;
	cubi_netdev_time(env);
	deny = false;
	assert_int_equal(S.queries, 1);
	assert_true(corr() < (int64_t)SEC);	/* unchanged */
	assert_int_equal(cub_sntp_keeper_status(cubi_netdev_ntp_keeper(), &st), -CUB_EINVAL);
	down();
	return NULL;
}

static void test_refused(void **state)
{
	(void)state;
	run(refused_main);
}

/* A list: the first entry refuses, so the clock is set from the second
 * and the keeper keeps only the entries that did not refuse, the one
 * that answered first; every entry refusing: no keeper. */
static void *list_main(void *arg)
{
	char *env[] = { "CUBRT_NTP=10.0.0.2:123,10.0.0.2,10.0.0.2:124", NULL };
	struct cub_sntp_keeper *k = cubi_netdev_ntp_keeper();
	struct cub_sntp_keeper_stats st;

	(void)arg;
	up();
	deny_first = 1;
	cubi_netdev_time(env);
	deny_first = 0;
	assert_int_equal(S.queries, 2);
	assert_true(stepped_by_shift());
	assert_int_equal(cub_sntp_keeper_status(k, &st), 0);
	assert_int_equal(k->n_servers, 2);
	assert_int_equal(k->servers[0].port, 123);	/* the one that answered */
	assert_int_equal(k->servers[1].port, 124);
	assert_int_equal(cub_sntp_keeper_stop(k), 0);
	down();
	/* a closed port (B's port unreachable) is no refusal: kept */
	up();
	cubi_netdev_time((char *[]){ "CUBRT_NTP=10.0.0.2:124,10.0.0.2", NULL });
	assert_int_equal(S.queries, 1);
	assert_true(stepped_by_shift());
	assert_int_equal(cub_sntp_keeper_status(k, &st), 0);
	assert_int_equal(k->n_servers, 2);
	assert_int_equal(k->servers[0].port, 123);	/* the one that answered */
	assert_int_equal(k->servers[1].port, 124);
	assert_int_equal(cub_sntp_keeper_stop(k), 0);
	down();
	up();
	deny = true;
	cubi_netdev_time((char *[]){ "CUBRT_NTP=10.0.0.2,10.0.0.2", NULL });
	deny = false;
	assert_int_equal(S.queries, 2);
	assert_true(corr() < (int64_t)SEC);	/* unchanged */
	assert_int_equal(cub_sntp_keeper_status(k, &st), -CUB_EINVAL);
	down();
	return NULL;
}

static void test_list(void **state)
{
	(void)state;
	run(list_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_list),
	};

	(void)forge;
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
