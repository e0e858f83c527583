/*
 * record.c - coroutine records and their stacks: allocation from the heap
 * and <cubrt/stack.h> (a small stack and its record in one block), a
 * cache of ended records, canary checks, default names.
 *
 * Invariants: a cached record is on exactly one cache (by stack class),
 * is on no scheduler list and owns a live stack of its class; ncached[i]
 * counts cache[i]. A pending record (ended, not cached) is on the
 * pending list only, with its stack, and npending < RELEASE_BATCH
 * between calls.
 * Critical sections: interrupts disabled, protecting the caches and the
 * pending list.
 */
#include <cubrt/arch.h>
#include <cubrt/heap.h>
#include <cubrt/panic.h>
#include <cubrt/stack.h>
#include <cubrt/string.h>

#include "sched_impl.h"

#define CACHE_MAX 64		/* ended records kept per stack class */

/*
 * Ended records with their stacks, by class: [0] default guarded stacks,
 * [1] default small stacks. Reusing them makes a spawn cost a few stores
 * instead of a heap and a stack allocation. A reused stack is not zeroed
 * again, so its high-water mark (ps) covers earlier coroutines too. Each
 * cache is a LIFO linked through next_cached (the most recently ended
 * record has the warmest stack), ncached[i] long.
 */
static struct cub_coro *cache[2];
static unsigned ncached[2];

/*
 * Ended records the caches do not take go back to the allocators in
 * batches: released one at a time, at each coroutine's end, a burst of
 * ends (W6's last pass: 100,000 of them) paid about 140 ns each of cold
 * heap metadata; sixteen in one loop cost about 30 ns each, as the
 * neighbouring blocks they coalesce with are still in the cache
 * (docs/scheduler.md). At most RELEASE_BATCH - 1 records wait, and
 * cubi_coro_release_pending empties the list when the scheduler idles,
 * when an allocation for a spawn fails and when cub_sched_run returns.
 * Linked through next_cached, like the caches.
 */
#define RELEASE_BATCH 16
static struct cub_coro *pending;
static unsigned npending;

static int class_of(size_t size, bool small)
{
	if (size == (small ? CUB_CORO_STACK_SMALL : CUB_CORO_STACK_DEFAULT))
		return small;
	return -1;
}

void cubi_coro_canary_failed(struct cub_coro *c)
{
	cub_panic("stack overflow: coroutine %s overran its %lu-byte "
		  "small stack (canary destroyed)", cub_coro_name(c),
		  (unsigned long)c->stack.size);
}

/* The allocators' halves are out of line: the cached paths (every spawn
 * after an exit) then need no stack frame. A record whose stack ends
 * where it starts is on top of its stack (alloc_embedded): no other
 * layout puts the two together, as a heap block's payload starts after
 * its header. */
static __attribute__((noinline)) void release_to_allocators(struct cub_coro *c)
{
	char *lo = c->stack.lo;
	void *block = lo + c->stack.size == (char *)c ?
		lo - CUB_STACK_CANARY_SIZE - c->block_skew : (void *)c;

	cub_arch_ctx_forget(c->stack.lo, c->stack.size);
	cub_stack_free(&c->stack);
	cub_free(block);
}

/* Drops an ended record: into the cache, or back to the allocators.
 * Interrupts disabled. */
void cubi_coro_release(struct cub_coro *c)
{
	int cls = class_of(c->stack.size, c->small);

	cub_list_del(&c->all);
	cubi_coro_check_canary(c);
	c->hooked = false;	/* here, not at spawn: measured, a store in
				 * spawn_locked kept LTO from inlining
				 * cub_coro_spawn into W2's loop (+30
				 * instructions a coroutine) */
	if (cls >= 0 && ncached[cls] < CACHE_MAX) {
		c->next_cached = cache[cls];
		cache[cls] = c;
		ncached[cls]++;
		return;
	}
	c->next_cached = pending;
	pending = c;
	if (++npending == RELEASE_BATCH)
		cubi_coro_release_pending();
}

/* Gives every pending record to the allocators; true if there was one.
 * Interrupts disabled. */
bool cubi_coro_release_pending(void)
{
	struct cub_coro *c = pending, *next;
	bool any = c != NULL;

	pending = NULL;
	npending = 0;
	for (; c; c = next) {
		next = c->next_cached;
		release_to_allocators(c);
	}
	return any;
}

