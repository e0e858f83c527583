/*
 * test_fiber - host builds with AddressSanitizer: every context switch is
 * told to ASan (platform/host/fiber.c). Skipped (77) without ASan.
 *  - after every kind of switch (a spawn's first run, yield, a park and
 *    its wake-up by channel and by mutex, a join's tail-call park, a
 *    coroutine's end, preemption from the irq-exit trampoline, the switch
 *    back to the boot context) ASan's stack is the one running: a
 *    noreturn call (__asan_handle_no_return, which unpoisons the stack
 *    from the stack pointer to ASan's idea of the stack's top) clears a
 *    poisoned probe in the running frame and leaves alone the one in the
 *    coroutine switched away from;
 *  - a coroutine that ends by cub_coro_exit deep inside instrumented
 *    frames leaves no poison on its stack: the next coroutine, on the
 *    same recycled stack, finds it all unpoisoned and uses locals there
 *    from an uninstrumented frame through memset (checked by ASan's
 *    interceptor) without a report;
 *  - a run of coroutines ending by noreturn calls prints no "ignoring
 *    requested __asan_handle_no_return" (checked in a child's stderr);
 *  - an ASan report from inside a coroutine unwinds the coroutine's own
 *    frames and describes the bad address as a stack variable (a child,
 *    its stderr read back).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cubrt/arch_fiber.h>
#include <cubrt/chan.h>
#include <cubrt/sched.h>
#include <cubrt/sync.h>

#include "sched_hooks.h"

#ifdef CUB_ARCH_FIBERS
#include <sanitizer/asan_interface.h>

#define NO_ASAN __attribute__((no_sanitize("address"), noinline))
#define PROBE 64	/* bytes; ASan poisons in 8-byte granules */

/* -------------------------------------------------- stack after a switch */

/* The probe (a frame's local, poisoned by its owner) of the coroutine
 * that ran before the one checking; NULL when it ended. */
static char *other_probe;
static int checks;

static NO_ASAN void no_return_here(void)
{
	__asan_handle_no_return();	/* what a noreturn call runs first */
}

/* Called from a NO_ASAN frame holding mine[PROBE] (a real frame on the
 * real stack: no fake stack, no redzones). */
static NO_ASAN void check_stack(char *mine, const char *what)
{
	__asan_poison_memory_region(mine, PROBE);
	no_return_here();
	if (__asan_region_is_poisoned(mine, PROBE))
		fail_msg("after %s: ASan does not know the running stack", what);
	if (other_probe && !__asan_address_is_poisoned(other_probe))
		fail_msg("after %s: ASan unpoisoned the stack switched away "
			 "from", what);
	checks++;
}

/* Makes mine the probe the next coroutine to run checks against. */
static NO_ASAN void leave_probe(char *mine)
{
	__asan_poison_memory_region(mine, PROBE);
	other_probe = mine;
}

/* Clears a probe before its frame returns (its owner's frame, about to
 * end: nothing of it is left to compare after the switch that ends it). */
static NO_ASAN void drop_probe(char *mine)
{
	__asan_unpoison_memory_region(mine, PROBE);
	other_probe = NULL;
}

static struct cub_mutex mu;
static struct cub_chan *ch;
static volatile bool spin_go, main_back;

/* Spawned: checks its first run, then a switch back to it that main's
 * join (a tail-call park) makes. */
static NO_ASAN void *first_run_then_yield(void *arg)
{
	_Alignas(16) char mine[PROBE];

	(void)arg;
	check_stack(mine, "a spawn's first run");
	leave_probe(mine);
	cub_coro_yield();
	check_stack(mine, "a join's park");
	drop_probe(mine);
	return NULL;
}

/* Parks on the channel (a tail-call park) and on the mutex (a plain
 * park): main wakes it each time. */
static NO_ASAN void *parker(void *arg)
{
	_Alignas(16) char mine[PROBE];
	int v;

	(void)arg;
	leave_probe(mine);
	assert_int_equal(cub_chan_recv(ch, &v), 1);
	check_stack(mine, "a wake-up from a channel receive");
	leave_probe(mine);
	cub_mutex_lock(&mu);
	check_stack(mine, "a wake-up from a mutex lock");
	cub_mutex_unlock(&mu);
	drop_probe(mine);
	return NULL;
}

/* Spins until preempted and main ran: the switch back into it comes
 * from the irq-exit trampoline. */
static NO_ASAN void *spinner(void *arg)
{
	_Alignas(16) char mine[PROBE];

	(void)arg;
	leave_probe(mine);
	spin_go = true;
	while (!main_back)
		;
	check_stack(mine, "a preemption");
	drop_probe(mine);
	return NULL;
}

static void *ender(void *arg)
{
	(void)arg;
	return NULL;
}

