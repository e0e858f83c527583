/*
 * timer.c - the host's one-shot timer, idle and irq-exit hook.
 *
 * The one-shot timer is a POSIX timer on CLOCK_MONOTONIC that raises
 * SIGALRM; its signal handler runs on an alternate signal stack (never on
 * a coroutine's possibly small stack) and raises the software interrupt
 * (irq.c), which runs the scheduler's timer handler at once when
 * interrupts are enabled or marks it pending otherwise. SA_NODEFER: a
 * nested signal only marks the interrupt pending (the software flag is
 * off in handlers), so it need not be blocked.
 *
 * Idle blocks SIGALRM, then sigsuspend()s until the handler has marked an
 * interrupt pending: no wake-up is lost between the check and the wait,
 * and the process sleeps in the kernel rather than spinning. It raises
 * cubi_host_idling meanwhile, for the sampling profiler (sample.c).
 *
 * Invariants: the timer and the handler are created once, on first use,
 * and again in a forked child (POSIX timers are not inherited).
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>
#include <cubrt/panic.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "host_irq.h"

static timer_t timer;
static bool created;
static void (*handler)(void);
static char altstack[64 * 1024] __attribute__((aligned(64)));

volatile int cubi_host_idling;

/* Bytes of XSAVE area the irq-exit trampoline reserves (irqexit.S). */
uint64_t cubi_host_xsave_size;

static void on_sigalrm(int sig, siginfo_t *info, void *uc)
{
	int saved = errno;

	(void)sig;
	(void)info;
	cubi_host_irq_signal(uc);
	errno = saved;
}

static void xsave_init(void)
{
	unsigned a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
			 : "a"(0xD), "c"(0));
	cubi_host_xsave_size = CUB_ALIGN_UP((uint64_t)b, 64);
}

static void deliver(void)
{
	if (handler)
		handler();
}

static void forget_timer(void)
{
	created = false;
}

static void create(void)
{
	static bool atfork;
	struct sigevent ev;
	struct sigaction sa;

	if (created)
		return;
	if (!atfork && pthread_atfork(NULL, NULL, forget_timer) == 0)
		atfork = true;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	if (sigaltstack(&ss, NULL))
		cub_panic("host timer: sigaltstack failed");
	xsave_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigalrm;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		cub_panic("host timer: sigaction failed");
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer))
		cub_panic("host timer: timer_create failed (errno %d)", errno);
	cubi_host_irq_set_deliver(deliver);
	created = true;
}

/* Contexts: boot. */
void cub_arch_timer_set_handler(void (*fn)(void))
{
	create();
	handler = fn;
}

/* Contexts: any, interrupts disabled. */
void cub_arch_timer_arm(uint64_t deadline_ns)
{
	struct itimerspec its;
	uint64_t abs;

	create();
	memset(&its, 0, sizeof(its));
	if (deadline_ns) {
		abs = cubi_host_clock_base() + deadline_ns;
		its.it_value.tv_sec = (time_t)(abs / 1000000000ull);
		its.it_value.tv_nsec = (long)(abs % 1000000000ull);
	}
	if (timer_settime(timer, TIMER_ABSTIME, &its, NULL))
		cub_panic("host timer: timer_settime failed (errno %d)", errno);
}

/* Contexts: task, interrupts disabled on entry and on return. */
void cub_arch_idle(void)
{
	sigset_t block, old, wait;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigprocmask(SIG_BLOCK, &block, &old);
	wait = old;
	sigdelset(&wait, SIGALRM);
	cubi_host_idling = 1;
	while (!cubi_host_irq_pending())
		sigsuspend(&wait);
	cubi_host_idling = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	cubi_host_irq_run();
}
