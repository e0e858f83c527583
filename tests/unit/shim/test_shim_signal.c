/*
 * test_shim_signal.c - signal delivery without running a handler: a
 * signal sent with kill/tgkill becomes pending, cubi_signal_deliver turns
 * a register context into Linux's x86-64 frame (checked field by field)
 * aimed at the handler, and cubi_signal_restore (rt_sigreturn's half)
 * gives the context back. Masks, SIG_IGN, default actions, SA_RESETHAND,
 * SA_NODEFER, the alternate stack, blocking calls (futex, nanosleep,
 * pipe read, epoll wait) ended by EINTR, and SA_RESTART too; a fault in
 * program code delivered at once (cubi_signal_fault); rt_sigreturn's
 * chained delivery of a signal its mask unblocks (cubi_signal_return).
 * Every handler starts with Linux's initial x87/SSE state in the image
 * the context resumes with, the interrupted one in the frame.
 * rt_sigreturn takes the x87/SSE state a handler left as Linux x86-64
 * does: a NULL fpstate is the initial state; an image FXRSTOR would
 * fault on (an MXCSR bit outside the CPU's mask, unreadable, misaligned)
 * brings SIGSEGV in the restored context, or with no handler a report.
 * Runs inside the scheduler: signals belong to threads, and threads are
 * coroutines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/arch.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include "host.h"
#include "shim_impl.h"
#include "sys.h"

#define SYS_rt_sigreturn 15
#define SIGUSR1 10
#define SIGUSR2 12
#define SIGURG 23
#define SA_SIGINFO 4u
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u
#define SA_NODEFER 0x40000000u
#define SA_RESETHAND 0x80000000u
#define HANDLER 0x1111000ul
#define RESTORER 0x2222000ul
#define BIT(s) (1ull << ((s) - 1))

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Offsets in Linux's rt_sigframe (after the return address). */
#define UC 8
#define UC_STACK (UC + 16)
#define MC (UC + 40)
#define MC_OLDMASK (MC + 18 * 8 + 8 + 2 * 8)
#define MC_FPSTATE (MC + 23 * 8)
#define UC_SIGMASK (UC + 296)
#define INFO (UC + 304)

static _Alignas(64) uint8_t stack[32768], alt[8192];
/* The image a context resumes with, and the interrupted code's state
 * context() puts there. */
static _Alignas(16) uint8_t fx[512], interrupted_fx[512];

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static void set_action(int sig, uint64_t handler, uint64_t flags, uint64_t mask)
{
	struct ksigaction a = { handler, flags | SA_RESTORER, RESTORER, mask };

	assert_int_equal(SYS4(SYS_rt_sigaction, sig, &a, NULL, 8), 0);
}

static uint64_t blocked(void)
{
	uint64_t m = ~0ull;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 0, NULL, &m, 8), 0);
	return m;
}

static void set_blocked(uint64_t m)
{
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &m, NULL, 8), 0);
}

/* The interrupted code's MXCSR in context()'s image: round toward zero,
 * flush to zero, divide by zero unmasked; bits every SSE CPU has (not
 * DAZ), so that FXRSTOR takes the image (the rest is arbitrary bytes). */
#define PROG_MXCSR 0xfd80u

/* A context with distinct register values, interrupted at `sp`. */
static struct cubi_sigctx context(uint64_t sp)
{
	struct cubi_sigctx c;
	uint64_t *g = (uint64_t *)&c;

	for (int i = 0; i < 18; i++)
		g[i] = 0x1000 + (uint64_t)i;
	c.rsp = sp;
	c.rip = 0x3333000;
	c.rflags = 0x202 | 0x400;	/* DF set: the handler gets it clear */
	c.fx = fx;
	for (size_t i = 0; i < sizeof(fx); i++)
		interrupted_fx[i] = (uint8_t)(i * 3);
	memcpy(interrupted_fx + 24, &(uint32_t){ PROG_MXCSR }, 4);
	memcpy(fx, interrupted_fx, sizeof(fx));
	return c;
}

/* Linux's initial x87/SSE state as an FXSAVE image: control word 0x37f,
 * MXCSR 0x1f80, the rest (status, tags: the x87 stack empty,
 * registers) zero. */
