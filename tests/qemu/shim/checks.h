/*
 * checks.h - what the musl check programs share (files.c, sockets.c,
 * udp.c): one "what: ok" or "what: FAILED" line per check, counted for
 * the summary line the QEMU test matches; and, for the socket programs
 * (those that include <netinet/in.h> and <arpa/inet.h> first), a
 * sockaddr_in for 127.0.0.1, for any dotted address, and a socket's
 * name.
 */
#ifndef CUBRT_TEST_QEMU_CHECKS_H
#define CUBRT_TEST_QEMU_CHECKS_H

#include <stdio.h>
#include <string.h>

static int passed, total;

static void check(const char *what, int ok)
{
	total++;
	passed += !!ok;
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
}

#ifdef INADDR_LOOPBACK
static struct sockaddr_in loopback(unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static inline struct sockaddr_in sin_of(const char *ip, unsigned short port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static inline struct sockaddr_in name_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	return a;
}
#endif

#endif
