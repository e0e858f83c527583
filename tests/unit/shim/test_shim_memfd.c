/*
 * test_shim_memfd.c - memfd_create and file seals (src/shim/memfd.c)
 * through the dispatcher: every flag and error of memfd_create; the
 * file's look (fstat, /proc/self/fd/N and /proc/self/maps show
 * "/memfd:NAME (deleted)", a reopen through the link); read, write,
 * lseek, ftruncate; shared mappings coherent with each other and with
 * read/write, and the ring buffer of one page mapped twice back to back
 * (demand paging off and on); each seal (SHRINK, GROW, WRITE,
 * FUTURE_WRITE, SEAL, EXEC) against write, truncate, fallocate, mmap,
 * mprotect and chmod, F_ADD_SEALS's and F_GET_SEALS's errors on every
 * kind of file, seals shared by dup'd, reopened and SCM_RIGHTS-passed
 * descriptors; and the heap and page frames given back at the last
 * close or munmap. Expected results are Linux 6.x's, checked against a
 * real kernel where the man pages are vague (a tmpfs file has
 * F_SEAL_SEAL; read-only shared mappings of a fd open O_RDWR stop
 * F_SEAL_WRITE). Each test runs in a coroutine on a fresh tree with
 * /dev, /proc and /tmp (fresh.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include "procfs.h"
#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"
#include "sock.h"

#define SYS_stat 4
#define SYS_pread64 17
#define SYS_pwrite64 18
#define SYS_dup 32
#define SYS_sendmsg 46
#define SYS_recvmsg 47
#define SYS_socketpair 53
#define SYS_truncate 76
#define SYS_ftruncate 77
#define SYS_mkdir 83
#define SYS_readlink 89
#define SYS_fchmod 91
#define SYS_linkat 265
#define SYS_fallocate 285
#define SYS_memfd_create 319

#define PG 4096l
#define R 1
#define RW 3
#define SHARED 0x01
#define PRIVATE 0x02
#define FIXED 0x10
#define ANON 0x20
#define O_RDONLY 0
#define O_RDWR 2
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_DIRECTORY 0200000
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define SEEK_SET 0
#define SEEK_END 2
#define F_GETFD 1
#define F_GETFL 3
#define FD_CLOEXEC 1
#define FALLOC_FL_KEEP_SIZE 1
#define EBUSY 16
#define EACCES 13
#define EXDEV 18

#define MFD_CLOEXEC 0x01
#define MFD_ALLOW_SEALING 0x02
#define MFD_HUGETLB 0x04
#define MFD_NOEXEC_SEAL 0x08
#define MFD_EXEC 0x10
#define MFD_HUGE_2MB (21 << 26)
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x01
#define F_SEAL_SHRINK 0x02
#define F_SEAL_GROW 0x04
#define F_SEAL_WRITE 0x08
#define F_SEAL_FUTURE_WRITE 0x10
#define F_SEAL_EXEC 0x20

static bool demand;

/* Runs body with demand paging off (the host's mode), then on (faults
 * played by peek and poke, as in test_shim_shared.c). */
static void run_both(void (*body)(void))
{
	for (int on = 0; on < 2; on++) {
		demand = on;
		cubi_mm_set_demand(on);
		cubi_mm_fault_around = 1;
		run_fresh_proc(body);
		cubi_mm_set_demand(false);
		cubi_mm_fault_around = 16;
	}
	demand = false;
}

static long memfd(const char *name, long flags)
{
	return SYS2(SYS_memfd_create, name, flags);
}

static int new_memfd(const char *name, long flags)
{
	long fd = memfd(name, flags);

	assert_true(fd >= 3);
	return (int)fd;
}

static long add_seals(int fd, long seals)
{
	return SYS3(SYS_fcntl, fd, F_ADD_SEALS, seals);
}

static long get_seals(int fd)
{
	return SYS2(SYS_fcntl, fd, F_GET_SEALS);
}

