/*
 * test_shim_ramfs.c - the shim's in-memory file system (ramfs.h) called
 * directly: lookup/create/unlink/rename with every error they return,
 * holds keeping nameless nodes alive, readdir cookies across changes,
 * file data (sparse writes, truncation, EFBIG/ENOSPC), stat fields and
 * times; cpio "newc" unpacking of good archives and malformed ones (each
 * read from a heap block of exactly its length, so an overread shows
 * under ASan), with symbolic and hard links, and an archive GNU cpio
 * writes; symbolic links and hard links (nlink, names outliving each
 * other, rename between names of one file; a node's current name, and
 * a held file's last); and a randomized model test
 * (seed from $CUBRT_SEED, printed) comparing random operations, links
 * and lookups among them, against plain arrays: 40 names a directory,
 * in phases that fill the directories and drain them, so that their
 * name index (ramfs_hash.c) is made, grows, shrinks and goes again
 * (test_shim_ramdir has the large directories).
 * Every test checks that the heap holds no more blocks afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include "ramfs.h"
#include "ramfix.h"

static struct cubi_rstat st_tmp;

/* ----------------------------------------------------------- helpers */

static struct cubi_rnode *mk(struct cubi_rnode *dir, const char *name,
			     uint32_t mode)
{
	struct cubi_rnode *n = NULL;

	assert_int_equal(cubi_ramfs_create(dir, name, strlen(name), mode, &n), 0);
	assert_non_null(n);
	return n;
}

static struct cubi_rnode *mkfile(struct cubi_rnode *dir, const char *name)
{
	return mk(dir, name, CUBI_S_IFREG | 0644);
}

static struct cubi_rnode *mkdir_(struct cubi_rnode *dir, const char *name)
{
	return mk(dir, name, CUBI_S_IFDIR | 0755);
}

/* The node `name` in dir, or NULL. */
static struct cubi_rnode *lk(struct cubi_rnode *dir, const char *name)
{
	struct cubi_rnode *n = NULL;
	int rc = cubi_ramfs_lookup(dir, name, strlen(name), &n);

	if (rc == -CUB_ENOENT)
		return NULL;
	assert_int_equal(rc, 0);
	return n;
}

static int rm(struct cubi_rnode *dir, const char *name, bool rmdir)
{
	return cubi_ramfs_unlink(dir, name, strlen(name), rmdir);
}

static int mv(struct cubi_rnode *fd, const char *from, struct cubi_rnode *td,
	      const char *to, bool noreplace)
{
	return cubi_ramfs_rename(fd, from, strlen(from), td, to, strlen(to),
				 noreplace);
}

static void put_str(struct cubi_rnode *n, const char *s, uint64_t off)
{
	assert_int_equal(cubi_ramfs_write(n, s, strlen(s), off), (long)strlen(s));
}

/* n's whole content equals s[0..len). */
static void expect_data(struct cubi_rnode *n, const void *s, size_t len)
{
	char buf[4096];
	struct cubi_rstat st;

	assert_true(len < sizeof(buf));
	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.size, len);
	assert_int_equal(cubi_ramfs_read(n, buf, sizeof(buf), 0), (long)len);
	assert_memory_equal(buf, s, len);
}

/* n is a symbolic link to target: mode, size, target. */
static void expect_target(struct cubi_rnode *n, const char *target)
{
	size_t len = 99;
	const char *t;

	assert_non_null(n);
	t = cubi_ramfs_link_target(n, &len);
	assert_non_null(t);
	assert_int_equal(len, strlen(target));
	assert_memory_equal(t, target, len + 1);	/* and its NUL */
	cubi_ramfs_stat(n, &st_tmp);
	assert_int_equal(st_tmp.mode, CUBI_S_IFLNK | 0777);
	assert_int_equal(st_tmp.size, len);
}

static struct cubi_rstat st_of(struct cubi_rnode *n)
{
	struct cubi_rstat st;

	cubi_ramfs_stat(n, &st);
	return st;
}

static uint32_t nlink(struct cubi_rnode *n)
{
	return st_of(n).nlink;
}

static uint64_t ino(struct cubi_rnode *n)
{
	return st_of(n).ino;
}

/* Lists dir into names (joined with ' ', "." and ".." included). */
static void listing(struct cubi_rnode *dir, char *out, size_t cap)
{
	struct cubi_rdirent e;
	uint64_t cookie = 0;
	int rc;

	out[0] = '\0';
	while ((rc = cubi_ramfs_readdir(dir, &cookie, &e)) == 1) {
		assert_int_equal(strlen(e.name), e.len);
		assert_int_equal(cookie, e.next);
		if (out[0])
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, e.name, cap - strlen(out) - 1);
	}
	assert_int_equal(rc, 0);
}

static void expect_listing(struct cubi_rnode *dir, const char *want)
{
	char got[1024];

	listing(dir, got, sizeof(got));
	assert_string_equal(got, want);
}

/* ------------------------------------------------------- tree basics */

static void test_root(void **state)
{
	struct cubi_rstat st;
	struct cubi_rnode *n;

	(void)state;
	assert_ptr_equal(cubi_ramfs_root(), R);
	assert_true(cubi_ramfs_is_dir(R));
	assert_ptr_equal(cubi_ramfs_parent(R), R);
	cubi_ramfs_stat(R, &st);
	assert_int_equal(st.mode & CUBI_S_IFMT, CUBI_S_IFDIR);
	assert_int_equal(st.nlink, 2);
	assert_int_equal(st.size, 0);
	assert_true(st.ino > 0);
	assert_int_equal(cubi_ramfs_lookup(R, "x", 1, &n), -CUB_ENOENT);
	expect_listing(R, ". ..");
	/* Holding and releasing the root never frees it. */
	cubi_ramfs_get(R);
	cubi_ramfs_put(R);
	expect_listing(R, ". ..");
}

static void test_create_lookup(void **state)
{
	struct cubi_rnode *f, *d, *sub, *n;
	struct cubi_rstat st;

	(void)state;
	f = mk(R, "file", CUBI_S_IFREG | 0640);
	d = mk(R, "dir", CUBI_S_IFDIR | 0700);
	assert_false(cubi_ramfs_is_dir(f));
	assert_true(cubi_ramfs_is_dir(d));
	assert_ptr_equal(lk(R, "file"), f);
	assert_ptr_equal(lk(R, "dir"), d);
	assert_null(lk(R, "fil"));
	assert_null(lk(R, "files"));
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.mode, CUBI_S_IFREG | 0640);
	assert_int_equal(st.nlink, 1);
	assert_int_equal(st.size, 0);
	cubi_ramfs_stat(d, &st);
	assert_int_equal(st.mode, CUBI_S_IFDIR | 0700);
	assert_int_equal(st.nlink, 2);
	/* A mode without the directory type makes a regular file; only the
	 * permission bits of the rest are kept. */
	n = mk(R, "plain", 0104755);
	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.mode, CUBI_S_IFREG | 04755);

	/* EEXIST gives the existing node, whatever type was asked for. */
	n = NULL;
	assert_int_equal(cubi_ramfs_create(R, "file", 4, CUBI_S_IFDIR | 0755, &n),
			 -CUB_EEXIST);
	assert_ptr_equal(n, f);
	n = NULL;
	assert_int_equal(cubi_ramfs_create(R, "dir", 3, CUBI_S_IFREG, &n),
			 -CUB_EEXIST);
	assert_ptr_equal(n, d);
	/* ENOTDIR: a file holds no entries. */
	assert_int_equal(cubi_ramfs_create(f, "x", 1, CUBI_S_IFREG, &n),
			 -CUB_ENOTDIR);
	assert_int_equal(cubi_ramfs_lookup(f, "x", 1, &n), -CUB_ENOTDIR);

	/* The same name in two directories is two nodes. */
	sub = mkdir_(d, "sub");
	n = mkfile(d, "file");
	assert_ptr_not_equal(n, f);
	assert_ptr_equal(cubi_ramfs_parent(sub), d);
	assert_ptr_equal(cubi_ramfs_parent(d), R);
	/* nlink of a directory: 2 + subdirectories; size: entries * 32. */
	cubi_ramfs_stat(d, &st);
	assert_int_equal(st.nlink, 3);
	assert_int_equal(st.size, 2 * 32);
	cubi_ramfs_stat(R, &st);
	assert_int_equal(st.nlink, 3);
	assert_int_equal(st.size, 3 * 32);
	/* Inode numbers are distinct and positive. */
	uint64_t inos[] = { ino(R), ino(f), ino(d), ino(sub), ino(n) };
	for (size_t i = 0; i < 5; i++) {
		assert_true(inos[i] > 0);
		for (size_t j = 0; j < i; j++)
			assert_true(inos[i] != inos[j]);
	}
	/* The longest name. */
	char longname[CUBI_NAME_MAX + 1];
	memset(longname, 'x', CUBI_NAME_MAX);
	longname[CUBI_NAME_MAX] = '\0';
	n = mkfile(R, longname);
	assert_ptr_equal(lk(R, longname), n);
}

static void test_unlink(void **state)
{
	struct cubi_rnode *d, *sub, *n;

	(void)state;
	d = mkdir_(R, "d");
	sub = mkdir_(d, "sub");
	mkfile(d, "f");
	assert_int_equal(rm(d, "nope", false), -CUB_ENOENT);
	assert_int_equal(rm(d, "nope", true), -CUB_ENOENT);
	assert_int_equal(rm(d, "sub", false), -CUB_EISDIR);
	assert_int_equal(rm(d, "f", true), -CUB_ENOTDIR);
	assert_int_equal(rm(R, "d", true), -CUB_ENOTEMPTY);
	n = lk(d, "f");
	assert_int_equal(rm(n, "x", false), -CUB_ENOTDIR);
	assert_int_equal(nlink(d), 3);
	assert_int_equal(rm(d, "f", false), 0);
	assert_null(lk(d, "f"));
	assert_int_equal(rm(d, "f", false), -CUB_ENOENT);
	assert_int_equal(rm(d, "sub", true), 0);
	(void)sub;		/* freed: no holds */
	assert_int_equal(nlink(d), 2);
	assert_int_equal(rm(R, "d", true), 0);
	expect_listing(R, ". ..");
	assert_int_equal(nlink(R), 2);
}

