/*
 * slow.h - for the host tests whose checks are real-time tolerances
 * (upper bounds on how long something took): how much slower than
 * native a test runs, 10 under valgrind (scripts/test's valgrind run:
 * its LD_PRELOAD names vgpreload), else 1, $CUBRT_TEST_SLOW (an
 * integer >= 1) overriding either; and how long the test's thread
 * waited for a CPU on a busy machine (test_waited_ns, test_bound). A
 * tolerance times the first plus the second stays meaningful natively
 * and does not fail a run that is only slow or only crowded out.
 */
#ifndef CUBRT_TEST_SLOW_H
#define CUBRT_TEST_SLOW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/unistd.h>

static inline long test_slowness(void)
{
	const char *s = getenv("CUBRT_TEST_SLOW"), *pre = getenv("LD_PRELOAD");
	long f = s ? strtol(s, NULL, 10) : 0;

	if (f >= 1)
		return f;
	return pre && strstr(pre, "vgpreload") ? 10 : 1;
}

/*
 * How long this OS thread has waited runnable for a CPU (Linux's
 * /proc/thread-self/schedstat, its second field, in ns); 0 where the
 * kernel does not say. A host test runs every coroutine and timer on
 * one thread, so the wait between two readings is how much later than
 * asked anything in between can have run because the machine was busy
 * with other work (a timer that expired while the thread waited, a
 * coroutine that was ready), and nothing a slow or wrong feature does
 * adds to it. An upper bound on a real time is then checked as
 *     uint64_t w0 = test_waited_ns();
 *     ... measure dt ...
 *     assert_true(dt < test_bound(want + tol, w0));
 * which stays as tight as before on a machine that ran the test at
 * once: a sleep 1 s too long still fails unless the thread really
 * waited 1 s for a CPU then.
 */
static inline uint64_t test_waited_ns(void)
{
	char b[96];
	const char *p = b;
	uint64_t w = 0;
	long fd, n;

	/* Raw calls (openat, read, close: no lock, no allocation), so that
	 * a coroutine preempted inside cannot hold up another one here. */
	fd = syscall(__NR_openat, -100 /* AT_FDCWD */, "/proc/thread-self/schedstat",
		     0 /* O_RDONLY */);
	if (fd < 0)
		return 0;
	do
		n = read((int)fd, b, sizeof(b) - 1);
	while (n < 0 && errno == EINTR);	/* the host's timer signal */
	close((int)fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	while (*p >= '0' && *p <= '9')		/* run time */
		p++;
	if (*p++ != ' ')
		return 0;
	while (*p >= '0' && *p <= '9')
		w = w * 10 + (uint64_t)(*p++ - '0');
	return w;
}

/* A real-time upper bound for a span that began when test_waited_ns()
 * said w0: bound_ns scaled by test_slowness(), plus the thread's wait
 * for a CPU since w0. */
static inline uint64_t test_bound(uint64_t bound_ns, uint64_t w0)
{
	return bound_ns * (uint64_t)test_slowness() + (test_waited_ns() - w0);
}

#endif
