/*
 * socket_bind.c - the calls that change a socket's place rather than make
 * it: bind (TCP and UDP here; AF_UNIX names are socket_unix.c's, netlink
 * port ids socket_netlink.c's), listen, and shutdown (a listener stops
 * listening and resets its queue; a connection's ends stop reading or
 * writing). The semantics and the choices made where Linux leaves room
 * are in socket.c's header comment; ports and their conflicts are
 * socket_addr.c's.
 *
 * Invariants: socket.c's. A listener's backlog is 1 .. BACKLOG_MAX; a
 * listener that stops listening leaves its reset queue to the caller,
 * which frees it once the critical section is over.
 *
 * Locking: the fd layer's critical section (interrupts disabled, fd.c)
 * around every look at or change of socket state; a shutdown listener's
 * queued sockets are freed after it. AF_UNIX bind holds a reference to
 * the socket instead, and takes the fs lock (socket_unix.c).
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

#define SHUT_RD 0
#define SHUT_WR 1
#define BACKLOG_MAX 4096u

/* ------------------------------------------------------ bind, listen */

static long bind_locked(struct cubi_sock *s, const uint8_t *a, int len)
{
	uint32_t addr = cubi_sa_addr(a);

	if ((unsigned)len < CUBI_SIN_SIZE)
		return -CUB_EINVAL;
	if (cubi_sa_family(a) != CUBI_AF_INET)
		return -CUB_EAFNOSUPPORT;
	if (addr && !cubi_netdev_local(addr))
		return -CUB_EADDRNOTAVAIL;	/* loopback, or the card's address */
	if (s->port || s->state != CUBI_SOCK_UNCONNECTED)
		return -CUB_EINVAL;	/* bound already */
	return cubi_sock_bind(s, addr, cubi_sa_port(a));
}

/* A UDP socket just bound also takes its port on the card (socket_inet.c):
 * 0, or the card's refusal (-EADDRINUSE, -ENOMEM), the bind undone. */
static long bind_net(struct cubi_sock *s)
{
	long rc = cubi_inet_sync(s);
	unsigned long irq;

	if (rc) {
		irq = cub_arch_irq_save();
		if (!s->ep)
			cubi_sock_unbind(s);
		cub_arch_irq_restore(irq);
	}
	return rc;
}

/* bind(fd, addr, len): the descriptor is checked before the address. An
 * AF_UNIX bind may walk a path: it holds a reference to the socket
 * instead of the critical section (socket_unix.c). */
CUBI_SYS(bind)
{
	uint8_t a[CUBI_ADDR_MAX];
	long cerr = cubi_sock_addr_in(A1(r), (int)A2(r), a), rc;
	struct cubi_file *f = cubi_fd_get(A0(r));
	struct cubi_sock *s = f ? cubi_sock_of(f) : NULL;
	unsigned long irq;

	if (!s)
		rc = f ? -CUB_ENOTSOCK : -CUB_EBADF;
	else if (cerr)
		rc = cerr;
	else if (s->domain == CUBI_AF_UNIX)	/* domain never changes */
		rc = cubi_unix_bind(s, a, (int)A2(r));
	else {
		irq = cub_arch_irq_save();
		rc = s->domain == CUBI_AF_NETLINK ? cubi_nl_bind(s, a, (int)A2(r)) :
						    bind_locked(s, a, (int)A2(r));
		cub_arch_irq_restore(irq);
		if (!rc && s->domain == CUBI_AF_INET)
			rc = bind_net(s);
	}
	if (f)
		cubi_file_put(f);
	return rc;
}

/* listen(fd, backlog): an unbound TCP socket gets an ephemeral port on
 * 0.0.0.0, an unbound AF_UNIX one fails (-EINVAL, as on Linux);
 * listening again only changes the backlog. */
