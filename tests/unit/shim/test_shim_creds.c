/*
 * test_shim_creds.c - who the process says it is, through the
 * dispatcher: the supplementary groups (kept sorted, shown by /proc's
 * status), capget and capset (every capability held, none given up),
 * and credentials over AF_UNIX sockets: SO_PASSCRED, SCM_CREDENTIALS
 * sent and received (stream, datagram, with SCM_RIGHTS, short control
 * buffers, a stream's end of file), SO_PEERCRED, and recvmsg echoing
 * MSG_CMSG_CLOEXEC in msg_flags as Linux does. Go's syscall tests
 * (TestSCMCredentials, TestSetuidEtc's groups, TestAllThreadsSyscallError)
 * found each one missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "shim_impl.h"
#include "sys.h"
#include "sock.h"
#include "fresh.h"

#define SYS_getgroups 115
#define SYS_setgroups 116
#define SYS_capget 125
#define SYS_capset 126
#define SYS_pipe_ 22
#define SO_PASSCRED 16
#define SO_PEERCRED 17
#define SCM_RIGHTS 1
#define SCM_CREDENTIALS 2
#define MSG_CTRUNC 0x8
#define MSG_CMSG_CLOEXEC 0x40000000
#define CAP_V1 0x19980330u
#define CAP_V3 0x20080522u
#define EPERM 1
#define ESRCH 3
#define EINVAL 22
#define EFAULT 14
#define ENOPROTOOPT 92

/* ------------------------------------------------------------ groups */

static char text[4096];

static const char *status_line(const char *key)
{
	int fd = (int)SYS2(SYS_open, "/proc/self/status", 0);
	long n, len = 0;
	char *p;

	assert_true(fd >= 0);
	while ((n = SYS3(SYS_read, fd, text + len, 256)) > 0)
		len += n;
	assert_int_equal(n, 0);
	text[len] = '\0';
	assert_int_equal(SYS1(SYS_close, fd), 0);
	p = strstr(text, key);
	assert_non_null(p);
	*strchr(p, '\n') = '\0';
	return p;
}

static void groups_body(void)
{
	uint32_t set[5] = { 30, 0, 7, 2, 7 }, got[8], bad[2] = { 4, 0xffffffffu };

	assert_string_equal(status_line("Groups:"), "Groups:\t");
	assert_int_equal(SYS2(SYS_setgroups, 5, set), 0);
	/* Linux sorts the list: getgroups and /proc give it back in order. */
	assert_int_equal(SYS2(SYS_getgroups, 8, got), 5);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 7);
	assert_int_equal(got[3], 7);
	assert_int_equal(got[4], 30);
	assert_string_equal(status_line("Groups:"), "Groups:\t0 2 7 7 30");
	/* (gid_t)-1 is no group: refused, the list stays. */
	assert_int_equal(SYS2(SYS_setgroups, 2, bad), -EINVAL);
	assert_int_equal(SYS2(SYS_getgroups, 0, NULL), 5);
	assert_int_equal(SYS2(SYS_setgroups, 1, &set[1]), 0);
	assert_string_equal(status_line("Groups:"), "Groups:\t0");
	assert_int_equal(SYS2(SYS_setgroups, 0, NULL), 0);
	assert_string_equal(status_line("Groups:"), "Groups:\t");
}

static void test_groups(void **state)
{
	(void)state;
	run_fresh_proc(groups_body);
}

/* ------------------------------------------------------------ capabilities */

struct cap_hdr {
	uint32_t version;
	int32_t pid;
};

struct cap_data {
	uint32_t eff, prm, inh;
};

