/*
 * socket_tcpnet_open.c - connection set-up for TCP sockets on the network
 * card (socket_tcpnet.c has the design, tcpnet.h the shared parts):
 * connect (the pump's blocking cub_tcp_connect while the socket is
 * CUBI_SOCK_CONNECTING, and a blocking connect's wait for the outcome)
 * and listen (a stack listener beside the loopback one, and the pump
 * that accepts from it and queues each connection, with its own pump, on
 * the socket). Locking as socket_tcpnet.c: irq off around every look at a
 * socket and tn->sock, cub_tcp_* only with interrupts enabled.
 * Contexts: task.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "netdev.h"
#include "tcpnet.h"

/* ---------------------------------------------------------- connection */

/* Puts s's addresses from the stack's connection (interrupts enabled:
 * the queries lock) into a, p (local) and pa, pp (remote), and its MSS
 * and path MTU into p[2], p[3] (TCP_MAXSEG and IP_MTU from the start). */
static void conn_names(struct cub_tcp *c, uint32_t a[2], uint16_t p[4])
{
	struct cub_tcp_info info;

	a[0] = a[1] = 0;
	p[0] = p[1] = p[2] = p[3] = 0;
	(void)cub_tcp_local(c, &a[0], &p[0]);
	(void)cub_tcp_peer(c, &a[1], &p[1]);
	if (cub_tcp_info(c, &info) == 0) {
		p[2] = cubi_tcpnet_mss(&info);
		p[3] = info.pmtu;
	}
}

/* Makes s the connected end of tn (irq off), named by a, p. */
static void conn_join(struct cubi_sock *s, struct cubi_tcpnet *tn, const uint32_t a[2],
		      const uint16_t p[4])
{
	s->mss = p[2];
	s->pmtu = p[3];
	if (s->in_table)
		cubi_sock_unbind(s);	/* the stack picked the port */
	s->addr = a[0];
	s->port = p[0];
	s->peer_addr = a[1];
	s->peer_port = p[1];
	s->state = CUBI_SOCK_CONNECTED;
	s->peer = tn->out;
	tn->out->peer = s;
	cubi_sock_changed(s);
}

/* The pump's connect: 0 once the socket is connected, else -1 (the
 * outcome is on the socket; the pump leaves). */
int cubi_tcpnet_open(struct cubi_tcpnet *tn)
{
	int rc = cub_tcp_connect_mss(cubi_netdev.nif, tn->dst, tn->dport, tn->mss,
				     UINT64_MAX, &tn->c);
	uint32_t a[2];
	uint16_t p[4];
	unsigned long irq;
	struct cubi_sock *s;

	if (rc == 0)
		conn_names(tn->c, a, p);
	irq = cub_arch_irq_save();
	s = tn->sock;
	if (s && rc == 0) {
		conn_join(s, tn, a, p);
	} else if (s) {
		s->state = CUBI_SOCK_UNCONNECTED;
		s->err = -rc;
		s->tn = NULL;
		tn->sock = NULL;
		cubi_sock_changed(s);
	}
	cub_arch_irq_restore(irq);
	if (rc == 0 && !s)
		cub_tcp_abort(tn->c);	/* closed while connecting */
	return rc == 0 && s ? 0 : -1;
}

long cubi_tcpnet_connect(uint64_t fd, uint32_t dst, uint16_t port)
{
	struct cubi_tcpnet *tn = cubi_tcpnet_new(true);
	unsigned long irq;
	struct cubi_sock *s;
	long rc;

	if (!tn)
		return -CUB_ENOMEM;
	tn->dst = dst;
	tn->dport = port;
	irq = cub_arch_irq_save();
	s = cubi_sock_at(fd, &rc);
	if (s && (s->state != CUBI_SOCK_UNCONNECTED || s->tn || s->type != CUBI_SOCK_STREAM))
		s = NULL, rc = -CUB_EINVAL;	/* changed since connect looked */
	if (s) {
		tn->mss = s->user_mss;		/* Linux: only before connect */
		s->state = CUBI_SOCK_CONNECTING;
		s->conn_report = true;
		s->tn = tn;
		tn->sock = s;
		cubi_sock_changed(s);
	}
	cub_arch_irq_restore(irq);
	if (!s) {
		cubi_tcpnet_free(tn);
		return rc;
	}
	if (cubi_tcpnet_spawn(cubi_tcpnet_pump, tn, "tcp pump")) {
		irq = cub_arch_irq_save();
		if (tn->sock) {		/* nothing else detaches it this soon */
			tn->sock->state = CUBI_SOCK_UNCONNECTED;
			tn->sock->conn_report = false;
			tn->sock->tn = NULL;
		}
		cub_arch_irq_restore(irq);
		cubi_tcpnet_free(tn);
		return -CUB_ENOMEM;
	}
	return 0;
}

/* connect's wait for the outcome (irq off, the socket found at fd):
 * 1 while connecting, else the result to report. */
static long outcome(struct cubi_sock *s)
{
	if (s->state == CUBI_SOCK_CONNECTING)
		return 1;
	s->conn_report = false;
	if (s->state == CUBI_SOCK_CONNECTED)
		return 0;
	return s->err ? cubi_sock_take_err(s) : -CUB_ECONNABORTED;
}

