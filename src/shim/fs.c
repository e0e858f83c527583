/*
 * fs.c - the path-based file-system calls over ramfs: open, stat, access,
 * mkdir, rmdir, unlink, rename, truncate, chdir, getcwd, chmod, utimensat,
 * readlink, and the descriptor calls only files have (getdents64, pread,
 * pwrite, ftruncate, fsync, fstat).
 *
 * The tree starts with /tmp, /dev, /etc/hosts and whatever cpio archives
 * the machine booted with (boot modules: scripts/run --files); it lives in
 * memory and is gone at exit. Everything runs as root: permission bits are kept and
 * reported, not enforced (only X_OK needs an execute bit, as for root).
 *
 * Locking: one coroutine mutex (fs_lock) serialises every walk and ramfs
 * call, the working directory and the umask. A call copies its path in
 * and takes a reference to its directory descriptor before locking, and
 * installs a new descriptor or drops references after unlocking: a
 * file's last put takes fs_lock itself (file.c).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>

#include "shim_impl.h"

#define PATH_MAX 4096
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_NO_AUTOMOUNT 0x800
#define AT_EMPTY_PATH 0x1000
#define R_OK 4
#define W_OK 2
#define X_OK 1

static struct cub_mutex fs_lock = CUB_MUTEX_INIT(fs_lock);
static struct cubi_rnode *cwd;		/* held; NULL: the root */
static uint32_t umask_bits = 022;
static bool booted;

/* /etc/hosts naming the loopback address, unless an archive brought
 * one: Go's and musl's resolvers read it, so "localhost" resolves. */
static void default_hosts(void)
{
	static const char hosts[] = "127.0.0.1\tlocalhost\n";
	struct cubi_rnode *etc, *f;

	if (cubi_ramfs_create(cubi_ramfs_root(), "etc", 3, CUBI_S_IFDIR | 0755, &etc) &&
	    !cubi_ramfs_is_dir(etc))
		return;
	if (cubi_ramfs_create(etc, "hosts", 5, CUBI_S_IFREG | 0644, &f) == 0)
		cubi_ramfs_write(f, hosts, sizeof(hosts) - 1, 0);
}

/* Unpacks the boot modules that are cpio archives (fs lock held). */
static void unpack_modules(void)
{
	struct cubi_rnode *tmp;
	const void *base;
	size_t len;

	cubi_ramfs_create(cubi_ramfs_root(), "tmp", 3, CUBI_S_IFDIR | 01777, &tmp);
	for (unsigned i = 0; cub_arch_boot_module(i, &base, &len); i++) {
		long n;

		if (len < 6 || cub_memcmp(base, "07070", 5) != 0)
			continue;	/* not cpio (module 0: the image) */
		n = cubi_cpio_unpack(base, len, cubi_ramfs_root(), NULL);
		if (n < 0)
			cub_printk("shim: boot module %u: bad cpio archive (%ld); "
				   "unpacked what came before\n", i, n);
	}
	cubi_dev_populate(cubi_ramfs_root());
	default_hosts();
}

void cubi_fs_lock(void)
{
	cub_mutex_lock(&fs_lock);
	if (!booted) {
		booted = true;
		unpack_modules();
	}
}

void cubi_fs_unlock(void)
{
	cub_mutex_unlock(&fs_lock);
}

void cubi_fs_boot(void)
{
	cubi_fs_lock();
	cubi_fs_unlock();
}

/* ------------------------------------------------------ call plumbing */

/* A call's path and the directory it is relative to. */
struct at {
	char *path;			/* PATH_MAX bytes from the heap: thread
					 * stacks are small (16 KiB) */
	struct cubi_file *dir;		/* dirfd's file (a reference) or NULL */
};

/* Before the lock: copies the path in, takes dirfd's file when the path
 * is relative to it. empty_ok: "" names dirfd itself (AT_EMPTY_PATH). */
