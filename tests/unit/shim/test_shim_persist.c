/*
 * test_shim_persist.c - the persisted directory (src/shim/persist*.c,
 * cpio_write.c) over the host port's file-backed disks
 * ($CUBRT_HOST_DISK):
 *  - the cpio writer: a tree of files (empty ones too), directories
 *    (empty ones too), symbolic links, a hard link, a device node and a
 *    deep path packed and unpacked again by cubi_cpio_unpack: names,
 *    modes, sizes, bytes, link targets, mtimes; repacking gives the same
 *    bytes; a short buffer is never overrun; errors;
 *  - the slots: CRC-32, A/B alternation, the highest generation chosen,
 *    a torn newest slot (payload or header) ignored, a header in the
 *    wrong slot ignored, both bad = blank, -ENOSPC for an oversize
 *    snapshot leaving the disk as it was, small and read-only disks;
 *  - CUBRT_PERSIST's parser, good and bad values;
 *  - the shim: restore at start, fsync inside (files and the directory)
 *    and outside, sync, syncfs, the exit's snapshot, nothing written when
 *    nothing changed, -ENOSPC and -EIO from fsync/syncfs, a "reboot"
 *    (the tree emptied, restored from the disk), -EBUSY opening the
 *    persisted disk for writing while the other disk and read-only
 *    opens stay allowed, bad values and a missing disk changing nothing.
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

#include <cubrt/heap.h>

#include "sys.h"
#include "fresh.h"
#include "persist.h"
#include "ramfs.h"
#include "vfs.h"

#define SYS_stat 4
#define SYS_lstat 6
#define SYS_pwrite64 18
#define SYS_fsync 74
#define SYS_fdatasync 75
#define SYS_rmdir 84
#define SYS_unlink 87
#define SYS_symlink 88
#define SYS_readlink 89
#define SYS_sync 162
#define SYS_syncfs 306
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define DISK_SIZE (64 * 1024)		/* 128 sectors: slots of 64 */
#define SLOT_BYTES (DISK_SIZE / 2)
#define CAPACITY (SLOT_BYTES - 512)
#define NS 1000000000ull
#define DEEP 40

static char paths[2][64];
static int hfds[2];

/* ------------------------------------------------------------- helpers */

static void make_disks(unsigned n, size_t size, const char *suffix)
{
	char env[200] = "";

	for (unsigned i = 0; i < n; i++) {
		strcpy(paths[i], "/tmp/cubrt_persist_XXXXXX");
		hfds[i] = mkstemp(paths[i]);
		assert_true(hfds[i] >= 0);
		assert_int_equal(ftruncate(hfds[i], (off_t)size), 0);
		snprintf(env + strlen(env), sizeof(env) - strlen(env), "%s%s%s",
			 i ? "," : "", paths[i], i + 1 == n ? suffix : "");
	}
	setenv("CUBRT_HOST_DISK", env, 1);
}

static void drop_disks(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		close(hfds[i]);
		unlink(paths[i]);
	}
	unsetenv("CUBRT_HOST_DISK");
	cubi_persist_reset();
}

/* The generation slot `slot`'s header claims on disk 0 (0: no magic). */
static uint64_t disk_gen(int slot)
{
	uint8_t h[512];
	uint64_t g;

	assert_int_equal(pread(hfds[0], h, 512, slot * SLOT_BYTES), 512);
	if (memcmp(h, "CUBPRST1", 8))
		return 0;
	memcpy(&g, h + 16, 8);		/* little-endian host */
	return g;
}

static void *disk_copy(void)
{
	void *p = malloc(DISK_SIZE);

	assert_int_equal(pread(hfds[0], p, DISK_SIZE, 0), DISK_SIZE);
	return p;
}

static void disk_same(const void *was)
{
	void *now = disk_copy();

	assert_memory_equal(now, was, DISK_SIZE);
	free(now);
}

static void flip_byte(long off)
{
	uint8_t b;

	assert_int_equal(pread(hfds[0], &b, 1, off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(hfds[0], &b, 1, off), 1);
}

static struct cubi_rnode *mk(struct cubi_rnode *dir, const char *name, uint32_t mode,
			     uint64_t mtime_s)
{
	struct cubi_rnode *n;

	assert_int_equal(cubi_ramfs_create(dir, name, strlen(name), mode, &n), 0);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, mtime_s * NS), 0);
	return n;
}

static struct cubi_rnode *get(struct cubi_rnode *dir, const char *name)
{
	struct cubi_rnode *n;

