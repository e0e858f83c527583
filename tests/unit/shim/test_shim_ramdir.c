/*
 * test_shim_ramdir.c - large directories of the shim's in-memory file
 * system (ramfs.h), called directly: the name index (ramfs_hash.c) grows
 * and shrinks at its boundaries (no table up to 8 entries, 16 buckets
 * past that, doubling past one entry a bucket, halving under a quarter,
 * gone under 4 entries); 20,000 names all found, then removed in random
 * order ($CUBRT_SEED, printed) with every remaining name found; listings
 * that list every entry exactly once while the table grows or shrinks
 * under them; renames and hard links among thousands of names; and the
 * heap run dry (every frame and every heap block taken): a table that
 * cannot grow, or cannot be made, leaves the call succeeding and every
 * name found, and a call that cannot get its node or name fails with
 * -CUB_ENOMEM leaving the tree as it was.
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

#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include "ramfs.h"
#include "ramfix.h"

#define BIG 20000


static void seed_rng(const char *test)
{
	const char *env = getenv("CUBRT_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);

	print_message("%s: CUBRT_SEED=%llu\n", test, (unsigned long long)seed);
	rng = seed ? seed : 1;
}

/* Name i: lengths vary from 3 to 12 bytes. */
static size_t name_of(char *buf, unsigned i)
{
	static const char *pre[] = { "f", "obj", "cache-", "x_" };

	return (size_t)snprintf(buf, 32, "%s%u", pre[i % 4], i);
}

static struct cubi_rnode *mk(struct cubi_rnode *dir, unsigned i, uint32_t mode)
{
	struct cubi_rnode *n = NULL;
	char name[32];
	size_t len = name_of(name, i);

	assert_int_equal(cubi_ramfs_create(dir, name, len, mode, &n), 0);
	return n;
}

static struct cubi_rnode *mkdir_(struct cubi_rnode *dir, const char *name)
{
	struct cubi_rnode *n = NULL;

	assert_int_equal(cubi_ramfs_create(dir, name, strlen(name),
					   CUBI_S_IFDIR | 0755, &n), 0);
	return n;
}

/* Name i of dir: its node, or NULL. */
static struct cubi_rnode *look(struct cubi_rnode *dir, unsigned i)
{
	struct cubi_rnode *n = NULL;
	char name[32];
	size_t len = name_of(name, i);
	int rc = cubi_ramfs_lookup(dir, name, len, &n);

	assert_true(rc == 0 || rc == -CUB_ENOENT);
	return rc ? NULL : n;
}

static void rm(struct cubi_rnode *dir, unsigned i)
{
	char name[32];
	size_t len = name_of(name, i);

	assert_int_equal(cubi_ramfs_unlink(dir, name, len, false), 0);
}

static uint32_t entries(struct cubi_rnode *dir)
{
	struct cubi_rstat st;

	cubi_ramfs_stat(dir, &st);
	return (uint32_t)(st.size / 32);
}

/* The table's bounds with memory to spare: none up to 8 entries, else
 * between a quarter and one entry a bucket (the hysteresis aside). */
static void check_load(struct cubi_rnode *dir)
{
	uint32_t n = entries(dir), b = cubi_ramfs_buckets(dir);

	if (b == 0) {
		assert_true(n <= 8);
		return;
	}
	assert_true(b >= 16 && (b & (b - 1)) == 0);
	assert_true(n <= b && n >= b / 4);
}

/* ------------------------------------------------------ growth, shrink */

