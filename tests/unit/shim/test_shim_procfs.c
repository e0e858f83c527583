/*
 * test_shim_procfs.c - /proc through the dispatcher: the tree and its
 * listings, every generated file's text, reads/lseek/pread/fstat on a
 * snapshot, the links (self, thread-self, exe, cwd, root, fd/N),
 * /proc/self/fd following opens, renames, unlinks and closes and naming
 * every kind of file, the read-only errors Linux gives, EFAULT on bad
 * buffers, O_PATH descriptors and a realpath-like sequence over them,
 * and task/<tid> for a cloned thread. Each test runs in a coroutine on
 * a fresh tree with /dev and /proc (fresh.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/mem.h>
#include "host.h"
#include "netdev.h"
#include "procfs.h"
#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"

#define SYS_stat 4
#define SYS_lstat 6
#define SYS_pread64 17
#define SYS_socketpair 53
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_fchdir 81
#define SYS_rename 82
#define SYS_mkdir 83
#define SYS_rmdir 84
#define SYS_link 86
#define SYS_unlink 87
#define SYS_symlink 88
#define SYS_readlink 89
#define SYS_chmod 90
#define SYS_fchmod 91
#define SYS_getdents64 217
#define SYS_utimensat 280
#define SYS_eventfd2 290

#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_CLOEXEC 02000000
#define O_PATH 010000000
#define F_GETFL 3
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define AT_FDCWD (-100)
#define ENOTDIR 20
#define EISDIR 21
#define EXDEV 18
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFCHR 0020000
#define S_IFLNK 0120000

static char text[16384];
static long text_len;

/* The program /proc/1 describes: argv and envp strings as start.c lays
 * them out (each run contiguous). */
static char strings[] = "prog\0one\0two\0HOME=/\0LANG=C";

static void set_program(void)
{
	struct cubi_proc_image pi = {
		.exe = "prog",
		.arg_start = (uintptr_t)strings, .arg_end = (uintptr_t)strings + 13,
		.env_start = (uintptr_t)strings + 13, .env_end = (uintptr_t)strings + sizeof(strings),
	};

	cubi_procfs_set_program(&pi);
}

static void (*body_fn)(void);

static void with_proc(void)
{
	cubi_fs_lock();
	cubi_procfs_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	set_program();
	assert_int_equal(SYS2(SYS_mkdir, "/tmp", 01777), 0);
	body_fn();
}

/* Runs body on an emptied tree with /dev, /proc and /tmp. */
static void run(void (*body)(void))
{
	body_fn = body;
	run_fresh(with_proc, true);
}

/* The whole text of the file at path, read 100 bytes at a time
 * (NUL-terminated in text; its length in text_len). */
static const char *slurp(const char *path)
{
	int fd = (int)SYS2(SYS_open, path, 0);
	long n;

	assert_true(fd >= 0);
	text_len = 0;
	while ((n = SYS3(SYS_read, fd, text + text_len, 100)) > 0) {
		text_len += n;
		assert_true(text_len + 100 < (long)sizeof(text));
	}
	assert_int_equal(n, 0);
	text[text_len] = '\0';
	assert_int_equal(SYS1(SYS_close, fd), 0);
	return text;
}

