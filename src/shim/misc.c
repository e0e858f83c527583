/*
 * misc.c - identity (uname and the host name), randomness, limits and
 * scheduling calls (signals are in signal.c). State here is global (one process), under irq_save.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "procfs.h"

#define GRND_ALL 7u	/* NONBLOCK | RANDOM | INSECURE */
#define RLIM_NLIMITS 16
#define RLIMIT_STACK 3
#define RLIMIT_NOFILE 7
#define PID 1

static uint64_t prng_state;

/* The host and NIS domain names: uname's nodename and domainname, and
 * /proc/sys/kernel/hostname; sethostname and setdomainname change them
 * (everything runs as root). Under irq_save. */
static char uts_names[2][65] = { CUBI_UNAME_NODENAME, "(none)" };

CUBI_SYS(uname)
{
	char fields[6][65] = {
		CUBI_UNAME_SYSNAME, "", CUBI_UNAME_RELEASE,
		CUBI_UNAME_VERSION, CUBI_UNAME_MACHINE, "",
	};
	unsigned long irq = cub_arch_irq_save();

	cub_memcpy(fields[1], uts_names[0], sizeof(fields[1]));
	cub_memcpy(fields[5], uts_names[1], sizeof(fields[5]));
	cub_arch_irq_restore(irq);
	return cubi_copy_out(A0(r), fields, sizeof(fields));
}

static long set_uts_name(int which, uintptr_t name, uint64_t len)
{
	char buf[65] = { 0 };
	unsigned long irq;

	if (len > 64)
		return -CUB_EINVAL;	/* a negative int too */
	if (len && cubi_copy_in(buf, name, len))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	cub_memcpy(uts_names[which], buf, sizeof(buf));
	cub_arch_irq_restore(irq);
	return 0;
}

CUBI_SYS(sethostname)
{
	return set_uts_name(0, A0(r), A1(r));
}

CUBI_SYS(setdomainname)
{
	return set_uts_name(1, A0(r), A1(r));
}

void cubi_hostname(char out[65])
{
	unsigned long irq = cub_arch_irq_save();

	cub_memcpy(out, uts_names[0], 65);
	cub_arch_irq_restore(irq);
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
	cubi_random_fill((void *)buf, len);
	return (long)len;
}

void cubi_random_fill(void *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = next_random();

		cub_memcpy((char *)buf + i, &v, len - i < 8 ? len - i : 8);
	}
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

/* Limits: RLIMIT_STACK 8 MiB, RLIMIT_NOFILE the descriptor table, the
 * rest unlimited at first. New ones are kept and reported as Linux keeps
 * them (soft above hard: -EINVAL; RLIMIT_NOFILE's hard limit past the
 * table: -EPERM, as past Linux's nr_open), but nothing enforces them.
 * Under irq_save. */
static uint64_t rlim[RLIM_NLIMITS][2];
static bool rlim_set;

static void rlim_defaults(void)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		rlim[i][0] = rlim[i][1] = UINT64_MAX;
	rlim[RLIMIT_STACK][0] = 8ull << 20;
	rlim[RLIMIT_NOFILE][0] = rlim[RLIMIT_NOFILE][1] = CUBI_FD_MAX;
	rlim_set = true;
}

static long limits(uint64_t res, uintptr_t unew, uintptr_t uold)
{
	uint64_t lim[2], old[2];
	unsigned long irq;

	if (res >= RLIM_NLIMITS)
		return -CUB_EINVAL;
	if (unew && cubi_copy_in(lim, unew, sizeof(lim)))
		return -CUB_EFAULT;
	if (unew && lim[0] > lim[1])
		return -CUB_EINVAL;
	if (unew && res == RLIMIT_NOFILE && lim[1] > CUBI_FD_MAX)
		return -CUB_EPERM;
	if (uold && !cubi_user_writable(uold, sizeof(old)))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	if (!rlim_set)
		rlim_defaults();
	old[0] = rlim[res][0];
	old[1] = rlim[res][1];
	if (unew) {
		rlim[res][0] = lim[0];
		rlim[res][1] = lim[1];
	}
	cub_arch_irq_restore(irq);
	return uold ? cubi_copy_out(uold, old, sizeof(old)) : 0;
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
