/*
 * mm.c - mmap, munmap, mprotect, madvise and brk: the calls' checks and
 * errors, over the mapping table (mm_table.c, through mm_impl.h), which
 * mremap (mm_remap.c) shares. msync, mincore and the mlock calls:
 * mm_extra.c; demand faults: mm_fault.c; shared file mappings:
 * mm_file.c; PROT_NONE frames: mm_park.c.
 *
 * Locking: one mutex-free critical section per call (irq_save), mremap's
 * and the demand fault's included; the calls never block (MADV_REMOVE
 * takes the fs lock outside it: mm_file.c). No code inside such a
 * section touches a program page through its virtual address (a demand
 * fault there would re-enter the table half changed).
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "mm_impl.h"
#include "procfs.h"

#define PROT_MASK 7u
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MAP_LOCKED 0x2000
#define MAP_POPULATE 0x8000
#define MAP_KNOWN (0x0f | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | \
		   0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x100000)
#define MADV_DONTNEED 4
#define MADV_REMOVE 9
#define MADV_FREE 8
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#define PG CUB_PAGE_SIZE
static uintptr_t brk_base, brk_cur;	/* brk heap: vma [brk_base, brk_cur) */

/* Maps [addr, addr+len) (fixed) or a free range; returns the address or
 * -errno. The caller validated len (page multiple, > 0) and prot. */
long cubi_mm_map(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace)
{
	unsigned long irq = cub_arch_irq_save();
	long rc = cubi_mm_map_locked(addr, len, prot, fixed, noreplace, NULL, 0);

	cub_arch_irq_restore(irq);
	return rc;
}

long cubi_mm_map_locked(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace,
			const struct cubi_mm_vma *like, uint64_t pgoff)
{
	long rc;

	cubi_mm_window();
	if (fixed) {
		rc = !cubi_mm_in_window(addr, len) ? -CUB_ENOMEM
		     : noreplace && cubi_mm_overlaps(addr, addr + len) ? -CUB_EEXIST
		     : cubi_mm_remove_range(addr, addr + len);
	} else {
		addr = cubi_mm_find_gap(CUB_ALIGN_DOWN(addr, PG), len);
		rc = addr ? 0 : -CUB_ENOMEM;
	}
	if (!rc)
		rc = cubi_mm_insert_like(addr, addr + len, prot, like, pgoff);
	/* A fresh vma has no frames; with demand paging none are due yet. */
	if (!rc && !cubi_mm_demand && (rc = cubi_mm_set_range(addr, addr + len, prot)))
		cubi_mm_remove_range(addr, addr + len);
	return rc ? (rc == -CUB_EPERM ? -CUB_EPERM : rc) : (long)addr;
}

CUBI_SYS(mmap)
{
	uintptr_t addr = A0(r);
	uint64_t len = A1(r), prot = A2(r), flags = A3(r);
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
	long at;

	if (len == 0 || (prot & ~(uint64_t)PROT_MASK) || (flags & ~(uint64_t)MAP_KNOWN))
		return -CUB_EINVAL;
	/* PRIVATE, SHARED or SHARED_VALIDATE (3): all private to one process. */
	if ((flags & MAP_TYPE) == 0 || (flags & MAP_TYPE) > 3)
		return -CUB_EINVAL;
	if (A5(r) % PG || (fixed && addr % PG))
		return -CUB_EINVAL;
	if (len > UINT64_MAX - PG)
		return -CUB_ENOMEM;
	if (!(flags & MAP_ANONYMOUS))		/* a file: file.c */
		at = cubi_file_map(A4(r), addr, CUB_ALIGN_UP(len, PG), (unsigned)prot,
				   (flags & MAP_TYPE) != MAP_PRIVATE, A5(r), fixed,
				   flags & MAP_FIXED_NOREPLACE);
	else	/* MAP_SHARED anonymous memory is private to the one process anyway */
		at = cubi_mm_map(addr, CUB_ALIGN_UP(len, PG), (unsigned)prot, fixed,
				 flags & MAP_FIXED_NOREPLACE);
	cubi_mm_reap();		/* files of the mappings MAP_FIXED replaced */
	/* Paged in now when asked; as on Linux, best effort. */
	if (at >= 0 && (flags & (MAP_POPULATE | MAP_LOCKED) || cubi_mm_lock_future))
		(void)cubi_mm_populate_range((uintptr_t)at, (uintptr_t)at + CUB_ALIGN_UP(len, PG));
	return at;
}

