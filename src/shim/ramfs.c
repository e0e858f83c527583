/*
 * ramfs.c - the shim's in-memory file system: directories, regular
 * files, symbolic links and special nodes (devices, sockets) on the heap
 * (the contract is ramfs.h).
 *
 * Names and nodes are apart, as inodes and dentries are on Linux: a
 * directory keeps its entries (struct rname: a name and the node it
 * names) on a list in creation order, and a node other than a directory
 * may be named by several entries (hard links). Each entry carries a
 * per-directory sequence number, and a readdir cookie is a sequence
 * number ("continue at the first entry numbered >= cookie"), so a cookie
 * stays meaningful when entries before or after it come and go. Cookies
 * 0 and 1 are "." and "..". A file keeps its bytes in one heap buffer
 * grown geometrically; a gap written over reads as zeros because the
 * buffer is zero-filled whenever the size grows. A symbolic link keeps
 * its target in the same buffer, NUL-terminated for the path walk.
 *
 * Invariants:
 *  - an entry e is on e->dir->d.children, and e->node is allocated;
 *    n->nlink counts the entries naming n. A directory has at most one
 *    (d.self, NULL for the root and for a removed directory), so
 *    parent pointers (d.self->dir) lead to the root, which is static,
 *    never freed, never named and its own parent. A removed directory is
 *    its own parent (its old parent may be freed while it is held).
 *  - live(n) (the root, or nlink > 0) <=> n can be reached from the root.
 *  - a directory's children are in increasing seq order: an entry takes
 *    the directory's next_seq (starting at 2, only growing) whenever it
 *    is added, a rename into the directory included.
 *  - d.nentries / d.nsubdirs count the entries / those naming
 *    directories; a directory is only removed when empty, so a removed
 *    directory never has entries (and takes none).
 *  - d.hint is NULL or an entry of the directory (where readdir resumes).
 *  - a node other than the root is freed exactly when nlink and refs
 *    (holds) are both 0; an entry is freed when it is removed.
 *  - a sealed node (synth != NULL) changes only while owner > 0 (its
 *    owner's refresh hook runs); a directory is refreshed at most once
 *    per epoch (d.epoch == epoch once it was), and only removing entries
 *    frees nodes, so nothing found since the epoch began is freed by a
 *    refresh before the next one (ramfs.h).
 *  - files and links: f.size <= f.cap, f.data holds f.cap bytes (NULL
 *    when 0); bytes past f.size are stale until the size grows over
 *    them, except a link's, whose f.data[f.size] is its NUL and which
 *    never changes. Devices and sockets keep f zeroed: size 0, no data.
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "ramfs.h"

#define PERM_BITS 07777u
#define DIRENT_SIZE 32		/* what stat reports per directory entry */
#define FIRST_SEQ 2		/* cookies 0 and 1 are "." and ".." */
#define MIN_CAP 64		/* smallest file buffer worth allocating */
#define LINK_PERM 0777u		/* Linux: a link's bits are not used */

/* One name in a directory: entries are allocated to fit their name. */
struct rname {
	struct cub_list entry;		/* in dir->d.children */
	struct cubi_rnode *dir;		/* the directory it is in */
	struct cubi_rnode *node;	/* what it names */
	uint64_t seq;			/* position in the dir's listing */
	uint16_t nlen;
	char name[];			/* nlen bytes and a NUL */
};

struct cubi_rnode {
	uint64_t ino;
	uint64_t atime, mtime, ctime;
	uint32_t mode;			/* type | permission bits */
	uint32_t refs;			/* holds (open files, cwd, ...) */
	uint32_t nlink;			/* entries naming it */
	union {
		struct {		/* directory */
			struct cub_list children;
			struct rname *hint, *self;
			uint64_t next_seq;
			uint64_t epoch;	/* of its last refresh */
			uint32_t nentries, nsubdirs;
		} d;
		struct {		/* regular file, symbolic link */
			unsigned char *data;
			size_t size, cap;
		} f;
	};
	uint32_t rdev;			/* character devices: dev_t; socket
					 * nodes: their socket's id */
	const struct cubi_rsynth *synth;	/* sealed: its owner */
	uint64_t synth_arg;
};

