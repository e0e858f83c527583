/*
 * test_shim_splice_dgram.c - splice from message sockets into a pipe,
 * as Linux 6.18 does it (measured with a C program over loopback UDP,
 * AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET socketpairs; the same answers
 * for all three): one message per call, cut to len, the rest of it
 * dropped; an empty message gives 0 and is gone; an empty socket waits
 * by its own O_NONBLOCK (SPLICE_F_NONBLOCK and the pipe's O_NONBLOCK do
 * not make it -EAGAIN); a full pipe gives -EAGAIN with SPLICE_F_NONBLOCK
 * or the pipe's O_NONBLOCK and waits otherwise, even when the socket is
 * non-blocking, the message staying queued; no reader: -EPIPE with
 * SIGPIPE, the message kept; SHUT_RD: 0. The pipe's room cuts a message
 * too (Linux counts it in pages; here in bytes). An offset for the
 * socket: -EINVAL. Then UDP through the network card (the stack on an
 * in-memory wire as the remote end): the wait for a datagram that
 * arrives later, the cut, -EAGAIN when empty and non-blocking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/net.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "netdev.h"
#include "sys.h"
#include "sock.h"
#include "sigpipe.h"
#include "splice_util.h"
#include "../net/net_test.h"
#include "card_wire.h"

#define SOCK_SEQPACKET 5
#define PORT_A 7300

/* The socket under test: rx receives what tx sends (to `to` when it is
 * an unconnected UDP socket, else by write). */
static int rx, tx;
static struct sin to;
static bool udp;

static void send_msg(const char *buf, size_t n)
{
	long rc = udp ? SYS6(SYS_sendto, tx, buf, n, 0, &to, sizeof(to))
		      : SYS3(SYS_write, tx, buf, n);

	assert_int_equal(rc, (long)n);
}

static long splice_in(int p, size_t len, unsigned flags)
{
	return splice(rx, NULL, p, NULL, len, flags);
}

static void *blocked(void *arg)
{
	return (void *)splice_in((int)(intptr_t)arg, 1000, SPLICE_F_NONBLOCK);
}

/* One message per call, cut to len; an empty one; -EINVAL with an
 * offset; an empty non-blocking socket. */
static void cuts(int p[2])
{
	int64_t off = 0;

	send_msg(pat, 100);
	send_msg(pat + 100, 100);
	send_msg(pat + 200, 100);
	assert_int_equal(splice(rx, &off, p[1], NULL, 30, 0), -CUB_EINVAL);
	assert_int_equal(splice_in(p[1], 30, 0), 30);
	assert_int_equal(splice_in(p[1], 1000, 0), 100);
	assert_int_equal(splice_in(p[1], 1000, SPLICE_F_NONBLOCK | SPLICE_F_MORE), 100);
	expect_bytes(p[0], pat, 30);		/* the first's other 70: gone */
	expect_bytes(p[0], pat + 100, 100);
	expect_bytes(p[0], pat + 200, 100);
	expect_empty(p[0]);
	send_msg(pat, 0);
	assert_int_equal(splice_in(p[1], 1000, 0), 0);
	nonblock_fd(rx, true);
	assert_int_equal(splice_in(p[1], 1000, 0), -CUB_EAGAIN);	/* it was taken */
	nonblock_fd(rx, false);
}

/* An empty blocking socket waits, SPLICE_F_NONBLOCK and the pipe's
 * O_NONBLOCK notwithstanding, until a message comes. */
