/*
 * cpio.c - unpacks a "newc" cpio archive (what initramfs images and
 * `cpio -H newc` produce) into the ramfs tree.
 *
 * Format: each entry is a 110-byte ASCII header, "070701" (or "070702":
 * the same with a data checksum, not verified here) and 13 fields of 8
 * hex digits (ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
 * devminor, rdevmajor, rdevminor, namesize, check); then the name
 * (namesize bytes with its NUL), padded so the data starts at a multiple
 * of 4 from the archive's start; then filesize bytes of data, padded to
 * a multiple of 4. The entry named "TRAILER!!!" ends the archive.
 *
 * A symbolic link's data is its target (GNU cpio writes no NUL; one is
 * allowed and ends it). Hard links are entries of regular files with
 * nlink > 1 sharing (ino, devmajor, devminor); GNU cpio sends the data
 * with the last of them and size 0 with the others, the kernel's
 * gen_init_cpio with the first: the first such entry makes the file,
 * later ones add names to it (cubi_ramfs_link), and whichever brings
 * data sets the content.
 *
 * Invariants: the reader's pos never exceeds len, and every length read
 * from the archive is compared with what is left (len - pos) before it
 * is added to pos, so no field value can make us read outside
 * [archive, archive + len) or overflow. An entry is validated entirely
 * (header, name, path components, data extent) before anything of it
 * touches the tree, so a bad entry leaves no trace.
 *
 * Directory mtimes are set in a second pass over the entries unpacked:
 * creating a directory's children updates its mtime, and children follow
 * their directory in an archive.
 */
#include <cubrt/heap.h>
#include <cubrt/string.h>

#include "ramfs.h"

#define HDR_LEN 110
#define NFIELDS 13
#define F_INO 0
#define F_MODE 1
#define F_NLINK 4
#define F_MTIME 5
#define F_FILESIZE 6
#define F_DEVMAJOR 7
#define F_DEVMINOR 8
#define F_NAMESIZE 11
#define NS_PER_S 1000000000ull
#define IMPLICIT_DIR_MODE (CUBI_S_IFDIR | 0755)

struct reader {
	const unsigned char *base;
	size_t len, pos;
};

struct entry {
	uint32_t mode, mtime, nlink;
	uint32_t id[3];			/* ino, devmajor, devminor */
	const char *name;		/* not NUL-terminated here: use nlen */
	size_t nlen;
	const unsigned char *data;
	size_t size;
};

/* A path inside the archive, split into components. */
struct path {
	const char *s;
	size_t n, pos;
	bool done;			/* past the last component */
	bool started;			/* a real component was returned */
};

static bool hex8(const unsigned char *s, uint32_t *v)
{
	uint32_t x = 0;

	for (int i = 0; i < 8; i++) {
		unsigned c = s[i], lc = c | 0x20, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (lc >= 'a' && lc <= 'f')
			d = lc - 'a' + 10;
		else
			return false;
		x = x << 4 | d;
	}
	*v = x;
	return true;
}

/*
 * The next component that names something: leading "/" and "./" (empty
 * and "." components before the first real one) and "." anywhere are
 * skipped. 1 and *c, *clen; 0 at the end, -CUB_EINVAL for "..", an empty
 * component after a real one ("a//b", "a/") or one too long.
 */
static int path_next(struct path *p, const char **c, size_t *clen)
{
	while (!p->done) {
		const char *s = p->s + p->pos;
		size_t k = 0;

		while (p->pos + k < p->n && s[k] != '/')
			k++;
		if (p->pos + k == p->n)
			p->done = true;
		else
			p->pos += k + 1;
		if (k == 1 && s[0] == '.')
			continue;
		if (k == 0 && !p->started)
			continue;
		if (k == 0 || k > CUBI_NAME_MAX ||
		    (k == 2 && s[0] == '.' && s[1] == '.'))
			return -CUB_EINVAL;
		p->started = true;
		*c = s;
		*clen = k;
		return 1;
	}
	return 0;
}

static int path_check(const char *s, size_t n)
{
	struct path p = { s, n, 0, false, false };
	const char *c;
	size_t k;
	int rc;

	while ((rc = path_next(&p, &c, &k)) > 0)
		;
	return rc;
}

