/*
 * ramfs_hash.c - the name index of a directory of the shim's in-memory
 * file system (ramfs.h is the contract, ramfs_impl.h the structures):
 * a hash table of the directory's entries, chained through the entries
 * themselves, so that lookup, insert and remove cost O(1) expected
 * however many names a directory holds. The listing order is not the
 * table's business: d.children keeps it (ramfs_dir.c), and nothing here
 * touches that list, so growing or shrinking the table never moves a
 * readdir cookie.
 *
 * Invariants (ramfs_impl.h's, as they bear on this file):
 *  - d.nbuckets is 0 (no table: d.buckets NULL, lookups walk
 *    d.children) or a power of two from MIN_BUCKETS to MAX_BUCKETS;
 *    with a table, every entry of the directory is on exactly one chain,
 *    the one of bucket e->hash & (d.nbuckets - 1), and nothing else is.
 *  - e->hash == name_hash(e->name, e->nlen) for every entry.
 *  - after every insert or remove, a directory with a table has
 *    nentries >= nbuckets / 4 (else the table halves, or goes when it
 *    is MIN_BUCKETS long), so an empty directory has no table, and
 *    unless memory ran out nentries <= max(nbuckets, LINEAR_MAX).
 *    Growing is best effort: when the larger table cannot be had, the
 *    old one (or the list) keeps serving, with longer chains, and the
 *    next insert tries again; so the table never makes an operation
 *    fail, and -CUB_ENOMEM stays the business of nodes and names.
 *  - the table's block holds at least d.nbuckets pointers (a shrink
 *    that cannot give memory back keeps the larger block).
 *
 * Costs: a directory of at most LINEAR_MAX entries has no table (its
 * entries carry a hash and a chain link: 8 bytes more each, the node
 * 16); a larger one has between 1 and 4 pointers of table per entry.
 * Growing or shrinking rehashes every entry, amortised O(1) per insert
 * or remove (the load factor stays between 1/4 and 1, and a resize
 * leaves it at 1/2, so the next is half a table's worth of changes off).
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "ramfs_impl.h"

#define LINEAR_MAX 8		/* entries a directory holds without a table */
#define MIN_BUCKETS 16u		/* > LINEAR_MAX: a new table starts sparse */
#define MAX_BUCKETS (1u << 30)

/* FNV-1a over the bytes, then a final mix so that the low bits (the
 * bucket) depend on every byte. */
uint32_t cubi_ramfs_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static struct rname **bucket(const struct cubi_rnode *dir, uint32_t hash)
{
	return &dir->d.buckets[hash & (dir->d.nbuckets - 1)];
}

static bool same_name(const struct rname *e, uint32_t hash, const char *name,
		      size_t len)
{
	return e->hash == hash && e->nlen == len &&
	       cub_memcmp(e->name, name, len) == 0;
}

struct rname *cubi_ramfs_index_find(const struct cubi_rnode *dir,
				    const char *name, size_t len)
{
	uint32_t hash = cubi_ramfs_hash(name, len);
	struct cub_list *l;
	struct rname *e;

	if (dir->d.nbuckets) {
		for (e = *bucket(dir, hash); e; e = e->hnext)
			if (same_name(e, hash, name, len))
				return e;
		return NULL;
	}
	cub_list_for_each(l, &dir->d.children)
		if (same_name(of_entry(l), hash, name, len))
			return of_entry(l);
	return NULL;
}

static void chain(struct cubi_rnode *dir, struct rname *e)
{
	struct rname **b = bucket(dir, e->hash);

	e->hnext = *b;
	*b = e;
}

/* The first table: every entry (they are on the list only). */
static void build(struct cubi_rnode *dir)
{
	struct rname **t = cub_calloc(MIN_BUCKETS, sizeof(*t));
	struct cub_list *l;

	if (!t)
		return;		/* the list keeps serving */
	dir->d.buckets = t;
	dir->d.nbuckets = MIN_BUCKETS;
	cub_list_for_each(l, &dir->d.children)
		chain(dir, of_entry(l));
}

/* Doubles the table: bucket i's entries stay in i or move to i + n. */
static void grow(struct cubi_rnode *dir)
{
	uint32_t n = dir->d.nbuckets;
	struct rname **t = cub_realloc(dir->d.buckets, 2 * (size_t)n * sizeof(*t));

	if (!t)
		return;		/* the old table keeps serving */
	cub_memset(t + n, 0, n * sizeof(*t));
	dir->d.buckets = t;
	dir->d.nbuckets = 2 * n;
	for (uint32_t i = 0; i < n; i++) {
		struct rname *e = t[i], *next;

		for (t[i] = NULL; e; e = next) {
			next = e->hnext;
			chain(dir, e);
		}
	}
}

/* Halves the table (bucket i + n joins bucket i), or drops it when it
 * is as small as a table gets. Never fails. */
static void shrink(struct cubi_rnode *dir)
{
	uint32_t n = dir->d.nbuckets / 2;
	struct rname **t = dir->d.buckets, **smaller;

	if (dir->d.nbuckets == MIN_BUCKETS) {
		cub_free(t);
		dir->d.buckets = NULL;
		dir->d.nbuckets = 0;
		return;
	}
	dir->d.nbuckets = n;
	for (uint32_t i = 0; i < n; i++) {
		struct rname *e = t[i + n], *next;

		for (; e; e = next) {
			next = e->hnext;
			chain(dir, e);
		}
	}
	if ((smaller = cub_realloc(t, n * sizeof(*t))) != NULL)
		dir->d.buckets = smaller;
}

/* Entry e has just joined dir (nentries counts it). */
void cubi_ramfs_index_add(struct cubi_rnode *dir, struct rname *e)
{
	uint32_t n = dir->d.nbuckets;

	e->hnext = NULL;
	if (n)
		chain(dir, e);
	if (dir->d.nentries <= (n ? n : LINEAR_MAX) || n >= MAX_BUCKETS)
		return;
	if (n)
		grow(dir);
	else
		build(dir);
}

/* Entry e has just left dir (nentries no longer counts it). */
void cubi_ramfs_index_del(struct cubi_rnode *dir, struct rname *e)
{
	struct rname **p;

	if (!dir->d.nbuckets)
		return;
	for (p = bucket(dir, e->hash); *p != e; p = &(*p)->hnext)
		CUB_ASSERT(*p);
	*p = e->hnext;
	e->hnext = NULL;
	if (dir->d.nentries < dir->d.nbuckets / 4)
		shrink(dir);
}

uint32_t cubi_ramfs_buckets(const struct cubi_rnode *dir)
{
	return dir_p(dir) ? dir->d.nbuckets : 0;
}
