/*
 * test_shim_pipe.c - pipes and epoll through the dispatcher: descriptor
 * errors, ring contents and capacity, PIPE_BUF atomicity, end of file and
 * EPIPE, O_NONBLOCK, level/edge/one-shot readiness, and (inside the
 * scheduler) readers, writers and epoll waiters that block and are woken
 * by other coroutines, with and without timeouts; a blocked reader is
 * woken by its own pipe (or socket) only and keeps its file when another
 * coroutine closes the descriptor; eventfd counters. SIGPIPE: a write or writev
 * with no reader left raises it on the writer (pending with a handler,
 * nothing with SIG_IGN, the end of the program with the default action;
 * blocked, it waits).
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
#include "fd.h"
#include "sys.h"
#include "sigpipe.h"
#include "../mem/death.h"

#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define EPOLLIN 0x001u
#define EPOLLOUT 0x004u
#define EPOLLERR 0x008u
#define EPOLLHUP 0x010u
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)
#define ADD 1
#define DEL 2
#define MOD 3
#define CAP 16384

struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

static int fds[2];
static char big[3 * CAP], got[3 * CAP];

static void make(int flags)
{
	assert_int_equal(SYS2(SYS_pipe2, fds, flags), 0);
}

static void shut(void)
{
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

static long ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct ev e = { events, data };

	return SYS4(SYS_epoll_ctl, ep, op, fd, &e);
}

static long wait_for(int ep, struct ev *out, int max, int timeout)
{
	return SYS4(SYS_epoll_wait, ep, out, max, timeout);
}

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

/* ---------------------------------------------------------------- pipes */

static void test_pipe_descriptors(void **state)
{
	uint8_t st[144];
	uint32_t mode;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, fds, 1), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_pipe2, WILD, 0), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_pipe, NULL), -CUB_EFAULT);
	assert_int_equal(SYS1(SYS_pipe, fds), 0);
	assert_int_equal(fds[0], 3);
	assert_int_equal(fds[1], 4);
	assert_int_equal(SYS3(SYS_write, fds[0], "x", 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, fds[1], got, 1), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFL), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[1], F_GETFL), 1);
	assert_int_equal(SYS3(SYS_fcntl, fds[1], F_SETFL, O_NONBLOCK | 1), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[1], F_GETFL), 1 | O_NONBLOCK);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFD), 0);
	assert_int_equal(SYS3(SYS_fcntl, fds[0], F_SETFD, 1), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFD), 1);
	assert_int_equal(SYS3(SYS_fcntl, fds[0], 0, 10), 10);	/* F_DUPFD */
	assert_int_equal(SYS1(SYS_close, 10), 0);
	assert_int_equal(SYS2(SYS_fstat, fds[0], st), 0);
	memcpy(&mode, st + 24, 4);
	assert_int_equal(mode & 0170000, 0010000);	/* a FIFO */
	assert_int_equal(SYS3(SYS_lseek, fds[0], 0, 0), -29);
	assert_int_equal(SYS3(SYS_ioctl, fds[0], 0x5413, st), -CUB_ENOTTY);
	assert_int_equal(SYS3(SYS_read, fds[0], WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_write, fds[1], WILD, 4), -CUB_EFAULT);
	shut();
	assert_int_equal(SYS1(SYS_close, fds[0]), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 1), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFL), -CUB_EBADF);
	assert_int_equal(SYS2(SYS_fstat, fds[0], st), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_lseek, fds[0], 0, 0), -CUB_EBADF);
	make(O_CLOEXEC);
	assert_int_equal(SYS2(SYS_fcntl, fds[1], F_GETFD), 1);
	shut();
}

static void test_pipe_data(void **state)
{
	struct { const void *base; size_t len; } iov[2] = { { "ab", 2 }, { "cde", 3 } };

	(void)state;
	make(O_NONBLOCK);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 4), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 0), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "hello", 5), 5);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 3), 3);
	assert_memory_equal(got, "hel", 3);
	assert_int_equal(SYS3(SYS_writev, fds[1], iov, 2), 5);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 100), 7);
	assert_memory_equal(got, "loabcde", 7);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 4), 0);	/* end of file */
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);

	make(O_NONBLOCK);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

/* ------------------------------------------------------------ SIGPIPE */

