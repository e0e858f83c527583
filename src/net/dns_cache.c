/*
 * dns_cache.c - the DNS resolver's cache (cub_dns_cache_*, cubrt/dns.h):
 * answers kept in caller-given slots for their TTL (capped at
 * CUB_DNS_TTL_MAX; TTL 0 not kept), negative answers for their SOA's
 * TTL (RFC 2308 5, capped at CUB_DNS_NEG_TTL_MAX; none without an SOA),
 * the least recently used slot given up when all are taken; concurrent
 * lookups of one key coalesced onto one query.
 *
 * Invariants: a slot is FREE, PENDING (one lookup, its owner, is asking
 * the servers; only the owner settles it), READY (an answer until
 * expires, cub_time_now() scale; past it the slot is as good as free)
 * or DONE (a result not to keep, held only for the lookups waiting for
 * it). The key is (server list in order, port, lower-case name without
 * a final dot, record type: A, PTR or SRV, so that one name's A and SRV
 * answers are two keys); no two PENDING or live READY slots have the
 * same key. A slot keeps what the type's answer is (addresses; the PTR
 * name or the SRV records as dns.c packed them, in the answer's order:
 * each lookup, a hit included, draws its own SRV order, dns_srv.c). A
 * lookup that finds its key PENDING counts itself in the slot's waiters
 * and sleeps on `done`; the owner's settle stores the result in the
 * slot (rc, addresses, TTL) and wakes them. A slot with waiters is never
 * a victim, so a waiter's slot pointer stays its query's until it has
 * taken the result; the last waiter out of a DONE slot frees it. The
 * owner's -CUB_ETIMEDOUT is not taken: each waiter with time left
 * starts over (the first to run asks again, the others wait for it).
 * When every slot is PENDING or waited on, a lookup asks uncached.
 *
 * Locking: c->lock (a sleeping mutex) protects every slot, the LRU clock
 * and the counters; it is never held while asking the servers (the
 * interface's lock is taken there), so the two are never nested.
 * Nothing is allocated; the query lives on the caller's stack, the
 * result waiters take lives in the slot.
 */
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

enum { FREE, PENDING, READY, DONE };

/* A lookup's key: the query's name and these. */
struct key {
	const cub_ip4_t *server;
	unsigned n;
	uint16_t port;
};

/* Contexts: any (c not in use). */
int cub_dns_cache_init(struct cub_dns_cache *c, struct cub_dns_cache_entry *slots,
		       unsigned n)
{
	if (!c || !slots || n == 0)
		return -CUB_EINVAL;
	cub_memset(c, 0, sizeof(*c));
	cub_memset(slots, 0, sizeof(*slots) * n);
	cub_mutex_init(&c->lock);
	cub_cond_init(&c->done);
	c->slot = slots;
	c->slots = n;
	return 0;
}

/* Can a lookup find e by its key? */
static bool live(const struct cub_dns_cache_entry *e, uint64_t now)
{
	return e->state == PENDING || (e->state == READY && now < e->expires);
}

/* The live slot for the key, or NULL. Lock held. */
static struct cub_dns_cache_entry *find(struct cub_dns_cache *c, const struct cubi_dns_query *q,
					const struct key *k, uint64_t now)
{
	for (unsigned i = 0; i < c->slots; i++) {
		struct cub_dns_cache_entry *e = &c->slot[i];

		if (live(e, now) && e->nservers == k->n && e->port == k->port &&
		    e->qtype == q->qtype &&
		    !cub_memcmp(e->server, k->server, k->n * sizeof(cub_ip4_t)) &&
		    !cub_strcmp(e->name, q->name))
			return e;
	}
	return NULL;
}

/* A slot to ask into: a dead one nobody waits on, else the least
 * recently used live READY one nobody waits on (an eviction), else
 * NULL. Lock held. */
static struct cub_dns_cache_entry *victim(struct cub_dns_cache *c, uint64_t now)
{
	struct cub_dns_cache_entry *lru = NULL;

