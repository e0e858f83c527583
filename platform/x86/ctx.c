/*
 * ctx.c - building the first frame of a new execution context for
 * switch.S (shared by the x86 and host ports), and on the host the
 * stack registration (adopt/forget) that lets valgrind follow coroutine
 * switches.
 *
 * Invariants: a suspended context's sp points at a struct ctx_frame laid
 * out as switch.S documents, and its callee-saved registers are in the
 * struct cub_arch_ctx; a new context's frame resumes at cubi_ctx_start
 * with r12 = entry, r13 = arg and, after the frame is popped, a 16-byte
 * aligned stack pointer (so entry sees the ABI's "rsp + 8 is 16-byte
 * aligned" at its first instruction).
 */
#include <cubrt/arch.h>
#include <cubrt/panic.h>

/* Host builds with AddressSanitizer: platform/host/fiber.c provides the
 * cub_arch_ctx_* functions, around these (arch_fiber.h). */
#ifdef CUB_ARCH_FIBERS
#define cub_arch_ctx_adopt cubi_fiber_raw_adopt
#define cub_arch_ctx_forget cubi_fiber_raw_forget
#define cub_arch_ctx_init cubi_fiber_raw_init
void cubi_fiber_raw_adopt(void *stack_lo, size_t size);
void cubi_fiber_raw_forget(void *stack_lo, size_t size);
void cubi_fiber_raw_init(struct cub_arch_ctx *ctx, void *stack_lo, size_t size,
			 void (*entry)(void *), void *arg);
#endif

/* The frame switch.S leaves on a suspended stack, lowest address first;
 * the registers are in struct cub_arch_ctx. */
struct ctx_frame {
	uint32_t mxcsr;
	uint16_t fpucw;
	uint16_t pad;
	uint64_t rip;
};

/* Offsets hard-coded in switch.S. */
_Static_assert(offsetof(struct ctx_frame, mxcsr) == 0, "switch.S layout");
_Static_assert(offsetof(struct ctx_frame, fpucw) == 4, "switch.S layout");
_Static_assert(offsetof(struct ctx_frame, rip) == 8, "switch.S layout");
_Static_assert(sizeof(struct ctx_frame) == 16, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, sp) == 0, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, rbx) == 8, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, rbp) == 16, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, r12) == 24, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, r13) == 32, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, r14) == 40, "switch.S layout");
_Static_assert(offsetof(struct cub_arch_ctx, r15) == 48, "switch.S layout");
_Static_assert(sizeof(struct cub_arch_ctx) == 56 + CUB_ARCH_CTX_EXTRA,
	       "switch.S layout");

/* MXCSR: all exceptions masked, round to nearest; x87: same, 64-bit
 * precision (the values the ABI specifies at process start). */
#define MXCSR_DEFAULT 0x1F80u
#define FPUCW_DEFAULT 0x037Fu

extern char cubi_ctx_start[];

#if __STDC_HOSTED__ && __has_include(<valgrind/valgrind.h>)
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

/*
 * Valgrind must be told where each stack is, or it takes a switch for a
 * huge stack-pointer move. A stack is registered once, when adopted
 * (cub_arch_ctx_adopt), however many coroutines it then carries; an
 * open-addressing table keyed by the stack's low address finds the
 * registration again (adopting the same range twice only updates it). A
 * freed stack must be deregistered (cub_arch_ctx_forget): its memory may
 * come back as another stack with a different range, and a stale
 * registration covering it makes valgrind take the wrong range for the
 * current stack (and mark fresh memory below its idea of the stack
 * pointer inaccessible). Deleted slots become tombstones. Used only when
 * running under valgrind; touched with interrupts disabled by the caller
 * (the scheduler) or before the scheduler runs.
 */
#define VG_SLOTS (1u << 18)
#define VG_TOMB ((uintptr_t)1)		/* never a stack address */

static struct {
	uintptr_t lo;
	unsigned id;
} vg_table[VG_SLOTS];

/* Asking valgrind costs a client-request block per call; the answer
 * cannot change while the process runs. */
static int vg_on = -1;

static __attribute__((noinline, cold)) int vg_ask(void)
{
	vg_on = RUNNING_ON_VALGRIND ? 1 : 0;
	return vg_on;
}

static inline bool on_valgrind(void)
{
	return __builtin_expect(vg_on < 0, 0) ? vg_ask() : vg_on;
}

static size_t vg_slot0(uintptr_t lo)
{
	return (size_t)((lo >> 12) * 0x9E3779B97F4A7C15ull >> 46);
}

/* Out of line and cold: a client request needs a stack frame, which the
 * hot path of cub_arch_ctx_init (every spawn) must not pay for. */
