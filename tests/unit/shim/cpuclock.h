/*
 * cpuclock.h - CPU-time clock ids and a reader for the shim's CPU-time
 * tests (test_shim_cputime.c, test_shim_cpusleep.c). Include after
 * cmocka.h and sys.h.
 */
#ifndef CUBRT_TEST_SHIM_CPUCLOCK_H
#define CUBRT_TEST_SHIM_CPUCLOCK_H

#include <stdint.h>

#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
/* Linux's encoded ids: (~pid << 3) | type, (~tid << 3) | 4 | type; a
 * clockid_t is an int, passed sign-extended as the C library does. */
#define PROC_CLOCK(pid, type) ((long)(int)((~(unsigned)(pid) << 3) | (type)))
#define THREAD_CLOCK(tid, type) ((long)(int)((~(unsigned)(tid) << 3) | 4 | (type)))
#define PROF 0
#define VIRT 1
#define SCHED 2

/* clock_gettime(clk) in ns; the call must succeed. */
static inline uint64_t clock_ns(long clk)
{
	int64_t ts[2];

	assert_int_equal(SYS2(SYS_clock_gettime, clk, ts), 0);
	return (uint64_t)(ts[0] * NSEC + ts[1]);
}

#endif
