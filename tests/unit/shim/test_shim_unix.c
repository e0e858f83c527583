/*
 * test_shim_unix.c - AF_UNIX stream sockets bound to names, through the
 * dispatcher: bind to a path (the socket node: stat, open, getdents,
 * unlink, rename, EADDRINUSE, bad parents, bad addresses), listen,
 * connect and accept by path with data both ways, the names getsockname
 * and getpeername give, connecting to what is no listener (a stale node
 * after close, a regular file, a directory, a bound socket that does not
 * listen), abstract names and autobind, non-blocking accept and connect,
 * a listener's epoll readiness, a blocking accept woken by a connecting
 * coroutine, and no leaks. SOCK_DGRAM: names, boundaries, truncation,
 * peeking, senders' names (unnamed: addrlen 0), the errors, connect's
 * destination and filter, a destination that closed, shutdown, the
 * budget with its EPOLLOUT edge, a sender blocked on a full receiver.
 * SOCK_SEQPACKET: pairs, listeners, records, end of file, EPROTOTYPE, a
 * reset. SCM_RIGHTS: a pipe end passed and used, rights splitting a
 * stream's bytes, MSG_PEEK, MSG_CMSG_CLOEXEC, MSG_CTRUNC (little room, a
 * full descriptor table), bad control data, rights on messages, rights
 * closed with an unread message, a closed socket or listener. SIGPIPE
 * on every stream send call but with MSG_NOSIGNAL. Each test runs in a
 * coroutine (bind and connect take the fs lock, a coroutine mutex) on a
 * fresh tree.
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
#include "fresh.h"
#include "sock.h"
#include "sigpipe.h"

#define SYS_stat 4
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_unlink 87
#define SYS_truncate 76
#define SYS_getdents64 217
#define O_RDWR 2
#define O_CREAT 0100
#define S_IFSOCK 0140000
#define DT_SOCK 12
#define SUN_SIZE 110

struct sun {			/* struct sockaddr_un */
	uint16_t family;
	char path[108];
};

static char got[256];
static void (*fresh_inner)(void);

static void with_tmp(void)
{
	assert_int_equal(SYS2(SYS_mkdir, "/tmp", 01777), 0);
	fresh_inner();
}

/* Each test body runs on an emptied tree with /tmp (fresh.h). */
static void in_coro(void (*body)(void))
{
	fresh_inner = body;
	run_fresh(with_tmp, false);
}

static int usock(int flags)
{
	long fd = SYS3(SYS_socket, AF_UNIX, SOCK_STREAM | flags, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

static struct sun sun(const char *path)
{
	struct sun a = { AF_UNIX, { 0 } };

	memcpy(a.path, path, strlen(path));
	return a;
}

/* bind or connect (conn) to path, addrlen covering the path and NUL. */
static long at_path(int fd, const char *path, bool conn)
{
	struct sun a = sun(path);

	return SYS3(conn ? SYS_connect : SYS_bind, fd, &a, 2 + strlen(path) + 1);
}

/* A listener bound to path. */
static int ulistener(const char *path, int flags, int backlog)
{
	int l = usock(flags);

	assert_int_equal(at_path(l, path, false), 0);
	assert_int_equal(SYS2(SYS_listen, l, backlog), 0);
	return l;
}

/* Checks getsockname (peer false) or getpeername of fd: the path (NULL:
 * unnamed, addrlen 2). */
static void has_name(int fd, bool peer, const char *path)
{
	struct sun a;
	int len = sizeof(a);

	memset(&a, 0xee, sizeof(a));
	assert_int_equal(SYS3(peer ? SYS_getpeername : SYS_getsockname, fd, &a, &len), 0);
	assert_int_equal(a.family, AF_UNIX);
	assert_int_equal(len, path ? 2 + (int)strlen(path) + 1 : 2);
	if (path)
		assert_string_equal(a.path, path);
}

static uint32_t mode_of(const char *path)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_stat, path, &st), 0);
	return st.mode;
}

/* ---------------------------------------------------------------- bind */

static void bind_errors(int s)
{
	struct { struct sun a; char more[18]; } wide = { sun("/tmp/e.sock"), { 0 } };
	struct sun a = wide.a;
	int f = (int)SYS3(SYS_open, "/tmp/file", O_CREAT | O_RDWR, 0644);

	assert_true(f >= 3);
	assert_int_equal(SYS3(SYS_bind, s, &a, 1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &wide, SUN_SIZE + 1), -CUB_EINVAL);
	a.family = AF_INET;
	assert_int_equal(SYS3(SYS_bind, s, &a, 14), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, WILD, 14), -CUB_EFAULT);
	assert_int_equal(at_path(s, "/nodir/x.sock", false), -CUB_ENOENT);
	assert_int_equal(at_path(s, "/tmp/file/x.sock", false), -CUB_ENOTDIR);
	assert_int_equal(at_path(s, "/tmp/file", false), -CUB_EADDRINUSE);
	assert_int_equal(at_path(s, "/tmp", false), -CUB_EADDRINUSE);
	assert_int_equal(at_path(s, "/", false), -CUB_EADDRINUSE);
	assert_int_equal(at_path(s, "/tmp/new/", false), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_close, f), 0);
}

