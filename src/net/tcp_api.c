/*
 * tcp_api.c - the public TCP calls (cubrt/net.h) that open and move
 * data: set_params, listen, accept, connect, send, recv; tcp_close.c
 * has those that let go (shutdown, close, abort) and the rule of who
 * holds a block, tcp_query.c those that look (poll, notify, addresses,
 * state, info).
 *
 * Invariants (under nif->lock): a handle given to the user has magic ==
 * TCP_MAGIC and user set until close/abort clears both; a call inside a
 * block is counted in users (tcp_close.c), which keeps it from being
 * freed. Blocking calls wait on c->cond, which every change of what poll
 * reports broadcasts (cubi_tcp_wake), and so does close: a call that
 * wakes to find magic cleared returns -CUB_EBADF (wait_until; send:
 * send_state).
 */
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

/* Waits for c->cond until deadline (UINT64_MAX: forever); -CUB_ETIMEDOUT
 * once it has passed. */
static int tcp_wait(struct cub_tcp *c, uint64_t deadline)
{
	if (deadline == UINT64_MAX) {
		cub_cond_wait(&c->cond, &c->nif->lock);
		return 0;
	}
	if (cub_time_now() >= deadline)
		return -CUB_ETIMEDOUT;
	cub_cond_timedwait(&c->cond, &c->nif->lock, deadline);
	return 0;
}

/*
 * Waits on c->cond (nif->lock held, the caller counted in) until
 * ready(c, arg, &r) says the call is over with result r; first of all a
 * closed handle ends it with -CUB_EBADF. timeout_ns 0 polls
 * (-CUB_EAGAIN), UINT64_MAX waits forever, else -CUB_ETIMEDOUT.
 */
static long wait_until(struct cub_tcp *c, uint64_t timeout_ns,
		       bool (*ready)(struct cub_tcp *, void *, long *),
		       void *arg)
{
	uint64_t deadline = cubi_deadline(cub_time_now(), timeout_ns);
	long r;

	for (;;) {
		if (c->magic != TCP_MAGIC)
			return -CUB_EBADF;
		if (ready(c, arg, &r))
			return r;
		if (timeout_ns == 0)
			return -CUB_EAGAIN;
		if ((r = tcp_wait(c, deadline)) < 0)
			return r;
	}
}

/* A ring size field: 0 (keep) or CUB_TCP_BUF_MIN..CUB_TCP_BUF_MAX. */
static bool buf_ok(uint32_t n)
{
	return n == 0 || (n >= CUB_TCP_BUF_MIN && n <= CUB_TCP_BUF_MAX);
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_set_params(struct cub_netif *nif, const struct cub_tcp_params *p)
{
	struct cub_tcp_params *q;

	if (!nif)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	q = &nif->tcp_params;
	if (!p) {
		uint64_t secret = nif->tcp_secret;
		uint16_t port = nif->tcp_next_port;

		cubi_tcp_params_default(nif);
		nif->tcp_secret = secret;
		nif->tcp_next_port = port;
	} else if ((p->rto_min ? p->rto_min : q->rto_min) >
		   (p->rto_max ? p->rto_max : q->rto_max) ||
		   !buf_ok(p->sndbuf) || !buf_ok(p->rcvbuf) ||
		   p->keep_cnt > 255 || p->max_orphans > CUB_TCP_ORPHANS_MAX) {
		cub_mutex_unlock(&nif->lock);
		return -CUB_EINVAL;
	} else {
#define TAKE(f) if (p->f) q->f = p->f
		TAKE(rto_initial);
		TAKE(rto_min);
		TAKE(rto_max);
		TAKE(max_retries);
		TAKE(syn_retries);
		TAKE(time_wait);
		TAKE(fin_timeout);
		TAKE(orphan_retries);
		TAKE(sndbuf);
		TAKE(rcvbuf);
		TAKE(timestamps);
		TAKE(paws_idle);
		TAKE(keepalive);
		TAKE(keep_idle);
		TAKE(keep_intvl);
		TAKE(keep_cnt);
		TAKE(max_orphans);
#undef TAKE
	}
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_listen(struct cub_netif *nif, uint16_t port, unsigned backlog,
		   struct cub_tcp **out)
{
	struct cub_tcp *l;
	int r = 0;

	if (!nif || !out || !port)
		return -CUB_EINVAL;
	cub_mutex_lock(&nif->lock);
	if (cubi_tcp_port_used(nif, port)) {
		r = -CUB_EADDRINUSE;
		goto out;
	}
	l = cubi_tcp_alloc(nif, false);
	if (!l) {
		r = -CUB_ENOMEM;
		goto out;
	}
	l->lport = port;
	l->backlog = CUB_MIN(CUB_MAX(backlog, 1u), (unsigned)CUB_TCP_BACKLOG_MAX);
	l->state = TCP_LISTEN;
	l->user = true;
	l->magic = TCP_MAGIC;
	*out = l;
out:
	cub_mutex_unlock(&nif->lock);
	return r;
}

/* The oldest child past the handshake, taken off l's queue. */
static struct cub_tcp *take_child(struct cub_tcp *l)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &l->children) {
		struct cub_tcp *c = cub_container_of(pos, struct cub_tcp,
						     child_link);

		if (c->state == TCP_SYN_RCVD)
			continue;
		cub_list_del(&c->child_link);
		l->nchildren--;
		c->parent = NULL;
		c->user = true;
		c->magic = TCP_MAGIC;
		return c;
	}
	return NULL;
}

