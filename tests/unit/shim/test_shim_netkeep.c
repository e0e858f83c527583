/*
 * test_shim_netkeep.c - noticing a dead peer through the network card
 * (socket_tcpnet.c, socket_inet.c, socket_opt.c) on the host: the shim's
 * card is interface A of an in-memory wire (tests/unit/net/net_test.h),
 * the remote end is played with the stack's calls on interface B.
 * SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT reaching the stack's
 * connection (inherited by an accepted one), the probes going
 * unanswered once B falls silent, and read giving ETIMEDOUT once, then
 * end of file, as on Linux; Linux's ranges and defaults; a connected UDP
 * socket's datagram to a closed port of B: SO_ERROR and the next
 * receive say ECONNREFUSED, once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "netdev.h"
#include "sys.h"
#include "sock.h"
#include "../net/net_test.h"
#include "../slow.h"

#define SO_ERROR 4
#define SO_KEEPALIVE 9
#define TCP_KEEPIDLE 4
#define TCP_KEEPINTVL 5
#define TCP_KEEPCNT 6
#define PORT_B 7000
#define MSG_DONTWAIT 0x40

static struct wire w;
static struct cub_netif *A, *B;

static void up(void)
{
	struct cub_tcp_params fast = { .time_wait = 20 * MS };

	assert_int_equal(wire_start(&w), 0);
	A = &w.end[0].nif;
	B = &w.end[1].nif;
	assert_int_equal(cub_tcp_set_params(A, &fast), 0);
	assert_int_equal(cub_tcp_set_params(B, &fast), 0);
	cubi_netdev = (struct cubi_netdev){ .nif = A, .addr = IP_A, .prefix = 24 };
}

static void down(void)
{
	for (int i = 0; i < 2000; i++) {
		struct cub_netif_stats a, b;

		cub_netif_stats(A, &a);
		cub_netif_stats(B, &b);
		if (a.tcp_freed == a.tcp_active_opens + a.tcp_passive_opens &&
		    b.tcp_freed == b.tcp_active_opens + b.tcp_passive_opens)
			break;
		cub_sleep(MS);
	}
	w.filter = NULL;
	memset(&cubi_netdev, 0, sizeof(cubi_netdev));
	wire_stop(&w);
}

/* B has gone quiet: nothing it sends reaches A. */
static bool silent_b(struct wire *wi, struct wire_frame *f)
{
	(void)wi;
	return f->to != 0;
}

static void options_body(void)
{
	long s = SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 3);
	assert_int_equal(getopt_int((int)s, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPIDLE), 7200);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPINTVL), 75);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPCNT), 9);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPIDLE, 0), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPIDLE, 32768), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPIDLE, 32767), 0);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPINTVL, 0), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPINTVL, 32768), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPINTVL, 1), 0);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPCNT, 0), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPCNT, 128), -CUB_EINVAL);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPCNT, 127), 0);
	assert_int_equal(setopt_int((int)s, SOL_SOCKET, SO_KEEPALIVE, 5), 0);
	assert_int_equal(getopt_int((int)s, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPIDLE), 32767);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPINTVL), 1);
	assert_int_equal(getopt_int((int)s, TCP, TCP_KEEPCNT), 127);
	assert_int_equal(SYS1(SYS_close, s), 0);
}

static void test_netkeep_options(void **state)
{
	(void)state;
	run(options_body);
}

/* The stack connection's keep-alive: on with 1 s / 1 s / 1 once the pump
 * saw the options. */
static void expect_stack_ka(struct cub_netif_stats *st)
{
	for (int i = 0; i < 200 && st->tcp_keepalive_probes == 0; i++) {
		cub_sleep(10 * MS);
		cub_netif_stats(A, st);
	}
}

