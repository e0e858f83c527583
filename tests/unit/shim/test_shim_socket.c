/*
 * test_shim_socket.c - loopback TCP and AF_UNIX socket pairs through the
 * dispatcher: every error of socket/bind/listen/connect/accept and the
 * data and option calls, addresses from getsockname/getpeername, data
 * both ways (ring capacity, wrap-around, peeking, iovecs), end of file
 * after close and SHUT_WR, EPIPE, resets by a closing listener, O_NONBLOCK
 * and MSG_DONTWAIT, epoll readiness, and (inside the scheduler) blocking
 * accept, connect, send and receive woken by other coroutines or ended
 * by a signal (or finding their buffer unmapped meanwhile), or by
 * SO_RCVTIMEO / SO_SNDTIMEO running out; closing
 * everything gives all memory back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"
#include "sigpipe.h"

#define SYS_dup 32

#define CX 02000000		/* SOCK_CLOEXEC */
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define F_GETFD 1
#define EPOLLET (1u << 31)
#define RING 65536

static char big[3 * RING], got[3 * RING];
static int pfd[2];		/* a pipe: not a socket */

static int tcp(int flags)
{
	long fd = SYS3(SYS_socket, AF_INET, SOCK_STREAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

/* A listener on 127.0.0.1, ephemeral port. */
static int listener(int flags, int backlog)
{
	int l = tcp(flags);

	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, backlog), 0);
	return l;
}

/* A connected pair: *c connected to *a (accepted with accept_flags). */
static void pair(int flags, int accept_flags, int *c, int *a)
{
	int l = listener(NB, 4);

	*c = tcp(flags);
	assert_int_equal(connect_to(*c, LOOP, port_of(l)), 0);
	*a = (int)SYS4(SYS_accept4, l, NULL, NULL, accept_flags);
	assert_true(*a >= 3);
	assert_int_equal(SYS1(SYS_close, l), 0);
}

static long ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct ev e = { events, data };

	return SYS4(SYS_epoll_ctl, ep, op, fd, &e);
}

/* ------------------------------------------------------------ creation */

static void test_socket_create(void **state)
{
	uint8_t st[144];
	uint32_t mode;
	struct sin a;
	int len = sizeof(a), s, u, ep;

	(void)state;
	assert_int_equal(SYS3(SYS_socket, AF_INET6, SOCK_STREAM, 0), -CUB_EAFNOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_INET6, SOCK_STREAM | NB | CX, TCP), -CUB_EAFNOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, 99, SOCK_STREAM, 0), -CUB_EAFNOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_INET, SOCK_DGRAM, TCP), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_INET, 3, 0), -CUB_ESOCKTNOSUPPORT);	/* raw */
	assert_int_equal(SYS3(SYS_socket, AF_INET, 0, 0), -CUB_ESOCKTNOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_INET, 11, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_socket, AF_INET, SOCK_STREAM | 0x100, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_socket, AF_INET, SOCK_STREAM, 17), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_UNIX, 4, 0), -CUB_ESOCKTNOSUPPORT);	/* RDM */
	assert_int_equal(SYS3(SYS_socket, AF_INET, 5, 0), -CUB_ESOCKTNOSUPPORT);	/* SEQPACKET */
	assert_int_equal(SYS3(SYS_socket, AF_UNIX, SOCK_STREAM, 6), -CUB_EPROTONOSUPPORT);

	s = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM | NB | CX, TCP);
	assert_true(s >= 3);
	assert_int_equal(SYS2(SYS_fcntl, s, F_GETFL), 2 | NB);	/* O_RDWR */
	assert_int_equal(SYS2(SYS_fcntl, s, F_GETFD), 1);
	assert_int_equal(SYS2(SYS_fstat, s, st), 0);
	memcpy(&mode, st + 24, 4);
	assert_int_equal(mode, 0140777);			/* S_IFSOCK */
	assert_int_equal(SYS3(SYS_lseek, s, 0, 0), -CUB_ESPIPE);
	assert_int_equal(SYS4(SYS_pread64, s, got, 1, 0), -CUB_ESPIPE);
	assert_int_equal(SYS3(SYS_ioctl, s, 0x541b, &len), 0);	/* FIONREAD: none yet */
	a = name(s, false);					/* unbound */
	assert_int_equal(a.port, 0);
	assert_int_equal(a.addr, 0);
	assert_int_equal(SYS3(SYS_getpeername, s, &a, &len), -CUB_ENOTCONN);
	assert_int_equal(SYS3(SYS_read, s, got, 1), -CUB_ENOTCONN);
	assert_int_equal(SYS3(SYS_write, s, "x", 1), -CUB_ENOTCONN);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, NULL, 0), -CUB_ENOTCONN);
	assert_int_equal(SYS6(SYS_recvfrom, s, got, 1, 0, NULL, NULL), -CUB_ENOTCONN);
	assert_int_equal(SYS2(SYS_shutdown, s, 2), -CUB_ENOTCONN);
	assert_int_equal(SYS2(SYS_shutdown, s, 3), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_accept, s, NULL, NULL), -CUB_EINVAL);
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_int_equal(ctl(ep, 1, s, EPOLLIN | EPOLLOUT, 5), 0);
	assert_int_equal(ready(ep, 5), EPOLLOUT | EPOLLHUP);	/* as Linux */
	assert_int_equal(SYS1(SYS_close, ep), 0);

	u = (int)SYS3(SYS_socket, AF_UNIX, SOCK_STREAM, 0);	/* test_shim_unix */
	assert_true(u >= 3);
	a = inaddr(LOOP, 80);
	assert_int_equal(SYS3(SYS_bind, u, &a, 16), -CUB_EINVAL);	/* not AF_UNIX */
	assert_int_equal(SYS2(SYS_listen, u, 1), -CUB_EINVAL);		/* unbound */
	assert_int_equal(SYS3(SYS_connect, u, &a, 16), -CUB_EINVAL);
	len = sizeof(a);
	assert_int_equal(SYS3(SYS_getsockname, u, &a, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(a.family, AF_UNIX);
	closeall(1, &s);
	closeall(1, &u);
	assert_int_equal(SYS3(SYS_getsockname, s, &a, &len), -CUB_EBADF);
}

/* -------------------------------------------------------------- bind */

static void test_socket_bind(void **state)
{
	struct sin a = inaddr(LOOP, 0), a6 = a, got_name;
	int s = tcp(0), t = tcp(0), u = tcp(0), v = tcp(0), fds[4] = { s, t, u, v };
	uint16_t p;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, pfd, 0), 0);
	a6.family = AF_INET6;
	assert_int_equal(SYS3(SYS_bind, 99, &a, 16), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_bind, 99, WILD, 16), -CUB_EBADF);	/* fd first */
	assert_int_equal(SYS3(SYS_bind, pfd[0], &a, 16), -CUB_ENOTSOCK);
	assert_int_equal(SYS3(SYS_bind, s, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_bind, s, &a, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &a, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &a, 129), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &a6, 16), -CUB_EAFNOSUPPORT);
	assert_int_equal(bind_to(s, 0x0a000001, 0), -CUB_EADDRNOTAVAIL);
	assert_int_equal(SYS2(SYS_listen, 99, 1), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_listen, pfd[1], 1), -CUB_ENOTSOCK);

	assert_int_equal(SYS3(SYS_bind, s, &a, 16), 0);
	p = port_of(s);
	assert_true(p >= 32768 && p <= 60999);			/* ephemeral */
	assert_int_equal(name(s, false).addr, __builtin_bswap32(LOOP));
	assert_int_equal(SYS3(SYS_bind, s, &a, 16), -CUB_EINVAL);	/* bound */
	assert_int_equal(setopt_int(t, SOL_SOCKET, 2, 1), 0);	/* SO_REUSEADDR */
	assert_int_equal(bind_to(t, LOOP, p), -CUB_EADDRINUSE);
	assert_int_equal(bind_to(t, 0, p), -CUB_EADDRINUSE);	/* overlaps */
	assert_int_equal(bind_to(t, 0x7f000002, p), 0);		/* does not */
	got_name = name(t, false);
	assert_int_equal(got_name.addr, __builtin_bswap32(0x7f000002));
	assert_int_equal(__builtin_bswap16(got_name.port), p);
	assert_int_equal(bind_to(u, 0, 40000), 0);		/* 0.0.0.0:40000 */
	assert_int_equal(bind_to(v, 0x7f000009, 40000), -CUB_EADDRINUSE);
	assert_int_equal(bind_to(v, 0x7f000009, 40001), 0);
	assert_true(port_of(v) == 40001);
	closeall(4, fds);
	s = tcp(0);
	assert_int_equal(bind_to(s, LOOP, p), 0);		/* freed by close */
	assert_int_equal(bind_to(tcp(0), 0, 40000), 0);
	closeall(1, &s);
	assert_int_equal(SYS1(SYS_close, s + 1), 0);
	closeall(2, pfd);
}

