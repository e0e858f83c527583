/*
 * test_prof.c - unit tests for the sampling profiler (src/core/prof.c)
 * on the host's SIGPROF source (platform/host/sample.c): a busy function
 * dominates its profile, idle is counted when everything sleeps, stop
 * stops, bad arguments are refused; with synthetic samples (the sample
 * hook fed directly): merging into functions, the full table's "other",
 * no-symbol samples, and a randomized comparison with a model count.
 * Symbols come from dladdr (the test is linked with -rdynamic) or from a
 * fake symbolizer through the host's test hook.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/prof.h>

#include "catch.h"
#include "host.h"
#include "prof_impl.h"
#include "../slow.h"

#define MS 1000000ull
#define HZ 1000

static volatile unsigned long sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Busy for ns: global, so that dladdr names it. */
__attribute__((noinline)) void prof_busy_here(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		for (int i = 0; i < 10000; i++)
			sink++;
}

static const char *dl_symbol(uintptr_t addr, uintptr_t *off)
{
	Dl_info info;

	if (!dladdr((void *)addr, &info) || !info.dli_sname || !info.dli_saddr)
		return NULL;
	*off = addr - (uintptr_t)info.dli_saddr;
	return info.dli_sname;
}

/* Fake functions: [0x1000 * (i + 1), + 0x1000) is "f<i>", i < 64; other
 * addresses have no symbol. */
static const char *fake_names[64];

static const char *fake_symbol(uintptr_t addr, uintptr_t *off)
{
	if (addr < 0x1000 || addr >= 0x1000 * 65)
		return NULL;
	*off = addr & 0xFFF;
	return fake_names[addr / 0x1000 - 1];
}

static int setup(void **state)
{
	static char buf[64][8];

	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(buf[i], sizeof(buf[i]), "f%d", i);
		fake_names[i] = buf[i];
	}
	cubi_host_set_symbolizer(dl_symbol);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (cub_prof_running())
		cub_prof_stop();
	cubi_host_set_symbolizer(dl_symbol);
	return 0;
}

static void test_busy_function_dominates(void **state)
{
	struct cub_prof_func top[4];
	struct cub_prof_totals t;
	int n;

	(void)state;
	assert_int_equal(cub_prof_start(HZ), 0);
	assert_true(cub_prof_running());
	prof_busy_here(300 * MS);
	assert_int_equal(cub_prof_stop(), 0);
	assert_false(cub_prof_running());
	n = cub_prof_collect(top, 4, &t);
	assert_true(n >= 1);
	assert_string_equal(top[0].name, "prof_busy_here");
	assert_ptr_equal((void *)top[0].addr, (void *)(uintptr_t)prof_busy_here);
	/* A plausible share and count: most of 300 ms at 1 kHz. */
	assert_true(top[0].samples * 10 >= t.total * 7);
	assert_true(t.total >= 150 && t.total <= 2 * (t.ns / MS) + 10);
	assert_int_equal(t.total, t.task + t.idle + t.irq);
	assert_int_equal(t.hz, HZ);
	assert_true(t.ns >= 300 * MS);
}

static volatile bool fired;

static void on_timer(void)
{
	fired = true;
}

static void test_idle_when_everything_sleeps(void **state)
{
	struct cub_prof_totals t;

	(void)state;
	cub_arch_timer_set_handler(on_timer);
	fired = false;
	assert_int_equal(cub_prof_start(HZ), 0);
	cub_arch_irq_disable();
	cub_arch_timer_arm(cub_arch_clock_ns() + 200 * MS);
	while (!fired)
		cub_arch_idle();
	cub_arch_irq_enable();
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(NULL, 0, &t), 0);
	assert_true(t.idle >= 100);
	assert_true(t.idle * 10 >= t.total * 9);
}

/* Busy for ns inside the timer's interrupt handler: global, for dladdr. */
__attribute__((noinline)) void prof_irq_busy_here(void)
{
	prof_busy_here(200 * MS);
	fired = true;
}

/* A SIGPROF landing in an interrupt handler (the host's SIGALRM) is an
 * irq sample at the handler's program counter: the report has the
 * handler's functions, marked irq, beside the task's. */
