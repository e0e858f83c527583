/*
 * test_shim_reclock.c - fcntl's POSIX record locks through the
 * dispatcher: F_SETLK / F_SETLKW granted (one process: its locks never
 * conflict), F_GETLK answering F_UNLCK, and Linux's errors for every bad
 * argument: types, l_whence, ranges before 0 or past the largest offset,
 * the access mode a lock type needs, O_PATH and bad descriptors,
 * unreadable structs. Go's syscall TestFcntlFlock found F_SETLK
 * missing (-EINVAL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shim_impl.h"
#include "sys.h"
#include "fresh.h"

#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_OFD_SETLK 37
#define F_RDLCK 0
#define F_WRLCK 1
#define F_UNLCK 2
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define EBADF 9
#define EINVAL 22
#define EFAULT 14
#define EOVERFLOW 75

struct flock {
	int16_t type, whence;
	int64_t start, len;
	int32_t pid;
};

static long lk(int fd, int cmd, int type, int whence, int64_t start, int64_t len)
{
	struct flock l = { (int16_t)type, (int16_t)whence, start, len, 0 };

	return SYS3(SYS_fcntl, fd, cmd, &l);
}

static int open_at(const char *path, int flags)
{
	int fd = (int)SYS4(SYS_openat, AT_FDCWD, path, flags, 0644);

	assert_true(fd >= 0);
	return fd;
}

static void locks_body(void)
{
	static char hundred[100];
	int rw = open_at("/f", O_CREAT | O_RDWR), ro, wo, op, p[2];
	struct flock l = { F_WRLCK, 0, 10, 20, 1234 };

	assert_int_equal(SYS3(SYS_write, rw, hundred, 100), 100);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, 0, 0), 0);	/* the whole file */
	assert_int_equal(lk(rw, F_SETLKW, F_RDLCK, 0, 5, 10), 0);	/* ours: no wait */
	assert_int_equal(lk(rw, F_SETLK, F_UNLCK, 0, 0, 0), 0);
	assert_int_equal(SYS3(SYS_fcntl, rw, F_GETLK, &l), 0);	/* nobody else's */
	assert_int_equal(l.type, F_UNLCK);
	assert_int_equal(l.start, 10);
	assert_int_equal(l.len, 20);
	assert_int_equal(l.pid, 1234);
	/* The types and whence values Linux knows. */
	assert_int_equal(lk(rw, F_SETLK, 7, 0, 0, 0), -EINVAL);
	assert_int_equal(lk(rw, F_GETLK, F_UNLCK, 0, 0, 0), -EINVAL);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 3, 0, 0), -EINVAL);
	assert_int_equal(lk(rw, F_OFD_SETLK, F_WRLCK, 0, 0, 0), -EINVAL);	/* not kept */
	/* Ranges: from the start, the position (50 now) or the end (100). */
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, -1, 1), -EINVAL);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, 10, -10), 0);	/* bytes 0..9 */
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, 10, -11), -EINVAL);
	assert_int_equal(SYS3(SYS_lseek, rw, 50, 0), 50);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 1, -50, 1), 0);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 1, -51, 1), -EINVAL);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 2, -100, 0), 0);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 2, -101, 0), -EINVAL);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 2, INT64_MAX, 1), -EOVERFLOW);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, 2, INT64_MAX), -EOVERFLOW);
	assert_int_equal(lk(rw, F_SETLK, F_WRLCK, 0, 1, INT64_MAX), 0);	/* to the end */
	assert_int_equal(lk(rw, F_GETLK, F_RDLCK, 2, -101, 0), -EINVAL);
	/* A lock type needs the matching access; F_GETLK does not. */
	ro = open_at("/f", O_RDONLY);
	wo = open_at("/f", O_WRONLY);
	assert_int_equal(lk(ro, F_SETLK, F_WRLCK, 0, 0, 0), -EBADF);
	assert_int_equal(lk(ro, F_SETLK, F_RDLCK, 0, 0, 0), 0);
	assert_int_equal(lk(wo, F_SETLKW, F_RDLCK, 0, 0, 0), -EBADF);
	assert_int_equal(lk(wo, F_SETLKW, F_WRLCK, 0, 0, 0), 0);
	assert_int_equal(lk(ro, F_GETLK, F_WRLCK, 0, 0, 0), 0);
	assert_int_equal(lk(ro, F_SETLK, F_UNLCK, 0, 0, 0), 0);
	/* Descriptors and memory. */
	op = open_at("/f", O_PATH);
	assert_int_equal(lk(op, F_SETLK, F_RDLCK, 0, 0, 0), -EBADF);
	assert_int_equal(lk(999, F_SETLK, F_RDLCK, 0, 0, 0), -EBADF);
	assert_int_equal(SYS3(SYS_fcntl, rw, F_SETLK, WILD), -EFAULT);
	assert_int_equal(SYS3(SYS_fcntl, rw, F_GETLK, WILD), -EFAULT);
	/* Not only regular files: a pipe's read end. */
	assert_int_equal(SYS1(SYS_pipe, p), 0);
	assert_int_equal(lk(p[0], F_SETLK, F_RDLCK, 1, 0, 0), 0);
	assert_int_equal(lk(p[0], F_SETLK, F_WRLCK, 0, 0, 0), -EBADF);
	int fds[] = { rw, ro, wo, op, p[0], p[1] };
	for (int i = 0; i < 6; i++)
		assert_int_equal(SYS1(SYS_close, fds[i]), 0);
}

static void test_reclock(void **state)
{
	(void)state;
	run_fresh(locks_body, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
