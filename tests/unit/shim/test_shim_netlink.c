/*
 * test_shim_netlink.c - AF_NETLINK NETLINK_ROUTE sockets through the
 * dispatcher, read with the Linux UAPI headers' macros (NLMSG_OK, RTA_OK,
 * ...) as musl and Go read them: creation and the calls netlink refuses,
 * port ids (bind, autobind, getsockname, getpeername), the RTM_GETLINK
 * and RTM_GETADDR dumps (framing, seq, pid, attributes; the address
 * message byte for byte as Linux sends lo's), NLMSG_ERROR and acks,
 * batches, rtnl_getlink, the send and receive errors, truncation and
 * peeking, messages between two sockets, readiness, a blocking receive,
 * the queue's overrun and no leak after closing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "sys.h"
#include "sock.h"

#define SYS_poll 7
#define AF_NETLINK 16
#define AF_UNSPEC 0
#define ENOBUFS 105
#define SOCK_RAW 3
#define CLOEXEC 02000000
#define F_GETFD 1
#define MSG_OOB 1
#define MSG_TRUNC 0x20
#define SO_TYPE 3
#define SO_DOMAIN 39
#define SO_PROTOCOL 38
#define SOL_NETLINK 270
#define ARPHRD_LOOPBACK 772
#define LO_FLAGS 0x10049u	/* IFF_UP|IFF_LOOPBACK|IFF_RUNNING|IFF_LOWER_UP */

static unsigned char buf[8192];

struct req {
	struct nlmsghdr h;
	unsigned char body[64];
};

static int nl(int type)
{
	long fd = SYS3(SYS_socket, AF_NETLINK, type, NETLINK_ROUTE);

	assert_true(fd >= 3);
	return (int)fd;
}

static struct sockaddr_nl snl(uint32_t pid, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = pid, .nl_groups = groups };

	return a;
}

static struct sockaddr_nl nl_name(int fd, bool peer)
{
	struct sockaddr_nl a;
	int len = sizeof(a);

	memset(&a, 0xee, sizeof(a));
	assert_int_equal(SYS3(peer ? SYS_getpeername : SYS_getsockname, fd, &a, &len), 0);
	assert_int_equal(len, 12);
	assert_int_equal(a.nl_family, AF_NETLINK);
	return a;
}

/* Sends a request of n bytes (type, flags, seq, the first body byte:
 * rtgen_family) to the kernel. */
static long ask(int fd, int type, int flags, uint32_t seq, int family, size_t n)
{
	struct req q;

	memset(&q, 0, sizeof(q));
	q.h = (struct nlmsghdr){ (uint32_t)n, (uint16_t)type, (uint16_t)flags, seq, 0 };
	q.body[0] = (unsigned char)family;
	return SYS4(SYS_sendto, fd, &q, n, 0);
}

/* Receives one datagram into buf (non-blocking), checking its source is
 * the kernel. */
static long take(int fd)
{
	struct sockaddr_nl from;
	int len = sizeof(from);
	long n;

	memset(&from, 0xee, sizeof(from));
	n = SYS6(SYS_recvfrom, fd, buf, sizeof(buf), MSG_DONTWAIT, &from, &len);
	if (n >= 0) {
		assert_int_equal(len, 12);
		assert_int_equal(from.nl_family, AF_NETLINK);
		assert_int_equal(from.nl_pid, 0);
		assert_int_equal(from.nl_groups, 0);
	}
	return n;
}

/* The one message of a datagram of n bytes in buf, checked. */
static struct nlmsghdr *only(long n, int type, int flags, uint32_t seq, uint32_t pid)
{
	struct nlmsghdr *h = (struct nlmsghdr *)buf;

	assert_true(n >= (long)sizeof(*h));
	assert_true(h->nlmsg_len >= sizeof(*h) && h->nlmsg_len <= (unsigned long)n);
	assert_int_equal(h->nlmsg_type, type);
	assert_int_equal(h->nlmsg_flags, flags);
	assert_int_equal(h->nlmsg_seq, seq);
	assert_int_equal(h->nlmsg_pid, pid);
	assert_int_equal(NLMSG_ALIGN(h->nlmsg_len), n);	/* nothing after it */
	return h;
}

