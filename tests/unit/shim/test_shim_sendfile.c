/*
 * test_shim_sendfile.c - sendfile from sources that are not seekable,
 * through the dispatcher: from a pipe, an AF_UNIX stream socket and a
 * loopback TCP connection into a destination that fills (a non-blocking
 * pipe), the count is what arrived and the rest is still in the source,
 * in order; into a socket such a source is refused with -EINVAL, as on
 * Linux (Go's TCPConn.ReadFrom relies on it), and keeps its bytes; an empty source (-EAGAIN, or a blocking one
 * waits); a blocking destination, with and without a signal cutting the
 * call short; a destination pipe with no reader (EPIPE, SIGPIPE, the
 * bytes stay); a destination that writes with interrupts enabled and
 * waits (a regular file behind the fs lock): meanwhile the source reads
 * as empty and its blocked reader waits for what is left; sources that
 * cannot give bytes back (eventfd; UDP, AF_UNIX datagrams and seqpackets
 * into anything but a pipe) are refused with -EINVAL and keep them,
 * while a datagram socket into a pipe is a splice, as on Linux
 * (test_shim_splice_tty.c has the console's). (test_shim_compat.c has
 * the seekable sources and copy_file_range.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cubrt/sched.h>
#include "shim_impl.h"
#include "procfs.h"
#include "sys.h"
#include "sock.h"
#include "fresh.h"
#include "sigpipe.h"

#define SYS_poll 7
#define SYS_sendfile 40
#define SYS_eventfd2 290
#define SOCK_SEQPACKET 5
#define O_RDWR 2
#define O_NONBLOCK 04000
#define O_CREAT 0100
#define AT_FDCWD (-100)
#define POLLIN 1
#define SIGUSR1 10
#define PIPE_CAP 16384		/* a pipe's bytes (pipe.c) */
#define RING (64 * 1024)	/* a stream socket's receive ring (socket.h) */

static char pat[20000], fill[RING + 4096], got[RING + 4096];

#include "bytes.h"

static long sendfile(int out, int in, size_t count)
{
	return SYS4(SYS_sendfile, out, in, NULL, count);
}

static void make_pattern(void)
{
	fill_pattern(pat, sizeof(pat));
	memset(fill, 'F', sizeof(fill));
}

static void nonblock(int fd, bool on)
{
	assert_int_equal(SYS3(SYS_fcntl, fd, F_SETFL, on ? NB : 0), 0);
}

static void mkpipe(int p[2])
{
	assert_int_equal(SYS2(SYS_pipe2, p, NB), 0);
}

/* Fills w (non-blocking) to the brim, then reads room bytes back out of
 * r (its other end): exactly room bytes fit now. Returns what w holds. */
static size_t leave_room(int r, int w, size_t room)
{
	size_t total = 0;
	long n;

	while ((n = SYS3(SYS_write, w, fill, sizeof(fill))) > 0)
		total += (size_t)n;
	assert_int_equal(n, -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, r, got, room), (long)room);
	return total - room;
}

/* src (non-blocking, empty; w writes into it) into a pipe that fills up:
 * it takes what fits, the source keeps the rest in order; into an
 * AF_UNIX stream socket (or any socket): -EINVAL, as on Linux, even when
 * the source is empty (an -EAGAIN there reads as a full socket). */
static void from_source(int w, int src)
{
	int d[2], x[2];
	size_t held;

	mkpipe(d);
	assert_int_equal(sendfile(d[1], src, 100), -CUB_EAGAIN);	/* empty */
	assert_int_equal(SYS3(SYS_write, w, pat, 10000), 10000);
	held = leave_room(d[0], d[1], 1000);
	assert_int_equal(sendfile(d[1], src, 10000), 1000);
	assert_int_equal(sendfile(d[1], src, 10000), -CUB_EAGAIN);	/* full */
	expect_bytes(d[0], fill, held);
	expect_bytes(d[0], pat, 1000);
	expect_empty(d[0]);
	/* a stream socket as the destination: refused, nothing moves */
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, x), 0);
	assert_int_equal(sendfile(x[0], src, 10000), -CUB_EINVAL);
	expect_empty(x[1]);
	expect_bytes(src, pat + 1000, 9000);
	expect_empty(src);
	assert_int_equal(sendfile(x[0], src, 10000), -CUB_EINVAL);	/* empty */
	closeall(2, d);
	closeall(2, x);
}

static void pipe_source_body(void)
{
	int s[2], d[2];

	mkpipe(s);
	from_source(s[1], s[0]);
	/* a short one keeps PIPE_BUF's atomicity: into too little room, none */
	mkpipe(d);
	assert_int_equal(SYS3(SYS_write, s[1], pat, 100), 100);
	leave_room(d[0], d[1], 50);
	assert_int_equal(sendfile(d[1], s[0], 100), -CUB_EAGAIN);
	expect_bytes(s[0], pat, 100);
	/* end of file */
	assert_int_equal(SYS1(SYS_close, s[1]), 0);
	assert_int_equal(sendfile(d[1], s[0], 100), 0);
	assert_int_equal(SYS1(SYS_close, s[0]), 0);
	closeall(2, d);
}

