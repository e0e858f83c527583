/*
 * signals.c - signal handlers in an unmodified musl program: raise() runs
 * a SA_SIGINFO handler with the right siginfo and the interrupted code's
 * registers (SSE included) intact afterwards; a blocked signal waits for
 * sigprocmask to unblock it; SA_ONSTACK runs the handler on the
 * sigaltstack; pthread_kill reaches the target thread; SIGURG's default
 * action ignores it; blocked pipe and console reads and nanosleep are
 * interrupted (EINTR, or a restart with SA_RESTART); a thread looping
 * without system calls takes its signal when an interrupt returns into
 * it. Every handler starts with Linux's initial x87/SSE state (control
 * word 0x37f, MXCSR 0x1f80, the x87 stack empty) whatever the
 * interrupted code had - at a system call's return, at an interrupt's,
 * and when rt_sigreturn enters a handler queued behind the first - and
 * that code finds its own state again afterwards, whatever the handler
 * did to it. rt_sigreturn takes the x87/SSE state a handler leaves in
 * its frame as Linux x86-64 does: a valid change as it is, a NULL
 * fpregs as the initial state, and one FXRSTOR would fault on (MXCSR
 * 0xffffffff, an unreadable or misaligned fpregs) as SIGSEGV in the
 * restored context, after which the program goes on with the initial
 * state (this program passes the same checks on Linux, but the console
 * read's). One line per check, a summary.
 */
#define _GNU_SOURCE	/* REG_RAX and REG_RIP */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int hits, last_code, last_signo, on_alt;
static volatile pthread_t handled_by;
static char altstack[16384];
static volatile int go;

static void handler(int sig, siginfo_t *si, void *uc)
{
	char probe;

	(void)uc;
	hits++;
	last_signo = si->si_signo;
	last_code = si->si_code;
	on_alt = &probe >= altstack && &probe < altstack + sizeof(altstack);
	handled_by = pthread_self();
	(void)sig;
}

static void install(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static int total;

static int check(const char *what, int ok)
{
	total++;
	printf("%s: %s\n", what, ok ? "ok" : "FAILED");
	return ok;
}

/* Blocking calls interrupted by pthread_kill: read without SA_RESTART
 * fails with EINTR, read with SA_RESTART carries on, nanosleep fails with
 * EINTR and the time left, a console read fails with EINTR. */
static int fds[2];
static volatile int stage;
static volatile long results[4];

static void *blocked_reader(void *arg)
{
	struct timespec ts = { 5, 0 }, rem = { 0, 0 };
	char c;

	(void)arg;
	stage = 1;
	results[0] = read(fds[0], &c, 1) < 0 && errno == EINTR;
	stage = 2;
	results[1] = read(fds[0], &c, 1) == 1 && c == 'x';
	stage = 3;
	results[2] = nanosleep(&ts, &rem) < 0 && errno == EINTR && rem.tv_sec >= 4;
	stage = 4;	/* the console: no input ever comes in this test */
	results[3] = read(0, &c, 1) < 0 && errno == EINTR;
	return NULL;
}

static void wait_stage(int n)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };

	while (stage < n)
		sched_yield();
	nanosleep(&ts, NULL);	/* it is inside the call by now */
}

static int interrupted_calls(void)
{
	pthread_t t;
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int before = hits;

	pipe(fds);
	install(SIGUSR2, 0);
	pthread_create(&t, NULL, blocked_reader, NULL);
	wait_stage(1);
	pthread_kill(t, SIGUSR2);
	wait_stage(2);
	install(SIGUSR2, SA_RESTART);
	pthread_kill(t, SIGUSR2);
	nanosleep(&ts, NULL);	/* handled, and the read restarted */
	write(fds[1], "x", 1);
	wait_stage(3);
	pthread_kill(t, SIGUSR2);
	install(SIGUSR2, 0);	/* a console read would restart otherwise */
	wait_stage(4);
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
	return results[0] && results[1] && results[2] && results[3] &&
	       hits == before + 4;
}

/* Keeps making system calls until main's signal has been handled here. */
static void *target(void *arg)
{
	(void)arg;
	while (!go)
		sched_yield();
	return NULL;
}

