/*
 * sample.c - the periodic sampling interrupt (arch.h's sampling section):
 * PIT channel 0 as a rate generator, its I/O APIC pin delivering an NMI.
 *
 * Why an NMI: handlers and critical sections run with IF clear, so a
 * maskable sample would land after them and charge their time to
 * whatever runs next; an NMI interrupts them too. The NMI has its own IST
 * stack (cpu.c) and path (traps.S, trap.c: cubi_x86_nmi). Why the PIT:
 * in APIC mode the one-shot timer is the local APIC's (timer.c), and the
 * PIT, wired to ISA line 0, is free. In PIC mode the PIT is the one-shot
 * timer: no sampling (-CUB_ENODEV).
 *
 * The PIT divides 1193182 Hz by at most 65535, so it cannot tick below
 * 19 Hz: a lower rate ticks at a multiple of it and samples every
 * mult-th tick.
 *
 * A stop masks the pin, stops the PIT and puts back the redirection
 * entry the start found, so an application's own ISA line 0 route
 * works again (the PIT's counter it must program again: the profiler
 * left it stopped).
 *
 * Not every NMI is the tick: a watchdog, an NMI IPI, QEMU's `nmi`, or
 * PCI SERR#/IOCHK# (port 0x61) may raise one. While sampling, each NMI
 * reads port 0x61 and the PIT's count, and sample_tick.c decides
 * (sample_tick.h: at most one sample per PIT period; SERR#/IOCHK# never
 * a sample). Another NMI is passed to fn as CUB_ARCH_SAMPLE_FOREIGN, not
 * as a sample; a SERR#/IOCHK# one is acknowledged at port 0x61 (its
 * status cleared, the source enabled again), else that status would
 * stay set and hide every later NMI of its source.
 *
 * Invariants: fn is non-NULL exactly while sampling runs (started and
 * not stopped); on_nmi is installed at the first start and stays. With
 * sampling stopped it takes an NMI as its own only within GRACE_NS of
 * the stop (a tick already on its way) and when port 0x61 names no other
 * source; any other NMI is the machine's and gets the fault report, as
 * before the first start.
 * Locking: start and stop run with interrupts disabled; the NMI handler
 * only reads fn, mult and stopped_at, and writes left and filter
 * (start sets them before fn, with the NMI's pin masked).
 */
#include <cubrt/arch.h>

#include "intr.h"
#include "sample_tick.h"
#include "x86.h"

#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define NMI_SC 0x61		/* NMI status and control */
#define PIT_MIN_HZ 19u		/* 1193182 / 65535, rounded up */
#define GRACE_NS 1000000ull	/* a tick latched before the stop */

static void (*volatile fn)(uintptr_t pc, unsigned where);
static unsigned mult, left;
static int gsi = -1;
static uint64_t saved_entry;		/* the pin's route before the start */
static volatile uint64_t stopped_at;	/* clock at the last stop, or 0 */
static struct cubi_tick_filter filter;

static unsigned where(const struct x86_trap_frame *f)
{
	if (cub_arch_in_irq())
		return CUB_ARCH_SAMPLE_IRQ;
	if (f->rip == (uintptr_t)cubi_x86_halt_at || f->rip == (uintptr_t)cubi_x86_halted)
		return CUB_ARCH_SAMPLE_IDLE;
	return CUB_ARCH_SAMPLE_TASK;
}

/* The PIT counter 0's count, latched. Contexts: NMI, or the PIT's owner. */
static uint32_t pit_count(void)
{
	uint32_t lo, hi;

	outb(PIT_CMD, 0x00);		/* counter 0: latch */
	lo = inb(PIT_CH0);
	hi = inb(PIT_CH0);
	return lo | hi << 8;
}

/* Reads port 0x61 and acknowledges the SERR#/IOCHK# NMI it reports, if
 * any. Contexts: NMI. */
static uint8_t nmi_sources(void)
{
	uint8_t v = inb(NMI_SC);

	if (v & (PORT61_SERR_STS | PORT61_IOCHK_STS)) {
		outb(NMI_SC, cubi_port61_ack(v));
		outb(NMI_SC, v & 0x0F);
	}
	return v;
}

/* Contexts: NMI. */
static bool on_nmi(const struct x86_trap_frame *f)
{
	void (*call)(uintptr_t, unsigned) = fn;
	uint8_t sc = nmi_sources();
	unsigned kind;

	if (!call)			/* stopped: a late tick, or not ours */
		return stopped_at && cub_arch_clock_ns() - stopped_at < GRACE_NS &&
		       !(sc & (PORT61_SERR_STS | PORT61_IOCHK_STS));
	kind = cubi_tick_classify(&filter, sc, pit_count(), cub_arch_clock_ns());
	if (kind != CUBI_NMI_TICK) {
		call((uintptr_t)f->rip, CUB_ARCH_SAMPLE_FOREIGN);
		return true;
	}
	if (--left == 0) {
		left = mult;
		call((uintptr_t)f->rip, where(f));
	}
	return true;
}

/* Programs the PIT to tick at hz; returns its divisor. */
static unsigned pit_rate(unsigned hz)
{
	unsigned div = (PIT_HZ + hz / 2) / hz;

	outb(PIT_CMD, 0x34);		/* channel 0, lo/hi, mode 2 */
	outb(PIT_CH0, div & 0xFF);
	outb(PIT_CH0, (div >> 8) & 0xFF);
	return div;
}

int cub_arch_sample_start(unsigned hz, void (*f)(uintptr_t pc, unsigned where))
{
	unsigned long irq;

	if (!f || hz == 0 || hz > CUB_ARCH_SAMPLE_HZ_MAX)
		return -CUB_EINVAL;
	if (fn)
		return -CUB_EBUSY;
	gsi = cubi_x86_isa_gsi(0);
	if (gsi < 0)
		return -CUB_ENODEV;
	irq = cub_arch_irq_save();
	mult = (PIT_MIN_HZ + hz - 1) / hz;
	left = mult;
	cubi_x86_nmi_hook = on_nmi;
	saved_entry = cubi_x86_ioapic_route_nmi((unsigned)gsi, cubi_x86_lapic_id());
	/* The PIT is programmed before fn is set: an NMI that finds fn set
	 * may latch its count. */
	cubi_tick_filter_init(&filter, pit_rate(hz * mult), PIT_HZ);
	fn = f;
	cubi_x86_ioapic_set_masked((unsigned)gsi, false);
	cub_arch_irq_restore(irq);
	return 0;
}

void cub_arch_sample_stop(void)
{
	unsigned long irq;

	if (!fn)
		return;
	irq = cub_arch_irq_save();
	cubi_x86_ioapic_set_masked((unsigned)gsi, true);
	stopped_at = cub_arch_clock_ns() | 1;	/* never 0 */
	fn = NULL;			/* before the PIT: no NMI latches it now */
	outb(PIT_CMD, 0x30);		/* channel 0, mode 0: waits for a count */
	cubi_x86_ioapic_restore((unsigned)gsi, saved_entry);
	cub_arch_irq_restore(irq);
}
