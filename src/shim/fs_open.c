/*
 * fs_open.c - the file-system calls that open and look: open, openat,
 * creat (O_PATH: a file that only names its node, file.c; a generated
 * file of /proc opens through procfs.c), stat, lstat, fstat,
 * newfstatat, access, faccessat(2) (those with a "nofollow" flag, and
 * lstat, see a symbolic link itself), and the
 * descriptor calls only files have (getdents64, pread64, pwrite64,
 * fsync, ftruncate) with truncate. fs.c has the plumbing and locking.
 *
 * A path that ends on a magic link of /proc (/proc/self/fd/N, /dev/stdout,
 * /proc/self/cwd, /proc/self/exe; path.c) names its object: a node of
 * the tree opens as any node does (a new open file with its own
 * position and the new open's flags; O_TRUNC truncates), even one with
 * no name left; an open file outside the tree opens anew through its
 * kind (reopen: a pipe, the console, a device; sockets and anon inodes
 * -ENXIO, as on Linux; with O_PATH an O_PATH file of any of them,
 * opath.c); stat and access look at the object. A named pipe's node
 * (mkfifo) opens an end of its pipe (pipe_fifo.c), and an open for reading
 * or writing only then waits for the other end outside the fs lock.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "blkdev.h"
#include "persist.h"
#include "fs_impl.h"
#include "procfs.h"

#define R_OK 4
#define W_OK 2
#define X_OK 1

/* --------------------------------------------------------------- open */

#define O_ACCMODE 3u
#define O_CREAT 0100u
#define O_EXCL 0200u
#define O_TRUNC 01000u
#define O_APPEND 02000u
#define O_DIRECTORY 0200000u
#define O_NOFOLLOW 0400000u
#define O_TMPFILE 020000000u

struct open_args {
	unsigned flags;
	uint32_t mode;
	struct cubi_file *file;		/* out */
};

/*
 * The node open names, created with O_CREAT. A last component that is a
 * link is followed unless O_NOFOLLOW or O_EXCL says not to (O_CREAT |
 * O_EXCL never follows: a link there, dangling or not, is -EEXIST), so
 * O_CREAT through a dangling link creates its target, as on Linux.
 */
static long open_node(struct cubi_rnode *start, const char *path,
		      const struct open_args *o, struct cubi_walk *w,
		      struct cubi_rnode **n)
{
	bool excl = (o->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	long rc = cubi_path_walk_how(start, path, excl || (o->flags & O_NOFOLLOW) ?
				     CUBI_WALK_NOFOLLOW : CUBI_WALK_FOLLOW, w);

	if (rc)
		return rc;
	if (w->file || w->node) {	/* a magic link's object */
		*n = w->node;
		if (w->slash && (!*n || !cubi_ramfs_is_dir(*n)))
			return -CUB_ENOTDIR;
		return excl ? -CUB_EEXIST : 0;
	}
	if (!w->len) {
		*n = w->dir;
		return excl ? -CUB_EEXIST : 0;
	}
	rc = cubi_ramfs_lookup(w->dir, w->name, w->len, n);
	if (rc == -CUB_ENOENT && (o->flags & O_CREAT)) {
		if (w->slash)
			return -CUB_EISDIR;
		return cubi_ramfs_create(w->dir, w->name, w->len, CUBI_S_IFREG |
					 (o->mode & 07777 & ~cubi_fs_umask), n);
	}
	if (rc == 0 && excl)
		return -CUB_EEXIST;
	if (rc == 0 && w->slash && !cubi_ramfs_is_dir(*n))
		return -CUB_ENOTDIR;
	return rc;
}

/* The file of n as the walk w found it; NULL: no memory. */
static struct cubi_file *open_at(struct cubi_rnode *n, unsigned keep,
				 const struct cubi_walk *w)
{
	return w->len ? cubi_file_open_at(n, keep, w->dir, w->name, w->len)
		      : cubi_file_open_at(n, keep, NULL, "", 0);
}

/* Opens f, an open file outside the tree that a magic link led to,
 * anew: a pipe, the console or a device (or an O_PATH file of one); a
 * socket or an anon inode (eventfd, epoll, timerfd, signalfd) cannot be
 * opened by a path on Linux either (-ENXIO; its inode has no open).
 * O_PATH: an O_PATH file of any of them (opath.c). */
static long reopen(struct cubi_file *f, struct open_args *o, unsigned keep)
{
	long rc;

	if (o->flags & O_DIRECTORY)
		return -CUB_ENOTDIR;
	if (o->flags & CUBI_O_PATH)
		o->file = cubi_opath_open(f, &rc);
	else if (!(o->file = cubi_dev_reopen(f, keep, &rc)) && rc == -CUB_ENXIO &&
		 !(o->file = cubi_opath_reopen(f, keep, &rc)) && rc == -CUB_ENXIO)
		o->file = cubi_pipe_reopen(f, keep, &rc);
	return o->file ? 0 : rc;
}

static long open_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct open_args *o = arg;
	unsigned acc = o->flags & O_ACCMODE;
	struct cubi_rnode *n;
	struct cubi_walk w;
	long rc = open_node(start, path, o, &w, &n);
	unsigned keep = acc | (o->flags & (CUBI_O_NONBLOCK | O_APPEND));
	struct cubi_rstat st;
	uint64_t tag;