	assert_int_equal(cubi_ramfs_lookup(dir, name, strlen(name), &n), 0);
	return n;
}

static void expect_node(struct cubi_rnode *n, uint32_t mode, uint64_t size,
			uint64_t mtime_s)
{
	struct cubi_rstat st;

	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.mode, mode);
	if ((mode & CUBI_S_IFMT) != CUBI_S_IFDIR)	/* dirs: ramfs's count */
		assert_int_equal(st.size, size);
	assert_int_equal(st.mtime / NS, mtime_s);
}

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

/* ------------------------------------------------------ the cpio writer */

static char big[100000];

/* /src: every kind of node the writer knows, and one it skips. */
static void build_tree(struct cubi_rnode *root)
{
	struct cubi_rnode *src = mk(root, "src", CUBI_S_IFDIR | 0755, 10), *d, *n;
	char name[8];

	n = mk(src, "empty", CUBI_S_IFREG | 0600, 1000);
	n = mk(src, "hello.txt", CUBI_S_IFREG | 0644, 0);
	assert_int_equal(cubi_ramfs_write(n, "hello", 5, 0), 5);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 2000 * NS), 0);
	assert_int_equal(cubi_ramfs_link(n, src, "hl", 2), 0);
	mk(src, "emptydir", CUBI_S_IFDIR | 0700, 3000);
	d = mk(src, "sub", CUBI_S_IFDIR | 0750, 0);
	assert_int_equal(cubi_ramfs_symlink(d, "link", 4, "../hello.txt", 12, &n), 0);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 4000 * NS), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + 3);
	n = mk(d, "big", CUBI_S_IFREG | 0640, 0);
	assert_int_equal(cubi_ramfs_write(n, big, sizeof(big), 0), sizeof(big));
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 5000 * NS), 0);
	assert_int_equal(cubi_ramfs_set_times(d, UINT64_MAX, 6000 * NS), 0);
	assert_int_equal(cubi_ramfs_mknod(src, "null", 4, 0666, 0x103, &n), 0);
	d = src;
	for (int i = 0; i < DEEP; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = mk(d, name, CUBI_S_IFDIR | 0711, 0);
	}
	n = mk(d, "leaf", CUBI_S_IFREG | 0444, 7000);
	assert_int_equal(cubi_ramfs_write(n, "deep", 4, 0), 4);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, 7000 * NS), 0);
	d = src;
	for (int i = 0; i < DEEP; i++) {	/* after their children came */
		snprintf(name, sizeof(name), "d%d", i);
		d = get(d, name);
		assert_int_equal(cubi_ramfs_set_times(d, UINT64_MAX, (8000 + i) * NS), 0);
	}
	assert_int_equal(cubi_ramfs_set_times(src, UINT64_MAX, 10 * NS), 0);
}

