/*
 * fakedev.h - a fake disk behind arch.h's block calls, for testing
 * src/blk's queueing without a real device: a test that includes this
 * defines cub_arch_blk_info and cub_arch_blk_submit itself, so the host
 * port's (platform/host/blk.c) is not linked. Submitted requests wait in
 * fake_q until the test completes one with fake_irq (in irq context,
 * through the host's emulated interrupt, as a device's handler would);
 * at most fake_depth are in flight, more are refused with -CUB_EAGAIN.
 * fake_log records every accepted request in order.
 *
 * fake_ndisks disks (default 1) share the one disk image, queue and
 * depth; they differ in their failed state only, so that each test of a
 * timeout (which fails its disk for good in src/blk) can use a disk of
 * its own. cub_arch_blk_reset completes the disk's requests in fake_q
 * with -CUB_EIO, as arch.h says, counts itself in fake_resets and makes
 * the disk's later submits fail with -CUB_EIO. A request the test never
 * completes is a device that swallowed it.
 *
 * cub_arch_blk_reinit brings a failed disk back (-CUB_EINVAL on one that
 * has not failed) and counts itself in fake_reinits. Fault injection: it
 * first calls fake_reinit_hook when set (with interrupts enabled: the
 * hook may yield, a device slow to come back, while other coroutines
 * race with the recovery), then fails with fake_reinit_rc when that is
 * not 0 (a device that does not come back: the disk stays failed).
 */
#ifndef CUBRT_TEST_FAKEDEV_H
#define CUBRT_TEST_FAKEDEV_H

#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "host_irq.h"

#define FAKE_SECTORS 512
#define FAKE_DEPTH_MAX 8
#define FAKE_LOG 4096
#define FAKE_DISKS 4		/* fake_ndisks at most */

static uint8_t fake_disk[FAKE_SECTORS * CUB_ARCH_BLK_SECTOR];
static struct cub_arch_blk_req *fake_q[FAKE_DEPTH_MAX];
static unsigned fake_qdisk[FAKE_DEPTH_MAX];	/* fake_q[k]'s disk */
static unsigned fake_n, fake_depth = 2, fake_max = 4, fake_ndisks = 1;
static bool fake_present = true, fake_failed[FAKE_DISKS];
static unsigned fake_resets;
static struct { uint64_t lba; uint32_t count; int op; } fake_log[FAKE_LOG];
static unsigned fake_nlog;
static uint64_t fake_refused, fake_calls;	/* -CUB_EAGAIN; every submit */

int cub_arch_blk_info(unsigned i, struct cub_arch_blk_info *info)
{
	if (i >= fake_ndisks || !fake_present)
		return -CUB_ENODEV;
	if (!info)
		return -CUB_EINVAL;
	*info = (struct cub_arch_blk_info){ .sectors = FAKE_SECTORS,
		.max_sectors = fake_max, .depth = (uint16_t)fake_depth,
		.model = "fake", .name = "vda" };
	info->name[2] = (char)('a' + i);
	return 0;
}

int cub_arch_blk_submit(unsigned i, struct cub_arch_blk_req *r)
{
	unsigned long irq;
	int rc = 0;

	fake_calls++;
	if (i >= fake_ndisks || !fake_present)
		return -CUB_ENODEV;
	if (!r || !r->done || (r->op != CUB_ARCH_BLK_FLUSH &&
	    (!r->buf || !r->count || r->count > fake_max ||
	     r->lba + r->count > FAKE_SECTORS)))
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	if (fake_failed[i]) {
		rc = -CUB_EIO;
	} else if (fake_n == fake_depth) {
		fake_refused++;
		rc = -CUB_EAGAIN;
	} else {
		if (fake_nlog < FAKE_LOG)
			fake_log[fake_nlog++] = (typeof(fake_log[0])){ r->lba,
				r->count, (int)r->op };
		fake_qdisk[fake_n] = i;
		fake_q[fake_n++] = r;
	}
	cub_arch_irq_restore(irq);
	return rc;
}

/* Takes fake_q[k] out of the queue (the last moves into its place).
 * Precondition: interrupts off. */
