/*
 * itimer.c - the process's interval timers: setitimer, getitimer, alarm.
 *
 * ITIMER_REAL sends SIGALRM, ITIMER_VIRTUAL SIGVTALRM and ITIMER_PROF
 * SIGPROF to the process (si_code SI_KERNEL) when it expires, then again
 * every interval. Linux counts the last two in the process's CPU time;
 * cubrt does not account CPU time (the CPU-time clocks read the
 * monotonic clock too, time.c), so all three count elapsed time here: a
 * profiler's SIGPROF arrives at its rate, spread over idle time as well.
 * A periodic timer whose signal is pending runs again only once the
 * signal is taken, at the next period after that (Linux re-arms
 * ITIMER_REAL when SIGALRM is dequeued), so a 1 us period cannot flood
 * the machine; one whose signal was dropped (ignored) goes on at least
 * CUBI_TIMER_DROPPED_NS apart (clock.h). Either way the periods missed
 * are skipped: signals of one kind merge while pending.
 *
 * Invariants: a timer is off exactly when next == 0; its cub_timer is
 * pending exactly when next != 0 and !rearm; rearm (periodic only) while
 * its signal waits to be taken (cubi_itimer_taken clears it). Locking:
 * irq_save around every change; the expiry runs in irq context.
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define ITIMER_REAL 0
#define ITIMER_VIRTUAL 1
#define ITIMER_PROF 2
#define USEC 1000ull
#define NSEC 1000000000ull

struct itimer {
	struct cub_timer timer;
	uint64_t next;		/* monotonic ns of the next expiry; 0: off */
	uint64_t interval;	/* ns; 0: one-shot */
	int sig;
	bool rearm;		/* stopped until its signal is taken */
};

static struct itimer itimers[3];
static bool ready;

/* An expiry (irq context): the signal; a periodic timer then waits for
 * its take, or, the signal dropped, runs again a little later. */
static void expired(struct cub_timer *t, void *arg)
{
	struct itimer *it = arg;
	uint64_t missed;

	(void)t;
	if (cubi_signal_post(NULL, it->sig, CUBI_SI_KERNEL) || !it->interval) {
		it->rearm = it->interval != 0;
		if (!it->interval)
			it->next = 0;
		return;
	}
	it->next = cubi_timer_forward(it->next, it->interval,
				      cub_time_now() + CUBI_TIMER_DROPPED_NS, &missed);
	cub_timer_start(&it->timer, it->next);
}

void cubi_itimer_taken(int sig)
{
	uint64_t missed, now = cub_time_now();

	for (int i = 0; i < 3 && ready; i++) {
		struct itimer *it = &itimers[i];

		if (it->sig != sig || !it->rearm)
			continue;
		it->rearm = false;
		if (it->next <= now)
			it->next = cubi_timer_forward(it->next, it->interval, now, &missed);
		cub_timer_start(&it->timer, it->next);
	}
}

/* The timer for which (irq off): set up on first use. */
static struct itimer *timer_of(uint64_t which)
{
	if (!ready) {
		static const int sigs[3] = { 14, 26, 27 };  /* ALRM VTALRM PROF */

		for (int i = 0; i < 3; i++) {
			itimers[i].sig = sigs[i];
			cub_timer_init(&itimers[i].timer, expired, &itimers[i]);
		}
		ready = true;
	}
	return &itimers[which];
}

/* The current setting (irq off): its[0] interval, its[1] time left. */
static void current(const struct itimer *it, uint64_t its[2])
{
	uint64_t now = cub_time_now();

	uint64_t next = it->next, missed;

	if (next && next <= now && it->interval)	/* waits for a take */
		next = cubi_timer_forward(next, it->interval, now, &missed);
	its[0] = it->interval;
	its[1] = !next ? 0 : next > now ? next - now : 1;
}

/* Replaces the setting (irq off); value 0 disarms. */
static void set(struct itimer *it, uint64_t value, uint64_t interval)
{
	uint64_t now = cub_time_now();

	cub_timer_stop(&it->timer);
	it->rearm = false;
	it->interval = value ? interval : 0;
	it->next = !value ? 0 : now + value < now ? UINT64_MAX / 2 : now + value;
	if (it->next)
		cub_timer_start(&it->timer, it->next);
}

/* A struct timeval pair (interval, value) <-> ns. */
static int get_itimerval(uintptr_t src, uint64_t its[2])
{
	int64_t tv[4];

	if (cubi_copy_in(tv, src, sizeof(tv)))
		return -CUB_EFAULT;
	for (int i = 0; i < 2; i++) {
		int64_t sec = tv[2 * i], usec = tv[2 * i + 1];

		if (sec < 0 || usec < 0 || usec >= 1000000)
			return -CUB_EINVAL;
		its[i] = (uint64_t)sec > UINT64_MAX / NSEC - 1 ? UINT64_MAX / 2
			 : (uint64_t)sec * NSEC + (uint64_t)usec * USEC;
	}
	return 0;
}

static int put_itimerval(uintptr_t dst, const uint64_t its[2])
{
	int64_t tv[4];

	for (int i = 0; i < 2; i++) {	/* round up: a running timer never reads 0 */
		uint64_t us = (its[i] + USEC - 1) / USEC;

		tv[2 * i] = (int64_t)(us / 1000000);
		tv[2 * i + 1] = (int64_t)(us % 1000000);
	}
	return cubi_copy_out(dst, tv, sizeof(tv));
}

CUBI_SYS(getitimer)
{
	uint64_t its[2];
	unsigned long irq;

	if (A0(r) > ITIMER_PROF)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	current(timer_of(A0(r)), its);
	cub_arch_irq_restore(irq);
	return put_itimerval(A1(r), its);
}

CUBI_SYS(setitimer)
{
	uint64_t its[2] = { 0, 0 }, old[2];
	unsigned long irq;
	int rc;

	if (A0(r) > ITIMER_PROF)
		return -CUB_EINVAL;
	if (A1(r) && (rc = get_itimerval(A1(r), its)) != 0)
		return rc;
	if (A2(r) && !cubi_user_writable(A2(r), 4 * sizeof(int64_t)))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	current(timer_of(A0(r)), old);
	set(timer_of(A0(r)), its[1], its[0]);	/* NULL: disarm, as Linux */
	cub_arch_irq_restore(irq);
	return A2(r) ? put_itimerval(A2(r), old) : 0;
}

/* alarm(seconds): ITIMER_REAL without interval; the seconds that were
 * left, rounded to the nearest, at least 1 if it was armed. */
CUBI_SYS(alarm)
{
	uint64_t old[2], secs = A0(r) & 0xffffffffu;
	unsigned long irq = cub_arch_irq_save();
	struct itimer *it = timer_of(ITIMER_REAL);

	current(it, old);
	set(it, secs * NSEC, 0);
	cub_arch_irq_restore(irq);
	if (!old[1])
		return 0;
	return (long)((old[1] + NSEC / 2) / NSEC ? (old[1] + NSEC / 2) / NSEC : 1);
}