static long map(long addr, long len, long prot, long flags, int fd, long off)
{
	return SYS6(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* The byte at p as the program reads it (with demand paging, the fault
 * is played first). */
static int peek(long p)
{
	if (cub_vm_query((uintptr_t)p, NULL, NULL) != 0)
		assert_int_equal(cubi_mm_fault((uintptr_t)p, CUB_PROT_READ), 1);
	return *(volatile unsigned char *)p;
}

static void poke(long p, char c)
{
	if (cub_vm_query((uintptr_t)p, NULL, NULL) != 0)
		assert_int_equal(cubi_mm_fault((uintptr_t)p, CUB_PROT_WRITE), 1);
	*(volatile char *)p = c;
}

static struct kstat stat_of(int fd)
{
	struct kstat st;

	assert_int_equal(SYS2(SYS_fstat, fd, &st), 0);
	return st;
}

static const char *link_of(int fd)
{
	static char target[512];
	char path[64];
	long n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = SYS3(SYS_readlink, path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	return target;
}

/* A new open of fd's /proc/self/fd link with flags. */
static long reopen(int fd, long flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return SYS2(SYS_open, path, flags);
}

static void close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(SYS1(SYS_close, fds[i]), 0);
}

/* ------------------------------------------------------ memfd_create */

static void flags_body(void)
{
	char name[300];
	struct kstat st;
	int fd[8];

	fd[0] = new_memfd("plain", 0);
	st = stat_of(fd[0]);
	assert_int_equal(st.mode, 0100777);	/* no umask, as Linux shows it */
	assert_int_equal(st.size, 0);
	assert_int_equal(st.nlink, 0);
	assert_int_equal(SYS2(SYS_fcntl, fd[0], F_GETFL), O_RDWR);
	assert_int_equal(SYS2(SYS_fcntl, fd[0], F_GETFD), 0);
	assert_int_equal(get_seals(fd[0]), F_SEAL_SEAL);	/* sealing not allowed */
	assert_int_equal(add_seals(fd[0], F_SEAL_GROW), -CUB_EPERM);
	assert_int_equal(add_seals(fd[0], 0), -CUB_EPERM);
	fd[1] = new_memfd("cloexec", MFD_CLOEXEC);
	assert_int_equal(SYS2(SYS_fcntl, fd[1], F_GETFD), FD_CLOEXEC);
	fd[2] = new_memfd("sealing", MFD_ALLOW_SEALING);
	assert_int_equal(get_seals(fd[2]), 0);
	fd[3] = new_memfd("exec", MFD_EXEC);
	assert_int_equal(stat_of(fd[3]).mode, 0100777);
	assert_int_equal(get_seals(fd[3]), F_SEAL_SEAL);
	/* NOEXEC_SEAL: mode 0666, F_SEAL_EXEC, and sealing allowed. */
	fd[4] = new_memfd("noexec", MFD_NOEXEC_SEAL);
	assert_int_equal(stat_of(fd[4]).mode, 0100666);
	assert_int_equal(get_seals(fd[4]), F_SEAL_EXEC);
	assert_int_equal(SYS2(SYS_fchmod, fd[4], 0777), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_fchmod, fd[4], 0744), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_fchmod, fd[4], 0600), 0);	/* no x bit changes */
	assert_int_equal(add_seals(fd[4], F_SEAL_GROW), 0);
	assert_int_equal(get_seals(fd[4]), F_SEAL_EXEC | F_SEAL_GROW);
	/* flags is an unsigned int: the register's upper half is not read. */
	fd[5] = new_memfd("wide", (1l << 32) | MFD_ALLOW_SEALING);
	assert_int_equal(get_seals(fd[5]), 0);
	/* Names: 249 bytes at most ("memfd:" + 249 = NAME_MAX); "" and '/'. */
	memset(name, 'n', sizeof(name));
	name[249] = '\0';
	fd[6] = new_memfd(name, 0);
	name[249] = 'n';
	name[250] = '\0';
	assert_int_equal(memfd(name, 0), -CUB_EINVAL);
	name[299] = '\0';
	assert_int_equal(memfd(name, 0), -CUB_EINVAL);
	fd[7] = new_memfd("", 0);
	assert_string_equal(link_of(fd[7]), "/memfd: (deleted)");
	assert_int_equal(memfd((const char *)WILD, 0), -CUB_EFAULT);
	/* Flag errors come before the name's. */
	assert_int_equal(memfd((const char *)WILD, 0x40), -CUB_EINVAL);
	assert_int_equal(memfd("x", 0x40), -CUB_EINVAL);
	assert_int_equal(memfd("x", MFD_HUGETLB), -CUB_EINVAL);
	assert_int_equal(memfd("x", MFD_HUGETLB | MFD_HUGE_2MB), -CUB_EINVAL);
	assert_int_equal(memfd("x", MFD_HUGE_2MB), -CUB_EINVAL);
	assert_int_equal(memfd("x", MFD_EXEC | MFD_NOEXEC_SEAL), -CUB_EINVAL);
	close_all(fd, 8);
}

