/*
 * test_shim_magicops.c - what the calls do through /proc's magic links
 * beyond open, stat and access (test_shim_magic.c has those): O_PATH
 * opens of a pipe, socket, anon inode, device or the console give an
 * O_PATH descriptor of the object (fstat works, reads and writes
 * -EBADF, its own link opens the object again, a pipe's counts as
 * neither reader nor writer, a socket's does not keep it open); chmod,
 * truncate, chdir, utimensat, chown, statfs, linkat and connect act on
 * the object the link leads to (a deleted file, a renamed directory; a
 * pipe or socket: Linux's answers); the descriptor calls refuse O_PATH
 * descriptors (-EBADF); the link's text is the file's current path
 * (moved across directories, another hard link, its last name and
 * " (deleted)"). Each test runs in a coroutine on a fresh tree with /dev
 * and /proc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cubrt/mem.h>
#include "host.h"
#include "procfs.h"
#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"
#include "sigpipe.h"

#define SYS_socket 41
#define SYS_connect 42
#define SYS_socketpair 53
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_getcwd 79
#define SYS_fchdir 81
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_unlink 87
#define SYS_readlink 89
#define SYS_chmod 90
#define SYS_fchmod 91
#define SYS_chown 92
#define SYS_fchown 93
#define SYS_statfs 137
#define SYS_fstatfs 138
#define SYS_link 86
#define SYS_rmdir 84
#define SYS_linkat 265
#define SYS_utimensat 280
#define SYS_eventfd2 290

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_PATH 010000000
#define F_GETFL 3
#define AT_FDCWD (-100)
#define AT_SYMLINK_FOLLOW 0x400
#define EPERM 1
#define EBADF 9
#define ENXIO 6
#define EXDEV 18
#define ENOTDIR 20
#define EINVAL 22
#define ECONNREFUSED 111
#define S_IFMT 0170000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_IFSOCK 0140000
#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534f434b


/* "/proc/self/fd/<fd>" (a static buffer per slot). */
static const char *fdp(int fd)
{
	static char bufs[4][64];
	static int slot;
	char *b = bufs[slot++ % 4];

	snprintf(b, 64, "/proc/self/fd/%d", fd);
	return b;
}

/* readlink of fd's link (a static buffer per slot). */
static const char *text_of(int fd)
{
	static char bufs[2][256];
	static int slot;
	char *t = bufs[slot++ % 2];
	long n = SYS3(SYS_readlink, fdp(fd), t, 255);

	t[n > 0 ? n : 0] = '\0';
	return t;
}

static struct kstat fd_stat(int fd)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	return st;
}

static int opened(const char *path, long flags)
{
	int fd = (int)SYS3(SYS_open, path, flags, 0644);

	assert_true(fd >= 0);
	return fd;
}

