/*
 * socket_tcpnet.c - TCP stream sockets on the network card (netdev.h is
 * the interface; socket_conn.c and socket_bind.c hand connect and listen
 * over here when the other end is not this machine; docs/shim.md, "The
 * network").
 *
 * A network connection is an ordinary stream socket whose peer is a
 * stand-in: a second struct cubi_sock, `out`, that no descriptor names.
 * The program's writes append to out's ring as they would to a loopback
 * peer's; its reads take from its own ring. A pump coroutine ("tcp
 * pump") per connection carries bytes between those rings and the
 * stack's connection (cub_tcp_*): out's ring to cub_tcp_send, cub_tcp_recv
 * to the socket's ring; the peer's FIN becomes out->wr_shut (end of file
 * after the ring), our SHUT_WR a cub_tcp_shutdown once out's ring is
 * empty, a reset or a timeout the socket's pending error with the peer
 * gone, as a reset loopback connection shows it (a keep-alive or
 * retransmission timeout: ETIMEDOUT, once, then end of file, as Linux;
 * the pump gives SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT to the stack,
 * cub_tcp_set_keepalive, whenever they change; an accepted connection
 * inherits its listener's). So every stream call of
 * socket_stream.c (read, write, the send/recv calls and their flags,
 * MSG_PEEK, FIONREAD, SO_RCVTIMEO / SO_SNDTIMEO, poll and epoll, sendfile)
 * works on network connections unchanged.
 *
 * connect to a non-local address starts the pump, which runs the
 * blocking cub_tcp_connect (the stack's own SYN retries bound it) while
 * the socket is CUBI_SOCK_CONNECTING: a non-blocking connect returns
 * -EINPROGRESS, a blocking one waits on the socket's word for the outcome
 * (SO_SNDTIMEO: -EINPROGRESS after it, as Linux). The outcome is
 * CONNECTED with out as the peer, or UNCONNECTED with the error pending
 * (SO_ERROR, poll's EPOLLERR|EPOLLOUT|EPOLLHUP), as Linux reports it.
 * A listener on 0.0.0.0 or the card's address also has a stack listener
 * on its port and a pump ("tcp listen") that accepts while the socket's
 * queue has room and queues each connection, with its own pump, beside
 * the loopback ones.
 *
 * The pumps never block in the stack: every cub_tcp_* call they make
 * polls (timeout 0), and they sleep on a word of the shim (out's file for
 * a connection, the link's bell for a listener) that both the program's
 * side (cubi_sock_changed reaches out's file; accept rings the bell) and
 * the stack (cub_tcp_set_notify's callback, which runs under the
 * interface lock and only bumps the word with interrupts off) bump. The
 * word is sampled before each round of work, so a change during the
 * round makes the sleep return at once: no wake-up is lost.
 *
 * Closing: the socket's last close, a listener's shutdown and the free of
 * a connection that was never accepted detach the socket from its link
 * (cubi_tcpnet_detach, irq off); the pump then finishes alone: a
 * connection with unread data (or SO_LINGER 0, or never accepted) is
 * reset, any other sends what the program wrote (up to DRAIN_NS without
 * progress, then reset) and closes with FIN, the stack finishing the
 * close in the background; a listener closes its stack listener (its
 * unaccepted connections are reset). A program that exits first waits
 * (cubi_tcpnet_flush, bounded) until what it wrote is acknowledged by
 * the peers, as Linux's kernel goes on sending after the process is
 * gone; then the machine stops.
 *
 * Invariants: s->tn == tn iff tn->sock == s (set and cleared together,
 * irq off); while attached and connected, s->peer == tn->out and
 * out->peer == s, or both are NULL (the connection died: its error is
 * s->err); the pump alone calls cub_tcp_* on tn->c (after the connect it
 * made, or the accept that made it) and frees tn and out when it leaves,
 * which it does only once detached; only the pump appends to an attached
 * connection's socket ring and takes from out's ring, the program only
 * takes from the one and appends to the other, so the pump reads out's
 * bytes [head, head+len) with interrupts enabled.
 *
 * Locking: the fd layer's critical section (irq off) around every look
 * at a socket, out and tn->sock; the pumps take the stack's interface
 * mutex (inside cub_tcp_*) only with interrupts enabled, never inside
 * that section. Contexts: task.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "netdev.h"
#include "socket.h"

#define PUMP_STACK (16u * 1024)
#define RX_CHUNK (16u * 1024)		/* one cub_tcp_recv's bytes at most */
#define DRAIN_NS (30ull * 1000 * 1000 * 1000)	/* a closed socket's data:
						 * no progress this long: reset */