/* Never makes a system call: only an interrupt (the time slice) can
 * bring it main's signal. */
static volatile int spinning, spin_start;

static void *spinner(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	spinning = 1;
	while (hits == spin_start)
		n++;
	return NULL;
}

/* A thread in a call-free loop takes a signal at an interrupt's return
 * (within 2 s; the program ends even if the spinner never stops). */
static int spinner_interrupted(void)
{
	struct timespec t0, now;
	pthread_t t;

	spin_start = hits;
	pthread_create(&t, NULL, spinner, NULL);
	while (!spinning)	/* in its loop: past its last system call */
		sched_yield();
	pthread_kill(t, SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sched_yield();	/* keeps two threads runnable: slices tick */
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (hits == spin_start && now.tv_sec - t0.tv_sec < 2);
	if (hits != spin_start + 1)
		return 0;
	pthread_join(t, NULL);
	return pthread_equal(handled_by, t);
}

/* ------------------------------------------------- x87 and SSE state */

/* The interrupted code's own state: round toward zero with flush to
 * zero and divide by zero unmasked (nothing here divides) in MXCSR,
 * single precision rounding toward zero in the control word; Linux's
 * initial state is 0x1f80 and 0x37f. */
#define PROG_MXCSR 0xfd80u
#define PROG_FCW 0xc7fu
/* What a handler may do to them: round down, double precision. */
#define HANDLER_MXCSR 0x3f80u
#define HANDLER_FCW 0x27fu

/* What an fp_handler saw as it started: control word, status word, tag
 * word (0xffff: the x87 stack empty), MXCSR; and what it does then. */
struct fpseen {
	unsigned short fcw, fsw, ftw;
	unsigned mxcsr;
	int sig;
};
static struct fpseen seen[2];
static volatile int nseen, fp_mode;
static volatile pthread_t fp_thread;
enum { CLOBBER = 1, CHAIN = 2 };

static void fp_handler(int sig, siginfo_t *si, void *uc)
{
	unsigned short env[14];	/* fnstenv's 28 bytes */
	unsigned mxcsr;

	(void)si, (void)uc;
	__asm__ volatile("stmxcsr %0\n\tfnstenv %1" : "=m"(mxcsr), "=m"(env));
	if (nseen < 2)
		seen[nseen] = (struct fpseen){ env[0], env[2], env[4], mxcsr, sig };
	nseen++;
	fp_thread = pthread_self();
	if (fp_mode & CLOBBER) {	/* and leaves 0.0 on the x87 stack */
		unsigned short cw = HANDLER_FCW;
		unsigned mx = HANDLER_MXCSR;

		__asm__ volatile("fldcw %0\n\tldmxcsr %1\n\tfldz" : : "m"(cw), "m"(mx));
	}
	if ((fp_mode & CHAIN) && sig == SIGUSR1)	/* blocked here: */
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);	/* rt_sigreturn delivers it */
}

static int initial_state(const struct fpseen *s)
{
	return s->fcw == 0x37f && s->fsw == 0 && s->ftw == 0xffff && s->mxcsr == 0x1f80;
}

/* What the interrupted code finds after the handler: its control word,
 * MXCSR, tag word (0xffff: the x87 stack empty), the 1.0 it had pushed,
 * and rax (tgkill's result, or what the handler put in its context). */
struct fpafter {
	unsigned short fcw, ftw;
	unsigned mxcsr;
	double top;
	long rax;
};

static int own_state(const struct fpafter *a)
{
	return a->fcw == PROG_FCW && a->mxcsr == PROG_MXCSR && a->top == 1.0;
}

/* Under PROG_FCW and PROG_MXCSR, with 1.0 pushed on the x87 stack, sends
 * itself sig with tgkill: the handler runs as the call returns. All in
 * one asm statement, so that no compiled code runs in that state; the
 * state before is put back after. */