static void test_sendfile_pipe_source(void **state)
{
	(void)state;
	make_pattern();
	run(pipe_source_body);
}

static void unix_source_body(void)
{
	int u[2];

	set_sigpipe(SIGPIPE_HANDLER);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, u), 0);
	from_source(u[0], u[1]);
	/* the peer gone: what is left, then end of file */
	assert_int_equal(SYS3(SYS_write, u[0], pat, 10), 10);
	assert_int_equal(SYS1(SYS_close, u[0]), 0);
	assert_int_equal(sendfile(u[1], u[1], 100), -CUB_EINVAL);	/* a socket */
	assert_false(sigpipe_taken());
	expect_bytes(u[1], pat, 10);
	assert_int_equal(SYS1(SYS_close, u[1]), 0);
	set_sigpipe(0);
}

static void test_sendfile_unix_source(void **state)
{
	(void)state;
	make_pattern();
	run(unix_source_body);
}

static void tcp_source_body(void)
{
	int l = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	int c = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0), a;

	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(connect_to(c, LOOP, port_of(l)), 0);
	a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(a >= 3);
	from_source(c, a);
	/* not connected: read's error */
	int d[2];
	mkpipe(d);
	assert_int_equal(sendfile(d[1], l, 10), -CUB_ENOTCONN);
	closeall(2, d);
	int fds[] = { l, c, a };
	closeall(3, fds);
}

static void test_sendfile_tcp_source(void **state)
{
	(void)state;
	make_pattern();
	run(tcp_source_body);
}

/* ---------------------------------------------------- blocking ends */

static int bs[2], bd[2];

static void *blocked_sendfile(void *count)
{
	return (void *)sendfile(bd[1], bs[0], (size_t)count);
}

/* A blocking destination: the call waits for room; a signal then ends it
 * with what went out, and the source keeps the rest. */
static void blocking_dest_body(void)
{
	struct cub_coro *co;
	size_t held;
	void *res;

	set_action_unblocked(SIGUSR1, 0x1111000);
	mkpipe(bs);
	mkpipe(bd);
	assert_int_equal(SYS3(SYS_write, bs[1], pat, 10000), 10000);
	held = leave_room(bd[0], bd[1], 1000);
	nonblock(bd[1], false);
	assert_int_equal(cub_coro_spawn(&co, blocked_sendfile, (void *)10000, NULL), 0);
	cub_coro_yield();			/* 1000 in, it waits for room */
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 1000);
	assert_true(signal_taken(SIGUSR1));
	expect_bytes(bd[0], fill, held);
	expect_bytes(bd[0], pat, 1000);
	/* no signal: it goes on as the reader makes room */
	nonblock(bd[1], true);
	held = leave_room(bd[0], bd[1], 1000);
	nonblock(bd[1], false);
	assert_int_equal(cub_coro_spawn(&co, blocked_sendfile, (void *)9000, NULL), 0);
	cub_coro_yield();
	expect_bytes(bd[0], fill, held);
	expect_bytes(bd[0], pat + 1000, 1000);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 9000);
	expect_bytes(bd[0], pat + 2000, 8000);
	expect_empty(bs[0]);
	/* a blocking source waits for its first bytes, as read does */
	nonblock(bs[0], false);
	assert_int_equal(cub_coro_spawn(&co, blocked_sendfile, (void *)100, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_write, bs[1], pat, 10), 10);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 10);
	expect_bytes(bd[0], pat, 10);
	closeall(2, bs);
	closeall(2, bd);
	set_action_unblocked(SIGUSR1, 0);
}

static void test_sendfile_blocking_dest(void **state)
{
	(void)state;
	make_pattern();
	run(blocking_dest_body);
}

