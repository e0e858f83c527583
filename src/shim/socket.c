/*
 * socket.c - Linux's socket calls for a network of one machine: TCP and
 * UDP over IPv4 loopback (127.0.0.0/8; 0.0.0.0 as a destination means the
 * machine itself) and AF_UNIX sockets of the three types -- SOCK_STREAM
 * and SOCK_SEQPACKET (socketpair, or bound to a path or an abstract name,
 * listening and connecting like TCP) and SOCK_DGRAM (socketpair, or
 * bound, sending to names or a connected destination) -- with SCM_RIGHTS,
 * in memory. Enough for Go's net package (Listen/Accept/Dial for "tcp"
 * and "unix", ListenPacket/DialUDP, deadlines through epoll) and for C
 * programs' socket/bind/listen/accept/connect/send/recv/sendto/recvfrom/
 * sendmsg/recvmsg, descriptor passing included.
 * UDP's data side is socket_udp.c, whose header comment has its
 * semantics; this file creates, binds and shuts down UDP sockets like the
 * others (socket_addr.c keeps their ports and names them) and hands
 * connect to socket_udp.c. AF_UNIX names (bind, connect's lookup of the
 * listener) are socket_unix.c's, whose header comment has their
 * semantics; the connection is made here as for TCP.
 * AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET data are socket_umsg.c's and
 * SCM_RIGHTS socket_rights.c's (their header comments have the
 * semantics).
 *
 * A connection is two sockets, each with its own receive ring: a write
 * copies into the peer's ring (partially when it is nearly full; -EAGAIN
 * when it is full, and the caller waits like a pipe writer), a read takes
 * from the socket's own ring. connect completes at once: it creates the
 * server side's socket, queues it on the listener's accept queue and
 * connects both ends; accept takes the oldest queued one. The same for
 * AF_UNIX, whose accepted socket has its listener's name and its
 * client's (unnamed unless the client bound one), and whose client has
 * the listener's name as its peer's; SOCK_SEQPACKET the same, with
 * messages instead of a ring. There is no handshake and no TIME_WAIT. A
 * send on a stream socket that fails -EPIPE raises SIGPIPE on the caller
 * unless MSG_NOSIGNAL (socket_sendrecv.c; signal.c's cubi_signal_epipe);
 * datagram and seqpacket sockets never raise it, as on Linux.
 *
 * Choices where Linux leaves room or where this is simpler than Linux:
 *  - AF_INET6 and other families: -EAFNOSUPPORT (Go then uses IPv4 only);
 *    types other than SOCK_STREAM, SOCK_DGRAM and (AF_UNIX)
 *    SOCK_SEQPACKET: -ESOCKTNOSUPPORT (AF_UNIX SOCK_RAW too, which Linux
 *    takes as SOCK_DGRAM). listen and accept on SOCK_DGRAM: -EOPNOTSUPP.
 *    listen on an unbound AF_UNIX socket: -EINVAL (Linux; no autobind),
 *    on an unbound TCP one: an ephemeral port. Control data: SCM_RIGHTS
 *    on AF_UNIX sockets only, and SCM_CREDENTIALS with SO_PASSCRED
 *    (socket_rights.c); TCP and UDP take none.
 *  - Ports conflict when their addresses overlap (equal, or one is
 *    0.0.0.0) and the sockets have the same type: TCP and UDP ports are
 *    separate namespaces. SO_REUSEADDR/SO_REUSEPORT are recorded and
 *    change nothing.
 *    An accepted socket shares its listener's port and holds none itself.
 *    Ephemeral ports (bind to port 0, listen and connect unbound) come
 *    from 32768-60999, round robin.
 *  - A full accept queue (max(backlog, 1) entries, at most 4096; a
 *    negative backlog means 4096 as on Linux; AF_UNIX too, where Linux
 *    queues backlog + 1): a blocking connect waits
 *    until accept makes room, a non-blocking one fails with -EAGAIN (as
 *    Linux's AF_UNIX connect does; loopback TCP cannot say EINPROGRESS
 *    here without a half-open state).
 *  - A listener that closes (or shutdown(SHUT_RD) on it) resets its
 *    queued connections: their clients read -ECONNRESET once (SO_ERROR
 *    too), then end of file; writes then fail with -EPIPE.
 *  - Closing a connected socket drops its unread data; the peer reads
 *    what is in its own ring, then end of file; its writes fail -EPIPE,
 *    except (TCP, as Linux) the first one after a clean close (nothing
 *    unread, no SO_LINGER 0), which succeeds and goes nowhere: on Linux
 *    the closed end answers it with the RST that fails the next one.
 *    A TCP socket closed with SO_LINGER {1, 0} or unread data resets
 *    the connection instead, as Linux: the peer reads its ring, then
 *    -ECONNRESET once (a write: the same, once), then end of file and
 *    -EPIPE; a peer that had this end's FIN (SHUT_WR before) reads end
 *    of file and has EPIPE pending (SO_ERROR, poll's EPOLLERR, a write).
 *  - Reading or writing a socket that is not connected: -ENOTCONN (Linux
 *    gives -EPIPE for a write on an unconnected TCP socket).
 *  - getsockopt with *optlen < 4: -EINVAL (Linux truncates).
 *  - shutdown of a UDP socket: -ENOTCONN unless connected (Linux marks
 *    it all the same); see socket_udp.c for what SHUT_RD/SHUT_WR do. An
 *    AF_UNIX SOCK_DGRAM socket shuts down in any state (socket_umsg.c).
 *
 * Invariants: a TCP or UDP socket is on socket_addr.c's `bound` iff it
 * holds its port (in_table; AF_UNIX: socket_unix.c's invariants);
 * state CONNECTED with peer NULL means the peer is gone (closed, or the
 * connection was reset); a.peer == &b iff b.peer == &a; a socket on a
 * listener's queue has no descriptor yet (refs 0), listener points back
 * to it, and the listener's qlen counts the queue; each ring holds len <=
 * RING bytes from head (mod RING). Every change of what a socket's poll
 * op reports goes through cubi_file_changed for that socket (and for its
 * peer, when theirs changes), then cubi_io_changed(): a call blocked on
 * one socket sleeps on that socket's word (file_wakes); only connect
 * waiting for room in a listener's queue and an AF_UNIX datagram send
 * waiting for room at its destination sleep on io_seq, with poll and
 * epoll_wait.
 *
 * This file makes and frees sockets; socket_bind.c binds them, listens
 * on them and shuts them down; socket_addr.c copies addresses in and out, names sockets (getsockname,
 * getpeername) and keeps the ports; socket_conn.c connects and accepts;
 * socket_stream.c moves stream data; socket_sendrecv.c has the send and
 * receive calls; socket_opt.c has the options; socket_udp.c has
 * datagrams; socket_dgram.c the message queue UDP and socket_umsg.c
 * (AF_UNIX messages; socket_umsg_calls.c their calls) share;
 * socket_rights.c passes descriptors; socket_unix.c names AF_UNIX
 * sockets (socket.h is their interface). A socket's free op (destroy)
 * closes what it still holds: unread messages and rights, a listener's
 * unaccepted connections.
 *
 * Locking: the fd layer's critical section (interrupts disabled, see
 * fd.c) around every look at or change of socket state, the port table
 * and the queues. Allocation and freeing happen outside it: connect and
 * socketpair allocate first; a released listener's queued sockets are
 * freed by the free op, after the critical section. AF_UNIX bind and
 * connect's lookup take the fs lock first (socket_unix.c): bind holds a
 * reference to the socket instead of the critical section, connect looks
 * the name up between two attempts and finds the listener by id inside.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

#define AF_INET6 10
#define SOCK_TYPE_MASK 0xf
#define SOCK_MAX 11		/* types Linux knows: below this */
#define SOCK_FLAGS (CUBI_O_NONBLOCK | CUBI_O_CLOEXEC)
#define S_IFSOCK 0140000u

