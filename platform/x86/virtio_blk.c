/*
 * virtio_blk.c - finds QEMU's virtio-blk-pci devices (transitional:
 * vendor 0x1AF4, device 0x1001, revision 0) at boot and starts them
 * through the legacy virtio-pci interface on I/O BAR 0: reset,
 * ACKNOWLEDGE and DRIVER, features (VIRTIO_BLK_F_RO, VIRTIO_BLK_F_FLUSH;
 * nothing else: one data descriptor a request, no event index, no
 * indirect descriptors), request queue 0 with MSI-X entry 0, DRIVER_OK.
 *
 * Disks are numbered in the order the PCI scan finds them, counting only
 * those that started; one console line each (or one saying why a device
 * was skipped). boot.c calls cubi_x86_virtio_blk_init through a weak
 * reference: only images that use arch.h's block calls carry the driver.
 *
 * cubi_vblk_reset stops a disk (src/blk gives up on it after a request
 * timed out): status 0, bus mastering off, every request in flight
 * completed with -CUB_EIO. cubi_vblk_reinit brings it back: a reset the
 * device must confirm, then the boot's steps again on a fresh queue.
 *
 * Invariants: cubi_vblks[0..cubi_vblk_count) are disks whose read-only
 * fields (virtio_blk.h) never change again (a device that comes back
 * with other features, capacity or queue size stays failed); a device
 * that fails any step at boot is marked FAILED, its vector and memory
 * given back. DMA safety across a recovery: the queue's memory (rings
 * and the cells the requests' data and status land in) is freed only
 * after the device confirmed a reset (status read back 0: it has no
 * queue and nothing in progress, virtio 1.x 2.4) with bus mastering off
 * since the failure, so no abandoned request can land in memory reused
 * afterwards; an unconfirmed reset keeps it out of use.
 */
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "intr.h"
#include "virtio_blk.h"
#include "x86.h"

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_BLK_LEGACY 0x1001
#define F_RO (1u << 5)
#define F_FLUSH (1u << 9)
#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FAILED 0x80
#define SCAN_MAX 8

struct vblk cubi_vblks[VBLK_MAX];
unsigned cubi_vblk_count;

int cubi_vblk_queue_init(struct vblk *d, uint16_t size)
{
	int rc = cubi_virtq_init_req(&d->q, size, VBLK_SLOTS,
				     VBLK_MAX_SECTORS * CUB_ARCH_BLK_SECTOR);

	if (rc)
		return rc;
	cub_memset(d->inflight, 0, sizeof(d->inflight));
	d->nfree = 0;
	for (unsigned s = 0; s < d->q.nslots; s++)
		d->free[d->nfree++] = (uint16_t)s;
	return 0;
}

bool cubi_vblk_test_reset_stuck;

/* Writes status 0 and waits for it to read back 0: 0, or -CUB_EIO when
 * it did not within VBLK_RESET_WAIT_NS (or cubi_vblk_test_reset_stuck
 * pretends so). Precondition: interrupts off (the wait is a busy one,
 * short on any real or emulated device: QEMU's legacy device resets
 * within the write). */
static int reset_device(struct vblk *d)
{
	uint64_t end = cub_time_now() + VBLK_RESET_WAIT_NS;

	outb(d->io + VB_STATUS, 0);
	while (cubi_vblk_test_reset_stuck || inb(d->io + VB_STATUS) != 0)
		if (cub_time_now() > end)
			return -CUB_EIO;
	return 0;
}

static void bus_master(struct vblk *d, bool on)
{
	uint16_t cmd = cubi_pci_read16(&d->pci, PCI_COMMAND);

	cubi_pci_write16(&d->pci, PCI_COMMAND,
			 on ? cmd | PCI_CMD_MASTER : cmd & ~PCI_CMD_MASTER);
}