/* A removed directory that is still held (a working directory). */
static void test_removed_dir(void **state)
{
	struct cubi_rnode *d, *n;
	struct cubi_rdirent e;
	uint64_t cookie = 0;

	(void)state;
	d = mkdir_(R, "d");
	cubi_ramfs_get(d);
	assert_int_equal(rm(R, "d", true), 0);
	assert_null(lk(R, "d"));
	assert_int_equal(nlink(d), 0);
	assert_true(cubi_ramfs_is_dir(d));
	/* It takes no entries and lists nothing; it is its own parent. */
	assert_int_equal(cubi_ramfs_create(d, "x", 1, CUBI_S_IFREG, &n),
			 -CUB_ENOENT);
	assert_int_equal(cubi_ramfs_create(d, "x", 1, CUBI_S_IFDIR, &n),
			 -CUB_ENOENT);
	assert_int_equal(cubi_ramfs_lookup(d, "x", 1, &n), -CUB_ENOENT);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), -CUB_ENOENT);
	assert_ptr_equal(cubi_ramfs_parent(d), d);
	mkfile(R, "f");
	assert_int_equal(mv(R, "f", d, "f", false), -CUB_ENOENT);
	assert_non_null(lk(R, "f"));
	/* A new directory of the same name is another node. */
	n = mkdir_(R, "d");
	assert_ptr_not_equal(n, d);
	assert_true(heap_blocks() > base_blocks);
	cubi_ramfs_put(d);	/* frees it */
}

/* n's name as cubi_ramfs_name_of tells it: its directory and name. */
static void expect_name(struct cubi_rnode *n, struct cubi_rnode *dir, const char *name)
{
	struct cubi_rnode *d = NULL;
	const char *s = NULL;
	size_t len = 0;

	assert_true(cubi_ramfs_name_of(n, &d, &s, &len));
	assert_ptr_equal(d, dir);
	assert_int_equal(len, strlen(name));
	assert_memory_equal(s, name, len);
}

/* A node's current name, whatever renames and links did; a held file's
 * last once it has none; a directory's, none once removed. */
static void test_name_of(void **state)
{
	struct cubi_rnode *a, *b, *f, *g, *d;
	const char *s;
	size_t len;

	(void)state;
	assert_false(cubi_ramfs_name_of(R, &d, &s, &len));	/* the root */
	a = mkdir_(R, "a");
	b = mkdir_(R, "b");
	f = mkfile(a, "f");
	expect_name(f, a, "f");
	expect_name(a, R, "a");
	assert_int_equal(mv(a, "f", b, "g", false), 0);	/* across */
	expect_name(f, b, "g");
	assert_int_equal(cubi_ramfs_link(f, a, "h", 1), 0);	/* any name */
	assert_int_equal(rm(a, "h", false), 0);
	expect_name(f, b, "g");
	assert_int_equal(cubi_ramfs_link(f, a, "h", 1), 0);
	assert_int_equal(rm(b, "g", false), 0);
	expect_name(f, a, "h");
	cubi_ramfs_get(f);
	g = mkfile(b, "x");
	assert_int_equal(mv(b, "x", a, "h", false), 0);	/* replaced */
	expect_name(g, a, "h");
	expect_name(f, a, "h");			/* its last name */
	assert_int_equal(nlink(f), 0);
	cubi_ramfs_get(a);
	assert_int_equal(rm(a, "h", false), 0);
	assert_int_equal(rm(R, "a", true), 0);	/* the last name's dir */
	assert_false(cubi_ramfs_name_of(a, &d, &s, &len));
	expect_name(f, a, "h");			/* it holds a */
	cubi_ramfs_put(a);
	cubi_ramfs_put(f);			/* frees f, its name, then a */
}

/* An open file keeps its data after its name goes, until put. */
static void test_unlink_held_file(void **state)
{
	struct cubi_rnode *f, *g;
	size_t before;

	(void)state;
	f = mkfile(R, "f");
	put_str(f, "hello, world", 0);
	cubi_ramfs_get(f);
	cubi_ramfs_get(f);
	before = heap_blocks();
	assert_int_equal(rm(R, "f", false), 0);
	assert_null(lk(R, "f"));
	assert_int_equal(heap_blocks(), before);	/* its last name stays */
	assert_int_equal(nlink(f), 0);
	expect_data(f, "hello, world", 12);
	put_str(f, "HELLO", 0);			/* still writable */
	expect_data(f, "HELLO, world", 12);
	/* A new file of that name is separate. */
	g = mkfile(R, "f");
	assert_ptr_not_equal(g, f);
	expect_data(g, "", 0);
	cubi_ramfs_put(f);
	expect_data(f, "HELLO, world", 12);	/* one hold left */
	cubi_ramfs_put(f);			/* node, name, data freed */
	/* + g and its name - f's name, f and its data's two slot arrays
	 * (the bytes are frames: ramfs_pages.c) */
	assert_int_equal(heap_blocks(), before + 2 - 4);
	/* get/put on a linked node frees nothing. */
	cubi_ramfs_get(g);
	cubi_ramfs_put(g);
	assert_ptr_equal(lk(R, "f"), g);
}

/* --------------------------------------------------------------- rename */

static void test_rename_basic(void **state)
{
	struct cubi_rnode *a, *b, *d, *e, *x;
	struct cubi_rstat st;

	(void)state;
	a = mkfile(R, "a");
	put_str(a, "A", 0);
	d = mkdir_(R, "d");
	e = mkdir_(R, "e");
	assert_int_equal(mv(R, "zz", R, "b", false), -CUB_ENOENT);
	assert_int_equal(mv(a, "zz", R, "b", false), -CUB_ENOTDIR);
	assert_int_equal(mv(R, "a", a, "b", false), -CUB_ENOTDIR);
	/* Within a directory, then across, the node stays the same. */
	assert_int_equal(mv(R, "a", R, "b", false), 0);
	assert_null(lk(R, "a"));
	assert_ptr_equal(lk(R, "b"), a);
	assert_int_equal(mv(R, "b", d, "c", true), 0);
	assert_null(lk(R, "b"));
	assert_ptr_equal(lk(d, "c"), a);
	expect_data(a, "A", 1);
	assert_int_equal(nlink(a), 1);
	/* A directory moving changes both parents' nlink and its "..". */
	assert_int_equal(nlink(R), 4);
	assert_int_equal(mv(R, "e", d, "e2", false), 0);
	assert_int_equal(nlink(R), 3);
	assert_int_equal(nlink(d), 3);
	assert_ptr_equal(cubi_ramfs_parent(e), d);
	cubi_ramfs_stat(d, &st);
	assert_int_equal(st.size, 2 * 32);
	/* Onto itself: a no-op, for files and directories. */
	assert_int_equal(mv(d, "c", d, "c", false), 0);
	assert_int_equal(mv(d, "e2", d, "e2", false), 0);
	assert_int_equal(mv(R, "d", R, "d", false), 0);
	assert_ptr_equal(lk(d, "c"), a);
	assert_ptr_equal(lk(d, "e2"), e);
	expect_listing(d, ". .. c e2");
	/* noreplace: EEXIST when the target exists, even onto itself. */
	b = mkfile(d, "b");
	assert_int_equal(mv(d, "c", d, "b", true), -CUB_EEXIST);
	assert_int_equal(mv(d, "c", d, "c", true), -CUB_EEXIST);
	assert_ptr_equal(lk(d, "b"), b);
	assert_ptr_equal(lk(d, "c"), a);
	/* The moved entry is listed last in its new place. */
	assert_int_equal(mv(d, "c", d, "a", true), 0);
	expect_listing(d, ". .. e2 b a");
	x = mkdir_(e, "x");
	assert_ptr_equal(cubi_ramfs_parent(x), e);
}

static void test_rename_replace(void **state)
{
	struct cubi_rnode *a, *b, *d1, *d2, *full;
	size_t before;

	(void)state;
	a = mkfile(R, "a");
	b = mkfile(R, "b");
	put_str(a, "aaa", 0);
	put_str(b, "bbbbbb", 0);
	d1 = mkdir_(R, "d1");
	d2 = mkdir_(R, "d2");
	full = mkdir_(R, "full");
	mkfile(full, "inside");

	/* A file replaces a file; the replaced one is freed... */
	before = heap_blocks();
	assert_int_equal(mv(R, "a", R, "b", false), 0);
	assert_ptr_equal(lk(R, "b"), a);
	assert_null(lk(R, "a"));
	expect_data(a, "aaa", 3);
	/* b's node, its data's two slot arrays and its name */
	assert_int_equal(heap_blocks(), before - 4);
	/* ...unless held: then it lives on, nameless. */
	b = mkfile(R, "c");
	put_str(b, "ccc", 0);
	cubi_ramfs_get(b);
	assert_int_equal(mv(R, "b", R, "c", false), 0);
	assert_ptr_equal(lk(R, "c"), a);
	assert_int_equal(nlink(b), 0);
	expect_data(b, "ccc", 3);
	cubi_ramfs_put(b);

	/* Type rules. */
	assert_int_equal(mv(R, "c", R, "d1", false), -CUB_EISDIR);
	assert_int_equal(mv(R, "d1", R, "c", false), -CUB_ENOTDIR);
	assert_int_equal(mv(R, "d1", R, "full", false), -CUB_ENOTEMPTY);
	assert_int_equal(mv(R, "c", R, "full", false), -CUB_EISDIR);
	assert_ptr_equal(lk(R, "c"), a);
	assert_ptr_equal(lk(R, "d1"), d1);
	/* A directory replaces an empty directory. */
	assert_int_equal(nlink(R), 5);
	assert_int_equal(mv(R, "d1", R, "d2", false), 0);
	assert_ptr_equal(lk(R, "d2"), d1);
	assert_null(lk(R, "d1"));
	assert_int_equal(nlink(R), 4);
	(void)d2;		/* freed */
	/* Replacing a held empty directory: it becomes removed. */
	d2 = mkdir_(R, "d3");
	cubi_ramfs_get(d2);
	assert_int_equal(mv(R, "d2", R, "d3", false), 0);
	assert_int_equal(nlink(d2), 0);
	assert_int_equal(cubi_ramfs_create(d2, "x", 1, CUBI_S_IFREG, &a),
			 -CUB_ENOENT);
	cubi_ramfs_put(d2);
	expect_listing(R, ". .. full c d3");
}

