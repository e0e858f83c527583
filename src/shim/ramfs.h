/*
 * ramfs.h - the shim's file system: directories, regular files and
 * symbolic links kept in heap memory (like Linux's tmpfs), filled at boot
 * from a cpio archive.
 *
 * Besides directories and files, two kinds of special node have no bytes:
 * character devices (cubi_ramfs_mknod; opened through dev.c) and sockets
 * (cubi_ramfs_mksock: the names AF_UNIX sockets bind, socket_unix.c).
 * A symbolic link (cubi_ramfs_symlink) keeps only its target; following
 * it is the path walk's business (path.c), never this layer's.
 *
 * This layer knows nodes and names, not paths or descriptors: path walks
 * (path.c), open files (file.c) and the system calls (fs.c) sit on top.
 * Names are (pointer, length) pairs: one path component, never "", "."
 * or "..", never containing '/', at most CUBI_NAME_MAX bytes; callers
 * check that (-CUB_ENAMETOOLONG, ...) before calling in. Finding,
 * adding or removing one name costs O(1) expected however many entries
 * the directory has (each keeps a hash table of its names once it has
 * more than a few, ramfs_hash.c); a listing that goes on from where it
 * stopped costs O(1) a call.
 *
 * Locking: none inside. Every call must hold the file-system lock
 * (cubi_fs_lock/unlock, a coroutine mutex): ramfs allocates, so it must
 * not run with interrupts disabled, and nothing here blocks otherwise.
 *
 * Names: a directory has one name (its entry in its parent); any other
 * node may have several (hard links, cubi_ramfs_link), and nlink counts
 * them. Lifetime: a node lives while it has a name or a hold (an open
 * file, a working directory). cubi_ramfs_unlink and cubi_ramfs_rename
 * drop names; the last cubi_ramfs_put of a nameless node frees it and
 * its data. The root always lives.
 *
 * Errors are negative cubrt/Linux errno values (CUB_E*).
 */
#ifndef CUBRT_SHIM_RAMFS_H
#define CUBRT_SHIM_RAMFS_H

#include <cubrt/base.h>

/* Linux errno values the file system adds to base.h's. */
#define CUB_ENXIO 6
#define CUB_EXDEV 18
#define CUB_ENOTDIR 20
#define CUB_EISDIR 21
#define CUB_EFBIG 27
#define CUB_ENAMETOOLONG 36
#define CUB_EMLINK 31
#define CUB_ENOTEMPTY 39
#define CUB_ELOOP 40

#define CUBI_NAME_MAX 255		/* bytes of one component (NAME_MAX) */
#define CUBI_S_IFMT 0170000u
#define CUBI_S_IFDIR 0040000u
#define CUBI_S_IFREG 0100000u
#define CUBI_S_IFCHR 0020000u
#define CUBI_S_IFBLK 0060000u
#define CUBI_S_IFIFO 0010000u
#define CUBI_S_IFSOCK 0140000u
#define CUBI_S_IFLNK 0120000u
#define CUBI_SYMLINK_MAX 4095		/* bytes of a link's target: Linux's
					 * PATH_MAX less the NUL */

struct cubi_rnode;

/* What stat reports of a node. Times are wall-clock ns since 1970. */
struct cubi_rstat {
	uint64_t ino;
	uint32_t mode;		/* CUBI_S_IF* type | permission bits */
	uint32_t nlink;		/* dirs: 2 + subdirectories, 0 once
				 * removed; others: their names */
	uint64_t size;		/* files: bytes; dirs: entries * 32;
				 * links: the target's length */
	uint64_t atime, mtime, ctime;
	uint32_t rdev;		/* character devices: Linux's dev_t; else 0 */
};

/* One directory entry as cubi_ramfs_readdir returns it. */
struct cubi_rdirent {
	uint64_t ino;
	uint32_t mode;		/* its node's type bits (CUBI_S_IFMT) */
	uint64_t next;		/* cookie that continues after this entry */
	size_t len;
	char name[CUBI_NAME_MAX + 1];	/* NUL-terminated */
};

/* The root directory ("/"), created on first use. Never NULL. */
struct cubi_rnode *cubi_ramfs_root(void);

/* Frees every node but the root and empties it (host tests). */
void cubi_ramfs_reset(void);

/* dir's parent; the root is its own parent. dir must be a directory. */
struct cubi_rnode *cubi_ramfs_parent(struct cubi_rnode *dir);