CUBI_SYS(munmap)
{
	uintptr_t addr = A0(r);
	uint64_t len = A1(r);
	unsigned long irq;
	int rc;

	cubi_mm_window();
	if (addr % PG || len == 0 || len > UINT64_MAX - PG)
		return -CUB_EINVAL;
	len = CUB_ALIGN_UP(len, PG);
	if (!cubi_mm_in_window(addr, len))
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	rc = cubi_mm_remove_range(addr, addr + len);
	cub_arch_irq_restore(irq);
	cubi_mm_reap();
	return rc;
}

/*
 * Checks the (addr, len) of mprotect/madvise: 1 with *end set to go on, 0
 * for an empty range (nothing to do), -EINVAL, or -ENOMEM when it wraps.
 */
static int user_range(uintptr_t addr, uint64_t len, uintptr_t *end)
{
	if (addr % PG || len > UINT64_MAX - PG)
		return -CUB_EINVAL;
	if (len == 0)
		return 0;
	*end = addr + CUB_ALIGN_UP(len, PG);
	return *end > addr ? 1 : -CUB_ENOMEM;
}

CUBI_SYS(mprotect)
{
	if (A2(r) & ~(uint64_t)PROT_MASK)
		return -CUB_EINVAL;
	return cubi_mm_protect(A0(r), A1(r), (unsigned)A2(r));
}

/* False when [start, end) meets a shared mapping of a file not open for
 * writing: it may not become writable (Linux: -EACCES). */
static bool shared_writable(uintptr_t start, uintptr_t end)
{
	const struct cubi_mm_vma *v;

	CUBI_MM_EACH(v, start, end)
		if (v->file && !v->cow && (v->file->flags & CUBI_O_ACCMODE) != CUBI_O_RDWR)
			return false;
	return true;
}

/* A shared mapping of node through a descriptor open O_RDWR may write
 * now or after an mprotect (Linux: VM_SHARED with VM_MAYWRITE, what
 * F_SEAL_WRITE waits to see gone: memfd.c). A file open read-only (one
 * file.c maps sealed files through included) never may. */
bool cubi_mm_node_mapped_writable(const struct cubi_rnode *node)
{
	unsigned long irq = cub_arch_irq_save();
	bool found = false;

	for (const struct cubi_mm_vma *v = cubi_mm_vma_first(); v && !found; v = cubi_mm_vma_next(v))
		found = v->node == node && !v->cow &&
			(v->file->flags & CUBI_O_ACCMODE) == CUBI_O_RDWR;
	cub_arch_irq_restore(irq);
	return found;
}

int cubi_mm_protect(uintptr_t addr, size_t len, unsigned prot)
{
	struct cubi_mm_vma *v;
	uintptr_t end;
	unsigned long irq;
	int rc;

	if ((rc = user_range(addr, len, &end)) <= 0)
		return rc;
	irq = cub_arch_irq_save();
	rc = !cubi_mm_covered_locked(addr, end) ? -CUB_ENOMEM
	     : (prot & CUB_PROT_WRITE) && !shared_writable(addr, end) ? -CUB_EACCES
	     : cubi_mm_split_at(addr) || cubi_mm_split_at(end) ? -CUB_ENOMEM : 0;
	for (v = rc ? NULL : cubi_mm_vma_find(addr); !rc && v && v->start < end;
	     v = cubi_mm_vma_next(v)) {
		/* A private file mapping without demand paging, which would
		 * copy each page at its first write (mm_fault.c): copied in. */
		if ((prot & CUB_PROT_WRITE) && v->cow && !cubi_mm_demand &&
		    (rc = cubi_mm_cow_break(v, prot)))
			break;
		v->prot = prot;
		rc = cubi_mm_set_range(v->start, v->end, prot);
	}
	cubi_mm_merge_range(addr, end);
	cub_arch_irq_restore(irq);
	return rc;
}

/* A parked frame of anonymous memory: its own, freed. */
static void forget_parked(void *unused, uintptr_t va, uintptr_t pa)
{
	(void)unused;
	(void)va;
	cub_frame_free(pa);
	cubi_mm_resident--;
}

/* DONTNEED/FREE on [va, end) of vma v: anonymous memory reads zeroes
 * next, as Linux's fresh pages; its frames go back, or with demand
 * paging off (nothing would page them in again) stay, zeroed. A shared
 * file page keeps its bytes (they are the file's): only the mapping
 * lets go, when a fault can bring it back. Only the pages holding a
 * frame are visited (cub_vm_next, cubi_mm_unpark_range). irq off. */
