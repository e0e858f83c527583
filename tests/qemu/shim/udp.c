/*
 * udp.c - loopback UDP in an unmodified musl program: an echo server
 * thread on 127.0.0.1 (a port from bind(0), read back with getsockname)
 * and a client that sends with sendto and receives with recvfrom (source
 * addresses checked both ways), keeps datagram boundaries, connects and
 * uses send/recv, sees truncation (MSG_TRUNC both ways), zero-length
 * datagrams, the connected filter, poll readiness and the errors programs
 * rely on (EMSGSIZE, EDESTADDRREQ, EADDRINUSE, EOPNOTSUPP, EAGAIN); and
 * the interface list musl reads over a NETLINK_ROUTE socket (getifaddrs:
 * lo's link and 127.0.0.1/8, no IPv6; if_nameindex: 1 "lo"). One line
 * per check, then a summary.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "checks.h"

static char big[65508];

static int same(const struct sockaddr_in *x, const struct sockaddr_in *y)
{
	return x->sin_family == y->sin_family && x->sin_port == y->sin_port &&
	       x->sin_addr.s_addr == y->sin_addr.s_addr;
}

/* Echoes every datagram to its sender until one says "quit"; "who"
 * gets the sender's address as the server saw it. */
static void *server(void *arg)
{
	int fd = (int)(long)arg;
	char buf[2048];

	for (;;) {
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);

		if (n < 0 || (n == 4 && !memcmp(buf, "quit", 4)))
			break;
		if (n == 3 && !memcmp(buf, "who", 3))
			sendto(fd, &from, sizeof(from), 0, (struct sockaddr *)&from, len);
		else
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

/* sendto/recvfrom with addresses, boundaries, zero-length datagrams. */
static void unconnected(int c, const struct sockaddr_in *srv)
{
	struct sockaddr_in from, seen, mine;
	socklen_t len = sizeof(from);
	char buf[64];
	int ok = 1;

	ok &= sendto(c, "ping", 4, 0, (const struct sockaddr *)srv, sizeof(*srv)) == 4;
	ok &= recvfrom(c, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len) == 4;
	check("sendto/recvfrom echo", ok && !memcmp(buf, "ping", 4));
	check("recvfrom source is the server", len == sizeof(from) && same(&from, srv));

	sendto(c, "who", 3, 0, (const struct sockaddr *)srv, sizeof(*srv));
	recv(c, &seen, sizeof(seen), 0);
	mine = name_of(c);
	check("server sees our bound port from 127.0.0.1", seen.sin_port == mine.sin_port &&
	      ntohs(mine.sin_port) >= 32768 && seen.sin_addr.s_addr == htonl(INADDR_LOOPBACK));

	ok = 1;
	for (int i = 1; i <= 3; i++)
		ok &= sendto(c, "abcdef", (size_t)i, 0, (const struct sockaddr *)srv,
			     sizeof(*srv)) == i;
	for (int i = 1; i <= 3; i++)
		ok &= recv(c, buf, sizeof(buf), 0) == i;
	check("three datagrams keep their boundaries", ok);

	ok = sendto(c, "", 0, 0, (const struct sockaddr *)srv, sizeof(*srv)) == 0;
	ok &= sendto(c, "x", 1, 0, (const struct sockaddr *)srv, sizeof(*srv)) == 1;
	ok &= read(c, buf, sizeof(buf)) == 0 && read(c, buf, sizeof(buf)) == 1;
	check("zero-length datagram reads as 0", ok);
}

/* A short buffer truncates; MSG_TRUNC tells the real length. */
static void truncation(int c, const struct sockaddr_in *srv)
{
	char buf[4], name[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_name = name, .msg_namelen = sizeof(name), .msg_iov = &iov,
			    .msg_iovlen = 1 };
	ssize_t n;

	sendto(c, "0123456789", 10, 0, (const struct sockaddr *)srv, sizeof(*srv));
	n = recv(c, buf, sizeof(buf), 0);
	check("short buffer truncates", n == 4 && !memcmp(buf, "0123", 4));
	sendto(c, "0123456789", 10, 0, (const struct sockaddr *)srv, sizeof(*srv));
	n = recv(c, buf, sizeof(buf), MSG_TRUNC);
	check("MSG_TRUNC returns the real length", n == 10);
	sendto(c, "0123456789", 10, 0, (const struct sockaddr *)srv, sizeof(*srv));
	n = recvmsg(c, &m, 0);
	check("recvmsg sets MSG_TRUNC", n == 4 && (m.msg_flags & MSG_TRUNC) &&
	      m.msg_namelen == sizeof(struct sockaddr_in));
}

/* connect: send/recv to the peer only; AF_UNSPEC undoes it. */
static void connected(const struct sockaddr_in *srv)
{
	int c = socket(AF_INET, SOCK_DGRAM, 0), x = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in peer, other = loopback(0);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	socklen_t len = sizeof(peer);
	struct pollfd p = { c, POLLIN, 0 };
	char buf[16];
	int ok;

	ok = connect(c, (const struct sockaddr *)srv, sizeof(*srv)) == 0;
	ok &= getpeername(c, (struct sockaddr *)&peer, &len) == 0 && same(&peer, srv);
	check("connect records the peer", ok);
	ok = send(c, "hello", 5, 0) == 5 && recv(c, buf, sizeof(buf), 0) == 5;
	ok &= write(c, "again", 5) == 5 && read(c, buf, sizeof(buf)) == 5;
	check("send/recv and write/read when connected", ok && !memcmp(buf, "again", 5));

	bind(x, (struct sockaddr *)&other, sizeof(other));
	other = name_of(c);
	sendto(x, "stranger", 8, 0, (struct sockaddr *)&other, sizeof(other));
	check("a connected socket ignores other senders", poll(&p, 1, 20) == 0);
	ok = connect(c, &unspec, sizeof(unspec)) == 0;
	ok &= send(c, "x", 1, 0) < 0 && errno == EDESTADDRREQ;
	other = name_of(c);
	sendto(x, "stranger", 8, 0, (struct sockaddr *)&other, sizeof(other));
	ok &= poll(&p, 1, 1000) == 1 && recv(c, buf, sizeof(buf), 0) == 8;
	check("AF_UNSPEC disconnects", ok);
	close(c);
	close(x);
}

static void errors(int c, const struct sockaddr_in *srv)
{
	int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = *srv;
	char buf[4];

	check("EMSGSIZE past 65507 bytes",
	      sendto(c, big, sizeof(big), 0, (const struct sockaddr *)srv, sizeof(*srv)) < 0 &&
	      errno == EMSGSIZE);
	check("EDESTADDRREQ when unconnected", send(u, "x", 1, 0) < 0 && errno == EDESTADDRREQ);
	check("a failed send binds the socket (as Linux)", ntohs(name_of(u).sin_port) != 0);
	close(u);
	u = socket(AF_INET, SOCK_DGRAM, 0);
	check("EADDRINUSE on a UDP port",
	      bind(u, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == EADDRINUSE);
	check("TCP may bind the same port", bind(t, (struct sockaddr *)&a, sizeof(a)) == 0);
	check("listen: EOPNOTSUPP", listen(u, 1) < 0 && errno == EOPNOTSUPP);
	check("EAGAIN with MSG_DONTWAIT", recv(c, buf, sizeof(buf), MSG_DONTWAIT) < 0 &&
	      errno == EAGAIN);
	close(u);
	close(t);
}

/* getifaddrs and if_nameindex: the machine as Linux describes a
 * loopback-only one (musl asks rtnetlink for links, then addresses). */
static void interfaces(void)
{
	unsigned want = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	struct ifaddrs *list = NULL, *i;
	struct if_nameindex *ni;
	int links = 0, v4 = 0, other = 0;

	check("getifaddrs", getifaddrs(&list) == 0);
	for (i = list; i; i = i->ifa_next) {
		int fam = i->ifa_addr ? i->ifa_addr->sa_family : -1;
		int lo = !strcmp(i->ifa_name, "lo") && (i->ifa_flags & want) == want;

		if (fam == AF_PACKET && lo)
			links++;
		else if (fam == AF_INET && lo && i->ifa_netmask &&
			 ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
			 ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr == htonl(0xff000000))
			v4++;
		else
			other++;
	}
	check("getifaddrs: lo's link and 127.0.0.1/8, nothing else", links == 1 && v4 == 1 &&
	      other == 0);
	freeifaddrs(list);
	ni = if_nameindex();
	check("if_nameindex: 1 \"lo\"", ni && ni[0].if_index == 1 && !strcmp(ni[0].if_name, "lo") &&
	      ni[1].if_index == 0);
	if (ni)
		if_freenameindex(ni);
}

int main(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0), type = 0;
	struct sockaddr_in srv = loopback(0);
	socklen_t len = sizeof(type);
	pthread_t t;

	getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len);
	check("socket SOCK_DGRAM", s >= 0 && c >= 0 && type == SOCK_DGRAM);
	bind(s, (struct sockaddr *)&srv, sizeof(srv));
	srv = name_of(s);
	check("bind 127.0.0.1:0 picks a port", ntohs(srv.sin_port) >= 32768 &&
	      srv.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	pthread_create(&t, NULL, server, (void *)(long)s);
	unconnected(c, &srv);
	truncation(c, &srv);
	connected(&srv);
	errors(c, &srv);
	interfaces();
	sendto(c, "quit", 4, 0, (struct sockaddr *)&srv, sizeof(srv));
	pthread_join(t, NULL);
	close(s);
	close(c);
	printf("udp: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
