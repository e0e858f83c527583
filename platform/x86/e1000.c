/*
 * e1000.c - finds Intel 8254x cards at boot (vendor 0x8086: 82540EM
 * 0x100E, QEMU's `-device e1000` and its default card for the pc
 * machine; 82545EM 0x100F, QEMU's `e1000-82545em`) and starts them:
 * memory BAR 0 mapped uncached, reset, the MAC from the EEPROM (EERD;
 * else RAL0/RAH0 as the firmware left them), receive and transmit rings
 * from one run of page frames, RCTL/TCTL, link up, and the card's legacy
 * INTx line through the I/O APIC (or the PIC): the 82540EM has no MSI.
 *
 * Cards are numbered e1000-0, 1, ... in PCI scan order, counting those
 * that started, and added to nic.c's table after every virtio-net card
 * (nic.h). One console line each, or one saying why a card was skipped.
 *
 * Interrupt lines: the firmware wrote the ISA irq it routed INTA..INTD
 * to in the interrupt line register; cards may share it (QEMU's PIIX
 * routes four slots to each of its links), so one handler serves every
 * card on a line and asks each (e1000_io.c).
 *
 * Invariants: cubi_e1000s[0..cubi_e1000_count) are running cards whose
 * read-only fields (e1000.h) never change again; a card that fails a
 * step is reset, its memory and (unshared) line given back, and its slot
 * reused.
 */
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "e1000.h"
#include "x86.h"

#define INTEL 0x8086
#define SCAN_MAX 8		/* candidates looked at (4 may start) */
#define PCI_INTR_PIN 0x3D
#define POLL_NS (10 * 1000 * 1000ull)
/* The run of frames: descriptors (receive, then transmit), then the
 * receive buffers, then the transmit buffers. */
#define TX_DESC_OFF (E1000_RX_N * 16)
#define RX_BUF_OFF CUB_ALIGN_UP((E1000_RX_N + E1000_TX_N) * 16, CUB_PAGE_SIZE)
#define TX_BUF_OFF (RX_BUF_OFF + E1000_RX_N * E1000_BUF)
#define MEM_PAGES ((TX_BUF_OFF + E1000_TX_N * E1000_BUF) / CUB_PAGE_SIZE)

static const uint16_t models[] = { 0x100E, 0x100F };

struct e1000 cubi_e1000s[E1000_MAX];
unsigned cubi_e1000_count;

/* Waits until (reg & bit) == want, at most POLL_NS. */
static bool poll(const struct e1000 *e, unsigned reg, uint32_t bit, bool want)
{
	uint64_t end = cub_arch_clock_ns() + POLL_NS;

	while (!(e1000_rd(e, reg) & bit) != !want)
		if (cub_arch_clock_ns() > end)
			return false;
	return true;
}

/* Resets the card with every interrupt masked and none pending. */
static int reset(struct e1000 *e)
{
	e1000_wr(e, E1000_IMC, ~0u);
	e1000_wr(e, E1000_CTRL, e1000_rd(e, E1000_CTRL) | E1000_CTRL_RST);
	if (!poll(e, E1000_CTRL, E1000_CTRL_RST, false))
		return -CUB_EIO;
	e1000_wr(e, E1000_IMC, ~0u);
	(void)e1000_rd(e, E1000_ICR);
	return 0;
}

