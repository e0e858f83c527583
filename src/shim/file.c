/*
 * file.c - open files of the ramfs tree: regular files (read, write,
 * lseek, pread/pwrite through the fd layer's io op) and directories
 * (getdents64, lseek to rewind or to a d_off cookie), and O_PATH files
 * of any node (a place in the tree: fstat, fchdir, a dirfd for the *at
 * calls, /proc/self/fd; reading, writing, seeking, listing: -EBADF).
 * An open file remembers the directory and name it was opened by
 * (cubi_file_where), which a new open through /proc/self/fd/N keeps and
 * /proc/self/fd shows for a removed directory; any other node's path is
 * its current name (cubi_ramfs_name_of).
 *
 * Locking: an open file's position and cookie, and its node, are
 * protected by the fs lock (cubi_fs_lock), which every op here takes:
 * they run with interrupts enabled and a reference to the file held
 * (fd.c). Dup'd descriptors share one struct rfile and so one position,
 * as on Linux.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "fs_impl.h"

#define O_APPEND 02000u
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define SEEK_DATA 3
#define SEEK_HOLE 4
#define DT_FIFO 1
#define DT_CHR 2
#define DT_BLK 6
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10
#define DT_SOCK 12
#define DIRENT_HEAD 19		/* d_ino, d_off, d_reclen, d_type */

struct rfile {
	struct cubi_file file;
	struct cubi_rnode *node;	/* held while the file is open */
	uint64_t pos;			/* files: offset; dirs: readdir cookie */
	struct cubi_rnode *dir;		/* held: where it was opened, or NULL */
	size_t nlen;			/* and by which name (name[nlen] = 0) */
	char name[];
};

static const struct cubi_file_ops reg_ops, dir_ops, path_ops;

static struct rfile *of_file(struct cubi_file *f)
{
	return cub_container_of(f, struct rfile, file);
}

static bool node_file(const struct cubi_file *f)
{
	return f->ops == &reg_ops || f->ops == &dir_ops || f->ops == &path_ops;
}

struct cubi_rnode *cubi_file_node(struct cubi_file *f)
{
	return node_file(f) ? of_file(f)->node : NULL;
}

bool cubi_file_is_path(const struct cubi_file *f)
{
	return (f->flags & CUBI_O_PATH) != 0;	/* path_ops' and others' */
}

struct cubi_file *cubi_file_open(struct cubi_rnode *n, unsigned flags)
{
	return cubi_file_open_at(n, flags, NULL, "", 0);
}

struct cubi_file *cubi_file_open_at(struct cubi_rnode *n, unsigned flags,
				    struct cubi_rnode *dir, const char *name,
				    size_t len)
{
	struct rfile *rf = cub_malloc(sizeof(*rf) + len + 1);
	const struct cubi_file_ops *ops = cubi_ramfs_is_dir(n) ? &dir_ops : &reg_ops;

	if (!rf)
		return NULL;
	*rf = (struct rfile){
		.file = { .ops = flags & CUBI_O_PATH ? &path_ops : ops, .flags = flags },
		.node = n, .dir = dir, .nlen = len,
	};
	cub_memcpy(rf->name, name, len);
	rf->name[len] = '\0';
	cubi_ramfs_get(n);
	if (dir)
		cubi_ramfs_get(dir);
	return &rf->file;
}

bool cubi_file_where(struct cubi_file *f, struct cubi_rnode **node,
		     struct cubi_rnode **dir, const char **name, size_t *len)
{
	struct rfile *rf;

	if (!node_file(f))
		return false;
	rf = of_file(f);
	*node = rf->node;
	*dir = rf->dir;
	*name = rf->name;
	*len = rf->nlen;
	return true;
}