/* readlink of path, NUL-terminated ("" and *rc < 0 on an error). */
static const char *link_of(const char *path)
{
	static char target[4096];
	long n = SYS3(SYS_readlink, path, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	return target;
}

/* The names of directory path's listing, joined by spaces. */
static const char *listing(const char *path)
{
	static char names[4096];
	char dents[512];
	int fd = (int)SYS3(SYS_open, path, O_DIRECTORY, 0);
	long n;

	assert_true(fd >= 0);
	names[0] = '\0';
	while ((n = SYS3(SYS_getdents64, fd, dents, sizeof(dents))) > 0) {
		for (long off = 0; off < n;) {
			uint16_t reclen;

			memcpy(&reclen, dents + off + 16, 2);
			strcat(names, names[0] ? " " : "");
			strcat(names, dents + off + 19);
			off += reclen;
		}
	}
	assert_int_equal(n, 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	return names;
}

/* True when the space-separated list has word. */
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static const char *fd_link(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return link_of(path);
}

static int make(const char *path)
{
	int fd = (int)SYS4(SYS_openat, AT_FDCWD, path, O_CREAT | O_RDWR, 0644);

	assert_true(fd >= 3);
	return fd;
}

/* ------------------------------------------------------------ the tree */

static void tree_body(void)
{
	const char *l = listing("/proc");
	char want[64];
	struct kstat st;

	for (const char *w = "self thread-self 1 meminfo cpuinfo uptime loadavg version "
			     "mounts filesystems sys net"; *w;) {
		char word[32];
		size_t n = strcspn(w, " ");

		memcpy(word, w, n);
		word[n] = '\0';
		assert_true(has_word(l, word));
		w += n + (w[n] == ' ');
	}
	assert_true(has_word(l, ".") && has_word(l, ".."));
	l = listing("/proc/1");
	assert_true(has_word(l, "cmdline") && has_word(l, "environ") && has_word(l, "comm") &&
		    has_word(l, "status") && has_word(l, "stat") && has_word(l, "maps") &&
		    has_word(l, "fd") && has_word(l, "task") && has_word(l, "exe") &&
		    has_word(l, "cwd") && has_word(l, "root"));
	assert_string_equal(listing("/proc/sys"), ". .. kernel vm fs");
	assert_string_equal(listing("/proc/sys/kernel"), ". .. osrelease hostname ostype pid_max");
	assert_string_equal(listing("/proc/sys/vm"), ". .. overcommit_memory");
	assert_string_equal(listing("/proc/sys/fs"), ". .. pipe-max-size");
	assert_string_equal(link_of("/proc/self"), "1");
	snprintf(want, sizeof(want), "1/task/%ld", SYS0(SYS_gettid));
	assert_string_equal(link_of("/proc/thread-self"), want);
	snprintf(want, sizeof(want), "%ld", SYS0(SYS_gettid));
	assert_true(has_word(listing("/proc/self/task"), want));
	assert_true(has_word(listing("/proc/thread-self"), "stat"));
	assert_string_equal(link_of("/proc/self/exe"), "/prog");
	assert_string_equal(link_of("/proc/self/root"), "/");
	assert_string_equal(link_of("/proc/self/cwd"), "/");
	assert_int_equal(SYS1(SYS_chdir, "/tmp"), 0);
	assert_string_equal(link_of("/proc/self/cwd"), "/tmp");
	assert_int_equal(SYS1(SYS_chdir, "/proc/self"), 0);	/* a directory like any */
	assert_string_equal(slurp("comm"), "prog\n");
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	assert_int_equal(SYS2(SYS_stat, "/proc/self", &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFDIR);
	assert_int_equal(SYS2(SYS_lstat, "/proc/self", &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFLNK);
	assert_int_equal(SYS2(SYS_stat, "/proc/meminfo", &st), 0);
	assert_int_equal(st.mode, S_IFREG | 0444);
	assert_int_equal(st.size, 0);		/* generated: 0, as Linux */
	assert_int_equal(SYS2(SYS_stat, "/proc/nope", &st), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_stat, "/proc/1/task/99999", &st), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_stat, "/proc/meminfo/x", &st), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/proc/meminfo/", 0), -ENOTDIR);
}

static void test_tree(void **state)
{
	(void)state;
	run(tree_body);
}

/* ------------------------------------------------------------ the files */

/* The value of "name:" in text (the number after it), or -1. */
static long field(const char *t, const char *name)
{
	const char *p = strstr(t, name);

	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static void system_files_body(void)
{
	long total, avail;

	slurp("/proc/meminfo");
	assert_true(strncmp(text, "MemTotal:       ", 16) == 0);
	total = field(text, "MemTotal:");
	avail = field(text, "MemAvailable:");
	assert_true(total > 0 && field(text, "MemFree:") > 0);
	assert_true(avail >= field(text, "MemFree:") && avail <= total);
	assert_non_null(strstr(text, " kB\nSwapTotal:             0 kB\n"));
	assert_non_null(strstr(slurp("/proc/cpuinfo"), "processor\t: 0\n"));
	assert_non_null(strstr(text, "model name\t: "));
	slurp("/proc/uptime");
	assert_true(strchr(text, '.') && text[text_len - 1] == '\n');
	assert_true(strncmp(slurp("/proc/loadavg"), "0.00 0.00 0.00 1/", 17) == 0);
	assert_string_equal(slurp("/proc/version"), "Linux version 5.15.0-cubrt (cubrt) #1 cubrt\n");
	assert_non_null(strstr(slurp("/proc/mounts"), "rootfs / rootfs rw 0 0\n"));
	assert_non_null(strstr(text, "proc /proc proc ro"));
	assert_string_equal(slurp("/proc/filesystems"), "nodev\trootfs\nnodev\tproc\n");
	assert_string_equal(slurp("/proc/sys/kernel/osrelease"), "5.15.0-cubrt\n");
	assert_string_equal(slurp("/proc/sys/kernel/hostname"), "cubrt\n");
	assert_int_equal(SYS2(170, "renamed", 7), 0);		/* sethostname */
	assert_string_equal(slurp("/proc/sys/kernel/hostname"), "renamed\n");
	assert_int_equal(SYS2(170, "cubrt", 5), 0);
	assert_string_equal(slurp("/proc/sys/kernel/ostype"), "Linux\n");
	assert_string_equal(slurp("/proc/sys/kernel/pid_max"), "4194304\n");
	assert_string_equal(slurp("/proc/sys/vm/overcommit_memory"), "2\n");
	assert_string_equal(slurp("/proc/sys/fs/pipe-max-size"), "1048576\n");
}

/* /proc/net/dev and /proc/net/route in Linux's formats: lo (no
 * counters) and no eth0 without a card, a routing table with its header
 * only; then, as if the card were up (the host has none, so only the
 * shim's record of it is set), eth0's subnet and default route. */
static void net_files_body(void)
{
	static const char lo[] = "\n    lo:       0       0    0    0    0     0          0"
				 "         0        0       0    0    0    0     0       0"
				 "          0\n";

	slurp("/proc/net/dev");
	assert_true(strncmp(text, "Inter-|   Receive ", 18) == 0);
	assert_non_null(strstr(text, "\n face |bytes    packets errs drop fifo frame "));
	assert_non_null(strstr(text, lo));
	assert_null(strstr(text, "eth0"));
	slurp("/proc/net/route");
	assert_int_equal(text_len, 128);
	assert_true(strncmp(text, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\t"
				  "Metric\tMask\t\tMTU\tWindow\tIRTT  ", 61) == 0);
	cubi_netdev = (struct cubi_netdev){ .nif = (struct cub_netif *)&cubi_netdev,
					    .addr = CUB_IP4(10, 0, 2, 15), .prefix = 24,
					    .gateway = CUB_IP4(10, 0, 2, 2) };
	slurp("/proc/net/route");
	cubi_netdev = (struct cubi_netdev){ 0 };
	assert_int_equal(text_len, 3 * 128);
	assert_non_null(strstr(text, "\neth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000"
				     "\t0\t0\t0    "));
	assert_non_null(strstr(text, "\neth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF"
				     "\t0\t0\t0    "));
}

static void test_net_files(void **state)
{
	(void)state;
	run(net_files_body);
}

static void test_system_files(void **state)
{
	(void)state;
	run(system_files_body);
}

/* The n-th (1-based) space-separated field of stat's line. */
static const char *stat_field(const char *line, int n, char *out)
{
	const char *p = strrchr(line, ')') + 2;	/* field 3 */

	for (int i = 3; i < n; i++)
		p = strchr(p, ' ') + 1;
	sscanf(p, "%63s", out);
	return out;
}

static void process_files_body(void)
{
	char want[64], f[64];
	long tid = SYS0(SYS_gettid), page;
	int fields = 2;		/* "1 (prog)" */

	slurp("/proc/self/cmdline");
	assert_int_equal(text_len, 13);
	assert_memory_equal(text, "prog\0one\0two\0", 13);
	slurp("/proc/self/environ");
	assert_int_equal(text_len, 14);
	assert_memory_equal(text, "HOME=/\0LANG=C\0", 14);
	assert_string_equal(slurp("/proc/1/comm"), "prog\n");
	slurp("/proc/self/status");
	assert_true(strncmp(text, "Name:\tprog\nUmask:\t0022\nState:\tR (running)\n", 40) == 0);
	assert_non_null(strstr(text, "\nPid:\t1\nPPid:\t0\n"));
	assert_non_null(strstr(text, "\nUid:\t0\t0\t0\t0\n"));
	assert_int_equal(field(text, "Threads:"), 1);
	assert_non_null(strstr(text, "\nVmRSS:\t"));
	assert_non_null(strstr(text, "\nSigBlk:\t0000000000000000\n"));
	slurp("/proc/self/stat");
	assert_true(strncmp(text, "1 (prog) R 0 1 1 ", 17) == 0);
	for (const char *p = strrchr(text, ')'); *p; p++)
		fields += *p == ' ';
	assert_int_equal(fields, 52);
	assert_string_equal(stat_field(text, 20, f), "1");	/* num_threads */
	assert_int_equal(text[text_len - 1], '\n');
	/* maps: a new mapping appears in Linux's format */
	page = SYS6(SYS_mmap, 0, 4096, 1, 0x22, -1, 0);
	assert_true(page > 0);
	snprintf(want, sizeof(want), "%08lx-%08lx r--p 00000000 00:00 0\n", page, page + 4096);
	assert_non_null(strstr(slurp("/proc/self/maps"), want));
	assert_int_equal(SYS2(SYS_munmap, page, 4096), 0);
	assert_null(strstr(slurp("/proc/self/maps"), want));
	/* the thread's own files */
	snprintf(want, sizeof(want), "/proc/self/task/%ld/comm", tid);
	assert_string_equal(slurp(want), "prog\n");
	snprintf(want, sizeof(want), "/proc/thread-self/stat");
	slurp(want);
	snprintf(want, sizeof(want), "%ld (prog) R ", tid);
	assert_true(strncmp(text, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), "/proc/self/task/%ld/status", tid);
	snprintf(f, sizeof(f), "\nPid:\t%ld\n", tid);
	assert_non_null(strstr(slurp(want), f));
	/* a name set with prctl(PR_SET_NAME) shows in comm, status, stat */
	assert_int_equal(SYS2(157, 15 /* PR_SET_NAME */, "worker-0123456789"), 0);
	snprintf(want, sizeof(want), "/proc/self/task/%ld/comm", tid);
	assert_string_equal(slurp(want), "worker-01234567\n");	/* 15 bytes */
	assert_true(strncmp(slurp("/proc/self/status"), "Name:\tworker-01234567\n", 22) == 0);
	assert_true(strncmp(slurp("/proc/self/stat"), "1 (worker-01234567) ", 20) == 0);
	assert_int_equal(SYS2(157, 15, "prog"), 0);
}

static void test_process_files(void **state)
{
	(void)state;
	run(process_files_body);
}

/* --------------------------------------------------- reading a snapshot */

static void snapshot_body(void)
{
	char whole[4096], part[64];
	long n, page;
	int fd = (int)SYS2(SYS_open, "/proc/self/status", 0);
	struct kstat st;

	assert_true(fd >= 3);
	n = SYS3(SYS_read, fd, whole, sizeof(whole));
	assert_true(n > 100 && n < (long)sizeof(whole));
	assert_int_equal(SYS3(SYS_read, fd, part, sizeof(part)), 0);	/* EOF */
	assert_int_equal(SYS3(SYS_lseek, fd, 6, SEEK_SET), 6);
	assert_int_equal(SYS3(SYS_read, fd, part, 4), 4);
	assert_memory_equal(part, "prog", 4);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, SEEK_CUR), 10);
	assert_int_equal(SYS3(SYS_lseek, fd, -20, SEEK_CUR), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, SEEK_END), -CUB_EINVAL);	/* seq_file */
	assert_int_equal(SYS4(SYS_pread64, fd, part, 5, 0), 5);
	assert_memory_equal(part, "Name:", 5);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, SEEK_CUR), 10);		/* untouched */
	assert_int_equal(SYS4(SYS_pread64, fd, part, 5, n + 10), 0);
	assert_int_equal(SYS3(SYS_read, fd, WILD, 5), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_pread64, fd, WILD, 5, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_write, fd, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	assert_int_equal(st.mode, S_IFREG | 0444);
	assert_int_equal(st.size, 0);
	/* The text is the one made at open: a new mapping is not in it. */
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS2(SYS_open, "/proc/self/maps", 0);
	page = SYS6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);
	snprintf(part, sizeof(part), "%08lx-", page);
	n = SYS3(SYS_read, fd, whole, sizeof(whole) - 1);
	assert_true(n >= 0);
	whole[n] = '\0';
	assert_null(strstr(whole, part));
	assert_non_null(strstr(slurp("/proc/self/maps"), part));
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS2(SYS_munmap, page, 4096), 0);
}

