/*
 * nettcp.c - TCP sockets over the network card in an unmodified musl
 * program, booted on QEMU's user network (this machine 10.0.2.15/24,
 * the host 10.0.2.2) by nettcp_host.py, which serves on 127.0.0.1:P
 * (10.0.2.2:P here; commands in its header), knows a closed port C and
 * forwards a host port to our 8080. argv: P C.
 *
 * Checks: loopback TCP beside the card; a blocking connect and 1 MiB
 * echoed both ways through poll on a non-blocking socket, byte for byte;
 * a non-blocking connect (EINPROGRESS, EALREADY, POLLOUT, SO_ERROR 0,
 * the names) then writev and shutdown(SHUT_WR): the server counts what
 * came and answers, then end of file; a write after SHUT_WR: EPIPE;
 * MSG_PEEK, FIONREAD, SIOCOUTQ, MSG_DONTWAIT; SO_RCVTIMEO on a silent
 * server; epoll (EPOLLOUT of a connect, EPOLLIN and EPOLLRDHUP);
 * ECONNREFUSED blocking and non-blocking (POLLERR, SO_ERROR); a reset by
 * the server: ECONNRESET, then end of file and EPIPE; a listener on
 * 0.0.0.0:8080 taking a connection from the host (accept4, the peer's
 * name) and echoing 256 KiB; a connection left open at exit. One line
 * per check, then a summary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"

#define MIB (1024 * 1024)
#define SIOCOUTQ 0x5411

static unsigned short sport, closed;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 31 + (i >> 11));
}

/* A blocking connect to the host server with command cmd sent: the fd. */
static int dial(char cmd)
{
	struct sockaddr_in a = sin_of("10.0.2.2", sport);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
		printf("dial %c: %s\n", cmd, strerror(errno));
		return -1;
	}
	if (send(s, &cmd, 1, 0) != 1)
		return -1;
	return s;
}

static void test_loopback(void)
{
	struct sockaddr_in a = sin_of("127.0.0.1", 0);
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	char buf[8] = "";

	bind(l, (struct sockaddr *)&a, sizeof(a));
	listen(l, 4);
	getsockname(l, (struct sockaddr *)&a, &len);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	s = accept(l, NULL, NULL);
	write(c, "loop", 4);
	check("loopback: a connection beside the card",
	      s >= 0 && read(s, buf, sizeof(buf)) == 4 && !memcmp(buf, "loop", 4));
	close(s);
	close(c);
	close(l);
}

