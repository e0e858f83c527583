/*
 * test_shim_ioctl.c - ioctl through the dispatcher: FIONBIO, FIOCLEX,
 * FIONCLEX, FIOASYNC and FIONREAD on pipes, sockets of every kind and
 * regular files (and -ENOTTY where Linux has none), SIOCOUTQ, the
 * SIOCGIF* requests about "lo", bad descriptors and bad pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>

#include "sys.h"
#include "sock.h"
#include "fresh.h"

#ifndef CUB_ENODEV
#define CUB_ENODEV 19
#endif

#define SYS_eventfd2 290
#define O_CREAT 0100
#define O_RDWR 2
#define O_PATH 010000000
#define F_GETFD 1
#define SOCK_SEQPACKET 5
#define FIONREAD 0x541b
#define SIOCOUTQ 0x5411
#define FIONBIO 0x5421
#define FIONCLEX 0x5450
#define FIOCLEX 0x5451
#define FIOASYNC 0x5452
#define TCGETS 0x5401

static long io(int fd, long cmd, void *arg)
{
	return SYS3(SYS_ioctl, fd, cmd, arg);
}

static int inq(int fd)
{
	int n = -1;

	assert_int_equal(io(fd, FIONREAD, &n), 0);
	return n;
}

static void test_ioctl_flags(void **state)
{
	int fds[2], on = 1, off = 0;
	char c;

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(io(fds[0], FIONBIO, &on), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFL), NB);
	assert_int_equal(SYS3(SYS_read, fds[0], &c, 1), -CUB_EAGAIN);
	assert_int_equal(io(fds[0], FIONBIO, &off), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[0], F_GETFL), 0);
	assert_int_equal(io(fds[0], FIONBIO, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(fds[0], FIONBIO, NULL), -CUB_EFAULT);
	assert_int_equal(io(fds[1], FIOCLEX, NULL), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[1], F_GETFD), 1);
	assert_int_equal(io(fds[1], FIONCLEX, NULL), 0);
	assert_int_equal(SYS2(SYS_fcntl, fds[1], F_GETFD), 0);
	assert_int_equal(io(fds[1], FIOASYNC, &off), 0);
	assert_int_equal(io(fds[1], FIOASYNC, &on), -CUB_EINVAL);
	assert_int_equal(io(fds[1], FIOASYNC, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(1, FIONBIO, &off), 0);		/* the console too */
	for (long cmd = FIONREAD; cmd <= FIOASYNC; cmd++)	/* bad fds first */
		assert_int_equal(io(99, cmd, (void *)WILD), -CUB_EBADF);
	assert_int_equal(io(-1, FIOCLEX, NULL), -CUB_EBADF);
	assert_int_equal(io(fds[0], TCGETS, (void *)WILD), -CUB_ENOTTY);
	assert_int_equal(io(fds[0], 0x1234, NULL), -CUB_ENOTTY);
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
}

static void test_ioctl_fionread_pipe(void **state)
{
	int fds[2], n;
	char buf[8];

	(void)state;
	assert_int_equal(SYS2(SYS_pipe2, fds, 0), 0);
	assert_int_equal(inq(fds[0]), 0);
	assert_int_equal(SYS3(SYS_write, fds[1], "hello", 5), 5);
	assert_int_equal(inq(fds[0]), 5);
	assert_int_equal(inq(fds[1]), 5);			/* either end */
	assert_int_equal(SYS3(SYS_read, fds[0], buf, 2), 2);
	assert_int_equal(inq(fds[0]), 3);
	assert_int_equal(io(fds[0], FIONREAD, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(fds[0], FIONREAD, NULL), -CUB_EFAULT);
	assert_int_equal(io(fds[0], SIOCOUTQ, &n), -CUB_ENOTTY);	/* no socket */
	assert_int_equal(SYS1(SYS_close, fds[0]), 0);
	assert_int_equal(SYS1(SYS_close, fds[1]), 0);
	n = (int)SYS2(SYS_eventfd2, 0, 0);
	assert_int_equal(io(n, FIONREAD, buf), -CUB_ENOTTY);
	assert_int_equal(SYS1(SYS_close, n), 0);
	assert_int_equal(io(0, FIONREAD, buf), -CUB_ENOTTY);	/* the console */
}

static void file_body(void)
{
	int fd = (int)SYS3(SYS_open, "/f", O_CREAT | O_RDWR, 0644), n = 7;
	int p = (int)SYS3(SYS_open, "/f", O_PATH, 0), d = (int)SYS3(SYS_open, "/", 0, 0);

	assert_true(fd >= 3 && p >= 3 && d >= 3);
	assert_int_equal(inq(fd), 0);
	assert_int_equal(SYS3(SYS_write, fd, "0123456789", 10), 10);
	assert_int_equal(inq(fd), 0);				/* at the end */
	assert_int_equal(SYS3(SYS_lseek, fd, 4, 0), 4);
	assert_int_equal(inq(fd), 6);
	assert_int_equal(SYS3(SYS_lseek, fd, 12, 0), 12);
	assert_int_equal(inq(fd), -2);				/* as Linux */
	assert_int_equal(io(fd, FIONREAD, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(d, FIONREAD, &n), -CUB_ENOTTY);	/* a directory */
	assert_int_equal(io(p, FIONREAD, &n), -CUB_EBADF);	/* O_PATH */
	assert_int_equal(io(p, FIOCLEX, NULL), -CUB_EBADF);
	assert_int_equal(io(fd, SIOCOUTQ, &n), -CUB_ENOTTY);
	assert_int_equal(SYS1(SYS_close, fd), 0);
	assert_int_equal(SYS1(SYS_close, p), 0);
	assert_int_equal(SYS1(SYS_close, d), 0);
}

static void test_ioctl_fionread_file(void **state)
{
	(void)state;
	run_fresh(file_body, false);
}

static void pair(int type, int sv[2])
{
	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, type, 0, sv), 0);
}

