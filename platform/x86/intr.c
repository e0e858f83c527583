/*
 * intr.c - x86 interrupt routing: brings up the controllers at boot,
 * implements the dispatch table's controller (cubi_irq_chip), turns
 * vectors into lines, sends end-of-interrupt, and idles.
 *
 * Controllers: the legacy PIC is always remapped (VEC_PIC) and masked.
 * With a local APIC, device lines go through the I/O APIC(s) the ACPI
 * MADT describes (with its ISA overrides, e.g. ISA 0 -> GSI 2 on QEMU);
 * without a MADT the default I/O APIC at 0xFEC00000 with identity ISA
 * routing (ISA 0 -> GSI 2, as on every PC chipset) is tried. Only without
 * a local APIC or I/O APIC does the PIC route device lines; boot says so.
 *
 * Invariants: line_vec[l] is the vector of device line l or -1 when l
 * cannot be routed; vec_line[v] is the line vector v belongs to; both are
 * written at boot only. irq_seen counts interrupts taken (for idle).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>

#include "../../src/irq/irq_chip.h"
#include "intr.h"
#include "x86.h"

#define MPS_POL_LOW 3u
#define MPS_TRIG_LEVEL (3u << 2)

static bool apic_mode;
static int16_t line_vec[CUB_IRQ_DEVICE_LINES];
static uint16_t line_gsi[CUB_IRQ_DEVICE_LINES];
static bool line_level[CUB_IRQ_DEVICE_LINES];
static uint16_t vec_line[256];
static volatile uint64_t irq_seen;

static int chip_check(unsigned line, bool runtime)
{
	unsigned v;

	if (line < CUB_IRQ_DEVICE_LINES)
		return line_vec[line] >= 0 ? 0 : -CUB_EINVAL;
	v = line - CUB_IRQ_DEVICE_LINES;
	if (v >= VEC_FREE_LO && v <= VEC_FREE_HI)
		return 0;
	return runtime && apic_mode && v == VEC_TIMER ? 0 : -CUB_EINVAL;
}

static void chip_set_masked(unsigned line, bool masked)
{
	if (line >= CUB_IRQ_DEVICE_LINES)
		return;		/* a vector: nothing to mask */
	if (apic_mode)
		cubi_x86_ioapic_set_masked(line_gsi[line], masked);
	else
		cubi_x86_pic_set_masked(line, masked);
}

static int chip_vector(unsigned line)
{
	if (line < CUB_IRQ_DEVICE_LINES)
		return line_vec[line];
	return (int)(line - CUB_IRQ_DEVICE_LINES);
}

static bool chip_level(unsigned line)
{
	return line < CUB_IRQ_DEVICE_LINES && line_level[line];
}

static char chip_name[96];
static const struct cubi_irq_chip chip = {
	chip_name, chip_check, chip_set_masked, chip_vector, chip_level,
};

/* PIC mode: vectors 0x20-0x2F are ISA lines; 0x27/0x2F may be spurious. */
static void pic_intr(unsigned vector)
{
	unsigned irq = vector - VEC_PIC;

	if ((irq == 7 || irq == 15) && cubi_x86_pic_spurious(irq)) {
		cubi_irq_spurious();
		return;
	}
	cubi_irq_dispatch(irq);
	cubi_x86_pic_eoi(irq);
}

/* Every vector >= 32 (trap.c). Contexts: irq. */
static void intr(unsigned vector)
{
	irq_seen++;
	if (!apic_mode && vector >= VEC_PIC && vector < VEC_PIC + 16) {
		pic_intr(vector);
		return;
	}
	if (apic_mode && (vector == VEC_SPURIOUS ||
			  (vector >= VEC_PIC && vector < VEC_PIC + 16))) {
		cubi_irq_spurious();	/* APIC spurious, or a stray PIC one */
		return;
	}
	cubi_irq_dispatch(vec_line[vector]);
	/* A software `int` is not in service and must not be acknowledged. */
	if (apic_mode && cubi_x86_lapic_in_service(vector))
		cubi_x86_lapic_eoi();
}

/* Gives ISA line l its GSI, unless another ISA line was redirected there. */
static void route_isa(const struct x86_madt *m, unsigned dest)
{
	for (unsigned l = 0; l < 16; l++) {
		unsigned gsi = m->isa_gsi[l];
		uint16_t f = m->isa_flags[l];
		bool taken = false;

		for (unsigned o = 0; o < 16; o++)
			taken |= o != l && m->isa_gsi[o] == gsi && m->isa_gsi[o] != o;
		if (taken || gsi >= GSI_MAX || !cubi_x86_ioapic_has(gsi))
			continue;
		line_gsi[l] = (uint16_t)gsi;
		line_vec[l] = (int16_t)(VEC_GSI + gsi);
		line_level[l] = (f & MPS_TRIG_LEVEL) == MPS_TRIG_LEVEL;
		vec_line[VEC_GSI + gsi] = (uint16_t)l;
		cubi_x86_ioapic_route(gsi, VEC_GSI + gsi, line_level[l],
				      (f & MPS_POL_LOW) == MPS_POL_LOW, dest);
	}
}

