/*
 * socket_conn.c - connections: connect (TCP over loopback, AF_UNIX
 * SOCK_STREAM and SOCK_SEQPACKET by name through socket_unix.c; a
 * datagram socket's connect is handed to socket_udp.c or socket_umsg.c)
 * and accept/accept4. socket.c makes, binds and shuts down sockets and
 * states the semantics, the choices and the invariants these calls keep;
 * socket_addr.c names them and keeps the ports; socket.h is the
 * interface.
 *
 * Locking: the fd layer's critical section (interrupts disabled) around
 * every look at socket state, queues and ports; the server side of a
 * connection is allocated before it, and a connect that must wait for
 * room in the accept queue (or for a name's lookup under the fs lock)
 * leaves it first.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

#define LOOPBACK 0x7f000001u	/* 127.0.0.1 */
#define SOCK_FLAGS (CUBI_O_NONBLOCK | CUBI_O_CLOEXEC)	/* accept4 */
#define NEED_SOCK 1		/* connect_locked: allocate, then retry */
#define NEED_NAME 2		/* connect_locked: look the AF_UNIX name up */
#define NEED_NET 3		/* connect_locked: through the network card */

/* ------------------------------------------------------------ connect */

/* Connects client c to the new socket srv and queues srv on listener l
 * (irq off). srv was allocated before an earlier attempt, when fd may
 * have been another socket: it takes c's domain now. */
static void enqueue(struct cubi_sock *c, struct cubi_sock *srv, struct cubi_sock *l)
{
	srv->domain = c->domain;
	c->state = srv->state = CUBI_SOCK_CONNECTED;
	c->peer = srv;
	srv->peer = c;
	srv->listener = l;
	cub_list_push_back(&l->queue, &srv->qlink);
	l->qlen++;
	cubi_file_changed(&l->file);
	cubi_sock_changed(c);
}

/* A loopback connection's MSS, both ends: lo's (its IPv4 packet less
 * the headers) or less when either end set TCP_MAXSEG before (Linux:
 * the smaller of the two, less the timestamp option). */
static uint16_t lo_mss(const struct cubi_sock *c, const struct cubi_sock *l)
{
	unsigned m = CUBI_LO_IP_MTU - CUBI_TCP_HDRS;

	if (c->user_mss)
		m = CUB_MIN(m, c->user_mss);
	if (l->user_mss)
		m = CUB_MIN(m, l->user_mss);
	return (uint16_t)(m - CUBI_TCP_TS_LEN);
}

/* TCP: enqueue with the addresses; dst is the one c connected to. */
static void join(struct cubi_sock *c, struct cubi_sock *srv, struct cubi_sock *l, uint32_t dst)
{
	srv->user_mss = l->user_mss;
	c->mss = srv->mss = lo_mss(c, l);
	c->pmtu = srv->pmtu = CUBI_LO_IP_MTU;
	if (!c->addr)		/* the source address local routes use */
		c->addr = cubi_sock_loopback(dst) ? LOOPBACK : dst;
	c->peer_addr = srv->addr = dst;
	c->peer_port = srv->port = l->port;
	srv->peer_addr = c->addr;
	srv->peer_port = c->port;
	enqueue(c, srv, l);
}

/* What a connect carries from one attempt to the next. */
struct attempt {
	struct cubi_sock *srv;	/* the server side, allocated, or NULL */
	uint32_t id;		/* AF_UNIX: what the name led to (0: look) */
	uint32_t dst;		/* NEED_NET: where to */
	uint16_t port;
	int domain, type;	/* NEED_SOCK: what srv must be */
};

/* An AF_UNIX attempt (irq off), in Linux's order: the name (NEED_NAME
 * until the lookup gave t->id), a live listener, our state, room in its
 * queue. The accepted side is named like its listener and knows c's
 * name; c knows the listener's. */
static long unix_connect_locked(struct cubi_sock *c, struct attempt *t)
{
	struct cubi_sock *l, *srv = t->srv;

	if (!t->id)
		return NEED_NAME;
	l = cubi_unix_find(t->id);
	if (l && l->type != c->type)
		return -CUB_EPROTOTYPE;		/* SOCK_STREAM vs _SEQPACKET */
	if (!l || l->state != CUBI_SOCK_LISTENING)
		return -CUB_ECONNREFUSED;	/* closed, or never listened */
	if (c->state != CUBI_SOCK_UNCONNECTED)
		return c->state == CUBI_SOCK_CONNECTED ? -CUB_EISCONN : -CUB_EINVAL;
	if (l->qlen >= l->backlog)
		return -CUB_EAGAIN;
	if (!srv || srv->type != c->type)
		return NEED_SOCK;
	cub_memcpy(srv->un_name, l->un_name, l->un_len);
	srv->un_len = l->un_len;
	cub_memcpy(srv->un_peer, c->un_name, c->un_len);
	srv->un_peer_len = c->un_len;
	cub_memcpy(c->un_peer, l->un_name, l->un_len);
	c->un_peer_len = l->un_len;
	enqueue(c, srv, l);
	return 0;
}

