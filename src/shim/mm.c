/*
 * mm.c - mmap, munmap, mprotect, madvise, mremap and brk over cubrt's
 * paging API (msync, mincore and the mlock calls: mm_extra.c).
 *
 * Invariants:
 *  - vmas[0..nvmas) are sorted, disjoint, page-aligned [start, end) ranges
 *    inside the platform's VM window; every byte the program may map
 *    through this file lies in exactly one vma (the brk heap is a vma too);
 *  - a page of a vma with prot != NONE is mapped to a frame this file
 *    allocated; a PROT_NONE page is unmapped and its frame, if it had one,
 *    is "parked" in the `parked` table so a later mprotect restores the
 *    contents (Linux keeps them);
 *  - frames are allocated eagerly at mmap/mprotect time (zero-filled):
 *    no demand paging, so a system call may read or write any mapped page.
 * Locking: one mutex-free critical section per call (irq_save); the calls
 * never block.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "procfs.h"
#include "shim_impl.h"

#define MAX_VMAS 1024
#define MAX_PARKED 4096
#define PROT_MASK 7u
#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MAP_KNOWN (0x0f | 0x10 | 0x20 | 0x100 | 0x800 | 0x1000 | 0x2000 | 0x4000 | \
		   0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x100000)
#define MADV_DONTNEED 4
#define MADV_FREE 8
#define PG CUB_PAGE_SIZE
/*
 * Layout of the VM window (cub_arch_vm_window; x86: 64 GiB .. 127 TiB):
 * programs (static-pie at window + 16 GiB, exec.c) and their brk heap
 * below window + 64 GiB; mmap without a hint searches from there up.
 */
#define MMAP_BASE_OFFSET (64ull << 30)

struct vma {
	uintptr_t start, end;
	unsigned prot;
};

static struct vma vmas[MAX_VMAS];
static size_t nvmas;
static struct { uintptr_t va, pa; } parked[MAX_PARKED];
static uintptr_t win_lo, win_hi;
static uintptr_t brk_base, brk_cur;	/* brk heap: vma [brk_base, brk_cur) */

static void window(void)
{
	if (!win_hi)
		cub_arch_vm_window(&win_lo, &win_hi);
}

