/*
 * model_sched.c - randomized model tests of the scheduler (suite 'model').
 *
 *  1. The timer queue against a shadow model: random starts, restarts and
 *     stops of 256 timers (with many equal deadlines), checking every
 *     cub_timer_stop/pending answer; then all pending timers expire and
 *     must fire exactly once each, in (deadline, start order) order.
 *  2. A random workload of coroutines doing yields, short sleeps, mutex
 *     sections, condition-variable hand-offs, reader-writer sections,
 *     semaphore sections (some timed) and wait-group joins, with its
 *     invariants checked (mutual exclusion, readers never with a writer,
 *     never more semaphore units held than exist, every token consumed,
 *     every coroutine finished, every lock free at the end, no deadlock).
 *  3. Preemption (2 ms slices): coroutines that either sleep (often until
 *     the slice tick's own deadline, so that one interrupt wakes several
 *     and finds the tick due) or spin without yielding until another
 *     coroutine has made progress (or until every living coroutine
 *     spins, when none can). A spinner that waits 5 s for that means a
 *     ready coroutine is starved (it would be forever).
 *
 * usage: model_sched [SEED [ROUNDS]]  (or CUBRT_SEED, CUBRT_ROUNDS); the seed is
 * printed first so that a failing run can be replayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/sched.h>
#include <cubrt/sync.h>
#include <cubrt/time.h>

#include "../model_args.h"
#include "sched_hooks.h"
#include "../../unit/slow.h"

#define NT 256
#define SEM_UNITS 3
#define OPS 3000

static uint64_t rng;

static uint64_t rnd(void)
{
	return model_xorshift(&rng);
}

#define FAIL MODEL_FAIL

static uint64_t seed;

/* ------------------------------------------------------------- timers */

static struct cub_timer timers[NT];
static struct {
	bool pending;
	uint64_t deadline;
	uint64_t order;		/* model start order (the tie-break) */
	int fired;
} model[NT];
static int fire_seq[NT], nfired;
static bool fired_early;
static uint64_t phase_end;

static void on_fire(struct cub_timer *t, void *arg)
{
	int i = (int)(intptr_t)arg;

	(void)t;
	model[i].fired++;
	if (nfired < NT)
		fire_seq[nfired++] = i;
	if (cub_time_now() < phase_end)
		fired_early = true;
}

static int by_deadline(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (model[x].deadline != model[y].deadline)
		return model[x].deadline < model[y].deadline ? -1 : 1;
	return model[x].order < model[y].order ? -1 : 1;
}

/* One round; returns false when the machine stalled past the op phase
 * (a timer could have fired early: the round proves nothing). */
static bool timer_round(void)
{
	uint64_t base = cub_time_now() + 300 * CUB_NSEC_PER_MSEC, order = 0;
	int expect[NT], n = 0;

	phase_end = base;
	fired_early = false;
	nfired = 0;
	memset(model, 0, sizeof(model));
	for (int i = 0; i < NT; i++)
		cub_timer_init(&timers[i], on_fire, (void *)(intptr_t)i);
	for (int op = 0; op < OPS; op++) {
		int i = (int)(rnd() % NT);

		if (cub_time_now() >= base - 50 * CUB_NSEC_PER_MSEC)
			return false;
		if (rnd() % 3) {
			/* 64 distinct deadlines for 256 timers: many ties. */
			model[i].deadline = base + (rnd() % 64) * 1000;
			model[i].order = order++;
			model[i].pending = true;
			cub_timer_start(&timers[i], model[i].deadline);
		} else {
			bool was = cub_timer_stop(&timers[i]);

			if (was != model[i].pending)
				FAIL("timer %d: stop returned %d, model %d", i,
				     was, model[i].pending);
			model[i].pending = false;
		}
		if (cub_timer_pending(&timers[i]) != model[i].pending)
			FAIL("timer %d: pending disagrees with the model", i);
	}
	for (int i = 0; i < NT; i++)
		if (model[i].pending)
			expect[n++] = i;
	qsort(expect, (size_t)n, sizeof(int), by_deadline);
	cub_sleep_until(base + 64 * 1000 + CUB_NSEC_PER_MSEC);
	if (fired_early)
		return false;
	if (nfired != n)
		FAIL("%d timers fired, %d were pending", nfired, n);
	for (int k = 0; k < n; k++)
		if (fire_seq[k] != expect[k])
			FAIL("fire #%d: timer %d, model says %d", k, fire_seq[k],
			     expect[k]);
	for (int i = 0; i < NT; i++)
		if (model[i].fired != (model[i].pending ? 1 : 0) ||
		    cub_timer_pending(&timers[i]))
			FAIL("timer %d fired %d times", i, model[i].fired);
	return true;
}

