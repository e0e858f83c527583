/*
 * fs.c - the file system's lock, its first tree (/tmp, /dev, /root,
 * /etc's hosts, passwd and group, and the boot archives), the working
 * directory and umask, and the plumbing every path call goes through
 * (fs_impl.h). The calls
 * themselves: fs_open.c (open, stat, access, file descriptors),
 * fs_names.c (names, directories), fs_cwd.c (the working directory,
 * umask) and fs_attr.c (attributes).
 *
 * The tree lives in memory and is gone at exit. /proc is part of it
 * (procfs.h). Everything runs as root:
 * permission bits are kept and reported, not enforced (only X_OK needs
 * an execute bit, as for root).
 *
 * Locking: one coroutine mutex (fs_lock) serialises every walk and ramfs
 * call, the working directory and the umask. A call copies its path in
 * and takes a reference to its directory descriptor before locking, and
 * installs a new descriptor or drops references after unlocking: a
 * file's last put takes fs_lock itself (file.c). A reference a walk
 * needs under the lock (a magic link of /proc, cubi_fs_fd_get) is
 * dropped by cubi_fs_unlock, after the mutex: `later` holds them.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>

#include "fs_impl.h"
#include "procfs.h"

#define LATER_MAX 8	/* references one hold may take (a walk: one) */

static struct cub_mutex fs_lock = CUB_MUTEX_INIT(fs_lock);
static struct cubi_file *later[LATER_MAX];	/* fs lock held */
static unsigned nlater;
struct cubi_rnode *cubi_fs_cwd;		/* fs_impl.h */
uint32_t cubi_fs_umask = 022;
static bool booted;

/* name in dir with text, unless an archive brought one (fs lock held). */
static void default_file(struct cubi_rnode *dir, const char *name, const char *text)
{
	struct cubi_rnode *f;

	if (cubi_ramfs_create(dir, name, cub_strlen(name), CUBI_S_IFREG | 0644, &f) == 0)
		cubi_ramfs_write(f, text, cub_strlen(text), 0);
}

/* What every Linux system has in /etc, unless an archive brought its
 * own: /etc/hosts naming the loopback address (Go's and musl's resolvers
 * read it, so "localhost" resolves), and the user and group everything
 * runs as, root (getpwuid(getuid()), getgrgid), with its home /root. */
static void default_etc(void)
{
	struct cubi_rnode *etc, *home;

	cubi_ramfs_create(cubi_ramfs_root(), "root", 4, CUBI_S_IFDIR | 0700, &home);
	if (cubi_ramfs_create(cubi_ramfs_root(), "etc", 3, CUBI_S_IFDIR | 0755, &etc) &&
	    !cubi_ramfs_is_dir(etc))
		return;
	default_file(etc, "hosts", "127.0.0.1\tlocalhost\n");
	default_file(etc, "passwd", "root:x:0:0:root:/root:/bin/sh\n");
	default_file(etc, "group", "root:x:0:\n");
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
	cubi_procfs_populate(cubi_ramfs_root());
	default_etc();
}

void cubi_fs_lock(void)
{
	cubi_fs_lock_waited();
}

bool cubi_fs_lock_waited(void)
{
	bool waited = !cub_mutex_trylock(&fs_lock);

	if (waited)
		cub_mutex_lock(&fs_lock);
	cubi_ramfs_new_epoch();	/* /proc is refreshed afresh (ramfs.h) */
	if (!booted) {
		booted = true;
		unpack_modules();
	}
	return waited;
}

void cubi_fs_unlock(void)
{
	struct cubi_file *put[LATER_MAX];
	unsigned n = nlater;

	cub_memcpy(put, later, n * sizeof(put[0]));
	nlater = 0;
	cub_mutex_unlock(&fs_lock);
	for (unsigned i = 0; i < n; i++)
		cubi_file_put(put[i]);
}