/* The descriptor table full: -EMFILE, and nothing left behind. */
static void emfile_body(void)
{
	struct cub_heap_stats before, after;
	int last = -1;
	long fd;

	while ((fd = SYS1(SYS_dup, 0)) >= 0)
		last = (int)fd;
	cub_heap_stats(&before);
	assert_int_equal(memfd("full", 0), -CUB_EMFILE);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	for (int i = 3; i <= last; i++)
		assert_int_equal(SYS1(SYS_close, i), 0);
}

/* What /proc shows of a memfd, and a new open through its link. */
static void proc_body(void)
{
	int fd = new_memfd("hello", MFD_ALLOW_SEALING), slash = new_memfd("a/b", 0), again;
	char path[64], c = 0, maps[8192];
	struct kstat st, st2;
	long a, n;
	int m;

	assert_string_equal(link_of(fd), "/memfd:hello (deleted)");
	assert_string_equal(link_of(slash), "/memfd:a/b (deleted)");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	assert_int_equal(SYS2(SYS_stat, path, &st), 0);
	assert_int_equal(st.ino, stat_of(fd).ino);
	assert_int_equal(st.nlink, 0);
	/* No name brings it into the tree: Linux's memfd is on a mount of
	 * its own. */
	assert_int_equal(sys(SYS_linkat, fd, (long)"", AT_FDCWD, (long)"/tmp/x", AT_EMPTY_PATH,
			     0), -EXDEV);
	assert_int_equal(sys(SYS_linkat, AT_FDCWD, (long)path, AT_FDCWD, (long)"/tmp/x",
			     0x400, 0), -EXDEV);	/* AT_SYMLINK_FOLLOW */
	/* Opened again: the same file, its own position. */
	again = (int)reopen(fd, O_RDWR);
	assert_true(again >= 3);
	st2 = stat_of(again);
	assert_int_equal(st2.ino, st.ino);
	assert_string_equal(link_of(again), "/memfd:hello (deleted)");
	assert_int_equal(SYS3(SYS_write, again, "xyz", 3), 3);
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, 2), 1);
	assert_int_equal(c, 'z');
	assert_int_equal(SYS3(SYS_lseek, fd, 0, 1), 0);
	/* /proc/self/maps names a shared mapping by the same path. */
	a = map(0, PG, R, SHARED, fd, 0);
	assert_true(a > 0);
	m = (int)SYS2(SYS_open, "/proc/self/maps", O_RDONLY);
	assert_true(m >= 3);
	n = SYS3(SYS_read, m, maps, sizeof(maps) - 1);
	assert_true(n > 0);
	maps[n] = '\0';
	assert_non_null(strstr(maps, "/memfd:hello (deleted)\n"));
	assert_non_null(strstr(maps, " r--s 00000000 "));
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	assert_int_equal(SYS1(SYS_close, m), 0);
	assert_int_equal(SYS1(SYS_close, again), 0);
	assert_int_equal(SYS1(SYS_close, slash), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* ------------------------------------------------- bytes and mappings */

static void io_body(void)
{
	int fd = new_memfd("io", 0);
	char buf[16] = { 0 };

	assert_int_equal(SYS3(SYS_write, fd, "hello world", 11), 11);
	assert_int_equal(stat_of(fd).size, 11);
	assert_int_equal(SYS3(SYS_lseek, fd, 6, SEEK_SET), 6);
	assert_int_equal(SYS3(SYS_read, fd, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "world");
	assert_int_equal(SYS3(SYS_lseek, fd, 0, SEEK_END), 11);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "!", 1, 3 * PG), 1);	/* a hole */
	assert_int_equal(stat_of(fd).size, 3 * PG + 1);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, 4, PG), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_int_equal(SYS2(SYS_ftruncate, fd, 5), 0);
	assert_int_equal(stat_of(fd).size, 5);
	assert_int_equal(SYS4(SYS_pread64, fd, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* Two shared mappings and read/write see the same bytes. */
static void coherence_body(void)
{
	int fd = new_memfd("shared", 0);
	long a, b;
	char c = 0;

	assert_int_equal(SYS2(SYS_ftruncate, fd, 2 * PG), 0);
	a = map(0, 2 * PG, RW, SHARED, fd, 0);
	b = map(0, PG, RW, SHARED, fd, PG);
	assert_true(a > 0 && b > 0);
	poke(a + PG + 7, 'a');
	assert_int_equal(peek(b + 7), 'a');
	poke(b + 8, 'b');
	assert_int_equal(peek(a + PG + 8), 'b');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, PG + 8), 1);
	assert_int_equal(c, 'b');
	assert_int_equal(SYS4(SYS_pwrite64, fd, "w", 1, 5), 1);
	assert_int_equal(peek(a + 5), 'w');
	assert_int_equal(SYS2(SYS_munmap, a, 2 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* The "magic ring buffer": one page mapped twice back to back in a
 * reservation, so a run across the end of the first mapping continues
 * at the start of the same page. */
static void ring_body(void)
{
	int fd = new_memfd("ring", 0);
	long base = map(0, 2 * PG, 0, PRIVATE | ANON, -1, 0);
	const char msg[] = "across the seam";
	char got[sizeof(msg)];

	assert_true(base > 0);
	assert_int_equal(SYS2(SYS_ftruncate, fd, PG), 0);
	assert_int_equal(map(base, PG, RW, SHARED | FIXED, fd, 0), base);
	assert_int_equal(map(base + PG, PG, RW, SHARED | FIXED, fd, 0), base + PG);
	for (size_t i = 0; i < sizeof(msg); i++)	/* from 5 bytes before the seam */
		poke(base + PG - 5 + (long)i, msg[i]);
	for (size_t i = 0; i < sizeof(msg); i++)
		got[i] = (char)peek(base + PG - 5 + (long)i);
	assert_memory_equal(got, msg, sizeof(msg));
	/* The part past the seam is the start of the one page. */
	for (size_t i = 5; i < sizeof(msg); i++)
		assert_int_equal(peek(base + (long)i - 5), msg[i]);
	assert_int_equal(SYS4(SYS_pread64, fd, got, 3, 0), 3);
	assert_memory_equal(got, msg + 5, 3);
	assert_int_equal(SYS2(SYS_munmap, base, 2 * PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* Memory goes back with the last hold: descriptors, then mappings. */
static void free_body(void)
{
	struct cub_heap_stats before, after;
	size_t frames = cub_frame_free_count();
	int fd, dup;
	long a;

	cub_heap_stats(&before);
	fd = new_memfd("freed", MFD_ALLOW_SEALING);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "x", 1, 5 * PG), 1);
	assert_true(cub_frame_free_count() < frames);
	dup = (int)SYS1(SYS_dup, fd);
	a = map(0, 2 * PG, RW, SHARED, fd, 0);
	poke(a + PG, 'k');
	assert_int_equal(add_seals(fd, F_SEAL_GROW), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_close, dup), 0);
	assert_int_equal(peek(a + PG), 'k');	/* the mapping holds the file */
	assert_int_equal(SYS2(SYS_munmap, a, 2 * PG), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(cub_frame_free_count(), frames);
	/* And a sealed read-only mapping's own file goes with it. */
	fd = new_memfd("sealed", MFD_ALLOW_SEALING);
	assert_int_equal(SYS2(SYS_ftruncate, fd, PG), 0);
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), 0);
	a = map(0, PG, R, SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(cub_frame_free_count(), frames);
}

/* ------------------------------------------------------------- seals */

static void shrink_grow_body(void)
{
	int s = new_memfd("shrink", MFD_ALLOW_SEALING), g = new_memfd("grow", MFD_ALLOW_SEALING);
	static char big[3 * PG];
	char path[64];

	assert_int_equal(SYS2(SYS_ftruncate, s, 5000), 0);
	assert_int_equal(add_seals(s, F_SEAL_SHRINK), 0);
	assert_int_equal(SYS2(SYS_ftruncate, s, 10), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_ftruncate, s, 5000), 0);
	assert_int_equal(SYS2(SYS_ftruncate, s, 6000), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s);
	assert_int_equal(SYS2(SYS_truncate, path, 0), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_open, path, O_RDWR | O_TRUNC), -CUB_EPERM);
	assert_int_equal(stat_of(s).size, 6000);
	assert_int_equal(SYS4(SYS_pwrite64, s, big, 100, 7000), 100);	/* growing */
	/* GROW: no size past the current one, by any call. */
	assert_int_equal(SYS2(SYS_ftruncate, g, 5000), 0);
	assert_int_equal(add_seals(g, F_SEAL_GROW), 0);
	assert_int_equal(SYS2(SYS_ftruncate, g, 5001), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_ftruncate, g, 5000), 0);
	assert_int_equal(SYS4(SYS_fallocate, g, 0, 0, 5001), -CUB_EPERM);
	assert_int_equal(SYS4(SYS_fallocate, g, FALLOC_FL_KEEP_SIZE, 4000, 2000), -CUB_EPERM);
	assert_int_equal(SYS4(SYS_fallocate, g, 0, 0, 5000), 0);
	/* A write past the end stops at the last page boundary below it. */
	assert_int_equal(SYS4(SYS_pwrite64, g, big, 6000, 0), PG);
	assert_int_equal(SYS4(SYS_pwrite64, g, big, 2000, 4000), PG - 4000);
	assert_int_equal(SYS4(SYS_pwrite64, g, big, 4900, 100), 4900);
	assert_int_equal(SYS4(SYS_pwrite64, g, big, 1, 5000), -CUB_EPERM);
	assert_int_equal(SYS4(SYS_pwrite64, g, big, 0, 9000), 0);
	assert_int_equal(stat_of(g).size, 5000);
	assert_int_equal(SYS2(SYS_ftruncate, g, 10), 0);		/* shrinking */
	assert_int_equal(SYS3(SYS_lseek, g, 0, SEEK_END), 10);
	assert_int_equal(SYS3(SYS_write, g, "x", 1), -CUB_EPERM);	/* at the end */
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(SYS1(SYS_close, g), 0);
}

