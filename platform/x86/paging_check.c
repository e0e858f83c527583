/*
 * paging_check.c - cub_arch_addr_readable/writable on x86: the page
 * tables' leaves, with a small cache of the leaves last found.
 *
 * Locking: a miss walks (cubi_x86_leaf) and fills the cache with
 * interrupts disabled; paging.c empties the cache inside each change's
 * critical section (cubi_x86_checks_forget). One CPU.
 */
#include <cubrt/arch.h>

#include "pte.h"
#include "x86.h"

/*
 * The access checks' cache: cub_arch_addr_readable/writable run on every
 * buffer a system call touches, mostly the same few pages. Slot
 * (va / 4 KiB) % CHECK_SLOTS holds the leaf a check last found for a page
 * of that slot, as one word: the address the leaf's range starts at | its
 * PTE_P and PTE_RW bits | its level << 2 (0: empty), so a lookup is one
 * load and a store never leaves half an entry. Every change of an entry
 * (cub_arch_page_map, cub_arch_page_unmap) clears it inside its critical
 * section, and a miss walks and fills with interrupts disabled, so no
 * change can come between a walk and its fill: a cached leaf is always
 * what the tables say now.
 */
#define CHECK_SLOTS 8
static uint64_t checked[CHECK_SLOTS];

static unsigned slot_of(uintptr_t va)
{
	return (unsigned)(va >> 12) % CHECK_SLOTS;
}

/* The bytes a cached word's leaf maps (8 for an empty slot: no match). */
static uint64_t cached_size(uint64_t w)
{
	return 1ull << (3 + 9 * ((w >> 2) & 3));
}

void cubi_x86_checks_forget(void)
{
	for (unsigned i = 0; i < CHECK_SLOTS; i++)
		checked[i] = 0;
}

/* The cache word for the leaf that maps va, walked and cached (0 when
 * nothing maps va). */
static uint64_t check_fill(uintptr_t va)
{
	unsigned long irq = cub_arch_irq_save();
	unsigned level = 1;
	uint64_t e = cubi_x86_leaf(va, &level), w = 0;

	if (e) {
		w = (va & ~(uintptr_t)((1ull << (3 + 9 * level)) - 1)) |
		    (e & (PTE_P | PTE_RW)) | (uint64_t)level << 2;
		checked[slot_of(va)] = w;
	}
	cub_arch_irq_restore(irq);
	return w;
}

/* accessible's loop: page by page, leaf by leaf ([p, end) not empty). */
static __attribute__((noinline)) bool
accessible_walk(uintptr_t p, uintptr_t end, uint64_t want)
{
	while (p < end) {
		uint64_t w = check_fill(p);

		if ((w & want) != want)
			return false;
		p = (p & ~(uintptr_t)(cached_size(w) - 1)) + cached_size(w);
	}
	return true;
}

/*
 * True when every page of [addr, addr + len) is present, and writable if
 * need says so. Intermediate entries are always P|RW (see the top), so
 * the leaves decide; a large leaf answers for all the pages it maps. The
 * common case, a range inside one cached leaf, is one load. Nothing is
 * mapped in the upper half (and a non-canonical address would alias the
 * lower half's entries in a walk).
 */
static inline bool accessible(uintptr_t addr, size_t len, unsigned need)
{
	uint64_t want = PTE_P | (need & CUB_PROT_WRITE ? PTE_RW : 0);
	uintptr_t end = addr + len;
	uint64_t w = checked[slot_of(addr)];
	uint64_t mask = ~(cached_size(w) - 1);

	if (end < addr || end > LOW_HALF_END)
		return false;
	if (!cubi_x86_paging_live || len == 0)
		return true;	/* boot.S's tables: the first 4 GiB, all present */
	if ((w & PTE_P) && !((addr ^ w) & mask) && !(((end - 1) ^ w) & mask))
		return (w & want) == want;	/* inside one cached leaf */
	return accessible_walk(addr, end, want);
}

bool cub_arch_addr_readable(uintptr_t addr, size_t len)
{
	return accessible(addr, len, CUB_PROT_READ);
}

bool cub_arch_addr_writable(uintptr_t addr, size_t len)
{
	return accessible(addr, len, CUB_PROT_READ | CUB_PROT_WRITE);
}