/* One connect attempt (irq off): 0, -errno, -EAGAIN while the accept
 * queue is full, NEED_SOCK when it would succeed given t->srv, or
 * NEED_NAME (AF_UNIX) to look the name up first. */
static long connect_locked(struct cubi_sock *s, const uint8_t *a, int len, struct attempt *t)
{
	uint32_t dst = cubi_sa_addr(a);
	struct cubi_sock *l;
	long rc;

	t->domain = s->domain;
	t->type = s->type;
	if (s->domain == CUBI_AF_NETLINK)
		return cubi_nl_connect(s, a, len);
	if (s->type == CUBI_SOCK_DGRAM && s->domain == CUBI_AF_INET)
		return cubi_udp_connect(s, a, len);	/* records a peer */
	if (s->type == CUBI_SOCK_DGRAM && (unsigned)len < 2)
		return -CUB_EINVAL;
	if (s->type == CUBI_SOCK_DGRAM)		/* AF_UNSPEC (0): dissolve */
		return cubi_sa_family(a) && !t->id ? NEED_NAME : cubi_umsg_connect(s, t->id);
	if (s->domain == CUBI_AF_UNIX)
		return unix_connect_locked(s, t);
	if ((unsigned)len < 2)
		return -CUB_EINVAL;
	if (s->state == CUBI_SOCK_CONNECTING)
		return -CUB_EALREADY;
	if (s->conn_report) {	/* a network connect's outcome, once */
		s->conn_report = false;
		if (s->state == CUBI_SOCK_CONNECTED)
			return 0;
		if (s->err)
			return cubi_sock_take_err(s);
	}
	if (s->state != CUBI_SOCK_UNCONNECTED)
		return s->state == CUBI_SOCK_CONNECTED ? -CUB_EISCONN : -CUB_EINVAL;
	if ((unsigned)len < CUBI_SIN_SIZE)
		return -CUB_EINVAL;
	if (cubi_sa_family(a) != CUBI_AF_INET)
		return -CUB_EAFNOSUPPORT;
	dst = dst ? dst : LOOPBACK;	/* 0.0.0.0: this machine */
	if (!cubi_netdev_local(dst) && cubi_netdev.nif) {
		t->dst = dst;		/* the card's: socket_tcpnet.c */
		t->port = cubi_sa_port(a);
		return t->port ? NEED_NET : -CUB_ECONNREFUSED;
	}
	if (!cubi_netdev_local(dst))
		return -CUB_ENETUNREACH;
	l = cubi_sock_find_listener(dst, cubi_sa_port(a));
	if (!l)
		return -CUB_ECONNREFUSED;
	if (l->qlen >= l->backlog)
		return -CUB_EAGAIN;
	if (!t->srv || t->srv->type != s->type)
		return NEED_SOCK;
	if (!s->port && (rc = cubi_sock_bind(s, LOOPBACK, 0)) != 0)
		return -CUB_EADDRNOTAVAIL;	/* no ephemeral port left */
	join(s, t->srv, l, dst);
	return 0;
}

/* connect(fd, addr, len): completes at once (loopback), even on a
 * non-blocking socket; waits only while the listener's queue is full.
 * To a non-local address through the network card: socket_tcpnet.c
 * connects in the background (-EINPROGRESS, or a wait for the outcome).
 * An AF_UNIX name is looked up between attempts (with interrupts
 * enabled: a path takes the fs lock), again after each wait. */
