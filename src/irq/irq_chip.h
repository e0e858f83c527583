/*
 * irq_chip.h - private interface between the portable dispatch table
 * (src/irq/irq.c) and the platform's interrupt controllers.
 *
 * The platform registers its controller once at boot; the table calls it
 * to validate, mask and describe lines, and the platform's interrupt entry
 * calls back into the table for every interrupt. Without a registered
 * controller (the host build), every line is valid and masking is only a
 * flag in the table.
 */
#ifndef CUBRT_IRQ_CHIP_H
#define CUBRT_IRQ_CHIP_H

#include <cubrt/irq.h>

struct cubi_irq_chip {
	const char *name;
	/* 0 when line can carry interrupts on this machine; runtime lines
	 * may use vectors reserved to the runtime. -CUB_EINVAL otherwise. */
	int (*check)(unsigned line, bool runtime);
	/* Masks or unmasks a line that passed check(). Contexts: any, called
	 * with interrupts disabled. */
	void (*set_masked)(unsigned line, bool masked);
	/* The vector line arrives on, or -1. */
	int (*vector)(unsigned line);
	/* True for a level-triggered line (may be NULL: none are). An
	 * unhandled level-triggered line would interrupt forever, so the
	 * table masks it after counting and reporting. */
	bool (*level)(unsigned line);
};

/* Installs the controller; lines stay masked until registered.
 * Contexts: boot. */
void cubi_irq_set_chip(const struct cubi_irq_chip *chip);

/*
 * Registers a line the runtime owns (the timer, the console): users get
 * -CUB_EPERM on it. Same errors as cub_irq_register. Contexts: boot.
 */
int cubi_irq_register_runtime(unsigned line, cub_irq_fn fn, void *ctx,
			      const char *name);

/*
 * Entry from the platform for one interrupt on line: counts it, then runs
 * its handler, or reports it once when there is none. The platform sends
 * end-of-interrupt afterwards. Contexts: irq.
 */
void cubi_irq_dispatch(unsigned line);

/* For the scheduler's deadlock check: an unmasked application handler is
 * registered (irq.c). Contexts: any, interrupts disabled. */
bool cubi_irq_can_wake(void);

/* Counts a spurious interrupt (no source; no handler, no EOI). Contexts: irq. */
void cubi_irq_spurious(void);

/* Console input (console.c): the platform declares at boot that its
 * receive interrupt will call cubi_irq_console_input() whenever bytes for
 * cub_arch_console_getc() arrive. Contexts: boot / irq. */
void cubi_irq_console_set_irq_driven(void);
void cubi_irq_console_input(void);

#endif