/* The header at r->pos: its fields in f[], *name, *nsize (with the NUL). */
static int read_header(struct reader *r, uint32_t f[NFIELDS],
		       const char **name, size_t *nsize)
{
	const unsigned char *h = r->base + r->pos;

	if (r->len - r->pos < HDR_LEN)
		return -CUB_EINVAL;
	if (cub_memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2'))
		return -CUB_EINVAL;
	for (int i = 0; i < NFIELDS; i++)
		if (!hex8(h + 6 + 8 * i, &f[i]))
			return -CUB_EINVAL;
	*nsize = f[F_NAMESIZE];
	*name = (const char *)h + HDR_LEN;
	/* The name: not empty, inside the archive, one NUL at its end. */
	if (*nsize < 2 || *nsize > r->len - r->pos - HDR_LEN ||
	    cub_strnlen(*name, *nsize) != *nsize - 1)
		return -CUB_EINVAL;
	return 0;
}

/* Moves *off up to a multiple of 4 if that stays within len. */
static bool pad4(size_t *off, size_t len)
{
	size_t pad = (4 - (*off & 3)) & 3;

	if (pad > len - *off)
		return false;
	*off += pad;
	return true;
}

/*
 * Reads the entry at r->pos and moves past it. 1 and *e; 0 at the
 * trailer or when the data ends on an entry boundary (an archive without
 * a trailer); -CUB_EINVAL for anything malformed.
 */
static int next_entry(struct reader *r, struct entry *e)
{
	uint32_t f[NFIELDS];
	size_t nsize, off;
	int rc;

	if (r->pos >= r->len)
		return 0;
	if ((rc = read_header(r, f, &e->name, &nsize)) != 0)
		return rc;
	e->nlen = nsize - 1;
	if (e->nlen == 10 && cub_memcmp(e->name, "TRAILER!!!", 10) == 0)
		return 0;
	if ((rc = path_check(e->name, e->nlen)) != 0)
		return rc;
	e->mode = f[F_MODE];
	e->mtime = f[F_MTIME];
	e->size = f[F_FILESIZE];
	e->nlink = f[F_NLINK];
	e->id[0] = f[F_INO];
	e->id[1] = f[F_DEVMAJOR];
	e->id[2] = f[F_DEVMINOR];
	off = r->pos + HDR_LEN + nsize;		/* <= len: read_header */
	if (!pad4(&off, r->len) || e->size > r->len - off)
		return -CUB_EINVAL;
	e->data = r->base + off;
	off += e->size;
	if (!pad4(&off, r->len))	/* unpadded last entry: the end */
		off = r->len;
	r->pos = off;
	if ((e->mode & CUBI_S_IFMT) == CUBI_S_IFLNK) {	/* the target */
		e->size = cub_strnlen((const char *)e->data, e->size);
		if (e->size == 0 || e->size > CUBI_SYMLINK_MAX)
			return -CUB_EINVAL;
	}
	return 1;
}

/* Enters component c of *d, creating a missing directory when create. */
static int step(struct cubi_rnode **d, const char *c, size_t k, bool create)
{
	struct cubi_rnode *n;
	int rc = cubi_ramfs_lookup(*d, c, k, &n);

	if (rc == -CUB_ENOENT && create)
		rc = cubi_ramfs_create(*d, c, k, IMPLICIT_DIR_MODE, &n);
	if (rc == -CUB_ENOMEM)
		return -CUB_ENOSPC;
	if (rc != 0 || !cubi_ramfs_is_dir(n))
		return -CUB_EINVAL;	/* e.g. a file where a directory goes */
	*d = n;
	return 0;
}

/*
 * Walks e's (checked) path from root: 1 with *dir the directory that
 * holds the last component (*c, *k); 0 when the path names root itself
 * ("." or "/"); -CUB_EINVAL or -CUB_ENOSPC.
 */
static int resolve(struct cubi_rnode *root, const struct entry *e,
		   bool create, struct cubi_rnode **dir, const char **c,
		   size_t *k)
{
	struct path p = { e->name, e->nlen, 0, false, false };
	struct cubi_rnode *d = root;
	const char *prev = NULL, *cur;
	size_t plen = 0, clen;
	int rc;

	while ((rc = path_next(&p, &cur, &clen)) > 0) {
		if (prev && (rc = step(&d, prev, plen, create)) != 0)
			return rc;
		prev = cur;
		plen = clen;
	}
	if (rc < 0 || !prev)
		return rc;
	*dir = d;
	*c = prev;
	*k = plen;
	return 1;
}

static int create_err(int rc)
{
	return rc == -CUB_ENOMEM ? -CUB_ENOSPC : -CUB_EINVAL;
}

/* Frees the name c in dir for a new node: an existing non-directory is
 * unlinked (a file it shares with other names keeps them, unchanged),
 * an empty directory removed; a non-empty one stays: -CUB_EINVAL. */
static int make_room(struct cubi_rnode *dir, const char *c, size_t k)
{
	struct cubi_rnode *n;

	if (cubi_ramfs_lookup(dir, c, k, &n) != 0)
		return 0;
	if (cubi_ramfs_unlink(dir, c, k, cubi_ramfs_is_dir(n)) != 0)
		return -CUB_EINVAL;
	return 0;
}

static int put_dir(struct cubi_rnode *dir, const char *c, size_t k,
		   uint32_t perm)
{
	struct cubi_rnode *n;
	int rc = cubi_ramfs_create(dir, c, k, CUBI_S_IFDIR | perm, &n);

	if (rc == -CUB_EEXIST && cubi_ramfs_is_dir(n)) {
		cubi_ramfs_chmod(n, perm);	/* e.g. made as a parent */
		return 0;
	}
	if (rc == -CUB_EEXIST) {		/* not a directory: replace it */
		cubi_ramfs_unlink(dir, c, k, false);
		rc = cubi_ramfs_create(dir, c, k, CUBI_S_IFDIR | perm, &n);
	}
	return rc ? create_err(rc) : 0;
}

/* Sets regular file n's content (when the entry brings any: a hard link
 * may come without), mode and mtime from e. */
static int fill_file(struct cubi_rnode *n, const struct entry *e)
{
	long w;

	if (e->size) {
		cubi_ramfs_truncate(n, 0);	/* shrinking cannot fail */
		if ((w = cubi_ramfs_write(n, e->data, e->size, 0)) < 0)
			return (int)w;		/* -CUB_ENOSPC */
	}
	cubi_ramfs_chmod(n, e->mode & 07777);
	cubi_ramfs_set_times(n, UINT64_MAX, e->mtime * NS_PER_S);
	return 0;
}

/* A new regular file c in dir (*out) replacing what was there. */
static int put_file(struct cubi_rnode *dir, const char *c, size_t k,
		    const struct entry *e, struct cubi_rnode **out)
{
	int rc = make_room(dir, c, k);

	if (rc)
		return rc;
	rc = cubi_ramfs_create(dir, c, k, CUBI_S_IFREG | (e->mode & 07777), out);
	return rc ? create_err(rc) : fill_file(*out, e);
}

/* Another name c in dir for file n, an earlier entry's (a hard link). */
static int put_hardlink(struct cubi_rnode *dir, const char *c, size_t k,
			const struct entry *e, struct cubi_rnode *n)
{
	struct cubi_rnode *old;
	int rc = 0;

	if (cubi_ramfs_lookup(dir, c, k, &old) != 0 || old != n)
		rc = make_room(dir, c, k);	/* not n's name already */
	if (rc == 0 && (rc = cubi_ramfs_link(n, dir, c, k)) == -CUB_EEXIST)
		rc = 0;
	if (rc)
		return create_err(rc);
	return fill_file(n, e);
}

static int put_symlink(struct cubi_rnode *dir, const char *c, size_t k,
		       const struct entry *e)
{
	struct cubi_rnode *n;
	int rc = make_room(dir, c, k);

	if (rc)
		return rc;
	rc = cubi_ramfs_symlink(dir, c, k, (const char *)e->data, e->size, &n);
	if (rc)
		return create_err(rc);
	cubi_ramfs_set_times(n, UINT64_MAX, e->mtime * NS_PER_S);
	return 0;
}

/*
 * The files of one archive that have more names to come (nlink > 1),
 * by their archive identity; each is held, so that a later entry
 * replacing one of its names cannot free it.
 */
struct links {
	struct hard {
		uint32_t id[3];
		struct cubi_rnode *node;
	} *v;
	size_t n, cap;
};

static struct cubi_rnode *links_find(const struct links *l, const struct entry *e)
{
	for (size_t i = 0; i < l->n; i++)
		if (cub_memcmp(l->v[i].id, e->id, sizeof(e->id)) == 0)
			return l->v[i].node;
	return NULL;
}

static int links_add(struct links *l, const struct entry *e, struct cubi_rnode *n)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct hard *v = cub_realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -CUB_ENOSPC;
		l->v = v;
		l->cap = cap;
	}
	cub_memcpy(l->v[l->n].id, e->id, sizeof(e->id));
	l->v[l->n++].node = n;
	cubi_ramfs_get(n);
	return 0;
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->n; i++)
		cubi_ramfs_put(l->v[i].node);
	cub_free(l->v);
}

