/*
 * sockets.c - loopback sockets in an unmodified musl program: a threaded
 * echo server on 127.0.0.1 (a port from bind(0), read back with
 * getsockname), clients that connect, send and read the echo, more data
 * than the socket buffers hold, end of file after shutdown, a
 * non-blocking accept, socketpair, poll and select on sockets, an
 * AF_UNIX echo server bound to /tmp/echo.sock (the socket node, names,
 * a stale node after close), and the errors programs rely on
 * (ECONNREFUSED, EADDRINUSE, EAFNOSUPPORT, ENOTCONN, EPIPE), an
 * abortive close (SO_LINGER 0) read as ECONNRESET; an AF_UNIX
 * datagram echo between threads (senders' names, boundaries, MSG_TRUNC)
 * and a SOCK_SEQPACKET pair; a pipe's write end passed with SCM_RIGHTS
 * and used by the receiver, a socket sent into its own queue collected
 * once closed; SIGPIPE handled, ignored and suppressed by
 * MSG_NOSIGNAL. One line per check, then a summary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "checks.h"

#define CLIENTS 4
#define BIG (256 * 1024)

static char big_out[BIG], big_in[BIG];

/* Reads exactly n bytes (or until end of file): the count. */
static size_t read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n && (r = read(fd, buf + got, n - got)) > 0)
		got += (size_t)r;
	return got;
}

/* Echoes one connection until its end of file. */
static void *echo(void *arg)
{
	int fd = (int)(long)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	return NULL;
}

