/*
 * sntp_keep.c - the SNTP keeper (cub_sntp_keeper_start, cubrt/sntp.h):
 * a coroutine that asks a server of its list again and again and slews
 * or steps the wall clock (cubrt/time.h) by what it answers, backing its
 * polls off while the clock is good or the servers silent, failing over
 * along the list when a server does not answer or refuses. A server
 * whose host says no one listens (a port unreachable: the query ends at
 * once, sntp.c) fails as a silent one does, only sooner; only a DENY or
 * RSTR kiss refuses it for good.
 *
 * Every wait is either a query (cubi_sntp_query_hooked, whose endpoint
 * the hook records in k->active) or a timed wait on k->wake, so
 * cub_sntp_keeper_stop only has to set k->stopping, close the active
 * endpoint (the query ends with -CUB_EBADF) and signal k->wake.
 *
 * Invariants: o is complete (defaults filled in) and min_poll_ns <=
 * stats.poll_ns <= max_poll_ns; servers[] and n_servers never change
 * after the start; stats.server < n_servers names a server not in
 * refused_mask unless stats.refused; k->active is the endpoint of the
 * query in flight or NULL, and never set once stopping.
 * Locks: k->lock around stopping, active, refused_mask and stats (stop
 * closes the endpoint while holding it, so the query's storage cannot
 * go away meanwhile); only the keeper's coroutine writes refused_mask
 * and stats, so it reads them without the lock (ask_round). The clock
 * is changed and opts.stepped called without it.
 */
#include <cubrt/sched.h>
#include <cubrt/sntp.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "net_impl.h"

#define KEEPER_MAGIC 0x534e4b50u	/* "SNKP" */
#define KEEPER_STACK (16u * 1024)

/* The hook's open: the query's endpoint is k's to close (0), unless
 * the keeper is stopping (nonzero: the query ends at once). */
static int hook_open(void *arg, struct cub_udp *u)
{
	struct cub_sntp_keeper *k = arg;
	int stop;

	cub_mutex_lock(&k->lock);
	stop = k->stopping;
	if (!stop)
		k->active = u;
	cub_mutex_unlock(&k->lock);
	return stop;
}

static void hook_done(void *arg)
{
	struct cub_sntp_keeper *k = arg;

	cub_mutex_lock(&k->lock);
	k->active = NULL;
	cub_mutex_unlock(&k->lock);
}

static uint64_t magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)-(v + 1) + 1 : (uint64_t)v;
}

/* Whether a query's failure rc, r refuses its server for good: only a
 * DENY or RSTR kiss-o'-death (RFC 4330 8). A port unreachable is
 * -CUB_ECONNREFUSED too, with no kiss: the host has no NTP server now,
 * which may change (a restart), so it is an ordinary failure. */
static bool refuses(int rc, const struct cub_sntp_result *r)
{
	return rc == -CUB_ECONNREFUSED &&
	       (!cub_strcmp(r->kiss, "DENY") || !cub_strcmp(r->kiss, "RSTR"));
}

/* A query to the current server failed with rc (k->lock held): counted,
 * and a DENY or RSTR kiss marks the server refused. Moves to the next
 * server not refused, round the list (the same one when it is the only
 * one left); false once every server has refused. */
static bool fail_over(struct cub_sntp_keeper *k, int rc, const struct cub_sntp_result *r)
{
	struct cub_sntp_keeper_stats *st = &k->stats;
	unsigned cur = st->server;

	st->polls++;
	st->failures++;
	st->last_error = rc;
	if (refuses(rc, r))
		k->refused_mask |= 1u << cur;
	for (unsigned i = 1; i <= k->n_servers; i++) {
		unsigned j = (cur + i) % k->n_servers;

		if (!(k->refused_mask & 1u << j)) {
			st->failovers += j != cur;
			st->server = j;
			return true;
		}
	}
	st->refused = true;
	return false;
}

/* Acts on a poll's outcome (k->lock held): rc 0 and r the answer, else
 * every server asked failed. The wait before the next poll, and whether
 * to step by r->offset_ns (*step). */
static int64_t judge(struct cub_sntp_keeper *k, int rc, const struct cub_sntp_result *r,
		     bool *step)
{
	struct cub_sntp_keeper_stats *st = &k->stats;
	uint64_t wait = st->poll_ns;

	*step = false;
	if (rc == 0) {
		st->polls++;
		st->last_offset_ns = r->offset_ns;
		st->last_delay_ns = r->delay_ns;
		*step = magnitude(r->offset_ns) >= k->o.step_ns;
	}
	if (*step) {
		st->steps++;
		wait = k->o.min_poll_ns;
	} else if (rc == 0) {
		st->slews++;
	}
	st->poll_ns = CUB_MIN(wait * 2, k->o.max_poll_ns);
	return (int64_t)wait;
}

/* Waits until `until` or the stop (k->lock held): false once stopping. */
static bool nap(struct cub_sntp_keeper *k, uint64_t until)
{
	while (!k->stopping && cub_time_now() < until)
		cub_cond_timedwait(&k->wake, &k->lock, until);
	return !k->stopping;
}

/* Asks the current server, and on a failure the next ones at once,
 * until one answers or each server not refused was asked: with k->lock
 * held on return, the last query's rc, or 1 when the keeper is done
 * (stopping, or every server refused). */
