/*
 * test_shim_unixgc.c - AF_UNIX sockets that only SCM_RIGHTS in flight
 * keep open are collected (socket_gc.c), and nothing else is: a stream
 * socket in its own queue, a cycle of two, datagram and seqpacket
 * sockets, a listener in its unaccepted connection's queue; sockets a
 * live socket's queue reaches, directly or through a chain of queues,
 * and peeked copies, stay. A seeded random
 * run of passes, receives, dups and closes over a few socketpairs and
 * pipes must leave the heap as it found it once every descriptor is
 * closed (CUBRT_SEED repeats a run; the seed is printed).
 *
 * How a test sees a collection: a pipe's write end rides in the same
 * queue; when the socket goes, so does the pipe end, and the pipe's
 * reader sees end of file instead of -EAGAIN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include "sys.h"
#include "fresh.h"
#include "sock.h"
#include "sigpipe.h"

#define SOCK_SEQPACKET 5
#define SCM_RIGHTS 1
#define SYS_dup 32
#define MAX_PASS 4

struct cmsg {			/* struct cmsghdr */
	uint64_t len;
	int32_t level, type;
};

static void (*leak_body)(void);

/* sendmsg of one byte over s carrying n descriptors: its result. */
static long pass(int s, const int *fds, int n)
{
	_Alignas(8) uint8_t ctl[16 + 4 * MAX_PASS];
	struct cmsg h = { 16 + 4 * (uint64_t)n, SOL_SOCKET, SCM_RIGHTS };
	struct iov v = { "x", 1 };
	struct msghdr m = { NULL, 0, &v, 1, ctl, (h.len + 7) & ~7ull, 0 };

	memcpy(ctl, &h, sizeof(h));
	memcpy(ctl + 16, fds, 4 * (size_t)n);
	return SYS3(SYS_sendmsg, s, &m, MSG_DONTWAIT);
}

static void must_pass(int s, const int *fds, int n)
{
	assert_int_equal(pass(s, fds, n), 1);
}

/* recvmsg of up to one byte from s (flags): the descriptors it
 * installed into fds, or the negative result. */
static long take(int s, int *fds, unsigned flags)
{
	_Alignas(8) uint8_t ctl[16 + 4 * MAX_PASS];
	char byte;
	struct iov v = { &byte, 1 };
	struct msghdr m = { NULL, 0, &v, 1, ctl, sizeof(ctl), 0 };
	struct cmsg h;
	long rc = SYS3(SYS_recvmsg, s, &m, flags | MSG_DONTWAIT);

	if (rc < 0 || m.controllen == 0)
		return rc < 0 ? rc : 0;
	memcpy(&h, ctl, sizeof(h));
	memcpy(fds, ctl + 16, h.len - 16);
	return (long)(h.len - 16) / 4;
}

static void pair(int type, int sv[2])
{
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, type | NB, 0, sv), 0);
}

static void nb_pipe(int p[2])
{
	assert_int_equal(SYS2(SYS_pipe2, p, NB), 0);
}

/* The pipe whose reader is rd: its write end is gone everywhere. */
static bool gone(int rd)
{
	char c;
	long rc = SYS3(SYS_read, rd, &c, 1);

	assert_true(rc == 0 || rc == -CUB_EAGAIN);
	return rc == 0;
}

