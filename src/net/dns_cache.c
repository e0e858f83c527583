/*
 * dns_cache.c - the DNS resolver's cache (cub_dns_cache_*, cubrt/dns.h):
 * answers kept in caller-given slots for their TTL (capped at
 * CUB_DNS_TTL_MAX; TTL 0 not kept), negative answers for their SOA's
 * TTL (RFC 2308 5, capped at CUB_DNS_NEG_TTL_MAX; none without an SOA),
 * the least recently used slot given up when all are taken.
 *
 * Invariants: a slot is FREE, PENDING (one lookup, its owner, is asking
 * the server; only the owner changes it, so it is never evicted) or
 * READY (an answer until expires, cub_time_now() scale; past it the slot
 * is as good as free). No two PENDING or READY slots have the same key
 * (server, port, lower-case name without a final dot): a lookup that
 * finds its key PENDING waits on `done` for the owner instead of asking
 * again, so concurrent lookups of one name send one query; when the
 * owner's answer is not kept (an error, TTL 0) the slot goes FREE and
 * each waiter asks for itself in turn. When every slot is PENDING a
 * lookup asks without caching.
 *
 * Locking: c->lock (a sleeping mutex) protects every slot, the LRU clock
 * and the counters; it is never held while asking the server (the
 * interface's lock is taken there), so the two are never nested.
 * Nothing is allocated; the query lives on the caller's stack.
 */
#include <cubrt/dns.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "dns_impl.h"

enum { FREE, PENDING, READY };

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

static bool live(const struct cub_dns_cache_entry *e, uint64_t now)
{
	return e->state == PENDING || (e->state == READY && now < e->expires);
}

/* The live slot for the key, or NULL. Lock held. */
static struct cub_dns_cache_entry *find(struct cub_dns_cache *c, const struct cubi_dns_query *q,
					cub_ip4_t server, uint16_t port, uint64_t now)
{
	for (unsigned i = 0; i < c->slots; i++) {
		struct cub_dns_cache_entry *e = &c->slot[i];

		if (live(e, now) && e->server == server && e->port == port &&
		    !cub_strcmp(e->name, q->name))
			return e;
	}
	return NULL;
}

/* A slot to ask into: a dead one, else the least recently used READY
 * one (an eviction), else NULL (all PENDING). Lock held. */
static struct cub_dns_cache_entry *victim(struct cub_dns_cache *c, uint64_t now)
{
	struct cub_dns_cache_entry *lru = NULL;

	for (unsigned i = 0; i < c->slots; i++) {
		struct cub_dns_cache_entry *e = &c->slot[i];

		if (!live(e, now))
			return e;
		if (e->state == READY && (!lru || e->used < lru->used))
			lru = e;
	}
	if (lru)
		c->st.evictions++;
	return lru;
}

/* A hit: e's answer into res, the TTL left rounded up. Lock held. */
static int hit(struct cub_dns_cache *c, struct cub_dns_cache_entry *e, uint64_t now,
	       struct cub_dns_result *res)
{
	e->used = ++c->clock;
	c->st.hits++;
	res->count = e->count;
	cub_memcpy(res->addr, e->addr, sizeof(res->addr));
	cub_strlcpy(res->canonical, e->canonical, sizeof(res->canonical));
	res->ttl_s = (uint32_t)((e->expires - now + CUB_NSEC_PER_SEC - 1) / CUB_NSEC_PER_SEC);
	res->cached = true;
	return e->count ? 0 : -CUB_ENOENT;
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

/* The owner's answer into its PENDING slot e (or the slot freed), the
 * waiters woken. Takes the lock. */
static void settle(struct cub_dns_cache *c, struct cub_dns_cache_entry *e, int rc,
		   const struct cubi_dns_query *q)
{
	uint32_t keep = keep_s(rc, q);

	cub_mutex_lock(&c->lock);
	e->state = keep ? READY : FREE;
	if (keep) {
		e->expires = cub_time_now() + (uint64_t)keep * CUB_NSEC_PER_SEC;
		e->count = rc == 0 ? q->res->count : 0;
		cub_memcpy(e->addr, q->res->addr, sizeof(e->addr));
		cub_strlcpy(e->canonical, rc == 0 ? q->res->canonical : q->name,
			    sizeof(e->canonical));
	}
	cub_cond_broadcast(&c->done);
	cub_mutex_unlock(&c->lock);
}

/*
 * Under the lock: a hit (its result in *rc, returns NULL with *own
 * false), or the slot this lookup now owns (PENDING; NULL when none is
 * free: ask uncached) with *own true; waits for another's query on the
 * same key. -CUB_ETIMEDOUT in *rc when the deadline passes waiting.
 */
static struct cub_dns_cache_entry *claim(struct cub_dns_cache *c, struct cubi_dns_query *q,
					 cub_ip4_t server, uint16_t port, uint64_t deadline,
					 bool *own, int *rc)
{
	struct cub_dns_cache_entry *e;
	bool waited = false;

	for (;;) {
		uint64_t now = cub_time_now();

		e = find(c, q, server, port, now);
		if (!e)
			break;
		if (e->state == READY) {
			*own = false;
			*rc = hit(c, e, now, q->res);
			return NULL;
		}
		c->st.waits += !waited;
		waited = true;
		if (cub_cond_timedwait(&c->done, &c->lock, deadline) == -CUB_ETIMEDOUT) {
			*own = false;
			*rc = -CUB_ETIMEDOUT;
			return NULL;
		}
	}
	c->st.misses++;
	*own = true;
	if ((e = victim(c, cub_time_now())) != NULL) {
		e->state = PENDING;
		e->server = server;
		e->port = port;
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
	struct cubi_dns_query q = { .res = res };
	struct cub_dns_cache_entry *e;
	uint64_t deadline;
	bool own;
	int rc;

	if (!c || !nif || !name || !res || !server)
		return -CUB_EINVAL;
	cub_memset(res, 0, sizeof(*res));
	if (cubi_dns_literal(name, &res->addr[0]))
		return cub_dns_lookup(nif, server, port, name, timeout_ns, res);
	if ((rc = cubi_dns_name(&q, name)))
		return rc;
	port = port ? port : CUB_DNS_PORT;
	deadline = cubi_deadline(cub_time_now(), timeout_ns);
	cub_mutex_lock(&c->lock);
	e = claim(c, &q, server, port, deadline, &own, &rc);
	cub_mutex_unlock(&c->lock);
	if (!own)
		return rc;
	rc = cubi_dns_resolve(&q, nif, server, port, deadline);
	if (e)
		settle(c, e, rc, &q);
	return rc;
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