static void bind_body(void)
{
	static char longpath[109];
	struct sun a;
	int s = usock(0), t = usock(0), len = sizeof(a);
	uint8_t dents[512];

	bind_errors(s);
	assert_int_equal(at_path(s, "/tmp/x.sock", false), 0);
	assert_int_equal(mode_of("/tmp/x.sock"), S_IFSOCK | 0755);	/* umask 022 */
	has_name(s, false, "/tmp/x.sock");
	assert_int_equal(at_path(s, "/tmp/y.sock", false), -CUB_EINVAL);	/* named */
	assert_int_equal(SYS2(SYS_stat, "/tmp/y.sock", got), -CUB_ENOENT);	/* undone */
	assert_int_equal(at_path(s, "/tmp/x.sock", false), -CUB_EADDRINUSE);	/* first */
	assert_int_equal(at_path(t, "/tmp/x.sock", false), -CUB_EADDRINUSE);
	assert_int_equal(SYS3(SYS_open, "/tmp/x.sock", O_RDWR, 0), -CUB_ENXIO);
	assert_int_equal(SYS3(SYS_open, "/tmp/x.sock", 0, 0), -CUB_ENXIO);
	assert_int_equal(SYS2(SYS_truncate, "/tmp/x.sock", 0), -CUB_EINVAL);
	int d = (int)SYS3(SYS_open, "/tmp", 0200000, 0);	/* O_DIRECTORY */
	assert_true(SYS3(SYS_getdents64, d, dents, sizeof(dents)) > 0);
	assert_int_equal(dents[18 + 3 * 24 + 0], DT_SOCK);	/* after ., .., file */
	assert_int_equal(SYS1(SYS_close, d), 0);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/x.sock"), 0);	/* frees the name */
	assert_int_equal(at_path(t, "/tmp/x.sock", false), 0);
	has_name(s, false, "/tmp/x.sock");		/* still its name */
	assert_int_equal(SYS1(SYS_close, t), 0);

	assert_int_equal(SYS1(SYS_chdir, "/tmp"), 0);	/* a relative path */
	t = usock(0);
	assert_int_equal(at_path(t, "rel.sock", false), 0);
	has_name(t, false, "rel.sock");
	assert_int_equal(mode_of("/tmp/rel.sock") & 0170000, S_IFSOCK);
	assert_int_equal(SYS1(SYS_close, t), 0);

	t = usock(0);				/* 108 bytes, no NUL: 111 */
	memset(longpath, 'p', 108);
	memcpy(longpath, "/tmp/", 5);
	a = sun("");
	memcpy(a.path, longpath, 108);
	assert_int_equal(SYS3(SYS_bind, t, &a, SUN_SIZE), 0);
	memset(&a, 0, sizeof(a));
	uint8_t big[120];
	len = sizeof(big);
	assert_int_equal(SYS3(SYS_getsockname, t, big, &len), 0);
	assert_int_equal(len, 111);
	assert_memory_equal(big + 2, longpath, 108);
	assert_int_equal(big[110], 0);
	assert_int_equal(mode_of(longpath) & 0170000, S_IFSOCK);
	len = 4;				/* truncated, as Linux */
	assert_int_equal(SYS3(SYS_getsockname, t, big, &len), 0);
	assert_int_equal(len, 111);
	int fds[] = { s, t };
	closeall(2, fds);
}

static void test_unix_bind(void **state)
{
	(void)state;
	in_coro(bind_body);
}

/* ---------------------------------------------- connect and accept */

static void connect_refusals(void)
{
	int c = usock(0), b = usock(0), l;
	struct sun a = sun("/tmp/srv.sock");

	assert_int_equal(at_path(c, "/tmp/missing.sock", true), -CUB_ENOENT);
	assert_int_equal(at_path(c, "/nodir/x.sock", true), -CUB_ENOENT);
	closeall(1, (int[]){ (int)SYS3(SYS_open, "/tmp/reg", O_CREAT | O_RDWR, 0644) });
	assert_int_equal(at_path(c, "/tmp/reg", true), -CUB_ECONNREFUSED);
	assert_int_equal(at_path(c, "/tmp/reg/x", true), -CUB_ENOTDIR);
	assert_int_equal(at_path(c, "/tmp", true), -CUB_ECONNREFUSED);
	assert_int_equal(at_path(b, "/tmp/b.sock", false), 0);	/* not listening */
	assert_int_equal(at_path(c, "/tmp/b.sock", true), -CUB_ECONNREFUSED);
	assert_int_equal(SYS3(SYS_connect, c, &a, 2), -CUB_EINVAL);
	a.family = AF_INET;
	assert_int_equal(SYS3(SYS_connect, c, &a, 16), -CUB_EINVAL);
	l = ulistener("/tmp/gone.sock", 0, 4);
	assert_int_equal(SYS1(SYS_close, l), 0);	/* the node stays, stale */
	assert_int_equal(mode_of("/tmp/gone.sock") & 0170000, S_IFSOCK);
	assert_int_equal(at_path(c, "/tmp/gone.sock", true), -CUB_ECONNREFUSED);
	assert_int_equal(at_path(b, "/tmp/gone.sock", false), -CUB_EADDRINUSE);
	l = usock(0);
	assert_int_equal(at_path(l, "/tmp/gone.sock", false), -CUB_EADDRINUSE);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/gone.sock"), 0);
	assert_int_equal(at_path(l, "/tmp/gone.sock", false), 0);
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(at_path(c, "/tmp/gone.sock", true), 0);	/* a new one */
	int fds[] = { c, b, l };
	closeall(3, fds);
}

static void connect_body(void)
{
	int l = ulistener("/tmp/srv.sock", 0, 4), c = usock(0), a, c2, a2;
	struct sun peer;
	int len = sizeof(peer);

	assert_int_equal(at_path(c, "/tmp/srv.sock", true), 0);
	a = (int)SYS3(SYS_accept, l, &peer, &len);
	assert_true(a >= 3);
	assert_int_equal(len, 2);			/* an unnamed client */
	assert_int_equal(peer.family, AF_UNIX);
	assert_int_equal(SYS3(SYS_write, c, "ping", 4), 4);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 4);
	assert_memory_equal(got, "ping", 4);
	assert_int_equal(SYS3(SYS_write, a, "pong!", 5), 5);
	assert_int_equal(SYS6(SYS_recvfrom, c, got, 10, 0, NULL, NULL), 5);
	assert_memory_equal(got, "pong!", 5);
	has_name(c, false, NULL);
	has_name(c, true, "/tmp/srv.sock");
	has_name(a, false, "/tmp/srv.sock");
	has_name(a, true, NULL);
	has_name(l, false, "/tmp/srv.sock");
	assert_int_equal(at_path(c, "/tmp/srv.sock", true), -CUB_EISCONN);
	assert_int_equal(at_path(c, "/tmp/missing", true), -CUB_ENOENT);	/* first */
	assert_int_equal(at_path(l, "/tmp/srv.sock", true), -CUB_EINVAL);	/* listening */
	assert_int_equal(SYS2(SYS_listen, c, 1), -CUB_EINVAL);

	c2 = usock(0);				/* a named client, after a rename */
	assert_int_equal(at_path(c2, "/tmp/cli.sock", false), 0);
	assert_int_equal(SYS2(SYS_rename, "/tmp/srv.sock", "/tmp/moved.sock"), 0);
	assert_int_equal(at_path(c2, "/tmp/moved.sock", true), 0);
	a2 = (int)SYS3(SYS_accept, l, NULL, NULL);
	has_name(a2, true, "/tmp/cli.sock");
	has_name(c2, true, "/tmp/srv.sock");		/* the name it bound */
	assert_int_equal(SYS1(SYS_close, a2), 0);	/* closes: EOF for c2 */
	assert_int_equal(SYS3(SYS_read, c2, got, 10), 0);
	has_name(c2, true, "/tmp/srv.sock");		/* still, as Linux */
	assert_int_equal(SYS3(SYS_write, c2, "x", 1), -CUB_EPIPE);
	int fds[] = { l, c, a, c2 };
	closeall(4, fds);
	assert_int_equal(SYS3(SYS_read, a, got, 1), -CUB_EBADF);
	connect_refusals();
}

