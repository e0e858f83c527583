/*
 * path.c - path walks over the ramfs tree for the file-system calls.
 *
 * A walk resolves every component but the last and leaves the last for
 * the call to look up, create or remove; the call says whether a last
 * component that is a symbolic link is followed too (CUBI_WALK_*).
 * "." and ".." are resolved here (the root is its own parent; ".." after
 * a link is the parent of where the link led, as on Linux); repeated
 * slashes count as one.
 *
 * Symbolic links are followed the way Linux's namei does it: a link met
 * in the middle of a path is walked in place of its component, from the
 * root for an absolute target, else from the directory holding the
 * link, and the rest of the path resumes after it; a link that is the
 * last component replaces it. At most CUBI_WALK_LINKS links are followed
 * in one walk, nested or in a row (a loop ends there: -CUB_ELOOP). The
 * rests waiting behind nested links are kept on a stack of pointers,
 * not copied, so a path with links is never longer than its parts (no
 * -CUB_ENAMETOOLONG from expansion); they point into link targets,
 * which do not change and live as long as their links, and callers hold
 * the fs lock for the walk and for as long as they use its results.
 *
 * A magic link (a sealed link whose owner has a follow op, ramfs.h:
 * /proc/self/fd/N, /proc/self/cwd, /proc/self/exe) is asked for its
 * object before its text is looked at, as Linux's nd_jump_link does: in
 * the middle of a path the object must be a directory, which the walk
 * goes on from (so /proc/self/fd/3/name works after the directory was
 * renamed); as the last component, followed, it ends the walk on the
 * object (struct cubi_walk's node or file), which the call then acts on
 * (cubi_path_resolve_obj: open, stat, chmod, truncate, chdir...). It
 * counts as a link for CUBI_WALK_LINKS. Its text is only ever read by
 * readlink.
 */
#include "shim_impl.h"

/* A walk in progress: where it is, what is left of the string it walks,
 * and the rests of the strings around it (the path, outer links). */
struct walker {
	struct cubi_rnode *dir;
	const char *p;
	const char *stack[CUBI_WALK_LINKS];
	unsigned depth, links;		/* depth <= links: one push each */
};

/* Next component of *p (slashes skipped): its start and length; 0 at the
 * end of the path. *p moves past it. */
static size_t next_component(const char **p, const char **name)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == '/')
		s++;
	*name = s;
	while (s[n] && s[n] != '/')
		n++;
	*p = s + n;
	return n;
}

static bool is_dot(const char *s, size_t n)
{
	return n == 1 && s[0] == '.';
}

static bool is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

/* True when only slashes remain. */
static bool at_end(const char *p)
{
	while (*p == '/')
		p++;
	return *p == '\0';
}

static bool is_link(const struct cubi_rnode *n)
{
	size_t len;

	return cubi_ramfs_link_target(n, &len) != NULL;
}

/* Goes on with link n's target in place of the component just read.
 * last: it was the last component, so nothing waits behind it. */
static int follow(struct walker *k, struct cubi_rnode *n, bool last)
{
	size_t len;
	const char *t = cubi_ramfs_link_target(n, &len);

	if (++k->links > CUBI_WALK_LINKS)
		return -CUB_ELOOP;
	if (!last)
		k->stack[k->depth++] = k->p;
	k->p = t;
	if (t[0] == '/')
		k->dir = cubi_ramfs_root();
	return 0;
}

/* Link n's object when it is a magic link: 1 and m's object set, 0 for
 * an ordinary link, or -errno (-CUB_ELOOP past CUBI_WALK_LINKS). */
static int magic(struct walker *k, struct cubi_rnode *n, struct cubi_walk *m)
{
	uint64_t arg;
	const struct cubi_rsynth *s = cubi_ramfs_synth(n, &arg);
	int rc;

	if (!s || !s->follow)
		return 0;
	if (++k->links > CUBI_WALK_LINKS)
		return -CUB_ELOOP;
	rc = s->follow(n, arg, m);
	return rc ? rc : 1;
}

/* The last component (name, n): 0 when the walk is done (*w set), 1 when
 * it was a link to follow (the walk goes on), or -CUB_ELOOP. */
static int last_component(struct walker *k, const char *name, size_t n,
			  enum cubi_walk_how how, struct cubi_walk *w)
{
	struct cubi_rnode *node;