static void expect_done(int fd, uint32_t seq, uint32_t pid)
{
	long n = take(fd);
	struct nlmsghdr *h = only(n, NLMSG_DONE, NLM_F_MULTI, seq, pid);

	assert_int_equal(n, 20);
	assert_int_equal(h->nlmsg_len, 20);
	assert_int_equal(*(int *)NLMSG_DATA(h), 0);
}

/* An NLMSG_ERROR answering q (n bytes): err, and what it carries. */
static void expect_error(int fd, int err, const void *q, size_t n, uint32_t pid)
{
	const struct nlmsghdr *qh = q;
	size_t copy = err ? NLMSG_ALIGN(n) : sizeof(*qh);
	long got = take(fd);
	struct nlmsghdr *h = only(got, NLMSG_ERROR, err ? 0 : NLM_F_CAPPED, qh->nlmsg_seq, pid);
	struct nlmsgerr *e = NLMSG_DATA(h);

	assert_int_equal(got, 16 + 4 + copy);
	assert_int_equal(h->nlmsg_len, 16 + 4 + copy);
	assert_int_equal(e->error, err);
	assert_memory_equal(&e->msg, q, err ? n : sizeof(*qh));
}

/* The attribute of this type in the link message h, or NULL. */
static struct rtattr *link_attr(struct nlmsghdr *h, int type)
{
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int left = (int)IFLA_PAYLOAD(h);

	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, left); a = RTA_NEXT(a, left))
		if (a->rta_type == type)
			return a;
	return NULL;
}

/* The RTM_NEWLINK of lo in a datagram of n bytes. */
static void check_link(long n, int flags, uint32_t seq, uint32_t pid)
{
	static const unsigned char zero[6];
	struct nlmsghdr *h = only(n, RTM_NEWLINK, flags, seq, pid);
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct rtattr *a;

	assert_int_equal(ifi->ifi_family, 0);
	assert_int_equal(ifi->ifi_type, ARPHRD_LOOPBACK);
	assert_int_equal(ifi->ifi_index, 1);
	assert_int_equal(ifi->ifi_flags, LO_FLAGS);
	assert_int_equal(ifi->ifi_change, 0);
	assert_non_null(a = link_attr(h, IFLA_IFNAME));
	assert_int_equal(RTA_PAYLOAD(a), 3);
	assert_string_equal(RTA_DATA(a), "lo");
	assert_non_null(a = link_attr(h, IFLA_MTU));
	assert_int_equal(*(uint32_t *)RTA_DATA(a), 65536);
	assert_non_null(a = link_attr(h, IFLA_TXQLEN));
	assert_int_equal(*(uint32_t *)RTA_DATA(a), 1000);
	assert_non_null(a = link_attr(h, IFLA_OPERSTATE));
	assert_int_equal(RTA_PAYLOAD(a), 1);
	assert_int_equal(*(uint8_t *)RTA_DATA(a), 0);	/* IF_OPER_UNKNOWN */
	for (int t = IFLA_ADDRESS; t <= IFLA_BROADCAST; t++) {
		assert_non_null(a = link_attr(h, t));
		assert_int_equal(a->rta_len, 10);
		assert_memory_equal(RTA_DATA(a), zero, 6);
	}
	assert_null(link_attr(h, IFLA_STATS));
}

/* lo's 127.0.0.1/8 as Linux sends it (its pid at 12, seq at 8; the
 * cache stamps, times since boot, 0 here). */
static const unsigned char lo_addr[76] = {
	0x4c, 0, 0, 0, 0x14, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x02, 0x08, 0x80, 0xfe, 0x01, 0, 0, 0,
	0x08, 0, 0x01, 0, 0x7f, 0, 0, 0x01,
	0x08, 0, 0x02, 0, 0x7f, 0, 0, 0x01,
	0x07, 0, 0x03, 0, 0x6c, 0x6f, 0, 0,
	0x08, 0, 0x08, 0, 0x80, 0, 0, 0,
	0x14, 0, 0x06, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
};