static void test_handler_by_function(void **state)
{
	struct cub_prof_func top[16];
	struct cub_prof_totals t;
	uint64_t busy_irq = 0, irq_sum = 0;
	int n;

	(void)state;
	cub_arch_timer_set_handler(prof_irq_busy_here);
	fired = false;
	assert_int_equal(cub_prof_start(HZ), 0);
	cub_arch_timer_arm(cub_arch_clock_ns() + 10 * MS);
	while (!fired)
		prof_busy_here(MS);
	assert_int_equal(cub_prof_stop(), 0);
	n = cub_prof_collect(top, 16, &t);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		if (top[i].irq)
			irq_sum += top[i].samples;
		/* prof_busy_here runs in both contexts: its irq entry is the
		 * handler's time. */
		if (top[i].irq && !strcmp(top[i].name, "prof_busy_here"))
			busy_irq = top[i].samples;
	}
	assert_true(t.irq_funcs >= 1);
	assert_true(t.irq >= 50);
	assert_true(busy_irq * 10 >= t.irq * 7);
	assert_true(t.irq * 10 >= t.total * 5);
	assert_true(irq_sum <= t.irq);
	if (n < 16)		/* all entries seen: the irq total adds up */
		assert_int_equal(irq_sum + t.irq_nosym + t.irq_other, t.irq);
	assert_int_equal(t.foreign, 0);
}

/* SIGPROFs that are not the sampling timer's (raise, sigqueue) are
 * foreign: counted apart, never samples. At 1 Hz no tick comes in the
 * test's few milliseconds, so every signal here is one of them. */
static void test_foreign_sigprof(void **state)
{
	struct cub_prof_totals t;
	union sigval v = { .sival_int = 1 };
	uint64_t n;

	(void)state;
	assert_int_equal(cub_prof_start(1), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(raise(SIGPROF), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sigqueue(getpid(), SIGPROF, v), 0);
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(NULL, 0, &t), 0);
	/* Natively each signal is taken before raise/sigqueue returns;
	 * valgrind delivers them later and may merge the queued ones. */
	if (test_slowness() == 1)
		assert_int_equal(t.foreign, 25);
	assert_true(t.foreign >= 21 && t.foreign <= 25);
	assert_int_equal(t.total, 0);
	/* After the stop the handler ignores them: nothing counted. */
	n = t.foreign;
	assert_int_equal(raise(SIGPROF), 0);
	assert_int_equal(cub_prof_collect(NULL, 0, &t), 0);
	assert_int_equal(t.foreign, n);
}

static void test_stop_stops(void **state)
{
	struct cub_prof_totals a, b;

	(void)state;
	assert_int_equal(cub_prof_start(HZ), 0);
	prof_busy_here(50 * MS);
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(NULL, 0, &a), 0);
	assert_true(a.total > 0);
	prof_busy_here(100 * MS);
	assert_int_equal(cub_prof_collect(NULL, 0, &b), 0);
	assert_int_equal(a.total, b.total);
	assert_int_equal(a.task, b.task);
	assert_int_equal(a.ns, b.ns);
}

static void test_bad_arguments(void **state)
{
	struct cub_prof_func top[2];
	struct cub_prof_totals t;

	(void)state;
	assert_int_equal(cub_prof_start(0), -CUB_EINVAL);
	assert_int_equal(cub_prof_start(CUB_PROF_HZ_MAX + 1), -CUB_EINVAL);
	assert_int_equal(cub_prof_start(~0u), -CUB_EINVAL);
	assert_int_equal(cub_prof_stop(), -CUB_EINVAL);
	assert_int_equal(cub_arch_sample_start(HZ, NULL), -CUB_EINVAL);
	assert_int_equal(cub_prof_start(CUB_PROF_HZ_MAX), 0);
	assert_int_equal(cub_prof_start(HZ), -CUB_EBUSY);
	assert_int_equal(cub_prof_report(5), -CUB_EBUSY);
	assert_int_equal(cub_prof_collect(top, 2, &t), -CUB_EBUSY);
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_stop(), -CUB_EINVAL);
	assert_int_equal(cub_prof_collect(NULL, 2, &t), -CUB_EINVAL);
	assert_int_equal(cub_prof_collect(top, 2, NULL), -CUB_EINVAL);
	assert_int_equal(cub_prof_report(0), -CUB_EINVAL);
	assert_int_equal(cub_prof_report(CUB_PROF_SLOTS + 1), -CUB_EINVAL);
}

