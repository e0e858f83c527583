/*
 * procfs.h - /proc, what real programs read of it: /proc/self (a link to
 * "1": the one process), /proc/thread-self, /proc/1/ (exe, cwd, root,
 * cmdline, environ, comm, status, stat, maps, fd/, task/<tid>/),
 * meminfo, cpuinfo, uptime, loadavg, version, mounts, filesystems,
 * sys/kernel/{osrelease,hostname,ostype,pid_max} and
 * sys/vm/overcommit_memory.
 *
 * The one hook: /proc's nodes are ordinary ramfs nodes, sealed
 * (ramfs.h, cubi_ramfs_seal) so that the system calls cannot change
 * them and get Linux's answers for /proc instead (mkdir/creat of a new
 * name: ENOENT, unlink/rename: EPERM, rename or link across: EXDEV,
 * /proc itself: EBUSY, chmod/utimensat: EPERM). Walks, links, stat,
 * listings, working directories and dirfds need nothing special. What
 * changes is kept up to date by the sealed directories' refresh hooks,
 * which ramfs runs before a lookup or listing in them, once per hold of
 * the fs lock: /proc (thread-self names the caller), /proc/1 (exe, cwd),
 * /proc/1/fd (one link per open descriptor: a file's or directory's
 * path, "pipe:[N]", "socket:[N]", "anon_inode:[eventfd]" and the like,
 * "/dev/console", "/dev/null"...), /proc/1/task (a directory per live
 * thread). The one other place that knows /proc: opening a sealed
 * regular file (fs_open.c) asks cubi_procfs_open for it.
 *
 * A generated file's contents are made when it is opened and kept by the
 * open file (a snapshot), so read, lseek, pread and fstat work on it as
 * on Linux (st_size 0, like Linux's). Everything but comm is read-only:
 * opening one for writing or with O_TRUNC gives -EACCES (as Linux does
 * for a user other than root; root's open succeeds there and its write
 * fails with EIO: failing at open is what programs check). A write to
 * /proc/1/comm or task/<tid>/comm renames that thread (its first 15
 * bytes), as on Linux: musl's pthread_setname_np of another thread.
 *
 * /proc/self/fd/N, /proc/self/cwd and /proc/self/exe are Linux's
 * "magic" links: their text is for readlink, and a walk that follows one
 * gets the object it stands for (ramfs.h's follow op, path.c): the
 * descriptor's file or directory whatever its names now, its pipe,
 * socket or device; the working directory; the program's file when the
 * tree has it. fs_open.c opens such an object anew (a pipe: a new open
 * file description of it; a socket or anon inode: -ENXIO; with O_PATH,
 * an O_PATH file of any of them, opath.c), and every other call that
 * follows the link acts on the object (chmod, truncate, chdir...).
 *
 * Locking: everything here runs under the fs lock (cubi_fs_lock).
 */
#ifndef CUBRT_SHIM_PROCFS_H
#define CUBRT_SHIM_PROCFS_H

#include "shim_impl.h"

/* The system's identity, as uname (misc.c) and /proc tell it. */
#define CUBI_UNAME_SYSNAME "Linux"
#define CUBI_UNAME_NODENAME "cubrt"
#define CUBI_UNAME_RELEASE "5.15.0-cubrt"
#define CUBI_UNAME_VERSION "#1 cubrt"
#define CUBI_UNAME_MACHINE "x86_64"

/* Makes /proc under root (fs lock held; fs.c at boot, tests after a
 * reset). Leaves an existing "proc" alone (an archive's: logged). */
void cubi_procfs_populate(struct cubi_rnode *root);

/* Opens generated file n (a sealed regular file), found as `name` in
 * dir, with open flags `flags`: a file with no reference yet, or NULL
 * and *err (-CUB_EACCES for a writable open, -CUB_ENOMEM). fs lock
 * held. */
struct cubi_file *cubi_procfs_open(struct cubi_rnode *n, struct cubi_rnode *dir,
				   const char *name, size_t len, unsigned flags,
				   long *err);

/* What start.c tells of the program it starts, for /proc/1: its path
 * (exe), where its argument and environment strings lie in its memory
 * (each a run of NUL-terminated strings, [start, end)), its stack, and
 * its program headers in memory (AT_PHDR, AT_PHNUM; 0: unknown). exe is
 * copied (a relative name gets a leading '/'). Takes the fs lock: a
 * file of the tree at exe whose program headers are phdr's is the
 * program's (procfs_pid.c). */
struct cubi_proc_image {
	const char *exe;
	uintptr_t arg_start, arg_end, env_start, env_end;
	uintptr_t stack_lo, stack_hi;
	uintptr_t phdr;
	unsigned phnum;
};
void cubi_procfs_set_program(const struct cubi_proc_image *pi);

/* mm.c: the program's mappings, for /proc/1/maps and status. */
struct cubi_vma_info {
	uintptr_t start, end;
	unsigned prot;		/* CUB_PROT_* */
	struct cubi_rnode *node;	/* a file mapping's file (valid while
					 * the fs lock is held), or NULL */
	uint64_t offset;	/* its byte offset in the file at start */
	bool shared;		/* MAP_SHARED (else a private one's 'p') */
};
/* Copies up to max mappings in address order into out (a snapshot);
 * returns how many there are in all. *brk_lo, *brk_hi: the brk heap. */
size_t cubi_mm_snapshot(struct cubi_vma_info *out, size_t max,
			uintptr_t *brk_lo, uintptr_t *brk_hi);

/* dev.c: "/dev/<name>" of a device file (f opened through dev.c) into
 * buf; false for any other file. Only reads f (any context). */
bool cubi_dev_path(struct cubi_file *f, char *buf, size_t size);

/* procfs_fd.c: what /proc/self/fd/N shows for f, an open file outside
 * the tree ("pipe:[ino]", "socket:[ino]", "/dev/null",
 * "anon_inode:[eventfd]"...; an O_PATH file of one: the same), into
 * text (CUBI_FD_TEXT_MAX bytes). Only reads f: interrupts disabled,
 * or f referenced. */
#define CUBI_FD_TEXT_MAX 48
void cubi_procfs_fd_text(struct cubi_file *f, char *text);

#endif