static void write_body(void)
{
	int fd = new_memfd("write", MFD_ALLOW_SEALING);
	long a, b;

	assert_int_equal(SYS2(SYS_ftruncate, fd, PG), 0);
	/* A shared mapping through a fd open O_RDWR may write, even one
	 * mapped read-only (mprotect could change it): -EBUSY. */
	a = map(0, PG, RW, SHARED, fd, 0);
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	a = map(0, PG, R, SHARED, fd, 0);
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	a = map(0, PG, RW, PRIVATE, fd, 0);		/* a copy: no matter */
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), 0);
	assert_int_equal(get_seals(fd), F_SEAL_WRITE);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	assert_int_equal(SYS3(SYS_write, fd, "x", 1), -CUB_EPERM);
	assert_int_equal(SYS4(SYS_pwrite64, fd, "x", 1, 0), -CUB_EPERM);
	assert_int_equal(SYS3(SYS_write, fd, "x", 0), 0);
	assert_int_equal(map(0, PG, RW, SHARED, fd, 0), -CUB_EPERM);
	assert_int_equal(map(0, PG, 2, SHARED, fd, 0), -CUB_EPERM);	/* PROT_WRITE */
	b = map(0, PG, R, SHARED, fd, 0);		/* read-only is fine */
	assert_true(b > 0);
	assert_int_equal(SYS3(SYS_mprotect, b, PG, RW), -EACCES);
	assert_int_equal(SYS3(SYS_mprotect, b, PG, 0), 0);
	assert_int_equal(SYS3(SYS_mprotect, b, PG, R), 0);
	a = map(0, PG, RW, PRIVATE, fd, 0);
	assert_true(a > 0);
	poke(a, 'p');
	assert_int_equal(peek(b), 0);
	/* WRITE alone lets the size change, as on Linux. */
	assert_int_equal(SYS2(SYS_ftruncate, fd, 2 * PG), 0);
	assert_int_equal(SYS4(SYS_fallocate, fd, 0, 0, 3 * PG), 0);
	assert_int_equal(SYS2(SYS_ftruncate, fd, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, a, PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void future_write_body(void)
{
	int fd = new_memfd("future", MFD_ALLOW_SEALING);
	long ro, rw, late;
	char c = 0;

	assert_int_equal(SYS2(SYS_ftruncate, fd, PG), 0);
	ro = map(0, PG, R, SHARED, fd, 0);
	rw = map(0, PG, RW, SHARED, fd, 0);
	assert_int_equal(add_seals(fd, F_SEAL_FUTURE_WRITE), 0);
	/* The mappings made before stay as they were... */
	poke(rw + 1, 'Z');
	assert_int_equal(SYS4(SYS_pread64, fd, &c, 1, 1), 1);
	assert_int_equal(c, 'Z');
	assert_int_equal(SYS3(SYS_mprotect, ro, PG, RW), 0);
	poke(ro + 2, 'Y');
	assert_int_equal(peek(rw + 2), 'Y');
	/* ...new ones and the calls may not write, nor punch a hole
	 * through an old mapping (MADV_REMOVE), which keeps its bytes. */
	assert_int_equal(SYS3(SYS_madvise, rw, PG, 9), -CUB_EPERM);
	assert_int_equal(peek(rw + 2), 'Y');
	assert_int_equal(SYS3(SYS_write, fd, "x", 1), -CUB_EPERM);
	assert_int_equal(map(0, PG, RW, SHARED, fd, 0), -CUB_EPERM);
	late = map(0, PG, R, SHARED, fd, 0);
	assert_true(late > 0);
	assert_int_equal(peek(late + 2), 'Y');
	assert_int_equal(SYS3(SYS_mprotect, late, PG, RW), -EACCES);
	/* F_SEAL_WRITE still waits for the writable mappings to go. */
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_munmap, rw, PG), 0);
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), -CUB_EBUSY);
	assert_int_equal(SYS2(SYS_munmap, ro, PG), 0);
	assert_int_equal(add_seals(fd, F_SEAL_WRITE), 0);	/* late never could */
	assert_int_equal(get_seals(fd), F_SEAL_FUTURE_WRITE | F_SEAL_WRITE);
	assert_int_equal(SYS2(SYS_munmap, late, PG), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void seal_exec_body(void)
{
	int fd = new_memfd("seal", MFD_ALLOW_SEALING), x = new_memfd("x", MFD_ALLOW_SEALING);
	int y = new_memfd("y", MFD_ALLOW_SEALING);

	assert_int_equal(add_seals(fd, F_SEAL_SHRINK | F_SEAL_SEAL), 0);
	assert_int_equal(get_seals(fd), F_SEAL_SHRINK | F_SEAL_SEAL);
	assert_int_equal(add_seals(fd, 0), -CUB_EPERM);
	assert_int_equal(add_seals(fd, F_SEAL_GROW), -CUB_EPERM);
	assert_int_equal(get_seals(fd), F_SEAL_SHRINK | F_SEAL_SEAL);
	/* F_SEAL_EXEC on an executable file brings the write seals along. */
	assert_int_equal(add_seals(x, F_SEAL_EXEC), 0);
	assert_int_equal(get_seals(x), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW |
				       F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	assert_int_equal(SYS3(SYS_write, x, "x", 1), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_fchmod, y, 0644), 0);
	assert_int_equal(add_seals(y, F_SEAL_EXEC), 0);
	assert_int_equal(get_seals(y), F_SEAL_EXEC);
	assert_int_equal(SYS2(SYS_fchmod, y, 0755), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_fchmod, y, 0600), 0);
	assert_int_equal(SYS3(SYS_write, y, "y", 1), 1);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_close, x), 0);
	assert_int_equal(SYS1(SYS_close, y), 0);
}

