/*
 * signal_frame.h - the signal frame Linux x86-64 builds for a handler
 * (struct rt_sigframe and its ucontext), shared by delivery (signal.c)
 * and rt_sigreturn (signal_return.c). The layouts are Linux's ABI:
 * programs read and change them, so they never change.
 */
#ifndef CUBRT_SHIM_SIGNAL_FRAME_H
#define CUBRT_SHIM_SIGNAL_FRAME_H

#include "signal_impl.h"

#define FX_SIZE 512		/* an FXSAVE image */

/* Linux's x86-64 struct ucontext and struct rt_sigframe. */
struct mcontext {
	uint64_t gregs[18];		/* struct cubi_sigctx's order */
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved[8];
};

struct ucontext {
	uint64_t flags, link;
	struct cubi_altstack stack;
	struct mcontext mc;
	uint64_t sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct ucontext uc;
	struct cubi_siginfo info;
};

_Static_assert(sizeof(struct mcontext) == 256, "Linux sigcontext layout");
_Static_assert(sizeof(struct ucontext) == 304, "Linux ucontext layout");
_Static_assert(sizeof(struct cubi_siginfo) == 128, "Linux siginfo layout");
_Static_assert(sizeof(struct cubi_sigctx) == 18 * 8 + sizeof(void *),
	       "cubi_sigctx: 18 registers in sigcontext order, then fx");

/* signal.c: writes into fx (an FXSAVE image) the x87/SSE state a
 * handler starts with, as Linux's fpu__clear_user_states leaves it. */
void cubi_signal_initial_fpu(void *fx);

#endif