static void test_snapshot(void **state)
{
	(void)state;
	run(snapshot_body);
}

/* ------------------------------------------------------- read-only */

static void readonly_body(void)
{
	int fd = make("/tmp/f");
	char dents[64];
	int d;

	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS2(SYS_open, "/proc/meminfo", O_WRONLY), -CUB_EACCES);
	assert_int_equal(SYS2(SYS_open, "/proc/meminfo", O_RDWR), -CUB_EACCES);
	assert_int_equal(SYS2(SYS_open, "/proc/sys/kernel/hostname", O_WRONLY | O_TRUNC),
			 -CUB_EACCES);
	fd = (int)SYS2(SYS_open, "/proc/self/comm", O_RDWR);	/* comm is writable */
	assert_true(fd >= 3);
	assert_int_equal(SYS3(SYS_write, fd, "renamed", 7), 7);
	assert_string_equal(slurp("/proc/self/comm"), "renamed\n");
	assert_int_equal(SYS3(SYS_write, fd, "x", 0), 0);	/* an empty name: the default */
	assert_string_equal(slurp("/proc/self/comm"), "prog\n");
	assert_int_equal(SYS3(SYS_write, fd, WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS2(SYS_open, "/proc/self/comm", 0);
	assert_int_equal(SYS3(SYS_write, fd, "x", 1), -CUB_EBADF);	/* opened read-only */
	assert_int_equal(SYS1(SYS_close, fd), 0);
	fd = (int)SYS3(SYS_open, "/proc/meminfo", O_CREAT, 0644);	/* exists: opened */
	assert_true(fd >= 3);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS3(SYS_open, "/proc/meminfo", O_CREAT | O_EXCL, 0644), -CUB_EEXIST);
	assert_int_equal(SYS3(SYS_open, "/proc/new", O_CREAT | O_WRONLY, 0644), -CUB_ENOENT);
	assert_int_equal(SYS3(SYS_open, "/proc/1/fd/77", O_CREAT | O_WRONLY, 0644), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_open, "/proc/1", O_WRONLY), -EISDIR);
	assert_int_equal(SYS2(SYS_mkdir, "/proc/x", 0755), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_mkdir, "/proc/1", 0755), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_mkdir, "/proc/1/task/x", 0755), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_unlink, "/proc/meminfo"), -CUB_EPERM);
	assert_int_equal(SYS1(SYS_unlink, "/proc/self"), -CUB_EPERM);
	assert_int_equal(SYS1(SYS_unlink, "/proc/nope"), -CUB_ENOENT);
	assert_int_equal(SYS1(SYS_rmdir, "/proc/1"), -CUB_EPERM);
	assert_int_equal(SYS1(SYS_rmdir, "/proc/meminfo"), -ENOTDIR);
	assert_int_equal(SYS1(SYS_rmdir, "/proc"), -CUB_EBUSY);	/* a mount point */
	assert_int_equal(SYS1(SYS_unlink, "/proc"), -EISDIR);
	assert_int_equal(SYS2(SYS_rename, "/proc/meminfo", "/proc/m2"), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_rename, "/proc/nope", "/proc/m2"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_rename, "/proc/meminfo", "/tmp/m"), -EXDEV);
	assert_int_equal(SYS2(SYS_rename, "/tmp/f", "/proc/f"), -EXDEV);
	assert_int_equal(SYS2(SYS_rename, "/proc", "/p"), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_rename, "/tmp/f", "/proc"), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_link, "/proc/meminfo", "/tmp/m"), -EXDEV);
	assert_int_equal(SYS2(SYS_link, "/tmp/f", "/proc/f"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_link, "/tmp/f", "/proc/meminfo"), -CUB_EEXIST);
	assert_int_equal(SYS2(SYS_symlink, "x", "/proc/l"), -CUB_ENOENT);
	assert_int_equal(SYS2(SYS_chmod, "/proc/meminfo", 0600), -CUB_EPERM);
	assert_int_equal(SYS4(SYS_utimensat, AT_FDCWD, "/proc/meminfo", NULL, 0), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_truncate, "/proc/meminfo", 0), -CUB_EACCES);
	fd = (int)SYS2(SYS_open, "/proc/meminfo", 0);
	assert_int_equal(SYS2(SYS_ftruncate, fd, 0), -CUB_EINVAL);	/* not for writing */
	assert_int_equal(SYS1(SYS_close, fd), 0);
	/* bad buffers */
	assert_int_equal(SYS3(SYS_readlink, "/proc/self", WILD, 10), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readlink, "/proc/self/fd/0", WILD, 10), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readlink, WILD, dents, 10), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readlink, "/proc/meminfo", dents, 10), -CUB_EINVAL);
	d = (int)SYS2(SYS_open, "/proc/self/fd", O_DIRECTORY);
	assert_true(d >= 3);
	assert_int_equal(SYS3(SYS_getdents64, d, WILD, 100), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_getdents64, d, dents, 10), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_read, d, dents, 10), -EISDIR);
	assert_int_equal(SYS1(SYS_close, d), 0);
	assert_string_equal(listing("/proc/sys/vm"), ". .. overcommit_memory");	/* intact */
}