static void measured(void)
{
	struct cub_heap_stats before, after;

	cub_heap_stats(&before);
	leak_body();
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

/* Runs body on a fresh tree; the heap is as before once it is done. */
static void no_leak(void (*body)(void))
{
	leak_body = body;
	run_fresh(measured, false);
}

/* ------------------------------------------------------------ garbage */

/* A socket in its own receive queue goes with its last descriptor;
 * its peer stays usable meanwhile (a peer pointer is no reference). */
static void self_body(void)
{
	int sv[2], p[2];

	pair(SOCK_STREAM, sv);
	nb_pipe(p);
	must_pass(sv[0], (int[]){ sv[1], p[1] }, 2);	/* into sv[1]'s ring */
	closeall(1, &p[1]);
	assert_false(gone(p[0]));
	closeall(1, &sv[1]);
	assert_true(gone(p[0]));
	assert_int_equal(SYS4(SYS_sendto, sv[0], "y", 1, 0x4000 /* NOSIGNAL */), -CUB_EPIPE);
	closeall(1, &sv[0]);
	closeall(1, &p[0]);
}

static void test_gc_self(void **state)
{
	(void)state;
	no_leak(self_body);
}

/* Two sockets, each in the other's queue: alive while either has a
 * descriptor, collected once neither has. */
static void cycle_body(void)
{
	int a[2], b[2], p[2];

	pair(SOCK_STREAM, a);
	pair(SOCK_STREAM, b);
	nb_pipe(p);
	must_pass(a[0], &b[1], 1);			/* a[1] holds b[1] */
	must_pass(b[0], (int[]){ a[1], p[1] }, 2);	/* b[1] holds a[1] */
	closeall(1, &p[1]);
	closeall(2, (int[]){ a[0], b[0] });
	closeall(1, &a[1]);
	assert_false(gone(p[0]));			/* b[1] reaches a[1] */
	closeall(1, &b[1]);
	assert_true(gone(p[0]));
	closeall(1, &p[0]);
}

static void test_gc_cycle(void **state)
{
	(void)state;
	no_leak(cycle_body);
}

/* Rights on messages: a datagram and a seqpacket socket in their own
 * queues. */
static void message_body(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_SEQPACKET };

	for (int i = 0; i < 2; i++) {
		int sv[2], p[2];

		pair(types[i], sv);
		nb_pipe(p);
		must_pass(sv[0], (int[]){ sv[1], p[1] }, 2);
		closeall(1, &p[1]);
		closeall(1, &sv[1]);
		assert_true(gone(p[0]));
		closeall(2, (int[]){ sv[0], p[0] });
	}
}

static void test_gc_messages(void **state)
{
	(void)state;
	no_leak(message_body);
}

/* A listener passed over a connection it has not accepted yet: only
 * accepting could reach the rights, so both go. */
static void listener_body(void)
{
	struct { uint16_t family; char path[4]; } at = { AF_UNIX, "\0gc" };
	int l = (int)SYS3(SYS_socket, AF_UNIX, SOCK_STREAM | NB, 0);
	int c = (int)SYS3(SYS_socket, AF_UNIX, SOCK_STREAM | NB, 0), p[2];

	assert_int_equal(SYS3(SYS_bind, l, &at, 5), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	assert_int_equal(SYS3(SYS_connect, c, &at, 5), 0);
	nb_pipe(p);
	must_pass(c, (int[]){ l, p[1] }, 2);
	closeall(3, (int[]){ p[1], c, l });
	assert_true(gone(p[0]));
	closeall(1, &p[0]);
}

static void test_gc_listener(void **state)
{
	(void)state;
	no_leak(listener_body);
}

/* ------------------------------------------------------------ not garbage */

/* A socket in a live socket's queue stays and works once received; a
 * peeked copy keeps a socket in its own queue alive. */
static void reachable_body(void)
{
	int a[2], b[2], p[2], fds[MAX_PASS];
	char c;

	pair(SOCK_STREAM, a);
	pair(SOCK_STREAM, b);
	nb_pipe(p);
	must_pass(b[0], (int[]){ a[1], p[1] }, 2);	/* b[1] holds a[1] */
	closeall(2, (int[]){ a[1], p[1] });
	SYS1(SYS_close, (int)SYS1(SYS_dup, b[0]));	/* a close: collects */
	assert_false(gone(p[0]));
	assert_int_equal(take(b[1], fds, 0), 2);
	assert_int_equal(SYS3(SYS_write, fds[0], "z", 1), 1);	/* a[1] works */
	assert_int_equal(SYS3(SYS_read, a[0], &c, 1), 1);
	closeall(2, fds);
	assert_true(gone(p[0]));
	closeall(1, &p[0]);

	must_pass(b[0], (int[]){ b[1] }, 1);		/* b[1] in its own queue */
	assert_int_equal(take(b[1], fds, MSG_PEEK), 1);	/* a copy */
	closeall(1, &b[1]);
	assert_int_equal(SYS3(SYS_write, b[0], "w", 1), 1);	/* b[1] stays */
	closeall(1, fds);				/* now garbage */
	assert_int_equal(SYS4(SYS_sendto, b[0], "w", 1, 0x4000), -CUB_EPIPE);
	closeall(2, (int[]){ a[0], b[0] });
}

static void test_gc_reachable(void **state)
{
	(void)state;
	no_leak(reachable_body);
}

/* Reached through a chain: a live socket holds a, which holds b; both
 * stay, and b works once fetched through a. */
static void chain_body(void)
{
	int x[2], a[2], b[2], p[2], fa[MAX_PASS], fb[MAX_PASS];
	char c;

	pair(SOCK_STREAM, x);
	pair(SOCK_STREAM, a);
	pair(SOCK_DGRAM, b);
	nb_pipe(p);
	must_pass(a[0], (int[]){ b[1], p[1] }, 2);	/* a[1] holds b[1] */
	must_pass(x[0], &a[1], 1);			/* x[1] holds a[1] */
	closeall(3, (int[]){ b[1], p[1], a[1] });
	SYS1(SYS_close, (int)SYS1(SYS_dup, x[0]));	/* a close: collects */
	assert_false(gone(p[0]));
	assert_int_equal(take(x[1], fa, 0), 1);
	assert_int_equal(take(fa[0], fb, 0), 2);
	assert_int_equal(SYS3(SYS_write, fb[0], "z", 1), 1);
	assert_int_equal(SYS3(SYS_read, b[0], &c, 1), 1);
	closeall(3, (int[]){ fa[0], fb[0], fb[1] });
	assert_true(gone(p[0]));
	closeall(5, (int[]){ x[0], x[1], a[0], b[0], p[0] });
}

static void test_gc_chain(void **state)
{
	(void)state;
	no_leak(chain_body);
}

/* ------------------------------------------------------------ random */

#define SLOTS 48
#define OPS 3000

static int held[SLOTS], nheld;
static uint64_t rng;

static unsigned pick(unsigned n)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rng >> 33) % n;
}

