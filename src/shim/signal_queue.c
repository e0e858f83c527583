/*
 * signal_queue.c - pending signal sets: which signals wait, and what each
 * carries (struct cubi_sigsrc: how it was sent, the sender, a value).
 *
 * As on Linux, a standard signal (1-31) is pending once: sending it again
 * before it is taken changes nothing. A real-time signal (32-64) queues
 * every instance with its own siginfo, taken in the order sent; so does a
 * standard one sent with a value (rt_sigqueueinfo), which needs an entry
 * for the value. Entries come from a fixed pool of QUEUE_MAX shared by
 * all sets (Linux's RLIMIT_SIGPENDING): when it is empty, a call that
 * must queue fails with -EAGAIN, and an instance the shim raises itself
 * (a timer's) is merged into the pending bit without its own entry.
 *
 * Invariants: a set's bit for sig is set iff sig is pending in it; every
 * entry on a set's queue has its bit set; entries of one signal keep
 * their order; an entry is on exactly one queue or on `spare`.
 * cubi_signal_npending counts set bits (signal_send.c). Locking: irq off
 * for every call here.
 */
#include "shim_impl.h"
#include "signal_impl.h"

#define SIGRTMIN 32
#define QUEUE_MAX 256

struct cubi_sigq {
	struct cubi_sigq *next;
	int sig;
	struct cubi_sigsrc src;
};

static struct cubi_sigq pool[QUEUE_MAX], *spare;
static bool ready;

static struct cubi_sigq *get_entry(void)
{
	struct cubi_sigq *e;

	if (!ready) {
		for (int i = 0; i < QUEUE_MAX; i++) {
			pool[i].next = spare;
			spare = &pool[i];
		}
		ready = true;
	}
	if ((e = spare) != NULL)
		spare = e->next;
	return e;
}

static void put_entry(struct cubi_sigq *e)
{
	e->next = spare;
	spare = e;
}

/* Appends e to q's queue (the order of sending). */
static void append(struct cubi_sigpend *q, struct cubi_sigq *e)
{
	struct cubi_sigq **pp = &q->queue;

	while (*pp)
		pp = &(*pp)->next;
	e->next = NULL;
	*pp = e;
}

int cubi_sigpend_add(struct cubi_sigpend *q, int sig, const struct cubi_sigsrc *src,
		     bool must_queue)
{
	bool queues = sig >= SIGRTMIN || src->value;
	struct cubi_sigq *e;

	if ((q->bits & BIT(sig)) && sig < SIGRTMIN)
		return 0;	/* pending already: the same signal */
	if (queues && (e = get_entry()) != NULL) {
		e->sig = sig;
		e->src = *src;
		append(q, e);
	} else if (queues && must_queue) {
		return -CUB_EAGAIN;
	}
	if (!(q->bits & BIT(sig))) {
		q->bits |= BIT(sig);
		q->code[sig - 1] = (int16_t)src->code;
		cubi_signal_npending++;
	}
	return 0;
}

void cubi_sigpend_take(struct cubi_sigpend *q, int sig, struct cubi_sigsrc *out)
{
	struct cubi_sigq **pp = &q->queue, *e;
	bool more = false;

	*out = (struct cubi_sigsrc){ .code = q->code[sig - 1], .pid = CUBI_PID };
	while (*pp && (*pp)->sig != sig)
		pp = &(*pp)->next;
	if ((e = *pp) != NULL) {
		*out = e->src;
		*pp = e->next;
		put_entry(e);
		for (struct cubi_sigq *r = *pp; r && !more; r = r->next)
			more = r->sig == sig;
	}
	if (!more) {
		q->bits &= ~BIT(sig);
		cubi_signal_npending--;
	}
}

void cubi_sigpend_clear(struct cubi_sigpend *q)
{
	while (q->queue) {
		struct cubi_sigq *e = q->queue;

		q->queue = e->next;
		put_entry(e);
	}
	cubi_signal_npending -= (unsigned)__builtin_popcountll(q->bits);
	q->bits = 0;
}