static void test_rename_subtree(void **state)
{
	struct cubi_rnode *d, *e, *f;

	(void)state;
	d = mkdir_(R, "d");
	e = mkdir_(d, "e");
	f = mkdir_(e, "f");
	mkfile(f, "file");
	/* Into itself, below itself, deeper below itself. */
	assert_int_equal(mv(R, "d", d, "x", false), -CUB_EINVAL);
	assert_int_equal(mv(R, "d", e, "x", false), -CUB_EINVAL);
	assert_int_equal(mv(R, "d", f, "x", false), -CUB_EINVAL);
	assert_int_equal(mv(d, "e", f, "e", false), -CUB_EINVAL);
	/* Onto an existing entry in its own subtree: still EINVAL. */
	assert_int_equal(mv(R, "d", f, "file", false), -CUB_EINVAL);
	/* Onto its own ancestor: that is not empty. */
	assert_int_equal(mv(e, "f", R, "d", false), -CUB_ENOTEMPTY);
	assert_int_equal(mv(f, "file", R, "d", false), -CUB_EISDIR);
	/* A file may go anywhere; a directory up the tree too. */
	assert_int_equal(mv(f, "file", R, "file", false), 0);
	assert_int_equal(mv(e, "f", R, "f", false), 0);
	assert_ptr_equal(cubi_ramfs_parent(f), R);
	/* Now f is empty and outside d: d's subtree may replace it. */
	assert_int_equal(mv(d, "e", R, "f", false), 0);
	assert_ptr_equal(lk(R, "f"), e);
	assert_ptr_equal(cubi_ramfs_parent(e), R);
	expect_listing(R, ". .. d file f");
	expect_listing(d, ". ..");
}

/* -------------------------------------------------------------- readdir */

static void test_readdir_entries(void **state)
{
	struct cubi_rnode *d, *f, *s;
	struct cubi_rdirent e;
	uint64_t cookie = 0;

	(void)state;
	d = mkdir_(R, "d");
	f = mkfile(d, "f");
	s = mkdir_(d, "s");
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
	assert_string_equal(e.name, ".");
	assert_int_equal(e.ino, ino(d));
	assert_int_equal(e.mode, CUBI_S_IFDIR);
	assert_int_equal(e.next, 1);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
	assert_string_equal(e.name, "..");
	assert_int_equal(e.len, 2);
	assert_int_equal(e.ino, ino(R));
	assert_int_equal(e.mode, CUBI_S_IFDIR);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
	assert_string_equal(e.name, "f");
	assert_int_equal(e.ino, ino(f));
	assert_int_equal(e.mode, CUBI_S_IFREG);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
	assert_string_equal(e.name, "s");
	assert_int_equal(e.ino, ino(s));
	assert_int_equal(e.mode, CUBI_S_IFDIR);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 0);
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 0);
	/* The root's ".." is itself. */
	cookie = 1;
	assert_int_equal(cubi_ramfs_readdir(R, &cookie, &e), 1);
	assert_string_equal(e.name, "..");
	assert_int_equal(e.ino, ino(R));
	/* A file is no directory. */
	cookie = 0;
	assert_int_equal(cubi_ramfs_readdir(f, &cookie, &e), -CUB_ENOTDIR);
	/* A cookie past everything ends the listing. */
	cookie = 1000000;
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 0);
}

/* Whether name occurs in names[0..n). */
static int count_of(char names[][16], int n, const char *name)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += strcmp(names[i], name) == 0;
	return c;
}

/*
 * A listing with entries added and removed between calls (and a saved
 * cookie reused, as seekdir does): entries there throughout are listed
 * exactly once, removed ones before the cursor were listed, removed ones
 * after it never are, new ones at most once.
 */
static void test_readdir_stable(void **state)
{
	struct cubi_rnode *d;
	struct cubi_rdirent e;
	char seen[64][16], name[16];
	uint64_t cookie = 0, saved = 0;
	int n = 0;

	(void)state;
	d = mkdir_(R, "d");
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		mkfile(d, name);
	}
	/* ".", "..", e00..e07 */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
		strcpy(seen[n++], e.name);
	}
	assert_string_equal(seen[9], "e07");
	/* Remove the one just listed and the next one, and others. */
	assert_int_equal(rm(d, "e07", false), 0);
	assert_int_equal(rm(d, "e08", false), 0);
	assert_int_equal(rm(d, "e02", false), 0);
	assert_int_equal(rm(d, "e15", false), 0);
	mkfile(d, "new1");
	for (int i = 0; i < 3; i++) {
		assert_int_equal(cubi_ramfs_readdir(d, &cookie, &e), 1);
		strcpy(seen[n++], e.name);
	}
	saved = cookie;
	/* Remove the entry the saved cookie points to, and the one before. */
	assert_int_equal(rm(d, "e11", false), 0);
	assert_int_equal(rm(d, "e12", false), 0);
	mkfile(d, "new2");
	mkfile(d, "e02");		/* a name again: a new entry */
	while (cubi_ramfs_readdir(d, &cookie, &e) == 1) {
		assert_true(n < 64);
		strcpy(seen[n++], e.name);
	}
	assert_int_equal(count_of(seen, n, "."), 1);
	assert_int_equal(count_of(seen, n, ".."), 1);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		if (i == 8 || i == 15 || i == 12)	/* removed before listed */
			assert_int_equal(count_of(seen, n, name), 0);
		else if (i == 2)	/* listed, then a new e02 listed */
			assert_int_equal(count_of(seen, n, name), 2);
		else
			assert_int_equal(count_of(seen, n, name), 1);
	}
	assert_int_equal(count_of(seen, n, "new1"), 1);
	assert_int_equal(count_of(seen, n, "new2"), 1);
	assert_int_equal(n, 2 + 20 - 3 + 3);
	/* Resuming from the saved cookie: e13 on, in creation order. */
	assert_int_equal(cubi_ramfs_readdir(d, &saved, &e), 1);
	assert_string_equal(e.name, "e13");
	/* A cookie of a removed entry continues with its successor. */
	expect_listing(d, ". .. e00 e01 e03 e04 e05 e06 e09 e10 e13 e14 e16 "
		       "e17 e18 e19 new1 new2 e02");
}

/* ----------------------------------------------------------- file data */

static void test_file_io(void **state)
{
	struct cubi_rnode *f, *d;
	char buf[64];
	static char big[100000], got[100000];

	(void)state;
	f = mkfile(R, "f");
	d = mkdir_(R, "d");
	/* Empty file: reads give 0 at any offset. */
	assert_int_equal(cubi_ramfs_read(f, buf, sizeof(buf), 0), 0);
	assert_int_equal(cubi_ramfs_read(f, buf, sizeof(buf), 1000), 0);
	put_str(f, "0123456789", 0);
	assert_int_equal(cubi_ramfs_read(f, buf, 4, 3), 4);
	assert_memory_equal(buf, "3456", 4);
	assert_int_equal(cubi_ramfs_read(f, buf, sizeof(buf), 8), 2);
	assert_memory_equal(buf, "89", 2);
	assert_int_equal(cubi_ramfs_read(f, buf, sizeof(buf), 10), 0);
	assert_int_equal(cubi_ramfs_read(f, buf, sizeof(buf), UINT64_MAX), 0);
	assert_int_equal(cubi_ramfs_read(f, buf, 0, 0), 0);
	/* Overwrite inside, extend across the end. */
	put_str(f, "ab", 4);
	put_str(f, "XYZ", 9);
	expect_data(f, "0123ab678XYZ", 12);
	/* Zero-length write: nothing changes, even far away. */
	assert_int_equal(cubi_ramfs_write(f, "q", 0, 5000), 0);
	expect_data(f, "0123ab678XYZ", 12);
	/* A write past the end: the gap reads as zeros. */
	put_str(f, "end", 20);
	expect_data(f, "0123ab678XYZ\0\0\0\0\0\0\0\0end", 23);
	/* Directories have no data. */
	assert_int_equal(cubi_ramfs_read(d, buf, 1, 0), -CUB_EISDIR);
	assert_int_equal(cubi_ramfs_write(d, "x", 1, 0), -CUB_EISDIR);
	assert_int_equal(cubi_ramfs_truncate(d, 0), -CUB_EISDIR);
	/* Many small appends (geometric growth) and one big write. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	assert_int_equal(cubi_ramfs_truncate(f, 0), 0);
	for (size_t off = 0; off < sizeof(big); off += 1000)
		assert_int_equal(cubi_ramfs_write(f, big + off, 1000, off), 1000);
	assert_int_equal(cubi_ramfs_read(f, got, sizeof(got), 0), sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	f = mkfile(R, "g");
	assert_int_equal(cubi_ramfs_write(f, big, sizeof(big), 1), sizeof(big));
	assert_int_equal(cubi_ramfs_read(f, got, sizeof(got), 1), sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	assert_int_equal(cubi_ramfs_read(f, got, 1, 0), 1);
	assert_int_equal(got[0], 0);
}

static void test_truncate(void **state)
{
	struct cubi_rnode *f;

	(void)state;
	f = mkfile(R, "f");
	put_str(f, "abcdefgh", 0);
	assert_int_equal(cubi_ramfs_truncate(f, 3), 0);
	expect_data(f, "abc", 3);
	/* Growing again shows zeros, not the old bytes. */
	assert_int_equal(cubi_ramfs_truncate(f, 6), 0);
	expect_data(f, "abc\0\0\0", 6);
	assert_int_equal(cubi_ramfs_truncate(f, 6), 0);
	assert_int_equal(cubi_ramfs_truncate(f, 0), 0);
	expect_data(f, "", 0);
	assert_int_equal(cubi_ramfs_truncate(f, 2), 0);
	expect_data(f, "\0\0", 2);
	/* A write after a shrink: the gap is zero, not old data. */
	put_str(f, "0123456789abcdef", 0);
	assert_int_equal(cubi_ramfs_truncate(f, 4), 0);
	put_str(f, "Z", 8);
	expect_data(f, "0123\0\0\0\0Z", 9);
	/* A big file shrunk small (buffer given back) keeps its prefix. */
	static char big[50000];
	memset(big, 'b', sizeof(big));
	assert_int_equal(cubi_ramfs_write(f, big, sizeof(big), 0), sizeof(big));
	assert_int_equal(cubi_ramfs_truncate(f, 5), 0);
	expect_data(f, "bbbbb", 5);
	assert_int_equal(cubi_ramfs_truncate(f, 7), 0);
	expect_data(f, "bbbbb\0\0", 7);
}

