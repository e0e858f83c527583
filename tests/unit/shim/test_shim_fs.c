/*
 * test_shim_fs.c - the file-system calls through the dispatcher: open and
 * its flags, reads and writes at the position and at offsets, lseek,
 * stat, directory listings, the name calls (mkdir, rename, unlink,
 * rmdir), the working directory, dup and its sharing of the position,
 * the /dev devices, file mappings, symbolic and hard links (walks
 * through links, loops, the calls that follow a link and those that do
 * not), and the error every bad argument gets. Each test runs in a coroutine
 * (the fs lock is a coroutine mutex) on a fresh tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "host.h"
#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"

#define SYS_stat 4
#define SYS_lstat 6
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_access 21
#define SYS_dup 32
#define SYS_dup2 33
#define SYS_fsync 74
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_getcwd 79
#define SYS_symlink 88
#define SYS_fchdir 81
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_creat 85
#define SYS_unlink 87
#define SYS_readlink 89
#define SYS_chmod 90
#define SYS_umask 95
#define SYS_getdents64 217
#define SYS_newfstatat 262
#define SYS_unlinkat 263
#define SYS_renameat2 316
#define SYS_utimensat 280
#define SYS_dup3 292

#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define ENODEV 19
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_DIRECTORY 0200000
#define O_CLOEXEC 02000000
#define O_TMPFILE (020000000 | O_DIRECTORY)
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define AT_REMOVEDIR 0x200
#define ENOTDIR 20
#define EISDIR 21
#define ENOTEMPTY 39
#define ENAMETOOLONG 36
#define EMFILE 24
#define ESPIPE 29
#define ENXIO 6
#define EOPNOTSUPP 95

static char buf[8192];

/* Each test body runs on an emptied tree with /dev (fresh.h). */
static void run(void (*body)(void))
{
	run_fresh(body, true);
}

/* A fresh file with content s: its descriptor (read-write). */
static int make(const char *path, const char *s)
{
	int fd = (int)SYS4(SYS_openat, AT_FDCWD, path, O_CREAT | O_RDWR | O_TRUNC, 0644);

	assert_true(fd >= 3);
	assert_int_equal(SYS3(SYS_write, fd, s, strlen(s)), (long)strlen(s));
	return fd;
}

static long kstat(const char *path, struct kstat *st)
{
	return SYS2(SYS_stat, path, st);
}

/* ----------------------------------------------------------------- open */