static void caps_body(void)
{
	struct cap_hdr h = { 0x1234, 0 };
	struct cap_data d[3], all[2] = { { ~0u, ~0u, 0 }, { 0x1ff, 0x1ff, 0 } };

	assert_int_equal(SYS2(SYS_capget, NULL, NULL), -EFAULT);
	assert_int_equal(SYS2(SYS_capget, WILD, d), -EFAULT);
	/* An unknown version: version 3 written back; 0 without data. */
	assert_int_equal(SYS2(SYS_capget, &h, NULL), 0);
	assert_int_equal(h.version, CAP_V3);
	h.version = 1;
	assert_int_equal(SYS2(SYS_capget, &h, d), -EINVAL);
	assert_int_equal(h.version, CAP_V3);
	memset(d, 0xab, sizeof(d));
	assert_int_equal(SYS2(SYS_capget, &h, d), 0);
	assert_memory_equal(d, all, sizeof(all));
	assert_int_equal(d[2].eff, 0xabababab);		/* two words only */
	h = (struct cap_hdr){ CAP_V1, 1 };
	memset(d, 0xab, sizeof(d));
	assert_int_equal(SYS2(SYS_capget, &h, d), 0);
	assert_memory_equal(d, all, sizeof(all[0]));
	assert_int_equal(d[1].eff, 0xabababab);
	h = (struct cap_hdr){ CAP_V3, (int32_t)SYS0(SYS_gettid) };
	assert_int_equal(SYS2(SYS_capget, &h, d), 0);
	h.pid = -1;
	assert_int_equal(SYS2(SYS_capget, &h, d), -EINVAL);
	h.pid = 999;
	assert_int_equal(SYS2(SYS_capget, &h, d), -ESRCH);
	h.pid = 0;
	assert_int_equal(SYS2(SYS_capget, &h, WILD), -EFAULT);
	/* capset: the sets held are accepted, any change refused. */
	assert_int_equal(SYS2(SYS_capset, &h, all), 0);
	memcpy(d, all, sizeof(all));
	d[0].eff &= ~1u;			/* drop CAP_CHOWN */
	assert_int_equal(SYS2(SYS_capset, &h, d), -EPERM);
	d[0].eff = ~0u;
	d[1].inh = 1;
	assert_int_equal(SYS2(SYS_capset, &h, d), -EPERM);
	h.pid = 999;
	assert_int_equal(SYS2(SYS_capset, &h, all), -EPERM);
	h = (struct cap_hdr){ CAP_V1, 0 };	/* the high words become 0 */
	assert_int_equal(SYS2(SYS_capset, &h, all), -EPERM);
	h = (struct cap_hdr){ 7, 0 };
	assert_int_equal(SYS2(SYS_capset, &h, all), -EINVAL);
	assert_int_equal(SYS2(SYS_capset, WILD, all), -EFAULT);
	h.version = CAP_V3;
	assert_int_equal(SYS2(SYS_capset, &h, WILD), -EFAULT);
}

static void test_caps(void **state)
{
	(void)state;
	run(caps_body);
}

/* ------------------------------------------------------------ credentials */

struct cmsg {
	uint64_t len;
	int32_t level, type;
};

struct ucred_msg {		/* CMSG_SPACE(sizeof(struct ucred)) = 32 */
	struct cmsg h;
	int32_t pid;
	uint32_t uid, gid, pad;
};

static struct ucred_msg cred(int32_t pid, uint32_t uid, uint32_t gid)
{
	return (struct ucred_msg){ { 28, SOL_SOCKET, SCM_CREDENTIALS }, pid, uid, gid, 0 };
}

/* sendmsg of n bytes of "x" with control data ctl[0..len). */
static long send_ctl(int fd, size_t n, const void *ctl, size_t len)
{
	struct iov v = { "xyz", n };
	struct msghdr m = { NULL, 0, &v, 1, (void *)ctl, len, 0 };

	return SYS3(SYS_sendmsg, fd, &m, 0);
}

static unsigned char ctl[128];

/* recvmsg of up to 4 bytes into a control buffer of len bytes (NULL
 * when len is 0): the count; *m as the call left it. */
static long recv_ctl(int fd, size_t len, unsigned flags, struct msghdr *m)
{
	static char buf[4];
	static struct iov v = { buf, sizeof(buf) };

	memset(ctl, 0xee, sizeof(ctl));
	*m = (struct msghdr){ NULL, 0, &v, 1, len ? ctl : NULL, len, -1 };
	return SYS3(SYS_recvmsg, fd, m, flags);
}

/* The control buffer holds the credentials {pid, 0, 0} first. */
static void got_cred(int32_t pid)
{
	struct ucred_msg want = cred(pid, 0, 0);

	assert_memory_equal(ctl, &want, 28);
}

static void passcred_errors(int fd)
{
	struct ucred_msg c = cred(1, 5, 0);

	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EPERM);	/* another user */
	c = cred(1, 0, 9);
	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EPERM);
	c = cred(2, 0, 0);
	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EPERM);	/* another process */
	c = cred(1, 0xffffffffu, 0);
	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EINVAL);	/* no uid */
	c = cred(1, 0, 0);
	c.h.len = 24;
	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EINVAL);
	c.h.len = 32;
	assert_int_equal(send_ctl(fd, 1, &c, sizeof(c)), -EINVAL);
}

