/*
 * catch.c - the scenario runners of catch.h (see there).
 */
#define _GNU_SOURCE
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

#include "catch.h"
#include "host.h"

static jmp_buf exit_jmp;
static int exit_status;

void catch_exit(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

void run_here(void (*fn)(void), struct outcome *o)
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

void run_child(void (*fn)(void), struct outcome *o, bool real_exit)
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
