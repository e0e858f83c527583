/*
 * signal.c - signals within the program: rt_sigaction, rt_sigprocmask,
 * sigaltstack, and delivery to handlers with Linux's x86-64 signal frame.
 * How signals become pending is signal_send.c's; rt_sigreturn, the way
 * back from a handler, is signal_return.c's.
 *
 * A pending signal with a handler is delivered on its thread's way back
 * to program code: when a system call returns (any thread) or when an
 * interrupt returns into program code (the platform decides,
 * platform/x86/shim.c). A thread blocked in a system call (console input
 * included) was woken when it was sent: the call fails with EINTR, or
 * with SA_RESTART runs again after the handler (read, write, readv,
 * writev, futex, the socket calls, an open waiting for a named pipe's
 * partner; never sleeps or epoll waits, as on Linux). A fatal one that was blocked when sent kills when it is
 * unblocked (abort ends this way too).
 *
 * Delivery builds what Linux builds: below the red zone (and below the
 * platform's own frame if that sits there, for a caller without a kernel
 * stack) or at the top of the alternate stack (SA_ONSTACK), the FXSAVE
 * image of the interrupted x87/SSE state, then the
 * rt_sigframe - return address (sa_restorer), ucontext (its mcontext is
 * the interrupted registers), siginfo - and enters the handler with rdi =
 * signal, rsi = &info, rdx = &uc, sa_mask and the signal blocked, and
 * Linux's initial x87/SSE state (cubi_signal_initial_fpu: every path,
 * faults and rt_sigreturn's chained delivery included). The frame's
 * layouts are signal_frame.h's.
 *
 * A fault in program code (a CPU exception: a page fault, a divide
 * error, int3, an x87 or SSE floating-point exception...; the platform
 * decides the signal, platform/x86/fault_sig.c) is delivered at once to
 * its thread when it has a handler and does not block the signal, with
 * si_code, si_addr, trapno, err and cr2 as Linux fills them
 * (cubi_signal_fault, called by the platform's trap handler); the
 * handler may mend the cause and return, and the instruction runs
 * again (after a trap such as int3, the next one). Otherwise the fault
 * is reported and ends the program, as Linux's default action would.
 *
 * Locking: actions, every thread's signal fields and cubi_signal_npending
 * are protected by irq_save; delivery runs with interrupts disabled.
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "../sched/sched_hooks.h"
#include "shim_impl.h"
#include "signal_frame.h"
#include "signal_impl.h"

#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u
#define SA_RESTART 0x10000000u
#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048
#define RED_ZONE 128

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static struct ksigaction actions[NSIG + 1];

uint64_t cubi_signal_handler(int sig)
{
	return actions[sig].handler;
}
/* Pending bits over all threads; syscall.S reads it to skip delivery. */
unsigned cubi_signal_npending;

/* ----------------------------------------------------------- actions */

CUBI_SYS(rt_sigaction)
{
	uint64_t sig = A0(r);
	struct ksigaction act, old;
	unsigned long irq;

	if (A3(r) != 8 || sig < 1 || sig > NSIG)
		return -CUB_EINVAL;
	if (A1(r) && (sig == SIGKILL || sig == SIGSTOP))
		return -CUB_EINVAL;
	if (A1(r) && cubi_copy_in(&act, A1(r), sizeof(act)))
		return -CUB_EFAULT;
	if (A2(r) && !cubi_user_writable(A2(r), sizeof(old)))
		return -CUB_EFAULT;
	irq = cub_arch_irq_save();
	old = actions[sig];
	if (A1(r))
		actions[sig] = act;
	cub_arch_irq_restore(irq);
	return A2(r) ? cubi_copy_out(A2(r), &old, sizeof(old)) : 0;
}

CUBI_SYS(rt_sigprocmask)
{
	struct cubi_thread *t = cubi_thread_self();
	uint64_t how = A0(r), set = 0, old;
	unsigned long irq;

	if (A3(r) != 8)
		return -CUB_EINVAL;
	if (A1(r) && how > 2)
		return -CUB_EINVAL;
	if (A1(r) && cubi_copy_in(&set, A1(r), sizeof(set)))
		return -CUB_EFAULT;
	if (A2(r) && !cubi_user_writable(A2(r), sizeof(old)))
		return -CUB_EFAULT;
	set &= ~UNBLOCKABLE;
	irq = cub_arch_irq_save();
	old = t->sigmask;
	if (A1(r))
		t->sigmask = how == 0 ? old | set : how == 1 ? old & ~set : set;
	cub_arch_irq_restore(irq);
	return A2(r) ? cubi_copy_out(A2(r), &old, sizeof(old)) : 0;
}

