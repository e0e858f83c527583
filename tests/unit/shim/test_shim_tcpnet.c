/*
 * test_shim_tcpnet.c - TCP sockets through the network card
 * (socket_tcpnet.c) on the host: the shim's card is interface A of an
 * in-memory wire (tests/unit/net/net_test.h), and the test plays the
 * remote end with the stack's own calls on interface B. A blocking
 * connect, data both ways with readiness, FIN and end of file; a
 * non-blocking connect (EINPROGRESS, EALREADY, POLLOUT, SO_ERROR, the
 * names, connect's 0 then EISCONN); ECONNREFUSED; a listener on
 * 0.0.0.0 taking a connection from B whose data came before accept; a
 * reset by B (ECONNRESET, end of file, EPIPE); close with unread data
 * resets B's end; a descriptor closed while a coroutine is blocked in
 * accept or read on it (not woken; the socket lives until the call
 * returns), shutdown(SHUT_RD) waking them; every connection of both
 * interfaces gone at the end.
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
#define EINPROGRESS 115
#define EALREADY 114
#define MSG_NOSIGNAL 0x4000
#define PORT_B 7000
#define PORT_A 8000
#define BIG 150000

static char out[200000], in[200000];

/* poll(2)'s revents for fd after waiting up to ms. */
static unsigned polled(int fd, short events, int ms)
{
	struct { int fd; short events, revents; } p = { fd, events, 0 };

	assert_true(SYS3(SYS_poll, &p, 1, ms) >= 0);
	return (unsigned)(unsigned short)p.revents;
}