static bool initial_fx(const uint8_t *img)
{
	uint8_t want[512] = { [0] = 0x7f, [1] = 0x03, [24] = 0x80, [25] = 0x1f };

	return memcmp(img, want, sizeof(want)) == 0;
}

static uint64_t at(uint64_t addr)
{
	uint64_t v;

	memcpy(&v, (const void *)addr, sizeof(v));
	return v;
}

static void at_put(uint64_t addr, uint64_t v)
{
	memcpy((void *)addr, &v, sizeof(v));
}

static void deliver_body(void)
{
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack)) - 8;
	struct cubi_sigctx c = context(top), orig = c, back;
	uint64_t f;

	set_blocked(0);
	set_action(SIGUSR1, HANDLER, SA_SIGINFO, BIT(SIGUSR2));
	assert_false(cubi_signal_deliver(&c));		/* nothing sent */
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_true(cubi_signal_pending());
	assert_true(cubi_signal_deliver(&c));
	f = c.rsp;
	assert_int_equal(c.rip, HANDLER);
	assert_int_equal(c.rdi, SIGUSR1);
	assert_int_equal(c.rsi, f + INFO);
	assert_int_equal(c.rdx, f + UC);
	assert_int_equal(c.rflags & 0x400, 0);
	assert_int_equal((f + 8) % 16, 0);		/* as after a call */
	assert_true(f + 8 + 304 + 128 + 512 <= top - 128);
	assert_int_equal(at(f), RESTORER);
	assert_memory_equal((void *)(f + MC), &orig, 18 * 8);
	assert_int_equal(at(f + UC_SIGMASK), 0);
	assert_int_equal(at(f + MC_OLDMASK), 0);
	assert_int_equal(at(f + MC_FPSTATE) % 64, 0);
	assert_memory_equal((void *)at(f + MC_FPSTATE), interrupted_fx, sizeof(fx));
	assert_ptr_equal(c.fx, fx);
	assert_true(initial_fx(fx));			/* the handler's */
	assert_int_equal(*(int32_t *)(f + INFO), SIGUSR1);
	assert_int_equal(*(int32_t *)(f + INFO + 8), 0);	/* SI_USER */
	assert_int_equal(*(int32_t *)(f + INFO + 16), 1);	/* pid */
	assert_int_equal(blocked(), BIT(SIGUSR1) | BIT(SIGUSR2));
	assert_false(cubi_signal_deliver(&c));

	/* rt_sigreturn: the handler returned into the restorer (ret: +8). */
	assert_int_equal(cubi_signal_restore(f + 8, &back), 0);
	assert_memory_equal(&back, &orig, 18 * 8);
	assert_memory_equal(back.fx, interrupted_fx, sizeof(fx));
	assert_int_equal(blocked(), 0);

	/* tgkill to ourselves: SI_TKILL. */
	c = orig;
	assert_int_equal(SYS3(SYS_tgkill, 1, SYS0(SYS_gettid), SIGUSR1), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(*(int32_t *)(c.rsp + INFO + 8), -6);
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
}

static void test_deliver_and_return(void **state)
{
	(void)state;
	run(deliver_body);
}

static void rules_body(void)
{
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack));
	struct cubi_sigctx c = context(top), back;
	struct ksigaction a;

	set_blocked(BIT(SIGUSR1));		/* blocked: stays pending */
	set_action(SIGUSR1, HANDLER, 0, 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_false(cubi_signal_deliver(&c));
	set_blocked(0);
	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);

	c = context(top);			/* SIG_IGN and default-ignored */
	set_action(SIGUSR2, 1, 0, 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGURG), 0);
	assert_false(cubi_signal_deliver(&c));

	set_action(SIGUSR2, HANDLER, SA_RESETHAND | SA_NODEFER, 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(blocked(), 0);		/* SA_NODEFER */
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR2, NULL, &a, 8), 0);
	assert_int_equal(a.handler, 0);		/* SA_RESETHAND */

	assert_int_equal(SYS3(SYS_tgkill, 1, 999, SIGUSR1), -CUB_ESRCH);
	assert_int_equal(SYS2(SYS_tkill, 999, SIGUSR1), -CUB_ESRCH);
	assert_int_equal(SYS2(SYS_kill, 1, 65), -CUB_EINVAL);
	assert_int_equal(cubi_signal_restore(WILD, &back), -CUB_EFAULT);
	memset(stack, 0, sizeof(stack));	/* rip 0 is canonical, fpstate 0 */
	assert_int_equal(cubi_signal_restore((uintptr_t)stack + 8, &back), 0);
	assert_null(back.fx);			/* left to cubi_signal_return */
	at_put((uintptr_t)stack + MC + 16 * 8, 1ull << 48);	/* rip */
	assert_int_equal(cubi_signal_restore((uintptr_t)stack + 8, &back), -CUB_EINVAL);
}