static void open_body(void)
{
	static char longpath[5000], longname[300];
	int fd = make("/f", "data");

	memset(longpath, 'a', sizeof(longpath) - 1);
	memset(longname, 'b', sizeof(longname) - 1);
	longname[0] = '/';
	assert_int_equal(SYS2(SYS_open, "", 0), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_open, WILD, 0), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_open, longpath, 0), -ENAMETOOLONG);
	assert_int_equal(SYS3(SYS_open, longname, O_CREAT, 0644), -ENAMETOOLONG);
	assert_int_equal(SYS2(SYS_open, "/missing", 0), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_open, "/missing/x", O_CREAT, 0644), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_open, "/new/", O_CREAT, 0644), -EISDIR);
	assert_int_equal(SYS2(SYS_open, "/f/", 0), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/f/x", 0), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/f", O_DIRECTORY), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/", O_WRONLY), -EISDIR);
	assert_int_equal(SYS3(SYS_open, ".", O_CREAT, 0644), -EISDIR);
	assert_int_equal(SYS3(SYS_open, "/f", O_CREAT | O_EXCL, 0644), -CUB_EEXIST);
	assert_int_equal(SYS3(SYS_open, "/", O_CREAT | O_EXCL, 0644), -CUB_EEXIST);
	assert_int_equal(SYS3(SYS_open, "/tmpf", O_TMPFILE | O_RDWR, 0600), -EOPNOTSUPP);
	assert_int_equal(SYS4(SYS_openat, 200, "rel", 0, 0), -CUB_EBADF);
	assert_int_equal(SYS4(SYS_openat, fd, "rel", 0, 0), -ENOTDIR);
	assert_int_equal(SYS4(SYS_openat, 200, "/f", 0, 0), 4);	/* absolute: dirfd unused */
	assert_int_equal(SYS1(SYS_close, 4), 0);
	assert_int_equal(SYS2(SYS_creat, "/c", 0600), 4);
	assert_int_equal(SYS3(SYS_read, 4, buf, 1), -CUB_EBADF);	/* write-only */
	assert_int_equal(SYS1(SYS_close, 4), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	/* O_TRUNC empties, and "//f/./" style paths are one name. */
	fd = (int)SYS3(SYS_open, "//./f", O_RDWR | O_TRUNC, 0);
	assert_true(fd >= 3);
	assert_int_equal(SYS3(SYS_read, fd, buf, sizeof(buf)), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_open(void **state)
{
	(void)state;
	run(open_body);
}

/* ------------------------------------------------------ reads and writes */

static void rw_body(void)
{
	struct { void *base; size_t len; } iov[2] = { { buf, 3 }, { buf + 10, 10 } };
	int fd = make("/f", "hello world"), ro, pipefd[2];

	assert_int_equal(SYS3(SYS_lseek, fd, 0, 1), 11);		/* SEEK_CUR */
	assert_int_equal(SYS3(SYS_lseek, fd, -5, 2), 6);		/* SEEK_END */
	assert_int_equal(SYS3(SYS_read, fd, buf, 100), 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(SYS3(SYS_read, fd, buf, 100), 0);		/* EOF */
	assert_int_equal(SYS3(SYS_lseek, fd, -1, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 9), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_lseek, fd, 3, 3), 3);		/* SEEK_DATA */
	assert_int_equal(SYS3(SYS_lseek, fd, 3, 4), 11);		/* SEEK_HOLE */
	assert_int_equal(SYS3(SYS_lseek, fd, 11, 3), -ENXIO);
	/* A write past the end leaves a gap of zeros. */
	assert_int_equal(SYS3(SYS_lseek, fd, 20, 0), 20);
	assert_int_equal(SYS3(SYS_write, fd, "!", 1), 1);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 100, 9), 12);
	assert_memory_equal(buf, "ld\0\0\0\0\0\0\0\0\0!", 12);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "H", 1, 0), 1);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 1, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 1), 21);	/* pwrite kept it */
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 0), 0);
	assert_int_equal(SYS3(SYS_readv, fd, iov, 2), 13);	/* both segments */
	assert_memory_equal(buf, "Hel", 3);
	assert_memory_equal(buf + 10, "lo world\0\0", 10);
	/* Read-only descriptors, directories, pipes. */
	ro = (int)SYS2(SYS_open, "/f", 0);
	assert_int_equal(SYS3(SYS_write, ro, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_ftruncate, ro, 0), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_close, ro), 0);
	ro = (int)SYS2(SYS_open, "/", O_DIRECTORY);
	assert_int_equal(SYS3(SYS_read, ro, buf, 1), -EISDIR);
	assert_int_equal(SYS1(SYS_close, ro), 0);
	assert_int_equal(SYS1(SYS_pipe, pipefd), 0);
	assert_int_equal(SYS4(SYS_pread64, pipefd[0], buf, 1, 0), -ESPIPE);
	assert_int_equal(SYS3(SYS_lseek, pipefd[0], 0, 0), -ESPIPE);
	assert_int_equal(SYS1(SYS_close, pipefd[0]), 0);
	assert_int_equal(SYS1(SYS_close, pipefd[1]), 0);
	assert_int_equal(SYS1(SYS_fsync, fd), 0);
	assert_int_equal(SYS1(SYS_fsync, 99), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void append_truncate_body(void)
{
	int fd = make("/f", "abc"), ap;

	ap = (int)SYS2(SYS_open, "/f", O_WRONLY | O_APPEND);
	assert_int_equal(SYS3(SYS_write, fd, "X", 1), 1);	/* at 3 */
	assert_int_equal(SYS3(SYS_write, ap, "yz", 2), 2);	/* at the end */
	assert_int_equal(SYS4(SYS_pwrite64, ap, "!", 1, 0), 1);	/* Linux: end too */
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 100, 0), 7);
	assert_memory_equal(buf, "abcXyz!", 7);
	assert_int_equal(SYS2(SYS_ftruncate, fd, 2), 0);
	assert_int_equal(SYS2(SYS_ftruncate, fd, -1), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_truncate, "/f", 4), 0);
	assert_int_equal(SYS2(SYS_truncate, "/", 0), -EISDIR);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 100, 0), 4);
	assert_memory_equal(buf, "ab\0\0", 4);
	assert_int_equal(SYS1(SYS_close, ap), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_rw(void **state)
{
	(void)state;
	run(rw_body);
	run(append_truncate_body);
}

/* ----------------------------------------------------------------- stat */

static void stat_body(void)
{
	struct kstat a, b;
	int fd = make("/f", "12345"), pipefd[2];

	assert_int_equal(kstat("/f", &a), 0);
	assert_int_equal(a.mode, 0100644);
	assert_int_equal(a.size, 5);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(a.blksize, 4096);
	assert_true(a.mtime > 1600000000);	/* the wall clock, not 0 */
	assert_int_equal(SYS2(SYS_fstat, fd, &b), 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(SYS4(SYS_newfstatat, AT_FDCWD, "f", &b, 0), 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(SYS4(SYS_newfstatat, fd, "", &b, AT_EMPTY_PATH), 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(SYS4(SYS_newfstatat, fd, "", &b, 0), -CUB_ENOENT);
	assert_int_equal(SYS4(SYS_newfstatat, AT_FDCWD, "/f", &b, 0x4), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_lstat, "/", &b), 0);
	assert_int_equal(b.mode & 0170000, 0040000);
	assert_int_equal(b.nlink, 3);	/* "/", and /dev below it */
	assert_int_equal(kstat("/f", (void *)WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_fstat, 99, &b), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fstat, 0, &b), 0);
	assert_int_equal(b.mode & 0170000, 0020000);	/* the console */
	assert_int_equal(SYS1(SYS_pipe, pipefd), 0);
	assert_int_equal(SYS4(SYS_newfstatat, pipefd[0], "", &b, AT_EMPTY_PATH), 0);
	assert_int_equal(b.mode & 0170000, 0010000);
	assert_int_equal(SYS1(SYS_close, pipefd[0]), 0);
	assert_int_equal(SYS1(SYS_close, pipefd[1]), 0);
	/* Attributes. */
	assert_int_equal(SYS2(SYS_chmod, "/f", 0755), 0);
	assert_int_equal(kstat("/f", &a), 0);
	assert_int_equal(a.mode, 0100755);
	{
		int64_t ts[4] = { 100, 5, 200, (1l << 30) - 2 };	/* mtime omitted */

		assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, "/f", ts, 0), 0);
		assert_int_equal(kstat("/f", &b), 0);
		assert_int_equal(b.atime, 100);
		assert_int_equal(b.atime_ns, 5);
		assert_int_equal(b.mtime, a.mtime);
		ts[1] = 1000000000;
		assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, "/f", ts, 0), -CUB_EINVAL);
		assert_int_equal(SYS4(SYS_utimensat, fd, NULL, NULL, 0), 0);
	}
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_stat(void **state)
{
	(void)state;
	run(stat_body);
}

/* ------------------------------------------------------------ directories */

/* Names getdents64 returns for the directory at fd, in order, joined
 * by spaces, using a buffer of bufsize bytes per call. */
static const char *listing(int fd, size_t bufsize)
{
	static char names[1024];
	char dents[512];
	long n;

	names[0] = '\0';
	assert_true(bufsize <= sizeof(dents));
	while ((n = SYS3(SYS_getdents64, fd, dents, bufsize)) > 0) {
		for (long off = 0; off < n;) {
			uint16_t reclen;

			memcpy(&reclen, dents + off + 16, 2);
			assert_int_equal(reclen % 8, 0);
			strcat(names, names[0] ? " " : "");
			strcat(names, dents + off + 19);
			off += reclen;
		}
	}
	assert_int_equal(n, 0);
	return names;
}