/* Index of the first vma ending above addr. */
static size_t find(uintptr_t addr)
{
	size_t lo = 0, hi = nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (vmas[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool covered(uintptr_t start, uintptr_t end)
{
	for (size_t i = find(start); start < end; i++) {
		if (i == nvmas || vmas[i].start > start)
			return false;
		start = vmas[i].end;
	}
	return true;
}

static bool overlaps(uintptr_t start, uintptr_t end)
{
	size_t i = find(start);

	return i < nvmas && vmas[i].start < end;
}

/* Splits the vma containing addr so that a boundary falls at addr. */
static int split_at(uintptr_t addr)
{
	size_t i = find(addr);

	if (i == nvmas || vmas[i].start >= addr)
		return 0;
	if (nvmas == MAX_VMAS)
		return -CUB_ENOMEM;
	cub_memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(vmas[0]));
	nvmas++;
	vmas[i].end = addr;
	vmas[i + 1].start = addr;
	return 0;
}

static int insert(uintptr_t start, uintptr_t end, unsigned prot)
{
	size_t i = find(start);

	if (nvmas == MAX_VMAS)
		return -CUB_ENOMEM;
	cub_memmove(&vmas[i + 1], &vmas[i], (nvmas - i) * sizeof(vmas[0]));
	vmas[i] = (struct vma){ start, end, prot };
	nvmas++;
	return 0;
}

static bool park(uintptr_t va, uintptr_t pa)
{
	for (size_t i = 0; i < MAX_PARKED; i++)
		if (!parked[i].va) {
			parked[i].va = va;
			parked[i].pa = pa;
			return true;
		}
	return false;
}

static uintptr_t unpark(uintptr_t va)
{
	for (size_t i = 0; i < MAX_PARKED; i++)
		if (parked[i].va == va) {
			parked[i].va = 0;
			return parked[i].pa;
		}
	return 0;
}

/* Frees the frame behind page va, mapped or parked. */
static void release_page(uintptr_t va)
{
	uintptr_t pa;

	if (cub_vm_query(va, &pa, NULL) == 0) {
		cub_vm_unmap(va, PG);
		cub_frame_free(pa);
	} else if ((pa = unpark(va))) {
		cub_frame_free(pa);
	}
}

/* Gives page va protection prot, allocating, parking or restoring its frame. */
static int set_page(uintptr_t va, unsigned prot)
{
	uintptr_t pa;

	if (cub_vm_query(va, &pa, NULL) == 0) {
		if (prot != CUB_PROT_NONE)
			return cub_vm_protect(va, PG, prot);
		if (!park(va, pa))
			return -CUB_ENOMEM;
		return cub_vm_unmap(va, PG);
	}
	if (prot == CUB_PROT_NONE)
		return 0;
	pa = unpark(va);
	if (!pa && !(pa = cub_frame_alloc(CUB_FRAME_ZERO)))
		return -CUB_ENOMEM;
	return cub_vm_map(va, pa, PG, prot);
}

static int set_range(uintptr_t start, uintptr_t end, unsigned prot)
{
	for (uintptr_t va = start; va < end; va += PG) {
		int rc = set_page(va, prot);

		if (rc)
			return rc;
	}
	return 0;
}

/* Removes [start, end) from the vma list and frees its frames. */
static int remove_range(uintptr_t start, uintptr_t end)
{
	size_t i;

	if (split_at(start) || split_at(end))
		return -CUB_ENOMEM;
	i = find(start);
	while (i < nvmas && vmas[i].start < end) {
		for (uintptr_t va = vmas[i].start; va < vmas[i].end; va += PG)
			release_page(va);
		cub_memmove(&vmas[i], &vmas[i + 1], (nvmas - i - 1) * sizeof(vmas[0]));
		nvmas--;
	}
	return 0;
}

/* Lowest free gap of len bytes at or above a, or 0. */
static uintptr_t gap_from(uintptr_t a, size_t len)
{
	for (size_t i = find(a); a + len <= win_hi && a + len > a; i++) {
		if (i == nvmas || vmas[i].start >= a + len)
			return a;
		a = vmas[i].end > a ? vmas[i].end : a;
	}
	return 0;
}

/* A free range for a mapping without MAP_FIXED: at the hint when it is in
 * the window, else from the mmap base, else anywhere in the window. */
static uintptr_t find_gap(uintptr_t hint, size_t len)
{
	uintptr_t base = win_hi - win_lo > 2 * MMAP_BASE_OFFSET ? win_lo + MMAP_BASE_OFFSET : win_lo;
	uintptr_t a = 0;

	if (hint >= win_lo && hint < win_hi)
		a = gap_from(hint, len);
	if (!a)
		a = gap_from(base, len);
	if (!a)
		a = gap_from(win_lo, len);
	return a;
}

static bool in_window(uintptr_t start, size_t len)
{
	return start >= win_lo && start + len <= win_hi && start + len > start;
}

/* Maps [addr, addr+len) (fixed) or a free range; returns the address or
 * -errno. The caller validated len (page multiple, > 0) and prot. */
long cubi_mm_map(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace)
{
	unsigned long irq = cub_arch_irq_save();
	long rc;

	window();
	if (fixed) {
		rc = !in_window(addr, len) ? -CUB_ENOMEM
		     : noreplace && overlaps(addr, addr + len) ? -CUB_EEXIST
		     : remove_range(addr, addr + len);
	} else {
		addr = find_gap(CUB_ALIGN_DOWN(addr, PG), len);
		rc = addr ? 0 : -CUB_ENOMEM;
	}
	if (!rc)
		rc = insert(addr, addr + len, prot);
	if (!rc && (rc = set_range(addr, addr + len, prot)))
		remove_range(addr, addr + len);
	cub_arch_irq_restore(irq);
	return rc ? (rc == -CUB_EPERM ? -CUB_EPERM : rc) : (long)addr;
}

CUBI_SYS(mmap)
{
	uintptr_t addr = A0(r);
	uint64_t len = A1(r), prot = A2(r), flags = A3(r);
	bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);

	if (len == 0 || (prot & ~(uint64_t)PROT_MASK) || (flags & ~(uint64_t)MAP_KNOWN))
		return -CUB_EINVAL;
	/* PRIVATE, SHARED or SHARED_VALIDATE (3): all private to one process. */
	if ((flags & MAP_TYPE) == 0 || (flags & MAP_TYPE) > 3)
		return -CUB_EINVAL;
	if (A5(r) % PG || (fixed && addr % PG))
		return -CUB_EINVAL;
	if (len > UINT64_MAX - PG)
		return -CUB_ENOMEM;
	if (!(flags & MAP_ANONYMOUS))		/* a file: file.c copies it in */
		return cubi_file_map(A4(r), addr, CUB_ALIGN_UP(len, PG), (unsigned)prot,
				     (flags & MAP_TYPE) != MAP_PRIVATE, A5(r), fixed,
				     flags & MAP_FIXED_NOREPLACE);
	/* MAP_SHARED anonymous memory is private to the one process anyway. */
	return cubi_mm_map(addr, CUB_ALIGN_UP(len, PG), (unsigned)prot, fixed,
			   flags & MAP_FIXED_NOREPLACE);
}

CUBI_SYS(munmap)
{
	uintptr_t addr = A0(r);
	uint64_t len = A1(r);
	unsigned long irq;
	int rc;

	window();
	if (addr % PG || len == 0 || len > UINT64_MAX - PG)
		return -CUB_EINVAL;
	len = CUB_ALIGN_UP(len, PG);
	if (!in_window(addr, len))
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	rc = remove_range(addr, addr + len);
	cub_arch_irq_restore(irq);
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

int cubi_mm_protect(uintptr_t addr, size_t len, unsigned prot)
{
	uintptr_t end;
	unsigned long irq;
	int rc;

	if ((rc = user_range(addr, len, &end)) <= 0)
		return rc;
	irq = cub_arch_irq_save();
	rc = !covered(addr, end) || split_at(addr) || split_at(end) ? -CUB_ENOMEM : 0;
	for (size_t i = find(addr); !rc && i < nvmas && vmas[i].start < end; i++) {
		vmas[i].prot = prot;
		rc = set_range(vmas[i].start, vmas[i].end, prot);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

CUBI_SYS(madvise)
{
	uintptr_t addr = A0(r), end;
	uint64_t advice = A2(r);
	unsigned long irq;
	int rc;

	if (advice > 25)
		return -CUB_EINVAL;
	if ((rc = user_range(addr, A1(r), &end)) <= 0)
		return rc;
	irq = cub_arch_irq_save();
	rc = covered(addr, end) ? 0 : -CUB_ENOMEM;
	/* DONTNEED/FREE: the next access sees zeroes, as Linux's fresh pages. */
	for (uintptr_t va = addr; !rc && va < end &&
	     (advice == MADV_DONTNEED || advice == MADV_FREE); va += PG) {
		uintptr_t pa;

		if (cub_vm_query(va, &pa, NULL) == 0)
			cub_memset((void *)pa, 0, PG);
		else if ((pa = unpark(va)))
			cub_frame_free(pa);
	}
	cub_arch_irq_restore(irq);
	return rc;
}

bool cubi_mm_covered(uintptr_t start, uintptr_t end)
{
	unsigned long irq = cub_arch_irq_save();
	bool all = covered(start, end);

	cub_arch_irq_restore(irq);
	return all;
}

/* ------------------------------------------------------------- mremap */

#define MREMAP_MAYMOVE 1u
#define MREMAP_FIXED 2u
#define MREMAP_DONTUNMAP 4u

/* Moves the frames (mapped or parked) of [from, from+len) to the same
 * offsets at `to`, a fresh vma of the same protection: no copying. */
static int move_pages(uintptr_t from, uintptr_t to, size_t len, unsigned prot)
{
	for (size_t off = 0; off < len; off += PG) {
		uintptr_t pa;
		int rc = 0;

		if (cub_vm_query(from + off, &pa, NULL) == 0) {
			cub_vm_unmap(from + off, PG);
			rc = cub_vm_map(to + off, pa, PG, prot);
		} else if ((pa = unpark(from + off)) && !park(to + off, pa)) {
			rc = -CUB_ENOMEM;	/* cannot happen: one slot freed */
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* The new place of a moving mremap: new_addr (FIXED: whatever was there
 * goes) or a free gap; 0 and *to, or -errno. irq off. */
static int moved_to(uintptr_t old, size_t olen, size_t nlen, uintptr_t hint,
		    bool fixed, uintptr_t *to)
{
	if (!fixed) {
		*to = find_gap(0, nlen);
		return *to ? 0 : -CUB_ENOMEM;
	}
	if (hint % PG || !in_window(hint, nlen))
		return -CUB_EINVAL;
	if (hint < old + olen && old < hint + nlen)
		return -CUB_EINVAL;		/* overlapping ranges */
	*to = hint;
	return remove_range(hint, hint + nlen);
}

/* Grows [old, old+olen) to nlen in place, or moves it; irq off. */
static long remap_locked(uintptr_t old, size_t olen, size_t nlen, uint32_t flags,
			 uintptr_t hint)
{
	size_t i = find(old);
	unsigned prot;
	uintptr_t to;
	int rc;

	if (i == nvmas || vmas[i].start > old || !covered(old, old + olen))
		return -CUB_EFAULT;
	prot = vmas[i].prot;
	for (size_t j = i; j < nvmas && vmas[j].start < old + olen; j++)
		if (vmas[j].prot != prot)
			return -CUB_EFAULT;
	if (!(flags & MREMAP_FIXED) && nlen <= olen) {	/* shrinking */
		rc = remove_range(old + nlen, old + olen);
		return rc ? rc : (long)old;
	}
	if (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && in_window(old, nlen) &&
	    !overlaps(old + olen, old + nlen)) {		/* in place */
		if ((rc = insert(old + olen, old + nlen, prot)) ||
		    (rc = set_range(old + olen, old + nlen, prot)))
			return remove_range(old + olen, old + nlen), rc;
		return (long)old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -CUB_ENOMEM;
	if ((rc = moved_to(old, olen, nlen, hint, flags & MREMAP_FIXED, &to)) ||
	    (rc = insert(to, to + nlen, prot)))
		return rc;
	rc = move_pages(old, to, olen < nlen ? olen : nlen, prot);
	if (!rc)	/* the tail past the old size: fresh zeroes */
		rc = set_range(to + (olen < nlen ? olen : nlen), to + nlen, prot);
	if (!rc)	/* DONTUNMAP: the old range stays, as fresh zeroes */
		rc = flags & MREMAP_DONTUNMAP ? set_range(old, old + olen, prot)
					      : remove_range(old, old + olen);
	return rc ? rc : (long)to;
}

/* mremap over this file's mappings (file mappings are copies, so they
 * remap as anonymous memory does); the old range must lie in mappings
 * of one protection (-EFAULT), as one Linux vma. */
CUBI_SYS(mremap)
{
	uintptr_t old = A0(r), hint = A4(r);
	uint64_t olen = A1(r), nlen = A2(r);
	uint32_t flags = (uint32_t)A3(r);
	unsigned long irq;
	long rc;

	window();
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
	if (!in_window(old, olen))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	rc = remap_locked(old, olen, nlen, flags, hint);
	cub_arch_irq_restore(irq);
	return rc;
}

size_t cubi_mm_snapshot(struct cubi_vma_info *out, size_t max,
			uintptr_t *brk_lo, uintptr_t *brk_hi)
{
	unsigned long irq = cub_arch_irq_save();
	size_t n = nvmas;

	for (size_t i = 0; i < n && i < max; i++)
		out[i] = (struct cubi_vma_info){ vmas[i].start, vmas[i].end, vmas[i].prot };
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

	window();
	if (!brk_base)
		brk_base = brk_cur = win_lo;
	cur_top = CUB_ALIGN_UP(brk_cur, PG);
	new_top = CUB_ALIGN_UP(want, PG);
	if (want < brk_base || want > win_hi) {
		want = brk_cur;		/* query (0) or impossible: unchanged */
	} else if (new_top > cur_top) {
		if (overlaps(cur_top, new_top) || insert(cur_top, new_top,
				CUB_PROT_READ | CUB_PROT_WRITE))
			want = brk_cur;
		else if (set_range(cur_top, new_top, CUB_PROT_READ | CUB_PROT_WRITE)) {
			remove_range(cur_top, new_top);
			want = brk_cur;
		}
	} else if (new_top < cur_top) {
		remove_range(new_top, cur_top);
	}
	brk_cur = want;
	cub_arch_irq_restore(irq);
	return (long)brk_cur;
}
