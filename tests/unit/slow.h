/*
 * slow.h - how much slower than native a host test runs, for the few
 * tests whose checks are real-time tolerances (the SNTP keeper's poll
 * gaps and measured offsets): 10 under valgrind (scripts/test's
 * valgrind run: its LD_PRELOAD names vgpreload), else 1;
 * $CUBRT_TEST_SLOW (an integer >= 1) overrides either. A tolerance
 * times this stays meaningful natively and does not fail a run that is
 * only slow.
 */
#ifndef CUBRT_TEST_SLOW_H
#define CUBRT_TEST_SLOW_H

#include <stdlib.h>
#include <string.h>

static inline long test_slowness(void)
{
	const char *s = getenv("CUBRT_TEST_SLOW"), *pre = getenv("LD_PRELOAD");
	long f = s ? strtol(s, NULL, 10) : 0;

	if (f >= 1)
		return f;
	return pre && strstr(pre, "vgpreload") ? 10 : 1;
}

#endif