/* A regular file entry: a new file, or a name for an earlier one. */
static int put_reg(struct cubi_rnode *dir, const char *c, size_t k,
		   const struct entry *e, struct links *l)
{
	struct cubi_rnode *n = e->nlink > 1 ? links_find(l, e) : NULL;
	int rc;

	if (n)
		return put_hardlink(dir, c, k, e, n);
	if ((rc = put_file(dir, c, k, e, &n)) != 0 || e->nlink <= 1)
		return rc;
	return links_add(l, e, n);
}

/* Unpacks one entry: 1 when it made a node, 0 when skipped or ignored. */
static int apply(struct cubi_rnode *root, const struct entry *e,
		 struct links *l, unsigned *skipped)
{
	uint32_t type = e->mode & CUBI_S_IFMT;
	struct cubi_rnode *dir;
	const char *c;
	size_t k;
	int rc;

	if (type != CUBI_S_IFDIR && type != CUBI_S_IFREG && type != CUBI_S_IFLNK) {
		if (skipped)	/* devices, fifos, sockets */
			++*skipped;
		return 0;
	}
	if ((rc = resolve(root, e, true, &dir, &c, &k)) <= 0)
		return rc;	/* 0: "." itself, already there */
	if (type == CUBI_S_IFDIR)
		rc = put_dir(dir, c, k, e->mode & 07777);
	else if (type == CUBI_S_IFLNK)
		rc = put_symlink(dir, c, k, e);
	else
		rc = put_reg(dir, c, k, e, l);
	return rc ? rc : 1;
}

