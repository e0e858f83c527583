/*
 * vfs.h - the file system as the rest of the shim sees it: the fs lock
 * and the descriptors held under it (fs.c), the boot-time tree, path
 * walks and magic links (path.c), open files of ramfs nodes and mmap of
 * them (file.c), the device nodes (dev.c), O_PATH files of objects
 * outside the tree (opath.c), new opens of a pipe (pipe.c), file seals
 * as fcntl and fallocate meet them (memfd.c), and what
 * devices and generated files take from misc.c (the host name,
 * randomness). The calls themselves are fs*.c's (fs_impl.h), the tree
 * ramfs*.c's (ramfs.h).
 *
 * Locking: the fs lock, a coroutine mutex (cubi_fs_lock), over ramfs,
 * path walks, open files' positions and the working directory; take it
 * before disabling interrupts, never inside that section. Functions
 * marked "fs lock held" expect it; misc.c's take no lock (any context).
 */
#ifndef CUBRT_SHIM_VFS_H
#define CUBRT_SHIM_VFS_H

#include <cubrt/base.h>

#include "ramfs.h"

struct cubi_file;

/* fs.c: the file-system lock (a coroutine mutex) over ramfs, path walks,
 * open files' positions and the working directory. Order: take it before
 * disabling interrupts, never inside that. Contexts: task. */
void cubi_fs_lock(void);
void cubi_fs_unlock(void);
/* fs lock held: the file at fd with a reference that cubi_fs_unlock
 * drops after the mutex (a last put takes the lock: file.c), so it lives
 * as long as the hold. NULL and *err: -CUB_ENOENT (not open) or
 * -CUB_ELOOP (one hold took too many: a path of magic links). */
struct cubi_file *cubi_fs_fd_get(uint64_t fd, int *err);
/* cubi_fs_lock, telling whether it had to wait for another thread (which
 * may have changed what the caller checked before). */
bool cubi_fs_lock_waited(void);
/* fs.c: creates /tmp and unpacks every boot module that is a cpio
 * archive into the tree; logs what it did. Contexts: task, once. */
void cubi_fs_boot(void);
/* fs_cwd.c: a program's working directory from the start, path (the
 * value of CUBRT_CWD; NULL: "/", nothing done): an absolute path to a
 * directory (links followed), as chdir would take it. 0, or -errno
 * (-CUB_EINVAL for a relative path, -CUB_ENOENT, -CUB_ENOTDIR, ...) after
 * one console line "cwd: CUBRT_CWD=<path>: <error>; the working
 * directory is /". Contexts: task, no fs lock held. */
long cubi_fs_start_cwd(const char *path);

/* path.c: a path split into the directory that holds its last component
 * and that component. len 0: the path names dir itself ("/", or a last
 * component "." or ".." — then dot is true). slash: a trailing '/'.
 * name may point into a symbolic link's target (fs lock held: valid).
 *
 * A last component that was a magic link (a sealed link whose owner has
 * a follow op: /proc/self/fd/N, cwd, exe; ramfs.h) ends the walk on the
 * object it stands for instead: node (an object of the tree, whatever
 * its names now) or file (an open file outside the tree: a pipe, a
 * socket, the console, a device, an anon inode; its reference lives
 * until cubi_fs_unlock); dir, name and len are then the ones the object
 * was opened by (dir may be NULL, name need not name it any more), for
 * a new open file to show the same /proc/self/fd path. */
struct cubi_walk {
	struct cubi_rnode *dir;
	const char *name;
	size_t len;
	bool slash;
	bool dot;
	struct cubi_rnode *node;	/* a magic link's object in the tree */
	struct cubi_file *file;		/* a magic link's object outside it */
};
/* Symbolic links in the middle of a path are always followed; one that
 * is the last component: never (PARENT: calls that make or remove the
 * name: mkdir, unlink, rename, link, symlink, bind), only with a
 * trailing slash (NOFOLLOW: lstat, readlink, O_NOFOLLOW), or always
 * (FOLLOW; then the walk ends on a name that is absent or no link). */
enum cubi_walk_how { CUBI_WALK_PARENT, CUBI_WALK_NOFOLLOW, CUBI_WALK_FOLLOW };
#define CUBI_WALK_LINKS 40	/* links followed per walk (MAXSYMLINKS) */
/* Walks path from start (a relative path) or the root: 0, -CUB_ENOENT
 * (empty path, a missing directory, a dangling link in the middle),
 * -CUB_ENOTDIR, -CUB_ENAMETOOLONG, -CUB_ELOOP (more than
 * CUBI_WALK_LINKS links). cubi_path_walk: CUBI_WALK_PARENT. */
