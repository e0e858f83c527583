/*
 * test_shim_udp.c - UDP over loopback through the dispatcher: creation,
 * options and the calls UDP refuses, bind (UDP's own port space), every
 * error of sendto/recvfrom/sendmsg/recvmsg, datagram boundaries,
 * truncation (MSG_TRUNC both ways), MSG_PEEK, zero-length datagrams,
 * source addresses, connect's default peer and filter, AF_UNSPEC,
 * ECONNREFUSED, shutdown, the receive budget dropping datagrams, poll and
 * epoll readiness, and (inside the scheduler) blocking receives woken by
 * other coroutines or ended by a signal; closing gives all memory back.
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
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"

#define SYS_poll 7

#define UDP 17
#define MSG_OOB 1
#define MSG_TRUNC 0x20
#define MAXDG 65507
#define BUDGET 212992
#define IDLE (EPOLLOUT | EPOLLWRNORM)
#define READY (EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM)

static char big[MAXDG + 16], got[MAXDG + 16];
static int pfd[2];

static int udp(int flags)
{
	long fd = SYS3(SYS_socket, AF_INET, SOCK_DGRAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

/* A UDP socket bound to 127.0.0.1, ephemeral port. */
static int bound(int flags)
{
	int s = udp(flags);

	assert_int_equal(bind_to(s, LOOP, 0), 0);
	return s;
}

static long send_to(int fd, const void *buf, size_t n, int to)
{
	struct sin a = inaddr(LOOP, port_of(to));

	return SYS6(SYS_sendto, fd, buf, n, 0, &a, sizeof(a));
}

/* Receives into got (non-blocking): the result; *from the sender. */
static long recv_from(int fd, size_t n, int flags, struct sin *from)
{
	int len = sizeof(*from);

	memset(from, 0xee, sizeof(*from));
	return SYS6(SYS_recvfrom, fd, got, n, flags | MSG_DONTWAIT, from, &len);
}

/* poll(2)'s revents for fd (timeout 0). */
static unsigned polled(int fd)
{
	struct { int fd; short events, revents; } p = { fd, 0x2147, 0 };

	assert_true(SYS3(SYS_poll, &p, 1, 0) >= 0);
	return (unsigned)(unsigned short)p.revents;
}

/* ------------------------------------------------------------ creation */

/* writev gathers its segments into one datagram; readv scatters one. */
static void test_udp_vectors(void **state)
{
	struct { const void *base; size_t len; } out[3] = { { "ab", 2 }, { "", 0 }, { "cde", 3 } };
	char x[2], y[8];
	struct { void *base; size_t len; } in[2] = { { x, 2 }, { y, 8 } };
	int a = bound(NB), b = bound(NB);

	(void)state;
	assert_int_equal(connect_to(a, LOOP, port_of(b)), 0);
	assert_int_equal(SYS3(SYS_writev, a, out, 3), 5);
	assert_int_equal(SYS3(SYS_writev, a, out, 1), 2);
	assert_int_equal(SYS3(SYS_readv, b, in, 2), 5);	/* the first datagram */
	assert_memory_equal(x, "ab", 2);
	assert_memory_equal(y, "cde", 3);
	assert_int_equal(SYS3(SYS_readv, b, in, 2), 2);	/* the second */
	assert_int_equal(SYS3(SYS_readv, b, in, 2), -CUB_EAGAIN);
	closeall(1, &a);
	closeall(1, &b);
}

