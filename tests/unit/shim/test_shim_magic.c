/*
 * test_shim_magic.c - /proc's magic links through the dispatcher:
 * /proc/self/fd/N (and /dev/stdout, /dev/fd/N) lead to the descriptor's
 * object, not its text: a file reopened after a rename or unlink with
 * its own position and the new open's flags, O_TRUNC, a directory in the
 * middle of a path, a pipe reopened for reading, writing or both with
 * the reader and writer counts that decide EOF and EPIPE, sockets and
 * anon inodes (-ENXIO), devices and the console, O_PATH descriptors;
 * stat on them stats the object, lstat and readlink the link;
 * /proc/self/cwd after its directory was renamed or removed;
 * /proc/self/exe leading to the program's file when the tree has it.
 * Each test runs in a coroutine on a fresh tree with /dev and /proc.
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

#define SYS_stat 4
#define SYS_lstat 6
#define SYS_access 21
#define SYS_dup 32
#define SYS_dup2 33
#define SYS_socketpair 53
#define SYS_getdents64 217
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_unlink 87
#define SYS_readlink 89
#define SYS_eventfd2 290

#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_NONBLOCK 04000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_PATH 010000000
#define F_GETFL 3
#define W_OK 2
#define ENXIO 6
#define ENOTDIR 20
#define EINVAL 22
#define ELOOP 40
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000

static void (*body_fn)(void);

static void set_program(const char *exe, const void *phdr, unsigned phnum)
{
	struct cubi_proc_image pi = { .exe = exe, .phdr = (uintptr_t)phdr, .phnum = phnum };

	cubi_procfs_set_program(&pi);
}

static void with_proc(void)
{
	cubi_fs_lock();
	cubi_procfs_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	set_program("prog", NULL, 0);
	assert_int_equal(SYS2(SYS_mkdir, "/tmp", 01777), 0);
	body_fn();
}

static void run(void (*body)(void))
{
	body_fn = body;
	run_fresh(with_proc, true);
}

/* "/proc/self/fd/<fd><rest>" (a static buffer per slot). */
static const char *fdp(int fd, const char *rest)
{
	static char bufs[4][64];
	static int slot;
	char *b = bufs[slot++ % 4];

	snprintf(b, 64, "/proc/self/fd/%d%s", fd, rest);
	return b;
}

static const char *link_of(const char *path)
{
	static char target[256];
	long n = SYS3(SYS_readlink, path, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	return target;
}

static uint32_t mode_of(long nr, const char *path)
{
	struct kstat st;

	assert_int_equal(SYS2(nr, path, &st), 0);
	return st.mode & S_IFMT;
}

static uint64_t ino_of(const char *path)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_stat, path, &st), 0);
	return st.ino;
}

static uint64_t fd_ino(int fd)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	return st.ino;
}

static int opened(const char *path, long flags)
{
	int fd = (int)SYS3(SYS_open, path, flags, 0644);

	assert_true(fd >= 0);
	return fd;
}

/* Reads n bytes of fd and compares them with want. */
static void reads(int fd, const char *want)
{
	char buf[64] = { 0 };
	long n = (long)strlen(want);

	assert_int_equal(SYS3(SYS_read, fd, buf, n), n);
	assert_memory_equal(buf, want, (size_t)n);
}

static void closes(int fd)
{
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* ------------------------------------------------- files of the tree */

static void files_body(void)
{
	int fd = opened("/tmp/f", O_CREAT | O_RDWR), re;
	struct kstat st;

	assert_int_equal(SYS3(SYS_write, fd, "hello world", 11), 11);
	re = opened(fdp(fd, ""), O_RDONLY);	/* its own position, from 0 */
	reads(re, "hello");
	assert_int_equal(SYS2(SYS_fcntl, re, F_GETFL), O_RDONLY);
	assert_int_equal(fd_ino(re), fd_ino(fd));
	closes(re);
	assert_int_equal(SYS2(SYS_rename, "/tmp/f", "/tmp/g"), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/tmp/f", 0755), 0);	/* the old name: not it */
	re = opened(fdp(fd, ""), O_RDONLY);
	reads(re, "hello");
	closes(re);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/g"), 0);
	assert_string_equal(link_of(fdp(fd, "")), "/tmp/g (deleted)");	/* its last */
	re = opened(fdp(fd, ""), O_RDWR);	/* no name left: still opens */
	reads(re, "hello");
	assert_string_equal(link_of(fdp(re, "")), "/tmp/g (deleted)");
	closes(re);
	/* stat: the file; lstat: the link */
	assert_int_equal(SYS2(SYS_stat, fdp(fd, ""), &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFREG);
	assert_int_equal(st.ino, fd_ino(fd));
	assert_int_equal(st.nlink, 0);
	assert_int_equal(mode_of(SYS_lstat, fdp(fd, "")), S_IFLNK);
	/* the new open's flags: O_TRUNC truncates; others as on Linux */
	re = opened(fdp(fd, ""), O_WRONLY | O_TRUNC);
	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	assert_int_equal(st.size, 0);
	closes(re);
	assert_int_equal(SYS2(SYS_open, fdp(fd, ""), O_NOFOLLOW), -ELOOP);
	assert_int_equal(SYS3(SYS_open, fdp(fd, ""), O_CREAT | O_EXCL, 0644), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_open, fdp(fd, ""), O_DIRECTORY), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, fdp(fd, "/"), 0), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, fdp(fd, "/x"), 0), -ENOTDIR);
	closes(fd);
	assert_int_equal(SYS2(SYS_open, fdp(fd, ""), 0), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_rmdir, "/tmp/f"), 0);
}