static void test_readonly(void **state)
{
	(void)state;
	run(readonly_body);
}

/* ------------------------------------------------------ /proc/self/fd */

static void fd_body(void)
{
	char want[64];
	int f, d, null, p[2], sv[2], ev, ep;
	struct kstat st, st2;

	assert_string_equal(listing("/proc/self/fd"), ". .. 0 1 2 3");	/* 3: the listing's */
	assert_string_equal(fd_link(0), "/dev/console");
	assert_int_equal(SYS2(SYS_mkdir, "/tmp/d", 0755), 0);
	f = make("/tmp/d/f");
	assert_int_equal(f, 3);
	assert_string_equal(fd_link(f), "/tmp/d/f");
	assert_true(has_word(listing("/proc/self/fd"), "3"));
	d = (int)SYS2(SYS_open, "/tmp/d", O_DIRECTORY);
	assert_string_equal(fd_link(d), "/tmp/d");
	null = (int)SYS2(SYS_open, "/dev/null", O_RDWR);
	assert_string_equal(fd_link(null), "/dev/null");
	assert_int_equal(SYS2(SYS_pipe2, p, 0), 0);
	assert_int_equal(SYS2(SYS_fstat, p[0], &st), 0);
	snprintf(want, sizeof(want), "pipe:[%lu]", (unsigned long)st.ino);
	assert_string_equal(fd_link(p[0]), want);
	assert_int_equal(strncmp(fd_link(p[1]), "pipe:[", 6), 0);
	assert_int_equal(SYS4(SYS_socketpair, 1, 1, 0, sv), 0);
	assert_int_equal(strncmp(fd_link(sv[0]), "socket:[", 8), 0);
	ev = (int)SYS2(SYS_eventfd2, 0, 0);
	assert_string_equal(fd_link(ev), "anon_inode:[eventfd]");
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_string_equal(fd_link(ep), "anon_inode:[eventpoll]");
	/* a generated file shows where it was opened, links followed */
	assert_int_equal(SYS1(SYS_close, null), 0);
	null = (int)SYS2(SYS_open, "/proc/self/status", 0);
	assert_string_equal(fd_link(null), "/proc/1/status");
	/* the link leads to the file itself (by its path) */
	snprintf(want, sizeof(want), "/proc/self/fd/%d", f);
	assert_int_equal(SYS2(SYS_stat, want, &st), 0);
	assert_int_equal(SYS2(SYS_fstat, f, &st2), 0);
	assert_int_equal(st.ino, st2.ino);
	assert_int_equal(SYS2(SYS_lstat, want, &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFLNK);
	/* renames and removals are followed */
	assert_int_equal(SYS2(SYS_rename, "/tmp/d/f", "/tmp/d/g"), 0);
	assert_string_equal(fd_link(f), "/tmp/d/g");
	assert_int_equal(SYS2(SYS_rename, "/tmp/d", "/tmp/e"), 0);
	assert_string_equal(fd_link(f), "/tmp/e/g");
	assert_string_equal(fd_link(d), "/tmp/e");
	assert_int_equal(SYS2(SYS_link, "/tmp/e/g", "/tmp/e/h"), 0);
	assert_int_equal(SYS1(SYS_unlink, "/tmp/e/g"), 0);
	assert_string_equal(fd_link(f), "/tmp/e/h");		/* its other name */
	assert_int_equal(SYS1(SYS_unlink, "/tmp/e/h"), 0);
	assert_string_equal(fd_link(f), "/tmp/e/h (deleted)");	/* its last name */
	/* closes */
	assert_int_equal(SYS1(SYS_close, f), 0);
	assert_int_equal(SYS3(SYS_readlink, want, text, 100), -CUB_ENOENT);
	assert_int_equal(d, 4);
	assert_int_equal(SYS1(SYS_close, d), 0);
	assert_false(has_word(listing("/proc/self/fd"), "4"));	/* 3: the listing's */
	for (int fd = 5; fd <= ep; fd++)
		assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_string_equal(listing("/proc/self/fd"), ". .. 0 1 2 3");
}

#define SYS_dup 32
#define SYS_dup2 33

/* /dev/stdout leads through /proc/self/fd/1: to the console, then, with
 * stdout redirected into a file, to that file. */
static void dev_links_body(void)
{
	static char out[32];
	int fd, saved = (int)SYS1(SYS_dup, 1), file;

	fd = (int)SYS2(SYS_open, "/dev/stdout", 1 /* O_WRONLY */);
	assert_true(fd >= 0);
	cubi_host_capture_console(out, sizeof(out));
	assert_int_equal(SYS3(SYS_write, fd, "to stdout", 9), 9);
	cubi_host_capture_console(NULL, 0);
	assert_string_equal(out, "to stdout");
	assert_int_equal(SYS1(SYS_close, fd), 0);
	file = make("/tmp/redirected");
	assert_int_equal(SYS2(SYS_dup2, file, 1), 1);
	fd = (int)SYS2(SYS_open, "/dev/stdout", 1);
	assert_int_equal(SYS3(SYS_write, fd, "into the file", 13), 13);
	assert_int_equal(SYS2(SYS_dup2, saved, 1), 1);
	assert_string_equal(slurp("/tmp/redirected"), "into the file");
	assert_string_equal(link_of("/dev/fd"), "/proc/self/fd");
	assert_true(has_word(listing("/dev/fd/"), "0"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(SYS1(SYS_close, i == 0 ? fd : i == 1 ? file : saved), 0);
}

static void test_fd(void **state)
{
	(void)state;
	run(fd_body);
	run(dev_links_body);
}

/* ------------------------------------------------------------- O_PATH */

static void opath_body(void)
{
	char buf[16];
	int f = make("/tmp/f"), p, d;
	struct kstat st;

	assert_int_equal(SYS1(SYS_close, f), 0);
	p = (int)SYS2(SYS_open, "/tmp/f", O_PATH | O_RDWR | O_CREAT | O_TRUNC);
	assert_true(p >= 3);
	assert_int_equal(SYS3(SYS_read, p, buf, 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_write, p, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS4(SYS_pread64, p, buf, 1, 0), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_lseek, p, 0, SEEK_SET), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fchmod, p, 0600), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_ftruncate, p, 0), -CUB_EBADF);
	assert_int_equal(SYS6(SYS_mmap, 0, 4096, 1, 2, p, 0), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fcntl, p, F_GETFL), O_PATH);
	assert_int_equal(SYS2(SYS_fstat, p, &st), 0);
	assert_int_equal(st.mode, S_IFREG | 0644);
	assert_string_equal(fd_link(p), "/tmp/f");
	assert_int_equal(SYS1(SYS_close, p), 0);
	assert_int_equal(SYS2(SYS_open, "/tmp/f", O_PATH | O_DIRECTORY), -ENOTDIR);
	assert_int_equal(SYS2(SYS_open, "/tmp/nope", O_PATH | O_CREAT), -CUB_ENOENT);
	/* a directory: listing refused, a dirfd and fchdir fine */
	d = (int)SYS2(SYS_open, "/tmp", O_PATH | O_DIRECTORY);
	assert_int_equal(SYS3(SYS_getdents64, d, text, 512), -CUB_EBADF);
	f = (int)SYS4(SYS_openat, d, "f", 0, 0);
	assert_true(f >= 0);
	assert_int_equal(SYS1(SYS_close, f), 0);
	assert_int_equal(SYS1(SYS_fchdir, d), 0);
	assert_string_equal(link_of("/proc/self/cwd"), "/tmp");
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
	assert_int_equal(SYS1(SYS_close, d), 0);
	/* a link itself, and a device that is not opened */
	assert_int_equal(SYS2(SYS_symlink, "f", "/tmp/l"), 0);
	p = (int)SYS2(SYS_open, "/tmp/l", O_PATH | O_NOFOLLOW);
	assert_int_equal(SYS2(SYS_fstat, p, &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFLNK);
	assert_string_equal(fd_link(p), "/tmp/l");
	assert_int_equal(SYS1(SYS_close, p), 0);
	p = (int)SYS2(SYS_open, "/dev/null", O_PATH);
	assert_int_equal(SYS2(SYS_fstat, p, &st), 0);
	assert_int_equal(st.mode & S_IFMT, S_IFCHR);
	assert_int_equal(SYS3(SYS_write, p, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, p), 0);
}

/* realpath as musl 1.1 did it: O_PATH, readlink the fd, compare. */
static void realpath_body(void)
{
	char path[64];
	struct kstat st, st2;
	int p;

	assert_int_equal(SYS2(SYS_mkdir, "/tmp/d", 0755), 0);
	assert_int_equal(SYS2(SYS_mkdir, "/tmp/d/sub", 0755), 0);
	assert_int_equal(SYS2(SYS_symlink, "/tmp/d", "/tmp/ld"), 0);
	assert_int_equal(SYS1(SYS_close, make("/tmp/d/x")), 0);
	assert_int_equal(SYS1(SYS_chdir, "/tmp/d/sub"), 0);
	p = (int)SYS2(SYS_open, "../../ld/./sub/../x", O_PATH | O_CLOEXEC);
	assert_true(p >= 3);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p);
	assert_string_equal(link_of(path), "/tmp/d/x");
	assert_int_equal(SYS2(SYS_fstat, p, &st), 0);
	assert_int_equal(SYS2(SYS_stat, link_of(path), &st2), 0);
	assert_int_equal(st.ino, st2.ino);
	assert_int_equal(st.dev, st2.dev);
	assert_int_equal(SYS1(SYS_close, p), 0);
	p = (int)SYS2(SYS_open, "..", O_PATH | O_DIRECTORY);
	assert_string_equal(fd_link(p), "/tmp/d");
	assert_int_equal(SYS1(SYS_close, p), 0);
	assert_int_equal(SYS1(SYS_chdir, "/"), 0);
}