static void test_masks_and_actions(void **state)
{
	(void)state;
	run(rules_body);
}

static void altstack_body(void)
{
	struct { uint64_t sp; int32_t flags, pad; uint64_t size; } ss = {
		(uintptr_t)alt, 0, 0, sizeof(alt) }, old;
	uint64_t lo = (uintptr_t)alt, hi = lo + sizeof(alt);
	struct cubi_sigctx c = context((uintptr_t)(stack + sizeof(stack))), back;

	set_blocked(0);
	assert_int_equal(SYS2(SYS_sigaltstack, &ss, NULL), 0);
	set_action(SIGUSR1, HANDLER, SA_ONSTACK, 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_true(c.rsp >= lo && c.rsp < hi);
	assert_int_equal(at(c.rsp + UC_STACK), lo);		/* uc_stack.ss_sp */
	assert_int_equal(at(c.rsp + UC_STACK + 8) & 1, 0);	/* not SS_ONSTACK */
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);

	/* Already on the alternate stack: the next frame goes below. */
	c = context(hi - 1024);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_true(c.rsp >= lo && c.rsp < hi - 1024 - 128);
	assert_int_equal(at(c.rsp + UC_STACK + 8) & 1, 1);	/* SS_ONSTACK */
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);

	assert_int_equal(SYS2(SYS_sigaltstack, NULL, &old), 0);
	assert_int_equal(old.sp, lo);
	ss.flags = 2;					/* SS_DISABLE */
	assert_int_equal(SYS2(SYS_sigaltstack, &ss, NULL), 0);
}

static void test_altstack(void **state)
{
	(void)state;
	run(altstack_body);
}

/* --------------------------------------------- interrupted system calls */

static volatile uint32_t word;
static int pipefd[2];

/* Runs one blocking call in a coroutine of the same (initial) thread
 * identity as main, so a signal to tid 1 reaches it. */
static void *blocker(void *arg)
{
	int64_t ts[2] = { 10, 0 }, rem[2] = { -1, -1 };
	char buf[4];
	struct { uint32_t ev; uint64_t data; } __attribute__((packed)) evs[1];
	long rc = -1;

	switch ((int)(intptr_t)arg) {
	case 0: rc = SYS6(SYS_futex, &word, 0, 0, NULL, NULL, 0); break;
	case 1:
		rc = SYS2(SYS_nanosleep, ts, rem);
		if (rc == -CUB_EINTR && !(rem[0] > 8 && rem[0] <= 10))
			rc = -1000;	/* rem must hold the time left */
		break;
	case 2: rc = SYS3(SYS_read, pipefd[0], buf, sizeof(buf)); break;
	case 3: rc = SYS4(SYS_epoll_wait, pipefd[1], evs, 1, -1); break;
	}
	return (void *)rc;
}

/* Takes the signal a blocker's interruption left pending (nothing runs
 * handlers on the host) so the next call does not fail at once. */
static void drain(int sig)
{
	struct cubi_sigctx c = context((uintptr_t)(stack + sizeof(stack))), back;

	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(c.rdi, sig);
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
}