static struct cub_arch_blk_req *fake_take(unsigned k)
{
	struct cub_arch_blk_req *r = fake_q[k];

	fake_n--;
	fake_q[k] = fake_q[fake_n];
	fake_qdisk[k] = fake_qdisk[fake_n];
	return r;
}

int cub_arch_blk_reset(unsigned i)
{
	unsigned long irq;

	if (i >= fake_ndisks || !fake_present)
		return -CUB_ENODEV;
	irq = cub_arch_irq_save();
	if (!fake_failed[i]) {
		fake_failed[i] = true;
		fake_resets++;
		for (unsigned k = fake_n; k-- > 0;)
			if (fake_qdisk[k] == i) {
				struct cub_arch_blk_req *r = fake_take(k);

				r->done(r, -CUB_EIO);
			}
	}
	cub_arch_irq_restore(irq);
	return 0;
}

static unsigned fake_reinits;
static int fake_reinit_rc;
static void (*fake_reinit_hook)(void);

int cub_arch_blk_reinit(unsigned i)
{
	unsigned long irq;
	int rc = 0;

	if (i >= fake_ndisks || !fake_present)
		return -CUB_ENODEV;
	if (!fake_failed[i])
		return -CUB_EINVAL;
	fake_reinits++;
	if (fake_reinit_hook)
		fake_reinit_hook();
	irq = cub_arch_irq_save();
	if (fake_reinit_rc)
		rc = fake_reinit_rc;
	else
		fake_failed[i] = false;
	cub_arch_irq_restore(irq);
	return rc;
}

static unsigned fake_pick;
static int fake_status;

/* The "interrupt handler": completes fake_q[fake_pick]. */
static void fake_deliver(void)
{
	struct cub_arch_blk_req *r = fake_take(fake_pick);
	size_t off = (size_t)r->lba * CUB_ARCH_BLK_SECTOR;
	size_t len = (size_t)r->count * CUB_ARCH_BLK_SECTOR;

	if (!fake_status && r->op == CUB_ARCH_BLK_READ)
		cub_memcpy(r->buf, fake_disk + off, len);
	else if (!fake_status && r->op == CUB_ARCH_BLK_WRITE)
		cub_memcpy(fake_disk + off, r->buf, len);
	r->done(r, fake_status);
}

/* Completes in-flight request k (0..fake_n-1) with status, in irq
 * context. The timer's interrupts are held off meanwhile and its handler
 * put back after; one more timer interrupt is raised in case one came
 * in between and was taken for ours (a spurious one is harmless: the
 * timer queue expires only what is due). */
static inline void fake_irq(unsigned k, int status)
{
	unsigned long irq = cub_arch_irq_save();
	cubi_host_deliver_fn old;

	fake_pick = k;
	fake_status = status;
	old = cubi_host_irq_set_deliver(fake_deliver);
	cubi_host_irq_run();
	cubi_host_irq_set_deliver(old);
	if (old)
		cubi_host_irq_raise();
	cub_arch_irq_restore(irq);
}

/* Completes the oldest in-flight request (FIFO device). */
static inline void fake_irq_oldest(int status)
{
	struct cub_arch_blk_req *r = fake_q[0];
	unsigned disk = fake_qdisk[0];

	/* fake_deliver swaps the last into the hole: keep age order. */
	for (unsigned k = 1; k < fake_n; k++) {
		fake_q[k - 1] = fake_q[k];
		fake_qdisk[k - 1] = fake_qdisk[k];
	}
	fake_q[fake_n - 1] = r;
	fake_qdisk[fake_n - 1] = disk;
	fake_irq(fake_n - 1, status);
}

static inline void fake_reset(unsigned depth, unsigned max)
{
	fake_n = 0;
	fake_nlog = 0;
	fake_refused = 0;
	fake_depth = depth;
	fake_max = max;
	fake_present = true;
	fake_ndisks = 1;
	fake_resets = 0;
	fake_reinits = 0;
	fake_reinit_rc = 0;
	fake_reinit_hook = NULL;
	cub_memset(fake_failed, 0, sizeof(fake_failed));
	cub_memset(fake_disk, 0, sizeof(fake_disk));
}

#endif
