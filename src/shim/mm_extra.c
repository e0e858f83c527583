/*
 * mm_extra.c - the memory calls that only check and page in their range:
 * msync, mincore and the mlock family.
 *
 * With demand paging (mm_fault.c) a page is resident once touched, and
 * mincore says which are; mlock, mlock2 without MLOCK_ONFAULT and
 * mlockall(MCL_CURRENT) page the range in, and MCL_FUTURE makes later
 * mappings paged in at mmap. Nothing is ever paged out (no swap), so a
 * resident page stays locked without more bookkeeping, and munlock has
 * nothing to undo. A shared file mapping is the file's own pages, so
 * there is nothing to write back: msync only checks. A range with an unmapped
 * page gets -ENOMEM, as on Linux.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "mm_impl.h"

#define PG CUB_PAGE_SIZE
#define MS_ASYNC 1u
#define MS_INVALIDATE 2u
#define MS_SYNC 4u
#define MLOCK_ONFAULT 1u
#define MCL_CURRENT 1u
#define MCL_FUTURE 2u
#define MCL_ONFAULT 4u

bool cubi_mm_lock_future;

/* [addr, addr+len) rounded out to pages: 1 and *lo, *hi; 0 when empty;
 * -EINVAL when it wraps. */
static int round_out(uintptr_t addr, uint64_t len, uintptr_t *lo, uintptr_t *hi)
{
	if (len == 0)
		return 0;
	if (addr + len < addr || addr + len > UINTPTR_MAX - PG)
		return -CUB_EINVAL;
	*lo = CUB_ALIGN_DOWN(addr, PG);
	*hi = CUB_ALIGN_UP(addr + len, PG);
	return 1;
}

/* msync: addr must be page aligned (-EINVAL). */
CUBI_SYS(msync)
{
	uint64_t flags = A2(r);
	uintptr_t lo, hi;
	int rc;

	if (flags & ~(uint64_t)(MS_ASYNC | MS_INVALIDATE | MS_SYNC) ||
	    (flags & MS_ASYNC && flags & MS_SYNC) || A0(r) % PG)
		return -CUB_EINVAL;
	if ((rc = round_out(A0(r), A1(r), &lo, &hi)) <= 0)
		return rc == -CUB_EINVAL ? -CUB_ENOMEM : rc;
	return cubi_mm_covered(lo, hi) ? 0 : -CUB_ENOMEM;
}

/* mincore: one byte per page, bit 0 set when the page holds a frame. */
CUBI_SYS(mincore)
{
	uintptr_t addr = A0(r), vec = A2(r), lo, hi;
	size_t pages;
	int rc;

	if (addr % PG)
		return -CUB_EINVAL;
	if ((rc = round_out(addr, A1(r), &lo, &hi)) <= 0)
		return rc == -CUB_EINVAL ? -CUB_ENOMEM : rc;
	pages = (hi - lo) / PG;
	if (!cubi_user_writable(vec, pages))
		return -CUB_EFAULT;
	if (!cubi_mm_covered(lo, hi))
		return -CUB_ENOMEM;
	for (size_t i = 0; i < pages; i++)
		((unsigned char *)vec)[i] = cubi_mm_page_resident(lo + i * PG);
	return 0;
}

/* mlock, mlock2, munlock: addr rounded down to its page, as Linux does;
 * page_in for the locking calls (a frame cannot be had: -EAGAIN). */
static long lock_range(uintptr_t addr, uint64_t len, bool page_in)
{
	uintptr_t lo, hi;
	int rc = round_out(addr, len, &lo, &hi);

	if (rc <= 0)
		return rc;
	if (!cubi_mm_covered(lo, hi))
		return -CUB_ENOMEM;
	return page_in && cubi_mm_populate_range(lo, hi) ? -CUB_EAGAIN : 0;
}

CUBI_SYS(mlock)
{
	return lock_range(A0(r), A1(r), true);
}

CUBI_SYS(mlock2)
{
	if (A2(r) & ~(uint64_t)MLOCK_ONFAULT)
		return -CUB_EINVAL;
	return lock_range(A0(r), A1(r), !(A2(r) & MLOCK_ONFAULT));
}

CUBI_SYS(munlock)
{
	return lock_range(A0(r), A1(r), false);
}

/* mlockall: CURRENT and/or FUTURE, ONFAULT only beside one of them. */
CUBI_SYS(mlockall)
{
	uint64_t flags = A0(r);

	if (!(flags & (MCL_CURRENT | MCL_FUTURE)) ||
	    flags & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT))
		return -CUB_EINVAL;
	cubi_mm_lock_future = (flags & (MCL_FUTURE | MCL_ONFAULT)) == MCL_FUTURE;
	if (flags & MCL_CURRENT && !(flags & MCL_ONFAULT))
		return cubi_mm_populate_range(0, UINTPTR_MAX) ? -CUB_ENOMEM : 0;
	return 0;
}

CUBI_SYS(munlockall)
{
	(void)r;
	cubi_mm_lock_future = false;
	return 0;
}
