/*
 * persist.c - the persisted directory on the shim's side (persist.h is
 * the interface; docs/shim.md, "Files that survive a reboot").
 *
 * Start (cubi_persist_up, from start.c after the network): the directory
 * is made if absent and the newest snapshot unpacked into it
 * (cubi_cpio_unpack, over what the boot archives put there). One
 * console line:
 *     persist: /data from vda: 3 files, 1200 bytes, generation 7
 *     persist: vda blank: /data empty
 *     persist: CUBRT_PERSIST=<value>: not vdX:/PATH; no persistence
 *     persist: vdb: no such disk; no persistence  (read-only disk,
 *         disk too small, the path is not a directory, or an error)
 *
 * A snapshot (cubi_persist_sync: fsync of something inside, sync,
 * syncfs, exit) packs the directory under the fs lock, measuring first
 * (a snapshot larger than a slot fails with -ENOSPC before anything is
 * allocated or written), then writes it with the fs lock dropped, so the
 * program's other threads use the tree meanwhile; the archive is the
 * state at the moment it was packed. Nothing changed since the newest
 * snapshot (the same archive: length, CRC-32 and a 64-bit FNV-1a hash
 * all equal) writes nothing. The path is looked up again each time
 * (links not followed): if it is no longer a directory the snapshot
 * fails with -EIO and the disk keeps the previous one.
 *
 * Memory: the archive is built in a buffer allocated for the snapshot
 * and freed after it (cpio_write.c's walk state likewise). A snapshot is
 * a sync point the program asked for, not a per-packet path; the
 * restore's payload buffer is freed once unpacked.
 *
 * Locking: `lock` (a coroutine mutex) serialises snapshots and guards
 * the store and the hash; it is taken before the fs lock, never while
 * holding it. `on` and `disk` are written once before the program runs
 * (or by host tests between cases) and read without a lock.
 */
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/string.h>
#include <cubrt/sync.h>

#include "persist.h"
#include "ramfs.h"
#include "vfs.h"

#define DIR_MODE (CUBI_S_IFDIR | 0755)
#define WALK_UP_MAX 4096		/* levels an fsync'd node may be at */

static struct {
	struct cub_mutex lock;		/* see the top */
	bool on;
	unsigned disk;
	struct cubi_persistcfg cfg;
	struct cubi_pstore store;	/* lock */
	uint64_t hash;			/* lock: FNV-1a of the newest */
} ps = { .lock = CUB_MUTEX_INIT(ps.lock) };

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* The directory at path (fs lock held), made with its parents when
 * make; NULL when a component is missing (and !make) or no directory. */
static struct cubi_rnode *find_dir(const char *path, bool make)
{
	struct cubi_rnode *d = cubi_ramfs_root(), *n;
	const char *c = path + 1;	/* parsed: "/a/b", real components */

	while (*c) {
		size_t k = 0;
		int rc;

		while (c[k] && c[k] != '/')
			k++;
		rc = cubi_ramfs_lookup(d, c, k, &n);
		if (rc == -CUB_ENOENT && make)
			rc = cubi_ramfs_create(d, c, k, DIR_MODE, &n);
		if (rc || !cubi_ramfs_is_dir(n))
			return NULL;
		d = n;
		c += k + (c[k] == '/');
	}
	return d;
}

/* Unpacks the restored payload into the directory: 0 and *st, or an
 * error (the directory could not be made: -CUB_ENOTDIR). */
static long unpack(const void *payload, size_t len, struct cubi_cpio_stats *st)
{
	struct cubi_rnode *dir;
	long rc = -CUB_ENOTDIR;

	cubi_fs_lock();
	if ((dir = find_dir(ps.cfg.path, true)) != NULL) {
		rc = len ? cubi_cpio_unpack(payload, len, dir, NULL) : 0;
		if (rc >= 0)
			rc = cubi_cpio_write(dir, NULL, 0, st);
	}
	cubi_fs_unlock();
	return rc < 0 ? rc : 0;
}

/* Opens the disk and restores: 0, or an error (no persistence). */
static int restore(void)
{
	struct cubi_cpio_stats st;
	struct cub_blk *dev;
	void *payload;
	size_t len;
	int rc;

	if ((rc = cub_blk_open(ps.cfg.disk, &dev)) != 0)
		return rc;
	if ((rc = cubi_pstore_open(&ps.store, dev, &payload, &len)) != 0)
		return rc;
	rc = (int)unpack(payload, len, &st);
	ps.hash = fnv1a(payload, len);
	cub_free(payload);
	if (rc)
		return rc;
	if (ps.store.gen)
		cub_printk("persist: %s from %s: %llu files, %llu bytes, generation %llu\n",
			   ps.cfg.path, ps.cfg.disk_name, (unsigned long long)st.files,
			   (unsigned long long)st.bytes, (unsigned long long)ps.store.gen);
	else
		cub_printk("persist: %s blank: %s empty\n", ps.cfg.disk_name, ps.cfg.path);
	return 0;
}