/* A profile of synthetic samples only: 1 Hz, collected long before the
 * first real sample is due. */
static void start_synthetic(void)
{
	cubi_host_set_symbolizer(fake_symbol);
	assert_int_equal(cub_prof_start(1), 0);
}

static void test_merge_and_kinds(void **state)
{
	struct cub_prof_func top[8];
	struct cub_prof_totals t;

	(void)state;
	start_synthetic();
	for (int i = 0; i < 10; i++)
		cubi_prof_sample(0x3000 + (uintptr_t)i * 16, CUB_ARCH_SAMPLE_TASK);
	for (int i = 0; i < 4; i++)
		cubi_prof_sample(0x5100, CUB_ARCH_SAMPLE_TASK);
	cubi_prof_sample(0x5000, CUB_ARCH_SAMPLE_TASK);
	cubi_prof_sample(0x99999, CUB_ARCH_SAMPLE_TASK);	/* no symbol */
	cubi_prof_sample(0, CUB_ARCH_SAMPLE_TASK);
	for (int i = 0; i < 3; i++)
		cubi_prof_sample(0x3000, CUB_ARCH_SAMPLE_IDLE);
	for (int i = 0; i < 2; i++)
		cubi_prof_sample(0x3000, CUB_ARCH_SAMPLE_IRQ);
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(top, 8, &t), 3);
	assert_string_equal(top[0].name, "f2");
	assert_int_equal(top[0].addr, 0x3000);
	assert_int_equal(top[0].samples, 10);
	assert_false(top[0].irq);
	assert_string_equal(top[1].name, "f4");
	assert_int_equal(top[1].samples, 5);
	assert_false(top[1].irq);
	/* The handler's samples at f2 are an entry of their own. */
	assert_string_equal(top[2].name, "f2");
	assert_int_equal(top[2].addr, 0x3000);
	assert_int_equal(top[2].samples, 2);
	assert_true(top[2].irq);
	assert_int_equal(t.funcs, 3);
	assert_int_equal(t.irq_funcs, 1);
	assert_int_equal(t.nosym, 2);
	assert_int_equal(t.idle, 3);
	assert_int_equal(t.irq, 2);
	assert_int_equal(t.irq_nosym, 0);
	assert_int_equal(t.task, 17);
	assert_int_equal(t.total, 22);
	assert_int_equal(t.other, 0);
	assert_int_equal(t.foreign, 0);
	/* Collecting again gives the same. */
	assert_int_equal(cub_prof_collect(top, 1, &t), 1);
	assert_int_equal(top[0].samples, 10);
	assert_int_equal(t.total, 22);
}

/* Interrupt-handler samples by function: each (function, context) is an
 * entry, the handler's unsymbolised and zero program counters go to
 * irq_nosym, and both contexts add up to their totals. */
