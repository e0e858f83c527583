/*
 * test_shim_tcprst.c - an abortive close seen as a reset, not end of
 * file, as Linux shows it (measured on Linux 6.18 over loopback): a TCP
 * socket closed with SO_LINGER {1, 0} or with unread data resets its
 * connection. The peer's poll shows EPOLLERR | EPOLLHUP with EPOLLIN,
 * EPOLLOUT and EPOLLRDHUP; read, recv and recvmsg return the bytes it
 * holds, then -ECONNRESET once, then end of file; writes then -EPIPE
 * (a write first: -ECONNRESET once). A peer that had the closing end's
 * FIN reads end of file and has EPIPE pending (SO_ERROR, EPOLLERR, a
 * write). SO_LINGER with a time, or a plain close, still ends in end of
 * file. The same through the network card (socket_tcpnet*.c, the stack
 * as the remote end on an in-memory wire): the remote's RST, before or
 * after its FIN, and the shim's SO_LINGER 0 close reaching the remote
 * as a reset.
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

#define SYS_poll 7
#define SO_ERROR 4
#define SO_LINGER 13
#define MSG_NOSIGNAL 0x4000
#define PORT_B 7100
#define DEAD (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP)

static char got[64];

static int tcp(int flags)
{
	long fd = SYS3(SYS_socket, AF_INET, SOCK_STREAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

/* poll(2)'s revents for fd after up to ms: all of DEAD asked, or ev. */
static unsigned polled_for(int fd, unsigned ev, int ms)
{
	struct { int fd; short events, revents; } p = { fd, (short)ev, 0 };

	assert_true(SYS3(SYS_poll, &p, 1, ms) >= 0);
	return (unsigned)(unsigned short)p.revents;
}

static unsigned polled(int fd, int ms)
{
	return polled_for(fd, DEAD, ms);
}

static void linger(int fd, int on, int secs)
{
	int v[2] = { on, secs };

	assert_int_equal(SYS6(SYS_setsockopt, fd, SOL_SOCKET, SO_LINGER, v, sizeof(v), 0), 0);
}

/* A loopback pair: *c connected to *a (accepted), both non-blocking. */
static void pair(int *c, int *a)
{
	int l = tcp(NB);

	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	*c = tcp(NB);
	assert_int_equal(connect_to(*c, LOOP, port_of(l)), 0);
	*a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(*a >= 3);
	assert_int_equal(SYS1(SYS_close, l), 0);
}

static long recvmsg1(int fd)
{
	struct iov v = { got, sizeof(got) };
	struct msghdr m = { 0 };

	m.iov = &v;
	m.iovlen = 1;
	return SYS3(SYS_recvmsg, fd, &m, 0);
}

/* --------------------------------------------------------------- loopback */

