/*
 * ptimer.c - POSIX per-process timers: timer_create, timer_settime,
 * timer_gettime, timer_getoverrun, timer_delete.
 *
 * A timer notifies by a signal to the process (SIGEV_SIGNAL), to one
 * thread (SIGEV_THREAD_ID: what the C library's SIGEV_THREAD and Go's
 * profiler use), or not at all (SIGEV_NONE: only timer_gettime shows
 * it). Its signal carries si_code SI_TIMER, the timer's id, its
 * sigev_value and the overrun: as on Linux the signal is queued once, and
 * expiries while it is still pending only count as overruns, which the
 * siginfo and timer_getoverrun report once it is taken. A periodic
 * timer whose signal is pending waits for it to be taken before it runs
 * again, and one whose signal is dropped (ignored, its thread gone) goes
 * on at least CUBI_TIMER_DROPPED_NS apart (clock.h: Linux's rules, which
 * keep a 1 ns period from flooding the machine); a SIGEV_NONE timer is
 * never armed: timer_gettime reckons its periods. Clocks: REALTIME
 * (absolute times on the wall clock, moved when it is set:
 * cubi_ptimer_wall_step), MONOTONIC, BOOTTIME, TAI, the
 * _ALARM ones, and the CPU-time clocks (cputime.h: the process's, the
 * caller's thread's, and another thread's or the process's by Linux's
 * encoded ids): a CPU-time timer's `next` is a reading of its clock, its
 * cub_timer is unused, and cputime.c's one platform timer expires it
 * while its thread (any thread, for the process's clock) runs
 * (cubi_ptimer_cpu_due). One on a thread's clock is off once that
 * thread is gone (timer_gettime then reads 0), as Linux's.
 *
 * Invariants: ids are slots of `timers` (0..MAX_TIMERS-1); a slot is in
 * use while `used`; next == 0 when it is off; its cub_timer is pending
 * only when next != 0, !rearm, it notifies and counts no CPU time (arm());
 * `queued` while its
 * signal is pending and not yet taken; `rearm` (periodic only) while it
 * waits for that take, next then being the expiry that sent the signal
 * (the taker clears both through cubi_ptimer_siginfo or
 * cubi_ptimer_taken). Locking: irq_save around every access; the expiry
 * runs in irq context.
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define MAX_TIMERS 64
#define SIGEV_SIGNAL 0
#define SIGEV_NONE 1
#define SIGEV_THREAD 2		/* the C library's; to the kernel, SIGNAL */
#define SIGEV_THREAD_ID 4
#define TIMER_ABSTIME 1
#define SIGALRM 14
#define NSIG 64
#define OVERRUN_MAX 0x7fffffff

/* Linux's struct sigevent (64 bytes): the fields the kernel reads. */
struct sigevent_user {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};

struct ptimer {
	struct cub_timer timer;
	bool used, realtime, queued;
	bool rearm;		/* periodic, stopped until its signal is taken */
	bool wall;		/* armed for an absolute REALTIME expiry */
	bool cpu;		/* on a CPU-time clock: `clock` */
	struct cubi_cpuclock clock;
	int notify, signo, tid;
	uint64_t value;		/* sigev_value */
	uint64_t next;		/* monotonic ns of the next expiry; 0: off */
	uint64_t interval;
	int overrun;		/* expiries since its signal was queued */
	int overrun_last;	/* what the last taken signal reported */
};

static struct ptimer timers[MAX_TIMERS];

static void add_overrun(struct ptimer *p, uint64_t n)
{
	p->overrun = n > (uint64_t)(OVERRUN_MAX - p->overrun) ? OVERRUN_MAX
							      : p->overrun + (int)n;
}

/* The reading of p's clock (irq off); a CPU-time clock whose thread is
 * gone turns p off and reads 0. */
static uint64_t now_of(struct ptimer *p)
{
	uint64_t ns;

	if (!p->cpu)
		return cub_time_now();
	if (cubi_cpuclock_read(&p->clock, &ns))
		return ns;
	p->next = 0;
	p->rearm = false;
	return 0;
}

/* Starts p's cub_timer, or cputime.c's for a CPU-time one, if it has an
 * expiry to send (irq off). */
static void arm(struct ptimer *p)
{
	if (!p->next || p->rearm || p->notify == SIGEV_NONE)
		return;
	if (p->cpu)
		cubi_cputime_rearm();
	else
		cub_timer_start(&p->timer, p->next);
}

/* Its signal was taken (irq off): a periodic timer waiting for that
 * counts the periods that ended meanwhile as overruns and runs again. */
static void release(struct ptimer *p)
{
	uint64_t missed = 0, now;

	p->queued = false;
	if (!p->rearm)
		return;
	now = now_of(p);
	if (!p->next)
		return;		/* its thread's clock is gone */
	p->rearm = false;
	if (p->next <= now)
		p->next = cubi_timer_forward(p->next, p->interval, now, &missed);
	add_overrun(p, missed);
	arm(p);
}

/* Sends p's signal (irq off): true if it is now pending, false if it was
 * dropped (ignored, or its thread is gone). */
