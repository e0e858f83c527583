/*
 * virtio_blk_io.c - arch.h's block calls on the disks virtio_blk.c
 * started, and their interrupt handler.
 *
 * A request takes one slot (virtq.h: header, data, status descriptors in
 * a physically contiguous cell); the caller's buffer is copied into the
 * cell before a write is posted and out of it when a read completes, so
 * any buffer will do (a coroutine stack is not physically contiguous).
 * Every touch of a disk's mutable state happens with interrupts disabled
 * (virtio_blk.h), copies included (at most 32 KiB).
 *
 * Nothing the device writes is trusted: a used entry must name a posted
 * slot (virtq.c); its length must be what the request let the device
 * write (the data of a read plus the status byte), and the status must be
 * VIRTIO_BLK_S_OK, else the request completes with -CUB_EIO (and a read
 * copies nothing). A malformed entry naming no slot is counted and
 * skipped. tests/qemu/blk/bad.c feeds the handler each of these.
 *
 * After cubi_vblk_reset (virtio_blk.c) the disk is failed: submits are
 * refused with -CUB_EIO and interrupts are counted but the ring is not
 * read (the device, reset, no longer owns it), until cubi_vblk_reinit
 * gives it a fresh queue.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/string.h>

#include "virtio_blk.h"
#include "x86.h"

bool cubi_vblk_test_no_kick;

struct vblk_hdr {
	uint32_t type, reserved;
	uint64_t sector;
};

static struct vblk *disk(unsigned i)
{
	return i < cubi_vblk_count ? &cubi_vblks[i] : NULL;
}

int cub_arch_blk_info(unsigned i, struct cub_arch_blk_info *info)
{
	struct vblk *d = disk(i);

	if (!d)
		return -CUB_ENODEV;
	if (!info)
		return -CUB_EINVAL;
	*info = (struct cub_arch_blk_info){ .sectors = d->sectors,
		.max_sectors = VBLK_MAX_SECTORS,
		.depth = (uint16_t)d->depth, .read_only = d->read_only,
		.model = "virtio-blk" };
	cub_snprintf(info->name, sizeof(info->name), "vd%c", 'a' + (int)i);
	return 0;
}

/* Fills slot's header (and a write's data) and posts it. Precondition:
 * interrupts disabled, slot free. */
static void post(struct vblk *d, unsigned slot, struct cub_arch_blk_req *r)
{
	struct vblk_hdr *h = (struct vblk_hdr *)cubi_virtq_hdr(&d->q, slot);
	uint32_t len = r->count * CUB_ARCH_BLK_SECTOR;

	h->type = r->op == CUB_ARCH_BLK_READ ? VBLK_T_IN :
		  r->op == CUB_ARCH_BLK_WRITE ? VBLK_T_OUT : VBLK_T_FLUSH;
	h->reserved = 0;
	h->sector = r->lba;
	cubi_virtq_hdr(&d->q, slot)[VIRTQ_REQ_STATUS_OFF] = 0xFF;
	if (r->op == CUB_ARCH_BLK_WRITE)
		cub_memcpy(cubi_virtq_data(&d->q, slot), r->buf, len);
	r->slot = slot;
	d->inflight[slot] = r;
	cubi_virtq_post_req(&d->q, slot, len, r->op == CUB_ARCH_BLK_READ);
	if (!cubi_vblk_test_no_kick && cubi_virtq_kick_wanted(&d->q))
		outw(d->io + VB_QUEUE_NOTIFY, 0);
}

int cub_arch_blk_submit(unsigned i, struct cub_arch_blk_req *req)
{
	struct vblk *d = disk(i);

	return d ? cubi_vblk_submit(d, req) : -CUB_ENODEV;
}

int cub_arch_blk_reset(unsigned i)
{
	struct vblk *d = disk(i);

	return d ? cubi_vblk_reset(d) : -CUB_ENODEV;
}

int cub_arch_blk_reinit(unsigned i)
{
	struct vblk *d = disk(i);

	return d ? cubi_vblk_reinit(d) : -CUB_ENODEV;
}

int cubi_vblk_submit(struct vblk *d, struct cub_arch_blk_req *req)
{
	unsigned long irq;
	int rc;

	if ((rc = cub_arch_blk_req_check(req, d->sectors, VBLK_MAX_SECTORS, d->read_only)))
		return rc;
	irq = cub_arch_irq_save();
	if (d->failed) {
		rc = -CUB_EIO;
	} else if (req->op == CUB_ARCH_BLK_FLUSH && !d->has_flush) {
		req->done(req, 0);	/* write-through: nothing to flush */
	} else if (d->nfree == 0) {
		rc = -CUB_EAGAIN;
	} else {
		post(d, d->free[--d->nfree], req);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

/* The outcome of slot's request, whose used entry said len bytes. */
static int outcome(struct vblk *d, unsigned slot,
		   const struct cub_arch_blk_req *r, uint32_t len)
{
	uint32_t want = 1;

	if (r->op == CUB_ARCH_BLK_READ)
		want += r->count * CUB_ARCH_BLK_SECTOR;
	/* Legacy devices were loose about len on writes; a read's must be
	 * exact, since it says how much data is really there. */
	if (len > want || (r->op == CUB_ARCH_BLK_READ && len != want))
		return -CUB_EIO;
	if (cubi_virtq_hdr(&d->q, slot)[VIRTQ_REQ_STATUS_OFF] != VBLK_S_OK)
		return -CUB_EIO;
	return 0;
}

/* Contexts: irq (MSI-X needs no acknowledgement at the device). */
void cubi_vblk_irq(void *ctx)
{
	struct vblk *d = ctx;
	struct cub_arch_blk_req *r;
	unsigned slot;
	uint32_t len;
	int got, st;

	d->interrupts++;
	if (d->failed)
		return;		/* reset: the ring is not the device's */
	while ((got = cubi_virtq_take(&d->q, &slot, &len)) != VIRTQ_EMPTY) {
		if (got == VIRTQ_BAD || !(r = d->inflight[slot])) {
			d->bad_used++;
			continue;
		}
		st = outcome(d, slot, r, len);
		if (!st && r->op == CUB_ARCH_BLK_READ)
			cub_memcpy(r->buf, cubi_virtq_data(&d->q, slot),
				   r->count * CUB_ARCH_BLK_SECTOR);
		d->inflight[slot] = NULL;
		d->free[d->nfree++] = (uint16_t)slot;
		r->done(r, st);
	}
}
