/*
 * test_shim_unixrst.c - an AF_UNIX stream or SOCK_SEQPACKET socket
 * closed with data it never read resets its peer, as Linux's
 * unix_release_sock does (sk_err = ECONNRESET), rather than leave it at
 * end of file. What Linux 6.18 shows, measured with a C program on
 * socketpairs and on abstract-name listeners:
 *   stream: poll EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP; read and
 *     recv give the bytes the peer holds, then -ECONNRESET once (a
 *     MSG_PEEK takes it too), then 0; writes fail -EPIPE and leave the
 *     error for SO_ERROR, which takes it.
 *   SOCK_SEQPACKET: the next receive or send takes -ECONNRESET first,
 *     before a queued message; then the message, end of file, -EPIPE.
 * A close after everything was read, SO_LINGER or not, is end of file;
 * a listener closed with an unaccepted connection resets the client
 * the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"

#define SYS_poll 7
#define SOCK_SEQPACKET 5
#define SO_ERROR 4
#define SO_LINGER 13
#define MSG_NOSIGNAL 0x4000
#define DEAD (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP)

static char got[64];

static unsigned polled(int fd)
{
	struct { int fd; short events, revents; } p = { fd, (short)DEAD, 0 };

	assert_int_equal(SYS3(SYS_poll, &p, 1, 0), 1);
	return (unsigned)(unsigned short)p.revents;
}

static void spair(int type, int sv[2])
{
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, type | NB, 0, sv), 0);
}

static long send_ns(int fd, const char *s)
{
	return SYS6(SYS_sendto, fd, s, strlen(s), MSG_NOSIGNAL, NULL, 0);
}

static long rd(int fd, int flags)
{
	return SYS6(SYS_recvfrom, fd, got, sizeof(got), flags, NULL, NULL);
}

/* A pair where sv[0] was closed with "abc" unread, sv[1] holding "xy". */
static int reset_pair(int type)
{
	int sv[2];

	spair(type, sv);
	assert_int_equal(send_ns(sv[1], "abc"), 3);
	assert_int_equal(send_ns(sv[0], "xy"), 2);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
	return sv[1];
}

static void test_stream_read(void **state)
{
	int b = reset_pair(SOCK_STREAM);

	(void)state;
	assert_int_equal(polled(b) & (EPOLLERR | EPOLLHUP | EPOLLIN),
			 EPOLLERR | EPOLLHUP | EPOLLIN);
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), 2);	/* its bytes */
	assert_memory_equal(got, "xy", 2);
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), -CUB_ECONNRESET);
	assert_int_equal(polled(b) & EPOLLERR, 0);			/* taken */
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), 0);
	assert_int_equal(send_ns(b, "q"), -CUB_EPIPE);
	assert_int_equal(getopt_int(b, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(SYS1(SYS_close, b), 0);
}

static void test_stream_write_first(void **state)
{
	int b = reset_pair(SOCK_STREAM);

	(void)state;
	assert_int_equal(send_ns(b, "q"), -CUB_EPIPE);		/* not the reset */
	assert_int_equal(send_ns(b, "q"), -CUB_EPIPE);
	assert_int_equal(getopt_int(b, SOL_SOCKET, SO_ERROR), CUB_ECONNRESET);
	assert_int_equal(getopt_int(b, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(rd(b, 0), 2);				/* error gone */
	assert_int_equal(rd(b, 0), 0);
	assert_int_equal(SYS1(SYS_close, b), 0);
}

static void test_stream_peek(void **state)
{
	int sv[2];

	(void)state;
	spair(SOCK_STREAM, sv);
	assert_int_equal(send_ns(sv[1], "a"), 1);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
	assert_int_equal(rd(sv[1], MSG_PEEK), -CUB_ECONNRESET);	/* takes it */
	assert_int_equal(rd(sv[1], 0), 0);
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);
}

/* A SHUT_RDWR first already gave end of file; the close still resets. */
static void test_stream_shutdown_then_close(void **state)
{
	int sv[2];

	(void)state;
	spair(SOCK_STREAM, sv);
	assert_int_equal(send_ns(sv[1], "a"), 1);
	assert_int_equal(SYS2(SYS_shutdown, sv[0], 2), 0);
	assert_int_equal(rd(sv[1], 0), 0);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
	assert_int_equal(rd(sv[1], 0), -CUB_ECONNRESET);
	assert_int_equal(rd(sv[1], 0), 0);
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);
}

/* Nothing unread (all read, or never sent), with or without SO_LINGER
 * {1, 0}: end of file, no error. */
static void test_clean_close(void **state)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };
	int sv[2], lg[2] = { 1, 0 };

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		for (int linger = 0; linger < 2; linger++) {
			spair(types[i], sv);
			assert_int_equal(send_ns(sv[1], "a"), 1);
			assert_int_equal(rd(sv[0], 0), 1);
			if (linger)
				assert_int_equal(SYS6(SYS_setsockopt, sv[0], SOL_SOCKET,
						      SO_LINGER, lg, sizeof(lg), 0), 0);
			assert_int_equal(SYS1(SYS_close, sv[0]), 0);
			assert_int_equal(polled(sv[1]) & EPOLLERR, 0);
			assert_int_equal(rd(sv[1], 0), 0);
			assert_int_equal(getopt_int(sv[1], SOL_SOCKET, SO_ERROR), 0);
			assert_int_equal(send_ns(sv[1], "q"), -CUB_EPIPE);
			assert_int_equal(SYS1(SYS_close, sv[1]), 0);
		}
	}
}

