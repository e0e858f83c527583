/*
 * socket_sendrecv.c - sendto, recvfrom, sendmsg and recvmsg for every
 * kind of socket (socket.h is the interface). They hand UDP sockets to
 * socket_udp.c and AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET ones to
 * socket_umsg_calls.c and AF_NETLINK ones to socket_netlink.c (sendmsg
 * and recvmsg after checking the msghdr and its iovecs, for every kind:
 * msg_in), and move a stream socket's bytes
 * with socket_stream.c's cubi_stream_xfer.
 *
 * The msghdr (every kind): unreadable, or for recvmsg unwritable,
 * -EFAULT; more than IOV_MAX iovecs -EMSGSIZE; an iovec of negative
 * length, or more than MAX_RW bytes in all, -EINVAL; a buffer the program
 * cannot read (receiving: write) -EFAULT.
 * Stream sockets: flags beyond SEND_FLAGS or RECV_FLAGS fail
 * -EOPNOTSUPP; a destination (sendto's, msg_name) is checked like Linux's
 * move_addr_to_kernel, then ignored (TCP) or refused (AF_UNIX:
 * -EISCONN); a call moves at most MAX_RW bytes; the iovecs go one by one
 * (msg_xfer); a send call that fails -EPIPE raises SIGPIPE
 * (cubi_signal_epipe) unless MSG_NOSIGNAL; a receive reports no source
 * address (recvfrom: *srclen 0; recvmsg: msg_namelen 0). SCM_RIGHTS
 * (socket_stream.c carries them, socket_rights.c makes and installs
 * them): sendmsg's ride on the first bytes it sends (AF_UNIX only: TCP
 * control data is -EINVAL), closed when no byte goes; recvmsg installs
 * those on the bytes it takes, recv and recvfrom close them.
 *
 * Invariants: none kept between calls; a call's struct cubi_xctx (on its
 * stack) carries its rights across the attempts and the iovecs, and it
 * puts what is left in it (not sent, taken and closed) when it ends.
 * Locking: no critical section here (cubi_sock_type and cubi_sock_domain
 * take snapshots, cubi_stream_xfer takes it for each attempt); the
 * program's buffers are checked before, and again inside by each attempt.
 */
#include <cubrt/string.h>

#include "socket.h"
#include "socket_msg.h"

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)
#define RECV_FLAGS (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)
#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */
#define IOV_MAX 1024

/* sendto's destination on a connected stream socket: checked like Linux's
 * move_addr_to_kernel, then ignored (TCP) or refused (AF_UNIX: -EISCONN). */
static long check_dest(long domain, uintptr_t u, int len)
{
	uint8_t a[CUBI_ADDR_MAX];
	long rc = cubi_sock_addr_in(u, len, a);

	if (rc == 0 && domain == CUBI_AF_UNIX && len > 0)
		rc = -CUB_EISCONN;
	return rc;
}

/* Which code serves the socket at fd: STREAM (here), UDP (socket_udp.c),
 * UMSG (socket_umsg_calls.c), NETLINK (socket_netlink.c), or
 * -EBADF/-ENOTSOCK; *domain its family. */
enum { STREAM, UDP, UMSG, NETLINK };

static long kind_of(uint64_t fd, long *domain)
{
	long type = cubi_sock_type(fd);

	*domain = cubi_sock_domain(fd);
	if (*domain == CUBI_AF_NETLINK)
		return NETLINK;
	if (type < 0 || type == CUBI_SOCK_STREAM)
		return type < 0 ? type : STREAM;
	return *domain == CUBI_AF_INET ? UDP : UMSG;
}

/* sendto(fd, buf, n, flags, dest, destlen). */
CUBI_SYS(sendto)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	size_t n = CUB_MIN(A2(r), MAX_RW);
	struct cubi_xctx x = { NULL, NULL, NULL, false };

	if (kind == UDP)
		return cubi_udp_sendto(r);
	if (kind == UMSG)
		return cubi_umsg_sendto(r);
	if (kind == NETLINK)
		return cubi_nl_sendto(r);
	if (kind < 0)
		return kind;
	if ((unsigned)A3(r) & ~SEND_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = check_dest(domain, A4(r), (int)A5(r))) != 0)
		return rc;
	if (!cubi_user_readable(A1(r), n))
		return -CUB_EFAULT;
	return cubi_signal_epipe(cubi_stream_xfer(A0(r), A1(r), n, (unsigned)A3(r), true, 0, &x),
				 A3(r) & MSG_NOSIGNAL);
}

/* recvfrom(fd, buf, n, flags, src, srclen): a connected stream socket
 * reports no source address (*srclen = 0), as on Linux. Rights on the
 * bytes are closed. */
CUBI_SYS(recvfrom)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	size_t n = CUB_MIN(A2(r), MAX_RW);
	struct cubi_xctx x = { NULL, NULL, NULL, false };
	int zero = 0;

	if (kind == UDP)
		return cubi_udp_recvfrom(r);
	if (kind == UMSG)
		return cubi_umsg_recvfrom(r);
	if (kind == NETLINK)
		return cubi_nl_recvfrom(r);
	if (kind < 0)
		return kind;
	if ((unsigned)A3(r) & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_out_ok(A4(r), A5(r))) != 0)
		return rc;
	if (!cubi_user_writable(A1(r), n))
		return -CUB_EFAULT;
	rc = cubi_stream_xfer(A0(r), A1(r), n, (unsigned)A3(r), false, 0, &x);
	cubi_rights_put(x.drop);
	if (rc >= 0 && A4(r) && cubi_copy_out(A5(r), &zero, sizeof(zero)))
		return -CUB_EFAULT;
	return rc;
}

