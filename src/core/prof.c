/*
 * prof.c - the sampling profiler (cubrt/prof.h): the sample hook, the
 * program-counter table, the flat report, and the CUBRT_PROF boot switch.
 *
 * The platform calls sample() from its periodic sampling interrupt, which
 * nothing masks (an NMI on x86, SIGPROF on the host): it may interrupt
 * any code, this file's task-side functions included. So:
 *
 * Invariants: while running is true only sample() writes slots[] and the
 * counters, one sample at a time (an NMI does not nest; SIGPROF is
 * blocked in its own handler); the task-side functions only read them
 * then. They write them only while running is false, after
 * cub_arch_sample_stop() returned (no sample is in flight any more).
 * A slot with pc 0 is free; a used slot keeps its (pc, irq) key until
 * the next start: task and interrupt-handler samples at one address
 * are two slots. task = the !irq slots' counts + nosym + other, irq =
 * the irq slots' counts + irq_nosym + irq_other, at every moment a
 * sample is not half done. foreign counts interrupts the platform said
 * were no sampling tick: never in total. merged: the table has been
 * turned, by collect, into one slot per (function, context) (pc = its
 * first byte, name set), sorted by samples; it is reset by start.
 * Locking: none; one profile at a time, started and stopped by task code
 * (a second start gets -CUB_EBUSY).
 */
#include <cubrt/fmt.h>
#include <cubrt/prof.h>
#include <cubrt/string.h>

#include "prof_impl.h"

#define PROBES 16		/* slots a program counter may try */
#define REPORT_TOP 20		/* functions in the report at exit */

struct slot {
	uintptr_t pc;
	uint64_t n;
	const char *name;	/* set when merged */
	bool irq;		/* samples inside an interrupt handler */
};

static struct slot slots[CUB_PROF_SLOTS];
static volatile uint64_t n_task, n_idle, n_irq, n_nosym, n_other;
static volatile uint64_t n_irq_nosym, n_irq_other, n_foreign;
static volatile bool running;
static bool merged;
static unsigned cur_hz;
static uint64_t t_start, t_ns;
static bool report_at_exit;

_Static_assert((CUB_PROF_SLOTS & (CUB_PROF_SLOTS - 1)) == 0, "power of two");

static unsigned slot_of(uintptr_t pc, bool irq)
{
	uint64_t h = ((uint64_t)pc ^ (irq ? 0x5555555555555555ull : 0)) * 0x9E3779B97F4A7C15ull;

	return (unsigned)(h >> 40) & (CUB_PROF_SLOTS - 1);
}

/* Counts pc (non-zero) in its (pc, irq) slot, or in other/irq_other
 * when PROBES slots are taken by others. Contexts: as sample(). */
static void count(uintptr_t pc, bool irq)
{
	unsigned h = slot_of(pc, irq);

	for (unsigned i = 0; i < PROBES; i++) {
		struct slot *s = &slots[(h + i) & (CUB_PROF_SLOTS - 1)];

		if (s->pc == pc && s->irq == irq) {
			s->n++;
			return;
		}
		if (!s->pc) {
			s->n = 1;
			s->irq = irq;
			s->pc = pc;
			return;
		}
	}
	if (irq)
		n_irq_other++;
	else
		n_other++;
}

/* The sample hook. Contexts: the sampling interrupt (see above). */
static void sample(uintptr_t pc, unsigned where)
{
	bool irq = where == CUB_ARCH_SAMPLE_IRQ;

	if (where == CUB_ARCH_SAMPLE_IDLE) {
		n_idle++;
		return;
	}
	if (where != CUB_ARCH_SAMPLE_TASK && !irq) {
		n_foreign++;		/* FOREIGN, or a kind this file does not know */
		return;
	}
	if (irq)
		n_irq++;
	else
		n_task++;
	if (!pc) {
		if (irq)
			n_irq_nosym++;
		else
			n_nosym++;
		return;
	}
	count(pc, irq);
}

void cubi_prof_sample(uintptr_t pc, unsigned where)
{
	sample(pc, where);
}

