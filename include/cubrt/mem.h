/*
 * cubrt/mem.h - physical page frames and the paging (vm) API.
 *
 * Frames: every page of RAM the platform hands over (cub_arch_mem_regions)
 * is owned by the frame allocator until allocated. A frame's address is
 * usable directly: both platforms keep all RAM identity mapped (bare
 * metal: the boot page tables; host: the "physical" arena mapped at its
 * own addresses), so a frame needs no mapping before use.
 *
 * Paging: cub_vm_* change mappings of page ranges in the one address
 * space, validated here (alignment, length, the image, page 0, W^X) and
 * applied through the cub_arch_page_* hooks, which invalidate the TLB.
 *
 * Locking: the frame allocator's state is protected by disabling
 * interrupts (cub_arch_irq_save), so frames may be allocated and freed
 * from any context on the one CPU. The vm calls edit page tables and are
 * task/boot only (arch.h).
 */
#ifndef CUBRT_MEM_H
#define CUBRT_MEM_H

#include <cubrt/arch.h>	/* CUB_PROT_* */
#include <cubrt/base.h>

/* ---------------------------------------------------------------- init */

/*
 * Initialises the frame allocator from cub_arch_mem_regions(), gives the
 * platform its page-table page source, then the heap and the stack
 * allocator. Idempotent (host tests may call it before the runtime does).
 * Contexts: boot.
 */
void cubi_mem_init(void);

/* ------------------------------------------------------------- frames */

/* cub_frame_alloc* flags. */
#define CUB_FRAME_ZERO 1u	/* return zero-filled frames */

/*
 * Allocates one frame (4 KiB, page aligned). Returns its address, or 0
 * when no frame is free. Contexts: any.
 */
uintptr_t cub_frame_alloc(unsigned flags);

/*
 * Allocates n physically contiguous frames (lowest address first fit).
 * Returns the address of the first, or 0 when n is 0 or no run of n free
 * frames exists. Contexts: any (cost grows with memory size: prefer task).
 */
uintptr_t cub_frame_alloc_run(size_t n, unsigned flags);

/*
 * Returns frames to the allocator; any sub-range of an allocated run may be
 * freed on its own. Freeing a frame that is free already, unaligned or not
 * owned by the allocator panics with its address. Contexts: any.
 */
void cub_frame_free(uintptr_t pa);
void cub_frame_free_run(uintptr_t pa, size_t n);

/* True when pa is a frame the allocator owns and has handed out. */
bool cub_frame_is_allocated(uintptr_t pa);

struct cub_frame_stats {
	size_t total;		/* frames owned (RAM pages given at init) */
	size_t free;		/* frames free now */
	size_t min_free;	/* lowest free count seen */
	size_t meta;		/* frames used by the allocator's own bitmap */
};

/* Fills *st. Contexts: any. */
void cub_frame_stats(struct cub_frame_stats *st);
size_t cub_frame_free_count(void);
size_t cub_frame_total_count(void);

/* ---------------------------------------------------------------- vm */

/*
 * Highest address + 1 any cub_vm_* call accepts (the lower canonical half
 * of x86-64). Page 0 is never mappable (NULL stays a fault).
 */
#define CUB_VM_LIMIT 0x0000800000000000ull

/* Physical addresses are below 2^52 (the x86-64 architectural maximum). */
#define CUB_PA_LIMIT 0x0010000000000000ull

/*
 * Maps [va, va+len) to [pa, pa+len) with prot (CUB_PROT_* from arch.h),
 * replacing existing mappings. CUB_PROT_NONE unmaps.
 * Returns 0, or
 *   -CUB_EINVAL  va, pa or len not page aligned, len 0, a range that wraps
 *                or ends above CUB_VM_LIMIT (pa: CUB_PA_LIMIT), unknown
 *                prot bits;
 *   -CUB_EPERM   the range touches page 0 or the loaded image, pa covers
 *                the image's frames with a writable or executable prot
 *                (a read-only alias is allowed), or prot is writable and
 *                executable while W^X is enforced;
 *   -CUB_ENOMEM  no frame for a page table (pages mapped by this call are
 *                unmapped again; mappings it replaced are lost).
 * Contexts: boot, task.
 */
int cub_vm_map(uintptr_t va, uintptr_t pa, size_t len, unsigned prot);

/*
 * Unmaps [va, va+len): pages that were not mapped are skipped (like
 * munmap). Frames behind the pages are not freed (the caller owns them).
 * Errors: -CUB_EINVAL, -CUB_EPERM as for cub_vm_map. Contexts: boot, task.
 */
int cub_vm_unmap(uintptr_t va, size_t len);

/*
 * Changes the protection of [va, va+len), keeping each page's frame.
 * Every page must be mapped: otherwise -CUB_ENOENT and nothing changes.
 * prot CUB_PROT_NONE makes the pages inaccessible (unmapped) but they can
 * no longer be re-protected (their frame is forgotten): use cub_vm_map.
 * Errors: as cub_vm_map. Contexts: boot, task.
 */
int cub_vm_protect(uintptr_t va, size_t len, unsigned prot);

/*
 * Looks up the page containing va: 0 and *pa (the frame of that page plus
 * va's offset) and *prot, or -CUB_ENOENT when not mapped. Either out
 * pointer may be NULL. Contexts: any.
 */
int cub_vm_query(uintptr_t va, uintptr_t *pa, unsigned *prot);

/*
 * The lowest mapped page in [va, end) (va rounded down to its page):
 * its address, with *pa (its frame) and *prot set as cub_vm_query sets
 * them; or end when no page there is mapped (end also when va >= end or
 * va >= CUB_VM_LIMIT; the out pointers are then untouched). Either out
 * pointer may be NULL. Absent page-table subtrees are skipped whole
 * (cub_arch_page_next), so a sparse range costs what it holds, not its
 * length: walk a range's pages with
 *   for (p = cub_vm_next(lo, hi, &pa, NULL); p < hi;
 *        p = cub_vm_next(p + CUB_PAGE_SIZE, hi, &pa, NULL))
 * Contexts: boot, task.
 */
uintptr_t cub_vm_next(uintptr_t va, uintptr_t end, uintptr_t *pa, unsigned *prot);

/*
 * W^X policy: enforced (the default) rejects writable+executable
 * mappings with -CUB_EPERM. Returns the previous setting. Contexts: boot,
 * task.
 */
bool cub_vm_set_wx_enforced(bool on);

#endif