/* Accepts CLIENTS + 1 connections, one echo thread each. */
static void *server(void *arg)
{
	int ls = (int)(long)arg;
	pthread_t t[CLIENTS + 1];

	for (int i = 0; i < CLIENTS + 1; i++) {
		int fd = accept(ls, NULL, NULL);

		pthread_create(&t[i], NULL, echo, (void *)(long)fd);
	}
	for (int i = 0; i < CLIENTS + 1; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

/* Connects fd to a, sends msg, reads the echo back, closes fd: 1 when
 * the echo came back whole. */
static long echo_once(int fd, const struct sockaddr *a, socklen_t len, const char *msg)
{
	size_t n = strlen(msg);
	char got[64];
	long ok = connect(fd, a, len) == 0 && write(fd, msg, n) == (ssize_t)n &&
		  read_all(fd, got, n) == n && memcmp(got, msg, n) == 0;

	close(fd);
	return ok;
}

static unsigned short port;

static void *client(void *arg)
{
	struct sockaddr_in a = loopback(port);
	char msg[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	snprintf(msg, sizeof(msg), "message from client %ld", (long)arg);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return (void *)echo_once(fd, (struct sockaddr *)&a, sizeof(a), msg);
}

/* Sends big_out, then shuts its side down: the server sees end of file
 * and closes, so the reader sees it too. */
static void *big_writer(void *arg)
{
	int fd = (int)(long)arg;
	size_t sent = 0;
	ssize_t n;

	while (sent < BIG && (n = write(fd, big_out + sent, BIG - sent)) > 0)
		sent += (size_t)n;
	return (void *)(long)(sent == BIG && shutdown(fd, SHUT_WR) == 0);
}

static void echo_server(void)
{
	struct sockaddr_in a = loopback(0), b;
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), fd, good = 0;
	pthread_t srv, c[CLIENTS];
	void *res;

	check("bind 127.0.0.1:0 and listen", ls >= 0 &&
	      bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(ls, 16) == 0);
	check("getsockname gives the port", getsockname(ls, (struct sockaddr *)&a, &len) == 0 &&
	      a.sin_family == AF_INET && (port = ntohs(a.sin_port)) != 0);
	b = loopback(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	check("a second bind of the port: EADDRINUSE",
	      bind(fd, (struct sockaddr *)&b, sizeof(b)) == -1 && errno == EADDRINUSE);
	close(fd);
	pthread_create(&srv, NULL, server, (void *)(long)ls);
	for (long i = 0; i < CLIENTS; i++)
		pthread_create(&c[i], NULL, client, (void *)i);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(c[i], &res);
		good += res != NULL;
	}
	check("concurrent clients get their echo", good == CLIENTS);

	/* 256 KiB through the echo: more than both buffers hold, so the
	 * writer blocks until the server reads and writes back. */
	for (int i = 0; i < BIG; i++)
		big_out[i] = (char)(i * 7 + i / 251);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	connect(fd, (struct sockaddr *)&b, sizeof(b));
	pthread_create(&c[0], NULL, big_writer, (void *)(long)fd);
	check("256 KiB echoed intact, then end of file",
	      read_all(fd, big_in, BIG) == BIG && memcmp(big_in, big_out, BIG) == 0 &&
	      read(fd, big_in, 1) == 0);
	pthread_join(c[0], &res);
	check("the writer's shutdown(SHUT_WR) ended the echo", res != NULL);
	close(fd);
	close(ls);
	pthread_join(srv, NULL);
}

static void errors(void)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM, 0), sv[2];
	char c = 'x';

	check("connect to a closed port: ECONNREFUSED",
	      connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == ECONNREFUSED);
	check("write unconnected: ENOTCONN or EPIPE",
	      write(fd, &c, 1) == -1 && (errno == ENOTCONN || errno == EPIPE));
	close(fd);
	check("IPv6: EAFNOSUPPORT", socket(AF_INET6, SOCK_STREAM, 0) == -1 &&
	      errno == EAFNOSUPPORT);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a = loopback(0);
	check("non-blocking accept with nobody waiting: EAGAIN",
	      bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0 &&
	      accept(fd, NULL, NULL) == -1 && errno == EAGAIN);
	close(fd);
	{
		struct sockaddr_in la = loopback(0);
		socklen_t len = sizeof(la);
		int l = socket(AF_INET, SOCK_STREAM, 0), cl = socket(AF_INET, SOCK_STREAM, 0);
		struct pollfd p = { l, POLLIN, 0 };

		bind(l, (struct sockaddr *)&la, sizeof(la));
		listen(l, 4);
		getsockname(l, (struct sockaddr *)&la, &len);
		check("poll: a listener is not readable while nobody connects",
		      poll(&p, 1, 10) == 0 && p.revents == 0);
		connect(cl, (struct sockaddr *)&la, sizeof(la));
		check("poll: a listener is readable once a client connected",
		      poll(&p, 1, 1000) == 1 && (p.revents & POLLIN));
		close(cl);
		close(l);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
		fd_set rd;
		struct timeval tv = { 1, 0 };

		FD_ZERO(&rd);
		FD_SET(sv[1], &rd);
		write(sv[0], "s", 1);
		check("select: a socket with data is readable",
		      select(sv[1] + 1, &rd, NULL, NULL, &tv) == 1 && FD_ISSET(sv[1], &rd));
		close(sv[0]);
		close(sv[1]);
	}
	check("socketpair carries both ways", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 &&
	      write(sv[0], "a", 1) == 1 && read(sv[1], &c, 1) == 1 && c == 'a' &&
	      write(sv[1], "z", 1) == 1 && read(sv[0], &c, 1) == 1 && c == 'z');
	close(sv[1]);
	check("after the peer closed: data, end of file, EPIPE",
	      read(sv[0], &c, 1) == 0 && write(sv[0], &c, 1) == -1 && errno == EPIPE);
	close(sv[0]);
}

/* An abortive close (SO_LINGER {1, 0}) is a reset for the peer, as
 * Linux shows it (Go's TestNotTemporaryRead): the bytes it holds, then
 * ECONNRESET once, then end of file and EPIPE. */
static void linger_reset(void)
{
	struct sockaddr_in la = loopback(0);
	socklen_t len = sizeof(la);
	struct linger lg = { 1, 0 };
	int l = socket(AF_INET, SOCK_STREAM, 0), cl = socket(AF_INET, SOCK_STREAM, 0), s;
	struct pollfd p = { cl, POLLIN, 0 };
	char buf[8];

	bind(l, (struct sockaddr *)&la, sizeof(la));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&la, &len);
	connect(cl, (struct sockaddr *)&la, sizeof(la));
	s = accept(l, NULL, NULL);
	check("SO_LINGER {1, 0} set", write(s, "ab", 2) == 2 &&
	      setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == 0);
	close(s);
	check("after the peer's abortive close: POLLERR|POLLHUP",
	      poll(&p, 1, 1000) == 1 &&
	      (p.revents & (POLLIN | POLLERR | POLLHUP)) == (POLLIN | POLLERR | POLLHUP));
	check("then its bytes, ECONNRESET, end of file, EPIPE",
	      read(cl, buf, sizeof(buf)) == 2 &&
	      read(cl, buf, sizeof(buf)) == -1 && errno == ECONNRESET &&
	      read(cl, buf, sizeof(buf)) == 0 &&
	      write(cl, "x", 1) == -1 && errno == EPIPE);
	close(cl);
	close(l);
}

