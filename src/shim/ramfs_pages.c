/*
 * ramfs_pages.c - a regular file's bytes, one page frame for each 4 KiB
 * page of the file. Because the bytes live in frames, a shared mapping
 * maps the file's own frames (mm_file.c), and read, write and every
 * mapping of the file see the same bytes, as on Linux.
 *
 * Two levels, so that a sparse file costs what it holds: f.pages is an
 * array of f.cap leaf pointers; a leaf holds 512 slots, each the frame
 * of one page or 0 (a hole, which reads as zeros), and a missing leaf is
 * 512 holes. Leaves are frames, but leaf 0, a heap array of f.leaf0
 * slots grown as the file does, so that a small file costs its pages
 * and a few words, as on Linux's tmpfs.
 *
 * Invariants:
 *  - f.cap * 512 >= pages(f.size) and f.leaf0 >= min(512, pages(f.size))
 *    once anything was written or the size grown (every page below the
 *    size has its leaf pointer and leaf 0 its slot: a fault never has to
 *    allocate from the heap); no slot at or past pages(f.size) holds a
 *    frame;
 *  - bytes of the last page past f.size may be anything (a mapping may
 *    write there, as on Linux), so growing the size zeroes them first.
 * Locking: callers hold the fs lock, except cubi_ramfs_page, which the
 * page-fault path calls with interrupts off and no lock. So that it
 * always sees a whole state, every change of f.pages, f.cap, a leaf
 * pointer, a slot or f.size is made with interrupts off (one CPU), and
 * a frame past a shrunk size is unmapped from every shared mapping
 * (cubi_mm_file_dropped) before it is freed.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "mm.h"
#include "ramfs_impl.h"

#define PG CUB_PAGE_SIZE

#define LEAF (PG / sizeof(uintptr_t))	/* slots in a leaf */

static size_t pages_of(uint64_t size)
{
	return (size_t)((size + PG - 1) / PG);
}

/* Page idx's slot, or NULL when its leaf is missing (a hole). */
static uintptr_t *slot(const struct cubi_rnode *n, size_t idx)
{
	uintptr_t *leaf = idx / LEAF < n->f.cap ? (uintptr_t *)n->f.pages[idx / LEAF] : NULL;

	if (idx < LEAF && idx >= n->f.leaf0)
		return NULL;
	return leaf ? &leaf[idx % LEAF] : NULL;
}

/* Replaces the heap array of words whose address is stored at `at` (a
 * pointer, or a word holding one) by one of n words: its first `keep`
 * copied, the rest zero, swapped in with interrupts off so that a page
 * fault sees the old array or the new one, whole; the old one freed
 * after. 0 or -ENOSPC. */
static int regrow(void *at, size_t keep, size_t n)
{
	uintptr_t *fresh = cub_malloc(n * sizeof(*fresh)), *old;
	unsigned long irq;

	if (!fresh)
		return -CUB_ENOSPC;
	irq = cub_arch_irq_save();
	cub_memcpy(&old, at, sizeof(old));
	if (keep)
		cub_memcpy(fresh, old, keep * sizeof(*fresh));
	cub_memset(fresh + keep, 0, (n - keep) * sizeof(*fresh));
	cub_memcpy(at, &fresh, sizeof(fresh));
	cub_arch_irq_restore(irq);
	cub_free(old);
	return 0;
}

/* Leaf pointers and leaf 0's slots for `need` pages, both doubling.
 * Leaf 0 is a heap array no longer than the file needs (a small file
 * costs its pages and a few words); leaves past it are frames. 0 or
 * -ENOSPC. */
static int ensure_slots(struct cubi_rnode *n, size_t need)
{
	size_t leaves = (need + LEAF - 1) / LEAF, want = CUB_MIN(need, LEAF), cap;

	if (leaves > n->f.cap) {
		cap = CUB_MAX(CUB_MAX(n->f.cap * 2, leaves), (size_t)1);
		if (regrow(&n->f.pages, n->f.cap, cap))
			return -CUB_ENOSPC;
		n->f.cap = cap;
	}
	if (want > n->f.leaf0) {
		cap = CUB_MIN(CUB_MAX(CUB_MAX(n->f.leaf0 * 2, want), (size_t)4), LEAF);
		if (regrow(&n->f.pages[0], n->f.leaf0, cap))
			return -CUB_ENOSPC;
		n->f.leaf0 = cap;
	}
	return 0;
}

