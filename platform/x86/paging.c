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
 *    attributes before any 4 KiB page inside it changes;
 *  - an entry that links a table (PML4E, PDPTE, PDE without PS) holds, in
 *    bits 61:52, how many entries of that table are present (LINK_COUNT),
 *    and in bit 62 whether the table is pinned (LINK_PIN); the MMU
 *    ignores bits 62:52 of such entries (Intel SDM vol. 3 section 4.5,
 *    the formats of entries that reference a table: "Ignored"; AMD APM:
 *    "Available"). Every write of an entry below
 *    the PML4 goes through entry_set, which keeps its parent's count;
 *  - a table without a present entry that is not pinned is unlinked and
 *    freed by the change that emptied it (prune), so no empty unpinned
 *    table is ever linked outside a critical section. Pinned: every
 *    table made before paging init ends (the identity map, the image,
 *    APIC), a table made by splitting a 2 MiB page, and tables made for
 *    MMIO. The PML4 is never freed. A table holding a 2 MiB leaf is never
 *    empty, so never freed either.
 * Locking: the tables are edited and walked with interrupts disabled, so
 * a table read in a walk is not freed and reused under it (one CPU); a
 * freed table is first unlinked, then INVLPG of an address it covered
 * drops the TLB and paging-structure-cache entries that could still
 * lead through it (SDM 4.10.4.1), then it goes back to its allocator.
 * The other reader, the fault reporter, tolerates any consistent state.
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>

#include "pte.h"
#include "x86.h"

#define LINK_COUNT_SHIFT 52
#define LINK_COUNT_ONE (1ull << LINK_COUNT_SHIFT)
#define LINK_COUNT (0x3FFull << LINK_COUNT_SHIFT)	/* 0..512 */
#define LINK_PIN (1ull << 62)
#define LARGE (2ull << 20)
#define APIC_LO 0xFEC00000ull
#define APIC_HI 0xFF000000ull

static uint64_t *pml4;
bool cubi_x86_paging_live;	/* false: boot structures, all pinned */

/* A walk's path: e[l] is the entry for va at level l (e[4] in the PML4,
 * e[1] a 4 KiB leaf), filled from 4 down to where the walk stopped. */
struct path {
	uint64_t *e[5];
	bool large;	/* a read-only walk ended at a 2 MiB leaf */
};

/* How a walk treats missing tables and 2 MiB leaves above stop_level. */
enum walk_mode { WALK_READ, WALK_CREATE, WALK_CREATE_PINNED };