/* Reads or writes at off, or at (and advancing) the position. */
static long reg_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		   bool out)
{
	struct rfile *rf = of_file(f);
	uint64_t at;
	long r;

	/* While it waited for the lock, the buffer may have been unmapped. */
	if (cubi_fs_lock_waited() &&
	    !(out ? cubi_user_readable((uintptr_t)buf, n)
		  : cubi_user_writable((uintptr_t)buf, n))) {
		cubi_fs_unlock();
		return -CUB_EFAULT;
	}
	at = off >= 0 ? (uint64_t)off : rf->pos;
	if (out && (f->flags & O_APPEND)) {	/* Linux: even for pwrite */
		struct cubi_rstat st;

		cubi_ramfs_stat(rf->node, &st);
		at = st.size;
	}
	r = out ? cubi_ramfs_write(rf->node, buf, n, at)
		: cubi_ramfs_read(rf->node, buf, n, at);
	if (r > 0 && off < 0)
		rf->pos = at + (uint64_t)r;
	cubi_fs_unlock();
	return r;
}

/* The new position for lseek on a file of `size` bytes, or -errno. */
static long reg_target(uint64_t pos, uint64_t size, int64_t off, int whence)
{
	int64_t base;

	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)pos; break;
	case SEEK_END: base = (int64_t)size; break;
	case SEEK_DATA:
	case SEEK_HOLE:	/* no holes are tracked: all data, then EOF */
		if (off < 0 || (uint64_t)off >= size)
			return off < 0 ? -CUB_EINVAL : -CUB_ENXIO;
		return whence == SEEK_DATA ? off : (long)size;
	default: return -CUB_EINVAL;
	}
	if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
		return -CUB_EINVAL;
	return (long)(base + off);
}

static long reg_seek(struct cubi_file *f, int64_t off, int whence)
{
	struct rfile *rf = of_file(f);
	struct cubi_rstat st;
	long r;

	cubi_fs_lock();
	cubi_ramfs_stat(rf->node, &st);
	r = reg_target(rf->pos, st.size, off, whence);
	if (r >= 0)
		rf->pos = (uint64_t)r;
	cubi_fs_unlock();
	return r;
}

static int node_stat(struct cubi_file *f, struct cubi_rstat *st)
{
	cubi_fs_lock();
	cubi_ramfs_stat(of_file(f)->node, st);
	cubi_fs_unlock();
	return 0;
}

/* A directory is not read or written as bytes. */
static long dir_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		   bool out)
{
	(void)f, (void)buf, (void)n, (void)off;
	return out ? -CUB_EBADF : -CUB_EISDIR;
}

/* Directories seek by cookie: SEEK_SET to 0 (rewinddir) or to a d_off
 * from getdents64 (seekdir), SEEK_CUR 0 (telldir). */
static long dir_seek(struct cubi_file *f, int64_t off, int whence)
{
	struct rfile *rf = of_file(f);
	long r = -CUB_EINVAL;

	cubi_fs_lock();
	if (whence == SEEK_SET && off >= 0)
		rf->pos = (uint64_t)off;
	if ((whence == SEEK_SET && off >= 0) || (whence == SEEK_CUR && off == 0))
		r = (long)rf->pos;
	cubi_fs_unlock();
	return r;
}

/* Interrupts are disabled here: the node goes later, in rfile_free. */
static void *rfile_release(struct cubi_file *f)
{
	return of_file(f);
}

static void rfile_free(void *mem)
{
	struct rfile *rf = mem;

	cubi_fs_lock();
	cubi_ramfs_put(rf->node);
	if (rf->dir)
		cubi_ramfs_put(rf->dir);
	cubi_fs_unlock();
	cub_free(rf);
}

/* An O_PATH file names a place: its bytes are not for it. */
static long path_io(struct cubi_file *f, void *buf, size_t n, int64_t off,
		    bool out)
{
	(void)f, (void)buf, (void)n, (void)off, (void)out;
	return -CUB_EBADF;
}

static long path_seek(struct cubi_file *f, int64_t off, int whence)
{
	(void)f, (void)off, (void)whence;
	return -CUB_EBADF;
}

