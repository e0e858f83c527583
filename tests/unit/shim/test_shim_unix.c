/*
 * test_shim_unix.c - AF_UNIX stream sockets bound to names, through the
 * dispatcher: bind to a path (the socket node: stat, open, getdents,
 * unlink, rename, EADDRINUSE, bad parents, bad addresses), listen,
 * connect and accept by path with data both ways, the names getsockname
 * and getpeername give, connecting to what is no listener (a stale node
 * after close, a regular file, a directory, a bound socket that does not
 * listen), abstract names and autobind, non-blocking accept and connect,
 * a listener's epoll readiness, a blocking accept woken by a connecting
 * coroutine, and no leaks. Each test runs in a coroutine (bind and
 * connect take the fs lock, a coroutine mutex) on a fresh tree.
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

struct kstat {			/* Linux x86-64 struct stat */
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t times[6], reserved[3];
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_bind),
		cmocka_unit_test(test_unix_connect),
		cmocka_unit_test(test_unix_abstract),
		cmocka_unit_test(test_unix_nonblock),
		cmocka_unit_test(test_unix_blocking),
		cmocka_unit_test(test_unix_no_leak),
	};

	cubi_mem_init();	/* sockets and nodes live on the heap */
	set_sigpipe(1);	/* SIG_IGN: the tests of EPIPE (SIGPIPE's own set it) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
