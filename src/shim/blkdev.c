/*
 * blkdev.c - block devices for Linux programs: /dev/vda, /dev/vdb, ...
 * (blkdev.h) over src/blk's synchronous calls.
 *
 * A block file reads and writes at any offset and length, as Linux's
 * block devices do through their page cache: whole sectors go through a
 * per-disk bounce buffer; a partial first or last sector of a write is
 * read first and merged (read-modify-write). Reads at or past the end
 * return 0 and are cut at the end; a write at or past the end fails with
 * -ENOSPC and is cut at the end (Linux's blkdev_write_iter). lseek is
 * on the disk's size (SEEK_END gives it); fstat says S_IFBLK, st_rdev
 * 253:16*n, st_size 0 (as Linux: programs ask BLKGETSIZE64). Opening a
 * read-only disk for writing fails with -EROFS, of the disk that keeps
 * the persisted directory (persist.c) with -EBUSY, so that a program
 * cannot corrupt its own store; a write through a file
 * open for reading only is -EBADF (the fd layer). fsync and fdatasync
 * flush the disk's write cache. There is no cache here: every call is a
 * disk transfer, so writes are on the disk (in its cache until a flush)
 * when the call returns.
 *
 * Memory: the bounce buffer (BOUNCE bytes) is allocated once per disk
 * when /dev is populated at boot, so no read or write allocates. The program's buffer is copied
 * in and out with interrupts disabled after checking it is mapped, since
 * the device's copy happens in irq context where a fault is fatal, and
 * another thread may unmap it while the call waits.
 *
 * Locking: a disk's mutex serialises its calls (bounce buffer, the
 * read-modify-write of shared sectors, each file's position); held
 * across the disk transfers (a coroutine lock: others run meanwhile).
 */
#include <cubrt/blk.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>

#include "blkdev.h"
#include "persist.h"
#include "shim_impl.h"

#define BOUNCE (64u * CUB_BLK_SECTOR)
#define SECTORS_A_BOUNCE (BOUNCE / CUB_BLK_SECTOR)
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

struct disk {
	struct cub_blk *dev;		/* NULL: no such disk */
	uint64_t size;			/* bytes */
	bool ro;
	struct cub_mutex lock;		/* see the top */
	uint8_t *bounce;
};

struct bfile {
	struct cubi_file file;
	unsigned disk;
	uint64_t pos;			/* disk lock */
};

static struct disk disks[CUB_BLK_MAX];
static const struct cubi_file_ops blk_ops;

static struct bfile *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct bfile, file);
}

/* Sets up disk i (again: its size may have changed); false without it. */
static bool setup(unsigned i, struct cub_blk_info *info)
{
	struct disk *d = &disks[i];
	struct cub_blk *dev;

	if (cub_blk_open(i, &dev) || cub_blk_info(dev, info))
		return false;
	if (!d->bounce) {
		if (!(d->bounce = cub_malloc(BOUNCE)))
			return false;
		cub_mutex_init(&d->lock);
	}
	d->size = info->sectors * CUB_BLK_SECTOR;
	d->ro = info->read_only;
	d->dev = dev;
	return true;
}

void cubi_blkdev_populate(struct cubi_rnode *dir)
{
	struct cub_blk_info info;
	struct cubi_rnode *n;

	for (unsigned i = 0; i < CUB_BLK_MAX; i++)
		if (setup(i, &info))
			cubi_ramfs_mkblk(dir, info.name, cub_strlen(info.name),
					 0660, CUBI_BLK_RDEV(i), &n);
}

/* Disk number of rdev, or -1. */
static int disk_of(uint32_t rdev)
{
	unsigned minor = rdev & 0xFF;

	if (rdev >> 8 != CUBI_BLK_MAJOR || minor % 16 || minor / 16 >= CUB_BLK_MAX)
		return -1;
	return disks[minor / 16].dev ? (int)(minor / 16) : -1;
}

struct cubi_file *cubi_blkdev_open(uint32_t rdev, unsigned flags, long *err)
{
	int i = disk_of(rdev);
	struct bfile *b;

	if (i < 0) {
		*err = -CUB_ENXIO;
		return NULL;
	}
	if (disks[i].ro && (flags & CUBI_O_ACCMODE) != 0) {
		*err = -CUB_EROFS;
		return NULL;
	}
	if (cubi_persist_owns((unsigned)i) && (flags & CUBI_O_ACCMODE) != 0) {
		*err = -CUB_EBUSY;
		return NULL;
	}
	if (!(b = cub_malloc(sizeof(*b)))) {
		*err = -CUB_ENOMEM;
		return NULL;
	}
	*b = (struct bfile){ { .ops = &blk_ops, .flags = flags }, (unsigned)i, 0 };
	return &b->file;
}

uint32_t cubi_blkdev_rdev(struct cubi_file *f)
{
	return f->ops == &blk_ops ? CUBI_BLK_RDEV(of_file(f)->disk) : 0;
}

/* Copies between the program's buffer and the bounce buffer, after
 * checking (interrupts off, so nothing unmaps it in between) that the
 * program's range is still mapped. */
static bool user_copy(void *kern, uint8_t *user, size_t n, bool out)
{
	unsigned long irq = cub_arch_irq_save();
	bool ok = out ? cubi_user_readable((uintptr_t)user, n)
		      : cubi_user_writable((uintptr_t)user, n);

	if (ok && out)
		cub_memcpy(kern, user, n);
	else if (ok)
		cub_memcpy(user, kern, n);
	cub_arch_irq_restore(irq);
	return ok;
}

