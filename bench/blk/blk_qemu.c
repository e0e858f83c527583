/*
 * blk_qemu.c - 4 KiB reads from a virtio-blk disk (vda: bench.conf boots
 * this with --disk on a 64 MiB image bench/blk/with_disk.py makes) in
 * guest instructions.
 *
 * Booted under QEMU with -icount shift=0,sleep=off, where the TSC
 * advances by one per executed instruction, so rdtsc differences count
 * the guest's instructions for a read (QEMU does the I/O on its own
 * threads, while the guest runs):
 *   read  cub_blk_read of 8 sectors (src/blk: the waiter on the stack,
 *         the submit, the coroutine parked on its irq event and woken
 *         by the completion, the driver's copy out of its DMA memory)
 *   raw   the driver alone, the floor under read: cub_arch_blk_submit
 *         of the same request with a done callback that sets a flag,
 *         polled by the same loop the spinner runs (no waiter, no
 *         parking, no wake-up)
 * at random 4 KiB-aligned offsets (xorshift, fixed seed).
 *
 * While a read waits, a spinner coroutine yields in a loop (raw: the
 * reader itself polls in that loop), so the guest never idles and the
 * completion's interrupt always lands on a running coroutine: one path,
 * not two chosen by the host's thread timing (bench/net/net_qemu.c says
 * why an idle guest under sleep=off cannot be counted). The loop's cost
 * is measured alone first (spin_cost, in 1/1024 instruction) and taken
 * off each read for the iterations it spanned; how many iterations a
 * read spans is the host's business (its I/O threads), what is left is
 * the guest's own work.
 *
 * Each read is counted on its own; prints the median as "result: N
 * instructions" and the spread as a note, for scripts/bench.
 */
#include <cubrt/arch.h>
#include <cubrt/blk.h>
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>

#define READS 1000
#define WARMUP 20
#define SECTORS 8
#define SPIN_CAL 100000

static int64_t per[READS];		/* instructions of each read */
static uint8_t buf[SECTORS * CUB_BLK_SECTOR];
static uint64_t lba_max;		/* the disk's 4 KiB blocks */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t next_lba(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % lba_max * SECTORS;
}

/* -------------------------------------------------------------- spinner */

static volatile uint64_t spins, spin_until;
static volatile bool never;
static uint64_t spin_cost;

/* The loop whose iterations are taken off: the spinner runs it until
 * told to stop, raw polls its request's flag in it. With nothing else
 * ready cub_coro_yield returns at once, so an iteration costs the same
 * in both. */
static __attribute__((noinline)) void spin_loop(volatile bool *stop)
{
	while (!*stop && spins < spin_until) {
		spins++;
		cub_coro_yield();
	}
}

static void *spinner(void *arg)
{
	(void)arg;
	spin_loop(&never);
	return NULL;
}

/* Instructions to spawn a spinner, run it n times round and join it. */
static int64_t spin_run(struct cub_coro **c, uint64_t n)
{
	uint64_t t0 = tsc();

	spins = 0;
	spin_until = n;
	if (cub_coro_spawn(c, spinner, NULL, NULL) || cub_coro_join(*c, NULL))
		return -1;
	return (int64_t)(tsc() - t0);
}

/* Measures spin_cost (two runs: their difference is the loop alone);
 * with go, then starts the spinner for the reads. */
static int spin_start(struct cub_coro **c, bool go)
{
	int64_t t1 = spin_run(c, SPIN_CAL), t2 = spin_run(c, 2 * SPIN_CAL);

	if (t1 < 0 || t2 < 0)
		return -CUB_ENOMEM;
	spin_cost = ((uint64_t)(t2 - t1) << 10) / SPIN_CAL;
	spins = 0;
	spin_until = UINT64_MAX;
	return go ? cub_coro_spawn(c, spinner, NULL, NULL) : 0;
}

/* ---------------------------------------------------------------- reads */

static struct cub_blk *disk;

/* The stamp with_disk.py wrote at the start of every 4 KiB block. */
static bool stamped(uint64_t lba)
{
	uint32_t got;

	cub_memcpy(&got, buf, sizeof(got));
	return got == (uint32_t)(lba / SECTORS);
}

static int blk_trip(void)
{
	uint64_t lba = next_lba();
	int r = cub_blk_read(disk, lba, buf, SECTORS);

	return r ? r : stamped(lba) ? 0 : -CUB_EIO;
}

static volatile bool raw_done;
static int raw_status;

/* Contexts: irq. */
static void raw_on_done(struct cub_arch_blk_req *req, int status)
{
	(void)req;
	raw_status = status;
	raw_done = true;
}

static int raw_trip(void)
{
	struct cub_arch_blk_req req = { .op = CUB_ARCH_BLK_READ, .count = SECTORS,
		.lba = next_lba(), .buf = buf, .done = raw_on_done };
	int r;

	raw_done = false;
	if ((r = cub_arch_blk_submit(0, &req)))
		return r;
	spin_loop(&raw_done);
	return raw_status ? raw_status : stamped(req.lba) ? 0 : -CUB_EIO;
}

/* ------------------------------------------------------------------ run */

static void sort(int64_t *v, int n)
{
	for (int gap = n / 2; gap > 0; gap /= 2)
		for (int i = gap; i < n; i++)
			for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				int64_t t = v[j];

				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

static void report(const char *mode, int64_t sum)
{
	int at_median = 0;

	cub_printk("note: %s: a spinner iteration is %lu.%03lu instructions\n", mode,
		   (unsigned long)(spin_cost >> 10),
		   (unsigned long)((spin_cost & 1023) * 1000 >> 10));
	sort(per, READS);
	for (int i = 0; i < READS; i++)
		at_median += per[i] == per[READS / 2];
	cub_printk("note: %s: %d reads of 4 KiB: min %ld, median %ld (%d of them), "
		   "99th %ld, max %ld, mean %ld instructions\n", mode, READS,
		   (long)per[0], (long)per[READS / 2], at_median,
		   (long)per[READS * 99 / 100], (long)per[READS - 1], (long)(sum / READS));
	cub_printk("result: %ld instructions\n", (long)per[READS / 2]);
}

static int disk_start(void)
{
	struct cub_blk_info info;
	int r = cub_blk_open(0, &disk);

	if (!r)
		r = cub_blk_info(disk, &info);
	if (!r && info.sectors < SECTORS)
		r = -CUB_EINVAL;
	lba_max = r ? 0 : info.sectors / SECTORS;
	return r;
}

int cub_main(void)
{
	const char *mode = cub_cmdline();
	bool raw = !cub_strcmp(mode, "raw");
	int (*trip)(void) = raw ? raw_trip : blk_trip;
	struct cub_coro *sc = NULL;
	uint64_t t0, s0;
	int64_t sum = 0;
	int r;

	if (!raw && cub_strcmp(mode, "read")) {
		cub_printk("usage: blk_qemu read|raw\n");
		return 2;
	}
	r = disk_start();
	if (!r)
		r = spin_start(&sc, !raw);
	for (int i = 0; i < WARMUP && !r; i++)
		r = trip();
	for (int i = 0; i < READS && !r; i++) {
		s0 = spins;
		t0 = tsc();
		r = trip();
		per[i] = (int64_t)(tsc() - t0 - (((spins - s0) * spin_cost) >> 10));
		sum += per[i];
	}
	spin_until = 0;
	if (!raw && sc)
		cub_coro_join(sc, NULL);
	if (r) {
		cub_printk("blk_qemu %s: a read failed: %d\n", mode, r);
		return 1;
	}
	report(mode, sum);
	return 0;
}
