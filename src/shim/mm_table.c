/*
 * mm_table.c - the mapping table the memory calls share (mm.c, mm_remap.c,
 * mm_fault.c, mm_file.c: the operations are in mm_impl.h): where the
 * program's mappings are, and which frames their pages have, over
 * cubrt's paging API.
 *
 * The vmas live in mm_tree.c's balanced tree (its header says why that
 * shape): every call here finds, adds or removes a vma in O(log n) of
 * the vma count, never by walking the table; walks over a range cost
 * O(log n) plus the vmas in it. The tree and its node pool change only
 * through cubi_mm_tree_add/del, each all or nothing, so a call that
 * fails for want of a node (-ENOMEM: Linux's 65,530 vmas, or no free
 * frame) leaves the table as it found it, or at worst split where a
 * merge would have joined (the second split of a removal).
 *
 * Invariants (of the table, whichever file changes it):
 *  - the vmas are sorted, disjoint, page-aligned
 *    [start, end) ranges inside the platform's VM window, at most
 *    65,530 of them; every byte the
 *    program may map through these files lies in exactly one vma (the brk
 *    heap is a vma too); inserts and mprotect join neighbours that agree
 *    (cubi_mm_merge_range), as Linux merges vmas, so the table's size follows
 *    what is mapped rather than how often it was changed;
 *  - a page of a vma with prot != NONE is mapped to a frame these files
 *    allocated, or in a shared file mapping (mm_file.c) to the file's
 *    own frame of that page, which the mapping never frees; a PROT_NONE
 *    page is unmapped and its frame, if it had one, is "parked"
 *    (mm_park.c) so a later mprotect restores the contents (Linux keeps
 *    them);
 *  - with demand paging on (cubi_mm_demand, bare metal: mm_fault.c) a
 *    page of a vma with prot != NONE may also be absent, frame-less until
 *    its first touch; off (the host), frames are allocated eagerly at
 *    mmap/mprotect time, zero-filled, and no accessible page is absent;
 *  - cubi_mm_resident counts the frames these files hold, mapped or
 *    parked (VmRSS).
 * Locking: the caller's critical section (irq off: mm_impl.h), one per
 * memory call or demand fault.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "mm_impl.h"

#define PG CUB_PAGE_SIZE

/*
 * Layout of the VM window (cub_arch_vm_window; x86: 64 GiB .. 127 TiB):
 * programs (static-pie at window + 16 GiB, exec.c) and their brk heap
 * below window + 64 GiB; mmap without a hint searches from there up.
 */
#define MMAP_BASE_OFFSET (64ull << 30)

bool cubi_mm_demand;
size_t cubi_mm_resident;
uintptr_t cubi_mm_win_lo, cubi_mm_win_hi;

void cubi_mm_window(void)
{
	if (!cubi_mm_win_hi)
		cub_arch_vm_window(&cubi_mm_win_lo, &cubi_mm_win_hi);
}

bool cubi_mm_covered_locked(uintptr_t start, uintptr_t end)
{
	for (const struct cubi_mm_vma *v = cubi_mm_vma_find(start); start < end;
	     v = cubi_mm_vma_next(v)) {
		if (!v || v->start > start)
			return false;
		start = v->end;
	}
	return true;
}

bool cubi_mm_overlaps(uintptr_t start, uintptr_t end)
{
	const struct cubi_mm_vma *v = cubi_mm_vma_find(start);

	return v && v->start < end;
}

bool cubi_mm_grow_table(void *at, size_t *cap, size_t elem, size_t first, bool owned)
{
	size_t n = *cap ? *cap * 2 : first;
	size_t had = owned && *cap ? (*cap * elem + PG - 1) / PG : 0;
	uintptr_t pa = cub_frame_alloc_run((n * elem + PG - 1) / PG, 0), old;

	if (!pa)
		return false;
	cub_memcpy(&old, at, sizeof(old));
	if (*cap)
		cub_memcpy((void *)pa, (const void *)old, *cap * elem);
	cub_memcpy(at, &pa, sizeof(pa));
	if (had)
		cub_frame_free_run(old, had);
	*cap = n;
	return true;
}

/* Splits the vma containing addr so that a boundary falls at addr: the
 * left half keeps its node, the right half is a new one (a failure
 * leaves the vma as it was). */
