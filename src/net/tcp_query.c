/*
 * tcp_query.c - the public TCP calls (cubrt/net.h) that look at a
 * connection rather than change it: poll, notify, undelivered bytes,
 * local and peer addresses, the state's name, cub_tcp_info.
 *
 * Each takes the interface's lock through cubi_tcp_enter (tcp_close.c),
 * which also refuses handles already closed, and reads under it.
 */
#include <cubrt/string.h>

#include "tcp_impl.h"

static unsigned poll_locked(const struct cub_tcp *c)
{
	unsigned m = 0;

	if (c->state == TCP_LISTEN) {
		struct cub_list *pos;

		cub_list_for_each(pos, &c->children)
			if (cub_container_of(pos, struct cub_tcp, child_link)
				    ->state != TCP_SYN_RCVD)
				return CUB_TCP_POLLIN;
		return 0;
	}
	if (c->err)
		m |= CUB_TCP_POLLERR | CUB_TCP_POLLIN;
	/* Our shutdown_recv reads as the peer's FIN does (Linux's
	 * RCV_SHUTDOWN): recv would not wait. */
	if (c->r_len || c->fin_rcvd || c->rd_shut)
		m |= CUB_TCP_POLLIN;
	if (c->fin_rcvd || c->rd_shut)
		m |= CUB_TCP_POLLRDHUP;
	if (!c->err && !c->fin_queued && c->s_len < c->ssize &&
	    (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT))
		m |= CUB_TCP_POLLOUT;
	if (c->state == TCP_CLOSED ||
	    ((c->fin_rcvd || c->rd_shut) && c->fin_queued))
		m |= CUB_TCP_POLLHUP | CUB_TCP_POLLIN;
	return m;
}

/* Contexts: task. Locks: takes nif->lock. */
unsigned cub_tcp_poll(struct cub_tcp *c)
{
	struct cub_netif *nif = cubi_tcp_enter(c);
	unsigned m;

	if (!nif)
		return 0;
	m = poll_locked(c);
	cubi_tcp_leave(nif, c);
	return m;
}

/* Contexts: task. Locks: takes nif->lock. */
size_t cub_tcp_undelivered(struct cub_netif *nif)
{
	struct cub_list *pos;
	size_t n = 0;

	if (!nif)
		return 0;
	cub_mutex_lock(&nif->lock);
	cub_list_for_each(pos, &nif->tcps) {
		const struct cub_tcp *c = cub_container_of(pos, struct cub_tcp, link);

		if (c->err || c->state < TCP_ESTABLISHED || c->state == TCP_TIME_WAIT)
			continue;	/* nothing more will be delivered */
		n += c->s_len + (c->fin_queued && !c->fin_acked);
	}
	cub_mutex_unlock(&nif->lock);
	return n;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_set_notify(struct cub_tcp *c, void (*fn)(void *), void *arg)
{
	struct cub_netif *nif = cubi_tcp_enter(c);

	if (!nif)
		return -CUB_EINVAL;
	c->notify = fn;
	c->notify_arg = arg;
	cubi_tcp_leave(nif, c);
	return 0;
}

static int addr_of(struct cub_tcp *c, bool local, cub_ip4_t *addr,
		   uint16_t *port)
{
	struct cub_netif *nif = cubi_tcp_enter(c);

	if (!nif)
		return -CUB_EINVAL;
	if (addr)
		*addr = local ? (c->laddr ? c->laddr : nif->addr) : c->raddr;
	if (port)
		*port = local ? c->lport : c->rport;
	cubi_tcp_leave(nif, c);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_local(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port)
{
	return addr_of(c, true, addr, port);
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_peer(struct cub_tcp *c, cub_ip4_t *addr, uint16_t *port)
{
	return addr_of(c, false, addr, port);
}

/* Contexts: task. Locks: takes nif->lock. */
static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED",
	"FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",
	"LAST_ACK", "TIME_WAIT",
};

const char *cub_tcp_state_name(struct cub_tcp *c)
{
	struct cub_netif *nif = cubi_tcp_enter(c);
	const char *s;

	if (!nif)
		return "?";
	s = state_names[c->state];
	cubi_tcp_leave(nif, c);
	return s;
}

static uint32_t sacked_bytes(const struct cub_tcp *c)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < c->nsacked; i++)
		n += c->sacked[i].end - c->sacked[i].start;
	return n;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_info(struct cub_tcp *c, struct cub_tcp_info *info)
{
	struct cub_netif *nif;

	if (!info)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EINVAL;
	*info = (struct cub_tcp_info){
		.state = state_names[c->state],
		.cwnd = c->cwnd, .ssthresh = c->ssthresh,
		.snd_wnd = c->snd_wnd, .flight = c->snd_max - c->snd_una,
		.snd_mss = c->snd_mss, .in_recovery = c->in_recovery,
		.srtt = c->srtt, .rto = c->rto, .retransmits = c->rexmits,
		.wscale = c->ws_ok, .snd_wscale = c->snd_wscale,
		.rcv_wscale = c->rcv_wscale, .sack = c->sack_ok,
		.timestamps = c->ts_ok,
		.sacked = sacked_bytes(c), .ooo_ranges = c->nooo,
		.sndbuf = c->ssize, .rcvbuf = c->rsize,
		.keepalive = c->ka_on, .keepalive_probes = c->ka_probes,
		.soft_err = c->soft_err, .pmtu = c->pmtu,
		.pmtu_nodf = c->pmtu_nodf,
	};
	cubi_tcp_leave(nif, c);
	return 0;
}
