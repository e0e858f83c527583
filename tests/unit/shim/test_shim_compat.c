/*
 * test_shim_compat.c - the compatibility calls through the dispatcher:
 * process identity and ids, priorities and scheduling settings, prctl,
 * waits without children, membarrier, personality; getrusage, sysinfo,
 * times; mremap, msync, mincore and the mlock calls; statfs, fstatfs,
 * statx, fallocate, fadvise64, the sync calls, chown and the old time
 * calls, mknod, sendfile, copy_file_range and flock (blocking included).
 * Each call's success and the error each bad argument gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"
#include "procfs.h"

#define SYS5(n, a, b, c, d, e) sys(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define PG 4096l
#define SYS_stat 4
#define SYS_dup 32
#define ENOLCK 37
#define ENODEV 19
#define ECHILD 10
#define ESPIPE 29
#define EOPNOTSUPP 95
#define EISDIR 21
#define EFBIG 27
#define O_RDWR 2
#define O_CREAT 0100
#define O_APPEND 02000
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define AT_SYMLINK_NOFOLLOW 0x100

static char buf[8192];

static void run(void (*body)(void))
{
	run_fresh(body, true);
}

static int make(const char *path, const char *s)
{
	int fd = (int)SYS4(SYS_openat, AT_FDCWD, path, O_CREAT | O_RDWR, 0644);

	assert_true(fd >= 3);
	assert_int_equal(SYS3(SYS_write, fd, s, strlen(s)), (long)strlen(s));
	return fd;
}

/* ------------------------------------------------------------ identity */

