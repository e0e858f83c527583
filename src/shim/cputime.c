/*
 * cputime.c - the CPU time of Linux threads, as Linux accounts it on one
 * CPU: a thread's time is the time its coroutine has the CPU (program
 * code and the shim working for it); the process's is the sum over its
 * threads, living and exited. Idle time (cub_arch_idle: a halt, a host
 * sleep) and cubrt's own coroutines (the network's, the tests' helpers
 * that call into the shim without being a thread) count for no thread.
 * Time inside a system call (cub_shim_syscall) is system time, the rest
 * user time.
 *
 * How: a thread's coroutine is hooked (sched_hooks.h) from its start
 * (start.c, thread_main, or the first system call of a coroutine that
 * becomes the initial thread) to its exit; the scheduler then tells
 * switch_hook where the CPU goes at every switch to or from one, and
 * around idling. `running` is the thread charged since `since`; charge()
 * moves that time into its counters and the process's. The CPU-time
 * timers ride on this: while a thread runs, one platform timer (`alarm`)
 * is armed for the least CPU time any armed CPU-time timer still needs
 * (cputime.h), or any sleep on a CPU clock (cpusleep.c) still needs; it
 * is stopped when the thread stops running.
 *
 * Invariants: running != NULL exactly while a hooked coroutine has the
 * CPU, and then it is that coroutine's owner; proc_ns is the sum of every
 * thread's cpu_ns (exited ones' included), proc_sys the same of sys_ns;
 * alarm is pending only while running != NULL. A user-time (VIRT) clock
 * does not advance while its thread is in a system call, so the time
 * until one is due is a lower bound there: alarm may expire early, finds
 * nothing due and is armed again, at least RECHECK_NS later (so after an
 * expiry the next comes RECHECK_NS on at the soonest: a period shorter
 * than that is stretched, as Linux's tick stretches it to 4 ms). System
 * time ends when the dispatcher returns (cub_shim_syscall), or in
 * rt_sigreturn, which resumes the program without returning.
 * Locking: irq_save around everything; switch_hook runs with interrupts
 * disabled (task or irq context), the alarm's expiry in irq context.
 */
#include <cubrt/arch.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "../sched/sched_hooks.h"
#include "shim_impl.h"

#define PID 1			/* getpid's answer (misc.c) */
#define RECHECK_NS 50000ull	/* see the top: an early alarm's next try */

static struct cubi_thread *running;	/* charged since `since` */
static uint64_t since;
static uint64_t proc_ns, proc_sys;	/* every thread's, exited ones too */
static struct cub_timer alarm;
static bool ready;
static bool timers_maybe;		/* some CPU-time timer may be armed */

/* Moves the time since `since` into running's counters (irq off). */
static void charge(uint64_t now)
{
	uint64_t d;

	if (!running)
		return;
	d = now - since;
	running->cpu_ns += d;
	proc_ns += d;
	if (running->in_sys) {
		running->sys_ns += d;
		proc_sys += d;
	}
	since = now;
}

/* Arms alarm for what the running thread must still run until the next
 * CPU-time timer is due (irq off); floor: at least that many ns. */
static void arm_alarm(uint64_t now, uint64_t floor)
{
	bool a = false, b = false, c = false;
	uint64_t left = cubi_itimer_cpu_due(false, &a);
	uint64_t p = cubi_ptimer_cpu_due(false, &b);
	uint64_t s = cubi_cpusleep_due(false, &c);

	timers_maybe = a || b || c;
	left = CUB_MIN(CUB_MIN(left, p), s);
	if (left == UINT64_MAX)
		return;
	left = CUB_MAX(left, floor);
	cub_timer_start(&alarm, now + left < now ? UINT64_MAX / 2 : now + left);
}

/* The alarm (irq context, the thread it was armed for still running):
 * fires the due timers and arms it for the next. */
static void alarm_expired(struct cub_timer *t, void *arg)
{
	bool a = false, b = false, c = false;
	uint64_t now = cub_time_now();
	uint64_t left;

	(void)t;
	(void)arg;
	charge(now);
	if (!running)
		return;
	left = CUB_MIN(cubi_itimer_cpu_due(true, &a), cubi_ptimer_cpu_due(true, &b));
	left = CUB_MIN(left, cubi_cpusleep_due(true, &c));
	arm_alarm(now, left ? RECHECK_NS : 0);	/* see the top: at least
						 * RECHECK_NS on, unless due */
}

