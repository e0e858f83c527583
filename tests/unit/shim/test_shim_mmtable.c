/*
 * test_shim_mmtable.c - the shim's mapping table (mm_table.c over
 * mm_tree.c's balanced tree), through mmap, munmap and mprotect:
 *  - test_model: random fixed and hinted mmaps, munmaps and mprotects
 *    over a 160-page area for a fixed list of seeds, checked after every
 *    step against a byte-per-page model (its protection, or unmapped):
 *    every page's vma, neighbours that agree merged, the vmas' count,
 *    the walk forwards and backwards, the hinted mmap's address (the
 *    lowest free run at or above the hint), and the tree's own
 *    invariants (cubi_mm_tree_check);
 *  - test_scale: 60,000 one-page mappings made then unmapped from the
 *    front, no call looking at more than a few tree heights of nodes
 *    (cubi_mm_tree_visits; the sorted array this replaced shifted its
 *    whole tail at each call), an mmap hinted at the first mapping
 *    placed past 60,000 one-page holes in as few, and every frame back;
 *  - test_limit: Linux's 65,530 mappings, then -ENOMEM for another, for
 *    a split by munmap or mprotect, with the table unchanged.
 * The calls run through the dispatcher as the program's would; PROT_NONE
 * keeps the host's page mappings out of it (its map budget).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include "mm_impl.h"
#include "sys.h"

#define PG 4096l
#define R 1
#define RW 3
#define NONE 0
#define PRIV_ANON 0x22
#define FIXED 0x10
#define AREA 160		/* pages the model ops change */
#define SPAN (AREA + 40)	/* pages the model follows (hinted mmaps) */
#define UNMAPPED 0xff
#define MAX_VMAS 65530

static int setup(void **state)
{
	(void)state;
	cubi_mem_init();	/* once: it is idempotent */
	return 0;
}

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A free range of pages pages with one free page below it: its address. */
static long free_range(long pages)
{
	long a = sys_mmap_anon(0, (pages + 1) * PG, NONE, PRIV_ANON);

	assert_true(a > 0);
	assert_int_equal(SYS2(SYS_munmap, a, (pages + 1) * PG), 0);
	return a + PG;
}

/* The table over [base, base + SPAN pages) against the model. */
static void check(long base, const unsigned char *model)
{
	const struct cubi_mm_vma *v, *w;
	size_t runs = 0, vmas = 0;

	assert_true(cubi_mm_tree_check() >= 0);
	for (long p = 0; p < SPAN; p++) {
		v = cubi_mm_vma_at((uintptr_t)(base + p * PG));
		if (model[p] == UNMAPPED) {
			assert_null(v);
			continue;
		}
		assert_non_null(v);
		assert_int_equal(v->prot, model[p]);
		runs += p == 0 || model[p - 1] != model[p];
	}
	/* Each run of one prot is one vma: merged, none split. */
	CUBI_MM_EACH(v, (uintptr_t)base, (uintptr_t)(base + SPAN * PG)) {
		assert_true(v->start >= (uintptr_t)base && v->end <= (uintptr_t)(base + SPAN * PG));
		if ((w = cubi_mm_vma_next(v)))
			assert_ptr_equal(cubi_mm_vma_prev(w), v);
		if (w && w->start == v->end)
			assert_int_not_equal(w->prot, v->prot);
		vmas++;
	}
	assert_int_equal(vmas, runs);
}

/* The lowest page at or above from with pages free pages, in the model. */
static long model_gap(const unsigned char *model, long from, long pages)
{
	for (long p = from; p + pages <= SPAN; p++) {
		long k = 0;

		while (k < pages && model[p + k] == UNMAPPED)
			k++;
		if (k == pages)
			return p;
	}
	return -1;
}

static void model_step(long base, unsigned char *model)
{
	static const unsigned prots[] = { NONE, R, RW };
	long p = rnd(AREA), k = 1 + rnd(rnd(4) ? 8 : 40), at;
	unsigned prot = prots[rnd(3)], op = rnd(8);
	bool covered = true;

	k = p + k > AREA ? AREA - p : k;
	if (op < 3) {		/* fixed mmap */
		assert_int_equal(sys_mmap_anon(base + p * PG, k * PG, prot, PRIV_ANON | FIXED),
				 base + p * PG);
		memset(model + p, (int)prot, (size_t)k);
	} else if (op < 5) {	/* munmap, mapped or not, hinted ones' pages too */
		p += rnd(2) ? 0 : SPAN - AREA;
		assert_int_equal(SYS2(SYS_munmap, base + p * PG, k * PG), 0);
		memset(model + p, UNMAPPED, (size_t)k);
	} else if (op < 7) {	/* mprotect: all of it mapped, or -ENOMEM */
		for (long i = p; i < p + k; i++)
			covered &= model[i] != UNMAPPED;
		assert_int_equal(SYS3(SYS_mprotect, base + p * PG, k * PG, prot),
				 covered ? 0 : -CUB_ENOMEM);
		if (covered)
			memset(model + p, (int)prot, (size_t)k);
	} else {		/* a hint: the lowest free run at or above it */
		k = k > 16 ? 16 : k;
		if ((at = model_gap(model, p, k)) < 0)
			return;		/* it would land past what the model follows */
		assert_int_equal(sys_mmap_anon(base + p * PG, k * PG, prot, PRIV_ANON),
				 base + at * PG);
		memset(model + at, (int)prot, (size_t)k);
	}
}