/* 1 MiB out and back through the X server, interleaved with poll. */
static void test_echo(void)
{
	int s = dial('X');
	unsigned char *in = malloc(MIB), buf[32768];
	size_t sent = 0, got = 0;
	int bad = 0, polls = 0;
	double t0 = now();

	check("blocking connect to 10.0.2.2", s >= 0);
	if (s < 0)
		return;
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (got < MIB && now() - t0 < 30) {
		struct pollfd p = { s, POLLIN | (sent < MIB ? POLLOUT : 0), 0 };

		polls++;
		if (poll(&p, 1, 5000) <= 0)
			break;
		if ((p.revents & POLLOUT) && sent < MIB) {
			size_t k = MIB - sent < sizeof(buf) ? MIB - sent : sizeof(buf);

			for (size_t i = 0; i < k; i++)
				buf[i] = pat(sent + i);
			ssize_t n = send(s, buf, k, 0);
			if (n > 0)
				sent += (size_t)n;
			if (sent == MIB)
				shutdown(s, SHUT_WR);
		}
		if (p.revents & POLLIN) {
			ssize_t n = recv(s, in + got, MIB - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	for (size_t i = 0; i < got; i++)
		bad += in[i] != pat(i);
	printf("echo: %zu sent, %zu back, %d wrong, %d polls, %.1f s\n", sent, got, bad,
	       polls, now() - t0);
	check("1 MiB echoed both ways through poll, intact", got == MIB && !bad);
	{
		struct pollfd p = { s, POLLIN, 0 };
		check("end of file after the echo (POLLIN|POLLRDHUP, read 0)",
		      poll(&p, 1, 5000) == 1 && (p.revents & POLLIN) && recv(s, buf, 1, 0) == 0);
	}
	close(s);
	free(in);
}

static void test_nonblock_shutdown(void)
{
	struct sockaddr_in a = sin_of("10.0.2.2", sport), me, peer;
	socklen_t l1 = sizeof(me), l2 = sizeof(peer);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = -1, r;
	socklen_t el = sizeof(err);
	struct pollfd p = { s, POLLOUT, 0 };
	char buf[64], want[64];
	static unsigned char big[100000];
	struct iovec iov[2] = { { "S", 1 }, { big, sizeof(big) } };
	unsigned sum = 0;

	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	check("non-blocking connect: EINPROGRESS", r < 0 && errno == EINPROGRESS);
	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	check("connect again while connecting: EALREADY", r < 0 && errno == EALREADY);
	check("POLLOUT when connected", poll(&p, 1, 10000) == 1 && (p.revents & POLLOUT));
	check("SO_ERROR 0", getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0);
	getsockname(s, (struct sockaddr *)&me, &l1);
	getpeername(s, (struct sockaddr *)&peer, &l2);
	check("getsockname 10.0.2.15:port, getpeername 10.0.2.2:P",
	      me.sin_addr.s_addr == htonl(0x0a00020f) && me.sin_port &&
	      peer.sin_addr.s_addr == htonl(0x0a000202) && peer.sin_port == htons(sport));
	fcntl(s, F_SETFL, 0);
	for (size_t i = 0; i < sizeof(big); i++)
		sum += big[i] = pat(i * 7);
	check("writev of 100001 bytes", writev(s, iov, 2) == 1 + (ssize_t)sizeof(big));
	check("shutdown(SHUT_WR)", shutdown(s, SHUT_WR) == 0);
	r = (int)send(s, "x", 1, MSG_NOSIGNAL);
	check("send after SHUT_WR: EPIPE", r < 0 && errno == EPIPE);
	snprintf(want, sizeof(want), "got %zu %u", sizeof(big), sum);
	memset(buf, 0, sizeof(buf));
	r = 0;
	for (ssize_t n; (n = read(s, buf + r, sizeof(buf) - 1 - r)) > 0;)
		r += (int)n;
	check("the server saw our bytes and FIN, answered, then end of file",
	      !strcmp(buf, want));
	close(s);
}

static void test_peek_timeo(void)
{
	int s = dial('X'), n = -1;
	char buf[16] = "";
	struct timeval tv = { 0, 300000 };
	double t0;

	if (s < 0)
		return;
	send(s, "peekaboo", 8, 0);
	{
		struct pollfd p = { s, POLLIN, 0 };
		poll(&p, 1, 5000);
	}
	ioctl(s, FIONREAD, &n);
	check("FIONREAD after the echo came", n == 8);
	check("MSG_PEEK leaves the bytes",
	      recv(s, buf, 4, MSG_PEEK) == 4 && recv(s, buf, 8, 0) == 8 &&
	      !memcmp(buf, "peekaboo", 8));
	n = -1;
	ioctl(s, SIOCOUTQ, &n);
	check("SIOCOUTQ 0 once sent", n == 0);
	n = (int)recv(s, buf, 8, MSG_DONTWAIT);
	check("MSG_DONTWAIT with nothing there: EAGAIN", n < 0 && errno == EAGAIN);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now();
	n = (int)recv(s, buf, 8, 0);
	check("SO_RCVTIMEO 0.3 s: EAGAIN after it",
	      n < 0 && errno == EAGAIN && now() - t0 > 0.25 && now() - t0 < 3);
	close(s);
}

/* epoll_wait on ep until an event with bit comes (edges of other bits,
 * EPOLLOUT as ACKs free room, may come first): its events, or 0. */
static unsigned wait_for(int ep, unsigned bit)
{
	struct epoll_event got;
	double t0 = now();

	while (now() - t0 < 10)
		if (epoll_wait(ep, &got, 1, 10000) == 1 && (got.events & bit))
			return got.events;
	return 0;
}

static void test_epoll(void)
{
	struct sockaddr_in a = sin_of("10.0.2.2", sport);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), ep = epoll_create1(0);
	struct epoll_event ev = { EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, { .fd = s } }, got;
	char buf[8];

	connect(s, (struct sockaddr *)&a, sizeof(a));
	epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
	check("epoll: EPOLLOUT when the connect completes (edge)",
	      epoll_wait(ep, &got, 1, 10000) == 1 && (got.events & EPOLLOUT) &&
	      !(got.events & EPOLLIN));
	send(s, "Xepoll", 6, 0);
	check("epoll: EPOLLIN with the echo",
	      wait_for(ep, EPOLLIN) && recv(s, buf, sizeof(buf), 0) == 5);
	shutdown(s, SHUT_WR);
	check("epoll: EPOLLRDHUP after the server's FIN",
	      wait_for(ep, EPOLLRDHUP) && recv(s, buf, sizeof(buf), 0) == 0);
	close(s);
	close(ep);
}

static void test_refused_reset(void)
{
	struct sockaddr_in a = sin_of("10.0.2.2", closed);
	int s = socket(AF_INET, SOCK_STREAM, 0), r, err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;
	char buf[8];

	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	check("blocking connect to a closed port: ECONNREFUSED", r < 0 && errno == ECONNREFUSED);
	close(s);
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	r = connect(s, (struct sockaddr *)&a, sizeof(a));
	p = (struct pollfd){ s, POLLOUT, 0 };
	check("non-blocking: POLLOUT|POLLERR, SO_ERROR ECONNREFUSED",
	      r < 0 && errno == EINPROGRESS && poll(&p, 1, 10000) == 1 &&
	      (p.revents & (POLLOUT | POLLERR)) == (POLLOUT | POLLERR) &&
	      getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == ECONNREFUSED);
	close(s);

	s = dial('R');
	if (s < 0)
		return;
	r = (int)recv(s, buf, sizeof(buf), 0);
	check("a reset by the server: recv ECONNRESET", r < 0 && errno == ECONNRESET);
	check("then end of file", recv(s, buf, sizeof(buf), 0) == 0);
	r = (int)send(s, "x", 1, MSG_NOSIGNAL);
	check("and send: EPIPE", r < 0 && errno == EPIPE);
	close(s);
}

/* The host connects through the forwarded port: echo until its FIN. */
static void test_listen(void)
{
	struct sockaddr_in a = sin_of("0.0.0.0", 8080), peer;
	socklen_t pl = sizeof(peer);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1, c;
	static char buf[65536];
	size_t total = 0;
	ssize_t n;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	check("listen on 0.0.0.0:8080",
	      bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 8) == 0);
	printf("nettcp: listening on 8080\n");
	fflush(stdout);
	c = accept4(l, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
	check("accept4 of the host's connection, peer 10.0.2.2",
	      c >= 0 && peer.sin_addr.s_addr == htonl(0x0a000202) &&
	      (fcntl(c, F_GETFD) & FD_CLOEXEC));
	while ((n = read(c, buf, sizeof(buf))) > 0) {
		if (write(c, buf, (size_t)n) != n)
			break;
		total += (size_t)n;
	}
	check("256 KiB from the host echoed until its FIN", n == 0 && total == 256 * 1024);
	check("bye after the host's FIN", write(c, "bye\n", 4) == 4);
	close(c);
	close(l);
}

int main(int argc, char **argv)
{
	int keep;

	if (argc < 3) {
		printf("usage: nettcp PORT CLOSEDPORT\n");
		return 2;
	}
	sport = (unsigned short)atoi(argv[1]);
	closed = (unsigned short)atoi(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	test_loopback();
	test_echo();
	test_nonblock_shutdown();
	test_peek_timeo();
	test_epoll();
	test_refused_reset();
	test_listen();
	keep = dial('W');
	check("a connection left open at exit", keep >= 0);
	printf("nettcp: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