/* A file's bytes are page frames: a small file takes one, and leaf 0's
 * slots are heap words; a file past 2 MiB takes a leaf frame too. */
static void test_file_frames(void **state)
{
	static char big[3 << 20];
	size_t free0 = cub_frame_free_count();
	struct cubi_rnode *f;

	(void)state;
	f = mkfile(R, "f");
	put_str(f, "ten bytes!", 0);
	assert_int_equal(cub_frame_free_count(), free0 - 1);
	memset(big, 'b', sizeof(big));
	assert_int_equal(cubi_ramfs_write(f, big, sizeof(big), 0), (long)sizeof(big));
	assert_int_equal(cub_frame_free_count(), free0 - 768 - 1);	/* + leaf 1 */
	assert_int_equal(cubi_ramfs_truncate(f, 4097), 0);
	assert_int_equal(cub_frame_free_count(), free0 - 2);
	assert_int_equal(cubi_ramfs_truncate(f, 0), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

static void test_limits(void **state)
{
	struct cubi_rnode *f;
	char buf[2];

	(void)state;
	f = mkfile(R, "f");
	put_str(f, "keep", 0);
	/* EFBIG: any byte at or past CUBI_FILE_MAX, overflow included. */
	assert_int_equal(cubi_ramfs_write(f, "x", 1, CUBI_FILE_MAX), -CUB_EFBIG);
	assert_int_equal(cubi_ramfs_write(f, "xy", 2, CUBI_FILE_MAX - 1),
			 -CUB_EFBIG);
	assert_int_equal(cubi_ramfs_write(f, "x", 1, UINT64_MAX), -CUB_EFBIG);
	assert_int_equal(cubi_ramfs_write(f, "x", SIZE_MAX, 1), -CUB_EFBIG);
	assert_int_equal(cubi_ramfs_truncate(f, CUBI_FILE_MAX + 1), -CUB_EFBIG);
	assert_int_equal(cubi_ramfs_truncate(f, UINT64_MAX), -CUB_EFBIG);
	/* A sparse file costs what it holds (a frame per page written, a
	 * leaf frame per 2 MiB written in) and 8 bytes per 2 MiB of its
	 * size: one byte at the largest offset, then back. */
	assert_int_equal(cubi_ramfs_write(f, "x", 1, CUBI_FILE_MAX - 1), 1);
	assert_int_equal(cubi_ramfs_read(f, buf, 2, CUBI_FILE_MAX - 2), 2);
	assert_memory_equal(buf, "\0x", 2);
	assert_int_equal(cubi_ramfs_truncate(f, 4), 0);
	expect_data(f, "keep", 4);
	assert_int_equal(cubi_ramfs_truncate(f, CUBI_FILE_MAX), 0);
	assert_int_equal(cubi_ramfs_read(f, buf, 2, CUBI_FILE_MAX - 2), 2);
	assert_memory_equal(buf, "\0\0", 2);
	assert_int_equal(cubi_ramfs_truncate(f, 4), 0);
	expect_data(f, "keep", 4);
}

/* -------------------------------------------------------- stat and times */

static void test_stat_times(void **state)
{
	struct cubi_rnode *f, *d;
	struct cubi_rstat st, st2, dst;
	uint64_t t0, t1;
	char c;

	(void)state;
	t0 = cub_arch_wallclock_ns();
	f = mkfile(R, "f");
	d = mkdir_(R, "d");
	t1 = cub_arch_wallclock_ns();
	cubi_ramfs_stat(f, &st);
	assert_true(st.atime >= t0 && st.atime <= t1);
	assert_true(st.mtime >= t0 && st.mtime <= t1);
	assert_true(st.ctime >= t0 && st.ctime <= t1);
	cubi_ramfs_stat(R, &st);
	assert_true(st.mtime >= t0 && st.mtime <= t1);	/* got entries */

	/* Old times, then see which calls move which. */
	cubi_ramfs_set_times(f, 1000, 2000);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.atime, 1000);
	assert_int_equal(st.mtime, 2000);
	assert_true(st.ctime >= t1);
	cubi_ramfs_set_times(f, UINT64_MAX, 3000);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.atime, 1000);
	assert_int_equal(st.mtime, 3000);
	cubi_ramfs_set_times(f, 4000, UINT64_MAX);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.atime, 4000);
	assert_int_equal(st.mtime, 3000);
	/* read: atime only. */
	assert_int_equal(cubi_ramfs_read(f, &c, 1, 0), 0);
	cubi_ramfs_stat(f, &st2);
	assert_true(st2.atime >= t1);
	assert_int_equal(st2.mtime, 3000);
	/* write: mtime and ctime. */
	cubi_ramfs_set_times(f, 1000, 2000);
	put_str(f, "x", 0);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.atime, 1000);
	assert_true(st.mtime >= t1);
	assert_true(st.ctime >= st.mtime);
	/* truncate to another size: mtime. */
	cubi_ramfs_set_times(f, 1000, 2000);
	assert_int_equal(cubi_ramfs_truncate(f, 10), 0);
	cubi_ramfs_stat(f, &st);
	assert_true(st.mtime >= t1);
	/* A directory's mtime moves with its entries. */
	cubi_ramfs_set_times(d, 1000, 2000);
	mkfile(d, "x");
	cubi_ramfs_stat(d, &dst);
	assert_true(dst.mtime >= t1);
	cubi_ramfs_set_times(d, 1000, 2000);
	assert_int_equal(rm(d, "x", false), 0);
	cubi_ramfs_stat(d, &dst);
	assert_true(dst.mtime >= t1);
	cubi_ramfs_set_times(d, 1000, 2000);
	mkfile(R, "y");
	assert_int_equal(mv(R, "y", d, "y", false), 0);
	cubi_ramfs_stat(d, &dst);
	assert_true(dst.mtime >= t1);
}

/* chmod: permission bits only, type kept; ctime moves. */
static void test_chmod(void **state)
{
	struct cubi_rnode *f, *d;
	struct cubi_rstat st;
	uint64_t t0;

	(void)state;
	f = mkfile(R, "f");
	d = mkdir_(R, "d");
	assert_int_equal(cubi_ramfs_truncate(f, 10), 0);
	cubi_ramfs_set_times(f, 1000, 2000);
	t0 = cub_arch_wallclock_ns();
	cubi_ramfs_chmod(f, 0170777);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.mode, CUBI_S_IFREG | 0777);
	assert_true(st.ctime >= t0);
	assert_int_equal(st.atime, 1000);
	assert_int_equal(st.mtime, 2000);
	cubi_ramfs_chmod(d, 01750);
	cubi_ramfs_stat(d, &st);
	assert_int_equal(st.mode, CUBI_S_IFDIR | 01750);
	cubi_ramfs_chmod(f, 0);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.mode, CUBI_S_IFREG);
	assert_int_equal(st.size, 10);
	assert_int_equal(st.nlink, 1);
}

/* Device nodes: a type and a number, no bytes. */
static void test_mknod(void **state)
{
	struct cubi_rnode *n, *again;
	struct cubi_rstat st;
	struct cubi_rdirent e;
	uint64_t cookie = 2;

	(void)state;
	assert_int_equal(cubi_ramfs_mknod(R, "null", 4, 0666, 0x103, &n), 0);
	assert_int_equal(cubi_ramfs_mknod(R, "null", 4, 0666, 0x105, &again), -CUB_EEXIST);
	assert_ptr_equal(again, n);
	cubi_ramfs_stat(n, &st);
	assert_int_equal(st.mode, CUBI_S_IFCHR | 0666);
	assert_int_equal(st.rdev, 0x103);
	assert_int_equal(st.size, 0);
	assert_int_equal(st.nlink, 1);
	assert_false(cubi_ramfs_is_dir(n));
	assert_int_equal(cubi_ramfs_read(n, &st, 1, 0), -CUB_EINVAL);
	assert_int_equal(cubi_ramfs_write(n, "x", 1, 0), -CUB_EINVAL);
	assert_int_equal(cubi_ramfs_truncate(n, 0), -CUB_EINVAL);
	assert_int_equal(cubi_ramfs_readdir(R, &cookie, &e), 1);
	assert_int_equal(e.mode, CUBI_S_IFCHR);
	assert_int_equal(cubi_ramfs_unlink(R, "null", 4, true), -CUB_ENOTDIR);
	assert_int_equal(cubi_ramfs_unlink(R, "null", 4, false), 0);
}

/* ---------------------------------------------------------------- links */

static struct cubi_rnode *mklink(struct cubi_rnode *dir, const char *name,
				 const char *target)
{
	struct cubi_rnode *n = NULL;

	assert_int_equal(cubi_ramfs_symlink(dir, name, strlen(name), target,
					    strlen(target), &n), 0);
	assert_non_null(n);
	return n;
}

static int ln(struct cubi_rnode *n, struct cubi_rnode *dir, const char *name)
{
	return cubi_ramfs_link(n, dir, name, strlen(name));
}