long cubi_tcpnet_wait(uint64_t fd)
{
	uint64_t deadline = UINT64_MAX;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		long rc;
		struct cubi_sock *s = cubi_sock_at(fd, &rc);
		uint32_t seq = s ? cubi_file_seq(&s->file) : 0;

		if (s)
			rc = outcome(s);
		if (rc == 1) {
			s->file.refs++;		/* held while it waits on s */
			if (deadline == UINT64_MAX)
				deadline = cubi_sock_deadline(s, true);
		}
		cub_arch_irq_restore(irq);
		if (rc != 1)
			return rc;
		rc = cubi_sock_wait_put(s, seq, deadline, "connect");
		if (rc)		/* -EINTR; SO_SNDTIMEO: goes on in the background */
			return rc == -CUB_EAGAIN ? -CUB_EINPROGRESS : rc;
	}
}

/* ------------------------------------------------------------ listener */

/* A connection the stack accepted, queued on l's socket with its pump
 * (or reset: l gone, no memory). */
static void adopt(struct cubi_tcpnet *ltn, struct cub_tcp *c)
{
	struct cubi_tcpnet *tn = cubi_tcpnet_new(true);
	struct cubi_sock *q = cubi_sock_new(CUBI_AF_INET, CUBI_SOCK_STREAM, 0), *l;
	unsigned long irq;
	uint32_t a[2];
	uint16_t p[4];

	conn_names(c, a, p);
	irq = cub_arch_irq_save();
	l = ltn->sock;
	if (l && tn && q && l->state == CUBI_SOCK_LISTENING) {
		tn->c = c;
		tn->sock = q;
		q->tn = tn;
		conn_join(q, tn, a, p);
		q->listener = l;
		cub_memcpy(q->opt, l->opt, sizeof(q->opt));	/* as Linux */
		cub_list_push_back(&l->queue, &q->qlink);
		l->qlen++;
		cubi_sock_changed(l);
		q = NULL;
	}
	cub_arch_irq_restore(irq);
	if (!q && !cubi_tcpnet_spawn(cubi_tcpnet_pump, tn, "tcp pump"))
		return;
	if (!q) {		/* no pump: the queued socket reads a reset */
		irq = cub_arch_irq_save();
		cubi_tcpnet_dead(tn, -CUB_ECONNRESET);
		cub_arch_irq_restore(irq);
	}
	cub_free(q);
	cub_tcp_abort(c);
	if (tn)
		cubi_tcpnet_free(tn);
}

static void *listen_pump(void *arg)
{
	struct cubi_tcpnet *tn = arg;

	(void)cub_tcp_set_notify(tn->c, cubi_tcpnet_notify, tn);
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_file_seq(&tn->bell);
		struct cubi_sock *l = tn->sock;
		bool room = l && l->qlen < l->backlog;
		uint16_t mss = l ? l->user_mss : 0;
		struct cub_tcp *c;

		cub_arch_irq_restore(irq);
		if (!l)
			break;
		if (mss != tn->mss && cub_tcp_set_mss(tn->c, mss) == 0)
			tn->mss = mss;		/* TCP_MAXSEG on the listener */
		if (room && cub_tcp_accept(tn->c, &c, 0) == 0)
			adopt(tn, c);
		else
			(void)cubi_file_wait(&tn->bell, seq, 0, "tcp listen");
	}
	cub_tcp_close(tn->c);
	cubi_tcpnet_free(tn);
	return NULL;
}

/* Whether listener s should listen on the card too (irq off). */
static bool wants_card(const struct cubi_sock *s)
{
	return s->state == CUBI_SOCK_LISTENING && !s->tn && s->domain == CUBI_AF_INET &&
	       (!s->addr || s->addr == cubi_netdev.addr);
}

long cubi_tcpnet_listen(uint64_t fd)
{
	struct cubi_tcpnet *tn;
	unsigned long irq;
	struct cubi_sock *s;
	uint16_t port = 0;
	unsigned backlog = 0;
	long rc;

	if (!cubi_netdev.nif)
		return 0;
	irq = cub_arch_irq_save();
	s = cubi_sock_at(fd, &rc);
	if (s && wants_card(s)) {
		port = s->port;
		backlog = CUB_MIN(s->backlog, (unsigned)CUB_TCP_BACKLOG_MAX);
	}
	cub_arch_irq_restore(irq);
	if (!port)
		return 0;
	if (!(tn = cubi_tcpnet_new(false)))
		return -CUB_ENOMEM;
	if ((rc = cub_tcp_listen(cubi_netdev.nif, port, backlog, &tn->c)) != 0) {
		cubi_tcpnet_free(tn);
		return rc == -CUB_EADDRINUSE ? rc : -CUB_ENOMEM;
	}
	irq = cub_arch_irq_save();
	s = cubi_sock_at(fd, &rc);
	if (s && wants_card(s) && s->port == port) {
		s->tn = tn;
		tn->sock = s;
	}
	cub_arch_irq_restore(irq);
	rc = tn->sock ? cubi_tcpnet_spawn(listen_pump, tn, "tcp listen") : 0;	/* else moved
						 * meanwhile: not ours to say */
	if (tn->sock && rc == 0)
		return 0;
	irq = cub_arch_irq_save();
	if (tn->sock)
		cubi_tcpnet_detach(tn->sock, false);
	cub_arch_irq_restore(irq);
	cub_tcp_close(tn->c);
	cubi_tcpnet_free(tn);
	return rc;
}
