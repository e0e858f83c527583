/*
 * blk_host.c - the disk layer (src/blk over platform/host/blk.c) on the
 * host against the system calls it ends in.
 *
 *   read, write      cub_blk_read (cub_blk_write) of 4 KiB (8 sectors)
 *                    at random 4 KiB-aligned offsets of a 64 MiB
 *                    file-backed disk, from one coroutine: ns per call
 *   read8, write8    the same offsets shared out among 8 coroutines that
 *                    take turns (each yields after every call, so the
 *                    requests of all 8 are interleaved); each has a
 *                    buffer of its own
 *   flush            cub_blk_write of 4 KiB then cub_blk_flush: ns per
 *                    pair (the flush reaches the file system's device)
 *   linux-read, linux-write, linux-flush
 *                    pread, pwrite (pwrite + fdatasync) of 4 KiB at the
 *                    same offsets on the same kind of file, from one
 *                    Linux thread: the peers
 *
 * The disk is a file the bench makes in /tmp (unique name, unlinked at
 * the end): 64 MiB, every 4 KiB block stamped with its number, written,
 * made durable with fdatasync and read once, so the page cache is warm
 * and no writeback is pending when the clock starts. The offsets come
 * from a seeded xorshift, the same for every mode. Every read checks
 * the block's stamp and every write puts the stamp back, so the file
 * never changes and both sides do the same work around the call; after
 * the writes (untimed) every block must still carry its own stamp.
 *
 * The host port does each request with pread/pwrite inside
 * cub_arch_blk_submit (arch.h allows it): the request is done before
 * submit returns and no coroutine ever parks, so the 8 coroutines never
 * have requests in flight together; what read8/write8 add to read/write
 * is a coroutine switch per call and 8 buffers. A note gives the
 * requests and queue waits cub_blk_info counted.
 *
 * The timed calls are made in 5 slices of the offsets; the result is the
 * fastest slice's mean (another process's burst on this shared machine
 * is least likely to have touched it), the mean of all is a note.
 * Prints "result: <ns> ns/op" for scripts/bench.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cubrt/blk.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>

#include "../shim/host_util.h"

#define DISK_BYTES (64l << 20)
#define BLOCK 4096
#define SECTORS (BLOCK / CUB_BLK_SECTOR)
#define BLOCKS (DISK_BYTES / BLOCK)
#define OPS 200000l
#define WARMUP 10000l
#define FLUSH_OPS 300l
#define FLUSH_WARMUP 20l
#define COROS 8
#define SLICES 5

static char path[64];
static int fd = -1;
static uint32_t blk_of[OPS];	/* the block of each call */
static long first, ops;		/* a run of the workers: calls first.. */
static bool writing, flushing;
static double result, total;	/* the fastest slice's ns per call; all */

/* The timed calls are made in SLICES slices (the offsets in order); the
 * result is the fastest slice's mean, which a burst of another process
 * on this shared machine is least likely to have touched. */
static void slice_done(int s, double ns, long n)
{
	if (s == 0 || ns / n < result)
		result = ns / n;
	total += ns;
}

/* ------------------------------------------------------------- the file */

static void stamp(uint8_t *buf, uint32_t b)
{
	memcpy(buf, &b, sizeof(b));
}

static bool stamped(const uint8_t *buf, uint32_t b)
{
	uint32_t got;

	memcpy(&got, buf, sizeof(got));
	return got == b;
}

