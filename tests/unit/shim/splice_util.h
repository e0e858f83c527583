/*
 * splice_util.h - what the splice and pipe-size tests share
 * (test_shim_splice.c, test_shim_pipesz.c, test_shim_splice_model.c):
 * the Linux numbers they use, the pattern and scratch buffers, and thin
 * wrappers of splice, tee and fcntl's pipe-size commands. Include once,
 * after cmocka.h and the shim test headers (sys.h, sock.h).
 */
#ifndef SHIM_SPLICE_UTIL_H
#define SHIM_SPLICE_UTIL_H

#include <stdbool.h>

#define SYS_splice 275
#define SYS_tee 276
#define SYS_eventfd2 290
#define SYS_mknod 133
#define F_SETPIPE_SZ 1031
#define F_GETPIPE_SZ 1032
#define SPLICE_F_MOVE 1
#define SPLICE_F_NONBLOCK 2
#define SPLICE_F_MORE 4
#define SPLICE_F_GIFT 8
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_APPEND 02000
#define O_PATH 010000000
#define SIGUSR1 10
#define CAP 16384		/* a new pipe's capacity (pipe_impl.h) */

static char pat[70000] __attribute__((unused)), got[70000];

#include "bytes.h"

static inline long splice(int in, int64_t *off_in, int out, int64_t *off_out, size_t len,
		   unsigned flags)
{
	return SYS6(SYS_splice, in, off_in, out, off_out, len, flags);
}

static inline long tee(int in, int out, size_t len, unsigned flags)
{
	return SYS4(SYS_tee, in, out, len, flags);
}

static inline void make_pattern(void)
{
	fill_pattern(pat, sizeof(pat));
}

static inline void mkpipe(int p[2], int flags)
{
	assert_int_equal(SYS2(SYS_pipe2, p, flags), 0);
}

static inline void put(int fd, const char *buf, size_t n)
{
	assert_int_equal(SYS3(SYS_write, fd, buf, n), (long)n);
}

static inline void nonblock_fd(int fd, bool on)
{
	assert_int_equal(SYS3(SYS_fcntl, fd, F_SETFL, on ? NB : 0), 0);
}

static inline long pipesz(int fd, long cmd, long arg)
{
	return SYS3(SYS_fcntl, fd, cmd, arg);
}

#endif
