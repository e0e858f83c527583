/*
 * futex.c - FUTEX_WAIT/WAKE/REQUEUE/CMP_REQUEUE/WAIT_BITSET/WAKE_BITSET;
 * the priority-inheritance operations are futex_pi.c's (built on these
 * waits: each PI waiter waits on a word of its own).
 *
 * Invariants: every waiting thread has one struct waiter on its own stack,
 * linked into buckets[hash(uaddr)] while it waits (and named by its
 * thread's `sleeping`); `woken`, `timed_out` or `interrupted` (a signal
 * with a handler, signal.c) is set by whoever unlinks it, and only that
 * party readies the coroutine.
 * Waiters are found by key: the address, except for a shared (not
 * PRIVATE) futex in a shared file mapping, whose key is the word's place
 * in the file's frame (cubi_mm_futex_key), so that two mappings of one
 * file at different addresses meet on it, as Linux keys such futexes by
 * inode and offset; on all other memory, one address space, PRIVATE and
 * shared futexes are the same. Critical
 * sections (irq_save) cover the value check and the enqueue, so a wake
 * between them cannot be lost; the timeout timer runs in irq context and
 * takes the same path. A caller already inside a critical section (the
 * fd layer, whose read found its pipe empty there) waits with
 * cubi_futex_wait_locked without leaving it: its check, the enqueue and,
 * after the wake-up, its retry are one critical section, and the word's
 * comparison cannot fail.
 * A wait for an absolute CLOCK_REALTIME time (FUTEX_WAIT_BITSET with
 * FUTEX_CLOCK_REALTIME) is also on `wall_waiters` while it waits, so that
 * a step of the wall clock (clock_settime, time.c) moves its monotonic
 * deadline by the step, as Linux's realtime hrtimers follow the clock.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "../sched/park.h"
#include "shim_impl.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define NBUCKETS 64
#define NSEC 1000000000ull

struct waiter {
	struct cub_list link;
	uintptr_t key;
	uint32_t bitset;
	struct cub_coro *coro;
	struct cub_timer timer;
	uint64_t deadline;		/* monotonic; 0: none */
	struct cub_list wall_link;	/* in wall_waiters (wall) */
	bool wall;			/* an absolute REALTIME deadline */
	bool woken, timed_out, interrupted;
};

/* The waits for an absolute wall time (irq off to touch). */
static struct cub_list wall_waiters = CUB_LIST_INIT(wall_waiters);

static struct cub_list buckets[NBUCKETS];
static bool buckets_ready;

static struct cub_list *bucket(uintptr_t key)
{
	if (!buckets_ready) {
		for (size_t i = 0; i < NBUCKETS; i++)
			cub_list_init(&buckets[i]);
		buckets_ready = true;
	}
	return &buckets[(key >> 2) * 0x9E3779B1u % NBUCKETS];
}

static void on_timeout(struct cub_timer *t, void *arg)
{
	struct waiter *w = arg;

	(void)t;
	if (!cub_list_linked(&w->link))
		return;		/* already woken */
	cub_list_del(&w->link);
	w->timed_out = true;
	cubi_sched_ready(w->coro);
}

void cubi_futex_interrupt(void *waiter)
{
	struct waiter *w = waiter;

	if (!cub_list_linked(&w->link))
		return;		/* already woken or timed out */
	cub_list_del(&w->link);
	w->interrupted = true;
	cubi_sched_ready(w->coro);
}

/* Called with interrupts disabled. */
static int wake_locked(uintptr_t key, int n, uint32_t bitset)
{
	struct cub_list *head = bucket(key), *pos, *tmp;
	int woken = 0;

	cub_list_for_each_safe(pos, tmp, head) {
		struct waiter *w = cub_container_of(pos, struct waiter, link);

		if (woken >= n)
			break;
		if (w->key != key || !(w->bitset & bitset))
			continue;
		cub_list_del(&w->link);
		w->woken = true;
		cubi_sched_ready(w->coro);
		woken++;
	}
	return woken;
}

int cubi_futex_wake_locked(uintptr_t uaddr, int n, uint32_t bitset)
{
	if (CUB_UNLIKELY(cub_arch_irq_enabled()))
		cub_panic("cubi_futex_wake_locked: called with interrupts enabled");
	return wake_locked(uaddr, n, bitset);
}

int cubi_futex_wake(uintptr_t uaddr, int n, uint32_t bitset)
{
	unsigned long irq = cub_arch_irq_save();
	int woken = wake_locked(uaddr, n, bitset);

	cub_arch_irq_restore(irq);
	return woken;
}