static const struct cubi_file_ops sock_ops;

static struct cubi_sock *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct cubi_sock, file);
}

static bool is_sock(const struct cubi_file *f)
{
	return f->ops == &sock_ops || f->ops == &cubi_udp_ops || f->ops == &cubi_umsg_ops ||
	       f->ops == &cubi_nl_ops;
}

struct cubi_sock *cubi_sock_of(struct cubi_file *f)
{
	return is_sock(f) ? of_file(f) : NULL;
}

struct cubi_sock *cubi_sock_at(uint64_t fd, long *err)
{
	struct cubi_file *f = cubi_fd_file(fd);

	*err = f ? -CUB_ENOTSOCK : -CUB_EBADF;
	return f && is_sock(f) ? of_file(f) : NULL;
}

static long kind_of(uint64_t fd, bool type)
{
	unsigned long irq = cub_arch_irq_save();
	long rc;
	struct cubi_sock *s = cubi_sock_at(fd, &rc);

	if (s)
		rc = type ? s->type : s->domain;
	cub_arch_irq_restore(irq);
	return rc;
}

long cubi_sock_domain(uint64_t fd)
{
	return kind_of(fd, false);
}

long cubi_sock_type(uint64_t fd)
{
	return kind_of(fd, true);
}

long cubi_sock_take_err(struct cubi_sock *s)
{
	long e = -s->err;

	if (e) {
		s->err = 0;
		cubi_sock_changed(s);
	}
	return e;
}

