/*
 * tcp_pcb.c - TCP blocks: allocation with their buffers, lookup by
 * address and port, ephemeral ports, initial sequence numbers, state
 * changes, wake-ups and freeing.
 *
 * Invariants (under nif->lock):
 *  - every block of nif is in nif->tcps from cubi_tcp_alloc until it is
 *    freed; at most one LISTEN block per port; at most one block that is
 *    not CLOSED per (remote address, remote port, local port);
 *  - a block is freed only by cubi_tcp_maybe_free, once it is CLOSED, its
 *    handle released, no call inside (close counts as one while it
 *    waits) and no listener queueing it; so a caller holding the lock may
 *    use a block until it calls maybe_free, and one that holds it (a
 *    call counted in users) until it drops that hold (tcp_close.c);
 *  - a CLOSED block has no timer armed and no parent.
 * Allocation: the block and its two rings (sndbuf / rcvbuf bytes of the
 * interface's params when it is created), once per connection. Blocks
 * are type-stable: a freed one is kept on `spare` (its rings go back to
 * the heap) and the next connection of any interface takes it, so a
 * handle passed after its close, a caller's bug, always points at a TCP
 * block: a dead one (magic cleared: -CUB_EBADF) or a newer connection's,
 * which it then names, as a closed file descriptor's number does; never
 * freed memory. The spare blocks number at most the most blocks alive
 * at once.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "tcp_impl.h"

/* Contexts: any (nif being initialised). */
void cubi_tcp_params_default(struct cub_netif *nif)
{
	uint64_t r;

	nif->tcp_params = (struct cub_tcp_params){
		.rto_initial = CUB_TCP_RTO_INITIAL,
		.rto_min = CUB_TCP_RTO_MIN,
		.rto_max = CUB_TCP_RTO_MAX,
		.max_retries = CUB_TCP_MAX_RETRIES,
		.syn_retries = CUB_TCP_SYN_RETRIES,
		.time_wait = CUB_TCP_TIME_WAIT,
		.fin_timeout = CUB_TCP_FIN_TIMEOUT,
		.orphan_retries = CUB_TCP_ORPHAN_RETRIES,
		.sndbuf = CUB_TCP_SNDBUF,
		.rcvbuf = CUB_TCP_RCVBUF,
		.timestamps = 1,
		.paws_idle = CUB_TCP_PAWS_IDLE,
		.keepalive = -1,
		.keep_idle = CUB_TCP_KEEPIDLE,
		.keep_intvl = CUB_TCP_KEEPINTVL,
		.keep_cnt = CUB_TCP_KEEPCNT,
		.max_orphans = CUB_TCP_ORPHANS,
	};
	if (!cub_arch_random(&r))	/* no RNG: the clock and the MAC */
		r = cub_time_now() ^ ((uint64_t)nif->mac[3] << 40 |
				      (uint64_t)nif->mac[4] << 32 |
				      (uint64_t)nif->mac[5] << 24);
	nif->tcp_secret = r;
	nif->tcp_next_port = (uint16_t)(CUB_UDP_EPHEMERAL_MIN + (r >> 48) % 16384);
	nif->tcp_timer_at = UINT64_MAX;
}

const struct cub_tcp_params *cubi_tcp_params(const struct cub_tcp *c)
{
	return &c->nif->tcp_params;
}

/* Freed blocks, linked through `link` (on no interface's list then).
 * Critical section: irq off (the interfaces have a lock each). */
static struct cub_list spare = CUB_LIST_INIT(spare);

/* A block: a spare one, or a new one from the heap; NULL when out of
 * memory. Its magic is 0 (dead) until a handle is given out. */
static struct cub_tcp *block_get(void)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *n = cub_list_pop_front(&spare);
	struct cub_tcp *c;

	cub_arch_irq_restore(irq);
	c = n ? cub_container_of(n, struct cub_tcp, link) : cub_malloc(sizeof(*c));
	if (c)
		cub_memset(c, 0, sizeof(*c));	/* magic 0 among the rest */
	return c;
}

/* Frees c's rings and keeps c itself for the next block_get. */
static void block_put(struct cub_tcp *c)
{
	unsigned long irq;

	c->magic = 0;
	cub_free(c->sbuf);
	cub_free(c->rbuf);
	c->sbuf = c->rbuf = NULL;
	irq = cub_arch_irq_save();
	cub_list_push_front(&spare, &c->link);
	cub_arch_irq_restore(irq);
}

struct cub_tcp *cubi_tcp_alloc(struct cub_netif *nif, bool buffers)
{
	struct cub_tcp *c = block_get();

	if (!c)
		return NULL;
	c->ssize = nif->tcp_params.sndbuf;
	c->rsize = nif->tcp_params.rcvbuf;
	c->rcv_wscale = cubi_tcp_wscale_for(c->rsize);	/* for our SYN */
	c->ts_offer = nif->tcp_params.timestamps > 0;
	if (buffers) {
		c->sbuf = cub_malloc(c->ssize);
		c->rbuf = cub_malloc(c->rsize);
		if (!c->sbuf || !c->rbuf)
			goto fail;
	}
	if (cubi_tcp_timer_kick(nif, UINT64_MAX) < 0)
		goto fail;
	c->nif = nif;
	c->laddr = nif->addr;
	c->peer_mss = TCP_DEFAULT_MSS;
	c->pmtu = CUB_IP4_MTU;		/* lowered by ICMP, back by time (tcp_pmtu.c) */
	cubi_tcp_mss_sync(c);
	c->rto = nif->tcp_params.rto_initial;
	c->ka_on = nif->tcp_params.keepalive > 0;
	c->ka_idle = nif->tcp_params.keep_idle;
	c->ka_intvl = nif->tcp_params.keep_intvl;
	c->ka_cnt = (uint8_t)nif->tcp_params.keep_cnt;
	c->rx_at = cub_time_now();
	cub_cond_init(&c->cond);
	cub_list_init(&c->children);
	cub_list_push_back(&nif->tcps, &c->link);
	return c;
fail:
	block_put(c);
	return NULL;
}

