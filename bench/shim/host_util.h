/*
 * host_util.h - what the shim's host benchmarks share: a monotonic clock
 * in ns, and pinning the process to CPU 0 (cubrt runs on one CPU, so the
 * Linux peers do too).
 */
#ifndef CUBRT_BENCH_SHIM_HOST_UTIL_H
#define CUBRT_BENCH_SHIM_HOST_UTIL_H

#include <sched.h>
#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

#endif
