/*
 * wall.c - the wall clock: the platform's (cub_arch_wallclock_ns) plus
 * a discipline that steps (cub_time_set_wall), slews (cub_time_adjust:
 * 500 ppm, Linux adjtime's rate) and runs fast or slow
 * (cub_time_set_rate); the monotonic clock and timers are untouched
 * (wall.h has the formula).
 *
 * Why it never goes backwards during a slew or at a rate: a reading is
 * a function of one platform clock reading p, which gains 1 ns per ns,
 * while a slew takes back at most 1 ns in every CUB_TIME_SLEW_DIV and
 * the rate at most 1/8; a change of slew or rate first folds what was
 * gained so far into offset, so no reading jumps. (Reckoning the slew on
 * the monotonic clock instead would need two clock reads, and a machine
 * stalled between them - QEMU's thread descheduled - would show a step
 * back.) The two corrections round separately, which could show a
 * reading 1 ns below the one before: a read never goes below the last
 * one by less than WALL_JITTER_NS (a platform clock set backwards
 * further still shows; x86's never is: the RTC at boot plus the TSC).
 *
 * Invariants: wall.h's. Critical sections: the one struct cubi_wall is
 * read and written with interrupts disabled, so a handler sees a whole
 * state, never half of an update (cubrt runs on one CPU).
 */
#include <cubrt/arch.h>
#include <cubrt/time.h>

#include "wall.h"

#define WALL_JITTER_NS 1000u
#define MS 1000000ull
#define RATE_FOLD_MS (1ull << 28)	/* keeps ms * rate below 2^62 */

static struct cubi_wall wall;

/* The drift of rate over dt ns (dt below RATE_FOLD_MS ms), floored. */
static int64_t drift(int64_t rate, uint64_t dt)
{
	int64_t ms = (int64_t)(dt / MS), rest = (int64_t)(dt % MS);

	return (ms * rate + rest * rate / (int64_t)MS) >> 16;
}

/* What the slew has gained by p (signed, at most slew_ns). */
static int64_t slewed(const struct cubi_wall *w, uint64_t p)
{
	uint64_t mag, got;

	if (!w->slew_ns)
		return 0;
	mag = w->slew_ns < 0 ? (uint64_t)-w->slew_ns : (uint64_t)w->slew_ns;
	got = p > w->slew_start ? (p - w->slew_start) / CUB_TIME_SLEW_DIV : 0;
	got = CUB_MIN(got, mag);
	return w->slew_ns < 0 ? -(int64_t)got : (int64_t)got;
}

/* Moves the drift up to p into offset (in pieces drift() can take:
 * only after days without a reading are there several). */
static void fold_rate(struct cubi_wall *w, uint64_t p)
{
	const uint64_t piece = RATE_FOLD_MS * MS;

	while (w->rate && p > w->rate_base) {
		uint64_t dt = CUB_MIN(p - w->rate_base, piece);

		w->offset += (uint64_t)drift(w->rate, dt);
		w->rate_base += dt;
	}
	w->rate_base = p;
}

/* Moves what the slew gained up to p into offset; the rest from p on. */
static void fold_slew(struct cubi_wall *w, uint64_t p)
{
	int64_t got = slewed(w, p);

	w->offset += (uint64_t)got;
	w->slew_ns -= got;
	w->slew_start = p;
}

uint64_t cubi_wall_read(struct cubi_wall *w, uint64_t p)
{
	uint64_t v;

	if (p > w->rate_base && (p - w->rate_base) / MS >= RATE_FOLD_MS)
		fold_rate(w, p);
	v = p + w->offset + (uint64_t)slewed(w, p);
	if (w->rate && p > w->rate_base)
		v += (uint64_t)drift(w->rate, p - w->rate_base);
	if (v < w->last && w->last - v < WALL_JITTER_NS)
		v = w->last;
	w->last = v;
	return v;
}

int64_t cubi_wall_step(struct cubi_wall *w, uint64_t p, uint64_t unix_ns)
{
	uint64_t old = cubi_wall_read(w, p);

	w->slew_ns = 0;
	w->rate_base = p;
	w->offset = unix_ns - p;
	w->last = 0;
	return (int64_t)(unix_ns - old);
}

int64_t cubi_wall_left(const struct cubi_wall *w, uint64_t p)
{
	return w->slew_ns - slewed(w, p);
}

int64_t cubi_wall_adjust(struct cubi_wall *w, uint64_t p, int64_t delta)
{
	int64_t left;

	fold_slew(w, p);
	left = w->slew_ns;
	w->slew_ns = delta;
	return left;
}

void cubi_wall_set_rate(struct cubi_wall *w, uint64_t p, int64_t rate)
{
	fold_rate(w, p);
	w->rate = rate;
}

/* ------------------------------------------------------------- public */

uint64_t cub_time_wall(void)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t ns = cubi_wall_read(&wall, cub_arch_wallclock_ns());

	cub_arch_irq_restore(irq);
	return ns;
}

int64_t cub_time_set_wall(uint64_t unix_ns)
{
	unsigned long irq = cub_arch_irq_save();
	int64_t step = cubi_wall_step(&wall, cub_arch_wallclock_ns(), unix_ns);

	cub_arch_irq_restore(irq);
	return step;
}

int cub_time_adjust(int64_t delta_ns, int64_t *old_left)
{
	unsigned long irq;
	int64_t left;

	if (delta_ns == INT64_MIN)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	left = cubi_wall_adjust(&wall, cub_arch_wallclock_ns(), delta_ns);
	cub_arch_irq_restore(irq);
	if (old_left)
		*old_left = left;
	return 0;
}

int64_t cub_time_adjust_left(void)
{
	unsigned long irq = cub_arch_irq_save();
	int64_t left = cubi_wall_left(&wall, cub_arch_wallclock_ns());

	cub_arch_irq_restore(irq);
	return left;
}

int cub_time_set_rate(int64_t rate)
{
	unsigned long irq;

	if (rate < -CUB_TIME_RATE_MAX || rate > CUB_TIME_RATE_MAX)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	cubi_wall_set_rate(&wall, cub_arch_wallclock_ns(), rate);
	cub_arch_irq_restore(irq);
	return 0;
}

int64_t cub_time_rate(void)
{
	unsigned long irq = cub_arch_irq_save();
	int64_t rate = wall.rate;

	cub_arch_irq_restore(irq);
	return rate;
}
