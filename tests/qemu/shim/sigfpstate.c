/*
 * sigfpstate.c - a handler leaves MXCSR 0xffffffff in its frame's
 * x87/SSE image (bits no CPU implements: FXRSTOR raises #GP) and
 * returns, with no handler for SIGSEGV: as on Linux x86-64, rt_sigreturn
 * refuses the state and SIGSEGV's default action ends the program (the
 * test expects the shim's report saying why, status 125 as for other
 * fatal signals, and no CPU fault report). signals.c checks the same
 * refusal with a SIGSEGV handler, and the states rt_sigreturn takes.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;

	(void)sig, (void)si;
	uc->uc_mcontext.fpregs->mxcsr = 0xffffffffu;
}

int main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	printf("the handler leaves MXCSR 0xffffffff in its frame\n");
	fflush(stdout);
	raise(SIGUSR1);
	printf("still running after rt_sigreturn\n");
	return 0;
}
