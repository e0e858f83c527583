/*
 * blkdev.h - the shim's block devices (blkdev.c): /dev/vda, /dev/vdb, ...
 * over src/blk, for Linux programs. dev.c makes the nodes and routes
 * opens here; ioctl.c and fsync (fs_open.c) hand block files here.
 *
 * Numbers: major 253 (what Linux's virtio_blk gets on most systems),
 * minor 16 * disk (Linux keeps 15 partition minors after each disk).
 */
#ifndef CUBRT_SHIM_BLKDEV_H
#define CUBRT_SHIM_BLKDEV_H

#include "fd.h"

#define CUBI_BLK_MAJOR 253u
#define CUBI_BLK_RDEV(disk) ((CUBI_BLK_MAJOR << 8) | ((disk) * 16u))

/* Makes a node vdX (0660) in dir for every disk the platform has, and the
 * disks' bounce buffers. Contexts: boot of the fs, fs lock held. */
void cubi_blkdev_populate(struct cubi_rnode *dir);

/* Opens block device rdev: a file with no reference yet; NULL and *err:
 * -CUB_ENXIO no such disk, -CUB_EROFS write access to a read-only disk,
 * -CUB_EBUSY write access to the persisted directory's disk (persist.h),
 * -CUB_ENOMEM. fs lock held (never blocks). */
struct cubi_file *cubi_blkdev_open(uint32_t rdev, unsigned flags, long *err);

/* f's device number when f is a block-device file, else 0. */
uint32_t cubi_blkdev_rdev(struct cubi_file *f);

/* ioctl of a block file: BLKGETSIZE64, BLKGETSIZE, BLKSSZGET, BLKPBSZGET,
 * BLKROGET, BLKFLSBUF; others -ENOTTY. Contexts: task. */
long cubi_blkdev_ioctl(struct cubi_file *f, unsigned cmd, uintptr_t arg);

/* fsync/fdatasync of f: flushes the disk of a block file (0 or -EIO);
 * 0 for any other file. Contexts: task. */
long cubi_blkdev_sync(struct cubi_file *f);

#endif
