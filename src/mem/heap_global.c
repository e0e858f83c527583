/*
 * heap_global.c - the global heap behind cub_malloc and friends: a
 * struct cub_heap that grows by runs of page frames and gives entirely
 * free areas back on request (cub_heap_release_free).
 *
 * Invariants: every area of the global heap is a run of whole frames
 * taken from the frame allocator (page aligned, page multiple), so any
 * area can be returned with cub_frame_free_run.
 * Locking: the heap's own (interrupts disabled); growth runs inside it.
 */
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>

#include "mem_internal.h"

/* Growth step: big enough that growth is rare, small for a 128 MiB VM. */
#define GROW_MIN (256 * 1024)

static struct cub_heap global;
static bool ready;

/* h->grow: adds a run of frames of at least min bytes (lock held). */
static int grow(struct cub_heap *h, size_t min)
{
	size_t need = CUB_ALIGN_UP(min, CUB_PAGE_SIZE) / CUB_PAGE_SIZE;
	size_t want = CUB_MAX(need, (size_t)(GROW_MIN / CUB_PAGE_SIZE));
	uintptr_t pa = cub_frame_alloc_run(want, 0);

	if (!pa && want > need)
		pa = cub_frame_alloc_run(want = need, 0);
	if (!pa)
		return -CUB_ENOMEM;
	return cub_heap_add_area(h, (void *)pa, want * CUB_PAGE_SIZE);
}

static void release(struct cub_heap *h, void *mem, size_t len)
{
	(void)h;
	cub_frame_free_run((uintptr_t)mem, len / CUB_PAGE_SIZE);
}

void cubi_heap_global_init(void)
{
	cub_heap_init(&global, NULL, 0);
	global.grow = grow;
	global.release = release;
	global.probe = true;
	ready = true;
}

struct cub_heap *cub_heap_global(void)
{
	if (CUB_UNLIKELY(!ready))
		cub_panic("cub_malloc: the heap is used before cubi_mem_init()");
	return &global;
}

void *cub_malloc(size_t n)
{
	return cub_heap_alloc(cub_heap_global(), n);
}

void cub_free(void *p)
{
	cub_heap_free(cub_heap_global(), p);
}

void *cub_calloc(size_t n, size_t size)
{
	return cub_heap_calloc(cub_heap_global(), n, size);
}

void *cub_realloc(void *p, size_t n)
{
	return cub_heap_realloc(cub_heap_global(), p, n);
}

void *cub_aligned_alloc(size_t align, size_t n)
{
	return cub_heap_aligned_alloc(cub_heap_global(), align, n);
}

size_t cub_malloc_usable_size(void *p)
{
	return cub_heap_usable_size(cub_heap_global(), p);
}

void cub_heap_stats(struct cub_heap_stats *st)
{
	cub_heap_stats_of(cub_heap_global(), st);
}

int cub_heap_check(void)
{
	return cub_heap_check_of(cub_heap_global());
}

size_t cub_heap_release_free(void)
{
	return cub_heap_trim(cub_heap_global());
}
