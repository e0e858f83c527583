/*
 * virtio_net.c - finds QEMU's virtio-net-pci devices (transitional:
 * vendor 0x1AF4, device 0x1000, revision 0) at boot and starts them
 * through the legacy virtio-pci interface on I/O BAR 0: reset,
 * ACKNOWLEDGE and DRIVER, features (VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS;
 * no checksum offload, no GSO, no mergeable buffers: the 10-byte header),
 * the receive and transmit queues, an MSI-X vector, DRIVER_OK.
 *
 * Cards are numbered virtio-net0, 1, ... in the order the PCI scan finds
 * them, counting only those that started, and each is added to nic.c's
 * table (nic.h: virtio-net cards come before e1000 ones in the NIC
 * numbering); one console line each (or one saying why a device
 * was skipped). An image without a virtio-net device pays for the scan
 * only: frames are taken when a device is found.
 *
 * Invariants: cubi_vnets[0..cubi_vnet_count) are running NICs whose
 * read-only fields (virtio_net.h) never change again; a device that fails
 * any step is marked FAILED, its vector and memory given back, and its
 * slot reused for the next device.
 */
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "intr.h"
#include "virtio_net.h"
#include "x86.h"

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_NET_LEGACY 0x1000
#define F_MAC (1u << 5)
#define F_STATUS (1u << 16)
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FAILED 0x80
#define AVAIL_F_NO_INTERRUPT 1
#define SCAN_MAX 8		/* candidates looked at (4 may start) */

struct vnet cubi_vnets[VNET_MAX];
unsigned cubi_vnet_count;

/* Tells the device where queue qi lives and that it interrupts through
 * MSI-X entry 0. Precondition: MSI-X enabled (the 0x16 register). */
static int setup_queue(struct vnet *n, uint16_t qi, struct cubi_virtq *q,
		       bool in)
{
	int rc;

	outw(n->io + VIO_QUEUE_SEL, qi);
	rc = cubi_virtq_init(q, inw(n->io + VIO_QUEUE_SIZE), in);
	if (rc)
		return rc;
	outl(n->io + VIO_QUEUE_PFN, (uint32_t)(q->ring_pa >> 12));
	outw(n->io + VIO_MSIX_QUEUE, 0);
	if (inw(n->io + VIO_MSIX_QUEUE) != 0)
		return -CUB_EIO;	/* the device refused the vector */
	return 0;
}

/* Reads the MAC, or makes a locally administered one for a device that
 * offers none (02:00:00:00:00:<nic number>). */
static void read_mac(struct vnet *n, bool have)
{
	for (unsigned i = 0; i < 6; i++)
		n->mac[i] = have ? inb(n->io + n->cfg + i) : 0;
	if (!have) {
		n->mac[0] = 0x02;
		n->mac[5] = (uint8_t)cubi_vnet_count;
	}
}

