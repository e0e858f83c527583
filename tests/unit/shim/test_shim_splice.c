/*
 * test_shim_splice.c - splice and tee through the dispatcher: every
 * splice error in Linux's order; pipe to pipe (partial moves, empty and
 * full with and without SPLICE_F_NONBLOCK or O_NONBLOCK, end of file,
 * EPIPE and SIGPIPE, a blocked splice woken by a writer and one ended by
 * a signal); stream sockets into a pipe and out of it (AF_UNIX and
 * loopback TCP, as Go's TCPConn.ReadFrom does); regular files into and
 * out of a pipe at offsets and at the position; tee duplicating without
 * consuming. test_shim_pipesz.c has the pipe sizes,
 * test_shim_splice_model.c the random run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "procfs.h"
#include "sys.h"
#include "sock.h"
#include "fresh.h"
#include "sigpipe.h"
#include "splice_util.h"

/* ------------------------------------------------------ splice errors */

static void errors_body(void)
{
	int p[2], q[2], s[2], f, ro, ap;
	int64_t off = 0, neg = -1;

	mkpipe(p, NB);
	mkpipe(q, NB);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, s), 0);
	f = (int)SYS3(SYS_open, "/f", O_CREAT | O_RDWR, 0600);
	ro = (int)SYS3(SYS_open, "/f", O_RDONLY, 0);
	ap = (int)SYS3(SYS_open, "/f", O_WRONLY | O_APPEND, 0);
	assert_true(f >= 0 && ro >= 0 && ap >= 0);
	put(p[1], pat, 100);
	/* len 0: 0 before anything is looked at */
	assert_int_equal(splice(999, NULL, 998, NULL, 0, 0), 0);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 0, 0xff), 0);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 10, 0x10), -CUB_EINVAL);
	assert_int_equal(splice(999, NULL, q[1], NULL, 10, 0), -CUB_EBADF);
	assert_int_equal(splice(p[0], NULL, 999, NULL, 10, 0), -CUB_EBADF);
	assert_int_equal(splice(p[1], NULL, q[1], NULL, 10, 0), -CUB_EBADF); /* not readable */
	assert_int_equal(splice(p[0], NULL, q[0], NULL, 10, 0), -CUB_EBADF); /* not writable */
	assert_int_equal(splice(f, NULL, ro, NULL, 10, 0), -CUB_EBADF);
	/* a pipe's offset before the access mode, as Linux's __do_splice */
	assert_int_equal(splice(p[1], &off, q[1], NULL, 10, 0), -CUB_ESPIPE);
	assert_int_equal(splice(f, (int64_t *)WILD, q[0], NULL, 10, 0), -CUB_EFAULT);
	assert_int_equal(splice(f, &neg, q[0], NULL, 10, 0), -CUB_EBADF);
	assert_int_equal(splice(s[0], NULL, f, NULL, 10, 0), -CUB_EINVAL);	/* no pipe */
	assert_int_equal(splice(f, NULL, s[0], NULL, 10, 0), -CUB_EINVAL);
	assert_int_equal(splice(p[0], &off, q[1], NULL, 10, 0), -CUB_ESPIPE);
	assert_int_equal(splice(p[0], NULL, q[1], &off, 10, 0), -CUB_ESPIPE);
	assert_int_equal(splice(f, NULL, p[1], &off, 10, 0), -CUB_ESPIPE);
	assert_int_equal(splice(p[0], NULL, p[1], NULL, 10, 0), -CUB_EINVAL); /* same pipe */
	assert_int_equal(splice(s[0], &off, q[1], NULL, 10, 0), -CUB_EINVAL); /* can't seek */
	assert_int_equal(splice(p[0], NULL, s[0], &off, 10, 0), -CUB_EINVAL);
	assert_int_equal(splice(f, &neg, q[1], NULL, 10, 0), -CUB_EINVAL);
	assert_int_equal(splice(p[0], NULL, f, &neg, 10, 0), -CUB_EINVAL);
	assert_int_equal(splice(f, (int64_t *)WILD, q[1], NULL, 10, 0), -CUB_EFAULT);
	assert_int_equal(splice(p[0], NULL, ap, NULL, 10, 0), -CUB_EINVAL);	/* O_APPEND */
	/* a source that cannot give bytes back */
	int e = (int)SYS2(SYS_eventfd2, 1, 0);
	assert_int_equal(splice(e, NULL, q[1], NULL, 8, 0), -CUB_EINVAL);
	/* nothing moved by any of them */
	expect_bytes(p[0], pat, 100);
	expect_empty(q[0]);
	/* tee: both pipes, two of them, the right directions */
	assert_int_equal(tee(p[0], q[1], 10, 0x10), -CUB_EINVAL);
	assert_int_equal(tee(999, 998, 0, 0), 0);
	assert_int_equal(tee(999, q[1], 10, 0), -CUB_EBADF);
	assert_int_equal(tee(p[0], 999, 10, 0), -CUB_EBADF);
	assert_int_equal(tee(p[1], q[1], 10, 0), -CUB_EBADF);
	assert_int_equal(tee(p[0], q[0], 10, 0), -CUB_EBADF);
	assert_int_equal(tee(p[0], p[1], 10, 0), -CUB_EINVAL);
	assert_int_equal(tee(p[0], s[0], 10, 0), -CUB_EINVAL);
	assert_int_equal(tee(s[0], q[1], 10, 0), -CUB_EINVAL);
	assert_int_equal(tee(f, q[1], 10, 0), -CUB_EINVAL);
	int fds[] = { p[0], p[1], q[0], q[1], s[0], s[1], f, ro, ap, e };
	closeall(10, fds);
}