	if (rc)
		return rc;
	if (w.file)
		return reopen(w.file, o, keep);
	cubi_ramfs_stat(n, &st);
	if (o->flags & CUBI_O_PATH) {	/* any node; nothing is opened */
		if ((o->flags & O_DIRECTORY) && !cubi_ramfs_is_dir(n))
			return -CUB_ENOTDIR;
		o->file = open_at(n, CUBI_O_PATH, &w);
		return o->file ? 0 : -CUB_ENOMEM;
	} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFLNK) {	/* O_NOFOLLOW met one */
		return o->flags & O_DIRECTORY ? -CUB_ENOTDIR : -CUB_ELOOP;
	} else if (cubi_ramfs_is_dir(n)) {
		if (acc != 0 || (o->flags & (O_TRUNC | O_CREAT)))
			return -CUB_EISDIR;
	} else if (o->flags & O_DIRECTORY) {
		return -CUB_ENOTDIR;
	} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFCHR ||
		   (st.mode & CUBI_S_IFMT) == CUBI_S_IFBLK) {
		o->file = cubi_dev_open(st.rdev, keep, &rc);	/* O_TRUNC: no effect */
		return o->file ? 0 : rc;
	} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFSOCK) {
		return -CUB_ENXIO;	/* Linux: sockets are not opened by name */
	} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFIFO) {	/* O_TRUNC: none */
		o->file = cubi_fifo_open(cubi_ramfs_fifo_id(n), keep, &rc);
		return o->file ? 0 : rc;
	} else if (cubi_ramfs_synth(n, &tag)) {		/* generated: /proc */
		o->file = cubi_procfs_open(n, w.dir, w.name, w.len, keep, &rc);
		return o->file ? 0 : rc;
	} else if ((o->flags & O_TRUNC) && acc != 0 &&
		   (rc = cubi_ramfs_truncate(n, 0)) != 0) {
		return rc;
	}
	o->file = open_at(n, keep, &w);
	return o->file ? 0 : -CUB_ENOMEM;
}

static long do_open(long dirfd, uintptr_t upath, unsigned flags, uint32_t mode)
{
	struct open_args o = { flags, mode, NULL };
	unsigned long irq;
	long fd;

	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -CUB_EOPNOTSUPP;
	if (flags & CUBI_O_PATH)	/* Linux ignores the others */
		o.flags &= CUBI_O_PATH | CUBI_O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
	fd = cubi_fs_path_call(dirfd, upath, false, open_op, &o);
	if (fd)
		return fd;
	fd = cubi_fifo_wait(o.file);	/* a named pipe's partner (pipe_fifo.c) */
	if (fd == 0) {
		irq = cub_arch_irq_save();
		fd = cubi_fd_install(o.file, flags & CUBI_O_CLOEXEC);
		cub_arch_irq_restore(irq);
	}
	if (fd < 0 && !o.file->refs) {	/* a new file: released (file.c's
					 * free locks); not the console */
		o.file->refs = 1;
		cubi_file_put(o.file);
	}
	return fd;
}

