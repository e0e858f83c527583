/*
 * stack.c - coroutine stacks: guard pages, canaries, a per-size cache.
 *
 * Kinds of stack (struct cub_stack.kind):
 *   K_GUARD     frames [guard][usable...]: the guard page is unmapped;
 *   K_FALLBACK  same geometry, but the platform refused to unmap the guard
 *               (host mapping budget): a canary sits at the guard's top;
 *   K_FRAMES    NOGUARD from frames: [colour][canary][usable...][slack]:
 *               the slack left in the last page shifts the stack by a
 *               "colour" of 64-byte steps chosen from its address (below);
 *   K_HEAP      NOGUARD up to HEAP_MAX: [canary][usable] from cub_malloc
 *               (heap blocks are not page aligned: no colouring needed);
 *   K_USER      [canary][usable] in the caller's memory (cub_stack_init_in):
 *               freeing it frees nothing.
 * Invariants:
 *  - every non-K_GUARD stack has a 16-byte canary at [lo - 16, lo);
 *  - every live K_GUARD stack is on `live` (for fault reports);
 *  - a cached stack keeps its guard state; it holds a struct cached at
 *    slot_of() (lo without the colour shift) and is zeroed when reused;
 *  - a stack handed out reads as zero from lo up to what its owner wrote.
 * Locking: live, cache, cached_bytes are protected by disabling interrupts
 * (cub_arch_irq_save). Page-table edits and frame calls happen outside.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/stack.h>
#include <cubrt/string.h>

#include "../core/fault.h"
#include "mem_internal.h"

enum { K_NONE, K_GUARD, K_FALLBACK, K_FRAMES, K_HEAP, K_USER };
#define CANARY CUBI_STACK_CANARY	/* <cubrt/stack.h> checks it inline */
#define BUCKETS 64			/* spans of 1..64 pages are cached */
#define CACHE_LIMIT ((size_t)16 << 20)	/* bytes kept in the cache */
#define CANARY_SIZE CUB_STACK_CANARY_SIZE

struct cached {
	struct cub_list node;
	unsigned kind;
};

static struct cub_list live;
static struct cub_list cache[2][BUCKETS + 1];	/* [guard-type?][pages] */
static size_t cached_bytes;
static bool ready;

static bool guard_owner(uintptr_t addr, char *buf, size_t n);

void cubi_stack_init(void)
{
	static const struct cubi_fault_hooks hooks = { .guard_owner = guard_owner };

	if (ready)
		return;
	cub_list_init(&live);
	for (int g = 0; g < 2; g++)
		for (int i = 0; i <= BUCKETS; i++)
			cub_list_init(&cache[g][i]);
	cubi_fault_set_hooks(&hooks);
	ready = true;
}

static void canary_write(void *lo)
{
	uint64_t *c = (uint64_t *)((char *)lo - CANARY_SIZE);

	c[0] = CANARY ^ (uintptr_t)lo;
	c[1] = ~(CANARY ^ (uintptr_t)lo);
}

/*
 * Cache colouring of NOGUARD frame stacks. Page-aligned stacks put their
 * top frames and canaries at the same page offsets, so the switch path's
 * loads of many coroutines' stacks compete for the few cache sets those
 * offsets index (and alias in the 4 KiB store-forwarding check). When the
 * requested size leaves slack in the last page, the stack window moves up
 * by 0..steps 64-byte steps picked from the page number, and every stack
 * of that request gets the same usable size. The small coroutine class
 * (CUB_CORO_STACK_SMALL) leaves 448 bytes: 8 colours.
 */
#define COLOUR_STEP 64u
/* NOGUARD stacks up to this (canary included) come from the heap: the
 * minimum coroutine stack (2 KiB) then costs 2 KiB, not a page, and heap
 * blocks are not page aligned, so they need no colouring. Larger ones
 * take whole pages, whose slack colours them (the small class: 3632
 * bytes, 448 bytes of slack). */
#define HEAP_MAX CUB_STACK_HEAP_MAX
#define COLOUR_MAX 15u

static size_t colour_steps(size_t span, size_t need)
{
	return CUB_MIN((span - need) / COLOUR_STEP, (size_t)COLOUR_MAX);
}

/* Where a stack's cache node sits: lo for guarded stacks, the first byte
 * after the canary's uncoloured place for the others. */
static uintptr_t slot_of(const struct cub_stack *st)
{
	if (st->kind == K_GUARD || st->kind == K_FALLBACK)
		return (uintptr_t)st->lo;
	return st->base + CANARY_SIZE;
}

