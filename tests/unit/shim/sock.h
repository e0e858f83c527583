/*
 * sock.h - what the socket tests share (test_shim_socket.c, TCP and
 * socketpair; test_shim_udp.c): system-call numbers, constants and
 * structures of the Linux ABI, and small helpers that assert as they go.
 * Include after cmocka.h and sys.h.
 */
#ifndef CUBRT_TEST_SHIM_SOCK_H
#define CUBRT_TEST_SHIM_SOCK_H

#include <string.h>

#include <cubrt/sched.h>

#define SYS_pread64 17
#define SYS_socket 41
#define SYS_connect 42
#define SYS_accept 43
#define SYS_sendto 44
#define SYS_recvfrom 45
#define SYS_sendmsg 46
#define SYS_recvmsg 47
#define SYS_shutdown 48
#define SYS_bind 49
#define SYS_listen 50
#define SYS_getsockname 51
#define SYS_getpeername 52
#define SYS_socketpair 53
#define SYS_setsockopt 54
#define SYS_getsockopt 55
#define SYS_accept4 288

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define NB 04000		/* SOCK_NONBLOCK, O_NONBLOCK */
#define SOL_SOCKET 1
#define TCP 6			/* IPPROTO_TCP */
#ifndef MSG_PEEK		/* src/shim/socket.h has them too */
#define MSG_PEEK 2
#define MSG_DONTWAIT 0x40
#endif
#define F_GETFL 3
#define F_SETFL 4
#define EPOLLIN 0x001u
#define EPOLLOUT 0x004u
#define EPOLLERR 0x008u
#define EPOLLHUP 0x010u
#define EPOLLRDNORM 0x040u
#define EPOLLWRNORM 0x100u
#define EPOLLRDHUP 0x2000u
#define LOOP 0x7f000001u

struct sin {			/* struct sockaddr_in */
	uint16_t family, port;	/* port, addr: network byte order */
	uint32_t addr;
	uint8_t zero[8];
};

struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

struct iov {
	const void *base;
	size_t len;
};

struct msghdr {
	void *name;
	uint32_t namelen;
	struct iov *iov;
	size_t iovlen;
	void *control;
	size_t controllen;
	int flags;
};

static inline struct sin inaddr(uint32_t addr, uint16_t port)
{
	return (struct sin){ AF_INET, __builtin_bswap16(port), __builtin_bswap32(addr), { 0 } };
}

static inline void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static inline long bind_to(int fd, uint32_t addr, uint16_t port)
{
	struct sin a = inaddr(addr, port);

	return SYS3(SYS_bind, fd, &a, sizeof(a));
}

static inline long connect_to(int fd, uint32_t addr, uint16_t port)
{
	struct sin a = inaddr(addr, port);

	return SYS3(SYS_connect, fd, &a, sizeof(a));
}

/* getsockname (peer false) or getpeername, checked to be a sockaddr_in. */
static inline struct sin name(int fd, bool peer)
{
	struct sin a;
	int len = sizeof(a);

	memset(&a, 0xee, sizeof(a));
	assert_int_equal(SYS3(peer ? SYS_getpeername : SYS_getsockname, fd, &a, &len), 0);
	assert_int_equal(len, 16);
	assert_int_equal(a.family, AF_INET);
	return a;
}

/* Two sockaddr_in agree in family, port and address. */
static inline void same_addr(struct sin x, struct sin y)
{
	assert_int_equal(x.family, y.family);
	assert_int_equal(x.port, y.port);
	assert_int_equal(x.addr, y.addr);
}

static inline uint16_t port_of(int fd)
{
	return __builtin_bswap16(name(fd, false).port);
}

static inline void closeall(int n, const int *fds)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(SYS1(SYS_close, fds[i]), 0);
}

static inline int getopt_int(int fd, int level, int name_)
{
	int v = -99, len = 4;

	assert_int_equal(SYS6(SYS_getsockopt, fd, level, name_, &v, &len, 0), 0);
	assert_int_equal(len, 4);
	return v;
}

static inline long setopt_int(int fd, int level, int name_, int v)
{
	return SYS6(SYS_setsockopt, fd, level, name_, &v, 4, 0);
}

/* The events epoll reports for the entry with this data (0: none). */
static inline uint32_t ready(int ep, uint64_t data)
{
	struct ev out[8];
	long n = SYS4(SYS_epoll_wait, ep, out, 8, 0);

	assert_true(n >= 0);
	for (long i = 0; i < n; i++)
		if (out[i].data == data)
			return out[i].events;
	return 0;
}

#endif
