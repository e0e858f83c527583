/*
 * tcp_timer.c - the TCP timers of an interface, run by one coroutine
 * ("tcp timer") that sleeps on nif->tcp_timer_cond until the earliest
 * deadline of its blocks: retransmission (RFC 6298 5.4-5.7: back off,
 * go back to the first unacknowledged byte with a loss window of one MSS
 * (RFC 5681 3.1), give up after the retries), persist (zero-window
 * probes; an orphan's are bounded), keep-alive (tcp_keep.c), the path
 * MTU cache's look-up (tcp_pmtu.c: a lowered estimate may go back up) and
 * the end of TIME_WAIT or of a closed handle's FIN_WAIT_2.
 *
 * Stack code never runs in irq context: the interface lock is a sleeping
 * mutex, so deadlines are waited for with cub_cond_timedwait in a task.
 * Invariants (under nif->lock): tcp_timer_on is true exactly while the
 * coroutine runs; it runs while nif->tcps is not empty and exits when it
 * finds it empty (cubi_tcp_alloc spawns a new one); tcp_timer_at is the
 * deadline it sleeps until, so arming an earlier one signals it.
 */
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

static void rtx_timeout(struct cub_tcp *c)
{
	const struct cub_tcp_params *p = cubi_tcp_params(c);
	bool syn = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD;

	if (c->snd_una == c->snd_max)
		return;			/* nothing outstanding */
	if (++c->retries > (syn ? p->syn_retries : p->max_retries)) {
		c->nif->st.tcp_gave_up++;
		cubi_tcp_reset(c, cubi_tcp_timeout_err(c));
		return;
	}
	c->nif->st.tcp_timeouts++;
	c->rto = CUB_MIN(c->rto * 2, p->rto_max);
	c->rtt_on = false;		/* Karn: no sample from a resend */
	if (!syn)
		cubi_tcp_cc_timeout(c);	/* loss window: cwnd = 1 MSS */
	cubi_tcp_sack_clear(c);		/* the peer may renege (RFC 2018 8) */
	c->snd_nxt = syn ? c->iss : c->snd_una;
	c->recover = c->snd_max;
	c->dupacks = 0;
	cubi_tcp_output(c);
}

/* The persist timer expired. An open handle's connection probes for as
 * long as the peer answers (RFC 9293 3.8.6.1; unanswered probes count in
 * retries, which an ACK clears). An orphan gets orphan_retries probes,
 * answered or not, since the window closed: at the next expiry after
 * the last one it is reset and freed, or a peer that keeps its window
 * shut would pin it and its rings for ever (Linux's tcp_orphan_retries,
 * whose default of 8 probes is also ours). */
static void persist_timeout(struct cub_tcp *c)
{
	const struct cub_tcp_params *p = cubi_tcp_params(c);

	if (c->snd_wnd != 0 || c->s_len == 0 || c->snd_nxt != c->snd_una)
		return;
	if (tcp_orphan(c) && c->zw_probes >= p->orphan_retries) {
		c->nif->st.tcp_orphan_resets++;
		cubi_tcp_reset(c, -CUB_ETIMEDOUT);
		return;
	}
	if (++c->retries > p->max_retries) {
		c->nif->st.tcp_gave_up++;
		cubi_tcp_reset(c, cubi_tcp_timeout_err(c));
		return;
	}
	c->nif->st.tcp_persist_probes++;
	c->zw_probes++;
	if (c->probe_shift < 16)
		c->probe_shift++;
	/* An old sequence number: the peer must answer with an ACK that
	 * carries its window (RFC 9293 3.10.7.4), and no byte is sent
	 * that the closed window would have to drop. */
	cubi_tcp_send_ctl(c, c->snd_una - 1, TH_ACK);
	cubi_tcp_output(c);		/* re-arms persist */
}

static void run_timers(struct cub_tcp *c, uint64_t now)
{
	uint64_t ka;

	if (c->rtx_at && now >= c->rtx_at) {
		c->rtx_at = 0;
		rtx_timeout(c);
	}
	if (c->persist_at && now >= c->persist_at) {
		c->persist_at = 0;
		persist_timeout(c);
	}
	ka = cubi_tcp_ka_deadline(c);
	if (ka && now >= ka)
		cubi_tcp_ka_timeout(c);
	if (c->pmtu_at && now >= c->pmtu_at)
		cubi_tcp_pmtu_timeout(c);	/* clears or re-arms it */
	if (c->close_at && now >= c->close_at) {
		c->close_at = 0;
		if (c->state == TCP_TIME_WAIT || c->state == TCP_FIN_WAIT_2)
			cubi_tcp_set_state(c, TCP_CLOSED);
	}
}

static uint64_t earliest(const struct cub_tcp *c, uint64_t next)
{
	uint64_t ka;

	if (c->rtx_at && c->rtx_at < next)
		next = c->rtx_at;
	if (c->persist_at && c->persist_at < next)
		next = c->persist_at;
	if (c->close_at && c->close_at < next)
		next = c->close_at;
	if (c->pmtu_at && c->pmtu_at < next)
		next = c->pmtu_at;
	ka = cubi_tcp_ka_deadline(c);
	if (ka && ka < next)
		next = ka;
	return next;
}

/* The timer coroutine. Contexts: task. Locks: takes nif->lock. */
static void *tcp_timer_main(void *arg)
{
	struct cub_netif *nif = arg;

	cub_mutex_lock(&nif->lock);
	while (!cub_list_empty(&nif->tcps)) {
		uint64_t now = cub_time_now(), next = UINT64_MAX;
		struct cub_list *pos = nif->tcps.next, *nx;

		for (; pos != &nif->tcps; pos = nx) {
			struct cub_tcp *c =
				cub_container_of(pos, struct cub_tcp, link);

			nx = pos->next;
			run_timers(c, now);
			if (!cubi_tcp_maybe_free(c))
				next = earliest(c, next);
		}
		nif->tcp_timer_at = next;
		if (cub_list_empty(&nif->tcps))
			break;
		if (next == UINT64_MAX)
			cub_cond_wait(&nif->tcp_timer_cond, &nif->lock);
		else
			cub_cond_timedwait(&nif->tcp_timer_cond, &nif->lock,
					   next);
	}
	nif->tcp_timer_on = false;
	nif->tcp_timer_at = UINT64_MAX;
	cub_mutex_unlock(&nif->lock);
	return NULL;
}

int cubi_tcp_timer_kick(struct cub_netif *nif, uint64_t deadline)
{
	if (!nif->tcp_timer_on) {
		struct cub_coro_attr attr = { .name = "tcp timer" };
		int r = cub_coro_spawn(NULL, tcp_timer_main, nif, &attr);

		if (r < 0)
			return r;
		nif->tcp_timer_on = true;
		nif->tcp_timer_at = UINT64_MAX;
	}
	if (deadline < nif->tcp_timer_at) {
		nif->tcp_timer_at = deadline;
		cub_cond_signal(&nif->tcp_timer_cond);
	}
	return 0;
}
