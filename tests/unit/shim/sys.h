/* sys.h - syscall numbers and helpers shared by the shim tests. */
#ifndef CUBRT_TEST_SHIM_SYS_H
#define CUBRT_TEST_SHIM_SYS_H

#include <cubrt/shim.h>

#define SYS_read 0
#define SYS_write 1
#define SYS_open 2
#define SYS_close 3
#define SYS_fstat 5
#define SYS_lseek 8
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_munmap 11
#define SYS_brk 12
#define SYS_mremap 25
#define SYS_mincore 27
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_ioctl 16
#define SYS_readv 19
#define SYS_writev 20
#define SYS_pipe 22
#define SYS_sched_yield 24
#define SYS_madvise 28
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_clone 56
#define SYS_exit 60
#define SYS_kill 62
#define SYS_uname 63
#define SYS_fcntl 72
#define SYS_gettimeofday 96
#define SYS_getrlimit 97
#define SYS_sigaltstack 131
#define SYS_arch_prctl 158
#define SYS_setrlimit 160
#define SYS_gettid 186
#define SYS_tkill 200
#define SYS_futex 202
#define SYS_sched_getaffinity 204
#define SYS_epoll_create 213
#define SYS_set_tid_address 218
#define SYS_clock_gettime 228
#define SYS_clock_getres 229
#define SYS_clock_nanosleep 230
#define SYS_exit_group 231
#define SYS_epoll_wait 232
#define SYS_epoll_ctl 233
#define SYS_tgkill 234
#define SYS_openat 257
#define SYS_set_robust_list 273
#define SYS_epoll_pwait 281
#define SYS_epoll_create1 291
#define SYS_pipe2 293
#define SYS_prlimit64 302
#define SYS_getrandom 318
#define SYS_mlock 149
#define SYS_mlockall 151
#define SYS_munlockall 152
#define SYS_mlock2 325

#define WILD 0xdead00000000l	/* never mapped on the host */

/* Linux x86-64 struct stat (stat, fstat, newfstatat). */
struct kstat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_ns, mtime, mtime_ns, ctime, ctime_ns;
	int64_t reserved[3];
};

static inline long sys(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	return cub_shim_call(nr, a0, a1, a2, a3, a4, a5);
}
#define SYS0(n) sys(n, 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS6(n, a, b, c, d, e, f) sys(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* mmap of anonymous memory (fd -1, offset 0). */
static inline long sys_mmap_anon(long addr, long len, long prot, long flags)
{
	return SYS6(SYS_mmap, addr, len, prot, flags, -1, 0);
}

#endif
