/*
 * platform/host/blk.c - the block contract of arch.h on the host, over
 * ordinary files, so that the portable layer (src/blk) and the shim's
 * block devices are unit-tested natively.
 *
 * $CUBRT_HOST_DISK names the disks: "path[:ro][,path[:ro]]..." (up to
 * HOST_DISKS); unset or empty means no disk. The variable is read again
 * whenever it has changed since the last call, so a test can switch
 * disks with setenv() between cases. A disk's capacity is its file size
 * rounded down to whole sectors; ":ro" makes it read-only.
 *
 * Requests are done with pread/pwrite/fdatasync inside cub_arch_blk_submit,
 * interrupts disabled, and done() is called before it returns (arch.h
 * allows that); a host I/O error or a short transfer completes with
 * -CUB_EIO. So no request is ever left in flight, and -CUB_EAGAIN never
 * happens here (depth is reported as HOST_DEPTH all the same).
 * cub_arch_blk_reset therefore has nothing to stop or complete: it marks
 * the disk failed, and its submits fail with -CUB_EIO from then on, until
 * cub_arch_blk_reinit (which clears the mark: a file needs no set-up) or
 * until the variable changes (new disks).
 *
 * Invariants: disks[0..ndisks) are open descriptors matching `seen`, the
 * value of the variable they were made from. Locking: the host tests run
 * on one thread; the state is only touched with interrupts disabled.
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOST_DISKS 4
#define HOST_DEPTH 8
#define HOST_MAX_SECTORS 128

static struct {
	int fd;
	uint64_t sectors;
	bool ro;
	bool failed;		/* cub_arch_blk_reset was called */
} disks[HOST_DISKS];
static unsigned ndisks;
static char seen[4096];

static void close_all(void)
{
	for (unsigned i = 0; i < ndisks; i++)
		close(disks[i].fd);
	ndisks = 0;
}

/* Opens one "path[:ro]" entry as the next disk; a bad one is skipped
 * with a message on stderr. */
static void open_one(char *spec)
{
	size_t n = strlen(spec);
	bool ro = n > 3 && strcmp(spec + n - 3, ":ro") == 0;
	struct stat st;
	int fd;

	if (ro)
		spec[n - 3] = 0;
	if (ndisks == HOST_DISKS || !*spec)
		return;
	fd = open(spec, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "host blk: cannot open %s\n", spec);
		if (fd >= 0)
			close(fd);
		return;
	}
	disks[ndisks].fd = fd;
	disks[ndisks].sectors = (uint64_t)st.st_size / CUB_ARCH_BLK_SECTOR;
	disks[ndisks].ro = ro;
	disks[ndisks].failed = false;
	ndisks++;
}

/* Brings disks[] in line with the variable. */
static void refresh(void)
{
	const char *v = getenv("CUBRT_HOST_DISK");
	char buf[sizeof(seen)], *save = NULL;

	if (!v)
		v = "";
	if (strlen(v) >= sizeof(seen) || strcmp(v, seen) == 0)
		return;
	close_all();
	strcpy(seen, v);
	strcpy(buf, v);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		open_one(t);
}

int cub_arch_blk_info(unsigned i, struct cub_arch_blk_info *info)
{
	unsigned long irq = cub_arch_irq_save();
	int rc = 0;

	refresh();
	if (i >= ndisks)
		rc = -CUB_ENODEV;
	else if (!info)
		rc = -CUB_EINVAL;
	else {
		*info = (struct cub_arch_blk_info){ .sectors = disks[i].sectors,
			.max_sectors = HOST_MAX_SECTORS, .depth = HOST_DEPTH,
			.read_only = disks[i].ro, .model = "host-file" };
		snprintf(info->name, sizeof(info->name), "vd%c", 'a' + (int)i);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

/* The transfer itself: 0 or -CUB_EIO. */
static int transfer(unsigned i, const struct cub_arch_blk_req *r)
{
	size_t len = (size_t)r->count * CUB_ARCH_BLK_SECTOR;
	off_t off = (off_t)(r->lba * CUB_ARCH_BLK_SECTOR);
	ssize_t n;

	if (r->op == CUB_ARCH_BLK_FLUSH)
		return fdatasync(disks[i].fd) ? -CUB_EIO : 0;
	if (r->op == CUB_ARCH_BLK_READ)
		n = pread(disks[i].fd, r->buf, len, off);
	else
		n = pwrite(disks[i].fd, r->buf, len, off);
	return n == (ssize_t)len ? 0 : -CUB_EIO;
}

int cub_arch_blk_submit(unsigned i, struct cub_arch_blk_req *req)
{
	unsigned long irq = cub_arch_irq_save();
	int rc;

	refresh();
	if (i >= ndisks)
		rc = -CUB_ENODEV;
	else
		rc = cub_arch_blk_req_check(req, disks[i].sectors, HOST_MAX_SECTORS,
					    disks[i].ro);
	if (!rc && disks[i].failed)
		rc = -CUB_EIO;
	if (!rc) {
		req->slot = 0;
		req->done(req, transfer(i, req));
	}
	cub_arch_irq_restore(irq);
	return rc;
}

/* No request is ever in flight here (see the top): marking the disk
 * failed is all. */
int cub_arch_blk_reset(unsigned i)
{
	unsigned long irq = cub_arch_irq_save();
	int rc = 0;

	refresh();
	if (i >= ndisks)
		rc = -CUB_ENODEV;
	else
		disks[i].failed = true;
	cub_arch_irq_restore(irq);
	return rc;
}

/* A file has no device to set up again: the mark goes. */
int cub_arch_blk_reinit(unsigned i)
{
	unsigned long irq = cub_arch_irq_save();
	int rc = 0;

	refresh();
	if (i >= ndisks)
		rc = -CUB_ENODEV;
	else if (!disks[i].failed)
		rc = -CUB_EINVAL;
	else
		disks[i].failed = false;
	cub_arch_irq_restore(irq);
	return rc;
}
