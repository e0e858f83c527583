/*
 * test_shim_blkdev_timeout.c - /dev/vda (src/shim/blkdev.c) over a disk
 * that swallows requests (fakedev.h): a Linux program's pread on it ends
 * with EIO when src/blk's timeout fires (-CUB_ETIMEDOUT inside), and so
 * do its later reads, writes, fsync and BLKFLSBUF on the failed disk.
 * Before that, a read the fake answers works.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/blk.h>
#include <cubrt/time.h>

#include "fakedev.h"
#include "../slow.h"
#include "../shim/sys.h"
#include "../shim/fresh.h"

#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_ioctl 16
#define SYS_fsync 74
#define O_RDWR 2
#define EIO 5
#define BLKFLSBUF 0x1261
#define MS CUB_NSEC_PER_MSEC

static long fd;
static long got = 99;

/* Reads 10 bytes at 1000 into a stack buffer. */
static void *reader(void *arg)
{
	char buf[10];

	(void)arg;
	got = SYS4(SYS_pread64, fd, buf, sizeof(buf), 1000);
	if (got == 10 && buf[0] != 0x33)
		got = -1000;		/* wrong data */
	return NULL;
}

static void timeout_body(void)
{
	uint64_t T = 100 * MS * (uint64_t)test_slowness(), t;
	struct cub_blk_info info;
	struct cub_coro *c;
	struct cub_blk *d;

	fd = SYS2(SYS_open, "/dev/vda", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(cub_blk_open(0, &d), 0);
	assert_int_equal(cub_blk_set_timeout(d, T), 0);

	/* Answered: the data comes back. */
	memset(fake_disk, 0x33, 4096);
	assert_int_equal(cub_coro_spawn(&c, reader, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);
	fake_irq_oldest(0);
	cub_coro_join(c, NULL);
	assert_int_equal(got, 10);

	/* Swallowed: EIO once the timeout has passed. */
	t = cub_time_now();
	assert_int_equal(cub_coro_spawn(&c, reader, NULL, NULL), 0);
	cub_coro_join(c, NULL);
	assert_int_equal(got, -EIO);
	assert_true(cub_time_now() - t >= T);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeouts, 1);
	assert_true(info.failed);

	/* The failed disk: EIO at once for everything. */
	assert_int_equal(SYS4(SYS_pwrite64, fd, "x", 1, 0), -EIO);
	assert_int_equal(SYS1(SYS_fsync, fd), -EIO);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKFLSBUF, 0), -EIO);
	reader(NULL);
	assert_int_equal(got, -EIO);
	assert_int_equal(fake_n, 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_timeout_is_eio(void **state)
{
	(void)state;
	run_fresh(timeout_body, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_is_eio),
	};

	fake_reset(2, 8);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
