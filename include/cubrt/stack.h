/*
 * cubrt/stack.h - coroutine stacks.
 *
 * A guarded stack has an inaccessible guard page right below lo (unmapped
 * on bare metal, PROT_NONE on the host): running off the bottom faults,
 * and the fault report says "stack overflow: hit the guard page of NAME".
 * A CUB_STACK_NOGUARD stack has no guard page (cheaper, any size from
 * 1 KiB); a canary below lo is checked by cub_stack_check() instead.
 *
 * Freed stacks are cached by size and reused (guard pages stay in place);
 * cub_stack_cache_drain() gives the cache back to the frame allocator.
 * Per-stack bookkeeping is O(1); stacks never need their own mmap on the
 * host (they are carved from the frame arena).
 *
 * Host limit: each guard page splits the arena's mapping, and Linux caps
 * the mappings of a process (vm.max_map_count, 65530 by default). When
 * the platform refuses another guard (-CUB_ENOMEM from the page hooks),
 * a guarded stack silently falls back to a canary (cub_stack_guarded()
 * tells); bare metal always gets the guard unless page tables run out.
 *
 * Every stack's memory starts zeroed: cub_stack_used() reports the
 * high-water mark as the distance from the top to the lowest non-zero
 * word.
 *
 * Locking: the allocator's lists are protected by disabling interrupts;
 * the calls are for task and boot context (they map pages).
 */
#ifndef CUBRT_STACK_H
#define CUBRT_STACK_H

#include <cubrt/base.h>
#include <cubrt/list.h>

/* Small class: no guard page; a canary below lo checked by cub_stack_check. */
#define CUB_STACK_NOGUARD 1u

#define CUB_STACK_MIN 1024u			/* smaller sizes are rounded up */
#define CUB_STACK_MAX ((size_t)64 << 20)	/* larger: -CUB_EINVAL */
#define CUB_STACK_CANARY_SIZE 16u		/* below lo, unguarded stacks */
/* CUB_STACK_NOGUARD stacks up to this size, canary included, are heap
 * blocks (not page aligned: the minimum coroutine stack costs 2 KiB, not
 * a page); larger ones take whole pages. */
#define CUB_STACK_HEAP_MAX (CUB_PAGE_SIZE * 3 / 4)

struct cub_stack {
	void *lo;		/* usable [lo, lo + size), 16-byte aligned */
	size_t size;
	/* Private fields. */
	uintptr_t base;		/* start of the allocation (guard/canary) */
	size_t span;		/* bytes of the allocation */
	const char *name;
	struct cub_list live;	/* guarded stacks: on the allocator's list */
	unsigned kind;
};

/*
 * Allocates a stack of at least size usable bytes (page multiple when
 * guarded). flags: 0 or CUB_STACK_NOGUARD. The struct must stay at its
 * address until cub_stack_free. Returns 0, -CUB_EINVAL (size 0, above
 * CUB_STACK_MAX, unknown flag) or -CUB_ENOMEM. Contexts: boot, task.
 */
int cub_stack_alloc(struct cub_stack *st, size_t size, unsigned flags);

/*
 * Makes [mem, mem + len) an unguarded stack, as CUB_STACK_NOGUARD: the
 * canary in its first CUB_STACK_CANARY_SIZE bytes, the usable bytes above
 * them (len - 16, rounded down to 16), zeroed. For a stack carved from a
 * larger allocation: the scheduler puts a small coroutine's record right
 * above its stack, in one heap block. The memory stays the caller's:
 * cub_stack_free only marks the stack free, and the caller releases the
 * memory after it. Returns 0, or -CUB_EINVAL when mem is NULL or not
 * 16-byte aligned, or len is below CUB_STACK_MIN + 16 or above
 * CUB_STACK_MAX. Contexts: any.
 */
int cub_stack_init_in(struct cub_stack *st, void *mem, size_t len);

/* Frees (caches) the stack; st->lo becomes NULL. Freeing a stack that is
 * not allocated panics. Contexts: boot, task. */
void cub_stack_free(struct cub_stack *st);

/* Sets the name that overflow reports use (the pointer is kept, so the
 * string must outlive the stack). Contexts: any. */
void cub_stack_set_name(struct cub_stack *st, const char *name);

/* False when the canary below a stack was overwritten (an overflow that no
 * guard page caught); always true for guarded stacks. Contexts: any. */
bool cub_stack_check(const struct cub_stack *st);

/*
 * cub_stack_check for a stack known to be allocated and unguarded
 * (CUB_STACK_NOGUARD): only the canary's two words, inline, so that a
 * check at every switch (the scheduler's small stacks) costs no call.
 * The canary is [lo - 16, lo): CUBI_STACK_CANARY ^ lo and its
 * complement (stack.c writes it; CUB_STACK_CANARY_SIZE bytes). Contexts: any.
 */
#define CUBI_STACK_CANARY 0x5ca1ab1edeadc0deull
static inline bool cub_stack_canary_intact(const struct cub_stack *st)
{
	const uint64_t *w = (const uint64_t *)st->lo - 2;
	uint64_t v = CUBI_STACK_CANARY ^ (uintptr_t)st->lo;

	return w[0] == v && w[1] == ~v;
}

/* Bytes of the stack ever used (high-water mark). Contexts: any. */
size_t cub_stack_used(const struct cub_stack *st);

/* True when st has a real guard page. Contexts: any. */
bool cub_stack_guarded(const struct cub_stack *st);

/* Frees every cached stack back to the frame allocator; returns how many.
 * Contexts: boot, task. */
size_t cub_stack_cache_drain(void);

#endif
