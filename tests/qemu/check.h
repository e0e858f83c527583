/*
 * check.h - checks for bare-metal test programs: a failed one prints
 * "FAIL file:line: what" (with both values for CHECK_EQ) and ends the
 * machine with status 1, so tests/qemu/expect sees the failure.
 */
#ifndef QEMU_TEST_CHECK_H
#define QEMU_TEST_CHECK_H

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

#endif
