/*
 * mm_file.c - file mappings of the file's own frames: MAP_SHARED of a
 * regular file (ramfs_pages.c keeps its bytes in frames), so a store
 * through one mapping is at once in the file, in read(2)'s result and in
 * every other mapping of it, as Linux's page cache makes it, what
 * shm_open, sem_open and databases' shared memory rely on; and
 * MAP_PRIVATE (cow), which borrows the same frames read-only, so reading
 * a large file through a mapping costs no copy; with demand paging a
 * write fault gives the page its own copy (cubi_mm_cow_write), without
 * it the whole mapping is copied when it becomes writable
 * (cubi_mm_cow_break; file.c copies one writable from the start).
 *
 * A shared vma holds a reference to its open file (so the node outlives
 * unlink and close) and knows the file page at its start; a split gives
 * both halves a reference (mm.c). Its frames are never freed by the
 * mapping: munmap, DONTNEED and mremap only map or unmap them. A page
 * past the file's end has no frame: touching it is SIGBUS, as on Linux,
 * and a truncate that shrinks the file first unmaps the pages it drops
 * from every mapping (cubi_mm_file_dropped), so no mapping keeps a frame
 * the file freed.
 *
 * Locking: the memory calls' critical section (irq off) for the table;
 * the file's page slots are read and filled with interrupts off
 * (ramfs_pages.c's rule), so a page fault may look them up without the fs lock. A removed
 * vma's file reference is dropped inside the section; a file freed by it
 * waits in `reaped` (a table that grows as needed) for cubi_mm_reap,
 * since freeing a file takes the fs lock.
 */
#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "mm_impl.h"
#include "ramfs.h"

#define PG CUB_PAGE_SIZE
static struct reaped {
	const struct cubi_file_ops *ops;
	void *mem;
} *reaped;			/* a growing table: cubi_mm_grow_table */
static size_t nreaped, reaped_cap;

int cubi_mm_file_frame(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t *pa)
{
	return cubi_ramfs_page(v->node, v->pgoff + (va - v->start) / PG, pa);
}

long cubi_mm_map_file(uintptr_t addr, size_t len, unsigned prot, bool fixed, bool noreplace,
		      struct cubi_file *f, uint64_t pgoff, bool cow)
{
	struct cubi_mm_vma like = { .file = f, .node = cubi_file_node(f), .cow = cow };
	unsigned long irq = cub_arch_irq_save();
	long rc = cubi_mm_map_locked(addr, len, prot, fixed, noreplace, &like, pgoff);

	cub_arch_irq_restore(irq);
	return rc;
}

void cubi_mm_file_dropped(struct cubi_rnode *node, uint64_t first, uint64_t last)
{
	unsigned long irq = cub_arch_irq_save();

	for (const struct cubi_mm_vma *v = cubi_mm_vma_first(); v; v = cubi_mm_vma_next(v)) {
		uint64_t pages = (v->end - v->start) / PG, from, to;

		if (v->node != node || v->pgoff + pages <= first || v->pgoff >= last)
			continue;
		from = first > v->pgoff ? first - v->pgoff : 0;
		to = last - v->pgoff < pages ? last - v->pgoff : pages;
		cubi_mm_release_range(v, v->start + from * PG, v->start + to * PG);
	}
	cub_arch_irq_restore(irq);
}

/* The shared file mapping at addr: *f held (a reference), the file's
 * node and the byte range behind [addr, min(end, its end)), whose
 * length it returns; or -ENOMEM (unmapped), -EINVAL (anonymous or a
 * private copy), -EACCES (a file not open for writing). */
static long remove_target(uintptr_t addr, uintptr_t end, struct cubi_file **f,
			  struct cubi_rnode **node, uint64_t *off)
{
	unsigned long irq = cub_arch_irq_save();
	const struct cubi_mm_vma *v = cubi_mm_vma_at(addr);
	long len = -CUB_ENOMEM;

	if (v) {
		len = !v->file ? -CUB_EINVAL
		      : v->cow || (v->file->flags & CUBI_O_ACCMODE) != CUBI_O_RDWR ? -CUB_EACCES
		      : (long)((end < v->end ? end : v->end) - addr);
		if (len > 0) {
			*f = v->file;
			(*f)->refs++;
			*node = v->node;
			*off = v->pgoff * PG + (addr - v->start);
		}
	}
	cub_arch_irq_restore(irq);
	return len;
}

long cubi_mm_remove(uintptr_t addr, uintptr_t end)
{
	while (addr < end) {
		struct cubi_file *f = NULL;
		struct cubi_rnode *node = NULL;
		uint64_t off = 0;
		long len = remove_target(addr, end, &f, &node, &off);
		int sealed;

		if (len < 0)
			return len;
		cubi_fs_lock();		/* excludes writers holding a frame */
		sealed = cubi_ramfs_file_seal_check(node, 0, true);	/* a write */
		if (!sealed)
			cubi_ramfs_pages_punch(node, off, off + (uint64_t)len);
		cubi_fs_unlock();
		cubi_file_put(f);
		if (sealed)
			return -CUB_EPERM;
		addr += (uintptr_t)len;
	}
	return 0;
}

/* One critical section a vma, the walk picking up by address where it
 * left off (the table may change in between). */
void cubi_mm_file_grown(struct cubi_rnode *node)
{
	uintptr_t at = 0;
	bool more = true;

	while (more) {
		unsigned long irq = cub_arch_irq_save();
		const struct cubi_mm_vma *v = cubi_mm_vma_find(at);

		if ((more = v != NULL)) {
			if (v->node == node && v->prot != CUB_PROT_NONE)
				(void)cubi_mm_set_range(v->start, v->end, v->prot);
			at = v->end;
		}
		cub_arch_irq_restore(irq);
	}
}

