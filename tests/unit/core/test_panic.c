/*
 * test_panic.c - unit tests for src/core/panic.c: cub_exit, cub_panic
 * (the report, nesting, the coroutine hook), CUB_ASSERT and cub_strerror.
 * Exits are caught and reports captured through catch.h.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>

#include "catch.h"
#include "fault.h"
#include "host.h"

/* ---- cub_exit ---- */

static int exit_arg;

static void do_exit(void)
{
	cub_exit(exit_arg);
}

static void test_exit_in_range(void **state)
{
	static const int ok[] = { 0, 1, 42, CUB_EXIT_MAX };
	struct outcome o;

	(void)state;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(ok); i++) {
		exit_arg = ok[i];
		run_here(do_exit, &o);
		assert_int_equal(o.status, ok[i]);
		assert_string_equal(o.text, "");	/* exits silently */
	}
}

static void test_exit_out_of_range(void **state)
{
	static const int bad[] = {
		CUB_EXIT_MAX + 1, 124, CUB_EXIT_FAULT, 126, 127, 255, 256,
		-1, -125, INT_MIN, INT_MAX,
	};
	struct outcome o;
	char want[128];

	(void)state;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(bad); i++) {
		exit_arg = bad[i];
		run_here(do_exit, &o);
		assert_int_equal(o.status, CUB_EXIT_FAULT);
		snprintf(want, sizeof(want),
			 "cub_exit: status %d is outside 0..123\n", bad[i]);
		assert_string_equal(o.text, want);
	}
}

/* Without the hook the process really ends, with the same statuses. */
static void test_exit_real_process(void **state)
{
	struct outcome o;

	(void)state;
	exit_arg = 7;
	run_child(do_exit, &o, true);
	assert_int_equal(o.status, 7);
	exit_arg = 0;
	run_child(do_exit, &o, true);
	assert_int_equal(o.status, 0);
	exit_arg = 300;
	run_child(do_exit, &o, true);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
}

static void do_fault_exit(void)
{
	cubi_fault_exit();
}

static void test_fault_exit(void **state)
{
	struct outcome o;

	(void)state;
	run_here(do_fault_exit, &o);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_string_equal(o.text, "");
}

/* ---- cub_panic ---- */

#define REPORT_HEAD "\n*** cubrt panic ***\npanic: "

static void do_panic(void)
{
	cub_panic("boom %d %s|%5s|%c", 42, "here", "pad", '!');
}

/* Every line after "backtrace:" is a numbered frame or the "..." marker. */
static void assert_backtrace_lines(const char *bt)
{
	int frame = 0;

	assert_non_null(bt);
	bt = strchr(bt, '\n') + 1;
	while (*bt) {
		char want[32];
		const char *nl = strchr(bt, '\n');

		assert_non_null(nl);
		if (!strcmp(bt, "  ...\n"))
			break;
		snprintf(want, sizeof(want), "  #%-2d 0x", frame++);
		assert_memory_equal(bt, want, strlen(want));
		bt = nl + 1;
	}
}

