/*
 * misc.c - identity, signals, randomness, limits and scheduling calls.
 *
 * Signals: cubrt delivers no asynchronous signals. Handlers, masks and the
 * alternate stack are recorded and read back with Linux's checks (so a
 * libc or runtime that installs handlers at start-up works), but never
 * invoked. A signal sent to the program itself with kill/tkill/tgkill ends
 * it like the default action would: a report naming the signal and exit
 * status CUB_EXIT_FAULT (abort() ends this way), or is dropped if that
 * action is to ignore it. Signal 0 probes.
 * State here is global (one process) and protected by irq_save.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define NSIG 64
#define SIGKILL 9
#define SIGSTOP 19
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define GRND_ALL 7u	/* NONBLOCK | RANDOM | INSECURE */
#define RLIM_NLIMITS 16
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define PID 1

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

struct stack_user {
	uint64_t sp;
	int32_t flags, pad;
	uint64_t size;
};

static struct ksigaction actions[NSIG + 1];
static uint64_t sigmask;
static struct stack_user altstack = { 0, SS_DISABLE, 0, 0 };
static uint64_t prng_state;

CUBI_SYS(uname)
{
	static const char fields[6][65] = {
		"Linux", "cubrt", "5.15.0-cubrt", "#1 cubrt", "x86_64", "(none)",
	};

	return cubi_copy_out(A0(r), fields, sizeof(fields));
}

/* splitmix64 over RDRAND (or the clocks): not for cryptographic keys where
 * the platform lacks a hardware source; docs/shim.md says so. */