int cubi_mm_split_at(uintptr_t addr)
{
	struct cubi_mm_vma *v = cubi_mm_vma_at(addr), right;

	if (!v || v->start == addr)
		return 0;
	right = *v;
	right.start = addr;
	if (v->file)
		right.pgoff += (addr - v->start) / PG;
	v->end = addr;		/* before the add: the new node's gap is 0 */
	if (!cubi_mm_tree_add(&right)) {
		v->end = right.end;
		return -CUB_ENOMEM;
	}
	if (v->file)	/* both halves hold the file */
		v->file->refs++;
	return 0;
}

/* Does b, right after a, continue it as one vma would (same protection,
 * same file at the next page, or both anonymous)? */
static bool joinable(const struct cubi_mm_vma *a, const struct cubi_mm_vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->file == b->file &&
	       a->cow == b->cow &&
	       (!a->file || b->pgoff == a->pgoff + (a->end - a->start) / PG);
}

/* Joins the vmas in or next to [start, end] where joinable, as Linux
 * merges them: the table holds what the program mapped, not the history
 * of its mprotect calls (a split per call would soon fill it). */
void cubi_mm_merge_range(uintptr_t start, uintptr_t end)
{
	struct cubi_mm_vma *v = cubi_mm_vma_find(start), *b;
	uintptr_t at;

	if (!v)
		return;
	if ((b = cubi_mm_vma_prev(v)))
		v = b;
	while ((b = cubi_mm_vma_next(v)) && v->start <= end) {
		if (!joinable(v, b)) {
			v = b;
			continue;
		}
		at = v->start;
		v->end = b->end;
		if (b->file)	/* its own reference; v keeps one */
			cubi_mm_drop_file(b->file);
		cubi_mm_tree_del(b);
		v = cubi_mm_vma_at(at);	/* the removal may move v's node */
	}
}

int cubi_mm_insert_like(uintptr_t start, uintptr_t end, unsigned prot,
			const struct cubi_mm_vma *like, uint64_t pgoff)
{
	struct cubi_mm_vma v = { start, end, prot, false, NULL, NULL, 0 };

	if (like && like->file) {
		v.file = like->file;
		v.node = like->node;
		v.cow = like->cow;
		v.pgoff = pgoff;
	}
	if (!cubi_mm_tree_add(&v))
		return -CUB_ENOMEM;
	if (v.file)
		v.file->refs++;
	cubi_mm_merge_range(start, end);
	return 0;
}

int cubi_mm_insert(uintptr_t start, uintptr_t end, unsigned prot)
{
	return cubi_mm_insert_like(start, end, prot, NULL, 0);
}

/* Lets go of frame pa of page va of v, no longer mapped or parked. */
static void release_frame(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t pa)
{
	if (!v->file || (v->cow && !cubi_mm_borrowed(v, va, pa)))
		cub_frame_free(pa);	/* not the file's: a cow copy */
	cubi_mm_resident--;
}

void cubi_mm_release_page(const struct cubi_mm_vma *v, uintptr_t va)
{
	uintptr_t pa;

	if (cub_vm_query(va, &pa, NULL) == 0)
		cub_vm_unmap(va, PG);
	else if (!(pa = cubi_mm_unpark(va)))
		return;
	release_frame(v, va, pa);
}

static void release_parked(void *v, uintptr_t va, uintptr_t pa)
{
	release_frame(v, va, pa);
}

void cubi_mm_release_range(const struct cubi_mm_vma *v, uintptr_t start, uintptr_t end)
{
	uintptr_t pa;

	for (uintptr_t va = cub_vm_next(start, end, &pa, NULL); va < end;
	     va = cub_vm_next(va + PG, end, &pa, NULL)) {
		cub_vm_unmap(va, PG);
		release_frame(v, va, pa);
	}
	cubi_mm_unpark_range(start, end, release_parked, (void *)v);
}

/* Gives page va of vma v protection prot, parking or restoring its
 * frame; an absent page gets one now only when demand paging is off
 * (a shared file page past the file's end stays absent). */
static int set_page(const struct cubi_mm_vma *v, uintptr_t va, unsigned prot)
{
	uintptr_t pa;
	int rc;

	if (cub_vm_query(va, &pa, NULL) == 0) {
		if (prot != CUB_PROT_NONE)
			return cub_vm_protect(va, PG, cubi_mm_page_prot(v, va, pa, prot));
		if (!cubi_mm_park(va, pa))
			return -CUB_ENOMEM;
		return cub_vm_unmap(va, PG);
	}
	if (prot == CUB_PROT_NONE)
		return 0;
	if ((pa = cubi_mm_unpark(va)))
		return cub_vm_map(va, pa, PG, cubi_mm_page_prot(v, va, pa, prot));
	if (cubi_mm_demand)
		return 0;	/* absent until touched: mm_fault.c */
	if (v->file) {
		rc = cubi_mm_file_frame(v, va, &pa);
		if (rc)
			return rc == -CUB_EFAULT ? 0 : rc;
	} else if (!(pa = cub_frame_alloc(CUB_FRAME_ZERO))) {
		return -CUB_ENOMEM;
	}
	if ((rc = cub_vm_map(va, pa, PG, cubi_mm_page_prot(v, va, pa, prot)))) {
		if (!v->file)
			cub_frame_free(pa);
		return rc;
	}
	cubi_mm_resident++;
	return 0;
}