int cub_prof_start(unsigned hz)
{
	int rc;

	if (hz == 0 || hz > CUB_PROF_HZ_MAX)
		return -CUB_EINVAL;
	if (running)
		return -CUB_EBUSY;
	cub_memset(slots, 0, sizeof(slots));
	n_task = n_idle = n_irq = n_nosym = n_other = 0;
	n_irq_nosym = n_irq_other = n_foreign = 0;
	merged = false;
	cur_hz = hz;
	t_ns = 0;
	t_start = cub_arch_clock_ns();
	running = true;
	rc = cub_arch_sample_start(hz, sample);
	if (rc)
		running = false;
	return rc;
}

int cub_prof_stop(void)
{
	if (!running)
		return -CUB_EINVAL;
	cub_arch_sample_stop();
	t_ns = cub_arch_clock_ns() - t_start;
	running = false;
	return 0;
}

bool cub_prof_running(void)
{
	return running;
}

/* Orders slots a before b by key: lower address first, task before irq
 * at one address; free slots last. */
static bool key_before(const struct slot *a, const struct slot *b)
{
	if (!a->pc || !b->pc)
		return a->pc && !b->pc;
	if (a->pc != b->pc)
		return a->pc < b->pc;
	return !a->irq && b->irq;
}

/* Orders slots a before b: more samples first, then by key. */
static bool before(const struct slot *a, const struct slot *b)
{
	if (a->pc && b->pc && a->n != b->n)
		return a->n > b->n;
	return key_before(a, b);
}

/* Insertion sort of the n first slots by key (by_key) or by before(). */
static void sort(unsigned n, bool by_key)
{
	for (unsigned i = 1; i < n; i++) {
		struct slot k = slots[i];
		unsigned j = i;

		while (j > 0 && (by_key ? key_before(&k, &slots[j - 1])
					: before(&k, &slots[j - 1]))) {
			slots[j] = slots[j - 1];
			j--;
		}
		slots[j] = k;
	}
}

/* Turns the program-counter table into one slot per (function, context),
 * sorted by samples: each pc becomes its function's first byte (a pc
 * without a symbol goes to nosym or irq_nosym), equal keys are added up.
 * Task-side only, with sampling stopped. */
static void merge(void)
{
	unsigned out = 0;

	for (unsigned i = 0; i < CUB_PROF_SLOTS; i++) {
		uintptr_t off = 0;
		const char *name;

		if (!slots[i].pc)
			continue;
		name = cub_arch_symbol(slots[i].pc, &off);
		if (!name) {
			if (slots[i].irq)
				n_irq_nosym += slots[i].n;
			else
				n_nosym += slots[i].n;
			slots[i].pc = 0;
			continue;
		}
		slots[i].pc -= off;
		slots[i].name = name;
	}
	sort(CUB_PROF_SLOTS, true);
	for (unsigned i = 0; i < CUB_PROF_SLOTS && slots[i].pc; i++) {
		if (out && slots[out - 1].pc == slots[i].pc &&
		    slots[out - 1].irq == slots[i].irq) {
			slots[out - 1].n += slots[i].n;
			continue;
		}
		slots[out++] = slots[i];
	}
	for (unsigned i = out; i < CUB_PROF_SLOTS; i++)
		slots[i] = (struct slot){ 0 };
	sort(out, false);
	merged = true;
}

int cub_prof_collect(struct cub_prof_func *top, unsigned n,
		     struct cub_prof_totals *t)
{
	unsigned i, irqs = 0;

	if (!t || (!top && n))
		return -CUB_EINVAL;
	if (running)
		return -CUB_EBUSY;
	if (!merged)
		merge();
	*t = (struct cub_prof_totals){
		.task = n_task, .idle = n_idle, .irq = n_irq, .nosym = n_nosym,
		.other = n_other, .hz = cur_hz, .ns = t_ns,
		.irq_nosym = n_irq_nosym, .irq_other = n_irq_other,
		.foreign = n_foreign,
	};
	t->total = t->task + t->idle + t->irq;
	for (i = 0; i < CUB_PROF_SLOTS && slots[i].pc; i++) {
		irqs += slots[i].irq;
		if (i < n)
			top[i] = (struct cub_prof_func){ slots[i].name, slots[i].pc,
							 slots[i].n, slots[i].irq };
	}
	t->funcs = i;
	t->irq_funcs = irqs;
	return (int)CUB_MIN(i, n);
}