/* Puts a zeroed frame at *at unless something is there already (a page
 * fault may have filled it): 0 and *at set, or -ENOSPC. */
static int install(uintptr_t *at)
{
	uintptr_t fresh;
	unsigned long irq;
	bool lost;

	if (*at)
		return 0;
	if (!(fresh = cub_frame_alloc(CUB_FRAME_ZERO)))
		return -CUB_ENOSPC;
	irq = cub_arch_irq_save();
	lost = *at != 0;
	if (!lost)
		*at = fresh;
	cub_arch_irq_restore(irq);
	if (lost)
		cub_frame_free(fresh);
	return 0;
}

/* The frame of page idx (its leaf pointer exists), a zeroed one put in a
 * hole: 0 or -ENOSPC. irq off or on. */
static int fill(struct cubi_rnode *n, size_t idx, uintptr_t *pa)
{
	uintptr_t *s;

	if ((idx >= LEAF && install(&n->f.pages[idx / LEAF])) || install(s = slot(n, idx)))
		return -CUB_ENOSPC;
	*pa = *s;
	return 0;
}

int cubi_ramfs_page(struct cubi_rnode *n, uint64_t idx, uintptr_t *pa)
{
	if (cubi_ramfs_page_past_end(n, idx))
		return -CUB_EFAULT;	/* past the end: SIGBUS */
	return fill(n, (size_t)idx, pa) ? -CUB_ENOMEM : 0;
}

uintptr_t cubi_ramfs_page_peek(const struct cubi_rnode *n, uint64_t idx)
{
	const uintptr_t *s;

	if (cubi_ramfs_page_past_end(n, idx) || !(s = slot(n, (size_t)idx)))
		return 0;
	return *s;
}

bool cubi_ramfs_page_past_end(const struct cubi_rnode *n, uint64_t idx)
{
	return idx >= pages_of(n->f.size);
}

void cubi_ramfs_pages_read(const struct cubi_rnode *n, void *buf, size_t len, uint64_t off)
{
	unsigned char *to = buf;

	while (len) {
		size_t in = (size_t)(off % PG), k = CUB_MIN(len, (size_t)PG - in);
		const uintptr_t *s = slot(n, (size_t)(off / PG));
		uintptr_t pa = s ? *s : 0;

		if (pa)
			cub_memcpy(to, (const unsigned char *)pa + in, k);
		else
			cub_memset(to, 0, k);
		to += k, off += k, len -= k;
	}
}

/* Sets f.size to size > f.size, zeroing what the last page held past
 * the old size (slots exist). */
static void grow(struct cubi_rnode *n, uint64_t size)
{
	const uintptr_t *s = n->f.size % PG ? slot(n, n->f.size / PG) : NULL;
	uintptr_t pa = s ? *s : 0;
	unsigned long irq;

	if (pa)
		cub_memset((unsigned char *)pa + n->f.size % PG, 0, PG - n->f.size % PG);
	irq = cub_arch_irq_save();
	n->f.size = (size_t)size;
	cub_arch_irq_restore(irq);
	if (!cubi_mm_demand)	/* no fault brings the new pages to a mapping */
		cubi_mm_file_grown(n);
}

long cubi_ramfs_pages_write(struct cubi_rnode *n, const void *buf, size_t len, uint64_t off)
{
	const unsigned char *from = buf;
	size_t done = 0;
	int rc;

	if ((rc = ensure_slots(n, pages_of(off + len))))
		return rc;
	if (off > n->f.size)
		grow(n, off);
	while (done < len) {
		size_t in = (size_t)((off + done) % PG), k = CUB_MIN(len - done, (size_t)PG - in);
		uintptr_t pa;

		if (fill(n, (size_t)((off + done) / PG), &pa))
			break;
		if (off + done + k > n->f.size)
			grow(n, off + done + k);
		cub_memcpy((unsigned char *)pa + in, from + done, k);
		done += k;
	}
	return done ? (long)done : -CUB_ENOSPC;
}

