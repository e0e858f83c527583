/*
 * socket_inet.c - UDP sockets on the network card (netdev.h is the
 * interface; socket_udp.c keeps the sockets, their queues and the
 * loopback). A socket that holds a port on 0.0.0.0 or on the card's
 * address has an endpoint (struct cubi_inet_ep): a cub_udp endpoint of
 * the stack bound to the same port, and a pump coroutine ("udp pump")
 * that blocks in cub_udp_recvfrom and appends each datagram, with its
 * sender, to the socket's queue as a loopback send does
 * (cubi_dgram_queue: pollers wake), or drops it as Linux would (the
 * queue's budget full, or a connected socket's filter). Receiving is
 * therefore socket_udp.c's unchanged: blocking, O_NONBLOCK, MSG_PEEK,
 * MSG_TRUNC, SO_RCVTIMEO, poll/epoll and signals. Sends to a non-local
 * address go through cub_udp_sendto from the socket's endpoint.
 * Datagrams of up to 65507 bytes (CUB_UDP_PAYLOAD_MAX, socket_udp.c's
 * CUBI_UDP_MAX) go both ways whole: the stack fragments and reassembles
 * them, and the socket's budget (CUBI_UDP_BUDGET, SO_RCVBUF) holds
 * three of the largest.
 *
 * cubi_inet_sync gives a socket its endpoint or takes it away whenever
 * its port may have changed: bind, a send's automatic bind, connect and
 * its AF_UNSPEC (their callers call it after the critical section);
 * cubi_inet_release closes it when the socket is freed. It also tells
 * the endpoint the socket's peer (cub_udp_connect), so that an ICMP port
 * unreachable about it wakes the pump's receive with -CUB_ECONNREFUSED,
 * which becomes the socket's pending error (icmp_in; Linux reports only
 * such hard errors on a connected UDP socket).
 *
 * Invariants: s->ep != NULL iff ep->sock == s (both set and cleared
 * together, under inet_lock and irq off); ep->u is open from ep_open to
 * the cub_udp_close in ep_close, bound to ep->port, the port its socket
 * held when it was made. ep->refs counts the socket's hold (until
 * ep_close), the pump's (until it leaves its loop) and each sender's
 * (across its cub_udp_sendto): the last put frees ep, so neither the
 * pump nor a sender touches freed memory however close and exit
 * interleave, and ep_close's cub_udp_close has returned before the
 * socket's hold is dropped.
 *
 * Locking: inet_lock (a coroutine mutex) serialises the endpoint changes,
 * which open and close endpoints (they block); it is taken before the
 * stack's interface mutex (inside cub_udp_*) and never inside the fd
 * layer's critical section (interrupts disabled), which guards s->ep,
 * ep->sock, ep->refs and the socket's queue. The pump and senders take
 * only the interface mutex (in cub_udp_*) and the critical section, one
 * at a time. Contexts: task.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "netdev.h"
#include "socket.h"
#include "socket_msg.h"

_Static_assert(CUB_UDP_PAYLOAD_MAX == CUBI_UDP_MAX &&
	       CUBI_UDP_BUDGET >= 3 * (CUBI_UDP_MAX + 64),
	       "the card carries what loopback does; SO_RCVBUF holds it");

#define PUMP_STACK (16u * 1024)
#define TX_TRIES 50			/* a full transmit ring: 1 ms apart */
#define TX_RETRY_NS (1000ull * 1000)

struct cubi_inet_ep {
	struct cub_udp u;
	struct cubi_sock *sock;		/* the socket it feeds, or NULL */
	unsigned refs;
	uint16_t port;
	unsigned char buf[CUB_UDP_PAYLOAD_MAX];	/* the pump's: a whole
						 * (reassembled) datagram */
};

static struct cub_mutex inet_lock = CUB_MUTEX_INIT(inet_lock);

static void ep_put(struct cubi_inet_ep *ep)
{
	unsigned long irq = cub_arch_irq_save();
	bool last = --ep->refs == 0;

	cub_arch_irq_restore(irq);
	if (last)
		cub_free(ep);
}

/* ---------------------------------------------------------------- pump */

/* Whether s takes d (irq off): room in its budget, and a connected
 * socket hears its peer only (Linux's lookup finds no socket else). */
static bool takes(const struct cubi_sock *s, const struct cubi_dgram *d)
{
	if (s->dbytes + cubi_dgram_cost(d->len) > CUBI_UDP_BUDGET)
		return false;
	return s->state != CUBI_SOCK_CONNECTED ||
	       (s->peer_addr == d->addr && s->peer_port == d->port);
}