static void closes(int fd)
{
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void reads(int fd, const char *want)
{
	char buf[64] = { 0 };
	long n = (long)strlen(want);

	assert_int_equal(SYS3(SYS_read, fd, buf, n), n);
	assert_memory_equal(buf, want, (size_t)n);
}

/* An O_PATH descriptor: no bytes, no attributes of its own to change. */
static void no_io(int p)
{
	char c = 'x';

	assert_int_equal(SYS3(SYS_read, p, &c, 1), -EBADF);
	assert_int_equal(SYS3(SYS_write, p, &c, 1), -EBADF);
	assert_int_equal(SYS2(SYS_fchmod, p, 0600), -EBADF);
	assert_int_equal(SYS3(SYS_fchown, p, 0, 0), -EBADF);
	assert_int_equal(SYS2(SYS_ftruncate, p, 0), -EBADF);
	assert_int_equal(SYS1(SYS_fchdir, p), -ENOTDIR);
	assert_true(SYS2(SYS_fcntl, p, F_GETFL) & O_PATH);
}

/* ------------------------------------------------- O_PATH of objects */

/* A pipe's O_PATH descriptor: the pipe's inode, reopened through its
 * own link; neither a reader nor a writer. */
static void opath_pipe_body(void)
{
	int p[2], op, again, w;
	char c;

	set_sigpipe(1);		/* SIG_IGN: EPIPE only */
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	op = opened(fdp(p[1]), O_PATH);
	assert_int_equal(fd_stat(op).mode & S_IFMT, S_IFIFO);
	assert_int_equal(fd_stat(op).ino, fd_stat(p[0]).ino);	/* one inode */
	assert_int_equal(fd_stat(p[1]).ino, fd_stat(p[0]).ino);
	assert_string_equal(text_of(op), text_of(p[0]));
	no_io(op);
	again = opened(fdp(op), O_PATH);		/* O_PATH of O_PATH */
	assert_int_equal(fd_stat(again).ino, fd_stat(p[0]).ino);
	w = opened(fdp(again), O_WRONLY);		/* the pipe itself */
	closes(again);
	assert_int_equal(SYS3(SYS_write, w, "via", 3), 3);
	reads(p[0], "via");
	closes(w);
	closes(p[1]);
	assert_int_equal(SYS3(SYS_read, p[0], &c, 1), 0);	/* op: no writer */
	w = opened(fdp(op), O_WRONLY);
	closes(p[0]);
	assert_int_equal(SYS3(SYS_write, w, "x", 1), -CUB_EPIPE); /* nor reader */
	closes(w);
	assert_int_equal(fd_stat(op).mode & S_IFMT, S_IFIFO);	/* still names it */
	assert_int_equal(SYS2(SYS_open, fdp(op), O_DIRECTORY | O_PATH), -ENOTDIR);
	closes(op);
	set_sigpipe(0);
}

/* A socket's O_PATH descriptor stats it but does not keep it open; an
 * eventfd's the same; neither opens by a path. */
static void opath_socket_body(void)
{
	int sv[2], op, ev, oe;
	char c;
	const char *t;

	assert_int_equal(SYS4(SYS_socketpair, 1, 1, 0, sv), 0);
	op = opened(fdp(sv[0]), O_PATH);
	assert_int_equal(fd_stat(op).mode & S_IFMT, S_IFSOCK);
	assert_int_equal(fd_stat(op).ino, fd_stat(sv[0]).ino);
	t = text_of(op);
	assert_string_equal(t, text_of(sv[0]));
	assert_int_equal(strncmp(t, "socket:[", 8), 0);
	no_io(op);
	assert_int_equal(SYS2(SYS_open, fdp(op), O_RDWR), -ENXIO);
	closes(sv[0]);
	assert_int_equal(SYS3(SYS_read, sv[1], &c, 1), 0);	/* its peer: gone */
	assert_int_equal(fd_stat(op).mode & S_IFMT, S_IFSOCK);
	closes(sv[1]);
	closes(op);
	ev = (int)SYS2(SYS_eventfd2, 0, 0);
	oe = opened(fdp(ev), O_PATH);
	assert_string_equal(text_of(oe), "anon_inode:[eventfd]");
	assert_int_equal(fd_stat(oe).ino, fd_stat(ev).ino);
	assert_int_equal(SYS2(SYS_open, fdp(oe), O_RDWR), -ENXIO);
	closes(ev);
	closes(oe);
}

/* A device's and the console's: they open again as their nodes do. */
static void opath_device_body(void)
{
	int z = opened("/dev/zero", O_RDONLY), op, re;
	char buf[4] = { 1, 1, 1, 1 };

	op = opened(fdp(z), O_PATH);
	closes(z);
	assert_int_equal(SYS1(SYS_unlink, "/dev/zero"), 0);
	assert_int_equal(fd_stat(op).mode & S_IFMT, S_IFCHR);
	assert_int_equal(fd_stat(op).rdev, 0x105);
	assert_string_equal(text_of(op), "/dev/zero");
	no_io(op);
	re = opened(fdp(op), O_RDONLY);
	assert_int_equal(SYS3(SYS_read, re, buf, 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	closes(re);
	closes(op);
	op = opened("/dev/stdin", O_PATH);	/* the console */
	assert_string_equal(text_of(op), "/dev/console");
	re = opened(fdp(op), O_RDWR);
	assert_int_equal(fd_stat(re).ino, fd_stat(0).ino);
	closes(re);
	closes(op);
}

static void test_opath(void **state)
{
	(void)state;
	run_fresh_proc(opath_pipe_body);
	run_fresh_proc(opath_socket_body);
	run_fresh_proc(opath_device_body);
}

/* -------------------------------------------- path calls on objects */

/* A deleted file through its link: mode, size, times and owner. */
static void file_calls_body(void)
{
	int fd = opened("/tmp/f", O_CREAT | O_RDWR), op;
	int64_t ts[4] = { 5, 0, 6, 0 };

	assert_int_equal(SYS3(SYS_write, fd, "hello", 5), 5);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/f"), 0);
	assert_int_equal(SYS2(SYS_chmod, fdp(fd), 0640), 0);
	assert_int_equal(fd_stat(fd).mode & 07777, 0640);
	assert_int_equal(SYS2(SYS_truncate, fdp(fd), 2), 0);
	assert_int_equal(fd_stat(fd).size, 2);
	assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, fdp(fd), ts, 0), 0);
	assert_int_equal(fd_stat(fd).mtime, 6);
	assert_int_equal(SYS3(SYS_chown, fdp(fd), 0, 0), 0);
	assert_int_equal(SYS3(SYS_chown, fdp(fd), 1, 1), -EPERM);
	op = opened(fdp(fd), O_PATH);		/* through an O_PATH one too */
	assert_int_equal(SYS2(SYS_chmod, fdp(op), 0600), 0);
	assert_int_equal(fd_stat(fd).mode & 07777, 0600);
	no_io(op);
	closes(op);
	closes(fd);
}

/* chdir through a directory descriptor's link, after a rename. */
static void chdir_body(void)
{
	char cwd[64];
	int d;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp/d", 0755), 0);
	d = opened("/tmp/d", O_DIRECTORY);
	assert_int_equal(SYS2(SYS_rename, "/tmp/d", "/tmp/e"), 0);
	assert_int_equal(SYS1(SYS_chdir, fdp(d)), 0);
	assert_int_equal(SYS2(SYS_getcwd, cwd, sizeof(cwd)), 7);
	assert_string_equal(cwd, "/tmp/e");
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	closes(d);
}

/* A pipe's and a socket's link: Linux's answers, not -ENXIO. */
static void object_calls_body(void)
{
	int p[2], sv[2], s;
	int64_t fs[15];
	struct { uint16_t family; char path[108]; } sa = { 1, "" };

	assert_int_equal(SYS1(SYS_pipe, p), 0);
	assert_int_equal(SYS4(SYS_socketpair, 1, 1, 0, sv), 0);
	for (int i = 0; i < 2; i++) {
		const char *path = fdp(i ? sv[0] : p[0]);

		assert_int_equal(SYS2(SYS_truncate, path, 0), -EINVAL);
		assert_int_equal(SYS1(SYS_chdir, path), -ENOTDIR);
		assert_int_equal(SYS2(SYS_chmod, path, 0644), 0);
		assert_int_equal(SYS3(SYS_chown, path, 0, 0), 0);
		assert_int_equal(SYS3(SYS_chown, path, 1, 1), -EPERM);
		assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, path, NULL, 0), 0);
		assert_int_equal(SYS2(SYS_statfs, path, fs), 0);
		assert_int_equal(fs[0], i ? SOCKFS_MAGIC : PIPEFS_MAGIC);
		assert_int_equal(sys(SYS_linkat, AT_FDCWD, (long)path, AT_FDCWD,
				     (long)"/tmp/l", AT_SYMLINK_FOLLOW, 0), -EXDEV);
	}
	assert_int_equal(fd_stat(p[0]).mode & 07777, 0600);	/* its kind's */
	s = (int)SYS3(SYS_socket, 1, 1, 0);
	snprintf(sa.path, sizeof(sa.path), "%s", fdp(sv[0]));
	assert_int_equal(SYS3(SYS_connect, s, &sa, sizeof(sa)), -ECONNREFUSED);
	closes(s);
	closes(p[0]);
	closes(p[1]);
	closes(sv[0]);
	closes(sv[1]);
}

