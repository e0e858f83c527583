/*
 * test_irq.c - unit tests for the portable dispatch table (src/irq/irq.c):
 * registration, double registration, bad lines, unregistration, masking,
 * counters, the once-only unhandled report, spurious counting, runtime
 * lines, and the controller interface (a fake chip records what the table
 * asks of it).
 *
 * The table is global state, so each test uses its own lines; tests that
 * install a chip run last.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/irq.h>

#include "host.h"
#include "host_irq.h"
#include "irq_chip.h"

struct probe {
	int calls;
	bool in_irq;
};

static void on_irq(void *ctx)
{
	struct probe *p = ctx;

	p->calls++;
	p->in_irq = cub_irq_in_handler();
}

static void test_register_dispatch(void **state)
{
	struct probe p = { 0 };

	(void)state;
	assert_int_equal(cub_irq_register(3, on_irq, &p), 0);
	assert_int_equal(cub_irq_count(3), 0);
	cubi_irq_dispatch(3);
	cubi_irq_dispatch(3);
	assert_int_equal(p.calls, 2);
	assert_int_equal(cub_irq_count(3), 2);
	assert_int_equal(cub_irq_unregister(3), 0);
	cubi_irq_dispatch(3);
	assert_int_equal(p.calls, 2);		/* handler gone */
	assert_int_equal(cub_irq_count(3), 3);	/* still counted */
}

static void test_double_register(void **state)
{
	struct probe a = { 0 }, b = { 0 };

	(void)state;
	assert_int_equal(cub_irq_register(5, on_irq, &a), 0);
	assert_int_equal(cub_irq_register(5, on_irq, &b), -CUB_EBUSY);
	cubi_irq_dispatch(5);
	assert_int_equal(a.calls, 1);		/* the first keeps the line */
	assert_int_equal(b.calls, 0);
	assert_int_equal(cub_irq_unregister(5), 0);
	assert_int_equal(cub_irq_unregister(5), -CUB_ENOENT);
	assert_int_equal(cub_irq_register(5, on_irq, &b), 0);
	cubi_irq_dispatch(5);
	assert_int_equal(b.calls, 1);
	assert_int_equal(cub_irq_unregister(5), 0);
}

static void test_bad_line(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_stat st;

	(void)state;
	assert_int_equal(cub_irq_register(CUB_IRQ_LINES, on_irq, &p), -CUB_EINVAL);
	assert_int_equal(cub_irq_register(~0u, on_irq, &p), -CUB_EINVAL);
	assert_int_equal(cub_irq_register(6, NULL, &p), -CUB_EINVAL);
	assert_int_equal(cub_irq_unregister(CUB_IRQ_LINES), -CUB_EINVAL);
	assert_int_equal(cub_irq_mask(CUB_IRQ_LINES), -CUB_EINVAL);
	assert_int_equal(cub_irq_unmask(CUB_IRQ_LINES), -CUB_EINVAL);
	assert_int_equal(cub_irq_set_name(CUB_IRQ_LINES, "x"), -CUB_EINVAL);
	assert_int_equal(cub_irq_stat(CUB_IRQ_LINES, &st), -CUB_EINVAL);
	assert_int_equal(cub_irq_stat(6, NULL), -CUB_EINVAL);
	assert_int_equal(cub_irq_count(CUB_IRQ_LINES), 0);
	cubi_irq_dispatch(CUB_IRQ_LINES + 7);	/* counted, not fatal */
	assert_int_equal(p.calls, 0);
}

static void test_counters_and_stat(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_totals t0, t1;
	struct cub_irq_stat st;
	unsigned line = CUB_IRQ_VECTOR(0x90);

	(void)state;
	cub_irq_totals(&t0);
	assert_int_equal(cub_irq_register(line, on_irq, &p), 0);
	assert_int_equal(cub_irq_set_name(line, "probe"), 0);
	for (int i = 0; i < 10; i++)
		cubi_irq_dispatch(line);
	cubi_irq_spurious();
	cub_irq_totals(&t1);
	assert_int_equal(t1.total - t0.total, 11);
	assert_int_equal(t1.spurious - t0.spurious, 1);
	assert_int_equal(t1.unhandled - t0.unhandled, 0);
	assert_int_equal(cub_irq_stat(line, &st), 0);
	assert_int_equal(st.count, 10);
	assert_string_equal(st.name, "probe");
	assert_true(st.registered);
	assert_false(st.masked);
	assert_false(st.runtime);
	assert_int_equal(st.vector, -1);	/* no controller on the host */
	assert_int_equal(cub_irq_unregister(line), 0);
	assert_int_equal(cub_irq_stat(line, &st), 0);
	assert_false(st.registered);
	assert_int_equal(st.count, 10);
}

