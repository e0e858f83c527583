/*
 * splice.c - splice, tee and the pipe size fcntls seen by an unmodified
 * musl program: a thread sends 200,000 bytes over loopback TCP, the
 * main thread splices them socket -> pipe -> file (blocking, as a copy
 * loop would) and reads the file back; tee duplicates a pipe's bytes
 * into a second one without taking them; F_GETPIPE_SZ / F_SETPIPE_SZ
 * (a grown pipe holds that many bytes; -EBUSY, -EINVAL); the errors
 * (EINVAL with no pipe, ESPIPE for a pipe's offset, EBADF, EAGAIN with
 * SPLICE_F_NONBLOCK); message sockets (loopback UDP, AF_UNIX SOCK_DGRAM
 * and SOCK_SEQPACKET) into a pipe, one message a call, cut to len; a
 * splice blocked on an empty pipe, interrupted by a signal: EINTR, or
 * with SA_RESTART restarted and completed. One line per check, a
 * summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define TOTAL 200000

static unsigned char pat[TOTAL], back[TOTAL];
static int port;

static void *sender(void *arg)
{
	struct sockaddr_in a = loopback((unsigned short)port);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	size_t done = 0;

	(void)arg;
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0)
		return (void *)1;
	while (done < TOTAL) {
		ssize_t n = write(s, pat + done, TOTAL - done);

		if (n <= 0)
			return (void *)2;
		done += (size_t)n;
	}
	close(s);
	return NULL;
}

/* socket -> pipe -> file until end of file: the bytes moved. */
static long socket_to_file(int s, int f)
{
	int p[2];
	long total = 0;

	if (pipe(p) != 0)
		return -1;
	for (;;) {
		ssize_t in = splice(s, NULL, p[1], NULL, 65536, SPLICE_F_MOVE), out;

		if (in <= 0) {
			total = in < 0 ? -1 : total;
			break;
		}
		for (ssize_t left = in; left > 0; left -= out) {
			out = splice(p[0], NULL, f, NULL, (size_t)left, SPLICE_F_MOVE);
			if (out <= 0)
				return -2;
		}
		total += in;
	}
	close(p[0]);
	close(p[1]);
	return total;
}

static void tcp_to_file(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, f;
	pthread_t t;
	void *res = (void *)9;
	long moved;

	for (size_t i = 0; i < TOTAL; i++)
		pat[i] = (unsigned char)(i * 7 + i / 251);
	bind(l, (struct sockaddr *)&a, sizeof(a));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	pthread_create(&t, NULL, sender, NULL);
	c = accept(l, NULL, NULL);
	f = open("/tmp/spliced", O_CREAT | O_RDWR | O_TRUNC, 0600);
	moved = socket_to_file(c, f);
	pthread_join(t, &res);
	check("sender done", res == NULL);
	printf("spliced %ld bytes socket -> pipe -> file\n", moved);
	check("all bytes through the pipe", moved == TOTAL);
	check("file size", lseek(f, 0, SEEK_END) == TOTAL);
	check("read back", pread(f, back, TOTAL, 0) == TOTAL && !memcmp(back, pat, TOTAL));
	/* file -> pipe at an offset: the offset advances, the position stays */
	int p[2];
	loff_t off = 1000;
	pipe(p);
	check("file to pipe at an offset", splice(f, &off, p[1], NULL, 500, 0) == 500 &&
	      off == 1500 && lseek(f, 0, SEEK_CUR) == TOTAL);
	check("its bytes", read(p[0], back, 600) == 500 && !memcmp(back, pat + 1000, 500));
	close(p[0]);
	close(p[1]);
	close(f);
	close(c);
	close(l);
}

