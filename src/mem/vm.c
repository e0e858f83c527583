/*
 * vm.c - the portable paging API: validation and policy over the
 * cub_arch_page_* hooks, plus memory start-up (cubi_mem_init).
 *
 * Invariants: no call here ever maps page 0, changes a page of the loaded
 * image, maps the image's frames writable or executable a second time, or
 * (while wx_enforced) creates a writable+executable page; a rejected
 * request changes nothing.
 * Locking: none of its own. The page tables are edited by the platform
 * with interrupts disabled per page; callers serialise range operations on
 * the same range (one CPU, task context).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>

#include "mem_internal.h"

static bool wx_enforced = true;
static bool mem_ready;

bool cub_vm_set_wx_enforced(bool on)
{
	bool was = wx_enforced;

	wx_enforced = on;
	return was;
}

/* Common validation of a range request; 0 or a negative code. */
static int check_range(uintptr_t va, size_t len, unsigned prot)
{
	uintptr_t lo, hi;

	if (!CUB_IS_ALIGNED(va, CUB_PAGE_SIZE) || !CUB_IS_ALIGNED(len, CUB_PAGE_SIZE))
		return -CUB_EINVAL;
	if (len == 0 || va + len < va || va + len > CUB_VM_LIMIT)
		return -CUB_EINVAL;
	if (prot & ~(CUB_PROT_READ | CUB_PROT_WRITE | CUB_PROT_EXEC))
		return -CUB_EINVAL;
	if (va < CUB_PAGE_SIZE)
		return -CUB_EPERM;
	cub_arch_image_range(&lo, &hi);
	if (va < hi && va + len > lo)
		return -CUB_EPERM;
	if (wx_enforced && (prot & CUB_PROT_WRITE) && (prot & CUB_PROT_EXEC))
		return -CUB_EPERM;
	return 0;
}

/*
 * The frames of the image may be aliased read-only, never writable or
 * executable: that would undo the image's W^X protection through a
 * second mapping. Physical addresses beyond x86-64's 52 bits do not exist.
 */
static int check_pa(uintptr_t pa, size_t len, unsigned prot)
{
	uintptr_t lo, hi;

	if (!CUB_IS_ALIGNED(pa, CUB_PAGE_SIZE) || pa + len < pa || pa + len > CUB_PA_LIMIT)
		return -CUB_EINVAL;
	cub_arch_image_range(&lo, &hi);
	if (pa < hi && pa + len > lo && (prot & (CUB_PROT_WRITE | CUB_PROT_EXEC)))
		return -CUB_EPERM;
	return 0;
}

int cub_vm_map(uintptr_t va, uintptr_t pa, size_t len, unsigned prot)
{
	int rc = check_range(va, len, prot);

	if (rc)
		return rc;
	if ((rc = check_pa(pa, len, prot)))
		return rc;
	for (size_t off = 0; off < len; off += CUB_PAGE_SIZE) {
		rc = cub_arch_page_map(va + off, pa + off, prot);
		if (rc) {
			/* Undo this call's pages; what they replaced is gone. */
			for (size_t u = 0; u < off; u += CUB_PAGE_SIZE)
				(void)cub_arch_page_unmap(va + u);
			return rc;
		}
	}
	return 0;
}

int cub_vm_unmap(uintptr_t va, size_t len)
{
	int rc = check_range(va, len, CUB_PROT_NONE);

	if (rc)
		return rc;
	for (size_t off = 0; off < len; off += CUB_PAGE_SIZE) {
		rc = cub_arch_page_unmap(va + off);
		if (rc && rc != -CUB_ENOENT)
			return rc;
	}
	return 0;
}

int cub_vm_protect(uintptr_t va, size_t len, unsigned prot)
{
	int rc = check_range(va, len, prot);
	uintptr_t pa;

	if (rc)
		return rc;
	/* All or nothing: find any hole before changing a page. */
	for (size_t off = 0; off < len; off += CUB_PAGE_SIZE)
		if (cub_arch_page_query(va + off, NULL, NULL))
			return -CUB_ENOENT;
	for (size_t off = 0; off < len; off += CUB_PAGE_SIZE) {
		rc = cub_arch_page_query(va + off, &pa, NULL);
		if (!rc)
			rc = cub_arch_page_map(va + off, pa, prot);
		if (rc)
			return rc;
	}
	return 0;
}

int cub_vm_query(uintptr_t va, uintptr_t *pa, unsigned *prot)
{
	uintptr_t page = CUB_ALIGN_DOWN(va, CUB_PAGE_SIZE);
	uintptr_t p;
	unsigned pr;
	int rc;

	if (va >= CUB_VM_LIMIT)
		return -CUB_ENOENT;
	rc = cub_arch_page_query(page, &p, &pr);
	if (rc)
		return rc;
	if (pa)
		*pa = CUB_ALIGN_DOWN(p, CUB_PAGE_SIZE) + (va - page);
	if (prot)
		*prot = pr;
	return 0;
}

uintptr_t cub_vm_next(uintptr_t va, uintptr_t end, uintptr_t *pa, unsigned *prot)
{
	uintptr_t page = CUB_ALIGN_DOWN(va, CUB_PAGE_SIZE);
	uintptr_t hi = end < CUB_VM_LIMIT ? end : CUB_VM_LIMIT;

	/* Each found page is queried for its frame; the hook and the query
	 * read the same tables, and the callers' critical section (or their
	 * being the only editor, vm.c's header) keeps them from changing
	 * in between, so the loop ends at the first try. */
	while (page < hi) {
		page = cub_arch_page_next(page, hi);
		if (page >= hi || cub_arch_page_query(page, pa, prot) == 0)
			return page < hi ? page : end;
		page += CUB_PAGE_SIZE;
	}
	return end;
}

/* Page-table pages for the platform: zeroed, identity-mapped frames,
 * given back when the platform frees an emptied table. */
static uintptr_t table_page_alloc(void)
{
	return cub_frame_alloc(CUB_FRAME_ZERO);
}

static void table_page_release(uintptr_t pa)
{
	cub_frame_free(pa);
}

void cubi_mem_init(void)
{
	const struct cub_mem_region *r;
	size_t n;

	if (mem_ready)
		return;
	mem_ready = true;
	n = cub_arch_mem_regions(&r);
	cubi_frame_init_regions(r, n);
	cub_arch_set_table_allocator(table_page_alloc, table_page_release);
	cubi_heap_global_init();
	cubi_stack_init();
}