static bool post(struct ptimer *p)
{
	struct cubi_thread *to = NULL;

	if (p->notify == SIGEV_THREAD_ID && !(to = cubi_thread_by_tid(p->tid)))
		return false;
	p->overrun = 0;
	p->queued = true;
	if (!cubi_signal_post(to, p->signo, CUBI_SI_TIMER))
		p->queued = false;
	return p->queued;
}

/* One expiry (irq context): a signal, or an overrun while one waits. A
 * periodic timer then waits for the signal to be taken (release), or,
 * the signal dropped, runs again CUBI_TIMER_DROPPED_NS later at least
 * (on its clock; a CPU-time one is armed again by cubi_ptimer_cpu_due's
 * caller). */
static void expired(struct cub_timer *t, void *arg)
{
	struct ptimer *p = arg;
	uint64_t missed;

	(void)t;
	if (p->queued)		/* set again while its signal waits */
		add_overrun(p, 1);
	if (p->queued || post(p)) {
		p->rearm = p->interval != 0;
		if (!p->interval)
			p->next = 0;
		return;
	}
	if (!p->interval) {
		p->next = 0;
		return;
	}
	p->next = cubi_timer_forward(p->next, p->interval,
				     now_of(p) + CUBI_TIMER_DROPPED_NS, &missed);
	if (!p->cpu)
		arm(p);
}

uint64_t cubi_ptimer_cpu_due(bool fire, bool *armed)
{
	uint64_t left = UINT64_MAX, now;
	int tid = cubi_cputime_running();

	for (int i = 0; i < MAX_TIMERS; i++) {
		struct ptimer *p = &timers[i];

		if (!p->used || !p->cpu || !p->next || p->rearm || p->notify == SIGEV_NONE)
			continue;
		*armed = true;
		if (p->clock.tid && p->clock.tid != tid)
			continue;	/* its thread's clock stands still */
		now = now_of(p);
		if (p->next <= now && !fire) {
			left = 0;
			continue;
		}
		if (p->next <= now)
			expired(NULL, p);
		if (p->next && !p->rearm)
			left = CUB_MIN(left, p->next - now);
	}
	return left;
}

void cubi_ptimer_siginfo(int tid, int sig, int32_t *id, int32_t *overrun,
			 uint64_t *value)
{
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct ptimer *p = &timers[i];

		if (!p->used || !p->queued || p->signo != sig ||
		    (p->notify == SIGEV_THREAD_ID && p->tid != tid))
			continue;
		release(p);
		p->overrun_last = p->overrun;
		p->overrun = 0;
		*id = i;
		*overrun = p->overrun_last;
		*value = p->value;
		return;
	}
	*id = *overrun = 0;
	*value = 0;
}

void cubi_ptimer_taken(int tid, int sig)
{
	for (int i = 0; i < MAX_TIMERS; i++) {
		struct ptimer *p = &timers[i];

		if (p->used && p->queued && p->signo == sig &&
		    (p->notify != SIGEV_THREAD_ID || p->tid == tid)) {
			release(p);
			p->overrun = 0;
		}
	}
}

/* Reads and checks the sigevent (NULL: SIGALRM to the process, with the
 * timer's id as its value, filled in later) into p. */
static int read_sigevent(uintptr_t usev, struct ptimer *p)
{
	struct sigevent_user sev;

	if (!usev) {
		*p = (struct ptimer){ .notify = SIGEV_SIGNAL, .signo = SIGALRM };
		return 0;
	}
	if (cubi_copy_in(&sev, usev, sizeof(sev)))
		return -CUB_EFAULT;
	if (sev.notify == SIGEV_THREAD)
		sev.notify = SIGEV_SIGNAL;
	if (sev.notify != SIGEV_SIGNAL && sev.notify != SIGEV_NONE &&
	    sev.notify != SIGEV_THREAD_ID)
		return -CUB_EINVAL;
	if (sev.notify != SIGEV_NONE && (sev.signo < 1 || sev.signo > NSIG))
		return -CUB_EINVAL;
	if (sev.notify == SIGEV_THREAD_ID && !cubi_thread_by_tid(sev.tid))
		return -CUB_EINVAL;
	*p = (struct ptimer){ .notify = sev.notify, .signo = sev.signo,
			      .tid = sev.tid, .value = sev.value };
	return 0;
}

/* A clock that is no CPU-time clock (those: cubi_cpuclock_decode). */
static bool known_clock(uint64_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_MONOTONIC ||
	       clk == CLOCK_PROCESS_CPUTIME_ID || clk == CLOCK_THREAD_CPUTIME_ID ||
	       clk == CLOCK_BOOTTIME || clk == 8 || clk == 9 || clk == CLOCK_TAI;
}

