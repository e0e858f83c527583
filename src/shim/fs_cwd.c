/*
 * fs_cwd.c - the working directory and the umask: getcwd, chdir,
 * fchdir, umask, and the directory a program starts in (CUBRT_CWD,
 * cubi_fs_start_cwd, called by start.c). Both live in fs.c
 * (cubi_fs_cwd, cubi_fs_umask) and are used with the fs lock held.
 *
 * Invariants: cubi_fs_cwd is NULL (the root) or a directory node the
 * working directory holds a reference to (cubi_ramfs_get), dropped when
 * it changes, so a removed working directory stays valid (getcwd then
 * -ENOENT, as on Linux).
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "fs_impl.h"

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
	for (struct cubi_rnode *n = cubi_fs_cwd; n && n != cubi_ramfs_root() && !rc;
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
	if (cubi_fs_cwd)
		cubi_ramfs_put(cubi_fs_cwd);
	cubi_fs_cwd = n;
	return 0;
}

/* A magic link's object: a directory of the tree, whatever its names
 * now (/proc/self/fd/N of a directory descriptor), or a pipe, socket...
 * that is none (-ENOTDIR). */
static long chdir_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	struct cubi_file *f;
	int rc = cubi_path_resolve_obj(start, path, CUBI_WALK_FOLLOW, &n, &f);

	(void)arg;
	if (rc)
		return rc;
	return f ? -CUB_ENOTDIR : set_cwd(n);
}

CUBI_SYS(chdir)
{
	return cubi_fs_path_call(AT_FDCWD, A0(r), false, chdir_op, NULL);
}

static long fchdir_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	(void)f, (void)arg;
	return set_cwd(n);
}

CUBI_SYS(fchdir)
{
	return cubi_fs_fd_call(A0(r), -CUB_ENOTDIR, fchdir_op, NULL);
}

/* What chdir does, for a path of cubrt's own (no user copy). */
static long start_cwd(const char *path)
{
	struct cubi_rnode *n;
	struct cubi_file *f;
	long rc;

	if (path[0] != '/')
		return -CUB_EINVAL;	/* relative to nothing yet */
	if (cub_strnlen(path, PATH_MAX) == PATH_MAX)
		return -CUB_ENAMETOOLONG;
	cubi_fs_lock();
	rc = cubi_path_resolve_obj(cubi_ramfs_root(), path, CUBI_WALK_FOLLOW, &n, &f);
	if (rc == 0)
		rc = f ? -CUB_ENOTDIR : set_cwd(n);
	cubi_fs_unlock();
	return rc;
}

long cubi_fs_start_cwd(const char *path)
{
	long rc;

	if (!path)
		return 0;
	rc = start_cwd(path);
	if (rc)
		cub_printk("cwd: CUBRT_CWD=%s: %s; the working directory is /\n", path,
			   cub_strerror((int)rc));
	return rc;
}

CUBI_SYS(umask)
{
	uint32_t old;

	cubi_fs_lock();
	old = cubi_fs_umask;
	cubi_fs_umask = (uint32_t)A0(r) & 0777;
	cubi_fs_unlock();
	return old;
}
