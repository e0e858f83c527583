/*
 * test_shim_blkdev_timeout.c - /dev/vda (src/shim/blkdev.c) over a disk
 * that swallows requests (fakedev.h): a Linux program's pread on it ends
 * with EIO when src/blk's timeout fires (-CUB_ETIMEDOUT inside), and so
 * do its later reads, writes, fsync and BLKFLSBUF on the failed disk.
 * Before that, a read the fake answers works. After cub_blk_recover the
 * same descriptor works again (the EIO was not sticky): pwrite, pread of
 * what it wrote, fsync.
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

static long got_w = 99, got_s = 99;

/* Writes 10 bytes of 0x33 at 1000 (a read-modify-write of sector 1). */
static void *writer(void *arg)
{
	char buf[10];

	(void)arg;
	memset(buf, 0x33, sizeof(buf));
	got_w = SYS4(SYS_pwrite64, fd, buf, sizeof(buf), 1000);
	return NULL;
}

static void *syncer(void *arg)
{
	(void)arg;
	got_s = SYS1(SYS_fsync, fd);
	return NULL;
}

/* Answers the fake's requests until *res is set. */
static void answer_all(long *res)
{
	*res = 99;
	cub_coro_yield();
	while (*res == 99) {
		if (fake_n)
			fake_irq_oldest(0);
		cub_coro_yield();
	}
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

	/* Recovered: the same descriptor works again. */
	assert_int_equal(cub_blk_recover(d), 0);
	memset(fake_disk + 1000, 0, 10);	/* the read must see the write */
	assert_int_equal(cub_coro_spawn(&c, writer, NULL, NULL), 0);
	answer_all(&got_w);
	cub_coro_join(c, NULL);
	assert_int_equal(got_w, 10);
	assert_int_equal(fake_disk[1009], 0x33);
	assert_int_equal(cub_coro_spawn(&c, reader, NULL, NULL), 0);
	answer_all(&got);
	cub_coro_join(c, NULL);
	assert_int_equal(got, 10);
	assert_int_equal(cub_coro_spawn(&c, syncer, NULL, NULL), 0);
	answer_all(&got_s);
	cub_coro_join(c, NULL);
	assert_int_equal(got_s, 0);
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
