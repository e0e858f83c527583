/*
 * signals.h - signals as the rest of the shim sees them: sending one
 * (signal_send.c), what is pending and deliverable, taking one into a
 * handler with a Linux signal frame and returning from it (signal.c),
 * synchronous faults, SIGPIPE on -EPIPE, and the hooks of signalfd.c
 * and ptimer.c. What the signal files share among themselves is
 * signal_impl.h's; the per-thread state is struct cubi_thread's
 * (thread.h).
 *
 * Locking: pending sets and masks are protected by the shim's critical
 * section (interrupts disabled, cub_arch_irq_save); functions marked
 * "irq off" expect it held. cubi_signal_post runs in any context (irq
 * included); cubi_signal_epipe needs interrupts enabled.
 */
#ifndef CUBRT_SHIM_SIGNALS_H
#define CUBRT_SHIM_SIGNALS_H

#include <cubrt/base.h>

struct cubi_thread;

/* A thread that leaves drops its undelivered signals (irq off). */
void cubi_signal_thread_gone(struct cubi_thread *t);

/*
 * A thread's registers on its way back to program code, in the order of
 * Linux's struct sigcontext, plus its x87/SSE state (the 512-byte FXSAVE
 * image it resumes with). The platform fills one from its syscall or
 * interrupt frame, lets signal.c redirect it into a handler, and writes
 * it back (platform/x86/shim.c). Entering a handler copies *fx into the
 * signal frame and writes Linux's initial x87/SSE state over *fx, so fx
 * must be the platform's own image, never the program's memory.
 */
struct cubi_sigctx {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, rflags;
	void *fx;
};

/* Signals pending over all threads (read by syscall.S); true when some
 * thread may have a signal to take (cheap; irq off). */
extern unsigned cubi_signal_npending;
bool cubi_signal_pending(void);
/* True when thread t has a pending signal it does not block (irq off). */
bool cubi_signal_deliverable(const struct cubi_thread *t);
/* The dispatcher saw call nr end with -CUB_EINTR: remember it, so that a
 * handler with SA_RESTART restarts it; always: the call answered
 * -CUBI_ERESTARTNOINTR, it restarts after any handler (Linux's
 * -ERESTARTNOINTR: FUTEX_LOCK_PI). */
void cubi_signal_note_eintr(long nr, bool always);
/* A call's internal answer (never seen by the program, which sees
 * -EINTR if no handler restarts it): restart after the handler, with or
 * without SA_RESTART. Linux's number. */
#define CUBI_ERESTARTNOINTR 513
/* Sends sig with si_code code to thread t, or with t NULL to the process
 * (the thread that waits for it or does not block it). Any context,
 * irq included: timers send from their expiry. True if sig is now
 * pending (to be taken: cubi_signal_take), false if it was dropped (its
 * action ignores it). */
bool cubi_signal_post(struct cubi_thread *t, int sig, int code);
/* signalfd.c: a signal with this bit became pending: wakes the readers
 * of the signalfds whose mask has it (irq off; any context). */
void cubi_signalfd_notify(uint64_t bit);
/* ptimer.c: what the siginfo of a timer_create timer's signal sig, taken
 * by thread tid, says: the timer's id, its overrun count and its sigev
 * value (irq off; all 0 if the timer is gone). */
void cubi_ptimer_siginfo(int tid, int sig, int32_t *id, int32_t *overrun,
			 uint64_t *value);
/* sig, taken by thread tid, is no longer pending for it (irq off): the
 * timers whose signal it was run again (ptimer.c: timer_create's,
 * itimer.c: setitimer's; clock.h's rule). */
void cubi_ptimer_taken(int tid, int sig);
void cubi_itimer_taken(int sig);
/* A write-side call on a pipe or stream socket ends with rc: -EPIPE
 * raises SIGPIPE on the calling thread unless nosignal (MSG_NOSIGNAL).
 * Returns rc. Interrupts enabled (the default action ends the program). */
long cubi_signal_epipe(long rc, bool nosignal);
/* Takes the running thread's next deliverable signal: writes a Linux
 * signal frame on its stack (or its alternate stack), points ctx at the
 * handler and sets *ctx->fx to the initial x87/SSE state. False when
 * there is none. Interrupts disabled. cubi_signal_deliver: anywhere in
 * program code (an interrupt's return, rt_sigreturn's); the _syscall
 * form: at a system call's return, where a call interrupted by the
 * signal restarts if its handler asks (SA_RESTART). */
bool cubi_signal_deliver(struct cubi_sigctx *ctx);
bool cubi_signal_deliver_syscall(struct cubi_sigctx *ctx);
/* A synchronous fault in a thread's program code (a CPU exception: a
 * page fault, a divide error, int3, a floating-point exception...), as
 * the platform describes it: the signal Linux sends for it, si_code,
 * si_addr, and the trap number and error code for the sigcontext. */
struct cubi_fault {
	int sig, code;
	uint64_t addr, trapno, err;
};
/* Delivers fault f to the running thread at once, as Linux forces it:
 * when the thread has a handler for f->sig and does not block it, writes
 * the frame and points ctx at the handler, with the initial x87/SSE
 * state in *ctx->fx (the handler may mend the cause and return to retry
 * the instruction). False otherwise (SIG_DFL, SIG_IGN,
 * blocked, or no room for the frame): the platform reports the fault and
 * ends the program, as Linux's default action would. Interrupts
 * disabled (the trap handler). */
bool cubi_signal_fault(struct cubi_sigctx *ctx, const struct cubi_fault *f);
/* rt_sigreturn's first half: reads the frame a handler returned from (sp
 * is the stack pointer after its `ret` into the restorer) into ctx
 * (ctx->fx: the ucontext's fpstate as it is, unchecked: the program's
 * FXSAVE image, NULL, or anything the handler put there), and restores
 * the thread's mask. 0 or -CUB_EFAULT/-CUB_EINVAL. */
int cubi_signal_restore(uintptr_t sp, struct cubi_sigctx *ctx);
/* rt_sigreturn up to resuming ctx: cubi_signal_restore, then the x87/SSE
 * state loaded into fx (FX_SIZE bytes, 16-byte aligned; ctx->fx then
 * points there) as Linux loads it: the frame's image, or the initial
 * state for a NULL fpstate; and the handler of a signal due in the
 * restored context entered on top of it (chained: it starts with the
 * initial x87/SSE state in fx). An image FXRSTOR would fault on
 * (unreadable, not 16-byte aligned, MXCSR bits outside
 * cub_arch_mxcsr_mask()) is refused as Linux x86-64 refuses it: ctx
 * keeps the restored registers with rax 0 and the initial x87/SSE
 * state, and SIGSEGV (SI_KERNEL) is forced on the thread - its handler
 * entered on top, or, with none it does not block, the program ends
 * with a report saying why. 0, or cubi_signal_restore's error (no valid
 * frame at all). */
int cubi_signal_return(uintptr_t sp, struct cubi_sigctx *ctx, void *fx);
/* Platform: resumes ctx exactly (every register, flags, SSE state). */
CUB_NORETURN void cubi_shim_resume_full(const struct cubi_sigctx *ctx);

#endif