struct cubi_tcpnet {
	struct cub_list link;		/* connection: in conns (irq off) */
	struct cub_tcp *c;		/* the stack's handle (the pump's) */
	struct cubi_sock *sock;		/* attached socket, or NULL (irq off) */
	struct cubi_sock *out;		/* connection: the stand-in peer */
	struct cubi_file bell;		/* listener: the word its pump sleeps on */
	bool abort;			/* detached: reset, do not close */
	uint32_t dst;			/* connect: the destination */
	uint16_t dport;
	int ka[4];			/* keep-alive given to the stack: on,
					 * idle s, interval s, count (the
					 * pump's; all 0: off, as it starts) */
	unsigned char buf[];		/* connection: RX_CHUNK bytes */
};

static const struct cubi_file_ops bell_ops = { .file_wakes = true };
static struct cub_list conns = CUB_LIST_INIT(conns);	/* live connections */

/* The word tn's pump sleeps on. */
static struct cubi_file *word(struct cubi_tcpnet *tn)
{
	return tn->out ? &tn->out->file : &tn->bell;
}

/* cub_tcp_set_notify's callback: the interface lock is held, so it only
 * bumps the pump's word (irq off inside). */
static void notify(void *arg)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_file_changed(word(arg));
	cub_arch_irq_restore(irq);
}

/* A link (interrupts enabled): a connection's with its stand-in peer
 * and receive buffer, or a listener's. NULL: no memory. */
static struct cubi_tcpnet *tn_new(bool conn)
{
	struct cubi_tcpnet *tn = cub_malloc(sizeof(*tn) + (conn ? RX_CHUNK : 0));

	if (!tn)
		return NULL;
	cub_memset(tn, 0, sizeof(*tn));
	tn->bell.ops = &bell_ops;
	if (conn && !(tn->out = cubi_sock_new(CUBI_AF_INET, CUBI_SOCK_STREAM, 0))) {
		cub_free(tn);
		return NULL;
	}
	if (tn->out) {
		unsigned long irq = cub_arch_irq_save();

		tn->out->state = CUBI_SOCK_CONNECTED;
		cub_list_push_back(&conns, &tn->link);
		cub_arch_irq_restore(irq);
	}
	return tn;
}

static void tn_free(struct cubi_tcpnet *tn)
{
	if (tn->out) {
		unsigned long irq = cub_arch_irq_save();

		cub_list_del(&tn->link);
		cub_arch_irq_restore(irq);
	}
	cub_free(tn->out);
	cub_free(tn);
}

/* Bytes programs wrote to network connections that the pumps have not
 * yet handed to the stack. */
static size_t unpumped(void)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *pos;
	size_t n = 0;

	cub_list_for_each(pos, &conns)
		n += cub_container_of(pos, struct cubi_tcpnet, link)->out->len;
	cub_arch_irq_restore(irq);
	return n;
}

void cubi_tcpnet_flush(uint64_t timeout_ns)
{
	uint64_t end = cub_time_now() + timeout_ns;

	while (cubi_netdev.nif && cub_time_now() < end &&
	       (unpumped() || cub_tcp_undelivered(cubi_netdev.nif)))
		cub_sleep(CUB_NSEC_PER_MSEC);
}