static void interrupt_body(void)
{
	struct cub_coro *c;
	void *res;

	set_blocked(0);
	set_action(SIGUSR1, HANDLER, 0, 0);
	assert_int_equal(SYS2(SYS_pipe2, pipefd, 0), 0);
	for (long kind = 0; kind < 4; kind++) {
		if (kind == 3) {	/* an epoll instance watching the pipe */
			pipefd[1] = (int)SYS1(SYS_epoll_create1, 0);
			struct { uint32_t ev; uint64_t data; } __attribute__((packed)) e = { 1, 0 };
			assert_int_equal(SYS4(SYS_epoll_ctl, pipefd[1], 1, pipefd[0], &e), 0);
		}
		assert_int_equal(cub_coro_spawn(&c, blocker, (void *)kind, NULL), 0);
		cub_coro_yield();	/* it blocks */
		assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
		assert_int_equal(cub_coro_join(c, &res), 0);
		assert_int_equal((intptr_t)res, -CUB_EINTR);
		drain(SIGUSR1);
	}

	/* Blocked signals do not interrupt; the call completes normally. */
	set_blocked(BIT(SIGUSR1));
	assert_int_equal(cub_coro_spawn(&c, blocker, (void *)0, NULL), 0);
	cub_coro_yield();
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	cub_coro_yield();
	assert_int_equal(SYS6(SYS_futex, &word, 1, 1, NULL, NULL, 0), 1);
	assert_int_equal(cub_coro_join(c, &res), 0);
	assert_int_equal((intptr_t)res, 0);

	/* A handler already due: the call does not sleep at all. */
	set_blocked(0);
	assert_int_equal(SYS6(SYS_futex, &word, 0, 0, NULL, NULL, 0), -CUB_EINTR);
	drain(SIGUSR1);
}

static void test_interrupted_calls(void **state)
{
	(void)state;
	run(interrupt_body);
}

/* SA_RESTART: the interrupted call's context goes back to its syscall
 * instruction with its number, instead of returning EINTR; only when the
 * signal is taken at that call's return. */
static void restart_body(void)
{
	uint64_t sp = (uintptr_t)(stack + sizeof(stack));
	struct cubi_sigctx c = context(sp), back;

	set_blocked(0);
	set_action(SIGUSR2, HANDLER, 0x10000000u /* SA_RESTART */, 0);
	c.rax = (uint64_t)-CUB_EINTR;
	cubi_signal_note_eintr(0, false);	/* read */
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);
	assert_true(cubi_signal_deliver_syscall(&c));
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
	assert_int_equal(back.rip, 0x3333000 - 2);
	assert_int_equal(back.rax, 0);

	c = context(sp);		/* nanosleep is never restarted */
	c.rax = (uint64_t)-CUB_EINTR;
	cubi_signal_note_eintr(35, false);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);
	assert_true(cubi_signal_deliver_syscall(&c));
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
	assert_int_equal(back.rip, 0x3333000);
	assert_int_equal(back.rax, (uint64_t)-CUB_EINTR);

	/* A futex that returned -EINTR with no signal taken at its return
	 * (another thread took it): a signal delivered later in program
	 * code, -EINTR still in rax, is no restart of anything. */
	c = context(sp);
	c.rax = (uint64_t)-CUB_EINTR;
	cubi_signal_note_eintr(202, false);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
	assert_int_equal(back.rip, 0x3333000);
	assert_int_equal(back.rax, (uint64_t)-CUB_EINTR);
}

static void test_restart(void **state)
{
	(void)state;
	run(restart_body);
}

#define SIGSEGV 11
#define MC_ERR (MC + 18 * 8 + 8)
#define MC_TRAPNO (MC_ERR + 8)
#define MC_CR2 (MC_OLDMASK + 8)

/* A page fault in program code: delivered at once, with si_code,
 * si_addr, err, trapno and cr2, to a handler that does not block it;
 * refused (the platform reports the fault) under SIG_DFL, SIG_IGN, or
 * while blocked, as during its own handler. */