static void check_addr(long n, uint32_t seq, uint32_t pid)
{
	unsigned char want[76];

	memcpy(want, lo_addr, sizeof(want));
	memcpy(want + 8, &seq, 4);
	memcpy(want + 12, &pid, 4);
	assert_int_equal(n, 76);
	assert_memory_equal(buf, want, 76);
	only(n, RTM_NEWADDR, NLM_F_MULTI, seq, pid);
}

static void closeall_nl(int n, const int *fds)
{
	closeall(n, fds);
}

/* ------------------------------------------------------------ creation */

static void test_nl_create(void **state)
{
	int a, b, v[2];

	(void)state;
	a = (int)SYS3(SYS_socket, AF_NETLINK, SOCK_RAW | CLOEXEC | NB, NETLINK_ROUTE);
	assert_true(a >= 3);
	b = nl(SOCK_DGRAM);
	assert_int_equal(SYS2(SYS_fcntl, a, F_GETFD), 1);
	assert_int_equal(SYS2(SYS_fcntl, a, F_GETFL) & NB, NB);
	assert_int_equal(getopt_int(a, SOL_SOCKET, SO_TYPE), SOCK_RAW);
	assert_int_equal(getopt_int(b, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	assert_int_equal(getopt_int(a, SOL_SOCKET, SO_DOMAIN), AF_NETLINK);
	assert_int_equal(getopt_int(a, SOL_SOCKET, SO_PROTOCOL), NETLINK_ROUTE);
	assert_int_equal(setopt_int(a, SOL_NETLINK, NETLINK_EXT_ACK, 1), -CUB_ENOPROTOOPT);
	assert_int_equal(SYS3(SYS_socket, AF_NETLINK, SOCK_STREAM, 0), -CUB_ESOCKTNOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_XFRM),
			 -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS3(SYS_socket, AF_NETLINK, SOCK_RAW, -1), -CUB_EPROTONOSUPPORT);
	assert_int_equal(SYS4(SYS_socketpair, AF_NETLINK, SOCK_RAW, 0, v), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_listen, a, 1), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS3(SYS_accept, a, NULL, NULL), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS2(SYS_shutdown, a, 2), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS3(SYS_read, a, buf, 16), -CUB_EAGAIN);	/* nothing queued */
	int fds[] = { a, b };
	closeall_nl(2, fds);
}

/* ------------------------------------------------------------ port ids */

static void test_nl_bind(void **state)
{
	struct sockaddr_nl a = snl(0, 0), short_a = snl(0, 0);
	int s = nl(SOCK_RAW), t = nl(SOCK_RAW), u = nl(SOCK_DGRAM), w;
	uint32_t second;

	(void)state;
	assert_int_equal(nl_name(s, false).nl_pid, 0);		/* unbound */
	assert_int_equal(SYS3(SYS_bind, s, &a, 11), -CUB_EINVAL);
	short_a.nl_family = AF_INET;
	assert_int_equal(SYS3(SYS_bind, s, &short_a, sizeof(short_a)), -CUB_EINVAL);
	assert_int_equal(SYS3(SYS_bind, s, &a, sizeof(a)), 0);
	assert_int_equal(nl_name(s, false).nl_pid, 1);		/* getpid's */
	assert_int_equal(SYS3(SYS_bind, s, &a, sizeof(a)), -CUB_EINVAL);	/* 0 != 1 */
	a.nl_pid = 1;
	assert_int_equal(SYS3(SYS_bind, s, &a, sizeof(a)), 0);	/* its own */
	assert_int_equal(SYS3(SYS_bind, t, &a, sizeof(a)), -CUB_EADDRINUSE);
	assert_int_equal(ask(t, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0, 17), 17);
	second = nl_name(t, false).nl_pid;			/* autobound */
	assert_true((int32_t)second < 0);
	a = snl(4242, 0x5);
	assert_int_equal(SYS3(SYS_bind, u, &a, sizeof(a)), 0);
	assert_int_equal(nl_name(u, false).nl_pid, 4242);
	assert_int_equal(nl_name(u, false).nl_groups, 0x5);
	assert_int_equal(nl_name(u, true).nl_pid, 0);		/* the kernel */
	a = snl(1, 0x6);
	assert_int_equal(SYS3(SYS_connect, u, &a, sizeof(a)), 0);
	assert_int_equal(nl_name(u, true).nl_pid, 1);
	assert_int_equal(nl_name(u, true).nl_groups, 0x2);
	assert_int_equal(SYS3(SYS_connect, u, &a, 11), -CUB_EINVAL);
	a.nl_family = 0;
	assert_int_equal(SYS3(SYS_connect, u, &a, 2), 0);	/* AF_UNSPEC */
	assert_int_equal(nl_name(u, true).nl_pid, 0);
	closeall_nl(1, &s);
	w = nl(SOCK_RAW);					/* 1 is free again */
	assert_int_equal(SYS3(SYS_bind, w, &short_a, 0), -CUB_EINVAL);
	a = snl(0, 0);
	assert_int_equal(SYS3(SYS_bind, w, &a, sizeof(a)), 0);
	assert_int_equal(nl_name(w, false).nl_pid, 1);
	int fds[] = { t, u, w };
	closeall_nl(3, fds);
}

