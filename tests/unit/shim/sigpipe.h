/*
 * sigpipe.h - what the tests of SIGPIPE share (test_shim_pipe.c,
 * test_shim_unix.c, test_shim_socket.c, test_shim_sendfile.c,
 * test_shim_splice.c): setting its action (or another signal's), and
 * taking it (or another signal) when pending (nothing runs handlers on
 * the host: cubi_signal_deliver builds the frame on a stack of ours and
 * cubi_signal_restore takes it back). Taking needs a coroutine: signals belong to threads. Include
 * after cmocka.h and sys.h, with src/shim on the include path.
 */
#ifndef CUBRT_TEST_SHIM_SIGPIPE_H
#define CUBRT_TEST_SHIM_SIGPIPE_H

#include <string.h>

#include "shim_impl.h"

#define SIGPIPE 13
#define SIGPIPE_HANDLER 0x1111000ul	/* never called: only recorded */

struct sigpipe_action {		/* Linux's struct kernel_sigaction */
	uint64_t handler, flags, restorer, mask;
};

/* Signal sig's action: handler (0 SIG_DFL, or an address only recorded),
 * with every signal unblocked (SIG_SETMASK to none). */
static inline void set_action_unblocked(int sig, uint64_t handler)
{
	struct sigpipe_action a = { handler, 0x04000000u /* SA_RESTORER */, 0x2222000, 0 };
	uint64_t none = 0;

	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &none, NULL, 8), 0);
	assert_int_equal(SYS4(SYS_rt_sigaction, sig, &a, NULL, 8), 0);
}

/* handler: 0 SIG_DFL, 1 SIG_IGN, or SIGPIPE_HANDLER. */
static inline void set_sigpipe(uint64_t handler)
{
	struct sigpipe_action a = { handler, 0x04000000u /* SA_RESTORER */, 0x2222000, 0 };

	assert_int_equal(SYS4(SYS_rt_sigaction, SIGPIPE, &a, NULL, 8), 0);
}

/* True when a signal was pending for the calling thread, taken now;
 * asserts that it was sig. */
static inline bool signal_taken(int sig)
{
	static _Alignas(64) uint8_t stack[16384], fx[512];
	struct cubi_sigctx c, back;

	memset(&c, 0, sizeof(c));
	c.rsp = (uintptr_t)(stack + sizeof(stack)) - 64;
	c.rip = 0x3333000;
	c.rflags = 0x202;
	c.fx = fx;
	if (!cubi_signal_deliver(&c))
		return false;
	assert_int_equal(c.rdi, sig);
	assert_int_equal(cubi_signal_restore(c.rsp + 8, &back), 0);
	return true;
}

static inline bool sigpipe_taken(void)
{
	return signal_taken(SIGPIPE);
}

#endif