static void dirs_body(void)
{
	int d;

	assert_int_equal(SYS2(SYS_mkdir, "/a", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/a", 0755), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_mkdir, "/a/..", 0755), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_mkdir, "/x/y", 0755), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_mkdir, "/a/b", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/a/f1", "1")), 0);
	assert_int_equal(SYS1(SYS_close, make("/a/f2", "2")), 0);
	d = (int)SYS2(SYS_open, "/a", O_DIRECTORY);
	assert_string_equal(listing(d, 512), ". .. b f1 f2");
	assert_int_equal(SYS3(SYS_getdents64, d, buf, 512), 0);	/* at the end */
	assert_int_equal(SYS3(SYS_lseek, d, 0, 0), 0);		/* rewinddir */
	assert_string_equal(listing(d, 24), ". .. b f1 f2");	/* one per call */
	assert_int_equal(SYS3(SYS_lseek, d, 0, 0), 0);
	assert_int_equal(SYS3(SYS_getdents64, d, buf, 10), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_getdents64, d, WILD, 100), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_getdents64, 0, buf, 100), -ENOTDIR);
	assert_int_equal(SYS3(SYS_getdents64, 99, buf, 100), -CUB_EBADF);
	/* Removal. */
	assert_int_equal(SYS1(SYS_rmdir, "/a"), -ENOTEMPTY);
	assert_int_equal(SYS1(SYS_rmdir, "/a/f1"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_rmdir, "/a/."), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_rmdir, "/"), -CUB_EBUSY);
	assert_int_equal(SYS1(SYS_unlink, "/a/b"), -EISDIR);
	assert_int_equal(SYS1(SYS_unlink, "/a/f1/"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_unlink, "/a/f1"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/a/f1"), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_unlinkat, d, "b", AT_REMOVEDIR), 0);
	assert_int_equal(SYS3(SYS_unlinkat, d, "f2", 0x1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_unlinkat, d, "f2", 0), 0);
	assert_int_equal(SYS3(SYS_lseek, d, 0, 0), 0);
	assert_string_equal(listing(d, 512), ". ..");
	assert_int_equal(SYS1(SYS_rmdir, "/a"), 0);
	/* The open directory is gone: no new entries, an empty listing. */
	assert_int_equal(SYS4(SYS_openat, d, "n", O_CREAT | O_WRONLY, 0644), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_close, d), 0);
}

static void rename_body(void)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/d/sub", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/e", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/f", "f")), 0);
	assert_int_equal(SYS1(SYS_close, make("/g", "g")), 0);
	assert_int_equal(SYS2(SYS_rename, "/f", "/d"), -EISDIR);
	assert_int_equal(SYS2(SYS_rename, "/d", "/f"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_rename, "/d", "/d/sub/x"), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_rename, "/e", "/d"), -ENOTEMPTY);
	assert_int_equal(SYS2(SYS_rename, "/f/", "/h"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_rename, "/nope", "/h"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_rename, "/", "/h"), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_rename, "/d/.", "/h"), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_renameat2, AT_FDCWD, "/f", AT_FDCWD, "/g", 1, 0), -CUB_EEXIST);
	assert_int_equal(SYS6(SYS_renameat2, AT_FDCWD, "/f", AT_FDCWD, "/g", 2, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_rename, "/f", "/g"), 0);	/* replaces g */
	assert_int_equal(kstat("/f", &st), -CUB_ENOENT);
	assert_int_equal(SYS4(SYS_pread64, (int)SYS2(SYS_open, "/g", 0), buf, 9, 0), 1);
	assert_int_equal(buf[0], 'f');
	assert_int_equal(SYS1(SYS_close, 3), 0);
	assert_int_equal(SYS2(SYS_rename, "/d/", "/e/"), 0);	/* onto an empty dir */
	assert_int_equal(kstat("/e/sub", &st), 0);
	assert_int_equal(SYS2(SYS_rename, "/e", "/e"), 0);
}

static void test_dirs(void **state)
{
	(void)state;
	run(dirs_body);
	run(rename_body);
}

/* ------------------------------------------------- working directory */

/* CUBRT_CWD's value: the program starts there (links followed), or in
 * "/" after a console line saying why not. */
static void start_cwd_body(void)
{
	static char out[1024];

	assert_int_equal(SYS2(SYS_mkdir, "/w", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/w/src", 0755), 0);
	assert_int_equal(SYS2(SYS_symlink, "/w/src", "/ln"), 0);
	assert_int_equal(SYS1(SYS_close, make("/w/f", "x")), 0);
	assert_int_equal(cubi_fs_start_cwd(NULL), 0);		/* unset: "/" */
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 2);
	assert_int_equal(cubi_fs_start_cwd("/ln"), 0);
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "/w/src");
	assert_int_equal(SYS2(SYS_access, "../f", 0), 0);
	cubi_host_capture_console(out, sizeof(out));
	assert_int_equal(cubi_fs_start_cwd("w/src"), -CUB_EINVAL);
	assert_int_equal(cubi_fs_start_cwd("/w/none"), -CUB_ENOENT);
	assert_int_equal(cubi_fs_start_cwd("/w/f"), -ENOTDIR);
	assert_int_equal(cubi_fs_start_cwd(""), -CUB_EINVAL);
	cubi_host_capture_console(NULL, 0);
	assert_non_null(strstr(out, "cwd: CUBRT_CWD=/w/none: "));
	assert_non_null(strstr(out, "the working directory is /\n"));
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 7);	/* kept */
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
}

static void cwd_body(void)
{
	char small[4];
	int d;

	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "/");
	assert_int_equal(SYS2(SYS_mkdir, "/p", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/p/q", 0755), 0);
	assert_int_equal(SYS1(SYS_chdir, "/p/q"), 0);
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "/p/q");
	assert_int_equal(SYS2(SYS_getcwd, small, sizeof(small)), -CUB_ERANGE);
	assert_int_equal(SYS2(SYS_getcwd, WILD, 100), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_close, make("rel", "r")), 0);
	assert_int_equal(SYS2(SYS_access, "/p/q/rel", 4), 0);
	assert_int_equal(SYS2(SYS_access, "../q/./rel", 0), 0);
	assert_int_equal(SYS2(SYS_access, "rel", 1), -CUB_EACCES);	/* 0644 */
	assert_int_equal(SYS2(SYS_access, "rel", 8), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_chdir, "rel"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_chdir, "../../.."), 0);		/* "/" */
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 2);
	d = (int)SYS2(SYS_open, "/p", O_DIRECTORY);
	assert_int_equal(SYS1(SYS_fchdir, d), 0);
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "/p");
	assert_int_equal(SYS1(SYS_fchdir, 0), -ENOTDIR);
	assert_int_equal(SYS3(SYS_readlink, "q/rel", buf, 10), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "q/none", buf, 10), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_close, d), 0);
	/* A removed working directory has no path. */
	assert_int_equal(SYS1(SYS_chdir, "/p/q"), 0);
	assert_int_equal(SYS1(SYS_unlink, "rel"), 0);
	assert_int_equal(SYS1(SYS_rmdir, "/p/q"), 0);
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_open, "new", O_CREAT | O_WRONLY, 0644), -CUB_ENOENT);
	/* umask applies to new files and directories. */
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	assert_int_equal(SYS1(SYS_umask, 077), 022);
	assert_int_equal(SYS1(SYS_close, make("/u", "")), 0);
	assert_int_equal(SYS1(SYS_umask, 022), 077);
	{
		struct kstat st;

		assert_int_equal(kstat("/u", &st), 0);
		assert_int_equal(st.mode, 0100600);
	}
}

static void test_cwd(void **state)
{
	(void)state;
	run(cwd_body);
}

/* ------------------------------------------------------------------ dup */