static void test_irq_by_function(void **state)
{
	struct cub_prof_func top[8];
	struct cub_prof_totals t;
	uint64_t task_sum = 0, irq_sum = 0;
	int n;

	(void)state;
	start_synthetic();
	for (int i = 0; i < 7; i++)	/* f5 in a handler, 7 offsets */
		cubi_prof_sample(0x6000 + (uintptr_t)i * 8, CUB_ARCH_SAMPLE_IRQ);
	for (int i = 0; i < 3; i++)	/* f5 in task code too */
		cubi_prof_sample(0x6010, CUB_ARCH_SAMPLE_TASK);
	for (int i = 0; i < 4; i++)	/* f9 only in a handler */
		cubi_prof_sample(0xA004, CUB_ARCH_SAMPLE_IRQ);
	cubi_prof_sample(0x99999, CUB_ARCH_SAMPLE_IRQ);		/* no symbol */
	cubi_prof_sample(0, CUB_ARCH_SAMPLE_IRQ);
	cubi_prof_sample(0x99999, CUB_ARCH_SAMPLE_TASK);
	assert_int_equal(cub_prof_stop(), 0);
	n = cub_prof_collect(top, 8, &t);
	assert_int_equal(n, 3);
	assert_string_equal(top[0].name, "f5");
	assert_true(top[0].irq);
	assert_int_equal(top[0].samples, 7);
	assert_int_equal(top[0].addr, 0x6000);
	assert_string_equal(top[1].name, "f9");
	assert_true(top[1].irq);
	assert_int_equal(top[1].samples, 4);
	assert_string_equal(top[2].name, "f5");
	assert_false(top[2].irq);
	assert_int_equal(top[2].samples, 3);
	assert_int_equal(t.funcs, 3);
	assert_int_equal(t.irq_funcs, 2);
	assert_int_equal(t.irq, 13);
	assert_int_equal(t.irq_nosym, 2);
	assert_int_equal(t.nosym, 1);
	assert_int_equal(t.task, 4);
	assert_int_equal(t.total, 17);
	for (int i = 0; i < n; i++)
		*(top[i].irq ? &irq_sum : &task_sum) += top[i].samples;
	assert_int_equal(irq_sum + t.irq_nosym + t.irq_other, t.irq);
	assert_int_equal(task_sum + t.nosym + t.other, t.task);
}

/* Interrupts the platform says were no tick (FOREIGN) and kinds the
 * profiler does not know are counted apart, never as samples. */
static void test_foreign_not_samples(void **state)
{
	struct cub_prof_func top[2];
	struct cub_prof_totals t;

	(void)state;
	start_synthetic();
	cubi_prof_sample(0x2000, CUB_ARCH_SAMPLE_TASK);
	for (int i = 0; i < 5; i++)
		cubi_prof_sample(0x2000, CUB_ARCH_SAMPLE_FOREIGN);
	cubi_prof_sample(0x2000, 99);
	cubi_prof_sample(0, CUB_ARCH_SAMPLE_FOREIGN);
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(top, 2, &t), 1);
	assert_int_equal(top[0].samples, 1);
	assert_int_equal(t.foreign, 7);
	assert_int_equal(t.total, 1);
	assert_int_equal(t.task, 1);
	assert_int_equal(t.nosym, 0);
	/* A new profile starts from zero. */
	start_synthetic();
	assert_int_equal(cub_prof_stop(), 0);
	assert_int_equal(cub_prof_collect(top, 2, &t), 0);
	assert_int_equal(t.foreign, 0);
}

static void test_full_table_counts_other(void **state)
{
	struct cub_prof_totals t;
	uint64_t placed = 0;
	struct cub_prof_func top[64];
	int n;

	(void)state;
	start_synthetic();
	/* 4 distinct counters per byte offset of 64 functions: more than
	 * the table holds. */
	for (unsigned i = 0; i < 2 * CUB_PROF_SLOTS; i++)
		cubi_prof_sample(0x1000 + (uintptr_t)(i % 64) * 0x1000 + i / 64,
				 CUB_ARCH_SAMPLE_TASK);
	assert_int_equal(cub_prof_stop(), 0);
	n = cub_prof_collect(top, 64, &t);
	assert_int_equal(n, 64);
	for (int i = 0; i < n; i++)
		placed += top[i].samples;
	assert_true(t.other >= CUB_PROF_SLOTS);
	assert_int_equal(placed + t.other + t.nosym, t.task);
	assert_int_equal(t.task, 2 * CUB_PROF_SLOTS);
}