/* ------------------------------------------------- connect and accept */

static void connect_errors(int l, int c, uint16_t p)
{
	struct sin a = inaddr(LOOP, p), a6 = a;

	a6.family = AF_INET6;
	assert_int_equal(SYS3(SYS_connect, 99, &a, 16), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_connect, pfd[0], &a, 16), -CUB_ENOTSOCK);
	assert_int_equal(SYS3(SYS_connect, c, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_connect, c, &a, 1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_connect, c, &a, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_connect, c, &a6, 16), -CUB_EAFNOSUPPORT);
	assert_int_equal(connect_to(c, 0x0a010203, p), -CUB_ENETUNREACH);
	assert_int_equal(connect_to(c, LOOP, 1), -CUB_ECONNREFUSED);
	assert_int_equal(connect_to(c, 0x7f000002, p), -CUB_ECONNREFUSED);
	assert_int_equal(connect_to(l, LOOP, p), -CUB_EINVAL);	/* listening */
	assert_int_equal(SYS3(SYS_accept, 99, NULL, NULL), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_accept, pfd[0], NULL, NULL), -CUB_ENOTSOCK);
	assert_int_equal(SYS4(SYS_accept4, l, NULL, NULL, 1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_accept, c, NULL, NULL), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_accept, l, NULL, NULL), -CUB_EAGAIN);
}