static int tcp(int flags)
{
	long fd = SYS3(SYS_socket, AF_INET, SOCK_STREAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

/* Reads exactly n bytes (blocking) from fd into in. */
static void read_all(int fd, size_t n)
{
	size_t got = 0;

	while (got < n) {
		long r = SYS3(SYS_read, fd, in + got, n - got);

		assert_true(r > 0);
		got += (size_t)r;
	}
}

static void data_body(void)
{
	struct cub_tcp *l, *c;
	int s;
	size_t got = 0;

	up();
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	s = tcp(0);
	assert_int_equal(connect_to(s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(__builtin_bswap32(name(s, true).addr), IP_B);
	assert_int_equal(__builtin_bswap32(name(s, false).addr), IP_A);
	/* BIG bytes out at once: the shim's ring, the stack's and B's take
	 * them before B reads. */
	assert_int_equal(SYS3(SYS_write, s, out, BIG), BIG);
	while (got < BIG) {
		long r = cub_tcp_recv(c, in + got, sizeof(in) - got, 1000 * MS);

		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(in, out, BIG);
	/* and back, with readiness */
	assert_int_equal(polled(s, EPOLLIN, 0) & EPOLLIN, 0);
	assert_int_equal(cub_tcp_send(c, out, 5000, 1000 * MS), 5000);
	assert_true(polled(s, EPOLLIN, 1000) & EPOLLIN);
	read_all(s, 5000);
	assert_memory_equal(in, out, 5000);
	/* B's FIN: end of file; ours: B reads 0 */
	assert_int_equal(cub_tcp_shutdown(c), 0);
	assert_true(polled(s, EPOLLRDHUP, 1000) & EPOLLRDHUP);
	assert_int_equal(SYS3(SYS_read, s, in, 10), 0);
	assert_int_equal(SYS2(SYS_shutdown, s, 1), 0);
	assert_int_equal(cub_tcp_recv(c, in, 10, 1000 * MS), 0);
	assert_int_equal(SYS1(SYS_close, s), 0);
	cub_tcp_close(c);
	cub_tcp_close(l);
	down();
}

static void test_tcpnet_data(void **state)
{
	(void)state;
	run(data_body);
}

static void nonblock_body(void)
{
	struct cub_tcp *l, *c;
	int s, err;

	up();
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	s = tcp(NB);
	assert_int_equal(connect_to(s, IP_B, PORT_B), -EINPROGRESS);
	assert_int_equal(connect_to(s, IP_B, PORT_B), -EALREADY);
	assert_true(polled(s, EPOLLOUT, 1000) & EPOLLOUT);
	assert_int_equal(getopt_int(s, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(__builtin_bswap16(name(s, true).port), PORT_B);
	assert_int_equal(connect_to(s, IP_B, PORT_B), 0);	/* once, */
	assert_int_equal(connect_to(s, IP_B, PORT_B), -CUB_EISCONN);	/* then */
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(SYS3(SYS_read, s, in, 10), -CUB_EAGAIN);
	cub_tcp_close(c);
	assert_int_equal(SYS1(SYS_close, s), 0);

	/* no listener: B answers RST */
	s = tcp(NB);
	assert_int_equal(connect_to(s, IP_B, PORT_B + 1), -EINPROGRESS);
	assert_true(polled(s, EPOLLOUT, 1000) & EPOLLERR);
	err = getopt_int(s, SOL_SOCKET, SO_ERROR);
	assert_int_equal(err, CUB_ECONNREFUSED);
	assert_int_equal(SYS1(SYS_close, s), 0);
	s = tcp(0);
	assert_int_equal(connect_to(s, IP_B, PORT_B + 1), -CUB_ECONNREFUSED);
	assert_int_equal(SYS1(SYS_close, s), 0);
	cub_tcp_close(l);
	down();
}

static void test_tcpnet_nonblock(void **state)
{
	(void)state;
	run(nonblock_body);
}

static void listen_body(void)
{
	struct cub_tcp *c, *c2, *c3;
	struct sin peer;
	int l, s, s2, s3, len = sizeof(peer);

	up();
	l = tcp(0);
	assert_int_equal(bind_to(l, 0, PORT_A), 0);
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c), 0);
	assert_int_equal(cub_tcp_send(c, "early", 5, 1000 * MS), 5);
	assert_true(polled(l, EPOLLIN, 1000) & EPOLLIN);
	/* the queue is full (backlog 1): the next waits in the stack's
	 * backlog, and its data before accept is kept (not a reset) */
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c3), 0);
	assert_int_equal(cub_tcp_send(c3, "later", 5, 1000 * MS), 5);
	cub_sleep(20 * MS);
	s = (int)SYS4(SYS_accept4, l, &peer, &len, NB);
	assert_true(s >= 3);
	assert_int_equal(__builtin_bswap32(peer.addr), IP_B);
	assert_true(polled(s, EPOLLIN, 1000) & EPOLLIN);
	assert_int_equal(SYS3(SYS_read, s, in, 10), 5);
	assert_memory_equal(in, "early", 5);
	assert_true(polled(l, EPOLLIN, 1000) & EPOLLIN);
	s3 = (int)SYS4(SYS_accept4, l, 0, 0, NB);
	assert_true(s3 >= 3);
	assert_true(polled(s3, EPOLLIN, 1000) & EPOLLIN);
	assert_int_equal(SYS3(SYS_read, s3, in, 10), 5);
	assert_memory_equal(in, "later", 5);
	assert_int_equal(SYS1(SYS_close, s3), 0);
	assert_int_equal(cub_tcp_recv(c3, in, 10, 1000 * MS), 0);	/* FIN */
	cub_tcp_close(c3);
	/* a reset by B: ECONNRESET once, then end of file, then EPIPE */
	cub_tcp_abort(c);
	assert_true(polled(s, EPOLLIN, 1000) & EPOLLERR);
	assert_int_equal(SYS3(SYS_read, s, in, 10), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, s, in, 10), 0);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, 0, 0), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, s), 0);
	/* close with unread data: B's end is reset */
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c2), 0);
	s2 = (int)SYS3(SYS_accept, l, 0, 0);
	assert_true(s2 >= 3);
	assert_int_equal(cub_tcp_send(c2, "unread", 6, 1000 * MS), 6);
	assert_true(polled(s2, EPOLLIN, 1000) & EPOLLIN);
	assert_int_equal(SYS1(SYS_close, s2), 0);
	assert_int_equal(cub_tcp_recv(c2, in, 10, 1000 * MS), -CUB_ECONNRESET);
	cub_tcp_close(c2);
	assert_int_equal(SYS1(SYS_close, l), 0);
	/* the card's listener went with it: B is refused */
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c), -CUB_ECONNREFUSED);
	down();
}

static void test_tcpnet_listen(void **state)
{
	(void)state;
	run(listen_body);
}

/* A descriptor closed while another coroutine is blocked in a call on
 * it: the close does not wake the call (Linux's close(2) does not
 * promise to either); the call holds the socket while it waits, and
 * the socket closes when it returns. A read is one critical section
 * from lookup to result (fd_rw.c): it takes the data that wakes it, as
 * Linux's does. accept looks its descriptor up at each wake-up: at the
 * socket's next change (a connection, a timeout) it finds it gone,
 * -EBADF, and the connection queued meanwhile is reset with the
 * socket. */
