/*
 * test_shim_splice.c - F_GETPIPE_SZ / F_SETPIPE_SZ, splice and tee
 * through the dispatcher: a pipe's capacity (rounding, limits, -EBUSY,
 * the bytes kept across a resize of a wrapped ring); every splice
 * error in Linux's order; pipe to pipe (partial moves, empty and full
 * with and without SPLICE_F_NONBLOCK or O_NONBLOCK, end of file, EPIPE
 * and SIGPIPE, a blocked splice woken by a writer and one ended by a
 * signal); stream sockets into a pipe and out of it (AF_UNIX and
 * loopback TCP, as Go's TCPConn.ReadFrom does); regular files into and
 * out of a pipe at offsets and at the position; tee duplicating without
 * consuming; and a seeded random run of writes, reads, splices, tees
 * and resizes checked against a model of the bytes ($CUBRT_SEED).
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

#define SYS_splice 275
#define SYS_tee 276
#define SYS_eventfd2 290
#define SYS_mknod 133
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define SPLICE_F_MOVE 1
#define SPLICE_F_NONBLOCK 2
#define SPLICE_F_MORE 4
#define SPLICE_F_GIFT 8
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_APPEND 02000
#define O_PATH 010000000
#define SIGUSR1 10
#define CAP 16384		/* a new pipe's capacity (pipe_impl.h) */

static char pat[70000], got[70000];

#include "bytes.h"

static long splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
		   unsigned flags)
{
	return SYS6(SYS_splice, in, off_in, out, off_out, len, flags);
}

static long tee(int in, int out, size_t len, unsigned flags)
{
	return SYS4(SYS_tee, in, out, len, flags);
}

static void make_pattern(void)
{
	fill_pattern(pat, sizeof(pat));
}

static void mkpipe(int p[2], int flags)
{
	assert_int_equal(SYS2(SYS_pipe2, p, flags), 0);
}

static void put(int fd, const char *buf, size_t n)
{
	assert_int_equal(SYS3(SYS_write, fd, buf, n), (long)n);
}

static void nonblock_fd(int fd, bool on)
{
	assert_int_equal(SYS3(SYS_fcntl, fd, F_SETFL, on ? NB : 0), 0);
}

static long pipesz(int fd, long cmd, long arg)
{
	return SYS3(SYS_fcntl, fd, cmd, arg);
}

/* ------------------------------------------------------ pipe capacity */

static void pipesz_body(void)
{
	int p[2], e;

	mkpipe(p, NB);
	assert_int_equal(pipesz(p[0], F_GETPIPE_SZ, 0), CAP);
	assert_int_equal(pipesz(p[1], F_GETPIPE_SZ, 0), CAP);
	/* rounded up to a power-of-two number of pages, one at least */
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 0), 4096);
	assert_int_equal(pipesz(p[0], F_GETPIPE_SZ, 0), 4096);
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 5000), 8192);
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 3 * 4096), 16384);
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, (1 << 20) + 1), -CUB_EINVAL);
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, -1), -CUB_EINVAL);
	assert_int_equal(pipesz(p[0], F_GETPIPE_SZ, 0), 1 << 20);
	/* a grown pipe takes that many bytes, and no more */
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 65536), 65536);
	assert_int_equal(SYS3(SYS_write, p[1], pat, sizeof(pat)), 65536);
	assert_int_equal(SYS3(SYS_write, p[1], pat, 1), -CUB_EAGAIN);
	/* below the bytes in it: -EBUSY, nothing changes */
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 32768), -CUB_EBUSY);
	expect_bytes(p[0], pat, 65536);
	/* the bytes of a wrapped ring stay, in order, across resizes */
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 8192), 8192);
	put(p[1], pat, 6000);
	expect_bytes(p[0], pat, 5000);
	put(p[1], pat + 6000, 5000);	/* wraps around the end */
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 4096), -CUB_EBUSY);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 65536), 65536);
	put(p[1], pat + 11000, 20000);
	expect_bytes(p[0], pat + 5000, 26000);
	put(p[1], pat, 3000);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 4096), 4096);
	expect_bytes(p[0], pat, 3000);
	expect_empty(p[0]);
	/* not a pipe: -EBADF, as for a bad descriptor or an O_PATH end */
	e = (int)SYS2(SYS_eventfd2, 0, 0);
	assert_true(e >= 0);
	assert_int_equal(pipesz(e, F_GETPIPE_SZ, 0), -CUB_EBADF);
	assert_int_equal(pipesz(e, F_SETPIPE_SZ, 4096), -CUB_EBADF);
	assert_int_equal(pipesz(999, F_GETPIPE_SZ, 0), -CUB_EBADF);
	assert_int_equal(pipesz(-1, F_SETPIPE_SZ, 4096), -CUB_EBADF);
	assert_int_equal(pipesz(1, F_GETPIPE_SZ, 0), -CUB_EBADF);	/* console */
	int fds[] = { p[0], p[1], e };
	closeall(3, fds);
}

