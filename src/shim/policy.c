/*
 * policy.c - how the process asks to be run: scheduling policies and
 * CPU affinity, membarrier; and wait4/waitid, which have no child to
 * wait for.
 *
 * One CPU, coroutines run round robin with a fixed slice: a policy, a
 * priority or a timer slack is checked as Linux checks it, recorded
 * and reported back, and changes nothing (one setting for the whole
 * process, where Linux keeps one per thread). membarrier's commands
 * return at once: on one CPU, the context switch that runs any other
 * thread is already a full barrier.
 *
 * Invariants: policy is one of SCHED_OTHER..SCHED_IDLE and priority is
 * valid for it (1..99 for FIFO/RR, else 0).
 * Locking: the settings change together under irq_save (a time slice
 * may end inside a handler).
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define SCHED_OTHER 0
#define SCHED_FIFO 1
#define SCHED_RR 2
#define SCHED_BATCH 3
#define SCHED_IDLE 5
#define SCHED_RESET_ON_FORK 0x40000000u

static int policy = SCHED_OTHER;
static int priority;
static bool reset_on_fork;

/* A policy's priority range: -EINVAL for a policy Linux does not know
 * here (SCHED_DEADLINE is sched_setattr's only). */
static int prio_range(uint64_t pol, int *min, int *max)
{
	*min = *max = 0;
	switch (pol) {
	case SCHED_FIFO: case SCHED_RR:
		*min = 1;
		*max = 99;
		return 0;
	case SCHED_OTHER: case SCHED_BATCH: case SCHED_IDLE:
		return 0;
	default:
		return -CUB_EINVAL;
	}
}

CUBI_SYS(sched_get_priority_max)
{
	int min, max, rc = prio_range(A0(r), &min, &max);

	return rc ? rc : max;
}

CUBI_SYS(sched_get_priority_min)
{
	int min, max, rc = prio_range(A0(r), &min, &max);

	return rc ? rc : min;
}

/* A pid argument of the sched_* calls: as cubi_check_pid. */
static int sched_pid(uint64_t pid)
{
	return cubi_check_pid((int32_t)pid);
}

CUBI_SYS(sched_getscheduler)
{
	int rc = sched_pid(A0(r));

	return rc ? rc : policy | (reset_on_fork ? (int)SCHED_RESET_ON_FORK : 0);
}

CUBI_SYS(sched_getparam)
{
	int rc = sched_pid(A0(r));
	int32_t prio = priority;

	if (!A1(r))
		return -CUB_EINVAL;
	return rc ? rc : cubi_copy_out(A1(r), &prio, sizeof(prio));
}

/* pol < 0: keep the policy (sched_setparam). */
static long set_sched(uint64_t pid, int64_t pol, uintptr_t uparam)
{
	int32_t prio;
	int min, max, rc;
	bool reset = reset_on_fork;
	unsigned long irq;

	if (!uparam || (int32_t)pid < 0)
		return -CUB_EINVAL;
	if (cubi_copy_in(&prio, uparam, sizeof(prio)))
		return -CUB_EFAULT;
	if (pol >= 0) {
		reset = pol & SCHED_RESET_ON_FORK;
		pol &= ~(int64_t)SCHED_RESET_ON_FORK;
	} else {
		pol = policy;
	}
	if ((rc = sched_pid(pid)) || (rc = prio_range((uint64_t)pol, &min, &max)))
		return rc;
	if (prio < min || prio > max)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	policy = (int)pol;
	priority = prio;
	reset_on_fork = reset;
	cub_arch_irq_restore(irq);
	return 0;
}

CUBI_SYS(sched_setscheduler)
{
	if ((int32_t)A1(r) < 0)
		return -CUB_EINVAL;
	return set_sched(A0(r), (int32_t)A1(r), A2(r));
}

CUBI_SYS(sched_setparam)
{
	return set_sched(A0(r), -1, A1(r));
}

