/*
 * time.c - clocks and sleeps.
 *
 * MONOTONIC, MONOTONIC_RAW/COARSE and BOOTTIME read cub_time_now();
 * REALTIME (and _COARSE, TAI) read the platform wall clock. The CPU-time
 * clocks report monotonic time too: cubrt does not account CPU time per
 * thread (documented in docs/shim.md). Sleeps park the calling coroutine.
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "shim_impl.h"

#define TIMER_ABSTIME 1
#define NSEC 1000000000ull

struct timespec_user {
	int64_t sec, nsec;
};

/* Reads clock clk; false for an unknown clock id. */
static bool read_clock(uint64_t clk, uint64_t *ns)
{
	switch (clk) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_TAI:
		*ns = cub_arch_wallclock_ns();
		return true;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		*ns = cub_time_now();
		return true;
	default:
		return false;
	}
}

static int put_ts(uintptr_t dst, uint64_t ns)
{
	struct timespec_user ts = { (int64_t)(ns / NSEC), (int64_t)(ns % NSEC) };

	return cubi_copy_out(dst, &ts, sizeof(ts));
}

/* Reads and validates a timespec into ns: -EFAULT or -EINVAL on error. */
static int get_ts(uintptr_t src, uint64_t *ns)
{
	struct timespec_user ts;

	if (cubi_copy_in(&ts, src, sizeof(ts)))
		return -CUB_EFAULT;
	if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= (int64_t)NSEC)
		return -CUB_EINVAL;
	*ns = (uint64_t)ts.sec > UINT64_MAX / NSEC - 1 ? UINT64_MAX
						     : (uint64_t)ts.sec * NSEC + (uint64_t)ts.nsec;
	return 0;
}

int cubi_timespec_get(uintptr_t src, uint64_t *ns)
{
	return get_ts(src, ns);
}

int cubi_timespec_put(uintptr_t dst, uint64_t ns)
{
	return put_ts(dst, ns);
}

uint64_t cubi_timer_deadline(uint64_t value, bool abs, bool realtime)
{
	uint64_t now = cub_time_now(), wall;

	if (!abs)
		return now + value < now ? UINT64_MAX / 2 : now + value;
	if (!realtime)
		return value ? value : 1;
	wall = cub_arch_wallclock_ns();
	return value > wall ? now + (value - wall) : (now ? now : 1);
}

/* An itimerspec (interval, then value) at src into its[0..1]. */
int cubi_itimerspec_get(uintptr_t src, uint64_t its[2])
{
	int rc = get_ts(src, &its[0]);

	return rc ? rc : get_ts(src + sizeof(struct timespec_user), &its[1]);
}

int cubi_itimerspec_put(uintptr_t dst, const uint64_t its[2])
{
	if (!cubi_user_writable(dst, 2 * sizeof(struct timespec_user)))
		return -CUB_EFAULT;
	put_ts(dst, its[0]);
	return put_ts(dst + sizeof(struct timespec_user), its[1]);
}

CUBI_SYS(clock_gettime)
{
	uint64_t ns;

	if (!read_clock(A0(r), &ns))
		return -CUB_EINVAL;
	return put_ts(A1(r), ns);
}

CUBI_SYS(clock_getres)
{
	uint64_t ns;

	if (!read_clock(A0(r), &ns))
		return -CUB_EINVAL;
	return A1(r) ? put_ts(A1(r), 1) : 0;
}

CUBI_SYS(gettimeofday)
{
	uint64_t ns = cub_arch_wallclock_ns();
	int64_t tv[2] = { (int64_t)(ns / NSEC), (int64_t)(ns % NSEC / 1000) };
	int32_t tz[2] = { 0, 0 };

	if (A0(r) && cubi_copy_out(A0(r), tv, sizeof(tv)))
		return -CUB_EFAULT;
	if (A1(r) && cubi_copy_out(A1(r), tz, sizeof(tz)))
		return -CUB_EFAULT;
	return 0;
}

CUBI_SYS(time)
{
	int64_t t = (int64_t)(cub_arch_wallclock_ns() / NSEC);

	if (A0(r) && cubi_copy_out(A0(r), &t, sizeof(t)))
		return -CUB_EFAULT;
	return t;
}

/* Sleeps wait on a futex word nobody wakes, so that a signal with a
 * handler can interrupt them like any other blocking call (futex.c). */
static uint32_t sleep_word;

/* Sleeps ns; -CUB_EINTR with *left set when a signal interrupted it. */
static long sleep_ns(uint64_t ns, uint64_t *left)
{
	uint64_t now = cub_time_now();
	uint64_t until = now + ns < now ? UINT64_MAX / 2 : now + ns;
	long rc = cubi_futex_wait((uintptr_t)&sleep_word, 0, until ? until : 1,
				  ~0u, "sleep");

	if (rc != -CUB_EINTR)
		return 0;
	now = cub_time_now();
	*left = until > now ? until - now : 0;
	return rc;
}

/* Stores a remaining time for nanosleep's rem (checked writable). */
static void put_rem(uintptr_t urem, uint64_t ns)
{
	struct timespec_user ts = { (int64_t)(ns / NSEC), (int64_t)(ns % NSEC) };

	if (urem)
		cubi_copy_out(urem, &ts, sizeof(ts));
}

/* A relative sleep; when a signal ends it, the time left goes to urem. */
static long relative_sleep(uint64_t ns, uintptr_t urem)
{
	long rc;

	if (urem && !cubi_user_writable(urem, sizeof(struct timespec_user)))
		return -CUB_EFAULT;
	rc = sleep_ns(ns, &ns);
	if (rc == -CUB_EINTR)
		put_rem(urem, ns);
	return rc;
}

CUBI_SYS(nanosleep)
{
	uint64_t ns;
	int rc = get_ts(A0(r), &ns);

	return rc ? rc : relative_sleep(ns, A1(r));
}

CUBI_SYS(clock_nanosleep)
{
	uint64_t ns, now;
	int rc;

	if (A0(r) == CLOCK_THREAD_CPUTIME_ID)
		return -CUB_EINVAL;
	if (!read_clock(A0(r), &now))
		return -CUB_EINVAL;
	if (A1(r) & ~(uint64_t)TIMER_ABSTIME)
		return -CUB_EINVAL;
	rc = get_ts(A2(r), &ns);
	if (rc)
		return rc;
	if (A1(r) & TIMER_ABSTIME)	/* absolute: no remaining time */
		return sleep_ns(ns > now ? ns - now : 0, &ns);
	return relative_sleep(ns, A3(r));
}
