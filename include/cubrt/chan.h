/*
 * cubrt/chan.h - channels and select with Go's semantics, usable from
 * interrupt handlers.
 *
 * A channel carries fixed-size elements (0 bytes .. CUB_CHAN_ELEM_MAX) by
 * value. Unbuffered (capacity 0) channels are rendezvous points: a send
 * completes only when a receiver takes the value. Buffered channels hold up
 * to `cap` values in FIFO order. The rules are Go's (the spec's "Channel
 * types", "Send statements", "Receive operator", "Close", "Select"):
 *
 *  - blocked senders and receivers are served in arrival (FIFO) order;
 *  - close wakes every parked sender (they fail with -CUB_EPIPE) and every
 *    parked receiver; receivers drain buffered values first, afterwards a
 *    receive returns 0 ("!ok") and writes the zero value;
 *  - send on a closed channel fails with -CUB_EPIPE, closing a closed
 *    channel with -CUB_EBADF (Go panics on both; C gets distinct codes);
 *  - a value sent to a parked receiver is copied straight into the
 *    receiver's destination, a value taken from a parked sender straight
 *    from the sender's source: no intermediate copy, no allocation.
 *
 * Return convention of the receive calls (Go's `v, ok := <-c`):
 *   1   a value sent by a sender was stored at elem (ok == true);
 *   0   the channel is closed and drained; elem holds zeros (ok == false);
 *  <0   an error: -CUB_EAGAIN (non-blocking call would block),
 *       -CUB_EINVAL (bad argument).
 *
 * Execution contexts: the blocking calls (cub_chan_send, cub_chan_recv,
 * cub_select with no default) are task-only: in irq context they panic
 * when they would block ("chan send: blocking call from interrupt
 * context"; one that can complete at once behaves like a try call). The
 * non-blocking calls (try/_isr, close, len, cap, cub_select_try) may be
 * called from any context; a coroutine they wake joins the run queue. When
 * an interrupt handler wakes it while the CPU idles, it runs as soon as
 * the interrupt returns; while another coroutine runs, at that one's next
 * blocking call or yield (with preemption on, at the end of its slice).
 *
 * Channel state is protected by disabling interrupts (cubrt runs on one
 * CPU): every operation is one cub_arch_irq_save/restore critical section.
 */
#ifndef CUBRT_CHAN_H
#define CUBRT_CHAN_H

#include <cubrt/base.h>
#include <cubrt/list.h>
#include <cubrt/time.h>

struct cub_coro;
struct cubi_select;

/* Largest element size a channel accepts (bytes). */
#define CUB_CHAN_ELEM_MAX (64u * 1024u)

/*
 * A parked send or receive (private; the fields are cubrt's). It belongs
 * to the blocked coroutine: for cub_chan_send/recv it is in the coroutine
 * record's park area (the call returns to its caller by a jump when woken,
 * see src/sched/park.h), for select inside the cub_select_case array on
 * the caller's stack. Never allocated.
 */
struct cubi_chan_waiter {
	struct cub_list link;		/* in chan sendq/recvq, or self-linked */
	struct cub_coro *coro;		/* the parked coroutine */
	void *elem;			/* source (send) or destination (recv) */
	struct cubi_select *sel;	/* the select this case is part of, or NULL */
	bool ok;			/* set by the waker: value transferred */
	bool done;			/* set by the waker */
};

/*
 * A channel. Initialise with cub_chan_init() or allocate with cub_chan_new().
 * The fields are private. 64 bytes, one cache line when 64-byte aligned:
 * a send or receive that finds a waiter reads only the first 44 bytes
 * (the queues, the flags, cap and len), which share one line at any
 * 16-byte alignment but 32 and 48 mod 64, so that an array of channels
 * costs a hop through it one line per channel (W6, docs/scheduler.md).
 * Counts and offsets are 32 bits: a ring holds at most 4 GiB - 1 bytes
 * and at most UINT32_MAX elements.
 */
