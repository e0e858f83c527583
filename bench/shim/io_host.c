/*
 * io_host.c - the shim's descriptors on the host dispatcher against
 * Linux itself:
 *
 *   pipe        two coroutines bouncing one byte through two pipes
 *               (blocking reads and writes through the dispatcher)
 *   linux-pipe  two Linux threads doing the same, pinned to one CPU
 *   tcp         the same over a loopback TCP connection (64-byte
 *               messages; accept and connect through the dispatcher)
 *   linux-tcp   two Linux threads over a real loopback connection
 *   file        pwrite then pread of 4 KiB at one offset of a file in
 *               the shim's in-memory file system
 *   linux-file  the same on a file in /dev/shm (Linux's tmpfs)
 *
 * Prints "result: <ns> ns/op" (per round trip, or per write+read pair)
 * for scripts/bench.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/shim.h>

#include "host_util.h"

#define TRIPS 200000l
#define FILE_OPS 500000l
#define MSG 64

typedef long (*sys_fn)(long nr, long a, long b, long c, long d);

static long shim(long nr, long a, long b, long c, long d)
{
	return cub_shim_call(nr, a, b, c, d, 0, 0);
}

static long host(long nr, long a, long b, long c, long d)
{
	return syscall(nr, a, b, c, d);
}

/* One side of a ping-pong: `first` writes first. fds: what it reads from
 * and what it writes to (the same descriptor for a socket). */
struct side {
	sys_fn sys;
	int in, out;
	bool first;
};

static void *bounce(void *arg)
{
	const struct side *s = arg;
	char msg[MSG] = { 0 };

	for (long i = 0; i < TRIPS; i++) {
		if (s->first && s->sys(SYS_write, s->out, (long)msg, MSG, 0) != MSG)
			break;
		for (long got = 0; got < MSG;) {
			long n = s->sys(SYS_read, s->in, (long)(msg + got), MSG - got, 0);

			if (n <= 0)
				return NULL;
			got += n;
		}
		if (!s->first && s->sys(SYS_write, s->out, (long)msg, MSG, 0) != MSG)
			break;
	}
	return NULL;
}

/* A connected loopback pair through sys: fds[0] the client, fds[1] the
 * accepted server side. */
static int tcp_pair(sys_fn sys, int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = (int)sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0), one = 1;

	if (l < 0 || sys(SYS_bind, l, (long)&a, sizeof(a), 0) ||
	    sys(SYS_listen, l, 1, 0, 0) || sys(SYS_getsockname, l, (long)&a, (long)&len, 0))
		return -1;
	fds[0] = (int)sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0);
	if (sys(SYS_connect, fds[0], (long)&a, sizeof(a), 0))
		return -1;
	fds[1] = (int)sys(SYS_accept, l, 0, 0, 0);
	if (sys == host)	/* Nagle would hold the small messages back */
		for (int i = 0; i < 2; i++)
			setsockopt(fds[i], IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	sys(SYS_close, l, 0, 0, 0);
	return fds[1] < 0 ? -1 : 0;
}

static const char *mode;

/* Both sides: coroutines for the shim, threads pinned to one CPU for Linux. */
static void *pingpong(void *unused)
{
	bool linux_peer = !strncmp(mode, "linux-", 6);
	sys_fn sys = linux_peer ? host : shim;
	int p[2], q[2], t[2];
	struct side a, b;

	(void)unused;
	if (strstr(mode, "tcp")) {
		if (tcp_pair(sys, t))
			return (void *)1;
		a = (struct side){ sys, t[0], t[0], true };
		b = (struct side){ sys, t[1], t[1], false };
	} else {
		if (sys(SYS_pipe, (long)p, 0, 0, 0) || sys(SYS_pipe, (long)q, 0, 0, 0))
			return (void *)1;
		a = (struct side){ sys, q[0], p[1], true };
		b = (struct side){ sys, p[0], q[1], false };
	}
	if (linux_peer) {
		pthread_t ta, tb;

		pthread_create(&ta, NULL, bounce, &a);
		pthread_create(&tb, NULL, bounce, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
	} else {
		struct cub_coro *ca, *cb;

		cub_coro_spawn(&ca, bounce, &a, NULL);
		cub_coro_spawn(&cb, bounce, &b, NULL);
		cub_coro_join(ca, NULL);
		cub_coro_join(cb, NULL);
	}
	return NULL;
}

/* pwrite + pread of 4 KiB at offset 4096, FILE_OPS times. */
static void *file_io(void *unused)
{
	bool linux_peer = !strcmp(mode, "linux-file");
	sys_fn sys = linux_peer ? host : shim;
	const char *path = linux_peer ? "/dev/shm/cubrt-io-bench" : "/tmp/io-bench";
	static char buf[4096];
	long fd = sys(SYS_open, (long)path, O_CREAT | O_RDWR | O_TRUNC, 0600, 0);

	(void)unused;
	if (fd < 0)
		return (void *)1;
	for (long i = 0; i < FILE_OPS; i++) {
		buf[0] = (char)i;
		if (sys(SYS_pwrite64, fd, (long)buf, 4096, 4096) < 0)
			return (void *)1;
		if (sys(SYS_pread64, fd, (long)buf, 4096, 4096) < 0)
			return (void *)1;
	}
	sys(SYS_close, fd, 0, 0, 0);
	if (linux_peer)
		unlink(path);
	return NULL;
}

int main(int argc, char **argv)
{
	bool file = argc > 1 && strstr(argv[1], "file");
	void *(*body)(void *) = file ? file_io : pingpong;
	void *failed = NULL;
	double t0;

	mode = argc > 1 ? argv[1] : "";
	if (strcmp(mode, "pipe") && strcmp(mode, "linux-pipe") && strcmp(mode, "tcp") &&
	    strcmp(mode, "linux-tcp") && strcmp(mode, "file") && strcmp(mode, "linux-file")) {
		fprintf(stderr, "usage: %s pipe|linux-pipe|tcp|linux-tcp|file|linux-file\n",
			argv[0]);
		return 2;
	}
	cubi_mem_init();
	pin_to_cpu0();
	t0 = now();
	if (!strncmp(mode, "linux-", 6))
		failed = body(NULL);
	else
		cub_sched_run(body, NULL, &failed);
	if (failed) {
		fprintf(stderr, "%s: setting up or running %s failed\n", argv[0], mode);
		return 1;
	}
	printf("result: %.2f ns/op\n", (now() - t0) / (file ? FILE_OPS : TRIPS));
	return 0;
}