static void test_unix_connect(void **state)
{
	(void)state;
	in_coro(connect_body);
}

/* ------------------------------------------------------ abstract names */

static void abstract_body(void)
{
	struct sun a = { AF_UNIX, { 0 } }, got_a;
	int l = usock(0), l2 = usock(0), c = usock(0), s, len = sizeof(got_a);

	memcpy(a.path, "\0abc", 4);
	assert_int_equal(SYS3(SYS_bind, l, &a, 2 + 4), 0);
	assert_int_equal(SYS3(SYS_bind, l2, &a, 2 + 4), -CUB_EADDRINUSE);
	assert_int_equal(SYS3(SYS_bind, l2, &a, 2 + 5), 0);	/* "\0abc\0" differs */
	assert_int_equal(SYS3(SYS_getsockname, l, &got_a, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(got_a.path, "\0abc", 4);
	assert_int_equal(SYS3(SYS_connect, c, &a, 6), -CUB_ECONNREFUSED);	/* no listen */
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(SYS3(SYS_connect, c, &a, 6), 0);
	s = (int)SYS3(SYS_accept, l, NULL, NULL);
	len = sizeof(got_a);
	assert_int_equal(SYS3(SYS_getpeername, c, &got_a, &len), 0);
	assert_int_equal(len, 6);
	assert_int_equal(SYS3(SYS_write, s, "hi", 2), 2);
	assert_int_equal(SYS3(SYS_read, c, got, 10), 2);
	int fds[] = { s, c, l };
	closeall(3, fds);
	c = usock(0);
	assert_int_equal(SYS3(SYS_connect, c, &a, 6), -CUB_ECONNREFUSED);	/* gone */

	assert_int_equal(SYS3(SYS_bind, c, &a, 2), 0);		/* autobind */
	len = sizeof(got_a);
	assert_int_equal(SYS3(SYS_getsockname, c, &got_a, &len), 0);
	assert_int_equal(len, 8);
	assert_int_equal(got_a.path[0], 0);
	for (int i = 1; i < 6; i++)
		assert_non_null(strchr("0123456789abcdef", got_a.path[i]));
	assert_int_equal(SYS3(SYS_bind, c, &a, 2), 0);		/* keeps it */
	assert_int_equal(SYS3(SYS_bind, c, &a, 6), -CUB_EINVAL);
	int fds2[] = { c, l2 };
	closeall(2, fds2);
}

static void test_unix_abstract(void **state)
{
	(void)state;
	in_coro(abstract_body);
}

/* ------------------------------------- non-blocking, epoll, blocking */

static long ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct ev e = { events, data };

	return SYS4(SYS_epoll_ctl, ep, op, fd, &e);
}

static void nonblock_body(void)
{
	int l = ulistener("/tmp/nb.sock", NB, 1), ep = (int)SYS1(SYS_epoll_create1, 0);
	int c = usock(NB), c2 = usock(NB), a;

	assert_int_equal(SYS3(SYS_accept, l, NULL, NULL), -CUB_EAGAIN);
	assert_int_equal(ctl(ep, 1, l, EPOLLIN, 7), 0);
	assert_int_equal(ready(ep, 7), 0);
	assert_int_equal(at_path(c, "/tmp/nb.sock", true), 0);
	assert_int_equal(ready(ep, 7), EPOLLIN);
	assert_int_equal(at_path(c2, "/tmp/nb.sock", true), -CUB_EAGAIN);	/* full */
	a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(a >= 3);
	assert_int_equal(ready(ep, 7), 0);
	assert_int_equal(SYS3(SYS_read, a, got, 1), -CUB_EAGAIN);
	assert_int_equal(at_path(c2, "/tmp/nb.sock", true), 0);	/* room again */
	int fds[] = { l, ep, c, c2, a };
	closeall(5, fds);
}

static void test_unix_nonblock(void **state)
{
	(void)state;
	in_coro(nonblock_body);
}

static void *dialer(void *arg)
{
	int c = usock(0);

	(void)arg;
	assert_int_equal(at_path(c, "/tmp/bl.sock", true), 0);
	assert_int_equal(SYS3(SYS_write, c, "late", 4), 4);
	return (void *)(intptr_t)c;
}

/* A blocking accept waits for a coroutine's connect; a blocking read for
 * its write. */
static void blocking_body(void)
{
	int l = ulistener("/tmp/bl.sock", 0, 4), a;
	struct cub_coro *co;
	void *res;

	assert_int_equal(cub_coro_spawn(&co, dialer, NULL, NULL), 0);
	a = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_true(a >= 3);
	assert_int_equal(SYS3(SYS_read, a, got, 4), 4);
	assert_memory_equal(got, "late", 4);
	assert_int_equal(cub_coro_join(co, &res), 0);
	int fds[] = { l, a, (int)(intptr_t)res };
	closeall(3, fds);
}

static void test_unix_blocking(void **state)
{
	(void)state;
	in_coro(blocking_body);
}

/* ---------------------------------------------------------- no leaks */

/* Named sockets, their nodes and connections (one left queued on a
 * closing listener) give all memory back once closed and unlinked. */
static void leak_body(void)
{
	struct cub_heap_stats before, after;
	struct sun abs = { AF_UNIX, { 0 } };
	int l, c[3], a, u;

	cub_heap_stats(&before);
	l = ulistener("/tmp/lk.sock", NB, 4);
	for (int i = 0; i < 3; i++) {
		c[i] = usock(NB);
		assert_int_equal(at_path(c[i], "/tmp/lk.sock", true), 0);
	}
	a = (int)SYS3(SYS_accept, l, NULL, NULL);
	assert_int_equal(SYS3(SYS_write, c[0], "data", 4), 4);
	u = usock(0);
	assert_int_equal(SYS3(SYS_bind, u, &abs, 2), 0);
	assert_int_equal(at_path(u, "/tmp/u.sock", false), -CUB_EINVAL);	/* undone */
	closeall(1, &l);
	closeall(3, c);
	closeall(1, &a);
	closeall(1, &u);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/lk.sock"), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

static void test_unix_no_leak(void **state)
{
	(void)state;
	in_coro(leak_body);
}

/* ------------------------------------------ SOCK_DGRAM and SEQPACKET */

#define SOCK_SEQPACKET 5
#define SO_TYPE 3
#define MSG_CTRUNC 0x8
#define MSG_TRUNC 0x20
#define MSG_NOSIGNAL 0x4000
#define MSG_CMSG_CLOEXEC 0x40000000
#define SCM_RIGHTS 1
#define SCM_CREDENTIALS 2
#define UMSG_MAX (212992 - 32)
#define FD_CLOEXEC 1
#define F_GETFD 1

static char msgbuf[UMSG_MAX + 1], rbuf[4096];

static int unix_sock(int type)
{
	long fd = SYS3(SYS_socket, AF_UNIX, type, 0);

	assert_true(fd >= 3);
	return (int)fd;
}

/* A SOCK_DGRAM socket (type bits: flags) bound to path. */
static int dgram_at(const char *path, int flags)
{
	int s = unix_sock(SOCK_DGRAM | flags);

	assert_int_equal(at_path(s, path, false), 0);
	return s;
}

static long send_to(int s, const void *buf, size_t n, const char *path)
{
	struct sun a = sun(path);

	return SYS6(SYS_sendto, s, buf, n, 0, &a, 2 + strlen(path) + 1);
}

/* recvfrom into got: the result; *from gets the sender's path ("" when
 * unnamed: addrlen 0). */
static long recv_from(int s, size_t n, unsigned flags, char *from)
{
	struct sun a;
	int len = sizeof(a);
	long rc;

	memset(&a, 0xee, sizeof(a));
	rc = SYS6(SYS_recvfrom, s, got, n, flags, &a, &len);
	if (rc >= 0 && from) {
		assert_true(len == 0 || len == 2 + (int)strlen(a.path) + 1);
		strcpy(from, len ? a.path : "");
	}
	return rc;
}

static void dgram_errors(int a, int c)
{
	int st = ulistener("/tmp/st.sock", 0, 1), f;
	struct sun bad = sun("/tmp/a.sock");

	assert_int_equal(send_to(c, "x", 1, "/tmp/none.sock"), -CUB_ENOENT);
	f = (int)SYS3(SYS_open, "/tmp/plain", O_CREAT | O_RDWR, 0644);
	assert_int_equal(send_to(c, "x", 1, "/tmp/plain"), -CUB_ECONNREFUSED);
	assert_int_equal(send_to(c, "x", 1, "/tmp/st.sock"), -91 /* EPROTOTYPE */);
	assert_int_equal(at_path(c, "/tmp/st.sock", true), -91);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_ENOTCONN);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, 0, NULL, 0), -CUB_ENOTCONN);
	bad.family = AF_INET;
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, 0, &bad, 16), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, 0, WILD, 16), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_sendto, c, WILD, 1, 0, NULL, 0), -CUB_EFAULT);
	assert_int_equal(send_to(c, msgbuf, UMSG_MAX + 1, "/tmp/a.sock"), -CUB_EMSGSIZE);
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, 0x1 /* OOB */, NULL, 0), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_recvfrom, a, got, 1, 0x1, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_listen, a, 1), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS3(SYS_accept, a, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(recv_from(a, 10, 0, NULL), -CUB_EAGAIN);
	int fds[] = { st, f };
	closeall(2, fds);
}

