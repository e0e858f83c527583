/*
 * context.c - cancellation trees (include/cubrt/context.h).
 *
 * Invariants (under the irq-off critical section):
 *  - err != 0 <=> done is closed; err changes once, from 0;
 *  - a context is on its parent's children list (link, parent set)
 *    exactly while both are live and it was not released; cancelling
 *    unlinks a context from its parent and all its children from it, so
 *    a cancelled context refers to no other and none refers to it;
 *  - so a live context's ancestors are live: cancelling one reaches the
 *    whole subtree below it through the children lists;
 *  - deadline <= parent's deadline; the timer is pending only while the
 *    context is live and has a deadline of its own, earlier than its
 *    parent's (an inherited deadline is the ancestor's timer's job).
 * The timer fires in irq context and cancels with -CUB_ETIMEDOUT.
 *
 * Values (a tree of their own, never unlinked by a cancellation):
 *  - key != NULL <=> the context carries a value; key, value and vparent
 *    are set at init and change only at release (vparent cleared);
 *  - vparent is the nearest ancestor at init with a key (NULL: none),
 *    skipping contexts without one, which add nothing to a lookup;
 *  - vrefs counts the unreleased contexts whose vparent this is; a
 *    context with a key is released only with vrefs == 0 (else panic),
 *    so every context reachable through vparent links from an unreleased
 *    one is unreleased: its storage is still there. A lookup therefore
 *    walks immutable links to live storage and needs no lock.
 */
#include <cubrt/arch.h>
#include <cubrt/context.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

static void check(const struct cub_context *c, const char *api)
{
	if (!c)
		cub_panic("%s: NULL context", api);
}

/* Cancels c, which is live, with err: done closed, unlinked from its
 * parent; its children are moved onto `below` for the caller to cancel.
 * Interrupts disabled. */
static void end_one(struct cub_context *c, int err, struct cub_list *below)
{
	struct cub_list *n;

	c->err = err;
	(void)cub_chan_close(&c->done);
	if (c->timed)
		(void)cub_timer_stop(&c->timer);
	if (c->parent) {
		cub_list_del(&c->link);
		c->parent = NULL;
	}
	while ((n = cub_list_pop_front(&c->children))) {
		struct cub_context *k = cub_container_of(n, struct cub_context, link);

		k->parent = NULL;
		cub_list_push_back(below, &k->link);
	}
}

/* Cancels c (live) and its subtree with err, without recursion: the
 * descendants wait on `below`, linked through their `link`. Interrupts
 * disabled. */
static void end_tree(struct cub_context *c, int err)
{
	struct cub_list below = CUB_LIST_INIT(below), *n;

	end_one(c, err, &below);
	while ((n = cub_list_pop_front(&below)))
		end_one(cub_container_of(n, struct cub_context, link), err, &below);
}

/* The deadline: irq context, interrupts disabled. */
static void timed_out(struct cub_timer *t, void *arg)
{
	struct cub_context *c = arg;

	(void)t;
	if (!c->err)
		end_tree(c, -CUB_ETIMEDOUT);
}

/* Links c under its nearest ancestor with a key. Interrupts disabled. */
static void link_value(struct cub_context *c, struct cub_context *parent)
{
	if (!parent)
		return;
	c->vparent = parent->key ? parent : parent->vparent;
	if (c->vparent)
		c->vparent->vrefs++;
}

static void init(struct cub_context *c, struct cub_context *parent,
		 uint64_t deadline, const void *key, void *value)
{
	unsigned long irq;

	*c = (struct cub_context){ .deadline = UINT64_MAX, .key = key,
				   .value = value };
	(void)cub_chan_init(&c->done, 0, 0, NULL);
	cub_list_init(&c->children);
	cub_list_init(&c->link);
	irq = cub_arch_irq_save();
	link_value(c, parent);
	if (parent && parent->err) {
		end_tree(c, parent->err);
	} else {
		if (parent) {
			c->parent = parent;
			c->deadline = parent->deadline;
			cub_list_push_back(&parent->children, &c->link);
		}
		if (deadline < c->deadline) {
			c->deadline = deadline;
			c->timed = true;
			cub_timer_init(&c->timer, timed_out, c);
			if (deadline <= cub_time_now())
				end_tree(c, -CUB_ETIMEDOUT);
			else
				cub_timer_start(&c->timer, deadline);
		}
	}
	cub_arch_irq_restore(irq);
}

void cub_context_init(struct cub_context *c, struct cub_context *parent)
{
	check(c, "cub_context_init");
	init(c, parent, UINT64_MAX, NULL, NULL);
}

void cub_context_init_deadline(struct cub_context *c, struct cub_context *parent,
			       uint64_t deadline_ns)
{
	check(c, "cub_context_init_deadline");
	init(c, parent, deadline_ns, NULL, NULL);
}

void cub_context_init_value(struct cub_context *c, struct cub_context *parent,
			    const void *key, void *value)
{
	check(c, "cub_context_init_value");
	if (!key)
		cub_panic("cub_context_init_value: NULL key");
	init(c, parent, UINT64_MAX, key, value);
}

void cub_context_cancel(struct cub_context *c)
{
	unsigned long irq;

	check(c, "cub_context_cancel");
	irq = cub_arch_irq_save();
	if (!c->err)
		end_tree(c, -CUB_ECANCELED);
	cub_arch_irq_restore(irq);
}

/*
 * A live context is cancelled first, which unlinks it and its children;
 * a cancelled one is unlinked already. The timer is stopped in both
 * cases (end_one did), and a callback cannot be running meanwhile: it
 * runs with interrupts disabled, on the one CPU.
 */
void cub_context_release(struct cub_context *c)
{
	unsigned long irq;

	check(c, "cub_context_release");
	irq = cub_arch_irq_save();
	if (c->key && c->vrefs)
		cub_panic("cub_context_release: a context carrying a value is "
			  "released before contexts below it (%lu unreleased)",
			  c->vrefs);
	if (!c->err)
		end_tree(c, -CUB_ECANCELED);
	if (c->vparent) {
		c->vparent->vrefs--;
		c->vparent = NULL;
	}
	cub_arch_irq_restore(irq);
}

int cub_context_err(const struct cub_context *c)
{
	return c ? c->err : -CUB_EINVAL;
}

struct cub_chan *cub_context_done(struct cub_context *c)
{
	check(c, "cub_context_done");
	return &c->done;
}

uint64_t cub_context_deadline(const struct cub_context *c)
{
	check(c, "cub_context_deadline");
	return c->deadline;
}

/* No lock: see the values invariants above. */
void *cub_context_value(const struct cub_context *c, const void *key)
{
	check(c, "cub_context_value");
	if (!key)
		return NULL;
	for (c = c->key ? c : c->vparent; c; c = c->vparent)
		if (c->key == key)
			return c->value;
	return NULL;
}
