/*
 * cpio_write.c - packs a ramfs subtree into a "newc" cpio archive, the
 * format cpio.c unpacks (its header comment has the layout): what the
 * persisted directory is written to a disk as (persist.c).
 *
 * What goes in: every directory, regular file and symbolic link below
 * the given directory (not the directory itself), with its permission
 * bits and mtime (whole seconds: the format's field). Names are relative
 * ("a", "a/b"), parents before their children, each directory's entries
 * in its listing's order (creation order), so the same tree always packs
 * to the same bytes, and unpacking an archive and packing the result
 * gives the archive back. A file with several names below the
 * directory (hard links) is one archive inode: each of its entries
 * carries the same inode number and the file's nlink, the first one the
 * data and the later ones size 0 (as the kernel's gen_init_cpio writes
 * them), so cubi_cpio_unpack makes it one file with several names again.
 * A first pass over the tree counts those names: names the file has
 * outside the directory are not in the archive, and a file with one name
 * inside is an ordinary entry. Every other entry has an inode number of its own and nlink 1 (directories
 * 2). Device and socket nodes are left out. uid, gid and the device
 * fields are 0.
 *
 * Memory: the walk's state (a path buffer, a stack of listing cookies
 * and the table of multi-name files met so far) is allocated for the call and freed before it returns; the
 * archive goes into the caller's buffer. A first call with no buffer
 * measures, a second fills (the tree must not change in between: the
 * caller holds the fs lock across both).
 *
 * Invariants: out.pos counts every byte of the archive, written or not;
 * bytes are copied only while they fit below out.cap, so a short buffer
 * is never overrun. Locking: the fs lock held throughout (ramfs.h).
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "ramfs.h"

#define NAME_CAP 4096			/* a name and its NUL (PATH_MAX) */
#define DEPTH_MAX (NAME_CAP / 2)	/* "a/b/...": components at most */
#define NS_PER_S 1000000000ull
#define TRAILER "TRAILER!!!"

/* A regular file with nlink > 1 met in the tree: its ramfs inode
 * number, how many of its names are below the directory (counted by
 * the first pass), and the archive inode number of its first entry (0
 * until written). */
struct seen {
	uint64_t node_ino;
	uint32_t names, ino;
};

struct out {
	uint8_t *buf;			/* NULL: measure only */
	size_t cap, pos;
	uint32_t ino;			/* the last inode number given */
	struct cubi_cpio_stats *st;
	bool counting;			/* first pass: only count names */
	struct seen *seen;		/* heap; n entries of seen_cap */
	size_t n, seen_cap;
};

struct walk {
	char name[NAME_CAP];
	size_t len[DEPTH_MAX + 1];	/* name's length at each level */
	struct cubi_rnode *dir[DEPTH_MAX + 1];
	uint64_t cookie[DEPTH_MAX + 1];
	struct cubi_rdirent ent;
};

/* Room for n more bytes at o->pos: where they go, or NULL (measuring,
 * or past the buffer). Counts them either way. */
static uint8_t *room(struct out *o, size_t n)
{
	uint8_t *p = NULL;

	if (o->buf && o->pos <= o->cap && n <= o->cap - o->pos)
		p = o->buf + o->pos;
	o->pos += n;
	return p;
}

static void put(struct out *o, const void *src, size_t n)
{
	uint8_t *p = room(o, n);

	if (p)
		cub_memcpy(p, src, n);
}

static void pad4(struct out *o)
{
	static const uint8_t zero[4];

	put(o, zero, (4 - (o->pos & 3)) & 3);
}

static void hex8(char *s, uint32_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 4)
		s[i] = "0123456789ABCDEF"[v & 15];
}

/* The header and name of one entry (name: nlen bytes, no NUL) with
 * archive inode number ino. */
static void header_ino(struct out *o, uint32_t ino, uint32_t mode, uint32_t nlink,
		       uint64_t mtime_ns, uint32_t size, const char *name, size_t nlen)
{
	uint32_t f[13] = { ino, mode, 0, 0, nlink, (uint32_t)(mtime_ns / NS_PER_S),
			   size, 0, 0, 0, 0, (uint32_t)nlen + 1, 0 };
	char h[110];

	cub_memcpy(h, "070701", 6);
	for (int i = 0; i < 13; i++)
		hex8(h + 6 + 8 * i, f[i]);
	put(o, h, sizeof(h));
	put(o, name, nlen);
	put(o, "", 1);
	pad4(o);
}

/* The same for an entry with an inode number of its own. */
static void header(struct out *o, uint32_t mode, uint32_t nlink, uint64_t mtime_ns,
		   uint32_t size, const char *name, size_t nlen)
{
	header_ino(o, ++o->ino, mode, nlink, mtime_ns, size, name, nlen);
}

/* The entry for multi-name file node_ino, or NULL. A linear search,
 * as the reader's (files with several names are few). */
static struct seen *seen_find(const struct out *o, uint64_t node_ino)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->seen[i].node_ino == node_ino)
			return &o->seen[i];
	return NULL;
}

/* First pass: counts one more name of multi-name file node_ino.
 * 0 or -CUB_ENOMEM. */
static int seen_count(struct out *o, uint64_t node_ino)
{
	struct seen *e = seen_find(o, node_ino);

	if (e) {
		e->names++;
		return 0;
	}
	if (o->n == o->seen_cap) {
		size_t cap = o->seen_cap ? 2 * o->seen_cap : 16;
		struct seen *v = cub_realloc(o->seen, cap * sizeof(*v));

		if (!v)
			return -CUB_ENOMEM;
		o->seen = v;
		o->seen_cap = cap;
	}
	o->seen[o->n++] = (struct seen){ node_ino, 1, 0 };
	return 0;
}