static void test_opath(void **state)
{
	(void)state;
	run(opath_body);
	run(realpath_body);
}

/* -------------------------------------------------- a second thread */

static uint64_t child_stack[8192] __attribute__((aligned(16)));
static volatile uint32_t ctid = 0xFFFF, ptid;
static volatile long child_tid;
static volatile int child_ready, child_go;
static char child_self[64], child_stat[64];

static void child_main(void)
{
	long n;
	int fd;

	child_tid = SYS0(SYS_gettid);
	n = SYS3(SYS_readlink, "/proc/thread-self", child_self, sizeof(child_self) - 1);
	child_self[n > 0 ? n : 0] = '\0';
	fd = (int)SYS2(SYS_open, "/proc/thread-self/stat", 0);
	n = SYS3(SYS_read, fd, child_stat, sizeof(child_stat) - 1);
	child_stat[n > 0 ? n : 0] = '\0';
	SYS1(SYS_close, fd);
	child_ready = 1;
	while (!child_go)
		SYS0(SYS_sched_yield);
	SYS1(SYS_exit, 0);
}

static void thread_body(void)
{
	uint64_t flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 |
			 0x100000 | 0x200000 | 0x1000000;
	uint64_t *top = &child_stack[8192 - 1], rflags;
	struct cub_shim_regs r = { 0 };
	char want[64];
	long tid;
	int comm;

	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	top[0] = 0;
	r = (struct cub_shim_regs){ .rax = 56 /* clone */, .rdi = flags, .rsi = (uint64_t)top,
		.rdx = (uint64_t)&ptid, .r10 = (uint64_t)&ctid,
		.rip = (uint64_t)child_main, .rflags = rflags };
	tid = cub_shim_syscall(&r);
	assert_true(tid > 1);
	while (!child_ready)
		SYS0(SYS_sched_yield);
	snprintf(want, sizeof(want), "1/task/%ld", tid);
	assert_string_equal(child_self, want);
	snprintf(want, sizeof(want), "%ld (prog) R ", tid);
	assert_true(strncmp(child_stat, want, strlen(want)) == 0);
	snprintf(want, sizeof(want), "%ld", tid);
	assert_true(has_word(listing("/proc/self/task"), want));
	assert_int_equal(field(slurp("/proc/self/status"), "Threads:"), 2);
	snprintf(want, sizeof(want), "/proc/1/task/%ld/stat", tid);
	assert_true(strstr(slurp(want), " (prog) S ") != NULL);	/* not the reader */
	/* Another thread's comm renames it (musl's pthread_setname_np). */
	snprintf(want, sizeof(want), "/proc/1/task/%ld/comm", tid);
	comm = (int)SYS2(SYS_open, want, O_WRONLY);
	assert_true(comm >= 3);
	assert_int_equal(SYS3(SYS_write, comm, "renamed-by-main-thread", 22), 22);
	assert_string_equal(slurp(want), "renamed-by-main\n");
	assert_string_equal(slurp("/proc/self/comm"), "prog\n");
	child_go = 1;
	while (ctid != 0)
		SYS6(SYS_futex, &ctid, 0, ctid, 0, 0, 0);
	assert_int_equal(SYS3(SYS_write, comm, "late", 4), -CUB_ESRCH);	/* gone */
	assert_int_equal(SYS1(SYS_close, comm), 0);
	snprintf(want, sizeof(want), "%ld", tid);
	assert_false(has_word(listing("/proc/self/task"), want));
	assert_int_equal(field(slurp("/proc/self/status"), "Threads:"), 1);
}

static void test_thread(void **state)
{
	(void)state;
	run(thread_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_system_files),
		cmocka_unit_test(test_net_files),
		cmocka_unit_test(test_process_files),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_readonly),
		cmocka_unit_test(test_fd),
		cmocka_unit_test(test_opath),
		cmocka_unit_test(test_thread),
	};

	cubi_mem_init();	/* the tree and open files live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
