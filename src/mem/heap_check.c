/*
 * heap_check.c - heap verification (cub_heap_check_of), statistics,
 * poisoning control and the diagnosis of bad pointers. Slow paths only:
 * nothing here runs in the malloc/free fast path except on misuse.
 *
 * Invariants: see heap_internal.h; this file only reads heap state
 * (except cub_heap_set_poison, which writes poison into free blocks).
 * Locking: as heap.c, interrupts disabled while walking.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "heap_internal.h"

bool cubi_heap_poison_intact(const void *from, const void *to, uintptr_t *bad)
{
	const unsigned char *p = from, *e = to;

	for (; p < e && (uintptr_t)p % 8; p++)
		if (*p != POISON_BYTE)
			goto found;
	for (; p + 8 <= e; p += 8)
		if (*(const uint64_t *)(const void *)p != 0xDBDBDBDBDBDBDBDBull)
			break;
	for (; p < e; p++)
		if (*p != POISON_BYTE)
			goto found;
	return true;
found:
	*bad = (uintptr_t)p;
	return false;
}

static struct area *area_of(struct cub_heap *h, uintptr_t p)
{
	for (struct area *a = h->areas; a; a = a->next)
		if (p >= (uintptr_t)a && p < (uintptr_t)a + a->len)
			return a;
	return NULL;
}

/*
 * p failed the fast checks: walk its area to tell a corrupted header from
 * a pointer the heap never returned, and panic naming the address.
 */
CUB_NORETURN void cubi_heap_bad_pointer(struct cub_heap *h, const char *who,
					 const void *p)
{
	uintptr_t want = (uintptr_t)p - HDR;
	struct area *a = area_of(h, (uintptr_t)p);
	struct blk *b;

	if (!a || (uintptr_t)p % CUB_HEAP_ALIGN)
		cub_panic("%s: 0x%lx was not returned by the heap", who,
			  (unsigned long)p);
	for (b = first_block(a); b != sentinel(a); b = next_phys(b)) {
		if ((uintptr_t)b == want)
			break;
		if (!hdr_ok(h, b) || bsize(b) < MIN_BLOCK ||
		    (uintptr_t)next_phys(b) > (uintptr_t)sentinel(a))
			cub_panic("%s: heap corrupted: block header at 0x%lx overwritten (buffer overrun?)",
				  who, (unsigned long)b);
		if (want < (uintptr_t)next_phys(b))
			cub_panic("%s: 0x%lx was not returned by the heap (it points into block 0x%lx)",
				  who, (unsigned long)p, (unsigned long)payload(b));
	}
	cub_panic("%s: header of block 0x%lx overwritten (buffer overrun?)", who,
		  (unsigned long)p);
}

struct walk {
	size_t used, free, blocks, free_blocks;
};

static int fail(const char *what, const void *where)
{
	cub_printk("cub_heap_check: %s at 0x%lx\n", what, (unsigned long)where);
	return -CUB_EFAULT;
}

/* Verifies one area's chain of blocks; adds to the totals in w. */
static int check_area(struct cub_heap *h, struct area *a, struct walk *w)
{
	struct blk *b = first_block(a), *end = sentinel(a);
	bool prev_free = false;
	uintptr_t bad;

	if (!hdr_ok(h, end) || (end->size_flags & ~(size_t)F_PREV_FREE) != (HDR | F_LAST))
		return fail("bad area sentinel", end);
	while (b != end) {
		size_t s = bsize(b);

		if (!hdr_ok(h, b))
			return fail("block header check word mismatch", b);
		if (s < MIN_BLOCK || s % CUB_HEAP_ALIGN || (b->size_flags & F_LAST) ||
		    (uintptr_t)b + s > (uintptr_t)end)
			return fail("bad block size", b);
		if (bprev_free(b) != prev_free)
			return fail("PREV_FREE flag disagrees with the previous block", b);
		if (bfree(b)) {
			if (prev_free)
				return fail("two adjacent free blocks", b);
			if (*footer(b) != s)
				return fail("bad boundary tag", footer(b));
			if (h->poison && !cubi_heap_poison_intact((char *)b + 2 * HDR,
								  footer(b), &bad))
				return fail("freed memory written after free", (void *)bad);
			w->free += s;
			w->free_blocks++;
		} else {
			w->used += s;
			w->blocks++;
		}
		prev_free = bfree(b);
		b = next_phys(b);
	}
	if (bprev_free(end) != prev_free)
		return fail("sentinel PREV_FREE flag wrong", end);
	return 0;
}