static void fp_raise(int sig, struct fpafter *a)
{
	unsigned short cw = PROG_FCW, ocw, env[14];	/* fnstenv's 28 bytes */
	unsigned mx = PROG_MXCSR, omx;
	long rax = SYS_tgkill;

	__asm__ volatile("fnstcw %[ocw]\n\tstmxcsr %[omx]\n\t"
			 "fldcw %[cw]\n\tldmxcsr %[mx]\n\tfld1\n\t"
			 "syscall\n\t"
			 "fnstcw %[gcw]\n\tstmxcsr %[gmx]\n\tfnstenv %[env]\n\t"
			 "fstpl %[top]\n\t"
			 "fninit\n\tfldcw %[ocw]\n\tldmxcsr %[omx]"
			 : "+a"(rax), [ocw] "=m"(ocw), [omx] "=m"(omx), [env] "=m"(env),
			   [gcw] "=m"(a->fcw), [gmx] "=m"(a->mxcsr), [top] "=m"(a->top)
			 : [cw] "m"(cw), [mx] "m"(mx), "D"((long)getpid()),
			   "S"(syscall(SYS_gettid)), "d"((long)sig)
			 : "rcx", "r11", "memory");
	a->ftw = env[4];
	a->rax = rax;
}

/* The spinner's loop in that state, without a system call: only an
 * interrupt's return can bring it main's signal. */
static volatile int fp_spinning, fp_spin_start;
static struct fpafter spun;

static void *fp_spinner(void *arg)
{
	unsigned short cw = PROG_FCW;
	unsigned mx = PROG_MXCSR;

	(void)arg;
	__asm__ volatile("fldcw %[cw]\n\tldmxcsr %[mx]\n\tfld1\n\t"
			 "movl $1, %[spinning]\n"
			 "1:\tmovl %[nseen], %%eax\n\t"
			 "cmpl %[start], %%eax\n\t"
			 "je 1b\n\t"
			 "fnstcw %[gcw]\n\tstmxcsr %[gmx]\n\tfstpl %[top]\n\t"
			 "fninit"
			 : [spinning] "=m"(fp_spinning), [gcw] "=m"(spun.fcw),
			   [gmx] "=m"(spun.mxcsr), [top] "=m"(spun.top)
			 : [cw] "m"(cw), [mx] "m"(mx), [nseen] "m"(nseen),
			   [start] "r"(fp_spin_start)
			 : "rax", "memory");
	return NULL;
}

/* SIGUSR1 and SIGUSR2 to fp_handler, SIGUSR2 blocked while SIGUSR1's
 * runs. */
static void install_fp(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fp_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
}

