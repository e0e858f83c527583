/*
 * chan.c - channels: unbuffered rendezvous and buffered rings with Go's
 * semantics (see include/cubrt/chan.h).
 *
 * Invariants (all under the irq-off critical section; one CPU):
 *  - 0 <= len <= cap; the buffered elements start at byte offset head
 *    of buf, one every elem_size bytes modulo bytes (= cap * elem_size),
 *    oldest first; tail = head + len * elem_size modulo bytes;
 *  - recvq non-empty implies len == 0 and !closed (a receiver parks only
 *    when nothing is buffered, and close empties recvq);
 *  - sendq non-empty implies len == cap and !closed;
 *  - so recvq and sendq are never both non-empty;
 *  - every queued waiter belongs to a coroutine parked in cub_chan_send/
 *    recv or cub_select; once woken, that coroutine never touches the
 *    channel again (the waker did all the work, zero values included);
 *  - a select's waiters are withdrawn from all queues the moment one of
 *    them fires (cubi_waiter_fire), so queues never hold stale entries and
 *    a non-empty queue means a real partner.
 *
 * Critical section: cub_arch_irq_save/restore protects every field of
 * every channel and every waiter record while it is queued; there is no
 * lock order because there is only one "lock".
 */
#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

#include "../sched/park.h"
#include "chan_impl.h"

static unsigned char chan_no_ring;

/* Contexts: any (c not in use). */
int cub_chan_init(struct cub_chan *c, size_t elem_size, size_t cap, void *buf)
{
	if (!c || elem_size > CUB_CHAN_ELEM_MAX)
		return -CUB_EINVAL;
	if (cap > UINT32_MAX || (cap && elem_size && (!buf || cap > UINT32_MAX / elem_size)))
		return -CUB_EINVAL;
	/* Element-free rings (cap 0, or zero-size elements) point at a
	 * dummy byte: the ring code forms buf + offset with offset 0, and
	 * NULL + 0 is undefined behaviour in C. */
	c->buf = buf ? buf : &chan_no_ring;
	c->elem_size = (uint32_t)elem_size & 0xffffff;
	c->cap = (uint32_t)cap;
	c->len = 0;
	c->head = 0;
	c->tail = 0;
	c->bytes = (uint32_t)(cap * elem_size);
	cub_list_init(&c->recvq);
	cub_list_init(&c->sendq);
	c->closed = false;
	c->allocated = false;
	return 0;
}

/* Channel and ring in one heap block. Contexts: task (the heap). */
int cub_chan_new(struct cub_chan **out, size_t elem_size, size_t cap)
{
	struct cub_chan *c;
	size_t bytes;
	int err;

	if (!out || elem_size > CUB_CHAN_ELEM_MAX ||
	    cap > UINT32_MAX || (elem_size && cap > UINT32_MAX / elem_size))
		return -CUB_EINVAL;
	bytes = cap * elem_size;
	c = cub_malloc(sizeof(*c) + bytes);
	if (!c)
		return -CUB_ENOMEM;
	err = cub_chan_init(c, elem_size, cap, bytes ? (void *)(c + 1) : NULL);
	CUB_ASSERT(err == 0);
	c->allocated = true;
	*out = c;
	return 0;
}

/* Contexts: task. */
int cub_chan_free(struct cub_chan *c)
{
	unsigned long s;
	bool busy;

	if (!c)
		return 0;
	if (!c->allocated)
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	busy = !cub_list_empty(&c->recvq) || !cub_list_empty(&c->sendq);
	cub_arch_irq_restore(s);
	if (busy)
		return -CUB_EBUSY;
	c->allocated = false;
	cub_free(c);
	return 0;
}

/*
 * The blocking halves of send and receive park by tail call (park.h): the
 * resumed coroutine returns straight to its caller by an indirect jump.
 * Their waiter is in the coroutine's park area, since the caller's frame
 * is gone while parked.
 */
_Static_assert(sizeof(struct cubi_chan_waiter) <= CUBI_PARK_AREA,
	       "park area too small for a channel waiter");

static struct cubi_chan_waiter *waiter_done(struct cub_coro *self,
					    const char *what)
{
	struct cubi_chan_waiter *w = cubi_sched_park_area(self);

	if (CUB_UNLIKELY(!w->done))
		cub_panic("%s: woken without completion", what);
	return w;
}

static int send_resumed(struct cub_coro *self)
{
	return waiter_done(self, "chan send")->ok ? 0 : -CUB_EPIPE;
}

static int recv_resumed(struct cub_coro *self)
{
	return waiter_done(self, "chan receive")->ok;
}

/*
 * Queues the running coroutine's waiter on q and parks it; returns the
 * operation's result once a partner or close completed the record (with
 * interrupts restored to s). Interrupts disabled. It first asserts that
 * it may block, which panics in irq context ("chan send: blocking call
 * from interrupt context") before the park area is touched, and so
 * parks by cubi_sched_park_tail_checked; a call that completes without
 * blocking is harmless there, like a try call.
 */
