/*
 * ramfix.h - the fixture the in-memory file system's tests share
 * (test_shim_ramfs.c, test_shim_ramdir.c): each test starts on an emptied
 * tree and must leave the heap with no more blocks than it found; the
 * random ones draw from one xorshift generator. Include
 * after cmocka.h, with src/shim on the include path.
 */
#ifndef CUBRT_TEST_SHIM_RAMFIX_H
#define CUBRT_TEST_SHIM_RAMFIX_H

#include <cubrt/heap.h>
#include "ramfs.h"

static struct cubi_rnode *R;		/* the root */
static size_t base_blocks;		/* heap blocks at the test's start */

static uint64_t rng;			/* the random tests' state (xorshift) */

static inline uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static inline size_t heap_blocks(void)
{
	struct cub_heap_stats st;

	cub_heap_stats(&st);
	return st.blocks;
}

static inline int setup(void **state)
{
	(void)state;
	cubi_ramfs_reset();
	R = cubi_ramfs_root();
	base_blocks = heap_blocks();
	return 0;
}

/* Everything a test made is freed by reset (or was freed before), and
 * the root has no name index left. */
static inline int teardown(void **state)
{
	(void)state;
	cubi_ramfs_reset();
	assert_int_equal(cubi_ramfs_buckets(R), 0);
	assert_int_equal(heap_blocks(), base_blocks);
	return 0;
}

#endif