struct cub_tcp *cubi_tcp_find(struct cub_netif *nif, cub_ip4_t raddr,
			      uint16_t rport, uint16_t lport)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &nif->tcps) {
		struct cub_tcp *c = cub_container_of(pos, struct cub_tcp, link);

		if (c->state != TCP_CLOSED && c->state != TCP_LISTEN &&
		    c->lport == lport && c->rport == rport && c->raddr == raddr)
			return c;
	}
	return NULL;
}

struct cub_tcp *cubi_tcp_find_listener(struct cub_netif *nif, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &nif->tcps) {
		struct cub_tcp *c = cub_container_of(pos, struct cub_tcp, link);

		if (c->state == TCP_LISTEN && c->lport == port)
			return c;
	}
	return NULL;
}

bool cubi_tcp_port_used(struct cub_netif *nif, uint16_t port)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &nif->tcps) {
		struct cub_tcp *c = cub_container_of(pos, struct cub_tcp, link);

		if (c->state != TCP_CLOSED && c->lport == port)
			return true;
	}
	return false;
}

/* A free ephemeral port (round robin), 0 when none. */
uint16_t cubi_tcp_pick_port(struct cub_netif *nif)
{
	unsigned span = CUB_UDP_EPHEMERAL_MAX - CUB_UDP_EPHEMERAL_MIN + 1;

	for (unsigned i = 0; i < span; i++) {
		uint16_t p = nif->tcp_next_port;

		nif->tcp_next_port = p >= CUB_UDP_EPHEMERAL_MAX ?
				     CUB_UDP_EPHEMERAL_MIN : (uint16_t)(p + 1);
		if (p >= CUB_UDP_EPHEMERAL_MIN && !cubi_tcp_port_used(nif, p))
			return p;
	}
	return 0;
}

/* splitmix64's finaliser: a keyed mix of the connection's addresses. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* RFC 6528: ISN = M + F(addresses, secret), M a 4 us clock, so that a
 * new incarnation of a connection starts above the old one's numbers and
 * an off-path attacker cannot guess them. */
uint32_t cubi_tcp_iss(struct cub_netif *nif, const struct cub_tcp *c)
{
	uint64_t t = ((uint64_t)c->laddr << 32 | c->raddr) ^ nif->tcp_secret;
	uint64_t f = mix64(t ^ mix64((uint64_t)c->lport << 16 | c->rport));

	return (uint32_t)(cub_time_now() / 4000) + (uint32_t)f;
}

/* RFC 7323 5.4 (as RFC 6528 for ISNs): a random offset per
 * connection, so that our clock is not visible and a new incarnation's
 * timestamps need not continue an old one's. */
uint32_t cubi_tcp_ts_offset(struct cub_netif *nif, const struct cub_tcp *c)
{
	uint64_t t = ((uint64_t)c->raddr << 32 | c->laddr) ^ ~nif->tcp_secret;

	return (uint32_t)(mix64(t ^ mix64((uint64_t)c->rport << 16 |
					  c->lport)) >> 32);
}

void cubi_tcp_wake(struct cub_tcp *c)
{
	cub_cond_broadcast(&c->cond);
	if (c->notify)
		c->notify(c->notify_arg);
}

static void unlink_child(struct cub_tcp *c)
{
	struct cub_tcp *l = c->parent;

	if (!l)
		return;
	cub_list_del(&c->child_link);
	l->nchildren--;
	c->parent = NULL;
	cubi_tcp_wake(l);
}

void cubi_tcp_set_state(struct cub_tcp *c, enum tcp_state s)
{
	if (c->state == s)
		return;
	if (s == TCP_ESTABLISHED)
		c->nif->st.tcp_established++;
	if (c->orphan && (s == TCP_CLOSED || s == TCP_TIME_WAIT)) {
		c->orphan = false;	/* finished, reset or timed out */
		c->nif->st.tcp_orphans--;
	}
	c->state = (uint8_t)s;
	if (s == TCP_CLOSED) {
		c->rtx_at = c->persist_at = c->close_at = 0;
		unlink_child(c);
	}
	if (s == TCP_ESTABLISHED && c->parent)
		cubi_tcp_wake(c->parent);	/* one to accept */
	cubi_tcp_wake(c);
}

bool cubi_tcp_maybe_free(struct cub_tcp *c)
{
	if (c->state != TCP_CLOSED || c->user || c->users || c->parent)
		return false;
	cub_list_del(&c->link);
	if (cub_list_empty(&c->nif->tcps))	/* the timer coroutine ends */
		cub_cond_signal(&c->nif->tcp_timer_cond);
	if (c->sbuf)			/* a connection, not a listener */
		c->nif->st.tcp_freed++;
	block_put(c);
	return true;
}
