/*
 * test_shim_splice_restart.c - splice, tee, vmsplice and sendfile
 * interrupted by a signal while they wait, with a handler: without SA_RESTART the program
 * resumes past the call with -EINTR; with it, at the call's `syscall`
 * again with rax its number, and the call, run again from the registers
 * given back, completes once its bytes or room come. Linux 6.18 restarts
 * all of them (measured with a C program: splice blocked on an empty
 * pipe, a full pipe and an empty UDP socket, tee on an empty and a full
 * pipe, vmsplice both ways, sendfile from an empty datagram socket into
 * a pipe; sendfile from a pipe, which Linux refuses, restarts the same
 * way here). Nothing runs handlers on the host: the
 * platform's part (deliver at the call's return, rt_sigreturn) is
 * cubi_signal_deliver and cubi_signal_restore on a stack of ours, as in
 * test_shim_fifo.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/sched.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"
#include "splice_util.h"
#include "sigrestart.h"

#define SYS_vmsplice 278
#define SYS_sendfile 40
/* What a waiting call needs to go on: bytes into an empty source, room
 * out of a full destination. */
typedef void (*unblock_fn)(void);

/* The call c, interrupted: resumed with -EINTR (restart false) or, run
 * again from the registers given back, completing with want once
 * unblock ran. */
static void check(const struct sys_call *c, bool restart, unblock_fn unblock, long want)
{
	long rc = sys_call_interrupted(c);
	struct cubi_sigctx back;
	struct sys_call again;
	struct cub_coro *co;
	void *res;

	assert_int_equal(rc, -CUB_EINTR);
	back = sys_call_handled(c, rc);
	if (!restart) {
		assert_int_equal(back.rip, AFTER_CALL);
		assert_int_equal(back.rax, (uint64_t)-CUB_EINTR);
		return;
	}
	assert_int_equal(back.rip, AFTER_CALL - 2);
	assert_int_equal(back.rax, (uint64_t)c->nr);
	again = sys_call_again(&back);
	assert_int_equal(cub_coro_spawn(&co, sys_call_run, &again, NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_coro_yield();
	unblock();
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((long)res, want);
}

static int src[2], dst[2], urx, utx;

static void feed_src(void)
{
	put(src[1], pat, 10);
}

static void drain_dst(void)
{
	expect_bytes(dst[0], pat, CAP);
}

static void feed_udp(void)
{
	struct sin to = inaddr(LOOP, port_of(urx));

	assert_int_equal(SYS6(SYS_sendto, utx, pat, 10, 0, &to, sizeof(to)), 10);
}

/* Empties both pipes (non-blocking reads) between the cases. */
static void empty_pipes(void)
{
	nonblock_fd(src[0], true);
	nonblock_fd(dst[0], true);
	while (SYS3(SYS_read, src[0], got, sizeof(got)) > 0)
		;
	while (SYS3(SYS_read, dst[0], got, sizeof(got)) > 0)
		;
	nonblock_fd(src[0], false);
	nonblock_fd(dst[0], false);
}

static void restart_body(void)
{
	struct iovec_user { uint64_t base, len; } in = { (uintptr_t)got, 100 },
						  out = { (uintptr_t)pat, 100 };
	struct sys_call c;

	assert_int_equal(SYS0(SYS_gettid), 1);	/* the program's thread */
	mkpipe(src, 0);
	mkpipe(dst, 0);
	urx = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	utx = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind_to(urx, LOOP, 0), 0);
	for (int restart = 1; restart >= 0; restart--) {
		set_usr1_handler(restart);
		/* splice from an empty pipe */
		c = (struct sys_call){ SYS_splice, { src[0], 0, dst[1], 0, 100, 0 } };
		check(&c, restart, feed_src, 10);
		empty_pipes();
		/* splice into a full pipe */
		put(dst[1], pat, CAP);
		put(src[1], pat, 10);
		check(&c, restart, drain_dst, 10);
		empty_pipes();
		/* splice from an empty UDP socket */
		c = (struct sys_call){ SYS_splice, { urx, 0, dst[1], 0, 100, 0 } };
		check(&c, restart, feed_udp, 10);
		empty_pipes();
		/* tee from an empty pipe, and into a full one */
		c = (struct sys_call){ SYS_tee, { src[0], dst[1], 100, 0, 0, 0 } };
		check(&c, restart, feed_src, 10);
		empty_pipes();
		put(dst[1], pat, CAP);
		put(src[1], pat, 10);
		check(&c, restart, drain_dst, 10);
		empty_pipes();
		/* vmsplice out of an empty pipe, and into a full one */
		c = (struct sys_call){ SYS_vmsplice, { src[0], (long)&in, 1, 0, 0, 0 } };
		check(&c, restart, feed_src, 10);
		empty_pipes();
		put(dst[1], pat, CAP);
		c = (struct sys_call){ SYS_vmsplice, { dst[1], (long)&out, 1, 0, 0, 0 } };
		check(&c, restart, drain_dst, 100);
		empty_pipes();
		/* sendfile from an empty UDP socket and an empty pipe, and
		 * from a pipe into a full one */
		c = (struct sys_call){ SYS_sendfile, { dst[1], urx, 0, 100, 0, 0 } };
		check(&c, restart, feed_udp, 10);
		empty_pipes();
		c = (struct sys_call){ SYS_sendfile, { dst[1], src[0], 0, 100, 0, 0 } };
		check(&c, restart, feed_src, 10);
		empty_pipes();
		put(dst[1], pat, CAP);
		put(src[1], pat, 10);
		check(&c, restart, drain_dst, 10);
		empty_pipes();
	}
	int fds[] = { src[0], src[1], dst[0], dst[1], urx, utx };
	closeall(6, fds);
	set_usr1_handler(false);
}

static void test_splice_restart(void **state)
{
	(void)state;
	make_pattern();
	run(restart_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
