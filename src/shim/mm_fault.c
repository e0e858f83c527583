/*
 * mm_fault.c - demand paging: a program page gets its frame on its first
 * touch, not at mmap, and MADV_DONTNEED gives frames back (mm.c).
 *
 * The platform turns it on (cubi_mm_set_demand) when its page-fault
 * handler calls cubi_mm_fault for a fault on an absent page; bare metal
 * does (platform/x86/shim.c), the host does not (its SIGSEGV handler
 * belongs to the test framework), so there the table keeps every
 * accessible page mapped, as before.
 *
 * Who touches an absent page:
 *  - the program: the CPU faults, the platform calls cubi_mm_fault, the
 *    instruction runs again (the fault pages in the page's whole aligned
 *    64 KiB block within its mapping: fault-around, below);
 *  - a system call: uaccess.c checks every pointer against the page
 *    tables and, when the check fails, asks cubi_mm_populate to page the
 *    range in and checks again, so a handler never faults on a pointer it
 *    was given;
 *  - cubrt code writing into a fresh mapping (exec's segments, file
 *    mappings) populates the range first (cubi_mm_populate_range).
 * A frame is zero-filled when it is taken (cub_frame_alloc CUB_FRAME_ZERO),
 * so a first read sees zeroes, as on Linux.
 *
 * Locking: each call is one critical section (irq_save), as the other
 * memory calls'; the fault may come from any context but those calls'
 * own critical sections (which never touch a program page by its
 * address).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>

#include "mm_impl.h"

#define PG CUB_PAGE_SIZE

/* May vma prot be accessed so (CUB_PROT_* bits)? Any access right but
 * NONE reads, as on x86; writing and executing need their own bit. */
static bool allows(unsigned prot, unsigned access)
{
	if (prot == CUB_PROT_NONE)
		return false;
	return (access & ~(unsigned)CUB_PROT_READ & ~prot) == 0;
}

/* Maps absent page va of vma v for access: a zeroed frame, for a file
 * mapping the file's frame (a private one's read-only: its first write
 * faults again), for a write to a private one a copy of it. 0, -ENOMEM,
 * or -EFAULT (past the file's end: the access is SIGBUS). */
static int map_page(const struct cubi_mm_vma *v, uintptr_t va, unsigned access)
{
	uintptr_t pa = 0;
	int rc;

	if (v->cow && (access & CUB_PROT_WRITE))
		return cubi_mm_cow_write(v, va);
	rc = v->file ? cubi_mm_file_frame(v, va, &pa)
		     : (pa = cub_frame_alloc(CUB_FRAME_ZERO)) ? 0 : -CUB_ENOMEM;
	if (rc)
		return rc;
	if (cub_vm_map(va, pa, PG, cubi_mm_page_prot(v, va, pa, v->prot))) {
		if (!v->file)
			cub_frame_free(pa);
		return -CUB_ENOMEM;
	}
	cubi_mm_resident++;
	return 0;
}

/* Gives absent page va of a vma that allows access its frame, or a
 * write to a borrowed page of a private file mapping its copy: 1 (done
 * now), 0 (not a demand fault: no vma, no such access, the page is
 * present and writable enough, or it lies past a file's end), -ENOMEM
 * (no frame). *vp: the vma (the table does not change before the
 * caller's critical section ends). irq off. */
static int fault_locked(uintptr_t va, unsigned access, const struct cubi_mm_vma **vp)
{
	const struct cubi_mm_vma *v = cubi_mm_vma_at(va);
	uintptr_t pa;
	int rc;

	if (!v || !allows(v->prot, access))
		return 0;
	if (cub_vm_query(va, &pa, NULL) == 0 &&
	    !(v->cow && (access & CUB_PROT_WRITE) && cubi_mm_borrowed(v, va, pa)))
		return 0;
	*vp = v;
	rc = map_page(v, va, access);
	return rc == -CUB_EFAULT ? 0 : rc ? -CUB_ENOMEM : 1;
}

unsigned cubi_mm_fault_around = 16;

