/*
 * test_shim_pipesz.c - F_GETPIPE_SZ / F_SETPIPE_SZ through the
 * dispatcher: a pipe's capacity (rounding, limits, -EBUSY, the bytes
 * kept across a resize of a wrapped ring), its memory following its
 * bytes rather than its capacity, and named pipes.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipesz),
		cmocka_unit_test(test_pipesz_lazy),
		cmocka_unit_test(test_pipesz_fifo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
