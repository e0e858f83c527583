/*
 * ramfs_dir.c - directory listings of the shim's in-memory file system
 * (ramfs.h is the contract, ramfs_impl.h the structures): readdir with
 * cookies, and the other way, a node's current name in its directory
 * (cubi_ramfs_name_of: a directory's d.self, another node's first entry
 * on f.names, which for a held file with no name left is its last).
 * Cookies 0 and 1 are "." and ".."; any other is an entry's
 * sequence number ("continue at the first entry numbered >= cookie"),
 * so a cookie stays meaningful while entries before or after it come
 * and go.
 *
 * Invariants (ramfs_impl.h's, as they bear on this file): a directory's
 * children are in increasing seq order, numbered from FIRST_SEQ; d.hint
 * is NULL or an entry of the directory (ramfs.c moves it to the entry
 * before when it removes that entry, so its seq stays below the cookie
 * that followed it). A sealed directory is refreshed before it is
 * listed, as before a lookup. The name index (ramfs_hash.c) is not used
 * here: it may grow or shrink between two calls without changing the
 * list, so a listing neither skips nor repeats an entry across it.
 *
 * Locking: none here; callers hold the fs lock (ramfs.h).
 */
#include <cubrt/list.h>
#include <cubrt/string.h>

#include "ramfs_impl.h"

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
	if (!cubi_ramfs_live(dir))
		return -CUB_ENOENT;
	cubi_ramfs_refresh(dir);
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

bool cubi_ramfs_name_of(const struct cubi_rnode *n, struct cubi_rnode **dir,
			const char **name, size_t *len)
{
	const struct rname *e = dir_p(n) ? n->d.self : n->f.names;

	if (!e)
		return false;
	*dir = e->dir;
	*name = e->name;
	*len = e->nlen;
	return true;
}