/* Rings full of receive buffers, the transmit free list, DRIVER_OK. */
static int go_live(struct vnet *n)
{
	uint8_t st;

	n->tx.avail[0] = AVAIL_F_NO_INTERRUPT;	/* send reclaims itself */
	for (unsigned s = 0; s < n->tx.nslots; s++)
		n->tx_free[n->tx_nfree++] = (uint16_t)s;
	for (unsigned s = 0; s < n->rx.nslots; s++)
		cubi_virtq_post(&n->rx, s, VIRTQ_DATA_MAX);
	outb(n->io + VIO_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	outw(n->io + VIO_QUEUE_NOTIFY, VNET_RX);
	st = inb(n->io + VIO_STATUS);
	return st & S_FAILED ? -CUB_EIO : 0;
}

/* Brings device n->pci up; *why says which step failed. */
static int start(struct vnet *n, const char **why)
{
	uint32_t feat;
	int rc;

	outb(n->io + VIO_STATUS, 0);		/* reset */
	outb(n->io + VIO_STATUS, S_ACK);
	outb(n->io + VIO_STATUS, S_ACK | S_DRIVER);
	feat = inl(n->io + VIO_DEVICE_FEATURES) & (F_MAC | F_STATUS);
	outl(n->io + VIO_GUEST_FEATURES, feat);
	n->has_status = feat & F_STATUS;
	*why = "no free interrupt vector";
	if ((rc = cubi_pci_take_vector(cubi_vnet_irq, n, n->name,
					 &n->vector)))
		return rc;
	*why = "its MSI-X table is unusable";
	if ((rc = cubi_pci_msix_route(&n->pci, 0, n->vector)))
		return rc;
	n->cfg = VIO_CONFIG_MSIX;
	outw(n->io + VIO_MSIX_CONFIG, VIO_NO_VECTOR);
	*why = "a queue could not be set up";
	if ((rc = setup_queue(n, VNET_RX, &n->rx, true)) ||
	    (rc = setup_queue(n, VNET_TX, &n->tx, false)))
		return rc;
	read_mac(n, feat & F_MAC);
	*why = "the device failed at DRIVER_OK";
	return go_live(n);
}

/* Undoes a failed start: the device is told, everything given back. */
static void abandon(struct vnet *n)
{
	outb(n->io + VIO_STATUS, S_FAILED);
	cubi_pci_msix_disable(&n->pci);
	if (n->vector)
		cub_irq_unregister(CUB_IRQ_VECTOR(n->vector));
	cubi_virtq_free(&n->rx);
	cubi_virtq_free(&n->tx);
	cub_memset(n, 0, sizeof(*n));
}

/* Checks what a legacy driver needs before touching the device. */
static const char *unusable(const struct cubi_pci_dev *d,
			    struct cubi_pci_bar *bar0)
{
	if ((d->class_rev & 0xFF) != 0)
		return "not a transitional device (revision is not 0)";
	if (cubi_pci_bar(d, 0, bar0) || !bar0->io ||
	    bar0->size < VIO_CONFIG_MSIX + 8 || bar0->base + bar0->size > 0x10000)
		return "BAR 0 is not a legacy virtio I/O window";
	if (!cubi_x86_apic_mode())
		return "MSI-X needs the local APIC";
	if (!cubi_pci_cap_find(d, PCI_CAP_MSIX))
		return "no MSI-X (INTx is not supported)";
	return NULL;
}

static void probe_one(const struct cubi_pci_dev *d)
{
	struct vnet *n = &cubi_vnets[cubi_vnet_count];
	struct cubi_pci_bar bar0;
	const char *why = unusable(d, &bar0);

	if (!why && cubi_vnet_count == VNET_MAX)
		why = "already 4 NICs";
	if (why) {
		cub_printk("virtio-net: %02x:%02x.%x skipped: %s\n", d->bus,
			   d->slot, d->fn, why);
		return;
	}
	cubi_mem_init();	/* idempotent: the frame allocator, early */
	cub_memset(n, 0, sizeof(*n));
	n->pci = *d;
	n->io = (uint16_t)bar0.base;
	cub_snprintf(n->name, sizeof(n->name), "virtio-net%u", cubi_vnet_count);
	cubi_pci_enable(d, PCI_CMD_IO | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
	if (start(n, &why)) {
		cub_printk("virtio-net: %02x:%02x.%x skipped: %s\n", d->bus,
			   d->slot, d->fn, why);
		abandon(n);
		return;
	}
	n->ready = true;
	cubi_vnet_count++;
	cubi_nic_add(&cubi_vnet_ops, n);	/* room: 4 of CUBI_NIC_MAX */
	cub_printk("%s: %02x:%02x:%02x:%02x:%02x:%02x at %02x:%02x.%x, "
		   "msi-x vector 0x%x\n", n->name, n->mac[0], n->mac[1],
		   n->mac[2], n->mac[3], n->mac[4], n->mac[5], d->bus, d->slot,
		   d->fn, n->vector);
}

void cubi_x86_virtio_net_init(void)
{
	struct cubi_pci_dev devs[SCAN_MAX];
	unsigned found = cubi_pci_find(VIRTIO_VENDOR, VIRTIO_NET_LEGACY, devs,
				       SCAN_MAX);

	for (unsigned i = 0; i < CUB_MIN(found, (unsigned)SCAN_MAX); i++)
		probe_one(&devs[i]);
}
