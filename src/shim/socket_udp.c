/*
 * socket_udp.c - UDP: datagram sockets over IPv4 loopback (socket.c makes
 * them, socket_bind.c binds and shuts them down, socket_addr.c keeps
 * their ports and names them; socket.h is the interface). Enough for
 * Go's ListenPacket/DialUDP with ReadFrom/WriteTo/Read/Write and for C
 * programs' sendto/recvfrom/sendmsg/recvmsg.
 *
 * Each socket has a queue of received datagrams (payload, sender's address
 * and port). A send copies its payload (one buffer, or iovecs gathered)
 * into one freshly allocated datagram and appends it to the queue of the
 * socket bound to the destination port whose address is the destination's
 * or 0.0.0.0 -- or drops it, silently, and still returns its length: no
 * such socket, that socket connected to another peer (Linux's lookup then
 * finds no socket either), or its queue's budget full. Sends never wait.
 * A receive takes the oldest datagram whole: a shorter buffer gets its
 * first bytes, the rest is discarded (MSG_TRUNC: recvmsg's msg_flags; as
 * a recv flag: return the datagram's real length); MSG_PEEK leaves it
 * queued. An empty queue blocks (O_NONBLOCK, MSG_DONTWAIT: -EAGAIN; a
 * signal: -EINTR). A zero-length datagram is a datagram: reading it
 * returns 0. read/write are recv/send without addresses.
 *
 * connect records the default destination and filter (no handshake; a
 * port nobody holds is fine); AF_UNSPEC dissolves it. Unconnected: send
 * and write need a destination (-EDESTADDRREQ), as sendto's may always
 * give one. An unbound socket that sends is bound to 0.0.0.0 and an
 * ephemeral port (UDP ports are their own namespace) -- by any send
 * call, even one that then fails, as Linux binds before it looks at the
 * arguments; its datagrams come from 127.0.0.1 (the loopback route's
 * source) unless it is bound to a 127.x address.
 *
 * Choices where Linux leaves room or where this is simpler than Linux:
 *  - The budget (CUBI_UDP_BUDGET, Linux's default rmem) counts each
 *    datagram's payload plus its record (sizeof(struct cubi_dgram), so that
 *    empty datagrams cost memory too); a datagram must fit whole (Linux
 *    admits one while the queue is below its limit). SO_RCVBUF reads the
 *    budget; setting it changes nothing.
 *  - A connected socket whose datagram found no receiver gets
 *    -ECONNREFUSED once, from its next send or receive (also SO_ERROR and
 *    EPOLLERR), as Linux does on the ICMP port unreachable; that next
 *    send sends nothing. Unconnected sockets never hear of it.
 *  - connect binds an unbound socket to an ephemeral port and narrows a
 *    0.0.0.0 address to 127.0.0.1 (getsockname shows it, as on Linux);
 *    AF_UNSPEC widens it back and, as on Linux, gives up a port that was
 *    picked rather than named in bind (the next send picks another).
 *    Neither flushes the queue: what arrived stays readable.
 *  - shutdown: -ENOTCONN unless connected (socket_bind.c); SHUT_RD makes
 *    receives return 0 once the queue is empty (datagrams still arrive),
 *    SHUT_WR makes sends fail -EPIPE.
 *  - MSG_MORE (corking) and MSG_WAITALL are accepted and ignored; control
 *    data in sendmsg: -EINVAL; recvmsg reports none.
 *  - A datagram whose copy to the program faults stays queued (-EFAULT;
 *    Linux drops it).
 *  - readv/writev gather into and scatter from one datagram (io.c, through
 *    the ops' datagram flag), as do sendmsg/recvmsg.
 *  - Destinations outside 127.0.0.0/8: -ENETUNREACH when there is no
 *    network; with one (netdev.h), the card's own address is local too
 *    and every other destination goes out through the card
 *    (socket_inet.c: its endpoint, pump and send; such a send waits
 *    while ARP resolves and fails -EHOSTUNREACH / -EMSGSIZE at once).
 *
 * The queue is socket_dgram.c's (cubi_dgram_*), which socket_umsg.c's
 * AF_UNIX messages share, adding their sender's name and SCM_RIGHTS.
 *
 * Invariants: a UDP socket's dbytes is the sum of cubi_dgram_cost() over
 * its queue and at most CUBI_UDP_BUDGET; its peer pointer is NULL and its state is
 * never LISTENING; CONNECTED means peer_addr:peer_port (a 127.x address,
 * or with a network any address) is its default destination and the only
 * sender it receives from. Every change of what udp_poll reports goes through
 * cubi_sock_changed (cubi_file_changed, cubi_io_changed).
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at a socket, its queue and the port table. The program's
 * buffers are checked and copied inside it (nothing can unmap them there).
 * A datagram is allocated before entering it and, when dropped or taken,
 * freed after leaving it; the free op frees what is queued at close. The
 * calls hold a reference to the file (cubi_fd_get, or the fd layer's for
 * the io op), so the socket stays while they wait.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)
#define RECV_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT | MSG_WAITALL | MSG_NOSIGNAL | \
		    MSG_CMSG_CLOEXEC)
#define LOOPBACK 0x7f000001u	/* 127.0.0.1 */
#define S_IFSOCK 0140000u