/* Verifies the segregated lists and bitmaps; counts their blocks. */
static int check_lists(struct cub_heap *h, size_t *count)
{
	for (unsigned fl = 0; fl < CUBI_HEAP_FL; fl++) {
		bool fl_bit = h->fl_bitmap >> fl & 1;

		if (fl_bit != (h->sl_bitmap[fl] != 0))
			return fail("first-level bitmap disagrees", &h->fl_bitmap);
		for (unsigned sl = 0; sl < CUBI_HEAP_SL; sl++) {
			struct blk *prev = NULL;

			if ((h->sl_bitmap[fl] >> sl & 1) != (h->lists[fl][sl] != NULL))
				return fail("second-level bitmap disagrees", &h->sl_bitmap[fl]);
			for (struct blk *b = h->lists[fl][sl]; b; b = b->next_free) {
				unsigned f, s;

				if ((uintptr_t)b < h->lo || (uintptr_t)b >= h->hi ||
				    !hdr_ok(h, b) || !bfree(b))
					return fail("bad block on a free list", b);
				class_of(bsize(b), &f, &s);
				if (f != fl || s != sl)
					return fail("free block on the wrong list", b);
				if (b->prev_free != prev)
					return fail("broken free-list link", b);
				if (++*count > h->free_blocks)
					return fail("free lists longer than the free count", b);
				prev = b;
			}
		}
	}
	return 0;
}

int cub_heap_check_of(struct cub_heap *h)
{
	unsigned long irq = cub_arch_irq_save();
	struct walk w = { 0, 0, 0, 0 };
	size_t listed = 0;
	int rc = 0;

	for (struct area *a = h->areas; a && !rc; a = a->next)
		rc = check_area(h, a, &w);
	if (!rc)
		rc = check_lists(h, &listed);
	if (!rc && (listed != w.free_blocks || w.free_blocks != h->free_blocks))
		rc = fail("free block count differs from the free lists", h);
	if (!rc && (w.free != h->free_bytes || w.used != h->in_use ||
		    w.blocks != h->blocks))
		rc = fail("byte or block counters differ from the blocks", h);
	cub_arch_irq_restore(irq);
	return rc;
}

void cub_heap_stats_of(struct cub_heap *h, struct cub_heap_stats *st)
{
	unsigned long irq = cub_arch_irq_save();
	size_t largest = 0;

	if (h->fl_bitmap) {
		unsigned fl = 63u - (unsigned)__builtin_clzll(h->fl_bitmap);
		unsigned sl = 31u - (unsigned)__builtin_clz(h->sl_bitmap[fl]);

		/* The largest block is in the highest class: scan that one. */
		for (struct blk *b = h->lists[fl][sl]; b; b = b->next_free)
			largest = CUB_MAX(largest, bsize(b));
	}
	st->in_use = h->in_use;
	st->free = h->free_bytes;
	st->peak = h->peak;
	st->largest_free = largest;
	st->blocks = h->blocks;
	st->free_blocks = h->free_blocks;
	st->total = h->area_bytes;
	cub_arch_irq_restore(irq);
}

void cub_heap_set_poison(struct cub_heap *h, bool on)
{
	unsigned long irq = cub_arch_irq_save();

	if (on && !h->poison) {
		for (struct area *a = h->areas; a; a = a->next)
			for (struct blk *b = first_block(a); b != sentinel(a);
			     b = next_phys(b))
				if (bfree(b))
					cub_memset((char *)b + 2 * HDR, POISON_BYTE,
						   (size_t)((char *)footer(b) -
							    ((char *)b + 2 * HDR)));
	}
	h->poison = on;
	cub_arch_irq_restore(irq);
}