static void dgram_body(void)
{
	int a = dgram_at("/tmp/a.sock", NB), b = dgram_at("/tmp/b.sock", NB);
	int c = unix_sock(SOCK_DGRAM | NB);
	char from[120];

	assert_int_equal(getopt_int(a, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	assert_int_equal(getopt_int(a, SOL_SOCKET, 8), 212992);	/* SO_RCVBUF */
	dgram_errors(a, c);
	assert_int_equal(send_to(c, "one", 3, "/tmp/a.sock"), 3);
	assert_int_equal(send_to(b, "two!", 4, "/tmp/a.sock"), 4);
	assert_int_equal(send_to(b, "", 0, "/tmp/a.sock"), 0);
	assert_int_equal(send_to(a, "self", 4, "/tmp/a.sock"), 4);
	assert_int_equal(recv_from(a, sizeof(got), 0, from), 3);	/* boundaries */
	assert_memory_equal(got, "one", 3);
	assert_string_equal(from, "");				/* unnamed: len 0 */
	assert_int_equal(recv_from(a, 2, MSG_PEEK, from), 2);
	assert_int_equal(recv_from(a, 2, MSG_PEEK | MSG_TRUNC, from), 4);
	assert_int_equal(recv_from(a, 2, 0, from), 2);		/* truncated */
	assert_memory_equal(got, "tw", 2);
	assert_string_equal(from, "/tmp/b.sock");
	assert_int_equal(recv_from(a, sizeof(got), 0, from), 0);	/* empty one */
	assert_int_equal(recv_from(a, sizeof(got), 0, from), 4);
	assert_string_equal(from, "/tmp/a.sock");
	assert_int_equal(recv_from(a, sizeof(got), 0, from), -CUB_EAGAIN);

	struct sun abs = { AF_UNIX, { 0 } };			/* abstract */
	memcpy(abs.path, "\0dg", 3);
	assert_int_equal(SYS3(SYS_bind, c, &abs, 5), 0);
	assert_int_equal(SYS6(SYS_sendto, b, "hi", 2, 0, &abs, 5), 2);
	assert_int_equal(recv_from(c, sizeof(got), 0, from), 2);
	assert_string_equal(from, "/tmp/b.sock");
	assert_int_equal(SYS3(SYS_read, c, got, 1), -CUB_EAGAIN);
	int fds[] = { a, b, c };
	closeall(3, fds);
}

static void test_unix_dgram(void **state)
{
	(void)state;
	in_coro(dgram_body);
}

/* connect: a default destination and a filter; the destination closing;
 * AF_UNSPEC; shutdown. */
static void dgram_connect_body(void)
{
	int a = dgram_at("/tmp/a.sock", NB), b = dgram_at("/tmp/b.sock", NB);
	int c = unix_sock(SOCK_DGRAM | NB), x = dgram_at("/tmp/x.sock", NB);
	struct sun unspec = { 0, { 0 } };
	char from[120];

	assert_int_equal(at_path(c, "/tmp/a.sock", true), 0);
	has_name(c, true, "/tmp/a.sock");
	assert_int_equal(SYS3(SYS_write, c, "w", 1), 1);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 1);
	assert_int_equal(at_path(a, "/tmp/b.sock", true), 0);	/* a hears b only */
	assert_int_equal(SYS3(SYS_write, c, "w", 1), -CUB_EPERM);
	assert_int_equal(send_to(x, "x", 1, "/tmp/a.sock"), -CUB_EPERM);
	assert_int_equal(send_to(b, "b", 1, "/tmp/a.sock"), 1);
	assert_int_equal(recv_from(a, 10, 0, from), 1);
	assert_int_equal(SYS3(SYS_connect, a, &unspec, 2), 0);	/* dissolved */
	assert_int_equal(SYS3(SYS_write, a, "w", 1), -CUB_ENOTCONN);
	assert_int_equal(SYS3(SYS_write, c, "w", 1), 1);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 1);

	assert_int_equal(at_path(c, "/tmp/x.sock", true), 0);	/* then x closes */
	closeall(1, &x);
	assert_int_equal(SYS3(SYS_write, c, "w", 1), -CUB_ECONNREFUSED);
	assert_int_equal(SYS3(SYS_write, c, "w", 1), -CUB_ENOTCONN);
	assert_int_equal(at_path(c, "/tmp/x.sock", true), -CUB_ECONNREFUSED);	/* stale */

	assert_int_equal(SYS2(SYS_shutdown, b, 1), 0);		/* SHUT_WR */
	assert_int_equal(send_to(b, "b", 1, "/tmp/a.sock"), -CUB_EPIPE);
	assert_false(sigpipe_taken());				/* never SIGPIPE */
	assert_int_equal(SYS2(SYS_shutdown, a, 0), 0);		/* SHUT_RD */
	assert_int_equal(send_to(c, "c", 1, "/tmp/a.sock"), -CUB_EPIPE);
	assert_int_equal(SYS3(SYS_read, a, got, 10), 0);		/* end of file */
	assert_int_equal(SYS2(SYS_shutdown, a, 7), -CUB_EINVAL);
	int fds[] = { a, b, c };
	closeall(3, fds);
}