CUBI_SYS(open)
{
	return do_open(AT_FDCWD, A0(r), (unsigned)A1(r), (uint32_t)A2(r));
}

CUBI_SYS(openat)
{
	return do_open((long)(int)A0(r), A1(r), (unsigned)A2(r), (uint32_t)A3(r));
}

CUBI_SYS(creat)
{
	return do_open(AT_FDCWD, A0(r), O_CREAT | 1 | O_TRUNC, (uint32_t)A1(r));
}

/* --------------------------------------------------------------- stat */

/* Linux x86-64 struct stat (144 bytes) from a node's or file's stat. */
static int put_stat(uintptr_t ubuf, const struct cubi_rstat *st)
{
	uint64_t b[18] = { 0 };
	uint32_t ids[2] = { st->mode, 0 };	/* st_mode, st_uid */

	b[0] = 1;				/* st_dev */
	b[1] = st->ino;
	b[2] = st->nlink;
	cub_memcpy(&b[3], ids, sizeof(ids));	/* st_gid and pad stay 0 */
	b[5] = st->rdev;
	b[6] = st->size;
	b[7] = 4096;				/* st_blksize */
	b[8] = (st->size + 511) / 512;		/* st_blocks */
	b[9] = st->atime / 1000000000u;
	b[10] = st->atime % 1000000000u;
	b[11] = st->mtime / 1000000000u;
	b[12] = st->mtime % 1000000000u;
	b[13] = st->ctime / 1000000000u;
	b[14] = st->ctime % 1000000000u;
	return cubi_copy_out(ubuf, b, sizeof(b));
}

struct stat_args {
	enum cubi_walk_how how;
	struct cubi_rstat st;		/* out */
};

static long stat_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct stat_args *s = arg;
	struct cubi_rnode *n = start;
	struct cubi_file *f = NULL;
	int rc = path[0] ? cubi_path_resolve_obj(start, path, s->how, &n, &f) : 0;

	if (rc)
		return rc;
	if (f)			/* a pipe, socket...: its own stat */
		return cubi_file_stat(f, &s->st);
	cubi_ramfs_stat(n, &s->st);
	return 0;
}

static long fd_stat(uint64_t fd, uintptr_t ubuf)
{
	struct cubi_rstat st;
	int rc = cubi_fd_stat(fd, &st);

	return rc ? rc : put_stat(ubuf, &st);
}

long cubi_fs_stat_at(long dirfd, uintptr_t upath, uint64_t flags, struct cubi_rstat *st)
{
	struct stat_args s = { flags & AT_SYMLINK_NOFOLLOW ? CUBI_WALK_NOFOLLOW
							     : CUBI_WALK_FOLLOW, { 0 } };
	char c;
	long rc;

	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	if ((flags & AT_EMPTY_PATH) && cubi_copy_in(&c, upath, 1) == 0 && !c &&
	    (int)dirfd != AT_FDCWD)
		return cubi_fd_stat((uint64_t)dirfd, st);	/* any descriptor */
	rc = cubi_fs_path_call(dirfd, upath, flags & AT_EMPTY_PATH, stat_op, &s);
	*st = s.st;
	return rc;
}

/* stat, lstat (AT_SYMLINK_NOFOLLOW: a link itself), newfstatat. */
static long do_stat(long dirfd, uintptr_t upath, uintptr_t ubuf, uint64_t flags)
{
	struct cubi_rstat st;
	long rc = cubi_fs_stat_at(dirfd, upath, flags, &st);

	return rc ? rc : put_stat(ubuf, &st);
}

CUBI_SYS(fstat)
{
	return fd_stat(A0(r), A1(r));
}

CUBI_SYS(stat)
{
	return do_stat(AT_FDCWD, A0(r), A1(r), 0);
}

CUBI_SYS(lstat)
{
	return do_stat(AT_FDCWD, A0(r), A1(r), AT_SYMLINK_NOFOLLOW);
}

CUBI_SYS(newfstatat)
{
	return do_stat((long)(int)A0(r), A1(r), A2(r), A3(r));
}

struct access_args {
	unsigned mode;
	enum cubi_walk_how how;
};