static int fp_checks(void)
{
	struct timespec t0, now;
	struct fpafter a;
	pthread_t t;
	int passed = 0, ok;

	install_fp();
	nseen = 0, fp_mode = 0;
	fp_raise(SIGUSR1, &a);
	passed += check("a handler at a system call's return starts with the initial x87/SSE state",
			nseen == 1 && initial_state(&seen[0]));
	passed += check("the interrupted code's x87/SSE state is back after it", own_state(&a));

	nseen = 0, fp_mode = CLOBBER;
	fp_raise(SIGUSR1, &a);
	passed += check("a handler's own MXCSR, control word and x87 stack do not leak",
			nseen == 1 && initial_state(&seen[0]) && own_state(&a));

	/* SIGUSR2, sent in SIGUSR1's handler, is due when rt_sigreturn
	 * unblocks it: its handler is entered from there. */
	nseen = 0, fp_mode = CHAIN | CLOBBER;
	fp_raise(SIGUSR1, &a);
	passed += check("a handler entered by rt_sigreturn starts with the initial state too",
			nseen == 2 && seen[0].sig == SIGUSR1 && seen[1].sig == SIGUSR2 &&
			initial_state(&seen[0]) && initial_state(&seen[1]) && own_state(&a));

	/* At an interrupt's return, in another thread (within 2 s). */
	nseen = 0, fp_mode = CLOBBER;
	fp_spin_start = 0;
	fp_spinning = 0;
	pthread_create(&t, NULL, fp_spinner, NULL);
	while (!fp_spinning)
		sched_yield();
	pthread_kill(t, SIGUSR1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (nseen == 0 && now.tv_sec - t0.tv_sec < 2);
	ok = nseen == 1;
	if (ok)
		pthread_join(t, NULL);
	passed += check("a handler at an interrupt's return starts with the initial state, "
			"and the loop goes on in its own",
			ok && pthread_equal(fp_thread, t) && initial_state(&seen[0]) &&
			own_state(&spun));
	if (!ok || !own_state(&a) || !own_state(&spun))
		printf("fp: seen fcw %#x fsw %#x ftw %#x mxcsr %#x; after %#x %#x %g, spun %#x %#x %g\n",
		       seen[0].fcw, seen[0].fsw, seen[0].ftw, seen[0].mxcsr,
		       a.fcw, a.mxcsr, a.top, spun.fcw, spun.mxcsr, spun.top);
	return passed;
}

/* ------------------------------- the x87/SSE state rt_sigreturn takes */

/* What edit_handler does to its frame before it returns: its image's
 * MXCSR (HANDLER_MXCSR and control word HANDLER_FCW, or 0xffffffff,
 * which FXRSTOR refuses with #GP), or the fpregs pointer itself (NULL,
 * unmapped, misaligned). It always sets rax in its context to
 * EDITED_RAX, which a refused rt_sigreturn replaces with 0. */
enum { GOOD_STATE = 1, BAD_MXCSR, NO_FPREGS, WILD_FPREGS, ODD_FPREGS };
#define EDITED_RAX 1234
static volatile int edit;
static volatile unsigned long long edited_rip;

static void edit_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	fpregset_t fp = uc->uc_mcontext.fpregs;

	(void)sig, (void)si;
	edited_rip = uc->uc_mcontext.gregs[REG_RIP];
	uc->uc_mcontext.gregs[REG_RAX] = EDITED_RAX;
	switch (edit) {
	case GOOD_STATE: fp->cwd = HANDLER_FCW, fp->mxcsr = HANDLER_MXCSR; break;
	case BAD_MXCSR: fp->mxcsr = 0xffffffffu; break;
	case NO_FPREGS: uc->uc_mcontext.fpregs = NULL; break;
	case WILD_FPREGS: uc->uc_mcontext.fpregs = (fpregset_t)16; break;
	case ODD_FPREGS: uc->uc_mcontext.fpregs = (fpregset_t)((char *)fp + 8); break;
	}
}

/* What SIGSEGV's handler met: siginfo, the context it would return to
 * (rip, rax), the x87/SSE state it started with and the one in its
 * frame. */
static volatile int segv_hits, segv_code;
static void *volatile segv_addr;
static volatile unsigned long long segv_rip, segv_rax;
static struct fpseen segv_seen;
static volatile unsigned short segv_frame_fcw;
static volatile unsigned segv_frame_mxcsr;

static void segv_handler(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	unsigned short env[14];
	unsigned mxcsr;

	__asm__ volatile("stmxcsr %0\n\tfnstenv %1" : "=m"(mxcsr), "=m"(env));
	segv_seen = (struct fpseen){ env[0], env[2], env[4], mxcsr, sig };
	segv_hits++;
	segv_code = si->si_code;
	segv_addr = si->si_addr;
	segv_rip = uc->uc_mcontext.gregs[REG_RIP];
	segv_rax = uc->uc_mcontext.gregs[REG_RAX];
	segv_frame_fcw = uc->uc_mcontext.fpregs->cwd;
	segv_frame_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
}

/* fp_raise with edit_handler doing `how`: what the program found after. */
static void edited_raise(int how, struct fpafter *a)
{
	edit = how;
	segv_hits = 0;
	edited_rip = 0;
	fp_raise(SIGUSR1, a);
}

/* The program after a handler whose state rt_sigreturn discarded: Linux's
 * initial state (the x87 stack empty: its 1.0 gone). */
static int initial_after(const struct fpafter *a)
{
	return a->fcw == 0x37f && a->mxcsr == 0x1f80 && a->ftw == 0xffff && a->top != 1.0;
}

/* rt_sigreturn refused the state with SIGSEGV as Linux forces it: once,
 * SI_KERNEL, no address, in the restored context (its rip, rax 0), with
 * the initial state in the handler and in its frame. */
