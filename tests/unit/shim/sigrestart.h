/*
 * sigrestart.h - what the tests of interrupted and restarted system
 * calls share (test_shim_fifo.c, test_shim_splice_restart.c): a call
 * as a program's registers, run in a coroutine until it waits, then
 * interrupted by SIGUSR1 to the thread (tid 1, which every coroutine
 * shares); its handler's round trip (nothing runs handlers on the host:
 * cubi_signal_deliver_syscall builds the frame on a stack of ours at the
 * call's return, cubi_signal_restore takes it back); and the call the context
 * given back restarts. Include after cmocka.h and sys.h, with src/shim
 * on the include path.
 */
#ifndef CUBRT_TEST_SHIM_SIGRESTART_H
#define CUBRT_TEST_SHIM_SIGRESTART_H

#include <cubrt/sched.h>

#include "shim_impl.h"

#ifndef SIGUSR1
#define SIGUSR1 10
#endif
#define SA_RESTORER 0x04000000u
#define SA_RESTART 0x10000000u
#define HANDLER 0x1111000ul		/* never called: only recorded */
#define RESTORER 0x2222000ul
#define AFTER_CALL 0x3333002ul		/* rip past a `syscall` (2 bytes) */

/* The registers a program sets for a call. */
struct sys_call {
	long nr, a[6];
};

static inline void *sys_call_run(void *arg)
{
	const struct sys_call *c = arg;

	return (void *)SYS6(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
}

/* SIGUSR1's action: a handler, with SA_RESTART or not; every signal
 * unblocked. */
static inline void set_usr1_handler(bool restart)
{
	struct { uint64_t handler, flags, restorer, mask; } sa = {
		HANDLER, SA_RESTORER | (restart ? SA_RESTART : 0), RESTORER, 0 };
	uint64_t none = 0;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_int_equal(SYS4(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 8), 0);
}

/* Runs c in a coroutine, lets it wait, signals the thread: the call's
 * result. */
static inline long sys_call_interrupted(const struct sys_call *c)
{
	struct cub_coro *co;
	void *res;

	assert_int_equal(cub_coro_spawn(&co, sys_call_run, (void *)c, NULL), 0);
	for (int i = 0; i < 3; i++)
		cub_coro_yield();
	assert_int_equal(SYS3(SYS_tgkill, 1, 1, SIGUSR1), 0);
	assert_int_equal(cub_coro_join(co, &res), 0);
	return (long)res;
}

/* The handler runs for the signal that ended c with rc and returns: the
 * context the program resumes with. at_return: the signal is taken at
 * the call's return (where a restart is decided), else later in program
 * code (an interrupt's return) with the registers the call left. */
static inline struct cubi_sigctx sys_call_handled_at(const struct sys_call *c, long rc,
						     bool at_return)
{
	static _Alignas(64) uint8_t frames[16384];
	static _Alignas(16) uint8_t fx[512];
	struct cubi_sigctx ctx = { .rax = (uint64_t)rc, .rdi = (uint64_t)c->a[0],
				   .rsi = (uint64_t)c->a[1], .rdx = (uint64_t)c->a[2],
				   .r10 = (uint64_t)c->a[3], .r8 = (uint64_t)c->a[4],
				   .r9 = (uint64_t)c->a[5], .rip = AFTER_CALL,
				   .rsp = (uintptr_t)(frames + sizeof(frames)),
				   .rflags = 0x202, .fx = fx }, back;

	assert_true(at_return ? cubi_signal_deliver_syscall(&ctx) : cubi_signal_deliver(&ctx));
	assert_int_equal(ctx.rip, HANDLER);
	assert_int_equal(ctx.rdi, SIGUSR1);
	assert_int_equal(cubi_signal_restore(ctx.rsp + 8, &back), 0);
	return back;
}

static inline struct cubi_sigctx sys_call_handled(const struct sys_call *c, long rc)
{
	return sys_call_handled_at(c, rc, true);
}

/* The call a context given back makes when the program goes on. */
static inline struct sys_call sys_call_again(const struct cubi_sigctx *back)
{
	return (struct sys_call){ (long)back->rax,
				  { (long)back->rdi, (long)back->rsi, (long)back->rdx,
				    (long)back->r10, (long)back->r8, (long)back->r9 } };
}

#endif
