/*
 * socket_umsg.c - AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET: messages whose
 * boundaries stay, on socket_dgram.c's message queues, each with its
 * sender's name and any SCM_RIGHTS (socket_rights.c). socket.c makes
 * them, socket_bind.c binds (socket_unix.c: a path or an abstract name)
 * and shuts them down (socket_addr.c names them); socket_conn.c connects SOCK_SEQPACKET
 * sockets and accepts them like streams; this file connects SOCK_DGRAM
 * sockets, sends and receives one message at a time (cubi_umsg_send,
 * cubi_umsg_recv: with their waits) and has the file ops;
 * socket_umsg_calls.c has the system calls (sendto, recvfrom, sendmsg,
 * recvmsg), which take their arguments in and their results out and run
 * those two. socket.h is the interface.
 *
 * SOCK_DGRAM (Linux's unix_dgram_*):
 *  - sendto/sendmsg with a name sends to the socket bound to it, found
 *    like connect's (socket_unix.c): -EINVAL for a bad address, the
 *    walk's errors, -ECONNREFUSED (no live socket), -EPROTOTYPE (not a
 *    SOCK_DGRAM one). Without a name: to the connected destination, or
 *    -ENOTCONN.
 *  - connect records the destination (its errors as above; AF_UNSPEC
 *    dissolves it); a connected socket receives only from it: others'
 *    sends fail -EPERM (unix_may_send). When the destination has closed,
 *    the next send fails -ECONNREFUSED and forgets it (then -ENOTCONN).
 *    socketpair connects both ends to each other (peer pointers); one
 *    that connects elsewhere leaves the pair, whose other end then has no
 *    destination (Linux would keep it).
 *  - A message goes whole into its receiver's queue with the sender's
 *    name as it is then (none when unnamed). Each receiving socket has a
 *    budget, CUBI_UDP_BUDGET bytes of cubi_dgram_cost (the name not
 *    counted); a message that does not fit waits for room -- a full
 *    destination blocks its sender, as on Linux, or (O_NONBLOCK,
 *    MSG_DONTWAIT) fails -EAGAIN. An empty queue takes any message, so
 *    each one up to CUBI_UMSG_MAX bytes gets in (larger: -EMSGSIZE).
 *  - shutdown works unconnected; SHUT_RD: receives return 0 once the
 *    queue is empty and sends to this socket fail -EPIPE; SHUT_WR: its
 *    sends fail -EPIPE. Never SIGPIPE (Linux's unix_dgram_sendmsg).
 * SOCK_SEQPACKET: connected like a stream (listen, accept, connect by
 * name: -EPROTOTYPE when the name is no SOCK_SEQPACKET socket), with the
 * data as messages to the peer. End of file (0) once the peer closed or
 * shut down its writing and the queue is empty; sends then fail -EPIPE
 * (no SIGPIPE, as Linux); -ENOTCONN before connecting; a destination
 * given to sendto is ignored. A reset (the listener closed before
 * accept): -ECONNRESET once, then end of file.
 * Both: a receive takes the oldest message whole (a shorter buffer gets
 * its first bytes; the receive says its real length and sender: the
 * calls report them), MSG_PEEK leaves it (and installs copies of its
 * rights, as Linux), an empty queue blocks (-EAGAIN non-blocking; a
 * signal: -EINTR). read/write/readv/writev are receives and sends
 * without names; zero-length messages are messages. Poll (Linux's
 * unix_dgram_poll): EPOLLIN with a message queued or at end of file,
 * EPOLLOUT while the destination (if any) is at most a quarter full (as
 * Linux's unix_writable), EPOLLHUP when both
 * directions are shut or a SOCK_SEQPACKET peer is gone (unconnected:
 * EPOLLOUT|EPOLLHUP like a stream; a listener: EPOLLIN with a connection
 * queued).
 *
 * Invariants: dbytes is the sum of cubi_dgram_cost over the queue, at
 * most CUBI_UDP_BUDGET unless the queue holds one message; un_peer_id !=
 * 0 only on a CONNECTED SOCK_DGRAM socket without a peer pointer;
 * dst_full is set after a send or poll found the destination full, and a
 * poll that finds room again clears it and bumps the socket's gen (the
 * EPOLLOUT edge: the receiver's changes bump only the receiver's).
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket and its queue; the program's buffers are checked
 * and copied inside it. Messages are allocated before it and freed after
 * it; names are looked up (fs lock) before it and the socket found by id
 * inside. cubi_umsg_send's and cubi_umsg_recv's callers hold a
 * reference to the file meanwhile.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"
#include "socket_msg.h"

#define S_IFSOCK 0140000u

static struct cubi_sock *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct cubi_sock, file);
}

/* Where s's sends go without a name (irq off): the peer, the socket its
 * connect named, or NULL (none, or gone). */
