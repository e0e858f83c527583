/*
 * msix.c - MSI-X: a PCI function's interrupts as messages to the local
 * APIC, one CPU vector per table entry (PCI Local Bus 3.0, 6.8.2).
 *
 * Capability layout: +2 message control (bits 0-10 table size - 1, bit
 * 14 function mask, bit 15 enable), +4 table offset | BIR. A table entry
 * is 16 bytes: message address low, high, data, vector control (bit 0
 * masked); it is accessed with 32-bit reads and writes only.
 * Locking: configuration space accesses are atomic (pci.c); the table is
 * written only here, at boot or in task context by the device's driver.
 *
 * Vectors for the drivers' MSI-X entries (cubi_pci_take_vector) come from
 * the top of intr.h's free range, 0xEF down, one per device: the
 * registration itself is the claim (cub_irq_register refuses a taken
 * vector), so two drivers never share one.
 */
#include <cubrt/irq.h>

#include "intr.h"
#include "pci.h"
#include "x86.h"

#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define CTRL_ENABLE (1u << 15)
#define CTRL_FN_MASK (1u << 14)
#define ENTRY_BYTES 16
#define ENTRY_MASKED 1u
#define MSI_ADDR_BASE 0xFEE00000u

/* Maps the table; its entries in *tab, their count in *n. */
static int table_of(const struct cubi_pci_dev *d, unsigned cap,
		    volatile uint32_t **tab, unsigned *n)
{
	uint32_t t = cubi_pci_read32(d, cap + MSIX_TABLE);
	uint16_t ctrl = cubi_pci_read16(d, cap + MSIX_CTRL);
	struct cubi_pci_bar bar;
	volatile void *regs;
	uint32_t off = t & ~7u;

	*n = (ctrl & 0x7FFu) + 1;
	if ((t & 7) > 5 || cubi_pci_bar(d, t & 7, &bar) || bar.io ||
	    (uint64_t)off + (uint64_t)*n * ENTRY_BYTES > bar.size)
		return -CUB_EINVAL;
	if (cubi_pci_map_bar(&bar, &regs))
		return -CUB_EINVAL;
	*tab = (volatile uint32_t *)((uintptr_t)regs + off);
	return 0;
}

int cubi_pci_msix_route(const struct cubi_pci_dev *d, unsigned entry,
			unsigned vector)
{
	unsigned cap = cubi_pci_cap_find(d, PCI_CAP_MSIX), n;
	volatile uint32_t *tab;
	uint16_t ctrl;

	if (!cap)
		return -CUB_ENODEV;
	if (table_of(d, cap, &tab, &n) || entry >= n)
		return -CUB_EINVAL;
	cubi_pci_enable(d, PCI_CMD_MEM);
	ctrl = cubi_pci_read16(d, cap + MSIX_CTRL);
	/* Enabled with the function masked while the entries change. */
	cubi_pci_write16(d, cap + MSIX_CTRL, ctrl | CTRL_ENABLE | CTRL_FN_MASK);
	for (unsigned i = 0; i < n; i++)
		tab[i * 4 + 3] = ENTRY_MASKED;
	tab[entry * 4 + 0] = MSI_ADDR_BASE | cubi_x86_lapic_id() << 12;
	tab[entry * 4 + 1] = 0;
	tab[entry * 4 + 2] = vector & 0xFF;	/* fixed delivery, edge */
	tab[entry * 4 + 3] = 0;
	cubi_pci_write16(d, cap + MSIX_CTRL,
			 (ctrl | CTRL_ENABLE) & ~CTRL_FN_MASK);
	return 0;
}

void cubi_pci_msix_disable(const struct cubi_pci_dev *d)
{
	unsigned cap = cubi_pci_cap_find(d, PCI_CAP_MSIX);

	if (cap)
		cubi_pci_write16(d, cap + MSIX_CTRL,
				 cubi_pci_read16(d, cap + MSIX_CTRL) & ~CTRL_ENABLE);
}

int cubi_pci_take_vector(cub_irq_fn fn, void *ctx, const char *name,
			 unsigned *vector)
{
	for (unsigned v = VEC_FREE_HI; v >= VEC_FREE_LO; v--) {
		int rc = cub_irq_register(CUB_IRQ_VECTOR(v), fn, ctx);

		if (rc == 0) {
			*vector = v;
			cub_irq_set_name(CUB_IRQ_VECTOR(v), name);
			return 0;
		}
		if (rc != -CUB_EBUSY && rc != -CUB_EPERM)
			return rc;
	}
	return -CUB_EBUSY;
}