struct cub_chan {
	struct cub_list recvq;		/* parked receivers, FIFO */
	struct cub_list sendq;		/* parked senders, FIFO */
	uint32_t elem_size : 24;	/* <= CUB_CHAN_ELEM_MAX */
	uint32_t closed : 1;
	uint32_t allocated : 1;		/* storage from cub_chan_new() */
	uint32_t cap;
	uint32_t len;			/* buffered elements */
	uint32_t head;			/* byte offset of the oldest element */
	unsigned char *buf;		/* ring of cap elements (a dummy if none) */
	uint32_t tail;			/* byte offset of the next free slot */
	uint32_t bytes;			/* ring size: cap * elem_size */
};

/*
 * Initialises c in caller storage. buf holds cap * elem_size bytes (NULL
 * when cap or elem_size is 0) and belongs to the channel until it is no
 * longer used. Returns 0, or -CUB_EINVAL for a NULL c, elem_size above
 * CUB_CHAN_ELEM_MAX, a missing buf, cap above UINT32_MAX or a ring of
 * 4 GiB or more (cap * elem_size).
 * Contexts: any (c must not be in use).
 */
int cub_chan_init(struct cub_chan *c, size_t elem_size, size_t cap, void *buf);

/*
 * Allocates a channel and its buffer from the heap. Returns 0 and *out, or
 * -CUB_EINVAL (as cub_chan_init) or -CUB_ENOMEM. Contexts: task.
 */
int cub_chan_new(struct cub_chan **out, size_t elem_size, size_t cap);

/*
 * Frees a channel from cub_chan_new(). Returns 0, -CUB_EBUSY while a
 * coroutine is parked on it (nothing freed), -CUB_EINVAL for a channel not
 * from cub_chan_new(). NULL is accepted (returns 0). Contexts: task.
 */
int cub_chan_free(struct cub_chan *c);

/*
 * Sends the element at elem (elem_size bytes; may be NULL when elem_size is
 * 0), blocking until a receiver takes it or buffer space frees up.
 * Returns 0, -CUB_EPIPE when the channel is closed (before or while
 * waiting: the value was not sent), -CUB_EINVAL for a NULL channel or elem.
 * Contexts: task (in irq context it panics if it would block).
 */
int cub_chan_send(struct cub_chan *c, const void *elem);

/*
 * Receives into elem (may be NULL to discard), blocking until a value or
 * close arrives. Returns 1 (value), 0 (closed and drained; elem zeroed) or
 * -CUB_EINVAL for a NULL channel. Contexts: task (in irq context it panics
 * if it would block).
 */
int cub_chan_recv(struct cub_chan *c, void *elem);

/*
 * Non-blocking send: 0 when a parked receiver took the value or it was
 * buffered, -CUB_EAGAIN when it would block, -CUB_EPIPE when closed,
 * -CUB_EINVAL for bad arguments. Contexts: any.
 */
int cub_chan_try_send(struct cub_chan *c, const void *elem);

/*
 * Non-blocking receive: 1 (value), 0 (closed and drained, elem zeroed),
 * -CUB_EAGAIN when it would block, -CUB_EINVAL. Contexts: any.
 */
int cub_chan_try_recv(struct cub_chan *c, void *elem);

/*
 * The interrupt-handler names of try_send/try_recv (identical semantics):
 * they never block and wake the coroutine they complete. Contexts: any.
 */
int cub_chan_send_isr(struct cub_chan *c, const void *elem);
int cub_chan_recv_isr(struct cub_chan *c, void *elem);

/*
 * Closes c: parked receivers get 0 (closed) with zeroed elements, parked
 * senders -CUB_EPIPE; buffered values stay receivable. Returns 0,
 * -CUB_EBADF when already closed, -CUB_EINVAL for NULL. Contexts: any.
 */
int cub_chan_close(struct cub_chan *c);

/* Buffered element count and capacity (0 for NULL). Contexts: any. */
size_t cub_chan_len(const struct cub_chan *c);
size_t cub_chan_cap(const struct cub_chan *c);

/* True once c was closed (values may still be buffered). Contexts: any. */
bool cub_chan_closed(const struct cub_chan *c);

/* ------------------------------------------------------------------ select */

#define CUB_SELECT_NONE 0u	/* disabled case, never chosen */
#define CUB_SELECT_RECV 1u
#define CUB_SELECT_SEND 2u