static void test_socket_connect(void **state)
{
	int l = listener(NB, 5), c = tcp(0), a, len = 16, ep, bad = -1;
	uint16_t p = port_of(l);
	struct sin peer, cn;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, pfd, 0), 0);
	assert_int_equal(getopt_int(l, SOL_SOCKET, 30), 1);	/* SO_ACCEPTCONN */
	connect_errors(l, c, p);
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_int_equal(ctl(ep, 1, l, EPOLLIN, 7), 0);
	assert_int_equal(ready(ep, 7), 0);
	assert_int_equal(connect_to(c, LOOP, p), 0);
	assert_int_equal(ready(ep, 7), EPOLLIN);		/* queued */
	assert_int_equal(connect_to(c, LOOP, p), -CUB_EISCONN);
	peer = inaddr(LOOP, p);
	assert_int_equal(SYS3(SYS_connect, c, &peer, 8), -CUB_EISCONN);	/* first */
	assert_int_equal(SYS2(SYS_listen, c, 1), -CUB_EINVAL);
	assert_int_equal(bind_to(c, LOOP, 0), -CUB_EINVAL);
	cn = name(c, false);
	assert_int_equal(cn.addr, __builtin_bswap32(LOOP));
	assert_true(__builtin_bswap16(cn.port) >= 32768 && __builtin_bswap16(cn.port) != p);
	assert_int_equal(name(c, true).port, __builtin_bswap16(p));
	assert_int_equal(name(c, true).addr, __builtin_bswap32(LOOP));

	/* Bad address arguments fail before the connection is taken. */
	assert_int_equal(SYS3(SYS_accept, l, &peer, NULL), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_accept, l, &peer, &bad), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_accept, l, WILD, &len), -CUB_EFAULT);
	a = (int)SYS4(SYS_accept4, l, &peer, &len, NB | CX);
	assert_true(a >= 3);
	assert_int_equal(ready(ep, 7), 0);
	assert_int_equal(len, 16);
	same_addr(peer, cn);
	assert_int_equal(SYS2(SYS_fcntl, a, F_GETFL), 2 | NB);
	assert_int_equal(SYS2(SYS_fcntl, a, F_GETFD), 1);
	same_addr(name(a, false), name(c, true));
	same_addr(name(a, true), cn);
	assert_int_equal(getopt_int(a, SOL_SOCKET, 30), 0);
	assert_int_equal(SYS3(SYS_accept, l, NULL, NULL), -CUB_EAGAIN);

	/* Truncation: a short addrlen gets part of it and the full length. */
	assert_int_equal(connect_to(tcp(0), LOOP, p), 0);
	len = 4;
	memset(&peer, 0, sizeof(peer));
	int a2 = (int)SYS3(SYS_accept, l, &peer, &len);
	assert_true(a2 >= 3);
	assert_int_equal(len, 16);
	assert_int_equal(peer.family, AF_INET);
	assert_int_equal(peer.addr, 0);				/* not copied */
	assert_int_equal(SYS2(SYS_fcntl, a2, F_GETFL), 2);	/* no SOCK_NONBLOCK */
	assert_int_equal(SYS1(SYS_close, a2 - 1), 0);		/* its client */
	int fds[] = { a2, a, c, l, ep, pfd[0], pfd[1] };
	closeall(7, fds);
}

/* A listener on 0.0.0.0 (autobound by listen) takes connections to any
 * loopback address; the backlog bounds the queue; closing a listener
 * resets what is still queued. */
static void test_socket_listener(void **state)
{
	int l = tcp(NB), c1 = tcp(0), c2 = tcp(NB), c3 = tcp(0), a1, a2, ep;
	struct sin any;
	uint16_t p;

	(void)state;
	assert_int_equal(SYS2(SYS_listen, l, 0), 0);		/* room for 1 */
	any = name(l, false);
	assert_int_equal(any.addr, 0);
	p = __builtin_bswap16(any.port);
	assert_true(p >= 32768);
	assert_int_equal(connect_to(c1, 0x7f000005, p), 0);
	assert_int_equal(connect_to(c2, 0, p), -CUB_EAGAIN);	/* full */
	a1 = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_true(a1 >= 3);
	assert_int_equal(name(a1, false).addr, __builtin_bswap32(0x7f000005));
	assert_int_equal(name(a1, true).addr, __builtin_bswap32(LOOP));
	assert_int_equal(connect_to(c2, 0, p), 0);		/* 0.0.0.0: here */
	assert_int_equal(name(c2, true).addr, __builtin_bswap32(LOOP));
	assert_int_equal(SYS2(SYS_listen, l, 2), 0);		/* grows */
	assert_int_equal(connect_to(c3, LOOP, p), 0);

	/* Accept with the table full: -EMFILE, the connection stays queued. */
	int first = (int)SYS1(SYS_dup, l), last = first;
	while (SYS1(SYS_dup, l) >= 0)
		last++;
	assert_int_equal(last, CUBI_FD_MAX - 1);
	assert_int_equal(SYS3(SYS_accept, l, NULL, NULL), -CUB_EMFILE);
	assert_int_equal(SYS1(SYS_close, last), 0);
	a2 = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_int_equal(a2, last);
	for (int fd = first; fd < last; fd++)
		assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS3(SYS_write, c2, "ab", 2), 2);	/* c2 is accepted */
	assert_int_equal(SYS3(SYS_read, a2, got, 10), 2);

	/* c3 is queued; closing the listener resets it. */
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_int_equal(ctl(ep, 1, c3, EPOLLIN | EPOLLOUT, 3), 0);
	assert_int_equal(ready(ep, 3), EPOLLOUT);
	assert_int_equal(SYS1(SYS_close, l), 0);
	assert_true(ready(ep, 3) & EPOLLERR);
	assert_int_equal(SYS3(SYS_read, c3, got, 10), -CUB_ECONNRESET);
	assert_int_equal(getopt_int(c3, SOL_SOCKET, 4), 0);	/* consumed */
	assert_int_equal(SYS3(SYS_read, c3, got, 10), 0);
	assert_int_equal(SYS3(SYS_write, c3, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS3(SYS_getpeername, c3, &any, &(int){ 16 }), 0);
	int fds[] = { ep, c1, c2, c3, a1, a2 };
	closeall(6, fds);

	/* shutdown(SHUT_RD) of a listener resets its queue too (SO_ERROR). */
	l = listener(NB, 4);
	c1 = tcp(0);
	assert_int_equal(connect_to(c1, LOOP, port_of(l)), 0);
	assert_int_equal(SYS2(SYS_shutdown, l, 1), 0);		/* SHUT_WR: nothing */
	assert_int_equal(SYS2(SYS_shutdown, l, 0), 0);
	assert_int_equal(SYS3(SYS_accept, l, NULL, NULL), -CUB_EINVAL);
	assert_int_equal(getopt_int(c1, SOL_SOCKET, 4), CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, c1, got, 10), 0);
	assert_int_equal(SYS3(SYS_write, c1, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);		/* listens again */
	assert_int_equal(connect_to(tcp(0), LOOP, port_of(l)), 0);
	assert_true(SYS3(SYS_accept, l, NULL, NULL) >= 3);
	for (int fd = 3; fd < 8; fd++)
		SYS1(SYS_close, fd);
	assert_int_equal(SYS1(SYS_close, 3), -CUB_EBADF);
}