CUBI_SYS(connect)
{
	uint8_t a[CUBI_ADDR_MAX];
	long cerr = cubi_sock_addr_in(A1(r), (int)A2(r), a), rc;
	struct attempt t = { NULL, 0, 0, 0, 0, 0 };
	bool nonblock = false;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_io_seq();
		struct cubi_sock *s = cubi_sock_at(A0(r), &rc);

		nonblock = s && (s->file.flags & CUBI_O_NONBLOCK);
		if (s)
			rc = cerr ? cerr : connect_locked(s, a, (int)A2(r), &t);
		cub_arch_irq_restore(irq);
		if (rc == NEED_NAME && (rc = cubi_unix_lookup(a, (int)A2(r), &t.id)) == 0)
			continue;
		if (rc == NEED_SOCK) {	/* (again: fd became another kind) */
			cub_free(t.srv);
			t.srv = cubi_sock_new(t.domain, t.type, 0);
		}
		if (rc == NEED_SOCK && t.srv)
			continue;
		if (rc == NEED_NET && (rc = cubi_tcpnet_connect(A0(r), t.dst, t.port)) == 0)
			rc = nonblock ? -CUB_EINPROGRESS : cubi_tcpnet_wait(A0(r));
		if (rc == NEED_SOCK)
			rc = -CUB_ENOMEM;
		if (rc != -CUB_EAGAIN || nonblock)
			break;
		t.id = 0;
		if (cubi_io_wait(seq, 0, "connect") == -CUB_EINTR) {
			rc = -CUB_EINTR;
			break;
		}
	}
	if (rc)
		cub_free(t.srv);
	else if (t.domain == CUBI_AF_INET && t.type == CUBI_SOCK_DGRAM)
		cubi_inet_sync_fd(A0(r));	/* UDP: its endpoint on the card */
	return rc;
}

/* ------------------------------------------------------------- accept */

/* Takes l's oldest queued connection into a new descriptor (irq off):
 * the descriptor, -EAGAIN (queue empty) or -EMFILE (left queued). */
static long accept_locked(struct cubi_sock *l, unsigned flags, struct cubi_saddr *peer)
{
	struct cubi_sock *q;
	long fd;

	if (cub_list_empty(&l->queue))
		return -CUB_EAGAIN;
	q = cub_container_of(cub_list_first(&l->queue), struct cubi_sock, qlink);
	fd = cubi_fd_install(&q->file, flags & CUBI_O_CLOEXEC);
	if (fd < 0)
		return fd;
	cub_list_del(&q->qlink);
	l->qlen--;
	q->listener = NULL;
	q->file.flags = CUBI_O_RDWR | (flags & CUBI_O_NONBLOCK);
	cubi_sock_name(q, true, peer);
	cubi_file_changed(&l->file);
	cubi_tcpnet_room(l);	/* the card's pump may queue another */
	cubi_sock_changed(q);	/* also: a connect waiting for room looks again */
	return fd;
}

/* accept4(fd, addr, addrlen, flags): the address is checked up front so
 * that a bad one does not lose the connection. */
static long do_accept(uint64_t fd, uintptr_t uaddr, uintptr_t ulen, uint64_t flags)
{
	long aerr = uaddr ? cubi_sock_addr_out_ok(uaddr, ulen) : 0, rc;
	uint64_t deadline = UINT64_MAX;		/* set at the first wait */
	struct cubi_saddr peer;

	if (flags & ~(uint64_t)SOCK_FLAGS)
		return -CUB_EINVAL;
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		struct cubi_sock *s = cubi_sock_at(fd, &rc);
		uint32_t seq = s ? cubi_file_seq(&s->file) : 0;
		bool nonblock = s && (s->file.flags & CUBI_O_NONBLOCK);

		if (s && (s->type == CUBI_SOCK_DGRAM || s->domain == CUBI_AF_NETLINK))
			rc = -CUB_EOPNOTSUPP;	/* UDP, AF_UNIX SOCK_DGRAM, netlink */
		else if (s && s->state != CUBI_SOCK_LISTENING)
			rc = -CUB_EINVAL;
		else if (s)
			rc = aerr ? aerr : accept_locked(s, (unsigned)flags, &peer);
		if (rc == -CUB_EAGAIN && !nonblock) {
			s->file.refs++;		/* held while it waits on s */
			if (deadline == UINT64_MAX)	/* SO_RCVTIMEO */
				deadline = cubi_sock_deadline(s, false);
		}
		cub_arch_irq_restore(irq);
		if (rc != -CUB_EAGAIN || nonblock)
			break;
		if ((rc = cubi_sock_wait_put(s, seq, deadline, "accept")))
			return rc;	/* -EINTR, -EAGAIN */
	}
	if (rc >= 0 && uaddr && cubi_sock_addr_out(uaddr, ulen, &peer)) {
		cubi_fd_close((uint64_t)rc);	/* unmapped meanwhile */
		return -CUB_EFAULT;
	}
	return rc;
}

CUBI_SYS(accept)
{
	return do_accept(A0(r), A1(r), A2(r), 0);
}

CUBI_SYS(accept4)
{
	return do_accept(A0(r), A1(r), A2(r), A3(r));
}