static void ids_body(void)
{
	uint32_t ids[3] = { 7, 7, 7 }, groups[4] = { 0 };
	uint32_t two[2] = { 0, 10 };

	assert_int_equal(SYS0(111), 1);				/* getpgrp */
	assert_int_equal(SYS1(121, 0), 1);			/* getpgid */
	assert_int_equal(SYS1(121, 1), 1);
	assert_int_equal(SYS1(121, 999), -CUB_ESRCH);
	assert_int_equal(SYS1(124, 0), 1);			/* getsid */
	assert_int_equal(SYS1(124, -5), -CUB_ESRCH);
	assert_int_equal(SYS2(109, 0, 0), -CUB_EPERM);		/* setpgid */
	assert_int_equal(SYS2(109, 0, -1), -CUB_EINVAL);
	assert_int_equal(SYS2(109, 999, 0), -CUB_ESRCH);
	assert_int_equal(SYS0(112), -CUB_EPERM);			/* setsid */
	assert_int_equal(SYS3(118, &ids[0], &ids[1], &ids[2]), 0);	/* getresuid */
	assert_int_equal(ids[0] | ids[1] | ids[2], 0);
	assert_int_equal(SYS3(120, &ids[0], WILD, &ids[2]), -CUB_EFAULT);
	assert_int_equal(SYS1(105, 0), 0);				/* setuid */
	assert_int_equal(SYS1(105, 1000), -CUB_EPERM);
	assert_int_equal(SYS1(106, -1), -CUB_EINVAL);		/* setgid */
	assert_int_equal(SYS2(113, -1, 0), 0);			/* setreuid */
	assert_int_equal(SYS2(114, 0, 5), -CUB_EPERM);		/* setregid */
	assert_int_equal(SYS3(117, 0, -1, 0), 0);			/* setresuid */
	assert_int_equal(SYS3(119, 0, 0, 3), -CUB_EPERM);		/* setresgid */
	assert_int_equal(SYS1(122, 1000), 0);			/* setfsuid: old */
	assert_int_equal(SYS1(123, -1), 0);			/* setfsgid */
	assert_int_equal(SYS2(115, 0, NULL), 0);			/* getgroups */
	assert_int_equal(SYS2(116, 2, two), 0);			/* setgroups */
	assert_int_equal(SYS2(115, 0, NULL), 2);
	assert_int_equal(SYS2(115, 1, groups), -CUB_EINVAL);
	assert_int_equal(SYS2(115, 4, groups), 2);
	assert_int_equal(groups[1], 10);
	assert_int_equal(SYS2(115, 4, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(115, -1, groups), -CUB_EINVAL);
	assert_int_equal(SYS2(116, -1, two), -CUB_EINVAL);
	assert_int_equal(SYS2(116, 100000, two), -CUB_EINVAL);
	assert_int_equal(SYS2(116, 2, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(116, 0, NULL), 0);
	assert_int_equal(SYS2(115, 0, NULL), 0);
	assert_int_equal(SYS2(140, 0, 0), 20);			/* getpriority */
	assert_int_equal(SYS3(141, 0, 0, 5), 0);			/* setpriority */
	assert_int_equal(SYS2(140, 0, 1), 15);
	assert_int_equal(SYS3(141, 1, 0, -100), 0);		/* clamped */
	assert_int_equal(SYS2(140, 2, 0), 40);
	assert_int_equal(SYS3(141, 0, 0, 0), 0);
	assert_int_equal(SYS2(140, 3, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(140, 0, 999), -CUB_ESRCH);
	assert_int_equal(SYS2(140, 2, 1000), -CUB_ESRCH);
	assert_int_equal(SYS3(309, &ids[0], &ids[1], NULL), 0);	/* getcpu */
	assert_int_equal(SYS3(309, NULL, NULL, NULL), 0);
	assert_int_equal(SYS3(309, WILD, NULL, NULL), -CUB_EFAULT);
	assert_int_equal(SYS1(135, 0xffffffff), 0);		/* personality */
	assert_int_equal(SYS1(135, 0x0040000), 0);
	assert_int_equal(SYS1(135, 0xffffffff), 0x0040000);
	assert_int_equal(SYS1(135, 8), -CUB_EINVAL);		/* PER_LINUX32 */
	assert_int_equal(SYS1(135, 0), 0x0040000);
}

static void test_ids(void **state)
{
	(void)state;
	run(ids_body);
}

static void sched_body(void)
{
	int32_t prio = 7;
	uint64_t mask = 3;
	int64_t ts[2];

	assert_int_equal(SYS1(146, 1), 99);			/* max FIFO */
	assert_int_equal(SYS1(147, 2), 1);			/* min RR */
	assert_int_equal(SYS1(146, 0), 0);
	assert_int_equal(SYS1(147, 6), -CUB_EINVAL);		/* DEADLINE */
	assert_int_equal(SYS1(145, 0), 0);			/* getscheduler */
	assert_int_equal(SYS1(145, -1), -CUB_EINVAL);
	assert_int_equal(SYS1(145, 999), -CUB_ESRCH);
	prio = 10;
	assert_int_equal(SYS3(144, 0, 1, &prio), 0);		/* FIFO 10 */
	assert_int_equal(SYS1(145, 1), 1);
	prio = 0;
	assert_int_equal(SYS2(143, 0, &prio), 0);			/* getparam */
	assert_int_equal(prio, 10);
	prio = 0;
	assert_int_equal(SYS2(142, 0, &prio), -CUB_EINVAL);	/* 0 under FIFO */
	prio = 50;
	assert_int_equal(SYS2(142, 0, &prio), 0);
	assert_int_equal(SYS3(144, 0, 0, &prio), -CUB_EINVAL);	/* OTHER wants 0 */
	assert_int_equal(SYS3(144, 0, 9, &prio), -CUB_EINVAL);
	assert_int_equal(SYS3(144, 0, 0, NULL), -CUB_EINVAL);
	assert_int_equal(SYS3(144, 0, 0, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(144, 999, 0, &prio), -CUB_ESRCH);
	prio = 0;
	assert_int_equal(SYS3(144, 0, 0x40000000, &prio), 0);	/* RESET_ON_FORK */
	assert_int_equal(SYS1(145, 0), 0x40000000);
	assert_int_equal(SYS3(144, 0, 0, &prio), 0);
	assert_int_equal(SYS2(143, 0, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(148, 0, ts), 0);			/* rr_get_interval */
	assert_true(ts[0] == 0 && ts[1] > 0);
	assert_int_equal(SYS2(148, 0, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(203, 0, 8, &mask), 0);		/* setaffinity */
	mask = 2;
	assert_int_equal(SYS3(203, 0, 8, &mask), -CUB_EINVAL);	/* no CPU 0 */
	assert_int_equal(SYS3(203, 0, 0, &mask), -CUB_EINVAL);
	assert_int_equal(SYS3(203, 0, 8, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(203, 999, 8, &mask), -CUB_ESRCH);
	/* waits: no children */
	assert_int_equal(SYS4(61, -1, NULL, 0, NULL), -ECHILD);
	assert_int_equal(SYS4(61, -1, NULL, 1, NULL), -ECHILD);
	assert_int_equal(SYS4(61, -1, NULL, 0x10, NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(247, 0, 0, NULL, 4), -ECHILD);
	assert_int_equal(SYS4(247, 0, 0, NULL, 1), -CUB_EINVAL);	/* no WEXITED.. */
	assert_int_equal(SYS4(247, 9, 0, NULL, 4), -CUB_EINVAL);
	assert_int_equal(SYS4(247, 3, 200, NULL, 4), -CUB_EBADF);	/* P_PIDFD */
	assert_int_equal(SYS4(247, 3, 1, NULL, 4), -CUB_EINVAL);
	/* membarrier */
	assert_true(SYS2(324, 0, 0) & 8);
	assert_int_equal(SYS2(324, 0, 1), -CUB_EINVAL);
	assert_int_equal(SYS2(324, 1, 0), 0);
	assert_int_equal(SYS2(324, 8, 0), -CUB_EPERM);		/* unregistered */
	assert_int_equal(SYS2(324, 16, 0), 0);
	assert_int_equal(SYS2(324, 8, 0), 0);
	assert_int_equal(SYS2(324, 512, 0) & 16, 16);
	assert_int_equal(SYS2(324, 128, 0), -CUB_EINVAL);	/* rseq */
}

static void test_sched(void **state)
{
	(void)state;
	run(sched_body);
}

static void *named_thread(void *arg)
{
	char name[16];

	(void)arg;
	assert_int_equal(SYS2(157, 16, name), 0);
	assert_string_equal(name, "worker");
	return NULL;
}

static void prctl_body(void)
{
	char name[16];
	int32_t sig = -1;

	assert_int_equal(SYS2(157, 15, "a-very-long-thread-name"), 0);
	assert_int_equal(SYS2(157, 16, name), 0);
	assert_string_equal(name, "a-very-long-thr");		/* 15 bytes */
	assert_int_equal(SYS2(157, 15, "worker"), 0);
	assert_int_equal(SYS2(157, 15, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(157, 16, WILD), -CUB_EFAULT);
	assert_int_equal(cub_coro_spawn(NULL, named_thread, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS2(157, 1, 9), 0);			/* PDEATHSIG */
	assert_int_equal(SYS2(157, 2, &sig), 0);
	assert_int_equal(sig, 9);
	assert_int_equal(SYS2(157, 1, 65), -CUB_EINVAL);
	assert_int_equal(SYS2(157, 2, WILD), -CUB_EFAULT);
	assert_int_equal(SYS1(157, 3), 1);			/* DUMPABLE */
	assert_int_equal(SYS2(157, 4, 0), 0);
	assert_int_equal(SYS1(157, 3), 0);
	assert_int_equal(SYS2(157, 4, 2), -CUB_EINVAL);
	assert_int_equal(SYS2(157, 4, 1), 0);
	assert_int_equal(SYS1(157, 21), 0);			/* GET_SECCOMP */
	assert_int_equal(SYS1(157, 30), 50000);			/* TIMERSLACK */
	assert_int_equal(SYS2(157, 29, 1000), 0);
	assert_int_equal(SYS1(157, 30), 1000);
	assert_int_equal(SYS2(157, 29, 0), 0);
	assert_int_equal(SYS1(157, 30), 50000);
	assert_int_equal(SYS6(157, 39, 0, 0, 0, 0, 0), 0);	/* NO_NEW_PRIVS */
	assert_int_equal(SYS6(157, 38, 2, 0, 0, 0, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(157, 38, 1, 1, 0, 0, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(157, 38, 1, 0, 0, 0, 0), 0);
	assert_int_equal(SYS6(157, 39, 0, 0, 0, 0, 0), 1);
	assert_int_equal(SYS6(157, 39, 1, 0, 0, 0, 0), -CUB_EINVAL);
	assert_int_equal(SYS1(157, 12345), -CUB_EINVAL);
}

static void test_prctl(void **state)
{
	(void)state;
	run(prctl_body);
}

/* ----------------------------------------------------------- resources */

static void usage_body(void)
{
	int64_t ru[18], tms[4], si[14];
	long t;

	assert_int_equal(SYS2(98, 0, ru), 0);			/* getrusage */
	assert_true(ru[4] > 0);					/* maxrss KiB */
	assert_int_equal(SYS2(98, 1, ru), 0);
	assert_int_equal(SYS2(98, -1, ru), 0);
	assert_int_equal(ru[0] | ru[1] | ru[4], 0);		/* no children */
	assert_int_equal(SYS2(98, 2, ru), -CUB_EINVAL);
	assert_int_equal(SYS2(98, 0, WILD), -CUB_EFAULT);
	t = SYS1(100, tms);					/* times */
	/* ticks since boot; the process's CPU ticks (cputime.c) within
	 * them, none of children */
	assert_true(t >= 0 && tms[0] >= 0 && tms[1] >= 0 && tms[0] + tms[1] <= t + 1);
	assert_true(tms[2] == 0 && tms[3] == 0);
	assert_true(SYS1(100, NULL) >= t);
	assert_int_equal(SYS1(100, WILD), -CUB_EFAULT);
	assert_int_equal(SYS1(99, si), 0);			/* sysinfo */
	assert_true(si[0] >= 0);
	assert_true(si[4] > 0 && (uint64_t)si[5] <= (uint64_t)si[4]);
	assert_true((si[10] & 0xffff) >= 1);			/* procs */
	assert_int_equal((uint32_t)si[13], 1);			/* mem_unit */
	assert_int_equal(SYS1(99, WILD), -CUB_EFAULT);
}

static void test_usage(void **state)
{
	(void)state;
	run(usage_body);
}

/* -------------------------------------------------------------- memory */

static long map(long addr, long len)
{
	return SYS6(SYS_mmap, addr, len, 3, 0x22, -1, 0);
}

static void test_mremap(void **state)
{
	long a = map(0, 4 * PG), b;
	unsigned char vec[8];

	(void)state;
	assert_true(a > 0);
	memset((void *)a, 0x5a, 4 * PG);
	/* shrink, grow in place into the freed tail */
	assert_int_equal(SYS4(25, a, 4 * PG, 2 * PG, 0), a);
	assert_int_equal(SYS3(27, a + 2 * PG, PG, vec), -CUB_ENOMEM);
	assert_int_equal(SYS4(25, a, 2 * PG, 3 * PG, 0), a);
	assert_int_equal(((unsigned char *)a)[2 * PG], 0);	/* fresh */
	assert_int_equal(((unsigned char *)a)[PG], 0x5a);
	/* blocked: ENOMEM without MAYMOVE, a move with it */
	assert_int_equal(SYS6(SYS_mmap, a + 3 * PG, PG, 3, 0x32, -1, 0), a + 3 * PG);
	assert_int_equal(SYS4(25, a, 3 * PG, 5 * PG, 0), -CUB_ENOMEM);
	b = SYS4(25, a, 3 * PG, 5 * PG, 1);
	assert_true(b > 0 && b != a);
	assert_int_equal(((unsigned char *)b)[PG], 0x5a);
	assert_int_equal(((unsigned char *)b)[4 * PG], 0);
	assert_int_equal(SYS3(27, a, PG, vec), -CUB_ENOMEM);	/* moved away */
	assert_int_equal(SYS3(27, b, 5 * PG, vec), 0);
	assert_int_equal(vec[0] & vec[4], 1);
	/* errors */
	assert_int_equal(SYS4(25, b + 1, PG, PG, 1), -CUB_EINVAL);
	assert_int_equal(SYS4(25, b, PG, 0, 1), -CUB_EINVAL);
	assert_int_equal(SYS4(25, b, 0, PG, 1), -CUB_EINVAL);
	assert_int_equal(SYS4(25, b, PG, PG, 8), -CUB_EINVAL);
	assert_int_equal(SYS4(25, b, PG, PG, 2), -CUB_EINVAL);	/* FIXED alone */
	assert_int_equal(SYS4(25, b, PG, 2 * PG, 5), -CUB_EINVAL);	/* DONTUNMAP grows */
	assert_int_equal(SYS4(25, a, PG, PG, 1), -CUB_EFAULT);	/* unmapped */
	/* FIXED onto a + 3 pages, DONTUNMAP keeping zeroes behind */
	assert_int_equal(SYS6(25, b, PG, PG, 3, a + 3 * PG, 0), a + 3 * PG);
	assert_int_equal(((unsigned char *)(a + 3 * PG))[0], 0x5a);
	assert_int_equal(SYS6(25, b + PG, PG, PG, 3, b + PG, 0), -CUB_EINVAL);	/* overlap */
	assert_int_equal(SYS6(25, b + PG, PG, PG, 7, a, 0), a);
	assert_int_equal(((unsigned char *)a)[0], 0x5a);
	assert_int_equal(((unsigned char *)(b + PG))[0], 0);	/* DONTUNMAP */
	/* msync, mincore, mlock */
	assert_int_equal(SYS3(26, b + PG, PG, 4), 0);
	assert_int_equal(SYS3(26, b + PG, PG, 5), -CUB_EINVAL);
	assert_int_equal(SYS3(26, b + 1, PG, 4), -CUB_EINVAL);
	assert_int_equal(SYS3(26, b + PG, PG, 16), -CUB_EINVAL);
	assert_int_equal(SYS3(26, b, PG, 1), -CUB_ENOMEM);	/* moved off */
	assert_int_equal(SYS3(26, b, 0, 1), 0);
	assert_int_equal(SYS3(27, b + PG, PG, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(27, b + 1, PG, vec), -CUB_EINVAL);
	assert_int_equal(SYS2(149, b + PG + 5, 10), 0);		/* mlock */
	assert_int_equal(SYS2(149, b, PG), -CUB_ENOMEM);
	assert_int_equal(SYS2(150, b + PG, PG), 0);		/* munlock */
	assert_int_equal(SYS3(325, b + PG, PG, 1), 0);		/* mlock2 */
	assert_int_equal(SYS3(325, b + PG, PG, 2), -CUB_EINVAL);
	assert_int_equal(SYS2(149, -PG, 2 * PG), -CUB_EINVAL);	/* wraps */
	assert_int_equal(SYS1(151, 3), 0);			/* mlockall */
	assert_int_equal(SYS1(151, 4), -CUB_EINVAL);
	assert_int_equal(SYS1(151, 0), -CUB_EINVAL);
	assert_int_equal(SYS1(151, 9), -CUB_EINVAL);
	assert_int_equal(SYS0(152), 0);
	assert_int_equal(SYS2(SYS_munmap, a, 4 * PG), 0);
	assert_int_equal(SYS2(SYS_munmap, b, 5 * PG), 0);
}

/* --------------------------------------------------------------- files */

struct kstatfs {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};

struct kstatx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad0;
	uint64_t ino, size, blocks, amask;
	struct { int64_t sec; uint32_t nsec; int32_t pad; } atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};


static void statfs_body(void)
{
	struct kstatfs s;
	struct kstatx x;
	int fd = make("/f", "hello"), p[2];

	assert_int_equal(SYS2(137, "/f", &s), 0);			/* statfs */
	assert_int_equal(s.type, 0x01021994);
	assert_true(s.blocks > 0 && s.bfree <= s.blocks && s.bsize == 4096);
	assert_int_equal(s.namelen, 255);
	assert_int_equal(SYS2(137, "/missing", &s), -CUB_ENOENT);
	assert_int_equal(SYS2(137, WILD, &s), -CUB_EFAULT);
	assert_int_equal(SYS2(137, "/f", WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(138, fd, &s), 0);			/* fstatfs */
	assert_int_equal(s.type, 0x01021994);
	assert_int_equal(SYS2(138, 200, &s), -CUB_EBADF);
	assert_int_equal(SYS2(138, fd, WILD), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	assert_int_equal(SYS2(138, p[0], &s), 0);
	assert_int_equal(s.type, 0x50495045);
	cubi_fs_lock();
	cubi_procfs_populate(cubi_ramfs_root());
	cubi_fs_unlock();
	assert_int_equal(SYS2(137, "/proc/self/status", &s), 0);
	assert_int_equal(s.type, 0x9fa0);
	/* statx */
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0, 0x7ff, &x, 0), 0);
	assert_int_equal(x.size, 5);
	assert_int_equal(x.mode & 0170000, 0100000);
	assert_int_equal(x.mask & 0x7ff, 0x7ff);
	assert_int_equal(x.nlink, 1);
	assert_int_equal(SYS6(332, fd, "", AT_EMPTY_PATH, 0x7ff, &x, 0), 0);
	assert_int_equal(x.size, 5);
	assert_int_equal(SYS6(332, AT_FDCWD, "/dev/null", 0, 0x7ff, &x, 0), 0);
	assert_int_equal(x.rdev_major * 256 + x.rdev_minor, 0x103);
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0x6000, 0x7ff, &x, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0x2000, 0x7ff, &x, 0), 0);
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0x1, 0x7ff, &x, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0, 0x80000000, &x, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(332, AT_FDCWD, "/nope", 0, 0x7ff, &x, 0), -CUB_ENOENT);
	assert_int_equal(SYS6(332, AT_FDCWD, "/f", 0, 0x7ff, WILD, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(332, 200, "f", 0, 0x7ff, &x, 0), -CUB_EBADF);
	/* sync, syncfs, fadvise64, fallocate */
	assert_int_equal(SYS0(162), 0);
	assert_int_equal(SYS1(306, fd), 0);
	assert_int_equal(SYS1(306, 200), -CUB_EBADF);
	assert_int_equal(SYS4(221, fd, 0, 100, 2), 0);
	assert_int_equal(SYS4(221, fd, 0, 100, 6), -CUB_EINVAL);
	assert_int_equal(SYS4(221, fd, 0, -1, 0), -CUB_EINVAL);
	assert_int_equal(SYS4(221, p[0], 0, 0, 0), -ESPIPE);
	assert_int_equal(SYS4(221, 200, 0, 0, 0), -CUB_EBADF);
	assert_int_equal(SYS4(285, fd, 0, 10, 20), 0);		/* grows */
	assert_int_equal(SYS6(332, fd, "", AT_EMPTY_PATH, 0x7ff, &x, 0), 0);
	assert_int_equal(x.size, 30);
	assert_int_equal(SYS4(285, fd, 1, 0, 100), 0);		/* KEEP_SIZE */
	assert_int_equal(SYS4(285, fd, 0, 0, 5), 0);		/* inside */
	assert_int_equal(SYS6(332, fd, "", AT_EMPTY_PATH, 0x7ff, &x, 0), 0);
	assert_int_equal(x.size, 30);
	assert_int_equal(SYS4(285, fd, 3, 0, 5), 0);		/* punch hole: */
	assert_int_equal(SYS4(285, fd, 2, 0, 5), -EOPNOTSUPP);	/* KEEP_SIZE too */
	assert_int_equal(SYS4(285, fd, 0x10, 0, 5), -EOPNOTSUPP);	/* zero range */
	assert_int_equal(SYS4(285, fd, 0, -1, 5), -CUB_EINVAL);
	assert_int_equal(SYS4(285, fd, 0, 0, 0), -CUB_EINVAL);
	assert_int_equal(SYS4(285, fd, 0, 1l << 41, 5), -EFBIG);
	assert_int_equal(SYS4(285, p[1], 0, 0, 5), -ESPIPE);
	assert_int_equal(SYS4(285, 200, 0, 0, 5), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	p[0] = (int)SYS2(SYS_open, "/f", 0);			/* read-only */
	assert_int_equal(SYS4(285, p[0], 0, 0, 5), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_statfs(void **state)
{
	(void)state;
	run(statfs_body);
}

static void attr_body(void)
{
	struct kstat st;
	int fd = make("/f", "x"), p[2];
	int64_t tv[4] = { 1000, 500000, 2000, 0 }, ut[2] = { 300, 400 };

	assert_int_equal(SYS2(90, "/f", 06755), 0);		/* chmod suid+sgid */
	assert_int_equal(SYS3(92, "/f", -1, -1), 0);		/* chown: nothing */
	assert_int_equal(SYS2(SYS_stat, "/f", &st), 0);
	assert_int_equal(st.mode & 07777, 06755);
	assert_int_equal(SYS3(92, "/f", 0, 0), 0);		/* clears the bits */
	assert_int_equal(SYS2(SYS_stat, "/f", &st), 0);
	assert_int_equal(st.mode & 07777, 0755);
	assert_int_equal(SYS3(92, "/f", 1000, 0), -CUB_EPERM);
	assert_int_equal(SYS3(92, "/f", 0, 1000), -CUB_EPERM);
	assert_int_equal(SYS3(92, "/nope", 0, 0), -CUB_ENOENT);
	assert_int_equal(SYS3(92, WILD, 0, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(93, fd, 0, -1), 0);			/* fchown */
	assert_int_equal(SYS3(93, fd, 5, -1), -CUB_EPERM);
	assert_int_equal(SYS3(93, 200, 0, 0), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	assert_int_equal(SYS3(93, p[0], 0, 0), 0);
	assert_int_equal(SYS3(93, p[0], 1, 0), -CUB_EPERM);
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	assert_int_equal(SYS2(88, "/f", "/l"), 0);			/* symlink */
	assert_int_equal(SYS3(94, "/l", 0, 0), 0);			/* lchown */
	assert_int_equal(SYS3(94, "/dangling", 0, 0), -CUB_ENOENT);
	assert_int_equal(SYS5(260, AT_FDCWD, "/l", 0, 0, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(SYS5(260, fd, "", 0, 0, AT_EMPTY_PATH), 0);
	assert_int_equal(SYS5(260, AT_FDCWD, "/f", 0, 0, 1), -CUB_EINVAL);
	assert_int_equal(SYS5(260, AT_FDCWD, "/proc", 0, 0, 0), -CUB_ENOENT);
	/* utimes, futimesat, utime */
	assert_int_equal(SYS2(235, "/f", tv), 0);
	assert_int_equal(SYS2(SYS_stat, "/f", &st), 0);
	assert_int_equal(st.atime, 1000);
	assert_int_equal(st.atime_ns, 500000000);
	assert_int_equal(st.mtime, 2000);
	tv[1] = 1000000;
	assert_int_equal(SYS2(235, "/f", tv), -CUB_EINVAL);
	assert_int_equal(SYS2(235, "/f", WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(235, "/nope", NULL), -CUB_ENOENT);
	assert_int_equal(SYS2(235, "/f", NULL), 0);
	assert_int_equal(SYS2(SYS_stat, "/f", &st), 0);
	assert_true(st.mtime > 2000);
	assert_int_equal(SYS3(261, AT_FDCWD, "f", NULL), 0);
	assert_int_equal(SYS3(261, 200, "f", NULL), -CUB_EBADF);
	assert_int_equal(SYS2(132, "/f", ut), 0);
	assert_int_equal(SYS2(SYS_stat, "/f", &st), 0);
	assert_int_equal(st.atime, 300);
	assert_int_equal(st.mtime, 400);
	assert_int_equal(SYS2(132, "/f", WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(132, NULL, ut), -CUB_EFAULT);
	/* mknod */
	assert_int_equal(SYS3(133, "/n", 0100600, 0), 0);
	assert_int_equal(SYS2(SYS_stat, "/n", &st), 0);
	assert_int_equal(st.mode, 0100600);
	assert_int_equal(st.size, 0);
	assert_int_equal(SYS3(133, "/n", 0600, 0), -CUB_EEXIST);
	assert_int_equal(SYS4(259, AT_FDCWD, "/m", 0644, 0), 0);
	assert_int_equal(SYS3(133, "/q/", 0600, 0), -CUB_ENOENT);
	assert_int_equal(SYS3(133, "/fifo", 010600, 0), 0);		/* mkfifo */
	assert_int_equal(SYS2(SYS_stat, "/fifo", &st), 0);
	assert_int_equal(st.mode, 010600);
	assert_int_equal(SYS3(133, "/fifo", 010600, 0), -CUB_EEXIST);
	assert_int_equal(SYS1(87, "/fifo"), 0);			/* unlink */
	assert_int_equal(SYS3(133, "/s", 0140600, 0), -EOPNOTSUPP);	/* a socket */
	assert_int_equal(SYS3(133, "/c", 020600, 0x103), -CUB_EPERM);
	assert_int_equal(SYS3(133, "/d", 040700, 0), -CUB_EPERM);
	assert_int_equal(SYS3(133, "/z", 0170000, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(133, WILD, 0600, 0), -CUB_EFAULT);
	assert_int_equal(SYS4(259, 200, "x", 0600, 0), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, fd), 0);
}

static void test_attr(void **state)
{
	(void)state;
	run(attr_body);
}

static void xfer_body(void)
{
	int in = make("/in", "0123456789"), out = make("/out", ""), p[2], d;
	int64_t off = 2, off2 = 0;

	assert_int_equal(SYS3(SYS_lseek, in, 0, 0), 0);
	assert_int_equal(SYS4(40, out, in, NULL, 4), 4);		/* sendfile */
	assert_int_equal(SYS3(SYS_lseek, in, 0, 1), 4);		/* moved */
	assert_int_equal(SYS4(40, out, in, &off, 100), 8);	/* to the end */
	assert_int_equal(off, 10);
	assert_int_equal(SYS3(SYS_lseek, in, 0, 1), 4);		/* kept */
	assert_int_equal(SYS4(17 /* pread64 */, out, buf, 100, 0), 12);
	assert_memory_equal(buf, "012323456789", 12);
	assert_int_equal(SYS4(40, out, in, &off, 0), 0);
	assert_int_equal(SYS4(40, out, in, WILD, 4), -CUB_EFAULT);
	off = -1;
	assert_int_equal(SYS4(40, out, in, &off, 4), -CUB_EINVAL);
	assert_int_equal(SYS4(40, 200, in, NULL, 4), -CUB_EBADF);
	assert_int_equal(SYS4(40, out, 200, NULL, 4), -CUB_EBADF);
	/* a pipe each way */
	assert_int_equal(SYS2(SYS_pipe2, p, 04000), 0);
	off = 0;
	assert_int_equal(SYS4(40, p[1], in, &off, 10), 10);
	assert_int_equal(SYS4(40, p[0], in, NULL, 1), -CUB_EBADF);	/* read end */
	assert_int_equal(SYS4(40, out, p[0], &off, 1), -ESPIPE);
	assert_int_equal(SYS4(40, out, p[0], NULL, 100), 10);	/* all it had */
	assert_int_equal(SYS4(40, out, p[0], NULL, 100), -CUB_EAGAIN);
	d = (int)SYS3(SYS_open, "/app", O_RDWR | O_CREAT | O_APPEND, 0644);
	assert_int_equal(SYS4(40, d, in, &off, 1), -CUB_EINVAL);	/* O_APPEND */
	/* copy_file_range */
	off = 0;
	off2 = 100;
	assert_int_equal(SYS6(326, in, &off, out, &off2, 5, 0), 5);
	assert_int_equal(off, 5);
	assert_int_equal(off2, 105);
	assert_int_equal(SYS4(17, out, buf, 5, 100), 5);
	assert_memory_equal(buf, "01234", 5);
	assert_int_equal(SYS6(326, in, &off, out, &off2, 5, 1), -CUB_EINVAL);
	assert_int_equal(SYS6(326, in, &off, p[1], NULL, 5, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(326, in, &off, d, NULL, 5, 0), -CUB_EBADF);	/* append */
	assert_int_equal(SYS6(326, in, WILD, out, NULL, 5, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(326, 200, NULL, out, NULL, 5, 0), -CUB_EBADF);
	off = 0;
	off2 = 3;
	assert_int_equal(SYS6(326, in, &off, in, &off2, 5, 0), -CUB_EINVAL);	/* overlap */
	off2 = 20;
	assert_int_equal(SYS6(326, in, &off, in, &off2, 5, 0), 5);
	assert_int_equal(SYS3(SYS_lseek, out, 0, 0), 0);
	assert_int_equal(SYS6(326, in, NULL, out, NULL, 3, 0), 3);	/* positions */
	assert_int_equal(SYS3(SYS_lseek, out, 0, 1), 3);
	assert_int_equal(SYS3(SYS_lseek, in, 0, 1), 7);
	assert_int_equal(SYS1(SYS_close, d), 0);
	d = (int)SYS3(SYS_open, "/", 0, 0);
	assert_int_equal(SYS6(326, d, NULL, out, NULL, 3, 0), -EISDIR);
	for (int i = 0; i < 2; i++)
		assert_int_equal(SYS1(SYS_close, p[i]), 0);
	assert_int_equal(SYS1(SYS_close, d), 0);
	assert_int_equal(SYS1(SYS_close, in), 0);
	assert_int_equal(SYS1(SYS_close, out), 0);
}

static void test_xfer(void **state)
{
	(void)state;
	run(xfer_body);
}


/* --------------------------------------------------------------- flock */

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

static int waiter_done;

/* Blocks on the exclusive lock until the body drops its own. */
static void *locker(void *arg)
{
	int fd = (int)SYS2(SYS_open, "/f", 0);

	(void)arg;
	assert_true(fd >= 3);
	assert_int_equal(SYS2(73, fd, LOCK_EX), 0);
	waiter_done = 1;
	assert_int_equal(SYS1(SYS_close, fd), 0);	/* drops it */
	return NULL;
}

static void flock_body(void)
{
	int a = make("/f", "x"), b = (int)SYS2(SYS_open, "/f", 0), c, p[2];

	assert_int_equal(SYS2(73, a, LOCK_SH), 0);
	assert_int_equal(SYS2(73, b, LOCK_SH | LOCK_NB), 0);	/* shared twice */
	assert_int_equal(SYS2(73, b, LOCK_EX | LOCK_NB), -CUB_EAGAIN);
	/* the failed conversion dropped b's shared lock (Linux): a converts */
	assert_int_equal(SYS2(73, a, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(SYS2(73, b, LOCK_SH | LOCK_NB), -CUB_EAGAIN);
	c = (int)SYS1(SYS_dup, a);				/* same open file */
	assert_int_equal(SYS2(73, c, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(SYS2(73, a, LOCK_UN), 0);
	assert_int_equal(SYS2(73, b, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(SYS2(73, a, LOCK_SH | LOCK_NB), -CUB_EAGAIN);
	assert_int_equal(SYS1(SYS_close, b), 0);		/* close unlocks */
	assert_int_equal(SYS2(73, a, LOCK_EX | LOCK_NB), 0);
	/* errors */
	assert_int_equal(SYS2(73, a, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(73, a, LOCK_SH | LOCK_EX), -CUB_EINVAL);
	assert_int_equal(SYS2(73, a, 64), -CUB_EINVAL);
	assert_int_equal(SYS2(73, 200, LOCK_SH), -CUB_EBADF);
	assert_int_equal(SYS2(73, 200, 0), -CUB_EBADF);
	/* a pipe locks itself */
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	assert_int_equal(SYS2(73, p[0], LOCK_EX | LOCK_NB), 0);
	assert_int_equal(SYS2(73, p[1], LOCK_EX | LOCK_NB), 0);
	assert_int_equal(SYS1(SYS_close, p[0]), 0);
	assert_int_equal(SYS1(SYS_close, p[1]), 0);
	/* a blocked lock waits for the holder's unlock */
	waiter_done = 0;
	assert_int_equal(cub_coro_spawn(NULL, locker, NULL, NULL), 0);
	for (int i = 0; i < 10; i++)
		cub_coro_yield();
	assert_int_equal(waiter_done, 0);
	assert_int_equal(SYS2(73, a, LOCK_UN), 0);
	for (int i = 0; i < 10 && !waiter_done; i++)
		cub_coro_yield();
	assert_int_equal(waiter_done, 1);
	for (int i = 0; i < 10; i++)
		cub_coro_yield();
	assert_int_equal(SYS2(73, a, LOCK_EX | LOCK_NB), 0);	/* closed: free */
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_flock(void **state)
{
	(void)state;
	run(flock_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_sched),
		cmocka_unit_test(test_prctl),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_mremap),
		cmocka_unit_test(test_statfs),
		cmocka_unit_test(test_attr),
		cmocka_unit_test(test_xfer),
		cmocka_unit_test(test_flock),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
