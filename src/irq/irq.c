/*
 * irq.c - the portable interrupt dispatch table.
 *
 * Invariants:
 *  - lines[l].fn != NULL  <=>  line l is registered; its ctx is the one
 *    given with it. A registered line passed chip->check() once.
 *  - lines[l].masked mirrors what was last asked of the controller; a line
 *    is masked while it has no handler unless somebody unmasked it (and
 *    a level-triggered one is masked again at its first unhandled
 *    interrupt).
 *  - lines[l].reported is set at the first unhandled interrupt on l and
 *    cleared when a handler is registered, so each "episode" of unhandled
 *    interrupts is reported once.
 *  - counters only grow; totals.total counts every interrupt including
 *    spurious ones.
 * Locking: one CPU; the table is written with interrupts disabled
 * (cub_arch_irq_save), and read by the dispatcher in irq context, so a
 * handler is never seen half-registered.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>

#include "irq_chip.h"

struct line {
	cub_irq_fn fn;
	void *ctx;
	const char *name;
	uint64_t count;
	bool masked;
	bool reported;
	bool runtime;
};

static struct line lines[CUB_IRQ_LINES];
static struct cub_irq_totals totals;
static const struct cubi_irq_chip *chip;

void cubi_irq_set_chip(const struct cubi_irq_chip *c)
{
	chip = c;
	for (unsigned l = 0; l < CUB_IRQ_LINES; l++)
		lines[l].masked = true;
}

static int check_line(unsigned line, bool runtime)
{
	if (line >= CUB_IRQ_LINES)
		return -CUB_EINVAL;
	return chip ? chip->check(line, runtime) : 0;
}

/* Precondition: interrupts disabled, line checked. */
static void set_masked(unsigned line, bool masked)
{
	lines[line].masked = masked;
	if (chip)
		chip->set_masked(line, masked);
}

static int do_register(unsigned line, cub_irq_fn fn, void *ctx, bool runtime,
		       const char *name)
{
	unsigned long s;
	int rc;

	if (!fn || line >= CUB_IRQ_LINES)
		return -CUB_EINVAL;
	if (lines[line].runtime && !runtime)
		return -CUB_EPERM;
	rc = check_line(line, runtime);
	if (rc)
		return rc;
	s = cub_arch_irq_save();
	if (lines[line].fn) {
		rc = -CUB_EBUSY;
	} else {
		lines[line].fn = fn;
		lines[line].ctx = ctx;
		lines[line].runtime = runtime;
		lines[line].reported = false;
		if (name)
			lines[line].name = name;
		set_masked(line, false);
	}
	cub_arch_irq_restore(s);
	return rc;
}

/* Contexts: boot, task. */
int cub_irq_register(unsigned line, cub_irq_fn fn, void *ctx)
{
	return do_register(line, fn, ctx, false, NULL);
}

/* Contexts: boot. */
int cubi_irq_register_runtime(unsigned line, cub_irq_fn fn, void *ctx,
			      const char *name)
{
	return do_register(line, fn, ctx, true, name);
}

/* Contexts: boot, task. Masking first means that, on one CPU with
 * interrupts disabled here, the handler cannot be running or pending. */
int cub_irq_unregister(unsigned line)
{
	unsigned long s;
	int rc = 0;

	if (line >= CUB_IRQ_LINES)
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	if (lines[line].runtime) {
		rc = -CUB_EPERM;
	} else if (!lines[line].fn) {
		rc = -CUB_ENOENT;
	} else {
		set_masked(line, true);
		lines[line].fn = NULL;
		lines[line].ctx = NULL;
	}
	cub_arch_irq_restore(s);
	return rc;
}

/*
 * True while an application handler is registered and unmasked: an
 * interrupt may still arrive and wake a coroutine (e.g. by sending on a
 * channel), so the scheduler idles instead of reporting a deadlock.
 * Runtime lines (timer, console) do not count: the scheduler knows their
 * waiters itself. Contexts: any, interrupts disabled.
 */