/* -------------------------------------------------------------- data */

static void test_socket_data(void **state)
{
	int c, a;
	struct sin from, dst = inaddr(0x0a000001, 9);
	int fromlen = 16;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, pfd, 0), 0);
	pair(0, 0, &c, &a);
	assert_int_equal(SYS3(SYS_write, c, "hello", 5), 5);
	assert_int_equal(SYS3(SYS_read, a, got, 100), 5);
	assert_memory_equal(got, "hello", 5);
	assert_int_equal(SYS3(SYS_read, a, got, 0), 0);
	assert_int_equal(SYS6(SYS_recvfrom, a, got, 10, MSG_DONTWAIT, NULL, NULL), -CUB_EAGAIN);
	assert_int_equal(SYS6(SYS_sendto, a, "xyz", 3, MSG_NOSIGNAL, &dst, 16), 3);	/* ignored */
	assert_int_equal(SYS6(SYS_sendto, a, "x", 1, 0, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_sendto, a, "x", 1, 0, &dst, 200), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_sendto, a, "x", 1, 1 /* MSG_OOB */, NULL, 0), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 1, 1, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_sendto, pfd[1], "x", 1, 0, NULL, 0), -CUB_ENOTSOCK);
	assert_int_equal(SYS6(SYS_recvfrom, pfd[0], got, 1, 0, NULL, NULL), -CUB_ENOTSOCK);
	assert_int_equal(SYS6(SYS_recvfrom, 99, got, 1, 0, NULL, NULL), -CUB_EBADF);
	assert_int_equal(SYS6(SYS_sendto, a, WILD, 4, 0, NULL, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_recvfrom, c, WILD, 4, 0, NULL, NULL), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_write, a, WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, c, WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 2, MSG_PEEK, NULL, NULL), 2);
	assert_memory_equal(got, "xy", 2);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 10, 0, &from, &fromlen), 3);
	assert_memory_equal(got, "xyz", 3);
	assert_int_equal(fromlen, 0);		/* TCP reports no source */

	/* readv/writev through the fd layer. */
	struct iov iv[2] = { { "ab", 2 }, { "cde", 3 } };
	assert_int_equal(SYS3(SYS_writev, c, iv, 2), 5);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 5);
	assert_memory_equal(got, "abcde", 5);
	int fds[] = { c, a };
	closeall(2, fds);
	closeall(2, pfd);
}

static void test_socket_msg(void **state)
{
	char b1[2], b2[10];
	struct iov out[2] = { { "ab", 2 }, { "cde", 3 } }, in[2] = { { b1, 2 }, { b2, 10 } };
	struct sin from;
	struct msghdr m = { NULL, 0, out, 2, NULL, 0, 0 };
	int c, a;

	(void)state;
	pair(NB, NB, &c, &a);
	assert_int_equal(SYS3(SYS_sendmsg, c, &m, 0), 5);
	m.controllen = 8;
	m.control = b2;
	assert_int_equal(SYS3(SYS_sendmsg, c, &m, 0), -CUB_EINVAL);
	m = (struct msghdr){ &from, 16, in, 2, b1, 2, 77 };
	assert_int_equal(SYS3(SYS_recvmsg, a, &m, MSG_PEEK), 5);
	assert_memory_equal(b1, "ab", 2);
	assert_memory_equal(b2, "cde", 3);
	memset(b2, 0, sizeof(b2));
	m = (struct msghdr){ &from, 16, in, 2, b1, 2, 77 };
	assert_int_equal(SYS3(SYS_recvmsg, a, &m, 0), 5);
	assert_memory_equal(b1, "ab", 2);
	assert_memory_equal(b2, "cde", 3);
	assert_int_equal(m.namelen, 0);
	assert_int_equal(m.controllen, 0);
	assert_int_equal(m.flags, 0);
	assert_int_equal(SYS3(SYS_recvmsg, a, &m, 0), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_recvmsg, a, WILD, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_recvmsg, a, &m, 1), -CUB_EOPNOTSUPP);
	m.iovlen = 1025;
	assert_int_equal(SYS3(SYS_sendmsg, c, &m, 0), -CUB_EMSGSIZE);
	in[1].base = (void *)WILD;
	m.iovlen = 2;
	assert_int_equal(SYS3(SYS_recvmsg, a, &m, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_sendmsg, 99, &m, 0), -CUB_EBADF);
	int fds[] = { c, a };
	closeall(2, fds);
}

/* Capacity and wrap-around of the 64 KiB ring, without blocking. */
static void test_socket_capacity(void **state)
{
	int c, a;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	pair(0, 0, &c, &a);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_DONTWAIT, NULL, 0), 1);
	assert_int_equal(SYS3(SYS_read, a, got, 1), 1);
	assert_int_equal(SYS3(SYS_fcntl, c, F_SETFL, NB), 0);
	assert_int_equal(SYS3(SYS_write, c, big, sizeof(big)), RING);	/* partial */
	assert_int_equal(SYS3(SYS_write, c, big, 1), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_fcntl, c, F_SETFL, 0), 0);
	assert_int_equal(SYS6(SYS_sendto, c, big, 1, MSG_DONTWAIT, NULL, 0), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, a, got, 100), 100);
	assert_int_equal(SYS6(SYS_sendto, c, big + RING, 5000, MSG_DONTWAIT, NULL, 0), 100);
	assert_int_equal(SYS3(SYS_read, a, got, sizeof(got)), RING);
	assert_memory_equal(got, big + 100, RING - 100);
	assert_memory_equal(got + RING - 100, big + RING, 100);	/* wrapped */
	assert_int_equal(getopt_int(c, SOL_SOCKET, 8), RING);	/* SO_RCVBUF */
	int fds[] = { c, a };
	closeall(2, fds);
}

