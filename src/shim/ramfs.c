/*
 * ramfs.c - the shim's in-memory file system (the contract is ramfs.h):
 * the tree itself -- nodes and their lifetime (holds; the last name or
 * hold gone frees a node; a held file keeps its last name), names
 * (entries, hard links, each node's chain of them), lookups, making
 * nodes (directories, regular files, devices, sockets, symbolic links,
 * and regular files in no directory: memfd.c's),
 * and the seal /proc puts on its nodes (the refresh hook, epochs). Link,
 * unlink and rename are ramfs_link.c's, built on this file's entry
 * helpers (ramfs_impl.h). What a node holds (file bytes, attributes) is
 * ramfs_data.c's, directory listings are ramfs_dir.c's, the name index
 * that finds an entry by name is ramfs_hash.c's; ramfs_impl.h
 * has the structures they share and the invariants, all of which this
 * file keeps.
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/heap.h>
#include <cubrt/list.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "ramfs_impl.h"

#define LINK_PERM 0777u		/* Linux: a link's bits are not used */

static struct cubi_rnode root_node;
static bool root_ready;
static uint64_t next_ino = 1;		/* the root takes 1 */
static uint64_t epoch = 1;		/* directories start at 0: stale */
static unsigned owner;			/* > 0: a refresh hook is running */

static bool link_p(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFLNK;
}

/* Reachable from the root: the root itself, or named somewhere. */
bool cubi_ramfs_live(const struct cubi_rnode *n)
{
	return n == &root_node || n->nlink > 0;
}

/* Does the seal stop the calls from changing n? */
bool cubi_ramfs_sealed(const struct cubi_rnode *n)
{
	return n->synth && !owner;
}

/* Lets a sealed directory's owner bring its entries up to date, once
 * per epoch (see the invariants). */