static unsigned index_of(uintptr_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

static uint64_t *table_of(uint64_t link)
{
	return (uint64_t *)(uintptr_t)(link & PTE_ADDR);
}

/*
 * Writes v into p->e[level] and keeps the present-entry count in the link
 * above it (the PML4's entries have none). A count can never go below 0
 * or above 512: a mismatch means the tables were corrupted.
 */
static void entry_set(struct path *p, int level, uint64_t v)
{
	uint64_t *e = p->e[level];

	if (level < 4 && (v & PTE_P) != (*e & PTE_P)) {
		uint64_t *up = p->e[level + 1], c = *up & LINK_COUNT;

		if (v & PTE_P ? c >= 512 * LINK_COUNT_ONE : c == 0)
			cub_panic("paging: table count %lu at level %d corrupt",
				  (unsigned long)(c >> LINK_COUNT_SHIFT), level);
		*up = v & PTE_P ? *up + LINK_COUNT_ONE : *up - LINK_COUNT_ONE;
	}
	*e = v;
}

/* A link to table t, present, writable, with count entries present. */
static uint64_t link_to(uint64_t *t, uint64_t count, bool pin)
{
	return (uint64_t)(uintptr_t)t | PTE_P | PTE_RW |
	       count << LINK_COUNT_SHIFT | (pin ? LINK_PIN : 0);
}

/*
 * Unlinks the table that holds p->e[level] when it has no present entry
 * and is not pinned, then its parent the same way, up to (not) the PML4.
 * The unlinked tables go to out[] (at most 3); the caller invalidates an
 * address of the path's and only then frees them (release). Constant
 * time: the counts say which tables are empty.
 */
static int prune(struct path *p, int level, uint64_t **out)
{
	int n = 0;

	for (; level < 4; level++) {
		uint64_t link = *p->e[level + 1];

		if (!(link & PTE_P) || (link & (LINK_COUNT | LINK_PIN | PTE_PS)))
			break;
		out[n++] = table_of(link);
		entry_set(p, level + 1, 0);
	}
	return n;
}

/* Invalidates va (its leaf and every paging-structure-cache entry
 * through the unlinked tables: they all covered va) and frees them. */
static void release(uintptr_t va, uint64_t **tables, int n)
{
	invlpg(va);
	for (int i = 0; i < n; i++)
		cubi_x86_table_free(tables[i]);
}

/* Replaces the 2 MiB leaf at p->e[2] by a (pinned) table of 512 4 KiB
 * leaves with the same attributes; the PD's count does not change. */
static int split_large(struct path *p)
{
	uint64_t *pde = p->e[2], *pt = cubi_x86_table_alloc();
	uint64_t base = *pde & PTE_ADDR & ~(LARGE - 1);
	uint64_t attrs = *pde & ~PTE_ADDR & ~PTE_PS;

	if (!pt)
		return -CUB_ENOMEM;
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (base + i * CUB_PAGE_SIZE) | attrs;
	*pde = link_to(pt, 512, true);
	return 0;
}

/*
 * Returns the entry for va at stop_level (1 = 4 KiB leaf, 2 = 2 MiB),
 * filling p. WALK_READ returns NULL where a table is missing and stops at
 * a 2 MiB leaf above stop_level (p->large, that leaf returned). The
 * creating modes make missing tables (pinned with WALK_CREATE_PINNED or
 * during init) and split a 2 MiB leaf above stop_level; when a page runs
 * out they give back the empty tables they made and return NULL.
 */
static uint64_t *walk(uintptr_t va, int stop_level, enum walk_mode mode,
		      struct path *p)
{
	uint64_t *table = pml4;

	p->large = false;
	for (int level = 4; level > stop_level; level--) {
		uint64_t *e = p->e[level] = &table[index_of(va, level)];

		if (!(*e & PTE_P)) {
			uint64_t *t = mode == WALK_READ ? NULL : cubi_x86_table_alloc();

			if (!t) {
				uint64_t *gone[3];

				if (mode != WALK_READ)
					release(va, gone, prune(p, level, gone));
				return NULL;
			}
			entry_set(p, level, link_to(t, 0, !cubi_x86_paging_live ||
						   mode == WALK_CREATE_PINNED));
		} else if (*e & PTE_PS) {
			if (mode == WALK_READ) {
				p->large = true;
				return e;
			}
			if (split_large(p))
				return NULL;	/* above: all present, none empty */
		}
		table = table_of(*e);
	}
	return p->e[stop_level] = &table[index_of(va, stop_level)];
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

uint64_t cubi_x86_leaf(uintptr_t va, unsigned *level)
{
	uint64_t e = pml4[index_of(va, 4)];

	if (!(e & PTE_P))
		return 0;
	for (*level = 3; *level > 1; --*level) {
		e = table_of(e)[index_of(va, (int)*level)];
		if (!(e & PTE_P) || (e & PTE_PS))
			return e & PTE_P ? e : 0;
	}
	e = table_of(e)[index_of(va, 1)];
	return e & PTE_P ? e : 0;
}

int cub_arch_page_map(uintptr_t va, uintptr_t pa, unsigned prot)
{
	unsigned long irq;
	struct path p;
	uint64_t *e;

	if (prot == CUB_PROT_NONE) {
		int rc = cub_arch_page_unmap(va);

		return rc == -CUB_ENOENT ? 0 : rc;
	}
	irq = cub_arch_irq_save();
	e = walk(va, 1, WALK_CREATE, &p);
	if (e) {
		entry_set(&p, 1, (pa & PTE_ADDR) | prot_bits(prot));
		invlpg(va);
		cubi_x86_checks_forget();
	}
	cub_arch_irq_restore(irq);
	return e ? 0 : -CUB_ENOMEM;
}

/* Clears the present leaf p->e[1] for va and frees the tables that
 * leaves empty, all within the caller's critical section. */
static void leaf_clear(struct path *p, uintptr_t va)
{
	uint64_t *gone[3];

	entry_set(p, 1, 0);
	release(va, gone, prune(p, 1, gone));
	cubi_x86_checks_forget();
}

int cub_arch_page_unmap(uintptr_t va)
{
	unsigned long irq = cub_arch_irq_save();
	struct path p;
	uint64_t *e = walk(va, 1, WALK_READ, &p);
	int rc = -CUB_ENOENT;

	if (e && p.large) {
		/* Split (allocates) so only this 4 KiB page goes. */
		e = walk(va, 1, WALK_CREATE, &p);
		if (!e)
			rc = -CUB_ENOMEM;
	}
	if (e && (*e & PTE_P)) {
		leaf_clear(&p, va);
		rc = 0;
	}
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_page_query(uintptr_t va, uintptr_t *pa, unsigned *prot)
{
	unsigned long irq = cub_arch_irq_save();	/* no table freed under us */
	struct path p;
	uint64_t *e = walk(va, 1, WALK_READ, &p);
	uint64_t v = e ? *e : 0;

	cub_arch_irq_restore(irq);
	if (!(v & PTE_P))
		return -CUB_ENOENT;
	if (pa)
		*pa = p.large ? (uintptr_t)((v & PTE_ADDR & ~(LARGE - 1)) | (va & (LARGE - 1)))
			      : (uintptr_t)(v & PTE_ADDR);
	if (prot)
		*prot = CUB_PROT_READ | (v & PTE_RW ? CUB_PROT_WRITE : 0) |
			(v & PTE_NX ? 0 : CUB_PROT_EXEC);
	return 0;
}

/*
 * One step of cub_arch_page_next from *va (< hi): true when *va is
 * mapped; else *va moves past the non-present entry the walk stopped at
 * and the non-present entries after it in the same table (one load an
 * entry). Interrupts are off for the step, so no table it reads is
 * freed and reused meanwhile.
 */
static bool next_step(uintptr_t *va, uintptr_t hi)
{
	unsigned long irq = cub_arch_irq_save();
	const uint64_t *table = pml4;
	int level = 4;
	uint64_t e, span;

	for (;; level--) {
		e = table[index_of(*va, level)];
		if (!(e & PTE_P) || level == 1 || (e & PTE_PS))
			break;
		table = table_of(e);
	}
	if (!(e & PTE_P)) {
		/* Past the empty entry's span, and its empty neighbours'
		 * (va < 2^47: no wrap). */
		span = 1ull << (12 + 9 * (level - 1));
		do
			*va = (*va | (span - 1)) + 1;
		while (*va < hi && index_of(*va, level) != 0 &&
		       !(table[index_of(*va, level)] & PTE_P));
	}
	cub_arch_irq_restore(irq);
	return e & PTE_P;
}

/*
 * The first present leaf at or above va, below end: read-only walks
 * that step over a non-present entry at its level (PML4: 512 GiB,
 * PDPT: 1 GiB, PD: 2 MiB) instead of page by page and run along the
 * table they stopped in, walking down from the top again when it ends.
 * Each step is consistent on its own; the callers that need the whole
 * answer consistent hold interrupts off (mm_impl.h), as the editors do.
 */
uintptr_t cub_arch_page_next(uintptr_t va, uintptr_t end)
{
	uintptr_t hi = end < LOW_HALF_END ? end : LOW_HALF_END;

	if (!pml4)	/* boot.S's tables: the first 4 GiB, all present */
		return va < hi && va < (4ull << 30) ? va : end;
	while (va < hi)
		if (next_step(&va, hi))
			return va;
	return end;
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
		struct path p;
		uint64_t *e = walk((uintptr_t)a, 1, WALK_CREATE_PINNED, &p);

		if (e) {
			entry_set(&p, 1, a | PTE_P | PTE_RW | PTE_NX | PTE_PCD | PTE_PWT);
			invlpg((uintptr_t)a);
			cubi_x86_checks_forget();
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
	struct path p;

	for (uint64_t a = CUB_ALIGN_DOWN(lo, LARGE); a < hi; a += LARGE) {
		uint64_t *e = walk((uintptr_t)a, 2, WALK_CREATE_PINNED, &p);

		if (!e)
			cub_panic("paging: boot table pool exhausted at %lx",
				  (unsigned long)a);
		if (!(*e & PTE_P))
			entry_set(&p, 2, a | PTE_P | PTE_RW | PTE_PS | PTE_NX | extra);
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

	pml4 = cubi_x86_table_alloc();
	for (size_t i = 0; i < n; i++)
		if (ranges[i][0] < X86_PHYS_LIMIT)
			map_large(ranges[i][0], CUB_MIN(ranges[i][1], X86_PHYS_LIMIT), 0);
	map_large((uintptr_t)__image_start, (uintptr_t)__image_end, 0);
	map_large(APIC_LO, APIC_HI, PTE_PCD | PTE_PWT);
	protect_image();
	write_cr3((uint64_t)(uintptr_t)pml4);
	cubi_x86_paging_live = true;	/* tables made from now on may be freed */
}
