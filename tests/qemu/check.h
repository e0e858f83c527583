/*
 * check.h - checks for bare-metal test programs. CHECK and CHECK_EQ: a
 * failed one prints "FAIL file:line: what" (with both values for
 * CHECK_EQ) and ends the machine with status 1, so tests/qemu/expect
 * sees the failure. check(what, ok): a tally that goes on after a
 * failure, one "what: ok" or "what: FAILED" line each, and
 * check_summary(name) prints "name: P of T checks passed" for the test
 * to match and returns the exit status.
 */
#ifndef QEMU_TEST_CHECK_H
#define QEMU_TEST_CHECK_H

#include <cubrt/base.h>
#include <cubrt/fmt.h>
#include <cubrt/panic.h>

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			cub_printk("FAIL %s:%d: %s\n", __FILE__, __LINE__, \
				   #cond);                                \
			cub_exit(1);                                      \
		}                                                         \
	} while (0)

#define CHECK_EQ(a, b)                                                    \
	do {                                                              \
		long long a_ = (long long)(a), b_ = (long long)(b);       \
		if (a_ != b_) {                                           \
			cub_printk("FAIL %s:%d: %s == %lld, want %lld\n",  \
				   __FILE__, __LINE__, #a, a_, b_);       \
			cub_exit(1);                                      \
		}                                                         \
	} while (0)

struct check_tally {
	int passed, total;
};

static inline struct check_tally *check_tally(void)
{
	static struct check_tally t;

	return &t;
}

static inline void check(const char *what, bool ok)
{
	check_tally()->total++;
	check_tally()->passed += ok;
	cub_printk("%s: %s\n", what, ok ? "ok" : "FAILED");
}

static inline int check_summary(const char *name)
{
	struct check_tally *t = check_tally();

	cub_printk("%s: %d of %d checks passed\n", name, t->passed, t->total);
	return t->passed == t->total ? 0 : 1;
}

#endif