static void test_lo_linger0_read(void **state)
{
	int c, a;

	(void)state;
	/* Go's TestNotTemporaryRead: the server accepts, SO_LINGER {1, 0},
	 * closes; the client's read is a reset. */
	pair(&c, &a);
	linger(a, 1, 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(polled(c, 0), DEAD);
	assert_int_equal(SYS3(SYS_read, c, got, 10), -CUB_ECONNRESET);
	assert_int_equal(polled(c, 0), DEAD & ~EPOLLERR);	/* said once */
	assert_int_equal(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, c), 0);

	/* recv and recvmsg too; bytes c held come first */
	pair(&c, &a);
	assert_int_equal(SYS3(SYS_write, a, "hello", 5), 5);
	linger(a, 1, 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 3, 0, NULL, NULL), 3);
	assert_int_equal(recvmsg1(c), 2);
	assert_memory_equal(got, "lo", 2);
	assert_int_equal(recvmsg1(c), -CUB_ECONNRESET);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 10, 0, NULL, NULL), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_lo_reset_write_first(void **state)
{
	int c, a;

	(void)state;
	/* Unread data resets too (Linux's tcp_close); a write finds it. */
	pair(&c, &a);
	assert_int_equal(SYS3(SYS_write, c, "unread", 6), 6);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(getopt_int(c, SOL_SOCKET, SO_ERROR), CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);	/* taken: EOF */
	pair(&c, &a);
	assert_int_equal(SYS3(SYS_write, c, "unread", 6), 6);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_ECONNRESET);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_lo_reset_after_fin(void **state)
{
	int c, a;

	(void)state;
	/* a's FIN first, then its reset: c reads the rest and end of file;
	 * EPIPE waits in SO_ERROR (Linux's reset in CLOSE_WAIT). */
	pair(&c, &a);
	assert_int_equal(SYS3(SYS_write, a, "tail", 4), 4);
	assert_int_equal(SYS2(SYS_shutdown, a, 1), 0);
	linger(a, 1, 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(polled(c, 0), DEAD);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 4);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(polled(c, 0), DEAD);
	assert_int_equal(getopt_int(c, SOL_SOCKET, SO_ERROR), CUB_EPIPE);
	assert_int_equal(polled(c, 0), DEAD & ~EPOLLERR);
	assert_int_equal(SYS1(SYS_close, c), 0);
	/* the write takes the pending EPIPE */
	pair(&c, &a);
	assert_int_equal(SYS2(SYS_shutdown, a, 1), 0);
	linger(a, 1, 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(getopt_int(c, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_lo_graceful(void **state)
{
	int c, a;

	(void)state;
	/* SO_LINGER with a time (or off), nothing unread: FIN, end of file. */
	pair(&c, &a);
	linger(a, 1, 5);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(polled(c, 0), DEAD & ~EPOLLERR);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
	pair(&c, &a);
	linger(a, 0, 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

/* ------------------------------------------------------ the network card */

/* A blocking shim socket connected to B's listener l: *s, B's end *c. */
static void connected(struct cub_tcp *l, int *s, struct cub_tcp **c)
{
	*s = tcp(0);
	assert_int_equal(connect_to(*s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, c, 1000 * MS), 0);
}

static void net_body(void)
{
	struct cub_tcp *l, *c;
	int s;

	up();
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	/* B's data, then its RST: the data, ECONNRESET, end of file */
	connected(l, &s, &c);
	assert_int_equal(cub_tcp_send(c, "hello", 5, 1000 * MS), 5);
	assert_true(polled_for(s, EPOLLIN, 1000) & EPOLLIN);
	assert_int_equal(cub_tcp_abort(c), 0);
	assert_int_equal(polled_for(s, EPOLLERR, 1000) & EPOLLERR, EPOLLERR);
	assert_int_equal(SYS3(SYS_read, s, got, sizeof(got)), 5);
	assert_int_equal(SYS3(SYS_read, s, got, sizeof(got)), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, s, got, sizeof(got)), 0);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, s), 0);

	/* B's FIN, read to the end, then its RST: noticed after end of
	 * file (EPOLLERR, EPIPE pending), reads stay at end of file */
	connected(l, &s, &c);
	assert_int_equal(cub_tcp_shutdown(c), 0);
	assert_true(polled_for(s, EPOLLRDHUP, 1000) & EPOLLRDHUP);
	assert_int_equal(SYS3(SYS_read, s, got, sizeof(got)), 0);
	assert_int_equal(cub_tcp_abort(c), 0);
	assert_int_equal(polled_for(s, EPOLLERR, 1000) & EPOLLERR, EPOLLERR);
	assert_int_equal(SYS3(SYS_read, s, got, sizeof(got)), 0);
	assert_int_equal(getopt_int(s, SOL_SOCKET, SO_ERROR), CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, s), 0);

	/* The shim's SO_LINGER 0 close: B's end is reset */
	connected(l, &s, &c);
	linger(s, 1, 0);
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(cub_tcp_recv(c, got, sizeof(got), 1000 * MS), -CUB_ECONNRESET);
	assert_int_equal(cub_tcp_close(c), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	down();
}

static void test_net_resets(void **state)
{
	(void)state;
	run(net_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lo_linger0_read),
		cmocka_unit_test(test_lo_reset_write_first),
		cmocka_unit_test(test_lo_reset_after_fin),
		cmocka_unit_test(test_lo_graceful),
		cmocka_unit_test(test_net_resets),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