static int at_begin(struct at *a, long dirfd, uintptr_t upath, bool empty_ok)
{
	int rc;

	a->dir = NULL;
	if (!(a->path = cub_malloc(PATH_MAX)))
		return -CUB_ENOMEM;
	rc = cubi_copy_str_in(a->path, upath, PATH_MAX);
	if (rc)
		return rc == -CUB_ERANGE ? -CUB_ENAMETOOLONG : rc;
	if (!a->path[0] && !empty_ok)
		return -CUB_ENOENT;
	if (a->path[0] == '/' || (int)dirfd == AT_FDCWD)
		return 0;
	a->dir = cubi_fd_get((uint64_t)dirfd);
	return a->dir ? 0 : -CUB_EBADF;
}

/* Under the lock: where a relative walk starts (for "", the node
 * itself), or NULL for -ENOTDIR. */
static struct cubi_rnode *at_start(struct at *a)
{
	struct cubi_rnode *n;

	if (!a->dir)
		return cwd ? cwd : cubi_ramfs_root();
	n = cubi_file_node(a->dir);
	return n && (cubi_ramfs_is_dir(n) || !a->path[0]) ? n : NULL;
}

/* After the lock. */
static void at_end(struct at *a)
{
	cub_free(a->path);
	a->path = NULL;
	if (a->dir)
		cubi_file_put(a->dir);
}

typedef long (*path_op)(struct cubi_rnode *start, const char *path, void *arg);

/* Runs op on one path under the lock. */
static long path_call(long dirfd, uintptr_t upath, bool empty_ok, path_op op,
		      void *arg)
{
	struct at a;
	struct cubi_rnode *start;
	long rc = at_begin(&a, dirfd, upath, empty_ok);

	if (rc == 0) {
		cubi_fs_lock();
		start = at_start(&a);
		rc = start ? op(start, a.path, arg) : -CUB_ENOTDIR;
		cubi_fs_unlock();
	}
	at_end(&a);
	return rc;
}

/* The node a path names; "" (with AT_EMPTY_PATH) is start itself. */
static int resolve(struct cubi_rnode *start, const char *path,
		   struct cubi_rnode **out)
{
	if (!path[0]) {
		*out = start;
		return 0;
	}
	return cubi_path_resolve(start, path, out);
}

/* --------------------------------------------------------------- open */

#define O_ACCMODE 3u
#define O_CREAT 0100u
#define O_EXCL 0200u
#define O_TRUNC 01000u
#define O_APPEND 02000u
#define O_DIRECTORY 0200000u
#define O_TMPFILE 020000000u

struct open_args {
	unsigned flags;
	uint32_t mode;
	struct cubi_file *file;		/* out */
};

/* The node open names, created with O_CREAT. */
static long open_node(struct cubi_rnode *start, const char *path,
		      const struct open_args *o, struct cubi_rnode **n)
{
	struct cubi_walk w;
	long rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len) {
		*n = w.dir;
		return (o->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) ? -CUB_EEXIST : 0;
	}
	rc = cubi_ramfs_lookup(w.dir, w.name, w.len, n);
	if (rc == -CUB_ENOENT && (o->flags & O_CREAT)) {
		if (w.slash)
			return -CUB_EISDIR;
		return cubi_ramfs_create(w.dir, w.name, w.len, CUBI_S_IFREG |
					 (o->mode & 07777 & ~umask_bits), n);
	}
	if (rc == 0 && (o->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -CUB_EEXIST;
	if (rc == 0 && w.slash && !cubi_ramfs_is_dir(*n))
		return -CUB_ENOTDIR;
	return rc;
}

static long open_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct open_args *o = arg;
	unsigned acc = o->flags & O_ACCMODE;
	struct cubi_rnode *n;
	long rc = open_node(start, path, o, &n);
	unsigned keep = acc | (o->flags & (CUBI_O_NONBLOCK | O_APPEND));
	struct cubi_rstat st;

	if (rc)
		return rc;
	cubi_ramfs_stat(n, &st);
	if (cubi_ramfs_is_dir(n)) {
		if (acc != 0 || (o->flags & (O_TRUNC | O_CREAT)))
			return -CUB_EISDIR;
	} else if (o->flags & O_DIRECTORY) {
		return -CUB_ENOTDIR;
	} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFCHR) {
		o->file = cubi_dev_open(st.rdev, keep, &rc);	/* O_TRUNC: no effect */
		return o->file ? 0 : rc;
	} else if ((o->flags & O_TRUNC) && acc != 0 &&
		   (rc = cubi_ramfs_truncate(n, 0)) != 0) {
		return rc;
	}
	o->file = cubi_file_open(n, keep);
	return o->file ? 0 : -CUB_ENOMEM;
}