static void test_path_calls(void **state)
{
	(void)state;
	run_fresh_proc(file_calls_body);
	run_fresh_proc(chdir_body);
	run_fresh_proc(object_calls_body);
}

/* ------------------------------------------------------- link text */

/* The text follows the file: across directories, to another hard link,
 * to its last name once it has none, as Linux's d_path. */
static void text_body(void)
{
	int fd, op, x;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp/a", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/tmp/b", 0755), 0);
	fd = opened("/tmp/a/f", O_CREAT | O_RDWR);
	op = opened("/tmp/a/f", O_PATH);
	assert_int_equal(SYS2(SYS_rename, "/tmp/a/f", "/tmp/b/g"), 0);
	assert_string_equal(text_of(fd), "/tmp/b/g");
	assert_string_equal(text_of(op), "/tmp/b/g");
	assert_int_equal(SYS2(SYS_rename, "/tmp/b", "/tmp/c"), 0);
	assert_string_equal(text_of(fd), "/tmp/c/g");
	assert_int_equal(SYS2(SYS_link, "/tmp/c/g", "/tmp/a/h"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/c/g"), 0);
	assert_string_equal(text_of(fd), "/tmp/a/h");	/* its other name */
	assert_int_equal(SYS2(SYS_rename, "/tmp/a/h", "/tmp/c/k"), 0);
	x = opened("/tmp/a/x", O_CREAT | O_RDWR);	/* replaces k */
	assert_int_equal(SYS2(SYS_rename, "/tmp/a/x", "/tmp/c/k"), 0);
	assert_string_equal(text_of(fd), "/tmp/c/k (deleted)");
	assert_string_equal(text_of(x), "/tmp/c/k");
	closes(x);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/c/k"), 0);
	assert_int_equal(SYS2(SYS_rename, "/tmp/c", "/tmp/d"), 0);
	assert_string_equal(text_of(op), "/tmp/d/k (deleted)");	/* its dir's path now */
	closes(op);
	closes(fd);
	assert_int_equal(SYS1(SYS_rmdir, "/tmp/a"), 0);
	assert_int_equal(SYS1(SYS_rmdir, "/tmp/d"), 0);
}

static void test_link_text(void **state)
{
	(void)state;
	run_fresh_proc(text_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opath),
		cmocka_unit_test(test_path_calls),
		cmocka_unit_test(test_link_text),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