/* The sequence of switches; each check names the switch that led to it,
 * other_probe the coroutine that switch left. */
static NO_ASAN void *switches_main(void *arg)
{
	_Alignas(16) char mine[PROBE];
	struct cub_coro *c;
	int v = 1;

	(void)arg;
	check_stack(mine, "the first switch from boot");
	/* A first run, a yield back, a join's park, an end (by jump). */
	assert_int_equal(cub_coro_spawn(&c, first_run_then_yield, NULL, NULL), 0);
	leave_probe(mine);
	cub_coro_yield();
	check_stack(mine, "a yield");
	leave_probe(mine);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	check_stack(mine, "a joined coroutine's end");
	/* Parks and wake-ups. */
	cub_mutex_init(&mu);
	assert_int_equal(cub_chan_new(&ch, sizeof(int), 0), 0);
	cub_mutex_lock(&mu);
	assert_int_equal(cub_coro_spawn(&c, parker, NULL, NULL), 0);
	cub_coro_yield();		/* parker parks in recv */
	check_stack(mine, "a channel receive's park");
	leave_probe(mine);
	assert_int_equal(cub_chan_send(ch, &v), 0);
	cub_coro_yield();		/* parker parks in mutex_lock */
	check_stack(mine, "a mutex's park");
	cub_mutex_unlock(&mu);
	leave_probe(mine);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	check_stack(mine, "a joined coroutine's end");
	assert_int_equal(cub_chan_free(ch), 0);
	/* An end with nothing of the ended coroutine left to compare. */
	other_probe = NULL;
	assert_int_equal(cub_coro_spawn(&c, ender, NULL, NULL), 0);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	check_stack(mine, "a joined coroutine's end");
	/* Preemption, both ways: main spins until the spinner started. */
	spin_go = main_back = false;
	cubi_preempt_set_slice(2000000);
	assert_int_equal(cub_coro_spawn(&c, spinner, NULL, NULL), 0);
	leave_probe(mine);
	while (!spin_go)
		;
	main_back = true;
	check_stack(mine, "a preemption of main");
	leave_probe(mine);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	cubi_preempt_set_slice(0);
	check_stack(mine, "a joined coroutine's end");
	drop_probe(mine);
	return NULL;
}

static NO_ASAN void test_every_switch(void **state)
{
	_Alignas(16) char mine[PROBE];

	(void)state;
	checks = 0;
	other_probe = NULL;
	assert_int_equal(cub_sched_run(switches_main, NULL, NULL), 0);
	check_stack(mine, "the switch back to the boot context");
	__asan_unpoison_memory_region(mine, PROBE);
	assert_int_equal(checks, 15);
}

/* ------------------------------------------------ a recycled stack */

#define BIG 40000		/* of the coroutine's 64 KiB stack */
#define STALE 12288		/* below the deepest frame: past what the
				 * noreturn call itself unpoisons (from a
				 * page below its stack pointer) */

static volatile uintptr_t deep_at, reuse_at;
static volatile bool exit_deep = true;	/* always: a way out for gcc's
					 * -Winfinite-recursion */

/* Instrumented frames with poisoned redzones around their arrays; the
 * deepest ends the coroutine from inside them all, after poisoning a
 * stretch further down as a frame abandoned there would have. */
static __attribute__((noinline)) void die_deep(int depth)
{
	volatile char pad[200];

	pad[depth % 200] = (char)depth;
	if (depth == 0) {
		deep_at = (uintptr_t)&pad[0];
		__asan_poison_memory_region((char *)deep_at - STALE, 1024);
		if (exit_deep)
			cub_coro_exit(NULL);
		return;
	}
	die_deep(depth - 1);
	pad[0]++;
}

static void *dies_deep(void *arg)
{
	(void)arg;
	die_deep(20);
	return NULL;
}

/* Locals where the dead coroutine's redzones were, in a frame ASan does
 * not set up, handed to memset (its interceptor checks the range). */
static NO_ASAN void use_locals(char *base, size_t len)
{
	memset(base, 0x5a, len);
}

static NO_ASAN void *reuses(void *arg)
{
	char big[BIG];

	(void)arg;
	reuse_at = (uintptr_t)big;
	if (__asan_region_is_poisoned(big, sizeof(big)))
		fail_msg("a recycled stack still carries poison");
	use_locals(big, sizeof(big));
	return NULL;
}

static void *recycle_main(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	assert_int_equal(cub_coro_spawn(NULL, dies_deep, NULL, NULL), 0);
	cub_coro_yield();		/* it ran and ended; main freed it */
	assert_int_equal(cub_coro_spawn(&c, reuses, NULL, NULL), 0);
	assert_int_equal(cub_coro_join(c, NULL), 0);
	return NULL;
}