static void test_udp_create(void **state)
{
	uint8_t st[144];
	uint32_t mode;
	struct sin a;
	int len = sizeof(a), s, t, sv[2];

	(void)state;
	assert_int_equal(SYS3(SYS_socket, AF_INET, SOCK_DGRAM, TCP), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_UNIX, SOCK_DGRAM, 17), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS4(SYS_socketpair, AF_INET, SOCK_DGRAM, 0, sv), -CUB_EOPNOTSUPP);
	s = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM | NB, UDP);
	assert_true(s >= 3);
	t = udp(0);
	assert_int_equal(SYS2(SYS_fcntl, s, F_GETFL), 2 | NB);
	assert_int_equal(SYS2(SYS_fstat, s, st), 0);
	memcpy(&mode, st + 24, 4);
	assert_int_equal(mode, 0140777);			/* S_IFSOCK */
	assert_int_equal(SYS3(SYS_lseek, s, 0, 0), -CUB_ESPIPE);
	assert_int_equal(SYS4(SYS_pread64, s, got, 1, 0), -CUB_ESPIPE);

	assert_int_equal(getopt_int(s, SOL_SOCKET, 3), SOCK_DGRAM);	/* SO_TYPE */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 38), UDP);		/* SO_PROTOCOL */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 39), AF_INET);	/* SO_DOMAIN */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 8), BUDGET);		/* SO_RCVBUF */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 30), 0);		/* SO_ACCEPTCONN */
	assert_int_equal(setopt_int(s, SOL_SOCKET, 6, 1), 0);		/* SO_BROADCAST */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 6), 1);
	assert_int_equal(setopt_int(s, SOL_SOCKET, 8, 4096), 0);	/* recorded: no */
	assert_int_equal(getopt_int(s, SOL_SOCKET, 8), BUDGET);
	assert_int_equal(setopt_int(s, TCP, 1, 1), -CUB_ENOPROTOOPT);	/* TCP_NODELAY */
	len = 4;
	assert_int_equal(SYS6(SYS_getsockopt, s, TCP, 1, &mode, &len, 0), -CUB_EOPNOTSUPP);

	assert_int_equal(SYS2(SYS_listen, s, 1), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS3(SYS_accept, s, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS4(SYS_accept4, t, NULL, NULL, 0), -CUB_EOPNOTSUPP);
	a = name(s, false);					/* unbound */
	assert_int_equal(a.port, 0);
	assert_int_equal(a.addr, 0);
	len = sizeof(a);
	assert_int_equal(SYS3(SYS_getpeername, s, &a, &len), -CUB_ENOTCONN);
	assert_int_equal(SYS3(SYS_write, s, "x", 1), -CUB_EDESTADDRREQ);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, NULL, 0), -CUB_EDESTADDRREQ);
	assert_int_equal(SYS3(SYS_read, s, got, 1), -CUB_EAGAIN);
	assert_int_equal(SYS6(SYS_recvfrom, t, got, 1, MSG_DONTWAIT, NULL, NULL), -CUB_EAGAIN);
	assert_int_equal(SYS2(SYS_shutdown, s, 0), -CUB_ENOTCONN);
	assert_true(port_of(s) >= 32768);	/* the failed send bound it, as Linux */
	assert_int_equal(name(s, false).addr, 0);
	assert_int_equal(port_of(t), 0);	/* receives do not */
	assert_int_equal(SYS6(SYS_sendto, t, big, MAXDG + 1, 0, NULL, 0), -CUB_EMSGSIZE);
	assert_true(port_of(t) >= 32768);
	closeall(1, &s);
	closeall(1, &t);
}

/* -------------------------------------------------------------- bind */

static void test_udp_bind(void **state)
{
	struct sin a = inaddr(LOOP, 0), a6 = a;
	int s = udp(0), t = udp(0), u = udp(0), tcp;
	uint16_t p;

	(void)state;
	a6.family = AF_INET6;
	assert_int_equal(SYS3(SYS_bind, s, &a, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &a, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_bind, s, &a6, 16), -CUB_EAFNOSUPPORT);
	assert_int_equal(bind_to(s, 0x0a000001, 0), -CUB_EADDRNOTAVAIL);
	assert_int_equal(bind_to(s, LOOP, 0), 0);
	p = port_of(s);
	assert_true(p >= 32768 && p <= 60999);
	assert_int_equal(name(s, false).addr, __builtin_bswap32(LOOP));
	assert_int_equal(bind_to(s, LOOP, 0), -CUB_EINVAL);		/* bound */
	assert_int_equal(bind_to(t, LOOP, p), -CUB_EADDRINUSE);
	assert_int_equal(bind_to(t, 0, p), -CUB_EADDRINUSE);		/* overlaps */
	assert_int_equal(bind_to(t, 0x7f000002, p), 0);			/* does not */

	/* TCP's ports are another namespace: both may hold p. */
	tcp = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind_to(tcp, LOOP, p), 0);
	assert_int_equal(SYS2(SYS_listen, tcp, 1), 0);
	assert_int_equal(bind_to(u, 0, 40100), 0);
	closeall(1, &tcp);
	tcp = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind_to(tcp, 0, 40100), 0);
	int fds[] = { s, t, u, tcp };
	closeall(4, fds);
	s = udp(0);
	assert_int_equal(bind_to(s, LOOP, p), 0);		/* freed by close */
	closeall(1, &s);
}

