/*
 * path.c - path walks over the ramfs tree for the file-system calls.
 *
 * A walk resolves every component but the last and leaves the last for
 * the call to look up, create or remove. "." and ".." are resolved here
 * (the root is its own parent); repeated slashes count as one. There are
 * no symbolic links, so a walk never loops. Callers hold the fs lock for
 * the walk and for as long as they use its nodes.
 */
#include "shim_impl.h"

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

int cubi_path_walk(struct cubi_rnode *start, const char *path,
		   struct cubi_walk *w)
{
	struct cubi_rnode *dir = path[0] == '/' ? cubi_ramfs_root() : start;
	const char *p = path, *name;
	size_t n;

	if (!path[0])
		return -CUB_ENOENT;
	if (!cubi_ramfs_is_dir(dir))
		return -CUB_ENOTDIR;
	*w = (struct cubi_walk){ dir, "", 0, false, false };
	while ((n = next_component(&p, &name)) != 0) {
		struct cubi_rnode *next;
		int rc;

		if (n > CUBI_NAME_MAX)
			return -CUB_ENAMETOOLONG;
		if (at_end(p)) {	/* the last component */
			w->slash = *p == '/';
			if (is_dot(name, n) || is_dotdot(name, n)) {
				w->dir = is_dot(name, n) ? dir : cubi_ramfs_parent(dir);
				w->dot = true;
				return 0;
			}
			*w = (struct cubi_walk){ dir, name, n, w->slash, false };
			return 0;
		}
		if (is_dot(name, n))
			continue;
		if (is_dotdot(name, n)) {
			dir = cubi_ramfs_parent(dir);
			continue;
		}
		if ((rc = cubi_ramfs_lookup(dir, name, n, &next)) != 0)
			return rc;
		if (!cubi_ramfs_is_dir(next))
			return -CUB_ENOTDIR;
		dir = next;
	}
	w->dir = dir;		/* "/" or a path of slashes: the directory */
	return 0;
}

int cubi_path_resolve(struct cubi_rnode *start, const char *path,
		      struct cubi_rnode **out)
{
	struct cubi_walk w;
	int rc = cubi_path_walk(start, path, &w);

	if (rc)
		return rc;
	if (!w.len) {
		*out = w.dir;
		return 0;
	}
	if ((rc = cubi_ramfs_lookup(w.dir, w.name, w.len, out)) != 0)
		return rc;
	return w.slash && !cubi_ramfs_is_dir(*out) ? -CUB_ENOTDIR : 0;
}