/* End of file after SHUT_WR and close; EPIPE; SHUT_RD. */
static void test_socket_shutdown(void **state)
{
	int c, a, c2, a2;

	(void)state;
	pair(NB, NB, &c, &a);
	assert_int_equal(SYS3(SYS_write, c, "tail", 4), 4);
	assert_int_equal(SYS2(SYS_shutdown, c, 1), 0);		/* SHUT_WR */
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS3(SYS_read, a, got, 2), 2);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 2);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 0);	/* end of file */
	assert_int_equal(SYS3(SYS_write, a, "back", 4), 4);	/* other way works */
	assert_int_equal(SYS3(SYS_read, c, got, 10), 4);
	assert_int_equal(SYS2(SYS_shutdown, a, 0), 0);		/* SHUT_RD */
	assert_int_equal(SYS3(SYS_read, a, got, 10), 0);
	assert_int_equal(SYS3(SYS_read, c, got, 10), -CUB_EAGAIN);
	assert_int_equal(SYS2(SYS_shutdown, a, 2), 0);
	assert_int_equal(SYS3(SYS_write, a, "x", 1), -CUB_EPIPE);

	pair(NB, NB, &c2, &a2);
	assert_int_equal(SYS3(SYS_write, a2, "bye", 3), 3);
	assert_int_equal(SYS3(SYS_write, c2, "unread", 6), 6);
	assert_int_equal(SYS1(SYS_close, a2), 0);	/* "unread": a reset */
	assert_int_equal(SYS3(SYS_read, c2, got, 10), 3);	/* as Linux */
	assert_int_equal(SYS3(SYS_read, c2, got, 10), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, c2, got, 10), 0);
	assert_int_equal(SYS3(SYS_write, c2, "x", 1), -CUB_EPIPE);
	assert_int_equal(name(c2, true).addr, __builtin_bswap32(LOOP));
	int fds[] = { c, a, c2 };
	closeall(3, fds);
}

static void test_socketpair(void **state)
{
	int sv[2], len = 16;
	struct sin a = inaddr(LOOP, 1);

	(void)state;
	assert_int_equal(SYS4(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS4(SYS_socketpair, AF_INET6, SOCK_STREAM, 0, sv), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS4(SYS_socketpair, 99, SOCK_STREAM, 0, sv), -CUB_EAFNOSUPPORT);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, 4, 0, sv), -CUB_ESOCKTNOSUPPORT);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 6, sv), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | 0x100, 0, sv), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, WILD), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, NULL), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB | CX, 0, sv), 0);
	assert_int_equal(SYS2(SYS_fcntl, sv[1], F_GETFL), 2 | NB);
	assert_int_equal(SYS2(SYS_fcntl, sv[1], F_GETFD), 1);
	assert_int_equal(SYS3(SYS_write, sv[0], "ping", 4), 4);
	assert_int_equal(SYS3(SYS_read, sv[1], got, 10), 4);
	assert_int_equal(SYS3(SYS_write, sv[1], "pong", 4), 4);
	assert_int_equal(SYS3(SYS_read, sv[0], got, 10), 4);
	assert_memory_equal(got, "pong", 4);
	for (int peer = 0; peer < 2; peer++) {
		len = 16;
		assert_int_equal(SYS3(peer ? SYS_getpeername : SYS_getsockname, sv[0], &a, &len), 0);
		assert_int_equal(len, 2);
		assert_int_equal(a.family, AF_UNIX);
	}
	a = inaddr(LOOP, 1);
	assert_int_equal(SYS6(SYS_sendto, sv[0], "x", 1, 0, &a, 16), -CUB_EISCONN);
	assert_int_equal(SYS6(SYS_sendto, sv[0], "x", 1, 0, NULL, 0), 1);
	assert_int_equal(SYS3(SYS_bind, sv[0], &a, 16), -CUB_EINVAL);	/* not */
	assert_int_equal(SYS3(SYS_connect, sv[0], &a, 16), -CUB_EINVAL);	/* AF_UNIX */
	assert_int_equal(SYS2(SYS_listen, sv[0], 1), -CUB_EINVAL);	/* unbound */
	assert_int_equal(setopt_int(sv[0], TCP, 1, 1), -CUB_EOPNOTSUPP);
	assert_int_equal(setopt_int(sv[0], 0, 2, 1), -CUB_EOPNOTSUPP);	/* IP_TTL */
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, 39), AF_UNIX);	/* SO_DOMAIN */
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, 38), 0);	/* SO_PROTOCOL */
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, 3), SOCK_STREAM);
	assert_int_equal(SYS2(SYS_shutdown, sv[1], 0), 0);	/* SHUT_RD: */
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), -CUB_EPIPE);	/* as Linux */
	assert_int_equal(SYS3(SYS_write, sv[1], "z", 1), 1);
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);	/* its "x" unread: */
	assert_int_equal(SYS3(SYS_read, sv[0], got, 10), 1);
	assert_int_equal(SYS3(SYS_read, sv[0], got, 10), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, sv[0], got, 10), 0);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
}

/* ----------------------------------------------------------- options */

