/*
 * ramfs_impl.h - what the parts of the shim's in-memory file system share:
 * its node and name structures, their invariants and a few helpers.
 * ramfs.c has the tree (nodes, names, lookups, the seal), ramfs_link.c
 * link, unlink and rename, ramfs_hash.c each directory's name index (a hash table),
 * ramfs_data.c what a node holds (file bytes, attributes), ramfs_dir.c
 * directory listings and a node's current name. ramfs.h is the contract
 * for everyone else; only ramfs*.c include this header.
 *
 * Names and nodes are apart, as inodes and dentries are on Linux: a
 * directory keeps its entries (struct rname: a name and the node it
 * names) on a list in creation order, and a node other than a directory
 * may be named by several entries (hard links). A directory of more than
 * a few entries also chains them into a hash table by name (d.buckets,
 * ramfs_hash.c), so a lookup costs O(1) expected however many names it
 * holds; the list alone gives the listing order. Each entry carries a
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
 *  - d.hint is NULL or an entry of the directory (where readdir resumes;
 *    removing it moves the hint to the entry before it).
 *  - the name index (ramfs_hash.c, whose header has its own rules):
 *    d.nbuckets is 0 (d.buckets NULL: lookups walk the list) or a power
 *    of two, and then every entry of the directory, and nothing else, is
 *    on the chain of bucket e->hash & (d.nbuckets - 1); e->hash is the
 *    hash of e's name. An empty directory has no table, so freeing a
 *    directory node frees no table. The table only speeds lookups up: a
 *    table that cannot grow keeps working, so it never makes a call fail.
 *  - a node other than a directory has its nlink entries on f.names,
 *    chained by alias (a directory has d.self instead), so that a
 *    current name of any node is known at once (cubi_ramfs_name_of);
 *    with nlink 0, f.names is NULL or its last name: an entry on no
 *    list (a ghost), kept because the node was held when it went, whose
 *    e->dir is held (refs) until the node is freed. A file made with no
 *    name (cubi_ramfs_create_unnamed: a memfd) has such a ghost from
 *    the start, in the root, and never gains a name (link refuses it);
 *    only that ghost's name may hold a '/', and only it has seq 0 (an
 *    entry takes its seq, >= FIRST_SEQ, when it is attached), which
 *    tells it from an unlinked file's (born_unnamed).
 *  - a node other than the root is freed exactly when nlink and refs
 *    (holds) are both 0; an entry is freed when it is removed, but a
 *    ghost with its node.
 *  - a sealed node (synth != NULL) changes only while owner > 0 (its
 *    owner's refresh hook runs); a directory is refreshed at most once
 *    per epoch (d.epoch == epoch once it was), and only removing entries
 *    frees nodes, so nothing found since the epoch began is freed by a
 *    refresh before the next one (ramfs.h).
 *  - regular files: their bytes are frames found through f.pages, f.cap
 *    leaves (ramfs_pages.c has their rules); links: f.data holds f.cap =
 *    f.size + 1 bytes, the target and its NUL, and never changes.
 *    Devices and sockets keep f's bytes zeroed: size 0, no data.
 *  - f.seals (regular files; Linux's F_SEAL_* bits, CUBI_SEAL_* in
 *    ramfs.h) only ever gains bits, and none once it has
 *    CUBI_SEAL_SEAL, which every regular file starts with but a memfd
 *    made with MFD_ALLOW_SEALING or MFD_NOEXEC_SEAL (memfd.c). No write,
 *    truncate or chmod that its seals forbid changes the node
 *    (ramfs_data.c), and while it has CUBI_SEAL_WRITE no shared mapping
 *    that is or may become writable maps it (memfd.c, file.c) - but
 *    for one made before an F_SEAL_EXEC that brought CUBI_SEAL_WRITE
 *    along, which Linux does not check either.
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#ifndef CUBRT_SHIM_RAMFS_IMPL_H
#define CUBRT_SHIM_RAMFS_IMPL_H

#include <cubrt/arch.h>
#include <cubrt/list.h>
#include <cubrt/time.h>

#include "ramfs.h"

#define PERM_BITS 07777u
#define FIRST_SEQ 2		/* cookies 0 and 1 are "." and ".." */

