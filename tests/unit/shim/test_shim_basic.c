/*
 * test_shim_basic.c - the dispatcher and the calls that need neither the
 * scheduler nor the paging API: console I/O, identity, signals, time
 * reads, randomness, limits, arch_prctl, and every error path of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/base.h>
#include "host.h"
#include "fd.h"
#include "sys.h"

static char out[4096];

static int capture(void **state)
{
	(void)state;
	cubi_host_capture_console(out, sizeof(out));
	return 0;
}

static int release(void **state)
{
	(void)state;
	cubi_host_capture_console(NULL, 0);
	return 0;
}

static void test_unknown_logged_once(void **state)
{
	(void)state;
	assert_int_equal(SYS0(440), -CUB_ENOSYS);	/* process_madvise-ish gap */
	assert_int_equal(SYS0(57), -CUB_ENOSYS);	/* fork */
	assert_int_equal(SYS0(57), -CUB_ENOSYS);
	assert_int_equal(SYS0(-1), -CUB_ENOSYS);
	assert_int_equal(SYS0(100000), -CUB_ENOSYS);
	assert_non_null(strstr(out, "unimplemented syscall fork (57)"));
	assert_null(strstr(strstr(out, "fork (57)") + 1, "fork (57)"));
	assert_non_null(strstr(out, "? (-1)"));
	assert_string_equal(cub_shim_name(202), "futex");
	assert_null(cub_shim_name(-5));
}

static void test_write(void **state)
{
	struct { const void *base; size_t len; } iov[3] = { { "ab", 2 }, { "", 0 }, { "cd\n", 3 } };

	(void)state;
	assert_int_equal(SYS3(SYS_write, 1, "hello\n", 6), 6);
	assert_int_equal(SYS3(SYS_write, 2, "x", 0), 0);
	assert_int_equal(SYS3(SYS_write, 7, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_write, -1, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_write, 1, NULL, 1), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_write, 1, WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_writev, 1, iov, 3), 5);
	assert_int_equal(SYS3(SYS_writev, 1, iov, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_writev, 1, iov, 1025), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_writev, 1, WILD, 2), -CUB_EFAULT);
	iov[1].base = (void *)WILD;
	iov[1].len = 8;
	assert_int_equal(SYS3(SYS_writev, 1, iov, 3), 2);	/* partial, then EFAULT */
	assert_int_equal(SYS3(SYS_writev, 1, &iov[1], 1), -CUB_EFAULT);
	assert_non_null(strstr(out, "hello\nabcd\nab"));
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#endif

/*
 * Under AddressSanitizer, memory it holds poisoned (a heap block's
 * redzone, a freed block) is not the program's: a call given such a
 * pointer gets -EFAULT, as for unmapped memory, instead of an ASan report
 * from inside the shim's copy (fuzz_syscalls once ended so, a stale
 * pointer in a message header). Without ASan the bytes are plain memory.
 */
static void test_asan_poisoned(void **state)
{
#ifdef ASAN_BUILD
	char *p = malloc(32);
	struct timespec *ts;

	(void)state;
	assert_non_null(p);
	memcpy(p, "poisoned?\n", 10);
	assert_int_equal(SYS3(SYS_write, 1, p, 10), 10);
	assert_int_equal(SYS3(SYS_write, 1, p + 28, 8), -CUB_EFAULT);	/* redzone */
	ts = (struct timespec *)(p + 32);
	assert_int_equal(SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, ts), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, p), 0);
	free(p);
	assert_int_equal(SYS3(SYS_write, 1, p, 10), -CUB_EFAULT);	/* freed */
	assert_int_equal(SYS2(SYS_clock_gettime, CLOCK_MONOTONIC, p), -CUB_EFAULT);
	assert_non_null(strstr(out, "poisoned?\n"));
#else
	(void)state;
	skip();
#endif
}

static void test_fd_calls(void **state)
{
	uint8_t st[144];
	uint32_t mode;

	(void)state;
	assert_int_equal(SYS3(SYS_ioctl, 1, 0x5413, out), -CUB_ENOTTY);
	assert_int_equal(SYS3(SYS_ioctl, 9, 0x5413, out), -CUB_EBADF);
	assert_int_equal(SYS1(SYS_close, 2), 0);
	assert_int_equal(SYS1(SYS_close, 3), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fcntl, 1, 3), 2);
	assert_int_equal(SYS2(SYS_fcntl, 1, 1), 0);
	assert_int_equal(SYS2(SYS_fcntl, 1, 999), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_fcntl, 4, 1), -CUB_EBADF);
	/* Path calls (open and the rest): test_shim_fs. */
	assert_int_equal(SYS3(SYS_lseek, 1, 0, 0), -29);
	assert_int_equal(SYS3(SYS_lseek, 5, 0, 0), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fstat, 1, st), 0);
	memcpy(&mode, st + 24, 4);
	assert_int_equal(mode & 0170000, 0020000);	/* a character device */
	assert_int_equal(SYS2(SYS_fstat, 1, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, 5, out, 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, 0, WILD, 1), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, 0, out, 0), 0);
	assert_int_equal(SYS3(SYS_readv, 0, out, -1), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_readv, 0, WILD, 1), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_readv, 8, out, 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_readv, 0, out, 0), 0);
}

