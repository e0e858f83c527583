/*
 * socket_io.c - the data side of the stream sockets (socket.c has the
 * sockets and connections; socket.h is the interface): the receive rings,
 * the read/write/poll ops the fd layer runs, sendto/recvfrom,
 * sendmsg/recvmsg (iovecs; SCM_RIGHTS on AF_UNIX). The send/recv calls
 * hand UDP sockets to socket_udp.c and AF_UNIX SOCK_DGRAM and
 * SOCK_SEQPACKET ones to socket_umsg.c (after the msghdr checks, for
 * sendmsg/recvmsg). The options are socket_opt.c's.
 *
 * A socket's ring holds what its peer sent and it has not read; a send
 * appends to the peer's ring what fits (-EAGAIN when it is full, and the
 * caller waits or, non-blocking, fails), a receive takes from the front
 * of its own. End of file: our SHUT_RD, or the peer's SHUT_WR or close,
 * once the ring is empty. A send fails with -EPIPE after our SHUT_WR or
 * the peer's close (a reset connection: -ECONNRESET once first); with
 * AF_UNIX also after the peer's SHUT_RD, as on Linux. A send call that
 * fails -EPIPE raises SIGPIPE (cubi_signal_epipe) unless MSG_NOSIGNAL.
 *
 * SCM_RIGHTS on a stream (socket_rights.c has the rest): a sendmsg's
 * rights ride on the first bytes it puts into the peer's ring (none with
 * zero bytes, as on Linux), recorded by their positions there (rx_pos).
 * A receive never reads past rights: one that starts before them stops
 * where they begin; one that starts at them takes them (MSG_PEEK:
 * copies) and stops where the bytes they rode on end. recvmsg installs
 * them; recv and recvfrom close them; read and readv (the fd layer's read
 * op, which cannot close files) park them on the socket's stale list,
 * closed when the socket closes.
 *
 * Invariants: 0 <= len <= CUBI_SOCK_RING, the bytes start at head (mod
 * CUBI_SOCK_RING); rx_pos - rd_pos == len; rights are in position order,
 * the first one's end > rd_pos (taken rights leave the list); every
 * change of what cubi_sock_poll reports goes through cubi_sock_changed;
 * only a receive that is no peek takes bytes from the front, a send only
 * appends (sendfile peeks, then reads what it sent: fs_xfer.c; while it
 * holds the socket's file, receives find it empty).
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket; the calls check user buffers before entering it
 * and wait outside it (cubi_file_wait with the sequence sampled inside),
 * like fd.c's transfer.
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)
#define RECV_FLAGS (MSG_PEEK | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | MSG_CMSG_CLOEXEC)
#define MAX_RW (0x7ffff000ul)	/* Linux's MAX_RW_COUNT */
#define IOV_MAX 1024

static struct cubi_sock *of_sock(struct cubi_file *f)
{
	return cub_container_of(f, struct cubi_sock, file);
}

/* ------------------------------------------------------------- rings */

/* Copies up to n bytes from s's ring, skip bytes in, into buf; takes them
 * out of the ring unless peek. */
static size_t ring_get(struct cubi_sock *s, void *buf, size_t n, size_t skip, bool peek)
{
	size_t k = CUB_MIN(n, s->len - skip);
	size_t at = (s->head + skip) % CUBI_SOCK_RING;
	size_t first = CUB_MIN(k, CUBI_SOCK_RING - at);

	cub_memcpy(buf, s->ring + at, first);
	cub_memcpy((unsigned char *)buf + first, s->ring, k - first);
	if (!peek) {
		s->head = (s->head + k) % CUBI_SOCK_RING;
		s->len -= k;
		s->rd_pos += k;
	}
	return k;
}

/* Appends what fits of buf[0..n) to s's ring; returns the count. */
static size_t ring_put(struct cubi_sock *s, const void *buf, size_t n)
{
	size_t k = CUB_MIN(n, CUBI_SOCK_RING - s->len);
	size_t tail = (s->head + s->len) % CUBI_SOCK_RING;
	size_t first = CUB_MIN(k, CUBI_SOCK_RING - tail);

	cub_memcpy(s->ring + tail, buf, first);
	cub_memcpy(s->ring, (const unsigned char *)buf + first, k - first);
	s->len += k;
	s->rx_pos += k;
	return k;
}