#define UPATH "/tmp/echo.sock"

/* One client of the unix echo server: its message comes back. */
static void *unix_client(void *arg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = UPATH };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	char msg[64];

	snprintf(msg, sizeof(msg), "unix client %ld", (long)arg);
	return (void *)echo_once(fd, (struct sockaddr *)&a, sizeof(a), msg);
}

/* The threaded echo server again, on an AF_UNIX socket bound to a path;
 * its socket node stays after close, refusing connections, until
 * unlinked. */
static void unix_echo(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = UPATH }, n;
	socklen_t len = sizeof(n);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0), fd, good = 0;
	pthread_t srv, c[CLIENTS + 1];
	struct stat st;
	void *res;

	check("unix: bind " UPATH " and listen", ls >= 0 &&
	      bind(ls, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(ls, 16) == 0);
	check("unix: stat shows a socket", stat(UPATH, &st) == 0 && S_ISSOCK(st.st_mode));
	check("unix: getsockname gives the path",
	      getsockname(ls, (struct sockaddr *)&n, &len) == 0 && n.sun_family == AF_UNIX &&
	      len == sizeof(sa_family_t) + sizeof(UPATH) && strcmp(n.sun_path, UPATH) == 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	check("unix: a second bind of the path: EADDRINUSE",
	      bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == EADDRINUSE);
	close(fd);
	pthread_create(&srv, NULL, server, (void *)(long)ls);
	for (long i = 0; i < CLIENTS + 1; i++)
		pthread_create(&c[i], NULL, unix_client, (void *)i);
	for (int i = 0; i < CLIENTS + 1; i++) {
		pthread_join(c[i], &res);
		good += res != NULL;
	}
	check("unix: concurrent clients get their echo", good == CLIENTS + 1);
	pthread_join(srv, NULL);
	close(ls);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	check("unix: connect to the closed server's node: ECONNREFUSED",
	      connect(fd, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == ECONNREFUSED);
	check("unix: unlink frees the name", unlink(UPATH) == 0 &&
	      bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && unlink(UPATH) == 0);
	close(fd);
}

#define DPATH "/tmp/dgram.sock"
#define CPATH "/tmp/dgram-client.sock"

/* Echoes datagrams back to their senders until an empty one. */
static void *dgram_echo(void *arg)
{
	int fd = (int)(long)arg;
	struct sockaddr_un from;
	char buf[256];
	ssize_t n;

	do {
		socklen_t len = sizeof(from);

		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n >= 0 && len > sizeof(sa_family_t))
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	} while (n > 0);
	return NULL;
}

static void unix_dgram(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = DPATH };
	struct sockaddr_un c = { .sun_family = AF_UNIX, .sun_path = CPATH }, from;
	socklen_t len = sizeof(from);
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0), cl = socket(AF_UNIX, SOCK_DGRAM, 0), sv[2];
	char buf[64];
	pthread_t t;

	check("unix dgram: bind both ends",
	      bind(srv, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      bind(cl, (struct sockaddr *)&c, sizeof(c)) == 0);
	pthread_create(&t, NULL, dgram_echo, (void *)(long)srv);
	check("unix dgram: two messages echoed, boundaries kept",
	      sendto(cl, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4 &&
	      sendto(cl, "pong!", 5, 0, (struct sockaddr *)&a, sizeof(a)) == 5 &&
	      recvfrom(cl, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 4 &&
	      memcmp(buf, "ping", 4) == 0 && recv(cl, buf, sizeof(buf), 0) == 5);
	check("unix dgram: the sender's name", len == sizeof(sa_family_t) + sizeof(DPATH) &&
	      strcmp(from.sun_path, DPATH) == 0);
	check("unix dgram: connect, send, MSG_TRUNC",
	      connect(cl, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      send(cl, "truncated", 9, 0) == 9 && recv(cl, buf, 3, MSG_TRUNC) == 9 &&
	      recv(cl, buf, sizeof(buf), MSG_DONTWAIT) == -1 && errno == EAGAIN);
	send(cl, "", 0, 0);		/* ends the echo */
	pthread_join(t, NULL);
	close(srv);
	close(cl);
	unlink(DPATH);
	unlink(CPATH);
	check("seqpacket: records, then end of file",
	      socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0 && write(sv[0], "rec", 3) == 3 &&
	      write(sv[0], "ord", 3) == 3 && close(sv[0]) == 0 && read(sv[1], buf, 64) == 3 &&
	      read(sv[1], buf, 64) == 3 && read(sv[1], buf, 64) == 0);
	close(sv[1]);
}

/* A pipe's write end goes over a socketpair; the receiver writes into
 * it, after the sender closed its own. */
static void pass_fd(void)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } ctl;
	struct iovec v = { "x", 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	int sv[2], p[2], got = -1;
	char c, buf[8];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe(p);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &p[1], sizeof(int));
	check("SCM_RIGHTS: sendmsg with a pipe's write end", sendmsg(sv[0], &m, 0) == 1);
	close(p[1]);
	memset(&ctl, 0, sizeof(ctl));
	v.iov_base = &c;
	m.msg_controllen = sizeof(ctl.b);
	h = recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) == 1 ? CMSG_FIRSTHDR(&m) : NULL;
	if (h && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&got, CMSG_DATA(h), sizeof(int));
	check("SCM_RIGHTS: recvmsg installs it, close-on-exec",
	      got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC) && !(m.msg_flags & MSG_CTRUNC));
	check("SCM_RIGHTS: the received descriptor writes into the pipe",
	      write(got, "via", 3) == 3 && read(p[0], buf, sizeof(buf)) == 3 &&
	      memcmp(buf, "via", 3) == 0 && close(got) == 0 && read(p[0], buf, 1) == 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}