static struct cubi_rnode root_node;
static bool root_ready;
static uint64_t next_ino = 1;		/* the root takes 1 */
static uint64_t epoch = 1;		/* directories start at 0: stale */
static unsigned owner;			/* > 0: a refresh hook is running */

static uint64_t now(void)
{
	return cub_arch_wallclock_ns();
}

static bool dir_p(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFDIR;
}

static bool link_p(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFLNK;
}

/* Reachable from the root: the root itself, or named somewhere. */
static bool live(const struct cubi_rnode *n)
{
	return n == &root_node || n->nlink > 0;
}

/* Does the seal stop the calls from changing n? */
static bool sealed(const struct cubi_rnode *n)
{
	return n->synth && !owner;
}

/* Lets a sealed directory's owner bring its entries up to date, once
 * per epoch (see the invariants). */
static void refresh(struct cubi_rnode *dir)
{
	if (!dir->synth || !dir->synth->refresh || dir->d.epoch == epoch)
		return;
	dir->d.epoch = epoch;
	owner++;
	dir->synth->refresh(dir, dir->synth_arg);
	owner--;
}

void cubi_ramfs_seal(struct cubi_rnode *n, const struct cubi_rsynth *synth,
		     uint64_t arg)
{
	n->synth = synth;
	n->synth_arg = arg;
}

const struct cubi_rsynth *cubi_ramfs_synth(const struct cubi_rnode *n,
					   uint64_t *arg)
{
	*arg = n->synth_arg;
	return n->synth;
}

void cubi_ramfs_new_epoch(void)
{
	epoch++;
}

static struct rname *of_entry(struct cub_list *l)
{
	return cub_container_of(l, struct rname, entry);
}

/* A fresh, nameless node of type `type` (CUBI_S_IF*). */
static void node_init(struct cubi_rnode *n, uint32_t type, uint32_t perm)
{
	uint64_t t = now();

	cub_memset(n, 0, sizeof(*n));
	n->ino = next_ino++;
	n->mode = type | (perm & PERM_BITS);
	n->atime = n->mtime = n->ctime = t;
	if (type == CUBI_S_IFDIR) {
		cub_list_init(&n->d.children);
		n->d.next_seq = FIRST_SEQ;
	}
}

struct cubi_rnode *cubi_ramfs_root(void)
{
	if (!root_ready) {
		node_init(&root_node, CUBI_S_IFDIR, 0755);
		root_ready = true;
	}
	return &root_node;
}

/* Names reach the tree only through new_name: checking them there keeps
 * "." / ".." / '/' out of every directory. */
static void check_name(const char *name, size_t len)
{
	if (len == 0 || len > CUBI_NAME_MAX)
		cub_panic("cubi_ramfs: name length %zu", len);
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			cub_panic("cubi_ramfs: a name with '/' or NUL");
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		cub_panic("cubi_ramfs: \".\" or \"..\" as a name");
}

/* An entry for `name`, not in any directory yet; NULL: no memory. */
static struct rname *new_name(const char *name, size_t len)
{
	struct rname *e;

	check_name(name, len);
	if ((e = cub_malloc(sizeof(*e) + len + 1)) == NULL)
		return NULL;
	cub_list_init(&e->entry);
	cub_memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->nlen = (uint16_t)len;
	return e;
}

/* Every name is looked up here: a generated directory is refreshed
 * first. */
static struct rname *find(struct cubi_rnode *dir, const char *name, size_t len)
{
	struct cub_list *l;

