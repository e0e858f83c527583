/*
 * faults.c - CPU faults in an unmodified musl program become the signals
 * Linux sends, when the program handles them: a read of an unmapped page
 * (SIGSEGV, SEGV_MAPERR, si_addr the address), a write to a read-only
 * mapping (SEGV_ACCERR), an integer division by zero (SIGFPE,
 * FPE_INTDIV), ud2 (SIGILL, ILL_ILLOPN), on the sigaltstack when asked,
 * and in a second thread; int3 (SIGTRAP, SI_KERNEL, trapno 3, to a
 * handler that returns: the program goes on after the int3);
 * single-stepping with RFLAGS.TF (SIGTRAP, TRAP_TRACE, si_addr the next
 * instruction, until the handler clears TF in its context; a system
 * call in between is not stepped into); int $4, #OF's vector (SIGSEGV,
 * SI_KERNEL); SSE division by zero and 0/0 with the exception unmasked
 * in MXCSR (SIGFPE, FPE_FLTDIV and FPE_FLTINV, si_addr the divide); an
 * x87 division by zero unmasked in the control word (FPE_FLTDIV at the
 * next waiting x87 instruction, the fwait), and overflow, underflow and
 * precision pending at once (FPE_FLTOVF: Linux's precedence); a SIGFPE
 * handler starts with Linux's initial x87/SSE state. QEMU's TCG does
 * not raise #XM (it only sets MXCSR's flag): there the SSE checks go on
 * to `int $19`, #XM's vector, which cubrt decodes from the same MXCSR
 * (a line says so). The handlers other than int3's and TF's leave with
 * siglongjmp; the program then goes on. (Without a handler a fault is
 * still cubrt's report: nullderef.c.) One line per check, a summary.
 */
#define _GNU_SOURCE	/* REG_RIP and friends */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "checks.h"

static sigjmp_buf back;
static volatile int got_sig, got_code, on_alt;
static volatile uintptr_t got_addr, got_rip, got_trapno, got_err;
/* The handler's x87 control word and MXCSR as it starts. */
static volatile unsigned short got_fcw;
static volatile unsigned got_mxcsr;
static char altstack[16384];

/* What every handler notes: the siginfo and the context's rip, trapno
 * and err. */