static void dup_body(void)
{
	int fd = make("/f", "abcdef"), d;

	assert_int_equal(SYS3(SYS_lseek, fd, 1, 0), 1);
	d = (int)SYS1(SYS_dup, fd);
	assert_int_equal(d, fd + 1);
	assert_int_equal(SYS3(SYS_read, d, buf, 2), 2);	/* shares the offset */
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 1), 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS3(SYS_read, d, buf, 9), 3);	/* still open */
	assert_int_equal(SYS2(SYS_dup2, d, d), d);
	assert_int_equal(SYS2(SYS_dup2, 99, d), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_dup2, d, CUBI_FD_MAX), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_dup3, d, d, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_dup3, d, 9, 1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_dup3, d, 9, O_CLOEXEC), 9);
	assert_int_equal(SYS2(SYS_fcntl, 9, 1), 1);		/* FD_CLOEXEC */
	assert_int_equal(SYS3(SYS_fcntl, d, 1030, 20), 20);	/* F_DUPFD_CLOEXEC */
	assert_int_equal(SYS2(SYS_fcntl, 20, 1), 1);
	assert_int_equal(SYS3(SYS_fcntl, d, 0, 20), 21);	/* lowest free >= 20 */
	assert_int_equal(SYS3(SYS_fcntl, d, 0, CUBI_FD_MAX), -CUB_EINVAL);
	for (int i = 9; i <= 21; i++)
		SYS1(SYS_close, i);
	/* stdout into a file and back: the console file survives. */
	assert_int_equal(SYS2(SYS_dup2, 1, 10), 10);
	assert_int_equal(SYS2(SYS_dup2, d, 1), 1);
	assert_int_equal(SYS3(SYS_write, 1, "XY", 2), 2);
	assert_int_equal(SYS2(SYS_dup2, 10, 1), 1);
	assert_int_equal(SYS1(SYS_close, 10), 0);
	assert_int_equal(SYS4(SYS_pread64, d, buf, 10, 0), 8);
	assert_memory_equal(buf, "abcdefXY", 8);
	assert_int_equal(SYS1(SYS_close, d), 0);
	/* Every descriptor taken: EMFILE. */
	fd = make("/g", "");
	while ((d = (int)SYS1(SYS_dup, fd)) >= 0)
		;
	assert_int_equal(d, -EMFILE);
	for (int i = 3; i < CUBI_FD_MAX; i++)
		assert_int_equal(SYS1(SYS_close, i), 0);
}

/* An unlinked open file keeps its data until the last close. */
static void unlinked_body(void)
{
	struct kstat st;
	int fd = make("/f", "kept");

	assert_int_equal(SYS1(SYS_unlink, "/f"), 0);
	assert_int_equal(kstat("/f", &st), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	assert_int_equal(st.nlink, 0);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 10, 0), 4);
	assert_memory_equal(buf, "kept", 4);
	assert_int_equal(SYS1(SYS_close, make("/f", "new")), 0);	/* a new file */
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 10, 0), 4);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* ------------------------------------------------------------ devices */

static void dev_body(void)
{
	struct kstat st;
	char rnd[64] = { 0 }, none[64] = { 0 };
	int null = (int)SYS2(SYS_open, "/dev/null", O_RDWR | O_TRUNC);
	int zero = (int)SYS2(SYS_open, "/dev/zero", 0);
	int full = (int)SYS2(SYS_open, "/dev/full", O_WRONLY);
	int urnd = (int)SYS2(SYS_open, "/dev/urandom", 0);

	assert_true(null >= 3 && zero >= 3 && full >= 3 && urnd >= 3);
	/* /dev/zero maps as anonymous memory, private or shared (shared
	 * and writable only from a descriptor open for both); other devices
	 * do not map. */
	for (int flags = 1; flags <= 2; flags++) {
		char *z = (char *)SYS6(SYS_mmap, 0, 8192, flags == 1 ? 1 : 3, flags, zero, 0);

		assert_true((long)z > 0);
		assert_int_equal(z[5000], 0);
		if (flags == 2)
			z[5000] = 9;
		assert_int_equal(SYS2(SYS_munmap, z, 8192), 0);
	}
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, 3, 1, zero, 0), -CUB_EACCES);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, 3, 2, null, 0), -ENODEV);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, 1, 2, full, 0), -ENODEV);
	assert_int_equal(SYS3(SYS_write, null, "gone", 4), 4);
	assert_int_equal(SYS3(SYS_read, null, buf, 10), 0);
	memset(buf, 1, 10);
	assert_int_equal(SYS3(SYS_read, zero, buf, 10), 10);
	assert_memory_equal(buf, none, 10);
	assert_int_equal(SYS3(SYS_write, full, "x", 1), -CUB_ENOSPC);
	assert_int_equal(SYS3(SYS_read, urnd, rnd, sizeof(rnd)), 64);
	assert_memory_not_equal(rnd, none, sizeof(rnd));
	assert_int_equal(SYS3(SYS_lseek, null, 100, 0), 0);
	assert_int_equal(SYS2(SYS_ftruncate, null, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_fstat, null, &st), 0);
	assert_int_equal(st.mode, 0020666);
	assert_int_equal(st.rdev, 0x103);
	assert_int_equal(kstat("/dev/urandom", &st), 0);
	assert_int_equal(st.rdev, 0x109);
	assert_int_equal(SYS2(SYS_open, "/dev/null", O_DIRECTORY), -ENOTDIR);
	assert_int_equal(SYS1(SYS_close, null), 0);
	assert_int_equal(SYS1(SYS_close, zero), 0);
	assert_int_equal(SYS1(SYS_close, full), 0);
	assert_int_equal(SYS1(SYS_close, urnd), 0);
	null = (int)SYS2(SYS_open, "/dev", O_DIRECTORY);
	assert_string_equal(listing(null, 512),
			    ". .. null zero full random urandom console stdin stdout stderr fd shm tty");
	assert_int_equal(SYS1(SYS_close, null), 0);
	/* /dev/tty: no controlling terminal, as Linux without one. */
	assert_int_equal(kstat("/dev/tty", &st), 0);
	assert_int_equal(st.mode, 0020666);
	assert_int_equal(st.rdev, 0x500);
	assert_int_equal(SYS2(SYS_open, "/dev/tty", O_RDWR), -ENXIO);
	assert_int_equal(SYS2(SYS_open, "/dev/tty", 0400 /* O_NOCTTY */), -ENXIO);
}

/* /dev/console is the console descriptors 0-2 start with; /dev/stdout and
 * the others are links into /proc/self/fd (test_shim_procfs follows
 * them). */