static void forget_range(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t end)
{
	uintptr_t pa;

	if (cubi_mm_demand) {
		cubi_mm_release_range(v, va, end);
		return;
	}
	if (v->file)
		return;
	for (uintptr_t p = cub_vm_next(va, end, &pa, NULL); p < end;
	     p = cub_vm_next(p + PG, end, &pa, NULL))
		cub_memset((void *)pa, 0, PG);	/* by its frame, not p */
	cubi_mm_unpark_range(va, end, forget_parked, NULL);
}

/* MADV_POPULATE_READ/WRITE: -EINVAL where the access is not allowed,
 * -ENOMEM out of frames. irq off. */
static int populate_advice(uintptr_t addr, uintptr_t end, unsigned access)
{
	const struct cubi_mm_vma *v;

	CUBI_MM_EACH(v, addr, end)
		if (v->prot == CUB_PROT_NONE || (access & ~v->prot & CUB_PROT_WRITE))
			return -CUB_EINVAL;
	return cubi_mm_demand && !cubi_mm_populate(addr, end - addr, access) ? -CUB_ENOMEM : 0;
}

CUBI_SYS(madvise)
{
	uintptr_t addr = A0(r), end;
	uint64_t advice = A2(r);
	const struct cubi_mm_vma *v;
	unsigned long irq;
	int rc;

	if (advice > 25)
		return -CUB_EINVAL;
	if ((rc = user_range(addr, A1(r), &end)) <= 0)
		return rc;
	if (advice == MADV_REMOVE)		/* a hole in the file: mm_file.c */
		return cubi_mm_remove(addr, end);
	irq = cub_arch_irq_save();
	rc = cubi_mm_covered_locked(addr, end) ? 0 : -CUB_ENOMEM;
	if (!rc && (advice == MADV_DONTNEED || advice == MADV_FREE))
		CUBI_MM_EACH(v, addr, end)
			forget_range(v, CUB_MAX(addr, v->start), CUB_MIN(end, v->end));
	else if (!rc && (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE))
		rc = populate_advice(addr, end, advice == MADV_POPULATE_READ ? CUB_PROT_READ
								   : CUB_PROT_WRITE);
	cub_arch_irq_restore(irq);
	return rc;
}

bool cubi_mm_covered(uintptr_t start, uintptr_t end)
{
	unsigned long irq = cub_arch_irq_save();
	bool all = cubi_mm_covered_locked(start, end);

	cub_arch_irq_restore(irq);
	return all;
}

size_t cubi_mm_snapshot(struct cubi_vma_info *out, size_t max,
			uintptr_t *brk_lo, uintptr_t *brk_hi)
{
	unsigned long irq = cub_arch_irq_save();
	size_t n = cubi_mm_vma_count(), i = 0;

	for (const struct cubi_mm_vma *v = cubi_mm_vma_first(); v && i < max;
	     v = cubi_mm_vma_next(v))
		out[i++] = (struct cubi_vma_info){ v->start, v->end, v->prot, v->node,
						   v->pgoff * PG, v->node && !v->cow };
	*brk_lo = brk_base;
	*brk_hi = CUB_ALIGN_UP(brk_cur, PG);
	cub_arch_irq_restore(irq);
	return n;
}

void cubi_mm_set_brk(uintptr_t base)
{
	brk_base = brk_cur = base;
}

CUBI_SYS(brk)
{
	uintptr_t want = A0(r), cur_top, new_top;
	unsigned long irq = cub_arch_irq_save();

	cubi_mm_window();
	if (!brk_base)
		brk_base = brk_cur = cubi_mm_win_lo;
	cur_top = CUB_ALIGN_UP(brk_cur, PG);
	new_top = CUB_ALIGN_UP(want, PG);
	if (want < brk_base || want > cubi_mm_win_hi) {
		want = brk_cur;		/* query (0) or impossible: unchanged */
	} else if (new_top > cur_top) {
		if (cubi_mm_overlaps(cur_top, new_top) || cubi_mm_insert(cur_top, new_top,
				CUB_PROT_READ | CUB_PROT_WRITE))
			want = brk_cur;
		else if (cubi_mm_set_range(cur_top, new_top, CUB_PROT_READ | CUB_PROT_WRITE)) {
			cubi_mm_remove_range(cur_top, new_top);
			want = brk_cur;
		}
	} else if (new_top < cur_top) {
		cubi_mm_remove_range(new_top, cur_top);
	}
	brk_cur = want;
	cub_arch_irq_restore(irq);
	cubi_mm_reap();
	return (long)brk_cur;
}