static void test_mask(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_totals t0, t1;

	(void)state;
	assert_int_equal(cub_irq_register(7, on_irq, &p), 0);
	assert_int_equal(cub_irq_mask(7), 0);
	assert_int_equal(cub_irq_mask(7), 0);	/* not nested */
	cub_irq_totals(&t0);
	cubi_irq_dispatch(7);			/* e.g. already in flight */
	cub_irq_totals(&t1);
	assert_int_equal(p.calls, 0);
	assert_int_equal(t1.unhandled - t0.unhandled, 1);
	assert_int_equal(cub_irq_unmask(7), 0);
	cubi_irq_dispatch(7);
	assert_int_equal(p.calls, 1);
	assert_int_equal(cub_irq_count(7), 2);
	assert_int_equal(cub_irq_unregister(7), 0);
}

static char console[4096];

static void test_unhandled_reported_once(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_totals t0, t1;

	(void)state;
	cub_irq_totals(&t0);
	cubi_host_capture_console(console, sizeof(console));
	cubi_irq_dispatch(9);
	cubi_irq_dispatch(9);
	cubi_irq_dispatch(9);
	cubi_irq_dispatch(CUB_IRQ_VECTOR(0x99));
	cubi_host_capture_console(NULL, 0);
	cub_irq_totals(&t1);
	assert_int_equal(t1.unhandled - t0.unhandled, 4);
	assert_int_equal(cub_irq_count(9), 3);
	assert_non_null(strstr(console, "unhandled interrupt on line 9"));
	assert_null(strstr(strstr(console, "line 9") + 1, "line 9"));
	assert_non_null(strstr(console, "unhandled interrupt on vector 0x99"));
	/* A handler ends the episode; the next one is reported again. */
	assert_int_equal(cub_irq_register(9, on_irq, &p), 0);
	cubi_irq_dispatch(9);
	assert_int_equal(p.calls, 1);
	assert_int_equal(cub_irq_unregister(9), 0);
	console[0] = 0;
	cubi_host_capture_console(console, sizeof(console));
	cubi_irq_dispatch(9);
	cubi_host_capture_console(NULL, 0);
	assert_non_null(strstr(console, "unhandled interrupt on line 9"));
}

static void deliver_line_10(void)
{
	cubi_irq_dispatch(10);
}

static void test_handler_context(void **state)
{
	struct probe p = { 0 };

	(void)state;
	/* Delivered as the host platform's emulated interrupt is. */
	assert_int_equal(cub_irq_register(10, on_irq, &p), 0);
	assert_false(cub_irq_in_handler());
	cubi_host_irq_set_deliver(deliver_line_10);
	cubi_host_irq_run();
	cubi_host_irq_set_deliver(NULL);
	assert_int_equal(p.calls, 1);
	assert_true(p.in_irq);
	assert_false(cub_irq_in_handler());
	assert_int_equal(cub_irq_unregister(10), 0);
}

static void test_runtime_line(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_stat st;

	(void)state;
	assert_int_equal(cubi_irq_register_runtime(11, on_irq, &p, "timer"), 0);
	assert_int_equal(cub_irq_register(11, on_irq, &p), -CUB_EPERM);
	assert_int_equal(cub_irq_unregister(11), -CUB_EPERM);
	assert_int_equal(cub_irq_mask(11), -CUB_EPERM);
	assert_int_equal(cub_irq_unmask(11), -CUB_EPERM);
	assert_int_equal(cub_irq_stat(11, &st), 0);
	assert_true(st.runtime);
	assert_string_equal(st.name, "timer");
	cubi_irq_dispatch(11);
	assert_int_equal(p.calls, 1);
}