static const struct cubi_file_ops reg_ops = {
	.io = reg_io, .seek = reg_seek, .stat = node_stat,
	.release = rfile_release, .free = rfile_free, .mode = CUBI_S_IFREG,
};
static const struct cubi_file_ops dir_ops = {
	.io = dir_io, .seek = dir_seek, .stat = node_stat,
	.release = rfile_release, .free = rfile_free, .mode = CUBI_S_IFDIR,
};
static const struct cubi_file_ops path_ops = {
	.io = path_io, .seek = path_seek, .stat = node_stat,
	.release = rfile_release, .free = rfile_free, .mode = CUBI_S_IFREG,
};

/* One linux_dirent64 record at dst (8-byte aligned length). */
static size_t put_dirent(char *dst, const struct cubi_rdirent *e, size_t reclen)
{
	uint16_t len16 = (uint16_t)reclen;
	int64_t next = (int64_t)e->next;
	uint32_t fmt = e->mode & CUBI_S_IFMT;
	uint8_t type = fmt == CUBI_S_IFDIR ? DT_DIR : fmt == CUBI_S_IFCHR ? DT_CHR :
		       fmt == CUBI_S_IFBLK ? DT_BLK :
		       fmt == CUBI_S_IFSOCK ? DT_SOCK : fmt == CUBI_S_IFLNK ? DT_LNK :
		       fmt == CUBI_S_IFIFO ? DT_FIFO : DT_REG;

	cub_memset(dst, 0, reclen);
	cub_memcpy(dst, &e->ino, 8);
	cub_memcpy(dst + 8, &next, 8);
	cub_memcpy(dst + 16, &len16, 2);
	dst[18] = (char)type;
	cub_memcpy(dst + DIRENT_HEAD, e->name, e->len);
	return reclen;
}

long cubi_file_getdents(struct cubi_file *f, uintptr_t buf, size_t n)
{
	struct rfile *rf;
	struct cubi_rdirent e;
	size_t used = 0;
	long r = 0;

	if (f->ops != &dir_ops)
		return f->ops == &path_ops ? -CUB_EBADF : -CUB_ENOTDIR;
	rf = of_file(f);
	cubi_fs_lock();
	for (;;) {
		uint64_t cookie = rf->pos;
		size_t reclen;

		r = cubi_ramfs_readdir(rf->node, &cookie, &e);
		if (r <= 0)
			break;
		reclen = CUB_ALIGN_UP(DIRENT_HEAD + e.len + 1, 8);
		if (used + reclen > n) {
			r = used ? 0 : -CUB_EINVAL;
			break;
		}
		used += put_dirent((char *)buf + used, &e, reclen);
		rf->pos = cookie;
	}
	cubi_fs_unlock();
	return r < 0 ? r : (long)used;
}

/* ------------------------------------------------------------- mmap */

#define PROT_READ 1u
#define PROT_WRITE 2u
#define CUB_ENODEV 19

/* Whether f may be mapped so: 0 or -errno (its ops and flags only). */
static long map_check(struct cubi_file *f, unsigned prot, bool shared)
{
	unsigned acc = f->flags & CUBI_O_ACCMODE;
	uint64_t arg;

	if (f->ops != &reg_ops)	/* pipes, sockets, directories, ... */
		return cubi_file_is_path(f) ? -CUB_EBADF : -CUB_ENODEV;
	if (acc == CUBI_O_WRONLY || acc == 3)
		return -CUB_EACCES;	/* a mapping reads the file */
	if (shared && cubi_ramfs_synth(of_file(f)->node, &arg))
		return -CUB_ENODEV;	/* /proc's: generated, not stored */
	if (shared && (prot & PROT_WRITE) && acc != CUBI_O_RDWR)
		return -CUB_EACCES;
	return 0;
}

#define ZERO_RDEV 0x105	/* /dev/zero, 1:5 */

/*
 * A shared mapping of f (fs lock held, from the seal check to the new
 * mapping: an F_ADD_SEALS cannot come between). Under F_SEAL_WRITE or
 * F_SEAL_FUTURE_WRITE a writable one is -EPERM, and a read-only one
 * holds a read-only file of f's node instead of f: Linux clears such a
 * mapping's VM_MAYWRITE, so mprotect cannot make it writable (-EACCES,
 * mm.c's check of the file) and it does not stop a later F_SEAL_WRITE
 * (cubi_mm_node_mapped_writable). That file is put after the unlock
 * (its last put takes the lock); the mapping keeps its own reference.
 */
