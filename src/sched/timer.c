/*
 * timer.c - the timer queue, sleeping, and the platform timer interrupt.
 *
 * Pending timers form a pairing heap ordered by (deadline, seq): insert is
 * O(1), removing the minimum or any node O(log n) amortised, and the
 * nodes are the callers' struct cub_timer, so nothing is allocated.
 * The platform's one-shot timer is armed for the earliest of the heap's
 * minimum and the preemption tick (preempt.c).
 *
 * Invariants:
 *  - t->pending <=> t is in the heap;
 *  - in the heap, a parent orders before each of its children; a node's
 *    children are a list through next/prev, the first child's prev points
 *    to the parent (so a node can be cut out in O(1)), root->prev is NULL;
 *  - armed is the deadline last given to cub_arch_timer_arm (0: none).
 * Critical sections: interrupts disabled, protecting the heap, every
 * pending timer's links, seq and armed. (The wall clock is wall.c's.)
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/time.h>

#include "sched_impl.h"

static struct cub_timer *root;
static uint64_t seq;
static uint64_t armed;

static bool before(const struct cub_timer *a, const struct cub_timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

/* Links two heaps (roots, prev/next unused) into one; returns its root. */
static struct cub_timer *meld(struct cub_timer *a, struct cub_timer *b)
{
	struct cub_timer *t;

	if (!a)
		return b;
	if (!b)
		return a;
	if (before(b, a)) {
		t = a;
		a = b;
		b = t;
	}
	/* b becomes a's first child. */
	b->next = a->child;
	if (a->child)
		a->child->prev = b;
	b->prev = a;
	a->child = b;
	a->next = NULL;
	a->prev = NULL;
	return a;
}

/*
 * Melds a sibling list into one heap: pairs left to right, then melds the
 * pairs right to left (the standard two passes, kept iterative so that a
 * node with 100,000 children needs no deep recursion).
 */
static struct cub_timer *merge_pairs(struct cub_timer *first)
{
	struct cub_timer *pairs = NULL, *a, *b, *h;

	while (first) {
		a = first;
		b = a->next;
		first = b ? b->next : NULL;
		a->next = a->prev = NULL;
		if (b)
			b->next = b->prev = NULL;
		h = meld(a, b);
		h->next = pairs;	/* stack of pairs, last first */
		pairs = h;
	}
	h = NULL;
	while (pairs) {
		a = pairs;
		pairs = a->next;
		a->next = NULL;
		h = meld(h, a);
	}
	return h;
}

/* Removes pending t from the heap. */
static void heap_remove(struct cub_timer *t)
{
	struct cub_timer *kids = t->child;

	t->child = NULL;
	if (t == root) {
		root = merge_pairs(kids);
	} else {
		/* Cut t (and its subtree's links) out of its sibling list. */
		if (t->prev->child == t)
			t->prev->child = t->next;
		else
			t->prev->next = t->next;
		if (t->next)
			t->next->prev = t->prev;
		root = meld(root, merge_pairs(kids));
	}
	t->next = t->prev = NULL;
	t->pending = false;
}

void cubi_timer_rearm(void)
{
	uint64_t want = root ? CUB_MAX(root->deadline, (uint64_t)1) : 0;
	uint64_t tick = cubi_preempt_deadline();

	if (tick && (!want || tick < want))
		want = tick;
	if (want != armed) {
		armed = want;
		cub_arch_timer_arm(want);
	}
}

bool cubi_timer_any(void)
{
	return root != NULL;
}

/* The platform timer interrupt. Contexts: irq, interrupts disabled. */
static void timer_interrupt(void)
{
	uint64_t now = cub_arch_clock_ns();
	uint64_t tick;

	armed = 0;	/* the one-shot timer is spent */
	while (root && root->deadline <= now) {
		struct cub_timer *t = root;

		heap_remove(t);
		t->fn(t, t->arg);
		now = cub_arch_clock_ns();
	}
	tick = cubi_preempt_deadline();
	if (tick && tick <= now)
		cubi_preempt_tick(now);
	cubi_timer_rearm();
}

void cubi_timer_setup(void)
{
	cub_arch_timer_set_handler(timer_interrupt);
}

/* ------------------------------------------------------------- public */

uint64_t cub_time_now(void)
{
	return cub_arch_clock_ns();
}

void cub_timer_init(struct cub_timer *t,
		    void (*fn)(struct cub_timer *t, void *arg), void *arg)
{
	*t = (struct cub_timer){ .fn = fn, .arg = arg };
}

void cub_timer_start(struct cub_timer *t, uint64_t deadline_ns)
{
	unsigned long irq;

	if (!t || !t->fn)
		cub_panic("cub_timer_start: timer %p not initialised", (void *)t);
	irq = cub_arch_irq_save();
	if (t->pending)
		heap_remove(t);
	t->deadline = deadline_ns;
	t->seq = seq++;
	t->child = t->next = t->prev = NULL;
	t->pending = true;
	root = meld(root, t);
	if (root == t)
		cubi_timer_rearm();
	cub_arch_irq_restore(irq);
}

bool cub_timer_stop(struct cub_timer *t)
{
	unsigned long irq = cub_arch_irq_save();
	bool was = t->pending;
	bool first = t == root;

	if (was)
		heap_remove(t);
	if (first)
		cubi_timer_rearm();
	cub_arch_irq_restore(irq);
	return was;
}

bool cub_timer_pending(const struct cub_timer *t)
{
	return t->pending;
}

/* ---------------------------------------------------------------- sleep */

static void wake_sleeper(struct cub_timer *t, void *arg)
{
	(void)t;
	cubi_sched_ready(arg);
}

int cub_sleep_until(uint64_t deadline_ns)
{
	struct cub_timer t;
	unsigned long irq;

	cubi_sched_assert_can_block("cub_sleep");
	if (deadline_ns <= cub_arch_clock_ns()) {
		cub_coro_yield();
		return 0;
	}
	cub_timer_init(&t, wake_sleeper, cub_coro_self());
	irq = cub_arch_irq_save();
	cub_timer_start(&t, deadline_ns);
	/* Only the timer wakes a sleeper. Should anything else ready it,
	 * it parks again rather than return with t, on this stack, still
	 * queued. */
	while (cub_timer_pending(&t))
		cubi_sched_park("sleep");
	cub_arch_irq_restore(irq);
	return 0;
}

int cub_sleep(uint64_t ns)
{
	uint64_t now = cub_arch_clock_ns();

	if (ns > UINT64_MAX - now)
		ns = UINT64_MAX - now;
	return cub_sleep_until(now + ns);
}