/* Makes the disk file: every block stamped, durable, read back once. */
static int file_make(void)
{
	static uint8_t chunk[1 << 20];

	snprintf(path, sizeof(path), "/tmp/cubrt-blk-bench-%d.img", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(chunk, 0xa5, sizeof(chunk));
	for (long off = 0; off < DISK_BYTES; off += sizeof(chunk)) {
		for (long i = 0; i < (long)sizeof(chunk); i += BLOCK)
			stamp(chunk + i, (uint32_t)((off + i) / BLOCK));
		if (pwrite(fd, chunk, sizeof(chunk), off) != (ssize_t)sizeof(chunk))
			return -1;
	}
	if (fdatasync(fd))
		return -1;
	for (long off = 0; off < DISK_BYTES; off += sizeof(chunk))
		if (pread(fd, chunk, sizeof(chunk), off) != (ssize_t)sizeof(chunk))
			return -1;
	return 0;
}

/* After the writes (not timed): every block still carries its own
 * stamp, so no write went to the wrong place. */
static int file_check(void)
{
	static uint8_t chunk[1 << 20];

	for (long off = 0; off < DISK_BYTES; off += sizeof(chunk)) {
		if (pread(fd, chunk, sizeof(chunk), off) != (ssize_t)sizeof(chunk))
			return -1;
		for (long i = 0; i < (long)sizeof(chunk); i += BLOCK)
			if (!stamped(chunk + i, (uint32_t)((off + i) / BLOCK)))
				return -1;
	}
	return 0;
}

static void file_drop(void)
{
	if (fd >= 0)
		close(fd);
	if (path[0])
		unlink(path);
}

/* The same offsets for every mode (xorshift64, fixed seed). */
static void offsets_make(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (long i = 0; i < OPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		blk_of[i] = (uint32_t)(x % BLOCKS);
	}
}

/* ---------------------------------------------------------- cubrt side */

static struct cub_blk *disk;
static int coros = 1;		/* coroutines sharing the calls */
static bool failed;

/* Call i on disk: 0 or -1. buf is the caller's 4 KiB. */
static int cub_call(long i, uint8_t *buf)
{
	uint32_t b = blk_of[i % OPS];
	uint64_t lba = (uint64_t)b * SECTORS;

	if (!writing)
		return cub_blk_read(disk, lba, buf, SECTORS) || !stamped(buf, b) ? -1 : 0;
	stamp(buf, b);
	if (cub_blk_write(disk, lba, buf, SECTORS))
		return -1;
	return flushing && cub_blk_flush(disk) ? -1 : 0;
}

/* Coroutine k of coros: calls first + k, first + k + coros, ... below
 * first + ops. */
static void *worker(void *arg)
{
	long k = (long)(intptr_t)arg;
	uint8_t *buf = malloc(BLOCK);

	memset(buf, 0xa5, BLOCK);
	for (long i = first + k; i < first + ops && !failed; i += coros) {
		if (cub_call(i, buf))
			failed = true;
		if (coros > 1)
			cub_coro_yield();
	}
	free(buf);
	return NULL;
}

/* Runs calls [from, from + n) on coros coroutines; their spawn and join
 * are in the time (a few µs against the 20 ms of the calls). */
static int run_workers(long from, long n)
{
	struct cub_coro *c[COROS];
	int spawned = 0;

	first = from;
	ops = n;
	for (; spawned < coros; spawned++)
		if (cub_coro_spawn(&c[spawned], worker, (void *)(intptr_t)spawned, NULL))
			break;
	for (int k = 0; k < spawned; k++)
		cub_coro_join(c[k], NULL);
	return spawned == coros && !failed ? 0 : -1;
}

static void *cub_bench(void *unused)
{
	struct cub_blk_info info;
	long n = flushing ? FLUSH_OPS : OPS, w = flushing ? FLUSH_WARMUP : WARMUP;
	double t0;

	(void)unused;
	if (setenv("CUBRT_HOST_DISK", path, 1) || cub_blk_open(0, &disk) ||
	    cub_blk_info(disk, &info) || info.sectors != DISK_BYTES / CUB_BLK_SECTOR)
		return (void *)1;
	if (run_workers(0, w))
		return (void *)1;
	for (int s = 0; s < SLICES; s++) {
		t0 = now();
		if (run_workers(s * n / SLICES, n / SLICES))
			return (void *)1;
		slice_done(s, now() - t0, n / SLICES);
	}
	cub_blk_info(disk, &info);
	printf("note: %d coroutine%s: %llu requests, %llu waited for a place "
	       "(depth %u)\n", coros, coros > 1 ? "s" : "",
	       (unsigned long long)info.requests,
	       (unsigned long long)info.queue_waits, info.depth);
	return NULL;
}

/* ---------------------------------------------------------- Linux side */

static int linux_call(long i, uint8_t *buf)
{
	uint32_t b = blk_of[i % OPS];
	off_t off = (off_t)b * BLOCK;

	if (!writing)
		return pread(fd, buf, BLOCK, off) != BLOCK || !stamped(buf, b) ? -1 : 0;
	stamp(buf, b);
	if (pwrite(fd, buf, BLOCK, off) != BLOCK)
		return -1;
	return flushing && fdatasync(fd) ? -1 : 0;
}

static int linux_bench(void)
{
	static uint8_t buf[BLOCK];
	long n = flushing ? FLUSH_OPS : OPS, w = flushing ? FLUSH_WARMUP : WARMUP;
	double t0;

	memset(buf, 0xa5, sizeof(buf));
	for (long i = 0; i < w; i++)
		if (linux_call(i, buf))
			return -1;
	for (int s = 0; s < SLICES; s++) {
		t0 = now();
		for (long i = s * n / SLICES; i < (s + 1) * n / SLICES; i++)
			if (linux_call(i, buf))
				return -1;
		slice_done(s, now() - t0, n / SLICES);
	}
	return 0;
}

/* ----------------------------------------------------------------- main */

/* Sets the mode's flags; false for an unknown mode. */
static bool parse(const char *m, bool *linux_peer)
{
	*linux_peer = !strncmp(m, "linux-", 6);
	if (*linux_peer)
		m += 6;
	writing = !strcmp(m, "write") || !strcmp(m, "write8") || !strcmp(m, "flush");
	flushing = !strcmp(m, "flush");
	if (!strcmp(m, "read8") || !strcmp(m, "write8"))
		coros = COROS;
	if (*linux_peer && coros > 1)
		return false;
	return writing || !strcmp(m, "read") || !strcmp(m, "read8");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	void *bad = (void *)1;
	bool linux_peer;

	if (!parse(mode, &linux_peer)) {
		fprintf(stderr, "usage: %s read|write|read8|write8|flush|"
			"linux-read|linux-write|linux-flush\n", argv[0]);
		return 2;
	}
	cubi_mem_init();
	pin_to_cpu0();		/* cubrt runs on one CPU: so does the peer */
	offsets_make();
	if (file_make()) {
		perror("blk_host: the disk file");
		file_drop();
		return 1;
	}
	if (linux_peer)
		bad = linux_bench() ? (void *)1 : NULL;
	else
		cub_sched_run(cub_bench, NULL, &bad);
	if (!bad && writing && file_check())
		bad = (void *)1;
	file_drop();
	if (bad || failed) {
		fprintf(stderr, "%s: %s failed\n", argv[0], mode);
		return 1;
	}
	printf("note: %s: the mean of all %d slices: %.2f ns per call\n", mode, SLICES,
	       total / (flushing ? FLUSH_OPS : OPS));
	printf("result: %.2f ns/op\n", result);
	return 0;
}
