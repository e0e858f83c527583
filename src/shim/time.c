/*
 * time.c - clocks, sleeps and setting the wall clock.
 *
 * MONOTONIC, MONOTONIC_RAW/COARSE and BOOTTIME read cub_time_now();
 * REALTIME (and _COARSE) read the settable wall clock (cub_time_wall),
 * TAI the same plus adjtimex's TAI offset (0 unless ADJ_TAI set it:
 * adjtimex.c). The CPU-time clocks (CLOCK_PROCESS_CPUTIME_ID,
 * CLOCK_THREAD_CPUTIME_ID and Linux's encoded ids of a process's or
 * thread's clock) read what cputime.c accounts, at 1 ns resolution.
 * Sleeps park the calling coroutine; a sleep on a CPU-time clock is
 * -EINVAL for the caller's own thread clock (as on Linux: it cannot
 * advance while its thread sleeps), and on another thread's or the
 * process's lasts until that clock gets there (cpusleep.c).
 *
 * clock_settime(CLOCK_REALTIME) and settimeofday set the wall clock (the
 * program is the machine's only user, so it may, as root may on Linux);
 * so do adjtimex's ADJ_SETOFFSET and the SNTP keeper (cubi_wall_set).
 * A slew or a rate (adjtimex.c) moves no timer: an absolute REALTIME
 * timer keeps the monotonic deadline it got when armed, so it may end
 * up to 500 ppm (plus the rate) of its wait early or late.
 * As on Linux, what waits for an absolute wall time follows the step:
 * timerfds and POSIX timers armed with an absolute REALTIME expiry move
 * their monotonic deadlines by it (cubi_timerfd_wall_step,
 * cubi_ptimer_wall_step), so do absolute FUTEX_CLOCK_REALTIME waits
 * (cubi_futex_wall_step), and absolute REALTIME clock_nanosleeps wait on
 * wall_gen, which every step bumps and wakes, and then wait again for
 * what is left on the new clock. Relative timers and sleeps do not move.
 *
 * Invariants: wall_gen changes (and its waiters are woken) after every
 * step of the wall clock; a sleeper reads it before the clock, so it
 * never misses a step.
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
		*ns = cub_time_wall();
		return true;
	case CLOCK_TAI:
		*ns = cub_time_wall() + (uint64_t)(int64_t)cubi_ntp_tai() * NSEC;
		return true;
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
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
	wall = cub_time_wall();
	return value > wall ? now + (value - wall) : (now ? now : 1);
}

uint64_t cubi_timer_wall_step(uint64_t deadline, int64_t step)
{
	uint64_t by;

	if (step >= 0) {
		by = (uint64_t)step;
		return deadline > by ? deadline - by : 1;
	}
	by = (uint64_t)-(step + 1) + 1;
	return deadline + by < deadline || deadline + by > UINT64_MAX / 2 ? UINT64_MAX / 2
									 : deadline + by;
}

uint64_t cubi_timer_forward(uint64_t next, uint64_t interval, uint64_t after,
			    uint64_t *missed)
{
	uint64_t k = (after - next) / interval;	/* grid points in (next, after] */

	*missed = k;
	if (next >= UINT64_MAX / 2 || k + 1 > (UINT64_MAX / 2 - next) / interval)
		return UINT64_MAX / 2;
	return next + (k + 1) * interval;
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

/* Reads clock clk, a CPU-time one included: 0 or -CUB_EINVAL. */
static int read_any_clock(uint64_t clk, uint64_t *ns)
{
	struct cubi_cpuclock c;
	int rc = cubi_cpuclock_decode((int64_t)clk, &c);
	unsigned long irq;
	bool ok;

	if (rc < 0)
		return rc;
	if (rc == 0)
		return read_clock(clk, ns) ? 0 : -CUB_EINVAL;
	irq = cub_arch_irq_save();
	ok = cubi_cpuclock_read(&c, ns);	/* the thread may be gone */
	cub_arch_irq_restore(irq);
	return ok ? 0 : -CUB_EINVAL;
}

CUBI_SYS(clock_gettime)
{
	uint64_t ns;
	int rc = read_any_clock(A0(r), &ns);

	return rc ? rc : put_ts(A1(r), ns);
}

/* Every clock ticks in ns (the CPU-time ones too: they are accounted at
 * each switch, not sampled at a tick as Linux's PROF and VIRT are). */
CUBI_SYS(clock_getres)
{
	uint64_t ns;
	int rc = read_any_clock(A0(r), &ns);

	if (rc)
		return rc;
	return A1(r) ? put_ts(A1(r), 1) : 0;
}

CUBI_SYS(gettimeofday)
{
	uint64_t ns = cub_time_wall();
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
	int64_t t = (int64_t)(cub_time_wall() / NSEC);

	if (A0(r) && cubi_copy_out(A0(r), &t, sizeof(t)))
		return -CUB_EFAULT;
	return t;
}

