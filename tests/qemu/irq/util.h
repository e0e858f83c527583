/*
 * util.h - helpers shared by the irq QEMU tests: checks that end the
 * machine with a message, and a PIT channel-0 interrupt source.
 */
#ifndef IRQ_TEST_UTIL_H
#define IRQ_TEST_UTIL_H

#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>

#include "../check.h"

static inline void pit_outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* PIT channel 0 as a rate generator (ISA line 0) at about hz; 0 stops it. */
static inline void pit_periodic(unsigned hz)
{
	unsigned count = hz ? 1193182u / hz : 0;

	if (!hz) {
		pit_outb(0x43, 0x30);	/* mode 0 with no count: silent */
		return;
	}
	pit_outb(0x43, 0x34);		/* channel 0, lo/hi, mode 2 */
	pit_outb(0x40, count & 0xFF);
	pit_outb(0x40, (count >> 8) & 0xFF);
}

/* Spins with interrupts enabled for ms milliseconds of the clock. */
static inline void spin_ms(unsigned ms)
{
	uint64_t end = cub_arch_clock_ns() + ms * 1000000ull;

	cub_arch_irq_enable();
	while (cub_arch_clock_ns() < end)
		__asm__ volatile("pause");
}

/*
 * Spins with interrupts enabled until *v >= want or max_ms of the clock
 * pass. Waiting for events rather than for time keeps tests correct when
 * the TSC was calibrated far off on a loaded host.
 */
static inline void spin_until(volatile unsigned *v, unsigned want,
			      unsigned max_ms)
{
	uint64_t end = cub_arch_clock_ns() + max_ms * 1000000ull;

	cub_arch_irq_enable();
	while (*v < want && cub_arch_clock_ns() < end)
		__asm__ volatile("pause");
}

#endif
