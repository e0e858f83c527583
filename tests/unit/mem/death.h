/*
 * death.h - run a function in a child process and check that it ends the
 * way a cubrt fault or panic does: exit status 125 (CUB_EXIT_FAULT) and
 * console output containing an expected text. Used by the tests of
 * src/mem for misuse panics and fault reports (each child starts from the
 * parent's state, so a panic cannot leave the parent's heap half-edited).
 */
#ifndef MEM_TEST_DEATH_H
#define MEM_TEST_DEATH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_mem.h"

/* Returns the child's exit status (or 1000 + signal) and its output. */
static inline int death_run(void (*fn)(void *), void *arg, char *out, size_t n)
{
	int fds[2], status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	fflush(stdout);
	if (pipe(fds))
		abort();
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		cubi_host_fault_init();	/* cmocka catches SIGSEGV too */
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	while (len + 1 < n && (r = read(fds[0], out + len, n - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

/*
 * cmocka check: fn(arg) dies with status 125 and prints `want`. Under
 * valgrind (scripts/test: --error-exitcode=99) the report's backtrace
 * probes stack words valgrind calls uninitialised, so 99 also counts as
 * the report's exit there; the text is checked all the same.
 */
static inline bool on_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return pre && strstr(pre, "vgpreload");
}

static inline bool death_status_ok(int st)
{
	return st == 125 || (st == 99 && on_valgrind());
}

#define assert_dies_with(fn, arg, want)                                   \
	do {                                                              \
		char out_[16384];                                         \
		int st_ = death_run(fn, arg, out_, sizeof(out_));         \
		if (!death_status_ok(st_) || !strstr(out_, want))         \
			fail_msg("expected status 125 and \"%s\", got %d:\n%s", \
				 want, st_, out_);                        \
	} while (0)

#endif