static void test_splice_errors(void **state)
{
	(void)state;
	make_pattern();
	run_fresh(errors_body, false);
}

/* ------------------------------------------------------ pipe to pipe */

static void pipes_body(void)
{
	int p[2], q[2];

	set_sigpipe(SIGPIPE_HANDLER);
	mkpipe(p, 0);		/* blocking files: only the flag keeps it short */
	mkpipe(q, 0);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	put(p[1], pat, 1000);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 300, SPLICE_F_MOVE | SPLICE_F_MORE |
				SPLICE_F_GIFT), 300);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 5000, 0), 700);	/* what it has */
	expect_bytes(q[0], pat, 1000);
	/* a full destination: what fits, then -EAGAIN (its O_NONBLOCK too) */
	put(q[1], pat, CAP - 100);
	put(p[1], pat, 1000);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 1000, SPLICE_F_NONBLOCK), 100);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 1000, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	nonblock_fd(q[1], true);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 1000, 0), -CUB_EAGAIN);
	nonblock_fd(q[1], false);
	nonblock_fd(q[0], true);
	expect_bytes(q[0], pat, CAP - 100);
	expect_bytes(q[0], pat, 100);
	expect_empty(q[0]);
	/* an empty source with O_NONBLOCK: -EAGAIN without the flag */
	expect_bytes(p[0], pat + 100, 900);
	nonblock_fd(p[0], true);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 10, 0), -CUB_EAGAIN);
	/* no reader: EPIPE and SIGPIPE; the bytes stay */
	put(p[1], pat, 10);
	assert_int_equal(SYS1(SYS_close, q[0]), 0);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 10, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	expect_bytes(p[0], pat, 10);
	/* no writer, nothing left: end of file (before the EPIPE) */
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	assert_int_equal(splice(p[0], NULL, q[1], NULL, 10, 0), 0);
	assert_false(sigpipe_taken());
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(SYS1(SYS_close, q[1]), 0);
	set_sigpipe(0);
}

static void test_splice_pipes(void **state)
{
	(void)state;
	make_pattern();
	run(pipes_body);
}

static int bp[2], bq[2];

static void *blocked_splice(void *len)
{
	return (void *)splice(bp[0], NULL, bq[1], NULL, (size_t)len, 0);
}

static void *blocked_tee(void *len)
{
	return (void *)tee(bp[0], bq[1], (size_t)len, 0);
}

/* Blocking: an empty source waits for a writer, a full destination for
 * a reader; a signal ends the wait with -EINTR. */