/* What a receive took: the sender and the datagram's real length; have
 * is false when there was none (end of file after SHUT_RD). */
struct taken {
	uint32_t addr;
	uint16_t port;
	size_t len;
	bool have;
};

static struct cubi_sock *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct cubi_sock, file);
}

/* --------------------------------------------------------------- send */

/* Where a datagram goes: a destination, checked like Linux's udp_sendmsg
 * (AF_UNSPEC counts as AF_INET there); 0.0.0.0 means 127.0.0.1. */
struct dest {
	uint32_t addr;
	uint16_t port;
};

static long dest_in(const uint8_t *a, int len, struct dest *to)
{
	int family = cubi_sa_family(a);

	if ((unsigned)len < CUBI_SIN_SIZE)
		return -CUB_EINVAL;
	if (family != CUBI_AF_INET && family != 0)
		return -CUB_EAFNOSUPPORT;
	to->port = cubi_sa_port(a);
	to->addr = cubi_sa_addr(a) ? cubi_sa_addr(a) : LOOPBACK;
	if (!to->port)
		return -CUB_EINVAL;
	return cubi_sock_loopback(to->addr) || cubi_netdev.nif ? 0 : -CUB_ENETUNREACH;
}

/* Queues d, filled, on the socket at `to` if it takes it (irq off);
 * *dp = NULL when it did. s is the sender. */
static void deliver(struct cubi_sock *s, const struct dest *to, struct cubi_dgram **dp)
{
	struct cubi_dgram *d = *dp;
	struct cubi_sock *r = cubi_sock_bound(CUBI_SOCK_DGRAM, to->addr, to->port);

	if (r && r->state == CUBI_SOCK_CONNECTED &&
	    (r->peer_addr != d->addr || r->peer_port != d->port))
		r = NULL;			/* it receives from its peer only */
	if (!r && s->state == CUBI_SOCK_CONNECTED) {
		s->err = CUB_ECONNREFUSED;	/* reported by the next call */
		cubi_sock_changed(s);
	}
	if (!r || r->dbytes + cubi_dgram_cost(d->len) > CUBI_UDP_BUDGET)
		return;				/* dropped */
	cubi_dgram_queue(r, d);
	*dp = NULL;
}

/* One send (irq off) of d->len bytes from u in d to `to` (NULL: the
 * connected peer): the length sent, or -errno. */
static long send_locked(struct cubi_sock *s, const struct cubi_ubuf *u, const struct dest *to,
			struct cubi_dgram **dp)
{
	struct dest peer = { s->peer_addr, s->peer_port };
	struct cubi_dgram *d = *dp;
	long rc;

	if (!s->port && cubi_sock_bind(s, s->addr, 0))
		return -CUB_EAGAIN;		/* no ephemeral port left (Linux) */
	if ((rc = cubi_sock_take_err(s)) != 0)
		return rc;
	if (s->wr_shut)
		return -CUB_EPIPE;
	if (!to && s->state != CUBI_SOCK_CONNECTED)
		return -CUB_EDESTADDRREQ;
	rc = cubi_ucopy(u, d->data, d->len, true);
	if (rc < 0)
		return rc;
	d->len = (size_t)rc;
	if (!to)
		to = &peer;
	/* from the route's source: 127.0.0.1, or the card's own address */
	d->addr = s->addr ? s->addr : cubi_sock_loopback(to->addr) ? LOOPBACK : to->addr;
	d->port = s->port;
	deliver(s, to, dp);
	return rc;
}

/* True when a datagram to `to` (NULL: the connected peer) leaves the
 * machine; *out: where to. */
