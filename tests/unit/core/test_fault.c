/*
 * test_fault.c - unit tests for the fault-report helpers of src/core
 * (fault.h, implemented in panic.c): guard ranges and the guard-owner
 * hook, the coroutine-name hook, address printing and the frame-pointer
 * backtrace walker over synthetic frame chains.
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

/*
 * The host probes readability by handing the address to write(2), which
 * valgrind reports as an error for unmapped memory even though the probe
 * handles EFAULT. Under valgrind the walks that probe unmapped memory are
 * left out; the plain and sanitizer runs cover them.
 */
#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define REPORT_HEAD "\n*** cubrt panic ***\npanic: "

static const char *worker_name(void)
{
	return "worker-3";
}

/* ---- fault-report helpers ---- */

static bool hook_guard(uintptr_t addr, char *buf, size_t n)
{
	if (addr < 0x5000 || addr >= 0x6000)
		return false;
	cub_snprintf(buf, n, "co-%d", 7);
	return true;
}

static void show_owner(uintptr_t addr, size_t n)
{
	char name[32] = "untouched";
	bool r = cubi_fault_guard_owner(addr, name, n);

	cub_printk("%lx:%d:%s\n", (unsigned long)addr, r, r ? name : "-");
}

static void do_guards(void)
{
	struct cubi_fault_hooks none = { 0 };
	struct cubi_fault_hooks h = { .guard_owner = hook_guard };

	show_owner(0x1000, 32);			/* no guards at all */
	cubi_fault_add_guard(0x1000, 0x2000, "boot stack");
	cubi_fault_add_guard(0x5800, 0x5900, "irq stack");
	show_owner(0x0fff, 32);
	show_owner(0x1000, 32);
	show_owner(0x1fff, 32);
	show_owner(0x2000, 32);			/* hi is exclusive */
	show_owner(0x1000, 5);			/* name truncated to fit */
	show_owner(0x5000, 32);			/* no hook yet */
	cubi_fault_set_hooks(&h);
	cubi_fault_set_hooks(&none);		/* NULL fields keep the hook */
	show_owner(0x5000, 32);			/* the hook answers */
	show_owner(0x5800, 32);			/* static guards first */
	show_owner(0x6000, 32);
}

static void test_guard_owner(void **state)
{
	struct outcome o;

	(void)state;
	run_child(do_guards, &o, false);
	assert_int_equal(o.status, NO_EXIT);
	assert_string_equal(o.text,
		"1000:0:-\n"
		"fff:0:-\n"
		"1000:1:boot stack\n"
		"1fff:1:boot stack\n"
		"2000:0:-\n"
		"1000:1:boot\n"
		"5000:0:-\n"
		"5000:1:co-7\n"
		"5800:1:irq stack\n"
		"6000:0:-\n");
}

static void do_too_many_guards(void)
{
	for (int i = 0; i < 5; i++) {
		cub_printk("guard %d\n", i);
		cubi_fault_add_guard(0x10000u * (unsigned)(i + 1),
				     0x10000u * (unsigned)(i + 1) + 0x1000, "g");
	}
}

static void test_too_many_guards(void **state)
{
	struct outcome o;
	const char *head = "guard 0\nguard 1\nguard 2\nguard 3\nguard 4\n"
			   REPORT_HEAD "cubi_fault_add_guard: more than 4 static guards\n";

	(void)state;
	run_child(do_too_many_guards, &o, false);
	assert_int_equal(o.status, CUB_EXIT_FAULT);
	assert_memory_equal(o.text, head, strlen(head));
}

static const char *null_name(void)
{
	return NULL;
}

static void do_context(void)
{
	struct cubi_fault_hooks h = { .current_name = null_name };

	cubi_fault_print_context();
	cubi_fault_set_hooks(&h);		/* a hook may answer "none" */
	cubi_fault_print_context();
	h.current_name = worker_name;
	cubi_fault_set_hooks(&h);
	cubi_fault_print_context();
}