static void test_unix_dgram_connect(void **state)
{
	(void)state;
	set_sigpipe(SIGPIPE_HANDLER);
	in_coro(dgram_connect_body);
	set_sigpipe(1);
}

/* A socketpair's budget: a full destination (EAGAIN, no EPOLLOUT), room
 * again (an EPOLLOUT edge); readv/writev one message each; the largest
 * message fits an empty queue. */
static void dgram_budget_body(void)
{
	int sv[2], ep = (int)SYS1(SYS_epoll_create1, 0), n = 0;
	struct iov out[2] = { { "ab", 2 }, { "cde", 3 } };
	struct iov in[2] = { { got, 1 }, { got + 1, 10 } };

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_DGRAM | NB, 0, sv), 0);
	assert_int_equal(SYS3(SYS_writev, sv[0], out, 2), 5);
	assert_int_equal(SYS3(SYS_readv, sv[1], in, 2), 5);
	assert_memory_equal(got, "abcde", 5);
	assert_int_equal(ctl(ep, 1, sv[0], EPOLLOUT | (1u << 31) /* ET */, 5), 0);
	assert_int_equal(ready(ep, 5), EPOLLOUT);
	assert_int_equal(ready(ep, 5), 0);			/* no new edge */
	while (SYS3(SYS_write, sv[0], msgbuf, 1000) == 1000)
		n++;
	assert_true(n > 150 && n <= 212992 / 1000);
	assert_int_equal(SYS3(SYS_write, sv[0], msgbuf, 1000), -CUB_EAGAIN);
	assert_int_equal(ready(ep, 5), 0);
	assert_int_equal(SYS3(SYS_read, sv[1], rbuf, sizeof(rbuf)), 1000);
	assert_int_equal(ready(ep, 5), 0);			/* > 1/4 full */
	while (SYS3(SYS_read, sv[1], rbuf, sizeof(rbuf)) == 1000)
		;
	assert_int_equal(ready(ep, 5), EPOLLOUT);		/* room: an edge */
	assert_int_equal(SYS3(SYS_write, sv[0], msgbuf, UMSG_MAX), UMSG_MAX);
	assert_int_equal(SYS3(SYS_write, sv[0], msgbuf, 1), -CUB_EAGAIN);
	assert_int_equal(SYS6(SYS_recvfrom, sv[1], NULL, 0, MSG_TRUNC, NULL, NULL), UMSG_MAX);
	assert_int_equal(SYS3(SYS_write, sv[0], msgbuf, UMSG_MAX + 1), -CUB_EMSGSIZE);
	int fds[] = { sv[0], sv[1], ep };
	closeall(3, fds);
}

static void test_unix_dgram_budget(void **state)
{
	(void)state;
	in_coro(dgram_budget_body);
}

static void *drain_later(void *arg)
{
	int fd = (int)(intptr_t)arg;
	long n = 0;

	cub_coro_yield();		/* the sender blocks first */
	while (SYS3(SYS_read, fd, rbuf, sizeof(rbuf)) == 1000 && ++n < 300)
		;
	return (void *)n;
}

/* A blocking send to a full destination waits until it has room; a
 * blocking receive waits for a message. */
static void dgram_blocking_body(void)
{
	int sv[2];
	struct cub_coro *co;
	void *res;

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(cub_coro_spawn(&co, drain_later, (void *)(intptr_t)sv[1], NULL), 0);
	for (int i = 0; i < 300; i++)	/* more than the budget holds */
		assert_int_equal(SYS3(SYS_write, sv[0], msgbuf, 1000), 1000);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 300);
	int fds[] = { sv[0], sv[1] };
	closeall(2, fds);
}

static void test_unix_dgram_blocking(void **state)
{
	(void)state;
	in_coro(dgram_blocking_body);
}

static void seqpacket_pair(void)
{
	int sv[2];
	struct msghdr m;
	struct iov v = { got, 3 };

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | NB, 0, sv), 0);
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
	assert_int_equal(SYS3(SYS_write, sv[0], "first", 5), 5);
	struct sun nowhere = sun("/tmp/nowhere");
	assert_int_equal(SYS6(SYS_sendto, sv[0], "second", 6, 0, &nowhere, SUN_SIZE), 6);	/* ignored */
	m = (struct msghdr){ NULL, 0, &v, 1, NULL, 0, -1 };
	assert_int_equal(SYS3(SYS_recvmsg, sv[1], &m, 0), 3);		/* truncated */
	assert_int_equal(m.flags, MSG_TRUNC);
	assert_int_equal(SYS3(SYS_read, sv[1], got, 100), 6);		/* whole */
	assert_int_equal(SYS3(SYS_read, sv[1], got, 100), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_write, sv[1], "back", 4), 4);
	closeall(1, &sv[1]);
	assert_int_equal(SYS3(SYS_read, sv[0], got, 100), 4);		/* then EOF */
	assert_int_equal(SYS3(SYS_read, sv[0], got, 100), 0);
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS6(SYS_sendto, sv[0], "x", 1, 0, NULL, 0), -CUB_EPIPE);
	assert_false(sigpipe_taken());				/* as Linux */
	closeall(1, &sv[0]);
}