/* One name in a directory: entries are allocated to fit their name. */
struct rname {
	struct cub_list entry;		/* in dir->d.children */
	struct cubi_rnode *dir;		/* the directory it is in */
	struct cubi_rnode *node;	/* what it names */
	struct rname *hnext;		/* its chain in dir->d.buckets */
	struct rname *alias;		/* next name of the same node */
	uint64_t seq;			/* position in the dir's listing */
	uint32_t hash;			/* cubi_ramfs_hash of the name */
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
			struct rname **buckets;	/* NULL or nbuckets */
			uint64_t next_seq;
			uint64_t epoch;	/* of its last refresh */
			uint32_t nentries, nsubdirs, nbuckets;
		} d;
		struct {		/* any other node */
			unsigned char *data;	/* a link's target */
			uintptr_t *pages;	/* a regular file's leaves
						 * of frames (ramfs_pages.c) */
			size_t size;		/* bytes */
			size_t cap;		/* a link: data's bytes; a
						 * file: pages' leaves */
			size_t leaf0;		/* a file: leaf 0's slots */
			struct rname *names;	/* its entries, by alias */
			uint32_t seals;		/* a regular file's F_SEAL_*
						 * bits (fits in d's size) */
		} f;
	};
	uint32_t rdev;			/* character devices: dev_t; socket
					 * nodes: their socket's id */
	const struct cubi_rsynth *synth;	/* sealed: its owner */
	uint64_t synth_arg;
};
_Static_assert(sizeof(((struct cubi_rnode *)0)->f) <= sizeof(((struct cubi_rnode *)0)->d),
	       "f.seals costs a node no bytes");

/* A node's times: the settable wall clock (ns since 1970, as stat
 * reports). */
static inline uint64_t now(void)
{
	return cub_time_wall();
}

static inline bool dir_p(const struct cubi_rnode *n)
{
	return (n->mode & CUBI_S_IFMT) == CUBI_S_IFDIR;
}

/* n was made in no directory (cubi_ramfs_create_unnamed): see the
 * invariants. */
static inline bool born_unnamed(const struct cubi_rnode *n)
{
	return !dir_p(n) && n->nlink == 0 && n->f.names && n->f.names->seq == 0;
}

/* The entry a directory's d.children link belongs to. */
static inline struct rname *of_entry(struct cub_list *l)
{
	return cub_container_of(l, struct rname, entry);
}

/* ramfs_pages.c: a regular file's bytes (fs lock held). read: len
 * bytes at off, all below f.size; write: len bytes at off, the size
 * growing over them: the count (short only when frames ran out), or
 * -ENOSPC; resize: 0 or -ENOSPC; free: every frame and the slots. */
void cubi_ramfs_pages_read(const struct cubi_rnode *n, void *buf, size_t len, uint64_t off);
long cubi_ramfs_pages_write(struct cubi_rnode *n, const void *buf, size_t len, uint64_t off);
int cubi_ramfs_pages_resize(struct cubi_rnode *n, uint64_t size);
void cubi_ramfs_pages_free(struct cubi_rnode *n);

/* ramfs.c */
/* Reachable from the root: the root itself, or named somewhere. */
bool cubi_ramfs_live(const struct cubi_rnode *n);
/* Does the seal stop the calls from changing n? */
bool cubi_ramfs_sealed(const struct cubi_rnode *n);
/* Lets a sealed directory's owner bring its entries up to date, once
 * per epoch (see the invariants). */
void cubi_ramfs_refresh(struct cubi_rnode *dir);
/*
 * ramfs.c's entry helpers, shared with ramfs_link.c since link, unlink
 * and rename moved there (before, they were static in ramfs.c):
 */
/* Names reach the tree only through cubi_ramfs_new_name: checking them
 * there keeps "." / ".." / '/' out of every directory. */
void cubi_ramfs_check_name(const char *name, size_t len);
/* An entry for `name`, not in any directory yet; NULL: no memory. */
struct rname *cubi_ramfs_new_name(const char *name, size_t len);
/* Every name is looked up here: a generated directory is refreshed
 * first. O(1) expected (ramfs_hash.c). */
struct rname *cubi_ramfs_find(struct cubi_rnode *dir, const char *name, size_t len);
/* Puts entry e, naming n, last in live directory dir's listing (and
 * first on n's names). */
void cubi_ramfs_attach(struct cubi_rnode *dir, struct rname *e, struct cubi_rnode *n);
/* Takes entry e out of its directory and its node's names; returns its
 * node, which stays allocated (see drop), as e does (see bury). A
 * listing that was to resume after e resumes after the entry before it,
 * which finds the same next entry without a walk from the start
 * (readdir while unlinking stays O(1) a call). */
struct cubi_rnode *cubi_ramfs_detach(struct rname *e);
/* Removes entry e, and its node with it when nothing else keeps it. */
void cubi_ramfs_unname(struct rname *e);

/* ramfs_hash.c */
uint32_t cubi_ramfs_hash(const char *name, size_t len);
/* The entry `name` of dir, or NULL (no refresh: cubi_ramfs_find does it). */
struct rname *cubi_ramfs_index_find(const struct cubi_rnode *dir,
				    const char *name, size_t len);
/* Entry e (hash set) has just joined dir's list and count / left them:
 * the table follows, growing or shrinking as it needs. Never fails. */
void cubi_ramfs_index_add(struct cubi_rnode *dir, struct rname *e);
void cubi_ramfs_index_del(struct cubi_rnode *dir, struct rname *e);

#endif