void cubi_sock_changed(struct cubi_sock *s)
{
	cubi_file_changed(&s->file);
	if (s->peer)
		cubi_file_changed(&s->peer->file);
	cubi_io_changed();
}

void cubi_sock_reset_queue(struct cubi_sock *l)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &l->queue) {
		struct cubi_sock *q = cub_container_of(pos, struct cubi_sock, qlink);
		struct cubi_sock *c = q->peer;

		q->listener = NULL;
		q->peer = NULL;
		if (c) {
			c->peer = NULL;
			c->err = CUB_ECONNRESET;
			cubi_file_changed(&c->file);
		}
	}
	cubi_io_changed();
}

/* Frees s and what it holds (interrupts enabled; nothing refers to it):
 * unread messages, SCM_RIGHTS in flight to it, a listener's queue. */
static void destroy(struct cubi_sock *s);

void cubi_sock_free_queue(struct cub_list *q)
{
	while (!cub_list_empty(q))
		destroy(cub_container_of(cub_list_pop_front(q), struct cubi_sock, qlink));
}

static void destroy(struct cubi_sock *s)
{
	unsigned long irq;

	if (s->tn) {		/* queued, never accepted: reset on the card */
		irq = cub_arch_irq_save();
		cubi_tcpnet_detach(s, true);
		cub_arch_irq_restore(irq);
	}
	cubi_sock_free_queue(&s->queue);	/* a listener's reset connections */
	while (!cub_list_empty(&s->dgrams))
		cubi_dgram_free(cub_container_of(cub_list_pop_front(&s->dgrams),
						 struct cubi_dgram, link));
	cubi_rights_drop_all(s);
	cub_free(s);
}

/* Whether AF_UNIX socket s holds data its program never read: stream
 * bytes in its ring, or SOCK_SEQPACKET messages (irq off). */
static bool unix_unread(const struct cubi_sock *s)
{
	return s->type == CUBI_SOCK_STREAM ? s->len != 0 : !cub_list_empty(&s->dgrams);
}

/* A loopback TCP connection closed by s with SO_LINGER {1, 0} or unread
 * data is reset, as Linux's tcp_close sends RST: the peer's next read
 * (after the bytes it holds) or write fails with ECONNRESET, then end of
 * file and EPIPE; a peer that had our FIN reads end of file and has
 * EPIPE pending instead (Linux's tcp_reset in CLOSE_WAIT).
 *
 * An AF_UNIX stream or SOCK_SEQPACKET socket closed with unread data
 * leaves ECONNRESET pending on its peer, as Linux's unix_release_sock
 * does (SO_LINGER plays no part, and a SHUT_WR before changes nothing):
 * poll shows EPOLLERR and SO_ERROR takes it; a stream's reads give the
 * bytes it holds, then ECONNRESET once, then end of file, while its
 * writes fail with EPIPE and leave the error (socket_stream.c); a
 * SOCK_SEQPACKET's next receive or send takes it first, before any
 * queued message (socket_umsg.c), as measured on Linux 6.18. */
