/*
 * test_panic.c - unit tests for src/core/panic.c: cub_exit, cub_panic,
 * CUB_ASSERT, cub_strerror and the fault-report helpers of fault.h
 * (hooks, static guards, address printing, frame-pointer backtraces).
 *
 * The host platform's test hooks catch the exit: cubi_host_set_exit_hook()
 * makes cub_arch_exit() longjmp back here with the status, and
 * cubi_host_capture_console() collects the report text. A panic is once
 * per process (the second one is "nested") and hooks/guards are global,
 * so every scenario that changes such state runs in a forked child, which
 * sends back its exit status, its irq flag and its console text.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>

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

#define NO_EXIT (-1000)	/* the scenario returned instead of exiting */
#define TEXT_MAX 8192

struct outcome {
	int status;		/* exit status, or NO_EXIT */
	bool irq_on;		/* interrupt flag after the scenario */
	char text[TEXT_MAX];	/* console output */
};

static jmp_buf exit_jmp;
static int exit_status;

static void catch_exit(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

/* Runs fn in this process with exit caught and the console captured. */
static void run_here(void (*fn)(void), struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->status = NO_EXIT;
	cub_arch_irq_enable();
	cubi_host_capture_console(o->text, sizeof(o->text));
	cubi_host_set_exit_hook(catch_exit);
	if (!setjmp(exit_jmp))
		fn();
	else
		o->status = exit_status;
	cubi_host_set_exit_hook(NULL);
	cubi_host_capture_console(NULL, 0);
	o->irq_on = cub_arch_irq_enabled();
	cub_arch_irq_enable();
}

static void read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		assert_true(r > 0);
		c += r;
		n -= (size_t)r;
	}
}

/*
 * Runs fn like run_here() but in a fresh child process. With real_exit
 * the exit hook stays unset, so cub_arch_exit() really ends the child and
 * the status comes from waitpid (the text is then not collected).
 */
static void run_child(void (*fn)(void), struct outcome *o, bool real_exit)
{
	int fds[2], ws;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static struct outcome co;

		close(fds[0]);
		if (real_exit) {
			cubi_host_capture_console(co.text, sizeof(co.text));
			fn();
			_exit(99);	/* fn returned: never a valid status here */
		}
		run_here(fn, &co);
		if (write(fds[1], &co, sizeof(co)) != (ssize_t)sizeof(co))
			_exit(98);
		_exit(0);
	}
	close(fds[1]);
	memset(o, 0, sizeof(*o));
	if (!real_exit)
		read_all(fds[0], o, sizeof(*o));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	if (real_exit)
		o->status = WEXITSTATUS(ws);
	else
		assert_int_equal(WEXITSTATUS(ws), 0);
}

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
		cmocka_unit_test(test_guard_owner),
		cmocka_unit_test(test_too_many_guards),
		cmocka_unit_test(test_print_context),
		cmocka_unit_test(test_print_addr),
		cmocka_unit_test(test_backtrace_chain),
		cmocka_unit_test(test_backtrace_stops),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
