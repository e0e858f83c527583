/*
 * sigtest.h - what the tests of signals and the timers that send them
 * share (test_shim_sigtimer.c, test_shim_timerflood.c): Linux's records
 * as the program passes them, a body run inside the scheduler, and
 * actions, masks and sigtimedwait through the dispatcher. Include after
 * cmocka.h, <cubrt/sched.h> and sys.h.
 */
#ifndef CUBRT_TEST_SIGTEST_H
#define CUBRT_TEST_SIGTEST_H

#include <stdint.h>

#define SYS_rt_sigtimedwait 128
#define SA_RESTORER 0x04000000u
#define BIT(s) (1ull << ((s) - 1))
#define MS 1000000ll
#define NSEC 1000000000ll

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};
struct info {
	int32_t signo, errno_, code, pad;
	int32_t pid, uid;	/* timers: si_tid (the id), si_overrun */
	uint64_t value;
	uint8_t rest[96];
};
struct sigev {
	uint64_t value;
	int32_t signo, notify, tid, pad[11];
};

/* Runs body as the first coroutine of a scheduler run. */
static inline void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static inline void set_action(int sig, uint64_t handler)
{
	struct ksigaction a = { handler, SA_RESTORER, 0x2222000, 0 };

	assert_int_equal(SYS4(SYS_rt_sigaction, sig, &a, NULL, 8), 0);
}

static inline void set_blocked(uint64_t m)
{
	assert_int_equal(SYS4(SYS_rt_sigprocmask, 2, &m, NULL, 8), 0);
}

/* sigtimedwait for set, ms milliseconds (-1: no timeout). */
static inline long waitsig(uint64_t set, struct info *info, long ms)
{
	int64_t ts[2] = { ms / 1000, ms % 1000 * MS };

	return SYS4(SYS_rt_sigtimedwait, &set, info, ms < 0 ? NULL : ts, 8);
}

/* sigtimedwait for set while spinning on the CPU, up to ms milliseconds:
 * a CPU-time timer (ITIMER_PROF, a CPUTIME clock's) only counts while its
 * thread has the CPU, so blocking for its signal would wait forever, as
 * on Linux. Needs <cubrt/time.h>. */
static inline long spinsig(uint64_t set, struct info *info, long ms)
{
	uint64_t t0 = cub_time_now();
	long r;

	while ((r = waitsig(set, info, 0)) == -CUB_EAGAIN &&
	       cub_time_now() - t0 < (uint64_t)ms * MS)
		;
	return r;
}

#endif