static long listen_locked(struct cubi_sock *s, int backlog)
{
	long rc;

	if (s->type == CUBI_SOCK_DGRAM || s->domain == CUBI_AF_NETLINK)
		return -CUB_EOPNOTSUPP;
	if (s->domain == CUBI_AF_UNIX && !s->in_table)
		return -CUB_EINVAL;
	if (s->state == CUBI_SOCK_CONNECTED || s->state == CUBI_SOCK_CONNECTING)
		return -CUB_EINVAL;
	if (!s->port && s->domain == CUBI_AF_INET && (rc = cubi_sock_bind(s, 0, 0)) != 0)
		return rc;
	if ((unsigned)backlog > BACKLOG_MAX)
		backlog = BACKLOG_MAX;
	s->backlog = backlog ? (unsigned)backlog : 1;
	s->state = CUBI_SOCK_LISTENING;
	cubi_sock_changed(s);	/* also lets a connect waiting for room look again */
	return 0;
}

static void unlisten_fd(uint64_t fd);

/* listen(fd, backlog); on 0.0.0.0 or the card's address, also on the
 * card (socket_tcpnet.c). */
CUBI_SYS(listen)
{
	long rc;
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = cubi_sock_at(A0(r), &rc);

	if (s)
		rc = listen_locked(s, (int)A1(r));
	cub_arch_irq_restore(irq);
	if (rc == 0 && (rc = cubi_tcpnet_listen(A0(r))) != 0)
		unlisten_fd(A0(r));	/* the card refused: not listening */
	return rc;
}

/* ---------------------------------------------------------- shutdown */

/* A listener stops listening (shutdown SHUT_RD/SHUT_RDWR, irq off): its
 * queue is reset and moved to dead, a waiting accept fails -EINVAL. */
static void unlisten(struct cubi_sock *l, struct cub_list *dead)
{
	cubi_tcpnet_detach(l, false);	/* its stack listener closes */
	cubi_sock_reset_queue(l);
	while (!cub_list_empty(&l->queue))
		cub_list_push_back(dead, cub_list_pop_front(&l->queue));
	l->qlen = 0;
	l->state = CUBI_SOCK_UNCONNECTED;
	cubi_sock_changed(l);
}

/* Undoes a listen the card refused (interrupts enabled). */
static void unlisten_fd(uint64_t fd)
{
	struct cub_list dead = CUB_LIST_INIT(dead);
	long rc;
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = cubi_sock_at(fd, &rc);

	if (s && s->state == CUBI_SOCK_LISTENING)
		unlisten(s, &dead);
	cub_arch_irq_restore(irq);
	cubi_sock_free_queue(&dead);
}

static long shutdown_locked(struct cubi_sock *s, int how, struct cub_list *dead)
{
	if (s->domain == CUBI_AF_NETLINK)
		return -CUB_EOPNOTSUPP;	/* Linux's sock_no_shutdown */
	if (how < SHUT_RD || how > 2)
		return -CUB_EINVAL;
	if (s->state == CUBI_SOCK_LISTENING) {
		if (how != SHUT_WR)
			unlisten(s, dead);
		return 0;
	}
	if (s->state != CUBI_SOCK_CONNECTED &&
	    (s->domain != CUBI_AF_UNIX || s->type != CUBI_SOCK_DGRAM))
		return -CUB_ENOTCONN;	/* AF_UNIX SOCK_DGRAM: any state */
	if (how != SHUT_WR)
		s->rd_shut = true;
	if (how != SHUT_RD)
		s->wr_shut = true;	/* the peer reads end of file */
	cubi_sock_changed(s);
	return 0;
}

CUBI_SYS(shutdown)
{
	struct cub_list dead = CUB_LIST_INIT(dead);
	long rc;
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = cubi_sock_at(A0(r), &rc);

	if (s)
		rc = shutdown_locked(s, (int)A1(r), &dead);
	cub_arch_irq_restore(irq);
	cubi_sock_free_queue(&dead);
	return rc;
}