static bool on_altstack(const struct cubi_altstack *a, uint64_t sp)
{
	return !(a->flags & SS_DISABLE) && sp > a->sp && sp - a->sp <= a->size;
}

CUBI_SYS(sigaltstack)
{
	struct cubi_thread *t = cubi_thread_self();
	struct cubi_altstack ss, old = t->altstack;
	bool on = on_altstack(&old, r->rsp);

	if (A0(r)) {
		if (cubi_copy_in(&ss, A0(r), sizeof(ss)))
			return -CUB_EFAULT;
		if (ss.flags & ~SS_DISABLE)
			return -CUB_EINVAL;
		if (!(ss.flags & SS_DISABLE) && ss.size < MINSIGSTKSZ)
			return -CUB_ENOMEM;
		if (on)
			return -CUB_EPERM;	/* not while running on it */
	}
	if (on)
		old.flags |= SS_ONSTACK;
	if (A1(r) && cubi_copy_out(A1(r), &old, sizeof(old)))
		return -CUB_EFAULT;
	if (A0(r))
		t->altstack = ss.flags & SS_DISABLE ?
			(struct cubi_altstack){ 0, SS_DISABLE, 0, 0 } : ss;
	return 0;
}

/* ----------------------------------------------------------- delivery */

/* Calls Linux restarts after a handler with SA_RESTART: read, write,
 * readv, writev, futex, open, openat and creat (only a named pipe's open
 * waits, pipe_fifo.c, as Linux's fifo_open does: signal(7) lists "open
 * on a FIFO"), on sockets accept, accept4, connect's wait for queue
 * room, sendto, recvfrom, sendmsg, recvmsg, and splice, tee, vmsplice
 * and sendfile (fs/splice.c's waits answer -ERESTARTSYS; measured on
 * Linux 6.18: each, blocked on an empty or full pipe or an empty socket
 * or tty, completes after a handler with SA_RESTART; sendfile from an
 * empty datagram socket into a pipe too); sleeps and epoll
 * waits fail with EINTR. The restarted call runs from the start: an
 * open makes a new end, the interrupted one having been released. */
static bool restartable(long nr)
{
	switch (nr) {
	case 0: case 1: case 19: case 20: case 202:
	case 2: case 85: case 257:		/* open, creat, openat */
	case 42: case 43: case 44: case 45: case 46: case 47: case 288:
	case 275: case 276: case 278:		/* splice, tee, vmsplice */
	case 40:				/* sendfile */
		return true;
	default:
		return false;
	}
}

void cubi_signal_note_eintr(long nr, bool always)
{
	unsigned long irq = cub_arch_irq_save();
	struct cubi_thread *t = cubi_thread_current();

	if (t) {	/* nr + 1: read is number 0 */
		t->restart_nr = always || restartable(nr) ? nr + 1 : 0;
		t->restart_always = always;
	}
	cub_arch_irq_restore(irq);
}

/* An interrupted call whose handler has SA_RESTART (or that restarts
 * always: restart_always) runs again once the handler returns: the saved
 * context goes back to the syscall instruction with the call's number in
 * rax, as Linux does it. Only at that call's own return: restart_nr
 * outlives a return at which no signal was delivered (the one that
 * interrupted it taken by another thread, say), and a later delivery in
 * program code that happened to find -EINTR still in rax once moved the
 * program's rip 2 bytes back into whatever preceded it (Go's futexsleep,
 * just past its call of futex: a crash at rip - 2 with rax 202). */
static void restart_if_asked(struct cubi_thread *t, const struct ksigaction *a,
			     struct cubi_sigctx *ctx)
{
	if (t->restart_nr && (int64_t)ctx->rax == -CUB_EINTR &&
	    ((a->flags & SA_RESTART) || t->restart_always)) {
		ctx->rip -= 2;		/* `syscall` is 0f 05 */
		ctx->rax = (uint64_t)t->restart_nr - 1;
	}
	t->restart_nr = 0;
	t->restart_always = false;
}

/* Where the frame goes: below the red zone, or atop the alternate stack. */
static uint64_t frame_top(const struct cubi_thread *t, const struct ksigaction *a,
			  uint64_t sp)
{
	if ((a->flags & SA_ONSTACK) && !(t->altstack.flags & SS_DISABLE) &&
	    !on_altstack(&t->altstack, sp))
		return t->altstack.sp + t->altstack.size;
	return sp - RED_ZONE;
}

/* The siginfo of sig, taken from its set with src: who sent it (and a
 * sigqueue value), or which timer. */
