/*
 * fs_impl.h - private interface of the file-system calls (fs.c,
 * fs_open.c, fs_names.c, fs_cwd.c, fs_attr.c): the plumbing that copies a call's
 * path in, finds the directory it is relative to and runs the call under
 * the fs lock, and the state the lock protects.
 */
#ifndef CUBRT_SHIM_FS_IMPL_H
#define CUBRT_SHIM_FS_IMPL_H

#include "shim_impl.h"

#define PATH_MAX 4096
#define AT_FDCWD (-100)
#define AT_SYMLINK_NOFOLLOW 0x100
#define AT_REMOVEDIR 0x200
#define AT_SYMLINK_FOLLOW 0x400
#define AT_NO_AUTOMOUNT 0x800
#define AT_EMPTY_PATH 0x1000

/* fs lock held: the working directory (held; NULL: the root), and the
 * umask applied to new files and directories. */
extern struct cubi_rnode *cubi_fs_cwd;
extern uint32_t cubi_fs_umask;

/* A call's path and the directory it is relative to. */
struct cubi_at {
	char *path;			/* PATH_MAX bytes from the heap: thread
					 * stacks are small (16 KiB) */
	struct cubi_file *dir;		/* dirfd's file (a reference) or NULL */
};

/* Before the lock: copies the path in (-EFAULT, -ENAMETOOLONG, -ENOENT
 * for "" unless empty_ok), takes dirfd's file when the path is relative
 * to it (-EBADF). cubi_fs_at_end undoes it, after the lock, in any case. */
int cubi_fs_at_begin(struct cubi_at *a, long dirfd, uintptr_t upath, bool empty_ok);
/* Under the lock: where a relative walk starts (for "", the node
 * itself), or NULL for -ENOTDIR. */
struct cubi_rnode *cubi_fs_at_start(struct cubi_at *a);
void cubi_fs_at_end(struct cubi_at *a);

/* A path call's work, under the lock: start is where the walk begins. */
typedef long (*cubi_fs_path_op)(struct cubi_rnode *start, const char *path, void *arg);
/* at_begin, the lock, op, the unlock, at_end. */
long cubi_fs_path_call(long dirfd, uintptr_t upath, bool empty_ok, cubi_fs_path_op op,
		       void *arg);
/* The same for a path already in kernel memory (an AF_UNIX socket's
 * sun_path), relative to the working directory: the lock, op, the
 * unlock. Interrupts enabled (task context). */
long cubi_fs_kpath_call(const char *path, cubi_fs_path_op op, void *arg);
/* A descriptor call's work on its file's node, under the lock. */
typedef long (*cubi_fs_node_op)(struct cubi_rnode *n, struct cubi_file *f, void *arg);
/* Runs op on the ramfs node of fd's file under the lock: -EBADF when fd
 * is not open, no_node when its file has no node (console, pipe,
 * socket, device). */
long cubi_fs_fd_call(uint64_t fd, long no_node, cubi_fs_node_op op, void *arg);
/* The same for the calls an O_PATH file cannot serve (Linux's fdget,
 * where fchdir and fstatfs take fdget_raw: fchmod, fchown, futimens,
 * ftruncate, fallocate): -EBADF for any O_PATH file, of a node or not. */
long cubi_fs_fd_call_open(uint64_t fd, long no_node, cubi_fs_node_op op, void *arg);

/* file.c, beyond vfs.h's cubi_file_open: open flag CUBI_O_PATH
 * (fd.h; a file that only names its node: fstat, fchdir, a dirfd,
 * close; reads, writes, seeks, listings and mmap get -EBADF; any node, a
 * link with O_NOFOLLOW included); an open that remembers the directory
 * and name it went by (dir held; NULL: none), for /proc/self/fd; fs lock
 * held. cubi_file_is_path: any O_PATH file, of the tree or not (opath.c,
 * a pipe's path end). */
struct cubi_file *cubi_file_open_at(struct cubi_rnode *n, unsigned flags,
				    struct cubi_rnode *dir, const char *name,
				    size_t len);
bool cubi_file_is_path(const struct cubi_file *f);
/* For a file of the tree: true and its node, the directory and name it
 * was opened by (*dir NULL: unknown); false for any other file. Only
 * reads f (any context); the results stay valid while the fs lock is
 * held and f was open when it was taken (a file's last put frees them
 * under that lock). */
bool cubi_file_where(struct cubi_file *f, struct cubi_rnode **node,
		     struct cubi_rnode **dir, const char **name, size_t *len);

/* fs_open.c: what stat, lstat and newfstatat see at (dirfd, upath)
 * with their flags (AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT,
 * AT_EMPTY_PATH; others -EINVAL): 0 and *st, or -errno. */
long cubi_fs_stat_at(long dirfd, uintptr_t upath, uint64_t flags, struct cubi_rstat *st);

/* The object a path names, a last link followed as `how` says; ""
 * (with AT_EMPTY_PATH) is start itself: a node (*out), or an open file
 * outside the tree that a magic link of /proc led to (*file, and *out
 * NULL: a pipe, socket, device...; its reference lives until
 * cubi_fs_unlock), on which the call acts as Linux does on its inode
 * (cubi_path_resolve_obj). */
int cubi_fs_resolve(struct cubi_rnode *start, const char *path,
		    enum cubi_walk_how how, struct cubi_rnode **out,
		    struct cubi_file **file);

#endif
