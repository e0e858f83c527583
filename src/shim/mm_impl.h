/*
 * mm_impl.h - what the memory files share beyond mm.h's cubi_mm_*
 * calls: the mapping table (mm_table.c) and the operations on it that
 * mm.c, mm_remap.c (mremap), mm_fault.c and mm_file.c are built from.
 * The table's invariants are in mm_table.c's header comment. Everything
 * here but cubi_mm_window is irq off: the caller holds the one critical
 * section (cub_arch_irq_save) for its whole call, so that nobody sees a
 * change half done.
 */
#ifndef CUBRT_SHIM_MM_IMPL_H
#define CUBRT_SHIM_MM_IMPL_H

#include "shim_impl.h"

struct cubi_file;
struct cubi_rnode;

/* A mapping: page-aligned [start, end) of one protection (CUB_PROT_*).
 * A file mapping (mm_file.c) also has the open file it holds a
 * reference to, its node, and the file page at start; its pages are the
 * file's own frames, which the mapping maps but never frees: MAP_SHARED,
 * or (cow) MAP_PRIVATE. A cow page is absent, the file's frame
 * (borrowed: never mapped writable, whatever prot says) or a frame of
 * its own (copied from the file's at its first write: with demand
 * paging, the write fault makes the copy; without, the whole vma is
 * copied when it becomes writable and turns anonymous). Anonymous
 * memory and those copies have file NULL. */
struct cubi_mm_vma {
	uintptr_t start, end;
	unsigned prot;
	bool cow;		/* a private file mapping */
	struct cubi_file *file;
	struct cubi_rnode *node;
	uint64_t pgoff;
};

/*
 * The mappings, sorted and disjoint (mm_table.c), kept in mm_tree.c's
 * balanced tree and walked through these calls, each O(log n) in the
 * number of vmas. A vma pointer stays valid until the table next changes shape
 * (cubi_mm_insert*, cubi_mm_split_at, cubi_mm_merge_range,
 * cubi_mm_remove_range, which may move or free any vma): after one, look
 * the vma up again by address. Between them a vma's prot and file fields
 * may be changed in place, never its start or end.
 *  - cubi_mm_vma_find: the first vma ending above addr (the one holding
 *    addr, else the next one up), NULL when none;
 *  - cubi_mm_vma_at: the vma holding addr, or NULL;
 *  - first/last/next/prev: in address order, NULL past either end;
 *  - count: how many vmas there are.
 * CUBI_MM_EACH(v, start, end) runs v over the vmas meeting [start, end)
 * in order (the body must not change the table's shape).
 */
struct cubi_mm_vma *cubi_mm_vma_find(uintptr_t addr);
struct cubi_mm_vma *cubi_mm_vma_at(uintptr_t addr);
struct cubi_mm_vma *cubi_mm_vma_first(void);
struct cubi_mm_vma *cubi_mm_vma_last(void);
struct cubi_mm_vma *cubi_mm_vma_next(const struct cubi_mm_vma *v);
struct cubi_mm_vma *cubi_mm_vma_prev(const struct cubi_mm_vma *v);
size_t cubi_mm_vma_count(void);
#define CUBI_MM_EACH(v, lo, hi) \
	for ((v) = cubi_mm_vma_find(lo); (v) && (v)->start < (hi); (v) = cubi_mm_vma_next(v))
/*
 * mm_tree.c's side, for mm_table.c alone (the table's invariants are
 * its to keep). tree_add puts a copy of v, which meets no vma, in the
 * tree: its node's vma, or NULL with nothing changed when the table has
 * Linux's 65,530 vmas or no frame is free for the pool. tree_del takes
 * vma v out (another vma's node may move into its slot: pointers to
 * vmas are stale after it). tree_gap_after: the lowest address at or
 * above v's end from which len bytes up to the next vma are free (the
 * last vma's end when no gap between vmas is that long).
 * For the unit test: tree_check verifies the tree's invariants (the
 * tree's height, or -1 when one is broken); tree_frames: the frames
 * its pool holds now; tree_visits counts the nodes the tree's calls
 * have looked at.
 */
struct cubi_mm_vma *cubi_mm_tree_add(const struct cubi_mm_vma *v);
void cubi_mm_tree_del(struct cubi_mm_vma *v);
uintptr_t cubi_mm_tree_gap_after(const struct cubi_mm_vma *v, size_t len);
int cubi_mm_tree_check(void);
size_t cubi_mm_tree_frames(void);
extern size_t cubi_mm_tree_visits;
/* Doubles a table of *cap elements of elem bytes whose address is
 * stored at `at` (first elements if empty) into frames of its own, the
 * old table's frames freed when `owned` (not a static first table):
 * false when no run of frames is free. irq off. */
bool cubi_mm_grow_table(void *at, size_t *cap, size_t elem, size_t first, bool owned);

/* Learns the platform's VM window [cubi_mm_win_lo, cubi_mm_win_hi),
 * once; any context, before the functions below look at it. */
void cubi_mm_window(void);
extern uintptr_t cubi_mm_win_lo, cubi_mm_win_hi;
/* Splits the vma holding addr so that a boundary falls there: 0, or
 * -ENOMEM (no room in the table). Joins the vmas in or next to [start,
 * end] that continue each other (as Linux merges vmas). */