	for (unsigned i = 0; i < c->slots; i++) {
		struct cub_dns_cache_entry *e = &c->slot[i];

		if (e->waiters || e->state == PENDING || e->state == DONE)
			continue;
		if (!live(e, now))
			return e;
		if (!lru || e->used < lru->used)
			lru = e;
	}
	if (lru)
		c->st.evictions++;
	return lru;
}

/* e's answer into q's res and data: the TTL left (rounded up) of a
 * READY slot, the answer's own of a DONE one. Returns its result. Lock
 * held. */
static int answer(struct cub_dns_cache *c, struct cub_dns_cache_entry *e, uint64_t now,
		  struct cubi_dns_query *q)
{
	struct cub_dns_result *res = q->res;

	e->used = ++c->clock;
	q->data_len = e->data_len;
	cub_memcpy(q->data, e->data, e->data_len);
	c->st.hits++;
	res->count = e->count;
	cub_memcpy(res->addr, e->addr, sizeof(res->addr));
	cub_strlcpy(res->canonical, e->canonical, sizeof(res->canonical));
	res->server = e->from;
	res->ttl_s = e->state == DONE ? e->ttl_s : now >= e->expires ? 0 :
		     (uint32_t)((e->expires - now + CUB_NSEC_PER_SEC - 1) / CUB_NSEC_PER_SEC);
	res->cached = true;
	return e->rc;
}

/* How long rc and res (or the negative TTL) may be kept, in s: 0 not. */
static uint32_t keep_s(int rc, const struct cubi_dns_query *q)
{
	if (rc == 0)
		return CUB_MIN(q->res->ttl_s, CUB_DNS_TTL_MAX);
	if (rc == -CUB_ENOENT)
		return CUB_MIN(q->neg_ttl, CUB_DNS_NEG_TTL_MAX);
	return 0;
}

/* The owner's result into its PENDING slot e: READY when kept, DONE
 * while lookups wait for it, else FREE; the waiters woken. Takes the
 * lock. */
static void settle(struct cub_dns_cache *c, struct cub_dns_cache_entry *e, int rc,
		   const struct cubi_dns_query *q)
{
	uint32_t keep = keep_s(rc, q);

	cub_mutex_lock(&c->lock);
	e->state = keep ? READY : e->waiters ? DONE : FREE;
	e->rc = rc;
	e->expires = cub_time_now() + (uint64_t)keep * CUB_NSEC_PER_SEC;
	e->count = rc == 0 ? q->res->count : 0;
	cub_memcpy(e->addr, q->res->addr, sizeof(e->addr));
	e->data_len = (uint16_t)(rc == 0 ? q->data_len : 0);
	cub_memcpy(e->data, q->data, e->data_len);
	cub_strlcpy(e->canonical, rc == 0 ? q->res->canonical : q->name, sizeof(e->canonical));
	e->from = q->res->server;
	e->ttl_s = q->res->ttl_s;
	cub_cond_broadcast(&c->done);
	cub_mutex_unlock(&c->lock);
}

/*
 * Waits (lock held) for the owner of PENDING slot e, until deadline:
 * true with e's result in res and *rc; false to start over (the owner
 * timed out, the deadline has not passed); -CUB_ETIMEDOUT in *rc (true)
 * when the deadline passes first. The last waiter out of a DONE slot
 * frees it.
 */
static bool wait_for(struct cub_dns_cache *c, struct cub_dns_cache_entry *e, uint64_t deadline,
		     struct cubi_dns_query *q, int *rc)
{
	bool took = true;

	e->waiters++;
	while (e->state == PENDING &&
	       cub_cond_timedwait(&c->done, &c->lock, deadline) != -CUB_ETIMEDOUT)
		;
	e->waiters--;
	if (e->state == PENDING) {
		*rc = -CUB_ETIMEDOUT;
	} else if (e->rc == -CUB_ETIMEDOUT) {
		took = cub_time_now() >= deadline;
		*rc = -CUB_ETIMEDOUT;
	} else {
		*rc = answer(c, e, cub_time_now(), q);
		c->st.coalesced++;
	}
	if (e->state == DONE && e->waiters == 0)
		e->state = FREE;
	return took;
}

