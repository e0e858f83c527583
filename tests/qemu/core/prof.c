/*
 * prof.c - the sampling profiler on bare metal: main spins in
 * prof_spin_here while a timer's handler spins in irq context every
 * 10 ms, then sleeps (idle); the profile must put prof_spin_here at the
 * top and count idle and interrupt-handler samples. Prints the report
 * and one verdict line per check, and checks the bad arguments. After
 * the stop, the program's own handler on the PIT's line (ISA 0, which
 * sampling borrowed as an NMI) gets its ticks again.
 */
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/prof.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#define MS 1000000ull
#define HZ 1000

static volatile unsigned long sink;
static struct cub_timer tick;
static unsigned ticks;

/* Busy for ns, in task context. */
__attribute__((noinline)) void prof_spin_here(uint64_t ns)
{
	uint64_t end = cub_time_now() + ns;

	while (cub_time_now() < end)
		for (int i = 0; i < 1000; i++)
			sink++;
}

/* Busy for 2 ms in irq context, every 10 ms while the spin lasts. */
static void on_tick(struct cub_timer *t, void *arg)
{
	uint64_t end = cub_time_now() + 2 * MS;

	(void)arg;
	while (cub_time_now() < end)
		sink++;
	if (++ticks < 30)
		cub_timer_start(t, cub_time_now() + 8 * MS);
}

static int check(const char *what, bool ok)
{
	cub_printk("prof-test: %s: %s\n", what, ok ? "yes" : "NO");
	return ok ? 0 : 1;
}

static int bad_arguments(void)
{
	int bad = 0;

	bad |= check("hz 0 refused", cub_prof_start(0) == -CUB_EINVAL);
	bad |= check("hz above the maximum refused",
		     cub_prof_start(CUB_PROF_HZ_MAX + 1) == -CUB_EINVAL);
	bad |= check("stop without a profile refused", cub_prof_stop() == -CUB_EINVAL);
	if (cub_prof_start(HZ))
		return 1;
	bad |= check("second start busy", cub_prof_start(HZ) == -CUB_EBUSY);
	bad |= check("report while running busy", cub_prof_report(5) == -CUB_EBUSY);
	bad |= check("top 0 refused", cub_prof_stop() == 0 && cub_prof_report(0) == -CUB_EINVAL);
	return bad;
}

static volatile unsigned pit_ticks;

static void on_pit(void *ctx)
{
	(void)ctx;
	pit_ticks++;
}

static void pit_outb(unsigned short port, unsigned char v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/* The line's own route is back after a stop: a handler registered on
 * CUB_IRQ_PIT sees a 1 kHz PIT tick (the profiler left it stopped). */
static int line_back(void)
{
	unsigned count = 1193182u / 1000;
	int bad;

	if (cub_irq_register(CUB_IRQ_PIT, on_pit, NULL))
		return check("register a PIT handler after the stop", 0);
	pit_outb(0x43, 0x34);		/* channel 0, lo/hi, rate generator */
	pit_outb(0x40, count & 0xFF);
	pit_outb(0x40, (count >> 8) & 0xFF);
	cub_sleep(50 * MS);
	pit_outb(0x43, 0x30);		/* stopped */
	cub_irq_unregister(CUB_IRQ_PIT);
	bad = check("the PIT line's own handler ticks after the stop", pit_ticks > 5);
	cub_printk("prof-test: %u PIT ticks in 50 ms\n", pit_ticks);
	return bad;
}

int cub_main(void)
{
	struct cub_prof_func top[3];
	struct cub_prof_totals t;
	int n, bad = 0;

	if (cub_prof_start(HZ)) {
		cub_printk("prof-test: cannot start\n");
		return 1;
	}
	cub_timer_init(&tick, on_tick, NULL);
	cub_timer_start(&tick, cub_time_now() + 5 * MS);
	prof_spin_here(400 * MS);
	cub_sleep(200 * MS);
	cub_prof_stop();
	cub_prof_report(5);
	n = cub_prof_collect(top, 3, &t);
	bad |= check("prof_spin_here on top",
		     n > 0 && top[0].name && !cub_strcmp(top[0].name, "prof_spin_here"));
	bad |= check("it has most task samples", n > 0 && top[0].samples * 2 > t.task);
	bad |= check("idle samples", t.idle * 10 > t.total);
	bad |= check("interrupt-handler samples", t.irq > 0);
	/* QEMU merges PIT ticks when the host falls behind: a loaded host
	 * gets fewer samples (a tenth of the rate was seen on a 2-CPU
	 * machine running other QEMUs), never more. So the lower bound is
	 * only "sampling ran" (the shares above are what counts). */
	bad |= check("plausible total", t.total >= 20 &&
					  t.total < 2 * (t.ns / MS) * HZ / 1000 + 10);
	bad |= bad_arguments();
	bad |= line_back();
	cub_printk("prof-test: %s\n", bad ? "FAILED" : "passed");
	return bad;
}