static void sigpipe_body(void)
{
	struct { const void *base; size_t len; } iov[1] = { { "ab", 2 } };

	set_sigpipe(SIGPIPE_HANDLER);
	assert_false(sigpipe_taken());
	make(O_NONBLOCK);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), 1);
	assert_false(sigpipe_taken());
	for (int i = 0; i < 2; i++)	/* a full pipe: EAGAIN, no signal */
		(void)SYS3(SYS_write, fds[1], big, CAP);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), -CUB_EAGAIN);
	assert_false(sigpipe_taken());
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_false(sigpipe_taken());		/* once per call */
	assert_int_equal(SYS3(SYS_writev, fds[1], iov, 1), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	assert_int_equal(SYS3(SYS_write, 999, "x", 1), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, fds[1], got, 1), -CUB_EBADF);
	assert_false(sigpipe_taken());
	set_sigpipe(1);				/* SIG_IGN: the error alone */
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), -CUB_EPIPE);
	assert_false(sigpipe_taken());
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

static void test_pipe_sigpipe(void **state)
{
	(void)state;
	run(sigpipe_body);
}

/* A blocked SIGPIPE with the default action: the write fails, the
 * signal waits (pending; taken here after it became ignored). */
static void blocked_body(void)
{
	uint64_t set = 1ull << (SIGPIPE - 1), none = 0;

	set_sigpipe(0);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 0, &set, NULL, 8), 0);
	make(0);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), -CUB_EPIPE);
	assert_false(sigpipe_taken());		/* blocked */
	set_sigpipe(1);
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_false(sigpipe_taken());		/* dropped: ignored now */
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

/* In a child process: the default action ends the program. The pipe is
 * made by the parent: the host's memory arena is shared with a forked
 * child, whose calls must therefore leave the heap alone. */
static void write_broken(void *unused)
{
	(void)unused;
	set_sigpipe(0);
	printf("write: %ld\n", SYS3(SYS_write, fds[1], "x", 1));
}

static void test_pipe_sigpipe_default(void **state)
{
	(void)state;
	run(blocked_body);
	make(0);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_dies_with(write_broken, NULL, "program killed by signal 13 (SIGPIPE");
	set_sigpipe(1);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

/* Capacity, wrap-around and PIPE_BUF atomicity, without blocking. */
static void test_pipe_capacity(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	make(O_NONBLOCK);
	assert_int_equal(SYS3(SYS_write, fds[1], big, 3 * CAP), CAP);	/* partial */
	assert_int_equal(SYS3(SYS_write, fds[1], big, 1), -CUB_EAGAIN);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 100), 100);
	assert_int_equal(SYS3(SYS_write, fds[1], big, 200), -CUB_EAGAIN);	/* atomic */
	assert_int_equal(SYS3(SYS_write, fds[1], big + CAP, 5000), 100);	/* > PIPE_BUF */
	assert_int_equal(SYS3(SYS_read, fds[0], got, 3 * CAP), CAP);
	assert_memory_equal(got, big + 100, CAP - 100);
	assert_memory_equal(got + CAP - 100, big + CAP, 100);	/* wrapped */
	shut();
}

/* A reader blocks on an empty pipe until another coroutine writes; a
 * writer blocks on a full one until it is drained; a 48 KiB blocking
 * write goes through a 16 KiB pipe intact. */
static void *reader(void *arg)
{
	size_t n = (size_t)arg, have = 0;

	while (have < n) {
		long r = SYS3(SYS_read, fds[0], got + have, n - have);

		if (r <= 0)
			return (void *)(intptr_t)(r ? r : -1000);
		have += (size_t)r;
	}
	return (void *)have;
}

static void blocking_body(void)
{
	struct cub_coro *c;
	void *res;

	make(0);
	assert_int_equal(cub_coro_spawn(&c, reader, (void *)5, NULL), 0);
	cub_coro_yield();	/* the reader parks on the empty pipe */
	assert_int_equal(SYS3(SYS_write, fds[1], "12345", 5), 5);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 5);
	assert_memory_equal(got, "12345", 5);

	assert_int_equal(cub_coro_spawn(&c, reader, (void *)sizeof(big), NULL), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], big, sizeof(big)), sizeof(big));
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, sizeof(big));
	assert_memory_equal(got, big, sizeof(big));

	assert_int_equal(cub_coro_spawn(&c, reader, (void *)10, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_write, fds[1], "abc", 3), 3);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);	/* EOF ends the read */
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, -1000);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
}

