/*
 * cubrt/irq.h - interrupt dispatch: handlers for device lines and vectors,
 * masking, counters, critical sections, and waiting for an interrupt.
 *
 * Line numbers name what raised an interrupt, independently of the
 * controller that routes it:
 *   0 .. CUB_IRQ_DEVICE_LINES-1   device lines. 0..15 are the legacy ISA
 *                                 IRQs (0 PIT, 1 keyboard, 4 COM1, 8 RTC...;
 *                                 the platform applies firmware overrides),
 *                                 16 and up are global system interrupts;
 *   CUB_IRQ_VECTOR(v)             CPU vector v directly (software `int`,
 *                                 message-signalled interrupts). The
 *                                 platform reserves some vectors (x86:
 *                                 only 0x70..0xEF are free).
 *
 * Handlers run in irq context: interrupts disabled, on the interrupt
 * stack, never blocking (a blocking API panics naming itself). The runtime
 * acknowledges the controller (end of interrupt) after the handler returns.
 * A handler may wake coroutines (channel _isr calls, cub_irq_event_signal);
 * a woken coroutine is queued (FIFO). If the CPU was idle it runs as soon
 * as the interrupt returns; otherwise when the running coroutine blocks or
 * yields, or, with preemption on, at the end of its time slice (the
 * irq-exit hook switches then).
 *
 * Interrupts on a line without a handler are counted and reported once on
 * the console, never fatal; spurious interrupts are counted and ignored.
 */
#ifndef CUBRT_IRQ_H
#define CUBRT_IRQ_H

#include <cubrt/base.h>

struct cub_coro;

#define CUB_IRQ_DEVICE_LINES 64
#define CUB_IRQ_VECTOR(v) (CUB_IRQ_DEVICE_LINES + (unsigned)(v))
#define CUB_IRQ_LINES (CUB_IRQ_DEVICE_LINES + 256)

/* Well-known legacy lines. */
#define CUB_IRQ_PIT 0
#define CUB_IRQ_COM1 4
#define CUB_IRQ_RTC 8

typedef void (*cub_irq_fn)(void *ctx);

/*
 * Installs fn(ctx) as the handler of line and unmasks the line.
 * Returns 0, -CUB_EINVAL (line out of range, not routable on this
 * machine, a reserved vector, or fn NULL), -CUB_EBUSY (the line already
 * has a handler: unregister it first), -CUB_EPERM (the runtime owns it).
 * Contexts: boot, task.
 */
int cub_irq_register(unsigned line, cub_irq_fn fn, void *ctx);

/*
 * Masks line and removes its handler; on return the handler is not
 * running and will not run again. -CUB_EINVAL bad line, -CUB_ENOENT no
 * handler, -CUB_EPERM a runtime line. Contexts: boot, task.
 */
int cub_irq_unregister(unsigned line);

/*
 * Masks / unmasks line at the interrupt controller: a masked line's
 * interrupts are not delivered (vectors, which no controller can mask,
 * are counted but their handler is not called). Not nested: one unmask
 * undoes any number of masks. Unmasking a line without a handler is
 * allowed (its interrupts are then counted as unhandled).
 * Returns 0, -CUB_EINVAL, -CUB_EPERM. Contexts: any.
 */
int cub_irq_mask(unsigned line);
int cub_irq_unmask(unsigned line);

/* Gives line a name for reports and the shell's `irq` (string kept, not
 * copied). -CUB_EINVAL bad line. Contexts: any. */
int cub_irq_set_name(unsigned line, const char *name);

struct cub_irq_stat {
	uint64_t count;		/* interrupts received on the line */
	const char *name;	/* NULL when unnamed */
	int vector;		/* CPU vector it arrives on, -1 if unrouted */
	bool registered;	/* has a handler */
	bool masked;
	bool runtime;		/* owned by the runtime (timer, console) */
};

/* Fills *st for line. -CUB_EINVAL bad line. Contexts: any. */
int cub_irq_stat(unsigned line, struct cub_irq_stat *st);

/* Interrupts received on line so far; 0 for a bad line. Contexts: any. */
uint64_t cub_irq_count(unsigned line);

struct cub_irq_totals {
	uint64_t total;		/* every interrupt, spurious included */
	uint64_t spurious;	/* ignored: no source asserted */
	uint64_t unhandled;	/* on a line without handler, or masked */
};

/* Machine-wide counters. Contexts: any. */
void cub_irq_totals(struct cub_irq_totals *t);

/* Describes the interrupt controller and timer in use, for humans.
 * Contexts: any. */
const char *cub_irq_controller(void);

/*
 * Critical section against interrupt handlers: disables interrupts and
 * returns the previous state; nestable (restore in reverse order).
 * Contexts: any.
 */
unsigned long cub_irq_save(void);
void cub_irq_restore(unsigned long state);

/* True inside an interrupt handler. Contexts: any. */
bool cub_irq_in_handler(void);

/*
 * An event a handler signals and one coroutine waits for: the simplest
 * way to hand an interrupt to a coroutine (channels are the other).
 * Signals do not count: several signals before a wait wake it once.
 *
 * Invariants: waiter is the parked coroutine or NULL; pending is set by
 * a signal with no waiter and consumed by the next wait. Both are
 * protected by disabling interrupts.
 */
struct cub_irq_event {
	struct cub_coro *waiter;
	bool pending;
	const char *what;	/* the wait's description in `ps` */
};

/* Initialises ev (caller storage); what describes the wait, e.g.
 * "console input". Contexts: any. */
void cub_irq_event_init(struct cub_irq_event *ev, const char *what);

/*
 * Blocks until ev is signalled (returns at once, consuming the signal,
 * when one is pending). One waiter at a time: a second waiter panics.
 * Contexts: task only (panics naming cub_irq_event_wait in irq context).
 */
void cub_irq_event_wait(struct cub_irq_event *ev);

/* Wakes ev's waiter, or leaves the event pending. Contexts: any. */
void cub_irq_event_signal(struct cub_irq_event *ev);

/*
 * Reads up to n console bytes into buf, blocking the coroutine until at
 * least one is there; returns the count (>0), -CUB_EINVAL, or -CUB_EINTR
 * when cub_console_interrupt() ended the wait. Bytes are raw: no echo, no
 * line editing (examples/shell does its own). On x86 the UART's receive
 * interrupt wakes the reader; where the platform has no input interrupt
 * the reader polls every millisecond. One reader at a time. Contexts:
 * task only (panics naming cub_console_read in irq context, as does
 * cub_irq_event_wait).
 */
int cub_console_read(void *buf, size_t n);

/* Makes a cub_console_read that is waiting return -CUB_EINTR (the shim:
 * a signal for the reading thread); no effect when nobody waits.
 * Contexts: any. */
void cub_console_interrupt(void);

/* True when console input is interrupt driven. Contexts: any. */
bool cub_console_irq_driven(void);

/* True when a cub_console_read would return at once (input is waiting).
 * Contexts: any. */
bool cub_console_input_ready(void);

/* fn runs, in irq context, whenever console input arrives on an
 * interrupt-driven console (the shim wakes poll/select with it); NULL
 * removes it. Contexts: boot, task. */
void cub_console_set_input_hook(void (*fn)(void));

#endif
