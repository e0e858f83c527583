/*
 * faults.c - CPU faults in an unmodified musl program become the signals
 * Linux sends, when the program handles them: a read of an unmapped page
 * (SIGSEGV, SEGV_MAPERR, si_addr the address), a write to a read-only
 * mapping (SEGV_ACCERR), an integer division by zero (SIGFPE,
 * FPE_INTDIV), ud2 (SIGILL, ILL_ILLOPN), on the sigaltstack when asked,
 * and in a second thread. Each handler leaves with siglongjmp; the
 * program then goes on. (Without a handler a fault is still cubrt's
 * report: nullderef.c.) One line per check, a summary.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "checks.h"

static sigjmp_buf back;
static volatile int got_sig, got_code, on_alt;
static volatile uintptr_t got_addr;
static char altstack[16384];

static void handler(int sig, siginfo_t *si, void *uc)
{
	char probe;

	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	on_alt = &probe >= altstack && &probe < altstack + sizeof(altstack);
	siglongjmp(back, 1);
}

/* Runs fault() and reports whether the handler took sig with code. */
static int caught(void (*fault)(void), int sig, int code)
{
	got_sig = got_code = 0;
	got_addr = 0;
	if (!sigsetjmp(back, 1))
		fault();
	return got_sig == sig && got_code == code;
}

static volatile int *volatile wild = (int *)0x10;
static volatile int *ro_page;
static volatile int zero;

static void read_wild(void)
{
	(void)*wild;
}

static void write_ro(void)
{
	*ro_page = 1;
}

static void divide(void)
{
	static volatile int r;

	r = 7 / zero;
}

static void undefined(void)
{
	__asm__ volatile("ud2");
}

static void *thread_fault(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)(caught(read_wild, SIGSEGV, SEGV_MAPERR) && got_addr == 0x10);
}

int main(void)
{
	struct sigaction sa;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	pthread_t t;
	void *res;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigaction(SIGSEGV, &sa, NULL);
	sigaltstack(&ss, NULL);

	check("unmapped read: SIGSEGV, SEGV_MAPERR, si_addr, on the sigaltstack",
	      caught(read_wild, SIGSEGV, SEGV_MAPERR) && got_addr == 0x10 && on_alt);
	ro_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check("write to a read-only page: SEGV_ACCERR",
	      ro_page != MAP_FAILED && caught(write_ro, SIGSEGV, SEGV_ACCERR) &&
	      got_addr == (uintptr_t)ro_page);
	check("division by zero: SIGFPE, FPE_INTDIV", caught(divide, SIGFPE, FPE_INTDIV) &&
	      !on_alt);
	check("ud2: SIGILL, ILL_ILLOPN", caught(undefined, SIGILL, ILL_ILLOPN));
	pthread_create(&t, NULL, thread_fault, NULL);
	pthread_join(t, &res);
	check("a fault in another thread", res != NULL);
	check("the program goes on after its faults",
	      caught(read_wild, SIGSEGV, SEGV_MAPERR) && caught(divide, SIGFPE, FPE_INTDIV));
	printf("faults: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
