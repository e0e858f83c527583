/*
 * tcp_close.c - who holds a TCP block, and the public calls that let go
 * of it: entering and leaving a call (cubi_tcp_enter / cubi_tcp_leave),
 * shutdown (either direction), close and abort. tcp_api.c has the calls
 * that open and move data, tcp_query.c those that look.
 *
 * Ownership (under nif->lock): a block is held by
 *  - its handle (user), from listen, accept or connect's return until
 *    close or abort; magic == TCP_MAGIC exactly while the handle is live;
 *  - every call inside it (users): cubi_tcp_enter counts a call in,
 *    cubi_tcp_leave counts it out; connect counts itself in from the
 *    block's creation; close and abort count themselves in too, for as
 *    long as they wait;
 *  - its listener's queue (parent), until accept takes it or it closes;
 *  - the protocol, while it is not CLOSED (FIN_WAIT, TIME_WAIT, ...:
 *    the timer and the segments that arrive finish it).
 * Whoever drops the last of these frees it, through cubi_tcp_maybe_free,
 * and nobody touches it after that: a call leaving, close when it has
 * waited, the timer or the input path once the state reaches CLOSED.
 * Exactly one of them finds all four gone, since each drops its own
 * hold and then asks maybe_free with the lock held throughout.
 *
 * A connection whose handle was released while the protocol still holds
 * it with work left is an orphan, counted in st.tcp_orphans (its
 * `orphan` flag) from release until cubi_tcp_set_state takes it to
 * CLOSED or TIME_WAIT; release resets a connection instead when the
 * count is already params.max_orphans (orphan_overflow).
 *
 * Closing under a blocked call: close clears magic and user first, so
 * every call that waits on c->cond (accept, recv, send) sees the handle
 * gone when it wakes and returns -CUB_EBADF (send: the bytes it had
 * queued, if any); no new call can enter. close then waits, counted in,
 * until it is the last call inside (users == 1: cubi_tcp_leave wakes it
 * when the count gets there), counts itself out and frees the block if
 * nothing else holds it. So close returns only once no call is inside,
 * and the block can never be freed while close still looks at it.
 */
#include <cubrt/panic.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

/* Contexts: task. A handle passed after its close points at a spare or
 * reused block (type-stable, tcp_pcb.c): its magic or, after the wait
 * for the lock, its interface tells. */
struct cub_netif *cubi_tcp_enter(struct cub_tcp *c)
{
	struct cub_netif *nif;

	if (!c || c->magic != TCP_MAGIC || !(nif = c->nif))
		return NULL;
	cub_mutex_lock(&nif->lock);
	if (c->magic != TCP_MAGIC || c->nif != nif) {
		cub_mutex_unlock(&nif->lock);
		return NULL;
	}
	c->users++;
	return nif;
}

/* A call leaving a closed handle is the last but close's own: close
 * waits for exactly that (it never frees c while counted in, so c is
 * alive here). */
void cubi_tcp_leave(struct cub_netif *nif, struct cub_tcp *c)
{
	CUB_ASSERT(c->users > 0);
	if (--c->users == 1 && c->magic != TCP_MAGIC)
		cub_cond_broadcast(&c->cond);	/* close waits for this */
	cub_mutex_unlock(&nif->lock);
}

/* Queues our FIN: ESTABLISHED -> FIN_WAIT_1, CLOSE_WAIT -> LAST_ACK. */
static int queue_fin(struct cub_tcp *c)
{
	if (c->fin_queued)
		return 0;
	if (c->state == TCP_ESTABLISHED)
		cubi_tcp_set_state(c, TCP_FIN_WAIT_1);
	else if (c->state == TCP_CLOSE_WAIT)
		cubi_tcp_set_state(c, TCP_LAST_ACK);
	else
		return -CUB_ENOTCONN;
	c->fin_queued = true;
	cubi_tcp_output(c);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock. */
int cub_tcp_shutdown(struct cub_tcp *c)
{
	struct cub_netif *nif;
	int r;

	if (!c)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EBADF;
	r = c->state == TCP_LISTEN ? -CUB_ENOTCONN : queue_fin(c);
	cubi_tcp_leave(nif, c);
	return r;
}

/* Contexts: task. Locks: takes nif->lock. Only marks c: recv_ready and
 * poll (tcp_api.c, tcp_query.c) and data_input (tcp_in.c) read rd_shut;
 * the wake-up lets blocked readers see it. */
int cub_tcp_shutdown_recv(struct cub_tcp *c)
{
	struct cub_netif *nif;
	int r = 0;

	if (!c)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);
	if (!nif)
		return -CUB_EBADF;
	if (c->state == TCP_LISTEN || c->state == TCP_CLOSED) {
		r = -CUB_ENOTCONN;
	} else if (!c->rd_shut) {
		c->rd_shut = true;
		cubi_tcp_wake(c);
	}
	cubi_tcp_leave(nif, c);
	return r;
}