static void keepalive_body(void)
{
	struct cub_netif_stats st;
	struct cub_tcp *l, *c;
	char b[4];
	long s = SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	uint64_t w0;

	up();
	assert_true(s >= 3);
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	assert_int_equal(connect_to((int)s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPIDLE, 1), 0);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPINTVL, 1), 0);
	assert_int_equal(setopt_int((int)s, TCP, TCP_KEEPCNT, 1), 0);
	cub_sleep(1200 * MS);		/* off: nothing happens */
	cub_netif_stats(A, &st);
	assert_int_equal(st.tcp_keepalive_probes, 0);
	/* on: B answers the probes (its stack does), the connection lives */
	assert_int_equal(setopt_int((int)s, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
	w0 = test_waited_ns();
	expect_stack_ka(&st);
	/* One probe after 1 s idle (the next comes 1 s after its answer,
	 * seen only if the thread waited that long for a CPU). */
	assert_true(st.tcp_keepalive_probes == 1 ||
		    (st.tcp_keepalive_probes == 2 && test_waited_ns() - w0 > 900 * MS));
	cub_sleep(1300 * MS);
	cub_netif_stats(A, &st);
	assert_int_equal(st.tcp_keepalive_drops, 0);
	assert_int_equal(SYS4(SYS_recvfrom, s, b, 4, MSG_DONTWAIT), -CUB_EAGAIN);
	/* B falls silent: one unanswered probe, then ETIMEDOUT once */
	w.filter = silent_b;
	for (int i = 0; i < 400 && !st.tcp_keepalive_drops; i++) {
		cub_sleep(10 * MS);
		cub_netif_stats(A, &st);
	}
	assert_int_equal(st.tcp_keepalive_drops, 1);
	assert_int_equal(SYS3(SYS_read, s, b, 4), -CUB_ETIMEDOUT);
	assert_int_equal(SYS3(SYS_read, s, b, 4), 0);
	assert_int_equal(SYS1(SYS_close, s), 0);
	cub_tcp_abort(c);
	cub_tcp_close(l);
	down();
}

static void test_netkeep_keepalive(void **state)
{
	(void)state;
	run(keepalive_body);
}

/* Writes a datagram to B's closed port and waits for A's stack to hand
 * B's port unreachable to the socket's endpoint (its count, not a time:
 * a crowded machine only makes the wait longer), then lets the pump
 * make it the socket's error. */
static void write_refused(long s)
{
	struct cub_netif_stats st;
	uint64_t before;

	cub_netif_stats(A, &st);
	before = st.icmp_err_reported;
	assert_int_equal(SYS3(SYS_write, s, "ping", 4), 4);
	for (int i = 0; i < 1000 && st.icmp_err_reported == before; i++) {
		cub_sleep(MS);
		cub_netif_stats(A, &st);
	}
	assert_int_equal(st.icmp_err_reported, before + 1);
	for (int i = 0; i < 8; i++)	/* the pump, woken by the error */
		cub_coro_yield();
}

static void udp_refused_body(void)
{
	long s = SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	char b[4];

	up();
	assert_true(s >= 3);
	assert_int_equal(connect_to((int)s, IP_B, 9999), 0);
	write_refused(s);	/* (ARP first) */
	assert_int_equal(getopt_int((int)s, SOL_SOCKET, SO_ERROR), 111);
	write_refused(s);
	assert_int_equal(getopt_int((int)s, SOL_SOCKET, SO_ERROR), 111);
	assert_int_equal(getopt_int((int)s, SOL_SOCKET, SO_ERROR), 0);
	write_refused(s);
	assert_int_equal(SYS4(SYS_recvfrom, s, b, 4, MSG_DONTWAIT), -CUB_ECONNREFUSED);
	assert_int_equal(SYS4(SYS_recvfrom, s, b, 4, MSG_DONTWAIT), -CUB_EAGAIN);
	write_refused(s);
	assert_int_equal(SYS3(SYS_write, s, "ping", 4), -CUB_ECONNREFUSED);
	assert_int_equal(SYS1(SYS_close, s), 0);
	down();
}

static void test_netkeep_udp_refused(void **state)
{
	(void)state;
	run(udp_refused_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netkeep_options),
		cmocka_unit_test(test_netkeep_keepalive),
		cmocka_unit_test(test_netkeep_udp_refused),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
