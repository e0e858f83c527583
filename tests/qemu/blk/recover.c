/*
 * recover.c - a failed virtio-blk disk brought back with cub_blk_recover,
 * on QEMU. blk_host.py ("recover") boots this with a blank 1 MiB image
 * and checks the file afterwards.
 *
 * 1. Pattern 5 is written to sectors 0..7 and flushed.
 * 2. With a timeout of 200 ms and the driver's cubi_vblk_test_no_kick
 *    (posted, never seen by the device), two reads and a write of
 *    pattern 9 to sectors 16..19 fail the disk (-CUB_ETIMEDOUT, -CUB_EIO).
 * 3. cub_blk_recover: the device is running again (status ACKNOWLEDGE |
 *    DRIVER | DRIVER_OK, bus mastering on, a fresh queue with every slot
 *    free); a second call is -CUB_EINVAL. Sectors 0..7 read back pattern
 *    5; 16..19 are still zero (the abandoned write never ran: the new
 *    queue does not carry it); pattern 6 goes to 32..39 and back;
 *    24 coroutines at once (more than the 16 slots) all complete.
 * 4. The reset never confirmed (cubi_vblk_test_reset_stuck: the status
 *    "never reads 0", which QEMU's device otherwise always does at once):
 *    the disk fails with reset_rc -CUB_EIO and bus mastering off;
 *    cub_blk_recover is refused with -CUB_EIO (its own reset is not
 *    confirmed either) and the disk stays failed, bus mastering still
 *    off, requests -CUB_EIO. Once the status reads 0 again, the next
 *    cub_blk_recover works and the data is all there.
 */
#include <cubrt/blk.h>
#include <cubrt/fmt.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../../../platform/x86/virtio_blk.h"
#include "../../../platform/x86/x86.h"

#include "../check.h"

#define S CUB_BLK_SECTOR
#define MS CUB_NSEC_PER_MSEC
#define TIMEOUT (200 * MS)
#define MANY 24
#define RUNNING 7		/* ACKNOWLEDGE | DRIVER | DRIVER_OK */

struct req {
	struct cub_blk *dev;
	uint64_t lba;
	int seed;		/* a write's pattern; -1: a read */
	int rc;
	uint8_t buf[4 * S];
};

static uint8_t pat(int seed, uint64_t lba, size_t i)
{
	return (uint8_t)(seed * 37 + lba * 11 + i * 3 + (i >> 8));
}

static void fill(uint8_t *buf, int seed, uint64_t lba, uint32_t n)
{
	for (size_t i = 0; i < (size_t)n * S; i++)
		buf[i] = pat(seed, lba + i / S, i % S);
}

static bool holds(const uint8_t *buf, int seed, uint64_t lba, uint32_t n)
{
	for (size_t i = 0; i < (size_t)n * S; i++)
		if (buf[i] != (seed < 0 ? 0 : pat(seed, lba + i / S, i % S)))
			return false;
	return true;
}

static void *run_req(void *arg)
{
	struct req *r = arg;

	r->rc = r->seed >= 0 ? cub_blk_write(r->dev, r->lba, r->buf, 4) :
			       cub_blk_read(r->dev, r->lba, r->buf, 4);
	return NULL;
}

/* Reads n sectors at lba: they must hold pattern seed (-1: zeros). */
static void check_sectors(struct cub_blk *d, uint64_t lba, uint32_t n,
			  int seed)
{
	static uint8_t buf[8 * S];

	CHECK_EQ(cub_blk_read(d, lba, buf, n), 0);
	CHECK(holds(buf, seed, lba, n));
}

static bool bus_master(struct vblk *v)
{
	return cubi_pci_read16(&v->pci, PCI_COMMAND) & PCI_CMD_MASTER;
}

/* Phase 2: requests the device never sees fail the disk. */
static void fail_disk(struct cub_blk *d, unsigned n, bool with_write)
{
	struct cub_coro *c[3];
	static struct req r[3];

	cubi_vblk_test_no_kick = true;
	for (unsigned i = 0; i < n; i++) {
		bool w = with_write && i == n - 1;

		r[i] = (struct req){ .dev = d, .lba = w ? 16 : 4 * i,
			.seed = w ? 9 : -1, .rc = 99 };
		if (w)
			fill(r[i].buf, 9, 16, 4);
		CHECK_EQ(cub_coro_spawn(&c[i], run_req, &r[i], NULL), 0);
	}
	for (unsigned i = 0; i < n; i++)
		cub_coro_join(c[i], NULL);
	cubi_vblk_test_no_kick = false;
	CHECK_EQ(r[0].rc, -CUB_ETIMEDOUT);
	for (unsigned i = 1; i < n; i++)
		CHECK_EQ(r[i].rc, -CUB_EIO);
}