/* ---------------------------------------------------------------- dumps */

/* musl's way: no bind, send, then MSG_DONTWAIT receives until DONE. */
static void test_nl_getlink(void **state)
{
	int s = nl(SOCK_RAW);
	uint32_t pid;

	(void)state;
	assert_int_equal(take(s), -CUB_EAGAIN);
	assert_int_equal(ask(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, AF_UNSPEC, 20), 20);
	pid = nl_name(s, false).nl_pid;
	assert_int_not_equal(pid, 0);
	check_link(take(s), NLM_F_MULTI, 7, pid);
	expect_done(s, 7, pid);
	assert_int_equal(take(s), -CUB_EAGAIN);
	/* Any family, the ifinfomsg form, NLM_F_ROOT alone: the same. */
	assert_int_equal(ask(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ROOT, 8, AF_INET, 32), 32);
	check_link(take(s), NLM_F_MULTI, 8, pid);
	expect_done(s, 8, pid);
	closeall_nl(1, &s);
}

static void test_nl_getaddr(void **state)
{
	int s = nl(SOCK_RAW);
	struct sockaddr_nl a = snl(0, 0);

	(void)state;
	assert_int_equal(SYS3(SYS_bind, s, &a, sizeof(a)), 0);
	assert_int_equal(ask(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 2, AF_UNSPEC, 17), 17);
	check_addr(take(s), 2, 1);
	expect_done(s, 2, 1);
	assert_int_equal(ask(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 3, AF_INET, 24), 24);
	check_addr(take(s), 3, 1);
	expect_done(s, 3, 1);
	assert_int_equal(ask(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 4, 10, 17), 17);
	expect_done(s, 4, 1);					/* no IPv6 */
	assert_int_equal(take(s), -CUB_EAGAIN);
	closeall_nl(1, &s);
}

/* ------------------------------------------------------ errors and acks */

static void test_nl_errors(void **state)
{
	int s = nl(SOCK_RAW);
	struct req q;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.h = (struct nlmsghdr){ 17, 99, NLM_F_REQUEST, 4, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 17), 17);
	expect_error(s, -CUB_EOPNOTSUPP, &q, 17, 1);
	q.h = (struct nlmsghdr){ 32, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 5, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 32), 32);
	expect_error(s, -CUB_EOPNOTSUPP, &q, 32, 1);
	q.h = (struct nlmsghdr){ 17, RTM_GETADDR, NLM_F_REQUEST, 6, 0 };	/* no doit */
	assert_int_equal(SYS3(SYS_write, s, &q, 17), 17);
	expect_error(s, -CUB_EOPNOTSUPP, &q, 17, 1);
	q.h = (struct nlmsghdr){ 16, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, 9, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 16), 16);
	expect_error(s, 0, &q, 16, 1);				/* an ack */
	q.h = (struct nlmsghdr){ 16, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, 10, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 16), 16);	/* no rtgenmsg */
	expect_error(s, 0, &q, 16, 1);
	/* Not a request: only its ack; short or overlong headers: nothing. */
	assert_int_equal(ask(s, RTM_GETLINK, NLM_F_DUMP, 11, 0, 17), 17);
	q.h = (struct nlmsghdr){ 17, RTM_GETLINK, NLM_F_DUMP | NLM_F_ACK, 11, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 17), 17);
	expect_error(s, 0, &q, 17, 1);
	q.h = (struct nlmsghdr){ 40, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 12, 0 };
	assert_int_equal(SYS3(SYS_write, s, &q, 20), 20);
	q.h.nlmsg_len = 8;
	assert_int_equal(SYS3(SYS_write, s, &q, 20), 20);
	assert_int_equal(SYS3(SYS_write, s, &q, 8), 8);
	assert_int_equal(SYS3(SYS_write, s, &q, 0), 0);
	assert_int_equal(take(s), -CUB_EAGAIN);
	/* A dump with NLM_F_ACK: its DONE, no ack. */
	assert_int_equal(ask(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK, 13, 0, 17), 17);
	check_link(take(s), NLM_F_MULTI, 13, 1);
	expect_done(s, 13, 1);
	assert_int_equal(take(s), -CUB_EAGAIN);
	closeall_nl(1, &s);
}