/*
 * One case of a select. The caller fills chan, dir and elem; a case with a
 * NULL chan or dir CUB_SELECT_NONE is disabled (Go's nil channel). On
 * return, the fired case's ok says: for a receive, true = value received,
 * false = closed (elem zeroed); for a send, true = sent, false = the
 * channel was closed (Go panics here; cubrt reports it). The array must
 * stay alive and unshared for the whole call: it holds the waiter records.
 */
struct cub_select_case {
	struct cub_chan *chan;
	unsigned dir;
	void *elem;			/* send source / receive destination */
	bool ok;			/* out */
	struct cubi_chan_waiter w;	/* private */
};

/*
 * Waits until one case can proceed, performs it and returns its index.
 * When several are ready, one is chosen uniformly at random. With no
 * enabled case it blocks forever (the scheduler reports the deadlock when
 * nothing else can run). Returns -CUB_EINVAL for NULL cases with n > 0 or
 * an invalid dir or a send case with a NULL elem (elem_size > 0).
 * Contexts: task (in irq context it panics if it would block).
 */
int cub_select(struct cub_select_case *cases, size_t n);

/*
 * Select with a default: performs a ready case (uniformly random) and
 * returns its index, or returns -CUB_EAGAIN at once. Contexts: any.
 */
int cub_select_try(struct cub_select_case *cases, size_t n);

/*
 * Select with an absolute cub_time_now() deadline: as cub_select, but
 * returns -CUB_ETIMEDOUT once the deadline passes with no case fired (a
 * deadline already past behaves as cub_select_try, with -CUB_ETIMEDOUT).
 * Contexts: task.
 */
int cub_select_deadline(struct cub_select_case *cases, size_t n,
			uint64_t deadline_ns);

/* cub_select_deadline(cases, n, cub_time_now() + timeout_ns). */
int cub_select_timeout(struct cub_select_case *cases, size_t n,
		       uint64_t timeout_ns);

/*
 * Blocking send/receive with an absolute deadline: as cub_chan_send/recv,
 * or -CUB_ETIMEDOUT. Contexts: task.
 */
int cub_chan_send_deadline(struct cub_chan *c, const void *elem,
			   uint64_t deadline_ns);
int cub_chan_recv_deadline(struct cub_chan *c, void *elem,
			   uint64_t deadline_ns);

/* ----------------------------------------------------------- timer channels */

/*
 * Go's time.After / time.NewTimer and time.Ticker: a channel of capacity 1
 * whose elements are uint64_t cub_time_now() stamps, fed by a cub_timer
 * from irq context. A periodic ticker drops ticks while its channel is
 * full (a slow receiver sees fewer ticks, never a backlog) and keeps its
 * phase. Stopping does not close the channel (as in Go): a receiver
 * blocked on it stays blocked; use select with another case.
 */
#define CUB_TICKER_ONCE 1u	/* one tick after period_ns, then idle */

struct cub_ticker {
	struct cub_chan chan;		/* receive the ticks from here */
	uint64_t slot;			/* the channel's one-element buffer */
	struct cub_timer timer;
	uint64_t period;		/* 0 once the ticker is stopped or spent */
	uint64_t next;			/* deadline of the next tick */
	bool allocated;
};

/*
 * Starts a ticker in caller storage: the first tick after period_ns, then
 * (without CUB_TICKER_ONCE) every period_ns. Returns 0 or -CUB_EINVAL
 * (NULL t, period_ns 0, unknown flags). Contexts: any (t idle).
 */
int cub_ticker_init(struct cub_ticker *t, uint64_t period_ns, unsigned flags);

/* Allocating form of cub_ticker_init; free with cub_ticker_free().
 * Returns 0, -CUB_EINVAL or -CUB_ENOMEM. Contexts: task. */
int cub_ticker_new(struct cub_ticker **out, uint64_t period_ns,
		   unsigned flags);

/* The channel the ticks arrive on. Contexts: any. */
struct cub_chan *cub_ticker_chan(struct cub_ticker *t);

/*
 * Stops t: no tick is sent after it returns (one already buffered stays).
 * Returns true when a tick was still to come. Contexts: any.
 */
bool cub_ticker_stop(struct cub_ticker *t);

/* Stops and frees a ticker from cub_ticker_new(); -CUB_EBUSY while a
 * coroutine is parked on its channel, -CUB_EINVAL when not allocated.
 * Contexts: task. */
int cub_ticker_free(struct cub_ticker *t);

#endif