static void console_body(void)
{
	static char out[64];
	struct kstat st;
	char target[32];
	int c = (int)SYS2(SYS_open, "/dev/console", O_WRONLY);

	assert_true(c >= 3);
	cubi_host_capture_console(out, sizeof(out));
	assert_int_equal(SYS3(SYS_write, c, "via /dev/console", 16), 16);
	cubi_host_capture_console(NULL, 0);
	assert_string_equal(out, "via /dev/console");
	assert_int_equal(SYS2(SYS_fstat, c, &st), 0);
	assert_int_equal(st.mode & 0170000, 0020000);
	assert_int_equal(SYS1(SYS_close, c), 0);
	assert_int_equal(SYS3(SYS_write, 1, "", 0), 0);	/* fd 1 still the console */
	assert_int_equal(SYS3(SYS_readlink, "/dev/stdout", target, sizeof(target)), 15);
	assert_memory_equal(target, "/proc/self/fd/1", 15);
	assert_int_equal(SYS3(SYS_readlink, "/dev/fd", target, sizeof(target)), 13);
	assert_int_equal(SYS2(SYS_open, "/dev/stdout", O_WRONLY), -CUB_ENOENT);	/* no /proc */
}

/* ----------------------------------------------------------------- mmap */

#define SYS_mmap 9
#define SYS_munmap 11
#define MAP_SHARED 1
#define MAP_PRIVATE 2
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4

static void mmap_body(void)
{
	static char page2[5000];
	int fd = make("/m", "mapped bytes"), wo, pipefd[2], d;
	char *p;

	memset(page2, 'q', sizeof(page2));
	assert_int_equal(SYS4(SYS_pwrite64, fd, page2, sizeof(page2), 4096), sizeof(page2));
	p = (char *)SYS6(SYS_mmap, 0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true((long)p > 0);
	assert_memory_equal(p, "mapped bytes", 12);
	assert_int_equal(p[4096], 'q');
	p[0] = 'M';				/* private: the file keeps its byte */
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 1, 0), 1);
	assert_int_equal(buf[0], 'm');
	assert_int_equal(SYS2(SYS_munmap, p, 8192), 0);
	/* From an offset, read-only, past the end of the file: zeros. */
	p = (char *)SYS6(SYS_mmap, 0, 8192, PROT_READ, MAP_SHARED, fd, 4096);
	assert_true((long)p > 0);
	assert_int_equal(p[0], 'q');
	assert_int_equal(p[sizeof(page2)], 0);
	assert_int_equal(SYS2(SYS_munmap, p, 8192), 0);
	p = (char *)SYS6(SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	assert_true((long)p > 0);
	assert_int_equal(SYS2(SYS_munmap, p, 4096), 0);
	/* Shared and writable: the file's own page (test_shim_shared). */
	p = (char *)SYS6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true((long)p > 0);
	p[0] = 'S';
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 1, 0), 1);
	assert_int_equal(buf[0], 'S');
	assert_int_equal(SYS2(SYS_munmap, p, 4096), 0);
	/* What cannot be mapped. */
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 100), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, 99, 0), -CUB_EBADF);
	wo = (int)SYS2(SYS_open, "/m", 1);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, wo, 0), -CUB_EACCES);
	d = (int)SYS2(SYS_open, "/", O_DIRECTORY);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, d, 0), -ENODEV);
	assert_int_equal(SYS1(SYS_pipe, pipefd), 0);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, pipefd[0], 0), -ENODEV);
	for (int i = 3; i <= pipefd[1]; i++)
		assert_int_equal(SYS1(SYS_close, i), 0);
}

static void test_mmap(void **state)
{
	(void)state;
	run(mmap_body);
}

static void test_dev(void **state)
{
	(void)state;
	run(dev_body);
	run(console_body);
}

/* Linux's default hard RLIMIT_NOFILE, 4096, and as many descriptors:
 * Go raises its soft limit to it, and its os tests open 1200 files at
 * once (a server keeps one per client). */
static void many_open_body(void)
{
	uint64_t lim[2];
	int fd;

	assert_int_equal(SYS2(SYS_getrlimit, 7, lim), 0);	/* NOFILE */
	assert_int_equal(lim[0], 4096);
	assert_int_equal(lim[1], 4096);
	assert_int_equal(SYS1(SYS_close, make("/many", "x")), 0);
	for (int i = 0; i < 1200; i++) {
		fd = (int)SYS2(SYS_open, "/many", 0);
		assert_int_equal(fd, 3 + i);
	}
	assert_int_equal(SYS3(SYS_read, 1202, buf, 2), 1);
	assert_int_equal(SYS2(SYS_dup2, 3, 4095), 4095);
	assert_int_equal(SYS2(SYS_dup2, 3, 4096), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, 4095), 0);
	for (int i = 0; i < 1200; i++)
		assert_int_equal(SYS1(SYS_close, 3 + i), 0);
}

static void test_start_cwd(void **state)
{
	(void)state;
	run(start_cwd_body);
}

static void test_dup(void **state)
{
	(void)state;
	run(dup_body);
	run(unlinked_body);
	run(many_open_body);
}

/* ------------------------------------------------------------ links */

#define SYS_link 86
#define SYS_linkat 265
#define SYS_symlinkat 266
#define SYS_readlinkat 267
#define SYS_fchmodat2 452
#define SYS_faccessat2 439
#define O_NOFOLLOW 0400000
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_SYMLINK_FOLLOW 0x400
#define S_IFLNK 0120000
#define DT_LNK 10

static long klstat(const char *path, struct kstat *st)
{
	return SYS2(SYS_lstat, path, st);
}

/* The d_type getdents64 gives `name` in directory dir (-1: absent). */
static int dtype(const char *dir, const char *name)
{
	char dents[1024];
	int fd = (int)SYS2(SYS_open, dir, O_DIRECTORY), type = -1;
	long n;

	assert_true(fd >= 3);
	while ((n = SYS3(SYS_getdents64, fd, dents, sizeof(dents))) > 0)
		for (long off = 0; off < n;) {
			uint16_t reclen;

			memcpy(&reclen, dents + off + 16, 2);
			if (strcmp(dents + off + 19, name) == 0)
				type = (unsigned char)dents[off + 18];
			off += reclen;
		}
	assert_int_equal(SYS1(SYS_close, fd), 0);
	return type;
}

