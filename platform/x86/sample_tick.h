/*
 * sample_tick.h - is this NMI the sampling tick? The decision of
 * sample.c's NMI handler, kept apart from the ports so that the host can
 * unit-test it (tests/unit/x86/test_sample_tick.c).
 *
 * Facts it rests on:
 * - 8254 PIT, counter 0 in mode 2 (rate generator) loaded with div: the
 *   count runs div, div - 1, ..., 1, then reloads div; OUT pulses once
 *   per reload, which is the tick (ISA line 0, sent as an NMI by the I/O
 *   APIC). A counter-latch command (port 0x43, 0x00) and two reads of
 *   port 0x40 (low, high byte) give the count: div - count PIT clocks
 *   have passed since the last tick.
 * - Port 0x61, the NMI status and control register of PC chipsets: bit 7
 *   is set when PCI SERR# raised an NMI, bit 6 when IOCHK# did (both read
 *   only); writing 1 to bit 2 (SERR#) or bit 3 (IOCHK#) clears that status
 *   and disables the source, writing 0 enables it again. Bits 7..4 are
 *   written as 0; bits 1..0 are the speaker's, kept.
 *
 * The rule (cubi_tick_classify): an NMI is a tick when port 0x61 names
 * no other source, the count is a sane one (1..div), it lands in the
 * first WINDOW (3/4) of the PIT's period, and it is the first such NMI
 * of that period: the count went down since the last tick taken (a new
 * period), or the clock (cub_arch_clock_ns) moved by more than the
 * count did plus half a period (a later period at the same or a later
 * phase). Two NMIs of one period are refused: the clock moved by what
 * the count did. The clock only has to tell "about d" from "about a
 * period + d" (d < 3/4 of a period): it may run 0.72 to 1.66 times the
 * PIT's rate (a TSC calibrated on a loaded emulator was seen off by 20%),
 * and a clock off by more makes ticks look like repeats (fewer samples)
 * or repeats like ticks (at most two per period), never a crash.
 *
 * What that guarantees: at most one sample per PIT period, so foreign
 * NMIs (a watchdog, an NMI IPI, QEMU's `nmi`) never add samples; one is
 * taken as the sample only when it comes in the window of a period
 * before that period's own tick is handled (the tick is then refused: it
 * stands in for the tick, a genuine interrupted PC a little earlier).
 * SERR#/IOCHK# NMIs are never samples. The price: a tick handled more
 * than WINDOW after its reload (a host that fell behind, under
 * emulation) is refused too, as off phase: fewer samples, never more.
 */
#ifndef CUBRT_X86_SAMPLE_TICK_H
#define CUBRT_X86_SAMPLE_TICK_H

#include <cubrt/base.h>

#define PORT61_SERR_STS 0x80
#define PORT61_IOCHK_STS 0x40
#define PORT61_IOCHK_OFF 0x08
#define PORT61_SERR_OFF 0x04

/* What an NMI was (cubi_tick_classify). */
#define CUBI_NMI_TICK 0		/* the sampling tick */
#define CUBI_NMI_SOURCE 1	/* port 0x61: SERR# or IOCHK# */
#define CUBI_NMI_BAD_COUNT 2	/* the PIT's count is outside 1..div */
#define CUBI_NMI_OFF_PHASE 3	/* past the period's window */
#define CUBI_NMI_REPEAT 4	/* the period's tick was already taken */

/* Invariants: div >= 2; last_ns and last_e are those of the last NMI
 * taken as a tick, valid when seen. */
struct cubi_tick_filter {
	uint32_t div;		/* PIT clocks per tick */
	uint32_t pit_hz;
	uint32_t window;	/* clocks after a reload a tick may come */
	uint64_t half_ns;	/* half a period, in ns */
	uint64_t last_ns;
	uint32_t last_e;	/* PIT clocks into its period then */
	bool seen;
};

/* A filter for a PIT loaded with div (2..65535) counting at pit_hz. */
void cubi_tick_filter_init(struct cubi_tick_filter *f, uint32_t div, uint32_t pit_hz);

/* Classifies one NMI from what it read: port 0x61, the latched count and
 * the clock (ns), and remembers it when it is a tick. Returns a
 * CUBI_NMI_*. Contexts: any (NMI); f is the caller's alone. */
unsigned cubi_tick_classify(struct cubi_tick_filter *f, uint8_t port61, uint32_t count,
			    uint64_t now_ns);

/* The value to write to port 0x61 to clear (and disable) the sources
 * port61 reports; writing port61 & 0x0F afterwards enables them again. */
static inline uint8_t cubi_port61_ack(uint8_t port61)
{
	uint8_t v = port61 & 0x0F;

	if (port61 & PORT61_SERR_STS)
		v |= PORT61_SERR_OFF;
	if (port61 & PORT61_IOCHK_STS)
		v |= PORT61_IOCHK_OFF;
	return v;
}

#endif