/* What a failed restore says on the console. */
static const char *why(int rc)
{
	switch (rc) {
	case -CUB_ENODEV:
		return "no such disk";
	case -CUB_EROFS:
		return "read-only disk";
	case -CUB_EINVAL:
		return "disk too small";
	case -CUB_ENOTDIR:
		return "the path is not a directory";
	}
	return cub_strerror(rc);
}

void cubi_persist_up(char *const envp[])
{
	const char *v = cubi_persistcfg_find(envp);
	int rc;

	if (ps.on || !v)
		return;
	if (cubi_persistcfg_parse(v, &ps.cfg)) {
		cub_printk("persist: " CUBI_PERSIST_VAR "=%s: not vdX:/PATH; no persistence\n",
			   v);
		return;
	}
	cub_mutex_lock(&ps.lock);
	if ((rc = restore()) != 0)
		cub_printk("persist: %s: %s; no persistence\n", ps.cfg.disk_name, why(rc));
	ps.disk = ps.cfg.disk;
	ps.on = rc == 0;
	cub_mutex_unlock(&ps.lock);
}

bool cubi_persist_owns(unsigned disk)
{
	return ps.on && ps.disk == disk;
}

/* Packs the directory into a new buffer (fs lock taken here): 0 and
 * *buf, *len; -CUB_ENOSPC, -CUB_EIO, -CUB_ENOMEM. */
static long pack(void **buf, size_t *len)
{
	struct cubi_rnode *dir;
	long n = -CUB_EIO;

	*buf = NULL;
	cubi_fs_lock();
	if ((dir = find_dir(ps.cfg.path, false)) != NULL)
		n = cubi_cpio_write(dir, NULL, 0, NULL);
	if (n >= 0 && (uint64_t)n > cubi_pstore_capacity(&ps.store))
		n = -CUB_ENOSPC;
	else if (n >= 0 && !(*buf = cub_malloc((size_t)n)))
		n = -CUB_ENOMEM;
	else if (n >= 0)
		n = cubi_cpio_write(dir, *buf, (size_t)n, NULL);
	cubi_fs_unlock();
	if (n == -CUB_ENAMETOOLONG || n == -CUB_EFBIG)
		n = -CUB_EIO;		/* what cannot be packed */
	if (n < 0) {
		cub_free(*buf);
		return n;
	}
	*len = (size_t)n;
	return 0;
}

/* A snapshot, lock held: 1 written, 0 unchanged, or an error. */
static long snapshot(void)
{
	void *buf;
	size_t len;
	uint64_t h;
	long rc = pack(&buf, &len);

	if (rc)
		return rc;
	h = fnv1a(buf, len);
	if (ps.store.gen && len == ps.store.len && h == ps.hash &&
	    cubi_crc32(buf, len) == ps.store.crc) {
		rc = 0;
	} else if ((rc = cubi_pstore_save(&ps.store, buf, len)) == 0) {
		ps.hash = h;
		rc = 1;
	}
	cub_free(buf);
	return rc;
}

long cubi_persist_sync(void)
{
	long rc;

	if (!ps.on)
		return 0;
	cub_mutex_lock(&ps.lock);
	rc = snapshot();
	cub_mutex_unlock(&ps.lock);
	return rc < 0 ? rc : 0;
}

/* True when n is the directory or below it (fs lock held). */
static bool inside(struct cubi_rnode *n, struct cubi_rnode *dir)
{
	const char *name;
	size_t len;

	if (!cubi_ramfs_is_dir(n) && !cubi_ramfs_name_of(n, &n, &name, &len))
		return false;
	for (int i = 0; i < WALK_UP_MAX; i++) {
		if (n == dir)
			return true;
		if (n == cubi_ramfs_root())
			return false;
		n = cubi_ramfs_parent(n);
	}
	return false;
}

long cubi_persist_fsync(struct cubi_file *f)
{
	struct cubi_rnode *n, *dir;
	bool in = false;

	if (!ps.on)
		return 0;
	cubi_fs_lock();
	n = cubi_file_node(f);
	dir = find_dir(ps.cfg.path, false);
	in = n && dir && inside(n, dir);
	cubi_fs_unlock();
	return in ? cubi_persist_sync() : 0;
}

void cubi_persist_exit(void)
{
	long rc;

	if (!ps.on)
		return;
	cub_mutex_lock(&ps.lock);
	rc = snapshot();
	if (rc > 0)
		cub_printk("persist: %s to %s: generation %llu, %llu bytes\n", ps.cfg.path,
			   ps.cfg.disk_name, (unsigned long long)ps.store.gen,
			   (unsigned long long)ps.store.len);
	else if (rc < 0)
		cub_printk("persist: %s to %s: snapshot failed: %s; the disk keeps "
			   "generation %llu\n", ps.cfg.path, ps.cfg.disk_name,
			   cub_strerror((int)rc), (unsigned long long)ps.store.gen);
	cub_mutex_unlock(&ps.lock);
}

void cubi_persist_reset(void)
{
	ps.on = false;
	ps.store = (struct cubi_pstore){ 0 };
	ps.hash = 0;
}