/* Converts the timeout argument into an absolute monotonic deadline. */
int cubi_futex_deadline(uintptr_t uts, bool absolute, bool realtime, uint64_t *out)
{
	int64_t ts[2];
	uint64_t ns, now;

	*out = 0;
	if (!uts)
		return 0;
	if (cubi_copy_in(ts, uts, sizeof(ts)))
		return -CUB_EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= (int64_t)NSEC)
		return -CUB_EINVAL;
	ns = (uint64_t)ts[0] > UINT64_MAX / NSEC - 1 ? UINT64_MAX / 2
						   : (uint64_t)ts[0] * NSEC + (uint64_t)ts[1];
	now = cub_time_now();
	if (absolute && realtime) {
		uint64_t wall = cub_time_wall();

		ns = ns > wall ? now + (ns - wall) : now;
	} else if (!absolute) {
		ns = now + ns < now ? UINT64_MAX / 2 : now + ns;
	}
	*out = ns ? ns : 1;
	return 0;
}

/*
 * The wait itself, inside the caller's critical section: on the word at
 * uaddr, found by key. The deadline timer is set up only for a wait that
 * has one: most waits (a blocked read, a mutex) have none.
 */
static long wait_locked(uintptr_t key, uintptr_t uaddr, uint32_t val, uint64_t deadline,
			bool wall, uint32_t bitset, const char *what)
{
	struct waiter w;	/* the timer's part is set only if used */
	struct cubi_thread *t = cubi_thread_current();

	if (*(volatile uint32_t *)uaddr != val)
		return -CUB_EAGAIN;
	if (deadline && deadline <= cub_time_now())
		return -CUB_ETIMEDOUT;
	if (t && cubi_signal_deliverable(t))
		return -CUB_EINTR;	/* a handler is due: do not sleep */
	w.key = key;
	w.bitset = bitset;
	w.coro = cub_coro_self();
	w.woken = w.timed_out = w.interrupted = false;
	w.deadline = deadline;
	w.wall = wall && deadline;
	cub_list_push_back(bucket(key), &w.link);
	if (deadline) {
		cub_timer_init(&w.timer, on_timeout, &w);
		cub_timer_start(&w.timer, deadline);
	}
	if (w.wall)
		cub_list_push_back(&wall_waiters, &w.wall_link);
	if (t)
		t->sleeping = &w;
	while (!w.woken && !w.timed_out && !w.interrupted)
		cubi_sched_park(what);
	if (t)
		t->sleeping = NULL;
	if (deadline)
		cub_timer_stop(&w.timer);
	if (w.wall)
		cub_list_del(&w.wall_link);
	/* Whoever set the flag unlinked w: a wait that ends still queued
	 * would leave a waiter on a dead frame for a later wake (seen once
	 * as "ready, not parked" from a wall-clock step: not explained). */
	if (CUB_UNLIKELY(cub_list_linked(&w.link)))
		cub_panic("futex: a %s wait ended with its waiter still queued "
			  "(woken %d, timed out %d, interrupted %d)", what, w.woken,
			  w.timed_out, w.interrupted);
	if (w.interrupted)
		return -CUB_EINTR;
	return w.woken ? 0 : -CUB_ETIMEDOUT;
}

long cubi_futex_wait_locked(uintptr_t uaddr, uint32_t val, uint64_t deadline,
			    uint32_t bitset, const char *what)
{
	return wait_locked(uaddr, uaddr, val, deadline, false, bitset, what);
}

long cubi_futex_wait_wall_locked(uintptr_t uaddr, uint32_t val, uint64_t deadline, bool wall,
				 const char *what)
{
	return wait_locked(uaddr, uaddr, val, deadline, wall, ~0u, what);
}

bool cubi_futex_waited_locked(uintptr_t key)
{
	struct cub_list *head = bucket(key), *pos;

	cub_list_for_each(pos, head)
		if (cub_container_of(pos, struct waiter, link)->key == key)
			return true;
	return false;
}

/* Contexts: task. Moves every absolute REALTIME wait's deadline by the
 * wall clock's step; one now due times out at once. */
void cubi_futex_wall_step(int64_t step)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *l;

	cub_list_for_each(l, &wall_waiters) {
		struct waiter *w = cub_container_of(l, struct waiter, wall_link);

		if (!cub_list_linked(&w->link))
			continue;	/* woken already, not yet gone */
		w->deadline = cubi_timer_wall_step(w->deadline, step);
		cub_timer_start(&w->timer, w->deadline);
	}
	cub_arch_irq_restore(irq);
}

