/*
 * sigpipe.c - SIGPIPE's default action ends an unmodified musl program:
 * blocked, a write to a pipe nobody reads fails with EPIPE and the
 * signal waits; unblocked, it kills (the test expects the shim's report
 * and status 125, as for other fatal signals).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	sigset_t set;
	int p[2];

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (pipe(p))
		return 1;
	close(p[0]);
	printf("blocked: write %s\n",
	       write(p[1], "x", 1) == -1 && errno == EPIPE ? "failed with EPIPE" : "did not fail");
	fflush(stdout);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("still alive after unblocking\n");
	return 0;
}