int cubi_mm_split_at(uintptr_t addr);
void cubi_mm_merge_range(uintptr_t start, uintptr_t end);
/* True when [start, start+len) lies in the window and does not wrap. */
bool cubi_mm_in_window(uintptr_t start, size_t len);
/* True when every page of [start, end) is in a vma (cubi_mm_covered is
 * the same for callers outside the critical section). */
bool cubi_mm_covered_locked(uintptr_t start, uintptr_t end);
/* True when a vma meets [start, end). */
bool cubi_mm_overlaps(uintptr_t start, uintptr_t end);
/* Adds the vma [start, end) of prot where nothing is mapped: 0, or
 * -ENOMEM (the table is full). Maps no page: cubi_mm_set_range does.
 * _like: of like's file (a reference more) with file page pgoff at
 * start; like NULL: anonymous. */
int cubi_mm_insert(uintptr_t start, uintptr_t end, unsigned prot);
int cubi_mm_insert_like(uintptr_t start, uintptr_t end, unsigned prot,
			const struct cubi_mm_vma *like, uint64_t pgoff);
/* mm.c: cubi_mm_map of a vma like `like` (NULL: anonymous), file page
 * pgoff at its start; irq off. The address or -errno. */
long cubi_mm_map_locked(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace,
			const struct cubi_mm_vma *like, uint64_t pgoff);
/* Gives the pages of [start, end) protection prot, allocating, parking
 * or restoring their frames: 0 or -errno. */
int cubi_mm_set_range(uintptr_t start, uintptr_t end, unsigned prot);
/* Removes [start, end) from the table and frees its frames: 0, or
 * -ENOMEM (no room to split a vma at an end). */
int cubi_mm_remove_range(uintptr_t start, uintptr_t end);
/* A free range of len bytes for a mapping without MAP_FIXED (at hint when
 * it is free and in the window): its address, or 0. */
uintptr_t cubi_mm_find_gap(uintptr_t hint, size_t len);
/* The frames of PROT_NONE pages (mm_park.c): park keeps page va's frame
 * pa (false when the heap has no room for it); unpark takes va's back
 * (0: none parked). */
bool cubi_mm_park(uintptr_t va, uintptr_t pa);
uintptr_t cubi_mm_unpark(uintptr_t va);
/* True when page va's frame is parked. */
bool cubi_mm_parked(uintptr_t va);
/* Unparks every parked page of [start, end), calling fn(arg, va, pa)
 * for each after it left the table (fn may park a page outside [start,
 * end) only, as mremap's move does): in
 * O(min(pages, table slots)), so a huge range costs what is parked in
 * it, not its length. */
void cubi_mm_unpark_range(uintptr_t start, uintptr_t end,
			  void (*fn)(void *arg, uintptr_t va, uintptr_t pa), void *arg);
/* Lets go of the frame behind page va, mapped or parked, of vma v:
 * freed when anonymous, kept when the file's (shared); nothing for an
 * absent page. */
void cubi_mm_release_page(const struct cubi_mm_vma *v, uintptr_t va);
/* The same for every page of [start, end) inside v, at a cost that
 * follows the pages holding a frame (cub_vm_next, cubi_mm_unpark_range)
 * rather than the range's length. */
void cubi_mm_release_range(const struct cubi_mm_vma *v, uintptr_t start, uintptr_t end);
/* mm_file.c. The frame of page va of shared file vma v (the file's, a
 * zeroed one put in a hole): 0, -EFAULT past the file's end (SIGBUS),
 * -ENOMEM. */
int cubi_mm_file_frame(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t *pa);
/* A removed vma's file reference: dropped now, the file freed by
 * cubi_mm_reap once interrupts are on. */
void cubi_mm_drop_file(struct cubi_file *f);
/* Cow vma v becomes anonymous memory of its own, before mprotect makes
 * it writable with prot: every page a copy of the file's (past the
 * file's end: absent, so zeroes), the file reference dropped. 0 or
 * -ENOMEM (some pages copied: the vma stays cow). */
int cubi_mm_cow_break(struct cubi_mm_vma *v, unsigned prot);
/* True when pa, the frame behind page va of v, is v's file's own frame
 * (always false for anonymous memory). */
bool cubi_mm_borrowed(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t pa);
/* The protection page va of v, with frame pa, is mapped with when v's
 * is prot: prot, for a borrowed cow page without write but with read. */
unsigned cubi_mm_page_prot(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t pa,
			   unsigned prot);
/* A write to page va of cow vma v, with demand paging: the page gets a
 * copy of the file's page, mapped with v's prot, unless it has its own
 * frame already. 0, -EFAULT (past the file's end: SIGBUS), -ENOMEM.
 * irq off. */
int cubi_mm_cow_write(const struct cubi_mm_vma *v, uintptr_t va);
/* mlockall(MCL_FUTURE) is in force: new mappings are paged in at once
 * (mm_extra.c sets it, mmap reads it). */
extern bool cubi_mm_lock_future;

#endif