static void test_symlink(void **state)
{
	static char longt[CUBI_SYMLINK_MAX + 2];
	struct cubi_rnode *f, *l, *again = NULL, *d;
	struct cubi_rdirent e;
	uint64_t cookie = 2;
	size_t len;

	(void)state;
	f = mkfile(R, "f");
	l = mklink(R, "l", "f");
	expect_target(l, "f");
	assert_int_equal(st_of(l).nlink, 1);
	assert_false(cubi_ramfs_is_dir(l));
	assert_ptr_equal(lk(R, "l"), l);	/* lookup does not follow */
	assert_null(cubi_ramfs_link_target(f, &len));
	assert_null(cubi_ramfs_link_target(R, &len));
	/* A link has no bytes of its own. */
	assert_int_equal(cubi_ramfs_read(l, &e, 1, 0), -CUB_EINVAL);
	assert_int_equal(cubi_ramfs_write(l, "x", 1, 0), -CUB_EINVAL);
	assert_int_equal(cubi_ramfs_truncate(l, 0), -CUB_EINVAL);
	expect_target(l, "f");
	/* Errors: the name exists (*out: it), empty or long targets. */
	assert_int_equal(cubi_ramfs_symlink(R, "f", 1, "x", 1, &again), -CUB_EEXIST);
	assert_ptr_equal(again, f);
	assert_int_equal(cubi_ramfs_symlink(R, "n", 1, "", 0, &again), -CUB_ENOENT);
	memset(longt, 'a', sizeof(longt) - 1);
	assert_int_equal(cubi_ramfs_symlink(R, "n", 1, longt, CUBI_SYMLINK_MAX + 1,
					    &again), -CUB_ENAMETOOLONG);
	longt[CUBI_SYMLINK_MAX] = '\0';
	expect_target(mklink(R, "long", longt), longt);
	assert_int_equal(cubi_ramfs_symlink(f, "n", 1, "x", 1, &again), -CUB_ENOTDIR);
	d = mkdir_(R, "d");
	cubi_ramfs_get(d);
	assert_int_equal(rm(R, "d", true), 0);
	assert_int_equal(cubi_ramfs_symlink(d, "n", 1, "x", 1, &again), -CUB_ENOENT);
	cubi_ramfs_put(d);
	/* readdir shows its type; unlink removes the link, not the target. */
	assert_int_equal(cubi_ramfs_readdir(R, &cookie, &e), 1);
	assert_int_equal(cubi_ramfs_readdir(R, &cookie, &e), 1);
	assert_string_equal(e.name, "l");
	assert_int_equal(e.mode, CUBI_S_IFLNK);
	assert_int_equal(rm(R, "l", true), -CUB_ENOTDIR);
	assert_int_equal(rm(R, "l", false), 0);
	assert_ptr_equal(lk(R, "f"), f);
	/* chmod and times apply to the link node itself here. */
	l = mklink(R, "l2", "/abs/target");
	cubi_ramfs_set_times(l, 5, 6);
	assert_int_equal(st_of(l).mtime, 6);
	expect_listing(R, ". .. f long l2");
}

static void test_hardlink(void **state)
{
	struct cubi_rnode *f, *d, *e, *g, *l;
	struct cubi_rdirent ent;
	uint64_t cookie = 2;
	size_t before;

	(void)state;
	f = mkfile(R, "f");
	put_str(f, "shared", 0);
	d = mkdir_(R, "d");
	assert_int_equal(ln(f, d, "g"), 0);
	assert_int_equal(ln(f, R, "h"), 0);
	assert_ptr_equal(lk(d, "g"), f);
	assert_ptr_equal(lk(R, "h"), f);
	assert_int_equal(nlink(f), 3);
	assert_int_equal(nlink(R), 3);		/* files are no subdirectories */
	expect_listing(R, ". .. f d h");
	assert_int_equal(cubi_ramfs_readdir(d, &cookie, &ent), 1);
	assert_int_equal(ent.ino, ino(f));
	assert_int_equal(ent.mode, CUBI_S_IFREG);
	/* Errors in Linux's order: dir, the name, then the node. */
	assert_int_equal(ln(f, f, "x"), -CUB_ENOTDIR);
	assert_int_equal(ln(d, R, "f"), -CUB_EEXIST);
	assert_int_equal(ln(f, d, "g"), -CUB_EEXIST);
	assert_int_equal(ln(d, R, "d2"), -CUB_EPERM);
	assert_int_equal(ln(R, d, "root"), -CUB_EPERM);
	e = mkdir_(R, "e");
	cubi_ramfs_get(e);
	assert_int_equal(rm(R, "e", true), 0);
	assert_int_equal(ln(f, e, "x"), -CUB_ENOENT);
	cubi_ramfs_put(e);
	/* unlink drops one name at a time; the data stays with the rest. */
	before = heap_blocks();
	assert_int_equal(rm(R, "f", false), 0);
	assert_int_equal(heap_blocks(), before - 1);	/* the name only */
	assert_int_equal(nlink(f), 2);
	expect_data(lk(d, "g"), "shared", 6);
	/* Renaming one name onto another of the same file: a no-op. */
	assert_int_equal(mv(R, "h", d, "g", false), 0);
	assert_ptr_equal(lk(R, "h"), f);
	assert_ptr_equal(lk(d, "g"), f);
	assert_int_equal(nlink(f), 2);
	assert_int_equal(mv(R, "h", d, "g", true), -CUB_EEXIST);
	/* Replacing one name drops it, the file lives on by the other. */
	g = mkfile(R, "g");
	assert_int_equal(mv(R, "g", R, "h", false), 0);
	assert_int_equal(nlink(f), 1);
	assert_ptr_equal(lk(R, "h"), g);
	/* A held file with no name left cannot get one back. */
	cubi_ramfs_get(f);
	assert_int_equal(rm(d, "g", false), 0);
	assert_int_equal(nlink(f), 0);
	assert_int_equal(ln(f, R, "back"), -CUB_ENOENT);
	expect_data(f, "shared", 6);
	cubi_ramfs_put(f);
	/* Links, sockets, devices take hard links too. */
	l = mklink(R, "l", "target");
	assert_int_equal(ln(l, d, "l2"), 0);
	assert_int_equal(nlink(l), 2);
	expect_target(lk(d, "l2"), "target");
	assert_int_equal(cubi_ramfs_mknod(R, "null", 4, 0666, 0x103, &g), 0);
	assert_int_equal(ln(g, d, "null"), 0);
	assert_int_equal(nlink(g), 2);
	/* Names in many directories: reset frees all (teardown checks). */
	for (int i = 0; i < 20; i++) {
		char name[8];

		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(ln(lk(R, "h"), i % 2 ? d : R, name), 0);
	}
	assert_int_equal(nlink(lk(R, "h")), 21);
}

/* A deep tree (reset is not recursive) with held nodes in it. */
static void test_reset(void **state)
{
	struct cubi_rnode *d = R, *held_dir = NULL, *held_file = NULL;
	char name[16];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "f%d", i % 3);
		put_str(mkfile(d, name), "data", 0);
		d = mkdir_(d, "sub");
		if (i == 1500) {
			held_dir = d;
			held_file = lk(cubi_ramfs_parent(d), "f0");
			cubi_ramfs_get(held_dir);
			cubi_ramfs_get(held_file);
		}
	}
	cubi_ramfs_reset();
	expect_listing(R, ". ..");
	assert_int_equal(nlink(R), 2);
	/* The held nodes live on, removed. */
	assert_int_equal(nlink(held_dir), 0);
	assert_int_equal(nlink(held_file), 0);
	expect_data(held_file, "data", 4);
	assert_ptr_equal(cubi_ramfs_parent(held_dir), held_dir);
	cubi_ramfs_put(held_dir);
	cubi_ramfs_put(held_file);
	assert_int_equal(heap_blocks(), base_blocks);
	/* The root works as before. */
	mkfile(R, "again");
	expect_listing(R, ". .. again");
}

/* ----------------------------------------------------------------- cpio */

struct arc {
	unsigned char buf[1 << 16];
	size_t len;
};

static void arc_pad(struct arc *a)
{
	while (a->len % 4)
		a->buf[a->len++] = 0;
}

static uint32_t arc_ino, arc_nlink;	/* arc_hard's, for one entry */

/* Appends a newc entry; namesize and filesize may be forced (> 0). Its
 * ino is unique (its offset) and nlink 1, unless arc_hard sets them. */
static void arc_raw(struct arc *a, const char *magic, const char *name,
		    uint32_t mode, uint32_t mtime, const void *data,
		    size_t size, uint32_t namesize, uint32_t filesize)
{
	char hdr[111];
	size_t nl = strlen(name) + 1;

	assert_true(a->len + 110 + nl + size + 8 < sizeof(a->buf));
	snprintf(hdr, sizeof(hdr), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X"
		 "%08X%08X%08X", magic, arc_ino ? arc_ino : (unsigned)a->len,
		 mode, 0u, 0u, arc_nlink ? arc_nlink : 1u,
		 mtime, filesize ? filesize : (uint32_t)size, 0u, 0u, 0u, 0u,
		 namesize ? namesize : (uint32_t)nl, 0u);
	arc_ino = arc_nlink = 0;
	assert_int_equal(strlen(hdr), 110);
	memcpy(a->buf + a->len, hdr, 110);
	a->len += 110;
	memcpy(a->buf + a->len, name, nl);
	a->len += nl;
	arc_pad(a);
	if (size)
		memcpy(a->buf + a->len, data, size);
	a->len += size;
	arc_pad(a);
}

static void arc_add(struct arc *a, const char *name, uint32_t mode,
		    uint32_t mtime, const char *data)
{
	arc_raw(a, "070701", name, mode, mtime, data, data ? strlen(data) : 0,
		0, 0);
}

/* One name of a file with nlink names sharing inode ino. */
static void arc_hard(struct arc *a, const char *name, uint32_t ino,
		     uint32_t nlink, uint32_t mtime, const char *data)
{
	arc_ino = ino;
	arc_nlink = nlink;
	arc_add(a, name, CUBI_S_IFREG | 0644, mtime, data);
}

static void arc_end(struct arc *a)
{
	arc_add(a, "TRAILER!!!", 0, 0, NULL);
}

/* Unpacks a copy of the first len bytes in a block of exactly len bytes,
 * so that ASan catches any read past the end. */
static long unpack_n(const struct arc *a, size_t len, unsigned *skipped)
{
	void *copy = malloc(len ? len : 1);
	long r;

	memcpy(copy, a->buf, len);
	r = cubi_cpio_unpack(copy, len, R, skipped);
	free(copy);
	return r;
}

static long unpack(const struct arc *a, unsigned *skipped)
{
	return unpack_n(a, a->len, skipped);
}

/* The node at slash-separated path p under the root, or NULL. */
static struct cubi_rnode *at(const char *p)
{
	char buf[256], *save = NULL, *c;
	struct cubi_rnode *n = R;

	snprintf(buf, sizeof(buf), "%s", p);
	for (c = strtok_r(buf, "/", &save); c && n; c = strtok_r(NULL, "/", &save))
		n = cubi_ramfs_is_dir(n) ? lk(n, c) : NULL;
	return n;
}

static uint64_t mtime_of(struct cubi_rnode *n)
{
	return st_of(n).mtime;
}

static uint32_t mode_of(struct cubi_rnode *n)
{
	return st_of(n).mode;
}