/* A table filled by handler samples counts the rest in irq_other. */
static void test_full_table_irq_other(void **state)
{
	struct cub_prof_totals t;
	struct cub_prof_func top[64];
	uint64_t placed = 0;
	int n;

	(void)state;
	start_synthetic();
	for (unsigned i = 0; i < 2 * CUB_PROF_SLOTS; i++)
		cubi_prof_sample(0x1000 + (uintptr_t)(i % 64) * 0x1000 + i / 64,
				 CUB_ARCH_SAMPLE_IRQ);
	cubi_prof_sample(0x1000, CUB_ARCH_SAMPLE_TASK);	/* one table: full too */
	assert_int_equal(cub_prof_stop(), 0);
	n = cub_prof_collect(top, 64, &t);
	assert_int_equal(n, 64);
	for (int i = 0; i < n; i++) {
		assert_true(top[i].irq);
		placed += top[i].samples;
	}
	assert_true(t.irq_other >= CUB_PROF_SLOTS);
	assert_int_equal(t.other, 1);
	assert_int_equal(t.task, 1);
	assert_int_equal(placed + t.irq_other + t.irq_nosym, t.irq);
	assert_int_equal(t.irq, 2 * CUB_PROF_SLOTS);
	assert_int_equal(t.task + t.irq, t.total);
}

/* Random samples over fake functions and unsymbolised addresses, in task
 * code and in handlers, and foreign interrupts: every count matches a
 * model's, nothing is lost. */
static void test_randomized_against_model(void **state)
{
	uint64_t want[64] = { 0 }, want_h[64] = { 0 }, want_idle = 0, want_irq = 0;
	uint64_t want_nosym = 0, want_irq_nosym = 0;
	struct cub_prof_func top[128];
	struct cub_prof_totals t;
	unsigned entries, irq_entries;
	int n;

	(void)state;
	srand(12345);
	for (int round = 0; round < 20; round++) {
		memset(want, 0, sizeof(want));
		memset(want_h, 0, sizeof(want_h));
		want_idle = want_irq = want_nosym = want_irq_nosym = 0;
		entries = irq_entries = 0;
		start_synthetic();
		for (int i = 0; i < 5000; i++) {
			int r = rand() % 100, f = rand() % 64;
			uintptr_t pc = 0x1000 * (uintptr_t)(f + 1) + (uintptr_t)(rand() % 8) * 4;

			if (r < 10) {
				cubi_prof_sample(pc, CUB_ARCH_SAMPLE_IDLE);
				want_idle++;
			} else if (r < 15) {	/* 2 offsets: the table stays 2/3 full */
				cubi_prof_sample(pc & ~(uintptr_t)0x18, CUB_ARCH_SAMPLE_IRQ);
				want_irq++;
				want_h[f]++;
			} else if (r < 17) {
				cubi_prof_sample(r == 15 ? 0 : 0x100000, CUB_ARCH_SAMPLE_IRQ);
				want_irq++;
				want_irq_nosym++;
			} else if (r < 18) {
				cubi_prof_sample(pc, CUB_ARCH_SAMPLE_FOREIGN);
			} else if (r < 20) {
				cubi_prof_sample(0x100000 + (uintptr_t)(rand() % 32),
						 CUB_ARCH_SAMPLE_TASK);
				want_nosym++;
			} else {
				cubi_prof_sample(pc, CUB_ARCH_SAMPLE_TASK);
				want[f]++;
			}
		}
		assert_int_equal(cub_prof_stop(), 0);
		n = cub_prof_collect(top, 128, &t);
		for (int f = 0; f < 64; f++) {
			entries += (want[f] > 0) + (want_h[f] > 0);
			irq_entries += want_h[f] > 0;
		}
		assert_int_equal(n, entries);
		assert_int_equal(t.irq_funcs, irq_entries);
		assert_int_equal(t.idle, want_idle);
		assert_int_equal(t.irq, want_irq);
		assert_int_equal(t.nosym, want_nosym);
		assert_int_equal(t.irq_nosym, want_irq_nosym);
		assert_int_equal(t.other, 0);
		assert_int_equal(t.irq_other, 0);
		assert_int_equal(t.total + t.foreign, 5000);
		assert_true(t.foreign > 0);
		for (int i = 0; i < n; i++) {
			const uint64_t *w = top[i].irq ? want_h : want;

			assert_int_equal(top[i].samples, w[top[i].addr / 0x1000 - 1]);
			if (i)
				assert_true(top[i - 1].samples >= top[i].samples);
		}
	}
}

