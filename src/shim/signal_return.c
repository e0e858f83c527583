/*
 * signal_return.c - rt_sigreturn: the way back from a handler that
 * signal.c entered. It reads back the frame delivery wrote (the
 * interrupted registers and the mask to restore), so a handler may
 * change the context it returns to (Go's asynchronous preemption does
 * exactly that). The x87/SSE state the frame names is checked as Linux
 * checks it (load_fpu): a NULL fpstate means the initial state, and one
 * FXRSTOR would fault on (unreadable, misaligned, MXCSR bits the CPU
 * lacks) brings SIGSEGV (refuse_fpu). A signal due on the way back is
 * delivered on top of the restored context (cubi_signal_deliver).
 *
 * Locking: the thread's mask is changed under irq_save; the chained
 * delivery runs with interrupts disabled, as signal.c requires.
 */
#include <cubrt/arch.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#include "shim_impl.h"
#include "signal_frame.h"
#include "signal_impl.h"

#define SIGSEGV 11
#define FIX_FLAGS 0x50dd5ull	/* AC OF DF TF SF ZF AF PF CF RF */
#define CANONICAL(a) ((a) < 0x0000800000000000ull || (a) >= 0xffff800000000000ull)

int cubi_signal_restore(uintptr_t sp, struct cubi_sigctx *ctx)
{
	const struct rt_sigframe *f = (const struct rt_sigframe *)(sp - 8);
	struct cubi_thread *t = cubi_thread_self();
	const struct mcontext *mc;
	unsigned long irq;

	if (!cubi_user_readable((uintptr_t)f, sizeof(*f)))
		return -CUB_EFAULT;
	mc = &f->uc.mc;
	cub_memcpy(ctx, mc->gregs, sizeof(mc->gregs));
	if (!CANONICAL(ctx->rip) || !CANONICAL(ctx->rsp))
		return -CUB_EINVAL;
	ctx->rflags = (ctx->rflags & FIX_FLAGS) | 0x202;	/* IF and bit 1 */
	ctx->fx = (void *)(uintptr_t)mc->fpstate;	/* checked by load_fpu */
	irq = cub_arch_irq_save();
	t->sigmask = f->uc.sigmask & ~UNBLOCKABLE;
	cub_arch_irq_restore(irq);
	return 0;
}

/* Why load_fpu refused a frame's x87/SSE state. */
enum { FPU_OK, FPU_UNREADABLE, FPU_MISALIGNED, FPU_MXCSR };

/* Loads into fx (rt_sigreturn's own buffer, which the platform's FXRSTOR
 * reads on the way out) the x87/SSE state named by the fpstate of the
 * ucontext a handler returns, as Linux's fpu__restore_sig does: none
 * (NULL) is the initial state; an image is taken as it is, unless
 * FXRSTOR would fault on it - unreadable, not 16-byte aligned, or an
 * MXCSR with a bit the CPU does not implement (outside
 * cub_arch_mxcsr_mask(): #GP). Linux x86-64 refuses those (its restore
 * from the frame faults, and rt_sigreturn fails; only a 32-bit kernel
 * masks the bits off), so FPU_* says why, and fx holds what was read. */
static int load_fpu(void *fx, uint64_t fpstate)
{
	uint32_t mxcsr;

	if (!fpstate) {
		cubi_signal_initial_fpu(fx);
		return FPU_OK;
	}
	if (fpstate % 16)
		return FPU_MISALIGNED;
	if (cubi_copy_in(fx, fpstate, FX_SIZE))
		return FPU_UNREADABLE;
	cub_memcpy(&mxcsr, (uint8_t *)fx + 24, sizeof(mxcsr));
	return mxcsr & ~cub_arch_mxcsr_mask() ? FPU_MXCSR : FPU_OK;
}

/* rt_sigreturn cannot load the frame's x87/SSE state (why: FPU_*): as
 * on Linux (badframe), the thread goes on in the restored context, with
 * its restored mask, the initial x87/SSE state and 0 in rax
 * (rt_sigreturn's result), and SIGSEGV is forced on it (SI_KERNEL,
 * si_addr, trapno and err 0): its handler runs if it has one it does
 * not block, otherwise the program ends, saying why. Interrupts
 * disabled. */
static void refuse_fpu(struct cubi_sigctx *ctx, uint64_t fpstate, int why)
{
	static const struct cubi_fault segv = { .sig = SIGSEGV, .code = CUBI_SI_KERNEL };
	uint32_t mxcsr = 0;

	if (why == FPU_MXCSR)	/* for the report: the image was read */
		cub_memcpy(&mxcsr, (uint8_t *)ctx->fx + 24, sizeof(mxcsr));
	cubi_signal_initial_fpu(ctx->fx);
	ctx->rax = 0;
	if (cubi_signal_fault(ctx, &segv))
		return;
	if (why == FPU_MXCSR)
		cub_panic("rt_sigreturn: the signal frame's x87/SSE state at 0x%lx has "
			  "MXCSR 0x%x, with bits outside the CPU's 0x%x: "
			  "program killed by signal %d (SIGSEGV)", (unsigned long)fpstate,
			  mxcsr, cub_arch_mxcsr_mask(), SIGSEGV);
	cub_panic("rt_sigreturn: the signal frame's x87/SSE state at 0x%lx is %s: "
		  "program killed by signal %d (SIGSEGV)", (unsigned long)fpstate,
		  why == FPU_MISALIGNED ? "not 16-byte aligned" : "not readable", SIGSEGV);
}

/* rt_sigreturn goes back to the interrupted context, unless another
 * signal is due there (one queued behind the first, or one the restored
 * mask unblocks): then its handler is entered on top of that context, as
 * Linux does on any return to the program. The frame's x87/SSE state is
 * loaded into fx first (load_fpu): delivery writes the initial state
 * over the image the thread resumes with, and the new frame may lie
 * exactly where the old one did; a state FXRSTOR would fault on brings
 * SIGSEGV instead (refuse_fpu), never a fault in cubrt. */
int cubi_signal_return(uintptr_t sp, struct cubi_sigctx *ctx, void *fx)
{
	unsigned long irq;
	uint64_t fpstate;
	int why, rc = cubi_signal_restore(sp, ctx);

	if (rc)
		return rc;
	fpstate = (uint64_t)(uintptr_t)ctx->fx;
	ctx->fx = fx;
	why = load_fpu(fx, fpstate);
	irq = cub_arch_irq_save();
	if (why != FPU_OK)
		refuse_fpu(ctx, fpstate, why);
	else if (cubi_signal_pending())
		(void)cubi_signal_deliver(ctx);
	cub_arch_irq_restore(irq);
	return 0;
}

CUBI_SYS(rt_sigreturn)
{
	struct cubi_sigctx ctx;
	_Alignas(16) uint8_t fx[FX_SIZE];	/* fxrstor's alignment */
	int rc = cubi_signal_return(r->rsp, &ctx, fx);

	if (rc)
		cub_panic("rt_sigreturn: no valid signal frame at 0x%lx (%s)",
			  (unsigned long)r->rsp - 8, cub_strerror(rc));
	cubi_cputime_sys(false);	/* back to program code without
					 * returning through the dispatcher */
	cubi_shim_resume_full(&ctx);
}