static int ask_round(struct cub_sntp_keeper *k, const struct cubi_sntp_hook *h,
		     struct cub_sntp_result *r)
{
	unsigned left = k->n_servers;
	int rc;

	for (;;) {
		const struct cub_sntp_server *s = &k->servers[k->stats.server];

		rc = cubi_sntp_query_hooked(k->nif, s->addr, s->port, k->o.timeout_ns, r, h);
		cub_mutex_lock(&k->lock);
		if (k->stopping)
			return 1;
		if (rc == 0)
			return 0;
		if (!fail_over(k, rc, r))
			return 1;
		if (--left == 0)
			return rc;
		cub_mutex_unlock(&k->lock);
	}
}

/* One poll and what follows it: false when the keeper is done. */
static bool poll_once(struct cub_sntp_keeper *k, const struct cubi_sntp_hook *h)
{
	struct cub_sntp_result r;
	int64_t wait, step = 0;
	bool do_step;
	int rc;

	rc = ask_round(k, h, &r);
	if (rc == 1) {
		cub_mutex_unlock(&k->lock);
		return false;
	}
	wait = judge(k, rc, &r, &do_step);
	cub_mutex_unlock(&k->lock);
	if (do_step)
		step = cub_time_set_wall(cub_time_wall() + (uint64_t)r.offset_ns);
	else if (rc == 0)
		cub_time_adjust(r.offset_ns, NULL);
	if (do_step && k->o.stepped)
		k->o.stepped(k->o.arg, step);
	cub_mutex_lock(&k->lock);
	rc = nap(k, cubi_deadline(cub_time_now(), (uint64_t)wait));
	cub_mutex_unlock(&k->lock);
	return rc;
}

static void *keeper_main(void *arg)
{
	struct cub_sntp_keeper *k = arg;
	const struct cubi_sntp_hook h = { .open = hook_open, .done = hook_done, .arg = k };
	bool go;

	cub_mutex_lock(&k->lock);
	go = nap(k, cubi_deadline(cub_time_now(), k->o.first_ns));
	cub_mutex_unlock(&k->lock);
	while (go)
		go = poll_once(k, &h);
	return NULL;
}

/* Contexts: task. */
int cub_sntp_keeper_start_list(struct cub_sntp_keeper *k, struct cub_netif *nif,
			       const struct cub_sntp_server *list, unsigned n,
			       const struct cub_sntp_keeper_opts *opts)
{
	static const struct cub_coro_attr attr = { .name = "sntp", .stack_size = KEEPER_STACK };
	struct cub_sntp_keeper_opts o = opts ? *opts : (struct cub_sntp_keeper_opts){ 0 };
	int rc;

	o.min_poll_ns = o.min_poll_ns ? o.min_poll_ns : CUB_SNTP_POLL_MIN_NS;
	o.max_poll_ns = o.max_poll_ns ? o.max_poll_ns : CUB_SNTP_POLL_MAX_NS;
	o.step_ns = o.step_ns ? o.step_ns : CUB_SNTP_STEP_NS;
	o.timeout_ns = o.timeout_ns ? o.timeout_ns : CUB_SNTP_QUERY_NS;
	if (!k || !nif || !list || n == 0 || n > CUB_SNTP_KEEPER_SERVERS ||
	    o.max_poll_ns < o.min_poll_ns || o.max_poll_ns > UINT64_MAX / 4)
		return -CUB_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!list[i].addr)
			return -CUB_EINVAL;
	*k = (struct cub_sntp_keeper){ .nif = nif, .n_servers = n, .o = o };
	for (unsigned i = 0; i < n; i++) {
		k->servers[i] = list[i];
		if (!k->servers[i].port)
			k->servers[i].port = CUB_SNTP_PORT;
	}
	k->stats.poll_ns = o.min_poll_ns;
	cub_mutex_init(&k->lock);
	cub_cond_init(&k->wake);
	if ((rc = cub_coro_spawn(&k->coro, keeper_main, k, &attr)))
		return rc;
	k->magic = KEEPER_MAGIC;
	return 0;
}

/* Contexts: task. */
int cub_sntp_keeper_start(struct cub_sntp_keeper *k, struct cub_netif *nif,
			  cub_ip4_t server, uint16_t port,
			  const struct cub_sntp_keeper_opts *opts)
{
	const struct cub_sntp_server one = { server, port };

	return cub_sntp_keeper_start_list(k, nif, &one, 1, opts);
}

/* Contexts: task. */
int cub_sntp_keeper_status(struct cub_sntp_keeper *k, struct cub_sntp_keeper_stats *stats)
{
	if (!k || k->magic != KEEPER_MAGIC || !stats)
		return -CUB_EINVAL;
	cub_mutex_lock(&k->lock);
	*stats = k->stats;
	cub_mutex_unlock(&k->lock);
	return 0;
}

/* Contexts: task. */
int cub_sntp_keeper_stop(struct cub_sntp_keeper *k)
{
	if (!k || k->magic != KEEPER_MAGIC)
		return -CUB_EINVAL;
	k->magic = 0;
	cub_mutex_lock(&k->lock);
	k->stopping = true;
	if (k->active)
		cub_udp_close(k->active);
	cub_cond_broadcast(&k->wake);
	cub_mutex_unlock(&k->lock);
	cub_coro_join(k->coro, NULL);
	return 0;
}
