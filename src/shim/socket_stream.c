/*
 * socket_stream.c - the data path of the stream sockets, TCP and AF_UNIX
 * SOCK_STREAM (socket.c has the sockets and connections; socket.h is the
 * interface): the receive rings, the SCM_RIGHTS that ride on their bytes,
 * the read/peek/write/poll ops the fd layer runs, and cubi_stream_xfer,
 * the attempts of one send or receive call (socket_sendrecv.c has the
 * calls: it checks their arguments, then runs it).
 *
 * A socket's ring holds what its peer sent and it has not read; a send
 * appends to the peer's ring what fits (-EAGAIN when it is full, and the
 * caller waits or, non-blocking, fails), a receive takes from the front
 * of its own. End of file: our SHUT_RD, or the peer's SHUT_WR or close,
 * once the ring is empty. A send fails with -EPIPE after our SHUT_WR or
 * the peer's close (a reset connection: -ECONNRESET once first; TCP
 * after a clean close: the first send succeeds, as on Linux); with
 * AF_UNIX also after the peer's SHUT_RD, as on Linux. (SIGPIPE is raised
 * by the callers: fd.c's writes, socket_sendrecv.c's send calls.)
 *
 * SCM_RIGHTS on a stream (socket_rights.c has the rest): a sendmsg's
 * rights (x->tx) ride on the first bytes it puts into the peer's ring
 * (none with zero bytes, as on Linux), recorded by their positions there
 * (rx_pos). A receive never reads past rights: one that starts before
 * them stops where they begin; one that starts at them takes them
 * (MSG_PEEK: copies) and stops where the bytes they rode on end. recvmsg
 * installs them (x->set); recv and recvfrom close them (x->drop, after
 * the call); read and readv (the fd layer's read op, which cannot close
 * files: no x) park them on the socket's stale list, closed when the
 * socket closes.
 *
 * Invariants: 0 <= len <= CUBI_SOCK_RING, the bytes start at head (mod
 * CUBI_SOCK_RING); rx_pos - rd_pos == len; rights are in position order,
 * the first one's end > rd_pos (taken rights leave the list); every
 * change of what cubi_sock_poll reports goes through cubi_sock_changed;
 * only a receive that is no peek takes bytes from the front, a send only
 * appends (sendfile peeks, then reads what it sent: fs_xfer.c; while it
 * holds the socket's file, receives find it empty).
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket: the ops run inside it (fd_rw.c); cubi_stream_xfer
 * takes it for each attempt, checks there what of the program's buffer
 * the attempt may touch, and waits outside it (cubi_file_wait_put with
 * the sequence sampled inside), like fd_rw.c's transfer.
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "socket.h"

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

size_t cubi_sock_ring_put(struct cubi_sock *s, const void *buf, size_t n)
{
	return ring_put(s, buf, n);
}

/* ------------------------------------------------------- SCM_RIGHTS */

/* A send put k bytes (the last ones of peer's ring) in: x's rights ride
 * on them (irq off). */
static void attach(struct cubi_sock *peer, size_t k, struct cubi_xctx *x)
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
static long rights_room(struct cubi_sock *s, size_t skip, bool peek, bool first,
			struct cubi_xctx *x)
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
 * waiting: our SHUT_WR, the peer gone (or, through the card, dying), or
 * (AF_UNIX, as on Linux) the peer's SHUT_RD. */
static bool send_broken(const struct cubi_sock *s)
{
	return s->wr_shut || !s->peer || s->dying ||
	       (s->domain == CUBI_AF_UNIX && s->peer->rd_shut);
}

/* One receive attempt (irq off; buf checked): bytes, 0 at end of file,
 * -EAGAIN while the caller must wait (or, x->ended, stop). skip: peek
 * that far in; first: the call's first read. */