/* The slice every Linux thread runs with (CUBI_LINUX_SLICE_NS). */
CUBI_SYS(sched_rr_get_interval)
{
	int rc = sched_pid(A0(r));

	return rc ? rc : cubi_timespec_put(A1(r), CUBI_LINUX_SLICE_NS);
}

/* Only CPU 0 exists: a mask must include it (Linux: -EINVAL when the
 * mask has no online CPU). Bits beyond the first word are ignored. */
CUBI_SYS(sched_setaffinity)
{
	uint64_t mask = 0;
	size_t len = A1(r) < sizeof(mask) ? A1(r) : sizeof(mask);
	int rc = sched_pid(A0(r));

	if (rc)
		return rc;
	if (cubi_copy_in(&mask, A2(r), len))
		return -CUB_EFAULT;
	return mask & 1 ? 0 : -CUB_EINVAL;
}

/* ------------------------------------------------------------ waiting */

#define WNOHANG 1u
#define WSTOPPED 2u
#define WEXITED 4u
#define WCONTINUED 8u
#define WNOWAIT 0x1000000u
#define W_LINUX 0xe0000000u	/* __WNOTHREAD, __WALL, __WCLONE */
#define P_ALL 0
#define P_PIDFD 3

/* The process has no children (it cannot fork): after the argument
 * checks, -ECHILD at once, never a wait. */
CUBI_SYS(wait4)
{
	if ((uint32_t)A2(r) & ~(WNOHANG | WSTOPPED | WCONTINUED | W_LINUX))
		return -CUB_EINVAL;
	return -CUB_ECHILD;
}

CUBI_SYS(waitid)
{
	uint32_t opt = (uint32_t)A3(r);

	if (A0(r) > P_PIDFD)
		return -CUB_EINVAL;
	if (opt & ~(WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | W_LINUX))
		return -CUB_EINVAL;
	if (!(opt & (WEXITED | WSTOPPED | WCONTINUED)))
		return -CUB_EINVAL;
	if (A0(r) == P_PIDFD)	/* no descriptor is a pidfd */
		return cubi_fd_valid((uint32_t)A1(r)) ? -CUB_EINVAL : -CUB_EBADF;
	return -CUB_ECHILD;
}

/* --------------------------------------------------------- membarrier */

#define MB_QUERY 0
#define MB_GLOBAL 1u
#define MB_GLOBAL_EXP 2u
#define MB_REG_GLOBAL_EXP 4u
#define MB_PRIV_EXP 8u
#define MB_REG_PRIV_EXP 16u
#define MB_PRIV_EXP_CORE 32u
#define MB_REG_PRIV_EXP_CORE 64u
#define MB_GET_REGISTRATIONS 512u
#define MB_SUPPORTED (MB_GLOBAL | MB_GLOBAL_EXP | MB_REG_GLOBAL_EXP | MB_PRIV_EXP | \
		      MB_REG_PRIV_EXP | MB_PRIV_EXP_CORE | MB_REG_PRIV_EXP_CORE | \
		      MB_GET_REGISTRATIONS)

static uint32_t mb_registered;	/* the REGISTER_* commands given */

/* The expedited private commands need their registration first (-EPERM,
 * as on Linux); the rseq ones are not offered (-EINVAL). */
CUBI_SYS(membarrier)
{
	uint32_t cmd = (uint32_t)A0(r);

	if (A1(r))
		return -CUB_EINVAL;
	switch (cmd) {
	case MB_QUERY:
		return MB_SUPPORTED;
	case MB_GET_REGISTRATIONS:
		return mb_registered;
	case MB_REG_GLOBAL_EXP: case MB_REG_PRIV_EXP: case MB_REG_PRIV_EXP_CORE:
		__atomic_fetch_or(&mb_registered, cmd, __ATOMIC_SEQ_CST);
		return 0;
	case MB_PRIV_EXP: case MB_PRIV_EXP_CORE:
		if (!(mb_registered & (cmd << 1)))
			return -CUB_EPERM;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return 0;
	case MB_GLOBAL: case MB_GLOBAL_EXP:
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return 0;
	default:
		return -CUB_EINVAL;
	}
}