static void test_recycled_stack(void **state)
{
	(void)state;
	deep_at = reuse_at = 0;
	assert_int_equal(cub_sched_run(recycle_main, NULL, NULL), 0);
	/* The same stack (the record cache is LIFO), and both the dead
	 * frames and the stretch below them lay inside the range checked. */
	assert_true(deep_at > reuse_at && deep_at < reuse_at + BIG);
	assert_true(deep_at - STALE >= reuse_at);
}

/* ------------------------------------------------------ child processes */

/* Runs this program again in a child, as `test_fiber mode` (a fresh
 * process: ASan prints its warning once per process) with its stderr
 * into a file; returns its status and the text (NUL-terminated) in buf.
 * No symbolizer: the trace is checked by address, and a symbolizer
 * process would inherit stderr. */
static int in_child(const char *mode, char *buf, size_t cap)
{
	FILE *f = tmpfile();
	int status = 0;
	size_t got;
	pid_t pid;

	assert_non_null(f);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(f), 2);
		setenv("ASAN_OPTIONS", "symbolize=0", 1);
		execl("/proc/self/exe", "test_fiber", mode, (char *)NULL);
		_exit(99);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rewind(f);
	got = fread(buf, 1, cap - 1, f);
	buf[got] = '\0';
	fclose(f);
	return status;
}

static char report[65536];

static void *exits_nested(void *arg)
{
	die_deep((int)(intptr_t)arg);
	return NULL;
}

static void *many_endings(void *arg)
{
	(void)arg;
	for (int i = 0; i < 50; i++)
		cub_coro_spawn(NULL, exits_nested, (void *)(intptr_t)(i % 7), NULL);
	return NULL;
}

static int run_endings(void)
{
	return cub_sched_run(many_endings, NULL, NULL) ? 3 : 0;
}

static void test_no_ignored_no_return(void **state)
{
	int st;

	(void)state;
	st = in_child("endings", report, sizeof(report));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	if (strstr(report, "ignoring requested __asan_handle_no_return"))
		fail_msg("ASan warned: %s", report);
}

/* An overflowing read in a coroutine, three frames deep. */
static volatile int bad_index = 16;

/* UBSan's checks stay out (no_sanitize): its object-size check may see
 * the overflow first (a clean clone's host-asan build once did), and
 * with halt_on_error its report would be the only one. */
__attribute__((noinline, no_sanitize("undefined"))) int overflow_deep(void)
{
	volatile char buf[16], *p = buf;

	buf[0] = 1;
	return p[bad_index];
}

__attribute__((noinline)) int overflow_mid(void)
{
	return overflow_deep() + 1;
}

__attribute__((noinline)) void *overflow_coro(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)overflow_mid();
}

static int run_overflow(void)
{
	cub_sched_run(overflow_coro, NULL, NULL);
	return 0;
}

/* True when the report's trace has a frame in fn's first 512 bytes (all
 * three are far smaller). The child is another run of this program, so
 * frames are compared by their offset in it, "(program+0x...)". */
static bool trace_has(const char *text, void *fn)
{
	Dl_info info;
	uintptr_t lo;

	assert_true(dladdr(fn, &info) != 0);
	lo = (uintptr_t)fn - (uintptr_t)info.dli_fbase;
	for (const char *p = text; (p = strstr(p, "    #")); p++) {
		const char *x = strstr(p, "+0x");
		uintptr_t off;

		if (!x || sscanf(x, "+0x%lx", &off) != 1)
			continue;
		if (off > lo && off < lo + 512)
			return true;
	}
	return false;
}

static void test_report_in_coroutine(void **state)
{
	char *frames;
	int st;

	(void)state;
	st = in_child("overflow", report, sizeof(report));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		fail_msg("the child did not die of a report: %s", report);
	if (!strstr(report, "stack-buffer-overflow"))
		fail_msg("no stack-buffer-overflow report: %s", report);
	/* The access's trace (up to the description of the address). */
	frames = strstr(report, "is located in stack of thread");
	if (!frames)
		fail_msg("the address is not described as a stack's: %s", report);
	*frames = '\0';
	if (!trace_has(report, (void *)overflow_deep) ||
	    !trace_has(report, (void *)overflow_mid) ||
	    !trace_has(report, (void *)overflow_coro))
		fail_msg("the trace misses the coroutine's frames: %s", report);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_switch),
		cmocka_unit_test(test_recycled_stack),
		cmocka_unit_test(test_no_ignored_no_return),
		cmocka_unit_test(test_report_in_coroutine),
	};

	if (argc > 1)		/* a child of in_child */
		return strcmp(argv[1], "endings") ? run_overflow() : run_endings();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
#else
int main(void)
{
	return 77;	/* meson: skipped (no AddressSanitizer in this build) */
}
#endif
