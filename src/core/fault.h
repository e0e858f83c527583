/*
 * fault.h - private hooks that let later subsystems enrich fault reports.
 *
 * The core prints panics and CPU exception reports before any scheduler or
 * stack allocator exists. Those subsystems register a hook here at init so
 * a report can name the running coroutine and recognise guard-page hits,
 * without the core depending on them (the core is the bottom layer).
 * Hooks are set once at boot and read-only afterwards: no locking.
 */
#ifndef CUBRT_CORE_FAULT_H
#define CUBRT_CORE_FAULT_H

#include <cubrt/base.h>

struct cubi_fault_hooks {
	/* Name of the running coroutine, or NULL (e.g. before the scheduler). */
	const char *(*current_name)(void);
	/*
	 * If addr lies in a stack guard page, returns true and writes the
	 * owning stack's description (coroutine name) into buf.
	 */
	bool (*guard_owner)(uintptr_t addr, char *buf, size_t n);
};

/* Later registrations override earlier ones field by field (NULL = keep). */
void cubi_fault_set_hooks(const struct cubi_fault_hooks *h);

/* Registers a guard range [lo, hi) outside any allocator (the boot stack). */
void cubi_fault_add_guard(uintptr_t lo, uintptr_t hi, const char *name);

/* Writes the guard owner of addr into buf; false when addr is no guard. */
bool cubi_fault_guard_owner(uintptr_t addr, char *buf, size_t n);

/* Prints "  in coroutine: NAME" when one is running. */
void cubi_fault_print_context(void);

/* Prints a frame-pointer backtrace starting at frame pointer fp. */
void cubi_backtrace_print(uintptr_t fp);

/* Prints "0xADDR <symbol+0xoff>" or just the address. */
void cubi_print_addr(uintptr_t addr);

/* Ends the machine after a fault or panic report. */
CUB_NORETURN void cubi_fault_exit(void);

#endif