static void test_cpio_basic(void **state)
{
	static struct arc a;
	unsigned skipped = 99;

	(void)state;
	a.len = 0;
	arc_add(&a, ".", CUBI_S_IFDIR | 0755, 5, NULL);
	arc_add(&a, "etc", CUBI_S_IFDIR | 0700, 100, NULL);
	arc_add(&a, "etc/hosts", CUBI_S_IFREG | 0644, 200, "127.0.0.1 localhost\n");
	arc_add(&a, "./bin/tool", CUBI_S_IFREG | 0755, 300, "\x7f" "ELF....");
	arc_add(&a, "/abs/x/./y", CUBI_S_IFREG | 0600, 400, "");
	arc_add(&a, "etc/link", 0120777, 1, "hosts");		/* symlink */
	arc_add(&a, "dev/null", 0020666, 1, NULL);		/* char device */
	arc_add(&a, "fifo", 0010644, 1, NULL);			/* fifo */
	arc_raw(&a, "070702", "sum", CUBI_S_IFREG | 0444, 500, "abc", 3, 0, 0);
	arc_add(&a, "etc/sub", CUBI_S_IFDIR | 0750, 600, NULL);
	arc_add(&a, "etc/sub/deep", CUBI_S_IFREG | 0644, 700, "d");
	arc_end(&a);
	arc_add(&a, "after", CUBI_S_IFREG | 0644, 1, "not unpacked");
	assert_int_equal(unpack(&a, &skipped), 8);
	assert_int_equal(skipped, 2);

	assert_non_null(at("etc"));
	assert_int_equal(mode_of(at("etc")), CUBI_S_IFDIR | 0700);
	/* Directory mtimes survive the entries created in them later. */
	assert_int_equal(mtime_of(at("etc")), 100 * 1000000000ull);
	assert_int_equal(mtime_of(at("etc/sub")), 600 * 1000000000ull);
	assert_int_equal(mode_of(at("etc/hosts")), CUBI_S_IFREG | 0644);
	assert_int_equal(mtime_of(at("etc/hosts")), 200 * 1000000000ull);
	expect_data(at("etc/hosts"), "127.0.0.1 localhost\n", 20);
	/* Missing parents were made (0755). */
	assert_int_equal(mode_of(at("bin")), CUBI_S_IFDIR | 0755);
	expect_data(at("bin/tool"), "\x7f" "ELF....", 8);
	assert_int_equal(mode_of(at("bin/tool")), CUBI_S_IFREG | 0755);
	assert_non_null(at("abs/x"));
	expect_data(at("abs/x/y"), "", 0);
	assert_int_equal(mode_of(at("abs/x/y")), CUBI_S_IFREG | 0600);
	expect_data(at("sum"), "abc", 3);
	expect_data(at("etc/sub/deep"), "d", 1);
	expect_target(at("etc/link"), "hosts");
	assert_int_equal(mtime_of(at("etc/link")), 1000000000ull);
	assert_null(at("dev"));
	assert_null(at("fifo"));
	assert_null(at("after"));
	/* "." changed nothing of the root. */
	assert_int_equal(mode_of(R), CUBI_S_IFDIR | 0755);
	expect_listing(R, ". .. etc bin abs sum");
	expect_listing(at("etc"), ". .. hosts link sub");
	assert_int_equal(unpack(&a, NULL), 8);		/* NULL skipped */
}

static void test_cpio_replace(void **state)
{
	static struct arc a;
	struct cubi_rnode *old;
	uint64_t dir_ino;

	(void)state;
	old = mkfile(R, "f");
	put_str(old, "the old, longer content", 0);
	mkfile(R, "was_file");
	dir_ino = ino(mkdir_(R, "was_dir"));
	mkdir_(R, "keep");
	mkfile(at("keep"), "inside");
	a.len = 0;
	arc_add(&a, "f", CUBI_S_IFREG | 0600, 10, "new");
	arc_add(&a, "was_file", CUBI_S_IFDIR | 0711, 20, NULL);
	arc_add(&a, "was_dir", CUBI_S_IFREG | 0644, 30, "now a file");
	arc_add(&a, "keep", CUBI_S_IFDIR | 0701, 40, NULL);
	arc_add(&a, "f", CUBI_S_IFREG | 0640, 50, "newer");	/* twice */
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), 5);
	expect_data(at("f"), "newer", 5);
	assert_int_equal(mode_of(at("f")), CUBI_S_IFREG | 0640);
	assert_int_equal(mtime_of(at("f")), 50 * 1000000000ull);
	assert_true(cubi_ramfs_is_dir(at("was_file")));
	assert_int_equal(mode_of(at("was_file")), CUBI_S_IFDIR | 0711);
	assert_true(ino(at("was_dir")) != dir_ino);	/* a new node */
	expect_data(at("was_dir"), "now a file", 10);
	/* An existing directory is kept, with the archive's mode and time. */
	assert_non_null(at("keep/inside"));
	assert_int_equal(mode_of(at("keep")), CUBI_S_IFDIR | 0701);
	assert_int_equal(mtime_of(at("keep")), 40 * 1000000000ull);

	/* A file cannot replace a non-empty directory, nor be a parent. */
	a.len = 0;
	arc_add(&a, "keep", CUBI_S_IFREG | 0644, 1, "x");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
	assert_non_null(at("keep/inside"));
	a.len = 0;
	arc_add(&a, "f/below", CUBI_S_IFREG | 0644, 1, "x");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
	expect_data(at("f"), "newer", 5);
}

/* Symbolic links and hard links in archives (newc as GNU cpio and the
 * kernel's gen_init_cpio write them). */
static void test_cpio_links(void **state)
{
	static struct arc a;
	struct cubi_rnode *old;

	(void)state;
	old = mkfile(R, "was_file");
	put_str(old, "old", 0);
	assert_int_equal(ln(old, R, "keeps_old"), 0);
	mkdir_(R, "was_dir");
	a.len = 0;
	arc_add(&a, "d", CUBI_S_IFDIR | 0755, 1, NULL);
	/* GNU cpio: the data with the last name, size 0 before. */
	arc_hard(&a, "d/a", 77, 3, 10, NULL);
	arc_hard(&a, "c", 77, 3, 10, NULL);
	arc_hard(&a, "d/b", 77, 3, 10, "hello\n");
	/* gen_init_cpio: the data with the first. */
	arc_hard(&a, "x", 78, 2, 20, "first");
	arc_hard(&a, "y", 78, 2, 20, NULL);
	arc_add(&a, "d/s", 0120777, 30, "a");			/* no NUL */
	arc_raw(&a, "070701", "abs", 0120777, 31, "/d/b\0junk", 9, 0, 0);
	arc_add(&a, "was_file", 0120777, 32, "d/a");		/* replaces */
	arc_add(&a, "was_dir", 0120777, 33, "d");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), 10);
	assert_ptr_equal(at("d/a"), at("c"));
	assert_ptr_equal(at("d/a"), at("d/b"));
	assert_int_equal(nlink(at("c")), 3);
	expect_data(at("c"), "hello\n", 6);
	assert_int_equal(mtime_of(at("c")), 10 * 1000000000ull);
	assert_ptr_equal(at("x"), at("y"));
	assert_int_equal(nlink(at("x")), 2);
	expect_data(at("y"), "first", 5);
	assert_ptr_not_equal(at("x"), at("c"));
	expect_target(at("d/s"), "a");
	assert_int_equal(mtime_of(at("d/s")), 30 * 1000000000ull);
	expect_target(at("abs"), "/d/b");
	expect_target(at("was_file"), "d/a");
	expect_target(at("was_dir"), "d");
	/* The replaced file's other name still has the old content. */
	expect_data(at("keeps_old"), "old", 3);
	assert_int_equal(nlink(at("keeps_old")), 1);

	/* A file entry over a link replaces the link (never writes through
	 * it), and a hard-link set unpacked twice stays one file. */
	a.len = 0;
	arc_add(&a, "d/s", CUBI_S_IFREG | 0600, 40, "now a file");
	arc_hard(&a, "d/a", 90, 2, 41, NULL);
	arc_hard(&a, "d/a2", 90, 2, 41, "again");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), 3);
	expect_data(at("d/s"), "now a file", 10);
	expect_data(at("d/b"), "hello\n", 6);		/* not through d/a */
	assert_ptr_equal(at("d/a"), at("d/a2"));
	expect_data(at("d/a2"), "again", 5);
	assert_int_equal(nlink(at("c")), 2);		/* c and d/b */

	/* Bad links: an empty target, one too long, a link as a parent. */
	a.len = 0;
	arc_add(&a, "e", 0120777, 1, "");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
	assert_null(at("e"));
	a.len = 0;
	arc_raw(&a, "070701", "e", 0120777, 1, "\0x", 2, 0, 0);
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
	a.len = 0;
	{
		static char longt[CUBI_SYMLINK_MAX + 2];

		memset(longt, 'a', sizeof(longt) - 1);
		arc_add(&a, "e", 0120777, 1, longt);
	}
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
	assert_null(at("e"));
	a.len = 0;
	arc_add(&a, "was_dir/below", CUBI_S_IFREG | 0644, 1, "x");
	arc_end(&a);
	assert_int_equal(unpack(&a, NULL), -CUB_EINVAL);
}

/* What GNU cpio itself writes (when it is installed): a tree with hard
 * links and symbolic links, packed as scripts/run packs --files. */