static bool mac_ok(const uint8_t *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* The MAC from EEPROM words 0-2, else from receive address 0. */
static int read_mac(struct e1000 *e)
{
	uint32_t lo, hi;

	for (unsigned w = 0; w < 3; w++) {
		e1000_wr(e, E1000_EERD, w << 8 | E1000_EERD_START);
		if (!poll(e, E1000_EERD, E1000_EERD_DONE, true))
			break;
		e->mac[2 * w] = (uint8_t)(e1000_rd(e, E1000_EERD) >> 16);
		e->mac[2 * w + 1] = (uint8_t)(e1000_rd(e, E1000_EERD) >> 24);
	}
	if (mac_ok(e->mac))
		return 0;
	lo = e1000_rd(e, E1000_RAL0);
	hi = e1000_rd(e, E1000_RAH0);
	for (unsigned i = 0; i < 4; i++)
		e->mac[i] = (uint8_t)(lo >> 8 * i);
	e->mac[4] = (uint8_t)hi;
	e->mac[5] = (uint8_t)(hi >> 8);
	return (hi & E1000_RAH_AV) && mac_ok(e->mac) ? 0 : -CUB_EIO;
}

/* The rings in one run of frames (MEM_PAGES above), their registers. */
static int setup_rings(struct e1000 *e)
{
	uint8_t *m;

	e->mem = cub_frame_alloc_run(MEM_PAGES, CUB_FRAME_ZERO);
	if (!e->mem)
		return -CUB_ENOMEM;
	e->mem_pages = MEM_PAGES;
	m = (uint8_t *)e->mem;
	if (cubi_e1000_ring_init(&e->rx, m, m + RX_BUF_OFF, e->mem + RX_BUF_OFF,
				 E1000_RX_N, true) ||
	    cubi_e1000_ring_init(&e->tx, m + TX_DESC_OFF, m + TX_BUF_OFF,
				 e->mem + TX_BUF_OFF, E1000_TX_N, false))
		return -CUB_EINVAL;
	e1000_wr(e, E1000_RDBAL, (uint32_t)e->mem);
	e1000_wr(e, E1000_RDBAH, (uint32_t)((uint64_t)e->mem >> 32));
	e1000_wr(e, E1000_RDLEN, E1000_RX_N * 16);
	e1000_wr(e, E1000_RDH, 0);
	e1000_wr(e, E1000_RDT, e->rx.tail);
	e1000_wr(e, E1000_RDTR, 0);
	e1000_wr(e, E1000_TDBAL, (uint32_t)(e->mem + TX_DESC_OFF));
	e1000_wr(e, E1000_TDBAH, (uint32_t)((uint64_t)(e->mem + TX_DESC_OFF) >> 32));
	e1000_wr(e, E1000_TDLEN, E1000_TX_N * 16);
	e1000_wr(e, E1000_TDH, 0);
	e1000_wr(e, E1000_TDT, e->tx.tail);
	return 0;
}

/* Link up, address filter, receiver and transmitter on. */
static void go_live(struct e1000 *e)
{
	uint32_t ctrl = e1000_rd(e, E1000_CTRL);

	ctrl |= E1000_CTRL_SLU | E1000_CTRL_ASDE;
	ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS);
	e1000_wr(e, E1000_CTRL, ctrl);
	for (unsigned i = 0; i < 128; i++)
		e1000_wr(e, E1000_MTA + 4 * i, 0);
	e1000_wr(e, E1000_RAL0, (uint32_t)e->mac[0] | (uint32_t)e->mac[1] << 8 |
		 (uint32_t)e->mac[2] << 16 | (uint32_t)e->mac[3] << 24);
	e1000_wr(e, E1000_RAH0, (uint32_t)e->mac[4] | (uint32_t)e->mac[5] << 8 |
		 E1000_RAH_AV);
	e1000_wr(e, E1000_TIPG, E1000_TIPG_COPPER);
	e1000_wr(e, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT |
		 E1000_TCTL_COLD);
	e1000_wr(e, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_MPE |
		 E1000_RCTL_SECRC);
	e->mpc_seen = e1000_rd(e, E1000_MPC);
}

/* True when a running card already has the handler on line. */
static bool line_shared(unsigned line)
{
	for (unsigned i = 0; i < cubi_e1000_count; i++)
		if (cubi_e1000s[i].line == line)
			return true;
	return false;
}

/* Installs the line's handler unless a running card has; then unmasks
 * the card's interrupts. */
static int take_line(struct e1000 *e)
{
	int rc;

	if (!line_shared(e->line)) {
		rc = cub_irq_register(e->line, cubi_e1000_irq,
				      (void *)(uintptr_t)e->line);
		if (rc)
			return rc;
		cub_irq_set_name(e->line, "e1000");
		e->owns_line = true;
	}
	(void)e1000_rd(e, E1000_ICR);
	e1000_wr(e, E1000_IMS, E1000_I_WANTED);
	return 0;
}