int cubi_vblk_reset(struct vblk *d)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_arch_blk_req *r;
	unsigned n = 0;

	if (d->failed) {
		cub_arch_irq_restore(irq);
		return d->reset_rc;
	}
	d->failed = true;
	d->resets++;
	d->nfree = 0;
	d->reset_rc = reset_device(d);
	bus_master(d, false);
	for (unsigned s = 0; s < VBLK_SLOTS; s++)
		if ((r = d->inflight[s])) {
			d->inflight[s] = NULL;
			n++;
			r->done(r, -CUB_EIO);
		}
	cub_printk("%s: reset, %u requests in flight abandoned%s; "
		   "the disk has failed\n", d->name, n,
		   d->reset_rc ? ", status never read 0" : "");
	cub_arch_irq_restore(irq);
	return d->reset_rc;
}

/* Queue 0 with its request slots, interrupting through MSI-X entry 0. */
static int setup_queue(struct vblk *d)
{
	int rc;

	outw(d->io + VB_QUEUE_SEL, 0);
	if ((rc = cubi_vblk_queue_init(d, inw(d->io + VB_QUEUE_SIZE))))
		return rc;
	outl(d->io + VB_QUEUE_PFN, (uint32_t)(d->q.ring_pa >> 12));
	outw(d->io + VB_MSIX_QUEUE, 0);
	if (inw(d->io + VB_MSIX_QUEUE) != 0)
		return -CUB_EIO;
	return 0;
}

/* ACKNOWLEDGE, DRIVER and the features taken (F_RO, F_FLUSH), which it
 * returns. Precondition: the device reset. */
static uint32_t negotiate(struct vblk *d)
{
	uint32_t feat;

	outb(d->io + VB_STATUS, S_ACK);
	outb(d->io + VB_STATUS, S_ACK | S_DRIVER);
	feat = inl(d->io + VB_DEVICE_FEATURES) & (F_RO | F_FLUSH);
	outl(d->io + VB_GUEST_FEATURES, feat);
	return feat;
}

static uint64_t capacity(struct vblk *d)
{
	return inl(d->io + VB_CONFIG_MSIX) |
	       (uint64_t)inl(d->io + VB_CONFIG_MSIX + 4) << 32;
}

static int driver_ok(struct vblk *d)
{
	outb(d->io + VB_STATUS, S_ACK | S_DRIVER | S_DRIVER_OK);
	return inb(d->io + VB_STATUS) & S_FAILED ? -CUB_EIO : 0;
}

/* Brings device d->pci up; *why says which step failed. */
static int start(struct vblk *d, const char **why)
{
	uint32_t feat;
	int rc;

	outb(d->io + VB_STATUS, 0);
	feat = negotiate(d);
	d->read_only = feat & F_RO;
	d->has_flush = feat & F_FLUSH;
	*why = "no free interrupt vector";
	if ((rc = cubi_pci_take_vector(cubi_vblk_irq, d, d->name,
					 &d->vector)))
		return rc;
	*why = "its MSI-X table is unusable";
	if ((rc = cubi_pci_msix_route(&d->pci, 0, d->vector)))
		return rc;
	outw(d->io + VB_MSIX_CONFIG, VB_NO_VECTOR);
	*why = "the request queue could not be set up";
	if ((rc = setup_queue(d)))
		return rc;
	d->sectors = capacity(d);
	d->depth = d->q.nslots;
	*why = "the device failed at DRIVER_OK";
	return driver_ok(d);
}

/* cubi_vblk_reinit's steps after the device confirmed its reset: the
 * old queue freed (the invariant at the top), bus mastering on, then as
 * start() on the vector d keeps; *why says which step failed.
 * Precondition: interrupts off, d failed. */
static int restart(struct vblk *d, const char **why)
{
	uint32_t want = (d->read_only ? F_RO : 0) | (d->has_flush ? F_FLUSH : 0);
	int rc;

	cubi_virtq_free(&d->q);
	bus_master(d, true);
	*why = "it came back with other features";
	if (negotiate(d) != want)
		return -CUB_EIO;
	*why = "its MSI-X table is unusable";
	if ((rc = cubi_pci_msix_route(&d->pci, 0, d->vector)))
		return rc;
	outw(d->io + VB_MSIX_CONFIG, VB_NO_VECTOR);
	*why = "the request queue could not be set up";
	if ((rc = setup_queue(d)))
		return rc;
	*why = "its queue came back with another size";
	if (d->q.nslots != d->depth)
		return -CUB_EIO;
	*why = "its capacity changed";
	if (capacity(d) != d->sectors)
		return -CUB_EIO;
	*why = "the device failed at DRIVER_OK";
	return driver_ok(d);
}

