/*
 * heap.c - the TLSF allocator core: free lists by class, malloc, free with
 * immediate coalescing, realloc in place, aligned allocation.
 *
 * Invariants: see heap_internal.h (block layout) and cubrt/heap.h.
 * Locking: every field of struct cub_heap and every block header of its
 * areas is protected by disabling interrupts (cub_arch_irq_save) around
 * each public call; the h->grow callback runs with that held. Heap calls
 * never block and never nest, and panic in irq context.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "heap_internal.h"

#ifndef CUB_HEAP_POISON
#define CUB_HEAP_POISON 0
#endif

/* ------------------------------------------------------------ free lists */

static void list_insert(struct cub_heap *h, struct blk *b)
{
	unsigned fl, sl;
	struct blk *head;

	class_of(bsize(b), &fl, &sl);
	head = h->lists[fl][sl];
	b->next_free = head;
	b->prev_free = NULL;
	if (head)
		head->prev_free = b;
	h->lists[fl][sl] = b;
	h->fl_bitmap |= 1ull << fl;
	h->sl_bitmap[fl] |= 1u << sl;
	h->free_blocks++;
	h->free_bytes += bsize(b);
}

static void list_remove(struct cub_heap *h, struct blk *b)
{
	unsigned fl, sl;

	class_of(bsize(b), &fl, &sl);
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else
		h->lists[fl][sl] = b->next_free;
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	if (!h->lists[fl][sl]) {
		h->sl_bitmap[fl] &= ~(1u << sl);
		if (!h->sl_bitmap[fl])
			h->fl_bitmap &= ~(1ull << fl);
	}
	h->free_blocks--;
	h->free_bytes -= bsize(b);
}

/*
 * Finds and unlinks a free block of at least size bytes in O(1): rounds
 * size up to the next class boundary so that every block of the class
 * found fits, then takes the first non-empty class at or above it.
 */
static size_t round_to_class(size_t size)
{
	if (size >= SMALL_LIMIT)
		size += ((size_t)1 << (63 - __builtin_clzll(size) - SL_LOG2)) - 1;
	return size;
}

static struct blk *take_fit(struct cub_heap *h, size_t size, const char *who)
{
	unsigned fl, sl;
	uint32_t slmap;
	uint64_t flmap;
	struct blk *b;

	class_of(round_to_class(size), &fl, &sl);
	if (fl >= CUBI_HEAP_FL)
		return NULL;
	slmap = h->sl_bitmap[fl] & (~0u << sl);
	if (!slmap) {
		flmap = fl + 1 < CUBI_HEAP_FL ? h->fl_bitmap & (~0ull << (fl + 1)) : 0;
		if (!flmap)
			return NULL;
		fl = (unsigned)__builtin_ctzll(flmap);
		slmap = h->sl_bitmap[fl];
	}
	sl = (unsigned)__builtin_ctz(slmap);
	b = h->lists[fl][sl];
	if (!hdr_ok(h, b) || !bfree(b))
		cub_panic("%s: free block header at 0x%lx overwritten (buffer overrun?)",
			  who, (unsigned long)b);
	list_remove(h, b);
	return b;
}

/* ----------------------------------------------------------- poisoning */

static void poison(const struct cub_heap *h, void *from, void *to)
{
	if (h->poison && (char *)to > (char *)from)
		cub_memset(from, POISON_BYTE, (size_t)((char *)to - (char *)from));
}

static void poison_verify(const struct cub_heap *h, void *from, void *to,
			  const char *who)
{
	uintptr_t bad;

	if (h->poison && (char *)to > (char *)from &&
	    !cubi_heap_poison_intact(from, to, &bad))
		cub_panic("%s: freed memory at 0x%lx was written after free",
			  who, (unsigned long)bad);
}

/* --------------------------------------------------------- block edits */

/* Sets or clears F_PREV_FREE of n after checking n's header is intact. */
static void set_prev_free(struct cub_heap *h, struct blk *n, bool on)
{
	if (!hdr_ok(h, n))
		cub_panic("heap: block header at 0x%lx overwritten (buffer overrun?)",
			  (unsigned long)n);
	set_hdr(h, n, on ? n->size_flags | F_PREV_FREE
			 : n->size_flags & ~(size_t)F_PREV_FREE);
}