static long wait_key(uintptr_t key, uintptr_t uaddr, uint32_t val, uint64_t deadline,
		     bool wall, uint32_t bitset, const char *what)
{
	unsigned long irq;
	long rc;

	cubi_sched_assert_can_block(what);
	irq = cub_arch_irq_save();
	rc = wait_locked(key, uaddr, val, deadline, wall, bitset, what);
	cub_arch_irq_restore(irq);
	return rc;
}

long cubi_futex_wait(uintptr_t uaddr, uint32_t val, uint64_t deadline,
		     uint32_t bitset, const char *what)
{
	return wait_key(uaddr, uaddr, val, deadline, false, bitset, what);
}

/* Wakes n waiters on key and moves up to n2 others to key2 (CMP: when
 * the word at uaddr is val3). */
static long futex_requeue(uintptr_t uaddr, uintptr_t key, uintptr_t key2, int n, int n2,
			  bool cmp, uint32_t val3)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *pos, *tmp;
	long done;

	if (cmp && *(volatile uint32_t *)uaddr != val3) {
		cub_arch_irq_restore(irq);
		return -CUB_EAGAIN;
	}
	done = wake_locked(key, n, ~0u);
	cub_list_for_each_safe(pos, tmp, bucket(key)) {
		struct waiter *w = cub_container_of(pos, struct waiter, link);

		if (n2 <= 0)
			break;
		if (w->key != key)
			continue;
		cub_list_del(&w->link);
		w->key = key2;
		cub_list_push_back(bucket(key2), &w->link);
		n2--;
		done++;
	}
	cub_arch_irq_restore(irq);
	return done;
}

/* The key of the futex at uaddr: its address, or for a shared futex in
 * a shared file mapping, its place in the file (see the header). */
static uintptr_t key_of(uintptr_t uaddr, bool shared)
{
	return shared ? cubi_mm_futex_key(uaddr) : uaddr;
}

CUBI_SYS(futex)
{
	uintptr_t uaddr = A0(r);
	unsigned op = (unsigned)A1(r) & ~(unsigned)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	bool realtime = A1(r) & FUTEX_CLOCK_REALTIME;
	bool shared = !(A1(r) & FUTEX_PRIVATE_FLAG);
	uint32_t val = (uint32_t)A2(r), val3 = (uint32_t)A5(r);
	uint64_t deadline;
	uintptr_t key;
	int rc;

	if (uaddr % 4)
		return -CUB_EINVAL;
	if (cubi_futex_pi_op(op))	/* futex_pi.c */
		return cubi_futex_pi(uaddr, (unsigned)A1(r), val, A3(r), A4(r), val3);
	if (realtime && op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET)
		return -CUB_ENOSYS;
	switch (op) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		if (op == FUTEX_WAIT_BITSET && !val3)
			return -CUB_EINVAL;
		if (!cubi_user_readable(uaddr, 4))
			return -CUB_EFAULT;
		rc = cubi_futex_deadline(A3(r), op == FUTEX_WAIT_BITSET, realtime, &deadline);
		if (rc)
			return rc;
		return wait_key(key_of(uaddr, shared), uaddr, val, deadline,
				op == FUTEX_WAIT_BITSET && realtime,
				op == FUTEX_WAIT ? ~0u : val3, "futex");
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		if (op == FUTEX_WAKE_BITSET && !val3)
			return -CUB_EINVAL;
		if ((int)val < 0)
			return -CUB_EINVAL;
		key = key_of(uaddr, shared);
		if (cubi_futex_pi_waited(key))
			return -CUB_EINVAL;	/* Linux: not on a PI futex */
		return cubi_futex_wake(key, (int)val, op == FUTEX_WAKE ? ~0u : val3);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		if ((int)val < 0 || (int)A3(r) < 0 || A4(r) % 4)
			return -CUB_EINVAL;
		if (!cubi_user_readable(uaddr, 4) || !cubi_user_readable(A4(r), 4))
			return -CUB_EFAULT;
		if (cubi_futex_pi_waited(key_of(uaddr, shared)))
			return -CUB_EINVAL;	/* Linux: PI waiters move only by *_PI */
		return futex_requeue(uaddr, key_of(uaddr, shared), key_of(A4(r), shared),
				     (int)val, (int)A3(r), op == FUTEX_CMP_REQUEUE, val3);
	default:
		return -CUB_ENOSYS;
	}
}