/* An O_PATH descriptor opens for real through its link. */
static void opath_body(void)
{
	int fd = opened("/tmp/f", O_CREAT | O_RDWR), p, re;

	assert_int_equal(SYS3(SYS_write, fd, "abc", 3), 3);
	closes(fd);
	p = opened("/tmp/f", O_PATH);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/f"), 0);
	re = opened(fdp(p, ""), O_RDONLY);
	reads(re, "abc");
	closes(re);
	closes(p);
	p = opened("/dev/null", O_PATH);	/* a device node */
	re = opened(fdp(p, ""), O_WRONLY);
	assert_int_equal(SYS3(SYS_write, re, "x", 1), 1);
	closes(re);
	closes(p);
}

/* A directory descriptor in the middle of a path. */
static void dirs_body(void)
{
	int d, x, f;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp/d", 0755), 0);
	x = opened("/tmp/d/x", O_CREAT | O_WRONLY);
	assert_int_equal(SYS3(SYS_write, x, "xx", 2), 2);
	closes(x);
	d = opened("/tmp/d", O_DIRECTORY);
	assert_int_equal(SYS2(SYS_rename, "/tmp/d", "/tmp/e"), 0);
	x = opened(fdp(d, "/x"), O_RDONLY);
	reads(x, "xx");
	closes(x);
	x = opened(fdp(d, "/y"), O_CREAT | O_WRONLY);	/* made in the directory */
	closes(x);
	assert_int_equal(mode_of(SYS_stat, "/tmp/e/y"), S_IFREG);
	assert_int_equal(ino_of(fdp(d, "/..")), ino_of("/tmp"));
	assert_int_equal(ino_of(fdp(d, "/")), ino_of("/tmp/e"));
	x = opened(fdp(d, ""), O_RDONLY | O_DIRECTORY);
	assert_true(SYS3(SYS_getdents64, x, (char[512]){ 0 }, 512) > 0);
	closes(x);
	f = opened("/tmp/e/x", O_RDONLY);
	assert_int_equal(SYS2(SYS_open, fdp(f, "/x"), 0), -ENOTDIR);
	closes(f);
	x = opened("/dev/fd/3/x", O_RDONLY);	/* through /dev/fd */
	assert_int_equal(d, 3);
	reads(x, "xx");
	closes(x);
	closes(d);
}

/* A walk through magic links counts them: a loop ends with ELOOP. */
static void loop_body(void)
{
	int d = opened("/proc/self/fd", O_DIRECTORY);
	char path[512];
	size_t at = (size_t)snprintf(path, sizeof(path), "/proc/self/fd");

	for (int i = 0; i < 45; i++)
		at += (size_t)snprintf(path + at, sizeof(path) - at, "/%d", d);
	assert_int_equal(SYS2(SYS_open, path, O_DIRECTORY), -ELOOP);
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%d/%d", d, d, d);
	closes(opened(path, O_DIRECTORY));
	closes(d);
}

static void test_files(void **state)
{
	(void)state;
	run(files_body);
	run(opath_body);
	run(dirs_body);
	run(loop_body);
}

/* ------------------------------------------------------------- pipes */