CUBI_SYS(timer_create)
{
	struct cubi_cpuclock clock;
	struct ptimer p;
	unsigned long irq;
	int id = 0, rc, cpu = cubi_cpuclock_decode((int64_t)A0(r), &clock);

	if (cpu < 0 || (cpu == 0 && !known_clock(A0(r))))
		return -CUB_EINVAL;
	if (!cubi_user_writable(A2(r), sizeof(int32_t)))
		return -CUB_EFAULT;
	if ((rc = read_sigevent(A1(r), &p)) != 0)
		return rc;
	p.used = true;
	p.cpu = cpu > 0;
	p.clock = clock;
	p.realtime = A0(r) == CLOCK_REALTIME || A0(r) == 8 || A0(r) == CLOCK_TAI;
	irq = cub_arch_irq_save();
	while (id < MAX_TIMERS && timers[id].used)
		id++;
	if (id < MAX_TIMERS) {
		if (!A1(r))
			p.value = (uint64_t)id;
		timers[id] = p;
		cub_timer_init(&timers[id].timer, expired, &timers[id]);
	}
	cub_arch_irq_restore(irq);
	if (id == MAX_TIMERS)
		return -CUB_EAGAIN;
	if (cubi_copy_out(A2(r), &id, sizeof(int32_t))) {
		irq = cub_arch_irq_save();
		timers[id].used = false;	/* unmapped meanwhile: undo */
		cub_arch_irq_restore(irq);
		return -CUB_EFAULT;
	}
	return 0;
}

/* The timer with id (irq off), or NULL. */
static struct ptimer *timer_of(uint64_t id)
{
	return id < MAX_TIMERS && timers[id].used ? &timers[id] : NULL;
}

/* Its setting (irq off): interval, and time left (0 when off). A
 * periodic timer past its expiry (waiting for its signal to be taken, or
 * SIGEV_NONE) reckons the next period; an expired SIGEV_NONE one-shot
 * reads 0, any other timer due but not yet run 1 ns, as Linux's. */
static void current(struct ptimer *p, uint64_t its[2])
{
	uint64_t now = now_of(p), next = p->next, missed;

	its[0] = p->interval;
	if (next && next <= now && p->interval)
		next = cubi_timer_forward(next, p->interval, now, &missed);
	else if (next && next <= now && p->notify == SIGEV_NONE)
		next = 0;
	its[1] = !next ? 0 : next > now ? next - now : 1;
}

/* A CPU-time timer's expiry on its clock, never 0: value ns of it from
 * now, or with abs at value. */
static uint64_t cpu_deadline(struct ptimer *p, uint64_t value, bool abs)
{
	uint64_t now = now_of(p);

	if (abs)
		return value ? value : 1;
	return now + value < now ? UINT64_MAX / 2 : now + value;
}

CUBI_SYS(timer_settime)
{
	uint64_t its[2], old[2];
	struct ptimer *p;
	unsigned long irq;
	int rc;

	if (A1(r) & ~(uint64_t)TIMER_ABSTIME)
		return -CUB_EINVAL;
	if (!A2(r))
		return -CUB_EINVAL;
	if ((rc = cubi_itimerspec_get(A2(r), its)) != 0)
		return rc;
	if (A3(r) && !cubi_user_writable(A3(r), 32))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	if (!(p = timer_of(A0(r)))) {
		cub_arch_irq_restore(irq);
		return -CUB_EINVAL;
	}
	current(p, old);
	cub_timer_stop(&p->timer);
	p->interval = its[1] ? its[0] : 0;
	if (!p->cpu)
		p->next = its[1] ? cubi_timer_deadline(its[1], A1(r) & TIMER_ABSTIME,
							p->realtime) : 0;
	else
		p->next = its[1] ? cpu_deadline(p, its[1], A1(r) & TIMER_ABSTIME) : 0;
	p->wall = p->realtime && (A1(r) & TIMER_ABSTIME);
	p->rearm = false;
	arm(p);
	cub_arch_irq_restore(irq);
	return A3(r) ? cubi_itimerspec_put(A3(r), old) : 0;
}

void cubi_ptimer_wall_step(int64_t step)
{
	unsigned long irq = cub_arch_irq_save();

	for (int i = 0; i < MAX_TIMERS; i++) {
		struct ptimer *p = &timers[i];

		if (!p->used || !p->wall || !p->next)
			continue;
		cub_timer_stop(&p->timer);
		p->next = cubi_timer_wall_step(p->next, step);
		arm(p);
	}
	cub_arch_irq_restore(irq);
}

CUBI_SYS(timer_gettime)
{
	uint64_t its[2];
	struct ptimer *p;
	unsigned long irq = cub_arch_irq_save();

	if ((p = timer_of(A0(r))) != NULL)
		current(p, its);
	cub_arch_irq_restore(irq);
	return p ? cubi_itimerspec_put(A1(r), its) : -CUB_EINVAL;
}

CUBI_SYS(timer_getoverrun)
{
	struct ptimer *p;
	unsigned long irq = cub_arch_irq_save();
	long n = (p = timer_of(A0(r))) != NULL ? p->overrun_last : -CUB_EINVAL;

	cub_arch_irq_restore(irq);
	return n;
}

CUBI_SYS(timer_delete)
{
	struct ptimer *p;
	unsigned long irq = cub_arch_irq_save();

	if ((p = timer_of(A0(r))) != NULL) {
		cub_timer_stop(&p->timer);
		p->used = false;
	}
	cub_arch_irq_restore(irq);
	return p ? 0 : -CUB_EINVAL;
}
