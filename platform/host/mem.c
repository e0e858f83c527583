/*
 * mem.c - the memory hooks of arch.h for a Linux process.
 *
 * "Physical memory" is a memfd (the arena) mapped MAP_SHARED at its own
 * addresses, so a frame's address is usable directly, as on bare metal
 * where RAM is identity mapped. Right above it lies a window of reserved
 * address space (PROT_NONE, MAP_NORESERVE) where cub_vm_map can map any
 * arena page at any page (mmap MAP_FIXED of the memfd at that offset), so
 * aliases, protections and unmapped guard pages behave as with real page
 * tables. Both ranges are reserved in one mmap so nothing else lands
 * between them.
 *
 * The arena size is $CUBRT_HOST_MEM (bytes, with an optional K/M/G
 * suffix), 8 GiB by default: a memfd is sparse, so untouched frames cost
 * nothing.
 *
 * Invariants:
 *  - pte[i] == 0 means page i is in its default state: arena pages mapped
 *    read+write to themselves, window pages unmapped (anonymous PROT_NONE);
 *  - nondefault counts the pages with pte != 0; each can split a kernel
 *    mapping (VMA), so it stays below budget (MAP_BUDGET, as
 *    vm.max_map_count is 65530; less under valgrind, whose own segment
 *    table is smaller; $CUBRT_HOST_MAP_BUDGET overrides): further changes
 *    fail with -CUB_ENOMEM;
 *  - a non-zero pte holds P_SET | (pa of the backing memfd page or 0) |
 *    P_PRESENT if accessible | prot bits.
 * Locking: interrupts disabled around each edit (host "interrupts" are
 * signals that may run the scheduler).
 */
#define _GNU_SOURCE
#include <cubrt/arch.h>
#include <cubrt/panic.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/mem/mem_internal.h"
#include "host_mem.h"

#define DEFAULT_ARENA (8ull << 30)
#define WINDOW (1ull << 30)
#define MAP_BUDGET 25000
#define MAP_BUDGET_VALGRIND 5000	/* valgrind tracks ~30000 segments */
#define P_PROT 7ull
#define P_PRESENT 8ull
#define P_BACKED 16ull
#define P_SET 32ull
#define P_ADDR (~0xFFFull)

static struct cub_mem_region region;
static uintptr_t arena_lo, arena_hi, win_hi;
static uint64_t *pte;
static size_t nondefault, budget;
static int memfd = -1;

extern char __executable_start[], _end[];

static size_t arena_size(void)
{
	const char *s = getenv("CUBRT_HOST_MEM");
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return DEFAULT_ARENA;
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; break;
	default: break;
	}
	if (v < (1ull << 20))
		v = 1ull << 20;
	return CUB_ALIGN_DOWN((size_t)v, CUB_PAGE_SIZE);
}

static size_t map_budget(void)
{
	const char *s = getenv("CUBRT_HOST_MAP_BUDGET");
	const char *pre = getenv("LD_PRELOAD");

	if (s && *s)
		return strtoul(s, NULL, 0);
	if (pre && strstr(pre, "vgpreload"))
		return MAP_BUDGET_VALGRIND;
	return MAP_BUDGET;
}