/* ---------------------------------------------------------- errors */

static void test_udp_errors(void **state)
{
	int s = bound(NB), r = bound(NB);
	struct sin a = inaddr(LOOP, port_of(r)), bad = a, from;
	int len = sizeof(from);

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, pfd, 0), 0);
	assert_int_equal(SYS6(SYS_sendto, 99, "x", 1, 0, &a, 16), -CUB_EBADF);
	assert_int_equal(SYS6(SYS_sendto, pfd[1], "x", 1, 0, &a, 16), -CUB_ENOTSOCK);
	assert_int_equal(SYS6(SYS_recvfrom, pfd[0], got, 1, 0, NULL, NULL), -CUB_ENOTSOCK);
	assert_int_equal(SYS6(SYS_sendto, s, big, MAXDG + 1, 0, &a, 16), -CUB_EMSGSIZE);
	assert_int_equal(SYS3(SYS_write, s, big, MAXDG + 1), -CUB_EMSGSIZE);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_OOB, &a, 16), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_sendto, s, WILD, 1, 0, &a, 16), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &a, 8), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &a, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &a, -1), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &a, 129), -CUB_EINVAL);
	bad.family = AF_INET6;
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &bad, 16), -CUB_EAFNOSUPPORT);
	bad = inaddr(LOOP, 0);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &bad, 16), -CUB_EINVAL);	/* port 0 */
	bad = inaddr(0x0a000001, 9);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &bad, 16), -CUB_ENETUNREACH);
	assert_int_equal(recv_from(r, 1, 0, &from), -CUB_EAGAIN);	/* none went */

	assert_int_equal(SYS6(SYS_sendto, s, "abc", 3, 0, &a, 16), 3);
	assert_int_equal(SYS6(SYS_recvfrom, r, got, 1, MSG_OOB, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_recvfrom, r, got, 4, 0, WILD, &len), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_recvfrom, r, got, 4, 0, &from, WILD), -CUB_EFAULT);
	len = -1;
	assert_int_equal(SYS6(SYS_recvfrom, r, got, 4, 0, &from, &len), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_recvfrom, r, WILD, 4, 0, NULL, NULL), -CUB_EFAULT);
	assert_int_equal(recv_from(r, 4, 0, &from), 3);			/* still there */
	assert_memory_equal(got, "abc", 3);
	assert_int_equal(SYS6(SYS_sendto, s, big, MAXDG, 0, &a, 16), MAXDG);	/* largest */
	assert_int_equal(recv_from(r, sizeof(got), 0, &from), MAXDG);
	assert_memory_equal(got, big, MAXDG);
	int fds[] = { s, r, pfd[0], pfd[1] };
	closeall(4, fds);
}

/* ------------------------------------------------------------ data */