static long do_open(long dirfd, uintptr_t upath, unsigned flags, uint32_t mode)
{
	struct open_args o = { flags, mode, NULL };
	unsigned long irq;
	long fd;

	if ((flags & O_TMPFILE) == O_TMPFILE)
		return -CUB_EOPNOTSUPP;
	fd = path_call(dirfd, upath, false, open_op, &o);
	if (fd)
		return fd;
	irq = cub_arch_irq_save();
	fd = cubi_fd_install(o.file, flags & CUBI_O_CLOEXEC);
	cub_arch_irq_restore(irq);
	if (fd < 0) {			/* releases it: file.c's free locks */
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

static long stat_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	int rc = resolve(start, path, &n);

	if (rc == 0)
		cubi_ramfs_stat(n, arg);
	return rc;
}

static long fd_stat(uint64_t fd, uintptr_t ubuf)
{
	struct cubi_rstat st;
	int rc = cubi_fd_stat(fd, &st);

	return rc ? rc : put_stat(ubuf, &st);
}

static long do_stat(long dirfd, uintptr_t upath, uintptr_t ubuf, uint64_t flags)
{
	struct cubi_rstat st;
	char c;
	long rc;

	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	if ((flags & AT_EMPTY_PATH) && cubi_copy_in(&c, upath, 1) == 0 && !c &&
	    (int)dirfd != AT_FDCWD)
		return fd_stat((uint64_t)dirfd, ubuf);	/* any descriptor */
	rc = path_call(dirfd, upath, flags & AT_EMPTY_PATH, stat_op, &st);
	return rc ? rc : put_stat(ubuf, &st);
}

CUBI_SYS(fstat)
{
	return fd_stat(A0(r), A1(r));
}

/* No symbolic links: lstat is stat. */
CUBI_SYS(stat)
{
	return do_stat(AT_FDCWD, A0(r), A1(r), 0);
}

CUBI_SYS(lstat)
{
	return do_stat(AT_FDCWD, A0(r), A1(r), 0);
}

CUBI_SYS(newfstatat)
{
	return do_stat((long)(int)A0(r), A1(r), A2(r), A3(r));
}

static long access_op(struct cubi_rnode *start, const char *path, void *arg)
{
	unsigned mode = *(unsigned *)arg;
	struct cubi_rnode *n;
	struct cubi_rstat st;
	int rc = cubi_path_resolve(start, path, &n);

	if (rc)
		return rc;
	cubi_ramfs_stat(n, &st);
	if ((mode & X_OK) && !cubi_ramfs_is_dir(n) && !(st.mode & 0111))
		return -CUB_EACCES;	/* root needs one execute bit */
	return 0;
}

static long do_access(long dirfd, uintptr_t upath, uint64_t mode, uint64_t flags)
{
	unsigned m = (unsigned)mode;

	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
	    flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | 0x200 /* AT_EACCESS */))
		return -CUB_EINVAL;
	return path_call(dirfd, upath, false, access_op, &m);
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

/* Memory is the storage: nothing to flush. */
CUBI_SYS(fsync)
{
	return cubi_fd_valid(A0(r)) ? 0 : -CUB_EBADF;
}

CUBI_SYS(ftruncate)
{
	struct cubi_file *f;
	struct cubi_rnode *n;
	long rc = -CUB_EINVAL;

	if ((int64_t)A1(r) < 0)
		return -CUB_EINVAL;
	if (!(f = cubi_fd_get(A0(r))))
		return -CUB_EBADF;
	cubi_fs_lock();
	n = cubi_file_node(f);
	if (n && !cubi_ramfs_is_dir(n) && (f->flags & CUBI_O_ACCMODE) != 0)
		rc = cubi_ramfs_truncate(n, A1(r));
	cubi_fs_unlock();
	cubi_file_put(f);
	return rc;
}