/* ----------------------------------------------------- sendmsg, recvmsg */

/* The header and its iovecs, checked (buffers readable for sending,
 * writable for receiving; total at most MAX_RW). */
static long msg_in(uintptr_t umsg, struct msghdr_user *m, bool out)
{
	uint64_t total = 0;

	if (cubi_copy_in(m, umsg, sizeof(*m)) ||
	    (!out && !cubi_user_writable(umsg, sizeof(*m))))
		return -CUB_EFAULT;
	if (m->iovlen > IOV_MAX)
		return -CUB_EMSGSIZE;
	if (!cubi_user_readable(m->iov, m->iovlen * sizeof(struct iovec_user)))
		return -CUB_EFAULT;
	for (uint64_t i = 0; i < m->iovlen; i++) {
		struct iovec_user e;

		cub_memcpy(&e, (const void *)(m->iov + i * sizeof(e)), sizeof(e));
		if ((int64_t)e.len < 0 || (total += e.len) > MAX_RW)
			return -CUB_EINVAL;
		if (!(out ? cubi_user_readable(e.base, e.len) : cubi_user_writable(e.base, e.len)))
			return -CUB_EFAULT;
	}
	return 0;
}

/*
 * The iovecs one by one. Sending: each segment like send (all of it
 * unless non-blocking), the rights on the first bytes. Receiving: the
 * first non-empty segment may wait, the following ones take only what is
 * already there (MSG_WAITALL: each waits), peeking further in with
 * MSG_PEEK; rights end the call.
 */
static long msg_xfer(uint64_t fd, const struct msghdr_user *m, unsigned flags, bool out,
		     struct cubi_xctx *x)
{
	size_t done = 0;

	for (uint64_t i = 0; i < m->iovlen && !x->ended; i++) {
		struct iovec_user e;
		long n;

		/* Read again (msg_in checked it): the program may have
		 * changed or unmapped it while an earlier segment waited. */
		if (cubi_copy_in(&e, m->iov + i * sizeof(e), sizeof(e)))
			return done ? (long)done : -CUB_EFAULT;
		if (!e.len)
			continue;
		n = cubi_stream_xfer(fd, e.base, CUB_MIN(e.len, MAX_RW - done), flags, out,
				     done, x);
		if (n < 0)
			return done ? (long)done : n;
		done += (size_t)n;
		if ((uint64_t)n < e.len)
			break;
		if (!out && !(flags & MSG_WAITALL))
			flags |= MSG_DONTWAIT;
	}
	return (long)done;
}

/* sendmsg(fd, msg, flags): AF_UNIX sockets carry SCM_RIGHTS
 * (socket_rights.c; none is sent with zero bytes, as on Linux); TCP
 * takes no control data (-EINVAL). */
CUBI_SYS(sendmsg)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	struct cubi_xctx x = { NULL, NULL, NULL, false };
	struct msghdr_user m;

	if (kind < 0)
		return kind;
	if ((rc = msg_in(A1(r), &m, true)) != 0)
		return rc;
	if (kind == UDP)
		return cubi_udp_sendmsg(A0(r), &m, (unsigned)A2(r));
	if (kind == UMSG)
		return cubi_umsg_sendmsg(A0(r), &m, (unsigned)A2(r));
	if (kind == NETLINK)
		return cubi_nl_sendmsg(A0(r), &m, (unsigned)A2(r));
	if ((unsigned)A2(r) & ~SEND_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (m.name && (rc = check_dest(domain, m.name, (int)m.namelen)) != 0)
		return rc;
	if (domain == CUBI_AF_INET && m.controllen)
		return -CUB_EINVAL;
	if (domain == CUBI_AF_UNIX && (rc = cubi_rights_in(&m, &x.tx)) != 0)
		return rc;
	rc = msg_xfer(A0(r), &m, (unsigned)A2(r), true, &x);
	cubi_rights_put(x.tx);		/* not sent */
	return cubi_signal_epipe(rc, A2(r) & MSG_NOSIGNAL);
}

/* recvmsg(fd, msg, flags): no source address (msg_namelen 0); the
 * rights on the bytes installed (msg_controllen: what they use);
 * msg_flags 0 or MSG_CTRUNC. */
CUBI_SYS(recvmsg)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	struct cubi_fdset set;
	struct cubi_xctx x = { NULL, &set, NULL, false };
	struct msghdr_user m;

	if (kind < 0)
		return kind;
	if ((rc = msg_in(A1(r), &m, false)) != 0)
		return rc;
	if (kind == UDP)
		return cubi_udp_recvmsg(A0(r), A1(r), &m, (unsigned)A2(r));
	if (kind == UMSG)
		return cubi_umsg_recvmsg(A0(r), A1(r), &m, (unsigned)A2(r));
	if (kind == NETLINK)
		return cubi_nl_recvmsg(A0(r), A1(r), &m, (unsigned)A2(r));
	if ((unsigned)A2(r) & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	set.n = 0;
	rc = msg_xfer(A0(r), &m, (unsigned)A2(r), false, &x);
	cubi_rights_put(x.drop);	/* emptied into set */
	m.flags = (int32_t)(A2(r) & MSG_CMSG_CLOEXEC);	/* Linux echoes it */
	cubi_rights_out(&set, &m, A2(r) & MSG_CMSG_CLOEXEC,
			rc >= 0 && cubi_sock_passcred(A0(r)) ? (rc > 0) : -1);
	if (rc < 0)
		return rc;
	if (m.name)
		m.namelen = 0;
	if (cubi_copy_out(A1(r), &m, sizeof(m)))
		return -CUB_EFAULT;
	return rc;
}
