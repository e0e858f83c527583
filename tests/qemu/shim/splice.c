/*
 * splice.c - splice, tee and the pipe size fcntls seen by an unmodified
 * musl program: a thread sends 200,000 bytes over loopback TCP, the
 * main thread splices them socket -> pipe -> file (blocking, as a copy
 * loop would) and reads the file back; tee duplicates a pipe's bytes
 * into a second one without taking them; F_GETPIPE_SZ / F_SETPIPE_SZ
 * (a grown pipe holds that many bytes; -EBUSY, -EINVAL); the errors
 * (EINVAL with no pipe, ESPIPE for a pipe's offset, EBADF, EAGAIN with
 * SPLICE_F_NONBLOCK). One line per check, a summary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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

int main(void)
{
	tcp_to_file();
	tee_and_sizes();
	printf("splice: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