static void test_pipe_blocking(void **state)
{
	(void)state;
	run(blocking_body);
}

/* c's state as cub_coro_list reports it. */
static enum cub_coro_state state_of(struct cub_coro *c)
{
	struct cub_coro_info all[8];
	size_t n = cub_coro_list(all, 8);

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++)
		if (all[i].id == cub_coro_id(c))
			return all[i].state;
	fail_msg("coroutine %lu not listed", (unsigned long)cub_coro_id(c));
	return CUB_CORO_DONE;
}

/* Traffic on another pipe leaves a blocked reader parked: right after
 * each write or read it is not in the run queue (every change used to
 * wake every blocked call). Closing the descriptor it reads from does
 * not end its read either: the call holds the file, as on Linux, and a
 * write through a second descriptor of the write end reaches it. */
static void wake_body(void)
{
	int other[2], wr2;
	struct cub_coro *c;
	char buf[8];
	void *res;

	make(0);
	assert_int_equal(SYS2(SYS_pipe2, other, 0), 0);
	assert_int_equal(cub_coro_spawn(&c, reader, (void *)3, NULL), 0);
	cub_coro_yield();
	assert_int_equal(state_of(c), CUB_CORO_PARKED);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(SYS3(SYS_write, other[1], "z", 1), 1);
		assert_int_equal(state_of(c), CUB_CORO_PARKED);
		assert_int_equal(SYS3(SYS_read, other[0], buf, sizeof(buf)), 1);
		assert_int_equal(state_of(c), CUB_CORO_PARKED);
	}
	wr2 = (int)SYS3(SYS_fcntl, fds[1], 0 /* F_DUPFD */, 0);
	assert_true(wr2 >= 0);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	cub_coro_yield();
	assert_int_equal(state_of(c), CUB_CORO_PARKED);
	assert_int_equal(SYS3(SYS_write, wr2, "xyz", 3), 3);
	assert_int_equal(state_of(c), CUB_CORO_READY);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 3);
	assert_memory_equal(got, "xyz", 3);
	assert_int_equal(SYS1(SYS_close, wr2), 0);
	assert_int_equal(SYS1(SYS_close, other[0]), 0);
	assert_int_equal(SYS1(SYS_close, other[1]), 0);
}

/* The same for sockets: a reader blocked on one socketpair stays
 * parked while another pair carries data both ways. */
static void wake_sock_body(void)
{
	int other[2];
	struct cub_coro *c;
	char buf[8];
	void *res;

	assert_int_equal(SYS4(53 /* socketpair */, 1, 1, 0, fds), 0);
	assert_int_equal(SYS4(53, 1, 1, 0, other), 0);
	assert_int_equal(cub_coro_spawn(&c, reader, (void *)2, NULL), 0);
	cub_coro_yield();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(SYS3(SYS_write, other[i % 2], "z", 1), 1);
		assert_int_equal(state_of(c), CUB_CORO_PARKED);
		assert_int_equal(SYS3(SYS_read, other[1 - i % 2], buf, sizeof(buf)), 1);
		assert_int_equal(state_of(c), CUB_CORO_PARKED);
	}
	assert_int_equal(SYS3(SYS_write, fds[1], "ok", 2), 2);
	assert_int_equal(state_of(c), CUB_CORO_READY);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(SYS1(SYS_close, fds[i]), 0);
		assert_int_equal(SYS1(SYS_close, other[i]), 0);
	}
}

static void test_pipe_wakes_own_readers(void **state)
{
	(void)state;
	run(wake_body);
	run(wake_sock_body);
}

static void test_pipe_emfile(void **state)
{
	int made = 0;
	long rc;

	(void)state;
	while ((rc = SYS2(SYS_pipe2, fds, 0)) == 0)
		made++;
	assert_int_equal(rc, -24);	/* EMFILE */
	assert_int_equal(made, (CUBI_FD_MAX - 3) / 2);
	for (int fd = 3; fd < CUBI_FD_MAX; fd++)
		assert_int_equal(SYS1(SYS_close, fd), fd < 3 + 2 * made ? 0 : -CUB_EBADF);
}