/* F_ADD_SEALS and F_GET_SEALS on every kind of descriptor. */
static void errors_body(void)
{
	int fd = new_memfd("errors", MFD_ALLOW_SEALING), p[2], f[8];

	assert_int_equal(add_seals(fd, 0x40), -CUB_EINVAL);
	assert_int_equal(add_seals(fd, 1l << 32), -CUB_EINVAL);
	assert_int_equal(add_seals(fd, 0), 0);
	assert_int_equal(add_seals(99, 0), -CUB_EBADF);
	assert_int_equal(get_seals(99), -CUB_EBADF);
	f[0] = (int)reopen(fd, O_RDONLY);		/* not for writing */
	assert_int_equal(add_seals(f[0], F_SEAL_GROW), -CUB_EPERM);
	assert_int_equal(add_seals(f[0], 0x40), -CUB_EPERM);
	assert_int_equal(get_seals(f[0]), 0);
	f[1] = (int)reopen(fd, O_PATH);
	assert_int_equal(get_seals(f[1]), -CUB_EBADF);
	assert_int_equal(add_seals(f[1], 0), -CUB_EBADF);
	/* A tmpfs file takes no seal: it has F_SEAL_SEAL. */
	f[2] = (int)SYS3(SYS_open, "/tmp/file", O_CREAT | O_RDWR, 0600);
	assert_int_equal(get_seals(f[2]), F_SEAL_SEAL);
	assert_int_equal(add_seals(f[2], F_SEAL_GROW), -CUB_EPERM);
	/* Other file systems and kinds: -EINVAL (a descriptor not open for
	 * writing: -EPERM first). */
	f[3] = (int)SYS2(SYS_open, "/tmp", O_DIRECTORY);
	assert_int_equal(get_seals(f[3]), -CUB_EINVAL);
	assert_int_equal(add_seals(f[3], 0), -CUB_EPERM);
	f[4] = (int)SYS2(SYS_open, "/proc/meminfo", O_RDONLY);
	assert_int_equal(get_seals(f[4]), -CUB_EINVAL);
	f[5] = (int)SYS2(SYS_open, "/dev/null", O_RDWR);
	assert_int_equal(get_seals(f[5]), -CUB_EINVAL);
	assert_int_equal(add_seals(f[5], 0), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	f[6] = p[0];
	f[7] = p[1];
	assert_int_equal(add_seals(p[0], 0), -CUB_EPERM);
	assert_int_equal(add_seals(p[1], 0), -CUB_EINVAL);
	assert_int_equal(get_seals(p[0]), -CUB_EINVAL);
	assert_int_equal(get_seals(1), -CUB_EINVAL);		/* the console */
	close_all(f, 8);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

/* ------------------------------------------------ shared seals, passing */


struct cmsg {			/* struct cmsghdr and one descriptor */
	uint64_t len;
	int32_t level, type;
	int32_t fd, pad;
};

/* Sends fd over socket s with one byte (SCM_RIGHTS); receives it on r. */
static int pass_fd(int s, int r, int fd)
{
	struct cmsg out = { 20, 1, 1, fd, 0 }, in = { 0 };	/* SOL_SOCKET, SCM_RIGHTS */
	char byte = 'm';
	struct iov v = { &byte, 1 };
	struct msghdr m = { NULL, 0, &v, 1, &out, sizeof(out), 0 };

	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), 1);
	m = (struct msghdr){ NULL, 0, &v, 1, &in, sizeof(in), 0 };
	assert_int_equal(SYS3(SYS_recvmsg, r, &m, 0), 1);
	assert_int_equal(in.len, 20);
	return in.fd;
}