static __attribute__((noinline, cold)) void vg_register_slow(uintptr_t lo,
							     uintptr_t hi)
{
	size_t i = vg_slot0(lo), free_slot = VG_SLOTS;

	for (size_t n = 0; n < VG_SLOTS; n++, i = (i + 1) & (VG_SLOTS - 1)) {
		if (vg_table[i].lo == lo) {
			VALGRIND_STACK_CHANGE(vg_table[i].id, lo, hi);
			return;
		}
		if (vg_table[i].lo == VG_TOMB && free_slot == VG_SLOTS)
			free_slot = i;
		if (!vg_table[i].lo) {
			if (free_slot == VG_SLOTS)
				free_slot = i;
			break;
		}
	}
	if (free_slot == VG_SLOTS) {
		(void)VALGRIND_STACK_REGISTER(lo, hi);	/* table full */
		return;
	}
	vg_table[free_slot].lo = lo;
	vg_table[free_slot].id = VALGRIND_STACK_REGISTER(lo, hi);
}

static inline void vg_register(uintptr_t lo, uintptr_t hi)
{
	if (__builtin_expect(on_valgrind(), 0))
		vg_register_slow(lo, hi);
}

/* Also makes the whole stack addressable again: memcheck marked what lay
 * below the coroutine's last stack pointer inaccessible, and the memory
 * is about to serve the allocators. */
static void vg_forget(uintptr_t lo, size_t size)
{
	size_t i = vg_slot0(lo);

	if (!on_valgrind())
		return;
	VALGRIND_MAKE_MEM_UNDEFINED(lo, size);
	for (size_t n = 0; n < VG_SLOTS && vg_table[i].lo;
	     n++, i = (i + 1) & (VG_SLOTS - 1)) {
		if (vg_table[i].lo == lo) {
			VALGRIND_STACK_DEREGISTER(vg_table[i].id);
			vg_table[i].lo = VG_TOMB;
			return;
		}
	}
}
#else
static void vg_register(uintptr_t lo, uintptr_t hi)
{
	(void)lo;
	(void)hi;
}

static void vg_forget(uintptr_t lo, size_t size)
{
	(void)lo;
	(void)size;
}
#endif

/* Contexts: any (no context on the stack runs yet). */
void cub_arch_ctx_adopt(void *stack_lo, size_t size)
{
	vg_register((uintptr_t)stack_lo, (uintptr_t)stack_lo + size);
}

/* Contexts: any (the context is not running). */
void cub_arch_ctx_forget(void *stack_lo, size_t size)
{
	vg_forget((uintptr_t)stack_lo, size);
}

/* Contexts: any (the stack is not in use yet). Inlined into spawn with
 * link-time optimisation (a few stores; the call would cost more). */
__attribute__((always_inline)) inline void
cub_arch_ctx_init(struct cub_arch_ctx *ctx, void *stack_lo, size_t size,
		  void (*entry)(void *), void *arg)
{
	uintptr_t lo = (uintptr_t)stack_lo;
	uintptr_t top = CUB_ALIGN_DOWN(lo + size, 16);
	struct ctx_frame *f;

	/* Stack colouring: stacks are page aligned, so the frames of two
	 * coroutines would sit at the same offset in their pages, and the
	 * switch's stores to one stack and loads from the other alias in
	 * the CPU's 4 KiB store-forwarding check. Shift each stack's start
	 * by one of 16 cache-line steps chosen from its address. */
	if (size >= 4 * CUB_PAGE_SIZE)
		top -= ((lo >> 12) & 15) * 64;

	/* 128: the frame plus room for entry's first frames; real stacks
	 * are at least CUB_STACK_MIN, this only catches nonsense. */
	if (!stack_lo || size < 128 || top < lo + sizeof(*f))
		cub_panic("cub_arch_ctx_init: stack too small (%lu bytes)",
			  (unsigned long)size);
	f = (struct ctx_frame *)(top - sizeof(*f));
	f->mxcsr = MXCSR_DEFAULT;
	f->fpucw = FPUCW_DEFAULT;
	f->pad = 0;
	f->rip = (uint64_t)(uintptr_t)cubi_ctx_start;
	/* Field by field: a compound literal of this size can become
	 * `rep stos`, whose start-up cost would dominate a spawn. */
	ctx->sp = (uintptr_t)f;
	ctx->rbx = 0;
	ctx->rbp = 0;
	ctx->r12 = (uint64_t)(uintptr_t)entry;
	ctx->r13 = (uint64_t)(uintptr_t)arg;
	ctx->r14 = 0;
	ctx->r15 = 0;
}