static uint64_t next_random(void)
{
	uint64_t hw, z;

	if (cub_arch_random(&hw))
		return hw;
	if (!prng_state)
		prng_state = cub_arch_wallclock_ns() ^ (cub_arch_clock_ns() << 17);
	z = (prng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

CUBI_SYS(getrandom)
{
	uintptr_t buf = A0(r);
	size_t len = A1(r);

	if (A2(r) & ~(uint64_t)GRND_ALL)
		return -CUB_EINVAL;
	if (len > 0x1ffffff)
		len = 0x1ffffff;	/* Linux caps one call at 32 MiB - 1 */
	if (!cubi_user_writable(buf, len))
		return -CUB_EFAULT;
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = next_random();

		cub_memcpy((void *)(buf + i), &v, len - i < 8 ? len - i : 8);
	}
	return (long)len;
}

CUBI_SYS(rt_sigaction)
{
	uint64_t sig = A0(r);
	struct ksigaction act, old;
	unsigned long irq;

	if (A3(r) != 8 || sig < 1 || sig > NSIG)
		return -CUB_EINVAL;
	if (A1(r) && (sig == SIGKILL || sig == SIGSTOP))
		return -CUB_EINVAL;
	if (A1(r) && cubi_copy_in(&act, A1(r), sizeof(act)))
		return -CUB_EFAULT;
	if (A2(r) && !cubi_user_writable(A2(r), sizeof(old)))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	old = actions[sig];
	if (A1(r))
		actions[sig] = act;
	cub_arch_irq_restore(irq);
	return A2(r) ? cubi_copy_out(A2(r), &old, sizeof(old)) : 0;
}

CUBI_SYS(rt_sigprocmask)
{
	uint64_t how = A0(r), set = 0, old;
	unsigned long irq;

	if (A3(r) != 8)
		return -CUB_EINVAL;
	if (A1(r) && how > 2)
		return -CUB_EINVAL;
	if (A1(r) && cubi_copy_in(&set, A1(r), sizeof(set)))
		return -CUB_EFAULT;
	if (A2(r) && !cubi_user_writable(A2(r), sizeof(old)))
		return -CUB_EFAULT;
	set &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
	irq = cub_arch_irq_save();
	old = sigmask;
	if (A1(r))
		sigmask = how == 0 ? sigmask | set : how == 1 ? sigmask & ~set : set;
	cub_arch_irq_restore(irq);
	return A2(r) ? cubi_copy_out(A2(r), &old, sizeof(old)) : 0;
}

CUBI_SYS(sigaltstack)
{
	struct stack_user ss, old = altstack;

	if (A0(r)) {
		if (cubi_copy_in(&ss, A0(r), sizeof(ss)))
			return -CUB_EFAULT;
		if (ss.flags & ~SS_DISABLE)
			return -CUB_EINVAL;
		if (!(ss.flags & SS_DISABLE) && ss.size < MINSIGSTKSZ)
			return -CUB_ENOMEM;
	}
	if (A1(r) && cubi_copy_out(A1(r), &old, sizeof(old)))
		return -CUB_EFAULT;
	if (A0(r))
		altstack = ss.flags & SS_DISABLE ? (struct stack_user){ 0, SS_DISABLE, 0, 0 } : ss;
	return 0;
}

CUBI_SYS(getpid)
{
	(void)r;
	return PID;
}

CUBI_SYS(getppid)
{
	(void)r;
	return 0;
}

CUBI_SYS(getuid)
{
	(void)r;
	return 0;
}

CUBI_SYS(sched_yield)
{
	(void)r;
	cub_coro_yield();
	return 0;
}

CUBI_SYS(sched_getaffinity)
{
	uint64_t one = 1;

	if (A0(r) != 0 && A0(r) != PID && A0(r) != (uint64_t)cubi_thread_self()->tid)
		return -CUB_ESRCH;
	if (A1(r) < sizeof(one) || A1(r) % sizeof(one))
		return -CUB_EINVAL;
	if (cubi_copy_out(A2(r), &one, sizeof(one)))
		return -CUB_EFAULT;
	return sizeof(one);
}

/* The default action of a signal sent to ourselves: end the program, or
 * nothing for the signals Linux ignores by default (SIGCHLD, SIGCONT,
 * SIGURG, SIGWINCH). Go's runtime sends itself SIGURG to preempt a
 * goroutine; without delivery, goroutines are preempted at calls only. */
static long self_signal(uint64_t sig)
{
	if (sig > NSIG)
		return -CUB_EINVAL;
	if (sig == 0 || sig == 17 || sig == 18 || sig == 23 || sig == 28)
		return 0;
	cub_panic("program killed by signal %lu%s", (unsigned long)sig,
		  sig == 6 ? " (SIGABRT: abort)" : "");
}

CUBI_SYS(kill)
{
	int64_t pid = (int64_t)A0(r);

	if (pid != PID && pid != 0 && pid != -1)
		return -CUB_ESRCH;
	return self_signal(A1(r));
}

CUBI_SYS(tgkill)
{
	if ((int64_t)A0(r) <= 0 || (int64_t)A1(r) <= 0)
		return -CUB_EINVAL;
	if (A0(r) != PID)
		return -CUB_ESRCH;
	return self_signal(A2(r));
}

CUBI_SYS(tkill)
{
	if ((int64_t)A0(r) <= 0)
		return -CUB_EINVAL;
	return self_signal(A1(r));
}

/* Limits: RLIMIT_STACK 8 MiB, RLIMIT_NOFILE the descriptor table, the
 * rest unlimited. New limits are checked and ignored. */
static long limits(uint64_t res, uintptr_t unew, uintptr_t uold)
{
	uint64_t lim[2] = { UINT64_MAX, UINT64_MAX };

	if (res >= RLIM_NLIMITS)
		return -CUB_EINVAL;
	if (res == RLIMIT_STACK)
		lim[0] = 8ull << 20;
	if (res == RLIMIT_NOFILE)
		lim[0] = lim[1] = CUBI_FD_MAX;
	if (unew && !cubi_user_readable(unew, sizeof(lim)))
		return -CUB_EFAULT;
	return uold ? cubi_copy_out(uold, lim, sizeof(lim)) : 0;
}

CUBI_SYS(prlimit64)
{
	if (A0(r) != 0 && A0(r) != PID)
		return -CUB_ESRCH;
	return limits(A1(r), A2(r), A3(r));
}

CUBI_SYS(getrlimit)
{
	return A1(r) ? limits(A0(r), 0, A1(r)) : -CUB_EFAULT;
}

CUBI_SYS(setrlimit)
{
	return A1(r) ? limits(A0(r), A1(r), 0) : -CUB_EFAULT;
}
