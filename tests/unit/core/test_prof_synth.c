/*
 * test_prof_synth.c - the sampling profiler (src/core/prof.c) fed
 * synthetic samples (the sample hook called directly, over the fake
 * symbols of prof_fake.h): merging into functions and the kinds of
 * sample, interrupt-handler samples by function, interrupts that were no
 * sampling tick, the full table's "other" in either context, a
 * randomized comparison with a model count, and the report's text.
 */
#define _GNU_SOURCE

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/panic.h>
#include <cubrt/prof.h>

#include "catch.h"
#include "host.h"
#include "prof_impl.h"
#include "prof_fake.h"

static int setup(void **state)
{
	(void)state;
	fake_names_init();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (cub_prof_running())
		cub_prof_stop();
	return 0;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_merge_and_kinds, teardown),
		cmocka_unit_test_teardown(test_irq_by_function, teardown),
		cmocka_unit_test_teardown(test_foreign_not_samples, teardown),
		cmocka_unit_test_teardown(test_full_table_counts_other, teardown),
		cmocka_unit_test_teardown(test_full_table_irq_other, teardown),
		cmocka_unit_test_teardown(test_randomized_against_model, teardown),
		cmocka_unit_test_teardown(test_report_text, teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