struct cubi_file *cubi_fs_fd_get(uint64_t fd, int *err)
{
	struct cubi_file *f;

	*err = -CUB_ELOOP;
	if (nlater == LATER_MAX)
		return NULL;
	*err = -CUB_ENOENT;
	if ((f = cubi_fd_get(fd)) != NULL)
		later[nlater++] = f;
	return f;
}

void cubi_fs_boot(void)
{
	cubi_fs_lock();
	cubi_fs_unlock();
}

/* ------------------------------------------------------ call plumbing */

/* Before the lock: copies the path in, takes dirfd's file when the path
 * is relative to it. empty_ok: "" names dirfd itself (AT_EMPTY_PATH). */
int cubi_fs_at_begin(struct cubi_at *a, long dirfd, uintptr_t upath, bool empty_ok)
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
struct cubi_rnode *cubi_fs_at_start(struct cubi_at *a)
{
	struct cubi_rnode *n;

	if (!a->dir)
		return cubi_fs_cwd ? cubi_fs_cwd : cubi_ramfs_root();
	n = cubi_file_node(a->dir);
	return n && (cubi_ramfs_is_dir(n) || !a->path[0]) ? n : NULL;
}

/* After the lock. */
void cubi_fs_at_end(struct cubi_at *a)
{
	cub_free(a->path);
	a->path = NULL;
	if (a->dir)
		cubi_file_put(a->dir);
}

/* Runs op on one path under the lock. */
long cubi_fs_path_call(long dirfd, uintptr_t upath, bool empty_ok, cubi_fs_path_op op,
		      void *arg)
{
	struct cubi_at a;
	struct cubi_rnode *start;
	long rc = cubi_fs_at_begin(&a, dirfd, upath, empty_ok);

	if (rc == 0) {
		cubi_fs_lock();
		start = cubi_fs_at_start(&a);
		rc = start ? op(start, a.path, arg) : -CUB_ENOTDIR;
		cubi_fs_unlock();
	}
	cubi_fs_at_end(&a);
	return rc;
}

/* Runs op on a path in kernel memory, relative to the working
 * directory, under the lock. */
long cubi_fs_kpath_call(const char *path, cubi_fs_path_op op, void *arg)
{
	long rc;

	cubi_fs_lock();
	rc = op(cubi_fs_cwd ? cubi_fs_cwd : cubi_ramfs_root(), path, arg);
	cubi_fs_unlock();
	return rc;
}

/* The object a path names; "" (with AT_EMPTY_PATH) is start itself. */
int cubi_fs_resolve(struct cubi_rnode *start, const char *path,
		    enum cubi_walk_how how, struct cubi_rnode **out,
		    struct cubi_file **file)
{
	if (!path[0]) {
		*out = start;
		*file = NULL;
		return 0;
	}
	return cubi_path_resolve_obj(start, path, how, out, file);
}

/* cubi_fs_fd_call(_open): path_ok, whether an O_PATH file may serve. */
static long fd_call(uint64_t fd, bool path_ok, long no_node, cubi_fs_node_op op,
		    void *arg)
{
	struct cubi_file *f = cubi_fd_get(fd);
	struct cubi_rnode *n;
	long rc;

	if (!f)
		return -CUB_EBADF;
	cubi_fs_lock();
	n = cubi_file_node(f);
	if (!path_ok && cubi_file_is_path(f))
		rc = -CUB_EBADF;
	else
		rc = n ? op(n, f, arg) : no_node;
	cubi_fs_unlock();
	cubi_file_put(f);	/* after the unlock: a last put takes the lock */
	return rc;
}

long cubi_fs_fd_call(uint64_t fd, long no_node, cubi_fs_node_op op, void *arg)
{
	return fd_call(fd, true, no_node, op, arg);
}

long cubi_fs_fd_call_open(uint64_t fd, long no_node, cubi_fs_node_op op, void *arg)
{
	return fd_call(fd, false, no_node, op, arg);
}
