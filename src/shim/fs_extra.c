/*
 * fs_extra.c - the file-system calls that describe and size: statfs,
 * fstatfs, statx, fallocate, fadvise64, sync and syncfs.
 *
 * Two file systems answer statfs: the tree (a tmpfs: its size is the
 * machine's memory, its free space the free page frames, since a file's
 * bytes live in page frames: ramfs_pages.c) and /proc, whose nodes are the sealed ones
 * (procfs.h). Descriptors of no node (pipes, sockets, the console,
 * eventfds...) answer as Linux's pseudo file systems do. The sync calls
 * write the persisted directory's snapshot when it changed (persist.c):
 * syncfs (any open descriptor: the tree is one file system) returns its
 * error, sync (void on Linux) tells it on the console.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "fs_impl.h"
#include "persist.h"

#define TMPFS_MAGIC 0x01021994
#define PROC_SUPER_MAGIC 0x9fa0
#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534f434b
#define DEVPTS_SUPER_MAGIC 0x1cd1
#define ANON_INODE_FS_MAGIC 0x09041934
#define ST_VALID 0x20			/* f_flags: the flags are valid */
#define ST_NOSUID 2
#define ST_NODEV 4
#define ST_NOEXEC 8
#define ENODEV 19

/* Linux x86-64 struct statfs (120 bytes). */
struct k_statfs {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags, spare[4];
};
_Static_assert(sizeof(struct k_statfs) == 120, "struct statfs");

/* What statfs says of a file system of this magic number. */
static void fill_statfs(struct k_statfs *s, int64_t magic)
{
	cub_memset(s, 0, sizeof(*s));
	s->type = magic;
	s->bsize = s->frsize = CUB_PAGE_SIZE;
	s->namelen = CUBI_NAME_MAX;
	s->flags = ST_VALID;
	s->fsid[0] = (int32_t)magic;
	if (magic == TMPFS_MAGIC) {
		s->blocks = s->files = cub_frame_total_count();
		s->bfree = s->bavail = s->ffree = cub_frame_free_count();
	} else if (magic == PROC_SUPER_MAGIC) {
		s->flags |= ST_NOSUID | ST_NODEV | ST_NOEXEC;
	}
}

static int64_t node_magic(const struct cubi_rnode *n)
{
	uint64_t arg;

	return cubi_ramfs_synth(n, &arg) ? PROC_SUPER_MAGIC : TMPFS_MAGIC;
}

/* A descriptor of no node: its pseudo file system by its type. */
static int64_t pseudo_magic(uint32_t mode)
{
	switch (mode & CUBI_S_IFMT) {
	case CUBI_S_IFIFO: return PIPEFS_MAGIC;
	case CUBI_S_IFSOCK: return SOCKFS_MAGIC;
	case CUBI_S_IFCHR: return DEVPTS_SUPER_MAGIC;	/* the console */
	default: return ANON_INODE_FS_MAGIC;		/* eventfd, epoll... */
	}
}

/* A magic link's object outside the tree (a pipe, socket...): its
 * pseudo file system, as fstatfs of it. */
static long statfs_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	struct cubi_file *f;
	struct cubi_rstat st;
	int rc = cubi_fs_resolve(start, path, CUBI_WALK_FOLLOW, &n, &f);

	if (rc == 0 && f && (rc = cubi_file_stat(f, &st)) == 0)
		*(int64_t *)arg = pseudo_magic(st.mode);
	else if (rc == 0 && !f)
		*(int64_t *)arg = node_magic(n);
	return rc;
}

static long fstatfs_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	(void)f;
	*(int64_t *)arg = node_magic(n);
	return 0;
}

static long put_statfs(uintptr_t ubuf, int64_t magic)
{
	struct k_statfs s;

	fill_statfs(&s, magic);
	return cubi_copy_out(ubuf, &s, sizeof(s));
}

CUBI_SYS(statfs)
{
	int64_t magic = 0;
	long rc = cubi_fs_path_call(AT_FDCWD, A0(r), false, statfs_op, &magic);

	return rc ? rc : put_statfs(A1(r), magic);
}

CUBI_SYS(fstatfs)
{
	struct cubi_rstat st;
	int64_t magic = 0;
	long rc = cubi_fs_fd_call(A0(r), 1, fstatfs_op, &magic);

	if (rc == 1) {
		if ((rc = cubi_fd_stat(A0(r), &st)))
			return rc;
		magic = pseudo_magic(st.mode);
	}
	return rc ? rc : put_statfs(A1(r), magic);
}

/* -------------------------------------------------------------- statx */

#define AT_STATX_FORCE_SYNC 0x2000u
#define AT_STATX_DONT_SYNC 0x4000u
#define STATX_BASIC_STATS 0x7ffu
#define STATX_RESERVED 0x80000000u

struct k_statx_ts {
	int64_t sec;
	uint32_t nsec;
	int32_t pad;
};

/* Linux's struct statx (256 bytes). */
struct k_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad0;
	uint64_t ino, size, blocks, attributes_mask;
	struct k_statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct k_statx) == 256, "struct statx");

static struct k_statx_ts ts_of(uint64_t ns)
{
	return (struct k_statx_ts){ (int64_t)(ns / 1000000000u), (uint32_t)(ns % 1000000000u), 0 };
}

/* The basic stats, whatever the mask asked (Linux may return more than
 * asked; no birth time is kept). Device numbers as stat's (st_dev 1). */