/* The scheduler's switch hook: the CPU goes to thread `owner` (NULL: to
 * no thread). Interrupts disabled. */
static void switch_hook(void *owner)
{
	uint64_t now = cub_time_now();

	charge(now);
	if (running && timers_maybe)
		cub_timer_stop(&alarm);
	running = owner;
	since = now;
	if (running && timers_maybe)
		arm_alarm(now, 0);
}

void cubi_cputime_rearm(void)
{
	timers_maybe = true;
	if (!ready || !running)
		return;
	cub_timer_stop(&alarm);
	arm_alarm(cub_time_now(), 0);
}

void cubi_cputime_start(struct cubi_thread *t)
{
	unsigned long irq = cub_arch_irq_save();

	if (!ready) {
		cub_timer_init(&alarm, alarm_expired, NULL);
		cubi_sched_set_switch_hook(switch_hook);
		ready = true;
	}
	cubi_sched_hook_switches(true);
	switch_hook(t);
	cub_arch_irq_restore(irq);
}

void cubi_cputime_exit(struct cubi_thread *t)
{
	unsigned long irq = cub_arch_irq_save();

	cubi_cpusleep_exit(t->tid);	/* its clock stops for good */
	switch_hook(NULL);
	cubi_sched_hook_switches(false);
	cub_arch_irq_restore(irq);
}

void cubi_cputime_sys(bool in)
{
	unsigned long irq;

	if (!running && in && cub_coro_self())
		(void)cubi_thread_self();	/* a coroutine's first call: it
						 * is a thread from here on */
	if (!running)	/* exact: while the caller runs, running is its owner
			 * if it is hooked, else NULL (switch_hook) */
		return;
	irq = cub_arch_irq_save();
	if (running) {
		charge(cub_time_now());
		running->in_sys = in;
	}
	cub_arch_irq_restore(irq);
}

int cubi_cputime_running(void)
{
	return running ? running->tid : 0;
}

/* Thread t's (NULL: the process's) total and system ns so far (irq off). */
static void sample(const struct cubi_thread *t, uint64_t *total, uint64_t *sys)
{
	uint64_t run = running ? cub_time_now() - since : 0;
	bool mine = running && (!t || t == running);

	*total = (t ? t->cpu_ns : proc_ns) + (mine ? run : 0);
	*sys = (t ? t->sys_ns : proc_sys) + (mine && running->in_sys ? run : 0);
}

void cubi_cputime_usage(const struct cubi_thread *t, uint64_t *user, uint64_t *sys)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t total;

	sample(t, &total, sys);
	*user = total - *sys;
	cub_arch_irq_restore(irq);
}

bool cubi_cpuclock_read(const struct cubi_cpuclock *c, uint64_t *ns)
{
	struct cubi_thread *t = NULL;
	uint64_t total, sys;

	if (c->tid) {
		for (t = cubi_thread_next(NULL); t && t->tid != c->tid; t = cubi_thread_next(t))
			;
		if (!t)
			return false;
	}
	sample(t, &total, &sys);
	*ns = c->user ? total - sys : total;
	return true;
}

#define CPUCLOCK_PERTHREAD 4
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_TYPES 3	/* PROF, VIRT, SCHED; 3 is no clock */

int cubi_cpuclock_decode(int64_t clk, struct cubi_cpuclock *c)
{
	int32_t id = (int32_t)clk;	/* Linux's clockid_t: an int, the
					 * register's upper half ignored */
	int64_t pid;

	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID) {
		*c = (struct cubi_cpuclock){ id == CLOCK_THREAD_CPUTIME_ID
					     ? cubi_thread_self()->tid : 0, false };
		return 1;
	}
	if (id >= 0)
		return 0;
	if ((id & 3) == CPUCLOCK_TYPES)
		return -CUB_EINVAL;
	pid = ~(int64_t)(id >> 3);	/* arithmetic: ~pid << 3 undone */
	c->user = (id & 3) == CPUCLOCK_VIRT;
	if (!(id & CPUCLOCK_PERTHREAD)) {
		c->tid = 0;
		return pid == 0 || pid == PID ? 1 : -CUB_EINVAL;
	}
	if (!pid) {
		c->tid = cubi_thread_self()->tid;
		return 1;
	}
	c->tid = (int)pid;	/* 0 < pid < 2^28: the id's bits */
	return cubi_thread_by_tid(pid) ? 1 : -CUB_EINVAL;
}