static struct cubi_sock *dest(const struct cubi_sock *s)
{
	if (s->peer || s->type == CUBI_SOCK_SEQPACKET)
		return s->peer;
	return s->un_peer_id ? cubi_unix_find(s->un_peer_id) : NULL;
}

/* SOCK_DGRAM: r takes messages from s (unconnected, or connected to s). */
static bool may_send(const struct cubi_sock *s, const struct cubi_sock *r)
{
	if (r->state != CUBI_SOCK_CONNECTED)
		return true;
	return r->peer == s || (r->un_peer_id && s->in_table && r->un_peer_id == s->un_id);
}

/* Leaves the destination (irq off): a pair's link goes both ways. */
static void disconnect(struct cubi_sock *s)
{
	if (s->peer) {
		s->peer->peer = NULL;
		cubi_sock_changed(s);	/* both ends */
	}
	s->peer = NULL;
	s->un_peer_id = 0;
	s->un_peer_len = 0;
	s->state = CUBI_SOCK_UNCONNECTED;
	cubi_sock_changed(s);
}

long cubi_umsg_connect(struct cubi_sock *s, uint32_t id)
{
	struct cubi_sock *r = id ? cubi_unix_find(id) : NULL;

	if (!id) {
		disconnect(s);	/* AF_UNSPEC */
		return 0;
	}
	if (!r)
		return -CUB_ECONNREFUSED;
	if (r->type != s->type)
		return -CUB_EPROTOTYPE;
	if (!may_send(s, r))
		return -CUB_EPERM;
	disconnect(s);
	s->un_peer_id = id;
	cub_memcpy(s->un_peer, r->un_name, r->un_len);
	s->un_peer_len = r->un_len;
	s->state = CUBI_SOCK_CONNECTED;
	cubi_sock_changed(s);
	return 0;
}

/* ----------------------------------------------------------------- send */

/* The receiver of a send from s (irq off), or NULL and *err. */
static struct cubi_sock *receiver(struct cubi_sock *s, const struct cubi_umsg_to *to, long *err)
{
	struct cubi_sock *r;

	if (s->type == CUBI_SOCK_SEQPACKET || !to->a) {
		if (s->state != CUBI_SOCK_CONNECTED) {
			*err = -CUB_ENOTCONN;
			return NULL;
		}
		r = dest(s);
		*err = s->type == CUBI_SOCK_SEQPACKET ? -CUB_EPIPE : -CUB_ECONNREFUSED;
		if (!r && s->type == CUBI_SOCK_DGRAM)
			disconnect(s);		/* gone: said once */
		return r;
	}
	r = cubi_unix_find(to->id);
	*err = -CUB_ECONNREFUSED;
	return r;
}

/* One send attempt (irq off) of n bytes from u in *dp, with *rp: the
 * length sent, -EAGAIN while the receiver is full, or -errno. */
static long send_locked(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n,
			const struct cubi_umsg_to *to, struct cubi_dgram **dp,
			struct cubi_rights **rp)
{
	struct cubi_dgram *d = *dp;
	struct cubi_sock *r;
	long rc = cubi_sock_take_err(s);