void cubi_ramfs_refresh(struct cubi_rnode *dir)
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
	} else if (type == CUBI_S_IFREG) {
		n->f.seals = CUBI_SEAL_SEAL;	/* tmpfs's; memfd.c may clear it */
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

void cubi_ramfs_check_name(const char *name, size_t len)
{
	if (len == 0 || len > CUBI_NAME_MAX)
		cub_panic("cubi_ramfs: name length %zu", len);
	for (size_t i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == '\0')
			cub_panic("cubi_ramfs: a name with '/' or NUL");
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		cub_panic("cubi_ramfs: \".\" or \"..\" as a name");
}

struct rname *cubi_ramfs_new_name(const char *name, size_t len)
{
	struct rname *e;

	cubi_ramfs_check_name(name, len);
	if ((e = cub_malloc(sizeof(*e) + len + 1)) == NULL)
		return NULL;
	cub_list_init(&e->entry);
	cub_memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->nlen = (uint16_t)len;
	e->hash = cubi_ramfs_hash(name, len);
	e->hnext = NULL;
	return e;
}

struct rname *cubi_ramfs_find(struct cubi_rnode *dir, const char *name, size_t len)
{
	cubi_ramfs_refresh(dir);
	return cubi_ramfs_index_find(dir, name, len);
}

void cubi_ramfs_attach(struct cubi_rnode *dir, struct rname *e, struct cubi_rnode *n)
{
	e->dir = dir;
	e->node = n;
	if (!dir_p(n)) {
		e->alias = n->f.names;
		n->f.names = e;
	}
	e->seq = dir->d.next_seq++;
	cub_list_push_back(&dir->d.children, &e->entry);
	dir->d.nentries++;
	cubi_ramfs_index_add(dir, e);
	n->nlink++;
	if (dir_p(n)) {
		CUB_ASSERT(n->nlink == 1);	/* no hard links to dirs */
		n->d.self = e;
		dir->d.nsubdirs++;
	}
	dir->mtime = dir->ctime = now();
}

struct cubi_rnode *cubi_ramfs_detach(struct rname *e)
{
	struct cubi_rnode *dir = e->dir, *n = e->node;
	struct rname **at;

	CUB_ASSERT(n->nlink > 0);
	for (at = &n->f.names; !dir_p(n) && *at != e; at = &(*at)->alias)
		;			/* O(nlink): hard links are few */
	if (!dir_p(n))
		*at = e->alias;
	if (dir->d.hint == e)
		dir->d.hint = e->entry.prev == &dir->d.children ? NULL
							       : of_entry(e->entry.prev);
	cub_list_del(&e->entry);
	dir->d.nentries--;
	cubi_ramfs_index_del(dir, e);
	if (dir_p(n)) {
		n->d.self = NULL;
		dir->d.nsubdirs--;
	}
	n->nlink--;
	dir->mtime = dir->ctime = n->ctime = now();
	return n;
}

/* Entry e, detached from n: kept as n's last name when that was it and
 * n is held (a file open after its unlink: /proc/self/fd shows it), its
 * directory held with it; else freed. */
static void bury(struct rname *e, struct cubi_rnode *n)
{
	if (dir_p(n) || n->nlink || !n->refs) {
		cub_free(e);
		return;
	}
	e->alias = NULL;
	n->f.names = e;
	cubi_ramfs_get(e->dir);
}

/* Frees n if nothing keeps it alive any more (with its last name, whose
 * directory it then lets go). */
static void drop(struct cubi_rnode *n)
{
	struct rname *last = NULL;

	if (cubi_ramfs_live(n) || n->refs)
		return;
	if (!dir_p(n)) {
		cub_free(n->f.data);
		if (n->f.pages)
			cubi_ramfs_pages_free(n);
		last = n->f.names;
	} else {	/* removed, so empty, so without a table */
		CUB_ASSERT(!n->d.buckets && !n->d.nentries);
	}
	cub_free(n);
	if (last) {
		cubi_ramfs_put(last->dir);
		cub_free(last);
	}
}

void cubi_ramfs_unname(struct rname *e)
{
	struct cubi_rnode *n = cubi_ramfs_detach(e);

	bury(e, n);
	drop(n);
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
		cubi_ramfs_unname(of_entry(l));	/* a held node lives on */
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
	if ((e = cubi_ramfs_find(dir, name, len)) == NULL)
		return -CUB_ENOENT;
	*out = e->node;
	return 0;
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
	if (!cubi_ramfs_live(dir))
		return -CUB_ENOENT;
	cubi_ramfs_check_name(name, len);
	if ((e = cubi_ramfs_find(dir, name, len)) != NULL) {
		*out = e->node;
		return -CUB_EEXIST;
	}
	if (cubi_ramfs_sealed(dir))
		return -CUB_ENOENT;
	if ((n = cub_malloc(sizeof(*n))) == NULL)
		return -CUB_ENOMEM;
	if ((e = cubi_ramfs_new_name(name, len)) == NULL) {
		cub_free(n);
		return -CUB_ENOMEM;
	}
	node_init(n, type, perm);
	n->rdev = tag;
	cubi_ramfs_attach(dir, e, n);
	*out = n;
	return 0;
}

int cubi_ramfs_mknod(struct cubi_rnode *dir, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, struct cubi_rnode **out)
{
	return add_node(dir, name, len, CUBI_S_IFCHR, mode, rdev, out);
}

int cubi_ramfs_mkblk(struct cubi_rnode *dir, const char *name, size_t len,
		     uint32_t mode, uint32_t rdev, struct cubi_rnode **out)
{
	return add_node(dir, name, len, CUBI_S_IFBLK, mode, rdev, out);
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

int cubi_ramfs_mkfifo(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, uint32_t id, struct cubi_rnode **out)
{
	CUB_ASSERT(id != 0);
	return add_node(dir, name, len, CUBI_S_IFIFO, mode, id, out);
}

uint32_t cubi_ramfs_fifo_id(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFIFO ? n->rdev : 0;
}

int cubi_ramfs_create(struct cubi_rnode *dir, const char *name, size_t len,
		      uint32_t mode, struct cubi_rnode **out)
{
	uint32_t type = (mode & CUBI_S_IFMT) == CUBI_S_IFDIR ? CUBI_S_IFDIR : CUBI_S_IFREG;

	return add_node(dir, name, len, type, mode, 0, out);
}

/* The node and its ghost name are both allocated before either is
 * kept, so running out of memory leaves nothing behind. */
int cubi_ramfs_create_unnamed(const char *name, size_t len, uint32_t perm,
			      struct cubi_rnode **out)
{
	struct cubi_rnode *n = cub_malloc(sizeof(*n));
	struct rname *e = cub_malloc(sizeof(*e) + len + 1);

	CUB_ASSERT(len > 0 && len <= CUBI_NAME_MAX);
	if (!n || !e) {
		cub_free(n);
		cub_free(e);
		return -CUB_ENOMEM;
	}
	node_init(n, CUBI_S_IFREG, perm);
	cub_memset(e, 0, sizeof(*e));
	cub_list_init(&e->entry);	/* on no list: a ghost from the start */
	cub_memcpy(e->name, name, len);
	e->name[len] = '\0';
	e->nlen = (uint16_t)len;
	e->dir = cubi_ramfs_root();
	e->node = n;
	cubi_ramfs_get(e->dir);		/* let go with the node (drop) */
	n->f.names = e;
	cubi_ramfs_get(n);		/* the caller's hold */
	*out = n;
	return 0;
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