static void fault_body(void)
{
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack));
	struct cubi_fault pf = { .sig = SIGSEGV, .code = 2, .addr = 0x7000123,
				 .trapno = 14, .err = 7 };
	struct cubi_sigctx c = context(top), orig = c, back;
	uint64_t f;

	set_blocked(0);
	set_action(SIGSEGV, 0, 0, 0);
	assert_false(cubi_signal_fault(&c, &pf));	/* SIG_DFL: the report */
	set_action(SIGSEGV, 1, 0, 0);
	assert_false(cubi_signal_fault(&c, &pf));	/* SIG_IGN: the report too */
	assert_memory_equal(&c, &orig, sizeof(c));
	set_action(SIGSEGV, HANDLER, SA_SIGINFO, BIT(SIGUSR2));
	assert_false(cubi_signal_pending());
	assert_true(cubi_signal_fault(&c, &pf));
	f = c.rsp;
	assert_int_equal(c.rip, HANDLER);
	assert_int_equal(c.rdi, SIGSEGV);
	assert_int_equal(c.rsi, f + INFO);
	assert_int_equal(c.rdx, f + UC);
	assert_int_equal((f + 8) % 16, 0);
	assert_true(f + 8 + 304 + 128 + 512 <= top - 128);
	assert_memory_equal((void *)(f + MC), &orig, 18 * 8);
	assert_int_equal(*(int32_t *)(f + INFO), SIGSEGV);
	assert_int_equal(*(int32_t *)(f + INFO + 8), 2);	/* SEGV_ACCERR */
	assert_int_equal(at(f + INFO + 16), 0x7000123);	/* si_addr */
	assert_int_equal(at(f + MC_ERR), 7);
	assert_int_equal(at(f + MC_TRAPNO), 14);
	assert_int_equal(at(f + MC_CR2), 0x7000123);
	assert_memory_equal((void *)at(f + MC_FPSTATE), interrupted_fx, sizeof(fx));
	assert_true(initial_fx(fx));
	assert_int_equal(blocked(), BIT(SIGSEGV) | BIT(SIGUSR2));
	assert_false(cubi_signal_pending());		/* never pending */

	/* A fault in the handler itself: SIGSEGV is blocked there. */
	back = c;
	memcpy(fx, interrupted_fx, sizeof(fx));
	assert_false(cubi_signal_fault(&c, &pf));
	assert_memory_equal(&c, &back, sizeof(c));
	assert_memory_equal(fx, interrupted_fx, sizeof(fx));	/* untouched */

	/* The handler returns: the faulting instruction runs again. */
	assert_int_equal(cubi_signal_restore(f + 8, &back), 0);
	assert_memory_equal(&back, &orig, 18 * 8);
	assert_int_equal(blocked(), 0);

	/* No room for the frame: refused. */
	c = context(0x20000);			/* unmapped, below this stack */
	assert_false(cubi_signal_fault(&c, &pf));
	set_action(SIGSEGV, 0, 0, 0);
}

static void test_fault(void **state)
{
	(void)state;
	run(fault_body);
}

#define HANDLER2 0x4444000ul

/* rt_sigreturn (cubi_signal_return): the handler returns, the frame's
 * registers and FXSAVE image come back, the latter copied to the buffer
 * the thread resumes from; with a signal due in the restored context
 * (SIGUSR2, sent while SIGUSR1's handler blocked it), its handler is
 * entered on top, with the initial x87/SSE state in that buffer and the
 * interrupted state in its frame, wherever the frame lands (here where
 * the first one was, at the same stack pointer). */
static void chain_body(void)
{
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack)) - 8;
	struct cubi_sigctx c = context(top), orig = c, back;
	static _Alignas(16) uint8_t resume_fx[512];
	uint64_t f1, f2;

	set_blocked(0);
	set_action(SIGUSR1, HANDLER, SA_SIGINFO, BIT(SIGUSR2));
	set_action(SIGUSR2, HANDLER2, SA_SIGINFO, 0);
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_true(cubi_signal_deliver(&c));
	f1 = c.rsp;
	assert_true(initial_fx(fx));
	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR2), 0);	/* blocked: waits */
	assert_false(cubi_signal_deliver(&c));
	memset(fx, 0xee, sizeof(fx));		/* what the handler left */

	memset(resume_fx, 0, sizeof(resume_fx));
	assert_int_equal(cubi_signal_return(f1 + 8, &back, resume_fx), 0);
	f2 = back.rsp;
	assert_int_equal(back.rip, HANDLER2);
	assert_int_equal(back.rdi, SIGUSR2);
	assert_ptr_equal(back.fx, resume_fx);
	assert_true(initial_fx(resume_fx));
	assert_memory_equal((void *)(f2 + MC), &orig, 18 * 8);
	assert_memory_equal((void *)at(f2 + MC_FPSTATE), interrupted_fx, sizeof(fx));
	assert_int_equal(at(f2 + UC_SIGMASK), 0);
	assert_int_equal(blocked(), BIT(SIGUSR2));
	assert_int_equal(f2, f1);	/* the image copied out first mattered */

	/* SIGUSR2's handler returns: nothing more is due. */
	memset(resume_fx, 0, sizeof(resume_fx));
	assert_int_equal(cubi_signal_return(f2 + 8, &back, resume_fx), 0);
	assert_memory_equal(&back, &orig, 18 * 8);
	assert_ptr_equal(back.fx, resume_fx);
	assert_memory_equal(resume_fx, interrupted_fx, sizeof(fx));
	assert_int_equal(blocked(), 0);
	assert_false(cubi_signal_pending());
	assert_int_equal(cubi_signal_return(WILD, &back, resume_fx), -CUB_EFAULT);
}

