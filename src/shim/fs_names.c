/*
 * fs_names.c - the file-system calls that change names: mkdir, rmdir,
 * unlink, rename, link, symlink (and their *at forms), readlink(at).
 * The working directory and umask are fs_cwd.c's, the attribute calls
 * (chmod, utimensat and the like) fs_attr.c's. fs.c has the plumbing
 * and locking.
 *
 * Calls that make or remove a name never follow a symbolic link in its
 * last component (unlink and rename act on the link, mkdir and symlink
 * find it there: -EEXIST); readlink reads the link itself.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "fs_impl.h"

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
				 (*(uint32_t *)arg & 07777 & ~cubi_fs_umask), &n);
}

CUBI_SYS(mkdir)
{
	uint32_t mode = (uint32_t)A1(r);

	return cubi_fs_path_call(AT_FDCWD, A0(r), false, mkdir_op, &mode);
}

CUBI_SYS(mkdirat)
{
	uint32_t mode = (uint32_t)A2(r);

	return cubi_fs_path_call((long)(int)A0(r), A1(r), false, mkdir_op, &mode);
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
	return cubi_fs_path_call(dirfd, upath, false, remove_op, &rmdir);
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

/* A call on two paths (rename, link): its work under the lock. */
typedef long (*two_path_op)(struct cubi_at *from, struct cubi_at *to,
			    uint64_t flags);

/* Copies both paths in (from may be "" when from_empty), then runs op
 * under the lock. */
static long two_path_call(long ofd, uintptr_t opath, bool from_empty, long nfd,
			  uintptr_t npath, two_path_op op, uint64_t flags)
{
	struct cubi_at from, to;
	long rc;

	rc = cubi_fs_at_begin(&from, ofd, opath, from_empty);
	if (rc == 0)
		rc = cubi_fs_at_begin(&to, nfd, npath, false);
	else
		to = (struct cubi_at){ NULL, NULL };
	if (rc == 0) {
		cubi_fs_lock();
		rc = op(&from, &to, flags);
		cubi_fs_unlock();
	}
	cubi_fs_at_end(&from);
	cubi_fs_at_end(&to);
	return rc;
}

#define RENAME_NOREPLACE 1u

/* Both paths walked under the lock; the last components renamed (a
 * link is renamed, not followed). */