int cubi_path_walk_how(struct cubi_rnode *start, const char *path,
		       enum cubi_walk_how how, struct cubi_walk *w);
int cubi_path_walk(struct cubi_rnode *start, const char *path,
		   struct cubi_walk *w);
/* The node path names: a walk plus the lookup of the last component
 * (-CUB_ENOTDIR for a trailing slash on a non-directory); -CUB_ENXIO
 * when a magic link led to an object outside the tree (readlink, which
 * follows none but with a trailing slash, and then gets -CUB_ENOTDIR
 * first). */
int cubi_path_resolve_how(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out);
/* The same for the callers that act on any object (open, stat, access,
 * chmod, truncate, chdir, ...): *file set (and *out NULL) when a magic
 * link led to an open file outside the tree (a pipe, socket, device,
 * anon inode), which the call then acts on as Linux does on its
 * inode. */
int cubi_path_resolve_obj(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out,
			  struct cubi_file **file);

/* file.c: open files of ramfs nodes. cubi_file_open holds n and returns
 * a file with no reference yet (to install), or NULL (no memory); flags
 * are the open flags it keeps (access mode, O_NONBLOCK, O_APPEND). fs
 * lock held. cubi_file_node: the node of a ramfs file, else NULL. */
struct cubi_file *cubi_file_open(struct cubi_rnode *n, unsigned flags);
struct cubi_rnode *cubi_file_node(struct cubi_file *f);
/* getdents64 into the user buffer (checked): bytes, 0 at the end,
 * -CUB_ENOTDIR, -CUB_EINVAL (too small for the next entry). */
long cubi_file_getdents(struct cubi_file *f, uintptr_t buf, size_t n);
/* mmap of fd (not MAP_ANONYMOUS): a copy of the file's bytes from off in
 * fresh memory (len: whole pages), then prot; shared: MAP_SHARED, the
 * file's own pages (mm_file.c), never writable under F_SEAL_WRITE or
 * F_SEAL_FUTURE_WRITE (memfd.c). Returns the address or -errno (EBADF,
 * EACCES, ENODEV: not a regular file; EPERM: a writable shared mapping
 * of a file sealed against writes). Takes the fs lock. */
long cubi_file_map(uint64_t fd, uintptr_t addr, size_t len, unsigned prot,
		   bool shared, uint64_t off, bool fixed, bool noreplace);

/* memfd.c: fcntl's seal commands (io.c passes them on): F_ADD_SEALS,
 * arg the seals to add, 0 or -errno; F_GET_SEALS, the seals or -errno
 * (Linux's errors; memfd.c's header has the rules). Takes the fs lock. */
#define CUBI_F_ADD_SEALS 1033
#define CUBI_F_GET_SEALS 1034
long cubi_memfd_fcntl(uint64_t fd, unsigned cmd, uint64_t arg);
/* reclock.c: fcntl's POSIX record locks (io.c passes them on): F_GETLK,
 * F_SETLK, F_SETLKW with arg a struct flock; 0 or -errno (one process:
 * every valid request is granted, F_GETLK answers F_UNLCK). */
#define CUBI_F_GETLK 5
#define CUBI_F_SETLK 6
#define CUBI_F_SETLKW 7
long cubi_reclock_fcntl(uint64_t fd, unsigned cmd, uintptr_t arg);
/* pipe_ring.c: fcntl's pipe commands (io.c passes them on): F_GETPIPE_SZ,
 * the pipe's capacity in bytes; F_SETPIPE_SZ, arg (an unsigned int) the
 * least capacity wanted, rounded up to a power-of-two number of pages:
 * the new capacity, or -CUB_EINVAL above 1 MiB (Linux's pipe-max-size),
 * -CUB_EBUSY below the bytes in the pipe, -CUB_ENOMEM; the bytes stay.
 * -CUB_EBADF for a descriptor that is not a pipe's (O_PATH ones too). */