static long truncate_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	int rc = cubi_path_resolve(start, path, &n);

	return rc ? rc : cubi_ramfs_truncate(n, *(uint64_t *)arg);
}

CUBI_SYS(truncate)
{
	uint64_t len = A1(r);

	if ((int64_t)len < 0)
		return -CUB_EINVAL;
	return path_call(AT_FDCWD, A0(r), false, truncate_op, &len);
}

/* ------------------------------------------------------ names in dirs */

static long mkdir_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	struct cubi_walk w;
	int rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len)
		return -CUB_EEXIST;
	return cubi_ramfs_create(w.dir, w.name, w.len, CUBI_S_IFDIR |
				 (*(uint32_t *)arg & 07777 & ~umask_bits), &n);
}

CUBI_SYS(mkdir)
{
	uint32_t mode = (uint32_t)A1(r);

	return path_call(AT_FDCWD, A0(r), false, mkdir_op, &mode);
}

CUBI_SYS(mkdirat)
{
	uint32_t mode = (uint32_t)A2(r);

	return path_call((long)(int)A0(r), A1(r), false, mkdir_op, &mode);
}

/* unlink (rmdir false) or rmdir of a path's last component. */
static long remove_op(struct cubi_rnode *start, const char *path, void *arg)
{
	bool rmdir = *(bool *)arg;
	struct cubi_rnode *n;
	struct cubi_walk w;
	int rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len)	/* ".", "..", "/": as Linux answers each */
		return !rmdir ? -CUB_EISDIR : w.dot ? -CUB_EINVAL : -CUB_EBUSY;
	if (!rmdir && w.slash) {
		rc = cubi_ramfs_lookup(w.dir, w.name, w.len, &n);
		return rc ? rc : cubi_ramfs_is_dir(n) ? -CUB_EISDIR : -CUB_ENOTDIR;
	}
	return cubi_ramfs_unlink(w.dir, w.name, w.len, rmdir);
}

static long do_remove(long dirfd, uintptr_t upath, bool rmdir)
{
	return path_call(dirfd, upath, false, remove_op, &rmdir);
}

CUBI_SYS(rmdir)
{
	return do_remove(AT_FDCWD, A0(r), true);
}

CUBI_SYS(unlink)
{
	return do_remove(AT_FDCWD, A0(r), false);
}

CUBI_SYS(unlinkat)
{
	if (A2(r) & ~(uint64_t)AT_REMOVEDIR)
		return -CUB_EINVAL;
	return do_remove((long)(int)A0(r), A1(r), A2(r) != 0);
}

#define RENAME_NOREPLACE 1u

/* Both paths walked under the lock; the last components renamed. */
static long rename_locked(struct at *from, struct at *to, bool noreplace)
{
	struct cubi_rnode *fs = at_start(from), *ts = at_start(to);
	struct cubi_walk fw, tw;
	long rc;

	if (!fs || !ts)
		return -CUB_ENOTDIR;
	if ((rc = cubi_path_walk(fs, from->path, &fw)) ||
	    (rc = cubi_path_walk(ts, to->path, &tw)))
		return rc;
	if (!fw.len || !tw.len)
		return fw.dot || tw.dot ? -CUB_EINVAL : -CUB_EBUSY;
	if (fw.slash || tw.slash) {	/* only directories take a '/' */
		struct cubi_rnode *n;

		rc = cubi_ramfs_lookup(fw.dir, fw.name, fw.len, &n);
		if (rc == 0 && !cubi_ramfs_is_dir(n))
			return -CUB_ENOTDIR;
	}
	return cubi_ramfs_rename(fw.dir, fw.name, fw.len, tw.dir, tw.name,
				 tw.len, noreplace);
}

