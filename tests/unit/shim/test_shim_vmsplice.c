/*
 * test_shim_vmsplice.c - vmsplice through the dispatcher: iovecs into a
 * pipe's write side (what fits, a full pipe with and without
 * SPLICE_F_NONBLOCK, no reader: EPIPE and SIGPIPE, a blocked call woken
 * by a reader), out of a read side into iovecs (empty, end of file, a
 * blocked call woken by a writer), and the errors (flags, bad and
 * non-pipe descriptors, O_PATH, too many iovecs, bad lengths, unmapped
 * arrays and buffers - a bad buffer takes nothing out of the pipe).
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
#include "sys.h"
#include "sock.h"
#include "sigpipe.h"

#define SYS_vmsplice 278
#define SYS_eventfd2 290
#define SPLICE_F_NONBLOCK 2
#define SPLICE_F_GIFT 8
#define CAP 16384

static char pat[40000], got[40000];

#include "bytes.h"

static long vmsplice(int fd, const struct iov *iov, unsigned long n, unsigned flags)
{
	return SYS4(SYS_vmsplice, fd, iov, n, flags);
}

static void make_pattern(void)
{
	fill_pattern(pat, sizeof(pat));
}

static void mkpipe(int p[2], int flags)
{
	assert_int_equal(SYS2(SYS_pipe2, p, flags), 0);
}

static void into_pipe_body(void)
{
	int p[2];
	struct iov v[3] = { { pat, 100 }, { pat + 100, 0 }, { pat + 100, 900 } };

	set_sigpipe(SIGPIPE_HANDLER);
	mkpipe(p, 0);
	assert_int_equal(vmsplice(p[1], v, 3, SPLICE_F_GIFT), 1000);
	expect_bytes(p[0], pat, 1000);
	/* what fits, then -EAGAIN with the flag */
	struct iov big = { pat, 20000 };
	assert_int_equal(vmsplice(p[1], &big, 1, SPLICE_F_NONBLOCK), CAP);
	assert_int_equal(vmsplice(p[1], &big, 1, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	expect_bytes(p[0], pat, CAP);
	assert_int_equal(vmsplice(p[1], v, 0, 0), 0);		/* no bytes */
	/* no reader: EPIPE and SIGPIPE */
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(vmsplice(p[1], v, 1, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	set_sigpipe(0);
}

static void test_vmsplice_into_pipe(void **state)
{
	(void)state;
	make_pattern();
	run(into_pipe_body);
}

static void out_of_pipe_body(void)
{
	int p[2];
	char a[10], b[30];
	struct iov v[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	mkpipe(p, 0);
	assert_int_equal(vmsplice(p[0], v, 2, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_write, p[1], pat, 25), 25);
	assert_int_equal(vmsplice(p[0], v, 2, 0), 25);
	assert_memory_equal(a, pat, 10);
	assert_memory_equal(b, pat + 10, 15);
	/* an unmapped buffer: -EFAULT, and the bytes stay */
	struct iov bad[2] = { { a, sizeof(a) }, { (void *)WILD, 10 } };
	assert_int_equal(SYS3(SYS_write, p[1], pat, 15), 15);
	assert_int_equal(vmsplice(p[0], bad, 2, 0), -CUB_EFAULT);
	expect_bytes(p[0], pat, 15);
	/* end of file */
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	assert_int_equal(vmsplice(p[0], v, 2, 0), 0);
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
}

static void test_vmsplice_out_of_pipe(void **state)
{
	(void)state;
	make_pattern();
	run(out_of_pipe_body);
}

static int bp[2];
static char bbuf[64];

static void *blocked_out(void *arg)
{
	struct iov v = { bbuf, sizeof(bbuf) };

	(void)arg;
	return (void *)vmsplice(bp[0], &v, 1, 0);
}

static void *blocked_in(void *arg)
{
	struct iov v = { pat, 100 };

	(void)arg;
	return (void *)vmsplice(bp[1], &v, 1, 0);
}

/* A blocked call waits for a writer (reading) or a reader (writing). */
static void blocking_body(void)
{
	struct cub_coro *co;
	void *res;

	mkpipe(bp, 0);
	assert_int_equal(cub_coro_spawn(&co, blocked_out, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_write, bp[1], pat, 20), 20);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 20);
	assert_memory_equal(bbuf, pat, 20);
	assert_int_equal(SYS3(SYS_write, bp[1], pat, CAP), CAP);
	assert_int_equal(cub_coro_spawn(&co, blocked_in, NULL, NULL), 0);
	cub_coro_yield();		/* full: it waits */
	expect_bytes(bp[0], pat, 1000);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 100);
	expect_bytes(bp[0], pat + 1000, CAP - 1000);
	expect_bytes(bp[0], pat, 100);
	closeall(2, bp);
}

static void test_vmsplice_blocking(void **state)
{
	(void)state;
	make_pattern();
	run(blocking_body);
}

static void errors_body(void)
{
	int p[2], s[2], e;
	struct iov v = { pat, 10 }, neg = { pat, (size_t)-1 };
	static struct iov many[1025];

	mkpipe(p, NB);
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, s), 0);
	e = (int)SYS2(SYS_eventfd2, 0, 0);
	assert_int_equal(vmsplice(p[1], &v, 1, 0x10), -CUB_EINVAL);
	assert_int_equal(vmsplice(999, &v, 1, 0), -CUB_EBADF);
	assert_int_equal(vmsplice(s[0], &v, 1, 0), -CUB_EBADF);	/* not a pipe */
	assert_int_equal(vmsplice(e, &v, 1, 0), -CUB_EBADF);
	assert_int_equal(vmsplice(p[1], many, 1025, 0), -CUB_EINVAL);
	assert_int_equal(vmsplice(p[1], &neg, 1, 0), -CUB_EINVAL);
	assert_int_equal(vmsplice(p[1], (struct iov *)WILD, 1, 0), -CUB_EFAULT);
	struct iov bad = { (void *)WILD, 10 };
	assert_int_equal(vmsplice(p[1], &bad, 1, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, p[0], got, 10), -CUB_EAGAIN);	/* nothing in */
	int fds[] = { p[0], p[1], s[0], s[1], e };
	closeall(5, fds);
}

static void test_vmsplice_errors(void **state)
{
	(void)state;
	make_pattern();
	run(errors_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmsplice_into_pipe),
		cmocka_unit_test(test_vmsplice_out_of_pipe),
		cmocka_unit_test(test_vmsplice_blocking),
		cmocka_unit_test(test_vmsplice_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
