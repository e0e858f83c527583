/*
 * clock.h - what the time calls share (time.c: clocks and sleeps;
 * itimer.c, ptimer.c: timers that signal; timerfd.c: timers behind
 * descriptors): Linux's clock ids, timespec and itimerspec copies
 * between the program and nanoseconds, timer deadlines, and the steps of
 * the wall clock that move absolute REALTIME timers.
 *
 * Locking: none; the copies check the program's memory with the uaccess
 * helpers (task context, interrupts enabled).
 */
#ifndef CUBRT_SHIM_CLOCK_H
#define CUBRT_SHIM_CLOCK_H

#include <cubrt/base.h>

/* Linux clock ids (clock_gettime, timers). */
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_PROCESS_CPUTIME_ID 2
#define CLOCK_THREAD_CPUTIME_ID 3
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11
/* An itimerspec {interval, value} <-> its[0], its[1] in ns: 0, -EFAULT,
 * or (get) -EINVAL for a negative or unnormalized timespec. */
int cubi_itimerspec_get(uintptr_t src, uint64_t its[2]);
int cubi_itimerspec_put(uintptr_t dst, const uint64_t its[2]);
/* A timer's expiry as a monotonic deadline, never 0: value ns from now,
 * or with abs at value on the monotonic or (realtime) the wall clock. */
uint64_t cubi_timer_deadline(uint64_t value, bool abs, bool realtime);
/* A monotonic deadline of a timer armed for an absolute wall time, after
 * the wall clock stepped by step ns (> 0: forward, so the deadline comes
 * sooner): never 0, at most UINT64_MAX / 2. */
uint64_t cubi_timer_wall_step(uint64_t deadline, int64_t step);
/*
 * Periodic timers that signal (itimer.c, ptimer.c) follow Linux: one
 * whose signal is pending runs again only once the signal is taken
 * (Linux re-arms it at dequeue), so that a 1 ns period cannot flood the
 * machine with expiries; one whose signal was dropped (ignored) goes on
 * at least CUBI_TIMER_DROPPED_NS apart, as Linux before 6.13 re-arms an
 * ignored POSIX timer at least a tick (4 ms at Debian's HZ 250) later.
 */
#define CUBI_TIMER_DROPPED_NS 4000000ull
/* A periodic timer's next expiry on its grid (next + k * interval, k >= 1)
 * after `after` (next <= after; interval > 0); *missed: the grid points
 * after next up to `after` (they count as overruns). At most
 * UINT64_MAX / 2. */
uint64_t cubi_timer_forward(uint64_t next, uint64_t interval, uint64_t after,
			    uint64_t *missed);
/* The wall clock stepped by step ns (time.c, after clock_settime or
 * settimeofday): timerfds (timerfd.c) and POSIX timers (ptimer.c) armed
 * for an absolute REALTIME expiry move their deadlines. Contexts: task. */
void cubi_timerfd_wall_step(int64_t step);
void cubi_ptimer_wall_step(int64_t step);
/* Steps the wall clock to ns (cub_time_set_wall) and moves what waits
 * for a wall time: what clock_settime, settimeofday, adjtimex's
 * ADJ_SETOFFSET and the SNTP keeper of CUBRT_NTP do (time.c). Returns
 * the step. Contexts: task. */
int64_t cubi_wall_set(uint64_t ns);
/* The wall clock has just stepped by step ns (cub_time_set_wall): moves
 * absolute REALTIME timers, futex waits and sleeps. Contexts: task. */
void cubi_wall_stepped(int64_t step);
/* TAI - UTC in seconds, as adjtimex's ADJ_TAI set it (adjtimex.c; 0 at
 * boot). Contexts: any. */
int cubi_ntp_tai(void);
/* One timespec <-> ns, the same way. */
int cubi_timespec_get(uintptr_t src, uint64_t *ns);
int cubi_timespec_put(uintptr_t dst, uint64_t ns);

#endif