/* Bumped and woken at every step of the wall clock (see the top). */
static uint32_t wall_gen;

void cubi_wall_stepped(int64_t step)
{
	cubi_timerfd_wall_step(step);
	cubi_ptimer_wall_step(step);
	cubi_futex_wall_step(step);
	__atomic_add_fetch(&wall_gen, 1, __ATOMIC_SEQ_CST);
	cubi_futex_wake((uintptr_t)&wall_gen, 0x7fffffff, ~0u);
}

int64_t cubi_wall_set(uint64_t ns)
{
	int64_t step = cub_time_set_wall(ns);

	cubi_wall_stepped(step);
	return step;
}

CUBI_SYS(clock_settime)
{
	uint64_t ns;
	int rc;

	if (A0(r) != CLOCK_REALTIME)
		return -CUB_EINVAL;	/* Linux: only REALTIME is settable */
	if ((rc = get_ts(A1(r), &ns)) != 0)
		return rc;
	cubi_wall_set(ns);
	return 0;
}

CUBI_SYS(settimeofday)
{
	int64_t tv[2];
	int32_t tz[2];

	if (A0(r) && cubi_copy_in(tv, A0(r), sizeof(tv)))
		return -CUB_EFAULT;
	if (A1(r) && cubi_copy_in(tz, A1(r), sizeof(tz)))
		return -CUB_EFAULT;
	if (A1(r) && (tz[0] < -15 * 60 || tz[0] > 15 * 60))
		return -CUB_EINVAL;	/* Linux's minuteswest range */
	if (!A0(r))
		return 0;		/* the time zone alone: nothing kept */
	if (tv[0] < 0 || tv[1] < 0 || tv[1] >= 1000000)
		return -CUB_EINVAL;
	cubi_wall_set((uint64_t)tv[0] > UINT64_MAX / NSEC - 1 ? UINT64_MAX
						       : (uint64_t)tv[0] * NSEC + (uint64_t)tv[1] * 1000);
	return 0;
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

static bool is_wall(uint64_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE || clk == CLOCK_TAI;
}

/* Sleeps until the wall clock reads `until`, however it is set meanwhile:
 * 0, or -CUB_EINTR (an absolute sleep leaves no remaining time). */
static long wall_sleep(uint64_t until)
{
	for (;;) {
		uint32_t gen = __atomic_load_n(&wall_gen, __ATOMIC_SEQ_CST);
		uint64_t wall = cub_time_wall(), now = cub_time_now(), left;
		long rc;

		if (wall >= until)
			return 0;
		left = until - wall;
		rc = cubi_futex_wait((uintptr_t)&wall_gen, gen,
				     now + left < now ? UINT64_MAX / 2 : now + left, ~0u, "sleep");
		if (rc == -CUB_EINTR)
			return rc;
	}
}

/* A sleep on CPU clock c (cpusleep.c); flags, the request and rem as
 * clock_nanosleep has them. */
static long cpu_sleep(const struct cubi_cpuclock *c, uint64_t flags, uintptr_t uts,
		      uintptr_t urem)
{
	bool abs = flags & TIMER_ABSTIME;
	uint64_t ns, left = 0;
	long rc;

	if (c->tid && c->tid == cubi_thread_self()->tid)
		return -CUB_EINVAL;	/* Linux: it cannot advance asleep */
	if (flags & ~(uint64_t)TIMER_ABSTIME)
		return -CUB_EINVAL;
	if ((rc = get_ts(uts, &ns)) != 0)
		return rc;
	if (!abs && urem && !cubi_user_writable(urem, sizeof(struct timespec_user)))
		return -CUB_EFAULT;
	rc = cubi_cpusleep(c, ns, abs, &left);
	if (rc == -CUB_EINTR && !abs)
		put_rem(urem, left);
	return rc;
}

CUBI_SYS(clock_nanosleep)
{
	struct cubi_cpuclock c;
	uint64_t ns, now;
	int rc = cubi_cpuclock_decode((int64_t)A0(r), &c);

	if (rc < 0)
		return rc;
	if (rc > 0)
		return cpu_sleep(&c, A1(r), A2(r), A3(r));
	if (!read_clock(A0(r), &now))
		return -CUB_EINVAL;
	if (A1(r) & ~(uint64_t)TIMER_ABSTIME)
		return -CUB_EINVAL;
	rc = get_ts(A2(r), &ns);
	if (rc)
		return rc;
	if ((A1(r) & TIMER_ABSTIME) && is_wall(A0(r)))
		return wall_sleep(ns);
	if (A1(r) & TIMER_ABSTIME)	/* absolute: no remaining time */
		return sleep_ns(ns > now ? ns - now : 0, &ns);
	return relative_sleep(ns, A3(r));
}
