/*
 * test_ctx - the context-switch primitives of platform/x86/switch.S (shared
 * by the host port) on their own, without the scheduler:
 *  - cub_arch_ctx_switch keeps each side's callee-saved registers and its
 *    own MXCSR and x87 control word;
 *  - cub_arch_ctx_switch_then runs its hook on resume and hands the hook's
 *    result to the caller, both when it is tail-called (the resumed side
 *    jumps straight to the caller's caller) and when it is not (an
 *    unoptimised build: the caller gets the value and goes on);
 *  - cub_arch_ctx_jump leaves a context for good.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/arch.h>

#define STACK_SIZE (64 * 1024)
#define MXCSR_DEFAULT 0x1F80u
#define MXCSR_DOWN 0x3F80u		/* round toward -inf */
#define FPUCW_DEFAULT 0x037Fu
#define FPUCW_DOWN 0x077Fu		/* round toward -inf */

static _Alignas(16) char stack_b[STACK_SIZE];
static struct cub_arch_ctx main_ctx, b_ctx;
static int step, hook_calls;
static unsigned b_mxcsr, b_fpucw;

static unsigned get_mxcsr(void)
{
	unsigned v;

	__asm__ volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(unsigned v)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static unsigned get_fpucw(void)
{
	uint16_t v;

	__asm__ volatile("fnstcw %0" : "=m"(v));
	return v;
}

static void set_fpucw(unsigned v)
{
	uint16_t w = (uint16_t)v;

	__asm__ volatile("fldcw %0" : : "m"(w));
}

/* Leaves junk in every callee-saved register but rbp (the frame pointer
 * in some builds) right before a switch. */
static inline void clobber_callee_saved(void)
{
	__asm__ volatile("mov $-1, %%rbx\n\tmov $-1, %%r12\n\tmov $-1, %%r13\n\t"
			 "mov $-1, %%r14\n\tmov $-1, %%r15"
			 ::: "rbx", "r12", "r13", "r14", "r15");
}

/* ------------------------------------------------------ switch and jump */

static void b_control_words(void *arg)
{
	(void)arg;
	step = 1;
	set_mxcsr(MXCSR_DOWN);
	set_fpucw(FPUCW_DOWN);
	clobber_callee_saved();
	cub_arch_ctx_switch(&b_ctx, &main_ctx);
	b_mxcsr = get_mxcsr();		/* its own words came back */
	b_fpucw = get_fpucw();
	set_mxcsr(MXCSR_DEFAULT);
	set_fpucw(FPUCW_DEFAULT);
	step = 2;
	cub_arch_ctx_jump(&main_ctx);
}

static void test_switch_and_jump(void **state)
{
	volatile long seed = 7;
	long a = seed * 3, b = seed * 5, c = seed * 11, d = seed * 13;

	(void)state;
	assert_int_equal(get_mxcsr() & 0xFFC0u, MXCSR_DEFAULT);
	cub_arch_ctx_adopt(stack_b, sizeof(stack_b));
	cub_arch_ctx_init(&b_ctx, stack_b, sizeof(stack_b), b_control_words,
			  NULL);
	cub_arch_ctx_switch(&main_ctx, &b_ctx);
	assert_int_equal(step, 1);
	/* b changed its rounding modes; ours are untouched. */
	assert_int_equal(get_mxcsr() & 0xFFC0u, MXCSR_DEFAULT);
	assert_int_equal(get_fpucw(), FPUCW_DEFAULT);
	/* Values the compiler keeps in callee-saved registers survived. */
	assert_int_equal(a + b + c + d, 7 * (3 + 5 + 11 + 13));
	cub_arch_ctx_switch(&main_ctx, &b_ctx);
	assert_int_equal(step, 2);
	assert_int_equal(b_mxcsr & 0xFFC0u, MXCSR_DOWN);
	assert_int_equal(b_fpucw, FPUCW_DOWN);
	assert_int_equal(a * b * c * d, 7L * 7 * 7 * 7 * 3 * 5 * 11 * 13);
	cub_arch_ctx_forget(stack_b, sizeof(stack_b));
}

/* ------------------------------------------------------------- the hook */

static int hook(void)
{
	hook_calls++;
	return 41;
}

/* Not a tail call: the value comes back here, and the caller goes on. */
static __attribute__((noinline)) int switch_then_plus_one(void)
{
	int r = cub_arch_ctx_switch_then(&main_ctx, &b_ctx, hook);

	__asm__ volatile("" ::: "memory");
	return r + 1;
}

/* A tail call: the value goes straight to our caller. */
static __attribute__((noinline)) int switch_then_tail(void)
{
	return cub_arch_ctx_switch_then(&main_ctx, &b_ctx, hook);
}

static void b_bounce(void *arg)
{
	(void)arg;
	for (;;) {
		step++;
		clobber_callee_saved();
		cub_arch_ctx_switch(&b_ctx, &main_ctx);
	}
}

static void test_switch_then(void **state)
{
	volatile long seed = 3;
	long a = seed * 7, b = seed * 9, c = seed * 17;
	int r;

	(void)state;
	step = hook_calls = 0;
	cub_arch_ctx_adopt(stack_b, sizeof(stack_b));
	cub_arch_ctx_init(&b_ctx, stack_b, sizeof(stack_b), b_bounce, NULL);
	r = switch_then_plus_one();
	assert_int_equal(r, 42);
	assert_int_equal(hook_calls, 1);
	assert_int_equal(step, 1);
	for (int i = 0; i < 1000; i++) {
		r = switch_then_tail();
		assert_int_equal(r, 41);
	}
	assert_int_equal(hook_calls, 1001);
	assert_int_equal(step, 1001);
	assert_int_equal(a + b + c, 3 * (7 + 9 + 17));
	assert_int_equal(get_mxcsr() & 0xFFC0u, MXCSR_DEFAULT);
	cub_arch_ctx_forget(stack_b, sizeof(stack_b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_and_jump),
		cmocka_unit_test(test_switch_then),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
