/*
 * ioapic.c - I/O APIC redirection of global system interrupts (GSIs).
 *
 * Invariants: chips[] lists the I/O APICs the MADT gave (or the default
 * one at 0xFEC00000, GSI base 0, when there is no MADT); every pin is
 * masked at init and stays masked until the dispatch table unmasks its
 * line. Locking: callers hold interrupts disabled (IOREGSEL/IOWIN is a
 * two-step access that a handler must not interleave).
 */
#include "intr.h"
#include "x86.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VER 0x01
#define REG_REDIR 0x10
#define REDIR_MASKED (1u << 16)
#define REDIR_LEVEL (1u << 15)
#define REDIR_LOW (1u << 13)
#define REDIR_DM_NMI (4u << 8)	/* delivery mode NMI */
#define DEFAULT_BASE 0xFEC00000u

struct chip {
	volatile uint32_t *regs;
	unsigned gsi_base, pins;
};

static struct chip chips[ACPI_MAX_IOAPICS];
static unsigned n_chips;

static uint32_t ioapic_read(const struct chip *c, unsigned reg)
{
	c->regs[IOREGSEL / 4] = reg;
	return c->regs[IOWIN / 4];
}

static void ioapic_write(const struct chip *c, unsigned reg, uint32_t v)
{
	c->regs[IOREGSEL / 4] = reg;
	c->regs[IOWIN / 4] = v;
}

static const struct chip *chip_of(unsigned gsi, unsigned *pin)
{
	for (unsigned i = 0; i < n_chips; i++)
		if (gsi >= chips[i].gsi_base &&
		    gsi < chips[i].gsi_base + chips[i].pins) {
			*pin = gsi - chips[i].gsi_base;
			return &chips[i];
		}
	return NULL;
}

/* Returns the total number of pins, 0 when no I/O APIC answers.
 * Contexts: boot, interrupts disabled. */
int cubi_x86_ioapic_init(const struct x86_madt *m)
{
	unsigned total = 0;
	unsigned n = m ? m->n_ioapic : 1;

	for (unsigned i = 0; i < n && n_chips < ACPI_MAX_IOAPICS; i++) {
		uintptr_t pa = m ? m->ioapic_addr[i] : DEFAULT_BASE;
		struct chip *c = &chips[n_chips];
		uint32_t ver;

		if (pa < 0xFEC00000u || pa >= 0xFF000000u)
			continue;	/* outside paging.c's device window */
		c->regs = (volatile uint32_t *)pa;
		c->gsi_base = m ? m->ioapic_gsi_base[i] : 0;
		ver = ioapic_read(c, REG_VER);
		if (ver == 0xFFFFFFFFu)
			continue;	/* nothing there */
		c->pins = ((ver >> 16) & 0xFF) + 1;
		for (unsigned p = 0; p < c->pins; p++) {
			ioapic_write(c, REG_REDIR + 2 * p, REDIR_MASKED);
			ioapic_write(c, REG_REDIR + 2 * p + 1, 0);
		}
		total += c->pins;
		n_chips++;
	}
	return (int)total;
}

bool cubi_x86_ioapic_has(unsigned gsi)
{
	unsigned pin;

	return chip_of(gsi, &pin) != NULL;
}

/* Programs gsi's redirection entry, masked. Contexts: boot, irq off. */
void cubi_x86_ioapic_route(unsigned gsi, unsigned vector, bool level,
			   bool active_low, unsigned dest)
{
	unsigned pin;
	const struct chip *c = chip_of(gsi, &pin);
	uint32_t lo = vector | REDIR_MASKED;

	if (!c)
		return;
	if (level)
		lo |= REDIR_LEVEL;
	if (active_low)
		lo |= REDIR_LOW;
	ioapic_write(c, REG_REDIR + 2 * pin + 1, dest << 24);
	ioapic_write(c, REG_REDIR + 2 * pin, lo);
}

/* Programs gsi's redirection entry to deliver an NMI to dest (edge
 * triggered, active high; the vector is ignored), masked, and returns
 * the entry it replaced (high word << 32 | low word) for
 * cubi_x86_ioapic_restore. Contexts: any, interrupts disabled. */
uint64_t cubi_x86_ioapic_route_nmi(unsigned gsi, unsigned dest)
{
	unsigned pin;
	const struct chip *c = chip_of(gsi, &pin);
	uint64_t old;

	if (!c)
		return REDIR_MASKED;
	old = (uint64_t)ioapic_read(c, REG_REDIR + 2 * pin + 1) << 32 |
	      ioapic_read(c, REG_REDIR + 2 * pin);
	ioapic_write(c, REG_REDIR + 2 * pin, REDIR_DM_NMI | REDIR_MASKED);
	ioapic_write(c, REG_REDIR + 2 * pin + 1, dest << 24);
	return old;
}

/* Puts back an entry cubi_x86_ioapic_route_nmi returned: masked first,
 * so that the pin never fires half-programmed. Contexts: any,
 * interrupts disabled. */
void cubi_x86_ioapic_restore(unsigned gsi, uint64_t entry)
{
	unsigned pin;
	const struct chip *c = chip_of(gsi, &pin);

	if (!c)
		return;
	ioapic_write(c, REG_REDIR + 2 * pin, (uint32_t)entry | REDIR_MASKED);
	ioapic_write(c, REG_REDIR + 2 * pin + 1, (uint32_t)(entry >> 32));
	ioapic_write(c, REG_REDIR + 2 * pin, (uint32_t)entry);
}

/* Contexts: any, interrupts disabled. */
void cubi_x86_ioapic_set_masked(unsigned gsi, bool masked)
{
	unsigned pin;
	const struct chip *c = chip_of(gsi, &pin);
	uint32_t lo;

	if (!c)
		return;
	lo = ioapic_read(c, REG_REDIR + 2 * pin);
	lo = masked ? lo | REDIR_MASKED : lo & ~REDIR_MASKED;
	ioapic_write(c, REG_REDIR + 2 * pin, lo);
}