static void fill_info(struct cubi_siginfo *info, const struct cubi_thread *t, int sig,
		      const struct cubi_sigsrc *src)
{
	info->signo = sig;
	info->code = src->code;
	if (src->code == CUBI_SI_USER || src->code == CUBI_SI_TKILL ||
	    src->code == CUBI_SI_QUEUE) {
		info->pid = src->pid;	/* si_pid, si_uid, si_value */
		info->uid = src->uid;
		cub_memcpy(info->rest, &src->value, sizeof(src->value));
	} else if (src->code == CUBI_SI_TIMER) {
		uint64_t value = 0;

		/* si_tid, si_overrun, then si_value: the timer's fields */
		cubi_ptimer_siginfo(t->tid, sig, &info->pid, &info->uid, &value);
		cub_memcpy(info->rest, &value, sizeof(value));
	}
	/* Timers whose signal merged into this one's run again too. */
	if (!(cubi_signal_pending_for(t) & BIT(sig))) {
		cubi_ptimer_taken(t->tid, sig);
		cubi_itimer_taken(sig);
	}
}

/* Writes the frame for sig at frame (checked writable); fx below it.
 * saved: the mask rt_sigreturn gives back. */
static void write_frame(struct rt_sigframe *f, uint64_t fx, const struct cubi_thread *t,
			const struct ksigaction *a, const struct cubi_sigctx *ctx,
			uint64_t saved)
{
	cub_memset(f, 0, sizeof(*f));
	f->pretcode = a->restorer;
	f->uc.stack = t->altstack;
	if (on_altstack(&t->altstack, ctx->rsp))
		f->uc.stack.flags |= SS_ONSTACK;
	cub_memcpy(f->uc.mc.gregs, ctx, sizeof(f->uc.mc.gregs));
	f->uc.mc.cs = 0x08;
	f->uc.mc.ss = 0x10;
	f->uc.mc.oldmask = saved;
	f->uc.mc.fpstate = fx;
	f->uc.sigmask = saved;
	cub_memcpy((void *)fx, ctx->fx, FX_SIZE);
}

void cubi_signal_take(struct cubi_thread *t, int sig, struct cubi_siginfo *info)
{
	struct cubi_sigsrc src;

	cubi_signal_dequeue(t, sig, &src);
	cub_memset(info, 0, sizeof(*info));
	fill_info(info, t, sig, &src);
}

/* rt_sigsuspend's mask ends (irq off): with restore the thread's own mask
 * comes back now (no handler runs); otherwise the handler's frame holds
 * it for rt_sigreturn. */
static void end_suspend(struct cubi_thread *t, bool restore)
{
	if (!t->suspended)
		return;
	if (restore)
		t->sigmask = t->suspend_saved;
	t->suspended = false;
	cubi_signal_npending--;
}

/* Where the frame for a handler with action a goes when the thread
 * stopped at sp: its address, with *top its top and *fx the FXSAVE
 * image's place between them. */
static uint64_t place_frame(const struct cubi_thread *t, const struct ksigaction *a,
			    uint64_t sp, uint64_t *top, uint64_t *fx)
{
	uint64_t here = (uint64_t)(uintptr_t)__builtin_frame_address(0);

	*top = frame_top(t, a, sp);
	/* A caller without a kernel stack (cubi_sched_set_kstack) has the
	 * platform's frame (the registers it will restore) and this call
	 * chain just below its red zone: the signal frame goes further
	 * down, below everything in use. */
	if (*top == sp - RED_ZONE && !cubi_sched_kstack() && here < *top)
		*top = here - 2048;
	*fx = CUB_ALIGN_DOWN(*top - FX_SIZE, 64);
	return CUB_ALIGN_DOWN(*fx - sizeof(struct rt_sigframe), 16) - 8;
}

/* The x87/SSE state a handler starts with, as Linux's
 * fpu__clear_user_states leaves it: FNINIT's (control word 0x37f; status
 * word and tags clear: the x87 stack empty), MXCSR 0x1f80 (every
 * exception masked, round to nearest), every register zero - whatever
 * the interrupted code had (its rounding, its unmasked exceptions, its
 * x87 stack: a SIGFPE handler does not meet its own pending x87
 * exception). fx is the FXSAVE image the thread resumes with. */
void cubi_signal_initial_fpu(void *fx)
{
	static const uint16_t fcw = 0x37f;
	static const uint32_t mxcsr = 0x1f80;

	cub_memset(fx, 0, FX_SIZE);
	cub_memcpy(fx, &fcw, sizeof(fcw));		/* bytes 0-1: FCW */
	cub_memcpy((uint8_t *)fx + 24, &mxcsr, sizeof(mxcsr));	/* 24-27 */
}

