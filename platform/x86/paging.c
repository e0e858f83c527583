/*
 * paging.c - x86-64 4-level page tables for the single address space.
 *
 * Invariants:
 *  - physical memory listed by the firmware (below X86_PHYS_LIMIT) and the
 *    APIC window are identity mapped; everything else is unmapped;
 *  - page 0 and the boot stack's guard page are never mapped;
 *  - the image is text R+X, rodata R, data/bss R+W; all other mappings
 *    are NX (EFER.NXE and CR0.WP are set by boot.S);
 *  - intermediate entries are always P|RW (never NX): leaves decide;
 *  - a 2 MiB page is split into 512 4 KiB entries with the same
 *    attributes before any 4 KiB page inside it changes.
 * Locking: the tables are edited with interrupts disabled (the only other
 * reader, the fault reporter, tolerates any consistent state).
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "x86.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull
#define LARGE (2ull << 20)
#define POOL_PAGES 40
#define APIC_LO 0xFEC00000ull
#define APIC_HI 0xFF000000ull
#define LOW_HALF_END (1ull << 47)	/* canonical lower half: all cubrt maps */

static uint8_t pool[POOL_PAGES][CUB_PAGE_SIZE] __attribute__((aligned(4096)));
static size_t pool_used;
static uintptr_t (*table_alloc_fn)(void);
static uint64_t *pml4;

void cub_arch_set_table_allocator(uintptr_t (*alloc)(void))
{
	table_alloc_fn = alloc;
}

static uint64_t *table_alloc(void)
{
	uintptr_t p = 0;

	if (pool_used < POOL_PAGES)
		p = (uintptr_t)pool[pool_used++];
	else if (table_alloc_fn)
		p = table_alloc_fn();
	if (p)
		cub_memset((void *)p, 0, CUB_PAGE_SIZE);
	return (uint64_t *)p;
}