/* Makes b (size bytes, unlinked) free, sets its boundary tag and tells the
 * next block. Does not coalesce. */
static void mark_free(struct cub_heap *h, struct blk *b, size_t size, size_t prev_flag)
{
	set_hdr(h, b, size | F_FREE | prev_flag);
	*footer(b) = size;
	set_prev_free(h, next_phys(b), true);
}

/* Merges free, unlinked b with free neighbours (unlinking them); returns
 * the merged block, still unlinked. */
static struct blk *coalesce(struct cub_heap *h, struct blk *b, const char *who)
{
	struct blk *n = next_phys(b);

	if (!hdr_ok(h, n))
		cub_panic("%s: heap block header at 0x%lx overwritten (buffer overrun from 0x%lx?)",
			  who, (unsigned long)n, (unsigned long)payload(b));
	if (bfree(n)) {
		list_remove(h, n);
		mark_free(h, b, bsize(b) + bsize(n), b->size_flags & F_PREV_FREE);
		poison(h, (char *)n - sizeof(size_t), (char *)n + 2 * HDR);
	}
	if (bprev_free(b)) {
		/* The word before b is the previous block's boundary tag. */
		struct blk *p = (struct blk *)((char *)b - ((size_t *)b)[-1]);

		if ((uintptr_t)p < h->lo || !hdr_ok(h, p) || !bfree(p) ||
		    next_phys(p) != b)
			cub_panic("%s: boundary tag before 0x%lx overwritten (heap corruption)",
				  who, (unsigned long)b);
		list_remove(h, p);
		mark_free(h, p, bsize(p) + bsize(b), p->size_flags & F_PREV_FREE);
		poison(h, (char *)b - sizeof(size_t), (char *)b + 2 * HDR);
		b = p;
	}
	return b;
}

/* Frees [b, b+size) (b unlinked, not yet free), coalesces and links it. */
static void release_block(struct cub_heap *h, struct blk *b, size_t size,
			  size_t prev_flag, const char *who)
{
	mark_free(h, b, size, prev_flag);
	poison(h, (char *)b + 2 * HDR, footer(b));
	list_insert(h, coalesce(h, b, who));
}

/*
 * Turns free, unlinked block b into an allocated block of size bytes,
 * splitting off the tail when it can form a block of its own.
 */
static void *use_block(struct cub_heap *h, struct blk *b, size_t size, const char *who)
{
	size_t have = bsize(b);
	size_t prev_flag = b->size_flags & F_PREV_FREE;
	char *end = (char *)b + have - sizeof(size_t);

	poison_verify(h, (char *)b + 2 * HDR,
		      have - size >= MIN_BLOCK ? (char *)b + size : end, who);
	if (have - size >= MIN_BLOCK) {
		struct blk *rest = (struct blk *)((char *)b + size);

		set_hdr(h, b, size | prev_flag);
		mark_free(h, rest, have - size, 0);
		list_insert(h, rest);
	} else {
		set_hdr(h, b, have | prev_flag);
		set_prev_free(h, next_phys(b), false);
	}
	h->blocks++;
	h->in_use += bsize(b);
	h->peak = CUB_MAX(h->peak, h->in_use);
	return payload(b);
}

/* Block size for a request of n bytes; 0 when too large. */
static size_t adjust(size_t n)
{
	if (n > CUB_HEAP_MAX_ALLOC)
		return 0;
	return CUB_MAX(CUB_ALIGN_UP(n + HDR, CUB_HEAP_ALIGN), (size_t)MIN_BLOCK);
}

static unsigned long lock(const char *who)
{
	if (cub_arch_in_irq())
		cub_panic("%s: called from interrupt context", who);
	return cub_arch_irq_save();
}

/* Finds a block of size bytes, growing the heap once if none fits. */
static struct blk *take_or_grow(struct cub_heap *h, size_t size, const char *who)
{
	struct blk *b = take_fit(h, size, who);

	if (!b && h->grow && h->grow(h, round_to_class(size) + AREA_HDR + HDR) == 0)
		b = take_fit(h, size, who);
	return b;
}

/* Checks that p is a live block of h and returns it; panics otherwise. */
static struct blk *live_block(struct cub_heap *h, void *p, const char *who)
{
	uintptr_t up = (uintptr_t)p;
	struct blk *b;