static inline __attribute__((always_inline)) int
park_on(struct cub_list *q, void *elem, unsigned long s, bool send)
{
	struct cub_coro *self;
	struct cubi_chan_waiter *w;

	cubi_sched_assert_can_block(send ? "chan send" : "chan receive");
	self = cub_coro_self();
	w = cubi_sched_park_area(self);
	w->coro = self;
	w->elem = elem;
	w->sel = NULL;
	w->ok = false;
	w->done = false;
	cub_list_push_back(q, &w->link);
	if (send)
		return cubi_sched_park_tail_checked("chan send", s,
						    send_resumed);
	return cubi_sched_park_tail_checked("chan receive", s, recv_resumed);
}

/* One copy of park_on per direction: with its strings and resume
 * function constant, neither needs callee-saved registers. */
static __attribute__((noinline)) int park_send(struct cub_list *q,
					       void *elem, unsigned long s)
{
	return park_on(q, elem, s, true);
}

static __attribute__((noinline)) int park_recv(struct cub_list *q,
					       void *elem, unsigned long s)
{
	return park_on(q, elem, s, false);
}

/*
 * Blocking send and receive: the buffered case inline, everything else
 * (a partner to wake, close, parking) in a tail-called slow half, so the
 * fast path needs no stack frame.
 */
static __attribute__((noinline)) int send_slow(struct cub_chan *c,
					       const void *elem,
					       unsigned long s)
{
	int r = cubi_chan_send_locked(c, elem);

	if (CUB_UNLIKELY(r == -CUB_EAGAIN))
		return park_send(&c->sendq, (void *)elem, s);
	cub_arch_irq_restore(s);
	return r;
}

static __attribute__((noinline)) int recv_now(struct cub_chan *c,
					      void *elem, unsigned long s)
{
	int r = cubi_chan_recv_locked(c, elem);

	cub_arch_irq_restore(s);
	return r;
}

/* Nothing buffered, no parked sender, not closed: exactly when
 * cubi_chan_recv_locked would say -CUB_EAGAIN. Only tests before either
 * tail call, so the parking path (W6's every hop) has no frame here. */
static __attribute__((noinline)) int recv_slow(struct cub_chan *c,
					       void *elem, unsigned long s)
{
	if (c->len == 0 && cub_list_empty(&c->sendq) && !c->closed)
		return park_recv(&c->recvq, elem, s);
	return recv_now(c, elem, s);
}

/* Contexts: task (irq: only when it completes at once). */
int cub_chan_send(struct cub_chan *c, const void *elem)
{
	unsigned long s;

	if (CUB_UNLIKELY(!c || (!elem && c->elem_size)))
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	/* Room in the ring and nobody to hand to (recvq empty, not closed). */
	if (CUB_LIKELY(c->len < c->cap && cub_list_empty(&c->recvq) &&
		       !c->closed)) {
		cubi_ring_put(c, elem);
		cub_arch_irq_restore(s);
		return 0;
	}
	return send_slow(c, elem, s);
}

/* Contexts: task (irq: only when it completes at once). */
int cub_chan_recv(struct cub_chan *c, void *elem)
{
	unsigned long s;

	if (CUB_UNLIKELY(!c))
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	/* Something buffered and no parked sender to refill from. */
	if (CUB_LIKELY(c->len > 0 && cub_list_empty(&c->sendq))) {
		cubi_ring_take(c, elem);
		cub_arch_irq_restore(s);
		return 1;
	}
	return recv_slow(c, elem, s);
}

/* Contexts: any. */
int cub_chan_try_send(struct cub_chan *c, const void *elem)
{
	unsigned long s;
	int r;

	if (CUB_UNLIKELY(!c || (!elem && c->elem_size)))
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	r = cubi_chan_send_locked(c, elem);
	cub_arch_irq_restore(s);
	return r;
}

/* Contexts: any. */
int cub_chan_try_recv(struct cub_chan *c, void *elem)
{
	unsigned long s;
	int r;

	if (CUB_UNLIKELY(!c))
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	r = cubi_chan_recv_locked(c, elem);
	cub_arch_irq_restore(s);
	return r;
}

/* The irq-handler names. Contexts: any. */
int cub_chan_send_isr(struct cub_chan *c, const void *elem)
{
	return cub_chan_try_send(c, elem);
}

int cub_chan_recv_isr(struct cub_chan *c, void *elem)
{
	return cub_chan_try_recv(c, elem);
}

/* Contexts: any. */
int cub_chan_close(struct cub_chan *c)
{
	struct cubi_chan_waiter *w;
	unsigned long s;

	if (!c)
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	if (c->closed) {
		cub_arch_irq_restore(s);
		return -CUB_EBADF;
	}
	c->closed = true;
	/*
	 * The closer writes the receivers' zero values: a woken receiver
	 * never touches the channel again, so the channel's storage may end
	 * right after close returns (e.g. on the closer's stack).
	 */
	while ((w = cubi_pop_waiter(&c->recvq))) {
		if (w->elem)
			cub_memset(w->elem, 0, c->elem_size);
		cubi_waiter_fire(w, false);
	}
	while ((w = cubi_pop_waiter(&c->sendq)))
		cubi_waiter_fire(w, false);
	cub_arch_irq_restore(s);
	return 0;
}

/* Unlocked reads of one word: a snapshot, as in Go. Contexts: any. */
size_t cub_chan_len(const struct cub_chan *c)
{
	return c ? c->len : 0;
}

size_t cub_chan_cap(const struct cub_chan *c)
{
	return c ? c->cap : 0;
}

bool cub_chan_closed(const struct cub_chan *c)
{
	return c && c->closed;
}