static unsigned index_of(uintptr_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

/* Replaces the 2 MiB leaf *pde by a table of 4 KiB leaves. */
static int split_large(uint64_t *pde)
{
	uint64_t *pt = table_alloc();
	uint64_t base = *pde & PTE_ADDR & ~(LARGE - 1);
	uint64_t attrs = *pde & ~PTE_ADDR & ~PTE_PS;

	if (!pt)
		return -CUB_ENOMEM;
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (base + i * CUB_PAGE_SIZE) | attrs;
	*pde = (uint64_t)(uintptr_t)pt | PTE_P | PTE_RW;
	return 0;
}

/*
 * Returns the entry for va at stop_level (1 = 4 KiB leaf, 2 = 2 MiB),
 * creating tables (create) and splitting a large page above it. With
 * !create returns NULL where a table is missing; *large is set when the
 * walk ended early at a 2 MiB leaf.
 */
static uint64_t *walk(uintptr_t va, int stop_level, bool create, bool *large)
{
	uint64_t *table = pml4;

	*large = false;
	for (int level = 4; level > stop_level; level--) {
		uint64_t *e = &table[index_of(va, level)];

		if (!(*e & PTE_P)) {
			uint64_t *t;

			if (!create || !(t = table_alloc()))
				return NULL;
			*e = (uint64_t)(uintptr_t)t | PTE_P | PTE_RW;
		} else if (*e & PTE_PS) {
			if (!create) {
				*large = true;
				return e;
			}
			if (split_large(e))
				return NULL;
		}
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[index_of(va, stop_level)];
}

static uint64_t prot_bits(unsigned prot)
{
	uint64_t bits = PTE_P;

	if (prot & CUB_PROT_WRITE)
		bits |= PTE_RW;
	if (!(prot & CUB_PROT_EXEC))
		bits |= PTE_NX;
	return bits;
}

/*
 * The leaf entry that maps va (0 when none), and in *level its level: 1
 * (4 KiB), 2 (2 MiB) or 3 (1 GiB). A walk that only reads: no table is
 * made and no large page split, so the common case is four loads.
 */
static inline uint64_t leaf_of(uintptr_t va, unsigned *level)
{
	uint64_t e = pml4[index_of(va, 4)];

	if (!(e & PTE_P))
		return 0;
	for (*level = 3; *level > 1; --*level) {
		e = ((const uint64_t *)(uintptr_t)(e & PTE_ADDR))[index_of(va, (int)*level)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return e & PTE_P ? e : 0;
	}
	e = ((const uint64_t *)(uintptr_t)(e & PTE_ADDR))[index_of(va, 1)];
	return e & PTE_P ? e : 0;
}

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

static void checks_forget(void)
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
	uint64_t e = leaf_of(va, &level), w = 0;

	if (e) {
		w = (va & ~(uintptr_t)((1ull << (3 + 9 * level)) - 1)) |
		    (e & (PTE_P | PTE_RW)) | (uint64_t)level << 2;
		checked[slot_of(va)] = w;
	}
	cub_arch_irq_restore(irq);
	return w;
}

int cub_arch_page_map(uintptr_t va, uintptr_t pa, unsigned prot)
{
	unsigned long irq;
	bool large;
	uint64_t *e;

	if (prot == CUB_PROT_NONE) {
		int rc = cub_arch_page_unmap(va);

		return rc == -CUB_ENOENT ? 0 : rc;
	}
	irq = cub_arch_irq_save();
	e = walk(va, 1, true, &large);
	if (e) {
		*e = (pa & PTE_ADDR) | prot_bits(prot);
		invlpg(va);
		checks_forget();
	}
	cub_arch_irq_restore(irq);
	return e ? 0 : -CUB_ENOMEM;
}

int cub_arch_page_unmap(uintptr_t va)
{
	unsigned long irq = cub_arch_irq_save();
	bool large;
	uint64_t *e = walk(va, 1, false, &large);
	int rc = -CUB_ENOENT;

	if (e && large) {
		/* Split (allocates) so only this 4 KiB page goes. */
		e = walk(va, 1, true, &large);
		if (!e)
			rc = -CUB_ENOMEM;
	}
	if (e && (*e & PTE_P)) {
		*e = 0;
		invlpg(va);
		checks_forget();
		rc = 0;
	}
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_page_query(uintptr_t va, uintptr_t *pa, unsigned *prot)
{
	bool large;
	uint64_t *e = walk(va, 1, false, &large);
	uint64_t v;

	if (!e || !(*e & PTE_P))
		return -CUB_ENOENT;
	v = *e;
	if (pa)
		*pa = large ? (uintptr_t)((v & PTE_ADDR & ~(LARGE - 1)) | (va & (LARGE - 1)))
			    : (uintptr_t)(v & PTE_ADDR);
	if (prot)
		*prot = CUB_PROT_READ | (v & PTE_RW ? CUB_PROT_WRITE : 0) |
			(v & PTE_NX ? 0 : CUB_PROT_EXEC);
	return 0;
}

/*
 * The first present leaf at or above va, below end: a read-only walk
 * that steps over a non-present entry at its level (PML4: 512 GiB,
 * PDPT: 1 GiB, PD: 2 MiB) instead of page by page, and runs along the
 * table it stopped in (one load an entry) until an entry is present or
 * the table ends, when it walks down from the top again. Intermediate
 * entries are never freed once made, so a table read here stays a
 * table; the callers that need a consistent answer hold interrupts off
 * (mm_impl.h), as the editors do.
 */
uintptr_t cub_arch_page_next(uintptr_t va, uintptr_t end)
{
	uintptr_t hi = end < LOW_HALF_END ? end : LOW_HALF_END;

	if (!pml4)	/* boot.S's tables: the first 4 GiB, all present */
		return va < hi && va < (4ull << 30) ? va : end;
	while (va < hi) {
		const uint64_t *table = pml4;
		int level = 4;
		uint64_t e, span;

		for (;; level--) {
			e = table[index_of(va, level)];
			if (!(e & PTE_P) || level == 1 || (e & PTE_PS))
				break;
			table = (const uint64_t *)(uintptr_t)(e & PTE_ADDR);
		}
		if (e & PTE_P)
			return va;
		/* Past the empty entry's span, and its empty neighbours'
		 * (va < 2^47: no wrap). */
		span = 1ull << (12 + 9 * (level - 1));
		do
			va = (va | (span - 1)) + 1;
		while (va < hi && index_of(va, level) != 0 &&
		       !(table[index_of(va, level)] & PTE_P));
	}
	return end;
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
	if (!pml4 || len == 0)
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

/*
 * Above the identity map (< X86_PHYS_LIMIT) and the APIC window: 64 GiB up
 * to 127 TiB, the lower canonical half minus a margin. Linux programs for
 * cubrt are linked at 64 GiB (docs/shim.md).
 */
void cub_arch_vm_window(uintptr_t *lo, uintptr_t *hi)
{
	*lo = 64ull << 30;
	*hi = 127ull << 40;
}

/* True when [lo, hi) overlaps RAM the frame allocator owns. */
static bool overlaps_ram(uint64_t lo, uint64_t hi)
{
	const struct cub_mem_region *r;
	size_t n = cub_arch_mem_regions(&r);

	for (size_t i = 0; i < n; i++)
		if (lo < r[i].base + r[i].len && r[i].base < hi)
			return true;
	return false;
}

/*
 * Device registers (PCI memory BARs): identity mapped 4 KiB page by page,
 * uncached, never executable. Below the vm window only, so a mapping can
 * never alias what cub_arch_vm_window hands out; never over RAM, so a
 * bogus BAR cannot turn the frame allocator's pages uncached.
 */
int cubi_x86_map_mmio(uint64_t pa, uint64_t len)
{
	uint64_t lo = CUB_ALIGN_DOWN(pa, CUB_PAGE_SIZE);
	uint64_t hi = CUB_ALIGN_UP(pa + len, CUB_PAGE_SIZE);
	uintptr_t wlo, whi;

	cub_arch_vm_window(&wlo, &whi);
	if (len == 0 || pa + len < pa || hi > wlo || overlaps_ram(lo, hi))
		return -CUB_EINVAL;
	for (uint64_t a = lo; a < hi; a += CUB_PAGE_SIZE) {
		unsigned long irq = cub_arch_irq_save();
		bool large;
		uint64_t *e = walk((uintptr_t)a, 1, true, &large);

		if (e) {
			*e = a | PTE_P | PTE_RW | PTE_NX | PTE_PCD | PTE_PWT;
			invlpg((uintptr_t)a);
			checks_forget();
		}
		cub_arch_irq_restore(irq);
		if (!e)
			return -CUB_ENOMEM;
	}
	return 0;
}

/* Identity-maps [lo, hi) rounded out to 2 MiB with large pages. */
static void map_large(uint64_t lo, uint64_t hi, uint64_t extra)
{
	bool large;

	for (uint64_t a = CUB_ALIGN_DOWN(lo, LARGE); a < hi; a += LARGE) {
		uint64_t *e = walk((uintptr_t)a, 2, true, &large);

		if (!e)
			cub_panic("paging: boot table pool exhausted at %lx",
				  (unsigned long)a);
		if (!(*e & PTE_P))
			*e = a | PTE_P | PTE_RW | PTE_PS | PTE_NX | extra;
	}
}

static void protect_image(void)
{
	uintptr_t a;
	int rc = 0;

	for (a = (uintptr_t)__image_start; a < (uintptr_t)__text_end; a += CUB_PAGE_SIZE)
		rc |= cub_arch_page_map(a, a, CUB_PROT_READ | CUB_PROT_EXEC);
	for (; a < (uintptr_t)__rodata_end; a += CUB_PAGE_SIZE)
		rc |= cub_arch_page_map(a, a, CUB_PROT_READ);
	for (; a < (uintptr_t)__image_end; a += CUB_PAGE_SIZE)
		rc |= cub_arch_page_map(a, a, CUB_PROT_READ | CUB_PROT_WRITE);
	rc |= cub_arch_page_unmap(0);
	rc |= cub_arch_page_unmap((uintptr_t)cubi_boot_stack_guard);
	if (rc)
		cub_panic("paging: cannot protect the image (%d)", rc);
}

void cubi_x86_paging_init(void)
{
	uint64_t ranges[32][2];
	size_t n = cubi_x86_firmware_ranges(ranges, CUB_ARRAY_SIZE(ranges));

	pml4 = table_alloc();
	for (size_t i = 0; i < n; i++)
		if (ranges[i][0] < X86_PHYS_LIMIT)
			map_large(ranges[i][0], CUB_MIN(ranges[i][1], X86_PHYS_LIMIT), 0);
	map_large((uintptr_t)__image_start, (uintptr_t)__image_end, 0);
	map_large(APIC_LO, APIC_HI, PTE_PCD | PTE_PWT);
	protect_image();
	write_cr3((uint64_t)(uintptr_t)pml4);
}
