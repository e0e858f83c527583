/*
 * cubrt/blk.h - block devices (disks) for coroutines.
 *
 * A disk is an array of 512-byte sectors that outlives a boot (x86: a
 * virtio-blk device, `scripts/run --disk FILE`; host: the files named by
 * $CUBRT_HOST_DISK). Disks are numbered 0, 1, ... in the order the
 * platform found them (docs/blk.md).
 *
 * Every transfer is synchronous for the calling coroutine: it parks until
 * the device has finished, while other coroutines run. Any number of
 * coroutines may issue requests on the same disk at once; when the
 * device's queue is full they wait their turn in FIFO order. Nothing is
 * allocated on these paths: a request's record lives on the caller's
 * stack. A request longer than the device takes at once is split into
 * several, one after the other (a failure part-way leaves the sectors
 * before it written or read). Buffers need no alignment.
 *
 * Timeouts: each request the device has taken must be answered within
 * the disk's timeout (CUB_BLK_TIMEOUT_DEFAULT, 30 s as Linux's SCSI
 * default; cub_blk_set_timeout; 0 waits forever), counted from when the
 * device took it (not the wait for a place). When one is not, the disk
 * is declared failed: the device is reset (it stops touching memory),
 * the request that timed out returns -CUB_ETIMEDOUT, every other one in
 * flight or waiting for a place -CUB_EIO, and so does every later
 * request, at once. A failed disk stays failed (cub_blk_info says so)
 * until the program calls cub_blk_recover, which re-initialises the
 * device; nothing does so on its own (docs/blk.md says why).
 *
 * Errors: -CUB_ENODEV no such disk; -CUB_EINVAL a NULL argument, a count
 * of 0, or sectors past the end (lba + count > sectors, overflow
 * included); -CUB_EROFS a write to a read-only disk; -CUB_EIO the device
 * reported an error or answered malformed, or the disk has failed;
 * -CUB_ETIMEDOUT the device did not answer in time (the disk has failed).
 */
#ifndef CUBRT_BLK_H
#define CUBRT_BLK_H

#include <cubrt/arch.h>

#define CUB_BLK_SECTOR CUB_ARCH_BLK_SECTOR
#define CUB_BLK_MAX 4		/* disks cub_blk_open knows */
#define CUB_BLK_TIMEOUT_DEFAULT (30 * 1000000000ull)	/* ns: 30 s */

struct cub_blk;

struct cub_blk_info {
	uint64_t sectors;	/* capacity in 512-byte sectors */
	uint32_t sector_size;	/* 512 */
	bool read_only;
	char name[8];		/* "vda", "vdb", ... as Linux names them */
	const char *model;	/* "virtio-blk", "host-file" */
	uint32_t depth;		/* requests the device takes at once */
	uint32_t max_sectors;	/* sectors one request carries at most */
	uint64_t requests;	/* requests completed since boot */
	uint64_t queue_waits;	/* times a request waited for a place */
	uint64_t timeouts;	/* requests that timed out (each fails
				 * the disk once) */
	uint64_t timeout_ns;	/* the timeout in force; 0: none */
	uint64_t resets;	/* times the disk failed and its device
				 * was reset */
	uint64_t recoveries;	/* cub_blk_recover calls that succeeded */
	uint64_t recover_failures; /* ... and that found the device gone */
	bool failed;		/* reset after a timeout: every request
				 * fails with -CUB_EIO */
	bool recovering;	/* cub_blk_recover is at work */
};

/* Sets *dev to disk i. The handle stays valid forever; opening again is
 * allowed and gives the same handle (the capacity is read again; the
 * timeout and a failure stay).
 * -CUB_ENODEV, -CUB_EINVAL (NULL dev). Contexts: task, boot. */
int cub_blk_open(unsigned i, struct cub_blk **dev);

/* Fills *info. -CUB_EINVAL for a NULL argument. Contexts: any. */
int cub_blk_info(struct cub_blk *dev, struct cub_blk_info *info);

/* Reads (writes) count sectors from (to) sector lba; buf holds count *
 * 512 bytes. 0 or a negative code (see the top). Contexts: task. */
int cub_blk_read(struct cub_blk *dev, uint64_t lba, void *buf, uint32_t count);
int cub_blk_write(struct cub_blk *dev, uint64_t lba, const void *buf,
		  uint32_t count);

/* Sets the time the device has to answer each request submitted from
 * now on (requests already in flight keep theirs): ns nanoseconds, any
 * value (a huge one is capped at ~292 years); 0 waits forever. Opening
 * the disk again keeps it. 0, -CUB_EINVAL (NULL dev). Contexts: any. */
int cub_blk_set_timeout(struct cub_blk *dev, uint64_t ns);

/*
 * Brings a failed disk back into service: the platform re-initialises
 * its device from reset (virtio: reset confirmed, acknowledge, driver,
 * features, a fresh queue, its interrupt re-armed, bus mastering on,
 * driver-ok) and requests reach it again. No request issued before the
 * failure ever completes afterwards: those in flight were completed by
 * the reset, and the rest (a waiter for a place, the later pieces of a
 * split transfer) get -CUB_EIO. Requests issued while the recovery runs
 * get -CUB_EIO at once. The timeout and the counters stay.
 * 0; -CUB_EINVAL a NULL dev or a disk that has not failed; -CUB_EBUSY
 * a recovery of this disk is already running; -CUB_EIO the device did
 * not come back (its reset unconfirmed, or it refused the set-up or came
 * back different): the disk stays failed and a later call may try
 * again; -CUB_ENOMEM no memory for the new queue. Contexts: task (it
 * may busy-wait some milliseconds with interrupts off: x86).
 */
int cub_blk_recover(struct cub_blk *dev);

/* Makes every write completed before it durable (the device's cache
 * flushed). 0, -CUB_EINVAL, -CUB_EIO. Contexts: task. */
int cub_blk_flush(struct cub_blk *dev);

#endif
