/*
 * fiber.c - host builds with AddressSanitizer: telling ASan about
 * coroutine stacks (CUB_ARCH_FIBERS, <cubrt/arch_fiber.h>). Built empty
 * otherwise; there the cub_arch_ctx_* functions are switch.S's and
 * ctx.c's own, and nothing here runs.
 *
 * ASan assumes one stack per thread. Unless told otherwise, a coroutine
 * running on its own stack looks to it like a thread whose stack pointer
 * left the thread's stack: every noreturn call (__asan_handle_no_return
 * unpoisons the stack from the stack pointer to the stack's top) prints
 * "ignoring requested __asan_handle_no_return" and unpoisons nothing,
 * reports name the wrong stack, and the poisoned redzones of frames that
 * never returned stay on a stack that the next coroutine then reuses.
 *
 * So here every cub_arch_ctx_* function wraps switch.S's and ctx.c's
 * (renamed cubi_fiber_raw_*), following the protocol of
 * <sanitizer/common_interface_defs.h>:
 *  - before the register switch, __sanitizer_start_switch_fiber(save,
 *    bottom, size) with the stack of the context switched to, and save
 *    the address where ASan puts the leaving context's fake stack (its
 *    frames for detect_stack_use_after_return): a local in the wrapper's
 *    own frame, which stays on the leaving stack until it resumes there;
 *    NULL when the leaving context has ended (cub_arch_ctx_jump), so that
 *    ASan destroys its fake stack;
 *  - the first thing on the stack switched to,
 *    __sanitizer_finish_switch_fiber(save, &old_bottom, &old_size): after
 *    the register switch in the wrapper that resumes, or in fiber_start
 *    for a context that runs for the first time (NULL save: it has no
 *    fake stack yet);
 *  - old_bottom and old_size, ASan's idea of the stack just left, go into
 *    the left context (unless it ended): that is how a boot context (the
 *    process's stack, unknown to cub_arch_ctx_init) gets its bounds
 *    before anything switches back to it.
 * cub_arch_ctx_init also unpoisons the whole stack: it runs at every
 * spawn, on new stacks and on the record cache's recycled ones alike, and
 * a recycled stack may still carry the redzones of frames its previous
 * coroutine never returned from (it ended inside them). cub_arch_ctx_forget
 * unpoisons it before it goes back to the stack allocator.
 *
 * Every function on the switch path is built without ASan's
 * instrumentation: between start and finish ASan's stack bounds are in
 * flux and no fake frame may be made, and the wrappers' frames must be
 * real frames on the stack they switch from.
 *
 * Invariants: between start and finish nothing switches (callers switch
 * with interrupts disabled; the host's signal handler then only marks an
 * interrupt pending, and the irq-exit hook runs only where interrupts
 * were enabled, never between the two); `leaving` is written just before
 * each start and read at the matching finish, one CPU and one thread of
 * control, so a plain static does.
 */
#include <cubrt/arch_fiber.h>

#ifdef CUB_ARCH_FIBERS
#include <cubrt/arch.h>

#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

#define NO_ASAN __attribute__((no_sanitize("address"), noinline))

/* switch.S and ctx.c under their CUB_ARCH_FIBERS names. */
void cubi_fiber_raw_switch(struct cub_arch_ctx *from, struct cub_arch_ctx *to);
CUB_NORETURN void cubi_fiber_raw_jump(struct cub_arch_ctx *to);
void cubi_fiber_raw_adopt(void *stack_lo, size_t size);
void cubi_fiber_raw_forget(void *stack_lo, size_t size);
void cubi_fiber_raw_init(struct cub_arch_ctx *ctx, void *stack_lo, size_t size,
			 void (*entry)(void *), void *arg);

/* The context being switched away from, NULL when it ended. */
static struct cub_arch_ctx *leaving;

/* Tells ASan that execution goes to `to`'s stack; save as the protocol
 * says (NULL: the current context ended). */
static inline __attribute__((always_inline)) void
fiber_leave(struct cub_arch_ctx *from, struct cub_arch_ctx *to, void **save)
{
	leaving = from;
	__sanitizer_start_switch_fiber(save, (const void *)to->fiber.lo,
				       to->fiber.size);
}

/* First thing on the stack arrived at. Out of line: inlined into
 * fiber_start, gcc 12 crashes (an internal compiler error in its sanopt
 * pass). */
static NO_ASAN void fiber_arrive(void *save)
{
	struct cub_arch_ctx *from = leaving;
	const void *lo = NULL;
	size_t size = 0;

	__sanitizer_finish_switch_fiber(save, &lo, &size);
	if (from) {
		from->fiber.lo = (unsigned long)lo;
		from->fiber.size = size;
	}
}

/* Where a prepared context starts (cubi_ctx_start calls it with the
 * context itself as its argument). */
static NO_ASAN CUB_NORETURN void fiber_start(void *p)
{
	struct cub_arch_ctx *ctx = p;

	fiber_arrive(NULL);
	ctx->fiber.entry(ctx->fiber.arg);
	__builtin_trap();	/* entry must not return (arch.h) */
}

NO_ASAN void cub_arch_ctx_switch(struct cub_arch_ctx *from,
				 struct cub_arch_ctx *to)
{
	void *save = NULL;

	fiber_leave(from, to, &save);
	cubi_fiber_raw_switch(from, to);
	fiber_arrive(save);
}

NO_ASAN CUB_NORETURN void cub_arch_ctx_jump(struct cub_arch_ctx *to)
{
	fiber_leave(NULL, to, NULL);
	cubi_fiber_raw_jump(to);
}

/* Not the resume-by-jump of switch.S (its assembly entry would call on_resume
 * before the wrapper finished ASan's switch): the unoptimised form that
 * arch.h allows, with the same result. */
NO_ASAN int cub_arch_ctx_switch_then(struct cub_arch_ctx *from,
				     struct cub_arch_ctx *to,
				     int (*on_resume)(void))
{
	cub_arch_ctx_switch(from, to);
	return on_resume();
}

void cub_arch_ctx_adopt(void *stack_lo, size_t size)
{
	cubi_fiber_raw_adopt(stack_lo, size);
}

void cub_arch_ctx_forget(void *stack_lo, size_t size)
{
	__asan_unpoison_memory_region(stack_lo, size);
	cubi_fiber_raw_forget(stack_lo, size);
}

void cub_arch_ctx_init(struct cub_arch_ctx *ctx, void *stack_lo, size_t size,
		       void (*entry)(void *), void *arg)
{
	cubi_fiber_raw_init(ctx, stack_lo, size, fiber_start, ctx); /* checks */
	__asan_unpoison_memory_region(stack_lo, size);
	ctx->fiber.lo = (unsigned long)stack_lo;
	ctx->fiber.size = size;
	ctx->fiber.entry = entry;
	ctx->fiber.arg = arg;
}
#else
/* ISO C wants something in a translation unit. */
typedef int cubi_fiber_unused;
#endif
