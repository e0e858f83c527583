/*
 * fault_sig.c - the signal Linux sends for a CPU exception in a Linux
 * thread's program code: signal, si_code, si_addr, trapno and err, as
 * Linux's x86-64 exception handlers fill them (arch/x86/kernel/traps.c
 * and fpu/core.c describe the same facts; the Intel SDM the exceptions).
 * shim.c asks for it once it knows the fault is the program's, and hands
 * it to cubi_signal_fault.
 *
 *   #DE  0   SIGFPE  FPE_INTDIV     si_addr the instruction
 *   #DB  1   SIGTRAP TRAP_TRACE (single step: RFLAGS.TF), TRAP_HWBKPT
 *            (DR0-DR3), else TRAP_BRKPT (int1/icebp); si_addr the rip
 *            after the instruction; DR6 is read and cleared
 *   #BP  3   SIGTRAP SI_KERNEL      rip already past the int3
 *   #OF  4   SIGSEGV SI_KERNEL      (into is invalid in 64-bit code; only
 *   #BR  5   SIGSEGV SI_KERNEL       `int $4`/`int $5` reach these)
 *   #UD  6   SIGILL  ILL_ILLOPN     si_addr the instruction
 *   #NP 11   SIGBUS  SI_KERNEL      err the selector's error code
 *   #SS 12   SIGBUS  SI_KERNEL
 *   #GP 13   SIGSEGV SI_KERNEL
 *   #PF 14   SIGSEGV SEGV_ACCERR inside a mapping (PROT_NONE pages are not
 *            present), else SEGV_MAPERR; si_addr = CR2. SIGBUS
 *            BUS_ADRERR for a page of a shared file mapping past the
 *            file's end (src/shim/mm_file.c)
 *   #MF 16   SIGFPE  from the x87 status word's flags that the control
 *            word does not mask; si_addr the waiting x87 instruction
 *   #XM 19   SIGFPE  from MXCSR's flags that its mask bits do not mask;
 *            si_addr the SSE instruction
 * SI_KERNEL signals (Linux's force_sig) carry si_addr 0. The FPE code of
 * several unmasked flags follows Linux's precedence: invalid, divide by
 * zero, overflow, underflow or denormal, precision. A #MF or #XM with no
 * unmasked flag (an `int $16`) is reported, not signalled.
 *
 * Not mapped, so reported: #AC (17) is raised only at CPL 3, and programs
 * run at CPL 0 on cubrt (docs/shim.md, Execution model), so it cannot
 * happen; #NM (CR0.TS is never set), #DF, #TS, #MC, #CP and the rest are
 * no program's doing.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "../../src/shim/shim_impl.h"
#include "x86.h"

enum {
	SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGFPE = 8, SIGSEGV = 11,
	SI_KERNEL = 0x80,
	FPE_INTDIV = 1, FPE_FLTDIV = 3, FPE_FLTOVF = 4, FPE_FLTUND = 5,
	FPE_FLTRES = 6, FPE_FLTINV = 7,
	ILL_ILLOPN = 2, SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2,
	TRAP_BRKPT = 1, TRAP_TRACE = 2, TRAP_HWBKPT = 4,
};

/* The exceptions whose signal depends on the vector alone: si_addr is
 * the rip (at_rip) or 0. */
static const struct {
	uint8_t sig, code;
	bool at_rip;
} fixed[32] = {
	[0] = { SIGFPE, FPE_INTDIV, true },	/* #DE */
	[3] = { SIGTRAP, SI_KERNEL, false },	/* #BP */
	[4] = { SIGSEGV, SI_KERNEL, false },	/* #OF */
	[5] = { SIGSEGV, SI_KERNEL, false },	/* #BR */
	[6] = { SIGILL, ILL_ILLOPN, true },	/* #UD */
	[11] = { SIGBUS, SI_KERNEL, false },	/* #NP */
	[12] = { SIGBUS, SI_KERNEL, false },	/* #SS */
	[13] = { SIGSEGV, SI_KERNEL, false },	/* #GP */
};

#define DR6_TRAPS 0xfu		/* B0-B3: a debug register matched */
#define DR6_BS (1u << 14)	/* single step */
#define DR6_INIT 0xffff0ff0u	/* no condition: reserved bits as they read */

/* #DB: what DR6 says happened (then cleared: the CPU never clears it). */
static int debug_code(void)
{
	uint64_t dr6;

	__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
	__asm__ volatile("mov %0, %%dr6" : : "r"((uint64_t)DR6_INIT));
	if (dr6 & DR6_BS)
		return TRAP_TRACE;
	return dr6 & DR6_TRAPS ? TRAP_HWBKPT : TRAP_BRKPT;
}

/* The FPE_* code of the unmasked exception flags in err (x87: the
 * status word without the control word's masks; SSE: MXCSR's flags
 * without its mask bits), in Linux's precedence; 0 when none is set. */
static int fpe_code(unsigned err)
{
	if (err & 0x01)			/* invalid operation */
		return FPE_FLTINV;
	if (err & 0x04)			/* divide by zero */
		return FPE_FLTDIV;
	if (err & 0x08)			/* overflow */
		return FPE_FLTOVF;
	if (err & 0x12)			/* underflow, denormal operand */
		return FPE_FLTUND;
	if (err & 0x20)			/* precision */
		return FPE_FLTRES;
	return 0;
}

/* #MF and #XM: the unmasked flags in the FXSAVE image fx, the state the
 * faulting instruction saw (bytes 0-1 FCW, 2-3 FSW, 24-27 MXCSR). */
static int fp_code(unsigned vector, const uint8_t *fx)
{
	uint16_t fcw, fsw;
	uint32_t mxcsr;

	if (vector == 16) {
		cub_memcpy(&fcw, fx, sizeof(fcw));
		cub_memcpy(&fsw, fx + 2, sizeof(fsw));
		return fpe_code(fsw & ~fcw & 0x3fu);
	}
	cub_memcpy(&mxcsr, fx + 24, sizeof(mxcsr));
	return fpe_code(mxcsr & ~(mxcsr >> 7) & 0x3fu);
}

bool cubi_x86_fault_signal(const struct x86_trap_frame *f, const void *fx,
			   struct cubi_fault *flt)
{
	uintptr_t page;

	*flt = (struct cubi_fault){ .trapno = f->vector, .err = f->error, .addr = f->rip };
	if (f->vector >= 32)
		return false;
	if (fixed[f->vector].sig) {
		flt->sig = fixed[f->vector].sig;
		flt->code = fixed[f->vector].code;
		if (!fixed[f->vector].at_rip)
			flt->addr = 0;
		return true;
	}
	switch (f->vector) {
	case 1:		/* #DB: a trap, rip after the instruction */
		flt->sig = SIGTRAP, flt->code = debug_code();
		return true;
	case 14:	/* #PF */
		flt->sig = SIGSEGV, flt->addr = read_cr2();
		page = CUB_ALIGN_DOWN(flt->addr, CUB_PAGE_SIZE);
		flt->code = (f->error & 1) || cubi_mm_covered(page, page + CUB_PAGE_SIZE)
			    ? SEGV_ACCERR : SEGV_MAPERR;
		if (!(f->error & 1) && cubi_mm_sigbus(flt->addr))	/* past a shared */
			flt->sig = SIGBUS, flt->code = BUS_ADRERR;	/* file's end */
		return true;
	case 16:	/* #MF */
	case 19:	/* #XM */
		flt->sig = SIGFPE, flt->code = fp_code((unsigned)f->vector, fx);
		return flt->code != 0;
	default:
		return false;
	}
}
