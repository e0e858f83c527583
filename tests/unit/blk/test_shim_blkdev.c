/*
 * test_shim_blkdev.c - /dev/vda for Linux programs (src/shim/blkdev.c)
 * through the syscall dispatcher, over the host port's file-backed disk:
 * the node (S_IFBLK, 253:0, in /dev's listing), read/write/pread/pwrite
 * at odd offsets and lengths (read-modify-write of partial sectors, a
 * write across the bounce buffer's edge), lseek (SEEK_END is the size),
 * reads at and past the end, writes past the end (-ENOSPC, cut short),
 * fsync/fdatasync, ioctl BLKGETSIZE64/BLKGETSIZE/BLKSSZGET/BLKROGET and
 * an unknown one, and a read-only disk (-EROFS at open for writing,
 * -EBADF for a write on a read-only descriptor). The host file is
 * checked byte for byte.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../shim/sys.h"
#include "../shim/fresh.h"

#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_fsync 74
#define SYS_fdatasync 75
#define SYS_stat 4
#define O_RDONLY 0
#define O_RDWR 2
#define SIZE (1 << 20)
#define BLKROGET 0x125e
#define BLKGETSIZE 0x1260
#define BLKSSZGET 0x1268
#define BLKGETSIZE64 0x80081272

static char path[64];
static int hfd;

static void make_disk(const char *suffix)
{
	char env[96];

	strcpy(path, "/tmp/cubrt_blkdev_XXXXXX");
	hfd = mkstemp(path);
	assert_true(hfd >= 0);
	assert_int_equal(ftruncate(hfd, SIZE), 0);
	snprintf(env, sizeof(env), "%s%s", path, suffix);
	setenv("CUBRT_HOST_DISK", env, 1);
}

static void drop_disk(void)
{
	close(hfd);
	unlink(path);
	unsetenv("CUBRT_HOST_DISK");
}

static void host_bytes(long off, const void *want, size_t n)
{
	char got[8192];

	assert_true(n <= sizeof(got));
	assert_int_equal(pread(hfd, got, n, off), (ssize_t)n);
	assert_memory_equal(got, want, n);
}

static void node_body(void)
{
	struct kstat st;
	long fd;

	assert_int_equal(SYS2(SYS_stat, "/dev/vda", &st), 0);
	assert_int_equal(st.mode & 0170000, 0060000);
	assert_int_equal(st.rdev, (253 << 8) | 0);
	assert_int_equal(SYS2(SYS_stat, "/dev/vdb", &st), -2);	/* ENOENT */
	fd = SYS2(SYS_open, "/dev/vda", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	assert_int_equal(st.mode & 0170000, 0060000);
	assert_int_equal(st.rdev, 253 << 8);
	assert_int_equal(st.size, 0);	/* as Linux: ask BLKGETSIZE64 */
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_node(void **state)
{
	(void)state;
	make_disk("");
	run_fresh(node_body, true);
	drop_disk();
}

static void io_body(void)
{
	static char big[40000], back[40000];
	char buf[64];
	long fd = SYS2(SYS_open, "/dev/vda", O_RDWR);
	uint64_t size = 0;
	int ssz = 0;
	unsigned long sectors = 0;

	assert_true(fd >= 0);
	/* A partial sector in the middle: the rest of the sector survives. */
	assert_int_equal(pwrite(hfd, "0123456789", 10, 995), 10);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "hello, disk", 11, 1000), 11);
	host_bytes(995, "01234hello, disk", 16);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 16, 995), 16);
	assert_memory_equal(buf, "01234hello, disk", 16);
	/* Across sectors 7 and 8, at the file position. */
	assert_int_equal(SYS3(SYS_lseek, fd, 4096 - 3, 0), 4096 - 3);
	assert_int_equal(SYS3(SYS_write, fd, "across", 6), 6);
	host_bytes(4096 - 3, "across", 6);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 1), 4096 + 3);
	assert_int_equal(SYS3(SYS_lseek, fd, -6, 1), 4096 - 3);
	assert_int_equal(SYS3(SYS_read, fd, buf, 6), 6);
	assert_memory_equal(buf, "across", 6);
	/* 40000 bytes at an odd offset: several bounce buffers, both ends
	 * partial. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13 + 5);
	assert_int_equal(SYS4(SYS_pwrite64, fd, big, sizeof(big), 70001), sizeof(big));
	assert_int_equal(SYS4(SYS_pread64, fd, back, sizeof(back), 70001), sizeof(back));
	assert_memory_equal(big, back, sizeof(big));
	host_bytes(70001, big, 8192);
	host_bytes(70001 + 32000, big + 32000, 8000);
	/* The end: SEEK_END, reads at and past it, writes past it. */
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 2), SIZE);
	assert_int_equal(SYS3(SYS_read, fd, buf, 10), 0);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 10, SIZE + 4096), 0);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 10, SIZE - 4), 4);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "tail!!", 6, SIZE - 4), 4);
	host_bytes(SIZE - 4, "tail", 4);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "x", 1, SIZE), -28);	/* ENOSPC */
	assert_int_equal(SYS3(SYS_lseek, fd, -1, 0), -22);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 9), -22);
	/* Flushes and sizes. */
	assert_int_equal(SYS1(SYS_fsync, fd), 0);
	assert_int_equal(SYS1(SYS_fdatasync, fd), 0);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKGETSIZE64, &size), 0);
	assert_int_equal(size, SIZE);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKGETSIZE, &sectors), 0);
	assert_int_equal(sectors, SIZE / 512);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKSSZGET, &ssz), 0);
	assert_int_equal(ssz, 512);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKROGET, &ssz), 0);
	assert_int_equal(ssz, 0);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKGETSIZE64, WILD), -14);
	assert_int_equal(SYS3(SYS_ioctl, fd, 0x5401, buf), -25);	/* TCGETS */
	assert_int_equal(SYS4(SYS_pwrite64, fd, WILD, 10, 0), -14);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_fsync, fd), -9);
}

static void test_io(void **state)
{
	(void)state;
	make_disk("");
	run_fresh(io_body, true);
	drop_disk();
}

static void ro_body(void)
{
	char buf[8];
	long fd;
	int ro = 0;

	assert_int_equal(SYS2(SYS_open, "/dev/vda", O_RDWR), -30);	/* EROFS */
	fd = SYS2(SYS_open, "/dev/vda", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(SYS3(SYS_write, fd, "x", 1), -9);		/* EBADF */
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 4, 0), 4);
	assert_memory_equal(buf, "disk", 4);
	assert_int_equal(SYS3(SYS_ioctl, fd, BLKROGET, &ro), 0);
	assert_int_equal(ro, 1);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_read_only(void **state)
{
	(void)state;
	make_disk(":ro");
	assert_int_equal(pwrite(hfd, "disk", 4, 0), 4);
	run_fresh(ro_body, true);
	host_bytes(0, "disk", 4);
	drop_disk();
}

static void none_body(void)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_stat, "/dev/vda", &st), -2);
}

static void test_no_disk(void **state)
{
	(void)state;
	unsetenv("CUBRT_HOST_DISK");
	run_fresh(none_body, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_disk),
		cmocka_unit_test(test_node),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_read_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
