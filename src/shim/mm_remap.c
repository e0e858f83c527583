/*
 * mm_remap.c - mremap over the mapping table (mm_table.c): it shrinks a
 * mapping, grows it in place when the pages after it are free, or
 * (MREMAP_MAYMOVE) moves its frames, without copying, to a free gap or
 * to MREMAP_FIXED's address; MREMAP_DONTUNMAP leaves the old range behind as fresh zero
 * pages (anonymous memory only: a shared file mapping gets -EINVAL). A
 * shared file mapping carries its file and offset to the new range, and
 * grows over the file's next pages; private file mappings are copies
 * (file.c), so they remap as anonymous memory does.
 *
 * Invariants: those of the mapping table (mm_table.c's header comment;
 * the table and its operations: mm_impl.h). A remap changes it only through
 * those operations, and carries frames, mapped or parked, to the same
 * offsets of the new range instead of copying them.
 *
 * Locking: as every memory call, one critical section (irq_save) around
 * the whole remap; it never blocks.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>

#include "mm_impl.h"

#define PG CUB_PAGE_SIZE
#define MREMAP_MAYMOVE 1u
#define MREMAP_FIXED 2u
#define MREMAP_DONTUNMAP 4u

struct move {
	uintptr_t from, to;
	int rc;
};

/* A parked frame of the old range parked again at the new place (the
 * table has the slot its unpark freed). */
static void move_parked(void *arg, uintptr_t va, uintptr_t pa)
{
	struct move *m = arg;

	if (!cubi_mm_park(m->to + (va - m->from), pa) && !m->rc) {
		cub_frame_free(pa);	/* a new table not had: lost, not leaked */
		cubi_mm_resident--;
		m->rc = -CUB_ENOMEM;
	}
}

/* Moves the frames (mapped or parked) of [from, from+len) to the same
 * offsets at `to`, a fresh vma of the same protection outside it, each
 * page with the protection it had: no copying. Only the pages holding a
 * frame are visited (cub_vm_next, cubi_mm_unpark_range). */
static int move_pages(uintptr_t from, uintptr_t to, size_t len)
{
	struct move m = { from, to, 0 };
	uintptr_t pa;
	unsigned now;	/* a borrowed cow page's is read-only */

	for (uintptr_t va = cub_vm_next(from, from + len, &pa, &now); va < from + len;
	     va = cub_vm_next(va + PG, from + len, &pa, &now)) {
		int rc;

		cub_vm_unmap(va, PG);
		if ((rc = cub_vm_map(to + (va - from), pa, PG, now)))
			return rc;
	}
	cubi_mm_unpark_range(from, from + len, move_parked, &m);
	return m.rc;
}

/* The new place of a moving mremap: new_addr (FIXED: whatever was there
 * goes) or a free gap; 0 and *to, or -errno. irq off. */
static int moved_to(uintptr_t old, size_t olen, size_t nlen, uintptr_t hint,
		    bool fixed, uintptr_t *to)
{
	if (!fixed) {
		*to = cubi_mm_find_gap(0, nlen);
		return *to ? 0 : -CUB_ENOMEM;
	}
	if (hint % PG || !cubi_mm_in_window(hint, nlen))
		return -CUB_EINVAL;
	if (hint < old + olen && old < hint + nlen)
		return -CUB_EINVAL;		/* overlapping ranges */
	*to = hint;
	return cubi_mm_remove_range(hint, hint + nlen);
}

/* Grows [old, old+olen) to nlen in place, or moves it; irq off. */
static long remap_locked(uintptr_t old, size_t olen, size_t nlen, uint32_t flags,
			 uintptr_t hint)
{
	const struct cubi_mm_vma *v = cubi_mm_vma_at(old);
	struct cubi_mm_vma like;	/* the file, if any: copied, the table moves */
	uint64_t pgoff;
	unsigned prot;
	uintptr_t to;
	int rc;

	if (!v || !cubi_mm_covered_locked(old, old + olen))
		return -CUB_EFAULT;
	like = *v;
	prot = like.prot;
	pgoff = like.pgoff + (old - like.start) / PG;	/* the file page at old */
	CUBI_MM_EACH(v, old, old + olen)
		if (v->prot != prot || v->file != like.file)
			return -CUB_EFAULT;
	if (like.file && (flags & MREMAP_DONTUNMAP))
		return -CUB_EINVAL;	/* private anonymous memory only */
	if (!(flags & MREMAP_FIXED) && nlen <= olen) {	/* shrinking */
		rc = cubi_mm_remove_range(old + nlen, old + olen);
		return rc ? rc : (long)old;
	}
	if (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && cubi_mm_in_window(old, nlen) &&
	    !cubi_mm_overlaps(old + olen, old + nlen)) {		/* in place */
		if ((rc = cubi_mm_insert_like(old + olen, old + nlen, prot, &like,
					      pgoff + olen / PG)) ||
		    (rc = cubi_mm_set_range(old + olen, old + nlen, prot)))
			return cubi_mm_remove_range(old + olen, old + nlen), rc;
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -CUB_ENOMEM;
	if ((rc = moved_to(old, olen, nlen, hint, flags & MREMAP_FIXED, &to)) ||
	    (rc = cubi_mm_insert_like(to, to + nlen, prot, &like, pgoff)))
		return rc;
	rc = move_pages(old, to, olen < nlen ? olen : nlen);
	if (!rc)	/* the tail past the old size: fresh zeroes */
		rc = cubi_mm_set_range(to + (olen < nlen ? olen : nlen), to + nlen, prot);
	if (!rc)	/* DONTUNMAP: the old range stays, as fresh zeroes */
		rc = flags & MREMAP_DONTUNMAP ? cubi_mm_set_range(old, old + olen, prot)
					      : cubi_mm_remove_range(old, old + olen);
	return rc ? rc : (long)to;
}

/* mremap; the old range must lie in mappings of
 * one protection and one file (-EFAULT), as one Linux vma. */
CUBI_SYS(mremap)
{
	uintptr_t old = A0(r), hint = A4(r);
	uint64_t olen = A1(r), nlen = A2(r);
	uint32_t flags = (uint32_t)A3(r);
	unsigned long irq;
	long rc;

	cubi_mm_window();
	if (old % PG || A3(r) & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -CUB_EINVAL;
	if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && !(flags & MREMAP_MAYMOVE))
		return -CUB_EINVAL;
	if (olen > UINT64_MAX - PG || nlen > UINT64_MAX - PG)
		return -CUB_EINVAL;
	olen = CUB_ALIGN_UP(olen, PG);
	nlen = CUB_ALIGN_UP(nlen, PG);
	if (nlen == 0 || olen == 0 || ((flags & MREMAP_DONTUNMAP) && olen != nlen))
		return -CUB_EINVAL;	/* olen 0 duplicates shared memory only */
	if (!cubi_mm_in_window(old, olen))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	rc = remap_locked(old, olen, nlen, flags, hint);
	cub_arch_irq_restore(irq);
	cubi_mm_reap();
	return rc;
}
