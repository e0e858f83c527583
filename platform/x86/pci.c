/*
 * pci.c - PCI configuration space through ports 0xCF8/0xCFC (mechanism
 * #1): enumeration of bus 0 and the buses behind PCI-PCI bridges, BARs,
 * capabilities, the command register.
 *
 * The firmware has numbered the buses (a bridge's secondary bus number)
 * and assigned every BAR; cubrt reads them and never moves anything.
 * Not handled: PCIe extended configuration space (offsets >= 256), a
 * multi-function host bridge (several root buses), hot plug.
 *
 * Locking: an access writes the address port then moves the data port;
 * each is one critical section (cub_arch_irq_save), so a handler that
 * touches configuration space cannot interleave. No other state.
 */
#include <cubrt/arch.h>

#include "pci.h"
#include "x86.h"

#define CONFIG_ADDR 0xCF8
#define CONFIG_DATA 0xCFC
#define HDR_MULTI_FN 0x80
#define HDR_TYPE_MASK 0x7F
#define HDR_BRIDGE 1
#define BAR_IO 1u
#define BAR_MEM_TYPE 6u
#define BAR_MEM_64 4u
#define BAR_PREFETCH 8u
#define CAP_WALK_MAX 48		/* 192 bytes of caps hold at most 48 */

static uint32_t address(const struct cubi_pci_dev *d, unsigned off)
{
	return 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->slot << 11 |
	       (uint32_t)d->fn << 8 | (off & 0xFC);
}

uint32_t cubi_pci_read32(const struct cubi_pci_dev *d, unsigned off)
{
	unsigned long irq = cub_arch_irq_save();
	uint32_t v;

	outl(CONFIG_ADDR, address(d, off));
	v = inl(CONFIG_DATA);
	cub_arch_irq_restore(irq);
	return v;
}

uint16_t cubi_pci_read16(const struct cubi_pci_dev *d, unsigned off)
{
	return (uint16_t)(cubi_pci_read32(d, off) >> (8 * (off & 2)));
}

uint8_t cubi_pci_read8(const struct cubi_pci_dev *d, unsigned off)
{
	return (uint8_t)(cubi_pci_read32(d, off) >> (8 * (off & 3)));
}

void cubi_pci_write32(const struct cubi_pci_dev *d, unsigned off, uint32_t v)
{
	unsigned long irq = cub_arch_irq_save();

	outl(CONFIG_ADDR, address(d, off));
	outl(CONFIG_DATA, v);
	cub_arch_irq_restore(irq);
}

/* A 16-bit write is a 16-bit cycle on the data port's matching half, so
 * the neighbouring register (e.g. the status beside the command, whose
 * bits are write-one-to-clear) is not written. */
void cubi_pci_write16(const struct cubi_pci_dev *d, unsigned off, uint16_t v)
{
	unsigned long irq = cub_arch_irq_save();

	outl(CONFIG_ADDR, address(d, off));
	outw((uint16_t)(CONFIG_DATA + (off & 2)), v);
	cub_arch_irq_restore(irq);
}

/* Fills *d for bus/slot/fn; false when no function answers there. */
static bool probe(struct cubi_pci_dev *d, unsigned bus, unsigned slot,
		  unsigned fn)
{
	uint32_t id;

	d->bus = (uint8_t)bus;
	d->slot = (uint8_t)slot;
	d->fn = (uint8_t)fn;
	id = cubi_pci_read32(d, PCI_VENDOR);
	if ((id & 0xFFFF) == 0xFFFF || (id & 0xFFFF) == 0)
		return false;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	d->class_rev = cubi_pci_read32(d, PCI_CLASS_REV);
	return true;
}

/*
 * Visits one bus; appends the secondary buses of its bridges to the
 * queue (each bus at most once: seen[] guards against a miswired or
 * looping topology). False when visit asked to stop.
 */
static bool scan_bus(unsigned bus, uint8_t *queue, unsigned *tail,
		     uint32_t *seen,
		     bool (*visit)(const struct cubi_pci_dev *, void *), void *arg)
{
	struct cubi_pci_dev d;

	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint8_t hdr;

			if (!probe(&d, bus, slot, fn)) {
				if (fn == 0)
					break;
				continue;
			}
			hdr = cubi_pci_read8(&d, PCI_HEADER_TYPE);
			if ((hdr & HDR_TYPE_MASK) == HDR_BRIDGE) {
				unsigned sec = cubi_pci_read8(&d, PCI_SECONDARY_BUS);

				if (sec && !(seen[sec / 32] & (1u << (sec % 32)))) {
					seen[sec / 32] |= 1u << (sec % 32);
					queue[(*tail)++] = (uint8_t)sec;
				}
			}
			if (!visit(&d, arg))
				return false;
			if (fn == 0 && !(hdr & HDR_MULTI_FN))
				break;
		}
	}
	return true;
}

