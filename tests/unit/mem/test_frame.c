/*
 * test_frame - the page-frame allocator over a fake RAM map with holes:
 * counts, single frames and runs until exhaustion, freeing sub-runs,
 * zeroing, and misuse (double free, foreign frames).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>

#include "../../../src/mem/mem_internal.h"
#include "death.h"

#define RAM_PAGES 256
static uint8_t ram[RAM_PAGES * 4096] __attribute__((aligned(4096)));
static struct cub_mem_region map[3];

#define PG(i) ((uintptr_t)ram + (uintptr_t)(i) * CUB_PAGE_SIZE)

/* Three regions: pages [0,100), [110,200), [240,256): 206 frames. */
static int setup(void **state)
{
	(void)state;
	map[0] = (struct cub_mem_region){ PG(0), 100 * CUB_PAGE_SIZE };
	map[1] = (struct cub_mem_region){ PG(110), 90 * CUB_PAGE_SIZE };
	map[2] = (struct cub_mem_region){ PG(240), 16 * CUB_PAGE_SIZE };
	cubi_frame_init_regions(map, 3);
	return 0;
}

static bool in_map(uintptr_t pa)
{
	for (int i = 0; i < 3; i++)
		if (pa >= map[i].base && pa < map[i].base + map[i].len)
			return true;
	return false;
}

static void test_counts(void **state)
{
	struct cub_frame_stats st;

	(void)state;
	cub_frame_stats(&st);
	/* The bitmap (one page) lives in the first region. */
	assert_int_equal(st.meta, 1);
	assert_int_equal(st.total, 206 - 1);
	assert_int_equal(st.free, st.total);
	assert_int_equal(cub_frame_total_count(), st.total);
	assert_int_equal(cub_frame_free_count(), st.total);
	assert_false(cub_frame_is_allocated(PG(0)));	/* meta: not handed out */
}

static void test_exhaust_single(void **state)
{
	static uintptr_t got[RAM_PAGES];
	size_t total = cub_frame_total_count(), n = 0;
	uintptr_t pa;
	struct cub_frame_stats st;

	(void)state;
	while ((pa = cub_frame_alloc(0)) != 0) {
		assert_true(n < RAM_PAGES);
		assert_true(in_map(pa));
		assert_true(pa % CUB_PAGE_SIZE == 0);
		assert_true(cub_frame_is_allocated(pa));
		for (size_t i = 0; i < n; i++)
			assert_true(got[i] != pa);
		got[n++] = pa;
	}
	assert_int_equal(n, total);
	assert_int_equal(cub_frame_free_count(), 0);
	assert_int_equal(cub_frame_alloc_run(1, 0), 0);
	for (size_t i = 0; i < n; i += 2)	/* free out of order */
		cub_frame_free(got[i]);
	for (size_t i = 1; i < n; i += 2)
		cub_frame_free(got[i]);
	cub_frame_stats(&st);
	assert_int_equal(st.free, total);
	assert_int_equal(st.min_free, 0);
}

static void test_runs(void **state)
{
	uintptr_t a, b, c;

	(void)state;
	assert_int_equal(cub_frame_alloc_run(0, 0), 0);
	assert_int_equal(cub_frame_alloc_run(100, 0), 0);	/* no region has 100 */
	a = cub_frame_alloc_run(99, 0);		/* region 0 minus the bitmap */
	assert_int_equal(a, PG(1));
	b = cub_frame_alloc_run(90, 0);
	assert_int_equal(b, PG(110));
	c = cub_frame_alloc_run(17, 0);		/* region 2 holds only 16 */
	assert_int_equal(c, 0);
	c = cub_frame_alloc_run(16, 0);
	assert_int_equal(c, PG(240));
	assert_int_equal(cub_frame_free_count(), 0);
	/* Free a hole in the middle of a run, then take a run from it. */
	cub_frame_free_run(a + 10 * CUB_PAGE_SIZE, 5);
	assert_int_equal(cub_frame_alloc_run(6, 0), 0);
	assert_int_equal(cub_frame_alloc_run(5, 0), a + 10 * CUB_PAGE_SIZE);
	cub_frame_free_run(a, 99);
	cub_frame_free_run(b, 90);
	cub_frame_free_run(c, 16);
	assert_int_equal(cub_frame_free_count(), cub_frame_total_count());
}

static void test_zero(void **state)
{
	uintptr_t a = cub_frame_alloc_run(3, 0);

	(void)state;
	memset((void *)a, 0xAB, 3 * CUB_PAGE_SIZE);
	cub_frame_free_run(a, 3);
	a = cub_frame_alloc_run(3, CUB_FRAME_ZERO);
	for (size_t i = 0; i < 3 * CUB_PAGE_SIZE; i++)
		assert_int_equal(((uint8_t *)a)[i], 0);
	cub_frame_free_run(a, 3);
}

static void double_free(void *arg)
{
	uintptr_t a = cub_frame_alloc(0);

	(void)arg;
	cub_frame_free(a);
	cub_frame_free(a);
}

static void free_hole(void *arg)
{
	(void)arg;
	cub_frame_free(PG(105));
}

static void free_unaligned(void *arg)
{
	(void)arg;
	cub_frame_free(PG(5) + 8);
}

static void free_meta(void *arg)
{
	(void)arg;
	cub_frame_free(PG(0));
}

static void test_misuse(void **state)
{
	(void)state;
	assert_dies_with(double_free, NULL, "cub_frame_free: double free of frame 0x");
	assert_dies_with(free_hole, NULL, "is not a frame");
	assert_dies_with(free_unaligned, NULL, "is not a frame");
	assert_dies_with(free_meta, NULL, "is not a frame");
	assert_false(cub_frame_is_allocated(PG(105)));
	assert_false(cub_frame_is_allocated(12345));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_counts, setup),
		cmocka_unit_test_setup(test_exhaust_single, setup),
		cmocka_unit_test_setup(test_runs, setup),
		cmocka_unit_test_setup(test_zero, setup),
		cmocka_unit_test_setup(test_misuse, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