static void test_socket_options(void **state)
{
	static const int bools[][2] = { { SOL_SOCKET, 2 }, { SOL_SOCKET, 6 },
		{ SOL_SOCKET, 9 }, { SOL_SOCKET, 15 }, { TCP, 1 } };
	int s = tcp(0), v[2] = { 1, 7 }, len = 8;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, pfd, 0), 0);
	assert_int_equal(setopt_int(99, SOL_SOCKET, 2, 1), -CUB_EBADF);
	assert_int_equal(setopt_int(pfd[0], SOL_SOCKET, 2, 1), -CUB_ENOTSOCK);
	assert_int_equal(setopt_int(s, SOL_SOCKET, 999, 1), -CUB_ENOPROTOOPT);
	assert_int_equal(setopt_int(s, SOL_SOCKET, 3, 1), -CUB_ENOPROTOOPT);	/* SO_TYPE */
	assert_int_equal(setopt_int(s, 0, 1, 1), -CUB_ENOPROTOOPT);		/* IP_TOS */
	assert_int_equal(setopt_int(s, 41, 26, 1), -CUB_ENOPROTOOPT);	/* IPV6_V6ONLY */
	assert_int_equal(setopt_int(s, TCP, 2, 1), -CUB_EINVAL);	/* TCP_MAXSEG < 88 */
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, 2, v, 2, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, 2, v, -1, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, 2, WILD, 4, 0), -CUB_EFAULT);
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		assert_int_equal(getopt_int(s, bools[i][0], bools[i][1]), 0);
		assert_int_equal(setopt_int(s, bools[i][0], bools[i][1], 5), 0);
		assert_int_equal(getopt_int(s, bools[i][0], bools[i][1]), 1);
	}
	assert_int_equal(getopt_int(s, 0, 2), 64);		/* IP_TTL */
	assert_int_equal(setopt_int(s, 0, 2, 1), 0);
	assert_int_equal(getopt_int(s, 0, 2), 1);
	assert_int_equal(setopt_int(s, 0, 2, 255), 0);
	assert_int_equal(getopt_int(s, 0, 2), 255);
	assert_int_equal(setopt_int(s, 0, 2, 0), -CUB_EINVAL);
	assert_int_equal(setopt_int(s, 0, 2, 256), -CUB_EINVAL);
	assert_int_equal(setopt_int(s, 0, 2, -2), -CUB_EINVAL);
	assert_int_equal(getopt_int(s, 0, 2), 255);
	assert_int_equal(setopt_int(s, 0, 2, -1), 0);		/* the default */
	assert_int_equal(getopt_int(s, 0, 2), 64);
	assert_int_equal(getopt_int(s, TCP, 4), 7200);		/* TCP_KEEPIDLE */
	assert_int_equal(setopt_int(s, TCP, 4, 30), 0);
	assert_int_equal(getopt_int(s, TCP, 4), 30);
	assert_int_equal(setopt_int(s, TCP, 4, 0), -CUB_EINVAL);
	assert_int_equal(setopt_int(s, TCP, 5, 15), 0);		/* TCP_KEEPINTVL */
	assert_int_equal(getopt_int(s, TCP, 5), 15);
	assert_int_equal(setopt_int(s, TCP, 6, 128), -CUB_EINVAL);	/* TCP_KEEPCNT */
	assert_int_equal(getopt_int(s, TCP, 6), 9);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, 13, v, 4, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, 13, v, 8, 0), 0);	/* SO_LINGER */
	v[0] = v[1] = 0;
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 13, v, &len, 0), 0);
	assert_int_equal(len, 8);
	assert_true(v[0] == 1 && v[1] == 7);
	assert_int_equal(setopt_int(s, SOL_SOCKET, 8, 1000), 0);	/* SO_RCVBUF */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 8), RING);
	assert_int_equal(getopt_int(s, SOL_SOCKET, 7), RING);	/* SO_SNDBUF */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 3), SOCK_STREAM);
	assert_int_equal(getopt_int(s, SOL_SOCKET, 4), 0);		/* SO_ERROR */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 38), TCP);	/* SO_PROTOCOL */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 39), AF_INET);	/* SO_DOMAIN */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 30), 0);	/* SO_ACCEPTCONN */
	len = 100;
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 3, v, &len, 0), 0);
	assert_int_equal(len, 4);
	len = 2;
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 3, v, &len, 0), -CUB_EINVAL);
	len = 4;
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 3, v, WILD, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 3, WILD, &len, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, 999, v, &len, 0), -CUB_ENOPROTOOPT);
	assert_int_equal(SYS6(SYS_getsockopt, s, 41, 26, v, &len, 0), -CUB_ENOPROTOOPT);
	assert_int_equal(SYS6(SYS_getsockopt, pfd[1], SOL_SOCKET, 3, v, &len, 0), -CUB_ENOTSOCK);
	closeall(1, &s);
	closeall(2, pfd);
}

/* ------------------------------------------------------------- epoll */

static void test_socket_epoll(void **state)
{
	int ep1 = (int)SYS1(SYS_epoll_create1, 0), ep2 = (int)SYS1(SYS_epoll_create1, 0);
	int c, a, n = 0;

	(void)state;
	pair(NB, NB, &c, &a);
	assert_int_equal(ctl(ep1, 1, c, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, 1), 0);
	assert_int_equal(ctl(ep2, 1, a, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLRDNORM, 2), 0);
	assert_int_equal(ready(ep1, 1), EPOLLOUT);		/* Go's registration */
	assert_int_equal(ready(ep1, 1), 0);			/* no new edge */
	assert_int_equal(ready(ep2, 2), EPOLLOUT);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), 1);
	assert_int_equal(ready(ep2, 2), EPOLLIN | EPOLLRDNORM | EPOLLOUT);
	assert_int_equal(ready(ep1, 1), EPOLLOUT);		/* an edge again */
	assert_int_equal(SYS3(SYS_read, a, got, 10), 1);
	assert_int_equal(ready(ep2, 2), EPOLLOUT);
	while (SYS3(SYS_write, a, big, sizeof(big)) > 0)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(ready(ep2, 2), 0);			/* c's ring full */
	assert_int_equal(ready(ep1, 1), EPOLLIN | EPOLLOUT);
	assert_int_equal(SYS2(SYS_shutdown, c, 1), 0);
	assert_int_equal(ready(ep2, 2), EPOLLIN | EPOLLRDNORM | EPOLLRDHUP);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 10);	/* room again */
	assert_int_equal(ready(ep2, 2), EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLOUT);
	assert_int_equal(ready(ep1, 1), EPOLLIN);		/* c: SHUT_WR */
	assert_int_equal(SYS1(SYS_close, c), 0);	/* unread: a reset after
							 * its FIN: EPIPE pending */
	assert_int_equal(ready(ep2, 2), EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP |
			 EPOLLOUT | EPOLLERR);
	int fds[] = { a, ep1, ep2 };
	closeall(3, fds);
}