static void test_pipesz(void **state)
{
	(void)state;
	make_pattern();
	run(pipesz_body);
}

static size_t heap_in_use(void)
{
	struct cub_heap_stats st;

	cub_heap_stats(&st);
	return st.in_use;
}

/* Memory follows the bytes, not the capacity: a pipe of 1 MiB costs no
 * heap while it holds at most 16 KiB, a block while it holds more, and
 * none again once emptied (Go sizes each pipe of its pool to 1 MiB). */
static void lazy_body(void)
{
	int p[2];
	size_t base;

	mkpipe(p, NB);
	base = heap_in_use();
	assert_int_equal(pipesz(p[1], F_SETPIPE_SZ, 1 << 20), 1 << 20);
	assert_int_equal(heap_in_use(), base);
	put(p[1], pat, CAP);
	assert_int_equal(heap_in_use(), base);
	put(p[1], pat + CAP, 1);		/* 16 KiB + 1: a 32 KiB block */
	assert_true(heap_in_use() >= base + 32768 && heap_in_use() < base + 40000);
	put(p[1], pat + CAP + 1, 40000);	/* 64 KiB */
	assert_true(heap_in_use() >= base + 65536 && heap_in_use() < base + 70000);
	expect_bytes(p[0], pat, CAP + 40001);
	assert_int_equal(heap_in_use(), base);	/* empty: the block went */
	/* shrinking below the block with bytes in it: they move */
	put(p[1], pat, 50000);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 20000), -CUB_EBUSY);
	expect_bytes(p[0], pat, 30000);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 20000), 32768);
	assert_true(heap_in_use() >= base + 32768 && heap_in_use() < base + 40000);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, 0), -CUB_EBUSY);
	expect_bytes(p[0], pat + 30000, 10000);
	assert_int_equal(pipesz(p[0], F_SETPIPE_SZ, CAP), CAP);	/* into ring0 */
	assert_int_equal(heap_in_use(), base);
	expect_bytes(p[0], pat + 40000, 10000);
	expect_empty(p[0]);
	closeall(2, p);
}

static void test_pipesz_lazy(void **state)
{
	(void)state;
	make_pattern();
	run(lazy_body);
}

/* A named pipe (mkfifo) and a reopened end resize the same ring. */
static void fifo_size_body(void)
{
	int r, w, rw;
	char path[32];

	assert_int_equal(SYS3(SYS_mknod, "/ff", 0010000 | 0600, 0), 0);
	r = (int)SYS3(SYS_open, "/ff", O_RDONLY | NB, 0);
	w = (int)SYS3(SYS_open, "/ff", O_WRONLY | NB, 0);
	assert_true(r >= 0 && w >= 0);
	assert_int_equal(pipesz(r, F_GETPIPE_SZ, 0), CAP);
	assert_int_equal(pipesz(w, F_SETPIPE_SZ, 40000), 65536);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", w);
	rw = (int)SYS3(SYS_open, path, O_RDWR, 0);
	assert_true(rw >= 0);
	assert_int_equal(pipesz(rw, F_GETPIPE_SZ, 0), 65536);
	put(w, pat, 30000);
	expect_bytes(r, pat, 30000);
	int fds[] = { r, w, rw };
	closeall(3, fds);
}

static void test_pipesz_fifo(void **state)
{
	(void)state;
	make_pattern();
	run_fresh_proc(fifo_size_body);
}

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

static void set_usr1(uint64_t handler)
{
	struct { uint64_t handler, flags, restorer, mask; } act = {
		handler, 0x04000000 /* SA_RESTORER */, 0x2222000, 0 };
	uint64_t none = 0;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &act, NULL, 8), 0);
}

/* Blocking: an empty source waits for a writer, a full destination for
 * a reader; a signal ends the wait with -EINTR. */