/* A regular file's bytes; a read cut short (it cannot be, under the
 * lock) leaves zeros. */
static void file_data(struct out *o, struct cubi_rnode *n, uint64_t size)
{
	uint8_t *p = room(o, (size_t)size);
	long got;

	if (p) {
		got = cubi_ramfs_read(n, p, (size_t)size, 0);
		if (got < 0)
			got = 0;
		cub_memset(p + got, 0, (size_t)size - (size_t)got);
	}
	pad4(o);
}

/*
 * A regular file's entry. A file with several names below the
 * directory: its data with the first, a header with the same inode
 * number, nlink and size 0 with each later one; nlink counts only those
 * names, so that what unpacking makes packs to the same bytes. The
 * first pass only counts. 0, -CUB_EFBIG, -CUB_ENOMEM.
 */
static int reg_entry(struct out *o, struct cubi_rnode *n, const struct cubi_rstat *st,
		     const char *name, size_t len)
{
	struct seen *e = NULL;

	if (st->nlink > 1) {
		if (o->counting)
			return seen_count(o, st->ino);
		if ((e = seen_find(o, st->ino)) && e->names < 2)
			e = NULL;		/* its only name in here */
	}
	if (o->counting)
		return 0;
	if (e && e->ino) {
		header_ino(o, e->ino, st->mode, e->names, st->mtime, 0, name, len);
		if (o->st)
			o->st->hardlinks++;
		return 0;
	}
	if (st->size > UINT32_MAX)
		return -CUB_EFBIG;		/* the format's size field */
	header(o, st->mode, e ? e->names : 1, st->mtime, (uint32_t)st->size, name, len);
	if (e)
		e->ino = o->ino;
	file_data(o, n, st->size);
	if (o->st) {
		o->st->files++;
		o->st->bytes += st->size;
	}
	return 0;
}

/* One entry for node n named w->name (len bytes). 0, -CUB_EFBIG,
 * -CUB_ENOMEM. */
static int entry(struct out *o, struct cubi_rnode *n, const char *name, size_t len)
{
	struct cubi_rstat st;
	uint32_t type;
	const char *t;
	size_t tlen;

	cubi_ramfs_stat(n, &st);
	type = st.mode & CUBI_S_IFMT;
	if (o->counting && type != CUBI_S_IFREG)
		return 0;
	if (type == CUBI_S_IFDIR) {
		header(o, st.mode, 2, st.mtime, 0, name, len);
		if (o->st)
			o->st->dirs++;
	} else if (type == CUBI_S_IFLNK) {
		t = cubi_ramfs_link_target(n, &tlen);
		header(o, st.mode, 1, st.mtime, (uint32_t)tlen, name, len);
		put(o, t, tlen);
		pad4(o);
		if (o->st)
			o->st->links++;
	} else if (type == CUBI_S_IFREG) {
		return reg_entry(o, n, &st, name, len);
	}
	return 0;
}

/* Appends component c to the name at level d: the new length, or 0
 * when the name would not fit. */
static size_t extend(struct walk *w, int d, const char *c, size_t k)
{
	size_t at = w->len[d], sep = at ? 1 : 0;

	if (at + sep + k >= NAME_CAP)
		return 0;
	if (sep)
		w->name[at] = '/';
	cub_memcpy(w->name + at + sep, c, k);
	return at + sep + k;
}

static bool dot_or_dotdot(const struct cubi_rdirent *e)
{
	return e->name[0] == '.' && (e->len == 1 || (e->len == 2 && e->name[1] == '.'));
}

/* Every entry below w->dir[0], depth first. */
static int walk_tree(struct walk *w, struct out *o)
{
	struct cubi_rnode *n;
	int d = 0, rc;
	size_t len;

	while (d >= 0) {
		rc = cubi_ramfs_readdir(w->dir[d], &w->cookie[d], &w->ent);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			d--;
			continue;
		}
		if (dot_or_dotdot(&w->ent) ||
		    cubi_ramfs_lookup(w->dir[d], w->ent.name, w->ent.len, &n) != 0)
			continue;
		if (!(len = extend(w, d, w->ent.name, w->ent.len)))
			return -CUB_ENAMETOOLONG;
		if ((rc = entry(o, n, w->name, len)) != 0)
			return rc;
		if (!cubi_ramfs_is_dir(n))
			continue;
		if (d == DEPTH_MAX)
			return -CUB_ENAMETOOLONG;
		d++;
		w->dir[d] = n;
		w->cookie[d] = 0;
		w->len[d] = len;
	}
	return 0;
}

long cubi_cpio_write(struct cubi_rnode *dir, void *buf, size_t cap,
		     struct cubi_cpio_stats *st)
{
	struct out o = { buf, buf ? cap : 0, 0, 0, st, true, NULL, 0, 0 };
	struct walk *w;
	int rc;

	if (!cubi_ramfs_is_dir(dir))
		return -CUB_ENOTDIR;
	if (!(w = cub_malloc(sizeof(*w))))
		return -CUB_ENOMEM;
	if (st)
		*st = (struct cubi_cpio_stats){ 0 };
	for (int pass = 0; pass < 2; pass++) {	/* count names, then pack */
		o.counting = pass == 0;
		w->dir[0] = dir;
		w->cookie[0] = 0;
		w->len[0] = 0;
		if ((rc = walk_tree(w, &o)) != 0)
			break;
	}
	cub_free(w);
	cub_free(o.seen);
	if (rc)
		return rc;
	header(&o, 0, 1, 0, 0, TRAILER, sizeof(TRAILER) - 1);
	return (long)o.pos;
}
