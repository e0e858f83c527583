/*
 * test_shim_tcpmss.c - getsockopt TCP_MAXSEG and IP_MTU on TCP sockets,
 * and setsockopt TCP_MAXSEG, as Linux 6.18 shows them (measured with a
 * C program over lo): unconnected (and listening) TCP_MAXSEG is 536 or
 * the value set, IP_MTU -ENOTCONN; a connected loopback socket reads
 * MSS 65483 (65535 less 40 bytes of headers and 12 of timestamps) and
 * IP_MTU 65535, both ends; TCP_MAXSEG set before connect (on either
 * end, the listener's inherited by what it accepts) gives both ends
 * that value less 12; the bounds 88..32767 (0 allowed), short option
 * lengths and the kinds without the options. Through the card
 * (socket_tcpnet*.c, the stack as the remote end on an in-memory wire)
 * the values are the stack's snd_mss and path MTU, which the pump
 * copies into the socket.
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
#include "card_wire.h"

#define IPPROTO_IP 0
#define IP_MTU 14
#define TCP_MAXSEG 2
#define PORT_B 7200

static int tcp(int flags)
{
	long fd = SYS3(SYS_socket, AF_INET, SOCK_STREAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

static long maxseg(int fd)
{
	int v = -7, len = 4;
	long rc = SYS6(SYS_getsockopt, fd, TCP, TCP_MAXSEG, &v, &len, 0);

	return rc ? rc : v;
}

static long mtu(int fd)
{
	int v = -7, len = 4;
	long rc = SYS6(SYS_getsockopt, fd, IPPROTO_IP, IP_MTU, &v, &len, 0);

	return rc ? rc : v;
}

/* A loopback pair: *c connected to *a, accepted from listener *l (left
 * open for the caller), with TCP_MAXSEG cm on c and lm on the listener
 * before (0: not set). */
static void pair(int *c, int *a, int cm, int lm)
{
	int l = tcp(0);

	if (lm)
		assert_int_equal(setopt_int(l, TCP, TCP_MAXSEG, lm), 0);
	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	assert_int_equal(maxseg(l), lm ? lm : 536);		/* a listener: */
	assert_int_equal(mtu(l), -CUB_ENOTCONN);		/* unconnected */
	*c = tcp(0);
	if (cm)
		assert_int_equal(setopt_int(*c, TCP, TCP_MAXSEG, cm), 0);
	assert_int_equal(connect_to(*c, LOOP, port_of(l)), 0);
	*a = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_true(*a >= 3);
	assert_int_equal(SYS1(SYS_close, l), 0);
}

static void test_unconnected(void **state)
{
	int s = tcp(0), v = 1000, len = 2, u;

	(void)state;
	assert_int_equal(maxseg(s), 536);
	assert_int_equal(mtu(s), -CUB_ENOTCONN);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 87), -CUB_EINVAL);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 32768), -CUB_EINVAL);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, -1), -CUB_EINVAL);
	assert_int_equal(maxseg(s), 536);			/* unchanged */
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 88), 0);
	assert_int_equal(maxseg(s), 88);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 32767), 0);
	assert_int_equal(maxseg(s), 32767);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 0), 0);	/* back to none */
	assert_int_equal(maxseg(s), 536);
	assert_int_equal(SYS6(SYS_setsockopt, s, TCP, TCP_MAXSEG, &v, 2, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_getsockopt, s, TCP, TCP_MAXSEG, &v, &len, 0), 0);
	assert_int_equal(len, 2);				/* truncated */
	assert_int_equal(SYS6(SYS_getsockopt, s, TCP, TCP_MAXSEG, WILD, &len, 0), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_close, s), 0);

	u = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);	/* UDP: not its */
	assert_int_equal(maxseg(u), -CUB_EOPNOTSUPP);
	assert_int_equal(setopt_int(u, TCP, TCP_MAXSEG, 1000), -CUB_ENOPROTOOPT);
	assert_int_equal(SYS1(SYS_close, u), 0);
	u = (int)SYS3(SYS_socket, AF_UNIX, SOCK_STREAM, 0);	/* AF_UNIX */
	assert_int_equal(maxseg(u), -CUB_EOPNOTSUPP);
	assert_int_equal(mtu(u), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS1(SYS_close, u), 0);
}

static void test_loopback(void **state)
{
	int c, a;

	(void)state;
	pair(&c, &a, 0, 0);
	assert_int_equal(maxseg(c), 65483);
	assert_int_equal(maxseg(a), 65483);
	assert_int_equal(mtu(c), 65535);
	assert_int_equal(mtu(a), 65535);
	assert_int_equal(setopt_int(c, TCP, TCP_MAXSEG, 500), 0);	/* too late: */
	assert_int_equal(maxseg(c), 65483);				/* no change */
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(maxseg(c), 65483);		/* the peer gone: kept */
	assert_int_equal(mtu(c), 65535);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_loopback_clamped(void **state)
{
	int c, a;

	(void)state;
	pair(&c, &a, 1000, 0);			/* the connecting end's */
	assert_int_equal(maxseg(c), 988);
	assert_int_equal(maxseg(a), 988);
	assert_int_equal(mtu(c), 65535);
	closeall(1, &a);
	closeall(1, &c);
	pair(&c, &a, 2000, 700);		/* the listener's, smaller */
	assert_int_equal(maxseg(c), 688);
	assert_int_equal(maxseg(a), 688);
	closeall(1, &a);
	closeall(1, &c);
}

/* ------------------------------------------------------ the network card */

static void net_body(void)
{
	struct cub_tcp *l, *c;
	struct cub_tcp_info bi;
	int s;

	up();
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	s = tcp(0);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 600), 0);	/* recorded */
	assert_int_equal(connect_to(s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(cub_tcp_info(c, &bi), 0);
	/* the same 1500-byte wire both ways: B's MSS and path MTU are ours */
	assert_int_equal(maxseg(s), bi.snd_mss);
	assert_true(bi.snd_mss >= 1400 && bi.snd_mss <= 1460);
	assert_int_equal(mtu(s), bi.pmtu);
	assert_int_equal(mtu(s), 1500);
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	down();
}

static void test_net(void **state)
{
	(void)state;
	run(net_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unconnected),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_loopback_clamped),
		cmocka_unit_test(test_net),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
