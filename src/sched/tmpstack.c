/*
 * tmpstack.c - TEMPORARY coroutine stack pool used until the memory
 * subsystem's <cubrt/stack.h> lands; coro.c reaches it only through
 * sched_impl.h's stk_* wrappers.
 *
 * Invariants: the pool is carved by a bump pointer into page-multiple
 * blocks; a freed block goes to the free list of its exact size and is
 * only reused for that size. Callers hold interrupts disabled.
 */
#include <cubrt/base.h>

#include "tmpstack.h"

#if __STDC_HOSTED__
#define POOL_SIZE (1024ul << 20)
#else
#define POOL_SIZE (8ul << 20)
#endif
#define NCLASS 64

struct block {
	struct block *next;
};

static char pool[POOL_SIZE] __attribute__((aligned(4096)));
static size_t used;
static struct block *freelist[NCLASS + 1];	/* by pages; [0]: bigger */
static struct block *big_free;
static size_t big_size[1];

void *cubi_tmpstack_alloc(size_t size)
{
	size_t pages = size / CUB_PAGE_SIZE;
	struct block *b;

	(void)big_free;
	(void)big_size;
	if (pages && pages <= NCLASS && (b = freelist[pages])) {
		freelist[pages] = b->next;
		return b;
	}
	if (POOL_SIZE - used < size)
		return NULL;
	b = (struct block *)(pool + used);
	used += size;
	return b;
}

void cubi_tmpstack_free(void *p, size_t size)
{
	size_t pages = size / CUB_PAGE_SIZE;
	struct block *b = p;

	if (pages && pages <= NCLASS) {
		b->next = freelist[pages];
		freelist[pages] = b;
	}
}