/* Fault-around: the other absent pages of va's aligned block of
 * cubi_mm_fault_around pages, within vma v, get their frames too, as
 * Linux maps a 64 KiB block around a file fault (and anonymous memory in
 * larger folios). A trap costs thousands of instructions under
 * emulation, and memory is mostly touched in order: one trap per block
 * instead of one per page. Best effort: a frame short ends it. irq off. */
static void around_locked(uintptr_t va, const struct cubi_mm_vma *v)
{
	size_t block = PG * (cubi_mm_fault_around ? cubi_mm_fault_around : 1);
	uintptr_t lo = CUB_ALIGN_DOWN(va, block), hi = lo + block;

	lo = lo > v->start ? lo : v->start;
	hi = hi < v->end ? hi : v->end;
	for (uintptr_t p = lo; p < hi; p += PG)
		if (p != va && cub_vm_query(p, NULL, NULL) != 0 && map_page(v, p, 0))
			return;
}

int cubi_mm_fault(uintptr_t addr, unsigned access)
{
	uintptr_t va = CUB_ALIGN_DOWN(addr, PG);
	const struct cubi_mm_vma *v;
	unsigned long irq;
	int rc;

	if (!cubi_mm_demand)
		return 0;
	irq = cub_arch_irq_save();
	if ((rc = fault_locked(va, access, &v)) == 1)
		around_locked(va, v);
	cub_arch_irq_restore(irq);
	return rc;
}

bool cubi_mm_populate(uintptr_t addr, size_t len, unsigned access)
{
	uintptr_t va = CUB_ALIGN_DOWN(addr, PG), end = addr + len;
	unsigned long irq;
	bool ok = true;

	if (!cubi_mm_demand || len == 0 || end < addr)
		return false;
	/* A critical section a page: a large buffer (a read of a GiB into
	 * untouched memory) must not keep interrupts off while it zeroes. */
	for (const struct cubi_mm_vma *v; ok && va < end; va += PG) {
		int rc;

		irq = cub_arch_irq_save();	/* present: may be a cow write */
		rc = fault_locked(va, access, &v);
		ok = rc == 1 || (rc == 0 && cub_vm_query(va, NULL, NULL) == 0);
		cub_arch_irq_restore(irq);
	}
	return ok;
}

/* Pages in the absent page va of the vma holding or following it, with
 * the access the vma allows (write where writable): the next address to
 * look at (past a PROT_NONE vma at once; end when none is left), *rc
 * -ENOMEM when no frame is left. One
 * critical section a page, so that populating a large range never keeps
 * interrupts off for long. */
static uintptr_t populate_step(uintptr_t va, uintptr_t end, int *rc)
{
	unsigned long irq = cub_arch_irq_save();
	const struct cubi_mm_vma *v = cubi_mm_vma_find(va), *vf;
	uintptr_t next = end;

	if (v && v->start < end) {
		va = v->start > va ? v->start : va;
		next = v->prot == CUB_PROT_NONE ? v->end : va + PG;
		if (v->prot != CUB_PROT_NONE && fault_locked(va, v->prot, &vf) < 0)
			*rc = -CUB_ENOMEM;
	}
	cub_arch_irq_restore(irq);
	return next;
}

int cubi_mm_populate_range(uintptr_t start, uintptr_t end)
{
	int rc = 0;

	for (uintptr_t va = start; cubi_mm_demand && !rc && va < end;)
		va = populate_step(va, end, &rc);
	return rc;
}

void cubi_mm_set_demand(bool on)
{
	/* Off again: every accessible page gets its frame back, since
	 * nothing will page it in any more (the tests switch it). */
	if (!on)
		cubi_mm_populate_range(0, UINTPTR_MAX);
	cubi_mm_demand = on;
}

bool cubi_mm_page_resident(uintptr_t va)
{
	unsigned long irq = cub_arch_irq_save();
	bool in = cub_vm_query(va, NULL, NULL) == 0 || cubi_mm_parked(va);

	cub_arch_irq_restore(irq);
	return in;
}