static void fill_statx(struct k_statx *x, const struct cubi_rstat *st)
{
	cub_memset(x, 0, sizeof(*x));
	x->mask = STATX_BASIC_STATS;
	x->blksize = 4096;
	x->nlink = st->nlink;
	x->mode = (uint16_t)st->mode;
	x->ino = st->ino;
	x->size = st->size;
	x->blocks = (st->size + 511) / 512;
	x->atime = ts_of(st->atime);
	x->mtime = ts_of(st->mtime);
	x->ctime = ts_of(st->ctime);
	x->rdev_major = (st->rdev >> 8) & 0xfff;
	x->rdev_minor = (st->rdev & 0xff) | ((st->rdev >> 12) & 0xfff00);
	x->dev_minor = 1;
}

/* statx(dirfd, path, flags, mask, buf): newfstatat's flags plus the
 * sync ones (nothing to sync: ignored, but not both at once). */
CUBI_SYS(statx)
{
	uint64_t flags = A2(r);
	struct cubi_rstat st;
	struct k_statx x;
	long rc;

	if ((flags & AT_STATX_FORCE_SYNC) && (flags & AT_STATX_DONT_SYNC))
		return -CUB_EINVAL;
	if ((uint32_t)A3(r) & STATX_RESERVED)
		return -CUB_EINVAL;
	flags &= ~(uint64_t)(AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC);
	if ((rc = cubi_fs_stat_at((long)(int)A0(r), A1(r), flags, &st)))
		return rc;
	fill_statx(&x, &st);
	return cubi_copy_out(A4(r), &x, sizeof(x));
}

/* --------------------------------------------- fallocate, fadvise, sync */

#define FALLOC_FL_KEEP_SIZE 1u
#define FALLOC_FL_PUNCH_HOLE 2u
#define POSIX_FADV_MAX 5u

struct falloc_args {
	uint32_t mode;
	uint64_t off, end;
};

static long falloc_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	struct falloc_args *a = arg;
	struct cubi_rstat st;

	if (cubi_seal_fallocate(f, n, a->mode, a->end))	/* seals: memfd.c */
		return -CUB_EPERM;
	if ((f->flags & CUBI_O_ACCMODE) == 0)
		return -CUB_EBADF;	/* not open for writing */
	cubi_ramfs_stat(n, &st);
	if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFDIR)
		return -CUB_EISDIR;
	if ((st.mode & CUBI_S_IFMT) != CUBI_S_IFREG)
		return -ENODEV;
	if (a->end > CUBI_FILE_MAX)
		return -CUB_EFBIG;
	if (a->mode & FALLOC_FL_PUNCH_HOLE) {	/* the range reads zeros */
		cubi_ramfs_pages_punch(n, a->off, a->end);
		return 0;
	}
	/* The size first (mode 0), then a frame for every page in range
	 * below it, as tmpfs allocates: later writes cannot run out. */
	if (!(a->mode & FALLOC_FL_KEEP_SIZE) && a->end > st.size) {
		long rc = cubi_ramfs_truncate(n, a->end);

		if (rc)
			return rc;
	}
	return cubi_ramfs_pages_reserve(n, a->off, a->end);
}

/* A descriptor without a node: a pipe -ESPIPE, else -ENODEV. */
static long no_node_error(uint64_t fd)
{
	struct cubi_rstat st;
	int rc = cubi_fd_stat(fd, &st);

	if (rc)
		return rc;
	return (st.mode & CUBI_S_IFMT) == CUBI_S_IFIFO ? -CUB_ESPIPE : -ENODEV;
}

/* fallocate(fd, mode, offset, len), as tmpfs does it: mode 0 or
 * FALLOC_FL_KEEP_SIZE give the range its frames, PUNCH_HOLE|KEEP_SIZE
 * frees them (the range reads zeros); zeroing, collapsing, inserting
 * and unsharing ranges: -EOPNOTSUPP, as on tmpfs. */
CUBI_SYS(fallocate)
{
	struct falloc_args a = { (uint32_t)A1(r), (uint64_t)A2(r), 0 };
	int64_t off = (int64_t)A2(r), len = (int64_t)A3(r);
	long rc;

	if (off < 0 || len <= 0)
		return -CUB_EINVAL;
	if (a.mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -CUB_EOPNOTSUPP;
	if ((a.mode & FALLOC_FL_PUNCH_HOLE) && !(a.mode & FALLOC_FL_KEEP_SIZE))
		return -CUB_EOPNOTSUPP;	/* Linux: a hole never changes the size */
	a.end = (uint64_t)off + (uint64_t)len;
	if (a.end < (uint64_t)off || a.end > (uint64_t)INT64_MAX)
		return -CUB_EFBIG;
	rc = cubi_fs_fd_call_open(A0(r), 1, falloc_op, &a);
	return rc == 1 ? no_node_error(A0(r)) : rc;
}

/* fadvise64(fd, offset, len, advice): advice is only a hint. */
CUBI_SYS(fadvise64)
{
	struct cubi_rstat st;
	int rc = cubi_fd_stat(A0(r), &st);

	if (rc)
		return rc;
	if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFIFO)
		return -CUB_ESPIPE;
	if (A3(r) > POSIX_FADV_MAX || (int64_t)A2(r) < 0)
		return -CUB_EINVAL;
	return 0;
}

CUBI_SYS(sync)
{
	long rc = cubi_persist_sync();

	(void)r;
	if (rc)
		cub_printk("persist: sync: snapshot failed: %s\n", cub_strerror((int)rc));
	return 0;
}

CUBI_SYS(syncfs)
{
	return cubi_fd_valid(A0(r)) ? cubi_persist_sync() : -CUB_EBADF;
}