int cubi_vblk_reinit(struct vblk *d)
{
	unsigned long irq = cub_arch_irq_save();
	const char *why = "its status never read 0 after a reset";
	int rc;

	if (!d->failed) {
		cub_arch_irq_restore(irq);
		return -CUB_EINVAL;
	}
	rc = reset_device(d);
	if (!rc && (rc = restart(d, &why))) {
		reset_device(d);	/* stopped again, as after the failure */
		bus_master(d, false);
	}
	if (rc) {
		d->recover_failures++;
		cub_printk("%s: not recovered: %s; the disk stays failed\n",
			   d->name, why);
		rc = rc == -CUB_ENOMEM ? rc : -CUB_EIO;
	} else {
		d->failed = false;
		d->reset_rc = 0;
		d->recoveries++;
		cub_printk("%s: recovered (resets %llu, recoveries %llu)\n",
			   d->name, (unsigned long long)d->resets,
			   (unsigned long long)d->recoveries);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

static void abandon(struct vblk *d)
{
	outb(d->io + VB_STATUS, S_FAILED);
	cubi_pci_msix_disable(&d->pci);
	if (d->vector)
		cub_irq_unregister(CUB_IRQ_VECTOR(d->vector));
	cubi_virtq_free(&d->q);
	cub_memset(d, 0, sizeof(*d));
}

static const char *unusable(const struct cubi_pci_dev *p,
			    struct cubi_pci_bar *bar0)
{
	if ((p->class_rev & 0xFF) != 0)
		return "not a transitional device (revision is not 0)";
	if (cubi_pci_bar(p, 0, bar0) || !bar0->io ||
	    bar0->size < VB_CONFIG_MSIX + 8 || bar0->base + bar0->size > 0x10000)
		return "BAR 0 is not a legacy virtio I/O window";
	if (!cubi_x86_apic_mode())
		return "MSI-X needs the local APIC";
	if (!cubi_pci_cap_find(p, PCI_CAP_MSIX))
		return "no MSI-X (INTx is not supported)";
	if (cubi_vblk_count == VBLK_MAX)
		return "already 4 disks";
	return NULL;
}

static void probe_one(const struct cubi_pci_dev *p)
{
	struct vblk *d = &cubi_vblks[cubi_vblk_count];
	struct cubi_pci_bar bar0;
	const char *why = unusable(p, &bar0);

	if (!why) {
		cubi_mem_init();	/* idempotent: frames for the rings */
		cub_memset(d, 0, sizeof(*d));
		d->pci = *p;
		d->io = (uint16_t)bar0.base;
		cub_snprintf(d->name, sizeof(d->name), "virtio-blk%u",
			     cubi_vblk_count);
		cubi_pci_enable(p, PCI_CMD_IO | PCI_CMD_MASTER | PCI_CMD_INTX_OFF);
		if (start(d, &why))
			abandon(d);
		else
			why = NULL;
	}
	if (why) {
		cub_printk("virtio-blk: %02x:%02x.%x skipped: %s\n", p->bus,
			   p->slot, p->fn, why);
		return;
	}
	d->ready = true;
	cubi_vblk_count++;
	cub_printk("%s: vd%c, %llu sectors%s at %02x:%02x.%x, msi-x vector "
		   "0x%x\n", d->name, 'a' + (int)(cubi_vblk_count - 1),
		   (unsigned long long)d->sectors, d->read_only ? " (ro)" : "",
		   p->bus, p->slot, p->fn, d->vector);
}

void cubi_x86_virtio_blk_init(void)
{
	struct cubi_pci_dev devs[SCAN_MAX];
	unsigned found = cubi_pci_find(VIRTIO_VENDOR, VIRTIO_BLK_LEGACY, devs,
				       SCAN_MAX);

	for (unsigned i = 0; i < CUB_MIN(found, (unsigned)SCAN_MAX); i++)
		probe_one(&devs[i]);
}
