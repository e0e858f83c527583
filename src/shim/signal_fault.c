/*
 * signal_fault.c - CPU faults in program code as Linux's synchronous
 * signals. A page or protection fault (SIGSEGV), a divide error or
 * floating-point exception (SIGFPE), an invalid opcode (SIGILL), an
 * alignment or stack fault (SIGBUS) or an int3 (SIGTRAP) taken by a
 * Linux thread's program code becomes that signal, pending on the thread
 * with Linux's si_code and si_addr, when the program has a handler for
 * it: Go turns a nil dereference into a panic this way (its handler
 * sends the goroutine into runtime.sigpanic), and C programs catch
 * SIGSEGV to probe memory or to report a crash. The platform tells
 * which fault it was and where (platform/x86/shim.c), and delivers the
 * signal as the fault returns, with the faulting instruction as the
 * interrupted context (cubi_signal_deliver).
 *
 * As Linux's forced signals: a fault whose signal the thread blocks,
 * ignores or leaves at its default action ends the program - here with
 * cubrt's fault report (trap.c), which says more than "killed by
 * signal 11".
 *
 * Locking: interrupts disabled (the exception handler calls this).
 */
#include <cubrt/sched.h>

#include "shim_impl.h"
#include "signal_impl.h"

bool cubi_signal_fault(int sig, int code, uint64_t addr)
{
	struct cubi_thread *t = cub_coro_self() ? cubi_thread_current() : NULL;
	struct cubi_sigsrc src = { .code = code, .fault = true, .value = addr };
	struct cubi_sigsrc old;

	if (!t || sig < 1 || sig > NSIG || (t->sigmask & BIT(sig)) ||
	    cubi_signal_handler(sig) <= SIG_IGN)
		return false;
	/* A standard signal is pending once: the fault's siginfo replaces a
	 * kill's that has not been taken yet. */
	if (t->pending.bits & BIT(sig))
		cubi_sigpend_take(&t->pending, sig, &old);
	return cubi_sigpend_add(&t->pending, sig, &src, false) == 0;
}