static long recv_locked(struct cubi_sock *s, void *buf, size_t n, size_t skip, bool peek,
			bool first, struct cubi_xctx *x)
{
	long e = -s->err, room;

	if (s->state == CUBI_SOCK_CONNECTING)
		return -CUB_EAGAIN;	/* through the card: until it knows */
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
	if (e && !s->eof_first) {
		s->err = 0;
		cubi_sock_changed(s);
		return e;
	}
	return at_eof(s) ? 0 : -CUB_EAGAIN;
}

/* One send attempt (irq off; buf checked): bytes, or -EAGAIN while the
 * peer's ring is full. x's rights ride on the first bytes it puts. */
static long send_locked(struct cubi_sock *s, const void *buf, size_t n, struct cubi_xctx *x)
{
	size_t k;

	if (s->state == CUBI_SOCK_CONNECTING)
		return -CUB_EAGAIN;
	if (s->state != CUBI_SOCK_CONNECTED)
		return -CUB_ENOTCONN;
	/* TCP: a reset says so once. AF_UNIX never reports its pending
	 * error here (Linux's unix_stream_sendmsg: EPIPE, the error left
	 * for the read, poll or SO_ERROR that takes it). */
	if (send_broken(s) && s->err && s->domain != CUBI_AF_UNIX) {
		long e = -s->err;

		s->err = 0;
		cubi_sock_changed(s);
		return e;
	}
	if (!s->wr_shut && !s->peer && s->late_write) {	/* see socket.h */
		s->late_write = n == 0;
		return (long)CUB_MIN(n, (size_t)CUBI_SOCK_RING);	/* what fit */
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

/* FIONREAD (Linux's tcp_ioctl and unix_inq_len): the ring's bytes (none
 * while held: read would wait), -EINVAL on a listener. */
long cubi_sock_inq(struct cubi_file *f)
{
	struct cubi_sock *s = of_sock(f);

	if (s->state == CUBI_SOCK_LISTENING)
		return -CUB_EINVAL;
	return s->file.held ? 0 : (long)s->len;
}

/* Linux's tcp_poll, as far as it applies: an unconnected socket is
 * writable and hung up (a failed network connect: also EPOLLERR); a
 * listener is readable with a queued connection; a connecting one shows
 * nothing but an error. */
uint32_t cubi_sock_poll(struct cubi_file *f)
{
	struct cubi_sock *s = of_sock(f);
	uint32_t ev = s->err ? CUBI_EPOLLERR : 0;

	if (s->state == CUBI_SOCK_LISTENING)
		return cub_list_empty(&s->queue) ? ev : ev | CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (s->state == CUBI_SOCK_UNCONNECTED)
		return ev | CUBI_EPOLLOUT | CUBI_EPOLLWRNORM | CUBI_EPOLLHUP;
	if (s->state == CUBI_SOCK_CONNECTING)
		return ev;
	if (!s->file.held && (s->len || at_eof(s) || s->dying))	/* held: as if empty */
		ev |= CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (!s->file.held && (at_eof(s) || s->dying))
		ev |= CUBI_EPOLLRDHUP;
	if (!s->peer || s->dying || (at_eof(s) && s->wr_shut))
		ev |= CUBI_EPOLLHUP;
	if (!s->wr_shut && (send_broken(s) || s->peer->len < CUBI_SOCK_RING))
		ev |= CUBI_EPOLLOUT | CUBI_EPOLLWRNORM;
	return ev;
}

/* ----------------------------------------------- one send or receive call */

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
long cubi_stream_xfer(uint64_t fd, uintptr_t buf, size_t n, unsigned flags, bool out,
		      size_t skip, struct cubi_xctx *x)
{
	bool peek = flags & MSG_PEEK, all = out || (flags & MSG_WAITALL);
	uint64_t deadline = UINT64_MAX;	/* set at the first wait */
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
		if (wait && deadline == UINT64_MAX)	/* SO_RCVTIMEO / SO_SNDTIMEO */
			deadline = cubi_sock_deadline(s, out);
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
		if (wait && (r = cubi_sock_wait_put(s, seq, deadline,
						     out ? "socket send" : "socket recv")))
			return done ? (long)done : r;	/* -EINTR, -EAGAIN */
	}
}