static bool remote(struct cubi_sock *s, const struct dest *to, struct dest *out)
{
	unsigned long irq = cub_arch_irq_save();

	*out = to ? *to : s->state == CUBI_SOCK_CONNECTED ?
			  (struct dest){ s->peer_addr, s->peer_port } : (struct dest){ 0, 0 };
	cub_arch_irq_restore(irq);
	return out->addr && !cubi_netdev_local(out->addr);
}

/* Sends n bytes from u as one datagram from s (a reference held): to
 * another socket here, or through the card (socket_inet.c). */
static long udp_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n, const struct dest *to)
{
	struct cubi_dgram *d;
	struct dest out;
	unsigned long irq;
	long rc;

	if (n > CUBI_UDP_MAX)
		return -CUB_EMSGSIZE;
	if (cubi_netdev.nif && remote(s, to, &out))
		return cubi_inet_send(s, u, n, out.addr, out.port);
	d = cub_malloc(sizeof(*d) + n);
	if (!d)
		return -CUB_ENOMEM;
	d->len = n;
	d->name_len = 0;
	d->rights = NULL;
	irq = cub_arch_irq_save();
	rc = send_locked(s, u, to, &d);
	cub_arch_irq_restore(irq);
	cub_free(d);			/* dropped, or not sent */
	return rc;
}

/* ------------------------------------------------------------ receive */

/* One receive attempt (irq off): the bytes copied into u, 0 at end of
 * file (SHUT_RD, queue empty), -EAGAIN when the caller must wait, or
 * -errno. A datagram taken off the queue goes to *dp, to be freed. */
static long recv_locked(struct cubi_sock *s, const struct cubi_recv *r, struct cubi_dgram **dp)
{
	struct taken *t = r->took;
	struct cubi_dgram *d;
	long rc = cubi_sock_take_err(s);

	if (rc)
		return rc;
	if (cub_list_empty(&s->dgrams))
		return s->rd_shut ? 0 : -CUB_EAGAIN;
	d = cub_container_of(cub_list_first(&s->dgrams), struct cubi_dgram, link);
	*t = (struct taken){ d->addr, d->port, d->len, true };
	return cubi_dgram_take(s, r->u, r->flags & MSG_PEEK, dp);
}

/* Receives one datagram into u for s (a reference held), waiting for
 * one unless non-blocking: the bytes copied, or -errno; *t says what
 * was taken. */
static long udp_recv(struct cubi_sock *s, const struct cubi_ubuf *u, unsigned flags, struct taken *t)
{
	struct cubi_recv r = { u, flags, t, NULL };

	t->have = false;
	return cubi_dgram_recv(s, &r, recv_locked, "udp recv");
}

/* ------------------------------------------------------------ file ops */

/* read and write (the fd layer checked buf; a reference is held). */
static long udp_io(struct cubi_file *f, void *buf, size_t n, int64_t off, bool out)
{
	struct cubi_ubuf u = { (uintptr_t)buf, 0, n };
	struct taken t;

	(void)off;
	return out ? udp_send(of_file(f), &u, n, NULL) : udp_recv(of_file(f), &u, 0, &t);
}

/* Linux's datagram_poll, as far as it applies. */
static uint32_t udp_poll(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);
	uint32_t ev = CUBI_EPOLLOUT | CUBI_EPOLLWRNORM;	/* sends never wait */

	if (s->err)
		ev |= CUBI_EPOLLERR;
	if (!cub_list_empty(&s->dgrams) || s->rd_shut)
		ev |= CUBI_EPOLLIN | CUBI_EPOLLRDNORM;
	if (s->rd_shut)
		ev |= CUBI_EPOLLRDHUP;
	if (s->rd_shut && s->wr_shut)
		ev |= CUBI_EPOLLHUP;
	return ev;
}

/* The last close (irq off): give up the port; the queue goes in udp_free. */
static void *udp_release(struct cubi_file *f)
{
	struct cubi_sock *s = of_file(f);

	if (s->in_table)
		cub_list_del(&s->link);
	s->in_table = false;
	return s;
}

static void udp_free(void *mem)
{
	struct cubi_sock *s = mem;

	cubi_inet_release(s);		/* its endpoint on the card, if any */

	while (!cub_list_empty(&s->dgrams))
		cubi_dgram_free(cub_container_of(cub_list_pop_front(&s->dgrams),
						 struct cubi_dgram, link));
	cub_free(s);
}