static void test_save_restore(void **state)
{
	unsigned long a, b;

	(void)state;
	assert_true(cub_arch_irq_enabled());
	a = cub_irq_save();
	assert_false(cub_arch_irq_enabled());
	b = cub_irq_save();		/* nested */
	cub_irq_restore(b);
	assert_false(cub_arch_irq_enabled());
	cub_irq_restore(a);
	assert_true(cub_arch_irq_enabled());
}

/* A fake controller: lines 0..15 exist, vector 0xF0 is runtime-only. */
static int masked_calls, last_line = -1;
static bool last_masked;

static int fake_check(unsigned line, bool runtime)
{
	if (line < 16)
		return 0;
	return runtime && line == CUB_IRQ_VECTOR(0xF0) ? 0 : -CUB_EINVAL;
}

static void fake_set_masked(unsigned line, bool masked)
{
	masked_calls++;
	last_line = (int)line;
	last_masked = masked;
}

static int fake_vector(unsigned line)
{
	return line < 16 ? (int)(0x30 + line) : (int)(line - CUB_IRQ_DEVICE_LINES);
}

/* Lines 8..15 are level triggered. */
static bool fake_level(unsigned line)
{
	return line >= 8 && line < 16;
}

static const struct cubi_irq_chip fake = {
	"fake", fake_check, fake_set_masked, fake_vector, fake_level,
};

static void test_chip(void **state)
{
	struct probe p = { 0 };
	struct cub_irq_stat st;

	(void)state;
	cubi_irq_set_chip(&fake);
	assert_string_equal(cub_irq_controller(), "fake");
	assert_int_equal(cub_irq_register(20, on_irq, &p), -CUB_EINVAL);
	assert_int_equal(cub_irq_register(CUB_IRQ_VECTOR(0xF0), on_irq, &p),
			 -CUB_EINVAL);
	assert_int_equal(cubi_irq_register_runtime(CUB_IRQ_VECTOR(0xF0), on_irq,
						   &p, "tick"), 0);
	assert_int_equal(cub_irq_register(12, on_irq, &p), 0);
	assert_int_equal(last_line, 12);
	assert_false(last_masked);		/* registering unmasks */
	assert_int_equal(cub_irq_mask(12), 0);
	assert_true(last_masked);
	assert_int_equal(cub_irq_stat(12, &st), 0);
	assert_true(st.masked);
	assert_int_equal(st.vector, 0x3C);
	assert_int_equal(cub_irq_unmask(12), 0);
	assert_false(last_masked);
	masked_calls = 0;
	assert_int_equal(cub_irq_unregister(12), 0);
	assert_int_equal(masked_calls, 1);
	assert_true(last_masked);		/* unregistering masks */
	assert_int_equal(cub_irq_mask(20), -CUB_EINVAL);
	assert_int_equal(cub_irq_stat(20, &st), 0);
	assert_int_equal(st.vector, -1);	/* not routable */
}

static void test_level_unhandled_masked(void **state)
{
	struct cub_irq_stat st;

	(void)state;
	cubi_irq_set_chip(&fake);
	cubi_host_capture_console(console, sizeof(console));
	/* Edge-triggered line 3: counted, stays unmasked. */
	assert_int_equal(cub_irq_unmask(3), 0);
	cubi_irq_dispatch(3);
	assert_int_equal(cub_irq_stat(3, &st), 0);
	assert_false(st.masked);
	/* Level-triggered line 13: counted, reported, masked. */
	assert_int_equal(cub_irq_unmask(13), 0);
	assert_false(last_masked);
	cubi_irq_dispatch(13);
	cubi_host_capture_console(NULL, 0);
	assert_int_equal(cub_irq_stat(13, &st), 0);
	assert_true(st.masked);
	assert_true(last_masked);
	assert_int_equal(last_line, 13);
	assert_int_equal(st.count, 1);
	assert_non_null(strstr(console, "unhandled interrupt on line 13"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_dispatch),
		cmocka_unit_test(test_double_register),
		cmocka_unit_test(test_bad_line),
		cmocka_unit_test(test_counters_and_stat),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_unhandled_reported_once),
		cmocka_unit_test(test_handler_context),
		cmocka_unit_test(test_runtime_line),
		cmocka_unit_test(test_save_restore),
		cmocka_unit_test(test_chip),
		cmocka_unit_test(test_level_unhandled_masked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