/* What build_tree made, found under top (the copy of /src). */
static void check_tree(struct cubi_rnode *top)
{
	struct cubi_rnode *d, *n;
	static char buf[100000];
	char name[8];
	size_t tlen;

	n = get(top, "empty");
	expect_node(n, CUBI_S_IFREG | 0600, 0, 1000);
	n = get(top, "hello.txt");
	expect_node(n, CUBI_S_IFREG | 0644, 5, 2000);
	assert_int_equal(cubi_ramfs_read(n, buf, 10, 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_true(get(top, "hl") != n);	/* a copy, not a link */
	expect_node(get(top, "hl"), CUBI_S_IFREG | 0644, 5, 2000);
	expect_node(get(top, "emptydir"), CUBI_S_IFDIR | 0700, 2 * 32, 3000);
	d = get(top, "sub");
	expect_node(d, CUBI_S_IFDIR | 0750, 4 * 32, 6000);
	n = get(d, "link");
	expect_node(n, CUBI_S_IFLNK | 0777, 12, 4000);
	assert_string_equal(cubi_ramfs_link_target(n, &tlen), "../hello.txt");
	n = get(d, "big");
	expect_node(n, CUBI_S_IFREG | 0640, sizeof(big), 5000);
	assert_int_equal(cubi_ramfs_read(n, buf, sizeof(buf), 0), sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(cubi_ramfs_lookup(top, "null", 4, &n), -CUB_ENOENT);
	d = top;
	for (int i = 0; i < DEEP; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		d = get(d, name);
		expect_node(d, CUBI_S_IFDIR | 0711, 0, 8000 + (uint64_t)i);
	}
	n = get(d, "leaf");
	expect_node(n, CUBI_S_IFREG | 0444, 4, 7000);
	assert_int_equal(cubi_ramfs_read(n, buf, 10, 0), 4);
	assert_memory_equal(buf, "deep", 4);
}

static void roundtrip_body(void)
{
	struct cubi_rnode *root, *dst;
	struct cubi_cpio_stats st, st2;
	uint8_t *a, *b;
	long n, m;

	cubi_fs_lock();
	root = cubi_ramfs_root();
	build_tree(root);
	n = cubi_cpio_write(get(root, "src"), NULL, 0, &st);
	assert_true(n > (long)sizeof(big));
	assert_int_equal(n % 4, 0);
	assert_int_equal(st.files, 5);		/* empty, hello, hl, big, leaf */
	assert_int_equal(st.bytes, 5 + 5 + sizeof(big) + 4);
	assert_int_equal(st.dirs, 2 + DEEP);
	assert_int_equal(st.links, 1);
	a = malloc((size_t)n + 16);
	memset(a, 0xee, (size_t)n + 16);
	assert_int_equal(cubi_cpio_write(get(root, "src"), a, 100, NULL), n);
	for (int i = 100; i < n + 16; i++)	/* a short buffer: not a byte past */
		assert_int_equal(a[i], 0xee);
	assert_int_equal(cubi_cpio_write(get(root, "src"), a, (size_t)n, NULL), n);
	assert_int_equal(a[n], 0xee);
	assert_memory_equal(a, "070701", 6);
	assert_memory_equal(a + n - 14, "TRAILER!!!", 10);
	dst = mk(root, "dst", CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_unpack(a, (size_t)n, dst, NULL), 5 + 2 + DEEP + 1);
	check_tree(dst);
	m = cubi_cpio_write(dst, NULL, 0, &st2);
	assert_int_equal(m, n);
	assert_memory_equal(&st, &st2, sizeof(st));
	b = malloc((size_t)m);
	assert_int_equal(cubi_cpio_write(dst, b, (size_t)m, NULL), m);
	assert_memory_equal(a, b, (size_t)n);	/* the same tree, the same bytes */
	cubi_fs_unlock();
	free(a);
	free(b);
}

static void test_cpio_roundtrip(void **state)
{
	(void)state;
	run_fresh(roundtrip_body, false);
}

static void cpio_errors_body(void)
{
	struct cubi_rnode *root, *d, *n;
	struct cubi_cpio_stats st;
	char name[256];
	uint8_t buf[200];

	cubi_fs_lock();
	root = cubi_ramfs_root();
	d = mk(root, "e", CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_write(d, NULL, 0, &st), 124);	/* the trailer */
	assert_int_equal(st.files + st.dirs + st.links, 0);
	assert_int_equal(cubi_cpio_write(d, buf, sizeof(buf), NULL), 124);
	assert_int_equal(cubi_cpio_unpack(buf, 124, d, NULL), 0);
	n = mk(d, "f", CUBI_S_IFREG | 0644, 0);
	assert_int_equal(cubi_cpio_write(n, NULL, 0, NULL), -CUB_ENOTDIR);
	memset(name, 'n', 255);
	name[255] = '\0';
	for (int i = 0; i < 17; i++)	/* 17 * 256 bytes: past 4095 */
		d = mk(d, name, CUBI_S_IFDIR | 0755, 0);
	assert_int_equal(cubi_cpio_write(get(root, "e"), NULL, 0, NULL), -CUB_ENAMETOOLONG);
	cubi_fs_unlock();
}

static void test_cpio_errors(void **state)
{
	(void)state;
	run_fresh(cpio_errors_body, false);
}

/* ------------------------------------------------------------ the slots */

static struct cub_blk *disk0(void)
{
	struct cub_blk *dev;

	assert_int_equal(cub_blk_open(0, &dev), 0);
	return dev;
}

/* Opens the store and checks what it finds: generation gen, holding
 * text (NULL: blank). */
static void expect_store(struct cubi_pstore *s, uint64_t gen, const char *text)
{
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(s, disk0(), &p, &len), 0);
	assert_int_equal(s->gen, gen);
	if (!text) {
		assert_null(p);
		assert_int_equal(len, 0);
		assert_int_equal(s->slot, -1);
		return;
	}
	assert_int_equal(len, strlen(text));
	assert_memory_equal(p, text, len);
	cub_free(p);
}

static void save(struct cubi_pstore *s, const char *text, int slot)
{
	assert_int_equal(cubi_pstore_save(s, text, strlen(text)), 0);
	assert_int_equal(s->slot, slot);
	assert_int_equal(disk_gen(slot), s->gen);
}

static void slots_body(void)
{
	struct cubi_pstore s;

	expect_store(&s, 0, NULL);			/* all zeros: blank */
	assert_int_equal(cubi_pstore_capacity(&s), CAPACITY);
	save(&s, "one", 0);
	assert_int_equal(s.gen, 1);
	expect_store(&s, 1, "one");
	save(&s, "two", 1);
	expect_store(&s, 2, "two");
	assert_int_equal(disk_gen(0), 1);		/* the old one stays */
	save(&s, "three", 0);
	expect_store(&s, 3, "three");
	save(&s, "four", 1);
	/* Torn newest payload (slot B, gen 4): gen 3 wins. */
	flip_byte(SLOT_BYTES + 512 + 2);
	expect_store(&s, 3, "three");
	assert_int_equal(s.slot, 0);
	save(&s, "five", 1);				/* over the torn one */
	assert_int_equal(s.gen, 4);
	expect_store(&s, 4, "five");
	/* Torn newest header: the generation field changed, CRC wrong. */
	flip_byte(SLOT_BYTES + 16);
	expect_store(&s, 3, "three");
	/* Both bad: blank; the next snapshot is generation 1 in A. */
	flip_byte(512);
	expect_store(&s, 0, NULL);
	save(&s, "again", 0);
	assert_int_equal(s.gen, 1);
	expect_store(&s, 1, "again");
}

static void test_slots(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(slots_body, false);
	drop_disks(1);
}

/* A whole valid slot (header and payload) copied into the other slot
 * does not count there: its header names the slot it belongs to. */
static void wrong_slot_body(void)
{
	struct cubi_pstore s;
	uint8_t sec[1024];

	expect_store(&s, 0, NULL);
	save(&s, "aaaa", 0);
	save(&s, "bbbb", 1);
	save(&s, "cccc", 0);			/* gen 3 in A, 2 in B */
	assert_int_equal(pread(hfds[0], sec, 1024, 0), 1024);
	assert_int_equal(pwrite(hfds[0], sec, 1024, SLOT_BYTES), 1024);
	assert_int_equal(disk_gen(1), 3);	/* B's claims 3 now */
	flip_byte(512);				/* A torn: B's copy must not count */
	expect_store(&s, 0, NULL);
}

static void test_wrong_slot(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(wrong_slot_body, false);
	drop_disks(1);
}

static char huge[CAPACITY + 1];

static void nospace_body(void)
{
	struct cubi_pstore s;
	void *was;

	expect_store(&s, 0, NULL);
	save(&s, "first", 0);
	save(&s, "second", 1);
	was = disk_copy();
	memset(huge, 'h', sizeof(huge));
	assert_int_equal(cubi_pstore_save(&s, huge, CAPACITY + 1), -CUB_ENOSPC);
	assert_int_equal(s.gen, 2);
	assert_int_equal(s.slot, 1);
	disk_same(was);
	free(was);
	expect_store(&s, 2, "second");
	assert_int_equal(cubi_pstore_save(&s, huge, CAPACITY), 0);	/* just fits */
	huge[CAPACITY] = '\0';
	expect_store(&s, 3, huge);
	assert_int_equal(s.slot, 0);
}

static void test_nospace(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, "");
	run_fresh(nospace_body, false);
	drop_disks(1);
}

static void small_body(void)
{
	struct cubi_pstore s;
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(&s, disk0(), &p, &len), -CUB_EINVAL);
	assert_int_equal(cubi_pstore_open(&s, NULL, &p, &len), -CUB_EINVAL);
}

static void test_small_disk(void **state)
{
	(void)state;
	make_disks(1, 3 * 512 + 100, "");		/* 3 sectors */
	run_fresh(small_body, false);
	drop_disks(1);
}

static void ro_body(void)
{
	struct cubi_pstore s;
	void *p;
	size_t len;

	assert_int_equal(cubi_pstore_open(&s, disk0(), &p, &len), -CUB_EROFS);
}

static void test_ro_disk(void **state)
{
	(void)state;
	make_disks(1, DISK_SIZE, ":ro");
	run_fresh(ro_body, false);
	drop_disks(1);
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
		cmocka_unit_test(test_cpio_roundtrip),
		cmocka_unit_test(test_cpio_errors),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_wrong_slot),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_small_disk),
		cmocka_unit_test(test_ro_disk),
		cmocka_unit_test(test_shim_reboot),
		cmocka_unit_test(test_shim_busy),
		cmocka_unit_test(test_shim_bad),
		cmocka_unit_test(test_shim_ro),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