	/* Range first, in integers: blk_of() on a wild pointer (say 0x10)
	 * would be pointer arithmetic outside any object. */
	if (up % CUB_HEAP_ALIGN || up < h->lo + HDR || up >= h->hi)
		cubi_heap_bad_pointer(h, who, p);
	b = blk_of(p);
	if ((h->probe && cub_arch_page_query((uintptr_t)b & ~(CUB_PAGE_SIZE - 1),
					     NULL, NULL)) ||
	    !hdr_ok(h, b) ||
	    (b->size_flags & F_LAST) || bsize(b) < MIN_BLOCK)
		cubi_heap_bad_pointer(h, who, p);
	if (bfree(b))
		cub_panic(cub_strcmp(who, "cub_free") ? "%s: 0x%lx was already freed (use after free)"
						      : "%s: double free of 0x%lx",
			  who, (unsigned long)p);
	if (!hdr_ok(h, next_phys(b)))
		cub_panic("%s: heap block header at 0x%lx overwritten (buffer overrun from 0x%lx?)",
			  who, (unsigned long)next_phys(b), (unsigned long)p);
	return b;
}

/* -------------------------------------------------------------- API */

void *cub_heap_alloc(struct cub_heap *h, size_t n)
{
	size_t size = adjust(n);
	unsigned long irq;
	struct blk *b;
	void *p = NULL;

	if (!size)
		return NULL;
	irq = lock("cub_malloc");
	b = take_or_grow(h, size, "cub_malloc");
	if (b)
		p = use_block(h, b, size, "cub_malloc");
	cub_arch_irq_restore(irq);
	return p;
}

void cub_heap_free(struct cub_heap *h, void *p)
{
	unsigned long irq;
	struct blk *b;

	if (!p)
		return;
	irq = lock("cub_free");
	b = live_block(h, p, "cub_free");
	h->blocks--;
	h->in_use -= bsize(b);
	release_block(h, b, bsize(b), b->size_flags & F_PREV_FREE, "cub_free");
	cub_arch_irq_restore(irq);
}

void *cub_heap_calloc(struct cub_heap *h, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	p = cub_heap_alloc(h, bytes);
	if (p)
		cub_memset(p, 0, bytes);
	return p;
}

/* Shrinks live b to size in place, freeing the tail when it is useful. */
static void shrink(struct cub_heap *h, struct blk *b, size_t size)
{
	size_t have = bsize(b);

	if (have - size < MIN_BLOCK)
		return;
	set_hdr(h, b, size | (b->size_flags & F_PREV_FREE));
	h->in_use -= have - size;
	release_block(h, (struct blk *)((char *)b + size), have - size, 0,
		      "cub_realloc");
}

/* Grows live b to size into a free next block; false when it cannot. */
static bool grow_in_place(struct cub_heap *h, struct blk *b, size_t size)
{
	struct blk *n = next_phys(b);
	size_t have = bsize(b), total;

	if (!bfree(n) || have + bsize(n) < size)
		return false;
	total = have + bsize(n);
	list_remove(h, n);
	poison_verify(h, (char *)n + 2 * HDR, footer(n), "cub_realloc");
	set_hdr(h, b, total | (b->size_flags & F_PREV_FREE));
	set_prev_free(h, next_phys(b), false);
	h->in_use += total - have;
	h->peak = CUB_MAX(h->peak, h->in_use);
	shrink(h, b, size);
	return true;
}

void *cub_heap_realloc(struct cub_heap *h, void *p, size_t n)
{
	size_t size = adjust(n), old;
	unsigned long irq;
	struct blk *b;
	bool done;
	void *q;

	if (!p)
		return cub_heap_alloc(h, n);
	irq = lock("cub_realloc");
	b = live_block(h, p, "cub_realloc");
	old = bsize(b);
	done = size && size <= old;
	if (done)
		shrink(h, b, size);
	else if (size)
		done = grow_in_place(h, b, size);
	cub_arch_irq_restore(irq);
	if (done)
		return p;
	if (!size || !(q = cub_heap_alloc(h, n)))
		return NULL;
	cub_memcpy(q, p, old - HDR);
	cub_heap_free(h, p);
	return q;
}

