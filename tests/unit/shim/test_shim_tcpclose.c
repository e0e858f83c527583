/*
 * test_shim_tcpclose.c - a loopback TCP send after the peer closed, as
 * on Linux: after a clean close (a FIN: nothing unread, no SO_LINGER 0)
 * the first send still succeeds, and the RST it draws fails the next
 * ones with -EPIPE; after a close with unread data or SO_LINGER 0 (a
 * RST) the first send fails at once with the reset (-ECONNRESET, then
 * -EPIPE, as test_shim_tcprst), and after our own SHUT_WR and on AF_UNIX
 * streams with -EPIPE at once. Go's net/http TestTransportPersistConnReadLoopEOF and
 * net/smtp TestTLSClient (a TLS close_notify written after the server
 * closed) failed on the -EPIPE that came one send too early.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"
#include "sigpipe.h"

#define SO_LINGER 13
#define MSG_NOSIGNAL 0x4000

static char got[16];

/* A connected loopback pair: *c connected to *a, both non-blocking. */
static void pair(int *c, int *a)
{
	int l = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM | NB, 0);

	assert_true(l >= 3);
	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	*c = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM | NB, 0);
	assert_int_equal(connect_to(*c, LOOP, port_of(l)), 0);
	*a = (int)SYS4(SYS_accept4, l, NULL, NULL, NB);
	assert_true(*a >= 3);
	assert_int_equal(SYS1(SYS_close, l), 0);
}

static void test_clean_close(void **state)
{
	int c, a;

	(void)state;
	pair(&c, &a);
	assert_int_equal(SYS3(SYS_write, a, "bye", 3), 3);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS3(SYS_read, c, got, sizeof(got)), 3);
	assert_int_equal(SYS3(SYS_read, c, got, sizeof(got)), 0);	/* the FIN */
	assert_int_equal(SYS3(SYS_write, c, "", 0), 0);		/* spends nothing */
	assert_int_equal(SYS3(SYS_write, c, "late", 4), 4);		/* goes out */
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_EPIPE);	/* the RST's */
	assert_int_equal(SYS6(SYS_sendto, c, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS3(SYS_read, c, got, sizeof(got)), 0);
	assert_int_equal(SYS1(SYS_close, c), 0);

	pair(&c, &a);		/* before the end of file is read, too */
	assert_int_equal(SYS1(SYS_close, c), 0);
	assert_int_equal(SYS6(SYS_sendto, a, "late", 4, MSG_NOSIGNAL, NULL, 0), 4);
	assert_int_equal(SYS3(SYS_write, a, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, a), 0);
}

static void test_reset_close(void **state)
{
	int c, a, lg[2] = { 1, 0 };

	(void)state;
	pair(&c, &a);		/* unread data: Linux sends a RST */
	assert_int_equal(SYS3(SYS_write, c, "unread", 6), 6);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_ECONNRESET);	/* the reset, once */
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, c), 0);

	pair(&c, &a);		/* SO_LINGER 0: a RST too */
	assert_int_equal(SYS6(SYS_setsockopt, a, SOL_SOCKET, SO_LINGER, lg, 8, 0), 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_ECONNRESET);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, c), 0);

	pair(&c, &a);		/* our own SHUT_WR first */
	assert_int_equal(SYS2(SYS_shutdown, c, 1), 0);
	assert_int_equal(SYS1(SYS_close, a), 0);
	assert_int_equal(SYS3(SYS_write, c, "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, c), 0);
}

static void test_half_close_and_unix(void **state)
{
	int c, a, sv[2];

	(void)state;
	pair(&c, &a);		/* the peer's SHUT_WR alone: sends go on */
	assert_int_equal(SYS2(SYS_shutdown, a, 1), 0);
	assert_int_equal(SYS3(SYS_read, c, got, sizeof(got)), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(SYS3(SYS_write, c, "ab", 2), 2);
	assert_int_equal(SYS3(SYS_read, a, got, sizeof(got)), 6);
	closeall(1, &c);
	closeall(1, &a);

	/* AF_UNIX: Linux fails the first send after the peer's close. */
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);
	assert_int_equal(SYS3(SYS_write, sv[0], "x", 1), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, sv[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_close),
		cmocka_unit_test(test_reset_close),
		cmocka_unit_test(test_half_close_and_unix),
	};

	cubi_mem_init();	/* sockets live on the heap */
	set_sigpipe(1);		/* SIG_IGN: EPIPE without SIGPIPE's action */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
