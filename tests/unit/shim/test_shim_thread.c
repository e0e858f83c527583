/*
 * test_shim_thread.c - the blocking side of the shim, run inside the
 * scheduler: futex wait/wake/requeue/bitsets/timeouts, Linux threads made
 * by clone (started on their own stack at a given rip, joined through
 * CLONE_CHILD_CLEARTID + futex like pthread_join) and what they inherit
 * (prctl's keep-capabilities bit, per thread), sleeps, exit_group and
 * signals to self ending the program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>
#include "host.h"
#include "sys.h"

#define WAIT 0
#define WAKE 1
#define REQUEUE 3
#define CMP_REQUEUE 4
#define WAIT_BITSET 9
#define WAKE_BITSET 10
#define PRIVATE 128
#define SYS_prctl 157

static volatile uint32_t word, word2;
static volatile int woke;

static long futex(volatile uint32_t *a, long op, long val, const void *ts,
		  volatile uint32_t *a2, long val3)
{
	return SYS6(SYS_futex, a, op, val, ts, a2, val3);
}

static void *run(void (*body)(void))
{
	void *res;

	assert_int_equal(cub_sched_run((cub_coro_fn)(void *)body, NULL, &res), 0);
	return res;
}

static void futex_errors(void)
{
	int64_t ts[2] = { 0, 2000000000 };

	word = 5;
	assert_int_equal(futex(&word, WAIT, 4, NULL, NULL, 0), -CUB_EAGAIN);
	assert_int_equal(futex((uint32_t *)((char *)&word + 1), WAIT, 5, NULL, NULL, 0), -CUB_EINVAL);
	assert_int_equal(futex((uint32_t *)WILD, WAIT, 5, NULL, NULL, 0), -CUB_EFAULT);
	assert_int_equal(futex(&word, WAIT, 5, ts, NULL, 0), -CUB_EINVAL);
	assert_int_equal(futex(&word, WAIT, 5, (void *)WILD, NULL, 0), -CUB_EFAULT);
	assert_int_equal(futex(&word, WAIT_BITSET, 5, NULL, NULL, 0), -CUB_EINVAL);
	assert_int_equal(futex(&word, WAKE_BITSET, 1, NULL, NULL, 0), -CUB_EINVAL);
	assert_int_equal(futex(&word, WAKE, 1, NULL, NULL, 0), 0);
	assert_int_equal(futex(&word, WAKE | PRIVATE, 1, NULL, NULL, 0), 0);
	assert_int_equal(futex(&word, WAKE, -1, NULL, NULL, 0), -CUB_EINVAL);
	assert_int_equal(futex(&word, 77, 1, NULL, NULL, 0), -CUB_ENOSYS);
	assert_int_equal(futex(&word, WAKE | 256, 1, NULL, NULL, 0), -CUB_ENOSYS);
	assert_int_equal(futex(&word, CMP_REQUEUE, 1, (void *)1, &word2, 4), -CUB_EAGAIN);
	assert_int_equal(futex(&word, REQUEUE, 1, (void *)1, (uint32_t *)WILD, 0), -CUB_EFAULT);
}

static void test_futex_errors(void **state)
{
	(void)state;
	run(futex_errors);
}

static void futex_timeouts(void)
{
	int64_t rel[2] = { 0, 5000000 }, abs[2];
	uint64_t t0 = cub_time_now();

	word = 1;
	assert_int_equal(futex(&word, WAIT | PRIVATE, 1, rel, NULL, 0), -CUB_ETIMEDOUT);
	assert_true(cub_time_now() - t0 >= 5000000);
	/* Absolute (WAIT_BITSET, monotonic) deadline already past. */
	abs[0] = 0;
	abs[1] = 1;
	assert_int_equal(futex(&word, WAIT_BITSET, 1, abs, NULL, ~0u), -CUB_ETIMEDOUT);
	/* Absolute in 3 ms. */
	t0 = cub_time_now();
	abs[0] = (int64_t)((t0 + 3000000) / 1000000000);
	abs[1] = (int64_t)((t0 + 3000000) % 1000000000);
	assert_int_equal(futex(&word, WAIT_BITSET, 1, abs, NULL, ~0u), -CUB_ETIMEDOUT);
	assert_true(cub_time_now() - t0 >= 3000000);
}

