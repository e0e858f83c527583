/*
 * heap_fixture.h - the private heap every heap test runs on: a 1 MiB
 * arena from the host's malloc, checked after each test, and
 * assert_empty() for "everything was freed again".
 */
#ifndef CUBRT_TEST_HEAP_FIXTURE_H
#define CUBRT_TEST_HEAP_FIXTURE_H

#define ARENA (1u << 20)
static struct cub_heap heap;
static void *arena;

static int setup(void **state)
{
	(void)state;
	arena = malloc(ARENA);
	assert_int_equal(cub_heap_init(&heap, arena, ARENA), 0);
	cub_heap_set_poison(&heap, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(cub_heap_check_of(&heap), 0);
	free(arena);
	return 0;
}

static void assert_empty(struct cub_heap *h)
{
	struct cub_heap_stats st;

	cub_heap_stats_of(h, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.blocks, 0);
	assert_int_equal(st.free_blocks, 1);
	assert_int_equal(st.largest_free, st.free);
	assert_int_equal(cub_heap_check_of(h), 0);
}

#endif
