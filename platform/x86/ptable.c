/*
 * ptable.c - where x86 page-table pages come from and go back to.
 *
 * Before the frame allocator runs (paging init) tables come from a static
 * pool in the image; afterwards from the pool while it has pages, then
 * from the allocator src/mem registered (cub_arch_set_table_allocator).
 * A table that paging.c frees goes back where it came from: a pool page
 * to the pool's free list (linked through the pages' first word), any
 * other page to the registered release function. Every page handed out
 * is zeroed.
 *
 * Locking: called by paging.c inside its critical sections (interrupts
 * disabled); the counters and the free list need nothing more.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "x86.h"

#define POOL_PAGES 40

static uint8_t pool[POOL_PAGES][CUB_PAGE_SIZE] __attribute__((aligned(4096)));
static size_t pool_used;	/* pages [0, pool_used) handed out at least once */
static uintptr_t pool_free;	/* freed pool pages, linked through word 0 */
static size_t pool_free_n;
static size_t tables_live;	/* tables handed out and not freed */
static uintptr_t (*alloc_fn)(void);
static void (*release_fn)(uintptr_t);

void cub_arch_set_table_allocator(uintptr_t (*alloc)(void),
				  void (*release)(uintptr_t))
{
	alloc_fn = alloc;
	release_fn = release;
}

static bool in_pool(uintptr_t p)
{
	return p >= (uintptr_t)pool && p < (uintptr_t)pool + sizeof(pool);
}

uint64_t *cubi_x86_table_alloc(void)
{
	uintptr_t p = 0;

	if (pool_free) {
		p = pool_free;
		pool_free = *(uintptr_t *)p;
		pool_free_n--;
	} else if (pool_used < POOL_PAGES) {
		p = (uintptr_t)pool[pool_used++];
	} else if (alloc_fn) {
		p = alloc_fn();
	}
	if (p) {
		cub_memset((void *)p, 0, CUB_PAGE_SIZE);
		tables_live++;
	}
	return (uint64_t *)p;
}

/* The caller has unlinked t and invalidated every address it covered
 * (paging-structure caches included), so t may become anything now. */
void cubi_x86_table_free(uint64_t *t)
{
	uintptr_t p = (uintptr_t)t;

	if (!p || p % CUB_PAGE_SIZE || !tables_live)
		cub_panic("paging: bad page-table free of 0x%lx", (unsigned long)p);
	tables_live--;
	if (in_pool(p)) {
		*(uintptr_t *)p = pool_free;
		pool_free = p;
		pool_free_n++;
	} else if (release_fn) {
		release_fn(p);
	} else {
		cub_panic("paging: no release for page table 0x%lx", (unsigned long)p);
	}
}

void cubi_x86_table_stats(size_t *live, size_t *pool_left)
{
	unsigned long irq = cub_arch_irq_save();

	*live = tables_live;
	*pool_left = POOL_PAGES - pool_used + pool_free_n;
	cub_arch_irq_restore(irq);
}