/* ---------------------------------------------------------- blocking */

static int bl_l, bl_c, bl_a;
static volatile int finished;

static void *acceptor(void *arg)
{
	(void)arg;
	return (void *)SYS3(SYS_accept, bl_l, NULL, NULL);
}

/* Reads until n bytes or end of file: the count, or an error. */
static void *reader(void *arg)
{
	size_t n = (size_t)arg, have = 0;

	while (have < n) {
		long r = SYS3(SYS_read, bl_a, got + have, n - have);

		if (r < 0)
			return (void *)r;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	return (void *)have;
}

static void *writer(void *arg)
{
	return (void *)SYS3(SYS_write, bl_a, big, (size_t)arg);
}

static void *connector(void *arg)
{
	long rc = connect_to((int)(intptr_t)arg, LOOP, port_of(bl_l));

	finished = 1;
	return (void *)rc;
}

static void blocking_accept_and_data(void)
{
	struct cub_coro *co;
	void *res;

	bl_l = listener(0, 4);
	bl_c = tcp(0);
	assert_int_equal(cub_coro_spawn(&co, acceptor, NULL, NULL), 0);
	cub_coro_yield();				/* it parks in accept */
	assert_int_equal(connect_to(bl_c, LOOP, port_of(bl_l)), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	bl_a = (int)(intptr_t)res;
	assert_true(bl_a >= 3);

	/* 3 rings' worth each way through blocking writers and readers. */
	assert_int_equal(cub_coro_spawn(&co, reader, (void *)sizeof(big), NULL), 0);
	assert_int_equal(SYS3(SYS_write, bl_c, big, sizeof(big)), sizeof(big));
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	memset(got, 0, sizeof(got));
	assert_int_equal(cub_coro_spawn(&co, writer, (void *)sizeof(big), NULL), 0);
	assert_int_equal(SYS6(SYS_recvfrom, bl_c, got, sizeof(got), MSG_WAITALL, NULL, NULL),
			 sizeof(got));
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));

	/* A blocked reader gets what arrives, then end of file. */
	assert_int_equal(cub_coro_spawn(&co, reader, (void *)10, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_write, bl_c, "abc", 3), 3);
	assert_int_equal(SYS2(SYS_shutdown, bl_c, 1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 3);

	/* A blocked writer (c's ring full) ends when the reader closes. */
	assert_int_equal(cub_coro_spawn(&co, writer, (void *)(2 * RING), NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS1(SYS_close, bl_c), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, RING);		/* what went in */
	int fds[] = { bl_a, bl_l };
	closeall(2, fds);
}

/* A blocking connect waits while the accept queue is full. */
static void blocking_connect(void)
{
	struct cub_coro *co;
	int c1 = tcp(0), c2 = tcp(0), a1, a2;
	void *res;

	bl_l = listener(0, 1);
	assert_int_equal(connect_to(c1, LOOP, port_of(bl_l)), 0);
	finished = 0;
	assert_int_equal(cub_coro_spawn(&co, connector, (void *)(intptr_t)c2, NULL), 0);
	cub_coro_yield();
	cub_coro_yield();
	assert_int_equal(finished, 0);
	a1 = (int)SYS3(SYS_accept, bl_l, NULL, NULL);	/* makes room */
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 0);
	a2 = (int)SYS3(SYS_accept, bl_l, NULL, NULL);
	assert_true(a1 >= 3 && a2 >= 3);
	same_addr(name(a2, true), name(c2, false));
	int fds[] = { c1, c2, a1, a2, bl_l };
	closeall(5, fds);
}

/* A receive that waited re-checks its buffer: unmapped meanwhile, it
 * fails with EFAULT (and leaves the data) instead of faulting. */
static void *recv_into(void *arg)
{
	return (void *)SYS6(SYS_recvfrom, bl_a, arg, 64, 0, NULL, NULL);
}

static void blocking_unmapped(void)
{
	struct cub_coro *co;
	void *res;
	long page = SYS6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);	/* RW, private anon */

	assert_true(page > 0);
	pair(0, 0, &bl_c, &bl_a);
	assert_int_equal(cub_coro_spawn(&co, recv_into, (void *)page, NULL), 0);
	cub_coro_yield();				/* it waits for data */
	assert_int_equal(SYS2(SYS_munmap, page, 4096), 0);
	assert_int_equal(SYS3(SYS_write, bl_c, "late", 4), 4);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, bl_a, got, 10), 4);	/* still there */
	int fds[] = { bl_c, bl_a };
	closeall(2, fds);
}

static void blocking_body(void)
{
	blocking_accept_and_data();
	blocking_connect();
	blocking_unmapped();
}

static void test_socket_blocking(void **state)
{
	(void)state;
	run(blocking_body);
}

/* A signal with a handler ends a blocking accept and a blocking receive
 * with EINTR (the signal tests' way: deliver it by hand afterwards). */
#define SIGUSR1 10

static void *blocked_call(void *arg)
{
	if (arg)
		return (void *)SYS6(SYS_recvfrom, bl_a, got, 10, 0, NULL, NULL);
	return (void *)SYS3(SYS_accept, bl_l, NULL, NULL);
}

