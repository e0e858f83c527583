/*
 * mm_park.c - the frames of PROT_NONE pages. Linux keeps a page's bytes
 * while it is inaccessible, but cubrt's paging API forgets the frame of
 * a page it unmaps, so mm.c "parks" the frame here, by page address,
 * until an mprotect makes the page accessible again or the mapping goes.
 *
 * An open-addressing hash table: linear probing, deletion by backward
 * shift (no tombstones), grown twice over at half full and freed when
 * empty, so parking and unparking cost O(1) however many pages are
 * parked, and nothing caps their number but memory.
 *
 * Invariants: every parked page is in exactly one slot, reachable from
 * its home slot without crossing an empty one; va 0 marks an empty
 * slot (page 0 is never a program page).
 * The table lives in frames of its own (a run of them), not in the heap,
 * so that a program's memory calls leave the heap as they found it and
 * an empty table gives its frames back.
 * Locking: the memory calls' critical section (irq off); the page-fault
 * path never parks or unparks (an absent page of an accessible mapping has no
 * parked frame).
 */
#include <cubrt/mem.h>

#include "mm_impl.h"

#define FIRST_CAP (CUB_PAGE_SIZE / sizeof(struct slot))	/* one frame */

static struct slot {
	uintptr_t va, pa;
} *table;
static size_t cap, used;	/* cap: 0 or a power of two */

static size_t home(uintptr_t va)
{
	uint64_t h = (uint64_t)(va >> 12) * 0x9E3779B97F4A7C15ull;

	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct slot *find(uintptr_t va)
{
	for (size_t i = cap ? home(va) : 0; cap; i = (i + 1) & (cap - 1)) {
		if (table[i].va == va)
			return &table[i];
		if (!table[i].va)
			break;
	}
	return NULL;
}

static void put(uintptr_t va, uintptr_t pa)
{
	size_t i = home(va);

	while (table[i].va)
		i = (i + 1) & (cap - 1);
	table[i] = (struct slot){ va, pa };
}

/* Twice the slots (FIRST_CAP at first), everything rehashed: false
 * when the heap has no room. */
static size_t frames_for(size_t slots)
{
	return slots * sizeof(struct slot) / CUB_PAGE_SIZE;
}

static bool grow(void)
{
	struct slot *old = table;
	size_t old_cap = cap, n = cap ? cap * 2 : FIRST_CAP;
	uintptr_t pa = cub_frame_alloc_run(frames_for(n), CUB_FRAME_ZERO);

	if (!pa)
		return false;
	table = (struct slot *)pa;	/* frames are reached by address */
	cap = n;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].va)
			put(old[i].va, old[i].pa);
	if (old)
		cub_frame_free_run((uintptr_t)old, frames_for(old_cap));
	return true;
}

bool cubi_mm_park(uintptr_t va, uintptr_t pa)
{
	if ((used + 1) * 2 > cap && !grow())
		return false;
	put(va, pa);
	used++;
	return true;
}

bool cubi_mm_parked(uintptr_t va)
{
	return find(va) != NULL;
}

/* One entry fewer: nothing parked, no table. */
static void dropped_one(void)
{
	if (--used == 0) {
		cub_frame_free_run((uintptr_t)table, frames_for(cap));
		table = NULL;
		cap = 0;
	}
}

/* Empties slot i, moving back the entries after it that would no longer
 * be reachable from their home slot. */
static void remove_at(size_t i)
{
	for (size_t j = i;;) {
		size_t k;

		j = (j + 1) & (cap - 1);
		if (!table[j].va)
			break;
		k = home(table[j].va);
		/* Leave j where it is if its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		table[i] = table[j];
		i = j;
	}
	table[i].va = 0;
}

uintptr_t cubi_mm_unpark(uintptr_t va)
{
	struct slot *s = find(va);
	uintptr_t pa;

	if (!s)
		return 0;
	pa = s->pa;
	remove_at((size_t)(s - table));
	dropped_one();
	return pa;
}

/*
 * Unparks every page of [start, end) (page aligned), handing each to
 * fn. A range of more pages than the table has slots is found by
 * visiting the slots, so that a huge sparse range costs what is parked,
 * not its length; a smaller one page by page (each O(1)).
 * The slot scan stays correct while it removes: remove_at only moves an
 * entry backwards along its probe run into the hole, which starts at
 * the slot being visited (visited again next, so a moved-in entry is
 * seen) and lies ahead of it unless the run wraps to slots 0.., whose
 * entries were visited already (out of range: they stay). fn may park a
 * page outside the range: put() moves no entry, and the table has room
 * without growing (a slot was just freed), or, when that was the last
 * entry, a new table holds only the new page, out of range.
 */
void cubi_mm_unpark_range(uintptr_t start, uintptr_t end,
			  void (*fn)(void *arg, uintptr_t va, uintptr_t pa), void *arg)
{
	if (!used || start >= end)
		return;
	if ((end - start) / CUB_PAGE_SIZE <= cap) {
		for (uintptr_t va = start; va < end && used; va += CUB_PAGE_SIZE) {
			uintptr_t pa = cubi_mm_unpark(va);

			if (pa)
				fn(arg, va, pa);
		}
		return;
	}
	for (size_t i = 0; i < cap;) {
		uintptr_t va = table[i].va, pa = table[i].pa;

		if (!va || va < start || va >= end) {
			i++;
			continue;
		}
		remove_at(i);
		dropped_one();	/* cap 0 when it was the last: the loop ends */
		fn(arg, va, pa);
	}
}
