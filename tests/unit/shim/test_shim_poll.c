/*
 * test_shim_poll.c - poll, ppoll, select and pselect6 through the
 * dispatcher: readiness of pipes, files and the console, POLLNVAL and
 * ignored descriptors, timeouts that expire, a poll woken by a writer in
 * another coroutine, and every bad argument (EINVAL, EFAULT, EBADF).
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

#define SYS_poll 7
#define SYS_select 23
#define SYS_pselect6 270
#define SYS_ppoll 271
#define SYS_openat 257
#define POLLIN 0x001
#define POLLOUT 0x004
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define O_CREAT 0100
#define O_RDWR 2

struct pfd {
	int32_t fd;
	int16_t events, revents;
};

static int fds[2];

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static void readiness_body(void)
{
	struct pfd p[5];
	char c;
	int file = (int)SYS4(SYS_openat, -100, "/tmp/polled", O_CREAT | O_RDWR, 0600);

	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	p[0] = (struct pfd){ fds[0], POLLIN, 99 };
	p[1] = (struct pfd){ fds[1], POLLOUT, 99 };
	p[2] = (struct pfd){ -1, POLLIN, 99 };		/* ignored */
	p[3] = (struct pfd){ 200, POLLIN, 99 };		/* not open */
	p[4] = (struct pfd){ file, POLLIN | POLLOUT, 0 };
	assert_int_equal(SYS3(SYS_poll, p, 5, 0), 3);
	assert_int_equal(p[0].revents, 0);		/* empty pipe */
	assert_int_equal(p[1].revents & POLLOUT, POLLOUT);
	assert_int_equal(p[2].revents, 0);
	assert_int_equal(p[3].revents, POLLNVAL);
	assert_int_equal(p[4].revents & (POLLIN | POLLOUT), POLLIN | POLLOUT);
	assert_int_equal(SYS3(SYS_write, fds[1], "x", 1), 1);
	assert_int_equal(SYS3(SYS_poll, p, 1, 0), 1);
	assert_int_equal(p[0].revents & POLLIN, POLLIN);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	assert_int_equal(SYS3(SYS_read, fds[0], &c, 1), 1);
	assert_int_equal(SYS3(SYS_poll, p, 1, 0), 1);
	assert_int_equal(p[0].revents & POLLHUP, POLLHUP);	/* writer gone */
	p[0] = (struct pfd){ 1, POLLOUT, 0 };			/* the console */
	assert_int_equal(SYS3(SYS_poll, p, 1, 0), 1);
	assert_int_equal(p[0].revents, POLLOUT);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, file), 0);
}

static void test_poll_readiness(void **state)
{
	(void)state;
	run(readiness_body);
}

static void errors_body(void)
{
	struct pfd p = { 0, POLLIN, 0 };
	int64_t ts[2] = { 0, 1000000000 };
	uint64_t set[16] = { 0 };

	assert_int_equal(SYS3(SYS_poll, &p, CUBI_FD_MAX + 1, 0), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_poll, WILD, 1, 0), -CUB_EFAULT);
	assert_int_equal(SYS3(SYS_poll, NULL, 0, 0), 0);
	assert_int_equal(SYS4(SYS_ppoll, &p, 1, ts, 0), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_ppoll, &p, 1, WILD, 0), -CUB_EFAULT);
	ts[1] = 0;
	assert_int_equal(sys(SYS_ppoll, (long)&p, 1, (long)ts, (long)set, 4, 0), -CUB_EINVAL);
	set[0] = 1ull << 40;				/* fd 40: not open */
	assert_int_equal(SYS6(SYS_pselect6, 41, set, NULL, NULL, ts, NULL), -CUB_EBADF);
	assert_int_equal(SYS6(SYS_pselect6, 1025, set, NULL, NULL, ts, NULL), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_pselect6, -1, set, NULL, NULL, ts, NULL), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_pselect6, 41, WILD, NULL, NULL, ts, NULL), -CUB_EFAULT);
	ts[1] = 1000000;				/* a timeval: usec < 1e6 */
	assert_int_equal(SYS6(SYS_select, 1, set, NULL, NULL, ts, 0), -CUB_EINVAL);
}

static void test_poll_errors(void **state)
{
	(void)state;
	run(errors_body);
}

static void select_body(void)
{
	uint64_t rd[1], wr[1];
	int64_t tv[2] = { 0, 2000 };			/* 2 ms */
	uint64_t t0;

	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	rd[0] = 1ull << fds[0];
	wr[0] = 1ull << fds[1];
	assert_int_equal(SYS6(SYS_select, fds[1] + 1, rd, wr, NULL, tv, 0), 1);
	assert_int_equal(rd[0], 0);
	assert_int_equal(wr[0], 1ull << fds[1]);
	/* Nothing ready: the timeout expires. */
	rd[0] = 1ull << fds[0];
	t0 = cub_time_now();
	assert_int_equal(SYS6(SYS_select, fds[0] + 1, rd, NULL, NULL, tv, 0), 0);
	assert_true(cub_time_now() - t0 >= 2000000);
	assert_int_equal(rd[0], 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "y", 1), 1);
	rd[0] = 1ull << fds[0];
	assert_int_equal(SYS6(SYS_pselect6, fds[0] + 1, rd, NULL, NULL, NULL, NULL), 1);
	assert_int_equal(rd[0], 1ull << fds[0]);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

static void test_select(void **state)
{
	(void)state;
	run(select_body);
}

/* A poll without a timeout, woken when another coroutine writes. */
static void *writer(void *arg)
{
	(void)arg;
	cub_sleep(3 * 1000000);
	assert_int_equal(SYS3(SYS_write, fds[1], "w", 1), 1);
	return NULL;
}

static void blocking_body(void)
{
	struct pfd p;
	struct cub_coro *w;
	int64_t ts[2] = { 0, 2000000 };

	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	p = (struct pfd){ fds[0], POLLIN, 0 };
	assert_int_equal(SYS4(SYS_ppoll, &p, 1, ts, 0), 0);	/* 2 ms: nothing */
	assert_int_equal(cub_coro_spawn(&w, writer, NULL, NULL), 0);
	assert_int_equal(SYS3(SYS_poll, &p, 1, -1), 1);
	assert_int_equal(p.revents, POLLIN);
	assert_int_equal(cub_coro_join(w, NULL), 0);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

static void test_poll_blocking(void **state)
{
	(void)state;
	run(blocking_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_readiness),
		cmocka_unit_test(test_poll_errors),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_poll_blocking),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