static void interrupt_body(void)
{
	struct { uint64_t handler, flags, restorer, mask; } act = {
		0x1111000, 0x04000000 /* SA_RESTORER */, 0x2222000, 0 };
	uint64_t none = 0;
	struct cub_coro *co;
	void *res;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0);
	bl_l = listener(0, 4);
	pair(0, 0, &bl_c, &bl_a);
	for (long kind = 0; kind < 2; kind++) {
		assert_int_equal(cub_coro_spawn(&co, blocked_call, (void *)kind, NULL), 0);
		cub_coro_yield();			/* it blocks */
		assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
		assert_int_equal(cub_coro_join(co, &res), 0);
		assert_int_equal((intptr_t)res, -CUB_EINTR);
		assert_true(signal_taken(SIGUSR1));
	}
	act.handler = 0;				/* SIG_DFL again */
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0);
	int fds[] = { bl_l, bl_c, bl_a };
	closeall(3, fds);
}

static void test_socket_interrupt(void **state)
{
	(void)state;
	run(interrupt_body);
}

/* SO_RCVTIMEO and SO_SNDTIMEO bound a stream socket's blocking calls as
 * on Linux: recv, read and accept give EAGAIN when the time is up (not
 * sooner), a send that filled the peer's ring returns what it moved,
 * a write that moved nothing EAGAIN; data that arrives in time is
 * returned, and a timeout of 0 waits for ever again. */
#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21

static void timed(int fd, int opt, long usec)
{
	int64_t tv[2] = { usec / 1000000, usec % 1000000 };

	assert_int_equal(SYS6(SYS_setsockopt, fd, SOL_SOCKET, opt, tv, 16, 0), 0);
}

/* ns the call took; *rc its result. */
static uint64_t took(long *rc, long nr, long a, long b, long c)
{
	uint64_t t = cub_time_now();

	*rc = sys(nr, a, b, c, 0, 0, 0);
	return cub_time_now() - t;
}

static void *late_write(void *arg)
{
	cub_sleep(20 * CUB_NSEC_PER_MSEC);
	return (void *)SYS3(SYS_write, (int)(intptr_t)arg, "late", 4);
}

static void timeout_body(void)
{
	static char big[RING + 4096];
	int l = listener(0, 4), c, a;
	struct cub_coro *co;
	char buf[8];
	long rc;

	timed(l, SO_RCVTIMEO, 50000);
	assert_true(took(&rc, SYS_accept, l, 0, 0) >= 50 * CUB_NSEC_PER_MSEC);
	assert_int_equal(rc, -CUB_EAGAIN);
	pair(0, 0, &c, &a);
	timed(a, SO_RCVTIMEO, 50000);
	assert_true(took(&rc, SYS_recvfrom, a, (long)buf, 8) >= 50 * CUB_NSEC_PER_MSEC);
	assert_int_equal(rc, -CUB_EAGAIN);
	assert_true(took(&rc, SYS_read, a, (long)buf, 8) >= 50 * CUB_NSEC_PER_MSEC);
	assert_int_equal(rc, -CUB_EAGAIN);
	assert_int_equal(cub_coro_spawn(&co, late_write, (void *)(intptr_t)c, NULL), 0);
	timed(a, SO_RCVTIMEO, 2000000);			/* 2 s: data comes first */
	assert_int_equal(SYS3(SYS_read, a, buf, 8), 4);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	timed(c, SO_SNDTIMEO, 30000);
	assert_int_equal(SYS6(SYS_sendto, c, big, sizeof(big), 0, NULL, 0), RING);
	assert_int_equal(SYS3(SYS_write, c, big, 16), -CUB_EAGAIN);	/* still full */
	timed(a, SO_RCVTIMEO, 0);			/* none: a read waits */
	assert_int_equal(SYS3(SYS_read, a, big, sizeof(big)), RING);
	int fds[] = { l, c, a };
	closeall(3, fds);
}

static void test_socket_timeouts(void **state)
{
	(void)state;
	run(timeout_body);
}

/* ----------------------------------------------------------- cleanup */

/* Everything a busy set of sockets holds goes back when they close,
 * including connections still queued on a closing listener. */
static void test_socket_no_leak(void **state)
{
	struct cub_heap_stats before, after;
	int l, l2, c[4], a[2], sv[2], ep;

	(void)state;
	cub_heap_stats(&before);
	l = listener(NB, 8);
	l2 = listener(NB, 8);
	for (int i = 0; i < 4; i++) {
		c[i] = tcp(NB);
		assert_int_equal(connect_to(c[i], LOOP, port_of(i < 3 ? l : l2)), 0);
		assert_int_equal(SYS3(SYS_write, c[i], "data", 4), 4);
	}
	a[0] = (int)SYS3(SYS_accept, l, NULL, NULL);
	a[1] = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_int_equal(SYS3(SYS_write, a[0], "back", 4), 4);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), 1);
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_int_equal(ctl(ep, 1, a[0], EPOLLIN, 0), 0);
	assert_int_equal(ctl(ep, 1, l, EPOLLIN, 1), 0);
	assert_int_equal(SYS2(SYS_shutdown, l2, 2), 0);	/* frees c[3]'s peer */
	closeall(1, &l);				/* c[2]'s peer queued */
	closeall(1, &l2);
	closeall(4, c);
	closeall(2, a);
	closeall(2, sv);
	closeall(1, &ep);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_create),
		cmocka_unit_test(test_socket_bind),
		cmocka_unit_test(test_socket_connect),
		cmocka_unit_test(test_socket_listener),
		cmocka_unit_test(test_socket_data),
		cmocka_unit_test(test_socket_msg),
		cmocka_unit_test(test_socket_capacity),
		cmocka_unit_test(test_socket_shutdown),
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_socket_options),
		cmocka_unit_test(test_socket_epoll),
		cmocka_unit_test(test_socket_blocking),
		cmocka_unit_test(test_socket_interrupt),
		cmocka_unit_test(test_socket_timeouts),
		cmocka_unit_test(test_socket_no_leak),
	};

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	cubi_mem_init();	/* sockets live on the heap */
	set_sigpipe(1);	/* SIG_IGN: the tests of EPIPE (SIGPIPE's own set it) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