static int refused(void)
{
	return segv_hits == 1 && segv_code == SI_KERNEL && segv_addr == NULL &&
	       segv_rip == edited_rip && edited_rip != 0 && segv_rax == 0 &&
	       initial_state(&segv_seen) && segv_frame_fcw == 0x37f &&
	       segv_frame_mxcsr == 0x1f80;
}

static void show_after(const char *what, const struct fpafter *a)
{
	printf("%s: after fcw %#x mxcsr %#x ftw %#x top %g rax %ld; SIGSEGV x%d code %d addr %p "
	       "rip %#llx (edited %#llx) rax %lld, fcw %#x mxcsr %#x, frame %#x %#x\n",
	       what, a->fcw, a->mxcsr, a->ftw, a->top, a->rax, segv_hits, segv_code, segv_addr,
	       segv_rip, edited_rip, segv_rax, segv_seen.fcw, segv_seen.mxcsr,
	       segv_frame_fcw, segv_frame_mxcsr);
}

static int fpregs_checks(void)
{
	struct sigaction sa, old_usr1;
	struct fpafter a;
	int passed = 0, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = edit_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old_usr1);
	sa.sa_sigaction = segv_handler;
	sigaction(SIGSEGV, &sa, NULL);

	edited_raise(GOOD_STATE, &a);
	ok = segv_hits == 0 && a.fcw == HANDLER_FCW && a.mxcsr == HANDLER_MXCSR &&
	     a.top == 1.0 && a.rax == EDITED_RAX;
	passed += check("a control word and MXCSR a handler writes in its frame are the program's after",
			ok);
	if (!ok)
		show_after("good", &a);

	edited_raise(BAD_MXCSR, &a);
	ok = refused() && initial_after(&a) && a.rax == 0;
	passed += check("MXCSR 0xffffffff in the frame: SIGSEGV (SI_KERNEL) in the restored context, "
			"then the program goes on with the initial x87/SSE state", ok);
	if (!ok)
		show_after("mxcsr", &a);

	edited_raise(NO_FPREGS, &a);
	ok = segv_hits == 0 && initial_after(&a) && a.rax == EDITED_RAX;
	passed += check("fpregs NULL: the program goes on with the initial x87/SSE state", ok);
	if (!ok)
		show_after("null", &a);

	edited_raise(WILD_FPREGS, &a);
	ok = refused() && initial_after(&a) && a.rax == 0;
	if (!ok)
		show_after("unmapped", &a);
	edited_raise(ODD_FPREGS, &a);
	ok = ok && refused() && initial_after(&a) && a.rax == 0;
	passed += check("fpregs unmapped or misaligned: SIGSEGV, then the initial x87/SSE state", ok);
	if (!ok)
		show_after("misaligned", &a);

	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGUSR1, &old_usr1, NULL);
	return passed;
}

int main(void)
{
	volatile double x = 1.5, y;
	int passed = 0;
	sigset_t set;
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	pthread_t t;

	install(SIGUSR1, 0);
	y = x * 3.0;
	raise(SIGUSR1);
	passed += check("raise runs the handler", hits == 1 && last_signo == SIGUSR1 &&
			last_code == SI_TKILL && y * 2.0 == 9.0);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR1);
	passed += check("a blocked signal waits", hits == 1);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	passed += check("unblocking delivers it", hits == 2);

	sigaltstack(&ss, NULL);
	install(SIGUSR2, SA_ONSTACK);
	raise(SIGUSR2);
	passed += check("SA_ONSTACK uses the sigaltstack", hits == 3 && on_alt);

	pthread_create(&t, NULL, target, NULL);
	pthread_kill(t, SIGUSR1);
	while (hits < 4)
		sched_yield();
	go = 1;
	pthread_join(t, NULL);
	passed += check("pthread_kill reaches its thread", pthread_equal(handled_by, t));

	raise(SIGURG);
	passed += check("SIGURG is ignored by default", hits == 4);
	passed += check("blocked calls: EINTR, SA_RESTART, nanosleep, console",
			interrupted_calls());
	passed += check("a call-free loop takes a signal at an interrupt",
			spinner_interrupted());
	passed += fp_checks();
	passed += fpregs_checks();
	printf("signals: %d of %d checks passed\n", passed, total);
	return passed == total ? 0 : 1;
}