static void blocking_body(void)
{
	struct cub_coro *co;
	void *res;

	set_action_unblocked(SIGUSR1, 0x1111000);
	mkpipe(bp, 0);
	mkpipe(bq, 0);
	assert_int_equal(cub_coro_spawn(&co, blocked_splice, (void *)500, NULL), 0);
	cub_coro_yield();		/* it waits for bytes */
	put(bp[1], pat, 200);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 200);
	expect_bytes(bq[0], pat, 200);
	/* the same for tee, which leaves the bytes */
	assert_int_equal(cub_coro_spawn(&co, blocked_tee, (void *)500, NULL), 0);
	cub_coro_yield();
	put(bp[1], pat, 50);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 50);
	expect_bytes(bq[0], pat, 50);
	expect_bytes(bp[0], pat, 50);
	/* a full destination waits for room */
	put(bq[1], pat, CAP);
	put(bp[1], pat, 300);
	assert_int_equal(cub_coro_spawn(&co, blocked_splice, (void *)300, NULL), 0);
	cub_coro_yield();
	expect_bytes(bq[0], pat, 1000);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 300);
	expect_bytes(bq[0], pat + 1000, CAP - 1000);
	expect_bytes(bq[0], pat, 300);
	/* a signal ends the wait: -EINTR, nothing moved */
	assert_int_equal(cub_coro_spawn(&co, blocked_splice, (void *)10, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EINTR);
	assert_true(signal_taken(SIGUSR1));
	closeall(2, bp);
	closeall(2, bq);
	set_action_unblocked(SIGUSR1, 0);
}

static void test_splice_blocking(void **state)
{
	(void)state;
	make_pattern();
	run(blocking_body);
}

/* ------------------------------------------------------------- tee */

static void tee_body(void)
{
	int p[2], q[2], r[2];

	mkpipe(p, NB);
	mkpipe(q, NB);
	mkpipe(r, NB);
	assert_int_equal(tee(p[0], q[1], 100, 0), -CUB_EAGAIN);	/* empty */
	put(p[1], pat, 3000);
	assert_int_equal(tee(p[0], q[1], 1000, 0), 1000);
	assert_int_equal(tee(p[0], r[1], 5000, SPLICE_F_NONBLOCK), 3000);
	expect_bytes(q[0], pat, 1000);
	expect_bytes(r[0], pat, 3000);
	/* the source kept them all */
	assert_int_equal(tee(p[0], q[1], 5000, 0), 3000);
	expect_bytes(q[0], pat, 3000);
	/* a full destination */
	put(q[1], pat, CAP - 10);
	assert_int_equal(tee(p[0], q[1], 3000, 0), 10);
	assert_int_equal(tee(p[0], q[1], 3000, 0), -CUB_EAGAIN);
	expect_bytes(p[0], pat, 3000);
	/* end of file */
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	assert_int_equal(tee(p[0], r[1], 10, 0), 0);
	int fds[] = { p[0], q[0], q[1], r[0], r[1] };
	closeall(5, fds);
}

static void test_tee(void **state)
{
	(void)state;
	make_pattern();
	run(tee_body);
}

/* ------------------------------------------- sockets in and out of pipes */

/* From the socket src (non-blocking; w writes into it) into a pipe, then
 * out of the pipe into the socket dst (its peer reads at rd): what Go's
 * TCPConn.ReadFrom does with SPLICE_F_MOVE | SPLICE_F_NONBLOCK. */
static void through_pipe(int w, int src, int dst, int rd)
{
	const unsigned fl = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
	int p[2];
	size_t moved = 0;
	long n;

	mkpipe(p, 0);
	assert_int_equal(splice(src, NULL, p[1], NULL, 4096, fl), -CUB_EAGAIN);	/* empty */
	put(w, pat, 30000);
	/* the pipe fills: what it has room for, the rest stays in the socket */
	assert_int_equal(splice(src, NULL, p[1], NULL, 30000, fl), CAP);
	assert_int_equal(splice(src, NULL, p[1], NULL, 30000, fl), -CUB_EAGAIN);	/* full */
	assert_int_equal(splice(p[0], NULL, dst, NULL, 1000, fl), 1000);
	assert_int_equal(splice(p[0], NULL, dst, NULL, CAP, fl), CAP - 1000);
	assert_int_equal(splice(p[0], NULL, dst, NULL, 10, fl), -CUB_EAGAIN);	/* empty */
	while (moved < 30000 - CAP) {
		n = splice(src, NULL, p[1], NULL, 30000, fl);
		assert_true(n > 0);
		assert_int_equal(splice(p[0], NULL, dst, NULL, (size_t)n, fl), n);
		moved += (size_t)n;
	}
	expect_bytes(rd, pat, 30000);
	expect_empty(rd);
	/* the writer gone: end of file through the pipe */
	assert_int_equal(SYS2(SYS_shutdown, w, 1), 0);
	assert_int_equal(splice(src, NULL, p[1], NULL, 100, fl), 0);
	closeall(2, p);
}

