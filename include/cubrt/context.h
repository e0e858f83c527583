/*
 * cubrt/context.h - cancellation, deadlines and values passed down a
 * tree of work (Go's context package).
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
 * may be released in any order, with one exception: values (below).
 * Nothing is allocated.
 *
 * Values (Go's context.WithValue): cub_context_init_value makes a
 * context that also carries one (key, value) pair, and
 * cub_context_value(c, key) answers from c or the nearest ancestor
 * carrying key. Unlike cancellation, values stay readable after a
 * cancellation, as in Go, because the lookup follows a separate,
 * immutable pointer to the nearest ancestor carrying a value. The rule
 * that makes that safe: a context carrying a value must be released
 * after every context below it (cancelled or not) - Go's natural
 * `defer cancel()` order. It is checked: releasing a context carrying a
 * value while a context below it is unreleased panics
 * ("cub_context_release: a context carrying a value is released before
 * contexts below it"). Contexts carrying no value keep the any-order
 * release, also under and above contexts carrying values.
 *
 * Contexts (execution): init and release in task context; cancel, err,
 * done, deadline and value anywhere, interrupt handlers included. A NULL
 * context panics, naming the call (cub_context_err: -CUB_EINVAL).
 * Locking: the irq-off critical section protects every context's fields
 * and the tree's links; a cancellation walks the subtree with interrupts
 * off (iteratively, however deep). A context's key, value and value
 * link are immutable from init to release, and the contexts a lookup
 * walks cannot be released meanwhile (the rule above), so
 * cub_context_value takes no lock and is safe from interrupt handlers.
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
	/* values: immutable from init to release */
	const void *key;		/* NULL: carries no value */
	void *value;
	struct cub_context *vparent;	/* nearest ancestor with a key */
	unsigned long vrefs;		/* unreleased contexts whose vparent
					 * this is (irq-off) */
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

/*
 * Like cub_context_init (a context cancelled by cub_context_cancel or
 * with parent), also carrying value under key: cub_context_value(d,
 * key) gives value for c and every context d below c, unless a context
 * between d and c carries key too (the nearest wins). Keys compare by
 * address, as Go's compare by value: use the address of a static object
 * of the caller's (a NULL key panics, "cub_context_init_value: NULL
 * key"). value is the caller's and is never dereferenced. c must be
 * released after every context below it (see above). A cancelled parent
 * gives a cancelled context that still carries the value. Contexts:
 * task.
 */
void cub_context_init_value(struct cub_context *c, struct cub_context *parent,
			    const void *key, void *value);

/* Cancels c (-CUB_ECANCELED) and every live descendant (with the same
 * reason), closing their done channels; nothing when c was already
 * cancelled. Contexts: any. */
void cub_context_cancel(struct cub_context *c);

/*
 * Cancels c if it is live (which stops its deadline and unlinks it from
 * its parent and its children from it): its storage is the caller's
 * again. Panics when c carries a value and a context below it is not
 * released yet. Releasing c again does nothing. Contexts: task.
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

/*
 * The value carried under key by c or its nearest ancestor carrying key,
 * NULL when none does (and for a NULL key, which none carries). The
 * answer does not change with cancellation: a cancelled c answers as a
 * live one (as in Go). c must not be released. Contexts: any.
 */
void *cub_context_value(const struct cub_context *c, const void *key);

#endif
