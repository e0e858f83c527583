/*
 * cubrt/prof.h - a sampling profiler: where does the CPU spend its time?
 *
 * cub_prof_start(hz) samples the interrupted program counter hz times a
 * second from a periodic interrupt that nothing masks (arch.h's sampling
 * section); cub_prof_stop() ends it; cub_prof_report() prints a flat
 * profile: the top functions by samples with their share of the total
 * (a function sampled inside an interrupt handler is listed apart, marked
 * "[irq]"), then the samples taken halted in idle, inside interrupt
 * handlers (all of them: the [irq] rows are part of it), in code without
 * a symbol, and those the table had no room for. The boot
 * argument (or a Linux program's environment word) CUBRT_PROF=hz profiles
 * the whole run and prints the report at cub_exit() (docs/prof.md).
 *
 * One profile at a time, kept in static memory: a table of
 * CUB_PROF_SLOTS program counters (each with its context: task or
 * interrupt handler) with their counts; samples whose
 * counter finds no free slot within a few probes are counted as "other",
 * never lost silently. Names come from cub_arch_symbol(), only at report
 * time: the sample path does no lookup, no lock, no allocation.
 */
#ifndef CUBRT_PROF_H
#define CUBRT_PROF_H

#include <cubrt/arch.h>

#define CUB_PROF_HZ_MAX CUB_ARCH_SAMPLE_HZ_MAX
#define CUB_PROF_SLOTS 1024	/* distinct program counters kept */

/* One function of a profile, in one context: a function sampled both
 * in task code and inside an interrupt handler is two entries. (irq was
 * added after the first three fields: code that names the fields, or
 * fills only the first three, keeps working.) */
struct cub_prof_func {
	const char *name;	/* from cub_arch_symbol() */
	uintptr_t addr;		/* its first byte */
	uint64_t samples;
	bool irq;		/* the samples were inside an interrupt handler */
};

/*
 * A profile's totals. total = task + idle + irq. task counts every
 * sample outside idle and handlers: the !irq entries' samples + nosym +
 * other. irq counts every sample inside an interrupt handler: the irq
 * entries' samples + irq_nosym + irq_other. foreign is not in total.
 * (The fields after funcs were added later, without changing the
 * meaning of those before.)
 */
struct cub_prof_totals {
	uint64_t total;
	uint64_t task;
	uint64_t idle;		/* halted in cub_arch_idle() */
	uint64_t irq;		/* inside an interrupt handler */
	uint64_t nosym;		/* task samples at an address without a symbol */
	uint64_t other;		/* task samples the table had no room for */
	unsigned hz;		/* the rate asked for */
	uint64_t ns;		/* how long it sampled */
	unsigned funcs;		/* entries (function, context) with a sample */
	unsigned irq_funcs;	/* of them, those inside interrupt handlers */
	uint64_t irq_nosym;	/* irq samples at an address without a symbol */
	uint64_t irq_other;	/* irq samples the table had no room for */
	uint64_t foreign;	/* interrupts of the sample source that were no
				 * sampling tick (x86: another NMI): not samples */
};

/*
 * Clears the previous profile and starts sampling hz times a second.
 * Returns 0; -CUB_EINVAL for hz 0 or above CUB_PROF_HZ_MAX; -CUB_EBUSY
 * when a profile is already running; -CUB_ENODEV when the platform has no
 * sampling interrupt. Contexts: task, boot.
 */
int cub_prof_start(unsigned hz);

/* Stops sampling; the profile stays for cub_prof_collect/report. 0, or
 * -CUB_EINVAL when no profile runs. Contexts: task, boot. */
int cub_prof_stop(void);

/* True while a profile runs. Contexts: any. */
bool cub_prof_running(void);

/*
 * The stopped profile: its n busiest entries into top[] (most samples
 * first; ties by address, task before irq), task and interrupt-handler
 * entries in one list (cub_prof_func.irq tells), its totals into *t. Returns how many entries
 * it filled; -CUB_EBUSY while sampling runs; -CUB_EINVAL for a NULL t,
 * or a NULL top with n > 0. Contexts: task, boot (a linear symbol lookup
 * per distinct program counter: not for irq context).
 */
int cub_prof_collect(struct cub_prof_func *top, unsigned n,
		     struct cub_prof_totals *t);

/*
 * Prints the stopped profile on the console: the top functions (at most
 * top, 1..CUB_PROF_SLOTS) with samples and percentages of the total,
 * ("[irq]" after the name of an interrupt-handler entry), then idle,
 * interrupt handlers (all of them), no symbol and other (both contexts),
 * total, and a line with the foreign count when it is not 0. Returns 0;
 * -CUB_EBUSY while sampling runs; -CUB_EINVAL for top out of range.
 * Contexts: task, boot.
 */
int cub_prof_report(unsigned top);

#endif
