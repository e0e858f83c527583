/*
 * shadow.h - the tree model_persist.c expects under the persisted
 * directory: every entry's path (relative, components from a pool of
 * eight one-letter names, at most three deep), mode (type and
 * permission bits), bytes (a file's contents, a link's target) and
 * file identity (entries with the same id are names of one file: hard
 * links), and the tree read back from ramfs in the same form to compare
 * with (the id then its inode number).
 *
 * Invariants: a tree's entries are distinct paths whose parents are
 * directories of the same tree; t->n <= SH_MAX. Locking: none (one
 * coroutine); sh_read takes the fs lock itself.
 */
#ifndef CUBRT_TEST_SHADOW_H
#define CUBRT_TEST_SHADOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ramfs.h"
#include "vfs.h"

#define SH_MAX 40		/* entries */
#define SH_DATA 3000		/* bytes of a file or a link target */
#define SH_PATH 16

struct sh_ent {
	char path[SH_PATH];
	uint64_t id;		/* equal ids: one file's names */
	uint32_t mode;
	size_t len;
	uint8_t data[SH_DATA];
};

struct sh_tree {
	unsigned n;
	struct sh_ent e[SH_MAX];
};

/* The entry at path, or NULL. */
static inline struct sh_ent *sh_find(struct sh_tree *t, const char *path)
{
	for (unsigned i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].path, path))
			return &t->e[i];
	return NULL;
}

static inline bool sh_is(struct sh_tree *t, const char *path, uint32_t type)
{
	struct sh_ent *e = sh_find(t, path);

	return e && (e->mode & CUBI_S_IFMT) == type;
}

/* True when path is below dir ("a/b" below "a"). */
static inline bool sh_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/';
}

static inline void sh_remove(struct sh_tree *t, struct sh_ent *e)
{
	*e = t->e[--t->n];
}

static int sh_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sh_ent *)a)->path, ((const struct sh_ent *)b)->path);
}

/* Equal trees, whatever their entries' order (both get sorted) and
 * whatever their ids: the same paths, modes and bytes, and the same
 * paths share a file in both. */
static inline bool sh_equal(struct sh_tree *a, struct sh_tree *b)
{
	qsort(a->e, a->n, sizeof(a->e[0]), sh_cmp);
	qsort(b->e, b->n, sizeof(b->e[0]), sh_cmp);
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		if (strcmp(a->e[i].path, b->e[i].path) || a->e[i].mode != b->e[i].mode ||
		    a->e[i].len != b->e[i].len || memcmp(a->e[i].data, b->e[i].data, a->e[i].len))
			return false;
		for (unsigned j = 0; j < i; j++)
			if ((a->e[i].id == a->e[j].id) != (b->e[i].id == b->e[j].id))
				return false;
	}
	return true;
}

static inline void sh_print(const char *what, struct sh_tree *t)
{
	printf("  %s: %u entries\n", what, t->n);
	for (unsigned i = 0; i < t->n; i++)
		printf("    %-10s %06o %zu bytes, file %llx\n", t->e[i].path, t->e[i].mode,
		       t->e[i].len, (unsigned long long)t->e[i].id);
}

/* Reads directory d (prefix: its relative path, "" for the top) into t;
 * false when something cannot be represented (too many entries, a
 * name too long, an entry of another type, a file too large). */
static bool sh_read_dir(struct cubi_rnode *d, const char *prefix, struct sh_tree *t)
{
	struct cubi_rdirent de;
	struct cubi_rstat st;
	struct cubi_rnode *n;
	uint64_t cookie = 0;
	const char *tg;

	while (cubi_ramfs_readdir(d, &cookie, &de) == 1) {
		struct sh_ent *e = &t->e[t->n];

		if (!strcmp(de.name, ".") || !strcmp(de.name, ".."))
			continue;
		if (t->n == SH_MAX || strlen(prefix) + de.len + 2 > SH_PATH ||
		    cubi_ramfs_lookup(d, de.name, de.len, &n))
			return false;
		t->n++;
		strcpy(e->path, prefix);
		if (*prefix)
			strcat(e->path, "/");
		strcat(e->path, de.name);
		cubi_ramfs_stat(n, &st);
		e->id = st.ino;
		e->mode = st.mode;
		e->len = 0;
		if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFDIR) {
			if (!sh_read_dir(n, e->path, t))
				return false;
		} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFLNK) {
			tg = cubi_ramfs_link_target(n, &e->len);
			if (e->len > SH_DATA)
				return false;
			memcpy(e->data, tg, e->len);
		} else if ((st.mode & CUBI_S_IFMT) == CUBI_S_IFREG && st.size <= SH_DATA) {
			e->len = (size_t)st.size;
			if (cubi_ramfs_read(n, e->data, e->len, 0) != (long)e->len)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* The tree under the absolute directory path top (one component): false
 * when it is missing or not representable. */
static inline bool sh_read(const char *top, struct sh_tree *t)
{
	struct cubi_rnode *d;
	bool ok;

	t->n = 0;
	cubi_fs_lock();
	ok = cubi_ramfs_lookup(cubi_ramfs_root(), top + 1, strlen(top + 1), &d) == 0 &&
	     cubi_ramfs_is_dir(d) && sh_read_dir(d, "", t);
	cubi_fs_unlock();
	return ok;
}

#endif
