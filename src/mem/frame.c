/*
 * frame.c - the physical page-frame allocator: one bitmap over the span of
 * all RAM regions, lowest-address first fit.
 *
 * Invariants:
 *  - bit i of bitmap is 1 iff frame span_lo + i*4K is not free: allocated,
 *    part of the allocator's own bitmap (meta), or not RAM (a hole between
 *    regions, or the tail of the last bitmap word);
 *  - nfree == number of 0 bits; total == RAM frames minus meta frames;
 *  - every 64-bit word below hint is all ones (hint may lag below: it is a
 *    lower bound for the first free frame);
 *  - frames at index >= hwm were never handed out since init (pristine).
 * A bitmap keeps no state inside free frames, so free memory is never
 * touched (the host arena stays sparse) and any sub-run of an allocation
 * may be freed separately.
 * Locking: all state is protected by disabling interrupts
 * (cub_arch_irq_save); no other lock is taken inside.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "mem_internal.h"

#define MAX_REGIONS 32
#define WORD_BITS 64

static struct cub_mem_region regions[MAX_REGIONS];
static size_t nregions;
static uint64_t *bitmap;
static size_t nframes;		/* frames covered by the bitmap */
static size_t nwords;
static uintptr_t span_lo;
static uintptr_t meta_lo, meta_hi;
static size_t total, nfree, min_free, meta_frames;
static size_t hint;		/* word index */
static size_t hwm;		/* frame index */
static bool pristine_zero;

static inline bool bit_get(size_t i)
{
	return bitmap[i / WORD_BITS] >> (i % WORD_BITS) & 1;
}

static inline void bit_set(size_t i)
{
	bitmap[i / WORD_BITS] |= 1ull << (i % WORD_BITS);
}

static inline void bit_clear(size_t i)
{
	bitmap[i / WORD_BITS] &= ~(1ull << (i % WORD_BITS));
}

/* Clears bits [first, first+cnt), whole words at a time where it can. */
static void clear_range(size_t first, size_t cnt)
{
	size_t f = first, end = first + cnt;

	for (; f < end && f % WORD_BITS; f++)
		bit_clear(f);
	for (; f + WORD_BITS <= end; f += WORD_BITS)
		bitmap[f / WORD_BITS] = 0;
	for (; f < end; f++)
		bit_clear(f);
}

void cubi_frame_set_pristine_zero(void)
{
	pristine_zero = true;
}

/* Places the bitmap in the first region large enough for it. */
static void place_bitmap(size_t bytes)
{
	size_t pages = CUB_ALIGN_UP(bytes, CUB_PAGE_SIZE) / CUB_PAGE_SIZE;

	for (size_t i = 0; i < nregions; i++) {
		if (regions[i].len / CUB_PAGE_SIZE >= pages) {
			meta_lo = regions[i].base;
			meta_hi = meta_lo + pages * CUB_PAGE_SIZE;
			meta_frames = pages;
			bitmap = (uint64_t *)meta_lo;
			return;
		}
	}
	cub_panic("cubi_frame_init: no region holds the %zu-byte frame bitmap",
		  bytes);
}

void cubi_frame_init_regions(const struct cub_mem_region *r, size_t n)
{
	uintptr_t hi;

	if (n == 0)
		cub_panic("cubi_frame_init: the platform reported no RAM");
	nregions = CUB_MIN(n, (size_t)MAX_REGIONS);
	for (size_t i = 0; i < nregions; i++) {
		if (!CUB_IS_ALIGNED(r[i].base | r[i].len, CUB_PAGE_SIZE) ||
		    !r[i].len || (i && r[i].base < r[i - 1].base + r[i - 1].len))
			cub_panic("cubi_frame_init: bad region %zu (%lx+%zx)", i,
				  (unsigned long)r[i].base, r[i].len);
		regions[i] = r[i];
	}
	span_lo = regions[0].base;
	hi = regions[nregions - 1].base + regions[nregions - 1].len;
	nframes = (hi - span_lo) / CUB_PAGE_SIZE;
	nwords = (nframes + WORD_BITS - 1) / WORD_BITS;
	place_bitmap(nwords * sizeof(uint64_t));
	cub_memset(bitmap, 0xFF, nwords * sizeof(uint64_t));
	total = 0;
	for (size_t i = 0; i < nregions; i++) {
		size_t first = (regions[i].base - span_lo) / CUB_PAGE_SIZE;
		size_t cnt = regions[i].len / CUB_PAGE_SIZE;

		clear_range(first, cnt);
		total += cnt;
	}
	for (uintptr_t a = meta_lo; a < meta_hi; a += CUB_PAGE_SIZE)
		bit_set((a - span_lo) / CUB_PAGE_SIZE);
	total -= meta_frames;
	nfree = min_free = total;
	hint = 0;
	hwm = 0;
}

