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
 * plus an offset that cub_time_set_wall changes, e.g. from the network
 * (cubrt/sntp.h). Timers always run on the monotonic clock: setting the
 * wall clock moves no cub_timer.
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
 * Nanoseconds since the Unix epoch: the platform's wall clock plus the
 * offset cub_time_set_wall last set (0 at boot). Not monotonic: it
 * jumps when the clock is set. Contexts: any.
 */
uint64_t cub_time_wall(void);

/*
 * Sets the wall clock: from now on cub_time_wall() reads unix_ns plus
 * the time that passed since. Returns the step, the new minus the old
 * wall time in ns (> 0: the clock went forward). The offset is changed
 * and read with interrupts disabled, so an interrupt handler sees the
 * old or the new one, never half of each. Contexts: task, boot.
 */
int64_t cub_time_set_wall(uint64_t unix_ns);

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