/* A cached record with a stack of the given class, or NULL. Interrupts
 * disabled. */
struct cub_coro *cubi_coro_cached_record(size_t size, bool small)
{
	int cls = class_of(size, small);
	struct cub_coro *c;

	if (cls < 0 || !(c = cache[cls]))
		return NULL;
	cache[cls] = c->next_cached;
	c->kstack = 0;		/* the union's other half, from here on */
	c->owner = NULL;
	ncached[cls]--;
	return c;
}

/*
 * A small coroutine whose stack would be a heap block (canary included,
 * at most CUB_STACK_HEAP_MAX) gets one block for its record and stack,
 * the record right above the stack's top:
 *
 *   [slack][canary][usable stack ...][record]      the record and the
 *   ^ block ^ 64-byte aligned        ^ top         span 64-byte aligned
 *
 * One allocation and one free a coroutine instead of two (W6's last pass
 * ends 100,000), and the lines a wake-up touches (the record's first
 * four, the stack's top frames) are one run of memory that
 * prefetch_record (coro.c) reaches from the record's address alone.
 * malloc asks for 48 bytes of slack, for the 64-byte alignment: with
 * the heap's 16-byte header a block then takes span + 64 bytes, so
 * blocks laid out one after another keep one alignment and a constant
 * distance. The usable stack is at least size (it gets what rounding
 * leaves; AddressSanitizer builds add CUB_ARCH_STACK_EXTRA for the
 * sanitizer's frames, arch_fiber.h). An overflow runs into the canary,
 * then the heap header and the end of the record below (its cold part),
 * and the canary check at the next switch reports it. */
#define RECORD_SPAN CUB_ALIGN_UP(sizeof(struct cub_coro), 64u)
#define EMBED_SLACK 48u

static bool embeddable(size_t size, bool small)
{
	return small && CUB_ALIGN_UP(size, 16u) + CUB_STACK_CANARY_SIZE <=
			CUB_STACK_HEAP_MAX;
}

static struct cub_coro *alloc_embedded(size_t size)
{
	size_t span = CUB_ALIGN_UP(CUB_STACK_CANARY_SIZE + CUB_ARCH_STACK_EXTRA +
				   CUB_ALIGN_UP(size, 16u) + RECORD_SPAN, 64u);
	char *block = cub_malloc(span + EMBED_SLACK), *base;
	struct cub_coro *c;

	if (!block)
		return NULL;
	base = (char *)CUB_ALIGN_UP((uintptr_t)block, 64u);
	c = (struct cub_coro *)(base + span - RECORD_SPAN);
	if (cub_stack_init_in(&c->stack, base, span - RECORD_SPAN) != 0)
		cub_panic("record: cannot describe a %lu-byte embedded stack",
			  (unsigned long)(span - RECORD_SPAN));
	c->block_skew = (uint8_t)(base - block);
	return c;
}

static struct cub_coro *alloc_apart(size_t size, bool small)
{
	struct cub_coro *c = cub_malloc(sizeof(*c));

	if (!c)
		return NULL;
	if (cub_stack_alloc(&c->stack, size,
			    small ? CUB_STACK_NOGUARD : 0) != 0) {
		cub_free(c);
		return NULL;
	}
	return c;
}

/* A new record and stack from the allocators, or NULL. Contexts: task,
 * boot (not in a critical section: the allocators may map pages). */
__attribute__((noinline)) struct cub_coro *
cubi_coro_alloc_record(size_t size, bool small)
{
	struct cub_coro *c = embeddable(size, small) ? alloc_embedded(size)
						     : alloc_apart(size, small);

	if (!c)
		return NULL;
	cub_arch_ctx_adopt(c->stack.lo, c->stack.size);
	c->hooked = false;
	c->stack_name = NULL;
	c->kstack = 0;
	c->owner = NULL;
	return c;
}

/* Fills in "coro#<id>" (lazily: spawn is a hot path). */
void cubi_coro_default_name(struct cub_coro *c)
{
	char digits[20], *p = c->namebuf;
	uint64_t v = c->id;
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	cub_memcpy(p, "coro#", 5);
	p += 5;
	while (n)
		*p++ = digits[--n];
	*p = '\0';
}
