/*
 * test_list.c - unit tests for the intrusive list (include/cubrt/list.h)
 * and the helper macros of include/cubrt/base.h.
 *
 * After every operation the whole ring is checked against the header's
 * invariants (next->prev == n, prev->next == n, head self-linked when
 * empty) and against the expected order, walked both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cubrt/base.h>
#include <cubrt/list.h>

struct item {
	int value;
	struct cub_list link;
	int after;	/* a member behind the link, for container_of */
};

#define NITEMS 8

static struct item items[NITEMS];

static void items_init(void)
{
	for (int i = 0; i < NITEMS; i++) {
		items[i].value = i;
		items[i].after = 100 + i;
		cub_list_init(&items[i].link);
	}
}

static int value_of(struct cub_list *n)
{
	return cub_container_of(n, struct item, link)->value;
}

/* Checks the ring's invariants and that it holds exactly want[0..n). */
static void assert_list(struct cub_list *head, const int *want, int n)
{
	struct cub_list *pos;
	int i = 0;

	assert_ptr_equal(head->next->prev, head);
	assert_ptr_equal(head->prev->next, head);
	cub_list_for_each(pos, head) {
		assert_true(i < n);
		assert_ptr_equal(pos->next->prev, pos);
		assert_ptr_equal(pos->prev->next, pos);
		assert_true(cub_list_linked(pos));
		assert_int_equal(value_of(pos), want[i]);
		i++;
	}
	assert_int_equal(i, n);
	/* Backwards too: the prev links agree with the next links. */
	for (pos = head->prev; pos != head; pos = pos->prev)
		assert_int_equal(value_of(pos), want[--i]);
	assert_int_equal(i, 0);
	assert_int_equal(cub_list_empty(head), n == 0);
	if (n)
		assert_int_equal(value_of(cub_list_first(head)), want[0]);
	else
		assert_null(cub_list_first(head));
}

static void test_init_empty(void **state)
{
	struct cub_list head;
	static struct cub_list stat = CUB_LIST_INIT(stat);

	(void)state;
	cub_list_init(&head);
	assert_ptr_equal(head.next, &head);
	assert_ptr_equal(head.prev, &head);
	assert_true(cub_list_empty(&head));
	assert_false(cub_list_linked(&head));
	assert_null(cub_list_first(&head));
	assert_null(cub_list_pop_front(&head));
	assert_list(&head, NULL, 0);
	/* The static initialiser gives the same empty ring. */
	assert_ptr_equal(stat.next, &stat);
	assert_ptr_equal(stat.prev, &stat);
	assert_true(cub_list_empty(&stat));
}

static void test_push_back_fifo(void **state)
{
	struct cub_list head = CUB_LIST_INIT(head);
	static const int want[] = { 0, 1, 2, 3 };
	struct cub_list *n;

	(void)state;
	items_init();
	for (int i = 0; i < 4; i++) {
		cub_list_push_back(&head, &items[i].link);
		assert_list(&head, want, i + 1);
	}
	/* pop_front returns them in insertion order and unlinks each. */
	for (int i = 0; i < 4; i++) {
		n = cub_list_pop_front(&head);
		assert_non_null(n);
		assert_int_equal(value_of(n), i);
		assert_false(cub_list_linked(n));
		assert_ptr_equal(n->next, n);
		assert_ptr_equal(n->prev, n);
		assert_list(&head, want + i + 1, 3 - i);
	}
	assert_null(cub_list_pop_front(&head));
	assert_true(cub_list_empty(&head));
}

static void test_push_front_lifo(void **state)
{
	struct cub_list head = CUB_LIST_INIT(head);
	static const int want[] = { 3, 2, 1, 0 };

	(void)state;
	items_init();
	for (int i = 0; i < 4; i++) {
		cub_list_push_front(&head, &items[i].link);
		assert_list(&head, want + 3 - i, i + 1);
	}
	for (int i = 3; i >= 0; i--)
		assert_int_equal(value_of(cub_list_pop_front(&head)), i);
	assert_list(&head, NULL, 0);
}

static void test_mixed_push(void **state)
{
	struct cub_list head = CUB_LIST_INIT(head);
	static const int want[] = { 4, 2, 0, 1, 3, 5 };

	(void)state;
	items_init();
	for (int i = 0; i < 6; i++) {
		if (i % 2)
			cub_list_push_back(&head, &items[i].link);
		else
			cub_list_push_front(&head, &items[i].link);
	}
	assert_list(&head, want, 6);
}