/* SOCK_SEQPACKET: a pair, then a listener by path: accept, records,
 * readiness, EPROTOTYPE across types, a reset, end of file. */
static void seqpacket_body(void)
{
	int l = unix_sock(SOCK_SEQPACKET | NB), c = unix_sock(SOCK_SEQPACKET | NB);
	int st = usock(0), a, ep = (int)SYS1(SYS_epoll_create1, 0);

	seqpacket_pair();
	assert_int_equal(SYS3(SYS_read, c, got, 1), -CUB_ENOTCONN);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_ENOTCONN);
	assert_int_equal(at_path(l, "/tmp/sp.sock", false), 0);
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(ctl(ep, 1, l, EPOLLIN, 1), 0);
	assert_int_equal(ctl(ep, 1, c, EPOLLIN | EPOLLOUT, 2), 0);
	assert_int_equal(ready(ep, 2), EPOLLOUT | EPOLLHUP);		/* unconnected */
	assert_int_equal(at_path(st, "/tmp/sp.sock", true), -91);	/* EPROTOTYPE */
	assert_int_equal(at_path(c, "/tmp/sp.sock", true), 0);
	assert_int_equal(ready(ep, 1), EPOLLIN);
	a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(a >= 3);
	assert_int_equal(getopt_int(a, SOL_SOCKET, SO_TYPE), SOCK_SEQPACKET);
	has_name(a, false, "/tmp/sp.sock");
	assert_int_equal(ready(ep, 2), EPOLLOUT);
	assert_int_equal(SYS3(SYS_write, a, "rec1", 4), 4);
	assert_int_equal(SYS3(SYS_write, a, "rec2!", 5), 5);
	assert_int_equal(ready(ep, 2), EPOLLIN | EPOLLOUT);
	char from[120];
	assert_int_equal(recv_from(c, 100, 0, from), 4);
	assert_string_equal(from, "/tmp/sp.sock");
	assert_int_equal(SYS3(SYS_read, c, got, 100), 5);
	assert_int_equal(SYS2(SYS_shutdown, a, 1), 0);			/* SHUT_WR */
	assert_int_equal(SYS3(SYS_read, c, got, 100), 0);
	assert_int_equal(ready(ep, 2), EPOLLIN | EPOLLOUT);	/* end of file */
	closeall(1, &a);
	assert_int_equal(ready(ep, 2) & EPOLLHUP, EPOLLHUP);

	int c2 = unix_sock(SOCK_SEQPACKET | NB);			/* a reset */
	assert_int_equal(at_path(c2, "/tmp/sp.sock", true), 0);
	closeall(1, &l);
	assert_int_equal(SYS3(SYS_read, c2, got, 10), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_read, c2, got, 10), 0);
	int fds[] = { c, c2, st, ep };
	closeall(4, fds);
}

static void test_unix_seqpacket(void **state)
{
	(void)state;
	set_sigpipe(SIGPIPE_HANDLER);
	in_coro(seqpacket_body);
	set_sigpipe(1);
}

/* ------------------------------------------------------------ SCM_RIGHTS */

struct cmsg {			/* struct cmsghdr */
	uint64_t len;
	int32_t level, type;
};

static _Alignas(8) uint8_t ctl_out[2048], ctl_in[2048];

/* One SCM_RIGHTS cmsg of n descriptors at buf: its CMSG_SPACE. */
static size_t rights_msg(uint8_t *buf, const int *fds, int n)
{
	struct cmsg h = { 16 + 4 * (uint64_t)n, SOL_SOCKET, SCM_RIGHTS };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + 16, fds, 4 * (size_t)n);
	return (16 + 4 * (size_t)n + 7) & ~(size_t)7;
}

/* sendmsg of n bytes with control data ctl[0..ctllen) (to path if any). */
static long send_ctl(int s, const void *data, size_t n, size_t ctllen, const char *path)
{
	struct iov v = { data, n };
	struct sun a = sun(path ? path : "");
	struct msghdr m = { path ? &a : NULL, path ? 2 + (uint32_t)strlen(path) + 1 : 0,
			    &v, 1, ctllen ? ctl_out : NULL, ctllen, 0 };

	return SYS3(SYS_sendmsg, s, &m, 0);
}

static long send_fds(int s, const void *data, size_t n, const int *fds, int nfds)
{
	return send_ctl(s, data, n, rights_msg(ctl_out, fds, nfds), NULL);
}

/* recvmsg into got with room for `room` bytes of control data: the
 * result; the descriptors it got into fds (*nfds), msg_flags *mflags. */
static long recv_fds(int s, size_t n, size_t room, unsigned flags, int *fds, int *nfds,
		     int *mflags)
{
	struct iov v = { got, n };
	struct msghdr m = { NULL, 0, &v, 1, ctl_in, room, -1 };
	struct cmsg h;
	long rc;

	memset(ctl_in, 0xee, sizeof(ctl_in));
	rc = SYS3(SYS_recvmsg, s, &m, flags);
	*nfds = 0;
	*mflags = m.flags;
	if (rc < 0 || m.controllen == 0)
		return rc;
	memcpy(&h, ctl_in, sizeof(h));
	assert_int_equal(h.level, SOL_SOCKET);
	assert_int_equal(h.type, SCM_RIGHTS);
	*nfds = (int)(h.len - 16) / 4;
	assert_int_equal(m.controllen, (h.len + 7) & ~7ull);
	memcpy(fds, ctl_in + 16, h.len - 16);
	return rc;
}

/* A non-blocking pipe: p[0] reads, p[1] writes. */
static void nb_pipe(int p[2])
{
	assert_int_equal(SYS2(SYS_pipe2, p, NB), 0);
}

/* The pipe's write end is closed everywhere (its reader sees end of
 * file) or not (-EAGAIN). */
static bool writer_gone(int rd)
{
	long rc = SYS3(SYS_read, rd, got, 1);

	assert_true(rc == 0 || rc == -CUB_EAGAIN);
	return rc == 0;
}