static void test_udp_data(void **state)
{
	int s = bound(NB), r = bound(NB), u = udp(NB), len;
	struct sin from, a = inaddr(0, port_of(r));		/* 0.0.0.0: here */

	(void)state;
	/* Boundaries: two sends, two receives, sources as getsockname. */
	assert_int_equal(send_to(s, "first", 5, r), 5);
	assert_int_equal(SYS6(SYS_sendto, s, "second", 6, 0, &a, 16), 6);
	assert_int_equal(recv_from(r, sizeof(got), 0, &from), 5);
	assert_memory_equal(got, "first", 5);
	same_addr(from, name(s, false));
	assert_int_equal(recv_from(r, sizeof(got), 0, &from), 6);
	assert_memory_equal(got, "second", 6);
	assert_int_equal(recv_from(r, sizeof(got), 0, &from), -CUB_EAGAIN);

	/* An unbound sender is bound to 0.0.0.0:ephemeral, sends from 127.0.0.1. */
	assert_int_equal(send_to(u, "auto", 4, r), 4);
	assert_true(port_of(u) >= 32768);
	assert_int_equal(name(u, false).addr, 0);
	assert_int_equal(recv_from(r, sizeof(got), 0, &from), 4);
	assert_int_equal(from.port, name(u, false).port);
	assert_int_equal(from.addr, __builtin_bswap32(LOOP));

	/* Truncation, MSG_TRUNC, MSG_PEEK, a short address buffer. */
	assert_int_equal(send_to(s, "0123456789", 10, r), 10);
	assert_int_equal(send_to(s, "abcdefghij", 10, r), 10);
	assert_int_equal(send_to(s, "ABCDEFGHIJ", 10, r), 10);
	assert_int_equal(recv_from(r, 4, MSG_PEEK, &from), 4);
	assert_int_equal(recv_from(r, 20, MSG_PEEK, &from), 10);
	assert_int_equal(recv_from(r, 3, 0, &from), 3);		/* rest dropped */
	assert_memory_equal(got, "012", 3);
	assert_int_equal(recv_from(r, 3, MSG_TRUNC, &from), 10);	/* real length */
	assert_memory_equal(got, "abc", 3);
	len = 4;
	memset(&from, 0xee, sizeof(from));
	assert_int_equal(SYS6(SYS_recvfrom, r, got, 20, 0, &from, &len), 10);
	assert_int_equal(len, 16);
	assert_int_equal(from.family, AF_INET);
	assert_int_equal(from.addr, 0xeeeeeeee);			/* 4 bytes only */
	assert_memory_equal(got, "ABCDEFGHIJ", 10);

	/* Zero-length datagrams: read gives 0 for each, then the next one. */
	assert_int_equal(send_to(s, "", 0, r), 0);
	assert_int_equal(send_to(s, "z", 1, r), 1);
	assert_int_equal(polled(r), READY);
	assert_int_equal(SYS3(SYS_read, r, got, 10), 0);
	assert_int_equal(SYS3(SYS_read, r, got, 10), 1);
	assert_int_equal(SYS3(SYS_read, r, got, 10), -CUB_EAGAIN);

	/* To itself. */
	assert_int_equal(send_to(r, "me", 2, r), 2);
	assert_int_equal(recv_from(r, 10, 0, &from), 2);
	same_addr(from, name(r, false));
	int fds[] = { s, r, u };
	closeall(3, fds);
}

/* sendmsg gathers iovecs into one datagram; recvmsg scatters it, with
 * the sender, and sets MSG_TRUNC when it did not fit. */
static void test_udp_msg(void **state)
{
	int s = bound(NB), r = bound(NB);
	struct sin to = inaddr(LOOP, port_of(r)), from;
	char a[4], b[3];
	struct iov out[3] = { { "hel", 3 }, { "", 0 }, { "lo world", 8 } };
	struct iov in[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr m = { &to, 16, out, 3, NULL, 0, 0 };

	(void)state;
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), 11);
	m.namelen = 8;
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), -CUB_EINVAL);
	m.namelen = 0;						/* no address */
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), -CUB_EDESTADDRREQ);
	m.namelen = 16;
	m.controllen = 8;
	m.control = a;
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), -CUB_EINVAL);
	m.controllen = 0;
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, MSG_OOB), -CUB_EOPNOTSUPP);

	m = (struct msghdr){ &from, sizeof(from), in, 2, NULL, 0, -1 };
	assert_int_equal(SYS3(SYS_recvmsg, r, &m, MSG_PEEK), 7);
	assert_int_equal(m.flags, MSG_TRUNC);
	assert_int_equal(SYS3(SYS_recvmsg, r, &m, MSG_TRUNC), 11);	/* real length */
	assert_memory_equal(a, "hell", 4);
	assert_memory_equal(b, "o w", 3);
	assert_int_equal(m.namelen, 16);
	assert_int_equal(m.controllen, 0);
	assert_int_equal(m.flags, MSG_TRUNC);
	same_addr(from, name(s, false));
	assert_int_equal(send_to(s, "ok", 2, r), 2);
	m = (struct msghdr){ NULL, 0, in, 2, NULL, 0, -1 };
	assert_int_equal(SYS3(SYS_recvmsg, r, &m, 0), 2);
	assert_int_equal(m.flags, 0);
	assert_int_equal(SYS3(SYS_recvmsg, r, &m, MSG_DONTWAIT), -CUB_EAGAIN);
	int fds[] = { s, r };
	closeall(2, fds);
}