/* /dev/stdout with stdout redirected to a pipe: the pipe. */
static void stdout_body(void)
{
	int p[2], saved, w;

	assert_int_equal(SYS1(SYS_pipe, p), 0);
	saved = (int)SYS1(SYS_dup, 1);
	assert_int_equal(SYS2(SYS_dup2, p[1], 1), 1);
	w = opened("/dev/stdout", O_WRONLY);
	assert_int_equal(SYS3(SYS_write, w, "through stdout", 14), 14);
	reads(p[0], "through stdout");
	assert_int_equal(mode_of(SYS_stat, "/dev/stdout"), S_IFIFO);
	assert_int_equal(mode_of(SYS_lstat, "/dev/stdout"), S_IFLNK);
	assert_int_equal(mode_of(SYS_stat, "/proc/self/fd/1"), S_IFIFO);
	assert_int_equal(SYS2(SYS_access, "/dev/stdout", W_OK), 0);
	assert_int_equal(SYS2(SYS_open, "/dev/stdout/", O_WRONLY), -ENOTDIR);
	assert_int_equal(SYS2(SYS_dup2, saved, 1), 1);
	closes(saved);
	closes(w);
	closes(p[0]);
	closes(p[1]);
}

/* A writer opened through the read end keeps the pipe from EOF; the
 * last writer's close brings it. */
static void writers_body(void)
{
	int p[2], w;
	char c;

	assert_int_equal(SYS1(SYS_pipe, p), 0);
	w = opened(fdp(p[0], ""), O_WRONLY);
	closes(p[1]);
	assert_int_equal(SYS3(SYS_write, w, "x", 1), 1);
	reads(p[0], "x");
	closes(w);
	assert_int_equal(SYS3(SYS_read, p[0], &c, 1), 0);	/* EOF */
	closes(p[0]);
}

/* A reader opened through the write end keeps writes going; EPIPE once
 * it went too. O_RDWR counts as both; access mode 3: EINVAL. */
static void readers_body(void)
{
	int p[2], r, rw;
	char c;

	set_sigpipe(1);		/* SIG_IGN: EPIPE only */
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	r = opened(fdp(p[1], ""), O_RDONLY | O_NONBLOCK);
	assert_int_equal(SYS2(SYS_fcntl, r, F_GETFL), O_NONBLOCK);
	closes(p[0]);
	assert_int_equal(SYS3(SYS_write, p[1], "y", 1), 1);
	reads(r, "y");
	assert_int_equal(SYS3(SYS_read, r, &c, 1), -CUB_EAGAIN);
	closes(r);
	assert_int_equal(SYS3(SYS_write, p[1], "z", 1), -CUB_EPIPE);
	rw = opened(fdp(p[1], ""), O_RDWR);	/* a reader again */
	assert_int_equal(SYS3(SYS_write, p[1], "z", 1), 1);
	reads(rw, "z");
	assert_int_equal(SYS3(SYS_write, rw, "w", 1), 1);
	closes(p[1]);
	reads(rw, "w");
	assert_int_equal(SYS2(SYS_open, fdp(rw, ""), 3), -EINVAL);
	closes(opened(fdp(rw, ""), O_PATH));	/* test_shim_magicops.c */
	closes(rw);
	set_sigpipe(0);
}

static void test_pipes(void **state)
{
	(void)state;
	run(stdout_body);
	run(writers_body);
	run(readers_body);
}

/* ------------------------------------- sockets, anon inodes, devices */

