/*
 * lapic.c - the local APIC in xAPIC (memory-mapped) mode.
 *
 * Invariants: base is the APIC's register page (identity mapped uncached
 * by paging.c), or 0 when the CPU has no APIC; once enabled the APIC
 * accepts every priority (TPR 0), sends spurious interrupts to
 * VEC_SPURIOUS, and LINT0 (the PIC's ExtINT) is masked.
 */
#include <cubrt/arch.h>

#include "intr.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_ENABLE (1ull << 11)
#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xB0
#define REG_SVR 0xF0
#define REG_ISR 0x100
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370
#define SVR_ENABLE (1u << 8)
#define LVT_NMI (4u << 8)
#define WINDOW_LO 0xFEC00000ull		/* paging.c's uncached window */
#define WINDOW_HI 0xFF000000ull

static volatile uint32_t *base;

uint32_t cubi_x86_lapic_read(unsigned reg)
{
	return base[reg / 4];
}

void cubi_x86_lapic_write(unsigned reg, uint32_t v)
{
	base[reg / 4] = v;
}

/* Contexts: boot, interrupts disabled. */
bool cubi_x86_lapic_init(void)
{
	uint32_t r[4];
	uint64_t msr;
	uintptr_t pa;

	cpuid(1, 0, r);
	if (!(r[3] & (1u << 9)))
		return false;
	msr = rdmsr(MSR_APIC_BASE);
	pa = (uintptr_t)(msr & 0xFFFFFF000ull);
	if (pa < WINDOW_LO || pa >= WINDOW_HI)
		return false;	/* relocated outside the mapped window */
	wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	base = (volatile uint32_t *)pa;
	cubi_x86_lapic_write(REG_TPR, 0);
	cubi_x86_lapic_write(REG_LVT_LINT0, LAPIC_LVT_MASKED);
	cubi_x86_lapic_write(REG_LVT_LINT1, LVT_NMI);
	cubi_x86_lapic_write(REG_LVT_ERROR, LAPIC_LVT_MASKED);
	cubi_x86_lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | VEC_TIMER);
	cubi_x86_lapic_write(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
	cubi_x86_lapic_write(REG_EOI, 0);	/* drop anything left in service */
	return true;
}

/* Hands the interrupt pin back to the PIC (no I/O APIC to pair with).
 * Contexts: boot, interrupts disabled. */
void cubi_x86_lapic_disable(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) & ~APIC_BASE_ENABLE);
	base = NULL;
}

unsigned cubi_x86_lapic_id(void)
{
	return cubi_x86_lapic_read(REG_ID) >> 24;
}

/* Contexts: irq. */
void cubi_x86_lapic_eoi(void)
{
	cubi_x86_lapic_write(REG_EOI, 0);
}

/* True when vector is in service (delivered by the APIC, not a software
 * `int`), i.e. it needs an EOI. Contexts: irq. */
bool cubi_x86_lapic_in_service(unsigned vector)
{
	uint32_t isr = cubi_x86_lapic_read(REG_ISR + 0x10 * (vector / 32));

	return isr & (1u << (vector % 32));
}