/* Two requests in one send, and rtnl_getlink by index and by name. */
static void test_nl_batch_getlink(void **state)
{
	int s = nl(SOCK_RAW);
	struct {
		struct nlmsghdr h;
		struct ifinfomsg ifi;
		struct rtattr a;
		char name[8];
	} q[2];
	unsigned char batch[64];

	(void)state;
	memset(q, 0, sizeof(q));
	q[0].h = (struct nlmsghdr){ 32, RTM_GETLINK, NLM_F_REQUEST, 20, 0 };
	q[0].ifi.ifi_index = 1;
	q[1].h = (struct nlmsghdr){ 17, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 21, 0 };
	memcpy(batch, &q[0], 32);
	memcpy(batch + 32, &q[1], 17);
	assert_int_equal(SYS3(SYS_write, s, batch, 32 + 17), 49);
	check_link(take(s), 0, 20, 1);
	check_addr(take(s), 21, 1);
	expect_done(s, 21, 1);
	q[0].ifi.ifi_index = 2;
	assert_int_equal(SYS3(SYS_write, s, q, 32), 32);
	expect_error(s, -19, q, 32, 1);				/* -ENODEV */
	q[0].ifi.ifi_index = 0;
	q[0].h.nlmsg_len = 40;
	q[0].a = (struct rtattr){ 7, IFLA_IFNAME };
	memcpy(q[0].name, "lo", 3);
	assert_int_equal(SYS3(SYS_write, s, q, 40), 40);
	check_link(take(s), 0, 20, 1);
	memcpy(q[0].name, "et", 3);
	assert_int_equal(SYS3(SYS_write, s, q, 40), 40);
	expect_error(s, -19, q, 40, 1);
	q[0].h.nlmsg_len = 32;					/* no name */
	assert_int_equal(SYS3(SYS_write, s, q, 32), 32);
	expect_error(s, -CUB_EINVAL, q, 32, 1);
	q[0].h.nlmsg_len = 20;					/* no ifinfomsg */
	assert_int_equal(SYS3(SYS_write, s, q, 20), 20);
	expect_error(s, -CUB_EINVAL, q, 20, 1);
	closeall_nl(1, &s);
}

/* ------------------------------------------------- send/receive calls */