/* Page va of cow vma v made its own: a copy of the file's page in a
 * fresh frame, mapped with prot (or parked) where the file's frame was;
 * a page past the file's end stays absent. 0 or -ENOMEM. irq off. */
static int copy_page(const struct cubi_mm_vma *v, uintptr_t va, unsigned prot)
{
	enum { MAPPED, PARKED, ABSENT } was = MAPPED;
	uintptr_t from, to;

	if (cub_vm_query(va, &from, NULL) != 0) {
		if ((from = cubi_mm_unpark(va)))
			was = PARKED;
		else if (cubi_mm_file_frame(v, va, &from) == 0)
			was = ABSENT;
		else
			return 0;
	}
	if (!(to = cub_frame_alloc(0))) {
		if (was == PARKED)
			cubi_mm_park(va, from);	/* its slot was just freed */
		return -CUB_ENOMEM;
	}
	cub_memcpy((void *)to, (const void *)from, PG);
	if (was == PARKED) {
		cubi_mm_park(va, to);
	} else if (cub_vm_map(va, to, PG, prot)) {
		cub_frame_free(to);
		return -CUB_ENOMEM;
	}
	cubi_mm_resident += was == ABSENT;
	return 0;
}

bool cubi_mm_borrowed(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t pa)
{
	return v->file && pa &&
	       cubi_ramfs_page_peek(v->node, v->pgoff + (va - v->start) / PG) == pa;
}

/* A borrowed page loses write but keeps read: PROT_WRITE alone reads
 * (as on x86 and Linux), and without READ a write-only mapping's
 * borrowed page would be mapped with no access at all - its read would
 * fault forever, each fault "handled" by mapping it so again (found by
 * musl_fuzz; test_shim_shared's test_write_only). */
unsigned cubi_mm_page_prot(const struct cubi_mm_vma *v, uintptr_t va, uintptr_t pa,
			   unsigned prot)
{
	if (v->cow && (prot & CUB_PROT_WRITE) && cubi_mm_borrowed(v, va, pa))
		return (prot & ~(unsigned)CUB_PROT_WRITE) | CUB_PROT_READ;
	return prot;
}

int cubi_mm_cow_write(const struct cubi_mm_vma *v, uintptr_t va)
{
	uintptr_t pa;
	int rc;

	if (cub_vm_query(va, &pa, NULL) == 0 && !cubi_mm_borrowed(v, va, pa))
		return 0;	/* its own already */
	if ((rc = cubi_mm_file_frame(v, va, &pa)))
		return rc;	/* -EFAULT past the end: SIGBUS */
	return copy_page(v, va, v->prot);
}

int cubi_mm_cow_break(struct cubi_mm_vma *v, unsigned prot)
{
	for (uintptr_t va = v->start; va < v->end; va += PG) {
		int rc = copy_page(v, va, prot);

		if (rc)
			return rc;
	}
	cubi_mm_drop_file(v->file);
	v->file = NULL;
	v->node = NULL;
	v->cow = false;
	v->pgoff = 0;
	return 0;
}

bool cubi_mm_sigbus(uintptr_t addr)
{
	unsigned long irq = cub_arch_irq_save();
	const struct cubi_mm_vma *v = cubi_mm_vma_at(addr);
	bool past = v && v->file &&
		    v->prot != CUB_PROT_NONE &&
		    cubi_ramfs_page_past_end(v->node, v->pgoff + (addr - v->start) / PG);

	cub_arch_irq_restore(irq);
	return past;
}

uintptr_t cubi_mm_futex_key(uintptr_t uaddr)
{
	unsigned long irq = cub_arch_irq_save();
	const struct cubi_mm_vma *v = cubi_mm_vma_at(uaddr);
	uintptr_t pa, key = uaddr;

	if (v && v->file && !v->cow &&
	    cubi_mm_file_frame(v, CUB_ALIGN_DOWN(uaddr, PG), &pa) == 0)
		key = pa + uaddr % PG;	/* the file's frame: one per file page */
	cub_arch_irq_restore(irq);
	return key;
}

void cubi_mm_drop_file(struct cubi_file *f)
{
	const struct cubi_file_ops *ops = f->ops;
	void *mem = cubi_file_put_locked(f);

	if (!mem)
		return;
	if (nreaped == reaped_cap &&
	    !cubi_mm_grow_table(&reaped, &reaped_cap, sizeof(*reaped),
				CUB_PAGE_SIZE / sizeof(*reaped), true))
		return;		/* no frame to note it in: the file stays (a leak
				 * only when memory has already run out) */
	reaped[nreaped].ops = ops;
	reaped[nreaped++].mem = mem;
}

void cubi_mm_reap(void)
{
	for (;;) {
		unsigned long irq = cub_arch_irq_save();
		const struct cubi_file_ops *ops = NULL;
		void *mem = NULL;

		if (nreaped) {
			nreaped--;
			ops = reaped[nreaped].ops;
			mem = reaped[nreaped].mem;
		} else if (reaped_cap) {	/* drained: the table's frames go */
			cub_frame_free_run((uintptr_t)reaped,
					   (reaped_cap * sizeof(*reaped) + PG - 1) / PG);
			reaped = NULL;
			reaped_cap = 0;
		}
		cub_arch_irq_restore(irq);
		if (!mem)
			return;
		cubi_file_free(ops, mem);
	}
}
