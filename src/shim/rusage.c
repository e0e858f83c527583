/*
 * rusage.c - what the process has used: getrusage, times, sysinfo.
 *
 * CPU time is what cputime.c accounts: user and system time of the
 * process (RUSAGE_SELF, times: every thread, exited ones included) or of
 * the calling thread (RUSAGE_THREAD), as CLOCK_PROCESS_CPUTIME_ID and
 * CLOCK_THREAD_CPUTIME_ID read their sums (time.c). Memory comes from
 * the frame allocator: the peak of frames
 * in use is the maximum resident set (every mapped page is resident:
 * no paging). Children: there are none, so their usage is all 0.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define RUSAGE_SELF 0
#define RUSAGE_CHILDREN (-1)
#define RUSAGE_THREAD 1
#define USER_HZ 100		/* times' clock ticks (sysconf(_SC_CLK_TCK)) */
#define NS_PER_S 1000000000ull

/* Linux x86-64 struct rusage: two timevals, then 14 longs. */
struct k_rusage {
	int64_t utime[2], stime[2];
	int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap;
	int64_t inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw, nivcsw;
};
_Static_assert(sizeof(struct k_rusage) == 144, "struct rusage");

CUBI_SYS(getrusage)
{
	struct k_rusage ru = { 0 };
	int32_t who = (int32_t)A0(r);
	struct cub_frame_stats st;
	uint64_t user, sys;

	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN && who != RUSAGE_THREAD)
		return -CUB_EINVAL;
	if (who != RUSAGE_CHILDREN) {
		cub_frame_stats(&st);
		cubi_cputime_usage(who == RUSAGE_THREAD ? cubi_thread_self() : NULL, &user, &sys);
		ru.utime[0] = (int64_t)(user / NS_PER_S);
		ru.utime[1] = (int64_t)(user % NS_PER_S / 1000);
		ru.stime[0] = (int64_t)(sys / NS_PER_S);
		ru.stime[1] = (int64_t)(sys % NS_PER_S / 1000);
		ru.maxrss = (int64_t)((st.total - st.min_free) * (CUB_PAGE_SIZE / 1024));
	}
	return cubi_copy_out(A1(r), &ru, sizeof(ru));
}

/* times: the process's user and system ticks (no children); returns
 * ticks since boot (Linux: since an arbitrary point). buf may be NULL. */
CUBI_SYS(times)
{
	int64_t ticks = (int64_t)(cub_time_now() / (NS_PER_S / USER_HZ));
	uint64_t user, sys;
	int64_t tms[4] = { 0, 0, 0, 0 };	/* utime stime cutime cstime */

	cubi_cputime_usage(NULL, &user, &sys);
	tms[0] = (int64_t)(user / (NS_PER_S / USER_HZ));
	tms[1] = (int64_t)(sys / (NS_PER_S / USER_HZ));
	if (A0(r) && cubi_copy_out(A0(r), tms, sizeof(tms)))
		return -CUB_EFAULT;
	return ticks;
}

/* Linux x86-64 struct sysinfo (112 bytes). */
struct k_sysinfo {
	int64_t uptime;
	uint64_t loads[3];
	uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
	uint16_t procs, pad;
	uint32_t pad2;
	uint64_t totalhigh, freehigh;
	uint32_t mem_unit;
	char f[4];
};
_Static_assert(sizeof(struct k_sysinfo) == 112, "struct sysinfo");

static uint16_t count_threads(void)
{
	unsigned long irq = cub_arch_irq_save();
	unsigned n = 0;

	for (struct cubi_thread *t = cubi_thread_next(NULL); t; t = cubi_thread_next(t))
		n++;
	cub_arch_irq_restore(irq);
	return (uint16_t)(n ? n : 1);	/* before the first call: the caller */
}

/* Load averages are 0 (nothing measures them); procs: the threads. */
CUBI_SYS(sysinfo)
{
	struct k_sysinfo si = { 0 };
	uint64_t now = cub_time_now();
	struct cub_frame_stats st;

	cub_frame_stats(&st);
	si.uptime = (int64_t)(now / NS_PER_S + (now % NS_PER_S != 0));
	si.totalram = (uint64_t)st.total * CUB_PAGE_SIZE;
	si.freeram = (uint64_t)st.free * CUB_PAGE_SIZE;
	si.procs = count_threads();
	si.mem_unit = 1;
	return cubi_copy_out(A0(r), &si, sizeof(si));
}