/* A socket passed over itself, with a pipe's write end: once its last
 * descriptor closes, nothing can read them, and both are collected (the
 * pipe's reader sees end of file). */
static void collect_cycle(void)
{
	union { struct cmsghdr h; char b[CMSG_SPACE(2 * sizeof(int))]; } ctl;
	struct iovec v = { "x", 1 };
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1, .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	int sv[2], p[2];
	char c;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	pipe2(p, O_NONBLOCK);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(h), (int[]){ sv[1], p[1] }, 2 * sizeof(int));
	check("SCM_RIGHTS: a socket sent into its own queue", sendmsg(sv[0], &m, 0) == 1);
	close(p[1]);
	check("SCM_RIGHTS: held in flight while its descriptor is open",
	      read(p[0], &c, 1) == -1 && errno == EAGAIN);
	close(sv[1]);
	check("SCM_RIGHTS: collected with its last descriptor (the pipe end too)",
	      read(p[0], &c, 1) == 0);
	close(p[0]);
	close(sv[0]);
}

static volatile sig_atomic_t pipes;

static void on_sigpipe(int sig)
{
	pipes += sig == SIGPIPE;
}

/* SIGPIPE with a handler, ignored, and suppressed by MSG_NOSIGNAL. */
static void sigpipe(void)
{
	int p[2], sv[2];

	pipe(p);
	close(p[0]);
	signal(SIGPIPE, on_sigpipe);
	check("SIGPIPE: a write to a pipe nobody reads runs the handler, EPIPE",
	      write(p[1], "x", 1) == -1 && errno == EPIPE && pipes == 1);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	close(sv[1]);
	check("SIGPIPE: send to a closed peer, but not with MSG_NOSIGNAL",
	      send(sv[0], "x", 1, 0) == -1 && errno == EPIPE && pipes == 2 &&
	      send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE && pipes == 2);
	signal(SIGPIPE, SIG_IGN);
	check("SIGPIPE ignored: EPIPE alone",
	      write(p[1], "x", 1) == -1 && errno == EPIPE && pipes == 2);
	close(p[1]);
	close(sv[0]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	echo_server();
	unix_echo();
	errors();
	linger_reset();
	unix_dgram();
	pass_fd();
	collect_cycle();
	sigpipe();
	printf("sockets: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
