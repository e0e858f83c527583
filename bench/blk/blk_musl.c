/*
 * blk_musl.c - a Linux program (musl, through the syscall shim) reading
 * 4 KiB with pread from /dev/vda at random 4 KiB-aligned offsets, in
 * guest instructions: the peer of blk_qemu's native cub_blk_read, so the
 * ratio is the shim's cost (the syscall instruction, the dispatcher,
 * the descriptor, the disk's mutex, the 32 KiB bounce buffer of
 * src/shim/blkdev.c and the copy out of it) over the same read.
 *
 * Booted by bench.conf under -icount shift=0,sleep=off with --disk on
 * an image bench/blk/with_disk.py makes (every 4 KiB block starts with
 * its number, checked here). As blk_qemu does, a spinner - here a
 * pthread calling sched_yield in a loop - keeps the guest from idling
 * while a read waits; its loop is measured alone first and its
 * iterations are taken off each read. An iteration here is a system
 * call, so the spinner's cost is larger than blk_qemu's and what is
 * left over of a partial iteration spreads the counts more.
 *
 * Prints the median as "result: N instructions" and the spread as a
 * note, for scripts/bench.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#define READS 1000
#define WARMUP 20
#define BLOCK 4096
#define SPIN_CAL 20000

static int64_t per[READS];
static unsigned char buf[BLOCK];
static uint64_t blocks, rng = 0x9e3779b97f4a7c15ull;
static volatile uint64_t spins, spin_until;
static uint64_t spin_cost;		/* instructions << 10 */

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void *spinner(void *arg)
{
	(void)arg;
	while (spins < spin_until) {
		spins++;
		sched_yield();
	}
	return NULL;
}

static int64_t spin_run(pthread_t *t, uint64_t n)
{
	uint64_t t0 = tsc();

	spins = 0;
	spin_until = n;
	if (pthread_create(t, NULL, spinner, NULL) || pthread_join(*t, NULL))
		return -1;
	return (int64_t)(tsc() - t0);
}

/* Measures spin_cost, then starts the spinner for the reads; spin_cost
 * stays 0 unless the spinner runs. */
static int spin_start(pthread_t *t)
{
	int64_t t1 = spin_run(t, SPIN_CAL), t2 = spin_run(t, 2 * SPIN_CAL);

	if (t1 < 0 || t2 < 0)
		return -1;
	spins = 0;
	spin_until = UINT64_MAX;
	if (pthread_create(t, NULL, spinner, NULL))
		return -1;
	spin_cost = ((uint64_t)(t2 - t1) << 10) / SPIN_CAL;	/* it runs */
	return 0;
}

static int trip(int fd)
{
	uint32_t b, got;

	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	b = (uint32_t)(rng % blocks);
	if (pread(fd, buf, BLOCK, (off_t)b * BLOCK) != BLOCK)
		return -1;
	memcpy(&got, buf, sizeof(got));
	return got == b ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void report(int64_t sum)
{
	int at = 0;

	qsort(per, READS, sizeof(per[0]), cmp);
	for (int i = 0; i < READS; i++)
		at += per[i] == per[READS / 2];
	printf("note: pread: a spinner iteration is %.3f instructions\n",
	       (double)spin_cost / 1024);
	printf("note: pread: %d reads of 4 KiB: min %lld, median %lld (%d of them), "
	       "99th %lld, max %lld, mean %lld instructions\n", READS,
	       (long long)per[0], (long long)per[READS / 2], at,
	       (long long)per[READS * 99 / 100], (long long)per[READS - 1],
	       (long long)(sum / READS));
	printf("result: %lld instructions\n", (long long)per[READS / 2]);
}

int main(void)
{
	int fd = open("/dev/vda", O_RDONLY);
	uint64_t size = 0, t0, s0;
	int64_t sum = 0;
	pthread_t t;
	int r = 0;

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) || size < BLOCK) {
		perror("blk_musl: /dev/vda");
		return 1;
	}
	blocks = size / BLOCK;
	r = spin_start(&t);
	for (int i = 0; i < WARMUP && !r; i++)
		r = trip(fd);
	for (int i = 0; i < READS && !r; i++) {
		s0 = spins;
		t0 = tsc();
		r = trip(fd);
		per[i] = (int64_t)(tsc() - t0 - (((spins - s0) * spin_cost) >> 10));
		sum += per[i];
	}
	spin_until = 0;
	if (spin_cost)
		pthread_join(t, NULL);
	if (r) {
		fprintf(stderr, "blk_musl: a read failed\n");
		return 1;
	}
	report(sum);
	return 0;
}