/* True when frame index f is RAM owned by the allocator (not a hole or meta). */
static bool owned(size_t f)
{
	uintptr_t a = span_lo + f * CUB_PAGE_SIZE;

	if (f >= nframes || (a >= meta_lo && a < meta_hi))
		return false;
	for (size_t i = 0; i < nregions; i++)
		if (a >= regions[i].base && a - regions[i].base < regions[i].len)
			return true;
	return false;
}

/* First index of n free frames at or after word `hint`, or SIZE_MAX. */
static size_t find_run(size_t n)
{
	size_t i;

	while (hint < nwords && bitmap[hint] == ~0ull)
		hint++;		/* keeps "all ones below hint" */
	i = hint * WORD_BITS;

	while (i + n <= nframes) {
		size_t j;

		if (i % WORD_BITS == 0 && bitmap[i / WORD_BITS] == ~0ull) {
			i += WORD_BITS;
			continue;
		}
		if (bit_get(i)) {
			i++;
			continue;
		}
		for (j = i; j < i + n && !bit_get(j);) {
			if (j % WORD_BITS == 0 && bitmap[j / WORD_BITS] == 0 &&
			    j + WORD_BITS <= i + n)
				j += WORD_BITS;
			else
				j++;
		}
		if (j >= i + n)
			return i;
		i = j + 1;
	}
	return SIZE_MAX;
}

/* First free frame index at or after word `hint`, or SIZE_MAX. */
static size_t find_one(void)
{
	for (size_t w = hint; w < nwords; w++) {
		if (bitmap[w] != ~0ull) {
			size_t f = w * WORD_BITS + (size_t)__builtin_ctzll(~bitmap[w]);

			hint = w;
			return f < nframes ? f : SIZE_MAX;
		}
	}
	hint = nwords;
	return SIZE_MAX;
}

uintptr_t cub_frame_alloc_run(size_t n, unsigned flags)
{
	unsigned long irq;
	size_t f = SIZE_MAX;
	bool pristine = false;
	uintptr_t pa;

	if (n == 0 || n > nfree)
		return 0;
	irq = cub_arch_irq_save();
	if (n <= nfree)
		f = n == 1 ? find_one() : find_run(n);
	if (f != SIZE_MAX) {
		for (size_t i = f; i < f + n; i++)
			bit_set(i);
		nfree -= n;
		min_free = CUB_MIN(min_free, nfree);
		pristine = pristine_zero && f >= hwm;
		hwm = CUB_MAX(hwm, f + n);
	}
	cub_arch_irq_restore(irq);
	if (f == SIZE_MAX)
		return 0;
	pa = span_lo + f * CUB_PAGE_SIZE;
	if ((flags & CUB_FRAME_ZERO) && !pristine)
		cub_memset((void *)pa, 0, n * CUB_PAGE_SIZE);
	return pa;
}

uintptr_t cub_frame_alloc(unsigned flags)
{
	return cub_frame_alloc_run(1, flags);
}

void cub_frame_free_run(uintptr_t pa, size_t n)
{
	unsigned long irq;
	size_t f;

	if (!CUB_IS_ALIGNED(pa, CUB_PAGE_SIZE) || pa < span_lo)
		cub_panic("cub_frame_free: 0x%lx is not a frame", (unsigned long)pa);
	f = (pa - span_lo) / CUB_PAGE_SIZE;
	irq = cub_arch_irq_save();
	for (size_t i = f; i < f + n; i++) {
		if (!owned(i))
			cub_panic("cub_frame_free: 0x%lx is not a frame",
				  (unsigned long)(span_lo + i * CUB_PAGE_SIZE));
		if (!bit_get(i))
			cub_panic("cub_frame_free: double free of frame 0x%lx",
				  (unsigned long)(span_lo + i * CUB_PAGE_SIZE));
		bit_clear(i);
	}
	nfree += n;
	hint = CUB_MIN(hint, f / WORD_BITS);
	cub_arch_irq_restore(irq);
}

void cub_frame_free(uintptr_t pa)
{
	cub_frame_free_run(pa, 1);
}

bool cub_frame_is_allocated(uintptr_t pa)
{
	size_t f;

	if (!CUB_IS_ALIGNED(pa, CUB_PAGE_SIZE) || pa < span_lo)
		return false;
	f = (pa - span_lo) / CUB_PAGE_SIZE;
	return owned(f) && bit_get(f);
}

void cub_frame_stats(struct cub_frame_stats *st)
{
	unsigned long irq = cub_arch_irq_save();

	st->total = total;
	st->free = nfree;
	st->min_free = min_free;
	st->meta = meta_frames;
	cub_arch_irq_restore(irq);
}

size_t cub_frame_free_count(void)
{
	return nfree;
}

size_t cub_frame_total_count(void)
{
	return total;
}
