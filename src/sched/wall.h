/*
 * wall.h - the wall clock's discipline as pure arithmetic (wall.c): what
 * cub_time_wall adds to the platform's wall clock, given the monotonic
 * time. Private to src/sched; the unit tests drive it with made-up
 * times (tests/unit/sched/test_wall.c).
 *
 * The wall time at platform wall time p (cub_arch_wallclock_ns) is
 *     p + offset + drift(p - rate_base) + slewed(p - slew_start)
 * where drift is rate (ppm * CUB_TIME_PPM) of the time since rate_base
 * and slewed is what a slew of slew_ns has gained so far: 1 ns in
 * every CUB_TIME_SLEW_DIV, up to slew_ns (by sign). Both count on the
 * platform's clock, read once, so a reading is a function of p alone
 * (wall.c: why it never goes backwards); a platform clock set back
 * before rate_base or slew_start counts as no time passed.
 *
 * Invariants: |rate| <= CUB_TIME_RATE_MAX; slew_ns != INT64_MIN; last
 * is the latest value read (0 after a step), which a read never goes
 * below by less than WALL_JITTER_NS (rounding of the two corrections);
 * the caller serialises every call (wall.c: interrupts disabled).
 */
#ifndef CUBRT_SCHED_WALL_H
#define CUBRT_SCHED_WALL_H

#include <cubrt/time.h>

struct cubi_wall {
	uint64_t offset;	/* two's complement: the sum wraps */
	uint64_t slew_start;	/* platform ns the slew began */
	int64_t slew_ns;	/* the slew's whole size (0: none) */
	uint64_t rate_base;	/* platform ns drift counts from */
	int64_t rate;		/* ppm * CUB_TIME_PPM */
	uint64_t last;		/* latest wall time read */
};

/* The wall time at platform time p (may fold the drift of a long time
 * into offset, which changes no reading). */
uint64_t cubi_wall_read(struct cubi_wall *w, uint64_t p);
/* Steps to unix_ns at p, cancelling a slew; returns the step (new -
 * old). */
int64_t cubi_wall_step(struct cubi_wall *w, uint64_t p, uint64_t unix_ns);
/* The part of the slew still to come at p. */
int64_t cubi_wall_left(const struct cubi_wall *w, uint64_t p);
/* Replaces the slew by one of delta ns from p (delta != INT64_MIN);
 * returns what the old one still had to go. */
int64_t cubi_wall_adjust(struct cubi_wall *w, uint64_t p, int64_t delta);
/* Sets the rate from p on (|rate| <= CUB_TIME_RATE_MAX). */
void cubi_wall_set_rate(struct cubi_wall *w, uint64_t p, int64_t rate);

#endif