static void blocking_body(void)
{
	struct cub_coro *co;
	void *res;

	set_usr1(0x1111000);
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
	set_usr1(0);
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

/* ------------------------------------------------------ random model */

/* A model of two pipes' bytes: splices, tees, writes, reads and resizes
 * at random, every byte checked. */
struct model {
	int fd[2][2];
	unsigned char q[2][1 << 17];
	size_t len[2], cap[2];
};

static struct model m;

static unsigned char buf[8192];

static void model_write(int i, size_t n, unsigned seed)
{
	long r;

	for (size_t k = 0; k < n; k++)
		buf[k] = (unsigned char)(seed + k * 13);
	r = SYS3(SYS_write, m.fd[i][1], buf, n);
	if (m.len[i] == m.cap[i] || (n <= 4096 && m.cap[i] - m.len[i] < n)) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)CUB_MIN(n, m.cap[i] - m.len[i]));
	memcpy(m.q[i] + m.len[i], buf, (size_t)r);
	m.len[i] += (size_t)r;
}

static void model_read(int i, size_t n)
{
	long r = SYS3(SYS_read, m.fd[i][0], buf, n);
	size_t k = CUB_MIN(n, m.len[i]);

	if (!k) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)k);
	assert_memory_equal(buf, m.q[i], k);
	memmove(m.q[i], m.q[i] + k, m.len[i] - k);
	m.len[i] -= k;
}

static void model_move(int i, size_t n, bool consume)
{
	int j = !i;
	long r = consume ? splice(m.fd[i][0], NULL, m.fd[j][1], NULL, n, SPLICE_F_NONBLOCK)
			 : tee(m.fd[i][0], m.fd[j][1], n, SPLICE_F_NONBLOCK);
	size_t k = CUB_MIN(n, CUB_MIN(m.len[i], m.cap[j] - m.len[j]));

	if (!k) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)k);
	memcpy(m.q[j] + m.len[j], m.q[i], k);
	m.len[j] += k;
	if (consume) {
		memmove(m.q[i], m.q[i] + k, m.len[i] - k);
		m.len[i] -= k;
	}
}

static void model_resize(int i, size_t want)
{
	size_t cap = 4096;
	long r = pipesz(m.fd[i][rand() & 1], F_SETPIPE_SZ, (long)want);

	while (cap < want)
		cap <<= 1;
	if (cap < m.len[i]) {
		assert_int_equal(r, -CUB_EBUSY);
		return;
	}
	assert_int_equal(r, (long)cap);
	m.cap[i] = cap;
}

static void model_body(void)
{
	const char *env = getenv("CUBRT_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : 12345;

	printf("seed %u (CUBRT_SEED)\n", seed);
	srand(seed);
	for (int i = 0; i < 2; i++) {
		mkpipe(m.fd[i], NB);
		m.len[i] = 0;
		m.cap[i] = CAP;
	}
	for (int step = 0; step < 20000; step++) {
		int i = rand() & 1, op = rand() % 10;
		size_t n = 1 + (size_t)rand() % (rand() % 4 ? 600 : 8192);

		if (op < 3)
			model_write(i, n, (unsigned)step);
		else if (op < 5)
			model_read(i, n);
		else if (op < 7)
			model_move(i, n * 4, true);
		else if (op < 9)
			model_move(i, n, false);
		else if (rand() % 8 == 0)
			model_resize(i, (size_t)1 << (12 + rand() % 6));
		assert_int_equal(pipesz(m.fd[i][0], F_GETPIPE_SZ, 0), (long)m.cap[i]);
	}
	for (int i = 0; i < 2; i++) {
		while (m.len[i])
			model_read(i, 8192);
		expect_empty(m.fd[i][0]);
		closeall(2, m.fd[i]);
	}
}

static void test_splice_model(void **state)
{
	(void)state;
	run(model_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipesz),
		cmocka_unit_test(test_pipesz_lazy),
		cmocka_unit_test(test_pipesz_fifo),
		cmocka_unit_test(test_splice_errors),
		cmocka_unit_test(test_splice_pipes),
		cmocka_unit_test(test_splice_blocking),
		cmocka_unit_test(test_tee),
		cmocka_unit_test(test_splice_unix),
		cmocka_unit_test(test_splice_tcp),
		cmocka_unit_test(test_splice_files),
		cmocka_unit_test(test_splice_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