/* ---------------------------------------------------------------- epoll */

static void test_epoll_errors(void **state)
{
	struct ev out[2];
	int ep;

	(void)state;
	assert_int_equal(SYS1(SYS_epoll_create, 0), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_epoll_create1, 1), -CUB_EINVAL);
	ep = (int)SYS1(SYS_epoll_create1, O_CLOEXEC);
	assert_true(ep >= 3);
	assert_int_equal(SYS2(SYS_fcntl, ep, F_GETFD), 1);
	make(0);
	assert_int_equal(ctl(fds[0], ADD, fds[1], EPOLLOUT, 0), -CUB_EINVAL);
	assert_int_equal(ctl(ep, ADD, 1, EPOLLOUT, 0), -CUB_EPERM);	/* console */
	assert_int_equal(ctl(ep, ADD, ep, EPOLLIN, 0), -CUB_EINVAL);
	assert_int_equal(ctl(ep, ADD, 99, EPOLLIN, 0), -CUB_EBADF);
	assert_int_equal(ctl(99, ADD, fds[0], EPOLLIN, 0), -CUB_EBADF);
	assert_int_equal(ctl(ep, 7, fds[0], EPOLLIN, 0), -CUB_EINVAL);
	assert_int_equal(ctl(ep, ADD, fds[0], 1u << 20, 0), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_epoll_ctl, ep, ADD, fds[0], WILD), -CUB_EFAULT);
	assert_int_equal(ctl(ep, MOD, fds[0], EPOLLIN, 0), -CUB_ENOENT);
	assert_int_equal(ctl(ep, DEL, fds[0], 0, 0), -CUB_ENOENT);
	assert_int_equal(ctl(ep, ADD, fds[0], EPOLLIN, 0), 0);
	assert_int_equal(ctl(ep, ADD, fds[0], EPOLLIN, 0), -CUB_EEXIST);
	assert_int_equal(wait_for(ep, out, 0, 0), -CUB_EINVAL);
	assert_int_equal(wait_for(ep, (struct ev *)WILD, 2, 0), -CUB_EFAULT);
	assert_int_equal(wait_for(99, out, 2, 0), -CUB_EBADF);
	assert_int_equal(wait_for(fds[0], out, 2, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_epoll_pwait, ep, out, 2, 0, out, 4), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_epoll_pwait, ep, out, 2, 0, out, 8), 0);
	assert_int_equal(SYS3(SYS_read, ep, out, 1), -CUB_EINVAL);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	shut();
}

static void test_epoll_readiness(void **state)
{
	struct ev out[4];
	int ep = (int)SYS1(SYS_epoll_create, 1);

	(void)state;
	make(O_NONBLOCK);
	assert_int_equal(ctl(ep, ADD, fds[0], EPOLLIN, 11), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "a", 1), 1);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLIN);
	assert_int_equal(out[0].data, 11);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);	/* level-triggered */

	assert_int_equal(ctl(ep, MOD, fds[0], EPOLLIN | EPOLLET, 12), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(out[0].data, 12);
	assert_int_equal(wait_for(ep, out, 4, 0), 0);	/* no new edge */
	assert_int_equal(SYS3(SYS_write, fds[1], "b", 1), 1);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);

	assert_int_equal(ctl(ep, MOD, fds[0], EPOLLIN | EPOLLONESHOT, 13), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(SYS3(SYS_write, fds[1], "c", 1), 1);
	assert_int_equal(wait_for(ep, out, 4, 0), 0);	/* disarmed */
	assert_int_equal(ctl(ep, MOD, fds[0], EPOLLIN, 14), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);

	assert_int_equal(ctl(ep, ADD, fds[1], EPOLLOUT, 15), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 2);
	assert_int_equal(wait_for(ep, out, 1, 0), 1);	/* maxevents */
	assert_int_equal(SYS3(SYS_read, fds[0], got, 10), 3);
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLOUT);
	assert_int_equal(out[0].data, 15);
	assert_int_equal(ctl(ep, DEL, fds[1], 0, 0), 0);
	assert_int_equal(wait_for(ep, out, 4, 0), 0);

	assert_int_equal(SYS1(SYS_close, fds[1]), 0);	/* the reader sees HUP */
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLHUP);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);	/* dropped from the set */
	make(O_NONBLOCK);				/* same numbers again */
	assert_int_equal(SYS3(SYS_write, fds[1], "d", 1), 1);
	assert_int_equal(wait_for(ep, out, 4, 0), 0);
	assert_int_equal(ctl(ep, ADD, fds[1], EPOLLOUT, 16), 0);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);	/* the writer sees ERR */
	assert_int_equal(wait_for(ep, out, 4, 0), 1);
	assert_int_equal(out[0].events, EPOLLERR);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	assert_int_equal(SYS1(SYS_close, ep), 0);
}