static void test_ioctl_fionread_unix(void **state)
{
	int sv[2], n;
	char buf[8];

	(void)state;
	pair(SOCK_STREAM, sv);
	assert_int_equal(inq(sv[0]), 0);
	assert_int_equal(SYS3(SYS_write, sv[1], "abc", 3), 3);
	assert_int_equal(SYS3(SYS_write, sv[1], "de", 2), 2);
	assert_int_equal(inq(sv[0]), 5);			/* all queued */
	assert_int_equal(io(sv[1], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 5);					/* unread by the peer */
	assert_int_equal(SYS3(SYS_read, sv[0], buf, 4), 4);
	assert_int_equal(inq(sv[0]), 1);
	assert_int_equal(io(sv[0], FIONREAD, (void *)WILD), -CUB_EFAULT);
	closeall(2, sv);
	pair(SOCK_DGRAM, sv);
	assert_int_equal(inq(sv[0]), 0);
	assert_int_equal(SYS3(SYS_write, sv[1], "abc", 3), 3);
	assert_int_equal(SYS3(SYS_write, sv[1], "defgh", 5), 5);
	assert_int_equal(inq(sv[0]), 3);			/* the next one */
	closeall(2, sv);
	pair(SOCK_SEQPACKET, sv);
	assert_int_equal(SYS3(SYS_write, sv[1], "abc", 3), 3);
	assert_int_equal(SYS3(SYS_write, sv[1], "defgh", 5), 5);
	assert_int_equal(inq(sv[0]), 8);			/* all of them */
	assert_int_equal(io(sv[1], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	closeall(2, sv);
}

static void test_ioctl_fionread_inet(void **state)
{
	int u[2], l, n;

	(void)state;
	u[0] = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	u[1] = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind_to(u[0], LOOP, 0), 0);
	struct sin a = name(u[0], false);
	assert_int_equal(SYS3(SYS_connect, u[1], &a, sizeof(a)), 0);
	assert_int_equal(inq(u[0]), 0);
	assert_int_equal(SYS3(SYS_write, u[1], "abcd", 4), 4);
	assert_int_equal(SYS3(SYS_write, u[1], "ef", 2), 2);
	assert_int_equal(inq(u[0]), 4);
	assert_int_equal(io(u[1], SIOCOUTQ, &n), 0);
	assert_int_equal(n, 0);
	closeall(2, u);
	l = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(inq(l), 0);				/* unconnected */
	assert_int_equal(bind_to(l, LOOP, 0), 0);
	assert_int_equal(SYS2(SYS_listen, l, 4), 0);
	assert_int_equal(io(l, FIONREAD, &n), -CUB_EINVAL);
	assert_int_equal(io(l, SIOCOUTQ, &n), -CUB_EINVAL);
	closeall(1, &l);
}

struct ifreq {
	char name[16];
	union {
		struct sin sin;
		struct { uint16_t family; uint8_t data[14]; } hw;
		int16_t flags;
		int32_t ivalue;
		uint8_t pad[24];
	} u;
};

struct ifconf {
	int32_t len;
	void *buf;
};

static struct ifreq named(const char *n)
{
	struct ifreq q;

	memset(&q, 0x5a, sizeof(q));
	strcpy(q.name, n);
	return q;
}

static void test_ioctl_ifreq(void **state)
{
	int s = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0), sv[2];
	struct ifreq q = named("lo");
	static const uint8_t zero[14];

	(void)state;
	assert_int_equal(io(s, 0x8933, &q), 0);		/* SIOCGIFINDEX */
	assert_int_equal(q.u.ivalue, 1);
	q = named("eth0");
	assert_int_equal(io(s, 0x8933, &q), -CUB_ENODEV);
	q = named("");
	q.u.ivalue = 1;
	assert_int_equal(io(s, 0x8910, &q), 0);		/* SIOCGIFNAME */
	assert_string_equal(q.name, "lo");
	q.u.ivalue = 2;
	assert_int_equal(io(s, 0x8910, &q), -CUB_ENODEV);
	q = named("lo");
	assert_int_equal(io(s, 0x8913, &q), 0);		/* SIOCGIFFLAGS */
	assert_int_equal(q.u.flags, 0x49);
	q = named("lo");
	assert_int_equal(io(s, 0x8915, &q), 0);		/* SIOCGIFADDR */
	assert_int_equal(q.u.sin.family, AF_INET);
	assert_int_equal(q.u.sin.addr, __builtin_bswap32(LOOP));
	q = named("lo");
	assert_int_equal(io(s, 0x891b, &q), 0);		/* SIOCGIFNETMASK */
	assert_int_equal(q.u.sin.addr, __builtin_bswap32(0xff000000u));
	q = named("lo");
	assert_int_equal(io(s, 0x8921, &q), 0);		/* SIOCGIFMTU */
	assert_int_equal(q.u.ivalue, 65536);
	q = named("lo");
	assert_int_equal(io(s, 0x8927, &q), 0);		/* SIOCGIFHWADDR */
	assert_int_equal(q.u.hw.family, 772);
	assert_memory_equal(q.u.hw.data, zero, 14);
	q = named("lo");
	assert_int_equal(io(s, 0x8914, &q), -CUB_EPERM);	/* SIOCSIFFLAGS */
	assert_int_equal(io(s, 0x8922, &q), -CUB_EPERM);	/* SIOCSIFMTU */
	assert_int_equal(io(s, 0x8922, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(s, 0x8933, (void *)WILD), -CUB_EFAULT);
	assert_int_equal(io(s, 0x8910, NULL), -CUB_EFAULT);
	assert_int_equal(io(99, 0x8933, &q), -CUB_EBADF);
	assert_int_equal(io(1, 0x8933, &q), -CUB_ENOTTY);	/* no socket */
	pair(SOCK_STREAM, sv);					/* any socket */
	q = named("lo");
	assert_int_equal(io(sv[0], 0x8933, &q), 0);
	assert_int_equal(q.u.ivalue, 1);
	closeall(2, sv);
	closeall(1, &s);
}

static void test_ioctl_ifconf(void **state)
{
	int s = (int)SYS3(SYS_socket, AF_INET, SOCK_STREAM, 0);
	struct ifreq r[2];
	struct ifconf c = { 0, NULL };

	(void)state;
	assert_int_equal(io(s, 0x8912, &c), 0);		/* the length */
	assert_int_equal(c.len, 40);
	memset(r, 0x5a, sizeof(r));
	c = (struct ifconf){ sizeof(r), r };
	assert_int_equal(io(s, 0x8912, &c), 0);
	assert_int_equal(c.len, 40);
	assert_string_equal(r[0].name, "lo");
	assert_int_equal(r[0].u.sin.family, AF_INET);
	assert_int_equal(r[0].u.sin.addr, __builtin_bswap32(LOOP));
	c = (struct ifconf){ 39, r };				/* too small */
	assert_int_equal(io(s, 0x8912, &c), 0);
	assert_int_equal(c.len, 0);
	c = (struct ifconf){ 40, (void *)WILD };
	assert_int_equal(io(s, 0x8912, &c), -CUB_EFAULT);
	assert_int_equal(io(s, 0x8912, (void *)WILD), -CUB_EFAULT);
	closeall(1, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctl_flags),
		cmocka_unit_test(test_ioctl_fionread_pipe),
		cmocka_unit_test(test_ioctl_fionread_file),
		cmocka_unit_test(test_ioctl_fionread_unix),
		cmocka_unit_test(test_ioctl_fionread_inet),
		cmocka_unit_test(test_ioctl_ifreq),
		cmocka_unit_test(test_ioctl_ifconf),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
