/*
 * socket_tcpnet_pump.c - data transfer for TCP sockets on the network
 * card (socket_tcpnet.c has the design, tcpnet.h the shared parts): the
 * connection pump. Each round it takes what the stack received into the
 * socket's ring (the peer's FIN: end of file after it), hands what the
 * program wrote (out's ring) to the stack, our SHUT_WR as a FIN once
 * that ring is empty, and the keep-alive options when they change, and
 * copies the connection's MSS and path MTU into the socket (path_sync);
 * a reset or timeout becomes the socket's pending error, also while the
 * socket's ring is full (struct tail). Once detached it sends what is
 * left and closes (or resets) alone.
 *
 * Only the pump appends to an attached socket's ring and takes from
 * out's; it looks at them irq off (look) and copies out's bytes with
 * interrupts enabled, which that rule makes safe. Contexts: task.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "netdev.h"
#include "tcpnet.h"

#define DRAIN_NS (30ull * 1000 * 1000 * 1000)	/* a closed socket's data:
						 * no progress this long: reset */

/* ---------------------------------------------------------- connection */

/* The connection died (irq off): err (0: just gone) pending on its
 * socket, which reads what it holds, then end of file; writes fail. The
 * socket lets go of the link: the pump finishes alone. */
void cubi_tcpnet_dead(struct cubi_tcpnet *tn, long err)
{
	struct cubi_sock *s = tn->sock;

	if (!s)
		return;
	if (err && err != -CUB_EPIPE)
		s->err = (int)-err;
	cubi_tcpnet_detach(s, true);
	cubi_sock_changed(s);
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

	*seq = cubi_file_seq(cubi_tcpnet_word(tn));
	v.gone = !s;
	if (s) {
		v.room = s->rd_shut ? CUBI_TCPNET_RX_CHUNK : CUBI_SOCK_RING - s->len;
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

/* Received bytes (n at buf, at most the room seen) into the socket's
 * ring, or dropped (SHUT_RD, or detached meanwhile). */
static void rx_put(struct cubi_tcpnet *tn, const unsigned char *buf, size_t n)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_sock *s = tn->sock;

	if (s && !s->rd_shut) {
		cubi_sock_ring_put(s, buf, n);
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

/* The stack's connection failed with err. A reset after the peer's FIN
 * is Linux's CLOSE_WAIT reset: the socket reads end of file, EPIPE
 * pending (tcp_reset); else err is pending (ECONNRESET, ETIMEDOUT). */
static void fail(struct cubi_tcpnet *tn, long err, bool eof)
{
	unsigned long irq = cub_arch_irq_save();

	if (eof && err == -CUB_ECONNRESET && tn->sock) {
		tn->sock->err = CUB_EPIPE;
		tn->sock->eof_first = true;
		err = 0;
	}
	cubi_tcpnet_dead(tn, err);
	cub_arch_irq_restore(irq);
}

/*
 * A connection that died (a reset, a timeout) while the socket's ring was
 * full: cub_tcp_poll says POLLERR, but the stack gives the error only
 * after the bytes it still holds (at most its receive buffer), which the
 * ring has no room for. Linux's one receive buffer holds them all: poll
 * shows the reset at once (POLLERR | POLLHUP), reads return every byte,
 * then ECONNRESET (measured on Linux 6.18). So the pump takes the
 * stack's bytes and its error into a tail of its own, marks the socket
 * dying with the error pending (poll: everything Linux shows; SO_ERROR
 * and the next write take the error, later writes -EPIPE; eof_first
 * keeps reads from returning it before the tail is in), hands the tail
 * over as the program makes room, then lets the socket go: reads end
 * with the error, or with end of file when a write or SO_ERROR took it
 * meanwhile (Linux reports it once). A pump that waited for room first
 * kept the reset from the program for as long as it did not read. What
 * the program wrote before the mark and the stack had not taken is
 * dropped, as Linux drops its send queue at a reset.
 */
struct tail {
	unsigned char *buf;	/* the stack's bytes (heap), or NULL */
	size_t len, at;		/* held, handed over */
	long err;		/* the connection's error */
	bool fin;		/* the peer's FIN came after the bytes */
	bool on;		/* the socket is marked, the tail pending */
};

#define TAIL_MAX (1024u * 1024)	/* above any receive buffer of the stack */

/* Takes the stack's bytes into t until its error (kept in t->err). */
static void tail_take(struct cubi_tcpnet *tn, struct tail *t)
{
	bool cut = false;	/* out of memory (or TAIL_MAX): the tail ends
				 * there, the error after it, no gap */
	long n;

	for (;;) {
		unsigned char *more = !cut && t->len < TAIL_MAX ?
			cub_realloc(t->buf, t->len + CUBI_TCPNET_RX_CHUNK) : NULL;

		cut = !more;
		if (more)
			t->buf = more;
		n = cub_tcp_recv(tn->c, more ? t->buf + t->len : tn->buf,
				 CUBI_TCPNET_RX_CHUNK, 0);
		if (n == 0 && !t->fin) {
			t->fin = true;	/* the FIN; the error comes next */
			continue;
		}
		if (n <= 0)
			break;
		if (more)
			t->len += (size_t)n;
	}
	t->err = n < 0 && n != -CUB_EAGAIN ? n : -CUB_ECONNRESET;
}

/* The error behind a full ring: 1 with the tail pending (the socket
 * marked), or -1 when nothing was held (the socket let go at once). */
static int tail_start(struct cubi_tcpnet *tn, struct tail *t, bool eof)
{
	unsigned long irq;

	tail_take(tn, t);
	if (!t->len) {
		fail(tn, t->err, eof || t->fin);
		return -1;
	}
	irq = cub_arch_irq_save();
	if (tn->sock) {
		/* After the peer's FIN a reset is EPIPE (fail's rule). */
		tn->sock->err = t->fin && t->err == -CUB_ECONNRESET ?
				CUB_EPIPE : (int)-t->err;
		tn->sock->eof_first = true;
		tn->sock->dying = true;
		cubi_sock_changed(tn->sock);
	}
	cub_arch_irq_restore(irq);
	t->on = true;
	return 1;
}

/* One round of handing the tail over (v->room free): 1 when bytes went,
 * 0 to wait for room, -1 once all went in and the socket is let go.
 * Writes fail meanwhile (dying), so out's bytes (v->avail) are only what
 * came before the mark: they stay until the socket lets go, unsent. */
static int tail_round(struct cubi_tcpnet *tn, const struct view *v, struct tail *t)
{
	size_t k = CUB_MIN(v->room, t->len - t->at);
	unsigned long irq;
	bool taken = false;

	if (k) {
		rx_put(tn, t->buf + t->at, k);
		t->at += k;
	}
	if (t->at < t->len)
		return k ? 1 : 0;
	irq = cub_arch_irq_save();
	if (tn->sock) {
		tn->sock->eof_first = false;	/* the mark's */
		taken = tn->sock->err == 0;	/* by a write or SO_ERROR */
	}
	cub_arch_irq_restore(irq);
	if (taken)
		fail(tn, 0, false);	/* end of file after the bytes */
	else
		fail(tn, t->err, t->fin);
	return -1;
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

/* Copies the connection's MSS and path MTU into the socket (TCP_MAXSEG
 * and IP_MTU read them there, socket_opt.c): after every round, so a
 * path MTU an ICMP lowered, or its expiry raised (the stack wakes the
 * pump then), shows from the pump's next wake-up. */
static void path_sync(struct cubi_tcpnet *tn)
{
	struct cub_tcp_info info;
	unsigned long irq;

	if (cub_tcp_info(tn->c, &info))
		return;
	irq = cub_arch_irq_save();
	if (tn->sock) {
		tn->sock->mss = cubi_tcpnet_mss(&info);
		tn->sock->pmtu = info.pmtu;
	}
	cub_arch_irq_restore(irq);
}

/* One round: 1 when something moved, 0 when the pump may sleep, -1 when
 * it should stop (detached, or the connection died). */
static int conn_round(struct cubi_tcpnet *tn, const struct view *v, struct tail *t,
		      bool *eof, bool *fin)
{
	int moved = 0;
	long n;

	if (v->gone)
		return -1;
	if (t->on)
		return tail_round(tn, v, t);
	keepalive_sync(tn, v);
	if (v->room) {		/* after the FIN too: a reset may follow */
		n = cub_tcp_recv(tn->c, tn->buf, CUB_MIN(v->room, (size_t)CUBI_TCPNET_RX_CHUNK), 0);
		if (n > 0)
			rx_put(tn, tn->buf, (size_t)n);
		else if (n == 0 && !*eof)
			rx_eof(tn);
		if (n < 0 && n != -CUB_EAGAIN) {
			fail(tn, n, *eof);
			return -1;
		}
		moved |= n > 0 || (n == 0 && !*eof);
		*eof |= n == 0;
	} else if (cub_tcp_poll(tn->c) & CUB_TCP_POLLERR) {
		return tail_start(tn, t, *eof);	/* died behind the full ring */
	}
	if (v->avail) {
		n = cub_tcp_send(tn->c, v->at, v->avail, 0);
		if (n > 0)
			tx_done(tn, (size_t)n);
		if (n < 0 && n != -CUB_EAGAIN) {
			fail(tn, n, *eof);
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

void *cubi_tcpnet_pump(void *arg)
{
	struct cubi_tcpnet *tn = arg;
	struct tail t = { 0 };
	bool eof = false, fin = false;

	if (!tn->c && cubi_tcpnet_open(tn)) {
		cubi_tcpnet_free(tn);
		return NULL;
	}
	(void)cub_tcp_set_notify(tn->c, cubi_tcpnet_notify, tn);
	for (;;) {
		uint32_t seq;
		struct view v = look(tn, &seq);
		int r = conn_round(tn, &v, &t, &eof, &fin);

		if (r < 0)
			break;
		path_sync(tn);
		if (r == 0)
			(void)cubi_file_wait(cubi_tcpnet_word(tn), seq, 0, "tcp pump");
	}
	cub_free(t.buf);
	conn_finish(tn);
	cubi_tcpnet_free(tn);
	return NULL;
}