static void print_report(void)
{
	cub_prof_report(3);
}

static void test_report_text(void **state)
{
	struct outcome o;

	(void)state;
	start_synthetic();
	for (int i = 0; i < 3; i++)
		cubi_prof_sample(0x2000, CUB_ARCH_SAMPLE_TASK);
	cubi_prof_sample(0x2000, CUB_ARCH_SAMPLE_IDLE);
	for (int i = 0; i < 2; i++)
		cubi_prof_sample(0x4008, CUB_ARCH_SAMPLE_IRQ);
	cubi_prof_sample(0x99999, CUB_ARCH_SAMPLE_IRQ);
	cubi_prof_sample(0x2000, CUB_ARCH_SAMPLE_FOREIGN);
	assert_int_equal(cub_prof_stop(), 0);
	run_here(print_report, &o);
	assert_int_equal(o.status, NO_EXIT);
	assert_non_null(strstr(o.text, "prof: 7 samples at 1 Hz over 0 ms, 2 functions (1 [irq])\n"));
	assert_non_null(strstr(o.text, "    #1        3  42.9%  f1\n"));
	assert_non_null(strstr(o.text, "    #2        2  28.6%  f3 [irq]\n"));
	assert_non_null(strstr(o.text, "              1  14.3%  (idle)\n"));
	assert_non_null(strstr(o.text, "              3  42.9%  (interrupt handlers)\n"));
	assert_non_null(strstr(o.text, "              1  14.3%  (no symbol)\n"));
	assert_non_null(strstr(o.text, "              7 100.0%  (total)\n"));
	assert_non_null(strstr(o.text, "prof: 1 interrupts were no sampling tick (not counted)\n"));
}

static const char *boot_line;

static void boot_and_exit(void)
{
	cubi_prof_boot(boot_line);
	cub_exit(7);
}

static void test_boot_switch(void **state)
{
	static const char *const bad[] = {
		"CUBRT_PROF=0", "CUBRT_PROF=", "CUBRT_PROF=abc", "x CUBRT_PROF=10001",
		"CUBRT_PROF=99999999999999999999", "CUBRT_PROF=12x",
	};
	struct outcome o;

	(void)state;
	boot_line = "one CUBRT_PROF=500 two";
	run_here(boot_and_exit, &o);
	assert_int_equal(o.status, 7);
	assert_non_null(strstr(o.text, "prof: sampling at 500 Hz until exit"));
	assert_non_null(strstr(o.text, "(total)"));
	assert_false(cub_prof_running());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		boot_line = bad[i];
		run_here(boot_and_exit, &o);
		assert_int_equal(o.status, 7);
		assert_non_null(strstr(o.text, "prof: CUBRT_PROF wants a rate of 1..10000 Hz"));
		assert_null(strstr(o.text, "(total)"));
		assert_false(cub_prof_running());
	}
	boot_line = "CUBRT_PROFX=5 NOT_CUBRT_PROF=5";
	run_here(boot_and_exit, &o);
	assert_string_equal(o.text, "");
	assert_false(cub_prof_running());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_busy_function_dominates, teardown),
		cmocka_unit_test_teardown(test_idle_when_everything_sleeps, teardown),
		cmocka_unit_test_teardown(test_handler_by_function, teardown),
		cmocka_unit_test_teardown(test_foreign_sigprof, teardown),
		cmocka_unit_test_teardown(test_stop_stops, teardown),
		cmocka_unit_test_teardown(test_bad_arguments, teardown),
		cmocka_unit_test_teardown(test_merge_and_kinds, teardown),
		cmocka_unit_test_teardown(test_irq_by_function, teardown),
		cmocka_unit_test_teardown(test_foreign_not_samples, teardown),
		cmocka_unit_test_teardown(test_full_table_counts_other, teardown),
		cmocka_unit_test_teardown(test_full_table_irq_other, teardown),
		cmocka_unit_test_teardown(test_randomized_against_model, teardown),
		cmocka_unit_test_teardown(test_report_text, teardown),
		cmocka_unit_test_teardown(test_boot_switch, teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
