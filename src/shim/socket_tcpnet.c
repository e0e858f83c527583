/*
 * socket_tcpnet.c - TCP stream sockets on the network card: the links
 * between sockets and the stack, and the design of the whole (netdev.h is
 * the interface, tcpnet.h what its files share: socket_tcpnet_open.c
 * sets connections and listeners up, socket_tcpnet_pump.c moves the
 * data; socket_conn.c and socket_bind.c hand connect and listen
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
 * gone, as a reset loopback connection shows it (a reset after the
 * peer's FIN: end of file, EPIPE pending, as Linux; a keep-alive or
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
#include "tcpnet.h"

#define PUMP_STACK (16u * 1024)

static const struct cubi_file_ops bell_ops = { .file_wakes = true };
static struct cub_list conns = CUB_LIST_INIT(conns);	/* live connections */

uint16_t cubi_tcpnet_mss(const struct cub_tcp_info *info)
{
	return (uint16_t)(info->snd_mss - (info->timestamps ? CUBI_TCP_TS_LEN : 0));
}

/* The word tn's pump sleeps on. */
struct cubi_file *cubi_tcpnet_word(struct cubi_tcpnet *tn)
{
	return tn->out ? &tn->out->file : &tn->bell;
}

/* cub_tcp_set_notify's callback: the interface lock is held, so it only
 * bumps the pump's word (irq off inside). */
void cubi_tcpnet_notify(void *arg)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_file_changed(cubi_tcpnet_word(arg));
	cub_arch_irq_restore(irq);
}

/* A link (interrupts enabled): a connection's with its stand-in peer
 * and receive buffer, or a listener's. NULL: no memory. */
struct cubi_tcpnet *cubi_tcpnet_new(bool conn)
{
	struct cubi_tcpnet *tn = cub_malloc(sizeof(*tn) + (conn ? CUBI_TCPNET_RX_CHUNK : 0));

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

void cubi_tcpnet_free(struct cubi_tcpnet *tn)
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

long cubi_tcpnet_spawn(void *(*fn)(void *), struct cubi_tcpnet *tn, const char *name)
{
	struct cub_coro_attr attr = { name, PUMP_STACK, 0 };

	return cub_coro_spawn(NULL, fn, tn, &attr) ? -CUB_ENOMEM : 0;
}

void cubi_tcpnet_detach(struct cubi_sock *s, bool abort)
{
	struct cubi_tcpnet *tn = s->tn;

	if (!tn)
		return;
	tn->abort = abort || cubi_sock_close_resets(s);
	tn->sock = NULL;
	s->tn = NULL;
	if (tn->out && s->peer == tn->out) {
		s->peer = NULL;
		tn->out->peer = NULL;
	}
	cubi_file_changed(cubi_tcpnet_word(tn));
	cubi_io_changed();
}

void cubi_tcpnet_room(struct cubi_sock *l)
{
	if (l->tn)
		cubi_file_changed(&l->tn->bell);
}