static void test_sigreturn_chain(void **state)
{
	(void)state;
	run(chain_body);
}

/* ---------------------------------- the x87/SSE state rt_sigreturn takes */

#define HANDLER_SEGV 0x5555000ul
#define SI_KERNEL 0x80
#define MC_RAX (MC + 13 * 8)

static _Alignas(16) uint8_t resume_fx[512];

/* SIGUSR1 delivered to HANDLER on context(top): its frame's address. */
static uint64_t frame_for_usr1(uint64_t top)
{
	struct cubi_sigctx c = context(top);

	assert_int_equal(SYS2(SYS_kill, 1, SIGUSR1), 0);
	assert_true(cubi_signal_deliver(&c));
	assert_true(initial_fx(fx));
	memset(fx, 0xee, sizeof(fx));		/* what the handler left */
	return c.rsp;
}

static void set_frame_mxcsr(uint64_t f, uint32_t mxcsr)
{
	memcpy((uint8_t *)at(f + MC_FPSTATE) + 24, &mxcsr, sizeof(mxcsr));
}

/* The handler's rt_sigreturn refused the state (FXRSTOR would fault):
 * back is aimed at SIGSEGV's handler, entered as Linux forces it
 * (SI_KERNEL, si_addr 0, trapno and err 0) in the restored context - its
 * registers with rax 0, the restored mask - with the initial x87/SSE
 * state in the frame and in the image it resumes with; that handler
 * returns to the restored context with the initial state. */
static void check_refused(const struct cubi_sigctx *orig, struct cubi_sigctx *back)
{
	struct cubi_sigctx want = *orig, again;
	uint64_t f = back->rsp;

	want.rax = 0;
	assert_int_equal(back->rip, HANDLER_SEGV);
	assert_int_equal(back->rdi, SIGSEGV);
	assert_int_equal(back->rsi, f + INFO);
	assert_ptr_equal(back->fx, resume_fx);
	assert_true(initial_fx(resume_fx));
	assert_int_equal(*(int32_t *)(f + INFO), SIGSEGV);
	assert_int_equal(*(int32_t *)(f + INFO + 8), SI_KERNEL);
	assert_int_equal(at(f + INFO + 16), 0);			/* si_addr */
	assert_memory_equal((void *)(f + MC), &want, 18 * 8);
	assert_int_equal(at(f + MC_TRAPNO), 0);
	assert_int_equal(at(f + MC_ERR), 0);
	assert_true(initial_fx((const uint8_t *)at(f + MC_FPSTATE)));
	assert_int_equal(at(f + UC_SIGMASK), 0);
	assert_int_equal(blocked(), BIT(SIGSEGV));
	assert_false(cubi_signal_pending());

	memset(resume_fx, 0xee, sizeof(resume_fx));
	assert_int_equal(cubi_signal_return(f + 8, &again, resume_fx), 0);
	assert_memory_equal(&again, &want, 18 * 8);
	assert_true(initial_fx(resume_fx));
	assert_int_equal(blocked(), 0);
}