/* No reader: EPIPE and SIGPIPE, as write; the bytes stay. */
static void epipe_body(void)
{
	int s[2], d[2];

	set_sigpipe(SIGPIPE_HANDLER);
	mkpipe(s);
	mkpipe(d);
	assert_int_equal(SYS3(SYS_write, s[1], pat, 100), 100);
	assert_int_equal(SYS1(SYS_close, d[0]), 0);
	assert_int_equal(sendfile(d[1], s[0], 100), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	expect_bytes(s[0], pat, 100);
	closeall(2, s);
	assert_int_equal(SYS1(SYS_close, d[1]), 0);
	set_sigpipe(0);
}

static void test_sendfile_epipe(void **state)
{
	(void)state;
	make_pattern();
	run(epipe_body);
}

/* ------------------------------------------- a destination that waits */

static int hp[2], hf, hr;	/* hr: the pipe's end the reader uses */
static char rbuf[8192];

static void *held_sendfile(void *arg)
{
	(void)arg;
	return (void *)sendfile(hf, hp[0], 3000);
}

static void *held_reader(void *arg)
{
	(void)arg;
	return (void *)SYS3(SYS_read, hr, rbuf, sizeof(rbuf));
}

/* The regular file's write waits for the fs lock (interrupts enabled):
 * meanwhile the pipe reads as empty and is not readable, a blocked reader
 * waits, and it then gets exactly what the sendfile did not send. With
 * `other`, the reader reads through a second open file description of
 * the read end (opened by /proc/self/fd/N): the hold covers the pipe,
 * not just the end the sendfile reads. */
static bool other;

static void held_body(void)
{
	struct { int fd; short events, revents; } pfd;
	struct cub_coro *sender, *reader;
	char path[32];
	void *res;

	hf = (int)SYS4(SYS_openat, AT_FDCWD, "/out", O_CREAT | O_RDWR, 0644);
	assert_true(hf >= 3);
	mkpipe(hp);
	hr = hp[0];
	if (other) {
		cubi_fs_lock();
		cubi_procfs_populate(cubi_ramfs_root());
		cubi_fs_unlock();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", hp[0]);
		hr = (int)SYS4(SYS_openat, AT_FDCWD, path, O_NONBLOCK, 0);
		assert_true(hr >= 3);
	}
	assert_int_equal(SYS3(SYS_write, hp[1], pat, 5000), 5000);
	cubi_fs_lock();
	assert_int_equal(cub_coro_spawn(&sender, held_sendfile, NULL, NULL), 0);
	cub_coro_yield();			/* it peeked, and waits */
	expect_empty(hr);
	pfd.fd = hr;
	pfd.events = POLLIN;
	assert_int_equal(SYS3(SYS_poll, &pfd, 1, 0), 0);
	assert_int_equal(sendfile(hf, hp[0], 10), -CUB_EAGAIN);	/* a second one */
	nonblock(hr, false);
	assert_int_equal(cub_coro_spawn(&reader, held_reader, NULL, NULL), 0);
	cub_coro_yield();			/* it waits too */
	cubi_fs_unlock();
	assert_int_equal(cub_coro_join(sender, &res), 0);
	assert_int_equal((intptr_t)res, 3000);
	assert_int_equal(cub_coro_join(reader, &res), 0);
	assert_int_equal((intptr_t)res, 2000);
	assert_memory_equal(rbuf, pat + 3000, 2000);
	assert_int_equal(SYS4(SYS_pread64, hf, got, sizeof(got), 0), 3000);
	assert_memory_equal(got, pat, 3000);
	closeall(2, hp);
	if (other)
		closeall(1, &hr);
	assert_int_equal(SYS1(SYS_close, hf), 0);
}

static void test_sendfile_held(void **state)
{
	(void)state;
	make_pattern();
	other = false;
	run_fresh(held_body, false);
}

static void test_sendfile_held_other_end(void **state)
{
	(void)state;
	make_pattern();
	other = true;
	run_fresh(held_body, false);
}

/* ------------------------------------------ sources that cannot give back */

static void refused_body(void)
{
	int d[2], e = (int)SYS2(SYS_eventfd2, 3, NB), g[2], q[2];
	int u = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM | NB, 0);
	uint64_t v = 0;

	mkpipe(d);
	assert_int_equal(sendfile(d[1], e, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_read, e, &v, 8), 8);		/* kept */
	assert_int_equal(v, 3);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_DGRAM | NB, 0, g), 0);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | NB, 0, q), 0);
	/* datagrams into anything but a pipe: refused, kept */
	assert_int_equal(SYS3(SYS_write, g[0], "message", 7), 7);
	assert_int_equal(SYS3(SYS_write, q[0], "packet", 6), 6);
	assert_int_equal(sendfile(g[1], q[1], 100), -CUB_EINVAL);
	assert_int_equal(sendfile(q[1], g[1], 100), -CUB_EINVAL);
	/* into a pipe, a splice (Linux 6.18, measured): one message a
	 * call, cut to the count, the rest of it dropped */
	assert_int_equal(sendfile(d[1], g[1], 100), 7);
	assert_int_equal(sendfile(d[1], q[1], 3), 3);
	expect_bytes(d[0], "message" "pac", 10);
	assert_int_equal(sendfile(d[1], g[1], 100), -CUB_EAGAIN);	/* none */
	assert_int_equal(sendfile(d[1], q[1], 100), -CUB_EAGAIN);	/* "ket" went */
	assert_int_equal(sendfile(d[1], u, 8), -CUB_EAGAIN);	/* empty UDP */
	expect_empty(d[0]);
	/* a pipe with an offset: not seekable */
	int64_t off = 0;
	assert_int_equal(SYS4(SYS_sendfile, d[1], d[0], &off, 1), -29 /* ESPIPE */);
	closeall(2, d);
	closeall(2, g);
	closeall(2, q);
	assert_int_equal(SYS1(SYS_close, e), 0);
	assert_int_equal(SYS1(SYS_close, u), 0);
}

static void test_sendfile_refused(void **state)
{
	(void)state;
	run(refused_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sendfile_pipe_source),
		cmocka_unit_test(test_sendfile_unix_source),
		cmocka_unit_test(test_sendfile_tcp_source),
		cmocka_unit_test(test_sendfile_blocking_dest),
		cmocka_unit_test(test_sendfile_epipe),
		cmocka_unit_test(test_sendfile_held),
		cmocka_unit_test(test_sendfile_held_other_end),
		cmocka_unit_test(test_sendfile_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