static void arena_init(void)
{
	size_t asz = arena_size(), tsz;
	void *base;

	memfd = memfd_create("cubrt-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)asz))
		cub_panic("host mem: cannot create the %zu-byte arena", asz);
	base = mmap(NULL, asz + WINDOW, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED ||
	    mmap(base, asz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 memfd, 0) == MAP_FAILED)
		cub_panic("host mem: cannot map the arena");
	arena_lo = (uintptr_t)base;
	arena_hi = arena_lo + asz;
	win_hi = arena_hi + WINDOW;
	tsz = CUB_ALIGN_UP((win_hi - arena_lo) / CUB_PAGE_SIZE * sizeof(uint64_t),
			   CUB_PAGE_SIZE);
	pte = mmap(NULL, tsz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pte == MAP_FAILED)
		cub_panic("host mem: cannot map the page state table");
	region.base = arena_lo;
	region.len = asz;
	budget = map_budget();
}

size_t cub_arch_mem_regions(const struct cub_mem_region **regions)
{
	if (memfd < 0) {
		arena_init();
		cubi_host_fault_init();
	}
	cubi_frame_set_pristine_zero();
	*regions = &region;
	return 1;
}

void cub_arch_image_range(uintptr_t *lo, uintptr_t *hi)
{
	*lo = CUB_ALIGN_DOWN((uintptr_t)__executable_start, CUB_PAGE_SIZE);
	*hi = CUB_ALIGN_UP((uintptr_t)_end, CUB_PAGE_SIZE);
}

void cub_arch_set_table_allocator(uintptr_t (*alloc)(void),
				  void (*release)(uintptr_t))
{
	/* The host needs no page-table pages: its one page-state array
	 * (pte) has a fixed size over the arena and the window. */
	(void)alloc;
	(void)release;
}

void cubi_host_mem_ranges(uintptr_t *alo, uintptr_t *ahi, uintptr_t *wlo,
			  uintptr_t *whi)
{
	*alo = arena_lo;
	*ahi = arena_hi;
	*wlo = arena_hi;
	*whi = win_hi;
}

/* The page's state as an explicit entry (defaults expanded). */
static uint64_t state_of(uintptr_t va)
{
	uint64_t e = pte[(va - arena_lo) / CUB_PAGE_SIZE];

	if (e)
		return e;
	if (va < arena_hi)
		return P_SET | va | P_BACKED | P_PRESENT | CUB_PROT_READ | CUB_PROT_WRITE;
	return P_SET;
}

static int to_prot(unsigned prot)
{
	return (prot & CUB_PROT_READ ? PROT_READ : 0) |
	       (prot & CUB_PROT_WRITE ? PROT_WRITE : 0) |
	       (prot & CUB_PROT_EXEC ? PROT_EXEC : 0);
}

/* Records the new state of va; -CUB_ENOMEM when over the mapping budget. */
static int record(uintptr_t va, uint64_t e)
{
	uint64_t *slot = &pte[(va - arena_lo) / CUB_PAGE_SIZE];
	bool dflt = va < arena_hi
		? e == (P_SET | va | P_BACKED | P_PRESENT | CUB_PROT_READ | CUB_PROT_WRITE)
		: !(e & P_BACKED);

	if (!dflt && !*slot && nondefault >= budget)
		return -CUB_ENOMEM;
	nondefault += !dflt - !!*slot;
	*slot = dflt ? 0 : e;
	return 0;
}

static bool managed(uintptr_t va)
{
	return pte && va >= arena_lo && va < win_hi && CUB_IS_ALIGNED(va, CUB_PAGE_SIZE);
}

int cub_arch_page_map(uintptr_t va, uintptr_t pa, unsigned prot)
{
	unsigned long irq;
	uint64_t e;
	int rc;

	if (prot == CUB_PROT_NONE) {
		rc = cub_arch_page_unmap(va);
		return rc == -CUB_ENOENT ? 0 : rc;
	}
	if (!managed(va) || pa < arena_lo || pa >= arena_hi || pa % CUB_PAGE_SIZE)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	e = state_of(va);
	rc = record(va, P_SET | pa | P_BACKED | P_PRESENT | prot);
	if (!rc && (e & P_BACKED) && (e & P_ADDR) == pa) {
		if (mprotect((void *)va, CUB_PAGE_SIZE, to_prot(prot)))
			cub_panic("host mem: mprotect(0x%lx) failed", (unsigned long)va);
	} else if (!rc && mmap((void *)va, CUB_PAGE_SIZE, to_prot(prot),
			       MAP_SHARED | MAP_FIXED, memfd,
			       (off_t)(pa - arena_lo)) == MAP_FAILED) {
		cub_panic("host mem: mmap(0x%lx) failed", (unsigned long)va);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_page_unmap(uintptr_t va)
{
	unsigned long irq;
	uint64_t e;
	int rc = 0;

	if (!managed(va))
		return -CUB_ENOENT;
	irq = cub_arch_irq_save();
	e = state_of(va);
	if (!(e & P_PRESENT)) {
		rc = -CUB_ENOENT;
	} else if (va < arena_hi) {
		/* Keep the memfd page behind it: one VMA split, no remap. */
		rc = record(va, (e & ~(P_PRESENT | P_PROT)));
		if (!rc && mprotect((void *)va, CUB_PAGE_SIZE, PROT_NONE))
			cub_panic("host mem: mprotect(0x%lx) failed", (unsigned long)va);
	} else {
		rc = record(va, P_SET);
		if (mmap((void *)va, CUB_PAGE_SIZE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
			 -1, 0) == MAP_FAILED)
			cub_panic("host mem: mmap(0x%lx) failed", (unsigned long)va);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_page_query(uintptr_t va, uintptr_t *pa, unsigned *prot)
{
	uint64_t e;

	if (!managed(va))
		return -CUB_ENOENT;
	e = state_of(va);
	if (!(e & P_PRESENT))
		return -CUB_ENOENT;
	if (pa)
		*pa = (uintptr_t)(e & P_ADDR);
	if (prot)
		*prot = (unsigned)(e & P_PROT);
	return 0;
}

/* pte[] is scanned word by word (a zero word is a default page: present
 * in the arena, absent in the window); when no page is nondefault the
 * window holds nothing at all. */
uintptr_t cub_arch_page_next(uintptr_t va, uintptr_t end)
{
	uintptr_t hi = end < win_hi ? end : win_hi;

	if (!pte)
		return end;
	if (va < arena_lo)
		va = arena_lo;
	for (; va < hi; va += CUB_PAGE_SIZE) {
		if (va >= arena_hi && nondefault == 0)
			break;
		if (state_of(va) & P_PRESENT)
			return va;
	}
	return end;
}

void cub_arch_vm_window(uintptr_t *lo, uintptr_t *hi)
{
	*lo = arena_hi;
	*hi = win_hi;
}