/* ----------------------------------------------------------- workload */

#define NW 24

static struct cub_mutex mu = CUB_MUTEX_INIT(mu);
static struct cub_cond cv = CUB_COND_INIT(cv);
static struct cub_wg wg = CUB_WG_INIT(wg);
static struct cub_rwlock rw = CUB_RWLOCK_INIT(rw);
static struct cub_sem sem = CUB_SEM_INIT(sem, SEM_UNITS);
static int inside, tokens, produced, consumed, finished;
static int rw_readers, rw_writers, sem_held;

/* A reader-writer section (write: 1 in 4) that yields inside. */
static void rw_section(uint64_t s)
{
	bool write = (s >> 45) % 4 == 0;

	if (write) {
		cub_rwlock_wrlock(&rw);
		if (rw_writers++ || rw_readers)
			FAIL("a writer inside with %d readers, %d writers",
			     rw_readers, rw_writers - 1);
	} else {
		cub_rwlock_rdlock(&rw);
		if (rw_readers++, rw_writers)
			FAIL("a reader inside with a writer");
	}
	cub_coro_yield();
	if (write) {
		rw_writers--;
		cub_rwlock_wrunlock(&rw);
	} else {
		rw_readers--;
		cub_rwlock_rdunlock(&rw);
	}
}

/* 1..SEM_UNITS units of the semaphore across a yield; a timed take
 * (1 in 3) may give up, with nothing taken. */
static void sem_section(uint64_t s)
{
	unsigned long n = 1 + (s >> 41) % SEM_UNITS;

	if ((s >> 50) % 3 == 0) {
		if (cub_sem_acquire_until(&sem, n, cub_time_now() +
					  (s >> 52) % 100 * CUB_NSEC_PER_USEC))
			return;
	} else if (cub_sem_acquire(&sem, n)) {
		FAIL("cub_sem_acquire failed");
	}
	sem_held += (int)n;
	if (sem_held > SEM_UNITS)
		FAIL("%d semaphore units held of %d", sem_held, SEM_UNITS);
	cub_coro_yield();
	sem_held -= (int)n;
	cub_sem_release(&sem, n);
}

static void *worker(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;

	for (int step = 0; step < 200; step++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		switch ((s >> 33) % 8) {
		case 0:
			cub_coro_yield();
			break;
		case 1:
			cub_sleep((s >> 40) % 200 * CUB_NSEC_PER_USEC);
			break;
		case 2:	/* a mutex section that yields inside */
			cub_mutex_lock(&mu);
			if (inside++)
				FAIL("two coroutines inside the mutex");
			cub_coro_yield();
			inside--;
			cub_mutex_unlock(&mu);
			break;
		case 3:	/* produce a token */
			cub_mutex_lock(&mu);
			tokens++;
			produced++;
			cub_cond_signal(&cv);
			cub_mutex_unlock(&mu);
			break;
		case 6:
			rw_section(s);
			break;
		case 7:
			sem_section(s);
			break;
		default: /* consume a token, waiting a little for one */
			cub_mutex_lock(&mu);
			if (tokens == 0)
				cub_cond_timedwait(&cv, &mu, cub_time_now() +
						   100 * CUB_NSEC_PER_USEC);
			if (tokens > 0) {
				tokens--;
				consumed++;
			}
			cub_mutex_unlock(&mu);
			break;
		}
	}
	finished++;
	cub_wg_done(&wg);
	return NULL;
}

/* ASan's redzones inflate the workers' frames past the small class
 * (CUB_CORO_STACK_SMALL): give them room, still canary-checked. GCC
 * says ASan with __SANITIZE_ADDRESS__, clang 14 only with __has_feature. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUB_MODEL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(CUB_MODEL_ASAN)
#define SMALL_STACK (3u * 4096)
#else
#define SMALL_STACK 0u			/* CUB_CORO_STACK_SMALL */
#endif
#define EMBED_STACK CUB_CORO_STACK_MIN	/* with ASan: + CUB_ARCH_STACK_EXTRA */

