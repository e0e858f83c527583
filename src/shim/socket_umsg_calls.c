/*
 * socket_umsg_calls.c - sendto, recvfrom, sendmsg and recvmsg of AF_UNIX
 * SOCK_DGRAM and SOCK_SEQPACKET sockets, as socket_sendrecv.c hands them
 * over (sendmsg and recvmsg after its checks of the msghdr and its
 * iovecs): each takes its arguments in (the flags, a destination name,
 * the iovecs, SCM_RIGHTS), runs socket_umsg.c's cubi_umsg_send or
 * cubi_umsg_recv on the socket (which have the messages' semantics) and
 * gives the results out. socket.h is the interface.
 *
 * Flags beyond SEND_FLAGS or RECV_FLAGS: -EOPNOTSUPP. A send's
 * destination is read like Linux's move_addr_to_kernel (-EINVAL, -EFAULT)
 * and goes to cubi_umsg_send (sendmsg: a msg_name of length 0 is none);
 * sendto checks its buffer only when the message is not too long (so
 * -EMSGSIZE comes first, as on Linux); the rights of sendmsg's control
 * data (socket_rights.c) are closed when the message is not sent. A
 * receive reports the sender's name (an unnamed sender: an addrlen of 0,
 * as Linux); a message longer than the buffer: its first bytes, with
 * MSG_TRUNC in msg_flags, and MSG_TRUNC as a flag returns its real
 * length; recvmsg installs the message's rights (MSG_CTRUNC when they
 * do not fit).
 *
 * Invariants: none kept between calls; each holds a reference to the
 * socket's file while it runs (umsg_get).
 * Locking: no critical section here: socket_umsg.c takes it.
 */
#include "socket.h"
#include "socket_msg.h"

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)
#define RECV_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | \
		    MSG_CMSG_CLOEXEC)

/* The AF_UNIX message socket at fd with a reference (cubi_file_put it),
 * or NULL and *err. */
static struct cubi_sock *umsg_get(uint64_t fd, long *err)
{
	struct cubi_file *f = cubi_fd_get(fd);

	*err = f ? -CUB_ENOTSOCK : -CUB_EBADF;
	if (f && f->ops != &cubi_umsg_ops) {
		cubi_file_put(f);
		return NULL;
	}
	return f ? cub_container_of(f, struct cubi_sock, file) : NULL;
}

/* A send call: err (its arguments' checks) or the message's fate; the
 * rights left over are closed. */
static long send_fd(uint64_t fd, long err, const struct cubi_ubuf *u, size_t n,
		    struct cubi_umsg_to *to, unsigned flags, struct cubi_rights *rights)
{
	long rc;
	struct cubi_sock *s = err ? NULL : umsg_get(fd, &rc);

	if (s) {
		rc = cubi_umsg_send(s, u, n, to, flags, &rights);
		cubi_file_put(&s->file);
	}
	cubi_rights_put(rights);
	return err ? err : rc;
}

/* A receive call: the bytes copied, or (MSG_TRUNC) the real length. */
static long recv_fd(uint64_t fd, const struct cubi_ubuf *u, unsigned flags,
		    struct cubi_umsg_took *t, struct cubi_fdset *set)
{
	long rc;
	struct cubi_sock *s = umsg_get(fd, &rc);

	if (!s)
		return rc;
	rc = cubi_umsg_recv(s, u, flags, t, set);
	cubi_file_put(&s->file);
	if (rc >= 0 && (flags & MSG_TRUNC))
		rc = (long)t->len;
	return rc;
}

/* sendto(fd, buf, n, flags, dest, destlen). */
long cubi_umsg_sendto(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	uint8_t a[CUBI_ADDR_MAX];
	struct cubi_umsg_to to = { A4(r) ? a : NULL, (int)A5(r), 0 };
	long rc = 0;

	if ((unsigned)A3(r) & ~SEND_FLAGS)
		rc = -CUB_EOPNOTSUPP;
	else if (A4(r))
		rc = cubi_sock_addr_in(A4(r), (int)A5(r), a);
	if (!rc && A2(r) <= CUBI_UMSG_MAX && !cubi_user_readable(A1(r), A2(r)))
		rc = -CUB_EFAULT;		/* longer: -EMSGSIZE first */
	return send_fd(A0(r), rc, &u, A2(r), &to, (unsigned)A3(r), NULL);
}

/* The sender's name into a sockaddr_un (none: length 0, as Linux). */
static void sender(const struct cubi_umsg_took *t, struct cubi_saddr *sa)
{
	if (t->have && t->name_len)
		cubi_unix_saddr(sa, t->name, t->name_len);
	else
		*sa = (struct cubi_saddr){ { 0 }, 0 };
}

/* recvfrom(fd, buf, n, flags, src, srclen). */
long cubi_umsg_recvfrom(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	unsigned flags = (unsigned)A3(r);
	struct cubi_saddr sa;
	struct cubi_umsg_took t;
	long rc;

	if (flags & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_out_ok(A4(r), A5(r))) != 0)
		return rc;
	rc = recv_fd(A0(r), &u, flags, &t, NULL);
	if (rc < 0 || !A4(r))
		return rc;
	sender(&t, &sa);
	return cubi_sock_addr_out(A4(r), A5(r), &sa) ? -CUB_EFAULT : rc;
}

/* sendmsg: the iovecs gathered into one message to msg_name (none:
 * the destination), with the SCM_RIGHTS of the control data. */
long cubi_umsg_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	long n = cubi_iov_total(m, CUBI_UMSG_MAX), rc = n < 0 ? n : 0;
	uint8_t a[CUBI_ADDR_MAX];
	bool named = m->name && m->namelen;
	struct cubi_umsg_to to = { named ? a : NULL, (int)m->namelen, 0 };
	struct cubi_rights *rights = NULL;

	if (!rc && (flags & ~SEND_FLAGS))
		rc = -CUB_EOPNOTSUPP;
	if (!rc && named)
		rc = cubi_sock_addr_in(m->name, (int)m->namelen, a);
	if (!rc)
		rc = cubi_rights_in(m, &rights);
	return send_fd(fd, rc, &u, (size_t)CUB_MAX(n, 0), &to, flags, rights);
}

/* recvmsg: scattered into the iovecs; the sender into msg_name; msg_flags
 * MSG_TRUNC when the message did not fit (MSG_CTRUNC: rights did not);
 * the rights installed (socket_rights.c). */
long cubi_umsg_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	struct cubi_fdset set;
	struct cubi_saddr sa;
	struct cubi_umsg_took t;
	long rc;

	if (flags & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (m->name && (int32_t)m->namelen < 0)
		return -CUB_EINVAL;
	set.n = 0;
	rc = recv_fd(fd, &u, flags & ~MSG_TRUNC, &t, &set);
	m->flags = (int32_t)(flags & MSG_CMSG_CLOEXEC);	/* Linux echoes it */
	cubi_rights_out(&set, m, flags & MSG_CMSG_CLOEXEC,
			rc >= 0 && cubi_sock_passcred(fd) ? 1 : -1);
	if (rc < 0)
		return rc;
	sender(&t, &sa);
	if (m->name && cubi_copy_out(m->name, sa.b, CUB_MIN(m->namelen, sa.len)))
		return -CUB_EFAULT;
	if (m->name)
		m->namelen = sa.len;
	if (t.have && (size_t)rc < t.len)
		m->flags |= (int32_t)MSG_TRUNC;
	if (cubi_copy_out(umsg, m, sizeof(*m)))
		return -CUB_EFAULT;
	return flags & MSG_TRUNC ? (long)t.len : rc;
}