static void test_boundaries(void **state)
{
	struct cubi_rnode *d = mkdir_(R, "d");
	/* after create i + 1 (i from 0): buckets */
	static const struct { unsigned n; uint32_t b; } up[] = {
		{ 1, 0 }, { 8, 0 }, { 9, 16 }, { 16, 16 }, { 17, 32 },
		{ 32, 32 }, { 33, 64 }, { 64, 64 }, { 65, 128 },
	}, down[] = {	/* after removals down to n entries */
		{ 64, 128 }, { 32, 128 }, { 31, 64 }, { 16, 64 }, { 15, 32 },
		{ 8, 32 }, { 7, 16 }, { 4, 16 }, { 3, 0 }, { 0, 0 },
	};
	unsigned made = 0, k = 0;

	(void)state;
	for (size_t j = 0; j < sizeof(up) / sizeof(up[0]); j++) {
		while (made < up[j].n) {
			mk(d, made++, CUBI_S_IFREG | 0644);
			check_load(d);
		}
		assert_int_equal(cubi_ramfs_buckets(d), up[j].b);
	}
	/* back and forth across the edge: no resize either way */
	for (int k = 0; k < 3; k++) {
		rm(d, --made);
		assert_int_equal(cubi_ramfs_buckets(d), 128);
		mk(d, made++, CUBI_S_IFREG | 0644);
		assert_int_equal(cubi_ramfs_buckets(d), 128);
	}
	for (size_t j = 0; j < sizeof(down) / sizeof(down[0]); j++) {
		while (made - k > down[j].n) {
			rm(d, k++);	/* oldest first: the table, not the list */
			check_load(d);
			if (k < made)
				assert_non_null(look(d, made - 1));
		}
		assert_int_equal(entries(d), down[j].n);
		assert_int_equal(cubi_ramfs_buckets(d), down[j].b);
	}
	/* files have no table */
	assert_int_equal(cubi_ramfs_buckets(mk(d, 0, CUBI_S_IFREG | 0644)), 0);
	rm(d, 0);
	assert_int_equal(cubi_ramfs_unlink(R, "d", 1, true), 0);
}

/* ------------------------------------------- thousands of names, random */