/* Writes sig's frame at frame (room checked) with its siginfo *info and
 * the interrupted x87/SSE state, blocks what the action blocks, and aims
 * ctx at the handler, which starts with the initial x87/SSE state. */
static void enter_handler(struct cubi_thread *t, int sig, const struct ksigaction *a,
			  struct cubi_sigctx *ctx, const struct cubi_siginfo *info,
			  uint64_t frame, uint64_t fx)
{
	struct rt_sigframe *f = (struct rt_sigframe *)frame;
	uint64_t saved = t->suspended ? t->suspend_saved : t->sigmask;

	end_suspend(t, false);
	write_frame(f, fx, t, a, ctx, saved);
	f->info = *info;
	t->sigmask |= (a->mask | (a->flags & SA_NODEFER ? 0 : BIT(sig))) & ~UNBLOCKABLE;
	if (a->flags & SA_RESETHAND)
		actions[sig].handler = SIG_DFL;
	ctx->rsp = frame;
	ctx->rip = a->handler;
	ctx->rdi = (uint64_t)sig;
	ctx->rsi = frame + offsetof(struct rt_sigframe, info);
	ctx->rdx = frame + offsetof(struct rt_sigframe, uc);
	ctx->rax = 0;
	ctx->rflags &= ~0x500ull;	/* DF and TF, as Linux clears them */
	cubi_signal_initial_fpu(ctx->fx);		/* the frame has the interrupted one */
}

/* Both deliveries; syscall_exit: ctx is the return of the call that
 * cubi_signal_note_eintr noted, which may restart. */
static bool deliver(struct cubi_sigctx *ctx, bool syscall_exit)
{
	struct cubi_thread *t = cub_coro_self() ? cubi_thread_current() : NULL;
	uint64_t ready = t ? cubi_signal_pending_for(t) & ~t->sigmask : 0, top, fx, frame;
	struct cubi_siginfo info;
	struct ksigaction a;
	struct cubi_sigsrc src;
	int sig;

	if (!ready) {
		if (t)
			end_suspend(t, true);
		return false;
	}
	sig = __builtin_ctzll(ready) + 1;
	a = actions[sig];
	if (a.handler == SIG_DFL && !cubi_signal_ignored_by_default((uint64_t)sig))
		cubi_signal_die((uint64_t)sig);	/* blocked when sent, or reset since */
	if (a.handler <= SIG_IGN) {	/* reset since it was sent */
		struct cubi_siginfo dropped;	/* (a timer's is sent again) */

		cubi_signal_take(t, sig, &dropped);
		end_suspend(t, true);
		return false;
	}
	frame = place_frame(t, &a, ctx->rsp, &top, &fx);
	if (!(a.flags & SA_RESTORER) || !cubi_user_writable(frame, top - frame))
		cub_panic("signal %d: cannot enter its handler (%s)", sig,
			  a.flags & SA_RESTORER ? "no room for the signal frame"
						: "no SA_RESTORER");
	if (syscall_exit)
		restart_if_asked(t, &a, ctx);
	cubi_signal_dequeue(t, sig, &src);
	cub_memset(&info, 0, sizeof(info));
	fill_info(&info, t, sig, &src);
	enter_handler(t, sig, &a, ctx, &info, frame, fx);
	return true;
}

bool cubi_signal_deliver(struct cubi_sigctx *ctx)
{
	return deliver(ctx, false);
}

bool cubi_signal_deliver_syscall(struct cubi_sigctx *ctx)
{
	return deliver(ctx, true);
}

bool cubi_signal_fault(struct cubi_sigctx *ctx, const struct cubi_fault *flt)
{
	struct cubi_thread *t = cub_coro_self() ? cubi_thread_current() : NULL;
	struct cubi_siginfo info = { .signo = flt->sig, .code = flt->code };
	struct ksigaction a;
	struct rt_sigframe *f;
	uint64_t top, fx, frame;

	if (!t || flt->sig < 1 || flt->sig > NSIG)
		return false;
	a = actions[flt->sig];
	if (a.handler <= SIG_IGN || (t->sigmask & BIT(flt->sig)) || !(a.flags & SA_RESTORER))
		return false;
	frame = place_frame(t, &a, ctx->rsp, &top, &fx);
	if (!cubi_user_writable(frame, top - frame))
		return false;
	cub_memcpy(&info.pid, &flt->addr, sizeof(flt->addr));	/* si_addr */
	enter_handler(t, flt->sig, &a, ctx, &info, frame, fx);
	f = (struct rt_sigframe *)frame;
	f->uc.mc.trapno = flt->trapno;
	f->uc.mc.err = flt->err;
	f->uc.mc.cr2 = flt->addr;
	return true;
}