/* A current name of n: true and the directory holding it and the name
 * there (any of a file's hard links; valid while the fs lock is held
 * and the tree does not change), O(1). A file removed while held (an
 * open file after its unlink, or replaced by a rename) answers its last
 * name, in the directory that had it (which stays allocated, perhaps
 * removed too), while its nlink says 0. False: no name (the root, a
 * removed directory). */
bool cubi_ramfs_name_of(const struct cubi_rnode *n, struct cubi_rnode **dir,
			const char **name, size_t *len);

/* True when n is a directory. */
bool cubi_ramfs_is_dir(const struct cubi_rnode *n);

/* The buckets of directory dir's name index (0: none, the directory is
 * small; 0 for other nodes). Host tests watch it grow and shrink. */
uint32_t cubi_ramfs_buckets(const struct cubi_rnode *dir);

/* The entry `name` of directory dir: 0 and *out, -CUB_ENOENT, or
 * -CUB_ENOTDIR when dir is not a directory. *out is not held. A link is
 * returned as itself, not followed. */
int cubi_ramfs_lookup(struct cubi_rnode *dir, const char *name, size_t len,
		      struct cubi_rnode **out);

/*
 * Creates `name` in directory dir: a directory when mode has
 * CUBI_S_IFDIR, else a regular file (other type bits are ignored; the
 * permission bits are kept: the caller applied the umask). 0 and *out
 * (not held), -CUB_EEXIST
 * (the name exists: *out is set to it all the same), -CUB_ENOTDIR, or
 * -CUB_ENOENT when dir was removed (an unlinked directory takes no new
 * entries), -CUB_ENOMEM.
 */
int cubi_ramfs_create(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, struct cubi_rnode **out);

/*
 * Creates a regular file in no directory (memfd_create's, as Linux's
 * shmem_file_setup: an unlinked O_TMPFILE), with permission bits perm
 * (no umask): 0 and *out, held once for the caller (cubi_ramfs_put
 * lets go; the last hold frees it), or -CUB_ENOMEM. Its nlink is 0 and
 * stays 0 (link refuses it: -CUB_EXDEV, as Linux does, whose memfd lives
 * on a mount of its own); `name` (1..CUBI_NAME_MAX
 * bytes, no NUL; '/' allowed, it is only shown) is its last name in
 * the root, so cubi_ramfs_name_of answers it and /proc shows
 * "/name (deleted)", as Linux shows "/memfd:x (deleted)".
 */
int cubi_ramfs_create_unnamed(const char *name, size_t len, uint32_t perm,
			      struct cubi_rnode **out);

/*
 * Creates the character device node `name` in dir (mode: permission
 * bits; rdev: its Linux device number, e.g. 0x103 for 1:3, /dev/null).
 * The node has no bytes: cubi_ramfs_read/write/truncate refuse it with
 * -CUB_EINVAL, and opening it is the caller's business (dev.c). Errors
 * as cubi_ramfs_create.
 */
int cubi_ramfs_mknod(struct cubi_rnode *dir, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, struct cubi_rnode **out);
/* The same for a block device node (S_IFBLK; blkdev.c opens it). */
int cubi_ramfs_mkblk(struct cubi_rnode *dir, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, struct cubi_rnode **out);

/*
 * Creates the socket node `name` in dir (S_IFSOCK; mode: permission
 * bits) carrying id, the caller's tag of the socket bound to it (not 0;
 * stat shows rdev 0). Like a device node it has no bytes (read, write,
 * truncate: -CUB_EINVAL); it may outlive its socket, which is what the
 * id is for: the caller looks the id up among its live sockets
 * (socket_unix.c). Renaming keeps the id. Errors as cubi_ramfs_create.
 */
int cubi_ramfs_mksock(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, uint32_t id, struct cubi_rnode **out);
/* The id of socket node n, or 0 when n is not a socket node. */
uint32_t cubi_ramfs_sock_id(const struct cubi_rnode *n);
/* The same for a named pipe's node (S_IFIFO, mkfifo): id names the pipe
 * (pipe_fifo.c) its opens share; no bytes of its own. */
int cubi_ramfs_mkfifo(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, uint32_t id, struct cubi_rnode **out);
uint32_t cubi_ramfs_fifo_id(const struct cubi_rnode *n);

/*
 * Creates the symbolic link `name` in dir pointing at target (tlen
 * bytes, no NUL among them: the caller's check). Its mode is
 * S_IFLNK | 0777 and its size tlen; like a device node it has no bytes
 * (read, write, truncate: -CUB_EINVAL). -CUB_ENOENT for an empty
 * target, -CUB_ENAMETOOLONG past CUBI_SYMLINK_MAX, else errors as
 * cubi_ramfs_create (-CUB_EEXIST sets *out to what is there).
 */