static long spawn(void *(*fn)(void *), struct cubi_tcpnet *tn, const char *name)
{
	struct cub_coro_attr attr = { name, PUMP_STACK, 0 };

	return cub_coro_spawn(NULL, fn, tn, &attr) ? -CUB_ENOMEM : 0;
}

void cubi_tcpnet_detach(struct cubi_sock *s, bool abort)
{
	struct cubi_tcpnet *tn = s->tn;

	if (!tn)
		return;
	tn->abort = abort || s->len || (s->linger[0] && !s->linger[1]);
	tn->sock = NULL;
	s->tn = NULL;
	if (tn->out && s->peer == tn->out) {
		s->peer = NULL;
		tn->out->peer = NULL;
	}
	cubi_file_changed(word(tn));
	cubi_io_changed();
}

void cubi_tcpnet_room(struct cubi_sock *l)
{
	if (l->tn)
		cubi_file_changed(&l->tn->bell);
}

/* ---------------------------------------------------------- connection */

/* The connection died (irq off): err (0: just gone) pending on its
 * socket, which reads what it holds, then end of file; writes fail. The
 * socket lets go of the link: the pump finishes alone. */
static void conn_dead(struct cubi_tcpnet *tn, long err)
{
	struct cubi_sock *s = tn->sock;

	if (!s)
		return;
	if (err && err != -CUB_EPIPE)
		s->err = (int)-err;
	cubi_tcpnet_detach(s, true);
	cubi_sock_changed(s);
}

/* Puts s's addresses from the stack's connection (interrupts enabled:
 * the queries lock) into a, p (local) and pa, pp (remote). */
static void conn_names(struct cub_tcp *c, uint32_t a[2], uint16_t p[2])
{
	a[0] = a[1] = 0;
	p[0] = p[1] = 0;
	(void)cub_tcp_local(c, &a[0], &p[0]);
	(void)cub_tcp_peer(c, &a[1], &p[1]);
}

/* Makes s the connected end of tn (irq off), named by a, p. */
static void conn_join(struct cubi_sock *s, struct cubi_tcpnet *tn, const uint32_t a[2],
		      const uint16_t p[2])
{
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
static int conn_open(struct cubi_tcpnet *tn)
{
	int rc = cub_tcp_connect(cubi_netdev.nif, tn->dst, tn->dport, UINT64_MAX, &tn->c);
	uint32_t a[2];
	uint16_t p[2];
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

/* What one round of the pump sees (taken irq off). */
struct view {
	bool gone;		/* detached */
	size_t room;		/* free bytes of the socket's ring */
	size_t avail;		/* out's bytes to send, contiguous from at */
	const unsigned char *at;
	bool wr_shut;		/* the program's SHUT_WR */
	int ka[4];		/* SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT */
};

static struct view look(struct cubi_tcpnet *tn, uint32_t *seq)
{
	struct view v = { 0 };
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = tn->sock, *o = tn->out;

	*seq = cubi_file_seq(word(tn));
	v.gone = !s;
	if (s) {
		v.room = s->rd_shut ? RX_CHUNK : CUBI_SOCK_RING - s->len;
		v.wr_shut = s->wr_shut;
		v.ka[0] = s->opt[CUBI_OPT_KEEPALIVE];
		v.ka[1] = s->opt[CUBI_OPT_KEEPIDLE];
		v.ka[2] = s->opt[CUBI_OPT_KEEPINTVL];
		v.ka[3] = s->opt[CUBI_OPT_KEEPCNT];
	}
	v.avail = CUB_MIN(o->len, CUBI_SOCK_RING - o->head);
	v.at = o->ring + o->head;
	cub_arch_irq_restore(irq);
	return v;
}

/* Received bytes (n in tn->buf, at most the room seen) into the socket's
 * ring, or dropped (SHUT_RD, or detached meanwhile). */
static void rx_put(struct cubi_tcpnet *tn, size_t n)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = tn->sock;

	if (s && !s->rd_shut) {
		cubi_sock_ring_put(s, tn->buf, n);
		cubi_sock_changed(s);
	}
	cub_arch_irq_restore(irq);
}

/* The peer's FIN (irq off inside): end of file once the ring is read. */
static void rx_eof(struct cubi_tcpnet *tn)
{
	unsigned long irq = cub_arch_irq_save();

	tn->out->wr_shut = true;
	if (tn->sock)
		cubi_sock_changed(tn->sock);
	cub_arch_irq_restore(irq);
}

/* k bytes of out's ring went to the stack: room for the writers. */
static void tx_done(struct cubi_tcpnet *tn, size_t k)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *o = tn->out;

	o->head = (o->head + k) % CUBI_SOCK_RING;
	o->len -= k;
	o->rd_pos += k;
	if (tn->sock)
		cubi_sock_changed(tn->sock);
	cub_arch_irq_restore(irq);
}