/* ------------------------------------------------------- SCM_RIGHTS */

/* What one send or receive call carries across its attempts. */
struct xctx {
	struct cubi_rights *tx;	/* send: rights for its first bytes */
	struct cubi_fdset *set;	/* recvmsg: where rights go (NULL: closed) */
	struct cubi_rights *drop;	/* receive: taken rights to close */
	bool ended;		/* receive: at or past rights: the call ends */
};

/* A send put k bytes (the last ones of peer's ring) in: x's rights ride
 * on them (irq off). */
static void attach(struct cubi_sock *peer, size_t k, struct xctx *x)
{
	struct cubi_rights *r = x ? x->tx : NULL;

	if (!r || !k)
		return;
	r->start = peer->rx_pos - k;
	r->end = peer->rx_pos;
	r->holder = peer;
	cub_list_push_back(&peer->rights, &r->link);
	x->tx = NULL;
}

/*
 * How many bytes a receive at ring offset skip may take (irq off): up to
 * the next rights. Rights riding on the next byte go with the call's
 * first read (taken, or peeked: copies), which stops at their bytes' end;
 * a later read stops before them (-EAGAIN, x->ended). x NULL (the read
 * op): they go to s->stale, closed with the socket.
 */
static long rights_room(struct cubi_sock *s, size_t skip, bool peek, bool first, struct xctx *x)
{
	uint64_t at = s->rd_pos + skip;
	struct cubi_rights *r;

	if (cub_list_empty(&s->rights))
		return CUBI_SOCK_RING;
	r = cub_container_of(cub_list_first(&s->rights), struct cubi_rights, link);
	if (r->start > at)
		return (long)CUB_MIN(r->start - at, (uint64_t)CUBI_SOCK_RING);
	if (x)
		x->ended = true;
	if (!first)
		return -CUB_EAGAIN;
	if (x && x->set)
		(void)cubi_rights_grab(r, x->set, peek);
	if (!peek) {
		cub_list_del(&r->link);
		if (x) {
			x->drop = r;	/* emptied by the grab, or to close */
			r->holder = NULL;
		} else
			cub_list_push_back(&s->stale, &r->link);
	}
	return (long)(r->end - at);
}

/* Nothing more will arrive: SHUT_RD here, the peer gone or SHUT_WR. */
static bool at_eof(const struct cubi_sock *s)
{
	return s->rd_shut || !s->peer || s->peer->wr_shut;
}

/* A write fails at once (-EPIPE or the pending error) instead of
 * waiting: our SHUT_WR, the peer gone, or (AF_UNIX, as on Linux) the
 * peer's SHUT_RD. */
static bool send_broken(const struct cubi_sock *s)
{
	return s->wr_shut || !s->peer || (s->domain == CUBI_AF_UNIX && s->peer->rd_shut);
}

/* One receive attempt (irq off; buf checked): bytes, 0 at end of file,
 * -EAGAIN while the caller must wait (or, x->ended, stop). skip: peek
 * that far in; first: the call's first read. */
static long recv_locked(struct cubi_sock *s, void *buf, size_t n, size_t skip, bool peek,
			bool first, struct xctx *x)
{
	long e = -s->err, room;

	if (s->state != CUBI_SOCK_CONNECTED)
		return -CUB_ENOTCONN;
	if (n == 0)
		return 0;
	if (s->file.held)	/* a sendfile owns the front (fs_xfer.c) */
		return -CUB_EAGAIN;
	if (s->len > skip) {
		size_t k;

		if ((room = rights_room(s, skip, peek, first, x)) < 0)
			return room;
		k = ring_get(s, buf, CUB_MIN(n, (size_t)room), skip, peek);

		if (!peek)
			cubi_sock_changed(s);	/* room for the peer's writes */
		return (long)k;
	}
	if (e) {
		s->err = 0;
		cubi_sock_changed(s);
		return e;
	}
	return at_eof(s) ? 0 : -CUB_EAGAIN;
}

/* One send attempt (irq off; buf checked): bytes, or -EAGAIN while the
 * peer's ring is full. x's rights ride on the first bytes it puts. */