int cubi_ramfs_symlink(struct cubi_rnode *dir, const char *name, size_t len,
		       const char *target, size_t tlen, struct cubi_rnode **out);
/* The target of link n (*len bytes, NUL-terminated; valid while n lives
 * and the fs lock is held), or NULL when n is not a symbolic link. */
const char *cubi_ramfs_link_target(const struct cubi_rnode *n, size_t *len);

/*
 * Gives node n one more name, `name` in dir (a hard link; n's nlink and
 * ctime change). Linux's order of errors: -CUB_ENOTDIR (dir is not a
 * directory), -CUB_ENOENT (dir removed), -CUB_EEXIST (the name exists),
 * -CUB_EPERM (n is a directory), -CUB_ENOENT (n has no name left: an
 * unlinked file held open is not brought back), -CUB_EMLINK, -CUB_ENOMEM.
 */
int cubi_ramfs_link(struct cubi_rnode *n, struct cubi_rnode *dir,
		    const char *name, size_t len);

/*
 * Removes the entry `name` from dir (one name: a node with others lives
 * on). rmdir true: it must be an empty directory (-CUB_ENOTDIR if not a
 * directory, -CUB_ENOTEMPTY); false: it must not be a directory
 * (-CUB_EISDIR); a link is removed, not followed. -CUB_ENOENT when
 * absent.
 */
int cubi_ramfs_unlink(struct cubi_rnode *dir, const char *name, size_t len,
		      bool rmdir);

/*
 * Moves entry `from` of directory fdir to `to` in tdir, replacing what is
 * there, with Linux's rules: replacing a directory needs a directory
 * (-CUB_EISDIR for a file onto a directory, -CUB_ENOTDIR for a directory
 * onto a file) that is empty (-CUB_ENOTEMPTY); a directory may not move
 * into itself or below itself (-CUB_EINVAL); renaming onto the same node
 * (the same name, or another name of the same file) is a no-op that
 * keeps both names, as on Linux. noreplace: -CUB_EEXIST when `to`
 * exists. -CUB_ENOENT when `from` is absent, -CUB_ENOMEM.
 */
int cubi_ramfs_rename(struct cubi_rnode *fdir, const char *from, size_t flen,
		      struct cubi_rnode *tdir, const char *to, size_t tlen,
		      bool noreplace);

/*
 * Sealed nodes: the hook that lets a generated file system (procfs.c,
 * under /proc) live in this tree as ordinary nodes, so that walks,
 * links, stat, listings, working directories and open files treat its
 * nodes like any others. cubi_ramfs_seal gives node n to an owner
 * (synth, with arg for the owner's use); from then on the calls that
 * would change n, or a sealed directory's entries, refuse with Linux's
 * answers for /proc:
 *  - create, mknod, mksock, symlink or link a name in a sealed
 *    directory: -CUB_EEXIST when the name is there, else -CUB_ENOENT
 *    (proc's lookup fails before anything is made);
 *  - link a sealed node into an unsealed directory: -CUB_EXDEV;
 *  - unlink or rmdir in a sealed directory: -CUB_EPERM after the type
 *    checks; of a sealed node in an unsealed directory (the mount point
 *    /proc itself): -CUB_EBUSY;
 *  - rename between a sealed and an unsealed directory: -CUB_EXDEV;
 *    within sealed ones: -CUB_ENOENT for a missing source, else
 *    -CUB_EPERM; a sealed node renamed or replaced from unsealed
 *    directories: -CUB_EBUSY;
 *  - write, truncate: -CUB_EACCES; chmod, set_times: -CUB_EPERM.
 * A sealed node's owner changes it only inside its refresh hook, which
 * ramfs calls before a lookup or a listing in a sealed directory that
 * has one, at most once per epoch, and while it runs the seal does not
 * apply (to any node). Callers start a new epoch whenever they take the
 * fs lock (cubi_ramfs_new_epoch), so within one hold of the lock a
 * refresh never removes a node some walk of that hold found: nodes and
 * link targets found under the lock stay valid until it is dropped.
 */
