/*
 * cubrt/panic.h - fatal errors, assertions and machine exit.
 *
 * Exit statuses seen by the host (scripts/run prints the same table):
 *   0..123  the status the application passed to cub_exit()
 *   124     the runner's timeout expired (guest hung)
 *   125     CUB_EXIT_FAULT: a CPU exception, cub_panic(), a failed assert
 *   126     QEMU itself failed (bad arguments, image not loadable)
 *   127     the machine reset without an exit status (e.g. triple fault)
 */
#ifndef CUBRT_PANIC_H
#define CUBRT_PANIC_H

#include <cubrt/base.h>

#define CUB_EXIT_MAX 123
#define CUB_EXIT_FAULT 125

/*
 * Ends the machine (bare metal) or the process (host) with status.
 * A status outside 0..CUB_EXIT_MAX is reported and becomes CUB_EXIT_FAULT.
 * Contexts: any.
 */
CUB_NORETURN void cub_exit(int status);

/*
 * Prints "panic: <message>", the current coroutine and a backtrace, then
 * exits with CUB_EXIT_FAULT. Contexts: any. Never returns.
 */
CUB_NORETURN void cub_panic(const char *fmt, ...) CUB_PRINTF(1, 2);

/* Checked in every build: a broken invariant must never corrupt silently. */
#define CUB_ASSERT(cond)                                                  \
	do {                                                              \
		if (CUB_UNLIKELY(!(cond)))                                \
			cub_panic("assertion failed: %s (%s:%d, %s)",      \
				  #cond, __FILE__, __LINE__, __func__);   \
	} while (0)

#endif