/* The whole content of the file at path, NUL-terminated in buf. */
static const char *content(const char *path)
{
	int fd = (int)SYS2(SYS_open, path, 0);
	long n;

	assert_true(fd >= 3);
	n = SYS3(SYS_read, fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_int_equal(SYS1(SYS_close, fd), 0);
	return buf;
}

/* Making links, and every bad argument symlink takes. */
static void symlink_make_body(void)
{
	static char longt[5000];
	struct kstat st, lst;
	int d;

	memset(longt, 't', sizeof(longt) - 1);
	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/d/f", "hello")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/d/l"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d", "/abs"), 0);
	assert_int_equal(SYS2(SYS_symlink, "nowhere", "/dang"), 0);
	d = (int)SYS2(SYS_open, "/d", O_DIRECTORY);
	assert_int_equal(SYS3(SYS_symlinkat, "../d/f", d, "up"), 0);
	assert_int_equal(SYS2(SYS_symlink, "x", "/d/l"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "x", "/dang"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "x", "/d"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "x", "/"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "x", "/d/."), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "", "/e"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_symlink, longt, "/e"), -ENAMETOOLONG);
	assert_int_equal(SYS2(SYS_symlink, WILD, "/e"), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_symlink, "x", WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_symlink, "x", ""), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_symlink, "x", "/no/e"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_symlink, "x", "/d/f/e"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_symlink, "x", "/e/"), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_symlinkat, "x", 99, "e"), -CUB_EBADF);
	/* A target of 4095 bytes is the longest. */
	longt[4095] = '\0';
	assert_int_equal(SYS2(SYS_symlink, longt, "/long"), 0);
	assert_int_equal(klstat("/long", &lst), 0);
	assert_int_equal(lst.size, 4095);
	/* stat follows, lstat and AT_SYMLINK_NOFOLLOW see the link. */
	assert_int_equal(kstat("/d/l", &st), 0);
	assert_int_equal(st.mode, 0100644);
	assert_int_equal(st.size, 5);
	assert_int_equal(klstat("/d/l", &lst), 0);
	assert_int_equal(lst.mode, S_IFLNK | 0777);
	assert_int_equal(lst.size, 1);
	assert_int_equal(lst.nlink, 1);
	assert_true(lst.ino != st.ino);
	assert_int_equal(SYS4(SYS_newfstatat, d, "l", &lst, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(lst.mode, S_IFLNK | 0777);
	assert_int_equal(SYS4(SYS_newfstatat, d, "up", &st, 0), 0);
	assert_int_equal(st.size, 5);
	assert_int_equal(klstat("/abs/", &lst), 0);	/* a '/' follows */
	assert_int_equal(lst.mode & 0170000, 0040000);
	assert_int_equal(klstat("/d/l/", &lst), -ENOTDIR);
	assert_int_equal(kstat("/dang", &st), -CUB_ENOENT);
	assert_int_equal(klstat("/dang", &lst), 0);
	assert_int_equal(SYS2(SYS_access, "/dang", 0), -CUB_ENOENT);
	assert_int_equal(SYS4(SYS_faccessat2, AT_FDCWD, "/dang", 0, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(dtype("/d", "l"), DT_LNK);
	assert_int_equal(dtype("/d", "f"), 8);
	assert_int_equal(dtype("/", "abs"), DT_LNK);
	assert_int_equal(SYS1(SYS_close, d), 0);
}

/* readlink and readlinkat: the target, cut to the buffer, no NUL. */
static void readlink_body(void)
{
	int d;

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/d/f", "hello")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/d/l"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d", "/abs"), 0);
	memset(buf, '#', 8);
	assert_int_equal(SYS3(SYS_readlink, "/d/l", buf, sizeof(buf)), 1);
	assert_memory_equal(buf, "f#", 2);
	assert_int_equal(SYS3(SYS_readlink, "/abs", buf, 1), 1);	/* cut */
	assert_memory_equal(buf, "/#", 2);
	assert_int_equal(SYS3(SYS_readlink, "/abs/l", buf, 8), 1);	/* via a link */
	assert_int_equal(SYS3(SYS_readlink, "/d/f", buf, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "/d", buf, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "/abs/", buf, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "/d/l", buf, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "/d/l", buf, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readlink, "/d/l", WILD, 8), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readlink, WILD, buf, 8), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readlink, "/none", buf, 8), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_readlink, "", buf, 8), -CUB_ENOENT);
	d = (int)SYS2(SYS_open, "/d", O_DIRECTORY);
	assert_int_equal(SYS4(SYS_readlinkat, d, "l", buf, 8), 1);
	assert_int_equal(SYS4(SYS_readlinkat, 99, "l", buf, 8), -CUB_EBADF);
	assert_int_equal(SYS4(SYS_readlinkat, d, "l", buf, 0), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_close, d), 0);
}