static void fpstate_body(void)
{
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack)) - 8;
	uint32_t mask = cub_arch_mxcsr_mask(), outside = ~mask & (0u - ~mask);
	struct cubi_sigctx orig = context(top), back;
	uint8_t want[512];
	uint64_t f;

	/* The host CPU's mask: the low 16 bits but perhaps DAZ, never all. */
	assert_int_equal(mask & 0xffbfu, 0xffbfu);
	assert_int_not_equal(outside, 0);
	set_blocked(0);
	set_action(SIGUSR1, HANDLER, SA_SIGINFO, 0);
	set_action(SIGSEGV, HANDLER_SEGV, SA_SIGINFO, 0);

	/* A handler may change the state it returns to: a control word, an
	 * MXCSR the CPU takes, registers - all of it comes back as it is. */
	f = frame_for_usr1(top);
	memcpy(want, interrupted_fx, sizeof(want));
	memcpy(want, &(uint16_t){ 0x27f }, 2);
	memcpy(want + 24, &(uint32_t){ 0x3f80u | (mask & 0x40u) }, 4);	/* DAZ if any */
	memcpy((void *)at(f + MC_FPSTATE), want, sizeof(want));
	at_put(f + MC_RAX, 1234);
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	assert_int_equal(back.rip, orig.rip);
	assert_int_equal(back.rax, 1234);
	assert_memory_equal(resume_fx, want, sizeof(want));
	assert_int_equal(blocked(), 0);

	/* MXCSR 0xffffffff (FXRSTOR: #GP): refused, SIGSEGV. */
	f = frame_for_usr1(top);
	set_frame_mxcsr(f, 0xffffffffu);
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	check_refused(&orig, &back);

	/* One bit outside the mask is enough. */
	f = frame_for_usr1(top);
	set_frame_mxcsr(f, PROG_MXCSR | outside);
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	check_refused(&orig, &back);

	/* An fpstate nobody can read, or not 16-byte aligned: SIGSEGV too. */
	f = frame_for_usr1(top);
	at_put(f + MC_FPSTATE, WILD);
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	check_refused(&orig, &back);
	f = frame_for_usr1(top);
	at_put(f + MC_FPSTATE, at(f + MC_FPSTATE) + 8);
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	check_refused(&orig, &back);

	/* NULL: Linux's initial state, and no signal. */
	f = frame_for_usr1(top);
	at_put(f + MC_FPSTATE, 0);
	memset(resume_fx, 0xee, sizeof(resume_fx));
	assert_int_equal(cubi_signal_return(f + 8, &back, resume_fx), 0);
	assert_memory_equal(&back, &orig, 18 * 8);
	assert_ptr_equal(back.fx, resume_fx);
	assert_true(initial_fx(resume_fx));
	assert_int_equal(blocked(), 0);
	assert_false(cubi_signal_pending());
	set_action(SIGSEGV, 0, 0, 0);
}

static void test_sigreturn_fpstate(void **state)
{
	(void)state;
	run(fpstate_body);
}

static jmp_buf died;
static int died_status;

static void on_exit_hook(int status)
{
	died_status = status;
	longjmp(died, 1);
}

/* Refused with SIGSEGV's default action: the program ends (status 125)
 * with a report that says why, never a fault inside the shim. A panic is
 * once per process: this test runs last. */
static void killed_body(void)
{
	static char text[4096];
	uint64_t top = (uint64_t)(uintptr_t)(stack + sizeof(stack)) - 8;
	struct cubi_sigctx back;
	bool irq_on = cub_arch_irq_enabled();
	uint64_t f;

	set_blocked(0);
	set_action(SIGUSR1, HANDLER, SA_SIGINFO, 0);
	set_action(SIGSEGV, 0, 0, 0);
	f = frame_for_usr1(top);
	set_frame_mxcsr(f, 0xffffffffu);
	cubi_host_set_exit_hook(on_exit_hook);
	cubi_host_capture_console(text, sizeof(text));
	if (!setjmp(died)) {
		(void)cubi_signal_return(f + 8, &back, resume_fx);
		died_status = -1;
	}
	cubi_host_capture_console(NULL, 0);
	cubi_host_set_exit_hook(NULL);
	if (irq_on)
		cub_arch_irq_enable();
	assert_int_equal(died_status, 125);
	assert_non_null(strstr(text, "rt_sigreturn: the signal frame's x87/SSE state at 0x"));
	assert_non_null(strstr(text, "has MXCSR 0xffffffff, with bits outside the CPU's 0x"));
	assert_non_null(strstr(text, "program killed by signal 11 (SIGSEGV)"));
}

static void test_sigreturn_fpstate_killed(void **state)
{
	(void)state;
	run(killed_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver_and_return),
		cmocka_unit_test(test_masks_and_actions),
		cmocka_unit_test(test_altstack),
		cmocka_unit_test(test_interrupted_calls),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_sigreturn_chain),
		cmocka_unit_test(test_sigreturn_fpstate),
		cmocka_unit_test(test_sigreturn_fpstate_killed),	/* last: panics */
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
