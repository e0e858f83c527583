/*
 * heap_internal.h - block layout of the TLSF heap, shared by heap.c (the
 * allocator) and heap_check.c (verification, statistics, diagnosis).
 *
 * Layout of an area (memory given with cub_heap_init/add_area):
 *   [struct area][block][block]...[sentinel]
 * A block starts with a 16-byte header {size|flags, check}; the payload
 * follows. A free block keeps its free-list links in the first 16 payload
 * bytes and a copy of its size (the boundary tag) in its last 8 bytes, so
 * the block after it can find it to coalesce. The sentinel is a header of
 * size HDR flagged LAST that ends the area.
 *
 * Invariants (verified by cub_heap_check_of):
 *  - check == size_flags ^ address ^ secret for every header;
 *  - sizes are multiples of 16 and >= MIN_BLOCK (the sentinel: HDR);
 *  - F_PREV_FREE of a block == F_FREE of the block physically before it;
 *  - no two free blocks are adjacent; every free block is on exactly the
 *    list of its class, and a class bit is set iff its list is non-empty;
 *  - with poisoning, a free block's bytes [32, size-8) hold POISON_BYTE.
 */
#ifndef CUBRT_HEAP_INTERNAL_H
#define CUBRT_HEAP_INTERNAL_H

#include <cubrt/heap.h>

#define HDR 16u
#define MIN_BLOCK 48u
#define F_FREE 1u
#define F_PREV_FREE 2u
#define F_LAST 4u
#define F_MASK 15u
#define SL_LOG2 5
#define SMALL_LIMIT ((size_t)CUBI_HEAP_SL * CUB_HEAP_ALIGN)	/* 512 */
#define POISON_BYTE 0xDB
#define AREA_HDR 16u

struct blk {
	size_t size_flags;
	uintptr_t check;
	struct blk *next_free;	/* free blocks only */
	struct blk *prev_free;
};

struct area {
	struct area *next;
	size_t len;		/* bytes, struct area and sentinel included */
};

static inline size_t bsize(const struct blk *b)
{
	return b->size_flags & ~(size_t)F_MASK;
}

static inline bool bfree(const struct blk *b)
{
	return b->size_flags & F_FREE;
}

static inline bool bprev_free(const struct blk *b)
{
	return b->size_flags & F_PREV_FREE;
}

static inline uintptr_t check_word(const struct cub_heap *h, const struct blk *b,
				   size_t size_flags)
{
	return size_flags ^ (uintptr_t)b ^ h->secret;
}

static inline bool hdr_ok(const struct cub_heap *h, const struct blk *b)
{
	return b->check == check_word(h, b, b->size_flags);
}

static inline void set_hdr(const struct cub_heap *h, struct blk *b, size_t size_flags)
{
	b->size_flags = size_flags;
	b->check = check_word(h, b, size_flags);
}

static inline struct blk *next_phys(const struct blk *b)
{
	return (struct blk *)((char *)b + bsize(b));
}

static inline size_t *footer(const struct blk *b)
{
	return (size_t *)((char *)b + bsize(b) - sizeof(size_t));
}

static inline struct blk *first_block(const struct area *a)
{
	return (struct blk *)((char *)a + AREA_HDR);
}

static inline struct blk *sentinel(const struct area *a)
{
	return (struct blk *)((char *)a + a->len - HDR);
}

static inline void *payload(const struct blk *b)
{
	return (char *)b + HDR;
}

static inline struct blk *blk_of(const void *p)
{
	return (struct blk *)((char *)p - HDR);
}

/* TLSF class of a block size: first level fl, second level sl. */
static inline void class_of(size_t size, unsigned *fl, unsigned *sl)
{
	if (size < SMALL_LIMIT) {
		*fl = 0;
		*sl = (unsigned)(size / CUB_HEAP_ALIGN);
	} else {
		unsigned f = 63u - (unsigned)__builtin_clzll(size);

		*fl = f - 8;
		*sl = (unsigned)(size >> (f - SL_LOG2)) & (CUBI_HEAP_SL - 1);
	}
}

/* heap_check.c: panics naming p after classifying a bad header. */
CUB_NORETURN void cubi_heap_bad_pointer(struct cub_heap *h, const char *who,
					 const void *p);
/* heap_check.c: true when [from, to) holds only POISON_BYTE; else *bad. */
bool cubi_heap_poison_intact(const void *from, const void *to, uintptr_t *bad);

#endif