/* GSIs 16 and up are PCI-style: level triggered, active low. */
static void route_gsi(const struct x86_madt *m, unsigned dest)
{
	for (unsigned g = 16; g < CUB_IRQ_DEVICE_LINES; g++) {
		bool isa = false;

		for (unsigned o = 0; o < 16; o++)
			isa |= m->isa_gsi[o] == g;
		if (isa || !cubi_x86_ioapic_has(g))
			continue;
		line_gsi[g] = (uint16_t)g;
		line_vec[g] = (int16_t)(VEC_GSI + g);
		line_level[g] = true;
		vec_line[VEC_GSI + g] = (uint16_t)g;
		cubi_x86_ioapic_route(g, VEC_GSI + g, true, true, dest);
	}
}

/* Tries the APIC path; false leaves the machine in PIC mode. */
static bool apic_init(const char **how)
{
	struct x86_madt m;
	bool have_madt;
	int pins;

	if (!cubi_x86_lapic_init()) {
		*how = "no local APIC";
		return false;
	}
	have_madt = cubi_x86_acpi_madt(&m);
	if (!have_madt || m.n_ioapic == 0) {
		if (!have_madt)
			m.isa_gsi[0] = 2;	/* the PC convention */
		pins = cubi_x86_ioapic_init(NULL);
		*how = "local APIC, I/O APIC at default 0xFEC00000 (no ACPI MADT)";
		cub_printk("irq: %s; using the I/O APIC at 0xFEC00000\n",
			   have_madt ? "the ACPI MADT lists no I/O APIC" :
				       "no ACPI MADT");
	} else {
		pins = cubi_x86_ioapic_init(&m);
		*how = "local APIC, I/O APIC from ACPI MADT";
	}
	if (pins <= 0) {
		cubi_x86_lapic_disable();
		*how = "no I/O APIC answers";
		return false;
	}
	route_isa(&m, cubi_x86_lapic_id());
	route_gsi(&m, cubi_x86_lapic_id());
	return true;
}

/*
 * Brings up the controllers and the timer, and installs the dispatcher.
 * Prints one line saying what routes interrupts. Contexts: boot, after
 * paging and the clock, interrupts disabled.
 */
void cubi_x86_irq_init(void)
{
	const char *how;

	for (unsigned l = 0; l < CUB_IRQ_DEVICE_LINES; l++)
		line_vec[l] = -1;
	for (unsigned v = 0; v < 256; v++)
		vec_line[v] = (uint16_t)CUB_IRQ_VECTOR(v);
	cubi_x86_pic_init();
	apic_mode = apic_init(&how);
	if (!apic_mode) {
		for (unsigned l = 0; l < 16; l++)
			if (l != 2) {	/* the cascade */
				line_vec[l] = (int16_t)(VEC_PIC + l);
				vec_line[VEC_PIC + l] = (uint16_t)l;
			}
		cub_printk("irq: %s; falling back to the 8259 PIC\n", how);
	}
	cubi_irq_set_chip(&chip);
	cubi_x86_set_irq_handler(intr);
	cubi_x86_timer_init(apic_mode);
	cubi_x86_serial_irq_init();
	cub_snprintf(chip_name, sizeof(chip_name), "%s; timer: %s",
		     apic_mode ? how : "8259 PIC", cubi_x86_timer_mode());
}

/* True when device interrupts go through the local APIC, so message-
 * signalled ones (MSI/MSI-X) can reach the CPU. Contexts: any, after
 * cubi_x86_irq_init. */
bool cubi_x86_apic_mode(void)
{
	return apic_mode;
}

/* The GSI of ISA line isa (its I/O APIC pin), or -1 when the machine is
 * not in APIC mode or the line has none. Contexts: any, after boot. */
int cubi_x86_isa_gsi(unsigned isa)
{
	if (!apic_mode || isa >= 16 || line_vec[isa] < 0)
		return -1;
	return line_gsi[isa];
}

/* Contexts: task, interrupts disabled on entry and on return. The sti's
 * one-instruction shadow makes "enable and halt" atomic (halt.S, where
 * the sampling profiler recognises a halted CPU by its address). */
void cub_arch_idle(void)
{
	uint64_t seen = irq_seen;

	do
		cubi_x86_halt();
	while (irq_seen == seen);
}
