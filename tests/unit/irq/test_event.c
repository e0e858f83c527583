/*
 * test_event.c - unit tests for cub_irq_event (src/irq/event.c) and the
 * argument checks of cub_console_read (src/irq/console.c), on the host
 * scheduler: wake-ups from coroutines and from the host's emulated
 * interrupt, pending signals, coalescing, and the panics for misuse
 * (waiting in irq context, two waiters), which run in child processes so
 * the parent sees their exit status and console text.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>

#include "host.h"
#include "host_irq.h"

static struct cub_irq_event ev;
static int wakes;

static void *waiter(void *arg)
{
	int n = (int)(intptr_t)arg;

	for (int i = 0; i < n; i++) {
		cub_irq_event_wait(&ev);
		wakes++;
	}
	return NULL;
}

static void *pending_main(void *arg)
{
	(void)arg;
	cub_irq_event_init(&ev, "test");
	cub_irq_event_signal(&ev);
	cub_irq_event_signal(&ev);	/* coalesces with the first */
	cub_irq_event_wait(&ev);	/* returns at once */
	return ev.pending ? "still pending" : NULL;
}

static void test_pending(void **state)
{
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(pending_main, NULL, &r), 0);
	assert_null(r);
}

static void *wake_main(void *arg)
{
	struct cub_coro *w;

	(void)arg;
	cub_irq_event_init(&ev, "test");
	wakes = 0;
	if (cub_coro_spawn(&w, waiter, (void *)(intptr_t)3, NULL))
		return "spawn";
	for (int i = 0; i < 3; i++) {
		cub_coro_yield();	/* let it park */
		if (ev.waiter != w)
			return "waiter not parked on the event";
		cub_irq_event_signal(&ev);
		cub_irq_event_signal(&ev);
	}
	cub_coro_join(w, NULL);
	return wakes == 3 ? NULL : "wrong wake count";
}

static void test_wake_from_coroutine(void **state)
{
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(wake_main, NULL, &r), 0);
	assert_null(r);
}

static void signal_from_irq(void)
{
	cub_irq_event_signal(&ev);
}

static void *irq_main(void *arg)
{
	struct cub_coro *w;

	(void)arg;
	cub_irq_event_init(&ev, "test");
	wakes = 0;
	if (cub_coro_spawn(&w, waiter, (void *)(intptr_t)1, NULL))
		return "spawn";
	cub_coro_yield();
	cubi_host_irq_set_deliver(signal_from_irq);
	cubi_host_irq_run();		/* an "interrupt" signals the event */
	cubi_host_irq_set_deliver(NULL);
	cub_coro_join(w, NULL);
	return wakes == 1 ? NULL : "not woken";
}

static void test_wake_from_irq(void **state)
{
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(irq_main, NULL, &r), 0);
	assert_null(r);
}

static void *console_args_main(void *arg)
{
	char c;

	(void)arg;
	if (cub_console_read(NULL, 1) != -CUB_EINVAL)
		return "NULL buffer accepted";
	if (cub_console_read(&c, 0) != 0)
		return "empty read";
	return NULL;
}

static void test_console_read_args(void **state)
{
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(console_args_main, NULL, &r), 0);
	assert_null(r);
}

/* ------------------------------------------ misuse, in a fresh process */

/*
 * Each misuse scenario runs in a freshly exec'd copy of this program (a
 * forked child would share the host heap arena, a MAP_SHARED memfd, with
 * the parent and corrupt its view of it). The child captures its console
 * and writes it to stdout, a pipe to the parent, when it exits.
 */
static char console[4096];
static const char *self;	/* argv[0] (not /proc/self/exe: valgrind) */

static void child_exit(int status)
{
	if (write(1, console, strlen(console)) < 0)
		_exit(99);
	_exit(status);
}

static int in_child(const char *scenario, char *out, size_t n)
{
	int p[2], st;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		execl(self, self, scenario, (char *)NULL);
		_exit(98);
	}
	close(p[1]);
	while (got + 1 < n && (r = read(p[0], out + got, n - 1 - got)) > 0)
		got += (size_t)r;
	out[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void wait_in_irq(void)
{
	cub_irq_event_wait(&ev);
}

static void *irq_wait_main(void *arg)
{
	(void)arg;
	cub_irq_event_init(&ev, "test");
	cubi_host_irq_set_deliver(wait_in_irq);
	cubi_host_irq_run();
	return NULL;
}

static void test_wait_in_irq_panics(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(in_child("wait-in-irq", out, sizeof(out)), CUB_EXIT_FAULT);
	assert_non_null(strstr(out, "cub_irq_event_wait: blocking call from "
				    "interrupt context"));
}

static void *second_waiter(void *arg)
{
	(void)arg;
	cub_irq_event_wait(&ev);
	return NULL;
}

static void *two_waiters_main(void *arg)
{
	(void)arg;
	cub_irq_event_init(&ev, "test");
	cub_coro_spawn(NULL, second_waiter, NULL, NULL);
	cub_coro_yield();
	cub_irq_event_wait(&ev);	/* the second waiter: panics */
	return NULL;
}

static void test_two_waiters_panic(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(in_child("two-waiters", out, sizeof(out)), CUB_EXIT_FAULT);
	assert_non_null(strstr(out, "cub_irq_event_wait: test already has a waiter"));
}

/* A child scenario (argv[1]) or the cmocka tests. */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_wake_from_coroutine),
		cmocka_unit_test(test_wake_from_irq),
		cmocka_unit_test(test_console_read_args),
		cmocka_unit_test(test_wait_in_irq_panics),
		cmocka_unit_test(test_two_waiters_panic),
	};

	self = argv[0];
	if (argc == 2) {
		cubi_host_capture_console(console, sizeof(console));
		cubi_host_set_exit_hook(child_exit);
		cub_sched_run(strcmp(argv[1], "two-waiters") ? irq_wait_main :
			      two_waiters_main, NULL, NULL);
		child_exit(0);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