static void test_print_context(void **state)
{
	struct outcome o;

	(void)state;
	run_child(do_context, &o, false);
	assert_int_equal(o.status, NO_EXIT);
	assert_string_equal(o.text, "  coroutine: (none: boot context)\n"
				    "  coroutine: (none: boot context)\n"
				    "  coroutine: worker-3\n");
}

static void do_print_addr(void)
{
	cubi_print_addr(0x1234);
	cub_putc('|');
	cubi_print_addr(UINTPTR_MAX);
	cub_putc('|');
	cubi_print_addr(0);
}

static void test_print_addr(void **state)
{
	struct outcome o;

	(void)state;
	run_here(do_print_addr, &o);
	/* The host does not symbolise: plain 16-digit addresses. */
	assert_string_equal(o.text, "0x0000000000001234|0xffffffffffffffff|"
				    "0x0000000000000000");
}

/*
 * Synthetic frame chains: frame i is {saved rbp, return address} at
 * frames[2*i], so a chain moving up the array moves towards the stack top.
 */
#define NFRAMES 40
static uintptr_t frames[2 * NFRAMES + 2];
static uintptr_t bt_start;

static void link_frames(int n)
{
	for (int i = 0; i < n; i++) {
		frames[2 * i] = i + 1 < n ? (uintptr_t)&frames[2 * i + 2] : 0;
		frames[2 * i + 1] = 0x1000 + (uintptr_t)i;
	}
	bt_start = (uintptr_t)&frames[0];
}

static void do_backtrace(void)
{
	cubi_backtrace_print(bt_start);
}

static void expect_backtrace(int nframes, bool more)
{
	struct outcome o;
	char want[4096];
	size_t len;

	len = (size_t)snprintf(want, sizeof(want), "backtrace:\n");
	for (int i = 0; i < nframes; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len,
					"  #%-2d 0x%016lx\n", i, 0x1000UL + (unsigned long)i);
	if (more)
		snprintf(want + len, sizeof(want) - len, "  ...\n");
	run_here(do_backtrace, &o);
	assert_int_equal(o.status, NO_EXIT);
	assert_string_equal(o.text, want);
}

static void test_backtrace_chain(void **state)
{
	(void)state;
	link_frames(3);
	expect_backtrace(3, false);
	link_frames(1);
	expect_backtrace(1, false);
	/* 32 frames is the limit; deeper chains end in "...". */
	link_frames(32);
	expect_backtrace(32, false);
	link_frames(NFRAMES);
	expect_backtrace(32, true);
}

static void test_backtrace_stops(void **state)
{
	(void)state;
	/* No frame pointer, a misaligned one, an unmapped one. */
	bt_start = 0;
	expect_backtrace(0, false);
	link_frames(3);
	bt_start = (uintptr_t)&frames[0] + 1;
	expect_backtrace(0, false);
	if (!RUNNING_ON_VALGRIND) {
		bt_start = 0x1000;	/* below mmap_min_addr: never mapped */
		expect_backtrace(0, false);
	}
	/* A zero return address ends the walk before that frame. */
	link_frames(5);
	frames[2 * 2 + 1] = 0;
	expect_backtrace(2, false);
	/* A link that does not move up the stack (a loop) ends it after. */
	link_frames(5);
	frames[2 * 1] = (uintptr_t)&frames[0];
	expect_backtrace(2, false);
	link_frames(5);
	frames[2 * 1] = (uintptr_t)&frames[2];	/* points at itself */
	expect_backtrace(2, false);
	/* A link upwards into unreadable memory (here non-canonical, above
	 * user space) ends it after the frame holding it. */
	if (!RUNNING_ON_VALGRIND) {
		link_frames(5);
		frames[2 * 3] = (uintptr_t)0x800000000000ULL;
		expect_backtrace(4, false);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_owner),
		cmocka_unit_test(test_too_many_guards),
		cmocka_unit_test(test_print_context),
		cmocka_unit_test(test_print_addr),
		cmocka_unit_test(test_backtrace_chain),
		cmocka_unit_test(test_backtrace_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