static void hold(int fd)
{
	assert_true(fd >= 0);
	if (nheld < SLOTS)
		held[nheld++] = fd;
	else
		closeall(1, &fd);
}

static void drop(unsigned i)
{
	closeall(1, &held[i]);
	held[i] = held[--nheld];
}

/* One random step: a new pair or pipe, a pass, a receive, a dup or a
 * close. Sends and receives may fail (a full or shut queue, a pipe is
 * no socket); nothing else may. */
static void step(void)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int two[2], fds[MAX_PASS], n = 1 + (int)pick(3);
	unsigned op = pick(10), via;
	long rc;

	if (nheld < 4 || op == 0) {
		if (pick(4))
			pair(types[pick(3)], two);
		else
			nb_pipe(two);
		hold(two[0]);
		hold(two[1]);
		return;
	}
	via = pick((unsigned)nheld);
	if (op <= 3) {
		for (int i = 0; i < n; i++)
			fds[i] = held[pick((unsigned)nheld)];
		rc = pass(held[via], fds, n);
		assert_true(rc == 1 || rc == -CUB_EAGAIN || rc == -CUB_EPIPE ||
			    rc == -CUB_ENOTSOCK || rc == -CUB_ENOTCONN ||
			    rc == -CUB_ECONNREFUSED || rc == -CUB_ECONNRESET);
	} else if (op <= 6) {
		rc = take(held[via], fds, pick(4) ? 0 : MSG_PEEK);
		assert_true(rc >= 0 || rc == -CUB_EAGAIN || rc == -CUB_ENOTSOCK ||
			    rc == -CUB_ENOTCONN || rc == -CUB_EINVAL ||
			    rc == -CUB_ECONNRESET);	/* closed with unread data */
		for (long i = 0; i < rc; i++)
			hold(fds[i]);
	} else if (op == 7) {
		hold((int)SYS1(SYS_dup, held[via]));
	} else {
		drop(via);
	}
}

static void random_body(void)
{
	nheld = 0;
	for (int i = 0; i < OPS; i++)
		step();
	while (nheld)
		drop(0);
}

static void test_gc_random(void **state)
{
	const char *env = getenv("CUBRT_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);

	(void)state;
	printf("# test_gc_random seed %llu (CUBRT_SEED)\n", (unsigned long long)seed);
	for (int run = 0; run < 8; run++) {
		rng = seed + (uint64_t)run;
		no_leak(random_body);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gc_self),
		cmocka_unit_test(test_gc_cycle),
		cmocka_unit_test(test_gc_messages),
		cmocka_unit_test(test_gc_listener),
		cmocka_unit_test(test_gc_reachable),
		cmocka_unit_test(test_gc_chain),
		cmocka_unit_test(test_gc_random),
	};

	cubi_mem_init();	/* sockets and nodes live on the heap */
	set_sigpipe(1);		/* SIG_IGN */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