static long send_locked(struct cubi_sock *s, const void *buf, size_t n, struct xctx *x)
{
	size_t k;

	if (s->state != CUBI_SOCK_CONNECTED)
		return -CUB_ENOTCONN;
	if (send_broken(s) && s->err) {		/* reset: say so once */
		long e = -s->err;

		s->err = 0;
		cubi_sock_changed(s);
		return e;
	}
	if (send_broken(s))
		return -CUB_EPIPE;
	if (n == 0)
		return 0;
	k = ring_put(s->peer, buf, n);
	if (k == 0)
		return -CUB_EAGAIN;
	attach(s->peer, k, x);
	cubi_sock_changed(s);
	return (long)k;
}

/* ------------------------------------------------------------ file ops */

long cubi_sock_read(struct cubi_file *f, void *buf, size_t n)
{
	return recv_locked(of_sock(f), buf, n, 0, false, true, NULL);
}

/* read's bytes, left in the ring (sendfile's source): rights stay. */
long cubi_sock_peek(struct cubi_file *f, void *buf, size_t n)
{
	return recv_locked(of_sock(f), buf, n, 0, true, true, NULL);
}

long cubi_sock_write(struct cubi_file *f, const void *buf, size_t n)
{
	return send_locked(of_sock(f), buf, n, NULL);
}

/* Linux's tcp_poll, as far as it applies: an unconnected socket is
 * writable and hung up; a listener is readable with a queued connection. */
uint32_t cubi_sock_poll(struct cubi_file *f)
{
	struct cubi_sock *s = of_sock(f);
	uint32_t ev = s->err ? CUBI_EPOLLERR : 0;

	if (s->state == CUBI_SOCK_LISTENING)
		return cub_list_empty(&s->queue) ? ev : ev | CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (s->state == CUBI_SOCK_UNCONNECTED)
		return ev | CUBI_EPOLLOUT | CUBI_EPOLLWRNORM | CUBI_EPOLLHUP;
	if (!s->file.held && (s->len || at_eof(s)))	/* held: as if empty */
		ev |= CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (!s->file.held && at_eof(s))
		ev |= CUBI_EPOLLRDHUP;
	if (!s->peer || (at_eof(s) && s->wr_shut))
		ev |= CUBI_EPOLLHUP;
	if (!s->wr_shut && (send_broken(s) || s->peer->len < CUBI_SOCK_RING))
		ev |= CUBI_EPOLLOUT | CUBI_EPOLLWRNORM;
	return ev;
}

/* ------------------------------------------------------- send and recv */

/*
 * Moves up to n bytes between the (checked) buffer and socket fd, like
 * the fd layer's transfer but with the send/recv flags: MSG_DONTWAIT
 * makes this one call non-blocking, a blocking send goes on until all n
 * bytes are in, a receive returns what is there (MSG_WAITALL: waits for n
 * bytes unless end of file comes first). skip: what the call moved
 * before (MSG_PEEK looks that far in). x: the call's SCM_RIGHTS (a
 * receive ends with the bytes rights ride on, and before further ones).
 * The callers checked the buffer; each attempt checks again what it may
 * touch, inside the critical section, since another thread may have
 * unmapped it while this one waited.
 */
static long xfer(uint64_t fd, uintptr_t buf, size_t n, unsigned flags, bool out, size_t skip,
		 struct xctx *x)
{
	bool peek = flags & MSG_PEEK, all = out || (flags & MSG_WAITALL);
	size_t done = 0;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		long r;
		struct cubi_sock *s = cubi_sock_at(fd, &r);
		uint32_t seq = s ? cubi_file_seq(&s->file) : 0;
		bool nonblock = !s || (s->file.flags & CUBI_O_NONBLOCK) || (flags & MSG_DONTWAIT);
		size_t most = CUB_MIN(n - done, CUBI_SOCK_RING);	/* one attempt's */
		bool wait;

		if (s && !(out ? cubi_user_readable(buf + done, most)
			       : cubi_user_writable(buf + done, most)))
			r = -CUB_EFAULT;
		else if (s && out)
			r = send_locked(s, (const void *)(buf + done), n - done, x);
		else if (s)
			r = recv_locked(s, (void *)(buf + done), n - done, peek ? skip + done : 0,
					peek, skip + done == 0, x);
		wait = r == -CUB_EAGAIN && !nonblock && !x->ended;
		if (wait)	/* held while it waits on s's word */
			s->file.refs++;
		cub_arch_irq_restore(irq);
		if (r >= 0)
			done += (size_t)r;
		if (r >= 0 && (r == 0 || done == n || nonblock || !all || x->ended))
			return (long)done;
		if (r == -CUB_EAGAIN && x->ended)
			return (long)done;	/* before further rights */
		if (r < 0 && (r != -CUB_EAGAIN || nonblock))
			return done ? (long)done : r;
		if (wait && cubi_file_wait_put(&s->file, seq, out ? "socket send" : "socket recv")
			    == -CUB_EINTR)
			return done ? (long)done : -CUB_EINTR;
	}
}

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
 * UMSG (socket_umsg.c), or -EBADF/-ENOTSOCK; *domain its family. */
