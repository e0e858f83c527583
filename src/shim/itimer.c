/*
 * itimer.c - the process's interval timers: setitimer, getitimer, alarm.
 *
 * ITIMER_REAL sends SIGALRM, ITIMER_VIRTUAL SIGVTALRM and ITIMER_PROF
 * SIGPROF to the process (si_code SI_KERNEL) when it expires, then again
 * every interval. ITIMER_REAL counts elapsed (monotonic) time, as on
 * Linux; ITIMER_VIRTUAL the process's user CPU time and ITIMER_PROF its
 * user + system CPU time (cputime.c: all threads, exited ones included):
 * their `next` is a reading of that clock, their cub_timer is unused,
 * and cputime.c's one platform timer expires them while a thread runs
 * (cubi_itimer_cpu_due). A profiler's SIGPROF so never comes while every
 * thread sleeps.
 * A periodic timer whose signal is pending runs again only once the
 * signal is taken, at the next period after that (Linux re-arms
 * ITIMER_REAL when SIGALRM is dequeued), so a 1 us period cannot flood
 * the machine; one whose signal was dropped (ignored) goes on at least
 * CUBI_TIMER_DROPPED_NS apart (clock.h). Either way the periods missed
 * are skipped: signals of one kind merge while pending.
 *
 * Invariants: a timer is off exactly when next == 0; ITIMER_REAL's
 * cub_timer is pending exactly when next != 0 and !rearm (the CPU-time
 * ones: cputime.c's timer counts them then); rearm (periodic only) while
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

/* VIRTUAL and PROF count CPU time. */
static bool on_cpu(const struct itimer *it)
{
	return it != &itimers[ITIMER_REAL];
}

/* The reading of it's clock (irq off). */
static uint64_t now_of(const struct itimer *it)
{
	struct cubi_cpuclock c = { 0, it == &itimers[ITIMER_VIRTUAL] };
	uint64_t ns;

	if (!on_cpu(it))
		return cub_time_now();
	cubi_cpuclock_read(&c, &ns);	/* the process's: never gone */
	return ns;
}

/* it runs until next (irq off). */
static void start(struct itimer *it)
{
	if (on_cpu(it))
		cubi_cputime_rearm();
	else
		cub_timer_start(&it->timer, it->next);
}

/* An expiry (irq context): the signal; a periodic timer then waits for
 * its take, or, the signal dropped, runs again a little later (on its
 * own clock; a CPU-time one is armed again by cubi_itimer_cpu_due's
 * caller). */
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
				      now_of(it) + CUBI_TIMER_DROPPED_NS, &missed);
	if (!on_cpu(it))
		cub_timer_start(&it->timer, it->next);
}

uint64_t cubi_itimer_cpu_due(bool fire, bool *armed)
{
	uint64_t left = UINT64_MAX, now;

	for (int i = ITIMER_VIRTUAL; i <= ITIMER_PROF && ready; i++) {
		struct itimer *it = &itimers[i];

		if (!it->next || it->rearm)
			continue;
		*armed = true;
		now = now_of(it);
		if (it->next <= now && !fire) {
			left = 0;
			continue;
		}
		if (it->next <= now)
			expired(NULL, it);
		if (it->next && !it->rearm)
			left = CUB_MIN(left, it->next - now);
	}
	return left;
}

void cubi_itimer_taken(int sig)
{
	uint64_t missed, now;

	for (int i = 0; i < 3 && ready; i++) {
		struct itimer *it = &itimers[i];

		if (it->sig != sig || !it->rearm)
			continue;
		it->rearm = false;
		now = now_of(it);
		if (it->next <= now)
			it->next = cubi_timer_forward(it->next, it->interval, now, &missed);
		start(it);
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
	uint64_t now = now_of(it), next = it->next, missed;


	if (next && next <= now && it->interval)	/* waits for a take */
		next = cubi_timer_forward(next, it->interval, now, &missed);
	its[0] = it->interval;
	its[1] = !next ? 0 : next > now ? next - now : 1;
}

/* Replaces the setting (irq off); value 0 disarms. */
static void set(struct itimer *it, uint64_t value, uint64_t interval)
{
	uint64_t now = now_of(it);

	cub_timer_stop(&it->timer);
	it->rearm = false;
	it->interval = value ? interval : 0;
	it->next = !value ? 0 : now + value < now ? UINT64_MAX / 2 : now + value;
	if (it->next)
		start(it);
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