/* Walks through links: relative and absolute targets, "..", loops. */
static void symlink_walk_body(void)
{
	struct kstat st, root;
	char name[16], target[16];
	int fd;

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/d/sub", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/d/f", "hello")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/d/l"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d", "/abs"), 0);
	assert_int_equal(SYS2(SYS_symlink, "../f", "/d/sub/up"), 0);
	assert_int_equal(SYS2(SYS_symlink, "sub/", "/d/slash"), 0);
	assert_int_equal(SYS2(SYS_symlink, "nowhere", "/dang"), 0);
	assert_string_equal(content("/abs/f"), "hello");
	assert_string_equal(content("/abs/l"), "hello");	/* two links */
	assert_string_equal(content("/abs/sub/up"), "hello");	/* from sub */
	assert_string_equal(content("/d/slash/up"), "hello");
	assert_string_equal(content("/d/slash/../l"), "hello");
	/* ".." after a link is the parent of where it led. */
	assert_int_equal(kstat("/", &root), 0);
	assert_int_equal(kstat("/abs/..", &st), 0);
	assert_int_equal(st.ino, root.ino);
	assert_int_equal(SYS2(SYS_open, "/d/l/x", 0), -ENOTDIR);	/* a file */
	assert_int_equal(kstat("/d/l/", &st), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/dang/x", 0), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_open, "/dang/x", O_CREAT | O_WRONLY, 0644), -CUB_ENOENT);
	/* chdir follows; the working directory is the real one. */
	assert_int_equal(SYS1(SYS_chdir, "/abs/sub"), 0);
	assert_int_equal(SYS2(SYS_getcwd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "/d/sub");
	assert_string_equal(content("up"), "hello");
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	/* Loops: ELOOP; the links themselves are there. */
	assert_int_equal(SYS2(SYS_symlink, "loop2", "/loop1"), 0);
	assert_int_equal(SYS2(SYS_symlink, "loop1", "/loop2"), 0);
	assert_int_equal(SYS2(SYS_symlink, "self/x", "/self"), 0);
	assert_int_equal(kstat("/loop1", &st), -CUB_ELOOP);
	assert_int_equal(SYS2(SYS_open, "/loop2/x", 0), -CUB_ELOOP);
	assert_int_equal(kstat("/self", &st), -CUB_ELOOP);
	assert_int_equal(SYS3(SYS_open, "/loop1", O_CREAT | O_WRONLY, 0644), -CUB_ELOOP);
	assert_int_equal(klstat("/loop1", &st), 0);
	/* 40 links in a row are followed, 41 are a loop. */
	assert_int_equal(SYS2(SYS_symlink, "/d/f", "/c0"), 0);
	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "/c%d", i);
		snprintf(target, sizeof(target), "c%d", i - 1);
		assert_int_equal(SYS2(SYS_symlink, target, name), 0);
	}
	assert_int_equal(kstat("/c39", &st), 0);
	assert_int_equal(st.size, 5);
	assert_int_equal(kstat("/c40", &st), -CUB_ELOOP);
	/* Nested: 40 in the middle of paths count as well. */
	assert_int_equal(SYS2(SYS_symlink, "/c38", "/n0"), 0);
	assert_int_equal(kstat("/n0", &st), 0);		/* 40 */
	assert_int_equal(SYS2(SYS_symlink, "n0", "/n1"), 0);
	assert_int_equal(kstat("/n1", &st), -CUB_ELOOP);	/* 41 */
	fd = (int)SYS2(SYS_open, "/abs", O_DIRECTORY);
	assert_true(fd >= 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* open through links: O_CREAT makes a dangling link's target, O_EXCL
 * and O_NOFOLLOW do not follow. */
static void symlink_open_body(void)
{
	struct kstat st;
	int fd;

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/d/f", "hello")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/d/l"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d", "/abs"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d/new", "/mk"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d/also", "/mk2"), 0);
	fd = (int)SYS3(SYS_open, "/mk", O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 3);
	assert_int_equal(SYS3(SYS_write, fd, "made", 4), 4);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_string_equal(content("/d/new"), "made");
	assert_int_equal(kstat("/d/new", &st), 0);
	assert_int_equal(st.mode, 0100600);
	assert_int_equal(SYS3(SYS_open, "/mk2", O_CREAT | O_EXCL | O_WRONLY, 0600), -CUB_EEXIST);
	assert_int_equal(SYS3(SYS_open, "/d/l", O_CREAT | O_EXCL | O_WRONLY, 0600), -CUB_EEXIST);
	assert_int_equal(kstat("/d/also", &st), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_open, "/d/l", O_NOFOLLOW), -CUB_ELOOP);
	assert_int_equal(SYS3(SYS_open, "/mk2", O_NOFOLLOW | O_CREAT | O_WRONLY, 0600), -CUB_ELOOP);
	assert_int_equal(SYS2(SYS_open, "/abs", O_NOFOLLOW | O_DIRECTORY), -ENOTDIR);
	fd = (int)SYS2(SYS_open, "/abs/", O_NOFOLLOW | O_DIRECTORY);	/* '/' follows */
	assert_true(fd >= 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS2(SYS_open, "/abs/l", O_NOFOLLOW);	/* only the last counts */
	assert_int_equal(fd, -CUB_ELOOP);
	fd = (int)SYS2(SYS_open, "/abs/f", O_NOFOLLOW);
	assert_true(fd >= 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS3(SYS_open, "/d/l", O_WRONLY | O_TRUNC, 0);
	assert_true(fd >= 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(kstat("/d/f", &st), 0);
	assert_int_equal(st.size, 0);			/* truncated the target */
}

/* The name calls act on a link; the attribute calls follow it unless
 * told not to. */
static void symlink_names_body(void)
{
	struct kstat st, lst;
	int64_t ts[4] = { 100, 0, 200, 0 };

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/d/f", "hello")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/d/l"), 0);
	assert_int_equal(SYS2(SYS_symlink, "/d", "/abs"), 0);
	assert_int_equal(SYS2(SYS_symlink, "nowhere", "/dang"), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/dang", 0755), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_mkdir, "/abs", 0755), -CUB_EEXIST);
	assert_int_equal(SYS1(SYS_rmdir, "/abs"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_rmdir, "/abs/"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_unlink, "/abs/"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_rename, "/d/l", "/d/l2"), 0);	/* moves the link */
	assert_int_equal(SYS3(SYS_readlink, "/d/l2", buf, 8), 1);
	assert_string_equal(content("/d/l2"), "hello");
	assert_int_equal(SYS2(SYS_rename, "/d/l2", "/l3"), 0);	/* now dangles: */
	assert_int_equal(kstat("/l3", &st), -CUB_ENOENT);	/* "f" is from / */
	assert_int_equal(SYS2(SYS_rename, "/l3", "/d/l"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/abs"), 0);		/* the link only */
	assert_int_equal(klstat("/abs", &lst), -CUB_ENOENT);
	assert_int_equal(kstat("/d", &st), 0);
	assert_int_equal(SYS1(SYS_unlink, "/dang"), 0);
	/* chmod follows; fchmodat2 with AT_SYMLINK_NOFOLLOW refuses a link. */
	assert_int_equal(SYS2(SYS_chmod, "/d/l", 0600), 0);
	assert_int_equal(kstat("/d/f", &st), 0);
	assert_int_equal(st.mode, 0100600);
	assert_int_equal(klstat("/d/l", &lst), 0);
	assert_int_equal(lst.mode, S_IFLNK | 0777);
	assert_int_equal(SYS4(SYS_fchmodat2, AT_FDCWD, "/d/l", 0644, AT_SYMLINK_NOFOLLOW),
			 -EOPNOTSUPP);
	assert_int_equal(SYS4(SYS_fchmodat2, AT_FDCWD, "/d/f", 0640, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(SYS4(SYS_fchmodat2, AT_FDCWD, "/d/l", 0644, 0), 0);
	assert_int_equal(SYS4(SYS_fchmodat2, AT_FDCWD, "/d/l", 0644, 0x8), -CUB_EINVAL);
	assert_int_equal(kstat("/d/f", &st), 0);
	assert_int_equal(st.mode, 0100644);
	/* utimensat: the target, or with AT_SYMLINK_NOFOLLOW the link. */
	assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, "/d/l", ts, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(klstat("/d/l", &lst), 0);
	assert_int_equal(lst.mtime, 200);
	assert_int_equal(kstat("/d/l", &st), 0);
	assert_true(st.mtime > 1600000000);
	ts[2] = 300;
	assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, "/d/l", ts, 0), 0);
	assert_int_equal(kstat("/d/f", &st), 0);
	assert_int_equal(st.mtime, 300);
	assert_int_equal(klstat("/d/l", &lst), 0);
	assert_int_equal(lst.mtime, 200);
	assert_int_equal(SYS2(SYS_truncate, "/d/l", 2), 0);	/* follows */
	assert_string_equal(content("/d/f"), "he");
}

static void test_symlinks(void **state)
{
	(void)state;
	run(symlink_make_body);
	run(readlink_body);
	run(symlink_walk_body);
	run(symlink_open_body);
	run(symlink_names_body);
}

/* Hard links: names of one file, nlink, the file living on while open. */
static void hardlink_body(void)
{
	struct kstat a, b;
	int fd, d;

	assert_int_equal(SYS2(SYS_mkdir, "/d", 0755), 0);
	assert_int_equal(SYS1(SYS_close, make("/f", "data")), 0);
	assert_int_equal(SYS2(SYS_link, "/f", "/d/g"), 0);
	assert_int_equal(kstat("/f", &a), 0);
	assert_int_equal(kstat("/d/g", &b), 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(dtype("/d", "g"), 8);
	fd = (int)SYS2(SYS_open, "/d/g", O_WRONLY | O_APPEND);
	assert_int_equal(SYS3(SYS_write, fd, "+more", 5), 5);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_string_equal(content("/f"), "data+more");
	/* Errors, in Linux's order. */
	assert_int_equal(SYS2(SYS_link, "/f", "/d/g"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_link, "/d", "/e"), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_link, "/d", "/f"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_link, "/nope", "/x"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_link, "/f", "/no/x"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_link, "/f/", "/x"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_link, "/f", "/x/"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_link, "/f", "/"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_link, "/f", "/f/x"), -ENOTDIR);
	assert_int_equal(SYS2(SYS_link, WILD, "/x"), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_link, "/f", WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_link, "", "/x"), -CUB_ENOENT);
	assert_int_equal(SYS6(SYS_linkat, AT_FDCWD, "/f", AT_FDCWD, "/x", 0x2, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_linkat, 99, "f", AT_FDCWD, "/x", 0, 0), -CUB_EBADF);
	/* unlink drops one name; the other keeps the file. */
	assert_int_equal(SYS1(SYS_unlink, "/f"), 0);
	assert_int_equal(kstat("/d/g", &b), 0);
	assert_int_equal(b.nlink, 1);
	assert_string_equal(content("/d/g"), "data+more");
	/* AT_EMPTY_PATH names an open file; once nameless it stays so. */
	fd = (int)SYS2(SYS_open, "/d/g", 0);
	d = (int)SYS2(SYS_open, "/d", O_DIRECTORY);
	assert_int_equal(SYS6(SYS_linkat, fd, "", d, "h", AT_EMPTY_PATH, 0), 0);
	assert_int_equal(SYS2(SYS_fstat, fd, &b), 0);
	assert_int_equal(b.nlink, 2);
	assert_int_equal(SYS6(SYS_linkat, fd, "", d, "i", 0, 0), -CUB_ENOENT);
	assert_int_equal(SYS6(SYS_linkat, d, "", d, "i", AT_EMPTY_PATH, 0), -CUB_EPERM);
	assert_int_equal(SYS1(SYS_unlink, "/d/g"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/d/h"), 0);
	assert_int_equal(SYS2(SYS_fstat, fd, &b), 0);
	assert_int_equal(b.nlink, 0);
	assert_int_equal(SYS3(SYS_read, fd, buf, 4), 4);	/* open: alive */
	assert_int_equal(SYS6(SYS_linkat, fd, "", d, "back", AT_EMPTY_PATH, 0), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS2(SYS_open, "/dev/null", 0);
	assert_int_equal(SYS6(SYS_linkat, fd, "", d, "null", AT_EMPTY_PATH, 0), -CUB_EXDEV);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_close, d), 0);
}

/* Hard links and symbolic links together, and rename's rules. */
static void hardlink_rename_body(void)
{
	struct kstat a, b;

	assert_int_equal(SYS1(SYS_close, make("/f", "data")), 0);
	assert_int_equal(SYS2(SYS_symlink, "f", "/s"), 0);
	assert_int_equal(SYS2(SYS_link, "/s", "/hs"), 0);	/* the link itself */
	assert_int_equal(klstat("/hs", &a), 0);
	assert_int_equal(a.mode, S_IFLNK | 0777);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(SYS6(SYS_linkat, AT_FDCWD, "/s", AT_FDCWD, "/hf", AT_SYMLINK_FOLLOW, 0), 0);
	assert_int_equal(klstat("/hf", &a), 0);
	assert_int_equal(kstat("/f", &b), 0);
	assert_int_equal(a.ino, b.ino);
	assert_int_equal(b.nlink, 2);
	/* Renaming one name of a file onto another: nothing happens. */
	assert_int_equal(SYS2(SYS_rename, "/f", "/hf"), 0);
	assert_int_equal(kstat("/f", &a), 0);
	assert_int_equal(kstat("/hf", &b), 0);
	assert_int_equal(b.nlink, 2);
	assert_int_equal(SYS6(SYS_renameat2, AT_FDCWD, "/f", AT_FDCWD, "/hf", 1, 0), -CUB_EEXIST);
	/* Replacing one name drops it only. */
	assert_int_equal(SYS1(SYS_close, make("/other", "x")), 0);
	assert_int_equal(SYS2(SYS_rename, "/other", "/hf"), 0);
	assert_int_equal(kstat("/f", &a), 0);
	assert_int_equal(a.nlink, 1);
	assert_string_equal(content("/f"), "data");
	assert_string_equal(content("/hf"), "x");
	assert_int_equal(SYS2(SYS_rename, "/s", "/hs"), 0);	/* same link */
	assert_int_equal(klstat("/s", &a), 0);
}

static void test_hardlinks(void **state)
{
	(void)state;
	run(hardlink_body);
	run(hardlink_rename_body);
}

/* ------------------------------------------------------ the first tree */

static void *boot_tree_body(void *arg)
{
	struct kstat st;

	(void)arg;
	assert_string_equal(content("/etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
	assert_string_equal(content("/etc/group"), "root:x:0:\n");
	assert_string_equal(content("/etc/hosts"), "127.0.0.1\tlocalhost\n");
	assert_int_equal(kstat("/root", &st), 0);
	assert_int_equal(st.mode, 0040000 | 0700);	/* S_IFDIR */
	return NULL;
}

/* The tree the first call finds (before any test empties it): what every
 * Linux system has, root's user and group (getpwuid(0)) among it. */
static void test_boot_tree(void **state)
{
	void *res;

	(void)state;
	assert_int_equal(cub_sched_run(boot_tree_body, NULL, &res), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_tree),	/* first: the untouched tree */
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_rw),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_start_cwd),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_dev),
		cmocka_unit_test(test_mmap),
		cmocka_unit_test(test_symlinks),
		cmocka_unit_test(test_hardlinks),
	};

	cubi_mem_init();	/* the tree and open files live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