static void test_del(void **state)
{
	struct cub_list head = CUB_LIST_INIT(head);
	static const int no_middle[] = { 0, 1, 3, 4 };
	static const int no_ends[] = { 1, 3 };
	static const int only3[] = { 3 };

	(void)state;
	items_init();
	for (int i = 0; i < 5; i++)
		cub_list_push_back(&head, &items[i].link);
	cub_list_del(&items[2].link);	/* middle */
	assert_false(cub_list_linked(&items[2].link));
	assert_list(&head, no_middle, 4);
	cub_list_del(&items[2].link);	/* twice: harmless */
	assert_list(&head, no_middle, 4);
	cub_list_del(&items[0].link);	/* first */
	cub_list_del(&items[4].link);	/* last */
	assert_list(&head, no_ends, 2);
	cub_list_del(&items[1].link);
	assert_list(&head, only3, 1);
	cub_list_del(&items[3].link);	/* the only one */
	assert_list(&head, NULL, 0);
	/* A removed node can be linked again, on another list. */
	{
		struct cub_list other = CUB_LIST_INIT(other);
		static const int want[] = { 2, 0 };

		cub_list_push_back(&other, &items[2].link);
		cub_list_push_back(&other, &items[0].link);
		assert_list(&other, want, 2);
		assert_list(&head, NULL, 0);
	}
	/* A never-linked, initialised node: del is a no-op. */
	cub_list_init(&items[7].link);
	cub_list_del(&items[7].link);
	assert_false(cub_list_linked(&items[7].link));
}

static void test_for_each_safe(void **state)
{
	struct cub_list head = CUB_LIST_INIT(head);
	struct cub_list *pos, *tmp;
	static const int odd[] = { 1, 3, 5, 7 };
	int seen = 0;

	(void)state;
	items_init();
	for (int i = 0; i < NITEMS; i++)
		cub_list_push_back(&head, &items[i].link);
	/* Remove every even element during the walk. */
	cub_list_for_each_safe(pos, tmp, &head) {
		assert_int_equal(value_of(pos), seen);
		if (value_of(pos) % 2 == 0)
			cub_list_del(pos);
		seen++;
	}
	assert_int_equal(seen, NITEMS);
	assert_list(&head, odd, 4);
	/* Remove all of them. */
	seen = 0;
	cub_list_for_each_safe(pos, tmp, &head) {
		cub_list_del(pos);
		seen++;
	}
	assert_int_equal(seen, 4);
	assert_list(&head, NULL, 0);
	/* Walking an empty list visits nothing. */
	cub_list_for_each(pos, &head)
		fail();
	cub_list_for_each_safe(pos, tmp, &head)
		fail();
}

static void test_container_of(void **state)
{
	struct item it = { .value = 7, .after = 9 };
	int *after = &it.after;

	(void)state;
	assert_ptr_equal(cub_container_of(&it.link, struct item, link), &it);
	assert_ptr_equal(cub_container_of(after, struct item, after), &it);
	assert_ptr_equal(cub_container_of(&it.value, struct item, value), &it);
}

static void test_base_macros(void **state)
{
	int arr[13];
	char carr[5];

	(void)state;
	assert_int_equal(CUB_ARRAY_SIZE(arr), 13);
	assert_int_equal(CUB_ARRAY_SIZE(carr), 5);
	assert_int_equal(CUB_ALIGN_UP(0UL, 4096), 0);
	assert_int_equal(CUB_ALIGN_UP(1UL, 4096), 4096);
	assert_int_equal(CUB_ALIGN_UP(4096UL, 4096), 4096);
	assert_int_equal(CUB_ALIGN_UP(4097UL, CUB_PAGE_SIZE), 8192);
	assert_int_equal(CUB_ALIGN_UP((uint64_t)0x100000001, 8), 0x100000008);
	assert_int_equal(CUB_ALIGN_DOWN(4095UL, 4096), 0);
	assert_int_equal(CUB_ALIGN_DOWN(8191UL, 4096), 4096);
	/* The mask is widened to the value's type: high bits survive. */
	assert_int_equal(CUB_ALIGN_DOWN(0xffffffff12345678ULL, 16),
			 0xffffffff12345670ULL);
	assert_int_equal(CUB_ALIGN_UP((uintptr_t)0xffffffff00000001, 4096),
			 0xffffffff00001000ULL);
	assert_true(CUB_IS_ALIGNED(0UL, 8));
	assert_true(CUB_IS_ALIGNED(4096UL, 4096));
	assert_false(CUB_IS_ALIGNED(4100UL, 4096));
	assert_true(CUB_IS_ALIGNED(0x100000000ULL, 4096));
	assert_int_equal(CUB_MIN(3, -4), -4);
	assert_int_equal(CUB_MAX(3, -4), 3);
	assert_int_equal(CUB_MIN(2UL, 2UL), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_empty),
		cmocka_unit_test(test_push_back_fifo),
		cmocka_unit_test(test_push_front_lifo),
		cmocka_unit_test(test_mixed_push),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_for_each_safe),
		cmocka_unit_test(test_container_of),
		cmocka_unit_test(test_base_macros),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