static long map_shared(struct cubi_file *f, uintptr_t addr, size_t len, unsigned prot,
		       uint64_t off, bool fixed, bool noreplace)
{
	struct rfile *rf = of_file(f);
	struct cubi_file *via = f;
	long at;

	cubi_fs_lock();
	if (cubi_ramfs_file_seals(rf->node) & (CUBI_SEAL_WRITE | CUBI_SEAL_FUTURE_WRITE)) {
		if (prot & PROT_WRITE)
			via = NULL;
		else if ((via = cubi_file_open_at(rf->node, 0, rf->dir, rf->name, rf->nlen)))
			via->refs = 1;	/* new: nobody else sees it yet */
	}
	at = !via ? (prot & PROT_WRITE ? -CUB_EPERM : -CUB_ENOMEM)
		  : cubi_mm_map_file(addr, len, prot, fixed, noreplace, via, off / CUB_PAGE_SIZE,
				     false);
	cubi_fs_unlock();
	if (via && via != f)
		cubi_file_put(via);
	return at;
}

/*
 * A shared mapping maps the file's own pages (mm_file.c): stores through
 * it are the file's bytes; the file's seals may forbid it (map_shared).
 * A private one, never sealed, borrows those pages read-only; with
 * demand paging (bare metal) the first write to a page copies it, as
 * Linux's copy on write does, so a page not yet written shows the
 * file's later changes, as on Linux, and a large mapping costs only the
 * pages written. Without demand paging (the host, which takes no write
 * faults) a writable one is a copy of the file's bytes taken at mmap,
 * and an mprotect to writable copies a read-only one in.
 */
long cubi_file_map(uint64_t fd, uintptr_t addr, size_t len, unsigned prot,
		   bool shared, uint64_t off, bool fixed, bool noreplace)
{
	struct cubi_file *f = cubi_fd_get(fd);
	bool undo;
	long at;

	if (!f)
		return -CUB_EBADF;
	if (cubi_dev_rdev(f) == ZERO_RDEV) {	/* anonymous memory, as on Linux */
		unsigned acc = f->flags & CUBI_O_ACCMODE;

		cubi_file_put(f);
		if (acc == CUBI_O_WRONLY || (shared && (prot & PROT_WRITE) && acc != CUBI_O_RDWR))
			return -CUB_EACCES;
		return cubi_mm_map(addr, len, prot, fixed, noreplace);
	}
	if ((at = map_check(f, prot, shared)) != 0) {
		cubi_file_put(f);
		return at;
	}
	if (shared) {
		at = map_shared(f, addr, len, prot, off, fixed, noreplace);
		cubi_file_put(f);
		return at;
	}
	cubi_fs_lock();
	if (!(prot & PROT_WRITE) || cubi_mm_demand) {	/* borrows the file's frames */
		at = cubi_mm_map_file(addr, len, prot, fixed, noreplace, f, off / CUB_PAGE_SIZE,
				      true);
		cubi_fs_unlock();
		cubi_file_put(f);
		return at;
	}
	/* Writable while it is filled (W+X: -EPERM here). */
	at = cubi_mm_map(addr, len, prot & PROT_WRITE ? prot | PROT_READ
					    : PROT_READ | PROT_WRITE, fixed, noreplace);
	/* Paged in before it is filled; nothing half made on failure. */
	if (at >= 0 && !cubi_mm_populate_range((uintptr_t)at, (uintptr_t)at + len)) {
		cubi_ramfs_read(of_file(f)->node, (void *)at, len, off);
		undo = !(prot & PROT_WRITE) && cubi_mm_protect((uintptr_t)at, len, prot);
	} else {
		undo = at >= 0;
	}
	if (undo) {
		struct cub_shim_regs u = { .rdi = (uint64_t)at, .rsi = len };

		cubi_sys_munmap(&u);
		at = -CUB_ENOMEM;
	}
	cubi_fs_unlock();
	cubi_file_put(f);
	return at;
}