static void reset_peer(struct cubi_sock *s)
{
	struct cubi_sock *p = s->peer;

	if (!p)
		return;
	if (s->domain == CUBI_AF_UNIX) {
		if (s->type != CUBI_SOCK_DGRAM && unix_unread(s)) {
			p->err = CUB_ECONNRESET;
			p->eof_first = false;
		}
		return;
	}
	if (s->domain != CUBI_AF_INET || s->type != CUBI_SOCK_STREAM ||
	    !cubi_sock_close_resets(s))
		return;
	p->err = s->wr_shut ? CUB_EPIPE : CUB_ECONNRESET;
	p->eof_first = s->wr_shut;
}

/* The last close: detach from the port table, the peer and the queue. */
void *cubi_sock_release(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);

	cubi_tcpnet_detach(s, false);	/* the card's side finishes alone */
	reset_peer(s);
	if (s->in_table)
		cub_list_del(&s->link);
	if (s->state == CUBI_SOCK_LISTENING)
		cubi_sock_reset_queue(s);
	if (s->peer) {
		/* A clean TCP close sends a FIN, not a RST: the peer's
		 * next send still goes out (late_write). */
		s->peer->late_write = s->domain == CUBI_AF_INET && s->len == 0 &&
				      !(s->linger[0] && s->linger[1] == 0);
		cubi_file_changed(&s->peer->file);
		s->peer->peer = NULL;
	}
	cubi_io_changed();
	return s;
}

void cubi_sock_free(void *mem)
{
	destroy(mem);
}

uint64_t cubi_sock_deadline(const struct cubi_sock *s, bool out)
{
	uint64_t t = out ? s->sndtimeo_ns : s->rcvtimeo_ns;

	return t ? cub_time_now() + t : 0;
}

long cubi_sock_wait_put(struct cubi_sock *s, uint32_t seq, uint64_t deadline,
			const char *what)
{
	int rc = cubi_file_wait(&s->file, seq, deadline, what);

	cubi_file_put(&s->file);
	return rc == -CUB_ETIMEDOUT ? -CUB_EAGAIN : rc;
}

/* SO_RCVTIMEO / SO_SNDTIMEO bound read(2) and write(2) (fd_rw.c). */
static uint64_t sock_timeo(const struct cubi_file *f, bool out)
{
	const struct cubi_sock *s = cub_container_of(f, const struct cubi_sock, file);

	return out ? s->sndtimeo_ns : s->rcvtimeo_ns;
}

static const struct cubi_file_ops sock_ops = {
	.read = cubi_sock_read, .peek = cubi_sock_peek, .write = cubi_sock_write,
	.poll = cubi_sock_poll, .inq = cubi_sock_inq, .timeo = sock_timeo,
	.release = cubi_sock_release, .free = cubi_sock_free, .mode = S_IFSOCK | 0777,
	.closed = cubi_unix_gc, .file_wakes = true,
};

/* ------------------------------------------------- creating sockets */

/* A new socket with no reference yet, or NULL (no memory). A message
 * socket's memory ends where the stream ring would begin. */
struct cubi_sock *cubi_sock_new(int domain, int type, unsigned flags)
{
	bool stream = type == CUBI_SOCK_STREAM;
	struct cubi_sock *s = cub_malloc(stream ? sizeof(*s) : offsetof(struct cubi_sock, ring));

	if (!s)
		return NULL;
	cub_memset(s, 0, offsetof(struct cubi_sock, ring));
	s->file = (struct cubi_file){ .ops = stream ? &sock_ops :
					     domain == CUBI_AF_INET ? &cubi_udp_ops :
					     domain == CUBI_AF_NETLINK ? &cubi_nl_ops : &cubi_umsg_ops,
				      .flags = CUBI_O_RDWR | (flags & CUBI_O_NONBLOCK) };
	s->domain = domain;
	s->type = type;
	s->state = CUBI_SOCK_UNCONNECTED;
	cub_list_init(&s->queue);
	cub_list_init(&s->dgrams);
	cub_list_init(&s->rights);
	cub_list_init(&s->stale);
	s->opt[CUBI_OPT_KEEPIDLE] = 7200;	/* Linux's defaults */
	s->opt[CUBI_OPT_KEEPINTVL] = 75;
	s->opt[CUBI_OPT_KEEPCNT] = 9;
	s->opt[CUBI_OPT_TTL] = CUBI_IP_DEFAULT_TTL;
	return s;
}