/* A pipe's write end passed over a stream socketpair works in the
 * receiver; rights split the bytes; MSG_CMSG_CLOEXEC; MSG_PEEK. */
static void rights_stream_body(void)
{
	int sv[2], p[2], fds[8], n, fl;

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, sv), 0);
	nb_pipe(p);
	assert_int_equal(SYS3(SYS_write, sv[0], "aaa", 3), 3);
	assert_int_equal(send_fds(sv[0], "bb", 2, &p[1], 1), 2);
	assert_int_equal(SYS3(SYS_write, sv[0], "cc", 2), 2);
	closeall(1, &p[1]);
	assert_false(writer_gone(p[0]));			/* in flight: held */
	assert_int_equal(recv_fds(sv[1], 100, 64, 0, fds, &n, &fl), 3);	/* up to them */
	assert_int_equal(n, 0);
	assert_int_equal(recv_fds(sv[1], 100, 64, MSG_PEEK, fds, &n, &fl), 2);	/* copies */
	assert_int_equal(n, 1);
	closeall(1, fds);
	assert_int_equal(recv_fds(sv[1], 100, 64, MSG_CMSG_CLOEXEC, fds, &n, &fl), 2);
	assert_memory_equal(got, "bb", 2);			/* and no further */
	assert_int_equal(n, 1);
	assert_int_equal(fl, MSG_CMSG_CLOEXEC);	/* msg_flags echo it (Linux) */
	assert_int_equal(SYS3(SYS_fcntl, fds[0], F_GETFD, 0), FD_CLOEXEC);
	assert_int_equal(SYS3(SYS_write, fds[0], "!", 1), 1);	/* the pipe */
	assert_int_equal(SYS3(SYS_read, p[0], got, 10), 1);
	assert_int_equal(SYS3(SYS_read, sv[1], got, 100), 2);
	assert_memory_equal(got, "cc", 2);
	closeall(1, fds);
	assert_true(writer_gone(p[0]));

	nb_pipe(p);				/* a receive without room closes */
	assert_int_equal(send_fds(sv[0], "d", 1, &p[1], 1), 1);
	assert_int_equal(send_fds(sv[0], "e", 1, &p[1], 1), 1);
	assert_int_equal(send_fds(sv[0], "f", 1, &p[1], 1), 1);
	assert_int_equal(send_fds(sv[0], "", 0, &p[1], 1), 0);	/* not sent */
	closeall(1, &p[1]);
	assert_int_equal(recv_fds(sv[1], 100, 8, 0, fds, &n, &fl), 1);	/* < a header */
	assert_int_equal(fl, MSG_CTRUNC);
	assert_int_equal(SYS6(SYS_recvfrom, sv[1], got, 100, 0, NULL, NULL), 1);
	assert_int_equal(SYS3(SYS_read, sv[1], got, 100), 1);	/* read(): parked */
	assert_false(writer_gone(p[0]));
	closeall(2, sv);					/* closed with it */
	assert_true(writer_gone(p[0]));
	closeall(1, &p[0]);
}

static void test_unix_rights_stream(void **state)
{
	(void)state;
	in_coro(rights_stream_body);
}

#define SYS_dup 32

static int filler[CUBI_FD_MAX];

/* Dups fd until the lowest free descriptor is CUBI_FD_MAX - left + 1
 * (left - 1 stay free above it); the dups are filler[0..return). */
static int fill_table(int fd, int left)
{
	int n = 0;

	do
		filler[n] = (int)SYS1(SYS_dup, fd);
	while (filler[n++] < CUBI_FD_MAX - left);
	return n;
}

/* Several cmsgs add up; too little room closes the rest (MSG_CTRUNC); a
 * full descriptor table too; the bad control data. */
static void rights_limits_body(void)
{
	int sv[2], p[2], fds[300], n, fl, many[254], nfill;
	size_t len;
	struct cmsg h = { 16, 0 /* SOL_IP: skipped */, 1 };

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_DGRAM | NB, 0, sv), 0);
	nb_pipe(p);
	memcpy(ctl_out, &h, sizeof(h));
	len = 16 + rights_msg(ctl_out + 16, &p[1], 1);
	len += rights_msg(ctl_out + len, (int[]){ p[1], p[0] }, 2);
	assert_int_equal(send_ctl(sv[0], "m", 1, len, NULL), 1);
	assert_int_equal(recv_fds(sv[1], 10, 16 + 4 * 2, 0, fds, &n, &fl), 1);
	assert_int_equal(n, 2);					/* 1 of 3 closed */
	assert_int_equal(fl, MSG_CTRUNC);
	closeall(2, fds);

	for (int i = 0; i < 254; i++)
		many[i] = p[1];
	assert_int_equal(send_fds(sv[0], "m", 1, many, 254), -CUB_EINVAL);	/* > 253 */
	assert_int_equal(send_fds(sv[0], "m", 1, many, 253), 1);
	nfill = fill_table(p[0], 100);				/* 99 left */
	assert_int_equal(recv_fds(sv[1], 10, sizeof(ctl_in), 0, fds, &n, &fl), 1);
	assert_int_equal(n, 99);				/* the table filled */
	assert_int_equal(fl, MSG_CTRUNC);
	closeall(n, fds);
	closeall(nfill, filler);
	closeall(1, &p[1]);
	assert_true(writer_gone(p[0]));

	int bad = 999;						/* bad control data */
	assert_int_equal(send_fds(sv[0], "m", 1, &bad, 1), -CUB_EBADF);
	bad = -1;
	assert_int_equal(send_fds(sv[0], "m", 1, &bad, 1), -CUB_EBADF);
	len = rights_msg(ctl_out, &p[0], 1);
	assert_int_equal(send_ctl(sv[0], "m", 1, len - 8, NULL), -CUB_EINVAL);	/* past end */
	h = (struct cmsg){ 12, SOL_SOCKET, SCM_RIGHTS };
	memcpy(ctl_out, &h, sizeof(h));
	assert_int_equal(send_ctl(sv[0], "m", 1, 16, NULL), -CUB_EINVAL);	/* < 16 */
	h = (struct cmsg){ 28, SOL_SOCKET, SCM_CREDENTIALS };
	memcpy(ctl_out, &h, sizeof(h));
	memcpy((char *)ctl_out + 16, (const int32_t[3]){ 2, 0, 0 }, 12);
	assert_int_equal(send_ctl(sv[0], "m", 1, 32, NULL), -CUB_EPERM);	/* pid 2: not us */
	h.type = 99;
	memcpy(ctl_out, &h, sizeof(h));
	assert_int_equal(send_ctl(sv[0], "m", 1, 32, NULL), -CUB_EINVAL);
	assert_int_equal(send_ctl(sv[0], "m", 1, 20481, NULL), -105);	/* ENOBUFS */
	struct iov v = { "m", 1 };
	struct msghdr m = { NULL, 0, &v, 1, (void *)WILD, 32, 0 };
	assert_int_equal(SYS3(SYS_sendmsg, sv[0], &m, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, sv[1], got, 10), -CUB_EAGAIN);	/* none sent */
	int tcp[2] = { (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0), 0 };
	len = rights_msg(ctl_out, &p[0], 1);
	assert_int_equal(send_ctl(tcp[0], "m", 1, len, NULL), -CUB_EINVAL);	/* not AF_UNIX */
	int all[] = { sv[0], sv[1], p[0], tcp[0] };
	closeall(4, all);
}

