/*
 * console.c - blocking console input for coroutines.
 *
 * When the platform delivers console input by interrupt (x86: the UART's
 * receive interrupt fills a ring buffer), its handler calls
 * cubi_irq_console_input() and the reader parks on input_ev until then.
 * Otherwise (the host, or a UART without a routable line) the reader
 * polls cub_arch_console_getc() every millisecond.
 *
 * Invariants: irq_driven is set once at boot by the platform; input_ev
 * has at most one waiter (readers are serialised by the caller: one
 * coroutine owns the console, like a terminal's foreground process);
 * `waiting` is true exactly while that reader waits, and `interrupted`
 * is only set then (cub_console_interrupt, under irq_save).
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/time.h>

#include "../sched/park.h"
#include "irq_chip.h"

static struct cub_irq_event input_ev = { NULL, false, "console input" };
static bool irq_driven;
static volatile bool waiting, interrupted;	/* a reader's wait; its end */
static int peeked = -1;		/* a byte cub_console_input_ready took, or -1 */
static void (*input_hook)(void);

/* Contexts: boot. */
void cubi_irq_console_set_irq_driven(void)
{
	irq_driven = true;
}

/* Contexts: irq (the platform's receive handler). */
void cubi_irq_console_input(void)
{
	cub_irq_event_signal(&input_ev);
	if (input_hook)
		input_hook();
}

/* Contexts: boot, task. */
void cub_console_set_input_hook(void (*fn)(void))
{
	input_hook = fn;
}

/* Contexts: any. A byte is taken from the platform to find out, and kept
 * for the next read (irq-save: a reader in another coroutine may drain). */
bool cub_console_input_ready(void)
{
	unsigned long irq = cub_arch_irq_save();
	bool ready;

	if (peeked < 0)
		peeked = cub_arch_console_getc();
	ready = peeked >= 0;
	cub_arch_irq_restore(irq);
	return ready;
}

/* Contexts: any. */
bool cub_console_irq_driven(void)
{
	return irq_driven;
}

/* Takes what is already received, up to n bytes. */
static size_t drain(unsigned char *p, size_t n)
{
	size_t got = 0;
	unsigned long irq = cub_arch_irq_save();
	int c;

	if (n && peeked >= 0) {
		p[got++] = (unsigned char)peeked;
		peeked = -1;
	}
	cub_arch_irq_restore(irq);

	while (got < n && (c = cub_arch_console_getc()) >= 0)
		p[got++] = (unsigned char)c;
	return got;
}

/* Contexts: task (panics naming itself in irq context). */
int cub_console_read(void *buf, size_t n)
{
	size_t got;

	cubi_sched_assert_can_block("cub_console_read");
	if (!buf && n)
		return -CUB_EINVAL;
	if (n == 0)
		return 0;
	for (;;) {
		got = drain(buf, n);
		if (got)
			return (int)CUB_MIN(got, (size_t)0x7FFFFFFF);
		waiting = true;
		if (irq_driven)
			cub_irq_event_wait(&input_ev);
		else
			cub_sleep(CUB_NSEC_PER_MSEC);
		waiting = false;
		if (interrupted) {
			interrupted = false;
			return -CUB_EINTR;
		}
	}
}

/* Contexts: any. */
void cub_console_interrupt(void)
{
	unsigned long irq = cub_arch_irq_save();

	if (waiting) {
		interrupted = true;
		cub_irq_event_signal(&input_ev);
	}
	cub_arch_irq_restore(irq);
}