/* Frees leaf l (empty): leaf 0 is the heap's, the others frames. */
static void drop_leaf(struct cubi_rnode *n, size_t l)
{
	if (l == 0) {
		cub_free((void *)n->f.pages[0]);
		n->f.leaf0 = 0;
	} else {
		cub_frame_free(n->f.pages[l]);
	}
	n->f.pages[l] = 0;
}

/* Drops the frames of the pages from `from` on, unmapped from every
 * shared mapping first, and the leaves wholly past it (missing leaves
 * are skipped: a sparse file's truncate costs what it held). irq off. */
static void drop_pages(struct cubi_rnode *n, size_t from)
{
	cubi_mm_file_dropped(n, from, UINT64_MAX);
	for (size_t l = from / LEAF; l < n->f.cap; l++) {
		uintptr_t *leaf = (uintptr_t *)n->f.pages[l];
		size_t first = l == from / LEAF ? from % LEAF : 0;
		size_t slots = l == 0 ? n->f.leaf0 : LEAF;

		for (size_t i = first; leaf && i < slots; i++)
			if (leaf[i]) {
				cub_frame_free(leaf[i]);
				leaf[i] = 0;
			}
		if (leaf && first == 0)
			drop_leaf(n, l);
	}
}

int cubi_ramfs_pages_reserve(struct cubi_rnode *n, uint64_t off, uint64_t end)
{
	uintptr_t pa;

	for (size_t i = (size_t)(off / PG); i < pages_of(CUB_MIN(end, (uint64_t)n->f.size)); i++)
		if (fill(n, i, &pa))
			return -CUB_ENOSPC;
	return 0;
}

/* Zeroes bytes [from, to) of one page (to - from <= PG), if it has a frame. */
static void zero_part(struct cubi_rnode *n, uint64_t from, uint64_t to)
{
	const uintptr_t *s = from < to ? slot(n, (size_t)(from / PG)) : NULL;

	if (s && *s)
		cub_memset((unsigned char *)*s + from % PG, 0, (size_t)(to - from));
}

/* Zeroes bytes [from, to) where their pages have frames. */
static void zero_range(struct cubi_rnode *n, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t next = CUB_MIN(to, (from / PG + 1) * PG);

		zero_part(n, from, next);
		from = next;
	}
}

void cubi_ramfs_pages_punch(struct cubi_rnode *n, uint64_t off, uint64_t end)
{
	uint64_t first = (off + PG - 1) / PG, last;	/* whole pages [first, last) */
	unsigned long irq;

	end = CUB_MIN(end, (uint64_t)n->f.size);
	last = end / PG;
	/* Without demand paging nothing would map a freed page again: the
	 * range is zeroed and keeps its frames. */
	if (!cubi_mm_demand || first >= last) {
		zero_range(n, off, end);
		return;
	}
	zero_range(n, off, first * PG);
	zero_range(n, last * PG, end);
	irq = cub_arch_irq_save();
	cubi_mm_file_dropped(n, first, last);
	for (uint64_t i = first; i < last; i++) {
		uintptr_t *s = slot(n, (size_t)i);

		if (s && *s) {
			cub_frame_free(*s);
			*s = 0;
		}
	}
	cub_arch_irq_restore(irq);
}

int cubi_ramfs_pages_resize(struct cubi_rnode *n, uint64_t size)
{
	unsigned long irq;
	int rc;

	if (size > n->f.size) {
		if ((rc = ensure_slots(n, pages_of(size))))
			return rc;
		grow(n, size);
		return 0;
	}
	irq = cub_arch_irq_save();
	drop_pages(n, pages_of(size));
	n->f.size = (size_t)size;
	cub_arch_irq_restore(irq);
	if (size == 0)		/* emptied: the slots go too */
		cubi_ramfs_pages_free(n);
	return 0;
}

void cubi_ramfs_pages_free(struct cubi_rnode *n)
{
	unsigned long irq = cub_arch_irq_save();

	drop_pages(n, 0);	/* maps none: the node is going, or empty */
	cub_free(n->f.pages);
	n->f.pages = NULL;
	n->f.cap = 0;
	cub_arch_irq_restore(irq);
}
