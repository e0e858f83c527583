/*
 * signal_impl.h - what signal.c shares with the calls that wait for
 * signals (signal_wait.c). Everything here runs with interrupts disabled.
 */
#ifndef CUBRT_SHIM_SIGNAL_IMPL_H
#define CUBRT_SHIM_SIGNAL_IMPL_H

#include "shim_impl.h"

/* Linux's x86-64 siginfo_t: after the three ints, si_pid and si_uid
 * (kill, tkill), or si_tid and si_overrun then si_value (timers). */
struct cubi_siginfo {
	int32_t signo, errno_, code, pad;
	int32_t pid, uid;
	uint8_t rest[104];
};

/* The signals thread t could take: its own and the process's. */
uint64_t cubi_signal_pending_for(const struct cubi_thread *t);
/* Takes pending sig off t's queue (else the process's) and describes
 * it, as a handler would have seen it, in *info. */
void cubi_signal_take(struct cubi_thread *t, int sig, struct cubi_siginfo *info);
/* rt_sigsuspend: t runs with mask until a handler runs; the handler's
 * frame then holds t's own mask, or the way back to the program puts it
 * back if none runs (cubi_signal_deliver). */
void cubi_signal_suspend(struct cubi_thread *t, uint64_t mask);

#endif