/* ------------------------------------------------------------ connect */

static void test_udp_connect(void **state)
{
	int c = udp(NB), r = bound(NB), x = bound(NB), gone = bound(NB), len = 4, err, k;
	struct sin a = inaddr(LOOP, port_of(r)), from, unspec = { 0 };
	uint16_t gone_port = port_of(gone);

	(void)state;
	assert_int_equal(SYS3(SYS_connect, c, &a, 1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_connect, c, &a, 8), -CUB_EINVAL);
	a.family = AF_INET6;
	assert_int_equal(SYS3(SYS_connect, c, &a, 16), -CUB_EAFNOSUPPORT);
	assert_int_equal(connect_to(c, 0x0a000001, 53), -CUB_ENETUNREACH);
	assert_int_equal(connect_to(c, 0, port_of(r)), 0);	/* 0.0.0.0: here */
	same_addr(name(c, true), inaddr(LOOP, port_of(r)));
	assert_int_equal(name(c, false).addr, __builtin_bswap32(LOOP));	/* narrowed */
	assert_true(port_of(c) >= 32768);

	/* write/send go to the peer; sendto may still name another. */
	assert_int_equal(SYS3(SYS_write, c, "w", 1), 1);
	assert_int_equal(SYS6(SYS_sendto, c, "s", 1, 0, NULL, 0), 1);
	assert_int_equal(send_to(c, "x", 1, x), 1);
	assert_int_equal(SYS3(SYS_read, r, got, 4), 1);
	assert_int_equal(SYS3(SYS_read, r, got, 4), 1);
	assert_int_equal(recv_from(x, 4, 0, &from), 1);
	same_addr(from, name(c, false));

	/* Only the peer's datagrams come in. */
	assert_int_equal(send_to(x, "no", 2, c), 2);		/* dropped */
	assert_int_equal(send_to(r, "yes", 3, c), 3);
	assert_int_equal(recv_from(c, 4, 0, &from), 3);
	same_addr(from, name(r, false));
	assert_int_equal(recv_from(c, 4, 0, &from), -CUB_EAGAIN);

	/* AF_UNSPEC dissolves it. */
	assert_int_equal(SYS3(SYS_connect, c, &unspec, 2), 0);
	assert_int_equal(SYS3(SYS_getpeername, c, &from, &len), -CUB_ENOTCONN);
	assert_int_equal(name(c, false).addr, 0);		/* widened back, */
	assert_int_equal(port_of(c), 0);			/* port given up */
	assert_int_equal(SYS3(SYS_write, c, "w", 1), -CUB_EDESTADDRREQ);	/* binds */
	assert_int_equal(send_to(x, "now", 3, c), 3);
	assert_int_equal(recv_from(c, 4, 0, &from), 3);

	/* A port bind named stays; an address bind named stays too. */
	k = udp(NB);
	assert_int_equal(bind_to(k, 0x7f000003, 40200), 0);
	assert_int_equal(connect_to(k, LOOP, port_of(r)), 0);
	assert_int_equal(SYS3(SYS_connect, k, &unspec, 2), 0);
	same_addr(name(k, false), inaddr(0x7f000003, 40200));
	closeall(1, &k);

	/* A peer port nobody holds: connect is fine, then ECONNREFUSED once. */
	closeall(1, &gone);
	assert_int_equal(connect_to(c, LOOP, gone_port), 0);
	assert_int_equal(SYS3(SYS_write, c, "a", 1), 1);
	assert_int_equal(polled(c) & EPOLLERR, EPOLLERR);
	assert_int_equal(SYS3(SYS_write, c, "b", 1), -CUB_ECONNREFUSED);
	assert_int_equal(SYS3(SYS_write, c, "c", 1), 1);
	assert_int_equal(SYS3(SYS_read, c, got, 4), -CUB_ECONNREFUSED);
	assert_int_equal(SYS3(SYS_write, c, "d", 1), 1);
	err = getopt_int(c, SOL_SOCKET, 4);			/* SO_ERROR */
	assert_int_equal(err, CUB_ECONNREFUSED);
	assert_int_equal(polled(c), IDLE);
	int fds[] = { c, r, x };
	closeall(3, fds);
}