/* epoll_wait with a timeout returns 0 no earlier than it; without one it
 * sleeps until another coroutine writes (Go's netpollBreak). */
static void *late_writer(void *arg)
{
	(void)arg;
	cub_sleep_until(cub_time_now() + 20000000);
	return (void *)SYS3(SYS_write, fds[1], "w", 1);
}

static void epoll_blocking_body(void)
{
	struct ev out[2];
	int ep = (int)SYS1(SYS_epoll_create1, 0);
	struct cub_coro *c;
	uint64_t t0;
	void *res;

	make(0);
	assert_int_equal(ctl(ep, ADD, fds[0], EPOLLIN, 7), 0);
	t0 = cub_time_now();
	assert_int_equal(wait_for(ep, out, 2, 30), 0);
	assert_true(cub_time_now() - t0 >= 30000000);
	assert_int_equal(cub_coro_spawn(&c, late_writer, NULL, NULL), 0);
	t0 = cub_time_now();
	assert_int_equal(SYS6(SYS_epoll_pwait, ep, out, 2, -1, NULL, 0), 1);
	assert_true(cub_time_now() - t0 >= 20000000);
	assert_int_equal(out[0].data, 7);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 1);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	shut();
}

/* Two instances, a pipe each: a waiter in one stays parked while the
 * other's pipe carries data, wakes for its own pipe, and an instance
 * closed while it watches an open pipe leaves that pipe working. */
static int ep_a;

static void *ep_waiter(void *arg)
{
	struct ev out;

	(void)arg;
	return (void *)SYS4(SYS_epoll_wait, ep_a, &out, 1, -1);
}

static void epoll_instances_body(void)
{
	int other[2], ep_b = (int)SYS1(SYS_epoll_create1, 0);
	struct cub_coro *c;
	char buf[4];
	void *res;

	ep_a = (int)SYS1(SYS_epoll_create1, 0);
	make(0);
	assert_int_equal(SYS2(SYS_pipe2, other, 0), 0);
	assert_int_equal(ctl(ep_a, ADD, fds[0], EPOLLIN, 1), 0);
	assert_int_equal(ctl(ep_b, ADD, other[0], EPOLLIN, 2), 0);
	assert_int_equal(cub_coro_spawn(&c, ep_waiter, NULL, NULL), 0);
	cub_coro_yield();
	for (int i = 0; i < 3; i++) {
		assert_int_equal(SYS3(SYS_write, other[1], "b", 1), 1);
		assert_int_equal(state_of(c), CUB_CORO_PARKED);
		assert_int_equal(SYS3(SYS_read, other[0], buf, 1), 1);
	}
	assert_int_equal(ctl(ep_b, MOD, other[0], EPOLLIN | EPOLLOUT, 3), 0);
	assert_int_equal(state_of(c), CUB_CORO_PARKED);
	assert_int_equal(SYS3(SYS_write, fds[1], "a", 1), 1);
	assert_int_equal(state_of(c), CUB_CORO_READY);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 1);
	assert_int_equal(SYS1(SYS_close, ep_b), 0);	/* watching other[0] */
	assert_int_equal(SYS3(SYS_write, other[1], "b", 1), 1);
	assert_int_equal(SYS3(SYS_read, other[0], buf, 4), 1);
	assert_int_equal(SYS1(SYS_close, ep_a), 0);
	assert_int_equal(SYS1(SYS_close, other[0]), 0);
	assert_int_equal(SYS1(SYS_close, other[1]), 0);
	shut();
}

static void test_epoll_blocking(void **state)
{
	(void)state;
	run(epoll_blocking_body);
	run(epoll_instances_body);
}