static void test_seqpacket_read(void **state)
{
	int b = reset_pair(SOCK_SEQPACKET);

	(void)state;
	assert_int_equal(polled(b) & (EPOLLERR | EPOLLHUP | EPOLLIN),
			 EPOLLERR | EPOLLHUP | EPOLLIN);
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), -CUB_ECONNRESET);	/* first */
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), 2);
	assert_memory_equal(got, "xy", 2);
	assert_int_equal(SYS3(SYS_read, b, got, sizeof(got)), 0);
	assert_int_equal(send_ns(b, "q"), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, b), 0);
}

static void test_seqpacket_write_first(void **state)
{
	int b = reset_pair(SOCK_SEQPACKET);

	(void)state;
	assert_int_equal(send_ns(b, "q"), -CUB_ECONNRESET);	/* takes it */
	assert_int_equal(send_ns(b, "q"), -CUB_EPIPE);
	assert_int_equal(getopt_int(b, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(rd(b, 0), 2);
	assert_int_equal(rd(b, 0), 0);
	assert_int_equal(SYS1(SYS_close, b), 0);
}

/* SOCK_DGRAM pairs keep no connection to reset. */
static void test_dgram_no_reset(void **state)
{
	int sv[2];

	(void)state;
	spair(SOCK_DGRAM, sv);
	assert_int_equal(send_ns(sv[1], "a"), 1);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
	assert_int_equal(getopt_int(sv[1], SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);
}

/* ------------------------------------------- connections by a name */

struct sun {			/* struct sockaddr_un, abstract name "\0rst" */
	uint16_t family;
	char path[108];
};

static const struct sun abs_name = { AF_UNIX, { 0, 'r', 's', 't' } };

static int named(int type, bool listen)
{
	int fd = (int)SYS3(SYS_socket, AF_UNIX, type, 0);

	assert_true(fd >= 3);
	if (listen) {
		assert_int_equal(SYS3(SYS_bind, fd, &abs_name, 6), 0);
		assert_int_equal(SYS2(SYS_listen, fd, 4), 0);
	} else {
		assert_int_equal(SYS3(SYS_connect, fd, &abs_name, 6), 0);
	}
	return fd;
}

static void named_body(void)
{
	for (int type = SOCK_STREAM; type; type = type == SOCK_STREAM ? SOCK_SEQPACKET : 0) {
		bool seq = type == SOCK_SEQPACKET;
		int l = named(type, true), c = named(type, false), s;

		/* the listener goes with c unaccepted */
		assert_int_equal(SYS1(SYS_close, l), 0);
		assert_true(polled(c) & EPOLLERR);
		assert_int_equal(send_ns(c, "q"), seq ? -CUB_ECONNRESET : -CUB_EPIPE);
		assert_int_equal(rd(c, MSG_DONTWAIT), seq ? 0 : -CUB_ECONNRESET);
		assert_int_equal(rd(c, MSG_DONTWAIT), 0);
		assert_int_equal(SYS1(SYS_close, c), 0);

		/* accepted, then closed by the server with the client's bytes */
		l = named(type, true);
		c = named(type, false);
		s = (int)SYS3(SYS_accept, l, NULL, NULL);
		assert_true(s >= 3);
		assert_int_equal(send_ns(c, "abc"), 3);
		assert_int_equal(SYS1(SYS_close, s), 0);
		assert_int_equal(send_ns(c, "q"), seq ? -CUB_ECONNRESET : -CUB_EPIPE);
		assert_int_equal(getopt_int(c, SOL_SOCKET, SO_ERROR), seq ? 0 : CUB_ECONNRESET);
		assert_int_equal(rd(c, MSG_DONTWAIT), 0);
		assert_int_equal(SYS1(SYS_close, c), 0);
		assert_int_equal(SYS1(SYS_close, l), 0);
	}
}

static void test_named(void **state)
{
	(void)state;
	run(named_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_read),
		cmocka_unit_test(test_stream_write_first),
		cmocka_unit_test(test_stream_peek),
		cmocka_unit_test(test_stream_shutdown_then_close),
		cmocka_unit_test(test_clean_close),
		cmocka_unit_test(test_seqpacket_read),
		cmocka_unit_test(test_seqpacket_write_first),
		cmocka_unit_test(test_dgram_no_reset),
		cmocka_unit_test(test_named),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