static void test_nl_calls(void **state)
{
	int s = nl(SOCK_RAW), t = nl(SOCK_RAW);
	struct sockaddr_nl a = snl(0, 0), from;
	struct req q;
	struct iov v[2];
	struct msghdr m;
	int len = sizeof(from);

	(void)state;
	memset(&q, 0, sizeof(q));
	q.h = (struct nlmsghdr){ 17, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 };
	assert_int_equal(SYS6(SYS_sendto, s, &q, 17, 0, &a, 11), -CUB_EINVAL);
	a.nl_family = AF_INET;
	assert_int_equal(SYS6(SYS_sendto, s, &q, 17, 0, &a, sizeof(a)), -CUB_EINVAL);
	a = snl(777, 0);
	assert_int_equal(SYS6(SYS_sendto, s, &q, 17, 0, &a, sizeof(a)), -CUB_ECONNREFUSED);
	assert_int_equal(SYS6(SYS_sendto, s, &q, 17, MSG_OOB, NULL, 0), -CUB_EOPNOTSUPP);
	assert_int_equal(SYS6(SYS_sendto, s, WILD, 17, 0, NULL, 0), -CUB_EFAULT);
	assert_int_equal(SYS6(SYS_sendto, s, &q, 300000, 0, NULL, 0), -CUB_EMSGSIZE);
	assert_int_equal(SYS6(SYS_recvfrom, s, buf, 10, MSG_OOB, NULL, NULL), -CUB_EOPNOTSUPP);
	a = snl(0, 0);
	assert_int_equal(SYS6(SYS_sendto, s, &q, 17, 0, &a, sizeof(a)), 17);
	/* Peek, then a short buffer: the rest is gone; MSG_TRUNC's length. */
	long full = SYS6(SYS_recvfrom, s, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT, NULL, NULL);
	assert_true(full > 100);
	assert_int_equal(SYS6(SYS_recvfrom, s, buf, 16, MSG_TRUNC | MSG_PEEK, &from, &len), full);
	assert_int_equal(from.nl_pid, 0);
	assert_int_equal(SYS6(SYS_recvfrom, s, buf, 16, 0, NULL, NULL), 16);
	expect_done(s, 1, 1);
	/* sendmsg gathers, recvmsg scatters and says MSG_TRUNC. */
	v[0] = (struct iov){ &q, 10 };
	v[1] = (struct iov){ (char *)&q + 10, 7 };
	m = (struct msghdr){ &a, sizeof(a), v, 2, NULL, 0, 0 };
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), 17);
	m.control = buf;
	m.controllen = 16;
	assert_int_equal(SYS3(SYS_sendmsg, s, &m, 0), -CUB_EINVAL);
	v[0] = (struct iov){ buf, 8 };
	v[1] = (struct iov){ buf + 8, 8 };
	memset(&from, 0xee, sizeof(from));
	m = (struct msghdr){ &from, sizeof(from), v, 2, NULL, 0, 0 };
	assert_int_equal(SYS3(SYS_recvmsg, s, &m, MSG_TRUNC), full);
	assert_int_equal(m.flags, MSG_TRUNC);
	assert_int_equal(m.namelen, 12);
	assert_int_equal(from.nl_family, AF_NETLINK);
	assert_int_equal(from.nl_pid, 0);
	assert_int_equal(((struct nlmsghdr *)buf)->nlmsg_type, RTM_NEWLINK);
	m = (struct msghdr){ NULL, 0, v, 1, NULL, 0, 0 };
	assert_int_equal(SYS3(SYS_recvmsg, s, &m, 0), 8);	/* DONE, 20 bytes */
	/* Between two sockets: t sends to s's id, s sees t's as the source. */
	a = snl(1, 0);
	assert_int_equal(SYS6(SYS_sendto, t, "hello", 5, 0, &a, sizeof(a)), 5);
	len = sizeof(from);
	assert_int_equal(SYS6(SYS_recvfrom, s, buf, 64, MSG_DONTWAIT, &from, &len), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(from.nl_pid, nl_name(t, false).nl_pid);
	a = snl(nl_name(t, false).nl_pid, 0);
	assert_int_equal(SYS3(SYS_connect, s, &a, sizeof(a)), 0);
	assert_int_equal(SYS3(SYS_write, s, "back", 4), 4);
	assert_int_equal(SYS3(SYS_read, t, buf, 64), 4);
	a = snl(1, 0);				/* s takes only from t now */
	int u = nl(SOCK_RAW);
	assert_int_equal(SYS6(SYS_sendto, u, "x", 1, 0, &a, sizeof(a)), -CUB_ECONNREFUSED);
	int fds[] = { s, t, u };
	closeall_nl(3, fds);
}

/* ------------------------------------------------- readiness, overrun */

static unsigned polled(int fd)
{
	struct { int fd; short events, revents; } p = { fd, 0x2147, 0 };

	assert_true(SYS3(SYS_poll, &p, 1, 0) >= 0);
	return (unsigned)(unsigned short)p.revents;
}