#define CUBI_F_SETPIPE_SZ 1031
#define CUBI_F_GETPIPE_SZ 1032
long cubi_pipe_fcntl(uint64_t fd, unsigned cmd, uint64_t arg);
/* memfd.c: what the seals of n (f's node) say of fallocate with mode
 * up to byte end: 0, or -CUB_EPERM; 0 too where Linux fails earlier
 * (f not open for writing, end past CUBI_FILE_MAX), for the caller's
 * own checks. fs lock held. */
long cubi_seal_fallocate(struct cubi_file *f, struct cubi_rnode *n, uint32_t mode,
			 uint64_t end);

/* dev.c: /dev's device nodes (null, zero, full, random, urandom) made
 * under root; opening device rdev: a file with no reference yet, or NULL
 * and *err (-CUB_ENXIO: no such device, -CUB_ENOMEM). fs lock held. */
void cubi_dev_populate(struct cubi_rnode *root);
struct cubi_file *cubi_dev_open(uint32_t rdev, unsigned flags, long *err);
/* A new open of the device f is an open file of (the console: the
 * console's file again), for /proc/self/fd/N; NULL and *err: -CUB_ENXIO
 * when f is no device, -CUB_ENOMEM. fs lock held, f referenced. */
struct cubi_file *cubi_dev_reopen(struct cubi_file *f, unsigned flags, long *err);
/* The device f is an open file of (the console's included), for an
 * O_PATH file of it to open again; 0 for any other file. Only reads f. */
uint32_t cubi_dev_rdev(struct cubi_file *f);
/* opath.c: an O_PATH file of f, an open file outside the tree that a
 * magic link of /proc led to (a pipe: its path end, pipe.c; a device,
 * the console, a socket, an anon inode, or such an O_PATH file: a file
 * that keeps what it names: its stat and /proc/self/fd text as they
 * were, and a device's number to open it by). NULL and *err
 * (-CUB_ENOMEM). fs lock held, f referenced; no reference yet. */
struct cubi_file *cubi_opath_open(struct cubi_file *f, long *err);
/* A new open, with flags, of what opath.c's O_PATH file f names: a
 * device (or the console) opens as its node would; NULL and *err:
 * -CUB_ENXIO for any other file or object (sockets, anon inodes: as on
 * Linux), -CUB_ENOMEM. fs lock held, f referenced. */
struct cubi_file *cubi_opath_reopen(struct cubi_file *f, unsigned flags, long *err);
/* The /proc/self/fd text of opath.c's O_PATH file f into buf; false for
 * any other file. Only reads f (any context). */
bool cubi_opath_text(struct cubi_file *f, char *buf, size_t size);
/* pipe.c: a new open file description of the pipe f is a file of, with
 * flags' access mode (either end may be opened for reading, writing or
 * both, as Linux allows); the pipe counts it as a reader and/or writer
 * from now on. flags with CUBI_O_PATH: a path end instead, counted as
 * neither. NULL and *err: -CUB_ENXIO when f is no pipe's, -CUB_EINVAL
 * (access mode 3), -CUB_ENOMEM. f referenced; the new file has no
 * reference yet. */
struct cubi_file *cubi_pipe_reopen(struct cubi_file *f, unsigned flags, long *err);
/* pipe_fifo.c: named pipes. A new id for a FIFO node (never 0; any context).
 * cubi_fifo_open: an end of the named pipe id (made if none is open)
 * with flags' access mode and O_NONBLOCK, a reader and/or writer from
 * now on; NULL and *err: -CUB_EINVAL (access mode 3), -CUB_ENXIO
 * (O_WRONLY|O_NONBLOCK with no reader), -CUB_ENOMEM. The file has no
 * reference yet. cubi_fifo_wait: what open(2) waits for after that,
 * with no fs lock held (contexts: task): an end for reading only,
 * without O_NONBLOCK, until a writer is there or opened since, one for
 * writing only until a reader; 0 (at once for any other file) or
 * -CUB_EINTR (a signal: the caller releases f, and the open restarts
 * under SA_RESTART, signal.c). */
uint32_t cubi_fifo_new_id(void);
struct cubi_file *cubi_fifo_open(uint32_t id, unsigned flags, long *err);
long cubi_fifo_wait(struct cubi_file *f);
/* misc.c: the host name (uname's nodename, as sethostname left it),
 * NUL-terminated. Any context. */
void cubi_hostname(char out[65]);
/* misc.c: len random bytes (getrandom's source). */
void cubi_random_fill(void *buf, size_t len);

#endif
