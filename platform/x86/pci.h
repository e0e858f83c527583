/*
 * pci.h - private interface of PCI configuration space (pci.c), for the
 * platform's device drivers (virtio_net.c, virtio_blk.c, e1000.c).
 *
 * Access is configuration mechanism #1 (ports 0xCF8/0xCFC). Devices are
 * named by bus/slot/function; the firmware (SeaBIOS on QEMU) has already
 * numbered the buses behind bridges and assigned BARs, which cubrt keeps.
 */
#ifndef CUBRT_X86_PCI_H
#define CUBRT_X86_PCI_H

#include <cubrt/base.h>
#include <cubrt/irq.h>

#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08	/* class << 8 | revision */
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19	/* type 1 (bridge) headers */
#define PCI_CAP_PTR 0x34
#define PCI_INTR_LINE 0x3C

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_OFF (1u << 10)
#define PCI_STATUS_CAPS (1u << 4)

#define PCI_CAP_MSI 0x05
#define PCI_CAP_MSIX 0x11

struct cubi_pci_dev {
	uint8_t bus, slot, fn;
	uint16_t vendor, device;
	uint32_t class_rev;
};

/* A base address register as the firmware programmed it. */
struct cubi_pci_bar {
	uint64_t base;		/* port number or physical address */
	uint64_t size;		/* bytes decoded, 0: unimplemented BAR */
	bool io;		/* I/O space (else memory) */
	bool mem64;		/* 64-bit memory BAR (takes two slots) */
	bool prefetch;
};

/*
 * Configuration space accessors; off is a byte offset below 256 aligned
 * to the access size. Each access is a critical section (the 0xCF8
 * address and the 0xCFC data are two steps that nothing may interleave).
 * Contexts: any.
 */
uint32_t cubi_pci_read32(const struct cubi_pci_dev *d, unsigned off);
uint16_t cubi_pci_read16(const struct cubi_pci_dev *d, unsigned off);
uint8_t cubi_pci_read8(const struct cubi_pci_dev *d, unsigned off);
void cubi_pci_write32(const struct cubi_pci_dev *d, unsigned off, uint32_t v);
void cubi_pci_write16(const struct cubi_pci_dev *d, unsigned off, uint16_t v);

/*
 * Calls visit(d, arg) for every function on bus 0 and on the buses
 * behind PCI-PCI bridges (each bus once, however the bridges are wired),
 * in bus, slot, function order within a bus; stops early when visit
 * returns false. Contexts: boot, task.
 */
void cubi_pci_scan(bool (*visit)(const struct cubi_pci_dev *d, void *arg),
		   void *arg);

/* Fills out[0..max) with the functions whose ids match, in scan order;
 * returns how many were found (may exceed max: only max are stored).
 * Contexts: boot, task. */
unsigned cubi_pci_find(uint16_t vendor, uint16_t device,
		       struct cubi_pci_dev *out, unsigned max);

/*
 * Reads BAR i (0..5) of a type 0 header, sizing it by writing all ones
 * with decoding off for the moment (the command register is restored).
 * 0; -CUB_EINVAL for i out of range, or i the upper half of a 64-bit BAR.
 * Contexts: boot, task (not while a driver uses the device's BARs).
 */
int cubi_pci_bar(const struct cubi_pci_dev *d, unsigned i,
		 struct cubi_pci_bar *bar);

/* Offset of the first capability with id cap (PCI_CAP_*), 0 when none.
 * The walk is bounded (a looping list ends it). Contexts: any. */
unsigned cubi_pci_cap_find(const struct cubi_pci_dev *d, uint8_t cap);

/* Sets bits (PCI_CMD_*) in the command register. Contexts: boot, task. */
void cubi_pci_enable(const struct cubi_pci_dev *d, uint16_t bits);

/* Maps memory BAR bar uncached (cubi_x86_map_mmio) and returns its
 * address in *regs. -CUB_EINVAL for an I/O or empty BAR or one that
 * cannot be mapped. Contexts: boot, task. */
int cubi_pci_map_bar(const struct cubi_pci_bar *bar, volatile void **regs);

/*
 * msix.c: routes MSI-X table entry `entry` of d to CPU vector `vector` on
 * this CPU's local APIC (fixed delivery, edge), masks every other entry
 * and enables MSI-X (which turns the function's INTx off). Maps the
 * table's BAR uncached and enables memory decoding. -CUB_ENODEV when d
 * has no MSI-X capability, -CUB_EINVAL when entry is past its table or
 * the table's BAR is unusable. Contexts: boot, task; the vector's handler
 * registered first.
 */
int cubi_pci_msix_route(const struct cubi_pci_dev *d, unsigned entry,
			unsigned vector);

/* Turns MSI-X off again (entries stay masked). Contexts: boot, task. */
void cubi_pci_msix_disable(const struct cubi_pci_dev *d);

/*
 * msix.c: registers fn(ctx) on the highest free CPU vector (VEC_FREE_HI
 * down to VEC_FREE_LO: applications tend to pick low ones), names the
 * line name (kept, not copied) and stores the vector in *vector; 0, or
 * -CUB_EBUSY when every vector is taken, or another error of
 * cub_irq_register (*vector untouched then). The caller routes an MSI-X
 * entry to it and unregisters it when giving the device up.
 * Contexts: boot, task.
 */
int cubi_pci_take_vector(cub_irq_fn fn, void *ctx, const char *name,
			 unsigned *vector);

#endif
