/*
 * cpusleep.c - clock_nanosleep on a CPU-time clock: another thread's
 * (Linux's encoded id) or the process's (CLOCK_PROCESS_CPUTIME_ID, the
 * encoded ids of pid 0 or 1), until that clock reaches a time.
 *
 * A sleep is a one-shot CPU-time timer whose expiry wakes the sleeper
 * instead of sending a signal, as Linux's do_cpu_nanosleep arms a
 * temporary CPU timer: the sleeper puts a record on its own stack into
 * `sleepers` and parks on the record's futex word (so a signal with a
 * handler ends the sleep like any other blocking call: futex.c); the
 * one platform timer of cputime.c counts the record with the CPU-time
 * timers (cubi_cpusleep_due) and, when the clock gets there, sets the
 * word and wakes the sleeper. A thread's clock moves only while that
 * thread runs, the process's while any thread runs; the sleeper itself,
 * parked, adds nothing to either.
 *
 * A thread that exits while someone sleeps on its clock: the clock stops
 * for good, and the sleep goes on until a signal ends it, as on Linux
 * (posix_cpu_timers_exit only takes the thread's timers off its lists; a
 * sleeper's temporary timer is never fired, nothing wakes it). The record
 * is then `orphan` (cubi_cpusleep_exit), so that a later thread given the
 * same tid does not move it; its remaining time, should a signal end a
 * relative sleep, is what the clock still lacked when last read.
 *
 * Invariants: a record is in `sleepers` exactly while its sleeper is
 * inside cubi_cpusleep; word != 0 once it was due (and then it is no
 * longer counted as armed); `seen` is a reading of its clock, the last
 * one taken. Locking: irq_save around every access; the expiry side
 * runs in irq context (the alarm) or with interrupts disabled (a switch).
 */
#include <cubrt/arch.h>
#include <cubrt/list.h>

#include "shim_impl.h"

struct sleeper {
	struct cub_list link;		/* in sleepers while it sleeps */
	struct cubi_cpuclock clock;
	uint64_t until;			/* the reading to wake at */
	uint64_t seen;			/* its clock's last reading */
	bool orphan;			/* its thread exited: never due */
	uint32_t word;			/* 1 once due: the futex it waits on */
};

static struct cub_list sleepers = CUB_LIST_INIT(sleepers);

uint64_t cubi_cpusleep_due(bool fire, bool *armed)
{
	uint64_t left = UINT64_MAX, now;
	int tid = cubi_cputime_running();
	struct cub_list *pos;

	cub_list_for_each(pos, &sleepers) {
		struct sleeper *s = cub_container_of(pos, struct sleeper, link);

		if (s->word || s->orphan)
			continue;
		*armed = true;
		if (s->clock.tid && s->clock.tid != tid)
			continue;	/* its thread's clock stands still */
		if (!cubi_cpuclock_read(&s->clock, &now))
			continue;	/* gone, not yet marked (exit) */
		s->seen = now;
		if (now < s->until) {
			left = CUB_MIN(left, s->until - now);
		} else if (!fire) {
			left = 0;
		} else {
			s->word = 1;
			cubi_futex_wake((uintptr_t)&s->word, 1, ~0u);
		}
	}
	return left;
}

void cubi_cpusleep_exit(int tid)
{
	unsigned long irq = cub_arch_irq_save();
	struct cub_list *pos;

	cub_list_for_each(pos, &sleepers) {
		struct sleeper *s = cub_container_of(pos, struct sleeper, link);

		if (s->clock.tid == tid)
			s->orphan = true;
	}
	cub_arch_irq_restore(irq);
}

/* The sleep itself, interrupts disabled: parks until due or a signal. */
static long sleep_locked(struct sleeper *s)
{
	long rc = 0;

	cub_list_push_back(&sleepers, &s->link);
	cubi_cputime_rearm();	/* counts it from the next switch on */
	while (!s->word && rc != -CUB_EINTR)
		rc = cubi_futex_wait_locked((uintptr_t)&s->word, 0, 0, ~0u, "cpusleep");
	cub_list_del(&s->link);
	return s->word ? 0 : rc;
}

long cubi_cpusleep(const struct cubi_cpuclock *c, uint64_t ns, bool abs, uint64_t *left)
{
	struct sleeper s = { .clock = *c };
	unsigned long irq = cub_arch_irq_save();
	uint64_t now;
	long rc;

	if (!cubi_cpuclock_read(c, &now)) {
		cub_arch_irq_restore(irq);
		return -CUB_EINVAL;	/* its thread exited meanwhile */
	}
	s.until = abs ? ns : now + ns < now ? UINT64_MAX / 2 : now + ns;
	s.seen = now;
	if (s.until <= now) {
		cub_arch_irq_restore(irq);
		return 0;		/* there already: no sleep (POSIX) */
	}
	rc = sleep_locked(&s);
	if (rc == -CUB_EINTR) {
		if (!s.orphan && cubi_cpuclock_read(c, &now))
			s.seen = now;
		*left = s.until > s.seen ? s.until - s.seen : 0;
	}
	cub_arch_irq_restore(irq);
	return rc;
}
