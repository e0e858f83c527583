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
 * the values are the stack's snd_mss (less 12 with timestamps, as
 * Linux's mss_cache) and path MTU, which the pump copies into the
 * socket; TCP_MAXSEG set before connect, or on a listener, bounds the
 * segments both ways (measured on the wire), set after connect
 * nothing. IP_MTU on UDP sockets: -ENOTCONN unconnected, the route's
 * MTU connected (loopback and our own address 65535, the card 1500),
 * as Linux 6.x shows them.
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

/* The largest TCP payload each way on the wire (0: A to B, 1: B to A). */
static unsigned most[2];

static bool measure(struct wire *wi, struct wire_frame *f)
{
	const uint8_t *ip = f->data + 14;

	(void)wi;
	if (f->len > 34 && t_get16(f->data + 12) == 0x0800 && ip[9] == 6) {
		unsigned len = t_get16(ip + 2) - (ip[0] & 15) * 4u -
			       (ip[(ip[0] & 15) * 4 + 12] >> 4) * 4u;

		if (len > most[1 - f->to])
			most[1 - f->to] = len;
	}
	return true;
}

static uint8_t bulk[8000];

/* What TCP_MAXSEG reads for a connection whose stack MSS is mss. */
static long shown(const struct cub_tcp_info *i, unsigned mss)
{
	return (long)mss - (i->timestamps ? 12 : 0);
}

/* 8000 bytes each way between socket s and the stack's connection c. */
static void both_ways(int s, struct cub_tcp *c)
{
	size_t got = 0;

	memset(most, 0, sizeof most);
	assert_int_equal(SYS3(SYS_write, s, bulk, sizeof bulk), sizeof bulk);
	while (got < sizeof bulk) {
		long n = cub_tcp_recv(c, bulk, sizeof bulk, 2000 * MS);

		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(cub_tcp_send(c, bulk, sizeof bulk, 2000 * MS), sizeof bulk);
	for (got = 0; got < sizeof bulk;) {
		long n = SYS3(SYS_read, s, bulk, sizeof bulk);

		assert_true(n > 0);
		got += (size_t)n;
	}
}

/* TCP_MAXSEG 600 before connect: our SYN announces 600 and the peer's
 * 1460 is taken as 600, so no segment either way carries more (Linux's
 * user_mss); set to 300 after connect: nothing changes. */
static void net_body(void)
{
	struct cub_tcp *l, *c;
	struct cub_tcp_info bi;
	int s;

	up();
	w.filter = measure;
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	s = tcp(0);
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 600), 0);
	assert_int_equal(connect_to(s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(cub_tcp_info(c, &bi), 0);
	assert_int_equal(bi.snd_mss, 600);		/* our SYN's MSS */
	assert_int_equal(maxseg(s), shown(&bi, 600));	/* and our bound */
	assert_int_equal(mtu(s), bi.pmtu);
	assert_int_equal(mtu(s), 1500);
	both_ways(s, c);
	assert_int_equal(most[0], shown(&bi, 600));
	assert_int_equal(most[1], shown(&bi, 600));
	assert_int_equal(setopt_int(s, TCP, TCP_MAXSEG, 300), 0);	/* too late */
	assert_int_equal(maxseg(s), shown(&bi, 600));
	both_ways(s, c);
	assert_int_equal(most[0], shown(&bi, 600));
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(cub_tcp_close(c), 0);
	/* Without it: 1460 (less timestamps) each way. */
	s = tcp(0);
	assert_int_equal(connect_to(s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(cub_tcp_info(c, &bi), 0);
	assert_int_equal(maxseg(s), shown(&bi, 1460));
	both_ways(s, c);
	assert_int_equal(most[0], shown(&bi, 1460));
	assert_int_equal(most[1], shown(&bi, 1460));
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	down();
}

/* A listening socket's TCP_MAXSEG (set after listen) reaches the
 * connections it accepts from the card: the SYN-ACK announces it. */
static void net_listen_body(void)
{
	struct cub_tcp *c;
	struct cub_tcp_info ci;
	int l, a;

	up();
	w.filter = measure;
	l = tcp(0);
	assert_int_equal(bind_to(l, 0, PORT_B), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	assert_int_equal(setopt_int(l, TCP, TCP_MAXSEG, 700), 0);
	assert_int_equal(maxseg(l), 700);
	cub_sleep(20 * MS);			/* its pump takes it */
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_B, 1000 * MS, &c), 0);
	a = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_true(a >= 3);
	assert_int_equal(cub_tcp_info(c, &ci), 0);
	assert_int_equal(ci.snd_mss, 700);
	assert_int_equal(maxseg(a), shown(&ci, 700));
	both_ways(a, c);
	assert_int_equal(most[0], shown(&ci, 700));
	assert_int_equal(most[1], shown(&ci, 700));
	closeall(1, &a);
	assert_int_equal(cub_tcp_close(c), 0);
	closeall(1, &l);
	down();
}

static void test_net_listen(void **state)
{
	(void)state;
	run(net_listen_body);
}

/* IP_MTU on UDP sockets, as Linux 6.x: the route's MTU once connected
 * (lo's 65535 for 127.x and our own address, the card's 1500 beyond),
 * -ENOTCONN before and after AF_UNSPEC; not settable. */
static void udp_body(void)
{
	int u = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	uint8_t unspec[16] = { 0 };

	up();
	assert_true(u >= 3);
	assert_int_equal(mtu(u), -CUB_ENOTCONN);
	assert_int_equal(bind_to(u, 0, 0), 0);
	assert_int_equal(mtu(u), -CUB_ENOTCONN);
	assert_int_equal(setopt_int(u, IPPROTO_IP, IP_MTU, 1000), -CUB_ENOPROTOOPT);
	assert_int_equal(connect_to(u, LOOP, 9), 0);
	assert_int_equal(mtu(u), 65535);
	assert_int_equal(connect_to(u, IP_B, 9), 0);
	assert_int_equal(mtu(u), 1500);
	assert_int_equal(connect_to(u, IP_A, 9), 0);
	assert_int_equal(mtu(u), 65535);
	assert_int_equal(SYS3(SYS_connect, u, unspec, sizeof unspec), 0);
	assert_int_equal(mtu(u), -CUB_ENOTCONN);
	assert_int_equal(SYS1(SYS_close, u), 0);
	down();
}

static void test_udp_mtu(void **state)
{
	(void)state;
	run(udp_body);
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
		cmocka_unit_test(test_net_listen),
		cmocka_unit_test(test_udp_mtu),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