static long do_rename(long ofd, uintptr_t opath, long nfd, uintptr_t npath,
		      uint64_t flags)
{
	struct at from, to;
	long rc;

	if (flags & ~(uint64_t)RENAME_NOREPLACE)
		return -CUB_EINVAL;	/* RENAME_EXCHANGE, _WHITEOUT */
	rc = at_begin(&from, ofd, opath, false);
	if (rc == 0)
		rc = at_begin(&to, nfd, npath, false);
	else
		to = (struct at){ NULL, NULL };
	if (rc == 0) {
		cubi_fs_lock();
		rc = rename_locked(&from, &to, flags != 0);
		cubi_fs_unlock();
	}
	at_end(&from);
	at_end(&to);
	return rc;
}

CUBI_SYS(rename)
{
	return do_rename(AT_FDCWD, A0(r), AT_FDCWD, A1(r), 0);
}

CUBI_SYS(renameat)
{
	return do_rename((long)(int)A0(r), A1(r), (long)(int)A2(r), A3(r), 0);
}

CUBI_SYS(renameat2)
{
	return do_rename((long)(int)A0(r), A1(r), (long)(int)A2(r), A3(r), A4(r));
}

/* ------------------------------------------- working directory, misc */

/* Prepends "/name of n in its parent" to the path ending at *end (fs
 * lock held): the parent's listing is searched for n's inode. */
static int prepend_name(struct cubi_rnode *n, char *buf, size_t *end)
{
	struct cubi_rnode *parent = cubi_ramfs_parent(n);
	struct cubi_rdirent e;
	struct cubi_rstat st;
	uint64_t cookie = 2;	/* past "." and ".." */
	int rc;

	cubi_ramfs_stat(n, &st);
	if (st.nlink == 0)
		return -CUB_ENOENT;	/* removed: no path leads here */
	while ((rc = cubi_ramfs_readdir(parent, &cookie, &e)) == 1) {
		if (e.ino != st.ino)
			continue;
		if (e.len + 1 > *end)
			return -CUB_ERANGE;
		*end -= e.len;
		cub_memcpy(buf + *end, e.name, e.len);
		buf[--*end] = '/';
		return 0;
	}
	return rc < 0 ? rc : -CUB_ENOENT;
}

/* getcwd(buf, size): the length with the NUL, as the system call does. */
CUBI_SYS(getcwd)
{
	char *buf = cub_malloc(PATH_MAX);
	size_t end = PATH_MAX - 1;
	long rc = 0;

	if (!buf)
		return -CUB_ENOMEM;
	buf[end] = '\0';
	cubi_fs_lock();
	for (struct cubi_rnode *n = cwd; n && n != cubi_ramfs_root() && !rc;
	     n = cubi_ramfs_parent(n))
		rc = prepend_name(n, buf, &end);
	cubi_fs_unlock();
	if (!rc && end == PATH_MAX - 1)
		buf[--end] = '/';
	if (!rc && PATH_MAX - end > A1(r))
		rc = -CUB_ERANGE;
	if (!rc)
		rc = cubi_copy_out(A0(r), buf + end, PATH_MAX - end);
	if (!rc)
		rc = (long)(PATH_MAX - end);
	cub_free(buf);
	return rc;
}

/* Makes directory n the working directory (fs lock held). */
static long set_cwd(struct cubi_rnode *n)
{
	if (!cubi_ramfs_is_dir(n))
		return -CUB_ENOTDIR;
	cubi_ramfs_get(n);
	if (cwd)
		cubi_ramfs_put(cwd);
	cwd = n;
	return 0;
}

static long chdir_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	int rc = cubi_path_resolve(start, path, &n);

	(void)arg;
	return rc ? rc : set_cwd(n);
}

CUBI_SYS(chdir)
{
	return path_call(AT_FDCWD, A0(r), false, chdir_op, NULL);
}

CUBI_SYS(fchdir)
{
	struct cubi_file *f = cubi_fd_get(A0(r));
	struct cubi_rnode *n;
	long rc;

	if (!f)
		return -CUB_EBADF;
	cubi_fs_lock();
	n = cubi_file_node(f);
	rc = n ? set_cwd(n) : -CUB_ENOTDIR;
	cubi_fs_unlock();
	cubi_file_put(f);
	return rc;
}