/* Brings card e up; *why says which step failed. */
static int start(struct e1000 *e, const char **why)
{
	int rc;

	*why = "the reset did not finish";
	if ((rc = reset(e)))
		return rc;
	*why = "no valid MAC address (EEPROM or RAL0/RAH0)";
	if ((rc = read_mac(e)))
		return rc;
	*why = "no memory for its rings";
	if ((rc = setup_rings(e)))
		return rc;
	go_live(e);
	*why = "its interrupt line cannot be routed";
	return take_line(e);
}

/* Undoes a failed start: the card reset, everything given back. */
static void abandon(struct e1000 *e)
{
	(void)reset(e);
	if (e->owns_line)
		cub_irq_unregister(e->line);
	if (e->mem)
		cub_frame_free_run(e->mem, e->mem_pages);
	cub_memset(e, 0, sizeof(*e));
}

/* Checks BAR 0 and the interrupt pin and line; maps the registers. */
static const char *unusable(const struct cubi_pci_dev *d, struct e1000 *e)
{
	struct cubi_pci_bar bar0;
	volatile void *regs;
	uint8_t line = cubi_pci_read8(d, PCI_INTR_LINE);

	if (cubi_pci_bar(d, 0, &bar0) || bar0.io || bar0.size < E1000_BAR_MIN)
		return "BAR 0 is not its 128 KiB register window";
	if (cubi_pci_read8(d, PCI_INTR_PIN) == 0)
		return "no interrupt pin";
	if (line == 0 || line >= CUB_IRQ_DEVICE_LINES)
		return "the firmware gave it no interrupt line";
	if (cubi_pci_map_bar(&bar0, &regs))
		return "BAR 0 cannot be mapped";
	e->regs = regs;
	e->line = line;
	return NULL;
}

static void probe_one(const struct cubi_pci_dev *d)
{
	struct e1000 *e = &cubi_e1000s[cubi_e1000_count];
	const char *why = cubi_e1000_count == E1000_MAX ? "already 4 e1000 cards" :
			  NULL;

	if (!why) {
		cubi_mem_init();	/* idempotent: the frame allocator, early */
		cub_memset(e, 0, sizeof(*e));
		why = unusable(d, e);
	}
	if (why) {
		cub_printk("e1000: %02x:%02x.%x skipped: %s\n", d->bus, d->slot,
			   d->fn, why);
		return;
	}
	e->pci = *d;
	cub_snprintf(e->name, sizeof(e->name), "e1000-%u", cubi_e1000_count);
	cubi_pci_write16(d, PCI_COMMAND, (uint16_t)((cubi_pci_read16(d, PCI_COMMAND) |
			 PCI_CMD_MEM | PCI_CMD_MASTER) & ~PCI_CMD_INTX_OFF));
	if (start(e, &why)) {
		cub_printk("e1000: %02x:%02x.%x skipped: %s\n", d->bus, d->slot,
			   d->fn, why);
		abandon(e);
		return;
	}
	e->ready = true;
	cubi_e1000_count++;
	cubi_nic_add(&cubi_e1000_ops, e);	/* room: 4 of CUBI_NIC_MAX */
	cub_printk("%s: %02x:%02x:%02x:%02x:%02x:%02x at %02x:%02x.%x, "
		   "irq line %u\n", e->name, e->mac[0], e->mac[1], e->mac[2],
		   e->mac[3], e->mac[4], e->mac[5], d->bus, d->slot, d->fn,
		   e->line);
}

struct found {
	struct cubi_pci_dev devs[SCAN_MAX];
	unsigned n;
};

/* Collects the cards of every model in scan order. */
static bool visit(const struct cubi_pci_dev *d, void *arg)
{
	struct found *f = arg;

	for (unsigned m = 0; m < CUB_ARRAY_SIZE(models); m++)
		if (d->vendor == INTEL && d->device == models[m])
			f->devs[f->n++] = *d;
	return f->n < SCAN_MAX;
}

void cubi_x86_e1000_init(void)
{
	struct found f = { .n = 0 };

	cubi_pci_scan(visit, &f);
	for (unsigned i = 0; i < f.n; i++)
		probe_one(&f.devs[i]);
}