static struct { int fd; long r; } blk;

static void *blocked_accept(void *arg)
{
	(void)arg;
	blk.r = SYS3(SYS_accept, blk.fd, 0, 0);
	return NULL;
}

static void *blocked_read(void *arg)
{
	(void)arg;
	blk.r = SYS3(SYS_read, blk.fd, in, 10);
	return NULL;
}

static struct cub_coro *block_in(int fd, cub_coro_fn fn)
{
	struct cub_coro *co;

	blk.fd = fd;
	blk.r = 1;
	assert_int_equal(cub_coro_spawn(&co, fn, NULL, NULL), 0);
	cub_sleep(20 * MS);
	assert_int_equal(blk.r, 1);		/* blocked */
	return co;
}

/* A listening socket on 0.0.0.0:PORT_A. */
static int listener(void)
{
	int l = tcp(0);

	assert_int_equal(bind_to(l, 0, PORT_A), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	return l;
}

/* A listener on PORT_A, a connection from B to it accepted: *s, *c. */
static void accepted(int *s, struct cub_tcp **c)
{
	int l = listener();

	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, c), 0);
	*s = (int)SYS3(SYS_accept, l, 0, 0);
	assert_true(*s >= 3);
	assert_int_equal(SYS1(SYS_close, l), 0);
}

static void close_blocked_body(void)
{
	struct cub_tcp *c, *c2;
	struct cub_coro *co;
	int l, s;

	up();
	l = listener();
	co = block_in(l, blocked_accept);
	assert_int_equal(SYS1(SYS_close, l), 0);
	cub_sleep(20 * MS);
	assert_int_equal(blk.r, 1);		/* still blocked */
	/* the listener lives in the call: a connection still gets in,
	 * wakes the accept (-EBADF) and is reset with the socket */
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(blk.r, -CUB_EBADF);
	assert_int_equal(cub_tcp_recv(c, in, 10, 1000 * MS), -CUB_ECONNRESET);
	cub_tcp_close(c);
	assert_int_equal(cub_tcp_connect(B, IP_A, PORT_A, 1000 * MS, &c2),
			 -CUB_ECONNREFUSED);

	/* a read blocked on s while s is closed: woken by data, not by
	 * the close, it reads them; then the socket closes (FIN) */
	accepted(&s, &c);
	co = block_in(s, blocked_read);
	assert_int_equal(SYS1(SYS_close, s), 0);
	cub_sleep(20 * MS);
	assert_int_equal(blk.r, 1);
	assert_int_equal(cub_tcp_send(c, "late", 4, 1000 * MS), 4);
	cub_coro_join(co, NULL);
	assert_int_equal(blk.r, 4);
	assert_memory_equal(in, "late", 4);
	assert_int_equal(cub_tcp_recv(c, in, 10, 1000 * MS), 0);	/* FIN */
	cub_tcp_close(c);
	down();
}

static void test_tcpnet_close_blocked(void **state)
{
	(void)state;
	run(close_blocked_body);
}

static void shutdown_blocked_body(void)
{
	struct cub_tcp *c;
	struct cub_coro *co;
	int l, s;

	up();
	l = listener();
	/* shutdown(SHUT_RD) of a listener wakes its blocked accept */
	co = block_in(l, blocked_accept);
	assert_int_equal(SYS2(SYS_shutdown, l, 0), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(blk.r, -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_close, l), 0);

	accepted(&s, &c);
	/* shutdown(SHUT_RD) of a connection wakes its blocked read: 0 */
	co = block_in(s, blocked_read);
	assert_int_equal(SYS2(SYS_shutdown, s, 0), 0);
	cub_coro_join(co, NULL);
	assert_int_equal(blk.r, 0);
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(cub_tcp_recv(c, in, 10, 1000 * MS), 0);	/* FIN */
	cub_tcp_close(c);
	down();
}

/* shutdown(2) is what wakes a blocked call, as on Linux. */
static void test_tcpnet_shutdown_blocked(void **state)
{
	(void)state;
	run(shutdown_blocked_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcpnet_data),
		cmocka_unit_test(test_tcpnet_nonblock),
		cmocka_unit_test(test_tcpnet_listen),
		cmocka_unit_test(test_tcpnet_close_blocked),
		cmocka_unit_test(test_tcpnet_shutdown_blocked),
	};

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + i / 251);
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