	w->slash |= *k->p == '/';
	w->dot = is_dot(name, n) || is_dotdot(name, n);
	if (w->dot) {
		w->dir = is_dot(name, n) ? k->dir : cubi_ramfs_parent(k->dir);
		w->name = "";
		w->len = 0;
		return 0;
	}
	/* A trailing slash makes a looking call follow (Linux: it must
	 * name a directory); calls that make or remove names never do. */
	if ((how == CUBI_WALK_FOLLOW || (how == CUBI_WALK_NOFOLLOW && w->slash)) &&
	    cubi_ramfs_lookup(k->dir, name, n, &node) == 0 &&
	    is_link(node)) {
		int rc = magic(k, node, w);

		if (rc)
			return rc < 0 ? rc : 0;	/* done: w's object */
		rc = follow(k, node, true);
		return rc ? rc : 1;
	}
	w->dir = k->dir;
	w->name = name;
	w->len = n;
	return 0;
}

/* A component in the middle: the directory it names becomes k->dir. */
static int middle_component(struct walker *k, const char *name, size_t n)
{
	struct cubi_rnode *next;
	int rc;

	if (is_dot(name, n))
		return 0;
	if (is_dotdot(name, n)) {
		k->dir = cubi_ramfs_parent(k->dir);
		return 0;
	}
	if ((rc = cubi_ramfs_lookup(k->dir, name, n, &next)) != 0)
		return rc;
	if (is_link(next)) {
		struct cubi_walk m = { .node = NULL, .file = NULL };

		if ((rc = magic(k, next, &m)) == 0)
			return follow(k, next, false);
		if (rc < 0)
			return rc;
		if (!m.node)		/* a pipe, socket...: no directory */
			return -CUB_ENOTDIR;
		next = m.node;
	}
	if (!cubi_ramfs_is_dir(next))
		return -CUB_ENOTDIR;
	k->dir = next;
	return 0;
}

int cubi_path_walk_how(struct cubi_rnode *start, const char *path,
		       enum cubi_walk_how how, struct cubi_walk *w)
{
	struct walker k = { path[0] == '/' ? cubi_ramfs_root() : start, path, { 0 }, 0, 0 };
	const char *name;
	size_t n;
	int rc;

	if (!path[0])
		return -CUB_ENOENT;
	if (!cubi_ramfs_is_dir(k.dir))
		return -CUB_ENOTDIR;
	*w = (struct cubi_walk){ .dir = k.dir, .name = "" };
	for (;;) {
		while (k.depth && at_end(k.p))	/* a link's target done */
			k.p = k.stack[--k.depth];
		if ((n = next_component(&k.p, &name)) == 0)
			break;
		if (n > CUBI_NAME_MAX)
			return -CUB_ENAMETOOLONG;
		if (k.depth == 0 && at_end(k.p)) {
			if ((rc = last_component(&k, name, n, how, w)) <= 0)
				return rc;
		} else if ((rc = middle_component(&k, name, n)) != 0) {
			return rc;
		}
	}
	w->dir = k.dir;		/* "/" or only slashes left: the directory */
	return 0;
}

int cubi_path_walk(struct cubi_rnode *start, const char *path,
		   struct cubi_walk *w)
{
	return cubi_path_walk_how(start, path, CUBI_WALK_PARENT, w);
}

int cubi_path_resolve_obj(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out,
			  struct cubi_file **file)
{
	struct cubi_walk w;
	int rc = cubi_path_walk_how(start, path, how, &w);

	*out = NULL;
	*file = NULL;
	if (rc)
		return rc;
	if (w.file) {		/* a pipe, socket, device...: no directory */
		*file = w.file;
		return w.slash ? -CUB_ENOTDIR : 0;
	}
	if (w.node)
		*out = w.node;
	else if (!w.len)
		*out = w.dir;
	else if ((rc = cubi_ramfs_lookup(w.dir, w.name, w.len, out)) != 0)
		return rc;
	return w.slash && !cubi_ramfs_is_dir(*out) ? -CUB_ENOTDIR : 0;
}

int cubi_path_resolve_how(struct cubi_rnode *start, const char *path,
			  enum cubi_walk_how how, struct cubi_rnode **out)
{
	struct cubi_file *file;
	int rc = cubi_path_resolve_obj(start, path, how, out, &file);

	return rc == 0 && file ? -CUB_ENXIO : rc;
}