/*
 * Under the lock: a hit or a waited-for result (in *rc; returns NULL
 * with *own false), or the slot this lookup now owns (PENDING; NULL
 * when none can be had: ask uncached) with *own true.
 */
static struct cub_dns_cache_entry *claim(struct cub_dns_cache *c, struct cubi_dns_query *q,
					 const struct key *k, uint64_t deadline, bool *own,
					 int *rc)
{
	struct cub_dns_cache_entry *e;
	bool waited = false;

	*own = false;
	while ((e = find(c, q, k, cub_time_now())) != NULL) {
		if (e->state == READY) {
			*rc = answer(c, e, cub_time_now(), q);
			return NULL;
		}
		c->st.waits += !waited;
		waited = true;
		if (wait_for(c, e, deadline, q, rc))
			return NULL;
	}
	c->st.misses++;
	*own = true;
	if ((e = victim(c, cub_time_now())) != NULL) {
		e->state = PENDING;
		e->nservers = (uint8_t)k->n;
		cub_memset(e->server, 0, sizeof(e->server));
		cub_memcpy(e->server, k->server, k->n * sizeof(cub_ip4_t));
		e->port = k->port;
		e->qtype = q->qtype;
		cub_strlcpy(e->name, q->name, sizeof(e->name));
		e->used = ++c->clock;
	}
	return e;
}

/* Contexts: task. */
int cub_dns_cache_lookup(struct cub_dns_cache *c, struct cub_netif *nif, cub_ip4_t server,
			 uint16_t port, const char *name, uint64_t timeout_ns,
			 struct cub_dns_result *res)
{
	return cub_dns_cache_lookup_servers(c, nif, &server, 1, port, name, timeout_ns, res);
}

/* Contexts: task. Locks: takes c->lock, released before the servers
 * are asked (cubi_dns_ask takes nif->lock). */
int cubi_dns_cache_ask(struct cub_dns_cache *c, struct cubi_dns_query *q,
		       struct cub_netif *nif, const cub_ip4_t *servers, unsigned n,
		       uint16_t port, uint64_t deadline)
{
	struct key k = { .server = servers, .n = n, .port = port };
	struct cub_dns_cache_entry *e;
	bool own;
	int rc;

	cub_mutex_lock(&c->lock);
	e = claim(c, q, &k, deadline, &own, &rc);
	cub_mutex_unlock(&c->lock);
	if (!own)
		return rc;
	rc = cubi_dns_ask(q, nif, servers, n, port, deadline);
	if (e)
		settle(c, e, rc, q);
	return rc;
}

/* Contexts: task. */
int cub_dns_cache_lookup_servers(struct cub_dns_cache *c, struct cub_netif *nif,
				 const cub_ip4_t *servers, unsigned n, uint16_t port,
				 const char *name, uint64_t timeout_ns,
				 struct cub_dns_result *res)
{
	struct cubi_dns_query q = { .res = res, .qtype = CUBI_DNS_A };
	int rc;

	if (!c || !nif || !name || !res || cubi_dns_servers_check(servers, n))
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	if (cubi_dns_literal(name, &res->addr[0]))
		return cub_dns_lookup_servers(nif, servers, n, port, name, timeout_ns, res);
	if ((rc = cubi_dns_name(&q, name)))
		return rc;
	return cubi_dns_run(c, &q, nif, servers, n, port, timeout_ns);
}

/* Contexts: task. */
int cub_dns_cache_stats(struct cub_dns_cache *c, struct cub_dns_cache_stats *st)
{
	uint64_t now = cub_time_now();

	if (!c || !st)
		return -CUB_EINVAL;
	cub_mutex_lock(&c->lock);
	*st = c->st;
	st->entries = 0;
	for (unsigned i = 0; i < c->slots; i++)
		st->entries += c->slot[i].state == READY && now < c->slot[i].expires;
	cub_mutex_unlock(&c->lock);
	return 0;
}