	if (rc)
		return rc;
	if (s->wr_shut)
		return -CUB_EPIPE;
	if (!(r = receiver(s, to, &rc)))
		return rc;
	if (r->type != s->type)
		return -CUB_EPROTOTYPE;
	if (s->type == CUBI_SOCK_DGRAM && !may_send(s, r))
		return -CUB_EPERM;
	if (r->rd_shut)
		return -CUB_EPIPE;
	if (!cub_list_empty(&r->dgrams) && r->dbytes + cubi_dgram_cost(n) > CUBI_UDP_BUDGET) {
		s->dst_full = true;
		return -CUB_EAGAIN;
	}
	d->name_len = s->un_len;
	cub_memcpy(d->data, s->un_name, s->un_len);
	rc = cubi_ucopy(u, d->data + d->name_len, n, true);
	if (rc < 0)
		return rc;
	d->len = (size_t)rc;
	d->rights = *rp;
	if (d->rights)
		d->rights->holder = r;
	*rp = NULL;
	cubi_dgram_queue(r, d);
	*dp = NULL;
	return rc;
}

/*
 * Sends n bytes from u as one message from s (a reference held), with
 * the rights *rp (taken when sent; the caller puts what is left), waiting
 * while the receiver is full unless non-blocking.
 */
long cubi_umsg_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n,
		    struct cubi_umsg_to *to, unsigned flags, struct cubi_rights **rp)
{
	struct cubi_dgram *d;
	long rc = 0;

	if (n > CUBI_UMSG_MAX)
		return -CUB_EMSGSIZE;
	if (to->a && s->type == CUBI_SOCK_DGRAM)
		rc = cubi_unix_lookup(to->a, to->len, &to->id);
	else
		to->a = NULL;		/* SOCK_SEQPACKET: ignored */
	d = rc ? NULL : cub_malloc(sizeof(*d) + CUBI_SUN_NAME + n);
	if (!rc && !d)
		rc = -CUB_ENOMEM;
	while (!rc) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_io_seq();
		bool nonblock = (s->file.flags & CUBI_O_NONBLOCK) || (flags & MSG_DONTWAIT);

		rc = send_locked(s, u, n, to, &d, rp);
		cub_arch_irq_restore(irq);
		if (rc != -CUB_EAGAIN || nonblock)
			break;
		if (cubi_io_wait(seq, 0, "unix send") == -CUB_EINTR)
			rc = -CUB_EINTR;
		else
			rc = 0;
	}
	cub_free(d);			/* not sent */
	return rc;
}

/* -------------------------------------------------------------- receive */

/* Nothing more will arrive: SHUT_RD here, or a SOCK_SEQPACKET peer gone
 * or done writing. */
static bool at_eof(const struct cubi_sock *s)
{
	return s->rd_shut ||
	       (s->type == CUBI_SOCK_SEQPACKET && (!s->peer || s->peer->wr_shut));
}

/* One receive attempt (irq off): bytes copied into u, 0 at end of file,
 * -EAGAIN while the caller must wait, or -errno. A message taken goes to
 * *dp (to free), its rights into set (NULL: closed with it). */
static long recv_locked(struct cubi_sock *s, const struct cubi_recv *r, struct cubi_dgram **dp)
{
	struct cubi_umsg_took *t = r->took;
	struct cubi_dgram *d;
	long rc;

	if (s->type == CUBI_SOCK_SEQPACKET && s->state != CUBI_SOCK_CONNECTED)
		return -CUB_ENOTCONN;
	if ((rc = cubi_sock_take_err(s)) != 0)
		return rc;
	if (cub_list_empty(&s->dgrams))
		return at_eof(s) ? 0 : -CUB_EAGAIN;
	d = cub_container_of(cub_list_first(&s->dgrams), struct cubi_dgram, link);
	t->len = d->len;
	t->have = true;
	t->name_len = d->name_len;
	cub_memcpy(t->name, d->data, d->name_len);
	rc = cubi_dgram_take(s, r->u, r->flags & MSG_PEEK, dp);	/* d stays valid */
	if (rc >= 0 && d->rights && r->set)
		(void)cubi_rights_grab(d->rights, r->set, r->flags & MSG_PEEK);
	return rc;
}