static void test_clocks(void **state)
{
	int64_t a[2], b[2], tv[2];
	struct timespec host;

	(void)state;
	assert_int_equal(SYS2(SYS_clock_gettime, 1, a), 0);
	assert_int_equal(SYS2(SYS_clock_gettime, 1, b), 0);
	assert_true(b[0] > a[0] || (b[0] == a[0] && b[1] >= a[1]));
	assert_true(a[1] >= 0 && a[1] < 1000000000);
	assert_int_equal(SYS2(SYS_clock_gettime, 0, a), 0);
	clock_gettime(CLOCK_REALTIME, &host);
	assert_true(host.tv_sec - a[0] <= 2 && a[0] - host.tv_sec <= 2);
	assert_int_equal(SYS2(SYS_clock_gettime, 99, a), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clock_gettime, 1, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_clock_gettime, 1, NULL), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_clock_getres, 1, a), 0);
	assert_int_equal(a[1], 1);
	assert_int_equal(SYS2(SYS_gettimeofday, tv, NULL), 0);
	assert_true(tv[1] >= 0 && tv[1] < 1000000);
	assert_int_equal(SYS2(SYS_gettimeofday, NULL, NULL), 0);
	assert_int_equal(SYS2(SYS_gettimeofday, WILD, NULL), -CUB_EFAULT);
	a[0] = 0;
	a[1] = 1000000000;	/* bad nsec */
	assert_int_equal(SYS2(SYS_nanosleep, a, NULL), -CUB_EINVAL);
	a[0] = -1;
	a[1] = 0;
	assert_int_equal(SYS2(SYS_nanosleep, a, NULL), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_nanosleep, WILD, NULL), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_clock_nanosleep, 3, 0, a, NULL), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_clock_nanosleep, 1, 2, a, NULL), -CUB_EINVAL);
}

static void test_identity(void **state)
{
	char uts[6][65];
	uint64_t mask = 0;
	int tidword = 5;
	int64_t t = 0;

	(void)state;

	assert_int_equal(SYS0(SYS_getpid), 1);
	assert_int_equal(SYS0(110), 0);			/* getppid */
	assert_int_equal(SYS0(102), 0);			/* getuid */
	assert_int_equal(SYS0(108), 0);			/* getegid */
	assert_true(SYS1(201, &t) > 1700000000);	/* time */
	assert_true(SYS1(201, NULL) - t <= 1);
	assert_int_equal(SYS1(201, WILD), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_uname, uts), 0);
	assert_string_equal(uts[0], "Linux");
	assert_string_equal(uts[4], "x86_64");
	assert_int_equal(SYS1(SYS_uname, WILD), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_sched_getaffinity, 0, 8, &mask), 8);
	assert_int_equal(mask, 1);
	assert_int_equal(SYS3(SYS_sched_getaffinity, 0, 4, &mask), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_sched_getaffinity, 0, 12, &mask), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_sched_getaffinity, 77, 8, &mask), -CUB_ESRCH);
	assert_int_equal(SYS3(SYS_sched_getaffinity, 0, 8, WILD), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_set_tid_address, &tidword), SYS0(SYS_gettid));
	assert_int_equal(SYS2(SYS_set_robust_list, out, 24), 0);
	assert_int_equal(SYS2(SYS_set_robust_list, out, 8), -CUB_EINVAL);
}

/* sethostname and setdomainname: uname reports them. */
static void test_hostname(void **state)
{
	char uts[6][65];

	(void)state;
	assert_int_equal(SYS1(SYS_uname, uts), 0);
	assert_string_equal(uts[1], "cubrt");
	assert_string_equal(uts[5], "(none)");
	assert_int_equal(SYS2(170, "sweep.example", 5), 0);	/* sethostname */
	assert_int_equal(SYS2(171, "example", 7), 0);		/* setdomainname */
	assert_int_equal(SYS1(SYS_uname, uts), 0);
	assert_string_equal(uts[1], "sweep");
	assert_string_equal(uts[5], "example");
	assert_int_equal(SYS2(170, "x", 65), -CUB_EINVAL);
	assert_int_equal(SYS2(170, "x", -1), -CUB_EINVAL);
	assert_int_equal(SYS2(170, WILD, 5), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_uname, uts), 0);
	assert_string_equal(uts[1], "sweep");		/* failures change nothing */
	assert_int_equal(SYS2(171, "", 0), 0);
	assert_int_equal(SYS2(170, "cubrt", 5), 0);
	assert_int_equal(SYS1(SYS_uname, uts), 0);
	assert_string_equal(uts[5], "");
}