void cubi_pci_scan(bool (*visit)(const struct cubi_pci_dev *d, void *arg),
		   void *arg)
{
	uint8_t queue[256];
	uint32_t seen[256 / 32] = { 1 };	/* bus 0 */
	unsigned head = 0, tail = 0;

	queue[tail++] = 0;
	while (head < tail)
		if (!scan_bus(queue[head++], queue, &tail, seen, visit, arg))
			return;
}

struct find_args {
	uint16_t vendor, device;
	struct cubi_pci_dev *out;
	unsigned max, n;
};

static bool find_visit(const struct cubi_pci_dev *d, void *arg)
{
	struct find_args *f = arg;

	if (d->vendor == f->vendor && d->device == f->device) {
		if (f->n < f->max)
			f->out[f->n] = *d;
		f->n++;
	}
	return true;
}

unsigned cubi_pci_find(uint16_t vendor, uint16_t device,
		       struct cubi_pci_dev *out, unsigned max)
{
	struct find_args f = { vendor, device, out, max, 0 };

	cubi_pci_scan(find_visit, &f);
	return f.n;
}

/* Writes all ones to BAR register off and reads back the size mask, with
 * the original value restored. Precondition: decoding is off. */
static uint32_t size_mask(const struct cubi_pci_dev *d, unsigned off)
{
	uint32_t orig = cubi_pci_read32(d, off), mask;

	cubi_pci_write32(d, off, 0xFFFFFFFFu);
	mask = cubi_pci_read32(d, off);
	cubi_pci_write32(d, off, orig);
	return mask;
}

/* Is BAR i the upper half of a 64-bit BAR i - 1? */
static bool upper_half(const struct cubi_pci_dev *d, unsigned i)
{
	uint32_t prev;

	if (i == 0)
		return false;
	prev = cubi_pci_read32(d, PCI_BAR0 + 4 * (i - 1));
	return !(prev & BAR_IO) && (prev & BAR_MEM_TYPE) == BAR_MEM_64 &&
	       !upper_half(d, i - 1);
}

int cubi_pci_bar(const struct cubi_pci_dev *d, unsigned i,
		 struct cubi_pci_bar *bar)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint16_t cmd;
	uint32_t lo, m_lo, m_hi = 0;
	uint64_t mask;

	if (i > 5 || upper_half(d, i))
		return -CUB_EINVAL;
	lo = cubi_pci_read32(d, off);
	*bar = (struct cubi_pci_bar){ 0 };
	bar->io = lo & BAR_IO;
	bar->mem64 = !bar->io && (lo & BAR_MEM_TYPE) == BAR_MEM_64 && i < 5;
	bar->prefetch = !bar->io && (lo & BAR_PREFETCH);
	cmd = cubi_pci_read16(d, PCI_COMMAND);
	cubi_pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	m_lo = size_mask(d, off);
	if (bar->mem64)
		m_hi = size_mask(d, off + 4);
	cubi_pci_write16(d, PCI_COMMAND, cmd);
	if (bar->io) {
		bar->base = lo & ~3u;
		/* Port space is 16 bits: the upper half may read back 0. */
		mask = (m_lo & ~3u) ? 0xFFFF0000u | (m_lo & ~3u) : 0;
		bar->size = mask ? (uint32_t)(~(uint32_t)mask + 1) : 0;
		return 0;
	}
	bar->base = lo & ~0xFu;
	if (bar->mem64)
		bar->base |= (uint64_t)cubi_pci_read32(d, off + 4) << 32;
	mask = (m_lo & ~0xFu) | (bar->mem64 ? (uint64_t)m_hi << 32 : 0xFFFFFFFF00000000ull);
	bar->size = (m_lo & ~0xFu) || (bar->mem64 && m_hi) ? ~mask + 1 : 0;
	return 0;
}

unsigned cubi_pci_cap_find(const struct cubi_pci_dev *d, uint8_t cap)
{
	unsigned off;

	if (!(cubi_pci_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	off = cubi_pci_read8(d, PCI_CAP_PTR) & 0xFC;
	for (unsigned n = 0; off >= 0x40 && n < CAP_WALK_MAX; n++) {
		if (cubi_pci_read8(d, off) == cap)
			return off;
		off = cubi_pci_read8(d, off + 1) & 0xFC;
	}
	return 0;
}

void cubi_pci_enable(const struct cubi_pci_dev *d, uint16_t bits)
{
	cubi_pci_write16(d, PCI_COMMAND, cubi_pci_read16(d, PCI_COMMAND) | bits);
}

int cubi_pci_map_bar(const struct cubi_pci_bar *bar, volatile void **regs)
{
	if (bar->io || bar->size == 0 || bar->base == 0)
		return -CUB_EINVAL;
	if (cubi_x86_map_mmio(bar->base, bar->size))
		return -CUB_EINVAL;
	*regs = (volatile void *)(uintptr_t)bar->base;
	return 0;
}