/* Receives one message into u for s (a reference held), waiting unless
 * non-blocking: the bytes copied, or -errno; *t says what was taken. */
long cubi_umsg_recv(struct cubi_sock *s, const struct cubi_ubuf *u, unsigned flags,
		    struct cubi_umsg_took *t, struct cubi_fdset *set)
{
	struct cubi_recv r = { u, flags, t, set };

	t->have = false;
	return cubi_dgram_recv(s, &r, recv_locked, "unix recv");
}

/* ------------------------------------------------------------- file ops */

/* read and write (the fd layer checked buf; a reference is held). */
static long umsg_io(struct cubi_file *f, void *buf, size_t n, int64_t off, bool out)
{
	struct cubi_ubuf u = { (uintptr_t)buf, 0, n };
	struct cubi_umsg_to to = { NULL, 0, 0 };
	struct cubi_rights *none = NULL;
	struct cubi_umsg_took t;

	(void)off;
	return out ? cubi_umsg_send(of_file(f), &u, n, &to, 0, &none)
		   : cubi_umsg_recv(of_file(f), &u, 0, &t, NULL);
}

/* Write readiness (irq off): the destination, if any, is at most a
 * quarter full (Linux's unix_writable: a quarter of the send buffer);
 * finding room after a full one is a new EPOLLOUT edge (gen). */
static bool writable(struct cubi_sock *s)
{
	struct cubi_sock *r = s->state == CUBI_SOCK_CONNECTED ? dest(s) : NULL;
	bool room = !r || r->dbytes <= CUBI_UDP_BUDGET / 4;

	if (room && s->dst_full)
		cubi_file_changed(&s->file);
	s->dst_full = !room;
	return room && !s->wr_shut;
}

static uint32_t umsg_poll(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);
	uint32_t ev = s->err ? CUBI_EPOLLERR : 0;
	bool seq = s->type == CUBI_SOCK_SEQPACKET;

	if (s->state == CUBI_SOCK_LISTENING)
		return cub_list_empty(&s->queue) ? ev : ev | CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (seq && s->state == CUBI_SOCK_UNCONNECTED)
		return ev | CUBI_EPOLLOUT | CUBI_EPOLLWRNORM | CUBI_EPOLLHUP;
	if (!cub_list_empty(&s->dgrams) || at_eof(s))
		ev |= CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (at_eof(s))
		ev |= CUBI_EPOLLRDHUP;
	if ((s->rd_shut && s->wr_shut) || (seq && !s->peer))
		ev |= CUBI_EPOLLHUP;
	if (writable(s))
		ev |= CUBI_EPOLLOUT | CUBI_EPOLLWRNORM;
	return ev;
}

/* FIONREAD (Linux's unix_inq_len): SOCK_DGRAM the next message's
 * payload, SOCK_SEQPACKET all queued ones'; -EINVAL on a listener. */
static long umsg_inq(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);

	if (s->state == CUBI_SOCK_LISTENING)
		return -CUB_EINVAL;
	return (long)cubi_dgram_inq(s, s->type == CUBI_SOCK_SEQPACKET);
}

const struct cubi_file_ops cubi_umsg_ops = {
	.io = umsg_io, .poll = umsg_poll, .inq = umsg_inq, .release = cubi_sock_release,
	.free = cubi_sock_free, .mode = S_IFSOCK | 0777, .closed = cubi_unix_gc,
	.datagram = true,		/* readv/writev: one message (io.c) */
	.file_wakes = true,
};