static void unix_body(void)
{
	int a[2], b[2];

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, a), 0);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, b), 0);
	through_pipe(a[0], a[1], b[0], b[1]);
	closeall(2, a);
	closeall(2, b);
}

static void test_splice_unix(void **state)
{
	(void)state;
	make_pattern();
	run(unix_body);
}

static void tcp_body(void)
{
	int l = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	int c = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM | NB, 0), a, b[2];

	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 1), 0);
	assert_int_equal(connect_to(c, LOOP, port_of(l)), 0);
	a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(a >= 3);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM | NB, 0, b), 0);
	through_pipe(c, a, b[0], b[1]);
	int fds[] = { l, c, a, b[0], b[1] };
	closeall(5, fds);
}

static void test_splice_tcp(void **state)
{
	(void)state;
	make_pattern();
	run(tcp_body);
}

/* ------------------------------------------------- files and pipes */

static void files_body(void)
{
	int p[2], f, g;
	int64_t off;

	mkpipe(p, NB);
	f = (int)SYS3(SYS_open, "/src", O_CREAT | O_RDWR, 0600);
	g = (int)SYS3(SYS_open, "/dst", O_CREAT | O_RDWR, 0600);
	assert_true(f >= 0 && g >= 0);
	put(f, pat, 20000);
	/* at an offset: it advances, the position stays (at the end) */
	off = 100;
	assert_int_equal(splice(f, &off, p[1], NULL, 1000, 0), 1000);
	assert_int_equal(off, 1100);
	expect_bytes(p[0], pat + 100, 1000);
	/* at the position: only what fits in the pipe, the position follows */
	assert_int_equal(SYS3(SYS_lseek, f, 0, 0), 0);
	put(p[1], pat, CAP - 500);
	assert_int_equal(splice(f, NULL, p[1], NULL, 20000, 0), 500);
	assert_int_equal(SYS3(SYS_lseek, f, 0, 1), 500);
	assert_int_equal(splice(f, NULL, p[1], NULL, 20000, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	expect_bytes(p[0], pat, CAP - 500);
	expect_bytes(p[0], pat, 500);
	/* the end of the file: 0 */
	off = 20000;
	assert_int_equal(splice(f, &off, p[1], NULL, 100, 0), 0);
	assert_int_equal(off, 20000);
	/* out of the pipe into a file, at an offset and at the position */
	put(p[1], pat, 4000);
	off = 10;
	assert_int_equal(splice(p[0], NULL, g, &off, 1000, 0), 1000);
	assert_int_equal(off, 1010);
	assert_int_equal(SYS3(SYS_lseek, g, 0, 1), 0);
	assert_int_equal(splice(p[0], NULL, g, NULL, 5000, 0), 3000);
	assert_int_equal(SYS3(SYS_lseek, g, 0, 1), 3000);
	/* the position's 3000 went over the offset's 1000 at 10 */
	assert_int_equal(SYS4(SYS_pread64, g, got, 5000, 0), 3000);
	assert_memory_equal(got, pat + 1000, 3000);
	expect_empty(p[0]);
	/* an empty pipe into a file: -EAGAIN with the flag */
	assert_int_equal(splice(p[0], NULL, g, NULL, 10, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	int fds[] = { p[0], p[1], f, g };
	closeall(4, fds);
}

static void test_splice_files(void **state)
{
	(void)state;
	make_pattern();
	run_fresh(files_body, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_errors),
		cmocka_unit_test(test_splice_pipes),
		cmocka_unit_test(test_splice_blocking),
		cmocka_unit_test(test_tee),
		cmocka_unit_test(test_splice_unix),
		cmocka_unit_test(test_splice_tcp),
		cmocka_unit_test(test_splice_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