static void test_cpio_gnu(void **state)
{
	char dir[] = "/tmp/cubrt_cpio_XXXXXX", cmd[512];
	static unsigned char arc[1 << 16];
	size_t len;
	FILE *p;

	(void)state;
	if (system("cpio --version >/dev/null 2>&1") != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && mkdir d && printf hello > d/a && "
		 "ln d/a d/b && ln d/a c && ln -s a d/s && ln -s /d/b abs && "
		 "ln -s missing dangling && ln d/s d/s2", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && find . -mindepth 1 | LC_ALL=C sort | "
		 "cpio -o -H newc --quiet", dir);
	assert_non_null(p = popen(cmd, "r"));
	len = fread(arc, 1, sizeof(arc), p);
	assert_int_equal(pclose(p), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_true(len > 0 && len < sizeof(arc));
	{
		void *copy = malloc(len);	/* exactly len: ASan sees overreads */
		long r;

		memcpy(copy, arc, len);
		r = cubi_cpio_unpack(copy, len, R, NULL);
		free(copy);
		assert_int_equal(r, 8);		/* every entry */
	}
	assert_ptr_equal(at("d/a"), at("d/b"));
	assert_ptr_equal(at("d/a"), at("c"));
	assert_int_equal(nlink(at("c")), 3);
	expect_data(at("d/b"), "hello", 5);
	expect_target(at("d/s"), "a");
	expect_target(at("abs"), "/d/b");
	expect_target(at("dangling"), "missing");
	/* GNU cpio sends a hard-linked symlink as two links. */
	expect_target(at("d/s2"), "a");
}

/* A malformed archive: EINVAL, after unpacking the entries before. */
static void expect_bad(const struct arc *a, size_t len)
{
	cubi_ramfs_reset();
	assert_int_equal(unpack_n(a, len, NULL), -CUB_EINVAL);
	expect_data(at("good"), "ok", 2);
}

/* One good entry then, in `bad`, whatever comes next. */
static void start(struct arc *a)
{
	a->len = 0;
	arc_add(a, "good", CUBI_S_IFREG | 0644, 1, "ok");
}

/* Headers: bad magic, fields that are not hex. */
static void test_cpio_bad_header(void **state)
{
	static struct arc a;
	size_t at2;

	(void)state;
	/* Bad magic (the old "odc" one, and junk). */
	start(&a);
	arc_raw(&a, "070707", "x", CUBI_S_IFREG, 1, "", 0, 0, 0);
	arc_end(&a);
	expect_bad(&a, a.len);
	start(&a);
	arc_raw(&a, "07070X", "x", CUBI_S_IFREG, 1, "", 0, 0, 0);
	expect_bad(&a, a.len);
	/* A field that is not hex, in the first and the last field. */
	start(&a);
	at2 = a.len;
	arc_add(&a, "x", CUBI_S_IFREG | 0644, 1, "data");
	arc_end(&a);
	a.buf[at2 + 6 + 3] = 'G';
	expect_bad(&a, a.len);
	a.buf[at2 + 6 + 3] = '0';
	a.buf[at2 + 109] = ' ';
	expect_bad(&a, a.len);
	a.buf[at2 + 109] = '0';
	cubi_ramfs_reset();
	assert_int_equal(unpack(&a, NULL), 2);		/* repaired */
}

/* namesize and filesize running past the end, names without their NUL. */
static void test_cpio_bad_sizes(void **state)
{
	static struct arc a;
	size_t at2;

	(void)state;
	/* namesize past the end (just past, and huge), and zero. */
	start(&a);
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "", 0, 200, 0);
	expect_bad(&a, a.len);
	start(&a);
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "", 0, 0xffffffff, 0);
	expect_bad(&a, a.len);
	start(&a);
	at2 = a.len;
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "", 0, 0, 0);
	a.len = at2 + 110 + 1;		/* cut right inside the name */
	expect_bad(&a, a.len);
	start(&a);
	at2 = a.len;
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "", 0, 0, 0);
	memcpy(a.buf + at2 + 6 + 8 * 11, "00000000", 8);	/* namesize 0 */
	expect_bad(&a, a.len);
	/* A name whose namesize does not end at its NUL. */
	start(&a);
	arc_raw(&a, "070701", "abcdef", CUBI_S_IFREG, 1, "", 0, 3, 0);
	arc_end(&a);
	expect_bad(&a, a.len);
	/* filesize past the end (just past, and huge). */
	start(&a);
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "abcd", 4, 0, 9);
	expect_bad(&a, a.len);
	start(&a);
	arc_raw(&a, "070701", "x", CUBI_S_IFREG, 1, "abcd", 4, 0, 0xffffffff);
	arc_end(&a);
	expect_bad(&a, a.len);
}

/* Path components: "..", empty, too long (skipped types too). */
static void test_cpio_bad_paths(void **state)
{
	static struct arc a;
	char longname[CUBI_NAME_MAX + 8];
	const char *bad_names[] = { "..", "../x", "a/../b", "a/..", "a//b",
				    "a/", "" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		start(&a);
		arc_add(&a, bad_names[i], CUBI_S_IFREG | 0644, 1, "x");
		arc_end(&a);
		expect_bad(&a, a.len);
		assert_null(at("a"));	/* nothing of the bad entry made */
	}
	memset(longname, 'n', CUBI_NAME_MAX + 1);
	longname[CUBI_NAME_MAX + 1] = '\0';
	start(&a);
	arc_add(&a, longname, CUBI_S_IFREG | 0644, 1, "x");
	arc_end(&a);
	expect_bad(&a, a.len);
	/* The same check holds for skipped types. */
	start(&a);
	arc_add(&a, "../link", 0120777, 1, "x");
	arc_end(&a);
	expect_bad(&a, a.len);
}

/* A truncated header (the first one, and a later one). */
static void test_cpio_truncated(void **state)
{
	static struct arc a;

	(void)state;
	start(&a);
	arc_end(&a);
	expect_bad(&a, a.len - 20);
	a.len = 0;
	arc_add(&a, "x", CUBI_S_IFREG | 0644, 1, "x");
	cubi_ramfs_reset();
	assert_int_equal(unpack_n(&a, 50, NULL), -CUB_EINVAL);
	assert_null(at("x"));
}

/* Every prefix of an archive and random corruptions: EINVAL or a count,
 * never a crash or a read out of bounds (ASan). */
static void test_cpio_fuzz(void **state)
{
	static struct arc a, b;
	unsigned seed = 12345;

	(void)state;
	a.len = 0;
	arc_add(&a, "d", CUBI_S_IFDIR | 0755, 1, NULL);
	arc_add(&a, "d/f", CUBI_S_IFREG | 0644, 2, "hello");
	arc_add(&a, "./d/e/g", CUBI_S_IFREG | 0644, 3, "world!");
	arc_add(&a, "l", 0120777, 4, "d/f");
	arc_end(&a);
	for (size_t len = 0; len <= a.len; len++) {
		long r;

		cubi_ramfs_reset();
		r = unpack_n(&a, len, NULL);
		assert_true(r == -CUB_EINVAL || (r >= 0 && r <= 4));
	}
	for (int i = 0; i < 2000; i++) {
		long r;

		b = a;
		for (int k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			b.buf[(seed >> 8) % b.len] = (unsigned char)(seed >> 20);
		}
		cubi_ramfs_reset();
		r = unpack_n(&b, b.len, NULL);
		assert_true(r == -CUB_EINVAL || (r >= 0 && r <= 4));
	}
}

/* ----------------------------------------------------------------- model */

#define MD 3			/* directories: /m0, /m1, /m1/m2 */
#define MN 40			/* names in each (mname): up to 64 buckets */
#define MF (MD * MN + MH)	/* model files */
#define MAXF 512		/* model file size bound */
#define MH 4			/* held handles */
#define STEPS 16000
#define PHASE 2000		/* steps filling, then draining, ... */

enum { NONE, FILE_, DIR_, LINK_ };

struct mfile {
	unsigned char data[MAXF];
	size_t size;
	int refs;		/* names + holds; 0: slot free */
	struct cubi_rnode *node;
};

struct ment {
	int kind;
	int file;			/* FILE_: index in mf */
	uint64_t seq;			/* listing order */
	struct cubi_rnode *node;	/* FILE_ and LINK_: shared by hard links */
	char target[8];			/* LINK_ */
};

static struct mfile mf[MF];
static struct ment me[MD][MN];
static int held[MH];			/* file index or -1 */
static struct cubi_rnode *mdir[MD];
static uint64_t mseq, seed;
static int step_no;
static char mname[MN][24];		/* n0, name-1, a-longer-name-2, n3, ... */
static size_t mlen[MN];

