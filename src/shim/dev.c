/*
 * dev.c - the character devices in /dev: null, zero, full, random and
 * urandom, as Linux numbers them (major 1), and console (5:1); the node
 * tty (5:0), whose open fails -ENXIO as Linux's does for a process with
 * no controlling terminal (the console is not a terminal here: terminal
 * ioctls are -ENOTTY, docs/shim.md), so that programs fall back to their
 * standard descriptors as they do there; and the links stdin, stdout, stderr (to /proc/self/fd/0-2) and fd (to
 * /proc/self/fd); and the directory shm (POSIX shared memory); and the
 * block devices vda, vdb, ... (blkdev.c, major 253). The fs
 * creates these nodes at boot
 * (cubi_dev_populate). Opening a major-1 device gives a file whose io op
 * is the device (no position, no lock: nothing is shared); opening the
 * console gives the console's one open file, the one descriptors 0-2
 * start with (it has no position, so sharing it loses nothing). A
 * device file opens anew through /proc/self/fd/N (cubi_dev_reopen) as
 * its node would.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include <cubrt/fmt.h>

#include "blkdev.h"
#include "procfs.h"

#define DEV(major, minor) (((major) << 8) | (minor))	/* Linux's dev_t */

enum dev_kind { DEV_NULL, DEV_ZERO, DEV_FULL, DEV_RANDOM, DEV_CONSOLE };

static const struct {
	const char *name;
	uint32_t rdev;
	enum dev_kind kind;
} devices[] = {
	{ "null", DEV(1, 3), DEV_NULL },
	{ "zero", DEV(1, 5), DEV_ZERO },
	{ "full", DEV(1, 7), DEV_FULL },
	{ "random", DEV(1, 8), DEV_RANDOM },
	{ "urandom", DEV(1, 9), DEV_RANDOM },
	{ "console", DEV(5, 1), DEV_CONSOLE },
};

/* The links Linux's userspace puts in /dev (udev, systemd): through
 * /proc's descriptor links, so they follow redirections. */
static const struct {
	const char *name, *target;
} links[] = {
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
	{ "fd", "/proc/self/fd" },
};

static const struct cubi_file_ops dev_ops;

struct devfile {
	struct cubi_file file;
	enum dev_kind kind;
	uint32_t rdev;
};

static struct devfile *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct devfile, file);
}

/* Reads: null ends at once, zero and full give zeros, random random
 * bytes. Writes: full has no space, the others take everything. */
static long dev_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		   bool out)
{
	enum dev_kind kind = of_file(f)->kind;

	(void)off;
	if (out)
		return kind == DEV_FULL ? -CUB_ENOSPC : (long)n;
	if (kind == DEV_NULL)
		return 0;
	if (kind == DEV_RANDOM)
		cubi_random_fill(buf, n);
	else
		cub_memset(buf, 0, n);
	return (long)n;
}

/* Seeking a device succeeds and means nothing, as on Linux. */
static long dev_seek(struct cubi_file *f, int64_t off, int whence)
{
	(void)f, (void)off, (void)whence;
	return 0;
}

static int dev_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	*st = (struct cubi_rstat){ .ino = (uintptr_t)f / 16, .nlink = 1,
		.mode = CUBI_S_IFCHR | 0666, .rdev = of_file(f)->rdev };
	return 0;
}

bool cubi_dev_path(struct cubi_file *f, char *buf, size_t size)
{
	uint32_t b = cubi_blkdev_rdev(f);

	if (b) {
		cub_snprintf(buf, size, "/dev/vd%c", 'a' + (int)((b & 0xFF) / 16));
		return true;
	}
	if (f->ops != &dev_ops)
		return false;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(devices); i++)
		if (devices[i].rdev == of_file(f)->rdev) {
			cub_snprintf(buf, size, "/dev/%s", devices[i].name);
			return true;
		}
	return false;
}

uint32_t cubi_dev_rdev(struct cubi_file *f)
{
	if (f == &cubi_console_file)
		return DEV(5, 1);
	if (cubi_blkdev_rdev(f))
		return cubi_blkdev_rdev(f);
	return f->ops == &dev_ops ? of_file(f)->rdev : 0;
}

static void *dev_release(struct cubi_file *f)
{
	return of_file(f);
}

static const struct cubi_file_ops dev_ops = {
	.io = dev_io, .seek = dev_seek, .stat = dev_stat,
	.release = dev_release, .mode = CUBI_S_IFCHR | 0666,
};

struct cubi_file *cubi_dev_open(uint32_t rdev, unsigned flags, long *err)
{
	struct devfile *d;

	if (rdev >> 8 == CUBI_BLK_MAJOR)
		return cubi_blkdev_open(rdev, flags, err);
	for (size_t i = 0; i < CUB_ARRAY_SIZE(devices); i++) {
		if (devices[i].rdev != rdev)
			continue;
		if (devices[i].kind == DEV_CONSOLE)	/* its descriptor's ref */
			return &cubi_console_file;	/* comes with the install */
		if (!(d = cub_malloc(sizeof(*d)))) {
			*err = -CUB_ENOMEM;
			return NULL;
		}
		*d = (struct devfile){ { .ops = &dev_ops, .flags = flags },
				       devices[i].kind, rdev };
		return &d->file;
	}
	*err = -CUB_ENXIO;	/* a node with no device behind it */
	return NULL;
}

struct cubi_file *cubi_dev_reopen(struct cubi_file *f, unsigned flags, long *err)
{
	if (f == &cubi_console_file)
		return f;
	if (f->ops == &dev_ops)
		return cubi_dev_open(of_file(f)->rdev, flags, err);
	if (cubi_blkdev_rdev(f))
		return cubi_blkdev_open(cubi_blkdev_rdev(f), flags, err);
	*err = -CUB_ENXIO;
	return NULL;
}

void cubi_dev_populate(struct cubi_rnode *root)
{
	struct cubi_rnode *dev, *n;

	if (cubi_ramfs_create(root, "dev", 3, CUBI_S_IFDIR | 0755, &dev) &&
	    !cubi_ramfs_is_dir(dev))
		return;		/* an archive put a file there */
	for (size_t i = 0; i < CUB_ARRAY_SIZE(devices); i++)
		cubi_ramfs_mknod(dev, devices[i].name, cub_strlen(devices[i].name),
				 devices[i].kind == DEV_CONSOLE ? 0600 : 0666, devices[i].rdev, &n);
	for (size_t i = 0; i < CUB_ARRAY_SIZE(links); i++)
		cubi_ramfs_symlink(dev, links[i].name, cub_strlen(links[i].name),
				   links[i].target, cub_strlen(links[i].target), &n);
	/* POSIX shared memory and named semaphores (shm_open, sem_open) are
	 * files here, mapped MAP_SHARED; sticky and writable by all, as
	 * Linux's tmpfs there. */
	cubi_ramfs_create(dev, "shm", 3, CUBI_S_IFDIR | 01777, &n);
	/* No device behind it: cubi_dev_open says -CUB_ENXIO. */
	cubi_ramfs_mknod(dev, "tty", 3, 0666, DEV(5, 0), &n);
	cubi_blkdev_populate(dev);
}
