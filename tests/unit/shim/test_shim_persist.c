/*
 * test_shim_persist.c - the persisted directory (src/shim/persist.c,
 * persist_cfg.c) over the host port's file-backed disks
 * ($CUBRT_HOST_DISK): CUBRT_PERSIST's parser, good and bad values;
 * CRC-32; and through the dispatcher: restore at start, fsync inside
 * (files, the directory, an unlinked file) and outside, fdatasync, sync,
 * syncfs, the exit's snapshot, nothing written when nothing changed,
 * -ENOSPC and -EIO from fsync/syncfs leaving the disk as it was, a
 * "reboot" (the tree emptied, restored from the disk), -EBUSY opening
 * the persisted disk for writing while the other disk and read-only
 * opens stay allowed, bad values, a missing and a read-only disk
 * changing nothing. The archive and the slots: test_shim_pstore.c.
 */
#include "persistfix.h"

/* --------------------------------------------------------------- crc */

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(cubi_crc32("123456789", 9), 0xcbf43926u);
	assert_int_equal(cubi_crc32("", 0), 0);
	assert_int_equal(cubi_crc32("a", 1), 0xe8b7be43u);
}

/* ---------------------------------------------------------- the parser */

static void test_cfg_good(void **state)
{
	struct cubi_persistcfg c;
	char *env[] = { "A=1", "CUBRT_PERSISTX=no", "CUBRT_PERSIST=vdb:/x", NULL };

	(void)state;
	assert_int_equal(cubi_persistcfg_parse("vda:/data", &c), 0);
	assert_int_equal(c.disk, 0);
	assert_string_equal(c.disk_name, "vda");
	assert_string_equal(c.path, "/data");
	assert_int_equal(cubi_persistcfg_parse("vdd:/var/lib/app", &c), 0);
	assert_int_equal(c.disk, 3);
	assert_string_equal(c.path, "/var/lib/app");
	assert_int_equal(cubi_persistcfg_parse("vda:/.hidden/a..b/proc", &c), 0);
	assert_int_equal(cubi_persistcfg_parse("vda:/devices", &c), 0);
	assert_string_equal(cubi_persistcfg_find(env), "vdb:/x");
	assert_null(cubi_persistcfg_find(env + 3));
	assert_null(cubi_persistcfg_find(NULL));
}

static void test_cfg_bad(void **state)
{
	static const char *bad[] = {
		"", "vda", "vda:", "vda:/", "vda:data", "vda://data", "vda:/data/",
		"vda:/a//b", "vda:/./a", "vda:/a/..", "vda:/a/./b", "vde:/data",
		"sda:/data", "vd:/data", "Vda:/data", "vda/data", "vdaa:/data",
		"vda:/proc", "vda:/proc/x", "vda:/dev", "vda:/dev/shm", " vda:/data",
	};
	char longp[400] = "vda:/";
	struct cubi_persistcfg c;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.disk = 9;
		assert_int_equal(cubi_persistcfg_parse(bad[i], &c), -CUB_EINVAL);
		assert_int_equal(c.disk, 0);	/* cleared */
	}
	assert_int_equal(cubi_persistcfg_parse(NULL, &c), -CUB_EINVAL);
	memset(longp + 5, 'x', 255);		/* a path of 256 bytes */
	assert_int_equal(cubi_persistcfg_parse(longp, &c), -CUB_EINVAL);
	longp[5 + 254] = '\0';			/* 255: the most */
	assert_int_equal(cubi_persistcfg_parse(longp, &c), 0);
}

/* ------------------------------------------------------------- the shim */

static char *env_data[] = { "HOME=/root", "CUBRT_PERSIST=vda:/data/app", NULL };

