/*
 * chan_impl.h - private interface between chan.c, select.c and timerchan.c.
 *
 * Every function here expects interrupts disabled (the caller's critical
 * section protects the channel, its queues and every waiter on them).
 */
#ifndef CUBRT_CHAN_IMPL_H
#define CUBRT_CHAN_IMPL_H

#include <cubrt/chan.h>
#include <cubrt/string.h>

#include "../sched/park.h"

/*
 * The shared state of one blocked select, on the selecting coroutine's
 * stack. fired is the index of the case that completed, or -1 while none
 * did (or CUBI_SELECT_TIMEOUT when its deadline passed first).
 */
struct cubi_select {
	struct cub_select_case *cases;
	size_t n;
	struct cub_coro *coro;
	int fired;
};

#define CUBI_SELECT_TIMEOUT (-2)

/* Copies one element; small power-of-two sizes become plain moves, the
 * word size tested first (the common case, no jump table). */
static inline void cubi_elem_copy(void *dst, const void *src, size_t n)
{
	if (CUB_LIKELY(n == 8)) {
		__builtin_memcpy(dst, src, 8);
		return;
	}
	switch (n) {
	case 0:
		return;
	case 1:
		__builtin_memcpy(dst, src, 1);
		return;
	case 2:
		__builtin_memcpy(dst, src, 2);
		return;
	case 4:
		__builtin_memcpy(dst, src, 4);
		return;
	case 16:
		__builtin_memcpy(dst, src, 16);
		return;
	default:
		cub_memcpy(dst, src, n);
	}
}

/* Readiness, as a select sees it (no stale waiters are ever queued). */
static inline bool cubi_chan_can_recv(const struct cub_chan *c)
{
	return c->len > 0 || c->closed || !cub_list_empty(&c->sendq);
}

static inline bool cubi_chan_can_send(const struct cub_chan *c)
{
	return c->closed || c->len < c->cap || !cub_list_empty(&c->recvq);
}

/* Completes a select's waiter: see cubi_waiter_fire. */
void cubi_select_fire(struct cubi_chan_waiter *w, bool ok);

/*
 * Completes a parked waiter w (already unlinked from its queue): records
 * ok, withdraws the other cases of its select, readies its coroutine.
 */
static inline void cubi_waiter_fire(struct cubi_chan_waiter *w, bool ok)
{
	if (w->sel) {
		cubi_select_fire(w, ok);
		return;
	}
	w->ok = ok;
	w->done = true;
	cubi_sched_ready_irqoff(w->coro);	/* callers hold irqs off */
}

/* Withdraws every case of a select from its channel queues. */
void cubi_select_unlink(struct cubi_select *sel);

/* The fast paths are inlined into every operation (chan.c, select.c). */
#define CUBI_CHAN_INLINE inline __attribute__((always_inline))

/* Advances a ring offset by one element. Offsets, not indices, keep a
 * multiply off the fast paths. */
static inline size_t cubi_ring_next(const struct cub_chan *c, size_t off)
{
	off += c->elem_size;
	return off == c->bytes ? 0 : off;
}

/*
 * Non-blocking send/receive of one element, interrupts disabled.
 * send: 0, -CUB_EAGAIN, -CUB_EPIPE. recv: 1, 0 (closed), -CUB_EAGAIN.
 */
static inline struct cubi_chan_waiter *cubi_pop_waiter(struct cub_list *q)
{
	struct cub_list *n = cub_list_pop_front(q);

	return n ? cub_container_of(n, struct cubi_chan_waiter, link) : NULL;
}

/* Appends to the ring; len < cap. */
static CUBI_CHAN_INLINE void cubi_ring_put(struct cub_chan *c,
					   const void *elem)
{
	size_t tail = c->tail, size = c->elem_size;

	cubi_elem_copy(c->buf + tail, elem, size);
	tail += size;
	c->tail = tail == c->bytes ? 0 : tail;
	c->len++;
}

/* Takes the oldest element from the ring; len > 0, sendq empty. */
static CUBI_CHAN_INLINE void cubi_ring_take(struct cub_chan *c, void *elem)
{
	size_t head = c->head, size = c->elem_size;

	if (elem)
		cubi_elem_copy(elem, c->buf + head, size);
	head += size;
	c->head = head == c->bytes ? 0 : head;
	c->len--;
}

static CUBI_CHAN_INLINE int cubi_chan_send_locked(struct cub_chan *c,
						 const void *elem)
{
	struct cubi_chan_waiter *w;

	if (CUB_UNLIKELY(c->closed))
		return -CUB_EPIPE;
	w = cubi_pop_waiter(&c->recvq);
	if (w) {
		/* Straight into the parked receiver's destination. */
		if (w->elem)
			cubi_elem_copy(w->elem, elem, c->elem_size);
		cubi_waiter_fire(w, true);
		return 0;
	}
	if (c->len == c->cap)
		return -CUB_EAGAIN;
	cubi_ring_put(c, elem);
	return 0;
}

/* Takes the oldest buffered element; refills from a parked sender, whose
 * value becomes the newest so FIFO order holds. */
static CUBI_CHAN_INLINE void cubi_recv_buffered(struct cub_chan *c, void *elem)
{
	struct cubi_chan_waiter *w;
	unsigned char *p = c->buf + c->head;

	if (elem)
		cubi_elem_copy(elem, p, c->elem_size);
	c->head = cubi_ring_next(c, c->head);
	w = cubi_pop_waiter(&c->sendq);
	if (w) {
		/* The ring was full (tail == head): the freed slot is the
		 * new tail, and the ring stays full. */
		cubi_elem_copy(p, w->elem, c->elem_size);
		c->tail = c->head;
		cubi_waiter_fire(w, true);
		return;
	}
	c->len--;
}

static CUBI_CHAN_INLINE int cubi_chan_recv_locked(struct cub_chan *c, void *elem)
{
	struct cubi_chan_waiter *w;

	if (c->len > 0) {
		cubi_recv_buffered(c, elem);
		return 1;
	}
	w = cubi_pop_waiter(&c->sendq);
	if (w) {
		/* Unbuffered: straight from the parked sender's source. */
		if (elem)
			cubi_elem_copy(elem, w->elem, c->elem_size);
		cubi_waiter_fire(w, true);
		return 1;
	}
	if (c->closed) {
		if (elem)
			cub_memset(elem, 0, c->elem_size);
		return 0;
	}
	return -CUB_EAGAIN;
}


/* Test hook: reseeds the generator that picks among ready select cases. */
void cubi_select_seed(uint64_t seed);

#endif