static void others_body(void)
{
	int sv[2], ev, z, re;
	struct kstat st;
	char buf[4] = { 1, 1, 1, 1 };

	assert_int_equal(SYS4(SYS_socketpair, 1, 1, 0, sv), 0);
	assert_int_equal(SYS2(SYS_open, fdp(sv[0], ""), O_RDWR), -ENXIO);
	assert_int_equal(mode_of(SYS_stat, fdp(sv[0], "")), S_IFSOCK);
	closes(sv[0]);
	closes(sv[1]);
	ev = (int)SYS2(SYS_eventfd2, 0, 0);
	assert_int_equal(SYS2(SYS_open, fdp(ev, ""), O_RDWR), -ENXIO);
	assert_int_equal(SYS2(SYS_stat, fdp(ev, ""), &st), 0);
	assert_int_equal(st.ino, fd_ino(ev));
	closes(ev);
	z = opened("/dev/zero", O_RDONLY);
	assert_int_equal(SYS1(SYS_unlink, "/dev/zero"), 0);	/* the device, not the name */
	re = opened(fdp(z, ""), O_RDONLY);
	assert_int_equal(SYS3(SYS_read, re, buf, 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(SYS2(SYS_fstat, re, &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFCHR);
	assert_int_equal(st.rdev, 0x105);
	closes(re);
	closes(z);
	re = opened("/dev/stdin", O_RDWR);	/* the console's file */
	assert_int_equal(fd_ino(re), fd_ino(0));
	assert_int_equal(mode_of(SYS_stat, "/dev/stderr"), S_IFCHR);
	closes(re);
}

static void test_others(void **state)
{
	(void)state;
	run(others_body);
}

/* ----------------------------------------------------- cwd and exe */

static void cwd_body(void)
{
	struct kstat st;
	int fd;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp/w", 0755), 0);
	assert_int_equal(SYS1(SYS_chdir, "/tmp/w"), 0);
	assert_int_equal(SYS2(SYS_rename, "/tmp/w", "/tmp/w2"), 0);
	fd = opened("/proc/self/cwd/x", O_CREAT | O_WRONLY);
	closes(fd);
	assert_int_equal(mode_of(SYS_stat, "/tmp/w2/x"), S_IFREG);
	assert_int_equal(ino_of("/proc/self/cwd"), ino_of("/tmp/w2"));
	assert_string_equal(link_of("/proc/self/cwd"), "/tmp/w2");
	assert_int_equal(SYS1(SYS_unlink, "/tmp/w2/x"), 0);
	assert_int_equal(SYS1(SYS_rmdir, "/tmp/w2"), 0);
	assert_int_equal(SYS2(SYS_stat, "/proc/self/cwd", &st), 0);	/* removed: still it */
	assert_int_equal(st.mode & S_IFMT, S_IFDIR);
	assert_int_equal(st.nlink, 0);
	assert_int_equal(SYS3(SYS_open, "/proc/self/cwd/y", O_CREAT | O_WRONLY, 0644),
			 -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
}

/* A program's ELF header and two program headers, as a file. */
static const unsigned char phdrs[2 * 56] = { 6, 0, 0, 0, 4, 0, 0, 0, 64, [56] = 1, 0, 0, 0, 5 };

static void make_elf(const char *path, const unsigned char *ph)
{
	unsigned char h[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };
	int fd = opened(path, O_CREAT | O_WRONLY);

	h[32] = 64;		/* e_phoff */
	h[54] = 56;		/* e_phentsize */
	h[56] = 2;		/* e_phnum */
	assert_int_equal(SYS3(SYS_write, fd, h, 64), 64);
	assert_int_equal(SYS3(SYS_write, fd, ph, 112), 112);
	closes(fd);
}

static void exe_body(void)
{
	unsigned char other[112];
	int fd;

	make_elf("/prog", phdrs);
	set_program("prog", phdrs, 2);	/* the tree has its file */
	assert_string_equal(link_of("/proc/self/exe"), "/prog");
	fd = opened("/proc/self/exe", O_RDONLY);
	reads(fd, "\177ELF");
	closes(fd);
	assert_int_equal(ino_of("/proc/self/exe"), ino_of("/prog"));
	assert_int_equal(SYS2(SYS_rename, "/prog", "/prog2"), 0);
	assert_string_equal(link_of("/proc/self/exe"), "/prog2");
	make_elf("/prog", phdrs);	/* the old name: another file now */
	assert_true(ino_of("/proc/self/exe") != ino_of("/prog"));
	assert_int_equal(SYS2(SYS_mkdir, "/bin", 0755), 0);
	assert_int_equal(SYS2(SYS_rename, "/prog2", "/bin/prog2"), 0);
	fd = opened("/proc/self/exe", O_RDONLY);
	reads(fd, "\177ELF");
	closes(fd);
	assert_int_equal(SYS1(SYS_unlink, "/bin/prog2"), 0);
	assert_string_equal(link_of("/proc/self/exe"), "/bin/prog2 (deleted)");
	fd = opened("/proc/self/exe", O_RDONLY);
	reads(fd, "\177ELF");
	closes(fd);
	/* a file that is not the program, and none at all: dangling */
	memcpy(other, phdrs, sizeof(other));
	other[8] = 99;
	make_elf("/other", other);
	set_program("other", phdrs, 2);
	assert_string_equal(link_of("/proc/self/exe"), "/other");
	assert_int_equal(SYS2(SYS_open, "/proc/self/exe", O_RDONLY), -CUB_ENOENT);
	set_program("none", phdrs, 2);
	assert_string_equal(link_of("/proc/self/exe"), "/none");
	assert_int_equal(SYS2(SYS_open, "/proc/self/exe", O_RDONLY), -CUB_ENOENT);
	set_program("prog", NULL, 0);
}

static void test_cwd_exe(void **state)
{
	(void)state;
	run(cwd_body);
	run(exe_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_pipes),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_cwd_exe),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