static void test_model(void **state)
{
	static const uint64_t seeds[] = { 1, 2, 3, 42, 1234, 99991 };
	static unsigned char model[SPAN];
	size_t free0 = cub_frame_free_count(), rss0 = cubi_mm_resident;
	size_t count0 = cubi_mm_vma_count();
	long base = free_range(SPAN + 1);

	(void)state;
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		rng = seeds[s] * 0x9e3779b97f4a7c15ull + 1;
		memset(model, UNMAPPED, sizeof(model));
		for (int step = 0; step < 600; step++) {
			model_step(base, model);
			check(base, model);
		}
		assert_int_equal(SYS2(SYS_munmap, base, SPAN * PG), 0);
		memset(model, UNMAPPED, sizeof(model));
		check(base, model);
		assert_int_equal(cubi_mm_vma_count(), count0);
	}
	assert_int_equal(cubi_mm_resident, rss0);
	assert_int_equal(cub_frame_free_count(), free0);
}

#define SCALE 60000

static void test_scale(void **state)
{
	size_t free0 = cub_frame_free_count(), count0 = cubi_mm_vma_count(), most = 0;
	long base = free_range(2 * SCALE + 2), at;
	int h;

	(void)state;
	for (long i = 0; i < SCALE; i++) {	/* a hole after each: no merging */
		cubi_mm_tree_visits = 0;
		assert_int_equal(sys_mmap_anon(base + 2 * i * PG, PG, NONE, PRIV_ANON | FIXED),
				 base + 2 * i * PG);
		most = cubi_mm_tree_visits > most ? cubi_mm_tree_visits : most;
	}
	assert_int_equal(cubi_mm_vma_count(), count0 + SCALE);
	h = cubi_mm_tree_check();
	assert_true(h > 0 && h <= 23);	/* AVL: under 1.45 log2(n + 2) */
	/* A few descents and climbs a call (16 heights at most), whatever
	 * the count: no call walks the vmas. */
	assert_true(most <= (size_t)(16 * h));
	/* The lowest two free pages from the base are past all the holes. */
	cubi_mm_tree_visits = 0;
	at = sys_mmap_anon(base, 2 * PG, NONE, PRIV_ANON);
	assert_int_equal(at, base + (2 * SCALE - 1) * PG);
	assert_true(cubi_mm_tree_visits <= (size_t)(16 * h));
	assert_int_equal(SYS2(SYS_munmap, at, 2 * PG), 0);
	most = 0;
	for (long i = 0; i < SCALE; i++) {	/* from the front */
		cubi_mm_tree_visits = 0;
		assert_int_equal(SYS2(SYS_munmap, base + 2 * i * PG, PG), 0);
		most = cubi_mm_tree_visits > most ? cubi_mm_tree_visits : most;
		assert_int_equal(cubi_mm_vma_count(), count0 + SCALE - 1 - (size_t)i);
	}
	assert_true(most <= (size_t)(16 * h));
	assert_true(cubi_mm_tree_check() >= 0);
	assert_int_equal(cubi_mm_tree_frames(), 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

static void test_limit(void **state)
{
	size_t free0 = cub_frame_free_count(), count0 = cubi_mm_vma_count();
	long n = MAX_VMAS - (long)count0 - 1, base = free_range(2 * n + 8), three, last;

	(void)state;
	/* One three-page vma to split, and one-page ones up to the limit. */
	three = base + 2 * n * PG;
	assert_int_equal(sys_mmap_anon(three, 3 * PG, NONE, PRIV_ANON | FIXED), three);
	for (long i = 0; i < n; i++)
		assert_int_equal(sys_mmap_anon(base + 2 * i * PG, PG, NONE, PRIV_ANON | FIXED),
				 base + 2 * i * PG);
	assert_int_equal(cubi_mm_vma_count(), MAX_VMAS);
	/* Full: another vma, a split by munmap or mprotect: -ENOMEM. */
	last = base + (2 * n + 6) * PG;
	assert_int_equal(sys_mmap_anon(last, PG, NONE, PRIV_ANON | FIXED), -CUB_ENOMEM);
	assert_int_equal(sys_mmap_anon(0, PG, NONE, PRIV_ANON), -CUB_ENOMEM);
	assert_int_equal(SYS2(SYS_munmap, three + PG, PG), -CUB_ENOMEM);
	assert_int_equal(SYS3(SYS_mprotect, three + PG, PG, R), -CUB_ENOMEM);
	assert_int_equal(cubi_mm_vma_count(), MAX_VMAS);
	assert_true(cubi_mm_tree_check() > 0);
	assert_int_equal(cubi_mm_vma_at((uintptr_t)(three + PG))->start, (uintptr_t)three);
	assert_int_equal(cubi_mm_vma_at((uintptr_t)(three + PG))->end, (uintptr_t)three + 3 * PG);
	/* No split: a whole vma's protection changes; one goes, one fits. */
	assert_int_equal(SYS3(SYS_mprotect, three, 3 * PG, R), 0);
	assert_int_equal(SYS2(SYS_munmap, three, 3 * PG), 0);
	assert_int_equal(sys_mmap_anon(last, PG, NONE, PRIV_ANON | FIXED), last);
	assert_int_equal(cubi_mm_vma_count(), MAX_VMAS);
	assert_int_equal(SYS2(SYS_munmap, base, (2 * n + 8) * PG), 0);
	assert_int_equal(cubi_mm_vma_count(), count0);
	assert_true(cubi_mm_tree_check() >= 0);
	assert_int_equal(cub_frame_free_count(), free0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
