/*
 * test_shim_tcpfull.c - a TCP connection through the network card reset
 * by the remote while the shim socket's 64 KiB receive ring is full (the
 * program stopped reading). Linux 6.18 (measured over loopback with a C
 * program: a reader that never read, the sender's SO_LINGER 0 close)
 * shows the reset at once: poll gives POLLIN | POLLOUT | POLLERR |
 * POLLHUP | POLLRDHUP; reads return the buffered bytes, then
 * ECONNRESET once, then end of file. The shim's pump looked at the
 * connection only when the ring had room, so poll showed nothing until
 * the program read. Here: epoll and poll report the reset while the ring
 * is full, with all of Linux's bits; every byte that reached the card
 * (the ring's and those the card's stack held behind it) comes back
 * whole and in order, then ECONNRESET, then end of file; writes -EPIPE.
 * A write or SO_ERROR while those bytes are still coming takes the
 * error: the write fails at once, and the reads end at end of file
 * after every byte, as Linux reports a reset once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "netdev.h"
#include "socket.h"
#include "tcpnet.h"
#include "sys.h"
#include "sock.h"
#include "../net/net_test.h"
#include "card_wire.h"

#define SYS_poll 7
#define FIONREAD 0x541B
#define SO_ERROR 4
#define PORT_B 7400
#define RING (64 * 1024)	/* CUBI_SOCK_RING */
#define SENT (200 * 1024)	/* more than the ring and the stack hold */
#define DEAD (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDHUP)

static char pat[SENT], got[SENT];

#include "bytes.h"

static unsigned polled(int fd, int ms)
{
	struct { int fd; short events, revents; } p = { fd, (short)DEAD, 0 };

	assert_true(SYS3(SYS_poll, &p, 1, ms) >= 0);
	return (unsigned)(unsigned short)p.revents;
}

/* B's end of the connection sends SENT bytes, waiting for room until
 * the reset (cub_tcp_abort wakes it). */
static void *remote_sends(void *arg)
{
	return (void *)cub_tcp_send(arg, pat, SENT, UINT64_MAX);
}

/* Waits until the shim's stack holds bytes behind fd's full ring (its
 * connection is readable: the pump has no room to take them) and has
 * told c so (a zero window). c's window alone is not enough: it may
 * still be the zero window from before the pump emptied the stack into
 * the ring, the update on its way (seen under valgrind). No fixed time:
 * a slow run only waits longer. */
static void wait_stack_holds(int fd, struct cub_tcp *c)
{
	struct cub_tcp_info info = { .snd_wnd = 1 };
	bool held = false;

	for (int i = 0; i < 20000 && (!held || info.snd_wnd); i++) {
		unsigned long irq = cub_arch_irq_save();
		long err;
		struct cubi_sock *s = cubi_sock_at((uint64_t)fd, &err);
		struct cub_tcp *mine = s && s->tn ? s->tn->c : NULL;

		cub_arch_irq_restore(irq);
		assert_non_null(mine);
		held = cub_tcp_poll(mine) & CUB_TCP_POLLIN;
		assert_int_equal(cub_tcp_info(c, &info), 0);
		if (!held || info.snd_wnd)
			cub_sleep(MS);
	}
	assert_true(held);
	assert_int_equal(info.snd_wnd, 0);
}

/* Waits until fd's ring holds n bytes (FIONREAD). */
static void wait_inq(int fd, int n)
{
	int q = -1;

	for (int i = 0; i < 20000 && q != n; i++) {
		assert_int_equal(SYS3(SYS_ioctl, fd, FIONREAD, &q), 0);
		if (q != n)
			cub_sleep(MS);
	}
	assert_int_equal(q, n);
}

/* A blocking shim socket connected to B's listener l (*s), B's end (*c)
 * having sent until the socket's ring is full and the stack holds more,
 * then reset: B's sender *co (its result: what B queued) is still to be
 * joined. ep watches s for EPOLLRDHUP (and EPOLLERR, EPOLLHUP, always). */