static void tee_and_sizes(void)
{
	int p[2], q[2], s[2];
	loff_t off = 0;

	pipe(p);
	pipe(q);
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	write(p[1], "hello, tee", 10);
	check("tee copies", tee(p[0], q[1], 100, 0) == 10);
	check("the copy", read(q[0], back, 100) == 10 && !memcmp(back, "hello, tee", 10));
	check("the source keeps them", read(p[0], back, 100) == 10 &&
	      !memcmp(back, "hello, tee", 10));
	check("tee of one pipe: EINVAL", tee(p[0], p[1], 10, 0) == -1 && errno == EINVAL);
	check("tee of a socket: EINVAL", tee(s[0], q[1], 10, 0) == -1 && errno == EINVAL);
	check("empty, SPLICE_F_NONBLOCK: EAGAIN",
	      splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK) == -1 && errno == EAGAIN);
	check("no pipe: EINVAL", splice(s[0], NULL, s[1], NULL, 10, 0) == -1 && errno == EINVAL);
	check("a pipe's offset: ESPIPE",
	      splice(p[0], &off, q[1], NULL, 10, 0) == -1 && errno == ESPIPE);
	check("a bad descriptor: EBADF",
	      splice(77, NULL, q[1], NULL, 10, 0) == -1 && errno == EBADF);
	check("F_GETPIPE_SZ", fcntl(p[0], F_GETPIPE_SZ) == 16384);
	check("F_SETPIPE_SZ rounds up", fcntl(p[1], F_SETPIPE_SZ, 100000) == 131072);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	size_t held = 0;
	ssize_t n;
	while ((n = write(p[1], pat, 50000)) > 0)
		held += (size_t)n;
	check("a grown pipe holds its size", held == 131072 && errno == EAGAIN);
	check("smaller than its bytes: EBUSY",
	      fcntl(p[1], F_SETPIPE_SZ, 4096) == -1 && errno == EBUSY);
	check("past 1 MiB: EINVAL",
	      fcntl(p[1], F_SETPIPE_SZ, (1 << 20) + 1) == -1 && errno == EINVAL);
	check("not a pipe: EBADF", fcntl(s[0], F_GETPIPE_SZ) == -1 && errno == EBADF);
	for (int fd = 0; fd < 2; fd++) {
		close(p[fd]);
		close(q[fd]);
		close(s[fd]);
	}
}

/* tx sends two messages to rx (to: UDP's address, or NULL), which
 * splice takes one a call, the first cut to 5 bytes. */
static void messages(const char *kind, int rx, int tx, const struct sockaddr_in *to)
{
	socklen_t tl = to ? sizeof(*to) : 0;
	char what[80];
	int p[2];

	pipe(p);
	sendto(tx, "first message", 13, 0, (const struct sockaddr *)to, tl);
	sendto(tx, "second", 6, 0, (const struct sockaddr *)to, tl);
	snprintf(what, sizeof(what), "%s: one message a call, cut to len", kind);
	check(what, splice(rx, NULL, p[1], NULL, 5, 0) == 5 &&
	      splice(rx, NULL, p[1], NULL, 100, 0) == 6 &&
	      read(p[0], back, 100) == 11 && !memcmp(back, "firstsecond", 11));
	fcntl(rx, F_SETFL, O_NONBLOCK);
	snprintf(what, sizeof(what), "%s: empty, non-blocking: EAGAIN", kind);
	check(what, splice(rx, NULL, p[1], NULL, 100, 0) == -1 && errno == EAGAIN);
	close(p[0]);
	close(p[1]);
	close(rx);
	close(tx);
}

static void datagrams(void)
{
	struct sockaddr_in a = loopback(0);
	socklen_t len = sizeof(a);
	int rx = socket(AF_INET, SOCK_DGRAM, 0), s[2];

	bind(rx, (struct sockaddr *)&a, sizeof(a));
	getsockname(rx, (struct sockaddr *)&a, &len);
	messages("UDP", rx, socket(AF_INET, SOCK_DGRAM, 0), &a);
	socketpair(AF_UNIX, SOCK_DGRAM, 0, s);
	messages("AF_UNIX SOCK_DGRAM", s[0], s[1], NULL);
	socketpair(AF_UNIX, SOCK_SEQPACKET, 0, s);
	messages("AF_UNIX SOCK_SEQPACKET", s[0], s[1], NULL);
}

static int rp[2], rq[2], handled;
static pthread_t main_thread;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void nap(long ms)
{
	struct timespec t = { 0, ms * 1000000 };

	nanosleep(&t, NULL);
}

/* Signals the main thread while its splice waits, then writes. */
static void *interrupter(void *arg)
{
	(void)arg;
	nap(30);
	pthread_kill(main_thread, SIGUSR1);
	nap(30);
	write(rp[1], "late", 4);
	return NULL;
}

static void restarts(void)
{
	struct sigaction sa;
	pthread_t t;

	pipe(rp);
	pipe(rq);
	main_thread = pthread_self();
	for (int restart = 0; restart < 2; restart++) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_usr1;
		sa.sa_flags = restart ? SA_RESTART : 0;
		sigaction(SIGUSR1, &sa, NULL);
		handled = 0;
		pthread_create(&t, NULL, interrupter, NULL);
		ssize_t n = splice(rp[0], NULL, rq[1], NULL, 100, 0);
		int e = errno;
		pthread_join(t, NULL);
		if (restart)
			check("SA_RESTART: the splice restarts", n == 4 && handled == 1);
		else
			check("no SA_RESTART: EINTR", n == -1 && e == EINTR && handled == 1);
		read(restart ? rq[0] : rp[0], back, 100);
	}
	for (int fd = 0; fd < 2; fd++) {
		close(rp[fd]);
		close(rq[fd]);
	}
}

int main(void)
{
	tcp_to_file();
	tee_and_sizes();
	datagrams();
	restarts();
	printf("splice: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
