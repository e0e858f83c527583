/*
 * socket_gc.c - collecting AF_UNIX sockets that only SCM_RIGHTS in
 * flight keep open (socket.h is the interface; socket_rights.c makes
 * and drops the records).
 *
 * A socket passed over itself, or a ring of sockets each queued in
 * another's receive queue, stays open after the program closed every
 * descriptor of it: the rights holding it sit in queues that nobody can
 * read any more. Linux's unix_gc finds such sockets; this is the same
 * idea, a mark pass over the records in flight:
 *
 *  - A socket is a candidate when every reference to its file comes from
 *    records in flight (file.refs == the count of its appearances in
 *    them): no descriptor, no call in progress, no peeked copy holds it.
 *  - A record's node is its holder, or for an unaccepted connection the
 *    listener whose queue holds it (accepting it is the only way in).
 *  - A candidate is live when a record whose node is not a candidate
 *    (a live socket, a connection nobody reaches only through rights, or
 *    no node: a call holds the record) holds it, or a record whose node
 *    is a live candidate does: the pass repeats until nothing changes.
 *  - The rest are garbage: the files of the records they hold are taken
 *    out and put, which releases them (and, through their queues, what
 *    they held).
 *
 * When: after a descriptor of a socket is closed (the sockets' `closed`
 * op), when anything is in flight. Linux runs it when a unix socket is
 * released; running at every close of one also frees a socket that sent
 * itself once its last descriptor goes, instead of at some later close.
 *
 * Locking: the list and the marks are the fd layer's critical section
 * (interrupts disabled); the files are put outside it, STEAL at a time,
 * and the pass starts over (a put frees sockets and records). A put
 * that closes sockets runs their release and free, never this op, so
 * the collector does not nest in itself; `busy` keeps a collector on
 * another thread from stealing from records the first one is about to
 * put (they are out of the records already: harmless, but pointless).
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>

#include "socket.h"

#define STEAL 32		/* files put per critical section */

/* Every cubi_rights from cubi_rights_in to cubi_rights_put (irq off). */
static struct cub_list records = CUB_LIST_INIT(records);
static uint32_t gen;		/* the pass in progress; marks of others are stale */
static bool busy;

void cubi_gc_track(struct cubi_rights *r)
{
	r->holder = NULL;
	cub_list_push_back(&records, &r->glink);
}

void cubi_gc_untrack(struct cubi_rights *r)
{
	cub_list_del(&r->glink);
}

/* f as an AF_UNIX socket this pass has marked, or NULL. */
static struct cubi_sock *marked(struct cubi_file *f)
{
	struct cubi_sock *s = cubi_sock_of(f);

	return s && s->domain == CUBI_AF_UNIX && s->gc_gen == gen ? s : NULL;
}

static bool candidate(const struct cubi_sock *s)
{
	return s && s->gc_gen == gen && s->file.refs == s->gc_inflight;
}

/* The record's node: what must be live for its files to be reached. */
static struct cubi_sock *node(const struct cubi_rights *r)
{
	struct cubi_sock *h = r->holder;

	return h && h->listener ? h->listener : h;
}

/* Counts each AF_UNIX socket's appearances in the records. */
static void count(void)
{
	struct cub_list *l;

	cub_list_for_each(l, &records) {
		struct cubi_rights *r = cub_container_of(l, struct cubi_rights, glink);

		for (unsigned i = 0; i < r->n; i++) {
			struct cubi_sock *s = cubi_sock_of(r->files[i]);

			if (!s || s->domain != CUBI_AF_UNIX)
				continue;
			if (s->gc_gen != gen) {
				s->gc_gen = gen;
				s->gc_inflight = 0;
				s->gc_live = false;
			}
			s->gc_inflight++;
		}
	}
}

/* One sweep of the marking: the candidates that live records reach
 * become live. True when one did. */
static bool spread(void)
{
	bool changed = false;
	struct cub_list *l;

	cub_list_for_each(l, &records) {
		struct cubi_rights *r = cub_container_of(l, struct cubi_rights, glink);
		struct cubi_sock *h = node(r);

		if (candidate(h) && !h->gc_live)
			continue;
		for (unsigned i = 0; i < r->n; i++) {
			struct cubi_sock *s = marked(r->files[i]);

			if (candidate(s) && !s->gc_live) {
				s->gc_live = true;
				changed = true;
			}
		}
	}
	return changed;
}

/* Takes up to STEAL files out of the records that garbage holds: how
 * many went into out (irq off). */
static unsigned steal(struct cubi_file **out)
{
	struct cub_list *l;
	unsigned k = 0;

	if (cub_list_empty(&records))
		return 0;
	gen++;
	count();
	while (spread())
		;
	cub_list_for_each(l, &records) {
		struct cubi_rights *r = cub_container_of(l, struct cubi_rights, glink);
		struct cubi_sock *h = node(r);

		if (!candidate(h) || h->gc_live)
			continue;
		while (r->n && k < STEAL)
			out[k++] = r->files[--r->n];
		if (k == STEAL)
			break;
	}
	return k;
}

void cubi_unix_gc(void)
{
	struct cubi_file *out[STEAL];
	unsigned long irq = cub_arch_irq_save();
	unsigned k;

	if (busy || cub_list_empty(&records)) {
		cub_arch_irq_restore(irq);
		return;
	}
	busy = true;
	while ((k = steal(out)) != 0) {
		cub_arch_irq_restore(irq);
		while (k)
			cubi_file_put(out[--k]);
		irq = cub_arch_irq_save();
	}
	busy = false;
	cub_arch_irq_restore(irq);
}