static long rename_locked(struct cubi_at *from, struct cubi_at *to, uint64_t flags)
{
	bool noreplace = flags & RENAME_NOREPLACE;
	struct cubi_rnode *fs = cubi_fs_at_start(from), *ts = cubi_fs_at_start(to);
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
	if (flags & ~(uint64_t)RENAME_NOREPLACE)
		return -CUB_EINVAL;	/* RENAME_EXCHANGE, _WHITEOUT */
	return two_path_call(ofd, opath, false, nfd, npath, rename_locked, flags);
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

/* ------------------------------------------------------------- links */

/* Where a call that makes a name (link, symlink) puts it: 0 and *w,
 * -CUB_EEXIST when the path names a directory itself ("/", "."), or
 * -CUB_ENOENT for "new/" when new is absent: only mkdir takes a '/'. */
static int new_name_walk(struct cubi_rnode *start, const char *path,
			 struct cubi_walk *w)
{
	struct cubi_rnode *n;
	int rc = cubi_path_walk(start, path, w);

	if (rc)
		return rc;
	if (!w->len)
		return -CUB_EEXIST;
	if (w->slash && cubi_ramfs_lookup(w->dir, w->name, w->len, &n) != 0)
		return -CUB_ENOENT;
	return 0;
}

/* linkat under the lock: from (followed with AT_SYMLINK_FOLLOW; "" with
 * AT_EMPTY_PATH: olddirfd's own file) gets the name `to`. */
static long link_locked(struct cubi_at *from, struct cubi_at *to, uint64_t flags)
{
	struct cubi_rnode *fs = cubi_fs_at_start(from), *ts = cubi_fs_at_start(to), *n;
	struct cubi_file *f;
	struct cubi_walk w;
	long rc;

	if (!fs)	/* "": a pipe or socket lives on no mount of ours */
		return from->path[0] ? -CUB_ENOTDIR : -CUB_EXDEV;
	rc = cubi_fs_resolve(fs, from->path, flags & AT_SYMLINK_FOLLOW ?
			     CUBI_WALK_FOLLOW : CUBI_WALK_NOFOLLOW, &n, &f);
	if (rc)
		return rc;
	if (f)		/* a pipe, socket...: Linux's pipefs and sockfs */
		return -CUB_EXDEV;
	if (!ts)
		return -CUB_ENOTDIR;
	if ((rc = new_name_walk(ts, to->path, &w)) != 0)
		return rc;
	return cubi_ramfs_link(n, w.dir, w.name, w.len);
}

/* link and linkat: a hard link; like Linux, oldpath's last link is
 * itself linked unless AT_SYMLINK_FOLLOW. */
static long do_link(long ofd, uintptr_t opath, long nfd, uintptr_t npath,
		    uint64_t flags)
{
	if (flags & ~(uint64_t)(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	return two_path_call(ofd, opath, flags & AT_EMPTY_PATH, nfd, npath,
			     link_locked, flags);
}

CUBI_SYS(link)
{
	return do_link(AT_FDCWD, A0(r), AT_FDCWD, A1(r), 0);
}

CUBI_SYS(linkat)
{
	return do_link((long)(int)A0(r), A1(r), (long)(int)A2(r), A3(r), A4(r));
}

struct symlink_args {
	const char *target;
	size_t tlen;
};

static long symlink_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct symlink_args *a = arg;
	struct cubi_rnode *n;
	struct cubi_walk w;
	int rc = new_name_walk(start, path, &w);

	if (rc)
		return rc;
	return cubi_ramfs_symlink(w.dir, w.name, w.len, a->target, a->tlen, &n);
}

/* symlink(target, linkpath): the target is copied in first and kept as
 * it is (not walked: it may dangle); Linux's errors for it come first. */
static long do_symlink(uintptr_t utarget, long dirfd, uintptr_t upath)
{
	char *t = cub_malloc(PATH_MAX);
	struct symlink_args a = { t, 0 };
	long rc;

	if (!t)
		return -CUB_ENOMEM;
	rc = cubi_copy_str_in(t, utarget, PATH_MAX);
	if (rc == -CUB_ERANGE)
		rc = -CUB_ENAMETOOLONG;
	else if (rc == 0 && !t[0])
		rc = -CUB_ENOENT;
	if (rc == 0) {
		a.tlen = cub_strlen(t);
		rc = cubi_fs_path_call(dirfd, upath, false, symlink_op, &a);
	}
	cub_free(t);
	return rc;
}

CUBI_SYS(symlink)
{
	return do_symlink(A0(r), AT_FDCWD, A1(r));
}

CUBI_SYS(symlinkat)
{
	return do_symlink(A0(r), (long)(int)A1(r), A2(r));
}

/* readlink's target, copied out of the tree under the lock. */
struct readlink_args {
	char *buf;			/* CUBI_SYMLINK_MAX bytes */
	size_t len;			/* out */
};

static long readlink_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct readlink_args *a = arg;
	struct cubi_rnode *n;
	const char *t;
	int rc = cubi_path_resolve_how(start, path, CUBI_WALK_NOFOLLOW, &n);

	if (rc)
		return rc;
	if ((t = cubi_ramfs_link_target(n, &a->len)) == NULL)
		return -CUB_EINVAL;	/* not a link */
	cub_memcpy(a->buf, t, a->len);
	return 0;
}

/* readlink(at): the target cut to bufsiz bytes, no NUL, as Linux. The
 * buffer is written after the lock (its fault is the caller's). */
static long do_readlink(long dirfd, uintptr_t upath, uintptr_t ubuf, int bufsiz)
{
	struct readlink_args a = { NULL, 0 };
	long rc;

	if (bufsiz <= 0)
		return -CUB_EINVAL;
	if (!(a.buf = cub_malloc(CUBI_SYMLINK_MAX)))
		return -CUB_ENOMEM;
	rc = cubi_fs_path_call(dirfd, upath, false, readlink_op, &a);
	if (rc == 0) {
		size_t k = CUB_MIN(a.len, (size_t)bufsiz);

		rc = cubi_copy_out(ubuf, a.buf, k);
		if (rc == 0)
			rc = (long)k;
	}
	cub_free(a.buf);
	return rc;
}

CUBI_SYS(readlink)
{
	return do_readlink(AT_FDCWD, A0(r), A1(r), (int)A2(r));
}

CUBI_SYS(readlinkat)
{
	return do_readlink((long)(int)A0(r), A1(r), A2(r), (int)A3(r));
}