static void test_arch_prctl(void **state)
{
	uint64_t fs = 0;

	(void)state;
	assert_int_equal(SYS2(SYS_arch_prctl, 0x1002, 0x12345000), 0);
	assert_int_equal(SYS2(SYS_arch_prctl, 0x1003, &fs), 0);
	assert_int_equal(fs, 0x12345000);
	assert_int_equal(SYS2(SYS_arch_prctl, 0x1003, WILD), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_arch_prctl, 0x1002, 0xffff800000000000ul), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_arch_prctl, 0x1001, 0), -CUB_EPERM);
	assert_int_equal(SYS2(SYS_arch_prctl, 0x9999, 0), -CUB_EINVAL);
}

static void test_signals(void **state)
{
	uint64_t act[4] = { 0x1234, 0x04000000, 0, 0 }, old[4] = { 9, 9, 9, 9 };
	uint64_t set = 1 << 1, oset = 77;
	uint64_t ss[3] = { 0, 0, 0 }, oss[3];

	(void)state;
	assert_int_equal(SYS4(SYS_rt_sigaction, 10, act, old, 8), 0);
	assert_int_equal(old[0], 0);	/* first time: the default action */
	assert_int_equal(SYS4(SYS_rt_sigaction, 10, NULL, old, 8), 0);
	assert_int_equal(old[0], 0x1234);
	assert_int_equal(SYS4(SYS_rt_sigaction, 10, act, old, 4), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_rt_sigaction, 9, act, NULL, 8), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_rt_sigaction, 0, act, NULL, 8), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_rt_sigaction, 65, act, NULL, 8), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_rt_sigaction, 10, WILD, NULL, 8), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &set, &oset, 8), 0);
	assert_int_equal(oset, 0);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 0, NULL, &oset, 8), 0);
	assert_int_equal(oset, 2);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 7, &set, NULL, 8), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 0, &set, NULL, 16), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_sigaltstack, NULL, oss), 0);
	assert_int_equal(oss[1] & 0xffffffff, 2);	/* SS_DISABLE */
	ss[0] = (uint64_t)out;
	ss[2] = 100;
	assert_int_equal(SYS2(SYS_sigaltstack, ss, NULL), -CUB_ENOMEM);
	ss[2] = sizeof(out);
	assert_int_equal(SYS2(SYS_sigaltstack, ss, NULL), 0);
	assert_int_equal(SYS2(SYS_sigaltstack, NULL, oss), 0);
	assert_int_equal(oss[0], (uint64_t)out);
	assert_int_equal(SYS2(SYS_kill, 1, 0), 0);	/* probe */
	assert_int_equal(SYS2(SYS_kill, 42, 0), -CUB_ESRCH);
	assert_int_equal(SYS2(SYS_kill, 1, 99), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_tgkill, 2, 1, 0), -CUB_ESRCH);
	assert_int_equal(SYS3(SYS_tgkill, 0, 1, 0), -CUB_EINVAL);
	/* Signals whose default action is to ignore them are dropped
	 * (SIGURG is how Go's runtime asks a thread to preempt itself). */
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, 23), 0);
	assert_int_equal(SYS2(SYS_kill, 1, 17), 0);
	assert_int_equal(SYS2(SYS_tkill, 1, 28), 0);
	assert_int_equal(SYS2(SYS_kill, 0, 18), 0);
}

static void test_random_and_limits(void **state)
{
	uint8_t a[37] = { 0 }, b[37] = { 0 };
	uint64_t lim[2];

	(void)state;
	assert_int_equal(SYS3(SYS_getrandom, a, sizeof(a), 0), 37);
	assert_int_equal(SYS3(SYS_getrandom, b, sizeof(b), 1), 37);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(SYS3(SYS_getrandom, a, 8, 64), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_getrandom, WILD, 8, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_getrandom, a, 0, 0), 0);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 3, NULL, lim), 0);
	assert_int_equal(lim[0], 8 << 20);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 1, NULL, lim), 0);
	assert_int_equal(lim[0], UINT64_MAX);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 7, NULL, lim), 0);	/* NOFILE */
	assert_int_equal(lim[0], CUBI_FD_MAX);
	assert_int_equal(lim[1], CUBI_FD_MAX);
	assert_int_equal(SYS2(SYS_getrlimit, 3, lim), 0);
	assert_int_equal(lim[0], 8 << 20);
	assert_int_equal(SYS2(SYS_getrlimit, 16, lim), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_getrlimit, 3, NULL), -CUB_EFAULT);
	assert_int_equal(SYS2(SYS_getrlimit, 3, WILD), -CUB_EFAULT);
	lim[0] = lim[1] = CUBI_FD_MAX;
	assert_int_equal(SYS2(SYS_setrlimit, 7, lim), 0);
	assert_int_equal(SYS2(SYS_setrlimit, 7, WILD), -CUB_EFAULT);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 16, NULL, lim), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_prlimit64, 5, 3, NULL, lim), -CUB_ESRCH);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 3, NULL, WILD), -CUB_EFAULT);
}