/* Level-triggered entries that stay ready take turns when max is 1:
 * three pipes with data are each reported once in three waits. */
static void test_epoll_turns(void **state)
{
	int p[3][2], ep = (int)SYS1(SYS_epoll_create1, 0);
	struct ev out;
	unsigned seen = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(SYS2(SYS_pipe2, p[i], 0), 0);
		assert_int_equal(SYS3(SYS_write, p[i][1], "x", 1), 1);
		assert_int_equal(ctl(ep, ADD, p[i][0], EPOLLIN, (uint64_t)i), 0);
	}
	for (int k = 0; k < 3; k++) {
		assert_int_equal(wait_for(ep, &out, 1, 0), 1);
		seen |= 1u << out.data;
	}
	assert_int_equal(seen, 7);
	for (int k = 0; k < 30; k++)	/* and so on, every one in turn */
		assert_int_equal(wait_for(ep, &out, 1, 0), 1);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(SYS1(SYS_close, p[i][0]), 0);
		assert_int_equal(SYS1(SYS_close, p[i][1]), 0);
	}
}

/* -------------------------------------------------------------- eventfd */

#define SYS_eventfd2 290

static void eventfd_body(void)
{
	uint64_t v = 0, two[2] = { 5, 7 }, big = 0xfffffffffffffffeull;
	int e = (int)SYS2(SYS_eventfd2, 3, O_NONBLOCK), s;
	struct ev out;
	int ep = (int)SYS1(SYS_epoll_create1, 0);

	assert_true(e >= 3);
	assert_int_equal(SYS2(SYS_eventfd2, 0, 0x10), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_read, e, &v, 4), -CUB_EINVAL);	/* < 8 bytes */
	assert_int_equal(SYS3(SYS_read, e, &v, 8), 8);
	assert_int_equal(v, 3);
	assert_int_equal(SYS3(SYS_read, e, &v, 8), -CUB_EAGAIN);	/* zeroed */
	assert_int_equal(SYS3(SYS_write, e, two, 16), 8);	/* 8 bytes of 16 */
	assert_int_equal(SYS3(SYS_write, e, two, 8), 8);
	assert_int_equal(SYS3(SYS_read, e, &v, 8), 8);
	assert_int_equal(v, 10);
	v = UINT64_MAX;
	assert_int_equal(SYS3(SYS_write, e, &v, 8), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_write, e, &big, 8), 8);
	v = 1;
	assert_int_equal(SYS3(SYS_write, e, &v, 8), -CUB_EAGAIN);	/* full */
	assert_int_equal(ctl(ep, ADD, e, EPOLLIN | EPOLLOUT, 9), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 0), 1);
	assert_int_equal(out.events, EPOLLIN);			/* not writable */
	assert_int_equal(SYS3(SYS_read, e, &v, 8), 8);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 0), 1);
	assert_int_equal(out.events, EPOLLOUT);
	/* Semaphore mode: one at a time; a blocking read waits for a write. */
	s = (int)SYS2(SYS_eventfd2, 2, 1);
	assert_int_equal(SYS3(SYS_read, s, &v, 8), 8);
	assert_int_equal(v, 1);
	assert_int_equal(SYS3(SYS_read, s, &v, 8), 8);
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(SYS1(SYS_close, e), 0);
	assert_int_equal(SYS1(SYS_close, ep), 0);
}

static void test_eventfd(void **state)
{
	(void)state;
	run(eventfd_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_descriptors),
		cmocka_unit_test(test_eventfd),
		cmocka_unit_test(test_pipe_data),
		cmocka_unit_test(test_pipe_capacity),
		cmocka_unit_test(test_pipe_sigpipe),
		cmocka_unit_test(test_pipe_sigpipe_default),
		cmocka_unit_test(test_pipe_blocking),
		cmocka_unit_test(test_pipe_wakes_own_readers),
		cmocka_unit_test(test_pipe_emfile),
		cmocka_unit_test(test_epoll_errors),
		cmocka_unit_test(test_epoll_readiness),
		cmocka_unit_test(test_epoll_blocking),
		cmocka_unit_test(test_epoll_turns),
	};

	cubi_mem_init();	/* pipes and epoll instances live on the heap */
	set_sigpipe(1);	/* SIG_IGN: the tests of EPIPE (SIGPIPE's own set it) */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
