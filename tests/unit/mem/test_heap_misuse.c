/*
 * test_heap_misuse - the heap against corruption and misuse: what
 * cub_heap_check reports for each kind of damage, and every panic (double
 * free, foreign and interior pointers, overrun headers, use after free
 * with poisoning, allocation in irq context), each run in a child process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/heap.h>
#include <cubrt/mem.h>

#include "host.h"
#include "host_irq.h"
#include "death.h"

#include "heap_fixture.h"

/* cub_heap_check finds corruption and says where. */
static void test_check_detects(void **state)
{
	char out[512];
	uint8_t *a, *b, *c;
	size_t na;

	(void)state;
	a = cub_heap_alloc(&heap, 64);
	b = cub_heap_alloc(&heap, 64);
	c = cub_heap_alloc(&heap, 64);
	na = cub_heap_usable_size(&heap, a);
	cub_heap_free(&heap, b);
	cubi_host_capture_console(out, sizeof(out));
	/* An overrun of a into b's header. */
	a[na] ^= 0x40;
	assert_int_equal(cub_heap_check_of(&heap), -CUB_EFAULT);
	assert_non_null(strstr(out, "cub_heap_check: block header check word mismatch at 0x"));
	a[na] ^= 0x40;
	assert_int_equal(cub_heap_check_of(&heap), 0);
	/* A use after free clobbering b's free-list link. */
	((void **)b)[1] = (void *)0x1234;
	assert_int_equal(cub_heap_check_of(&heap), -CUB_EFAULT);
	assert_non_null(strstr(out, "broken free-list link"));
	((void **)b)[1] = NULL;
	/* b's boundary tag. */
	c[-16 - 8] ^= 1;
	assert_int_equal(cub_heap_check_of(&heap), -CUB_EFAULT);
	assert_non_null(strstr(out, "bad boundary tag"));
	c[-16 - 8] ^= 1;
	cubi_host_capture_console(NULL, 0);
	assert_int_equal(cub_heap_check_of(&heap), 0);
	cub_heap_free(&heap, a);
	cub_heap_free(&heap, c);
	assert_empty(&heap);
}

/* ------------------------------------------------------------ misuse */

static void double_free(void *arg)
{
	void *p = cub_heap_alloc(&heap, 100);

	(void)arg;
	cub_heap_free(&heap, p);
	cub_heap_free(&heap, p);
}

static void double_free_merged(void *arg)
{
	void *a = cub_heap_alloc(&heap, 100), *b = cub_heap_alloc(&heap, 100);

	(void)arg;
	cub_heap_free(&heap, a);
	cub_heap_free(&heap, b);	/* merged into a's block */
	cub_heap_free(&heap, b);
}

static void realloc_freed(void *arg)
{
	void *p = cub_heap_alloc(&heap, 100);

	(void)arg;
	cub_heap_alloc(&heap, 10);
	cub_heap_free(&heap, p);
	(void)cub_heap_realloc(&heap, p, 200);
}

static void free_foreign(void *arg)
{
	int local;

	(void)arg;
	cub_heap_free(&heap, &local);
}

static void free_interior(void *arg)
{
	char *p = cub_heap_alloc(&heap, 1000);

	(void)arg;
	memset(p, 0, 1000);
	cub_heap_free(&heap, p + 256);
}

static void overrun_free_victim(void *arg)
{
	char *a = cub_heap_alloc(&heap, 100), *b = cub_heap_alloc(&heap, 100);

	(void)arg;
	memset(a, 'x', cub_heap_usable_size(&heap, a) + 8);
	cub_heap_free(&heap, b);
}

static void overrun_free_culprit(void *arg)
{
	char *a = cub_heap_alloc(&heap, 100);

	(void)arg;
	(void)cub_heap_alloc(&heap, 100);
	memset(a, 'x', cub_heap_usable_size(&heap, a) + 8);
	cub_heap_free(&heap, a);
}

static void use_after_free(void *arg)
{
	char *p;

	(void)arg;
	cub_heap_set_poison(&heap, true);
	p = cub_heap_alloc(&heap, 200);
	(void)cub_heap_alloc(&heap, 16);	/* keeps p from merging */
	cub_heap_free(&heap, p);
	p[100] = 1;
	(void)cub_heap_alloc(&heap, 200);
}

static void malloc_in_irq_handler(void)
{
	(void)cub_heap_alloc(&heap, 10);
}

static void malloc_in_irq(void *arg)
{
	(void)arg;
	cubi_host_irq_set_deliver(malloc_in_irq_handler);
	cubi_host_irq_run();
}

static void test_misuse(void **state)
{
	char msg[128];
	void *p;

	(void)state;
	assert_dies_with(double_free, NULL, "cub_free: double free of 0x");
	assert_dies_with(double_free_merged, NULL, "cub_free: double free of 0x");
	assert_dies_with(realloc_freed, NULL, "cub_realloc: 0x");
	assert_dies_with(realloc_freed, NULL, "was already freed (use after free)");
	assert_dies_with(free_foreign, NULL, "was not returned by the heap");
	assert_dies_with(free_interior, NULL, "was not returned by the heap (it points into block 0x");
	assert_dies_with(overrun_free_victim, NULL, "header of block 0x");
	assert_dies_with(overrun_free_victim, NULL, "overwritten (buffer overrun?)");
	assert_dies_with(overrun_free_culprit, NULL, "overwritten (buffer overrun from 0x");
	assert_dies_with(use_after_free, NULL, "was written after free");
	assert_dies_with(malloc_in_irq, NULL, "cub_malloc: called from interrupt context");
	/* The message names the address. */
	p = cub_heap_alloc(&heap, 100);
	cub_heap_free(&heap, p);
	snprintf(msg, sizeof(msg), "double free of %p", p);
	assert_dies_with(double_free, NULL, msg);
}

static void global_double_free(void *arg)
{
	void *p = cub_malloc(10);

	(void)arg;
	cub_free(p);
	cub_free(p);
}

static void global_free_garbage(void *arg)
{
	(void)arg;
	cub_free((void *)0x10);
}

static void test_global_misuse(void **state)
{
	(void)state;
	cubi_mem_init();
	assert_dies_with(global_double_free, NULL, "cub_free: double free of 0x");
	assert_dies_with(global_free_garbage, NULL, "cub_free: 0x10 was not returned by the heap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check_detects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
		cmocka_unit_test(test_global_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