/* One piece of a transfer: n bytes at byte offset at, within one bounce
 * buffer (at % 512 + n <= BOUNCE). 0 or -errno. Disk lock held. */
static long piece(struct disk *d, uint8_t *ubuf, size_t n, uint64_t at, bool out)
{
	uint64_t lba = at / CUB_BLK_SECTOR;
	size_t head = at % CUB_BLK_SECTOR;
	uint32_t cnt = (uint32_t)((head + n + CUB_BLK_SECTOR - 1) / CUB_BLK_SECTOR);
	size_t last = (size_t)(cnt - 1) * CUB_BLK_SECTOR;
	int rc = 0;

	if (!out) {
		rc = cub_blk_read(d->dev, lba, d->bounce, cnt);
		if (!rc && !user_copy(d->bounce + head, ubuf, n, false))
			return -CUB_EFAULT;
		return rc ? -CUB_EIO : 0;
	}
	if (head)			/* a partial first sector: merge */
		rc = cub_blk_read(d->dev, lba, d->bounce, 1);
	if (!rc && (head + n) % CUB_BLK_SECTOR && (cnt > 1 || !head))
		rc = cub_blk_read(d->dev, lba + cnt - 1, d->bounce + last, 1);
	if (rc)
		return -CUB_EIO;
	if (!user_copy(d->bounce + head, ubuf, n, true))
		return -CUB_EFAULT;
	return cub_blk_write(d->dev, lba, d->bounce, cnt) ? -CUB_EIO : 0;
}

/* The whole call, in pieces; bytes moved, or -errno when none were.
 * Disk lock held. */
static long transfer(struct disk *d, uint8_t *ubuf, size_t n, uint64_t at,
		     bool out)
{
	size_t done = 0;
	long rc = 0;

	if (at >= d->size)
		return out && n ? -CUB_ENOSPC : 0;
	n = (size_t)CUB_MIN((uint64_t)n, d->size - at);
	while (done < n && !rc) {
		size_t head = (at + done) % CUB_BLK_SECTOR;
		size_t k = CUB_MIN(n - done, (size_t)BOUNCE - head);

		rc = piece(d, ubuf + done, k, at + done, out);
		if (!rc)
			done += k;
	}
	return done ? (long)done : rc;
}

static long blk_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		   bool out)
{
	struct bfile *b = of_file(f);
	struct disk *d = &disks[b->disk];
	uint64_t at;
	long r;

	if (out && d->ro)
		return -CUB_EROFS;
	cub_mutex_lock(&d->lock);
	at = off >= 0 ? (uint64_t)off : b->pos;
	r = transfer(d, buf, n, at, out);
	if (r > 0 && off < 0)
		b->pos = at + (uint64_t)r;
	cub_mutex_unlock(&d->lock);
	return r;
}

static long blk_seek(struct cubi_file *f, int64_t off, int whence)
{
	struct bfile *b = of_file(f);
	struct disk *d = &disks[b->disk];
	int64_t base, to;
	long r;

	cub_mutex_lock(&d->lock);
	base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (int64_t)b->pos :
	       (int64_t)d->size;
	if ((whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) ||
	    __builtin_add_overflow(base, off, &to) || to < 0) {
		r = -CUB_EINVAL;
	} else {
		b->pos = (uint64_t)to;
		r = (long)to;
	}
	cub_mutex_unlock(&d->lock);
	return r;
}

static int blk_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	*st = (struct cubi_rstat){ .ino = (uintptr_t)f / 16, .nlink = 1,
		.mode = CUBI_S_IFBLK | 0660, .rdev = cubi_blkdev_rdev(f) };
	return 0;
}

static void *blk_release(struct cubi_file *f)
{
	return of_file(f);
}

static const struct cubi_file_ops blk_ops = {
	.io = blk_io, .seek = blk_seek, .stat = blk_stat,
	.release = blk_release, .mode = CUBI_S_IFBLK | 0660,
};

long cubi_blkdev_sync(struct cubi_file *f)
{
	if (f->ops != &blk_ops)
		return 0;
	return cub_blk_flush(disks[of_file(f)->disk].dev) ? -CUB_EIO : 0;
}

/* Linux's numbers (include/uapi/linux/fs.h). */
#define BLKROGET 0x125eu
#define BLKGETSIZE 0x1260u
#define BLKFLSBUF 0x1261u
#define BLKSSZGET 0x1268u
#define BLKPBSZGET 0x127bu
#define BLKGETSIZE64 0x80081272u

long cubi_blkdev_ioctl(struct cubi_file *f, unsigned cmd, uintptr_t arg)
{
	struct disk *d;
	uint64_t v;

	if (f->ops != &blk_ops)
		return -CUB_ENOTTY;
	d = &disks[of_file(f)->disk];
	switch (cmd) {
	case BLKGETSIZE64:
		v = d->size;
		return cubi_copy_out(arg, &v, sizeof(v)) ? -CUB_EFAULT : 0;
	case BLKGETSIZE:	/* unsigned long, in sectors */
		v = d->size / CUB_BLK_SECTOR;
		return cubi_copy_out(arg, &v, sizeof(v)) ? -CUB_EFAULT : 0;
	case BLKSSZGET:
	case BLKPBSZGET:
		return cubi_ioctl_int_out(arg, CUB_BLK_SECTOR) ? -CUB_EFAULT : 0;
	case BLKROGET:
		return cubi_ioctl_int_out(arg, d->ro) ? -CUB_EFAULT : 0;
	case BLKFLSBUF:		/* no cache here: flush the disk's */
		return cubi_blkdev_sync(f);
	}
	return -CUB_ENOTTY;
}