/* shutdown of a connected UDP socket: SHUT_RD ends receives once the
 * queue is empty, SHUT_WR fails sends. */
static void test_udp_shutdown(void **state)
{
	int c = udp(0), r = bound(NB);

	(void)state;
	assert_int_equal(SYS2(SYS_shutdown, c, 1), -CUB_ENOTCONN);
	assert_int_equal(connect_to(c, LOOP, port_of(r)), 0);
	assert_int_equal(SYS2(SYS_shutdown, c, 3), -CUB_EINVAL);
	assert_int_equal(send_to(r, "q", 1, c), 1);
	assert_int_equal(SYS2(SYS_shutdown, c, 0), 0);		/* SHUT_RD */
	assert_int_equal(polled(c) & (EPOLLIN | EPOLLRDHUP), EPOLLIN | EPOLLRDHUP);
	assert_int_equal(SYS3(SYS_read, c, got, 4), 1);		/* queued first */
	assert_int_equal(SYS3(SYS_read, c, got, 4), 0);		/* then EOF */
	assert_int_equal(SYS3(SYS_write, c, "w", 1), 1);
	assert_int_equal(SYS2(SYS_shutdown, c, 1), 0);		/* SHUT_WR */
	assert_int_equal(SYS3(SYS_write, c, "w", 1), -CUB_EPIPE);
	assert_int_equal(polled(c) & 0x10, 0x10);			/* POLLHUP */
	int fds[] = { c, r };
	closeall(2, fds);
}

/* ------------------------------------------------------------- budget */

static void test_udp_budget(void **state)
{
	int s = bound(NB), r = bound(NB), n = 0;
	struct sin from;

	(void)state;
	for (int i = 0; i < 4; i++)		/* the 4th does not fit: dropped */
		assert_int_equal(send_to(s, big, MAXDG, r), MAXDG);
	while (recv_from(r, sizeof(got), 0, &from) == MAXDG)
		n++;
	assert_int_equal(n, 3);
	for (int i = 0; i < 300; i++)
		assert_int_equal(send_to(s, big, 1000, r), 1000);
	for (n = 0; recv_from(r, sizeof(got), 0, &from) == 1000; n++)
		;
	assert_true(n > 150 && n <= BUDGET / 1000);
	for (int i = 0; i < 10000; i++)		/* empty ones cost memory too */
		assert_int_equal(send_to(s, big, 0, r), 0);
	for (n = 0; recv_from(r, sizeof(got), 0, &from) == 0; n++)
		;
	assert_true(n > 100 && n < 10000);
	int fds[] = { s, r };
	closeall(2, fds);
}

/* ------------------------------------------------------------ readiness */

static void test_udp_epoll(void **state)
{
	int s = bound(NB), r = bound(NB), ep = (int)SYS1(SYS_epoll_create1, 0);
	struct ev e = { EPOLLIN | EPOLLOUT, 7 };
	struct sin from;

	(void)state;
	assert_int_equal(SYS4(SYS_epoll_ctl, ep, 1, r, &e), 0);
	assert_int_equal(ready(ep, 7), EPOLLOUT);
	assert_int_equal(polled(r), IDLE);
	assert_int_equal(send_to(s, "1", 1, r), 1);
	assert_int_equal(send_to(s, "2", 1, r), 1);
	assert_int_equal(ready(ep, 7), EPOLLIN | EPOLLOUT);
	assert_int_equal(polled(r), READY);
	assert_int_equal(recv_from(r, 4, 0, &from), 1);
	assert_int_equal(polled(r), READY);
	assert_int_equal(recv_from(r, 4, 0, &from), 1);
	assert_int_equal(ready(ep, 7), EPOLLOUT);
	assert_int_equal(polled(r), IDLE);
	int fds[] = { s, r, ep };
	closeall(3, fds);
}

