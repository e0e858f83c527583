/*
 * cubrt/context.h - cancellation and deadlines passed down a tree of
 * work (Go's context package, without values).
 *
 * A context is cancelled once, by cub_context_cancel, by its deadline
 * passing, or by its parent's cancellation (which reaches every
 * descendant); from then on cub_context_err says why and its done
 * channel is closed, so that a coroutine waiting on it in cub_chan_recv
 * or as a cub_select case wakes:
 *
 *	struct cub_context ctx;
 *	cub_context_init_deadline(&ctx, parent, cub_time_now() + timeout);
 *	... cases[1] = (struct cub_select_case){ .chan = cub_context_done(&ctx),
 *						 .dir = CUB_SELECT_RECV }; ...
 *	cub_context_release(&ctx);	// always, like Go's `defer cancel()`
 *
 * Storage is the caller's: a context must be released before its storage
 * goes. Releasing cancels it, and a cancellation unlinks the whole
 * subtree (every context below it, and it from its parent), so contexts
 * may be released in any order. Nothing is allocated.
 *
 * Contexts (execution): init and release in task context; cancel, err,
 * done and deadline anywhere, interrupt handlers included. A NULL
 * context panics, naming the call (cub_context_err: -CUB_EINVAL).
 * Locking: the irq-off critical section protects every context's fields
 * and the tree's links; a cancellation walks the subtree with interrupts
 * off (iteratively, however deep).
 */
#ifndef CUBRT_CONTEXT_H
#define CUBRT_CONTEXT_H

#include <cubrt/base.h>
#include <cubrt/chan.h>
#include <cubrt/list.h>
#include <cubrt/time.h>

/* A context. Fields are private. */
struct cub_context {
	struct cub_chan done;		/* closed at cancellation; no elements */
	int err;			/* 0 while live, else why it ended */
	bool timed;			/* the timer is (or was) armed */
	uint64_t deadline;		/* own or inherited; UINT64_MAX: none */
	struct cub_context *parent;	/* while linked into its children */
	struct cub_list children;	/* live children (their link) */
	struct cub_list link;
	struct cub_timer timer;		/* fires at an own deadline */
};

/*
 * A context under parent (NULL: a root), cancelled when parent is. Its
 * deadline is parent's. When parent is already cancelled, so is the new
 * context, with parent's reason. Contexts: task.
 */
void cub_context_init(struct cub_context *c, struct cub_context *parent);

/*
 * Like cub_context_init, also cancelled with -CUB_ETIMEDOUT at deadline_ns
 * (cub_time_now() scale) when that comes before parent's deadline (a
 * deadline already past cancels at once). Contexts: task.
 */
void cub_context_init_deadline(struct cub_context *c, struct cub_context *parent,
			       uint64_t deadline_ns);

/* Cancels c (-CUB_ECANCELED) and every live descendant (with the same
 * reason), closing their done channels; nothing when c was already
 * cancelled. Contexts: any. */
void cub_context_cancel(struct cub_context *c);

/*
 * Cancels c if it is live (which stops its deadline and unlinks it from
 * its parent and its children from it): its storage is the caller's
 * again. Contexts: task.
 */
void cub_context_release(struct cub_context *c);

/* 0 while c is live; -CUB_ECANCELED (cancelled, or an ancestor was) or
 * -CUB_ETIMEDOUT (its deadline, or an ancestor's, passed). Contexts: any. */
int cub_context_err(const struct cub_context *c);

/* The channel closed when c is cancelled: receive on it (in a select,
 * say) to wait for that; it never carries an element. Contexts: any. */
struct cub_chan *cub_context_done(struct cub_context *c);

/* c's deadline (its own or the nearest ancestor's), UINT64_MAX for none.
 * Contexts: any. */
uint64_t cub_context_deadline(const struct cub_context *c);

#endif
