/*
 * fs_attr.c - the calls that change a node's attributes: its mode
 * (chmod, fchmod, fchmodat, fchmodat2), times (utimensat, and the older
 * utime, utimes, futimesat through it) and owner (chown, fchown, lchown,
 * fchownat); and the rarer node calls mknod, mknodat.
 *
 * The path forms follow a symbolic link in the last component unless
 * AT_SYMLINK_NOFOLLOW (or lchown) says not to; a link's own mode is fixed
 * (-EOPNOTSUPP, as on Linux). The descriptor forms act on an open file's
 * node; files of no node (console, pipes, sockets) keep no attributes:
 * fchmod and utimensat succeed, fchown takes root's ids only. A path
 * whose last component is a magic link of /proc to such a file
 * (/proc/self/fd/N of a pipe, /dev/stdout) acts on it the same way, as
 * Linux acts on its inode; the mode fstat reports stays its kind's
 * (these objects have no attributes to keep: their stat is made from
 * their kind). O_PATH files serve none of the descriptor forms
 * (-EBADF).
 *
 * Owners: the tree keeps no owner (ramfs.h): every node belongs to root,
 * the one user (ids.c). A chown to uid and gid 0 or -1 ("unchanged")
 * succeeds and, like Linux's for a non-directory, clears the set-user-ID
 * bit and the set-group-ID bit (when group-executable) unless both ids
 * are -1; any other owner: -EPERM, never a change that is not kept.
 * Nodes: mknod makes regular files (S_IFREG or type 0) and named pipes
 * (S_IFIFO: mkfifo; pipe_fifo.c opens them); device nodes would need a driver
 * (-EPERM: only dev.c's devices exist), sockets a bound socket
 * (-EOPNOTSUPP: bind makes them).
 *
 * Locking: each call does its work under the fs lock through
 * cubi_fs_path_call or cubi_fs_fd_call (fs.c, fs_impl.h); what holds for
 * the nodes is ramfs.h's.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "fs_impl.h"

#define ID_UNCHANGED 0xffffffffu
#define S_ISUID 04000u
#define S_ISGID 02000u
#define S_IXGRP 00010u

/* -------------------------------------------------------------- modes */

/* chmod, or utimensat's times (times[0] atime, times[1] mtime); how: a
 * last link followed (the default) or not (AT_SYMLINK_NOFOLLOW). */
struct attr_args {
	bool times;
	uint32_t mode;
	uint64_t t[2];
	enum cubi_walk_how how;
};

static long attr_node(struct cubi_rnode *n, const struct attr_args *a)
{
	if (a->times)
		return cubi_ramfs_set_times(n, a->t[0], a->t[1]);
	return cubi_ramfs_chmod(n, a->mode & 07777);
}

static long attr_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct attr_args *a = arg;
	struct cubi_rnode *n;
	struct cubi_file *f;
	size_t len;
	int rc = cubi_fs_resolve(start, path, a->how, &n, &f);

	if (rc || f)		/* a pipe, socket...: as fchmod of it */
		return rc;
	if (!a->times && cubi_ramfs_link_target(n, &len))
		return -CUB_EOPNOTSUPP;	/* Linux: a link's mode is fixed */
	return attr_node(n, a);
}

static long attr_fd_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	(void)f;
	return attr_node(n, arg);
}

/* fchmod and the like: the attributes of an open ramfs file (the
 * console, pipes and sockets keep none: 0). */
static long attr_fd(uint64_t fd, struct attr_args *a)
{
	return cubi_fs_fd_call_open(fd, 0, attr_fd_op, a);
}

static long chmod_at(long dirfd, uintptr_t upath, uint32_t mode, uint64_t flags)
{
	struct attr_args a = { false, mode, { 0, 0 }, flags & AT_SYMLINK_NOFOLLOW ?
			       CUBI_WALK_NOFOLLOW : CUBI_WALK_FOLLOW };

	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	return cubi_fs_path_call(dirfd, upath, flags & AT_EMPTY_PATH, attr_op, &a);
}

CUBI_SYS(chmod)
{
	return chmod_at(AT_FDCWD, A0(r), (uint32_t)A1(r), 0);
}

CUBI_SYS(fchmod)
{
	struct attr_args a = { false, (uint32_t)A1(r), { 0, 0 }, CUBI_WALK_FOLLOW };

	return attr_fd(A0(r), &a);
}

