/*
 * cubrt/time.h - the monotonic clock, sleeping and timers.
 *
 * Time is nanoseconds on a monotonic clock that starts near 0 at boot
 * (bare metal: the calibrated TSC; host: CLOCK_MONOTONIC). Pending timers
 * form one queue (a pairing heap: O(1) insert, O(log n) amortised cancel
 * and expiry); the platform's one-shot timer is armed for the earliest.
 *
 * Wall time (cub_time_wall) is the platform's wall clock
 * (cub_arch_wallclock_ns: the RTC at boot plus the monotonic clock on x86)
 * disciplined three ways, all reckoned on that platform clock, read once
 * per reading (the monotonic clock is left alone): a step
 * (cub_time_set_wall, e.g. from the network: cubrt/sntp.h), a slew
 * (cub_time_adjust: gains or loses a given amount gradually, 1 ns in
 * every CUB_TIME_SLEW_DIV, Linux adjtime's 500 ppm) and a rate
 * (cub_time_set_rate: runs fast or slow by some ppm, as NTP's frequency
 * correction does). A slew or a rate never makes the clock go backwards
 * (nor jump); only a step does. Timers always run on the monotonic
 * clock: no change of the wall clock moves a cub_timer.
 */
#ifndef CUBRT_TIME_H
#define CUBRT_TIME_H

#include <cubrt/base.h>

#define CUB_NSEC_PER_USEC 1000ull
#define CUB_NSEC_PER_MSEC 1000000ull
#define CUB_NSEC_PER_SEC  1000000000ull

/* Monotonic nanoseconds since boot. Contexts: any. */
uint64_t cub_time_now(void);

/*
 * Nanoseconds since the Unix epoch: the platform's wall clock, stepped,
 * slewed and at the rate set below (none of them at boot). Not
 * monotonic: it jumps when the clock is set (cub_time_set_wall) or the
 * platform's clock is. Contexts: any.
 */
uint64_t cub_time_wall(void);

/*
 * Sets the wall clock: from now on cub_time_wall() reads unix_ns plus
 * the time that passed since. A slew still in progress is cancelled
 * (what it gained so far stays); the rate stays. Returns the step, the
 * new minus the old wall time in ns (> 0: the clock went forward). The
 * state is changed and read with interrupts disabled, so an interrupt
 * handler sees the old or the new clock, never half of each.
 * Contexts: any.
 */
int64_t cub_time_set_wall(uint64_t unix_ns);

#define CUB_TIME_SLEW_DIV 2000		/* a slew: 1 ns per 2000 ns (500 ppm) */
#define CUB_TIME_PPM 65536ll		/* rate unit: 1 ppm (Linux's scaled ppm) */
#define CUB_TIME_RATE_MAX (125000 * CUB_TIME_PPM)	/* +-12.5 % */

/*
 * Slews the wall clock by delta_ns: from now on it gains (delta > 0) or
 * loses 1 ns in every CUB_TIME_SLEW_DIV ns until it has moved by delta
 * (1 s takes 2000 s), never going backwards. It replaces a slew still in
 * progress, whose remaining part goes to *old_left (if not NULL); what
 * that one gained so far stays. delta 0 cancels (and with old_left
 * reads) the slew. Returns 0, or -CUB_EINVAL for delta INT64_MIN.
 * Contexts: any.
 */
int cub_time_adjust(int64_t delta_ns, int64_t *old_left);

/* The part of the slew still to come, in ns (0: none). Contexts: any. */
int64_t cub_time_adjust_left(void);

/*
 * Makes the wall clock run faster (rate > 0) or slower by rate /
 * CUB_TIME_PPM ppm of the platform's clock from now on, on top of any
 * slew (0: the platform's pace). Returns 0, or -CUB_EINVAL when |rate|
 * exceeds CUB_TIME_RATE_MAX. Contexts: any.
 */
int cub_time_set_rate(int64_t rate);

/* The rate in force (ppm * CUB_TIME_PPM). Contexts: any. */
int64_t cub_time_rate(void);

/*
 * Blocks the running coroutine for at least ns nanoseconds (0 yields).
 * Returns 0. Contexts: task.
 */
int cub_sleep(uint64_t ns);

/* Blocks until cub_time_now() >= deadline_ns (returns at once, after a
 * yield, when it has passed). Returns 0. Contexts: task. */
int cub_sleep_until(uint64_t deadline_ns);

/*
 * A one-shot timer in caller storage. The fields are private to the
 * scheduler (public only so that callers can embed the struct).
 */
struct cub_timer {
	uint64_t deadline;
	uint64_t seq;			/* tie-break: FIFO among equal deadlines */
	struct cub_timer *child;	/* pairing-heap links */
	struct cub_timer *next;
	struct cub_timer *prev;		/* previous sibling, or the parent */
	void (*fn)(struct cub_timer *t, void *arg);
	void *arg;
	bool pending;
};

/* Prepares t to call fn(t, arg) when it expires. Contexts: any (t idle). */
void cub_timer_init(struct cub_timer *t,
		    void (*fn)(struct cub_timer *t, void *arg), void *arg);

/*
 * Schedules t to expire at deadline_ns (cub_time_now() scale), restarting
 * it when already pending. fn then runs once, in irq context with
 * interrupts disabled: it must not block (it may ready coroutines, restart
 * its own timer, ...). A deadline in the past expires at the next timer
 * interrupt. Contexts: any.
 */
void cub_timer_start(struct cub_timer *t, uint64_t deadline_ns);

/*
 * Cancels t. Returns true when it was pending (fn will not run), false
 * when it had already expired or was never started. Contexts: any.
 */
bool cub_timer_stop(struct cub_timer *t);

/* True while t is started and has not expired. Contexts: any. */
bool cub_timer_pending(const struct cub_timer *t);

#endif