enum { STREAM, UDP, UMSG };

static long kind_of(uint64_t fd, long *domain)
{
	long type = cubi_sock_type(fd);

	*domain = cubi_sock_domain(fd);
	if (type < 0 || type == CUBI_SOCK_STREAM)
		return type < 0 ? type : STREAM;
	return *domain == CUBI_AF_INET ? UDP : UMSG;
}

/* sendto(fd, buf, n, flags, dest, destlen). */
CUBI_SYS(sendto)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	size_t n = CUB_MIN(A2(r), MAX_RW);
	struct xctx x = { NULL, NULL, NULL, false };

	if (kind == UDP)
		return cubi_udp_sendto(r);
	if (kind == UMSG)
		return cubi_umsg_sendto(r);
	if (kind < 0)
		return kind;
	if ((unsigned)A3(r) & ~SEND_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = check_dest(domain, A4(r), (int)A5(r))) != 0)
		return rc;
	if (!cubi_user_readable(A1(r), n))
		return -CUB_EFAULT;
	return cubi_signal_epipe(xfer(A0(r), A1(r), n, (unsigned)A3(r), true, 0, &x),
				 A3(r) & MSG_NOSIGNAL);
}

/* recvfrom(fd, buf, n, flags, src, srclen): a connected stream socket
 * reports no source address (*srclen = 0), as on Linux. Rights on the
 * bytes are closed. */
CUBI_SYS(recvfrom)
{
	long domain, rc, kind = kind_of(A0(r), &domain);
	size_t n = CUB_MIN(A2(r), MAX_RW);
	struct xctx x = { NULL, NULL, NULL, false };
	int zero = 0;

	if (kind == UDP)
		return cubi_udp_recvfrom(r);
	if (kind == UMSG)
		return cubi_umsg_recvfrom(r);
	if (kind < 0)
		return kind;
	if ((unsigned)A3(r) & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_out_ok(A4(r), A5(r))) != 0)
		return rc;
	if (!cubi_user_writable(A1(r), n))
		return -CUB_EFAULT;
	rc = xfer(A0(r), A1(r), n, (unsigned)A3(r), false, 0, &x);
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
		     struct xctx *x)
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
		n = xfer(fd, e.base, CUB_MIN(e.len, MAX_RW - done), flags, out, done, x);
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
	struct xctx x = { NULL, NULL, NULL, false };
	struct msghdr_user m;

	if (kind < 0)
		return kind;
	if ((rc = msg_in(A1(r), &m, true)) != 0)
		return rc;
	if (kind == UDP)
		return cubi_udp_sendmsg(A0(r), &m, (unsigned)A2(r));
	if (kind == UMSG)
		return cubi_umsg_sendmsg(A0(r), &m, (unsigned)A2(r));
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
	struct xctx x = { NULL, &set, NULL, false };
	struct msghdr_user m;

	if (kind < 0)
		return kind;
	if ((rc = msg_in(A1(r), &m, false)) != 0)
		return rc;
	if (kind == UDP)
		return cubi_udp_recvmsg(A0(r), A1(r), &m, (unsigned)A2(r));
	if (kind == UMSG)
		return cubi_umsg_recvmsg(A0(r), A1(r), &m, (unsigned)A2(r));
	if ((unsigned)A2(r) & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	set.n = 0;
	rc = msg_xfer(A0(r), &m, (unsigned)A2(r), false, &x);
	cubi_rights_put(x.drop);	/* emptied into set */
	m.flags = 0;
	cubi_rights_out(&set, &m, A2(r) & MSG_CMSG_CLOEXEC);
	if (rc < 0)
		return rc;
	if (m.name)
		m.namelen = 0;
	if (cubi_copy_out(A1(r), &m, sizeof(m)))
		return -CUB_EFAULT;
	return rc;
}