/* New limits are kept and reported (getrlimit, prlimit64's old value),
 * checked as Linux checks them. */
static void test_limits_kept(void **state)
{
	uint64_t lim[2] = { 64, CUBI_FD_MAX }, old[2], core[2] = { 0, 0 };

	(void)state;
	assert_int_equal(SYS4(SYS_prlimit64, 0, 7, lim, old), 0);	/* NOFILE */
	assert_int_equal(old[0], CUBI_FD_MAX);
	assert_int_equal(old[1], CUBI_FD_MAX);
	assert_int_equal(SYS2(SYS_getrlimit, 7, old), 0);
	assert_int_equal(old[0], 64);
	assert_int_equal(old[1], CUBI_FD_MAX);
	lim[1] = CUBI_FD_MAX + 1;				/* past the descriptor table */
	assert_int_equal(SYS2(SYS_setrlimit, 7, lim), -CUB_EPERM);
	lim[0] = 300, lim[1] = 200;		/* soft above hard */
	assert_int_equal(SYS2(SYS_setrlimit, 4, lim), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_setrlimit, 4, core), 0);	/* RLIMIT_CORE 0 */
	assert_int_equal(SYS4(SYS_prlimit64, 0, 4, NULL, old), 0);
	assert_int_equal(old[0], 0);
	assert_int_equal(old[1], 0);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 4, lim, WILD), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_getrlimit, 7, old), 0);	/* untouched by failures */
	assert_int_equal(old[0], 64);
	lim[0] = lim[1] = CUBI_FD_MAX;
	assert_int_equal(SYS4(SYS_prlimit64, 0, 7, lim, NULL), 0);
	assert_int_equal(SYS4(SYS_prlimit64, 0, 4, core, WILD), -CUB_EFAULT);
}

/* clone's flag checks happen before any thread exists. */
#define T (0x100 | 0x800 | 0x10000)	/* CLONE_VM | CLONE_SIGHAND | CLONE_THREAD */
static void test_clone_bad_flags(void **state)
{
	long stack[64];
	long top = (long)(stack + 64);

	(void)state;
	assert_int_equal(SYS2(SYS_clone, 0x100 | 0x10000, top), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clone, 0x800, top), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clone, T | 0x20000, top), -CUB_EINVAL); /* NEWNS */
	assert_int_equal(SYS2(SYS_clone, T, 0), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_clone, T, top + 3), -CUB_EINVAL);
	assert_int_equal(sys(SYS_clone, T | 0x100000, top, WILD, 0, 0, 0), -CUB_EFAULT);
	assert_int_equal(sys(SYS_clone, T | 0x200000, top, 0, WILD, 0, 0), -CUB_EFAULT);
	assert_int_equal(sys(SYS_clone, T | 0x80000, top, 0, 0, -1, 0), -CUB_EPERM);
}

/* A new process (no CLONE_THREAD): -ENOSYS, as fork(2) on a machine
 * without an MMU; musl's fork, posix_spawn (system, popen) ask so. */
static void test_clone_process(void **state)
{
	long stack[64];
	long top = (long)(stack + 64);

	(void)state;
	assert_int_equal(SYS2(SYS_clone, 17, 0), -CUB_ENOSYS);	/* fork: SIGCHLD */
	assert_int_equal(SYS2(SYS_clone, 0x100 | 0x4000 | 17, top), -CUB_ENOSYS); /* spawn */
	assert_int_equal(SYS2(SYS_clone, 0x100, top), -CUB_ENOSYS);	/* VM only */
	assert_int_equal(SYS2(SYS_clone, 0x100 | 0x800, top), -CUB_ENOSYS);
	assert_int_equal(SYS2(SYS_clone, T | 0x4000, top + 3), -CUB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unknown_logged_once, capture, release),
		cmocka_unit_test_setup_teardown(test_write, capture, release),
		cmocka_unit_test_setup_teardown(test_asan_poisoned, capture, release),
		cmocka_unit_test(test_fd_calls),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_arch_prctl),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_random_and_limits),
		cmocka_unit_test(test_limits_kept),
		cmocka_unit_test(test_clone_bad_flags),
		cmocka_unit_test(test_clone_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