/* Pops a cached stack of `pages` span pages; 0 when none. */
static uintptr_t cache_take(bool guard, size_t pages, unsigned *kind)
{
	unsigned long irq;
	struct cub_list *l;
	struct cached *c = NULL;

	if (pages > BUCKETS)
		return 0;
	irq = cub_arch_irq_save();
	l = cub_list_pop_front(&cache[guard][pages]);
	if (l) {
		c = cub_container_of(l, struct cached, node);
		*kind = c->kind;
		cached_bytes -= pages * CUB_PAGE_SIZE;
	}
	cub_arch_irq_restore(irq);
	return (uintptr_t)c;
}

/* A fresh guard-type stack: span pages with the first one as the guard. */
static int fresh_guarded(struct cub_stack *st, size_t span)
{
	uintptr_t base = cub_frame_alloc_run(span, CUB_FRAME_ZERO);
	int rc;

	if (!base)
		return -CUB_ENOMEM;
	rc = cub_arch_page_unmap(base);
	if (rc == 0) {
		st->kind = K_GUARD;
	} else if (rc == -CUB_ENOMEM) {
		st->kind = K_FALLBACK;
	} else {
		cub_frame_free_run(base, span);
		return rc;
	}
	st->base = base;
	return 0;
}

static int alloc_guarded(struct cub_stack *st, size_t size)
{
	size_t pages = CUB_ALIGN_UP(size, CUB_PAGE_SIZE) / CUB_PAGE_SIZE;
	size_t span = pages + 1;
	uintptr_t lo = cache_take(true, span, &st->kind);
	int rc;

	if (lo) {
		st->base = lo - CUB_PAGE_SIZE;
		cub_memset((void *)lo, 0, pages * CUB_PAGE_SIZE);
	} else if ((rc = fresh_guarded(st, span)) != 0) {
		return rc;
	}
	st->span = span * CUB_PAGE_SIZE;
	st->lo = (void *)(st->base + CUB_PAGE_SIZE);
	st->size = pages * CUB_PAGE_SIZE;
	return 0;
}

static int alloc_noguard(struct cub_stack *st, size_t size)
{
	size_t need = CUB_ALIGN_UP(CUB_MAX(size, (size_t)CUB_STACK_MIN), 16u) + CANARY_SIZE;
	size_t pages = CUB_ALIGN_UP(need, CUB_PAGE_SIZE) / CUB_PAGE_SIZE;
	size_t steps, shift;
	uintptr_t lo;

	if (need <= HEAP_MAX) {
		void *p = cub_aligned_alloc(16, need);

		if (!p)
			return -CUB_ENOMEM;
		cub_memset(p, 0, need);
		st->kind = K_HEAP;
		st->base = (uintptr_t)p;
		st->span = need;
		st->lo = (void *)(st->base + CANARY_SIZE);
		st->size = st->span - CANARY_SIZE;
		return 0;
	}
	if ((lo = cache_take(false, pages, &st->kind)) != 0) {
		st->base = lo - CANARY_SIZE;
		st->span = pages * CUB_PAGE_SIZE;
		cub_memset((void *)lo, 0, st->span - CANARY_SIZE);
	} else {
		st->base = cub_frame_alloc_run(pages, CUB_FRAME_ZERO);
		if (!st->base)
			return -CUB_ENOMEM;
		st->kind = K_FRAMES;
		st->span = pages * CUB_PAGE_SIZE;
	}
	steps = colour_steps(st->span, need);
	shift = (st->base / CUB_PAGE_SIZE) % (steps + 1) * COLOUR_STEP;
	st->lo = (void *)(st->base + CANARY_SIZE + shift);
	st->size = st->span - CANARY_SIZE - steps * COLOUR_STEP;
	return 0;
}

int cub_stack_alloc(struct cub_stack *st, size_t size, unsigned flags)
{
	unsigned long irq;
	int rc;

	if (size == 0 || size > CUB_STACK_MAX || (flags & ~CUB_STACK_NOGUARD))
		return -CUB_EINVAL;
	if (!ready)
		cubi_stack_init();
	st->name = NULL;
	cub_list_init(&st->live);
	rc = flags & CUB_STACK_NOGUARD ? alloc_noguard(st, size)
				       : alloc_guarded(st, size);
	if (rc) {
		st->lo = NULL;
		st->kind = K_NONE;
		return rc;
	}
	if (st->kind == K_GUARD) {
		irq = cub_arch_irq_save();
		cub_list_push_back(&live, &st->live);
		cub_arch_irq_restore(irq);
	} else {
		canary_write(st->lo);
	}
	return 0;
}