static long put_file(const char *path, const void *text, size_t n)
{
	long fd = SYS3(SYS_open, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(SYS3(SYS_write, fd, text, n), (long)n);
	return fd;
}

static void read_back(const char *path, const char *want)
{
	char buf[64] = "";
	long fd = SYS2(SYS_open, path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(SYS3(SYS_read, fd, buf, sizeof(buf)), (long)strlen(want));
	assert_string_equal(buf, want);
	SYS1(SYS_close, fd);
}

/* The first boot: a blank disk, files, the sync points. */
static void first_boot(void)
{
	struct kstat st;
	long fd, out, dfd;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp", 01777), 0);
	cubi_persist_up(env_data);
	assert_true(cubi_persist_owns(0));
	assert_false(cubi_persist_owns(1));
	assert_int_equal(SYS2(SYS_stat, "/data/app", &st), 0);
	assert_int_equal(st.mode & 0170000, 0040000);
	assert_int_equal(disk_gen(0) + disk_gen(1), 0);	/* nothing written */
	fd = put_file("/data/app/f", "first", 5);
	assert_int_equal(SYS1(SYS_fsync, fd), 0);
	assert_int_equal(disk_gen(0), 1);
	assert_int_equal(SYS1(SYS_fdatasync, fd), 0);	/* unchanged: no write */
	assert_int_equal(disk_gen(1), 0);
	/* A change, but fsync outside the directory: nothing. */
	assert_int_equal(SYS4(SYS_pwrite64, fd, "FIRST", 5, 0), 5);
	out = put_file("/tmp/x", "x", 1);
	assert_int_equal(SYS1(SYS_fsync, out), 0);
	assert_int_equal(disk_gen(1), 0);
	/* syncfs of any descriptor: generation 2 in B. */
	assert_int_equal(SYS1(SYS_syncfs, out), 0);
	assert_int_equal(disk_gen(1), 2);
	assert_int_equal(SYS1(SYS_syncfs, 999), -CUB_EBADF);
	/* sync: generation 3 in A. */
	assert_int_equal(SYS2(SYS_mkdir, "/data/app/sub", 0755), 0);
	assert_int_equal(SYS0(SYS_sync), 0);
	assert_int_equal(disk_gen(0), 3);
	/* fsync of the directory itself, and of one below it. */
	assert_int_equal(SYS2(SYS_symlink, "../f", "/data/app/sub/l"), 0);
	dfd = SYS2(SYS_open, "/data/app/sub", O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(SYS1(SYS_fsync, dfd), 0);
	assert_int_equal(disk_gen(1), 4);
	SYS1(SYS_close, dfd);
	/* The exit's snapshot. */
	put_file("/data/app/late", "late", 4);
	cubi_persist_exit();
	assert_int_equal(disk_gen(0), 5);
	cubi_persist_exit();				/* nothing changed */
	assert_int_equal(disk_gen(1), 4);
	SYS1(SYS_close, fd);
	SYS1(SYS_close, out);
}

/* The second boot: what the first left, and the failures. */
static void second_boot(void)
{
	char buf[32] = "";
	static char blob[CAPACITY];
	void *was;
	long fd;

	cubi_persist_up(env_data);
	assert_true(cubi_persist_owns(0));
	read_back("/data/app/f", "FIRST");
	read_back("/data/app/late", "late");
	assert_int_equal(SYS3(SYS_readlink, "/data/app/sub/l", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "../f");
	/* Larger than a slot: -ENOSPC, the disk unchanged. */
	was = disk_copy();
	fd = put_file("/data/app/blob", blob, sizeof(blob));
	assert_int_equal(SYS1(SYS_fsync, fd), -CUB_ENOSPC);
	assert_int_equal(SYS1(SYS_syncfs, fd), -CUB_ENOSPC);
	cubi_persist_exit();				/* told, nothing written */
	disk_same(was);
	assert_int_equal(SYS1(SYS_unlink, "/data/app/blob"), 0);
	/* Unlinked, it is still in its last directory; the tree is the
	 * restored one again: nothing to write. */
	assert_int_equal(SYS1(SYS_fsync, fd), 0);
	assert_int_equal(disk_gen(1), 4);
	SYS1(SYS_close, fd);
	fd = put_file("/data/app/g", "g", 1);
	assert_int_equal(SYS1(SYS_fdatasync, fd), 0);
	assert_int_equal(disk_gen(1), 6);
	SYS1(SYS_close, fd);
	free(was);
	/* The directory gone: -EIO, the disk unchanged. */
	assert_int_equal(SYS1(SYS_unlink, "/data/app/sub/l"), 0);
	assert_int_equal(SYS1(SYS_rmdir, "/data/app/sub"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/data/app/f"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/data/app/late"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/data/app/g"), 0);
	assert_int_equal(SYS1(SYS_rmdir, "/data/app"), 0);
	was = disk_copy();
	fd = SYS2(SYS_open, "/data", O_RDONLY | O_DIRECTORY);
	assert_int_equal(SYS1(SYS_syncfs, fd), -CUB_EIO);
	assert_int_equal(SYS1(SYS_fsync, fd), 0);	/* not inside */
	disk_same(was);
	free(was);
	SYS1(SYS_close, fd);
}

/* -EBUSY for the persisted disk only, and only for writing. */
static void busy_body(void)
{
	long fd;

	cubi_persist_up((char *[]){ "CUBRT_PERSIST=vdb:/keep", NULL });
	assert_true(cubi_persist_owns(1));
	assert_int_equal(SYS2(SYS_open, "/dev/vdb", O_RDWR), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_open, "/dev/vdb", O_WRONLY), -CUB_EBUSY);
	fd = SYS2(SYS_open, "/dev/vdb", O_RDONLY);
	assert_true(fd >= 0);
	SYS1(SYS_close, fd);
	fd = SYS2(SYS_open, "/dev/vda", O_RDWR);
	assert_true(fd >= 0);
	SYS1(SYS_close, fd);
}

static void reboot_body(void)
{
	first_boot();
	cubi_persist_reset();
	cubi_fs_lock();
	cubi_ramfs_reset();
	cubi_dev_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	second_boot();
}

static void test_shim_reboot(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(reboot_body, true);
	drop_disks(1);
}

static void test_shim_busy(void **state)
{
	(void)state;
	make_disks(2, DISK_SIZE, "");
	run_fresh(busy_body, true);
	drop_disks(2);
}

static const char zeros[DISK_SIZE];

/* Bad values and a missing disk: no persistence, nothing made. */
static void bad_body(void)
{
	struct kstat st;
	long fd;

	cubi_persist_up((char *[]){ "CUBRT_PERSIST=vda:data", NULL });
	assert_false(cubi_persist_owns(0));
	cubi_persist_up((char *[]){ "CUBRT_PERSIST=vdb:/data", NULL });
	assert_false(cubi_persist_owns(1));
	assert_int_equal(SYS2(SYS_stat, "/data", &st), -CUB_ENOENT);
	cubi_persist_up((char *[]){ "OTHER=1", NULL });
	assert_false(cubi_persist_owns(0));
	fd = SYS2(SYS_open, "/dev/vda", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(SYS1(SYS_fsync, fd), 0);
	assert_int_equal(SYS0(SYS_sync), 0);
	SYS1(SYS_close, fd);
	disk_same(zeros);
}

static void test_shim_bad(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(bad_body, true);
	drop_disks(1);
}

/* A read-only disk: no persistence (a store that cannot be written). */
static void ro_shim_body(void)
{
	cubi_persist_up(env_data);
	assert_false(cubi_persist_owns(0));
}

static void test_shim_ro(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, ":ro");
	run_fresh(ro_shim_body, true);
	drop_disks(1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_cfg_good),
		cmocka_unit_test(test_cfg_bad),
		cmocka_unit_test(test_shim_reboot),
		cmocka_unit_test(test_shim_busy),
		cmocka_unit_test(test_shim_bad),
		cmocka_unit_test(test_shim_ro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