static void fail(struct cubi_tcpnet *tn, long err)
{
	unsigned long irq = cub_arch_irq_save();

	conn_dead(tn, err);
	cub_arch_irq_restore(irq);
}

/* The socket's keep-alive options to the stack's connection when they
 * changed (setsockopt wakes the pump: cubi_sock_changed reaches out). */
static void keepalive_sync(struct cubi_tcpnet *tn, const struct view *v)
{
	struct cub_tcp_keepalive ka = {
		v->ka[0] != 0, (uint64_t)v->ka[1] * CUB_NSEC_PER_SEC,
		(uint64_t)v->ka[2] * CUB_NSEC_PER_SEC, (unsigned)v->ka[3],
	};

	if (!cub_memcmp(tn->ka, v->ka, sizeof(tn->ka)) ||
	    cub_tcp_set_keepalive(tn->c, &ka))
		return;
	cub_memcpy(tn->ka, v->ka, sizeof(tn->ka));
}

/* One round: 1 when something moved, 0 when the pump may sleep, -1 when
 * it should stop (detached, or the connection died). */
static int conn_round(struct cubi_tcpnet *tn, const struct view *v, bool *eof, bool *fin)
{
	int moved = 0;
	long n;

	if (v->gone)
		return -1;
	keepalive_sync(tn, v);
	if (!*eof && v->room) {
		n = cub_tcp_recv(tn->c, tn->buf, CUB_MIN(v->room, (size_t)RX_CHUNK), 0);
		if (n > 0)
			rx_put(tn, (size_t)n);
		else if (n == 0)
			rx_eof(tn);
		if (n == 0)
			*eof = true;
		if (n < 0 && n != -CUB_EAGAIN) {
			fail(tn, n);
			return -1;
		}
		moved |= n >= 0;
	}
	if (v->avail) {
		n = cub_tcp_send(tn->c, v->at, v->avail, 0);
		if (n > 0)
			tx_done(tn, (size_t)n);
		if (n < 0 && n != -CUB_EAGAIN) {
			fail(tn, n);
			return -1;
		}
		moved |= n > 0;
	} else if (v->wr_shut && !*fin) {
		(void)cub_tcp_shutdown(tn->c);
		*fin = true;
		moved = 1;
	}
	return moved;
}

/* A detached connection's end: what the program wrote goes out, then FIN
 * (the stack finishes the close), or a reset. */
static void conn_finish(struct cubi_tcpnet *tn)
{
	struct cubi_sock *o = tn->out;	/* nobody else refers to it now */

	while (!tn->abort && o->len) {
		size_t k = CUB_MIN(o->len, CUBI_SOCK_RING - o->head);
		long n = cub_tcp_send(tn->c, o->ring + o->head, k, DRAIN_NS);

		if (n <= 0)
			tn->abort = true;
		else
			tx_done(tn, (size_t)n);
	}
	if (tn->abort)
		cub_tcp_abort(tn->c);
	else
		cub_tcp_close(tn->c);
}