static void filled_then_reset(struct cub_tcp *l, int *s, struct cub_coro **co, int ep)
{
	struct ev e = { EPOLLRDHUP, 7 };
	struct cub_tcp *c;

	*s = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	assert_true(*s >= 3);
	assert_int_equal(connect_to(*s, IP_B, PORT_B), 0);
	assert_int_equal(cub_tcp_accept(l, &c, 1000 * MS), 0);
	assert_int_equal(SYS4(SYS_epoll_ctl, ep, 1, *s, &e), 0);
	assert_int_equal(cub_coro_spawn(co, remote_sends, c, NULL), 0);
	wait_inq(*s, RING);
	wait_stack_holds(*s, c);
	assert_int_equal(polled(*s, 0), EPOLLIN | EPOLLOUT);
	assert_int_equal(cub_tcp_abort(c), 0);
}

/* Reads s to its end: more than the ring's bytes (the stack's came
 * too), at most sent, the pattern in order; the last read gives last
 * (0 or an error). */
static void read_all_then(int s, long sent, long last)
{
	long n, total = 0;

	while ((n = SYS3(SYS_read, s, got + total, sizeof(got) - (size_t)total)) > 0)
		total += n;
	assert_true(total > RING && total <= sent);
	assert_memory_equal(got, pat, (size_t)total);
	assert_int_equal(n, last);
	assert_int_equal(SYS3(SYS_read, s, got, 10), 0);
}

static void full_body(void)
{
	struct cub_tcp *l;
	struct cub_coro *co;
	struct ev out;
	void *sent;
	int s, ep;
	long n, total = 0;

	up();
	fill_pattern(pat, sizeof(pat));
	assert_int_equal(cub_tcp_listen(B, PORT_B, 4, &l), 0);
	ep = (int)SYS1(SYS_epoll_create1, 0);
	assert_true(ep >= 3);
	/* B resets: seen with the ring still full */
	filled_then_reset(l, &s, &co, ep);
	assert_int_equal(cub_coro_join(co, &sent), 0);
	assert_true((long)sent > RING);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 20000), 1);
	assert_int_equal(out.events & EPOLLERR, EPOLLERR);
	assert_int_equal(polled(s, 0), DEAD);
	/* every byte that reached the card, the ring's and the stack's, in
	 * order; then ECONNRESET once, end of file, EPIPE */
	while ((n = SYS3(SYS_read, s, got + total, sizeof(got) - (size_t)total)) > 0)
		total += n;
	assert_true(total > RING && total <= (long)sent);
	assert_memory_equal(got, pat, (size_t)total);
	assert_int_equal(n, -CUB_ECONNRESET);
	assert_int_equal(polled(s, 0), EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLRDHUP);
	assert_int_equal(SYS3(SYS_read, s, got, 10), 0);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, s), 0);
	/* a write while the tail waits takes the error, the next gets
	 * EPIPE; every byte still comes, then end of file */
	filled_then_reset(l, &s, &co, ep);
	assert_int_equal(cub_coro_join(co, &sent), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 20000), 1);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_ECONNRESET);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(polled(s, 0) & (EPOLLHUP | EPOLLRDHUP | EPOLLOUT),
			 EPOLLHUP | EPOLLRDHUP | EPOLLOUT);
	read_all_then(s, (long)sent, 0);
	assert_int_equal(getopt_int(s, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(SYS1(SYS_close, s), 0);
	/* SO_ERROR takes it the same way */
	filled_then_reset(l, &s, &co, ep);
	assert_int_equal(cub_coro_join(co, &sent), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 20000), 1);
	assert_int_equal(getopt_int(s, SOL_SOCKET, SO_ERROR), CUB_ECONNRESET);
	assert_int_equal(getopt_int(s, SOL_SOCKET, SO_ERROR), 0);
	read_all_then(s, (long)sent, 0);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, MSG_NOSIGNAL, NULL, 0), -CUB_EPIPE);
	assert_int_equal(SYS1(SYS_close, s), 0);
	/* closed unread after the reset showed: the tail goes with it */
	filled_then_reset(l, &s, &co, ep);
	assert_int_equal(cub_coro_join(co, NULL), 0);
	assert_int_equal(SYS4(SYS_epoll_wait, ep, &out, 1, 20000), 1);
	assert_int_equal(out.events & EPOLLERR, EPOLLERR);
	assert_int_equal(SYS1(SYS_close, s), 0);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	assert_int_equal(cub_tcp_close(l), 0);
	down();
}

static void test_reset_behind_full_ring(void **state)
{
	(void)state;
	run(full_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_behind_full_ring),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