void *cub_heap_aligned_alloc(struct cub_heap *h, size_t align, size_t n)
{
	size_t size = adjust(n), gap;
	unsigned long irq;
	struct blk *b;
	uintptr_t pl, want;
	void *p = NULL;

	if (!align || (align & (align - 1)) || align > CUB_PAGE_SIZE || !size)
		return NULL;
	if (align <= CUB_HEAP_ALIGN)
		return cub_heap_alloc(h, n);
	irq = lock("cub_aligned_alloc");
	b = take_or_grow(h, size + align + MIN_BLOCK, "cub_aligned_alloc");
	if (b) {
		pl = (uintptr_t)payload(b);
		want = CUB_ALIGN_UP(pl, align);
		if (want != pl && want - pl < MIN_BLOCK)
			want = CUB_ALIGN_UP(pl + MIN_BLOCK, align);
		gap = want - pl;
		if (gap) {
			struct blk *a = (struct blk *)((char *)b + gap);
			size_t prev_flag = b->size_flags & F_PREV_FREE;

			set_hdr(h, a, (bsize(b) - gap) | F_FREE);
			mark_free(h, b, gap, prev_flag);
			list_insert(h, b);
			b = a;
		}
		p = use_block(h, b, size, "cub_aligned_alloc");
	}
	cub_arch_irq_restore(irq);
	return p;
}

size_t cub_heap_usable_size(struct cub_heap *h, void *p)
{
	unsigned long irq;
	size_t n;

	if (!p)
		return 0;
	irq = lock("cub_malloc_usable_size");
	n = bsize(live_block(h, p, "cub_malloc_usable_size")) - HDR;
	cub_arch_irq_restore(irq);
	return n;
}

/* ------------------------------------------------------------- areas */

#define MIN_AREA 128u

int cub_heap_add_area(struct cub_heap *h, void *mem, size_t len)
{
	uintptr_t lo = CUB_ALIGN_UP((uintptr_t)mem, CUB_HEAP_ALIGN);
	uintptr_t hi = CUB_ALIGN_DOWN((uintptr_t)mem + len, CUB_HEAP_ALIGN);
	struct area *last = h->areas, *a;
	struct blk *b;

	if (!mem || hi < lo || hi - lo < MIN_AREA)
		return -CUB_EINVAL;
	if (last && (uintptr_t)last + last->len == lo) {
		/* Contiguous: the old sentinel becomes the new block. */
		b = sentinel(last);
		last->len += hi - lo;
		a = last;
	} else {
		a = (struct area *)lo;
		a->next = last;
		a->len = hi - lo;
		h->areas = a;
		b = first_block(a);
		b->size_flags = 0;
	}
	set_hdr(h, sentinel(a), HDR | F_LAST);
	h->lo = h->lo ? CUB_MIN(h->lo, lo) : lo;
	h->hi = CUB_MAX(h->hi, hi);
	h->area_bytes += hi - lo;
	/* Insert the new space as a block being freed (poisons, coalesces). */
	release_block(h, b, (size_t)((char *)sentinel(a) - (char *)b),
		      b->size_flags & F_PREV_FREE, "cub_heap_add_area");
	return 0;
}

int cub_heap_init(struct cub_heap *h, void *mem, size_t len)
{
	cub_memset(h, 0, sizeof(*h));
	h->secret = ((uintptr_t)h * 0x9E3779B97F4A7C15ull) ^ 0x6a09e667f3bcc909ull;
	h->poison = CUB_HEAP_POISON;
	if (!mem && !len)
		return 0;
	return cub_heap_add_area(h, mem, len);
}

/* Gives back every area that is one free block; returns bytes released. */
size_t cub_heap_trim(struct cub_heap *h)
{
	unsigned long irq = lock("cub_heap_trim");
	struct area **link = (struct area **)&h->areas;
	size_t released = 0;

	while (*link) {
		struct area *a = *link;
		struct blk *b = first_block(a);

		if (!h->release || !bfree(b) || next_phys(b) != sentinel(a)) {
			link = &a->next;
			continue;
		}
		list_remove(h, b);
		*link = a->next;
		h->area_bytes -= a->len;
		released += a->len;
		set_hdr(h, b, 0);	/* stale pointers into it fail checks */
		h->release(h, a, a->len);
	}
	cub_arch_irq_restore(irq);
	return released;
}