#define MCHECK(c)							\
	do {								\
		if (!(c)) {						\
			print_error("model: seed %llu step %d: %s (line %d)\n", \
				    (unsigned long long)seed, step_no, #c, __LINE__); \
			fail();						\
		}							\
	} while (0)

static int mf_new(struct cubi_rnode *n)
{
	for (int i = 0; i < MF; i++)
		if (mf[i].refs == 0) {
			mf[i].size = 0;
			mf[i].refs = 1;
			mf[i].node = n;
			return i;
		}
	fail_msg("model: out of file slots");
	return -1;
}

static void mf_write(int i, const unsigned char *buf, size_t len, size_t off)
{
	struct mfile *m = &mf[i];

	if (off > m->size)
		memset(m->data + m->size, 0, off - m->size);
	memcpy(m->data + off, buf, len);
	if (off + len > m->size)
		m->size = off + len;
}

/* Drops a name from a model entry. */
static void me_clear(struct ment *e)
{
	if (e->kind == FILE_)
		mf[e->file].refs--;
	e->kind = NONE;
}

static void op_create(int d, int k, bool dir)
{
	struct ment *e = &me[d][k];
	struct cubi_rnode *n = NULL;
	int rc = cubi_ramfs_create(mdir[d], mname[k], mlen[k],
				   dir ? CUBI_S_IFDIR | 0755 : CUBI_S_IFREG | 0644,
				   &n);

	if (e->kind != NONE) {
		MCHECK(rc == -CUB_EEXIST && n == e->node);
		return;
	}
	MCHECK(rc == 0);
	e->kind = dir ? DIR_ : FILE_;
	e->node = n;
	e->seq = mseq++;
	if (!dir)
		e->file = mf_new(n);
}

static void op_unlink(int d, int k, bool rmdir)
{
	struct ment *e = &me[d][k];
	int rc = cubi_ramfs_unlink(mdir[d], mname[k], mlen[k], rmdir);

	if (e->kind == NONE)
		MCHECK(rc == -CUB_ENOENT);
	else if (e->kind != DIR_ && rmdir)
		MCHECK(rc == -CUB_ENOTDIR);
	else if (e->kind == DIR_ && !rmdir)
		MCHECK(rc == -CUB_EISDIR);
	else {
		MCHECK(rc == 0);	/* model directories stay empty */
		me_clear(e);
	}
}

static void op_rename(int fd, int fk, int td, int tk, bool noreplace)
{
	struct ment *s = &me[fd][fk], *t = &me[td][tk];
	int rc = cubi_ramfs_rename(mdir[fd], mname[fk], mlen[fk], mdir[td],
				   mname[tk], mlen[tk], noreplace);
	int want = 0;

	bool same = s->kind != NONE && t->kind != NONE && s->node == t->node;

	if (s->kind == NONE)
		want = -CUB_ENOENT;
	else if (t->kind != NONE && noreplace)
		want = -CUB_EEXIST;
	else if (same)		/* one name, or two names of one node */
		want = 0;
	else if (t->kind == DIR_ && s->kind != DIR_)
		want = -CUB_EISDIR;
	else if (t->kind != DIR_ && t->kind != NONE && s->kind == DIR_)
		want = -CUB_ENOTDIR;
	MCHECK(rc == want);
	if (rc || same)
		return;
	me_clear(t);
	*t = *s;
	t->seq = mseq++;
	s->kind = NONE;
}

/* Another name t for the node of entry s (a hard link). */
static void op_link(int fd, int fk, int td, int tk)
{
	struct ment *s = &me[fd][fk], *t = &me[td][tk];
	int rc;

	if (s->kind == NONE)
		return;
	rc = cubi_ramfs_link(s->node, mdir[td], mname[tk], mlen[tk]);
	if (t->kind != NONE) {
		MCHECK(rc == -CUB_EEXIST);
	} else if (s->kind == DIR_) {
		MCHECK(rc == -CUB_EPERM);
	} else {
		MCHECK(rc == 0);
		*t = *s;
		t->seq = mseq++;
		if (t->kind == FILE_)
			mf[t->file].refs++;
	}
}

static void op_symlink(int d, int k)
{
	struct ment *e = &me[d][k];
	struct cubi_rnode *n = NULL;
	char target[8];
	int len = snprintf(target, sizeof(target), "t%d", (int)rnd(1000));
	int rc = cubi_ramfs_symlink(mdir[d], mname[k], mlen[k], target,
				    (size_t)len, &n);

	if (e->kind != NONE) {
		MCHECK(rc == -CUB_EEXIST && n == e->node);
		return;
	}
	MCHECK(rc == 0);
	e->kind = LINK_;
	e->node = n;
	e->seq = mseq++;
	memcpy(e->target, target, sizeof(target));
}

/* Name k of directory d finds what the model has there. */
static void op_lookup(int d, int k)
{
	struct cubi_rnode *n = NULL;
	int rc = cubi_ramfs_lookup(mdir[d], mname[k], mlen[k], &n);

	if (me[d][k].kind == NONE)
		MCHECK(rc == -CUB_ENOENT);
	else
		MCHECK(rc == 0 && n == me[d][k].node);
}

/* The names the model gives node n. */
static uint32_t model_names(const struct cubi_rnode *n)
{
	uint32_t c = 0;

	for (int d = 0; d < MD; d++)
		for (int k = 0; k < MN; k++)
			c += me[d][k].kind != NONE && me[d][k].node == n;
	return c;
}

/* A random existing file: a name or a handle; -1 if none. */
static int pick_file(void)
{
	int d = (int)rnd(MD), k = (int)rnd(MN), h = (int)rnd(MH);

	if (rnd(4) == 0 && held[h] >= 0)
		return held[h];
	return me[d][k].kind == FILE_ ? me[d][k].file : -1;
}

static void op_write(void)
{
	unsigned char buf[100];
	int i = pick_file();
	size_t off = rnd(300), len = rnd(100);

	if (i < 0)
		return;
	for (size_t j = 0; j < len; j++)
		buf[j] = (unsigned char)rnd(256);
	MCHECK(cubi_ramfs_write(mf[i].node, buf, len, off) == (long)len);
	if (len)
		mf_write(i, buf, len, off);
}

static void op_truncate(void)
{
	int i = pick_file();
	size_t size = rnd(MAXF);

	if (i < 0)
		return;
	MCHECK(cubi_ramfs_truncate(mf[i].node, size) == 0);
	if (size > mf[i].size)
		memset(mf[i].data + mf[i].size, 0, size - mf[i].size);
	mf[i].size = size;
}

static void op_hold(void)
{
	int h = (int)rnd(MH), i;

	if (held[h] >= 0) {
		cubi_ramfs_put(mf[held[h]].node);
		mf[held[h]].refs--;
		held[h] = -1;
	} else if ((i = pick_file()) >= 0) {
		cubi_ramfs_get(mf[i].node);
		mf[i].refs++;
		held[h] = i;
	}
}

static void check_file(int i)
{
	unsigned char buf[MAXF + 16];
	struct cubi_rstat st;
	size_t off = rnd(MAXF);

	cubi_ramfs_stat(mf[i].node, &st);
	MCHECK(st.size == mf[i].size);
	MCHECK(cubi_ramfs_read(mf[i].node, buf, sizeof(buf), 0) ==
	       (long)mf[i].size);
	MCHECK(memcmp(buf, mf[i].data, mf[i].size) == 0);
	MCHECK(cubi_ramfs_read(mf[i].node, buf, 7, off) ==
	       (long)(off >= mf[i].size ? 0 : CUB_MIN(7, mf[i].size - off)));
}

/* Directory d lists its model entries in seq order; stat agrees. */
static void check_dir(int d)
{
	struct cubi_rdirent e;
	struct ment *want[MN];
	uint64_t cookie = 2;	/* after "." and ".." */
	int n = 0, got = 0, subdirs = 0;

	for (int k = 0; k < MN; k++) {
		if (me[d][k].kind == NONE)
			continue;
		subdirs += me[d][k].kind == DIR_;
		int j = n++;
		while (j > 0 && want[j - 1]->seq > me[d][k].seq) {
			want[j] = want[j - 1];
			j--;
		}
		want[j] = &me[d][k];
	}
	while (cubi_ramfs_readdir(mdir[d], &cookie, &e) == 1) {
		if (d == 1 && strcmp(e.name, "m2") == 0)
			continue;	/* /m1/m2 is no model entry */
		MCHECK(got < n);
		MCHECK(strcmp(e.name, mname[want[got] - me[d]]) == 0);
		MCHECK(e.ino == ino(want[got]->node));
		MCHECK(e.mode == (want[got]->kind == DIR_ ? CUBI_S_IFDIR :
				  want[got]->kind == LINK_ ? CUBI_S_IFLNK
							   : CUBI_S_IFREG));
		got++;
	}
	MCHECK(got == n);
	MCHECK(nlink(mdir[d]) == (uint32_t)(2 + subdirs + (d == 1)));
	for (int k = 0; k < MN; k++)
		op_lookup(d, k);
	/* the index's size: none up to 8 entries, else 1/4 to 1 a bucket */
	n += d == 1;
	if (cubi_ramfs_buckets(mdir[d]) == 0)
		MCHECK(n <= 8);
	else
		MCHECK((uint32_t)n <= cubi_ramfs_buckets(mdir[d]) &&
		       (uint32_t)n >= cubi_ramfs_buckets(mdir[d]) / 4);
}

static void check_all(void)
{
	for (int d = 0; d < MD; d++) {
		check_dir(d);
		for (int k = 0; k < MN; k++) {
			struct ment *e = &me[d][k];

			size_t len = 0;
			const char *t;

			if (e->kind == FILE_) {
				MCHECK(nlink(e->node) == model_names(e->node));
				check_file(e->file);
			} else if (e->kind == DIR_) {
				MCHECK(nlink(e->node) == 2);
			} else if (e->kind == LINK_) {
				MCHECK(nlink(e->node) == model_names(e->node));
				t = cubi_ramfs_link_target(e->node, &len);
				MCHECK(t && len == strlen(e->target) &&
				       strcmp(t, e->target) == 0);
			}
		}
	}
	for (int h = 0; h < MH; h++)
		if (held[h] >= 0)
			check_file(held[h]);
}

static void model_step(void)
{
	int r = (int)rnd(100);

	if (rnd(2) == 0) {	/* the phase's bias: fill or drain */
		int d = (int)rnd(MD), k = (int)rnd(MN);

		if ((step_no / PHASE) % 2 == 0)
			op_create(d, k, rnd(5) == 0);
		else	/* mostly the right call for what is there */
			op_unlink(d, k, (me[d][k].kind == DIR_) != (rnd(8) == 0));
		return;
	}
	if (r < 8) {		/* then the rest as they were, afresh */
		op_lookup((int)rnd(MD), (int)rnd(MN));
		return;
	}
	r = (int)rnd(100);
	if (r < 12)
		op_create((int)rnd(MD), (int)rnd(MN), rnd(5) == 0);
	else if (r < 17)
		op_link((int)rnd(MD), (int)rnd(MN), (int)rnd(MD), (int)rnd(MN));
	else if (r < 20)
		op_symlink((int)rnd(MD), (int)rnd(MN));
	else if (r < 40)
		op_write();
	else if (r < 50)
		op_truncate();
	else if (r < 62)
		op_unlink((int)rnd(MD), (int)rnd(MN), rnd(4) == 0);
	else if (r < 82)
		op_rename((int)rnd(MD), (int)rnd(MN), (int)rnd(MD), (int)rnd(MN),
			  rnd(4) == 0);
	else if (r < 90)
		op_hold();
	else {
		int i = pick_file();

		if (i >= 0)
			check_file(i);
	}
}

static void test_model(void **state)
{
	const char *env = getenv("CUBRT_SEED");

	(void)state;
	seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
	print_message("test_model: CUBRT_SEED=%llu\n", (unsigned long long)seed);
	rng = seed ? seed : 1;
	for (int k = 0; k < MN; k++)
		mlen[k] = (size_t)snprintf(mname[k], sizeof(mname[k]), "%s%d",
					   k % 3 == 0 ? "n" : k % 3 == 1 ? "name-"
					   : "a-longer-name-", k);
	memset(mf, 0, sizeof(mf));
	memset(me, 0, sizeof(me));
	for (int h = 0; h < MH; h++)
		held[h] = -1;
	mdir[0] = mkdir_(R, "m0");
	mdir[1] = mkdir_(R, "m1");
	mdir[2] = mkdir_(mdir[1], "m2");
	for (step_no = 0; step_no < STEPS; step_no++) {
		model_step();
		if (step_no % 64 == 0)
			check_all();
	}
	check_all();
	for (int h = 0; h < MH; h++)
		if (held[h] >= 0)
			cubi_ramfs_put(mf[held[h]].node);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mknod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_held_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_of, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_times, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chmod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_gnu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_bad_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_bad_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpio_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model, setup, teardown),
	};

	cubi_mem_init();	/* nodes and file data live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