/* A listener's end: the connections it still queues are reset and
 * freed (nothing else holds them), then it is CLOSED. */
static void close_listener(struct cub_tcp *l)
{
	while (!cub_list_empty(&l->children)) {
		struct cub_tcp *ch = cub_container_of(
			cub_list_first(&l->children), struct cub_tcp,
			child_link);

		cubi_tcp_reset(ch, 0);	/* unlinks it */
		cubi_tcp_maybe_free(ch);
	}
	cubi_tcp_set_state(l, TCP_CLOSED);
}

/* Whether releasing c's handle (not reset) leaves it to the protocol
 * with work left: a FIN to send or to be acknowledged, data behind it,
 * the peer's FIN to wait for. TIME_WAIT is not work (it ends by itself,
 * and Linux does not count it among orphans either); unread data, a
 * handshake in progress and a listener are reset by release. */
static bool would_orphan(const struct cub_tcp *c)
{
	if (c->r_len || c->parent)
		return false;
	switch (c->state) {
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT: case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2: case TCP_CLOSING: case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* The orphan limit (Linux's tcp_max_orphans): true when c, about to be
 * released, would be one orphan more than params.max_orphans allows;
 * then it is reset instead (counted). Otherwise, if it becomes an
 * orphan, it is counted in st.tcp_orphans until cubi_tcp_set_state
 * takes it to CLOSED or TIME_WAIT, whatever the path (finished, timed
 * out, reset by the peer or by the orphan_retries rule). */
static bool orphan_overflow(struct cub_netif *nif, struct cub_tcp *c)
{
	if (!would_orphan(c))
		return false;
	if (nif->st.tcp_orphans >= nif->tcp_params.max_orphans) {
		nif->st.tcp_orphan_overflow++;
		return true;
	}
	return false;
}

/* After release's protocol step: c is an orphan if it kept work. */
static void orphan_count(struct cub_netif *nif, struct cub_tcp *c)
{
	if (c->state != TCP_CLOSED && c->state != TCP_TIME_WAIT &&
	    tcp_orphan(c) && !c->orphan) {
		c->orphan = true;
		nif->st.tcp_orphans++;
	}
}

/* Releases the handle of c (nif->lock held, the caller counted in):
 * the protocol's end of the connection, then waits until the caller is
 * the last call inside, counts it out and frees c when nothing else
 * holds it. c may be freed on return. */
static void release(struct cub_netif *nif, struct cub_tcp *c, bool rst)
{
	c->magic = 0;
	c->user = false;
	if (!rst && orphan_overflow(nif, c))
		rst = true;
	if (c->state == TCP_LISTEN) {
		close_listener(c);
	} else if (rst || c->r_len || c->state == TCP_SYN_SENT ||
		   c->state == TCP_SYN_RCVD) {
		cubi_tcp_reset(c, 0);
	} else if (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT) {
		queue_fin(c);
	} else if (c->state == TCP_FIN_WAIT_2) {
		c->close_at = cubi_deadline(cub_time_now(),
					    nif->tcp_params.fin_timeout);
		cubi_tcp_timer_kick(nif, c->close_at);
	}
	orphan_count(nif, c);
	cubi_tcp_wake(c);
	c->notify = NULL;
	while (c->users > 1)
		cub_cond_wait(&c->cond, &nif->lock);
	c->users--;
	cubi_tcp_maybe_free(c);
}

static int close_or_abort(struct cub_tcp *c, bool rst)
{
	struct cub_netif *nif;

	if (!c)
		return -CUB_EINVAL;
	nif = cubi_tcp_enter(c);	/* counts us in until release ends */
	if (!nif)
		return -CUB_EBADF;
	release(nif, c, rst);
	cub_mutex_unlock(&nif->lock);
	return 0;
}

/* Contexts: task. Locks: takes nif->lock (released while calls leave). */
int cub_tcp_close(struct cub_tcp *c)
{
	return close_or_abort(c, false);
}

/* Contexts: task. Locks: takes nif->lock (released while calls leave). */
int cub_tcp_abort(struct cub_tcp *c)
{
	return close_or_abort(c, true);
}