struct cubi_walk;
struct cubi_rsynth {
	/* Directories: brings dir's entries up to date (NULL: never). */
	void (*refresh)(struct cubi_rnode *dir, uint64_t arg);
	/* Links: NULL for a link to its target text; else a "magic" link
	 * (Linux's /proc/<pid>/fd/N, cwd, exe) that leads to an object
	 * whatever its text says: fills in w's object (path.c's struct
	 * cubi_walk: node or file, and the name it was opened by) and
	 * returns 0, or -errno (the object is gone). The walk asks for it
	 * (fs lock held) where it would follow the text. */
	int (*follow)(struct cubi_rnode *link, uint64_t arg, struct cubi_walk *w);
};
void cubi_ramfs_seal(struct cubi_rnode *n, const struct cubi_rsynth *synth,
		     uint64_t arg);
/* n's owner and *arg, or NULL when n is not sealed. */
const struct cubi_rsynth *cubi_ramfs_synth(const struct cubi_rnode *n,
					   uint64_t *arg);
void cubi_ramfs_new_epoch(void);

/* A hold keeps n (and, for a directory, nothing else) alive. */
void cubi_ramfs_get(struct cubi_rnode *n);
void cubi_ramfs_put(struct cubi_rnode *n);

/*
 * Regular files. read: bytes copied from offset off (0 at or past the
 * end). write: all n bytes at off, the file growing (a gap reads as
 * zeros); -CUB_ENOSPC when memory runs out, -CUB_EFBIG past
 * CUBI_FILE_MAX. Both update the times (read: atime; write: mtime,
 * ctime). -CUB_EISDIR for a directory, -CUB_EINVAL for a device, a
 * socket node or a link.
 */
#define CUBI_FILE_MAX ((uint64_t)1 << 40)
long cubi_ramfs_read(struct cubi_rnode *n, void *buf, size_t len, uint64_t off);
long cubi_ramfs_write(struct cubi_rnode *n, const void *buf, size_t len,
		      uint64_t off);
/* Sets a file's size (zero-filling growth): 0, -CUB_EISDIR, -CUB_EFBIG,
 * -CUB_ENOSPC, -CUB_EINVAL (a device, socket node or link). A shrink
 * first unmaps the dropped pages from every shared mapping
 * (cubi_mm_file_dropped). */
int cubi_ramfs_truncate(struct cubi_rnode *n, uint64_t size);

/*
 * File seals (Linux's F_SEAL_*, which fcntl F_ADD_SEALS adds: memfd.c),
 * kept on a regular file's node; not /proc's "sealed" nodes above. A
 * regular file starts with CUBI_SEAL_SEAL (no seal can be added: Linux's
 * tmpfs files) unless memfd.c clears it. Honoured here:
 *  - write: -CUB_EPERM under WRITE or FUTURE_WRITE (len 0 still
 *    returns 0); under GROW a write past the size stops at the last
 *    page boundary below the size (a short count; -CUB_EPERM when
 *    there is none), as Linux's shmem checks a write page by page;
 *  - truncate: shrinking -CUB_EPERM under SHRINK, growing under GROW
 *    (WRITE alone allows both, as on Linux);
 *  - chmod: changing an execute bit -CUB_EPERM under EXEC.
 * Mappings are file.c's business, fallocate's memfd.c's (through
 * cubi_ramfs_file_seal_check).
 */
#define CUBI_SEAL_SEAL 0x01u
#define CUBI_SEAL_SHRINK 0x02u
#define CUBI_SEAL_GROW 0x04u
#define CUBI_SEAL_WRITE 0x08u
#define CUBI_SEAL_FUTURE_WRITE 0x10u
#define CUBI_SEAL_EXEC 0x20u
#define CUBI_SEAL_ALL 0x3fu
/* A regular file's seals (0 for any other node). */
uint32_t cubi_ramfs_file_seals(const struct cubi_rnode *n);
/* Sets regular file n's seals to `seals` (the caller keeps them only
 * growing, and checks CUBI_SEAL_SEAL). */
void cubi_ramfs_set_file_seals(struct cubi_rnode *n, uint32_t seals);
/* What the seals say of a call that changes bytes (writes) or makes
 * the file reach byte `end` (its size, or allocated storage): 0, or
 * -CUB_EPERM (writes under WRITE or FUTURE_WRITE; end past the size
 * under GROW). 0 for a node that is no regular file. */
int cubi_ramfs_file_seal_check(const struct cubi_rnode *n, uint64_t end, bool writes);
/* A regular file's page idx for a shared mapping (ramfs_pages.c): 0 and
 * its frame *pa (a zeroed one put in a hole), -CUB_EFAULT when the page
 * lies past the file's end, -CUB_ENOMEM. The page-fault path calls it
 * with interrupts off and without the fs lock: it only fills holes, with
 * interrupts off, and reads what changes only with interrupts off. */