/* FIONREAD (Linux's first_packet_length): the next datagram's payload. */
static long udp_inq(struct cubi_file *f)
{
	return (long)cubi_dgram_inq(of_file(f), false);
}

const struct cubi_file_ops cubi_udp_ops = {
	.io = udp_io, .poll = udp_poll, .inq = udp_inq, .release = udp_release, .free = udp_free,
	.mode = S_IFSOCK | 0777,
	.datagram = true,		/* readv/writev: one datagram (io.c) */
	.file_wakes = true,
};

/* ------------------------------------------------------------- connect */

/* Linux's udp_disconnect (irq off): an address connect narrowed widens
 * again, a port picked for the socket (not one bind named) is given up. */
static void disconnect(struct cubi_sock *s)
{
	s->state = CUBI_SOCK_UNCONNECTED;
	s->peer_addr = s->peer_port = 0;
	if (s->addr_auto)
		s->addr = 0;
	s->addr_auto = false;
	if (s->port_auto && s->in_table) {
		cub_list_del(&s->link);
		s->in_table = false;
		s->port = 0;
	}
}

/* Linux's ip4_datagram_connect (irq off). */
long cubi_udp_connect(struct cubi_sock *s, const uint8_t *a, int len)
{
	struct dest to;

	if ((unsigned)len < 2)
		return -CUB_EINVAL;
	if (cubi_sa_family(a) == 0) {		/* AF_UNSPEC: dissolve */
		disconnect(s);
		return 0;
	}
	if ((unsigned)len < CUBI_SIN_SIZE)
		return -CUB_EINVAL;
	if (cubi_sa_family(a) != CUBI_AF_INET)
		return -CUB_EAFNOSUPPORT;
	to.addr = cubi_sa_addr(a) ? cubi_sa_addr(a) : LOOPBACK;
	to.port = cubi_sa_port(a);
	if (!cubi_sock_loopback(to.addr) && !cubi_netdev.nif)
		return -CUB_ENETUNREACH;
	if (!s->port && cubi_sock_bind(s, s->addr, 0))
		return -CUB_EAGAIN;
	if (!s->addr) {				/* the route's source address */
		s->addr = cubi_sock_loopback(to.addr) ? LOOPBACK : cubi_netdev.addr;
		s->addr_auto = true;
	}
	s->state = CUBI_SOCK_CONNECTED;
	s->peer_addr = to.addr;
	s->peer_port = to.port;
	return 0;
}

/* ---------------------------------------------------------------- calls */

/* The UDP socket at fd with a reference (cubi_file_put it), or NULL and
 * *err (the descriptor changed since the caller looked). bind: a send
 * call binds an unbound socket before it looks at its arguments (Linux's
 * inet_send_prepare), so even one that fails leaves it bound. */
static struct cubi_sock *udp_get(uint64_t fd, bool bind, long *err)
{
	struct cubi_file *f = cubi_fd_get(fd);
	unsigned long irq;

	*err = f ? -CUB_ENOTSOCK : -CUB_EBADF;
	if (f && f->ops != &cubi_udp_ops)
		cubi_file_put(f);
	if (!f || f->ops != &cubi_udp_ops)
		return NULL;
	irq = cub_arch_irq_save();
	if (bind && !of_file(f)->port)
		(void)cubi_sock_bind(of_file(f), of_file(f)->addr, 0);	/* else the send fails */
	cub_arch_irq_restore(irq);
	return of_file(f);
}

/* A send call: err (its arguments' checks) or the datagram's fate. */
static long send_fd(uint64_t fd, long err, const struct cubi_ubuf *u, size_t n, const struct dest *to)
{
	long rc;
	struct cubi_sock *s = udp_get(fd, true, &rc);

	if (!s)
		return rc;
	(void)cubi_inet_sync(s);	/* the bind may give it an endpoint */
	rc = err ? err : udp_send(s, u, n, to);
	cubi_file_put(&s->file);
	return rc;
}

/* Receives as recvmsg does: the bytes copied, or (MSG_TRUNC) the real
 * length; *t says what was taken. */
static long recv_fd(uint64_t fd, const struct cubi_ubuf *u, unsigned flags, struct taken *t)
{
	long rc;
	struct cubi_sock *s = udp_get(fd, false, &rc);

	if (!s)
		return rc;
	rc = udp_recv(s, u, flags, t);
	cubi_file_put(&s->file);
	if (rc >= 0 && (flags & MSG_TRUNC))
		rc = (long)t->len;
	return rc;
}