bool cubi_irq_can_wake(void)
{
	for (unsigned l = 0; l < CUB_IRQ_LINES; l++)
		if (lines[l].fn && !lines[l].runtime && !lines[l].masked)
			return true;
	return false;
}

static int mask_op(unsigned line, bool masked)
{
	unsigned long s;
	int rc = check_line(line, false);

	if (line < CUB_IRQ_LINES && lines[line].runtime)
		return -CUB_EPERM;
	if (rc)
		return rc;
	s = cub_arch_irq_save();
	set_masked(line, masked);
	cub_arch_irq_restore(s);
	return 0;
}

/* Contexts: any. */
int cub_irq_mask(unsigned line)
{
	return mask_op(line, true);
}

/* Contexts: any. */
int cub_irq_unmask(unsigned line)
{
	return mask_op(line, false);
}

/* Contexts: any. */
int cub_irq_set_name(unsigned line, const char *name)
{
	if (line >= CUB_IRQ_LINES)
		return -CUB_EINVAL;
	lines[line].name = name;
	return 0;
}

/* Contexts: any. */
int cub_irq_stat(unsigned line, struct cub_irq_stat *st)
{
	unsigned long s;

	if (line >= CUB_IRQ_LINES || !st)
		return -CUB_EINVAL;
	s = cub_arch_irq_save();
	st->count = lines[line].count;
	st->name = lines[line].name;
	st->registered = lines[line].fn != NULL;
	st->masked = lines[line].masked;
	st->runtime = lines[line].runtime;
	cub_arch_irq_restore(s);
	st->vector = chip && chip->check(line, true) == 0 ? chip->vector(line) : -1;
	return 0;
}

/* Contexts: any. */
uint64_t cub_irq_count(unsigned line)
{
	return line < CUB_IRQ_LINES ? __atomic_load_n(&lines[line].count,
						      __ATOMIC_RELAXED) : 0;
}

/* Contexts: any. */
void cub_irq_totals(struct cub_irq_totals *t)
{
	unsigned long s = cub_arch_irq_save();

	*t = totals;
	cub_arch_irq_restore(s);
}

/* Contexts: any. */
const char *cub_irq_controller(void)
{
	return chip ? chip->name : "none (software interrupt flag)";
}

/* Contexts: any. */
unsigned long cub_irq_save(void)
{
	return cub_arch_irq_save();
}

/* Contexts: any. */
void cub_irq_restore(unsigned long state)
{
	cub_arch_irq_restore(state);
}

/* Contexts: any. */
bool cub_irq_in_handler(void)
{
	return cub_arch_in_irq();
}

static void report_unhandled(unsigned line)
{
	struct line *l = &lines[line];

	l->reported = true;
	if (line < CUB_IRQ_DEVICE_LINES)
		cub_printk("irq: unhandled interrupt on line %u%s%s "
			   "(counted; reported once)\n", line,
			   l->name ? " " : "", l->name ? l->name : "");
	else
		cub_printk("irq: unhandled interrupt on vector 0x%x "
			   "(counted; reported once)\n",
			   line - CUB_IRQ_DEVICE_LINES);
}

/* Contexts: irq. */
void cubi_irq_dispatch(unsigned line)
{
	struct line *l;

	totals.total++;
	if (line >= CUB_IRQ_LINES) {
		totals.unhandled++;
		return;
	}
	l = &lines[line];
	l->count++;
	if (l->fn && !l->masked) {
		l->fn(l->ctx);
		return;
	}
	totals.unhandled++;
	if (!l->reported && !l->fn)
		report_unhandled(line);
	if (!l->fn && chip && chip->level && chip->level(line))
		set_masked(line, true);	/* it would never stop */
}

/* Contexts: irq. */
void cubi_irq_spurious(void)
{
	totals.total++;
	totals.spurious++;
}