static void test_many_names(void **state)
{
	static struct cubi_rnode *node[BIG];
	static unsigned order[BIG];
	struct cubi_rnode *d = mkdir_(R, "big");

	(void)state;
	seed_rng("test_many_names");
	for (unsigned i = 0; i < BIG; i++) {
		node[i] = mk(d, i, i % 50 ? CUBI_S_IFREG | 0644 : CUBI_S_IFDIR | 0755);
		order[i] = i;
	}
	check_load(d);
	assert_true(cubi_ramfs_buckets(d) >= BIG);
	for (unsigned i = 0; i < BIG; i++)
		assert_ptr_equal(look(d, i), node[i]);
	assert_null(look(d, BIG));
	assert_null(look(R, 5));		/* names of d only */
	for (unsigned i = BIG - 1; i > 0; i--) {	/* shuffle */
		unsigned j = (unsigned)rnd(i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < BIG; k++) {
		unsigned i = order[k];
		char name[32];
		size_t len = name_of(name, i);

		assert_int_equal(cubi_ramfs_unlink(d, name, len, i % 50 == 0), 0);
		node[i] = NULL;
		assert_null(look(d, i));
		check_load(d);
		if (k % 2000 == 0 || BIG - k < 40)
			for (unsigned j = 0; j < BIG; j++)
				assert_ptr_equal(look(d, j), node[j]);
	}
	assert_int_equal(entries(d), 0);
	assert_int_equal(cubi_ramfs_buckets(d), 0);
	assert_int_equal(cubi_ramfs_unlink(R, "big", 3, true), 0);
}

/* --------------------------------------------- listings across a resize */

/* Lists d from *cookie for at most max entries, counting each name seen
 * in seen[] (by its number) and checking that the order only grows. */
static unsigned list_some(struct cubi_rnode *d, uint64_t *cookie,
			  unsigned max, unsigned char *seen, unsigned *last)
{
	struct cubi_rdirent e;
	unsigned got = 0;

	while (got < max && cubi_ramfs_readdir(d, cookie, &e) == 1) {
		unsigned i = 0;

		if (!strcmp(e.name, ".") || !strcmp(e.name, ".."))
			continue;
		/* the number after the prefix */
		i = (unsigned)strtoul(e.name + strcspn(e.name, "0123456789"),
				      NULL, 10);
		assert_true(i < BIG);
		seen[i]++;
		assert_true(*last == UINT32_MAX || i > *last);	/* made in order */
		*last = i;
		got++;
	}
	return got;
}

static void test_readdir_resize(void **state)
{
	static unsigned char seen[BIG];
	struct cubi_rnode *d = mkdir_(R, "d");
	unsigned made = 0, last = UINT32_MAX;
	uint64_t cookie = 0;

	(void)state;
	memset(seen, 0, sizeof(seen));
	while (made < 6)
		mk(d, made++, CUBI_S_IFREG | 0644);
	assert_int_equal(list_some(d, &cookie, 3, seen, &last), 3);	/* 0-2 */
	/* the table is made and doubles nine times under the listing */
	while (made < 5000)
		mk(d, made++, CUBI_S_IFREG | 0644);
	assert_int_equal(cubi_ramfs_buckets(d), 8192);
	assert_int_equal(list_some(d, &cookie, 1000, seen, &last), 1000);
	/* the entry the listing resumes after goes, with most others: the
	 * table halves five times under it */
	rm(d, last);
	for (unsigned i = 3; i < made; i++)
		if (i != last && i % 64 != 0)
			rm(d, i);
	assert_int_equal(entries(d), 3 + 78);
	assert_int_equal(cubi_ramfs_buckets(d), 256);
	while (list_some(d, &cookie, 7, seen, &last) == 7)
		for (int k = 0; k < 40 && made < 5400; k++)
			mk(d, made++, CUBI_S_IFREG | 0644);	/* and grows */
	assert_int_equal(cubi_ramfs_buckets(d), 512);
	for (unsigned i = 0; i < made; i++) {
		bool throughout = i < 3 || i % 64 == 0;	/* never removed */

		assert_true(seen[i] <= 1);
		if (throughout)
			assert_int_equal(seen[i], 1);
	}
	for (unsigned i = 0; i < made; i++)
		if (look(d, i))
			rm(d, i);
	assert_int_equal(cubi_ramfs_unlink(R, "d", 1, true), 0);
}

/* ------------------------------------------- renames and links, at scale */

static void test_rename_link_big(void **state)
{
	struct cubi_rnode *a = mkdir_(R, "a"), *b = mkdir_(R, "b"), *f, *n, *n3;
	char from[32], to[32];
	size_t fl, tl;
	struct cubi_rstat st;

	(void)state;
	for (unsigned i = 0; i < 3000; i++)
		mk(a, i, CUBI_S_IFREG | 0644);
	/* half of them to b under new numbers, a quarter renamed in a */
	for (unsigned i = 0; i < 3000; i += 2) {
		fl = name_of(from, i);
		tl = name_of(to, i + BIG / 2);
		n = look(a, i);
		assert_int_equal(cubi_ramfs_rename(a, from, fl, i % 4 ? a : b, to,
						   tl, false), 0);
		assert_null(look(a, i));
		assert_ptr_equal(look(i % 4 ? a : b, i + BIG / 2), n);
	}
	check_load(a);
	check_load(b);
	/* one file, 2000 names in b */
	f = look(a, 1);
	for (unsigned i = 4000; i < 6000; i++) {
		tl = name_of(to, i);
		assert_int_equal(cubi_ramfs_link(f, b, to, tl), 0);
	}
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.nlink, 2001);
	/* replacing: a name of b onto another name of the same file is a
	 * no-op; onto another file drops that file's name */
	fl = name_of(from, 4000);
	tl = name_of(to, 4001);
	assert_int_equal(cubi_ramfs_rename(b, from, fl, b, to, tl, false), 0);
	assert_ptr_equal(look(b, 4000), f);
	fl = name_of(from, 3);
	n3 = look(a, 3);
	assert_int_equal(cubi_ramfs_rename(a, from, fl, b, to, tl, false), 0);
	assert_null(look(a, 3));
	assert_ptr_equal(look(b, 4001), n3);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.nlink, 2000);
	for (unsigned i = 4000; i < 6000; i++)
		assert_non_null(look(b, i));
	for (unsigned i = 4000; i < 6000; i++)
		rm(b, i);
	cubi_ramfs_stat(f, &st);
	assert_int_equal(st.nlink, 1);
	check_load(b);
	/* the rest goes with reset (teardown): tables freed, no leak */
}

/* ---------------------------------------------------- the heap run dry */

#define MAX_HELD 65536

static void *held[MAX_HELD];
static size_t nheld;
static uintptr_t run_pa[4096];
static size_t run_n[4096], nruns;