static void *conn_pump(void *arg)
{
	struct cubi_tcpnet *tn = arg;
	bool eof = false, fin = false;

	if (!tn->c && conn_open(tn)) {
		tn_free(tn);
		return NULL;
	}
	(void)cub_tcp_set_notify(tn->c, notify, tn);
	for (;;) {
		uint32_t seq;
		struct view v = look(tn, &seq);
		int r = conn_round(tn, &v, &eof, &fin);

		if (r < 0)
			break;
		if (r == 0)
			(void)cubi_file_wait(word(tn), seq, 0, "tcp pump");
	}
	conn_finish(tn);
	tn_free(tn);
	return NULL;
}

long cubi_tcpnet_connect(uint64_t fd, uint32_t dst, uint16_t port)
{
	struct cubi_tcpnet *tn = tn_new(true);
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
		s->state = CUBI_SOCK_CONNECTING;
		s->conn_report = true;
		s->tn = tn;
		tn->sock = s;
		cubi_sock_changed(s);
	}
	cub_arch_irq_restore(irq);
	if (!s) {
		tn_free(tn);
		return rc;
	}
	if (spawn(conn_pump, tn, "tcp pump")) {
		irq = cub_arch_irq_save();
		if (tn->sock) {		/* nothing else detaches it this soon */
			tn->sock->state = CUBI_SOCK_UNCONNECTED;
			tn->sock->conn_report = false;
			tn->sock->tn = NULL;
		}
		cub_arch_irq_restore(irq);
		tn_free(tn);
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
	struct cubi_tcpnet *tn = tn_new(true);
	struct cubi_sock *q = cubi_sock_new(CUBI_AF_INET, CUBI_SOCK_STREAM, 0), *l;
	unsigned long irq;
	uint32_t a[2];
	uint16_t p[2];

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
	if (!q && !spawn(conn_pump, tn, "tcp pump"))
		return;
	if (!q) {		/* no pump: the queued socket reads a reset */
		irq = cub_arch_irq_save();
		conn_dead(tn, -CUB_ECONNRESET);
		cub_arch_irq_restore(irq);
	}
	cub_free(q);
	cub_tcp_abort(c);
	if (tn)
		tn_free(tn);
}

static void *listen_pump(void *arg)
{
	struct cubi_tcpnet *tn = arg;

	(void)cub_tcp_set_notify(tn->c, notify, tn);
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		uint32_t seq = cubi_file_seq(&tn->bell);
		struct cubi_sock *l = tn->sock;
		bool room = l && l->qlen < l->backlog;
		struct cub_tcp *c;

		cub_arch_irq_restore(irq);
		if (!l)
			break;
		if (room && cub_tcp_accept(tn->c, &c, 0) == 0)
			adopt(tn, c);
		else
			(void)cubi_file_wait(&tn->bell, seq, 0, "tcp listen");
	}
	cub_tcp_close(tn->c);
	tn_free(tn);
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
	if (!(tn = tn_new(false)))
		return -CUB_ENOMEM;
	if ((rc = cub_tcp_listen(cubi_netdev.nif, port, backlog, &tn->c)) != 0) {
		tn_free(tn);
		return rc == -CUB_EADDRINUSE ? rc : -CUB_ENOMEM;
	}
	irq = cub_arch_irq_save();
	s = cubi_sock_at(fd, &rc);
	if (s && wants_card(s) && s->port == port) {
		s->tn = tn;
		tn->sock = s;
	}
	cub_arch_irq_restore(irq);
	rc = tn->sock ? spawn(listen_pump, tn, "tcp listen") : 0;	/* else moved
						 * meanwhile: not ours to say */
	if (tn->sock && rc == 0)
		return 0;
	irq = cub_arch_irq_save();
	if (tn->sock)
		cubi_tcpnet_detach(tn->sock, false);
	cub_arch_irq_restore(irq);
	cub_tcp_close(tn->c);
	tn_free(tn);
	return rc;
}