static void shared_seals_body(void)
{
	int fd = new_memfd("passed", MFD_ALLOW_SEALING), sv[2], dup, again, got;
	char c = 0;
	int all[6];

	dup = (int)SYS1(SYS_dup, fd);
	assert_int_equal(add_seals(dup, F_SEAL_SHRINK), 0);
	assert_int_equal(get_seals(fd), F_SEAL_SHRINK);
	again = (int)reopen(fd, O_RDWR);
	assert_int_equal(get_seals(again), F_SEAL_SHRINK);
	assert_int_equal(SYS4(SYS_socketpair, 1, 1, 0, sv), 0);	/* AF_UNIX stream */
	got = pass_fd(sv[0], sv[1], fd);
	assert_true(got >= 3 && got != fd);
	assert_int_equal(stat_of(got).ino, stat_of(fd).ino);
	assert_string_equal(link_of(got), "/memfd:passed (deleted)");
	assert_int_equal(get_seals(got), F_SEAL_SHRINK);
	assert_int_equal(add_seals(got, F_SEAL_GROW), 0);
	assert_int_equal(get_seals(fd), F_SEAL_SHRINK | F_SEAL_GROW);
	assert_int_equal(SYS3(SYS_lseek, fd, 0, SEEK_SET), 0);	/* one open file */
	assert_int_equal(SYS3(SYS_write, again, "q", 1), -CUB_EPERM);	/* growing */
	assert_int_equal(SYS2(SYS_ftruncate, again, 1), -CUB_EPERM);
	assert_int_equal(SYS3(SYS_read, got, &c, 1), 0);
	all[0] = fd, all[1] = dup, all[2] = again, all[3] = got, all[4] = sv[0], all[5] = sv[1];
	close_all(all, 6);
}

