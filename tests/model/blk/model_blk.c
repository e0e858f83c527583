/*
 * model_blk.c - randomized model test of src/blk's queueing against a
 * fake disk (tests/unit/blk/fakedev.h) whose device completes requests
 * in random order, sometimes with -CUB_EIO, at random times. Each round
 * picks a depth (1-4), a request size limit (1-6 sectors) and 2-12
 * coroutines; each coroutine reads, writes and flushes random ranges of
 * its own slice of the disk and keeps a shadow copy of it. Checked:
 * every read that succeeds returns the shadow's bytes (sectors whose
 * write failed part-way are unknown until written again); the device
 * never holds more than depth requests; no coroutine is left waiting
 * while the device is idle (a lost wake-up); every call returns 0 or
 * -CUB_EIO. The seed is printed: `model_blk SEED [ROUNDS]` replays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/blk.h>
#include <cubrt/sched.h>

#include "../model_args.h"
#include "fakedev.h"

#define S CUB_BLK_SECTOR
#define WORKERS_MAX 12
#define OPS 40

static uint64_t rng;
static struct cub_blk *dev;
static unsigned nworkers, alive, slice;
static const char *failure;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

struct worker {
	unsigned id;
	uint8_t shadow[FAKE_SECTORS / 2 * S];
	bool known[FAKE_SECTORS / 2];
	uint8_t buf[12 * S];
};

static struct worker workers[WORKERS_MAX];

static void fail(const char *why)
{
	if (!failure)
		failure = why;
}

static void do_write(struct worker *w, uint32_t at, uint32_t n)
{
	uint64_t lba = (uint64_t)w->id * slice + at;
	int rc;

	for (size_t i = 0; i < (size_t)n * S; i++)
		w->buf[i] = (uint8_t)rnd(256);
	rc = cub_blk_write(dev, lba, w->buf, n);
	if (rc && rc != -CUB_EIO)
		fail("a write returned neither 0 nor -CUB_EIO");
	for (uint32_t s = 0; s < n; s++)
		w->known[at + s] = !rc;
	if (!rc)
		memcpy(w->shadow + (size_t)at * S, w->buf, (size_t)n * S);
}

static void do_read(struct worker *w, uint32_t at, uint32_t n)
{
	int rc = cub_blk_read(dev, (uint64_t)w->id * slice + at, w->buf, n);

	if (rc && rc != -CUB_EIO)
		fail("a read returned neither 0 nor -CUB_EIO");
	for (uint32_t s = 0; !rc && s < n; s++)
		if (w->known[at + s] && memcmp(w->buf + (size_t)s * S,
				w->shadow + (size_t)(at + s) * S, S))
			fail("a read returned bytes that were not written there");
}

static void *worker(void *arg)
{
	struct worker *w = arg;
	uint32_t at, n;
	int rc;

	for (int k = 0; k < OPS && !failure; k++) {
		n = 1 + rnd(CUB_MIN(12u, slice));
		at = rnd(slice - n + 1);
		switch (rnd(5)) {
		case 0: case 1:
			do_write(w, at, n);
			break;
		case 2: case 3:
			do_read(w, at, n);
			break;
		default:
			rc = cub_blk_flush(dev);
			if (rc && rc != -CUB_EIO)
				fail("a flush returned neither 0 nor -CUB_EIO");
		}
		if (rnd(3) == 0)
			cub_coro_yield();
	}
	alive--;
	return NULL;
}

/* The device: completes in-flight requests at random. */
static void device(void)
{
	unsigned idle = 0;

	while (alive && !failure) {
		if (fake_n > fake_depth)
			fail("more requests in flight than the depth");
		if (fake_n && rnd(3)) {
			fake_irq(rnd(fake_n), rnd(20) ? 0 : -CUB_EIO);
			idle = 0;
		} else if (!fake_n && ++idle > 1000) {
			fail("coroutines wait while the device is idle");
		}
		cub_coro_yield();
	}
}

static void *round_main(void *arg)
{
	struct cub_coro *c[WORKERS_MAX];

	(void)arg;
	if (cub_blk_open(0, &dev))
		return "open";
	alive = nworkers;
	for (unsigned i = 0; i < nworkers; i++) {
		memset(&workers[i], 0, sizeof(workers[i]));
		workers[i].id = i;
		for (unsigned s = 0; s < slice; s++)
			workers[i].known[s] = true;	/* the disk starts zeroed */
		if (cub_coro_spawn(&c[i], worker, &workers[i], NULL))
			return "spawn";
	}
	device();
	if (failure) {		/* coroutines may be parked for good: the */
		printf("model_blk: %s (depth %u, max %u, %u coroutines)\n",
		       failure, fake_depth, fake_max, nworkers);
		exit(1);	/* scheduler would report a deadlock */
	}
	for (unsigned i = 0; i < nworkers; i++)
		cub_coro_join(c[i], NULL);
	return (void *)failure;
}

int main(int argc, char **argv)
{
	uint64_t seed = model_arg(argc, argv, 1, "CUBRT_SEED", 0);
	uint64_t rounds = model_arg(argc, argv, 2, "CUBRT_OPS", 300);
	void *r;

	if (!seed)
		seed = cub_arch_wallclock_ns() | 1;
	printf("model_blk: seed %llu, %llu rounds\n", (unsigned long long)seed,
	       (unsigned long long)rounds);
	rng = seed;
	for (uint64_t k = 0; k < rounds; k++) {
		fake_reset(1 + rnd(4), 1 + rnd(6));
		nworkers = 2 + rnd(WORKERS_MAX - 1);
		slice = FAKE_SECTORS / nworkers;
		failure = NULL;
		if (cub_sched_run(round_main, NULL, &r) || r) {
			printf("model_blk: round %llu (depth %u, max %u, %u "
			       "coroutines): %s\n", (unsigned long long)k,
			       fake_depth, fake_max, nworkers,
			       r ? (const char *)r : "the scheduler failed");
			return 1;
		}
	}
	printf("model_blk: %llu rounds ok\n", (unsigned long long)rounds);
	return 0;
}