static void test_unix_rights_limits(void **state)
{
	(void)state;
	in_coro(rights_limits_body);
}

/* Rights on datagrams by name and on SOCK_SEQPACKET; a socket closed
 * with rights unread closes them; recvfrom closes them; no leaks. */
static void rights_dgram_body(void)
{
	struct cub_heap_stats before, after;
	int a, c, sv[2], p[2], fds[4], n, fl;
	size_t len;

	cub_heap_stats(&before);
	a = dgram_at("/tmp/a.sock", NB);
	c = unix_sock(SOCK_DGRAM | NB);
	nb_pipe(p);
	len = rights_msg(ctl_out, &p[1], 1);
	assert_int_equal(send_ctl(c, "xy", 2, len, "/tmp/a.sock"), 2);
	assert_int_equal(send_ctl(c, "z", 1, len, "/tmp/a.sock"), 1);
	assert_int_equal(send_ctl(c, "w", 1, len, "/tmp/a.sock"), 1);
	closeall(1, &p[1]);
	assert_int_equal(recv_fds(a, 1, 64, 0, fds, &n, &fl), 1);
	assert_int_equal(fl, MSG_TRUNC);
	assert_int_equal(n, 1);
	assert_int_equal(SYS3(SYS_write, fds[0], "p", 1), 1);
	assert_int_equal(SYS3(SYS_read, p[0], got, 10), 1);
	closeall(1, fds);
	assert_int_equal(recv_from(a, 10, 0, NULL), 1);		/* closes them */
	assert_false(writer_gone(p[0]));			/* one message left */
	closeall(1, &a);					/* unread: closed */
	assert_true(writer_gone(p[0]));
	closeall(1, &p[0]);

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	nb_pipe(p);
	assert_int_equal(send_fds(sv[0], "s", 1, &p[1], 1), 1);
	closeall(1, &p[1]);
	assert_int_equal(recv_fds(sv[1], 10, 64, 0, fds, &n, &fl), 1);
	assert_int_equal(n, 1);
	assert_false(writer_gone(p[0]));
	assert_int_equal(send_fds(sv[1], "t", 1, fds, 1), 1);	/* and back */
	closeall(1, fds);
	assert_false(writer_gone(p[0]));
	int more[] = { sv[0], sv[1], c };
	closeall(3, more);
	assert_true(writer_gone(p[0]));
	closeall(1, &p[0]);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/a.sock"), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

static void test_unix_rights_dgram(void **state)
{
	(void)state;
	in_coro(rights_dgram_body);
}

/* A listener closed with a connection whose rights nobody accepted. */
static void rights_queued_body(void)
{
	int l = ulistener("/tmp/q.sock", NB, 2), c = usock(NB), p[2];

	nb_pipe(p);
	assert_int_equal(at_path(c, "/tmp/q.sock", true), 0);
	assert_int_equal(send_fds(c, "q", 1, &p[1], 1), 1);
	closeall(1, &p[1]);
	assert_false(writer_gone(p[0]));
	closeall(1, &l);
	assert_true(writer_gone(p[0]));
	int fds[] = { c, p[0] };
	closeall(2, fds);
}

static void test_unix_rights_queued(void **state)
{
	(void)state;
	in_coro(rights_queued_body);
}

/* ---------------------------------------------------------------- SIGPIPE */

/* Stream sockets raise SIGPIPE with EPIPE on every send call but with
 * MSG_NOSIGNAL. */
static void sigpipe_body(void)
{
	int sv[2];
	struct iov v = { "x", 1 };
	struct msghdr m = { NULL, 0, &v, 1, NULL, 0, 0 };

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
	closeall(1, &sv[1]);
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS3(SYS_writev, sv[0], &v, 1), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS6(SYS_sendto, sv[0], "x", 1, 0, NULL, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS6(SYS_sendto, sv[0], "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_false(sigpipe_taken());
	assert_int_equal(SYS3(SYS_sendmsg, sv[0], &m, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS3(SYS_sendmsg, sv[0], &m, MSG_NOSIGNAL), -CUB_EPIPE);
	assert_false(sigpipe_taken());
	assert_int_equal(SYS3(SYS_read, sv[0], got, 1), 0);	/* reads: none */
	assert_false(sigpipe_taken());
	set_sigpipe(1);
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), -CUB_EPIPE);
	assert_false(sigpipe_taken());
	closeall(1, &sv[0]);
}

static void test_unix_sigpipe(void **state)
{
	(void)state;
	set_sigpipe(SIGPIPE_HANDLER);
	in_coro(sigpipe_body);
	set_sigpipe(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_bind),
		cmocka_unit_test(test_unix_connect),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_unix_nonblock),
		cmocka_unit_test(test_unix_blocking),
		cmocka_unit_test(test_unix_no_leak),
		cmocka_unit_test(test_unix_dgram),
		cmocka_unit_test(test_unix_dgram_connect),
		cmocka_unit_test(test_unix_dgram_budget),
		cmocka_unit_test(test_unix_dgram_blocking),
		cmocka_unit_test(test_unix_seqpacket),
		cmocka_unit_test(test_unix_rights_stream),
		cmocka_unit_test(test_unix_rights_limits),
		cmocka_unit_test(test_unix_rights_dgram),
		cmocka_unit_test(test_unix_rights_queued),
		cmocka_unit_test(test_unix_sigpipe),
	};

	cubi_mem_init();	/* sockets and nodes live on the heap */
	set_sigpipe(1);	/* SIG_IGN: the tests of EPIPE (SIGPIPE's own set it) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