/* Takes every free frame and then every heap block that can be had. */
static void exhaust(void)
{
	void *p;

	for (size_t n = cub_frame_free_count(); n > 0;) {
		uintptr_t pa = cub_frame_alloc_run(n, 0);

		if (!pa) {
			n /= 2;
			continue;
		}
		assert_true(nruns < 4096);
		run_pa[nruns] = pa;
		run_n[nruns++] = n;
		n = CUB_MIN(n, cub_frame_free_count());
	}
	for (size_t s = (size_t)1 << 30; s > 0; s /= 2)
		while ((p = cub_malloc(s)) != NULL) {
			assert_true(nheld < MAX_HELD);
			held[nheld++] = p;
		}
	assert_null(cub_malloc(1));
}

static void give_back(void)
{
	while (nheld)
		cub_free(held[--nheld]);
	while (nruns) {
		nruns--;
		cub_frame_free_run(run_pa[nruns], run_n[nruns]);
	}
}

/* Makes name i in d while the heap has just a node and a name to spare
 * (those of a victim file of the same name length, unlinked after the
 * heap ran dry): the call must succeed though the table cannot change. */
static void mk_starved(struct cubi_rnode *d, struct cubi_rnode *spare, unsigned i)
{
	struct cubi_rnode *victim = NULL;
	char name[32];
	size_t len = name_of(name, i);
	uint32_t b = cubi_ramfs_buckets(d);

	assert_int_equal(cubi_ramfs_create(spare, name, len, CUBI_S_IFREG, &victim), 0);
	exhaust();
	assert_int_equal(cubi_ramfs_unlink(spare, name, len, false), 0);
	mk(d, i, CUBI_S_IFREG | 0644);
	assert_int_equal(cubi_ramfs_buckets(d), b);	/* could not change */
	assert_null(cub_malloc(1));
	give_back();
}

static void test_growth_enomem(void **state)
{
	struct cubi_rnode *d = mkdir_(R, "d"), *spare = mkdir_(R, "s"), *n;
	unsigned made = 0;

	(void)state;
	/* the first table cannot be made: the list serves */
	while (made < 8)
		mk(d, made++, CUBI_S_IFREG | 0644);
	mk_starved(d, spare, made++);
	mk_starved(d, spare, made++);
	assert_int_equal(cubi_ramfs_buckets(d), 0);
	for (unsigned i = 0; i < made; i++)
		assert_non_null(look(d, i));
	mk(d, made++, CUBI_S_IFREG | 0644);		/* memory again */
	assert_int_equal(cubi_ramfs_buckets(d), 16);
	/* a table that cannot double: longer chains */
	while (made < 1024)
		mk(d, made++, CUBI_S_IFREG | 0644);
	assert_int_equal(cubi_ramfs_buckets(d), 1024);
	for (int k = 0; k < 3; k++)
		mk_starved(d, spare, made++);
	assert_int_equal(cubi_ramfs_buckets(d), 1024);
	for (unsigned i = 0; i < made; i++)
		assert_non_null(look(d, i));
	mk(d, made++, CUBI_S_IFREG | 0644);
	assert_int_equal(cubi_ramfs_buckets(d), 2048);
	check_load(d);
	for (unsigned i = 0; i < made; i++)
		assert_non_null(look(d, i));
	/* no memory at all: every call that makes a name fails, the tree
	 * as it was, nothing leaked */
	n = look(d, 0);
	exhaust();
	{
		size_t blocks = heap_blocks();
		struct cubi_rnode *out = NULL;
		char name[32], other[32];
		size_t len = name_of(name, made), olen = name_of(other, 1);

		assert_int_equal(cubi_ramfs_create(d, name, len, CUBI_S_IFREG, &out),
				 -CUB_ENOMEM);
		assert_int_equal(cubi_ramfs_symlink(d, name, len, "t", 1, &out),
				 -CUB_ENOMEM);
		assert_int_equal(cubi_ramfs_link(n, d, name, len), -CUB_ENOMEM);
		assert_int_equal(cubi_ramfs_rename(d, other, olen, d, name, len,
						   false), -CUB_ENOMEM);
		assert_int_equal(heap_blocks(), blocks);
		assert_null(look(d, made));
		assert_non_null(look(d, 1));
		assert_int_equal(entries(d), made);
		assert_int_equal(cubi_ramfs_buckets(d), 2048);
	}
	give_back();
	for (unsigned i = 0; i < made; i++)
		assert_non_null(look(d, i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_resize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_link_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_growth_enomem, setup, teardown),
	};

	cubi_mem_init();	/* nodes and names live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