/* ---------------------------------------------------------- blocking */

static int bl_r, bl_s;

static void *receiver(void *arg)
{
	static struct sin from;
	int len = sizeof(from);

	if (arg)
		return (void *)SYS3(SYS_read, bl_r, got, 64);
	return (void *)SYS6(SYS_recvfrom, bl_r, got, 64, 0, &from, &len);
}

static void blocking_body(void)
{
	struct cub_coro *co;
	void *res;

	bl_r = bound(0);
	bl_s = bound(0);
	for (long kind = 0; kind < 2; kind++) {
		assert_int_equal(cub_coro_spawn(&co, receiver, (void *)kind, NULL), 0);
		cub_coro_yield();			/* it waits */
		cub_coro_yield();
		assert_int_equal(send_to(bl_s, "wake", 4, bl_r), 4);
		assert_int_equal(cub_coro_join(co, &res), 0);
		assert_int_equal((intptr_t)res, 4);
		assert_memory_equal(got, "wake", 4);
	}
	/* O_NONBLOCK set while it waits: it looks again and gives up. */
	assert_int_equal(cub_coro_spawn(&co, receiver, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_fcntl, bl_r, F_SETFL, NB), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EAGAIN);
	int fds[] = { bl_r, bl_s };
	closeall(2, fds);
}

static void test_udp_blocking(void **state)
{
	(void)state;
	run(blocking_body);
}

/* A signal with a handler ends a blocking recvfrom with EINTR. */
#define SIGUSR1 10
static _Alignas(64) uint8_t sigstack[16384];
static _Alignas(16) uint8_t fx[512];

static void interrupt_body(void)
{
	struct { uint64_t handler, flags, restorer, mask; } act = {
		0x1111000, 0x04000000 /* SA_RESTORER */, 0x2222000, 0 };
	struct cubi_sigctx c = { .rsp = (uintptr_t)(sigstack + sizeof(sigstack)),
				 .rip = 0x3333000, .rflags = 0x202, .fx = fx }, back;
	uint64_t none = 0;
	struct cub_coro *co;
	void *res;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0);
	bl_r = bound(0);
	assert_int_equal(cub_coro_spawn(&co, receiver, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EINTR);
	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
	act.handler = 0;
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0);
	closeall(1, &bl_r);
}

static void test_udp_interrupt(void **state)
{
	(void)state;
	run(interrupt_body);
}

/* ----------------------------------------------------------- cleanup */

static void test_udp_no_leak(void **state)
{
	struct cub_heap_stats before, after;
	int s, r, c, ep;
	struct sin from;

	(void)state;
	cub_heap_stats(&before);
	s = bound(NB);
	r = bound(NB);
	c = udp(NB);
	assert_int_equal(connect_to(c, LOOP, port_of(r)), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(send_to(s, big, (size_t)i * 100, r), i * 100);
	assert_int_equal(SYS3(SYS_write, c, big, 5000), 5000);
	assert_int_equal(SYS3(SYS_write, c, big, 0), 0);
	assert_int_equal(recv_from(r, 10, 0, &from), 0);	/* one taken, */
	assert_int_equal(recv_from(r, 10, MSG_PEEK, &from), 10);	/* one peeked */
	ep = (int)SYS1(SYS_epoll_create1, 0);
	struct ev e = { EPOLLIN, 1 };
	assert_int_equal(SYS4(SYS_epoll_ctl, ep, 1, r, &e), 0);
	int fds[] = { s, r, c, ep };		/* r closes with 20 queued */
	closeall(4, fds);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_create),
		cmocka_unit_test(test_udp_vectors),
		cmocka_unit_test(test_udp_bind),
		cmocka_unit_test(test_udp_errors),
		cmocka_unit_test(test_udp_data),
		cmocka_unit_test(test_udp_msg),
		cmocka_unit_test(test_udp_connect),
		cmocka_unit_test(test_udp_shutdown),
		cmocka_unit_test(test_udp_budget),
		cmocka_unit_test(test_udp_epoll),
		cmocka_unit_test(test_udp_blocking),
		cmocka_unit_test(test_udp_interrupt),
		cmocka_unit_test(test_udp_no_leak),
	};

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
