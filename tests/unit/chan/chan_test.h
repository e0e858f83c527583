/*
 * chan_test.h - helpers shared by the channel unit tests: run a function
 * as the first coroutine, and run one in a child process that must end in
 * a fault report (deadlock, misuse panic) carrying a given message.
 */
#ifndef CHAN_TEST_H
#define CHAN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <cubrt/panic.h>
#include <cubrt/sched.h>

static inline void chan_test_run(cub_coro_fn fn, void *arg)
{
	assert_int_equal(cub_sched_run(fn, arg, NULL), 0);
}

/*
 * A scenario that must end in a fault report runs in a fresh process (the
 * test program re-executed with "--child NAME"; argv[0], not
 * /proc/self/exe, which is valgrind under valgrind): a fork of this process
 * would inherit a scheduler and host timer in an unusable state.
 */
struct chan_scenario {
	const char *name;
	cub_coro_fn fn;
};

static const char *chan_test_self;	/* argv[0]: re-executed for children */

/* Call first in main(): runs the scenario named by "--child NAME". */
static inline void chan_test_child(int argc, char **argv,
				   const struct chan_scenario *sc, size_t n)
{
	size_t i;

	chan_test_self = argv[0];
	if (argc != 3 || strcmp(argv[1], "--child"))
		return;
	for (i = 0; i < n; i++) {
		if (!strcmp(argv[2], sc[i].name)) {
			cub_sched_run(sc[i].fn, NULL, NULL);
			_exit(0);	/* no fault: the parent reports it */
		}
	}
	_exit(98);
}

/* Runs scenario name in a child; it must exit with CUB_EXIT_FAULT and a
 * report containing msg and (when not NULL) msg2. */
static inline void chan_test_expect_fault(const char *name, const char *msg,
					  const char *msg2)
{
	char out[16384];
	int fds[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execl(chan_test_self, chan_test_self, "--child", name,
		      (char *)NULL);
		_exit(97);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != CUB_EXIT_FAULT || !strstr(out, msg) ||
	    (msg2 && !strstr(out, msg2)))
		fail_msg("child exit %d, wanted %d and \"%s\", \"%s\" in:\n%s",
			 WEXITSTATUS(status), CUB_EXIT_FAULT, msg,
			 msg2 ? msg2 : "", out);
	print_message("%s: fault report as expected\n", name);
}

/* A coroutine that does one blocking send or receive of v on c and keeps
 * the result in r (shared by the blocking and deadline tests). */
struct peer {
	struct cub_chan *c;
	int v;
	int r;
};

static inline void *peer_send(void *arg)
{
	struct peer *p = arg;

	p->r = cub_chan_send(p->c, &p->v);
	return NULL;
}

static inline void *peer_recv(void *arg)
{
	struct peer *p = arg;

	p->r = cub_chan_recv(p->c, &p->v);
	return NULL;
}

#endif
