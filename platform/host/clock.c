/*
 * clock.c - the host's monotonic clock: CLOCK_MONOTONIC, counted from the
 * first use so that it starts near zero like the bare-metal clock.
 */
#include <cubrt/arch.h>

#include <time.h>

#include "host_irq.h"

static uint64_t base_ns;

/* CLOCK_MONOTONIC in nanoseconds, unshifted (timer.c arms with it). */
uint64_t cubi_host_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The raw CLOCK_MONOTONIC value of cub_arch_clock_ns() == 0. */
uint64_t cubi_host_clock_base(void)
{
	if (!base_ns)
		base_ns = cubi_host_monotonic_ns() - 1;
	return base_ns;
}

__attribute__((constructor)) static void clock_init(void)
{
	(void)cubi_host_clock_base();
}

/* Contexts: any. */
uint64_t cub_arch_clock_ns(void)
{
	return cubi_host_monotonic_ns() - cubi_host_clock_base();
}