static void test_futex_timeouts(void **state)
{
	(void)state;
	run(futex_timeouts);
}

static void *waiter(void *arg)
{
	long bits = (long)arg;
	long rc = bits ? futex(&word, WAIT_BITSET, 0, NULL, NULL, bits)
		       : futex(&word, WAIT, 0, NULL, NULL, 0);

	assert_int_equal(rc, 0);
	woke++;
	return NULL;
}

static void *waiter2(void *arg)
{
	(void)arg;
	assert_int_equal(futex(&word, WAIT, 0, NULL, NULL, 0), 0);
	woke++;
	return NULL;
}

static void futex_wake_paths(void)
{
	struct cub_coro *c[4];

	word = 0;
	woke = 0;
	cub_coro_spawn(&c[0], waiter, NULL, NULL);
	cub_coro_spawn(&c[1], waiter, (void *)1l, NULL);
	cub_coro_yield();
	cub_coro_yield();
	assert_int_equal(futex(&word, WAKE_BITSET, 5, NULL, NULL, 2), 1); /* plain waiter: all bits */
	assert_int_equal(futex(&word, WAKE_BITSET, 5, NULL, NULL, 1), 1);
	cub_coro_join(c[0], NULL);
	cub_coro_join(c[1], NULL);
	assert_int_equal(woke, 2);
	/* Requeue: three waiters; wake one, move two to word2. */
	for (int i = 0; i < 3; i++)
		cub_coro_spawn(&c[i], waiter2, NULL, NULL);
	cub_coro_yield();
	cub_coro_yield();
	assert_int_equal(futex(&word, CMP_REQUEUE, 1, (void *)2, &word2, 0), 3);
	assert_int_equal(futex(&word, WAKE, 10, NULL, NULL, 0), 0);
	assert_int_equal(futex(&word2, WAKE, 10, NULL, NULL, 0), 2);
	for (int i = 0; i < 3; i++)
		cub_coro_join(c[i], NULL);
	assert_int_equal(woke, 5);
}

static void test_futex_wake_paths(void **state)
{
	(void)state;
	run(futex_wake_paths);
}

/* --- clone: a Linux thread entered at child_main on its own stack --- */

static uint64_t child_stack[8192] __attribute__((aligned(16)));
static volatile uint32_t ctid = 0xFFFF, ptid;
static volatile long child_tid_seen, child_ran;

/* Also the thread's prctl PR_GET_KEEPCAPS (7) before and after it sets
 * it to 0 with PR_SET_KEEPCAPS (8). */
static volatile long child_caps[3];

static void child_main(void)
{
	child_tid_seen = SYS0(SYS_gettid);
	child_caps[0] = SYS1(SYS_prctl, 7);
	child_caps[1] = SYS2(SYS_prctl, 8, 0);
	child_caps[2] = SYS1(SYS_prctl, 7);
	child_ran++;
	SYS1(SYS_exit, 0);
	fail_msg("exit returned");
}

/* Clones a thread entered at entry and waits for its exit: its tid. */
static long clone_at(void (*entry)(void))
{
	uint64_t flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x40000 |
			 0x100000 | 0x200000 | 0x1000000;
	uint64_t rflags;
	/* child_main is entered as if called: rsp at a return address,
	 * rsp + 8 16-byte aligned (clang's code relies on it). */
	uint64_t *top = &child_stack[8192 - 1];
	struct cub_shim_regs r = { 0 };
	long tid;

	__asm__ volatile("pushfq; popq %0" : "=r"(rflags));
	top[0] = 0;	/* a fake return address: child_main never returns */
	r.rax = SYS_clone;
	r.rdi = flags;
	r.rsi = (uint64_t)top;
	r.rdx = (uint64_t)&ptid;
	r.r10 = (uint64_t)&ctid;
	r.rip = (uint64_t)entry;
	r.rflags = rflags;
	ctid = 0xFFFF;
	tid = cub_shim_syscall(&r);
	assert_true(tid > 1);
	assert_int_equal(ptid, tid);
	/* pthread_join: wait until the kernel clears the tid word. */
	while (ctid != 0)
		futex(&ctid, WAIT, ctid, NULL, NULL, 0);
	return tid;
}

