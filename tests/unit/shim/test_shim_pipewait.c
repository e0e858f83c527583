/*
 * test_shim_pipewait.c - what a read or write on a pipe keeps doing now
 * that the whole call (lookup, buffer check, op, wait, retries) is one
 * critical section that takes a reference only to wait (fd_rw.c):
 * errors in Linux's order (a descriptor not open for the call, or a file
 * that cannot be read, before a bad buffer); a bad buffer refused at
 * once, never waited on; a buffer unmapped while the call waits gives
 * EFAULT and leaves the data; a call that waits keeps its file after
 * every descriptor closed and frees it when it returns; a blocked write
 * that put some bytes in returns their count once made non-blocking.
 * Runs inside the scheduler where coroutines block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "sys.h"
#include "sigpipe.h"

#define O_NONBLOCK 04000
#define F_GETFL 3
#define F_SETFL 4
#define CAP 16384

static int fds[2];
static char big[CAP + 100], got[CAP + 100];

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static void shut(void)
{
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

/* Linux checks the descriptor (EBADF: not open, or not open for that;
 * EINVAL: a file that cannot be read) before the buffer (EFAULT). An
 * empty pipe's read with a bad buffer fails at once instead of waiting. */
static void test_rw_error_order(void **state)
{
	int ep = (int)SYS1(SYS_epoll_create1, 0);

	(void)state;
	assert_true(ep >= 0);
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(SYS3(SYS_read, fds[1], WILD, 4), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_write, fds[0], WILD, 4), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, ep, WILD, 4), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_write, ep, WILD, 4), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_read, 200, WILD, 4), -CUB_EBADF);
	assert_int_equal(SYS3(SYS_read, fds[0], WILD, 4), -CUB_EFAULT);	/* empty */
	assert_int_equal(SYS3(SYS_write, fds[1], WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_write, fds[1], "ab", 2), 2);
	assert_int_equal(SYS3(SYS_read, fds[0], WILD, 4), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 4), 2);	/* still there */
	assert_int_equal(SYS3(SYS_read, fds[0], got, 0), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], WILD, 0), 0);
	shut();
	assert_int_equal(SYS1(SYS_close, ep), 0);
}

/* A read that waited checks its buffer again: unmapped meanwhile, it
 * fails with EFAULT (never a fault) and the bytes stay in the pipe. */
static void *read_into(void *buf)
{
	return (void *)SYS3(SYS_read, fds[0], buf, 64);
}

static void unmapped_body(void)
{
	long page = SYS6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);	/* RW, private anon */
	struct cub_coro *c;
	void *res;

	assert_true(page > 0);
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(cub_coro_spawn(&c, read_into, (void *)page, NULL), 0);
	cub_coro_yield();				/* it waits for data */
	assert_int_equal(SYS2(SYS_munmap, page, 4096), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "late", 4), 4);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_read, fds[0], got, 10), 4);
	assert_memory_equal(got, "late", 4);
	shut();
}

static void test_blocked_read_unmapped(void **state)
{
	(void)state;
	run(unmapped_body);
}

/* A reader waits and its descriptor closes meanwhile: the read end lives
 * on in the call (still a reader: a write reaches it), and goes when the
 * call returns (then writes fail with EPIPE); nothing is left behind. */
static void *read_got(void *unused)
{
	(void)unused;
	return (void *)SYS3(SYS_read, fds[0], got, 8);
}

static void last_close_body(void)
{
	struct cub_heap_stats before, after;
	struct cub_coro *c;
	void *res;

	/* One round first, so that whatever a coroutine leaves cached is. */
	assert_int_equal(cub_coro_spawn(&c, read_got, NULL, NULL), 0);
	assert_int_equal(cub_coro_join(c, &res), 0);	/* fds closed: EBADF */
	cub_heap_stats(&before);
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(cub_coro_spawn(&c, read_got, NULL, NULL), 0);
	cub_coro_yield();				/* it waits */
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_write, fds[1], "ab", 2), 2);	/* a reader left */
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 2);
	assert_memory_equal(got, "ab", 2);
	assert_int_equal(SYS3(SYS_write, fds[1], "c", 1), -CUB_EPIPE);	/* gone */
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

/* Both descriptors close while the reader waits: the write end's close
 * ends the read with end of file, and the call's own reference was the
 * pipe's last, so returning frees it. */
static void wait_then_free_body(void)
{
	struct cub_heap_stats before, after;
	struct cub_coro *c;
	void *res;

	assert_int_equal(cub_coro_spawn(&c, read_got, NULL, NULL), 0);
	assert_int_equal(cub_coro_join(c, &res), 0);	/* fds closed: EBADF */
	cub_heap_stats(&before);
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(cub_coro_spawn(&c, read_got, NULL, NULL), 0);
	cub_coro_yield();				/* it waits */
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);	/* the call holds it */
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);	/* no writer: EOF */
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 0);
	cub_heap_stats(&after);				/* the pipe is gone */
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

static void test_blocked_read_last_close(void **state)
{
	(void)state;
	run(last_close_body);
	run(wait_then_free_body);
}

/* A blocking write of more than the pipe holds puts in what fits and
 * waits; made non-blocking meanwhile (F_SETFL wakes it), it returns the
 * count that went in, and those bytes read back intact. */
static void *write_big(void *unused)
{
	(void)unused;
	return (void *)SYS3(SYS_write, fds[1], big, sizeof(big));
}

static void nonblock_body(void)
{
	struct cub_coro *c;
	void *res;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 13 + i / 7);
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(cub_coro_spawn(&c, write_big, NULL, NULL), 0);
	cub_coro_yield();				/* full: it waits */
	assert_int_equal(SYS3(SYS_fcntl, fds[1], F_SETFL, 1 | O_NONBLOCK), 0);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, CAP);
	assert_int_equal(SYS3(SYS_read, fds[0], got, sizeof(got)), CAP);
	assert_memory_equal(got, big, CAP);
	shut();
}

static void test_blocked_write_made_nonblocking(void **state)
{
	(void)state;
	run(nonblock_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rw_error_order),
		cmocka_unit_test(test_blocked_read_unmapped),
		cmocka_unit_test(test_blocked_read_last_close),
		cmocka_unit_test(test_blocked_write_made_nonblocking),
	};

	cubi_mem_init();	/* pipes live on the heap */
	set_sigpipe(1);	/* SIG_IGN: a write gets EPIPE */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
