/*
 * cubrt/heap.h - the heap: a TLSF-class (two-level segregated fit)
 * allocator with O(1) malloc and free, immediate coalescing and misuse
 * detection.
 *
 * The global heap (cub_malloc and friends) grows by runs of page frames
 * from the frame allocator (cubrt/mem.h) and is ready once cubi_mem_init()
 * ran. Independent heaps over caller memory use struct cub_heap with the
 * cub_heap_* calls (tests run the allocator over their own arena).
 *
 * Guarantees:
 *  - every pointer returned is 16-byte aligned (CUB_HEAP_ALIGN);
 *  - malloc/free/realloc-in-place cost O(1) (a bounded number of bitmap
 *    and list steps), independent of the heap size; growth adds an area
 *    taken from the frame allocator;
 *  - a freed block merges at once with free neighbours: two free blocks are
 *    never adjacent;
 *  - misuse stops with cub_panic naming the address: double free, freeing
 *    a pointer the heap never returned, a block header overwritten (e.g. a
 *    buffer overrun of the block before it, found when either block or the
 *    neighbour is freed, reallocated or checked), and with heap poisoning
 *    (meson option heap_poison, or cub_heap_set_poison) a write to freed
 *    memory, found when the memory is reused or checked.
 *
 * Contexts: task (any coroutine) and boot. The heap's state is protected
 * by disabling interrupts (cub_arch_irq_save), so preemption cannot
 * corrupt it. Calling any allocation function from irq context panics
 * ("cub_malloc: called from interrupt context"): use preallocated storage
 * in interrupt handlers.
 */
#ifndef CUBRT_HEAP_H
#define CUBRT_HEAP_H

#include <cubrt/base.h>

#define CUB_HEAP_ALIGN 16
/* Largest request any heap accepts (larger ones return NULL). */
#define CUB_HEAP_MAX_ALLOC ((size_t)1 << 38)

#define CUBI_HEAP_FL 32		/* first-level classes (powers of two) */
#define CUBI_HEAP_SL 32		/* second-level subdivisions per class */

struct cub_heap {
	/* All fields are private. */
	uint64_t fl_bitmap;
	uint32_t sl_bitmap[CUBI_HEAP_FL];
	void *lists[CUBI_HEAP_FL][CUBI_HEAP_SL];
	void *areas;			/* most recently added area first */
	uintptr_t lo, hi;		/* bounds of every area ever added */
	uintptr_t secret;		/* mixed into header check words */
	size_t in_use, free_bytes, peak, blocks, free_blocks, area_bytes;
	bool poison;
	bool probe;			/* check a pointer's page is mapped */
	/* Called (lock held) when no block fits: add >= min bytes with
	 * cub_heap_add_area or return a negative code. */
	int (*grow)(struct cub_heap *h, size_t min);
	/* Gives back an entirely free area (cub_heap_trim). */
	void (*release)(struct cub_heap *h, void *mem, size_t len);
};

struct cub_heap_stats {
	size_t in_use;		/* bytes in allocated blocks (headers included) */
	size_t free;		/* bytes in free blocks */
	size_t peak;		/* highest in_use seen */
	size_t largest_free;	/* size of the largest free block */
	size_t blocks;		/* allocated blocks */
	size_t free_blocks;	/* free blocks */
	size_t total;		/* bytes of all areas, overhead included */
};

/* ------------------------------------------------------- global heap */

/*
 * cub_malloc(n): a block of at least n bytes, or NULL when memory is
 * exhausted or n > CUB_HEAP_MAX_ALLOC. n == 0 gives a unique minimal
 * block (free it like any other).
 */
void *cub_malloc(size_t n);

/* Frees p (NULL is ignored). Misuse panics (see above). */
void cub_free(void *p);

/* n * size zeroed bytes; NULL when the product overflows or on ENOMEM. */
void *cub_calloc(size_t n, size_t size);

/*
 * Resizes p to n bytes, keeping the contents up to the smaller size.
 * In place when it can (shrinking, or growing into a free neighbour),
 * otherwise allocate + copy + free. p == NULL is cub_malloc(n); n == 0
 * resizes to a minimal block (p stays valid: nothing is freed). On failure
 * returns NULL and p is untouched.
 */
void *cub_realloc(void *p, size_t n);

/*
 * A block of n bytes whose address is a multiple of align. align must be
 * a power of two up to CUB_PAGE_SIZE; otherwise (or on ENOMEM) NULL.
 * Unlike C11, n need not be a multiple of align.
 */
void *cub_aligned_alloc(size_t align, size_t n);

/* Usable bytes of block p (>= the size asked for). p must be live. */
size_t cub_malloc_usable_size(void *p);

/* Statistics of the global heap. */
void cub_heap_stats(struct cub_heap_stats *st);

/*
 * Walks every block of the global heap and verifies every invariant
 * (header check words, sizes, boundary tags, coalescing, free-list
 * classes and bitmaps, counters, poison). Returns 0, or prints
 * "cub_heap_check: <what> at <address>" and returns -CUB_EFAULT.
 */
int cub_heap_check(void);

/* Gives entirely free areas of the global heap back to the frame
 * allocator. Returns the bytes released. */
size_t cub_heap_release_free(void);

/* ---------------------------------------------------- heap instances */

/*
 * Initialises h over [mem, mem+len) (mem may be NULL with len 0: an empty
 * heap that only grows through h->grow, which the caller may set after).
 * Poisoning starts as configured by the heap_poison build option.
 * Returns 0 or -CUB_EINVAL (area too small: under 128 bytes).
 */
int cub_heap_init(struct cub_heap *h, void *mem, size_t len);

/* Adds more memory to h (any address; merges with the last area when
 * contiguous). 0 or -CUB_EINVAL. Called with h locked from h->grow. */
int cub_heap_add_area(struct cub_heap *h, void *mem, size_t len);

/* Switches poisoning on or off (turning it on poisons current free
 * blocks). */
void cub_heap_set_poison(struct cub_heap *h, bool on);

void *cub_heap_alloc(struct cub_heap *h, size_t n);
void cub_heap_free(struct cub_heap *h, void *p);
void *cub_heap_calloc(struct cub_heap *h, size_t n, size_t size);
void *cub_heap_realloc(struct cub_heap *h, void *p, size_t n);
void *cub_heap_aligned_alloc(struct cub_heap *h, size_t align, size_t n);
size_t cub_heap_usable_size(struct cub_heap *h, void *p);
void cub_heap_stats_of(struct cub_heap *h, struct cub_heap_stats *st);
int cub_heap_check_of(struct cub_heap *h);
size_t cub_heap_trim(struct cub_heap *h);

/* The global heap (for the calls above). */
struct cub_heap *cub_heap_global(void);

#endif