static void stream_body(void)
{
	int sv[2], p[2], len = 12, pc[3];
	struct ucred_msg c = cred(1, 0, 0);
	struct msghdr m;
	struct {
		struct ucred_msg c;
		struct cmsg h;
		int32_t fd, pad;
	} both;

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, SO_PASSCRED), 0);
	/* Without SO_PASSCRED the credentials sent are not reported. */
	assert_int_equal(send_ctl(sv[1], 1, &c, sizeof(c)), 1);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), MSG_CMSG_CLOEXEC, &m), 1);
	assert_int_equal(m.controllen, 0);
	assert_int_equal(m.flags, MSG_CMSG_CLOEXEC);	/* echoed, as Linux */
	assert_int_equal(setopt_int(sv[0], SOL_SOCKET, SO_PASSCRED, 1), 0);
	assert_int_equal(getopt_int(sv[0], SOL_SOCKET, SO_PASSCRED), 1);
	passcred_errors(sv[1]);
	assert_int_equal(send_ctl(sv[1], 1, &c, sizeof(c)), 1);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), MSG_CMSG_CLOEXEC, &m), 1);
	assert_int_equal(m.flags, MSG_CMSG_CLOEXEC);
	assert_int_equal(m.controllen, 32);
	got_cred(1);
	/* Sent or not, a receive with SO_PASSCRED reports them. */
	assert_int_equal(send_ctl(sv[1], 2, NULL, 0), 2);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), 0, &m), 2);
	assert_int_equal(m.flags, 0);
	assert_int_equal(m.controllen, 32);
	got_cred(1);
	/* With SCM_RIGHTS: the credentials first, the rights after them. */
	assert_int_equal(SYS1(SYS_pipe_, p), 0);
	both.c = c;
	both.h = (struct cmsg){ 20, SOL_SOCKET, SCM_RIGHTS };
	both.fd = p[0];
	assert_int_equal(send_ctl(sv[1], 1, &both, 56), 1);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), 0, &m), 1);
	assert_int_equal(m.controllen, 56);
	got_cred(1);
	memcpy(&both, ctl, sizeof(both));
	assert_int_equal(both.h.len, 20);
	assert_int_equal(both.h.type, SCM_RIGHTS);
	assert_true(both.fd > p[1]);
	assert_int_equal(SYS1(SYS_close, both.fd), 0);
	/* Short control buffers: put_cmsg's truncation; none: nothing. */
	assert_int_equal(send_ctl(sv[1], 3, NULL, 0), 3);
	assert_int_equal(recv_ctl(sv[0], 20, MSG_PEEK, &m), 3);
	assert_int_equal(m.flags, MSG_CTRUNC);
	assert_int_equal(m.controllen, 20);
	assert_int_equal(((struct cmsg *)ctl)->len, 20);
	assert_int_equal(ctl[20], 0xee);
	assert_int_equal(recv_ctl(sv[0], 8, MSG_PEEK, &m), 3);
	assert_int_equal(m.flags, MSG_CTRUNC);
	assert_int_equal(m.controllen, 0);
	assert_int_equal(ctl[0], 0xee);
	assert_int_equal(recv_ctl(sv[0], 0, 0, &m), 3);
	assert_int_equal(m.flags, 0);
	/* A stream's end of file: credentials of nobody in particular. */
	assert_int_equal(SYS1(SYS_close, sv[1]), 0);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), 0, &m), 0);
	assert_int_equal(m.controllen, 32);
	got_cred(0);
	/* SO_PEERCRED: the pair's other end is this process. */
	assert_int_equal(SYS6(SYS_getsockopt, sv[0], SOL_SOCKET, SO_PEERCRED, pc, &len, 0), 0);
	assert_int_equal(len, 12);
	assert_int_equal(pc[0], 1);
	assert_int_equal(pc[1] | pc[2], 0);
	closeall(1, sv);
	closeall(2, p);
}

static void test_stream(void **state)
{
	(void)state;
	run(stream_body);
}

static void dgram_body(void)
{
	int sv[2], s, len = 12, pc[3];
	struct ucred_msg c = cred(1, 0, 0);
	struct msghdr m;

	assert_int_equal(SYS4(SYS_socketpair, AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	assert_int_equal(setopt_int(sv[0], SOL_SOCKET, SO_PASSCRED, 1), 0);
	passcred_errors(sv[1]);
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), MSG_DONTWAIT, &m), -11);	/* EAGAIN */
	assert_int_equal(send_ctl(sv[1], 0, &c, sizeof(c)), 0);	/* a message of 0 bytes */
	assert_int_equal(recv_ctl(sv[0], sizeof(ctl), MSG_CMSG_CLOEXEC, &m), 0);
	assert_int_equal(m.flags, MSG_CMSG_CLOEXEC);
	assert_int_equal(m.controllen, 32);
	got_cred(1);
	assert_int_equal(send_ctl(sv[0], 3, NULL, 0), 3);	/* sv[1]: no SO_PASSCRED */
	assert_int_equal(recv_ctl(sv[1], sizeof(ctl), 0, &m), 3);
	assert_int_equal(m.controllen, 0);
	assert_int_equal(m.flags, 0);
	/* An unconnected socket has no peer credentials. */
	s = (int)SYS3(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, SO_PEERCRED, pc, &len, 0), 0);
	assert_int_equal(pc[0], 0);
	assert_int_equal(pc[1], -1);
	assert_int_equal(pc[2], -1);
	closeall(2, sv);
	closeall(1, &s);
}

static void test_dgram(void **state)
{
	(void)state;
	run(dgram_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_dgram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