/* One clone per process: under ASan a dead clone's stack, reused by the
 * next, still carries its frames' poison (it never returned). The
 * creator's PR_SET_KEEPCAPS is inherited by the thread, whose own change
 * leaves the creator's bit alone: a per-thread credential bit, as on
 * Linux (Go's AllThreadsSyscall sets it on each thread). */
static void clone_and_join(void)
{
	long tid;

	assert_int_equal(SYS1(SYS_prctl, 7), 0);
	assert_int_equal(SYS2(SYS_prctl, 8, 2), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_prctl, 8, ~0ul), -CUB_EINVAL);
	assert_int_equal(SYS2(SYS_prctl, 8, 1), 0);
	assert_int_equal(SYS1(SYS_prctl, 7), 1);
	tid = clone_at(child_main);
	assert_int_equal(child_caps[0], 1);
	assert_int_equal(child_caps[1], 0);
	assert_int_equal(child_caps[2], 0);
	assert_int_equal(SYS1(SYS_prctl, 7), 1);
	assert_int_equal(SYS2(SYS_prctl, 8, 0), 0);
	assert_int_equal(SYS1(SYS_prctl, 7), 0);
	assert_int_equal(child_ran, 1);
	assert_int_equal(child_tid_seen, tid);
	assert_int_not_equal(SYS0(SYS_gettid), tid);
}

static void test_clone_thread(void **state)
{
	(void)state;
	run(clone_and_join);
}

static void sleeps(void)
{
	int64_t ts[2] = { 0, 2000000 };
	uint64_t t0 = cub_time_now();

	assert_int_equal(SYS2(SYS_nanosleep, ts, NULL), 0);
	assert_true(cub_time_now() - t0 >= 2000000);
	t0 = cub_time_now();
	assert_int_equal(SYS4(SYS_clock_nanosleep, 1, 0, ts, NULL), 0);
	assert_true(cub_time_now() - t0 >= 2000000);
	ts[0] = 0;
	ts[1] = 5;	/* absolute: long past */
	assert_int_equal(SYS4(SYS_clock_nanosleep, 1, 1, ts, NULL), 0);
	assert_int_equal(SYS0(SYS_sched_yield), 0);
}

static void test_sleeps(void **state)
{
	(void)state;
	run(sleeps);
}

static jmp_buf exit_jmp;
static int exit_status;

static void on_exit_hook(int status)
{
	exit_status = status;
	longjmp(exit_jmp, 1);
}

static void test_exit_group_and_abort(void **state)
{
	static char text[2048];

	(void)state;
	cubi_host_set_exit_hook(on_exit_hook);
	cubi_host_capture_console(text, sizeof(text));
	if (!setjmp(exit_jmp))
		SYS1(SYS_exit_group, 42);
	assert_int_equal(exit_status, 42);
	if (!setjmp(exit_jmp))
		SYS2(SYS_tkill, 1, 6);
	cubi_host_capture_console(NULL, 0);
	cubi_host_set_exit_hook(NULL);
	assert_int_equal(exit_status, 125);
	assert_non_null(strstr(text, "killed by signal 6 (SIGABRT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_futex_errors),
		cmocka_unit_test(test_futex_timeouts),
		cmocka_unit_test(test_futex_wake_paths),
		cmocka_unit_test(test_clone_thread),
		cmocka_unit_test(test_sleeps),
		cmocka_unit_test(test_exit_group_and_abort),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