static void test_nl_ready(void **state)
{
	int s = nl(SOCK_RAW | NB), ep = (int)SYS1(SYS_epoll_create1, 0);
	struct ev e = { EPOLLIN, 7 };
	long n = 0, rc;

	(void)state;
	assert_int_equal(SYS4(SYS_epoll_ctl, ep, 1, s, &e), 0);
	assert_int_equal(polled(s), EPOLLOUT | EPOLLWRNORM);
	assert_int_equal(ready(ep, 7), 0);
	assert_int_equal(SYS3(SYS_read, s, buf, 64), -CUB_EAGAIN);
	assert_int_equal(ask(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 1, 0, 17), 17);
	assert_int_equal(polled(s), EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM);
	assert_int_equal(ready(ep, 7), EPOLLIN);
	assert_int_equal(SYS3(SYS_read, s, buf, sizeof(buf)), 76);
	assert_int_equal(SYS3(SYS_read, s, buf, sizeof(buf)), 20);
	assert_int_equal(ready(ep, 7), 0);
	/* Answers that do not fit: dropped, ENOBUFS once, then the rest. */
	while ((rc = ask(s, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 2, 0, 17)) == 17 &&
	       !(polled(s) & EPOLLERR))
		n++;
	assert_int_equal(rc, 17);
	assert_true(n > 100);
	assert_int_equal(SYS3(SYS_read, s, buf, sizeof(buf)), -ENOBUFS);
	assert_int_equal(SYS3(SYS_read, s, buf, sizeof(buf)), 76);
	int fds[] = { s, ep };
	closeall_nl(2, fds);
}

/* A blocking receive waits until another socket's message arrives. */
static int bl_r, bl_s;

static void *receiver(void *arg)
{
	(void)arg;
	return (void *)SYS6(SYS_recvfrom, bl_r, buf, 64, 0, NULL, NULL);
}

static void blocking_body(void)
{
	struct sockaddr_nl a = snl(0, 0);
	struct cub_coro *co;
	void *res;

	bl_r = nl(SOCK_RAW);
	bl_s = nl(SOCK_RAW);
	assert_int_equal(SYS3(SYS_bind, bl_r, &a, sizeof(a)), 0);
	a.nl_pid = nl_name(bl_r, false).nl_pid;
	assert_int_equal(cub_coro_spawn(&co, receiver, NULL, NULL), 0);
	cub_coro_yield();
	cub_coro_yield();
	assert_int_equal(SYS6(SYS_sendto, bl_s, "wake", 4, 0, &a, sizeof(a)), 4);
	assert_int_equal(cub_coro_join(co, &res), 0);
	assert_int_equal((intptr_t)res, 4);
	int fds[] = { bl_r, bl_s };
	closeall_nl(2, fds);
}

static void test_nl_blocking(void **state)
{
	(void)state;
	run(blocking_body);
}

static void test_nl_no_leak(void **state)
{
	struct cub_heap_stats before, after;
	int s, t;

	(void)state;
	cub_heap_stats(&before);
	s = nl(SOCK_RAW);
	t = nl(SOCK_DGRAM);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(ask(s, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0, 17), 17);
		assert_int_equal(ask(t, 99, NLM_F_REQUEST, 1, 0, 17), 17);
	}
	assert_true(take(s) > 0);
	int fds[] = { s, t };			/* both close with answers queued */
	closeall_nl(2, fds);
	cub_heap_stats(&after);
	assert_int_equal(after.in_use, before.in_use);
	assert_int_equal(after.blocks, before.blocks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nl_create),
		cmocka_unit_test(test_nl_bind),
		cmocka_unit_test(test_nl_getlink),
		cmocka_unit_test(test_nl_getaddr),
		cmocka_unit_test(test_nl_errors),
		cmocka_unit_test(test_nl_batch_getlink),
		cmocka_unit_test(test_nl_calls),
		cmocka_unit_test(test_nl_ready),
		cmocka_unit_test(test_nl_blocking),
		cmocka_unit_test(test_nl_no_leak),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