/* The second pass: directory mtimes of the first `end` bytes' entries. */
static void set_dir_times(const void *archive, size_t end,
			  struct cubi_rnode *root)
{
	struct reader r = { archive, end, 0 };
	struct cubi_rnode *dir, *n;
	struct entry e;
	const char *c;
	size_t k;

	while (next_entry(&r, &e) > 0) {
		if ((e.mode & CUBI_S_IFMT) != CUBI_S_IFDIR ||
		    resolve(root, &e, false, &dir, &c, &k) <= 0 ||
		    cubi_ramfs_lookup(dir, c, k, &n) != 0 ||
		    !cubi_ramfs_is_dir(n))
			continue;
		cubi_ramfs_set_times(n, UINT64_MAX, e.mtime * NS_PER_S);
	}
}

long cubi_cpio_unpack(const void *archive, size_t len, struct cubi_rnode *root,
		      unsigned *skipped)
{
	struct reader r = { archive, len, 0 };
	struct links l = { NULL, 0, 0 };
	struct entry e;
	size_t done = 0;	/* the entries before this offset are in */
	long count = 0;
	int rc;

	if (skipped)
		*skipped = 0;
	while ((rc = next_entry(&r, &e)) > 0) {
		if ((rc = apply(root, &e, &l, skipped)) < 0)
			break;
		count += rc;
		done = r.pos;
	}
	links_free(&l);
	set_dir_times(archive, done, root);
	return rc < 0 ? rc : count;
}