/* Prints one line: rank (1.., 0 for none), count, its share of total
 * in tenths of a percent, what (" [irq]" after it for irq). */
static void line(unsigned rank, uint64_t count, uint64_t total, const char *what,
		 bool irq)
{
	uint64_t tenths = total ? (count * 1000 + total / 2) / total : 0;
	char r[8] = "";

	if (rank)
		cub_snprintf(r, sizeof(r), "#%u", rank);
	cub_printk("  %4s %8lu %3lu.%lu%%  %s%s\n", r, (unsigned long)count,
		   (unsigned long)(tenths / 10), (unsigned long)(tenths % 10), what,
		   irq ? " [irq]" : "");
}

int cub_prof_report(unsigned top)
{
	struct cub_prof_totals t;
	int rc;

	if (top == 0 || top > CUB_PROF_SLOTS)
		return -CUB_EINVAL;
	rc = cub_prof_collect(NULL, 0, &t);
	if (rc < 0)
		return rc;
	cub_printk("prof: %lu samples at %u Hz over %lu ms, %u functions (%u [irq])\n",
		   (unsigned long)t.total, t.hz, (unsigned long)(t.ns / 1000000), t.funcs,
		   t.irq_funcs);
	cub_printk("  %4s %8s %6s  %s\n", "rank", "samples", "share", "function");
	for (unsigned i = 0; i < top && i < t.funcs; i++)
		line(i + 1, slots[i].n, t.total, slots[i].name, slots[i].irq);
	line(0, t.idle, t.total, "(idle)", false);
	line(0, t.irq, t.total, "(interrupt handlers)", false);
	line(0, t.nosym + t.irq_nosym, t.total, "(no symbol)", false);
	line(0, t.other + t.irq_other, t.total, "(other: table full)", false);
	line(0, t.total, t.total, "(total)", false);
	if (t.foreign)
		cub_printk("prof: %lu interrupts were no sampling tick (not counted)\n",
			   (unsigned long)t.foreign);
	return 0;
}

/* Reads CUBRT_PROF=hz among the boot command line's words: hz, 0 when
 * the word is absent, -1 when its value is no rate in 1..HZ_MAX. */
static long boot_hz(const char *cmdline)
{
	static const char key[] = "CUBRT_PROF=";
	const char *p = cmdline;
	long hz = 0;

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!cub_strncmp(p, key, sizeof(key) - 1)) {
			p += sizeof(key) - 1;
			if (*p < '0' || *p > '9')
				return -1;
			for (hz = 0; *p >= '0' && *p <= '9'; p++)
				if ((hz = hz * 10 + (*p - '0')) > CUB_PROF_HZ_MAX)
					return -1;
			return (*p == ' ' || !*p) && hz > 0 ? hz : -1;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

void cubi_prof_boot(const char *cmdline)
{
	long hz = boot_hz(cmdline);
	int rc;

	if (hz == 0)
		return;		/* not asked for */
	rc = hz > 0 ? cub_prof_start((unsigned)hz) : -CUB_EINVAL;
	if (rc) {
		cub_printk("prof: CUBRT_PROF wants a rate of 1..%u Hz; not profiling (%s)\n",
			   CUB_PROF_HZ_MAX, cub_strerror(rc));
		return;
	}
	report_at_exit = true;
	cub_printk("prof: sampling at %ld Hz until exit\n", hz);
}

void cubi_prof_exit(void)
{
	if (!report_at_exit)
		return;
	report_at_exit = false;
	cub_prof_stop();
	cub_prof_report(REPORT_TOP);
}
