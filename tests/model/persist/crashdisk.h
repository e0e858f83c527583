/*
 * crashdisk.h - a disk that can crash, behind arch.h's block calls, for
 * model_persist.c. A program that includes this defines
 * cub_arch_blk_info and cub_arch_blk_submit itself, so the host port's
 * (platform/host/blk.c) is not linked (as tests/unit/blk/fakedev.h).
 *
 * Disk 0 ("vda") is cd_disk[0 .. cd_sectors * 512). Requests complete
 * before submit returns, interrupts disabled, as on the host port.
 * Every sector a write carries is also copied into cd_want, the disk as
 * it would be had nothing crashed; cd_disk gets only the first
 * cd_budget sectors written since cd_crash_after armed it, in order,
 * the last of them torn when asked (its first cd_tear bytes new, the
 * rest old); later writes and flushes are dropped yet reported done, as
 * a machine that stopped never learns. cub_arch_blk_reset (never needed:
 * nothing stays in flight) fails the disk's later submits with -CUB_EIO
 * until cd_reset or cub_arch_blk_reinit, as arch.h says. cd_writes
 * counts the sectors submitted for writing, cd_hit[] marks them (the
 * test clears it).
 *
 * Invariants: cd_sectors <= CD_SECTORS_MAX; without a crash armed
 * cd_disk and cd_want stay equal. Locking: one thread; the state is
 * touched with interrupts disabled.
 */
#ifndef CUBRT_TEST_CRASHDISK_H
#define CUBRT_TEST_CRASHDISK_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cubrt/arch.h>

#define CD_SECTOR CUB_ARCH_BLK_SECTOR
#define CD_SECTORS_MAX 1024
#define CD_NO_CRASH UINT64_MAX

static uint8_t cd_disk[CD_SECTORS_MAX * CD_SECTOR];
static uint8_t cd_want[CD_SECTORS_MAX * CD_SECTOR];
static uint64_t cd_sectors = 512, cd_budget = CD_NO_CRASH, cd_writes;
static uint32_t cd_max = 128;	/* sectors a request may carry */
static unsigned cd_tear;	/* 0: the last sector lands whole */
static bool cd_hit[CD_SECTORS_MAX];
static bool cd_failed;

int cub_arch_blk_info(unsigned i, struct cub_arch_blk_info *info)
{
	if (i > 0)
		return -CUB_ENODEV;
	if (!info)
		return -CUB_EINVAL;
	*info = (struct cub_arch_blk_info){ .sectors = cd_sectors, .max_sectors = cd_max,
		.depth = 1, .model = "crashdisk", .name = "vda" };
	return 0;
}

/* One sector written at byte offset off of the disk. */
static void cd_put(size_t off, const uint8_t *src)
{
	memcpy(cd_want + off, src, CD_SECTOR);
	cd_writes++;
	cd_hit[off / CD_SECTOR] = true;
	if (cd_budget == CD_NO_CRASH) {
		memcpy(cd_disk + off, src, CD_SECTOR);
	} else if (cd_budget > 0) {
		cd_budget--;
		memcpy(cd_disk + off, src, cd_budget == 0 && cd_tear ? cd_tear : CD_SECTOR);
	}
}

int cub_arch_blk_submit(unsigned i, struct cub_arch_blk_req *r)
{
	unsigned long irq;
	int rc;

	if (i > 0)
		return -CUB_ENODEV;
	if ((rc = cub_arch_blk_req_check(r, cd_sectors, cd_max, false)))
		return rc;
	if (cd_failed)
		return -CUB_EIO;
	irq = cub_arch_irq_save();
	for (uint32_t k = 0; r->op != CUB_ARCH_BLK_FLUSH && k < r->count; k++) {
		size_t off = (size_t)(r->lba + k) * CD_SECTOR;
		uint8_t *b = (uint8_t *)r->buf + (size_t)k * CD_SECTOR;

		if (r->op == CUB_ARCH_BLK_READ)
			memcpy(b, cd_disk + off, CD_SECTOR);
		else
			cd_put(off, b);
	}
	r->slot = 0;
	r->done(r, 0);
	cub_arch_irq_restore(irq);
	return 0;
}

int cub_arch_blk_reset(unsigned i)
{
	if (i > 0)
		return -CUB_ENODEV;
	cd_failed = true;
	return 0;
}

int cub_arch_blk_reinit(unsigned i)
{
	if (i > 0)
		return -CUB_ENODEV;
	if (!cd_failed)
		return -CUB_EINVAL;
	cd_failed = false;
	return 0;
}

/* A new blank disk of `sectors`, requests of at most max sectors. */
static inline void cd_reset(uint64_t sectors, uint32_t max)
{
	cd_sectors = sectors;
	cd_max = max;
	cd_budget = CD_NO_CRASH;
	cd_tear = 0;
	cd_failed = false;
	memset(cd_disk, 0, sizeof(cd_disk));
	memset(cd_want, 0, sizeof(cd_want));
}

/* Arms a crash: `sectors` more sector writes land, the last torn after
 * tear bytes (0: whole). */
static inline void cd_crash_after(uint64_t sectors, unsigned tear)
{
	cd_budget = sectors;
	cd_tear = sectors ? tear : 0;
}

/* The machine is back: what reached the disk is all there is. */
static inline void cd_reboot(void)
{
	cd_budget = CD_NO_CRASH;
	cd_tear = 0;
	cd_failed = false;
	memcpy(cd_want, cd_disk, (size_t)cd_sectors * CD_SECTOR);
}

/* Every write since the crash was armed reached the disk whole. */
static inline bool cd_all_landed(void)
{
	return memcmp(cd_want, cd_disk, (size_t)cd_sectors * CD_SECTOR) == 0;
}

#endif