/* Phase 3's many: MANY reads of pattern 5 at once on the fresh queue. */
static void many(struct cub_blk *d)
{
	static struct req r[MANY];
	struct cub_coro *c[MANY];

	for (unsigned i = 0; i < MANY; i++) {
		r[i] = (struct req){ .dev = d, .lba = 4 * (i % 2), .seed = -1,
			.rc = 99 };
		CHECK_EQ(cub_coro_spawn(&c[i], run_req, &r[i], NULL), 0);
	}
	for (unsigned i = 0; i < MANY; i++) {
		cub_coro_join(c[i], NULL);
		CHECK_EQ(r[i].rc, 0);
		CHECK(holds(r[i].buf, 5, r[i].lba, 4));
	}
}

static void recovered(struct cub_blk *d, struct vblk *v)
{
	CHECK(!v->failed);
	CHECK_EQ(inb(v->io + VB_STATUS), RUNNING);
	CHECK(bus_master(v));
	CHECK_EQ(v->nfree, v->q.nslots);
	CHECK_EQ(cub_blk_recover(d), -CUB_EINVAL);	/* healthy */
	check_sectors(d, 0, 8, 5);
	check_sectors(d, 16, 4, -1);		/* the abandoned write */
}

/* Phase 4: a reset the device never confirms. */
static void stuck(struct cub_blk *d, struct vblk *v)
{
	struct cub_blk_info info;
	uint8_t buf[S];

	cubi_vblk_test_reset_stuck = true;
	fail_disk(d, 1, false);
	CHECK(v->failed);
	CHECK_EQ(v->reset_rc, -CUB_EIO);
	CHECK(!bus_master(v));
	CHECK_EQ(cub_blk_recover(d), -CUB_EIO);
	CHECK(v->failed);
	CHECK(!bus_master(v));
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK(info.failed);
	CHECK_EQ(info.recover_failures, 1);
	CHECK_EQ(cub_blk_read(d, 0, buf, 1), -CUB_EIO);
	cubi_vblk_test_reset_stuck = false;
	CHECK_EQ(cub_blk_recover(d), 0);
	recovered(d, v);
	check_sectors(d, 32, 8, 6);
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK_EQ(info.resets, 2);
	CHECK_EQ(info.recoveries, 2);
	CHECK_EQ(v->recoveries, 2);
	CHECK_EQ(v->recover_failures, 1);
}

int cub_main(void)
{
	static uint8_t buf[8 * S];
	struct vblk *v = &cubi_vblks[0];
	struct cub_blk_info info;
	struct cub_blk *d;

	CHECK_EQ(cub_blk_open(0, &d), 0);
	fill(buf, 5, 0, 8);
	CHECK_EQ(cub_blk_write(d, 0, buf, 8), 0);
	CHECK_EQ(cub_blk_flush(d), 0);
	CHECK_EQ(cub_blk_set_timeout(d, TIMEOUT), 0);

	fail_disk(d, 3, true);
	CHECK(v->failed);
	CHECK_EQ(v->reset_rc, 0);
	CHECK(!bus_master(v));
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK(info.failed);
	CHECK_EQ(info.resets, 1);

	CHECK_EQ(cub_blk_recover(d), 0);
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK(!info.failed);
	CHECK_EQ(info.recoveries, 1);
	recovered(d, v);
	fill(buf, 6, 32, 8);
	CHECK_EQ(cub_blk_write(d, 32, buf, 8), 0);
	CHECK_EQ(cub_blk_flush(d), 0);
	check_sectors(d, 32, 8, 6);
	many(d);
	cub_printk("blk recover: failed, recovered, pattern 5 back, the "
		   "abandoned write never ran, %u at once: ok\n", MANY);

	stuck(d, v);
	cub_printk("blk recover: an unconfirmed reset refused with -CUB_EIO, "
		   "the disk stayed failed, then recovered: ok\n");
	return 0;
}
