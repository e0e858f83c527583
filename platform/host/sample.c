/*
 * sample.c - the host's periodic sampling interrupt (arch.h's sampling
 * section): a POSIX timer on CLOCK_MONOTONIC raising SIGPROF, whose
 * handler passes the interrupted RIP from the signal context.
 *
 * SIGPROF is not the software interrupt flag's business (irq.c): like
 * the x86 NMI it arrives in critical sections and in interrupt handlers
 * (cub_arch_in_irq() then tells), and in cub_arch_idle's sigsuspend
 * (timer.c marks that with cubi_host_idling). Wall-clock time, not CPU
 * time: a sleeping process is sampled too, as idle. It runs on the
 * alternate signal stack when there is one (timer.c's; this file sets
 * one up itself when none is).
 *
 * Invariants: fn is non-NULL exactly while sampling runs; the handler,
 * installed at the first start, stays, and ignores a SIGPROF that comes
 * when fn is NULL (one the deleted timer had already raised); the
 * process's SIGPROF belongs to the profiler from then on. SIGPROF is
 * blocked in its own handler: samples do not nest. Ticks the kernel
 * merged while the process had no CPU (the signal's si_overrun) are
 * counted at the signal's PC: wall-clock samples, none lost.
 * A SIGPROF is a tick only when it is the sampling timer's: si_code
 * SI_TIMER and the timer's own cookie in si_value (&cookie); any other
 * (kill, raise, sigqueue, another timer) is passed on as FOREIGN, not a
 * sample, at most one per signal.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "host_irq.h"

#define OVERRUN_MAX 100000	/* ticks one signal may stand for */

static void (*volatile fn)(uintptr_t pc, unsigned where);
static timer_t timer;
static bool installed;
static char altstack[64 * 1024] __attribute__((aligned(64)));
static char cookie;		/* its address marks the timer's signals */

static bool is_tick(const siginfo_t *info)
{
	return info && info->si_code == SI_TIMER && info->si_value.sival_ptr == &cookie;
}

static void on_sigprof(int sig, siginfo_t *info, void *uc)
{
	void (*call)(uintptr_t, unsigned) = fn;
	const ucontext_t *u = uc;
	unsigned where = CUB_ARCH_SAMPLE_TASK;
	int saved = errno, n = 1;

	(void)sig;
	if (!call)
		return;
	if (!is_tick(info)) {
		call((uintptr_t)u->uc_mcontext.gregs[REG_RIP], CUB_ARCH_SAMPLE_FOREIGN);
		errno = saved;
		return;
	}
	if (cub_arch_in_irq())
		where = CUB_ARCH_SAMPLE_IRQ;
	else if (cubi_host_idling)
		where = CUB_ARCH_SAMPLE_IDLE;
	/* Ticks the kernel merged into this signal (the process had no CPU):
	 * it stood at this PC meanwhile. */
	if (info->si_overrun > 0)
		n += CUB_MIN(info->si_overrun, OVERRUN_MAX);
	while (n--)
		call((uintptr_t)u->uc_mcontext.gregs[REG_RIP], where);
	errno = saved;
}

static int install(void)
{
	struct sigaction sa;
	stack_t ss;

	if (installed)
		return 0;
	if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE)) {
		ss = (stack_t){ .ss_sp = altstack, .ss_size = sizeof(altstack) };
		sigaltstack(&ss, NULL);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPROF, &sa, NULL))
		return -CUB_ENODEV;
	installed = true;
	return 0;
}

/* Contexts: boot, task. */
int cub_arch_sample_start(unsigned hz, void (*f)(uintptr_t pc, unsigned where))
{
	struct sigevent ev;
	struct itimerspec its;
	long period = 1000000000L / (long)(hz ? hz : 1);

	if (!f || hz == 0 || hz > CUB_ARCH_SAMPLE_HZ_MAX)
		return -CUB_EINVAL;
	if (fn)
		return -CUB_EBUSY;
	if (install())
		return -CUB_ENODEV;
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGPROF;
	ev.sigev_value.sival_ptr = &cookie;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer))
		return -CUB_ENODEV;
	fn = f;
	its.it_interval = (struct timespec){ period / 1000000000L, period % 1000000000L };
	its.it_value = its.it_interval;
	if (timer_settime(timer, 0, &its, NULL)) {
		fn = NULL;
		timer_delete(timer);
		return -CUB_ENODEV;
	}
	return 0;
}

/* Contexts: boot, task. */
void cub_arch_sample_stop(void)
{
	if (!fn)
		return;
	timer_delete(timer);
	fn = NULL;
}
