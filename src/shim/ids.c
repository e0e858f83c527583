/*
 * ids.c - who the process is: process group and session, user and group
 * ids, supplementary groups, nice values, the CPU it runs on and its
 * personality.
 *
 * The machine runs one process, pid 1, the leader of its own process
 * group and session (pgid = sid = 1), as root. There is one user: every
 * set*id call accepts 0 and "unchanged" (-1 where Linux allows it) and
 * refuses any other id with -EPERM, so that a program dropping its
 * privileges learns that it could not, instead of believing that files
 * are now closed to it (nothing here checks permissions).
 * setfsuid/setfsgid never fail on Linux: they return the old id (0) and
 * keep it, which is how a caller sees a refused change.
 *
 * Invariants: ngroups <= GROUPS_MAX, groups[0..ngroups) sorted, none -1; nice_value in [-20, 19].
 * Locking: the state is a few words, read and written under irq_save.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "shim_impl.h"

#define PID 1
#define ID_UNCHANGED 0xffffffffu	/* uid_t -1 */
#define GROUPS_MAX CUBI_GROUPS_MAX	/* setgroups beyond: -EINVAL */
#define PRIO_PROCESS 0
#define PRIO_PGRP 1
#define PRIO_USER 2
#define PER_MASK 0xffu			/* personality's execution domain */
#define PER_QUERY 0xffffffffu

static uint32_t groups[GROUPS_MAX];
static unsigned ngroups;
static int nice_value;
static uint32_t persona;

/* A pid naming this process: 0, 1, or any live thread's tid (Linux finds
 * a thread's process by its tid). 0, -EINVAL (negative) or -ESRCH. */
int cubi_check_pid(int64_t pid)
{
	if (pid < 0)
		return -CUB_EINVAL;
	if (pid == 0 || pid == PID || cubi_thread_by_tid(pid))
		return 0;
	return -CUB_ESRCH;
}

CUBI_SYS(getpgrp)
{
	(void)r;
	return PID;
}

/* getpgid and getsid: the one group and session, both led by pid 1. */
CUBI_SYS(getpgid)
{
	int rc = cubi_check_pid((int32_t)A0(r));

	return rc == -CUB_EINVAL ? -CUB_ESRCH : rc ? rc : PID;
}

CUBI_SYS(getsid)
{
	return cubi_sys_getpgid(r);
}

/* pid 1 leads its session, and a session leader may not move (Linux). */
CUBI_SYS(setpgid)
{
	int rc;

	if ((int32_t)A1(r) < 0)
		return -CUB_EINVAL;
	rc = cubi_check_pid((int32_t)A0(r));
	return rc == -CUB_EINVAL ? -CUB_ESRCH : rc ? rc : -CUB_EPERM;
}

/* A process group leader cannot start a session. */
CUBI_SYS(setsid)
{
	(void)r;
	return -CUB_EPERM;
}

CUBI_SYS(getgroups)
{
	int32_t size = (int32_t)A0(r);
	uint32_t copy[GROUPS_MAX];
	unsigned long irq;
	unsigned n;

	if (size < 0)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	n = ngroups;
	cub_memcpy(copy, groups, n * sizeof(copy[0]));
	cub_arch_irq_restore(irq);
	if (size == 0)
		return n;
	if ((unsigned)size < n)
		return -CUB_EINVAL;
	return cubi_copy_out(A1(r), copy, n * sizeof(copy[0])) ? -CUB_EFAULT : (long)n;
}

unsigned cubi_ids_groups(uint32_t out[CUBI_GROUPS_MAX])
{
	unsigned long irq = cub_arch_irq_save();
	unsigned n = ngroups;

	cub_memcpy(out, groups, n * sizeof(groups[0]));
	cub_arch_irq_restore(irq);
	return n;
}

/* Root may set any list; this machine keeps up to GROUPS_MAX of them,
 * sorted as Linux keeps them (getgroups and /proc's status list them
 * in that order). The invalid gid, (gid_t)-1: -EINVAL, as Linux. */
