/*
 * signal_wait.c - the calls that wait for signals: pause, rt_sigsuspend,
 * rt_sigtimedwait (sigwait, sigwaitinfo, sigtimedwait), and
 * rt_sigpending.
 *
 * pause and rt_sigsuspend sleep until a signal with a handler (or a fatal
 * one) arrives and then fail with EINTR, the handler running on the way
 * out; rt_sigsuspend runs with the given mask until then, and the
 * handler returns to the thread's own mask (signal_impl.h).
 * rt_sigtimedwait takes one of the given signals off the thread's or the
 * process's pending set instead of running its handler: the thread
 * names them in its waitset while it sleeps, so that one sent meanwhile
 * wakes it even though it is blocked, and a fatal one does not kill.
 * A signal outside the set that has a handler ends the wait with EINTR.
 *
 * Every sleep is a futex wait on a word nobody wakes (signals interrupt
 * it, futex.c; a pending one stops it from starting).
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "shim_impl.h"
#include "signal_impl.h"

#define SIGSET_SIZE 8

static uint32_t nobody_wakes;

/* Sleeps until a signal interrupts (or deadline, 0 = none, passes). */
static long sleep_for_signal(uint64_t deadline, const char *what)
{
	return cubi_futex_wait((uintptr_t)&nobody_wakes, 0, deadline, ~0u, what);
}

/* pause and sigsuspend: only a signal ends them. */
static long until_signal(const char *what)
{
	while (sleep_for_signal(0, what) != -CUB_EINTR)
		;
	return -CUB_EINTR;
}

CUBI_SYS(pause)
{
	(void)r;
	return until_signal("pause");
}

CUBI_SYS(rt_sigsuspend)
{
	struct cubi_thread *t = cubi_thread_self();
	unsigned long irq;
	uint64_t mask;

	if (A1(r) != SIGSET_SIZE)
		return -CUB_EINVAL;
	if (cubi_copy_in(&mask, A0(r), sizeof(mask)))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	cubi_signal_suspend(t, mask);
	cub_arch_irq_restore(irq);
	return until_signal("sigsuspend");
}

CUBI_SYS(rt_sigpending)
{
	struct cubi_thread *t = cubi_thread_self();
	unsigned long irq;
	uint64_t set;

	if (A1(r) > SIGSET_SIZE)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	set = cubi_signal_pending_for(t) & t->sigmask;	/* pending: blocked */
	cub_arch_irq_restore(irq);
	return cubi_copy_out(A0(r), &set, A1(r));
}

/* One look (irq off): the lowest signal of set pending for t, taken into
 * *info; 0 if none. */
static int take_one(struct cubi_thread *t, uint64_t set, struct cubi_siginfo *info)
{
	uint64_t ready = cubi_signal_pending_for(t) & set;
	int sig;

	if (!ready)
		return 0;
	sig = __builtin_ctzll(ready) + 1;
	cubi_signal_take(t, sig, info);
	return sig;
}

/* Waits for one of set until deadline (0: none; 1: only look): its
 * number, -EAGAIN when the time is up, -EINTR for another signal. */
static long wait_for(struct cubi_thread *t, uint64_t set, uint64_t deadline,
		     struct cubi_siginfo *info)
{
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		int sig = take_one(t, set, info);
		long rc;

		if (!sig)
			t->waitset = set;
		cub_arch_irq_restore(irq);
		if (sig)
			return sig;
		rc = sleep_for_signal(deadline, "sigtimedwait");
		irq = cub_arch_irq_save();
		t->waitset = 0;
		sig = take_one(t, set, info);
		cub_arch_irq_restore(irq);
		if (sig)
			return sig;
		if (rc == -CUB_ETIMEDOUT)
			return -CUB_EAGAIN;
		if (rc == -CUB_EINTR)
			return -CUB_EINTR;
	}
}

CUBI_SYS(rt_sigtimedwait)
{
	struct cubi_thread *t = cubi_thread_self();
	struct cubi_siginfo info;
	uint64_t set, ns, deadline = 0;
	long sig;

	if (A3(r) != SIGSET_SIZE)
		return -CUB_EINVAL;
	if (cubi_copy_in(&set, A0(r), sizeof(set)))
		return -CUB_EFAULT;
	if (A2(r)) {
		int rc = cubi_timespec_get(A2(r), &ns);

		if (rc)
			return rc;
		deadline = cub_time_now() + ns;
		deadline = deadline < ns ? UINT64_MAX / 2 : deadline ? deadline : 1;
	}
	if (A1(r) && !cubi_user_writable(A1(r), sizeof(info)))
		return -CUB_EFAULT;
	sig = wait_for(t, set & ~UNBLOCKABLE, deadline, &info);
	if (sig > 0 && A1(r))
		cubi_copy_out(A1(r), &info, sizeof(info));
	return sig;
}