/* wait_until's test for accept: a child to take (into *arg). */
static bool accept_ready(struct cub_tcp *l, void *arg, long *r)
{
	struct cub_tcp *c = take_child(l);

	if (!c)
		return false;
	*(struct cub_tcp **)arg = c;
	*r = 0;
	return true;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
int cub_tcp_accept(struct cub_tcp *l, struct cub_tcp **conn,
		   uint64_t timeout_ns)
{
	struct cub_netif *nif;
	int r;

	if (!l || !conn)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(l);
	if (!nif)
		return -CUB_EBADF;
	if (l->state != TCP_LISTEN) {
		cubi_tcp_leave(nif, l);
		return -CUB_EINVAL;
	}
	r = (int)wait_until(l, timeout_ns, accept_ready, conn);
	cubi_tcp_leave(nif, l);
	return r;
}

/* A new block in SYN_SENT towards dst:port, its next hop resolved. The
 * caller is counted in (users) so that it cannot be freed under it. */
static int connect_start(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
			 uint16_t mss, uint64_t timeout_ns,
			 struct cub_tcp **out)
{
	struct cub_tcp *c;
	int r;

	if (!nif->addr)
		return -CUB_ENETUNREACH;
	c = cubi_tcp_alloc(nif, true);
	if (!c)
		return -CUB_ENOMEM;
	nif->st.tcp_active_opens++;
	c->users = 1;
	c->user = true;			/* the caller's from the start: data the
					 * peer sends before connect returns is
					 * theirs to read, not a reason for RST */
	c->lport = cubi_tcp_pick_port(nif);
	c->raddr = dst;
	c->rport = port;
	c->laddr = nif->addr;
	c->user_mss = mss;		/* our SYN's MSS, the peer's bound */
	c->state = TCP_SYN_SENT;	/* holds the port while resolving */
	*out = c;
	if (!c->lport)
		return -CUB_EADDRINUSE;
	r = cubi_net_nexthop_mac(nif, dst, c->mac,
				 CUB_MIN(timeout_ns, nif->arp_resolve_ns),
				 NULL, 0);
	if (r < 0)
		return r == -CUB_ETIMEDOUT ? -CUB_EHOSTUNREACH : r;
	c->iss = cubi_tcp_iss(nif, c);
	c->ts_off = cubi_tcp_ts_offset(nif, c);
	c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
	cubi_tcp_output(c);		/* SYN */
	return 0;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
int cub_tcp_connect_mss(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
			uint16_t mss, uint64_t timeout_ns, struct cub_tcp **out)
{
	struct cub_tcp *c = NULL;
	uint64_t deadline;
	int r;

	if (!nif || !out || !dst || !port || dst == CUB_IP4_BROADCAST ||
	    ip4_is_multicast(dst) || (mss && mss < CUB_TCP_MSS_MIN))
		return -CUB_EINVAL;
	deadline = cubi_deadline(cub_time_now(), timeout_ns);
	cub_mutex_lock(&nif->lock);
	r = connect_start(nif, dst, port, mss, timeout_ns, &c);
	while (r == 0 && (c->state == TCP_SYN_SENT ||
			  c->state == TCP_SYN_RCVD)) {
		if (timeout_ns == 0 || tcp_wait(c, deadline) < 0)
			r = cubi_tcp_timeout_err(c);
	}
	if (r == 0 && c->state == TCP_CLOSED)
		r = c->err ? c->err : -CUB_ECONNREFUSED;
	if (c) {
		c->users--;
		if (r == 0) {
			c->magic = TCP_MAGIC;
			*out = c;
		} else {
			c->user = false;
			cubi_tcp_reset(c, 0);
			cubi_tcp_maybe_free(c);
		}
	}
	cub_mutex_unlock(&nif->lock);
	return r;
}

/* Contexts: task. */
int cub_tcp_connect(struct cub_netif *nif, cub_ip4_t dst, uint16_t port,
		    uint64_t timeout_ns, struct cub_tcp **out)
{
	return cub_tcp_connect_mss(nif, dst, port, 0, timeout_ns, out);
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_set_mss(struct cub_tcp *l, uint16_t mss)
{
	struct cub_netif *nif;
	int r = 0;

	if (!l || (mss && mss < CUB_TCP_MSS_MIN))
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(l);
	if (!nif)
		return -CUB_EBADF;
	if (l->state == TCP_LISTEN)
		l->user_mss = mss;	/* children copy it (tcp_in.c) */
	else
		r = -CUB_EINVAL;
	cubi_tcp_leave(nif, l);
	return r;
}

/* Appends up to len bytes to the send ring; returns how many. */
static uint32_t ring_append(struct cub_tcp *c, const uint8_t *buf, size_t len)
{
	uint32_t n = (uint32_t)CUB_MIN(len, (size_t)(c->ssize - c->s_len));
	uint32_t at = (uint32_t)(((uint64_t)c->s_head + c->s_len) % c->ssize);
	uint32_t first = CUB_MIN(n, c->ssize - at);

	cub_memcpy(c->sbuf + at, buf, first);
	cub_memcpy(c->sbuf, buf + first, n - first);
	c->s_len += n;
	return n;
}

/* Why c cannot take data now (0: it can). */
static int send_state(const struct cub_tcp *c)
{
	if (c->magic != TCP_MAGIC)
		return -CUB_EBADF;
	if (c->err)
		return c->err;
	if (c->fin_queued || (c->state != TCP_ESTABLISHED &&
			      c->state != TCP_CLOSE_WAIT))
		return -CUB_EPIPE;
	return 0;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
long cub_tcp_send(struct cub_tcp *c, const void *buf, size_t len,
		  uint64_t timeout_ns)
{
	struct cub_netif *nif;
	uint64_t deadline;
	size_t done = 0;
	long r = 0;

	if (!c || (!buf && len))
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EBADF;
	if (c->state == TCP_LISTEN) {
		cubi_tcp_leave(nif, c);
		return -CUB_ENOTCONN;
	}
	deadline = cubi_deadline(cub_time_now(), timeout_ns);
	while (done < len) {
		uint32_t n;

		if ((r = send_state(c)) < 0)
			break;
		n = ring_append(c, (const uint8_t *)buf + done, len - done);
		done += n;
		if (n)
			cubi_tcp_output(c);
		if (done == len)
			break;
		if (timeout_ns == 0) {
			r = -CUB_EAGAIN;
			break;
		}
		if ((r = tcp_wait(c, deadline)) < 0)
			break;
	}
	cubi_tcp_leave(nif, c);
	return done ? (long)done : r;
}

/* After a read: a window update once the right edge can move by at
 * least min(half the ring, an MSS) (RFC 9293 3.8.6.2.2). */
static void window_update(struct cub_tcp *c)
{
	uint32_t edge = c->rcv_nxt + cubi_tcp_rcv_wnd(c);
	uint32_t step = CUB_MIN(c->rsize / 2, (uint32_t)CUB_TCP_MSS);

	if ((c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
	     c->state == TCP_FIN_WAIT_2) &&
	    (int32_t)(edge - c->rcv_adv) >= (int32_t)step) {
		c->ack_now = true;
		cubi_tcp_output(c);
	}
}

static uint32_t ring_take(struct cub_tcp *c, uint8_t *buf, size_t cap)
{
	uint32_t n = (uint32_t)CUB_MIN(cap, (size_t)c->r_len);
	uint32_t first = CUB_MIN(n, c->rsize - c->r_head);

	cub_memcpy(buf, c->rbuf + c->r_head, first);
	cub_memcpy(buf + first, c->rbuf, n - first);
	c->r_head = (uint32_t)(((uint64_t)c->r_head + n) % c->rsize);
	c->r_len -= n;
	return n;
}

struct recv_args {
	void *buf;
	size_t cap;
};

/* wait_until's test for recv: data (taken), the peer's FIN or our
 * cub_tcp_shutdown_recv (0) or an error. */
static bool recv_ready(struct cub_tcp *c, void *arg, long *r)
{
	struct recv_args *a = arg;

	if (c->r_len) {
		*r = ring_take(c, a->buf, a->cap);
		window_update(c);
		return true;
	}
	if (c->err || c->fin_rcvd || c->rd_shut || c->state == TCP_CLOSED) {
		*r = c->err;
		return true;
	}
	return false;
}

/* Contexts: task. Locks: takes nif->lock (released while waiting). */
long cub_tcp_recv(struct cub_tcp *c, void *buf, size_t cap,
		  uint64_t timeout_ns)
{
	struct cub_netif *nif;
	long r;

	if (!c || !buf || !cap)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EBADF;
	if (c->state == TCP_LISTEN) {
		cubi_tcp_leave(nif, c);
		return -CUB_ENOTCONN;
	}
	r = wait_until(c, timeout_ns, recv_ready, &(struct recv_args){
			       .buf = buf, .cap = cap });
	cubi_tcp_leave(nif, c);
	return r;
}
