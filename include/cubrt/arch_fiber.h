/*
 * cubrt/arch_fiber.h - whether this build tells AddressSanitizer about
 * context switches, and what a context then carries. Only arch.h,
 * platform/x86/switch.S and ctx.c (which the host port shares) and the
 * host platform's fiber.c include it; plain preprocessor lines above
 * __ASSEMBLER__, so switch.S can include it too.
 *
 * CUB_ARCH_FIBERS is defined in host builds with AddressSanitizer (gcc
 * defines __SANITIZE_ADDRESS__, clang answers __has_feature); never on
 * bare metal (freestanding: __STDC_HOSTED__ is 0) nor in host builds
 * without ASan, whose code none of this touches. Where it is defined,
 * switch.S's and ctx.c's entry points get cubi_fiber_raw_* names and
 * platform/host/fiber.c implements the cub_arch_ctx_* functions around
 * them, telling ASan the stack every switch goes to
 * (__sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber) and
 * unpoisoning a stack before a new context starts on it.
 */
#ifndef CUBRT_ARCH_FIBER_H
#define CUBRT_ARCH_FIBER_H

#if __STDC_HOSTED__
#if defined(__SANITIZE_ADDRESS__)
#define CUB_ARCH_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUB_ARCH_FIBERS 1
#endif
#endif
#endif

/* The bytes struct cub_arch_fiber adds to struct cub_arch_ctx (for the
 * record offsets that assembly uses, src/sched/sched_hooks.h). */
#ifdef CUB_ARCH_FIBERS
#define CUB_ARCH_CTX_EXTRA 32
#else
#define CUB_ARCH_CTX_EXTRA 0
#endif

/* Stack bytes a coroutine needs beyond what its program asked for, for
 * the sanitizer's own code: ASan's runtime runs on the coroutine's stack
 * (before cub_arch_ctx_jump, its no-return handling went 2.5 KiB deep
 * from a trivial coroutine's top, past a 2 KiB stack). The scheduler
 * adds them to stacks it carves itself (src/sched/record.c). */
#ifdef CUB_ARCH_FIBERS
#define CUB_ARCH_STACK_EXTRA 4096
#else
#define CUB_ARCH_STACK_EXTRA 0
#endif

#if defined(CUB_ARCH_FIBERS) && !defined(__ASSEMBLER__)
/*
 * What fiber.c keeps in each struct cub_arch_ctx (after the registers,
 * which switch.S addresses by fixed offsets): the stack the context runs
 * on, told to ASan when switching to it, and for a context prepared by
 * cub_arch_ctx_init and not yet run, the entry it was given (the first
 * switch to it starts in fiber.c, which finishes ASan's switch first).
 * lo and size are 0 for a context never prepared nor left (a boot
 * context, until it first switches away and ASan's answer fills them).
 */
struct cub_arch_fiber {
	unsigned long lo;
	unsigned long size;
	void (*entry)(void *);
	void *arg;
};
#endif

#endif