static void test_panic_report(void **state)
{
	struct outcome o;
	const char *head = REPORT_HEAD "boom 42 here|  pad|!\n"
			   "  coroutine: (none: boot context)\n"
			   "backtrace:\n";

	(void)state;
	run_child(do_panic, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_false(o.irq_on);		/* a panic disables interrupts */
	assert_memory_equal(o.text, head, strlen(head));
	assert_backtrace_lines(strstr(o.text, "backtrace:\n"));
}

static void test_panic_real_process(void **state)
{
	struct outcome o;

	(void)state;
	run_child(do_panic, &o, true);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
}

static const char *worker_name(void)
{
	return "worker-3";
}

static void do_panic_named(void)
{
	struct cubi_fault_hooks h = { .current_name = worker_name };

	cubi_fault_set_hooks(&h);
	cub_panic("in a coroutine");
}

static void test_panic_names_coroutine(void **state)
{
	struct outcome o;
	const char *head = REPORT_HEAD "in a coroutine\n"
			   "  coroutine: worker-3\nbacktrace:\n";

	(void)state;
	run_child(do_panic_named, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_memory_equal(o.text, head, strlen(head));
}

/* A hook that panics while the report is printed: a nested panic. */
static const char *panicking_name(void)
{
	cub_panic("inner");
}

static void do_nested_panic(void)
{
	struct cubi_fault_hooks h = { .current_name = panicking_name };

	cubi_fault_set_hooks(&h);
	cub_panic("outer %d", 1);
}

static void test_nested_panic(void **state)
{
	struct outcome o;

	(void)state;
	run_child(do_nested_panic, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_string_equal(o.text, REPORT_HEAD "outer 1\n"
			    "\npanic: nested panic, giving up\n");
}

/* A second panic after one was caught is also "nested": once per process. */
static jmp_buf first_jmp;

static void catch_first(int status)
{
	(void)status;
	longjmp(first_jmp, 1);
}

static void do_two_panics(void)
{
	if (!setjmp(first_jmp)) {
		cubi_host_set_exit_hook(catch_first);
		cub_panic("first");
	}
	cubi_host_set_exit_hook(catch_exit);
	cub_puts("[caught]");
	cub_panic("second");
}

static void test_second_panic(void **state)
{
	struct outcome o;
	const char *tail = "[caught]\npanic: nested panic, giving up\n";
	size_t len;

	(void)state;
	run_child(do_two_panics, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_memory_equal(o.text, REPORT_HEAD "first\n",
			    strlen(REPORT_HEAD "first\n"));
	len = strlen(o.text);
	assert_true(len > strlen(tail));
	assert_string_equal(o.text + len - strlen(tail), tail);
}

static void do_assert_fail(void)
{
	int x = 2;

	CUB_ASSERT(x + x == 5);
}
static const int assert_line = __LINE__ - 2;	/* the CUB_ASSERT above */

static void test_assert_fails(void **state)
{
	struct outcome o;
	char want[256];

	(void)state;
	run_child(do_assert_fail, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	snprintf(want, sizeof(want), REPORT_HEAD "assertion failed: x + x == 5 "
		 "(%s:%d, do_assert_fail)\n", __FILE__, assert_line);
	assert_memory_equal(o.text, want, strlen(want));
}

static void do_assert_pass(void)
{
	int calls = 0;

	CUB_ASSERT(++calls == 1);	/* evaluated exactly once */
	CUB_ASSERT(calls == 1);
	cub_printk("calls=%d\n", calls);
}

static void test_assert_passes(void **state)
{
	struct outcome o;

	(void)state;
	run_here(do_assert_pass, &o);
	assert_int_equal(o.status, NO_EXIT);
	assert_string_equal(o.text, "calls=1\n");
}

/* ---- cub_strerror ---- */

static void test_strerror(void **state)
{
	static const struct {
		int code;
		const char *name;
	} all[] = {
		{ CUB_EPERM, "EPERM" }, { CUB_ENOENT, "ENOENT" },
		{ CUB_ESRCH, "ESRCH" }, { CUB_EINTR, "EINTR" },
		{ CUB_EIO, "EIO" }, { CUB_EBADF, "EBADF" },
		{ CUB_EAGAIN, "EAGAIN" }, { CUB_ENOMEM, "ENOMEM" },
		{ CUB_EFAULT, "EFAULT" }, { CUB_EBUSY, "EBUSY" },
		{ CUB_EEXIST, "EEXIST" }, { CUB_EINVAL, "EINVAL" },
		{ CUB_ENOTTY, "ENOTTY" }, { CUB_ENOSPC, "ENOSPC" },
		{ CUB_EPIPE, "EPIPE" }, { CUB_ERANGE, "ERANGE" },
		{ CUB_EDEADLK, "EDEADLK" }, { CUB_ENOSYS, "ENOSYS" },
		{ CUB_ETIMEDOUT, "ETIMEDOUT" }, { CUB_ECANCELED, "ECANCELED" },
		{ CUB_EROFS, "EROFS" }, { CUB_EACCES, "EACCES" },
		{ CUB_ECONNREFUSED, "ECONNREFUSED" }, { CUB_EPROTO, "EPROTO" },
	};

	(void)state;
	for (size_t i = 0; i < CUB_ARRAY_SIZE(all); i++) {
		assert_string_equal(cub_strerror(-all[i].code), all[i].name);
		assert_string_equal(cub_strerror(all[i].code), all[i].name);
	}
	assert_string_equal(cub_strerror(0), "OK");
	assert_string_equal(cub_strerror(-6), "E?");
	assert_string_equal(cub_strerror(999), "E?");
	assert_string_equal(cub_strerror(-999), "E?");
	assert_string_equal(cub_strerror(INT_MAX), "E?");
	assert_string_equal(cub_strerror(-INT_MAX), "E?");
	assert_string_equal(cub_strerror(INT_MIN), "E?");	/* no overflow */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_in_range),
		cmocka_unit_test(test_exit_out_of_range),
		cmocka_unit_test(test_exit_real_process),
		cmocka_unit_test(test_fault_exit),
		cmocka_unit_test(test_panic_report),
		cmocka_unit_test(test_panic_real_process),
		cmocka_unit_test(test_panic_names_coroutine),
		cmocka_unit_test(test_nested_panic),
		cmocka_unit_test(test_second_panic),
		cmocka_unit_test(test_assert_fails),
		cmocka_unit_test(test_assert_passes),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