/* fchmodat has no flags argument (libc emulates AT_SYMLINK_NOFOLLOW);
 * fchmodat2 has: on a link itself, -EOPNOTSUPP as on Linux. */
CUBI_SYS(fchmodat)
{
	return chmod_at((long)(int)A0(r), A1(r), (uint32_t)A2(r), 0);
}

CUBI_SYS(fchmodat2)
{
	return chmod_at((long)(int)A0(r), A1(r), (uint32_t)A2(r), A3(r));
}

#define UTIME_NOW ((1l << 30) - 1)
#define UTIME_OMIT ((1l << 30) - 2)

/* utimensat's two timespecs (NULL: both now) as ns; UINT64_MAX: omit. */
static int get_times(uintptr_t utimes, uint64_t t[2])
{
	int64_t ts[4];
	uint64_t now = cub_time_wall();

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

/* utimensat(dirfd, path, times, flags); path NULL: dirfd itself;
 * AT_SYMLINK_NOFOLLOW: a link's own times. */
CUBI_SYS(utimensat)
{
	struct attr_args a = { true, 0, { 0, 0 }, A3(r) & AT_SYMLINK_NOFOLLOW ?
			       CUBI_WALK_NOFOLLOW : CUBI_WALK_FOLLOW };
	int rc;

	if (A3(r) & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	if ((rc = get_times(A2(r), a.t)))
		return rc;
	if (!A1(r))
		return attr_fd(A0(r), &a);
	return cubi_fs_path_call((long)(int)A0(r), A1(r), A3(r) & AT_EMPTY_PATH, attr_op, &a);
}

/* ------------------------------------------------------------- owners */

struct chown_args {
	uint32_t uid, gid;
	enum cubi_walk_how how;
};

static bool id_ok(uint32_t id)
{
	return id == 0 || id == ID_UNCHANGED;
}

static long chown_node(struct cubi_rnode *n, const struct chown_args *a)
{
	struct cubi_rstat st;
	uint64_t arg;
	uint32_t perm;

	if (cubi_ramfs_synth(n, &arg))
		return -CUB_EPERM;		/* /proc */
	if (!id_ok(a->uid) || !id_ok(a->gid))
		return -CUB_EPERM;
	cubi_ramfs_stat(n, &st);
	if ((a->uid == ID_UNCHANGED && a->gid == ID_UNCHANGED) ||
	    (st.mode & CUBI_S_IFMT) == CUBI_S_IFDIR || (st.mode & CUBI_S_IFMT) == CUBI_S_IFLNK)
		return 0;
	perm = st.mode & 07777 & ~S_ISUID;
	if (perm & S_IXGRP)
		perm &= ~S_ISGID;
	return perm == (st.mode & 07777) ? 0 : cubi_ramfs_chmod(n, perm);
}

/* A file of no node (a pipe, socket...) is root's. */
static long chown_none(const struct chown_args *a)
{
	return id_ok(a->uid) && id_ok(a->gid) ? 0 : -CUB_EPERM;
}

static long chown_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct chown_args *a = arg;
	struct cubi_rnode *n;
	struct cubi_file *f;
	int rc = cubi_fs_resolve(start, path, a->how, &n, &f);

	if (rc)
		return rc;
	return f ? chown_none(a) : chown_node(n, a);
}

static long chown_fd_op(struct cubi_rnode *n, struct cubi_file *f, void *arg)
{
	(void)f;
	return chown_node(n, arg);
}

static long chown_at(long dirfd, uintptr_t upath, uint64_t uid, uint64_t gid, uint64_t flags)
{
	struct chown_args a = { (uint32_t)uid, (uint32_t)gid, flags & AT_SYMLINK_NOFOLLOW ?
				CUBI_WALK_NOFOLLOW : CUBI_WALK_FOLLOW };

	if (flags & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -CUB_EINVAL;
	return cubi_fs_path_call(dirfd, upath, flags & AT_EMPTY_PATH, chown_op, &a);
}

CUBI_SYS(chown)
{
	return chown_at(AT_FDCWD, A0(r), A1(r), A2(r), 0);
}

CUBI_SYS(lchown)
{
	return chown_at(AT_FDCWD, A0(r), A1(r), A2(r), AT_SYMLINK_NOFOLLOW);
}

CUBI_SYS(fchownat)
{
	return chown_at((long)(int)A0(r), A1(r), A2(r), A3(r), A4(r));
}

/* fchown: a file of no node (pipe, socket) is root's too. */
CUBI_SYS(fchown)
{
	struct chown_args a = { (uint32_t)A1(r), (uint32_t)A2(r), CUBI_WALK_FOLLOW };
	long rc = cubi_fs_fd_call_open(A0(r), 1, chown_fd_op, &a);

	return rc == 1 ? chown_none(&a) : rc;
}

/* -------------------------------------------------------------- times */

/* utimensat(dirfd, path, ts, 0) with ts in kernel memory (NULL: now):
 * the one implementation of setting times (above). */
static long times_at(long dirfd, uintptr_t upath, const int64_t *ts)
{
	struct cub_shim_regs regs = { .rdi = (uint64_t)dirfd, .rsi = upath,
				      .rdx = (uintptr_t)ts };

	if (!upath)
		return -CUB_EFAULT;	/* utimensat's NULL path means the fd */
	return cubi_sys_utimensat(&regs);
}

/* utimes, futimesat: two timevals (NULL: now); usec in [0, 1e6). */
static long timevals_at(long dirfd, uintptr_t upath, uintptr_t utv)
{
	int64_t tv[4], ts[4];

	if (!utv)
		return times_at(dirfd, upath, NULL);
	if (cubi_copy_in(tv, utv, sizeof(tv)))
		return -CUB_EFAULT;
	for (int i = 0; i < 2; i++) {
		if (tv[2 * i + 1] < 0 || tv[2 * i + 1] >= 1000000)
			return -CUB_EINVAL;
		ts[2 * i] = tv[2 * i];
		ts[2 * i + 1] = tv[2 * i + 1] * 1000;
	}
	return times_at(dirfd, upath, ts);
}

CUBI_SYS(utimes)
{
	return timevals_at(AT_FDCWD, A0(r), A1(r));
}

CUBI_SYS(futimesat)
{
	return timevals_at((long)(int)A0(r), A1(r), A2(r));
}

/* utime(path, {actime, modtime}): whole seconds (NULL: now). */
CUBI_SYS(utime)
{
	int64_t t[2], ts[4];

	if (!A1(r))
		return times_at(AT_FDCWD, A0(r), NULL);
	if (cubi_copy_in(t, A1(r), sizeof(t)))
		return -CUB_EFAULT;
	ts[0] = t[0];
	ts[1] = 0;
	ts[2] = t[1];
	ts[3] = 0;
	return times_at(AT_FDCWD, A0(r), ts);
}

/* -------------------------------------------------------------- mknod */

static long mknod_op(struct cubi_rnode *start, const char *path, void *arg)
{
	struct cubi_rnode *n;
	struct cubi_walk w;
	int rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len)
		return -CUB_EEXIST;
	if (w.slash)	/* "name/": a directory's form, never a file's */
		return cubi_ramfs_lookup(w.dir, w.name, w.len, &n) == 0 ? -CUB_EEXIST
									   : -CUB_ENOENT;
	if ((*(uint32_t *)arg & CUBI_S_IFMT) == CUBI_S_IFIFO)
		return cubi_ramfs_mkfifo(w.dir, w.name, w.len, *(uint32_t *)arg & 07777 &
					 ~cubi_fs_umask, cubi_fifo_new_id(), &n);
	return cubi_ramfs_create(w.dir, w.name, w.len, CUBI_S_IFREG |
				 (*(uint32_t *)arg & 07777 & ~cubi_fs_umask), &n);
}

static long mknod_at(long dirfd, uintptr_t upath, uint32_t mode)
{
	switch (mode & CUBI_S_IFMT) {
	case 0: case CUBI_S_IFREG: case CUBI_S_IFIFO:
		return cubi_fs_path_call(dirfd, upath, false, mknod_op, &mode);
	case CUBI_S_IFSOCK:
		return -CUB_EOPNOTSUPP;
	case CUBI_S_IFCHR: case CUBI_S_IFBLK: case CUBI_S_IFDIR:
		return -CUB_EPERM;	/* Linux: a directory needs mkdir */
	default:
		return -CUB_EINVAL;
	}
}

CUBI_SYS(mknod)
{
	return mknod_at(AT_FDCWD, A0(r), (uint32_t)A1(r));
}

CUBI_SYS(mknodat)
{
	return mknod_at((long)(int)A0(r), A1(r), (uint32_t)A2(r));
}
