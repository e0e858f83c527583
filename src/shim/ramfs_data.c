/*
 * ramfs_data.c - what a node of the shim's in-memory file system holds
 * (ramfs.h is the contract, ramfs_impl.h the structures): the checks and
 * times of a regular file's read, write and truncate (its bytes are page
 * frames: ramfs_pages.c; a gap written over, or a size grown by
 * truncate, reads as zeros) and every node's attributes (stat, chmod,
 * times), and a regular file's seals (F_SEAL_*: what memfd.c's fcntl
 * adds) with the checks write, truncate and chmod make of them. A
 * symbolic link's target is set when ramfs.c makes the link and never
 * changes.
 *
 * Invariants (ramfs_impl.h's, as they bear on this file): links,
 * devices, sockets and named pipes are never read, written or
 * truncated here (special_p). A sealed node's bytes and attributes change only while
 * its owner's refresh hook runs. A file's seals are checked after the
 * errors Linux gives first (EISDIR, EINVAL, EACCES, EFBIG) and before
 * anything changes, so a refused call changes nothing.
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "ramfs_impl.h"

#define DIRENT_SIZE 32		/* what stat reports per directory entry */
#define MIN_CAP 64		/* smallest file buffer worth allocating */

/* Devices, sockets, links and named pipes keep no bytes to read or
 * write (a FIFO's are its pipe's, pipe_fifo.c): truncate -EINVAL. */
static bool special_p(const struct cubi_rnode *n)
{
	uint32_t fmt = n->mode & CUBI_S_IFMT;

	return fmt == CUBI_S_IFCHR || fmt == CUBI_S_IFBLK || fmt == CUBI_S_IFSOCK ||
	       fmt == CUBI_S_IFLNK || fmt == CUBI_S_IFIFO;
}

long cubi_ramfs_read(struct cubi_rnode *n, void *buf, size_t len, uint64_t off)
{
	size_t k;

	if (dir_p(n))
		return -CUB_EISDIR;
	if (special_p(n))
		return -CUB_EINVAL;
	n->atime = now();
	if (off >= n->f.size)
		return 0;
	k = CUB_MIN(len, n->f.size - (size_t)off);
	cubi_ramfs_pages_read(n, buf, k, off);
	return (long)k;
}

/* Whether n's bytes may change: 0, or -EISDIR (a directory), -EINVAL (a
 * link, device or socket), -EACCES (/proc's). */
static int changeable(struct cubi_rnode *n)
{
	if (dir_p(n))
		return -CUB_EISDIR;
	if (special_p(n))
		return -CUB_EINVAL;
	return cubi_ramfs_sealed(n) ? -CUB_EACCES : 0;
}

/* ------------------------------------------------------------ seals */

static bool reg_p(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFREG;
}

uint32_t cubi_ramfs_file_seals(const struct cubi_rnode *n)
{
	return reg_p(n) ? n->f.seals : 0;
}

void cubi_ramfs_set_file_seals(struct cubi_rnode *n, uint32_t seals)
{
	CUB_ASSERT(reg_p(n));
	n->f.seals = seals;
}

int cubi_ramfs_file_seal_check(const struct cubi_rnode *n, uint64_t end, bool writes)
{
	uint32_t seals = cubi_ramfs_file_seals(n);

	if (writes && (seals & (CUBI_SEAL_WRITE | CUBI_SEAL_FUTURE_WRITE)))
		return -CUB_EPERM;
	return (seals & CUBI_SEAL_GROW) && end > n->f.size ? -CUB_EPERM : 0;
}

/*
 * How many of the len bytes at off the seals let a write put in: len,
 * or under F_SEAL_GROW the part below the last page boundary under the
 * size, or -EPERM. Linux's shmem_write_begin checks each page's part of
 * a write in turn, and the first that would end past the size fails:
 * what went before it is the write's (short) count.
 */
static long sealed_len(const struct cubi_rnode *n, size_t len, uint64_t off)
{
	uint64_t whole = CUB_ALIGN_DOWN((uint64_t)n->f.size, CUB_PAGE_SIZE);
	int rc = cubi_ramfs_file_seal_check(n, off + len, true);

	if (rc == 0)
		return (long)len;
	if ((n->f.seals & (CUBI_SEAL_WRITE | CUBI_SEAL_FUTURE_WRITE)) || whole <= off)
		return rc;
	return (long)(whole - off);
}

/* --------------------------------------------------- write, truncate */

long cubi_ramfs_write(struct cubi_rnode *n, const void *buf, size_t len,
		      uint64_t off)
{
	long got;
	int rc;

	if ((rc = changeable(n)) != 0)
		return rc;
	if (len == 0)		/* Linux: no size change, no time update */
		return 0;
	if (off > CUBI_FILE_MAX || len > CUBI_FILE_MAX - off)
		return -CUB_EFBIG;
	if ((got = sealed_len(n, len, off)) < 0)
		return got;
	if ((got = cubi_ramfs_pages_write(n, buf, (size_t)got, off)) > 0)
		n->mtime = n->ctime = now();
	return got;
}

int cubi_ramfs_truncate(struct cubi_rnode *n, uint64_t size)
{
	int rc;

	if ((rc = changeable(n)) != 0)
		return rc;
	if (size > CUBI_FILE_MAX)
		return -CUB_EFBIG;
	if (size == n->f.size)	/* tmpfs: times change with the size only */
		return 0;
	if ((n->f.seals & CUBI_SEAL_SHRINK) && size < n->f.size)
		return -CUB_EPERM;
	if ((rc = cubi_ramfs_file_seal_check(n, size, false)) != 0)
		return rc;	/* growing under F_SEAL_GROW */
	if ((rc = cubi_ramfs_pages_resize(n, size)) != 0)
		return rc;
	n->mtime = n->ctime = now();
	return 0;
}

void cubi_ramfs_stat(const struct cubi_rnode *n, struct cubi_rstat *st)
{
	st->ino = n->ino;
	st->mode = n->mode;
	if (dir_p(n)) {
		st->nlink = cubi_ramfs_live(n) ? 2 + n->d.nsubdirs : 0;
		st->size = (uint64_t)n->d.nentries * DIRENT_SIZE;
	} else {
		st->nlink = n->nlink;
		st->size = n->f.size;	/* a link: its target's length */
	}
	st->atime = n->atime;
	st->mtime = n->mtime;
	st->ctime = n->ctime;
	st->rdev = (n->mode & CUBI_S_IFMT) == CUBI_S_IFCHR ||
		   (n->mode & CUBI_S_IFMT) == CUBI_S_IFBLK ? n->rdev : 0;
}

#define EXEC_BITS 0111u

int cubi_ramfs_chmod(struct cubi_rnode *n, uint32_t perm)
{
	if (cubi_ramfs_sealed(n))
		return -CUB_EPERM;
	if ((cubi_ramfs_file_seals(n) & CUBI_SEAL_EXEC) && ((n->mode ^ perm) & EXEC_BITS))
		return -CUB_EPERM;	/* Linux's shmem_setattr */
	n->mode = (n->mode & CUBI_S_IFMT) | (perm & PERM_BITS);
	n->ctime = now();
	return 0;
}

int cubi_ramfs_set_times(struct cubi_rnode *n, uint64_t atime, uint64_t mtime)
{
	if (cubi_ramfs_sealed(n))
		return -CUB_EPERM;
	if (atime != UINT64_MAX)
		n->atime = atime;
	if (mtime != UINT64_MAX)
		n->mtime = mtime;
	n->ctime = now();
	return 0;
}