static void note(int sig, const siginfo_t *si, const void *uc)
{
	const ucontext_t *u = uc;

	got_sig = sig;
	got_code = si->si_code;
	got_addr = (uintptr_t)si->si_addr;
	got_rip = (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
	got_trapno = (uintptr_t)u->uc_mcontext.gregs[REG_TRAPNO];
	got_err = (uintptr_t)u->uc_mcontext.gregs[REG_ERR];
}

static void handler(int sig, siginfo_t *si, void *uc)
{
	unsigned short fcw;
	unsigned mxcsr;
	char probe;

	__asm__ volatile("fnstcw %0\n\tstmxcsr %1" : "=m"(fcw), "=m"(mxcsr));
	got_fcw = fcw;
	got_mxcsr = mxcsr;
	note(sig, si, uc);
	on_alt = &probe >= altstack && &probe < altstack + sizeof(altstack);
	siglongjmp(back, 1);
}

/* A handler that returns, to the context it was given. */
static void returning(int sig, siginfo_t *si, void *uc)
{
	note(sig, si, uc);
}

/* Single-stepping: notes the first trap, counts them, and clears TF in
 * the context it returns to at the third. */
static volatile int steps;
static volatile uintptr_t step_addr[3];

static void stepper(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;

	if (!steps)
		note(sig, si, uc);
	if (steps < 3)
		step_addr[steps] = (uintptr_t)si->si_addr;
	if (++steps == 3)
		u->uc_mcontext.gregs[REG_EFL] &= ~0x100;	/* TF */
}

/* Runs fault() and reports whether the handler took sig with code. */
static int caught(void (*fault)(void), int sig, int code)
{
	got_sig = got_code = 0;
	got_addr = got_trapno = 1;
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

static void int4(void)
{
	__asm__ volatile("int $4");
}

/* Where the instruction that faults is (set by the asm just before). */
static volatile uintptr_t fault_at;

/* Set when the divide below did not raise #XM: QEMU's TCG (7.2) only
 * sets the flag, unmasked or not. */
static volatile int no_xm;

/* Divides num by 0.0 with SSE under MXCSR mxcsr. A CPU that does not
 * raise #XM goes on to `int $19`, #XM's vector, with the flag the divide
 * left in MXCSR: cubrt then decodes that flag as it would a real #XM's
 * (si_addr after the int). */
static void sse_divide(unsigned mxcsr, double num)
{
	static volatile double zero;
	double z = zero;

	__asm__ volatile("ldmxcsr %[mx]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %[at]\n\t"
			 "movsd %[num], %%xmm0\n"
			 "1:\tdivsd %[z], %%xmm0\n\t"
			 "movl $1, %[no]\n\t"
			 "leaq 2f(%%rip), %%rax\n\t"
			 "movq %%rax, %[at]\n\t"
			 "int $19\n"
			 "2:"
			 : [at] "=m"(fault_at), [no] "=m"(no_xm)
			 : [mx] "m"(mxcsr), [num] "m"(num), [z] "m"(z)
			 : "rax", "xmm0", "memory");
}

static void sse_div_zero(void)
{
	sse_divide(0x1f80 & ~0x200u, 1.0);	/* ZM clear */
}

static void sse_invalid(void)
{
	sse_divide(0x1f80 & ~0x80u, 0.0);	/* IM clear */
}

/* 1.0 / 0.0 on the x87 with ZM clear in the control word: the exception
 * is pending until the next waiting x87 instruction, the fwait. */
static void x87_div_zero(void)
{
	static volatile double zero;
	unsigned short cw = 0x37f & ~0x4;
	double z = zero;

	__asm__ volatile("fldcw %[cw]\n\t"
			 "fld1\n\t"
			 "fdivl %[z]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %[at]\n"
			 "1:\tfwait\n\t"
			 "fstp %%st(0)"
			 : [at] "=m"(fault_at)
			 : [cw] "m"(cw), [z] "m"(z)
			 : "rax", "st", "memory");
}

/* Overflow, underflow and precision pending together, unmasked (an
 * environment loaded with them and ES set): #MF at the fwait, and
 * Linux's precedence makes it FPE_FLTOVF. */
static void x87_pending(void)
{
	/* The 28-byte environment: control word, status word, tag word
	 * (all empty), each in 4 bytes, then the pointers. */
	uint16_t env[14] = { [0] = 0x37f & ~0x38, [2] = 0x38 | 0x80, [4] = 0xffff };

	__asm__ volatile("fldenv %[env]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %[at]\n"
			 "1:\tfwait"
			 : [at] "=m"(fault_at)
			 : [env] "m"(env)
			 : "rax", "memory");
}

/* Runs fault() under MXCSR and control word as they were, and puts them
 * back (and empties the x87 stack) after it, whatever the handler left. */
static int caught_fp(void (*fault)(void), int code)
{
	unsigned short cw;
	unsigned mxcsr;
	int ok;

	__asm__ volatile("fnstcw %0\n\tstmxcsr %1" : "=m"(cw), "=m"(mxcsr));
	got_fcw = 0;
	got_mxcsr = 0;
	fault_at = 1;
	no_xm = 0;
	ok = caught(fault, SIGFPE, code);
	__asm__ volatile("fninit\n\tfldcw %0\n\tldmxcsr %1" : : "m"(cw), "m"(mxcsr));
	return ok && got_addr == fault_at;
}

/* With MXCSR and the control word back, 1/0 is infinity, no signal. */
static int masked_again(void)
{
	static volatile double dz;
	static volatile long double lz;
	volatile double d;
	volatile long double l;

	got_sig = 0;
	d = 1.0 / dz;
	l = 1.0L / lz;
	return got_sig == 0 && d > 1e308 && l > 1e308L;
}

/* int3 to a handler that returns: execution goes on after it. */
static int int3_returns(void)
{
	volatile int went_on = 0;
	uintptr_t after;

	got_sig = got_code = 0;
	got_addr = got_rip = 1;
	__asm__ volatile("leaq 1f(%%rip), %0\n\t"
			 "int3\n"
			 "1:" : "=r"(after) : : "memory");
	went_on = 1;
	return got_sig == SIGTRAP && got_code == SI_KERNEL && got_addr == 0 &&
	       got_rip == after && got_trapno == 3 && got_err == 0 && went_on;
}

/* TF set by popfq traps after each instruction that follows it. */
static int single_steps(void)
{
	uintptr_t first;

	steps = 0;
	got_sig = got_code = 0;
	__asm__ volatile("leaq -128(%%rsp), %%rsp\n\t"	/* the red zone */
			 "pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "leaq 128(%%rsp), %%rsp\n"	/* traps after this */
			 "1:\tnop\n\t"
			 "nop\n\t"
			 "nop\n\t"
			 "nop\n\t"
			 "leaq 1b(%%rip), %0"
			 : "=r"(first) : : "memory", "cc");
	return steps == 3 && got_sig == SIGTRAP && got_code == TRAP_TRACE &&
	       got_trapno == 1 && step_addr[0] == first && step_addr[1] == first + 1 &&
	       step_addr[2] == first + 2 && got_rip == first;
}

/* TF across a system call: SYSCALL clears TF (the shim's FMASK), so
 * cubrt's side is never stepped, and the return (iretq) sets it again.
 * The three traps: after the mov, after the instruction that follows
 * the syscall (none for the syscall itself), after the next one. */
static int steps_over_syscall(void)
{
	uintptr_t first;
	long pid;

	steps = 0;
	__asm__ volatile("leaq -128(%%rsp), %%rsp\n\t"
			 "pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "leaq 128(%%rsp), %%rsp\n"
			 "1:\tmovl $39, %%eax\n\t"	/* getpid */
			 "syscall\n\t"
			 "nop\n\t"
			 "nop\n\t"
			 "nop\n\t"
			 "leaq 1b(%%rip), %0"
			 : "=r"(first), "=a"(pid) : : "rcx", "r11", "memory", "cc");
	return steps == 3 && pid == getpid() && step_addr[0] == first &&
	       step_addr[1] == first + 5 && step_addr[2] == first + 8;
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

	sa.sa_sigaction = returning;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	check("int3: SIGTRAP, SI_KERNEL, the handler returns after the int3", int3_returns());
	sa.sa_sigaction = stepper;
	sigaction(SIGTRAP, &sa, NULL);
	check("TF: SIGTRAP, TRAP_TRACE after each instruction until cleared", single_steps());
	check("TF across a system call: cubrt's side is not stepped", steps_over_syscall());
	check("int $4 (#OF): SIGSEGV, SI_KERNEL",
	      caught(int4, SIGSEGV, SI_KERNEL) && got_addr == 0 && got_trapno == 4);
	check("SSE division by zero, ZM unmasked: SIGFPE, FPE_FLTDIV at the divide",
	      caught_fp(sse_div_zero, FPE_FLTDIV) && got_trapno == 19);
	if (no_xm)
		printf("(this CPU does not raise #XM - QEMU's TCG does not: the SSE checks\n"
		       " raise its vector with int $19 after the divide instead)\n");
	check("SSE 0/0, IM unmasked: SIGFPE, FPE_FLTINV", caught_fp(sse_invalid, FPE_FLTINV));
	check("x87 division by zero, ZM unmasked: SIGFPE, FPE_FLTDIV at the fwait",
	      caught_fp(x87_div_zero, FPE_FLTDIV) && got_trapno == 16);
	check("x87 overflow, underflow and precision at once: FPE_FLTOVF first",
	      caught_fp(x87_pending, FPE_FLTOVF));
	check("a floating-point handler starts with the initial x87 and SSE state",
	      got_fcw == 0x37f && got_mxcsr == 0x1f80);
	check("division by zero is masked again after them", masked_again());
	printf("faults: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