static void workload_round(void)
{
	inside = tokens = produced = consumed = finished = 0;
	cub_wg_add(&wg, NW);
	/* Every other worker small: half of those on 2 KiB stacks, which
	 * share a heap block with their records (src/sched/record.c). */
	for (int i = 0; i < NW; i++)
		if (cub_coro_spawn(NULL, worker, (void *)(uintptr_t)rnd(),
				   i % 2 ? &(struct cub_coro_attr){
					   .stack_size = i % 4 == 3 ?
						EMBED_STACK : SMALL_STACK,
					   .flags = CUB_CORO_SMALL } : NULL))
			FAIL("spawn failed");
	cub_wg_wait(&wg);
	if (finished != NW || produced - consumed != tokens || inside)
		FAIL("workload: finished %d produced %d consumed %d tokens %d",
		     finished, produced, consumed, tokens);
	if (rw_readers || rw_writers || rw.readers || rw.writer ||
	    sem_held || cub_sem_value(&sem) != SEM_UNITS)
		FAIL("workload: rwlock %d/%d held, semaphore %lu of %d free",
		     rw_readers, rw_writers, cub_sem_value(&sem), SEM_UNITS);
}

/* -------------------------------------------------------- preemption */

#define NP 5
#define STARVED_NS (5 * CUB_NSEC_PER_SEC)

static volatile unsigned long beats[NP];
/* Written by several coroutines that may be preempted mid-update:
 * atomic read-modify-writes. spinning: those in the spin loop; when all
 * the living spin, none can progress for the others to see, so they
 * stop (seed 36392: all five spun at their first step and each waited
 * 5 s for the others). */
static int spinners_alive, spinning;

static unsigned long others_beats(int me)
{
	unsigned long sum = 0;

	for (int i = 0; i < NP; i++)
		if (i != me)
			sum += beats[i];
	return sum;
}

static void *preempted(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	int me = (int)(s % NP);

	for (int step = 0; step < 40; step++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		if ((s >> 33) % 2) {
			uint64_t tick = cubi_preempt_deadline();

			cub_sleep_until(tick && (s >> 40) % 2 ? tick : cub_time_now() +
					(s >> 42) % 300 * CUB_NSEC_PER_USEC);
		} else {
			unsigned long before = others_beats(me);
			uint64_t w0 = test_waited_ns(), end = cub_time_now() + STARVED_NS;

			__atomic_fetch_add(&spinning, 1, __ATOMIC_SEQ_CST);
			while (others_beats(me) == before &&
			       __atomic_load_n(&spinners_alive, __ATOMIC_SEQ_CST) >
				       __atomic_load_n(&spinning, __ATOMIC_SEQ_CST))
				if (cub_time_now() > end &&
				    cub_time_now() - end + STARVED_NS >
					    test_bound(STARVED_NS, w0))	/* slow.h */
					FAIL("preemption: coroutine %d spun 5 s, the others "
					     "starved (%d alive, %d spinning)", me,
					     spinners_alive, spinning);
			__atomic_fetch_sub(&spinning, 1, __ATOMIC_SEQ_CST);
		}
		beats[me]++;
	}
	__atomic_fetch_sub(&spinners_alive, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void preempt_round(void)
{
	uint64_t old = cubi_preempt_set_slice(2 * CUB_NSEC_PER_MSEC);
	struct cub_coro *c[NP];

	spinners_alive = NP;
	spinning = 0;
	for (int i = 0; i < NP; i++) {
		beats[i] = 0;
		/* default stacks: the host's preemption trampoline needs room */
		if (cub_coro_spawn(&c[i], preempted,
				   (void *)(uintptr_t)(rnd() / NP * NP + (uint64_t)i), NULL))
			FAIL("spawn failed");
	}
	for (int i = 0; i < NP; i++)
		cub_coro_join(c[i], NULL);
	cubi_preempt_set_slice(old);
}

static long rounds = 5;

static void *model_main(void *arg)
{
	int stalled = 0;

	(void)arg;
	for (long r = 0; r < rounds; r++) {
		if (!timer_round())
			stalled++;
		workload_round();
		preempt_round();
	}
	if (stalled == rounds)
		printf("note: every timer round stalled; timer order unchecked\n");
	return NULL;
}

int main(int argc, char **argv)
{
	seed = model_arg(argc, argv, 1, "CUBRT_SEED", cub_time_now() ^ 0x9e37);
	rounds = (long)model_arg(argc, argv, 2, "CUBRT_ROUNDS", (uint64_t)rounds);
	rng = seed ? seed : 1;
	printf("seed: %lu (replay: model_sched %lu %ld)\n", (unsigned long)seed,
	       (unsigned long)seed, rounds);
	fflush(stdout);
	if (cub_sched_run(model_main, NULL, NULL))
		FAIL("cub_sched_run failed");
	printf("ok: %ld rounds\n", rounds);
	return 0;
}