/* Every name exists as itself: readlink of one is -EINVAL. */
static long readlink_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	int rc = cubi_path_resolve(start, path, &n);

	(void)arg;
	return rc ? rc : -CUB_EINVAL;
}

CUBI_SYS(readlink)
{
	if ((int)A2(r) <= 0)
		return -CUB_EINVAL;
	return path_call(AT_FDCWD, A0(r), false, readlink_op, NULL);
}

CUBI_SYS(readlinkat)
{
	if ((int)A3(r) <= 0)
		return -CUB_EINVAL;
	return path_call((long)(int)A0(r), A1(r), false, readlink_op, NULL);
}

CUBI_SYS(umask)
{
	uint32_t old;

	cubi_fs_lock();
	old = umask_bits;
	umask_bits = (uint32_t)A0(r) & 0777;
	cubi_fs_unlock();
	return old;
}

/* chmod, or utimensat's times (times[0] atime, times[1] mtime). */
struct attr_args {
	bool times;
	uint32_t mode;
	uint64_t t[2];
};

static long attr_node(struct cubi_rnode *n, const struct attr_args *a)
{
	if (a->times)
		cubi_ramfs_set_times(n, a->t[0], a->t[1]);
	else
		cubi_ramfs_chmod(n, a->mode & 07777);
	return 0;
}

static long attr_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	int rc = resolve(start, path, &n);

	return rc ? rc : attr_node(n, arg);
}

/* fchmod and the like: the attributes of an open ramfs file. */
static long attr_fd(uint64_t fd, const struct attr_args *a)
{
	struct cubi_file *f = cubi_fd_get(fd);
	struct cubi_rnode *n;
	long rc;

	if (!f)
		return -CUB_EBADF;
	cubi_fs_lock();
	n = cubi_file_node(f);
	rc = n ? attr_node(n, a) : 0;	/* console, pipes: nothing kept */
	cubi_fs_unlock();
	cubi_file_put(f);
	return rc;
}

CUBI_SYS(chmod)
{
	struct attr_args a = { false, (uint32_t)A1(r), { 0, 0 } };

	return path_call(AT_FDCWD, A0(r), false, attr_op, &a);
}

CUBI_SYS(fchmod)
{
	struct attr_args a = { false, (uint32_t)A1(r), { 0, 0 } };

	return attr_fd(A0(r), &a);
}

CUBI_SYS(fchmodat)
{
	struct attr_args a = { false, (uint32_t)A2(r), { 0, 0 } };

	return path_call((long)(int)A0(r), A1(r), false, attr_op, &a);
}

#define UTIME_NOW ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)

/* utimensat's two timespecs (NULL: both now) as ns; UINT64_MAX: omit. */
static int get_times(uintptr_t utimes, uint64_t t[2])
{
	int64_t ts[4];
	uint64_t now = cub_arch_wallclock_ns();

	t[0] = t[1] = now;
	if (!utimes)
		return 0;
	if (cubi_copy_in(ts, utimes, sizeof(ts)))
		return -CUB_EFAULT;
	for (int i = 0; i < 2; i++) {
		int64_t sec = ts[2 * i], nsec = ts[2 * i + 1];

		if (nsec == UTIME_OMIT)
			t[i] = UINT64_MAX;
		else if (nsec != UTIME_NOW && (nsec < 0 || nsec > 999999999 || sec < 0))
			return -CUB_EINVAL;
		else if (nsec != UTIME_NOW)
			t[i] = (uint64_t)sec * 1000000000u + (uint64_t)nsec;
	}
	return 0;
}

/* utimensat(dirfd, path, times, flags); path NULL: dirfd itself. */
CUBI_SYS(utimensat)
{
	struct attr_args a = { true, 0, { 0, 0 } };
	int rc;

	if (A3(r) & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	if ((rc = get_times(A2(r), a.t)))
		return rc;
	if (!A1(r))
		return attr_fd(A0(r), &a);
	return path_call((long)(int)A0(r), A1(r), A3(r) & AT_EMPTY_PATH, attr_op, &a);
}
