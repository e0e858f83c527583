/*
 * test_shim_splice_tty.c - splice from the console (descriptor 0, the
 * shim's terminal) into a pipe, as Linux 6.18 splices a tty (measured
 * with a pty): what a read would return, at most len, the rest left for
 * the next call; an empty console waits (SPLICE_F_NONBLOCK does not stop
 * that) unless its own O_NONBLOCK (-EAGAIN); a full pipe -EAGAIN with
 * SPLICE_F_NONBLOCK, else a wait for room; no reader -EPIPE and SIGPIPE;
 * a signal ends a wait with -EINTR; an offset -EINVAL. No console byte
 * is lost: what the pipe had no room for is read next. sendfile into a
 * pipe is the same splice (Linux 5.12+); into anything else the console
 * is refused with -EINVAL. The console was refused with -EINVAL before. On the host the console's input is the
 * process's standard input, a host pipe here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <unistd.h>

#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"
#include "sigpipe.h"
#include "splice_util.h"

#define SYS_sendfile 40

static int input[2];		/* a host pipe: [0] is the host's fd 0 */

static void type_in(const char *s)
{
	assert_int_equal(write(input[1], s, strlen(s)), (long)strlen(s));
}

static long from_console(int p, size_t len, unsigned flags)
{
	return splice(0, NULL, p, NULL, len, flags);
}

static void *blocked(void *arg)
{
	return (void *)from_console((int)(intptr_t)arg, 100, SPLICE_F_NONBLOCK);
}

/* Starts a splice that waits for input; lets it wait. */
static struct cub_coro *waiting(int p)
{
	struct cub_coro *co;

	assert_int_equal(cub_coro_spawn(&co, blocked, (void *)(intptr_t)p, NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_sleep(CUB_NSEC_PER_MSEC);
	return co;
}

static void tty_body(void)
{
	struct cub_coro *co;
	int64_t off = 0;
	void *res;
	int p[2], q[2];

	mkpipe(p, NB);
	nonblock_fd(p[1], false);
	/* what waits, up to len; the rest for the next call */
	type_in("hello world");
	assert_int_equal(splice(0, &off, p[1], NULL, 5, 0), -CUB_EINVAL);
	assert_int_equal(from_console(p[1], 5, 0), 5);
	assert_int_equal(from_console(p[1], 100, SPLICE_F_MORE), 6);
	expect_bytes(p[0], "hello world", 11);
	/* empty: -EAGAIN under the console's O_NONBLOCK only */
	nonblock_fd(0, true);
	assert_int_equal(from_console(p[1], 100, 0), -CUB_EAGAIN);
	nonblock_fd(0, false);
	co = waiting(p[1]);
	type_in("late");
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 4);
	expect_bytes(p[0], "late", 4);
	/* a signal ends the wait */
	set_action_unblocked(SIGUSR1, 0x1111000);
	co = waiting(p[1]);
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, -CUB_EINTR);
	assert_true(signal_taken(SIGUSR1));
	set_action_unblocked(SIGUSR1, 0);
	/* the pipe's room: full -EAGAIN, two bytes of room take two; the
	 * input stays */
	put(p[1], pat, CAP);
	type_in("abcdef");
	assert_int_equal(from_console(p[1], 100, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	expect_bytes(p[0], pat, 2);
	assert_int_equal(from_console(p[1], 100, 0), 2);
	expect_bytes(p[0], pat + 2, CAP - 2);
	expect_bytes(p[0], "ab", 2);
	/* no reader: -EPIPE and SIGPIPE, the input stays */
	mkpipe(q, 0);
	assert_int_equal(SYS1(SYS_close, q[0]), 0);
	set_sigpipe(SIGPIPE_HANDLER);
	assert_int_equal(from_console(q[1], 100, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	set_sigpipe(0);
	assert_int_equal(SYS1(SYS_close, q[1]), 0);
	assert_int_equal(from_console(p[1], 100, 0), 4);
	expect_bytes(p[0], "cdef", 4);
	/* sendfile into a pipe is this splice (Linux 5.12+); into
	 * anything else the console is refused, its input kept */
	type_in("sent file");
	assert_int_equal(SYS4(SYS_sendfile, p[1], 0, NULL, 4), 4);
	assert_int_equal(SYS4(SYS_sendfile, q[1], 0, NULL, 4), -CUB_EBADF);
	mkpipe(q, 0);
	assert_int_equal(SYS4(SYS_sendfile, 1, 0, NULL, 4), -CUB_EINVAL);
	assert_int_equal(SYS4(SYS_sendfile, p[1], 0, NULL, 100), 5);
	expect_bytes(p[0], "sent file", 9);
	closeall(2, q);
	closeall(2, p);
}

static void test_splice_tty(void **state)
{
	(void)state;
	make_pattern();
	assert_int_equal(pipe(input), 0);
	assert_int_equal(dup2(input[0], 0), 0);
	run(tty_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_tty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