static long access_op(struct cubi_rnode *start, const char *path, void *arg)
{
	unsigned mode = ((struct access_args *)arg)->mode;
	struct cubi_rnode *n;
	struct cubi_file *f;
	struct cubi_rstat st;
	int rc = cubi_path_resolve_obj(start, path, ((struct access_args *)arg)->how, &n, &f);

	if (rc)
		return rc;
	if (f)
		rc = cubi_file_stat(f, &st);
	else
		cubi_ramfs_stat(n, &st);
	if (rc)
		return rc;
	if ((mode & X_OK) && (st.mode & CUBI_S_IFMT) != CUBI_S_IFDIR && !(st.mode & 0111))
		return -CUB_EACCES;	/* root needs one execute bit */
	return 0;
}

static long do_access(long dirfd, uintptr_t upath, uint64_t mode, uint64_t flags)
{
	struct access_args a = { (unsigned)mode, flags & AT_SYMLINK_NOFOLLOW ?
				 CUBI_WALK_NOFOLLOW : CUBI_WALK_FOLLOW };

	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
	    flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x200 /* AT_EACCESS */))
		return -CUB_EINVAL;
	return cubi_fs_path_call(dirfd, upath, false, access_op, &a);
}

CUBI_SYS(access)
{
	return do_access(AT_FDCWD, A0(r), A1(r), 0);
}

CUBI_SYS(faccessat)
{
	return do_access((long)(int)A0(r), A1(r), A2(r), 0);
}

CUBI_SYS(faccessat2)
{
	return do_access((long)(int)A0(r), A1(r), A2(r), A3(r));
}

/* ------------------------------------------------ descriptor-only calls */

CUBI_SYS(getdents64)
{
	struct cubi_file *f;
	long rc;

	if (!cubi_user_writable(A1(r), A2(r)))
		return cubi_fd_valid(A0(r)) ? -CUB_EFAULT : -CUB_EBADF;
	if (!(f = cubi_fd_get(A0(r))))
		return -CUB_EBADF;
	rc = cubi_file_getdents(f, A1(r), A2(r));
	cubi_file_put(f);
	return rc;
}

CUBI_SYS(pread64)
{
	return cubi_fd_pio(A0(r), A1(r), A2(r), (int64_t)A3(r), false);
}

CUBI_SYS(pwrite64)
{
	return cubi_fd_pio(A0(r), A1(r), A2(r), (int64_t)A3(r), true);
}

/* Memory is the storage: nothing to flush, but a disk's cache
 * (blkdev.c), and the persisted directory's snapshot when f is in it
 * (persist.c: -EIO, -ENOSPC when it fails). fdatasync is the same call. */
CUBI_SYS(fsync)
{
	struct cubi_file *f = cubi_fd_get(A0(r));
	long rc;

	if (!f)
		return -CUB_EBADF;
	rc = cubi_blkdev_sync(f);
	if (!rc)
		rc = cubi_persist_fsync(f);
	cubi_file_put(f);
	return rc;
}

static long ftruncate_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	if (cubi_ramfs_is_dir(n) || (f->flags & CUBI_O_ACCMODE) == 0)
		return -CUB_EINVAL;	/* not open for writing */
	return cubi_ramfs_truncate(n, *(uint64_t *)arg);
}

CUBI_SYS(ftruncate)
{
	uint64_t len = A1(r);

	if ((int64_t)len < 0)
		return -CUB_EINVAL;
	return cubi_fs_fd_call_open(A0(r), -CUB_EINVAL, ftruncate_op, &len);
}

/* A magic link's object outside the tree (a pipe, socket, device) is
 * no regular file: -EINVAL, as Linux's vfs_truncate says. */
static long truncate_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	struct cubi_file *f;
	int rc = cubi_path_resolve_obj(start, path, CUBI_WALK_FOLLOW, &n, &f);

	if (rc)
		return rc;
	return f ? -CUB_EINVAL : cubi_ramfs_truncate(n, *(uint64_t *)arg);
}

CUBI_SYS(truncate)
{
	uint64_t len = A1(r);

	if ((int64_t)len < 0)
		return -CUB_EINVAL;
	return cubi_fs_path_call(AT_FDCWD, A0(r), false, truncate_op, &len);
}