	refresh(dir);
	cub_list_for_each(l, &dir->d.children) {
		struct rname *e = of_entry(l);

		if (e->nlen == len && cub_memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

/* Puts entry e, naming n, last in live directory dir's listing. */
static void attach(struct cubi_rnode *dir, struct rname *e, struct cubi_rnode *n)
{
	e->dir = dir;
	e->node = n;
	e->seq = dir->d.next_seq++;
	cub_list_push_back(&dir->d.children, &e->entry);
	dir->d.nentries++;
	n->nlink++;
	if (dir_p(n)) {
		CUB_ASSERT(n->nlink == 1);	/* no hard links to dirs */
		n->d.self = e;
		dir->d.nsubdirs++;
	}
	dir->mtime = dir->ctime = now();
}

/* Removes and frees entry e; returns its node, which stays allocated
 * (see drop). */
static struct cubi_rnode *detach(struct rname *e)
{
	struct cubi_rnode *dir = e->dir, *n = e->node;

	CUB_ASSERT(n->nlink > 0);
	cub_list_del(&e->entry);
	dir->d.nentries--;
	if (dir->d.hint == e)
		dir->d.hint = NULL;
	if (dir_p(n)) {
		n->d.self = NULL;
		dir->d.nsubdirs--;
	}
	n->nlink--;
	dir->mtime = dir->ctime = n->ctime = now();
	cub_free(e);
	return n;
}

/* Frees n if nothing keeps it alive any more. */
static void drop(struct cubi_rnode *n)
{
	if (live(n) || n->refs)
		return;
	if (!dir_p(n))
		cub_free(n->f.data);
	cub_free(n);
}

struct cubi_rnode *cubi_ramfs_parent(struct cubi_rnode *dir)
{
	CUB_ASSERT(dir_p(dir));
	return dir->d.self ? dir->d.self->dir : dir;
}

/*
 * Unlinks everything under the root, children before their directory,
 * without recursion (the tree may be deep): descend into the first child
 * while it is a non-empty directory, else remove its entry; an emptied
 * directory is then the first child of its parent again.
 */
void cubi_ramfs_reset(void)
{
	struct cubi_rnode *root = cubi_ramfs_root(), *d = root;

	for (;;) {
		struct cub_list *l = cub_list_first(&d->d.children);
		struct cubi_rnode *c;

		if (!l) {
			if (d == root)
				break;
			d = cubi_ramfs_parent(d);
			continue;
		}
		c = of_entry(l)->node;
		if (dir_p(c) && !cub_list_empty(&c->d.children)) {
			d = c;
			continue;
		}
		drop(detach(of_entry(l)));	/* a held node lives on */
	}
	root->d.next_seq = FIRST_SEQ;
	root->d.hint = NULL;
}

bool cubi_ramfs_is_dir(const struct cubi_rnode *n)
{
	return dir_p(n);
}

int cubi_ramfs_lookup(struct cubi_rnode *dir, const char *name, size_t len,
		      struct cubi_rnode **out)
{
	struct rname *e;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if ((e = find(dir, name, len)) == NULL)
		return -CUB_ENOENT;
	*out = e->node;
	return 0;
}

/* Devices, sockets and links keep no bytes to read or write. */
static bool special_p(const struct cubi_rnode *n)
{
	uint32_t fmt = n->mode & CUBI_S_IFMT;

	return fmt == CUBI_S_IFCHR || fmt == CUBI_S_IFSOCK || fmt == CUBI_S_IFLNK;
}

/* Adds a node of type `type` named `name` to dir, with tag (a special
 * node's rdev or socket id); errors as cubi_ramfs_create. */
static int add_node(struct cubi_rnode *dir, const char *name, size_t len,
		    uint32_t type, uint32_t perm, uint32_t tag,
		    struct cubi_rnode **out)
{
	struct cubi_rnode *n;
	struct rname *e;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if (!live(dir))
		return -CUB_ENOENT;
	check_name(name, len);
	if ((e = find(dir, name, len)) != NULL) {
		*out = e->node;
		return -CUB_EEXIST;
	}
	if (sealed(dir))
		return -CUB_ENOENT;
	if ((n = cub_malloc(sizeof(*n))) == NULL)
		return -CUB_ENOMEM;
	if ((e = new_name(name, len)) == NULL) {
		cub_free(n);
		return -CUB_ENOMEM;
	}
	node_init(n, type, perm);
	n->rdev = tag;
	attach(dir, e, n);
	*out = n;
	return 0;
}

int cubi_ramfs_mknod(struct cubi_rnode *dir, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, struct cubi_rnode **out)
{
	return add_node(dir, name, len, CUBI_S_IFCHR, mode, rdev, out);
}

int cubi_ramfs_mksock(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, uint32_t id, struct cubi_rnode **out)
{
	CUB_ASSERT(id != 0);
	return add_node(dir, name, len, CUBI_S_IFSOCK, mode, id, out);
}

uint32_t cubi_ramfs_sock_id(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFSOCK ? n->rdev : 0;
}

int cubi_ramfs_create(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, struct cubi_rnode **out)
{
	uint32_t type = (mode & CUBI_S_IFMT) == CUBI_S_IFDIR ? CUBI_S_IFDIR : CUBI_S_IFREG;

	return add_node(dir, name, len, type, mode, 0, out);
}

/* The target is copied before the node is made, so that running out of
 * memory leaves no half-made link behind. */
int cubi_ramfs_symlink(struct cubi_rnode *dir, const char *name, size_t len,
		       const char *target, size_t tlen, struct cubi_rnode **out)
{
	unsigned char *t;
	int rc;

	if (tlen == 0)
		return -CUB_ENOENT;
	if (tlen > CUBI_SYMLINK_MAX)
		return -CUB_ENAMETOOLONG;
	if ((t = cub_malloc(tlen + 1)) == NULL)
		return -CUB_ENOMEM;
	cub_memcpy(t, target, tlen);
	t[tlen] = '\0';
	if ((rc = add_node(dir, name, len, CUBI_S_IFLNK, LINK_PERM, 0, out)) != 0) {
		cub_free(t);
		return rc;
	}
	(*out)->f.data = t;
	(*out)->f.size = tlen;
	(*out)->f.cap = tlen + 1;
	return 0;
}

const char *cubi_ramfs_link_target(const struct cubi_rnode *n, size_t *len)
{
	if (!link_p(n))
		return NULL;
	*len = n->f.size;
	return (const char *)n->f.data;
}

/* Linux's order (do_linkat, vfs_link): the new name, then the node. */
int cubi_ramfs_link(struct cubi_rnode *n, struct cubi_rnode *dir,
		    const char *name, size_t len)
{
	struct rname *e;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if (!live(dir))
		return -CUB_ENOENT;
	if (find(dir, name, len))
		return -CUB_EEXIST;
	if (sealed(dir))
		return -CUB_ENOENT;
	if (sealed(n))
		return -CUB_EXDEV;
	if (dir_p(n))
		return -CUB_EPERM;
	if (n->nlink == 0)	/* removed: no name brings it back */
		return -CUB_ENOENT;
	if (n->nlink == UINT32_MAX)
		return -CUB_EMLINK;
	if ((e = new_name(name, len)) == NULL)
		return -CUB_ENOMEM;
	attach(dir, e, n);
	n->ctime = now();
	return 0;
}

int cubi_ramfs_unlink(struct cubi_rnode *dir, const char *name, size_t len,
		      bool rmdir)
{
	struct rname *e;
	struct cubi_rnode *n;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if ((e = find(dir, name, len)) == NULL)
		return -CUB_ENOENT;
	n = e->node;
	if (rmdir && !dir_p(n))
		return -CUB_ENOTDIR;
	if (!rmdir && dir_p(n))
		return -CUB_EISDIR;
	if (sealed(dir) || sealed(n))	/* Linux: before emptiness */
		return sealed(dir) ? -CUB_EPERM : -CUB_EBUSY;
	if (rmdir && n->d.nentries)
		return -CUB_ENOTEMPTY;
	drop(detach(e));
	return 0;
}

/* True when d is dir or lies below it (d live, so the walk ends). */
static bool in_subtree(struct cubi_rnode *d, const struct cubi_rnode *dir)
{
	for (;; d = cubi_ramfs_parent(d)) {
		if (d == dir)
			return true;
		if (d == &root_node)
			return false;
	}
}

/* May src take dst's name (dst != src)? Linux's type rules. */
static int may_replace(const struct cubi_rnode *src,
		       const struct cubi_rnode *dst)
{
	if (!dir_p(dst))
		return dir_p(src) ? -CUB_ENOTDIR : 0;
	if (!dir_p(src))
		return -CUB_EISDIR;
	return dst->d.nentries ? -CUB_ENOTEMPTY : 0;
}

/*
 * The checks run in Linux's order (do_renameat2, vfs_rename): the source,
 * noreplace, the subtree trap, the same node (two names of one file
 * included: nothing happens), then the target's type. A target that is
 * an ancestor of the source holds it, so it fails as non-empty (or as a
 * directory, for a file). The new entry is allocated before anything
 * changes, so -CUB_ENOMEM leaves both names as they were.
 */
int cubi_ramfs_rename(struct cubi_rnode *fdir, const char *from, size_t flen,
		      struct cubi_rnode *tdir, const char *to, size_t tlen,
		      bool noreplace)
{
	struct rname *se, *te, *ne;
	struct cubi_rnode *src;
	int rc;

	if (!dir_p(fdir) || !dir_p(tdir))
		return -CUB_ENOTDIR;
	if (sealed(fdir) != sealed(tdir))
		return -CUB_EXDEV;	/* Linux: two mounts, checked first */
	if ((se = find(fdir, from, flen)) == NULL || !live(tdir))
		return -CUB_ENOENT;
	if (sealed(fdir))
		return -CUB_EPERM;
	check_name(to, tlen);
	src = se->node;
	te = find(tdir, to, tlen);
	if (sealed(src) || (te && sealed(te->node)))
		return -CUB_EBUSY;	/* /proc itself: a mount point */
	if (te && noreplace)
		return -CUB_EEXIST;
	if (dir_p(src) && in_subtree(tdir, src))
		return -CUB_EINVAL;
	if (te && te->node == src)
		return 0;
	if (te && (rc = may_replace(src, te->node)) != 0)
		return rc;
	if ((ne = new_name(to, tlen)) == NULL)
		return -CUB_ENOMEM;
	if (te)
		drop(detach(te));
	detach(se);		/* not dropped: ne names src at once */
	attach(tdir, ne, src);
	return 0;
}

void cubi_ramfs_get(struct cubi_rnode *n)
{
	n->refs++;
	CUB_ASSERT(n->refs != 0);
}

void cubi_ramfs_put(struct cubi_rnode *n)
{
	CUB_ASSERT(n->refs > 0);
	n->refs--;
	drop(n);
}

/* Makes room for `need` bytes: doubling (amortised O(1) appends), or
 * exactly `need` when the doubled block cannot be had. */
static int reserve(struct cubi_rnode *n, uint64_t need)
{
	size_t cap = CUB_MAX(n->f.cap * 2, (size_t)MIN_CAP);
	unsigned char *p;

	if (cap < need)
		cap = (size_t)need;
	p = cub_realloc(n->f.data, cap);
	if (!p && cap > need) {
		cap = (size_t)need;
		p = cub_realloc(n->f.data, cap);
	}
	if (!p)
		return -CUB_ENOSPC;
	n->f.data = p;
	n->f.cap = cap;
	return 0;
}

/* Sets the size of file n (size <= CUBI_FILE_MAX): growth reads as zeros;
 * a file shrunk to under a quarter of its buffer gives memory back. */
static int resize(struct cubi_rnode *n, uint64_t size)
{
	int rc;

	if (size > n->f.cap && (rc = reserve(n, size)) != 0)
		return rc;
	if (size > n->f.size) {
		cub_memset(n->f.data + n->f.size, 0, (size_t)size - n->f.size);
	} else if (size == 0) {
		cub_free(n->f.data);
		n->f.data = NULL;
		n->f.cap = 0;
	} else if (size < n->f.cap / 4) {
		unsigned char *p = cub_realloc(n->f.data, (size_t)size);

		if (p) {	/* else keep the larger buffer: still valid */
			n->f.data = p;
			n->f.cap = (size_t)size;
		}
	}
	n->f.size = (size_t)size;
	return 0;
}

long cubi_ramfs_read(struct cubi_rnode *n, void *buf, size_t len, uint64_t off)
{
	size_t k;

	if (dir_p(n))
		return -CUB_EISDIR;
	if (special_p(n))
		return -CUB_EINVAL;
	n->atime = now();
	if (off >= n->f.size)
		return 0;
	k = CUB_MIN(len, n->f.size - (size_t)off);
	cub_memcpy(buf, n->f.data + off, k);
	return (long)k;
}

long cubi_ramfs_write(struct cubi_rnode *n, const void *buf, size_t len,
		      uint64_t off)
{
	int rc;

	if (dir_p(n))
		return -CUB_EISDIR;
	if (special_p(n))
		return -CUB_EINVAL;
	if (sealed(n))
		return -CUB_EACCES;
	if (len == 0)		/* Linux: no size change, no time update */
		return 0;
	if (off > CUBI_FILE_MAX || len > CUBI_FILE_MAX - off)
		return -CUB_EFBIG;
	if (off + len > n->f.size && (rc = resize(n, off + len)) != 0)
		return rc;
	cub_memcpy(n->f.data + off, buf, len);
	n->mtime = n->ctime = now();
	return (long)len;
}

int cubi_ramfs_truncate(struct cubi_rnode *n, uint64_t size)
{
	int rc;

	if (dir_p(n))
		return -CUB_EISDIR;
	if (special_p(n))
		return -CUB_EINVAL;
	if (sealed(n))
		return -CUB_EACCES;
	if (size > CUBI_FILE_MAX)
		return -CUB_EFBIG;
	if (size == n->f.size)	/* tmpfs: times change with the size only */
		return 0;
	if ((rc = resize(n, size)) != 0)
		return rc;
	n->mtime = n->ctime = now();
	return 0;
}

void cubi_ramfs_stat(const struct cubi_rnode *n, struct cubi_rstat *st)
{
	st->ino = n->ino;
	st->mode = n->mode;
	if (dir_p(n)) {
		st->nlink = live(n) ? 2 + n->d.nsubdirs : 0;
		st->size = (uint64_t)n->d.nentries * DIRENT_SIZE;
	} else {
		st->nlink = n->nlink;
		st->size = n->f.size;	/* a link: its target's length */
	}
	st->atime = n->atime;
	st->mtime = n->mtime;
	st->ctime = n->ctime;
	st->rdev = (n->mode & CUBI_S_IFMT) == CUBI_S_IFCHR ? n->rdev : 0;
}

int cubi_ramfs_chmod(struct cubi_rnode *n, uint32_t perm)
{
	if (sealed(n))
		return -CUB_EPERM;
	n->mode = (n->mode & CUBI_S_IFMT) | (perm & PERM_BITS);
	n->ctime = now();
	return 0;
}

int cubi_ramfs_set_times(struct cubi_rnode *n, uint64_t atime, uint64_t mtime)
{
	if (sealed(n))
		return -CUB_EPERM;
	if (atime != UINT64_MAX)
		n->atime = atime;
	if (mtime != UINT64_MAX)
		n->mtime = mtime;
	n->ctime = now();
	return 0;
}

static void fill(struct cubi_rdirent *ent, const struct cubi_rnode *n,
		 const char *name, size_t len, uint64_t next)
{
	ent->ino = n->ino;
	ent->mode = n->mode & CUBI_S_IFMT;
	ent->next = next;
	ent->len = len;
	cub_memcpy(ent->name, name, len);
	ent->name[len] = '\0';
}

/* The first child of dir numbered >= cookie, or NULL. A listing asks for
 * the entry after the one it got last, so start there when we can
 * (linear listings stay O(n) overall instead of O(n^2)). */
static struct rname *seek(struct cubi_rnode *dir, uint64_t cookie)
{
	struct cub_list *head = &dir->d.children, *l = head;
	struct rname *h = dir->d.hint;

	if (h && h->seq < cookie)
		l = &h->entry;
	for (l = l->next; l != head; l = l->next)
		if (of_entry(l)->seq >= cookie)
			return of_entry(l);
	return NULL;
}

int cubi_ramfs_readdir(struct cubi_rnode *dir, uint64_t *cookie,
		       struct cubi_rdirent *ent)
{
	struct rname *e;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if (!live(dir))
		return -CUB_ENOENT;
	refresh(dir);
	if (*cookie == 0) {
		fill(ent, dir, ".", 1, 1);
	} else if (*cookie == 1) {
		fill(ent, cubi_ramfs_parent(dir), "..", 2, FIRST_SEQ);
	} else {
		if ((e = seek(dir, *cookie)) == NULL)
			return 0;
		fill(ent, e->node, e->name, e->nlen, e->seq + 1);
		dir->d.hint = e;
	}
	*cookie = ent->next;
	return 1;
}