static void test_flags(void **state) { (void)state; run_fresh_proc(flags_body); }
static void test_emfile(void **state) { (void)state; run_fresh_proc(emfile_body); }
static void test_proc(void **state) { (void)state; run_fresh_proc(proc_body); }
static void test_io(void **state) { (void)state; run_fresh_proc(io_body); }
static void test_coherence(void **state) { (void)state; run_both(coherence_body); }
static void test_ring(void **state) { (void)state; run_both(ring_body); }
static void test_memory_freed(void **state) { (void)state; run_both(free_body); }
static void test_shrink_grow(void **state) { (void)state; run_fresh_proc(shrink_grow_body); }
static void test_write(void **state) { (void)state; run_both(write_body); }
static void test_future_write(void **state) { (void)state; run_both(future_write_body); }
static void test_seal_exec(void **state) { (void)state; run_fresh_proc(seal_exec_body); }
static void test_errors(void **state) { (void)state; run_fresh_proc(errors_body); }
static void test_shared_seals(void **state) { (void)state; run_fresh_proc(shared_seals_body); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_emfile),
		cmocka_unit_test(test_proc),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_coherence),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_memory_freed),
		cmocka_unit_test(test_shrink_grow),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_future_write),
		cmocka_unit_test(test_seal_exec),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_shared_seals),
	};

	cubi_mem_init();	/* the tree and open files live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
