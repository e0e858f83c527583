/*
 * persistfix.h - what the persisted-directory tests share
 * (test_shim_persist.c, test_shim_pstore.c): file-backed disks for
 * $CUBRT_HOST_DISK, the slots' headers read from the host file, and
 * nodes made and checked through ramfs. Include first.
 */
#ifndef CUBRT_TEST_SHIM_PERSISTFIX_H
#define CUBRT_TEST_SHIM_PERSISTFIX_H

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

static inline void make_disks(unsigned n, size_t size, const char *suffix)
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

static inline void drop_disks(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		close(hfds[i]);
		unlink(paths[i]);
	}
	unsetenv("CUBRT_HOST_DISK");
	cubi_persist_reset();
}

/* The generation slot `slot`'s header claims on disk 0 (0: no magic). */
static inline uint64_t disk_gen(int slot)
{
	uint8_t h[512];
	uint64_t g;

	assert_int_equal(pread(hfds[0], h, 512, slot * SLOT_BYTES), 512);
	if (memcmp(h, "CUBPRST1", 8))
		return 0;
	memcpy(&g, h + 16, 8);		/* little-endian host */
	return g;
}

static inline void *disk_copy(void)
{
	void *p = malloc(DISK_SIZE);

	assert_int_equal(pread(hfds[0], p, DISK_SIZE, 0), DISK_SIZE);
	return p;
}

static inline void disk_same(const void *was)
{
	void *now = disk_copy();

	assert_memory_equal(now, was, DISK_SIZE);
	free(now);
}

static inline void flip_byte(long off)
{
	uint8_t b;

	assert_int_equal(pread(hfds[0], &b, 1, off), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(hfds[0], &b, 1, off), 1);
}

static inline struct cubi_rnode *mk(struct cubi_rnode *dir, const char *name, uint32_t mode,
			     uint64_t mtime_s)
{
	struct cubi_rnode *n;

	assert_int_equal(cubi_ramfs_create(dir, name, strlen(name), mode, &n), 0);
	assert_int_equal(cubi_ramfs_set_times(n, UINT64_MAX, mtime_s * NS), 0);
	return n;
}

static inline struct cubi_rnode *get(struct cubi_rnode *dir, const char *name)
{
	struct cubi_rnode *n;

	assert_int_equal(cubi_ramfs_lookup(dir, name, strlen(name), &n), 0);
	return n;
}

static inline void expect_node(struct cubi_rnode *n, uint32_t mode, uint64_t size,
			uint64_t mtime_s)
{
	struct cubi_rstat st;

	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.mode, mode);
	if ((mode & CUBI_S_IFMT) != CUBI_S_IFDIR)	/* dirs: ramfs's count */
		assert_int_equal(st.size, size);
	assert_int_equal(st.mtime / NS, mtime_s);
}

#endif