int cubi_ramfs_page(struct cubi_rnode *n, uint64_t idx, uintptr_t *pa);
/* fallocate's two kinds of work on a regular file's bytes [off, end)
 * below its size (ramfs_pages.c; fs lock held): reserve gives every page
 * its frame now (0, or -CUB_ENOSPC with some taken); punch makes the
 * range read zeros, the whole pages in it losing their frames (unmapped
 * from every shared mapping first), the size unchanged. */
int cubi_ramfs_pages_reserve(struct cubi_rnode *n, uint64_t off, uint64_t end);
void cubi_ramfs_pages_punch(struct cubi_rnode *n, uint64_t off, uint64_t end);
bool cubi_ramfs_page_past_end(const struct cubi_rnode *n, uint64_t idx);
/* The frame of page idx, or 0 (a hole, or past the end): a lookup that
 * never fills a hole. irq off or on. */
uintptr_t cubi_ramfs_page_peek(const struct cubi_rnode *n, uint64_t idx);

void cubi_ramfs_stat(const struct cubi_rnode *n, struct cubi_rstat *st);
/* chmod: replaces the permission bits (07777). 0, or -CUB_EPERM for a
 * sealed node. */
int cubi_ramfs_chmod(struct cubi_rnode *n, uint32_t perm);
/* utimensat: sets atime/mtime (ns since 1970); UINT64_MAX leaves one.
 * 0, or -CUB_EPERM for a sealed node. */
int cubi_ramfs_set_times(struct cubi_rnode *n, uint64_t atime, uint64_t mtime);

/*
 * Directory listing. *cookie starts at 0; each call fills *ent with the
 * next entry and returns 1, or returns 0 at the end. The listing starts
 * with "." and "..", then every entry in creation order. Entries created
 * or removed during a listing are either listed once or not at all; no
 * other entry is skipped or repeated (cookies stay valid across changes).
 * -CUB_ENOTDIR for a file, -CUB_ENOENT for a removed directory.
 */
int cubi_ramfs_readdir(struct cubi_rnode *dir, uint64_t *cookie,
		       struct cubi_rdirent *ent);

/*
 * Unpacks a cpio archive in the "newc" format (magic 070701, or 070702
 * with checksums, which are not verified) into the tree under root:
 * directories, regular files and symbolic links with their permission
 * bits and mtime, and hard links (regular-file entries with nlink > 1
 * sharing ino, devmajor and devminor name one file, whichever entry
 * brings its data); missing parent directories are created; an existing
 * file or link is replaced by a new node (its other names keep the old
 * one), an existing directory kept; "." and leading "./" or "/" in names
 * are ignored; a link in a path is not followed (-CUB_EINVAL, as a file
 * is). Device nodes, fifos and sockets are skipped (counted in *skipped
 * when not NULL). Stops at
 * the "TRAILER!!!" entry. Returns the number of entries created, or
 * -CUB_EINVAL for a malformed archive (bad magic, a field that is not
 * hex, a name or size running past len, a path component that is "..",
 * empty or too long, a link target empty or longer than
 * CUBI_SYMLINK_MAX) after unpacking the entries before the bad one, or
 * -CUB_ENOSPC.
 */
long cubi_cpio_unpack(const void *archive, size_t len, struct cubi_rnode *root,
		      unsigned *skipped);

/* What cubi_cpio_write packed: regular files and their bytes,
 * directories, symbolic links, and further names of files already
 * packed (hard links, no data). */
struct cubi_cpio_stats {
	uint64_t files, bytes, dirs, links, hardlinks;
};

/*
 * Packs the tree below directory dir (not dir itself) into a "newc"
 * archive (cpio_write.c: directories, regular files, symbolic links
 * with permission bits and mtimes; a file's several names as hard
 * links of one archive inode; devices and
 * socket nodes left out) that cubi_cpio_unpack reads back. Writes at
 * most cap bytes into buf (NULL: none, only measures) and returns the
 * archive's whole length, which may exceed cap (call again with that
 * much room); *st (when not NULL) counts what went in. -CUB_ENOTDIR
 * (dir is no directory), -CUB_ENAMETOOLONG (a name of 4096 bytes or
 * more below dir), -CUB_EFBIG (a file of 4 GiB or more: the format's
 * limit), -CUB_ENOMEM (the walk's state). Contexts: task, fs lock held
 * (across both calls, so that they see one tree).
 */
long cubi_cpio_write(struct cubi_rnode *dir, void *buf, size_t cap,
		     struct cubi_cpio_stats *st);

#endif
