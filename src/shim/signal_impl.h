/*
 * signal_impl.h - what the signal files share: signal.c (actions, masks,
 * delivery into handlers), signal_return.c (rt_sigreturn), signal_send.c
 * (pending sets, sending) and signal_wait.c (the calls that wait for
 * signals). Everything here runs with interrupts disabled.
 */
#ifndef CUBRT_SHIM_SIGNAL_IMPL_H
#define CUBRT_SHIM_SIGNAL_IMPL_H

#include "shim_impl.h"

#define NSIG 64
#define SIGKILL 9
#define SIGSTOP 19
#define SIG_DFL 0
#define SIG_IGN 1
#define BIT(sig) (1ull << ((sig) - 1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))
#define CUBI_PID 1		/* the program's process id */

/* Linux's x86-64 siginfo_t: after the three ints, si_pid and si_uid
 * (kill, tkill), or si_tid and si_overrun then si_value (timers). */
struct cubi_siginfo {
	int32_t signo, errno_, code, pad;
	int32_t pid, uid;
	uint8_t rest[104];
};

/* What a pending signal carries besides its number: how it was sent
 * (si_code), and from whom with which value (kill, sigqueue). */
struct cubi_sigsrc {
	int code;
	int32_t pid, uid;
	uint64_t value;
};

/* signal_queue.c: pending sets. */
/* Adds sig to q: a real-time signal, or one with a value, queues an
 * instance; -CUB_EAGAIN when no entry is left and must_queue. */
int cubi_sigpend_add(struct cubi_sigpend *q, int sig, const struct cubi_sigsrc *src,
		     bool must_queue);
/* Takes one instance of pending sig off q into *out (the bit goes with
 * its last instance). */
void cubi_sigpend_take(struct cubi_sigpend *q, int sig, struct cubi_sigsrc *out);
/* Empties q (a thread that leaves). */
void cubi_sigpend_clear(struct cubi_sigpend *q);

/* signal.c: sig's handler (SIG_DFL, SIG_IGN or an address). */
uint64_t cubi_signal_handler(int sig);

/* signal_send.c: */
/* True for the signals whose default action is to do nothing. */
bool cubi_signal_ignored_by_default(uint64_t sig);
/* A signal whose default action ends the program: the report. */
CUB_NORETURN void cubi_signal_die(uint64_t sig);
/* The signals thread t could take: its own and the process's. */
uint64_t cubi_signal_pending_for(const struct cubi_thread *t);
/* Takes pending sig off t's own set, else the process's, into *src. */
void cubi_signal_dequeue(struct cubi_thread *t, int sig, struct cubi_sigsrc *src);
/* signal.c: takes pending sig off t's set (else the process's) and
 * describes it, as a handler would have seen it, in *info. */
void cubi_signal_take(struct cubi_thread *t, int sig, struct cubi_siginfo *info);
/* signal_send.c: rt_sigsuspend: t runs with mask until a handler runs; the handler's
 * frame then holds t's own mask, or the way back to the program puts it
 * back if none runs (cubi_signal_deliver). */
void cubi_signal_suspend(struct cubi_thread *t, uint64_t mask);

#endif