CUBI_SYS(setgroups)
{
	int32_t size = (int32_t)A0(r);
	uint32_t copy[GROUPS_MAX];
	unsigned long irq;

	if (size < 0 || size > GROUPS_MAX)	/* Linux's own cap: 65536 */
		return -CUB_EINVAL;
	if (cubi_copy_in(copy, A1(r), (size_t)size * sizeof(copy[0])))
		return -CUB_EFAULT;
	for (int32_t i = 0; i < size; i++) {	/* insertion sort: at most 64 */
		uint32_t g = copy[i];
		int32_t j = i;

		if (g == ID_UNCHANGED)
			return -CUB_EINVAL;
		for (; j > 0 && copy[j - 1] > g; j--)
			copy[j] = copy[j - 1];
		copy[j] = g;
	}
	irq = cub_arch_irq_save();
	cub_memcpy(groups, copy, (size_t)size * sizeof(copy[0]));
	ngroups = (unsigned)size;
	cub_arch_irq_restore(irq);
	return 0;
}

/* getresuid and getresgid: all three ids are 0. */
CUBI_SYS(getresuid)
{
	static const uint32_t zero;

	if (cubi_copy_out(A0(r), &zero, sizeof(zero)) ||
	    cubi_copy_out(A1(r), &zero, sizeof(zero)) ||
	    cubi_copy_out(A2(r), &zero, sizeof(zero)))
		return -CUB_EFAULT;
	return 0;
}

/* One id argument: 0 keeps root, "unchanged" only where allowed. */
static int one_id(uint64_t id, bool unchanged_ok)
{
	if ((uint32_t)id == ID_UNCHANGED)
		return unchanged_ok ? 0 : -CUB_EINVAL;
	return (uint32_t)id == 0 ? 0 : -CUB_EPERM;
}

/* setuid and setgid. */
CUBI_SYS(setuid)
{
	return one_id(A0(r), false);
}

/* setreuid, setregid, setresuid, setresgid: each id 0 or -1. */
CUBI_SYS(setreuid)
{
	int rc = one_id(A0(r), true);

	return rc ? rc : one_id(A1(r), true);
}

CUBI_SYS(setresuid)
{
	int rc = one_id(A0(r), true);

	if (!rc)
		rc = one_id(A1(r), true);
	return rc ? rc : one_id(A2(r), true);
}

/* setfsuid, setfsgid: the old fsuid (0), which stays. */
CUBI_SYS(setfsuid)
{
	(void)r;
	return 0;
}

/* Who a priority call names: 0 or -EINVAL/-ESRCH. */
static int prio_who(uint64_t which, int64_t who)
{
	switch (which) {
	case PRIO_PROCESS:
		return who < 0 ? -CUB_ESRCH : cubi_check_pid(who);
	case PRIO_PGRP:
		return who == 0 || who == PID ? 0 : -CUB_ESRCH;
	case PRIO_USER:
		return who == 0 ? 0 : -CUB_ESRCH;	/* root only */
	default:
		return -CUB_EINVAL;
	}
}

/* Returns 20 - nice (1..40), as the system call does (libc converts).
 * One nice value for the whole process: coroutines share the CPU round
 * robin, so it is recorded and reported, never acted on. */
CUBI_SYS(getpriority)
{
	int rc = prio_who(A0(r), (int32_t)A1(r));

	return rc ? rc : 20 - nice_value;
}

CUBI_SYS(setpriority)
{
	int rc = prio_who(A0(r), (int32_t)A1(r));
	int32_t prio = (int32_t)A2(r);

	if (rc)
		return rc;
	nice_value = prio < -20 ? -20 : prio > 19 ? 19 : prio;	/* Linux clamps */
	return 0;
}

/* getcpu(cpu, node, cache): CPU 0 of node 0; either pointer may be NULL. */
CUBI_SYS(getcpu)
{
	static const uint32_t zero;

	if (A0(r) && cubi_copy_out(A0(r), &zero, sizeof(zero)))
		return -CUB_EFAULT;
	if (A1(r) && cubi_copy_out(A1(r), &zero, sizeof(zero)))
		return -CUB_EFAULT;
	return 0;
}

/* personality: the old value. Only Linux's own execution domain
 * (PER_LINUX, 0) is run; its flags (ADDR_NO_RANDOMIZE...) are kept,
 * nothing here depends on them. Another domain: -EINVAL. */
CUBI_SYS(personality)
{
	uint32_t want = (uint32_t)A0(r), old;
	unsigned long irq;

	if (want == PER_QUERY)
		return persona;
	if (want & PER_MASK)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	old = persona;
	persona = want;
	cub_arch_irq_restore(irq);
	return old;
}