struct restore {
	const struct cubi_mm_vma *v;
	unsigned prot;
	int rc;
};

/* A parked frame back in its page (cubi_mm_unpark_range's fn). A page
 * that cannot be mapped (no page-table frame) loses its frame: the
 * table no longer holds it and it must not leak. */
static void restore_parked(void *arg, uintptr_t va, uintptr_t pa)
{
	struct restore *r = arg;
	int rc = cub_vm_map(va, pa, PG, cubi_mm_page_prot(r->v, va, pa, r->prot));

	if (rc) {
		release_frame(r->v, va, pa);
		r->rc = r->rc ? r->rc : rc;
	}
}

/*
 * [start, end) lies in one vma. Only where absent pages get frames now
 * (an accessible prot with demand paging off: the host) is every page
 * visited; otherwise absent pages stay absent, and the mapped pages
 * (cub_vm_next) and the parked ones (cubi_mm_unpark_range) are all
 * there is to change, so the cost follows them, not the range's length.
 * The walk over every page stays inside the caller's one critical
 * section: splitting it would let a fault or another call see the vma
 * with its new prot but pages of the old (mm_impl.h), and demand paging
 * is off only on the host, where "interrupts" are signals.
 */
int cubi_mm_set_range(uintptr_t start, uintptr_t end, unsigned prot)
{
	const struct cubi_mm_vma *v = cubi_mm_vma_find(start);
	struct restore r = { v, prot, 0 };
	uintptr_t pa;

	if (prot != CUB_PROT_NONE && !cubi_mm_demand) {
		for (uintptr_t va = start; va < end; va += PG) {
			int rc = set_page(v, va, prot);

			if (rc)
				return rc;
		}
		return 0;
	}
	for (uintptr_t va = cub_vm_next(start, end, &pa, NULL); va < end;
	     va = cub_vm_next(va + PG, end, &pa, NULL)) {
		int rc = set_page(v, va, prot);

		if (rc)
			return rc;
	}
	if (prot != CUB_PROT_NONE)
		cubi_mm_unpark_range(start, end, restore_parked, &r);
	return r.rc;
}

/* Removes [start, end) from the table and frees its frames. */
int cubi_mm_remove_range(uintptr_t start, uintptr_t end)
{
	struct cubi_mm_vma *v;

	if (cubi_mm_split_at(start) || cubi_mm_split_at(end))
		return -CUB_ENOMEM;
	while ((v = cubi_mm_vma_find(start)) && v->start < end) {
		cubi_mm_release_range(v, v->start, v->end);
		if (v->file)
			cubi_mm_drop_file(v->file);
		cubi_mm_tree_del(v);
	}
	return 0;
}

/* Lowest free gap of len bytes at or above a, or 0: a itself, else the
 * tree's lowest gap of len above the vma in the way (O(log n)). */
static uintptr_t gap_from(uintptr_t a, size_t len)
{
	const struct cubi_mm_vma *v = cubi_mm_vma_find(a);

	if (v && v->start < a + len)
		a = cubi_mm_tree_gap_after(v, len);
	return a + len <= cubi_mm_win_hi && a + len > a ? a : 0;
}

/* A free range for a mapping without MAP_FIXED: at the hint when it is in
 * the window, else from the mmap base, else anywhere in the window. */
uintptr_t cubi_mm_find_gap(uintptr_t hint, size_t len)
{
	uintptr_t lo = cubi_mm_win_lo, hi = cubi_mm_win_hi;
	uintptr_t base = hi - lo > 2 * MMAP_BASE_OFFSET ? lo + MMAP_BASE_OFFSET : lo;
	uintptr_t a = 0;

	if (hint >= lo && hint < hi)
		a = gap_from(hint, len);
	if (!a)
		a = gap_from(base, len);
	if (!a)
		a = gap_from(lo, len);
	return a;
}

bool cubi_mm_in_window(uintptr_t start, size_t len)
{
	return start >= cubi_mm_win_lo && start + len <= cubi_mm_win_hi && start + len > start;
}