/* One received datagram (n bytes in ep->buf) onto ep's socket's queue. */
static void queue_in(struct cubi_inet_ep *ep, size_t n, cub_ip4_t src, uint16_t sport)
{
	struct cubi_dgram *d = cub_malloc(sizeof(*d) + n);
	unsigned long irq;

	if (!d)
		return;				/* dropped, as on a full queue */
	*d = (struct cubi_dgram){ .addr = src, .port = sport, .len = n };
	cub_memcpy(d->data, ep->buf, n);
	irq = cub_arch_irq_save();
	if (ep->sock && takes(ep->sock, d)) {
		cubi_dgram_queue(ep->sock, d);	/* wakes readers and pollers */
		d = NULL;
	}
	cub_arch_irq_restore(irq);
	cub_free(d);
}

/* An ICMP error the stack gave the endpoint (connected: sync_locked):
 * port unreachable becomes the socket's pending ECONNREFUSED, as on
 * Linux, whose connected UDP sockets hear of hard errors only (without
 * IP_RECVERR); the soft ones (host, net unreachable) are dropped. */
static void icmp_in(struct cubi_inet_ep *ep, int err)
{
	unsigned long irq;

	if (err != -CUB_ECONNREFUSED)
		return;
	irq = cub_arch_irq_save();
	if (ep->sock && ep->sock->state == CUBI_SOCK_CONNECTED) {
		ep->sock->err = CUB_ECONNREFUSED;
		cubi_sock_changed(ep->sock);
	}
	cub_arch_irq_restore(irq);
}

/* The pump: until cub_udp_close makes its receive return -CUB_EBADF. */
static void *pump(void *arg)
{
	struct cubi_inet_ep *ep = arg;

	for (;;) {
		cub_ip4_t src;
		uint16_t sport;
		int n = cub_udp_recvfrom(&ep->u, ep->buf, sizeof(ep->buf), &src, &sport,
					 UINT64_MAX);

		if (n == -CUB_EBADF)
			break;
		if (n >= 0)
			queue_in(ep, CUB_MIN((size_t)n, sizeof(ep->buf)), src, sport);
		else
			icmp_in(ep, n);
	}
	ep_put(ep);
	return NULL;
}

/* ------------------------------------------------------------ endpoints */

/* A new endpoint on port with its pump (held twice: the socket's, the
 * pump's): 0 and *out, or -EADDRINUSE / -ENOMEM. */
static long ep_open(uint16_t port, struct cubi_inet_ep **out)
{
	struct cub_coro_attr attr = { "udp pump", PUMP_STACK, 0 };
	struct cubi_inet_ep *ep = cub_malloc(sizeof(*ep));
	int rc;

	if (!ep)
		return -CUB_ENOMEM;
	cub_memset(ep, 0, sizeof(*ep));
	rc = cub_udp_open(&ep->u, cubi_netdev.nif, port);
	if (rc) {
		cub_free(ep);
		return rc == -CUB_EADDRINUSE ? rc : -CUB_ENOMEM;
	}
	ep->port = port;
	ep->refs = 2;
	if (cub_coro_spawn(NULL, pump, ep, &attr)) {
		cub_udp_close(&ep->u);
		cub_free(ep);
		return -CUB_ENOMEM;
	}
	*out = ep;
	return 0;
}

/* Ends ep once detached: its pump leaves, the socket's hold goes. */
static void ep_close(struct cubi_inet_ep *ep)
{
	cub_udp_close(&ep->u);
	ep_put(ep);
}

/* The port s's endpoint should have (irq off): its own when it holds one
 * on 0.0.0.0 or the card's address, else 0 (none). */
static uint16_t wanted(const struct cubi_sock *s)
{
	if (!s->in_table || (s->addr && s->addr != cubi_netdev.addr))
		return 0;
	return s->port;
}

/* Detaches s's endpoint (irq off): returned, to close. */
static struct cubi_inet_ep *detach(struct cubi_sock *s)
{
	struct cubi_inet_ep *ep = s->ep;

	if (ep)
		ep->sock = NULL;
	s->ep = NULL;
	return ep;
}

/* cubi_inet_sync with inet_lock held. */
static long sync_locked(struct cubi_sock *s)
{
	struct cubi_inet_ep *old = NULL, *ep = NULL;
	unsigned long irq = cub_arch_irq_save();
	uint16_t want = wanted(s);
	long rc;

	if (s->ep && s->ep->port != want)
		old = detach(s);
	rc = s->ep ? 1 : 0;
	cub_arch_irq_restore(irq);
	if (old)
		ep_close(old);
	if (rc || !want)
		return 0;
	if ((rc = ep_open(want, &ep)) != 0)
		return rc;
	irq = cub_arch_irq_save();
	if (wanted(s) == want && !s->ep) {	/* it may have moved meanwhile */
		s->ep = ep;
		ep->sock = s;
		ep = NULL;
	}
	cub_arch_irq_restore(irq);
	if (ep)
		ep_close(ep);			/* whoever moved it syncs again */
	return 0;
}

