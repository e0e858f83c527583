/*
 * intr.h - private interface of the x86 interrupt controllers and timer
 * (pic.c, lapic.c, ioapic.c, acpi.c, timer.c, intr.c).
 *
 * Vector map (one CPU):
 *   0x00-0x1F  CPU exceptions (trap.c reports them)
 *   0x20-0x2F  legacy PIC, remapped here (ISA lines 0-15 in PIC mode;
 *              in APIC mode the PIC is masked and only strays arrive)
 *   0x30-0x6F  I/O APIC pins: global system interrupt g on 0x30 + g
 *   0x70-0xEF  free: applications register CUB_IRQ_VECTOR(v); the
 *              virtio drivers take one per device (network cards, then
 *              disks) from 0xEF down (cubi_pci_take_vector, msix.c)
 *   0xF0       local APIC timer
 *   0xFF       local APIC spurious vector
 */
#ifndef CUBRT_X86_INTR_H
#define CUBRT_X86_INTR_H

#include <cubrt/base.h>

#define VEC_PIC 0x20
#define VEC_GSI 0x30
#define GSI_MAX 64		/* pins with a vector: 0x30..0x6F */
#define VEC_FREE_LO 0x70
#define VEC_FREE_HI 0xEF
#define VEC_TIMER 0xF0
#define VEC_SPURIOUS 0xFF

/* pic.c: the two 8259s. */
void cubi_x86_pic_init(void);		/* remap to VEC_PIC, mask all */
void cubi_x86_pic_set_masked(unsigned irq, bool masked);
void cubi_x86_pic_eoi(unsigned irq);
bool cubi_x86_pic_spurious(unsigned irq);	/* for irq 7 and 15 */

/* lapic.c: the local APIC (xAPIC, memory mapped). */
bool cubi_x86_lapic_init(void);		/* false: the CPU has none */
void cubi_x86_lapic_disable(void);
uint32_t cubi_x86_lapic_read(unsigned reg);
void cubi_x86_lapic_write(unsigned reg, uint32_t v);
void cubi_x86_lapic_eoi(void);
bool cubi_x86_lapic_in_service(unsigned vector);
unsigned cubi_x86_lapic_id(void);
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0
#define LAPIC_LVT_MASKED (1u << 16)

/* acpi.c: what the MADT says about interrupt routing. */
#define ACPI_MAX_IOAPICS 4
struct x86_madt {
	unsigned n_ioapic;
	uintptr_t ioapic_addr[ACPI_MAX_IOAPICS];
	unsigned ioapic_gsi_base[ACPI_MAX_IOAPICS];
	/* ISA irq -> GSI and its MPS flags (polarity bits 0-1, trigger 2-3) */
	unsigned isa_gsi[16];
	uint16_t isa_flags[16];
	bool pcat_compat;		/* dual 8259s present */
};
bool cubi_x86_acpi_madt(struct x86_madt *m);	/* false: no MADT */

/* ioapic.c: redirection of global system interrupts. */
int cubi_x86_ioapic_init(const struct x86_madt *m);	/* pins, or 0 */
bool cubi_x86_ioapic_has(unsigned gsi);
void cubi_x86_ioapic_route(unsigned gsi, unsigned vector, bool level,
			   bool active_low, unsigned dest);
void cubi_x86_ioapic_set_masked(unsigned gsi, bool masked);
/* The pin delivers an NMI (edge, active high), masked (sample.c). */
uint64_t cubi_x86_ioapic_route_nmi(unsigned gsi, unsigned dest);
void cubi_x86_ioapic_restore(unsigned gsi, uint64_t entry);

/* timer.c: the one-shot timer behind cub_arch_timer_arm. */
void cubi_x86_timer_init(bool apic);
const char *cubi_x86_timer_mode(void);
/* The one-shot APIC timer's count rate (Hz at divide-by-16) boot
 * measured, 0 in the other modes; a new measurement against the TSC
 * (interrupts disabled; an armed one-shot deadline is kept). */
uint64_t cubi_x86_timer_apic_hz(void);
uint64_t cubi_x86_timer_calibrate(void);
/* Test only: while nonzero, every other read of the APIC count during a
 * calibration stalls this many ns inside its TSC bracket, as a host that
 * deschedules QEMU would (tests/qemu/irq/calibrate.c). Never set in a
 * real program. */
extern uint64_t cubi_x86_timer_test_stall_ns;

/* serial.c */
void cubi_x86_serial_irq_init(void);

/* intr.c */
void cubi_x86_irq_init(void);
bool cubi_x86_apic_mode(void);		/* MSI/MSI-X deliverable */
int cubi_x86_isa_gsi(unsigned isa);	/* ISA line's GSI, or -1 */
uint64_t cubi_x86_tsc_hz(void);		/* clock.c */
/* clock.c: a new measurement of the TSC's rate against the PIT (boot's
 * is cubi_x86_tsc_hz); interrupts disabled, PIT channel 2 free. */
uint64_t cubi_x86_clock_calibrate(void);
/* Test only: while nonzero, every other latch of the PIT's count during
 * a calibration stalls this many TSC ticks inside its bracket, as a host
 * that deschedules QEMU would (tests/qemu/irq/calibrate.c). */
extern uint64_t cubi_x86_clock_test_stall_ticks;

#endif