/* socket's and socketpair's (pair) checks of domain, type and protocol,
 * in Linux's order; *flags gets SOCK_NONBLOCK|SOCK_CLOEXEC. */
static long check_kind(int domain, int type, int proto, bool pair, unsigned *flags)
{
	int kind = type & SOCK_TYPE_MASK;

	*flags = (unsigned)type & ~(unsigned)SOCK_TYPE_MASK;
	if (*flags & ~SOCK_FLAGS)
		return -CUB_EINVAL;
	if (pair && (domain == CUBI_AF_INET || domain == AF_INET6))
		return -CUB_EOPNOTSUPP;	/* families without pairs */
	if (domain != CUBI_AF_INET && domain != CUBI_AF_UNIX && domain != CUBI_AF_NETLINK)
		return -CUB_EAFNOSUPPORT;
	if (kind >= SOCK_MAX)
		return -CUB_EINVAL;
	if (domain == CUBI_AF_NETLINK)
		return cubi_nl_check(kind, proto, pair);
	if (kind != CUBI_SOCK_STREAM && kind != CUBI_SOCK_DGRAM &&
	    (kind != CUBI_SOCK_SEQPACKET || domain != CUBI_AF_UNIX))
		return -CUB_ESOCKTNOSUPPORT;
	if (proto != 0 && proto != (domain == CUBI_AF_UNIX ? CUBI_AF_UNIX :
				    kind == CUBI_SOCK_DGRAM ? CUBI_IPPROTO_UDP : CUBI_IPPROTO_TCP))
		return -CUB_EPROTONOSUPPORT;
	return 0;
}

CUBI_SYS(socket)
{
	unsigned flags;
	long fd = check_kind((int)A0(r), (int)A1(r), (int)A2(r), false, &flags);
	struct cubi_sock *s;
	unsigned long irq;

	if (fd)
		return fd;
	s = cubi_sock_new((int)A0(r), (int)A1(r) & SOCK_TYPE_MASK, flags);
	if (!s)
		return -CUB_ENOMEM;
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(&s->file, flags & CUBI_O_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (fd < 0)
		cub_free(s);
	return fd;
}

/* Installs a connected pair (irq off): 0, or -EMFILE with nothing done. */
static long install_pair(struct cubi_sock *a, struct cubi_sock *b, bool cloexec, int fds[2])
{
	fds[0] = (int)cubi_fd_install(&a->file, cloexec);
	if (fds[0] < 0)
		return fds[0];
	fds[1] = (int)cubi_fd_install(&b->file, cloexec);
	if (fds[1] < 0) {
		cubi_fd_uninstall(fds[0]);
		return fds[1];
	}
	a->state = b->state = CUBI_SOCK_CONNECTED;
	a->peer = b;
	b->peer = a;
	return 0;
}

/* socketpair(AF_UNIX, SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
 * [|flags], 0, int sv[2]): two sockets connected to each other. */
CUBI_SYS(socketpair)
{
	unsigned flags;
	long rc = check_kind((int)A0(r), (int)A1(r), (int)A2(r), true, &flags);
	struct cubi_sock *a, *b;
	unsigned long irq;
	int fds[2];

	if (rc)
		return rc;
	if (!cubi_user_writable(A3(r), sizeof(fds)))
		return -CUB_EFAULT;
	a = cubi_sock_new(CUBI_AF_UNIX, (int)A1(r) & SOCK_TYPE_MASK, flags);
	b = a ? cubi_sock_new(CUBI_AF_UNIX, (int)A1(r) & SOCK_TYPE_MASK, flags) : NULL;
	if (!b) {
		cub_free(a);
		return -CUB_ENOMEM;
	}
	irq = cub_arch_irq_save();
	rc = install_pair(a, b, flags & CUBI_O_CLOEXEC, fds);
	cub_arch_irq_restore(irq);
	if (rc) {
		cub_free(a);
		cub_free(b);
		return rc;
	}
	if (cubi_copy_out(A3(r), fds, sizeof(fds)) == 0)
		return 0;
	cubi_fd_close(fds[0]);	/* unmapped meanwhile: undo, like pipe2 */
	cubi_fd_close(fds[1]);
	return -CUB_EFAULT;
}