int cub_stack_init_in(struct cub_stack *st, void *mem, size_t len)
{
	if (!mem || (uintptr_t)mem % 16 || len < CUB_STACK_MIN + CANARY_SIZE ||
	    len > CUB_STACK_MAX)
		return -CUB_EINVAL;
	st->name = NULL;
	cub_list_init(&st->live);
	st->kind = K_USER;
	st->base = (uintptr_t)mem;
	st->span = len;
	st->lo = (char *)mem + CANARY_SIZE;
	st->size = CUB_ALIGN_DOWN(len - CANARY_SIZE, 16u);
	cub_memset(st->lo, 0, st->size);
	canary_write(st->lo);
	return 0;
}

/* Returns a guard-type or K_FRAMES stack's frames (not cached). */
static void release_frames(uintptr_t base, size_t span, unsigned kind)
{
	if (kind == K_GUARD &&
	    cub_arch_page_map(base, base, CUB_PROT_READ | CUB_PROT_WRITE))
		cub_panic("cub_stack_free: cannot map the guard page 0x%lx back",
			  (unsigned long)base);
	cub_frame_free_run(base, span / CUB_PAGE_SIZE);
}

void cub_stack_free(struct cub_stack *st)
{
	size_t pages = st->span / CUB_PAGE_SIZE;
	bool guard = st->kind == K_GUARD || st->kind == K_FALLBACK;
	unsigned long irq;

	if (!st->lo || st->kind == K_NONE)
		cub_panic("cub_stack_free: stack %p is not allocated (double free?)",
			  (void *)st);
	if (st->kind == K_HEAP) {
		cub_free((void *)st->base);
	} else if (st->kind != K_USER) {
		struct cached *c = (struct cached *)slot_of(st);
		bool keep;

		irq = cub_arch_irq_save();
		cub_list_del(&st->live);
		keep = pages <= BUCKETS && cached_bytes + st->span <= CACHE_LIMIT;
		if (keep) {
			c->kind = st->kind;
			cub_list_push_front(&cache[guard][pages], &c->node);
			cached_bytes += st->span;
		}
		cub_arch_irq_restore(irq);
		if (!keep)
			release_frames(st->base, st->span, st->kind);
	}
	st->lo = NULL;
	st->kind = K_NONE;
}

size_t cub_stack_cache_drain(void)
{
	size_t n = 0;

	for (int g = 0; g < 2; g++) {
		for (size_t pages = 1; pages <= BUCKETS; pages++) {
			uintptr_t lo;
			unsigned kind;

			while ((lo = cache_take(g, pages, &kind)) != 0) {
				release_frames(lo - (g ? CUB_PAGE_SIZE : CANARY_SIZE),
					       pages * CUB_PAGE_SIZE, kind);
				n++;
			}
		}
	}
	return n;
}

void cub_stack_set_name(struct cub_stack *st, const char *name)
{
	st->name = name;
}

bool cub_stack_check(const struct cub_stack *st)
{
	if (!st->lo)
		return false;
	return st->kind == K_GUARD || cub_stack_canary_intact(st);
}

bool cub_stack_guarded(const struct cub_stack *st)
{
	return st->lo && st->kind == K_GUARD;
}

size_t cub_stack_used(const struct cub_stack *st)
{
	const uint64_t *p = st->lo, *end;

	if (!p)
		return 0;
	end = (const uint64_t *)(const void *)((const char *)st->lo + st->size);
	while (p < end && *p == 0)
		p++;
	return (size_t)((const char *)end - (const char *)p);
}

/* Fault hook: names the stack whose guard page holds addr. Runs in a
 * fault handler: reads the list without locking (one CPU, and the
 * faulting code is not inside a list edit unless the allocator is broken). */
static bool guard_owner(uintptr_t addr, char *buf, size_t n)
{
	struct cub_list *pos;

	cub_list_for_each(pos, &live) {
		struct cub_stack *st = cub_container_of(pos, struct cub_stack, live);

		if (addr >= st->base && addr < st->base + CUB_PAGE_SIZE) {
			if (st->name)
				cub_snprintf(buf, n, "%s", st->name);
			else
				cub_snprintf(buf, n, "unnamed stack 0x%lx-0x%lx",
					     (unsigned long)st->lo,
					     (unsigned long)st->lo + st->size);
			return true;
		}
	}
	return false;
}