/* sendto's checks of its arguments: 0 or -errno; *to the destination. */
static long sendto_args(struct cub_shim_regs *r, struct dest *to)
{
	uint8_t a[CUBI_ADDR_MAX];
	long rc = 0;

	if (A2(r) > CUBI_UDP_MAX)
		return -CUB_EMSGSIZE;
	if ((unsigned)A3(r) & ~SEND_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_in(A4(r), (int)A5(r), a)) == 0)
		rc = dest_in(a, (int)A5(r), to);
	if (rc)
		return rc;
	return cubi_user_readable(A1(r), A2(r)) ? 0 : -CUB_EFAULT;
}

/* sendto(fd, buf, n, flags, dest, destlen) on a UDP socket. */
long cubi_udp_sendto(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	struct dest to;
	long rc = sendto_args(r, &to);

	return send_fd(A0(r), rc, &u, A2(r), A4(r) ? &to : NULL);
}

/* recvfrom(fd, buf, n, flags, src, srclen): *srclen = 16, or 0 at end
 * of file (no sender). */
long cubi_udp_recvfrom(struct cub_shim_regs *r)
{
	struct cubi_ubuf u = { A1(r), 0, A2(r) };
	unsigned flags = (unsigned)A3(r);
	struct cubi_saddr sa = { { 0 }, 0 };
	struct taken t;
	long rc;

	if (flags & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (A4(r) && (rc = cubi_sock_addr_out_ok(A4(r), A5(r))) != 0)
		return rc;
	rc = recv_fd(A0(r), &u, flags, &t);
	if (rc < 0 || !A4(r))
		return rc;
	if (t.have)
		cubi_sock_sin(&sa, t.addr, t.port);
	return cubi_sock_addr_out(A4(r), A5(r), &sa) ? -CUB_EFAULT : rc;
}

/* sendmsg on a UDP socket: the iovecs gathered into one datagram to
 * msg_name (none when msg_name or msg_namelen is 0: the peer). */
long cubi_udp_sendmsg(uint64_t fd, const struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	long n = cubi_iov_total(m, CUBI_UDP_MAX), rc = n < 0 ? n : 0;
	uint8_t a[CUBI_ADDR_MAX];
	struct dest to;
	bool named = m->name && m->namelen;

	if (!rc && (flags & ~SEND_FLAGS))
		rc = -CUB_EOPNOTSUPP;
	if (!rc && (m->controllen || (int32_t)m->namelen < 0))
		rc = -CUB_EINVAL;
	if (!rc && named &&
	    (rc = cubi_sock_addr_in(m->name, (int)CUB_MIN(m->namelen, CUBI_ADDR_MAX), a)) == 0)
		rc = dest_in(a, (int)m->namelen, &to);
	return send_fd(fd, rc, &u, (size_t)CUB_MAX(n, 0), named ? &to : NULL);
}

/* recvmsg on a UDP socket: scattered into the iovecs; the sender into
 * msg_name (min(msg_namelen, 16) bytes; msg_namelen = 16, or 0 at end of
 * file); msg_flags MSG_TRUNC when the datagram did not fit; no control
 * data (msg_controllen 0). */
long cubi_udp_recvmsg(uint64_t fd, uintptr_t umsg, struct msghdr_user *m, unsigned flags)
{
	struct cubi_ubuf u = { 0, m->iov, m->iovlen };
	struct cubi_saddr sa = { { 0 }, 0 };
	struct taken t;
	long rc;

	if (flags & ~RECV_FLAGS)
		return -CUB_EOPNOTSUPP;
	if (m->name && (int32_t)m->namelen < 0)
		return -CUB_EINVAL;
	rc = recv_fd(fd, &u, flags & ~MSG_TRUNC, &t);
	if (rc < 0)
		return rc;
	if (t.have)
		cubi_sock_sin(&sa, t.addr, t.port);
	if (m->name && cubi_copy_out(m->name, sa.b, CUB_MIN(m->namelen, sa.len)))
		return -CUB_EFAULT;
	if (m->name)
		m->namelen = sa.len;
	m->controllen = 0;
	m->flags = t.have && (size_t)rc < t.len ? (int32_t)MSG_TRUNC : 0;
	if (cubi_copy_out(umsg, m, sizeof(*m)))
		return -CUB_EFAULT;
	return flags & MSG_TRUNC ? (long)t.len : rc;
}