static void waits_for_message(int p[2])
{
	struct cub_coro *co;
	void *res;

	assert_int_equal(cub_coro_spawn(&co, blocked, (void *)(intptr_t)p[1], NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_coro_yield();
	send_msg(pat + 7, 50);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 50);
	expect_bytes(p[0], pat + 7, 50);
}

static void *blocked_room(void *arg)
{
	return (void *)splice_in((int)(intptr_t)arg, 1000, 0);
}

/* A full pipe: -EAGAIN by the pipe's rule, the message kept; a socket's
 * O_NONBLOCK does not stop the wait for room; a partly full pipe cuts
 * the message to its room. */
static void full_pipe(int p[2])
{
	struct cub_coro *co;
	void *res;

	put(p[1], pat, CAP);
	send_msg(pat + 1, 60);
	assert_int_equal(splice_in(p[1], 1000, SPLICE_F_NONBLOCK), -CUB_EAGAIN);
	nonblock_fd(rx, true);
	assert_int_equal(cub_coro_spawn(&co, blocked_room, (void *)(intptr_t)p[1], NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_coro_yield();
	expect_bytes(p[0], pat, 1000);		/* room: it goes on */
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 60);
	nonblock_fd(rx, false);
	expect_bytes(p[0], pat + 1000, CAP - 1000);
	expect_bytes(p[0], pat + 1, 60);
	/* the pipe's own O_NONBLOCK */
	put(p[1], pat, CAP);
	send_msg(pat + 2, 60);
	nonblock_fd(p[1], true);
	assert_int_equal(splice_in(p[1], 1000, 0), -CUB_EAGAIN);
	nonblock_fd(p[1], false);
	expect_bytes(p[0], pat, 40);		/* 40 bytes of room */
	assert_int_equal(splice_in(p[1], 1000, 0), 40);
	expect_bytes(p[0], pat + 40, CAP - 40);
	expect_bytes(p[0], pat + 2, 40);	/* its last 20: gone */
	expect_empty(p[0]);
}

/* No reader: -EPIPE and SIGPIPE, the message still queued. */
static void no_reader(int p[2])
{
	int q[2];

	mkpipe(q, NB);
	send_msg(pat + 3, 80);
	set_sigpipe(SIGPIPE_HANDLER);
	assert_int_equal(SYS1(SYS_close, q[0]), 0);
	assert_int_equal(splice_in(q[1], 1000, 0), -CUB_EPIPE);
	assert_true(sigpipe_taken());
	set_sigpipe(0);
	assert_int_equal(SYS1(SYS_close, q[1]), 0);
	assert_int_equal(splice_in(p[1], 1000, 0), 80);
	expect_bytes(p[0], pat + 3, 80);
}

static void all_cases(bool shut)
{
	int p[2];

	mkpipe(p, NB);
	nonblock_fd(p[1], false);
	cuts(p);
	waits_for_message(p);
	full_pipe(p);
	no_reader(p);
	if (shut) {		/* connected ones: end of file after SHUT_RD */
		assert_int_equal(SYS2(SYS_shutdown, rx, 0), 0);
		assert_int_equal(splice_in(p[1], 1000, 0), 0);
	}
	closeall(2, p);
}

static void udp_body(void)
{
	rx = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	tx = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 3 && tx >= 3);
	assert_int_equal(bind_to(rx, LOOP, 0), 0);
	to = inaddr(LOOP, port_of(rx));
	udp = true;
	all_cases(false);
	udp = false;
	int fds[] = { rx, tx };
	closeall(2, fds);
}

static void test_splice_udp(void **state)
{
	(void)state;
	make_pattern();
	run(udp_body);
}

static void pair_body(int type)
{
	int s[2];

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, type, 0, s), 0);
	rx = s[0];
	tx = s[1];
	all_cases(true);
	closeall(2, s);
}

static void unix_dgram_body(void)
{
	pair_body(SOCK_DGRAM);
}

static void seqpacket_body(void)
{
	pair_body(SOCK_SEQPACKET);
}

static void test_splice_unix_dgram(void **state)
{
	(void)state;
	make_pattern();
	run(unix_dgram_body);
}

static void test_splice_seqpacket(void **state)
{
	(void)state;
	make_pattern();
	run(seqpacket_body);
}

/* ------------------------------------------------------ through the card */

static struct cub_udp remote;

static void *remote_sends(void *arg)
{
	cub_sleep(2 * MS);		/* after the splice began to wait */
	assert_int_equal(cub_udp_sendto(&remote, IP_A, PORT_A, pat + 5, (size_t)(intptr_t)arg),
			 (int)(intptr_t)arg);
	return NULL;
}

static void card_body(void)
{
	struct cub_coro *co;
	int p[2];

	up();
	assert_int_equal(cub_udp_open(&remote, B, 0), 0);
	rx = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 3);
	assert_int_equal(bind_to(rx, 0, PORT_A), 0);
	mkpipe(p, NB);
	nonblock_fd(p[1], false);
	/* a blocking splice waits for the datagram, which it cuts to len */
	assert_int_equal(cub_coro_spawn(&co, remote_sends, (void *)1400, NULL), 0);
	assert_int_equal(splice_in(p[1], 1000, SPLICE_F_NONBLOCK), 1000);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	expect_bytes(p[0], pat + 5, 1000);
	/* a datagram in fragments, whole; then nothing: -EAGAIN */
	assert_int_equal(cub_coro_spawn(&co, remote_sends, (void *)3000, NULL), 0);
	assert_int_equal(splice_in(p[1], 65536, 0), 3000);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	expect_bytes(p[0], pat + 5, 3000);
	nonblock_fd(rx, true);
	assert_int_equal(splice_in(p[1], 65536, 0), -CUB_EAGAIN);
	int fds[] = { rx, p[0], p[1] };
	closeall(3, fds);
	assert_int_equal(cub_udp_close(&remote), 0);
	down();
}

static void test_splice_udp_card(void **state)
{
	(void)state;
	make_pattern();
	run(card_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_udp),
		cmocka_unit_test(test_splice_unix_dgram),
		cmocka_unit_test(test_splice_seqpacket),
		cmocka_unit_test(test_splice_udp_card),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