/* Gives the stack s's peer (irq off to look), so that ICMP errors about
 * it reach the endpoint: connected, or 0 (disconnected). */
static void peer_sync(struct cubi_sock *s)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_inet_ep *ep = s->ep;
	bool conn = s->state == CUBI_SOCK_CONNECTED;
	uint32_t addr = conn ? s->peer_addr : 0;
	uint16_t port = conn ? s->peer_port : 0;

	if (ep)
		ep->refs++;
	cub_arch_irq_restore(irq);
	if (!ep)
		return;
	(void)cub_udp_connect(&ep->u, port ? addr : 0, port);
	ep_put(ep);
}

long cubi_inet_sync(struct cubi_sock *s)
{
	long rc;

	if (!cubi_netdev.nif || s->domain != CUBI_AF_INET || s->type != CUBI_SOCK_DGRAM)
		return 0;
	cub_mutex_lock(&inet_lock);
	rc = sync_locked(s);
	if (rc == 0)
		peer_sync(s);
	cub_mutex_unlock(&inet_lock);
	return rc;
}

void cubi_inet_release(struct cubi_sock *s)
{
	struct cubi_inet_ep *ep;
	unsigned long irq;

	if (!s->ep)
		return;				/* nobody else refers to s now */
	cub_mutex_lock(&inet_lock);
	irq = cub_arch_irq_save();
	ep = detach(s);
	cub_arch_irq_restore(irq);
	cub_mutex_unlock(&inet_lock);
	ep_close(ep);
}

/* ---------------------------------------------------------------- send */

/* A send's checks and copy (irq off), as socket_udp.c's for loopback:
 * the bytes taken into buf and a hold on s's endpoint in *epp, or
 * -errno. No endpoint: s is bound to a loopback address, which cannot
 * reach the network (Linux: -EINVAL). */
static long take(struct cubi_sock *s, const struct cubi_ubuf *u, unsigned char *buf,
		 size_t n, struct cubi_inet_ep **epp)
{
	long rc = cubi_sock_take_err(s);

	if (rc)
		return rc;
	if (s->wr_shut)
		return -CUB_EPIPE;
	if (!s->ep)
		return -CUB_EINVAL;
	rc = cubi_ucopy(u, buf, n, true);
	if (rc < 0)
		return rc;
	s->ep->refs++;
	*epp = s->ep;
	return rc;
}

/* cub_udp_sendto with its errors as Linux's: a full transmit ring is
 * waited out for a while (-ENOBUFS after); an endpoint closed under the
 * send (the socket rebound meanwhile) is Linux's -EINVAL of a socket
 * that cannot reach the destination. */
static long transmit(struct cubi_inet_ep *ep, uint32_t dst, uint16_t port,
		     const unsigned char *buf, size_t n)
{
	int rc = cub_udp_sendto(&ep->u, dst, port, buf, n);

	for (int i = 0; rc == -CUB_EAGAIN && i < TX_TRIES; i++) {
		cub_sleep(TX_RETRY_NS);
		rc = cub_udp_sendto(&ep->u, dst, port, buf, n);
	}
	if (rc == -CUB_EAGAIN)
		return -CUB_ENOBUFS;
	if (rc == -CUB_EBADF)
		return -CUB_EINVAL;
	return rc;
}

long cubi_inet_send(struct cubi_sock *s, const struct cubi_ubuf *u, size_t n, uint32_t dst,
		    uint16_t port)
{
	struct cubi_inet_ep *ep = NULL;
	unsigned char *buf;
	unsigned long irq;
	long rc;

	if (n > CUB_UDP_PAYLOAD_MAX)
		return -CUB_EMSGSIZE;		/* over 65507: as Linux */
	if ((rc = cubi_inet_sync(s)) != 0)
		return rc;
	if (!(buf = cub_malloc(n ? n : 1)))
		return -CUB_ENOMEM;
	irq = cub_arch_irq_save();
	rc = take(s, u, buf, n, &ep);
	cub_arch_irq_restore(irq);
	if (rc >= 0)
		rc = transmit(ep, dst, port, buf, (size_t)rc);
	if (ep)
		ep_put(ep);
	cub_free(buf);
	return rc;
}

void cubi_inet_sync_fd(uint64_t fd)
{
	struct cubi_file *f;
	struct cubi_sock *s;

	if (!cubi_netdev.nif || !(f = cubi_fd_get(fd)))
		return;
	if ((s = cubi_sock_of(f)) != NULL)
		(void)cubi_inet_sync(s);
	cubi_file_put(f);
}
