/*
 * ramfs_link.c - the calls of the shim's in-memory file system that
 * change the names of nodes that exist (the contract is ramfs.h): link
 * (another name for a node), unlink and rmdir (a name less; the last
 * name or hold gone frees the node), rename (a name moved, replacing
 * the target's as Linux does, with its checks in Linux's order). The
 * entries themselves are made, attached, detached and freed by ramfs.c
 * (ramfs_impl.h declares those helpers); the seal /proc puts on its
 * nodes is ramfs.c's too, and this file only honours it.
 *
 * Invariants: ramfs_impl.h's, which every call here keeps: a call that
 * fails changes nothing (a new entry is allocated before any change).
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/heap.h>

#include "ramfs_impl.h"

/* Linux's order (do_linkat, vfs_link): the new name, then the node. */
int cubi_ramfs_link(struct cubi_rnode *n, struct cubi_rnode *dir,
		    const char *name, size_t len)
{
	struct rname *e;

	if (!dir_p(dir))
		return -CUB_ENOTDIR;
	if (!cubi_ramfs_live(dir))
		return -CUB_ENOENT;
	if (cubi_ramfs_find(dir, name, len))
		return -CUB_EEXIST;
	if (cubi_ramfs_sealed(dir))
		return -CUB_ENOENT;
	if (cubi_ramfs_sealed(n) || born_unnamed(n))
		return -CUB_EXDEV;	/* /proc's, a memfd's: other mounts */
	if (dir_p(n))
		return -CUB_EPERM;
	if (n->nlink == 0)	/* removed: no name brings it back */
		return -CUB_ENOENT;
	if (n->nlink == UINT32_MAX)
		return -CUB_EMLINK;
	if ((e = cubi_ramfs_new_name(name, len)) == NULL)
		return -CUB_ENOMEM;
	cubi_ramfs_attach(dir, e, n);
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
	if ((e = cubi_ramfs_find(dir, name, len)) == NULL)
		return -CUB_ENOENT;
	n = e->node;
	if (rmdir && !dir_p(n))
		return -CUB_ENOTDIR;
	if (!rmdir && dir_p(n))
		return -CUB_EISDIR;
	/* Linux: the seal before emptiness */
	if (cubi_ramfs_sealed(dir) || cubi_ramfs_sealed(n))
		return cubi_ramfs_sealed(dir) ? -CUB_EPERM : -CUB_EBUSY;
	if (rmdir && n->d.nentries)
		return -CUB_ENOTEMPTY;
	cubi_ramfs_unname(e);
	return 0;
}

/* True when d is dir or lies below it (d live, so the walk ends). */
static bool in_subtree(struct cubi_rnode *d, const struct cubi_rnode *dir)
{
	for (;; d = cubi_ramfs_parent(d)) {
		if (d == dir)
			return true;
		if (d == cubi_ramfs_root())
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
	if (cubi_ramfs_sealed(fdir) != cubi_ramfs_sealed(tdir))
		return -CUB_EXDEV;	/* Linux: two mounts, checked first */
	if ((se = cubi_ramfs_find(fdir, from, flen)) == NULL || !cubi_ramfs_live(tdir))
		return -CUB_ENOENT;
	if (cubi_ramfs_sealed(fdir))
		return -CUB_EPERM;
	cubi_ramfs_check_name(to, tlen);
	src = se->node;
	te = cubi_ramfs_find(tdir, to, tlen);
	if (cubi_ramfs_sealed(src) || (te && cubi_ramfs_sealed(te->node)))
		return -CUB_EBUSY;	/* /proc itself: a mount point */
	if (te && noreplace)
		return -CUB_EEXIST;
	if (dir_p(src) && in_subtree(tdir, src))
		return -CUB_EINVAL;
	if (te && te->node == src)
		return 0;
	if (te && (rc = may_replace(src, te->node)) != 0)
		return rc;
	if ((ne = cubi_ramfs_new_name(to, tlen)) == NULL)
		return -CUB_ENOMEM;
	if (te)
		cubi_ramfs_unname(te);
	cubi_ramfs_detach(se);		/* not dropped: ne names src at once */
	cubi_ramfs_attach(tdir, ne, src);
	cub_free(se);
	return 0;
}
