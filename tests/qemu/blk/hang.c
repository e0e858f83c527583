/*
 * hang.c - a request the virtio-blk device never answers, on QEMU: the
 * driver's test switch (cubi_vblk_test_no_kick) posts requests without
 * ringing the doorbell, so the device never sees them. blk_host.py
 * ("hang") boots this with a scratch image holding pattern 3 in sectors
 * 0..7.
 *
 * A read first works (the device is sound). Then, with a timeout of
 * 200 ms, three coroutines read: the first times out with -CUB_ETIMEDOUT
 * no earlier than 200 ms after it began, the other two get -CUB_EIO with
 * it; their stack buffers are untouched. The device has reset (status
 * reads 0) and may no longer master the bus; later requests fail with
 * -CUB_EIO at once (well within a 10 s timeout set after the failure). Last, the doorbell is rung by hand: the reset device
 * must not take the abandoned requests (no interrupt, no used entry, no
 * status byte written) - the memory they would land in is the driver's,
 * never the callers'.
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
#define LATE (3000 * MS)	/* TCG on a loaded machine */
#define LATER_TIMEOUT (10000 * MS)	/* after the failure */
#define FILL 0x5A
#define READERS 3

struct reader {
	struct cub_blk *dev;
	uint64_t start, end;
	int rc;
	bool intact;
};

static void *read_one(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[4 * S];

	cub_memset(buf, FILL, sizeof(buf));
	r->start = cub_time_now();
	r->rc = cub_blk_read(r->dev, 0, buf, 4);
	r->end = cub_time_now();
	r->intact = true;
	for (size_t i = 0; i < sizeof(buf); i++)
		r->intact &= buf[i] == FILL;
	return NULL;
}

static uint8_t pat(uint64_t lba, size_t i)
{
	return (uint8_t)(3 * 37 + lba * 11 + i * 3 + (i >> 8));
}

/* The device, reset, ignores a doorbell: nothing of the queue changes. */
static void doorbell_ignored(struct vblk *v)
{
	uint8_t status[VBLK_SLOTS];
	uint64_t irqs = v->interrupts;
	uint16_t used = v->q.used_hdr[1];

	for (unsigned s = 0; s < v->q.nslots; s++)
		status[s] = cubi_virtq_hdr(&v->q, s)[VIRTQ_REQ_STATUS_OFF];
	outw(v->io + VB_QUEUE_NOTIFY, 0);
	cub_sleep(100 * MS);
	CHECK_EQ(v->interrupts, irqs);
	CHECK_EQ(v->q.used_hdr[1], used);
	for (unsigned s = 0; s < v->q.nslots; s++)
		CHECK_EQ(cubi_virtq_hdr(&v->q, s)[VIRTQ_REQ_STATUS_OFF], status[s]);
}

int cub_main(void)
{
	struct cub_coro *c[READERS];
	struct reader r[READERS];
	struct cub_blk_info info;
	struct vblk *v = &cubi_vblks[0];
	struct cub_blk *d;
	uint8_t buf[8 * S];
	uint64_t t;

	CHECK_EQ(cub_blk_open(0, &d), 0);
	CHECK_EQ(cub_blk_read(d, 0, buf, 8), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], pat(i / S, i % S));
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK_EQ(info.timeout_ns, CUB_BLK_TIMEOUT_DEFAULT);
	CHECK_EQ(cub_blk_set_timeout(d, TIMEOUT), 0);

	cubi_vblk_test_no_kick = true;
	for (unsigned i = 0; i < READERS; i++) {
		r[i] = (struct reader){ .dev = d, .rc = 99 };
		CHECK_EQ(cub_coro_spawn(&c[i], read_one, &r[i], NULL), 0);
	}
	for (unsigned i = 0; i < READERS; i++)
		cub_coro_join(c[i], NULL);
	cubi_vblk_test_no_kick = false;
	CHECK_EQ(r[0].rc, -CUB_ETIMEDOUT);
	CHECK(r[0].end - r[0].start >= TIMEOUT);
	CHECK(r[0].end - r[0].start <= TIMEOUT + LATE);
	for (unsigned i = 1; i < READERS; i++)
		CHECK_EQ(r[i].rc, -CUB_EIO);
	for (unsigned i = 0; i < READERS; i++)
		CHECK(r[i].intact);

	CHECK(v->failed);
	CHECK_EQ(v->reset_rc, 0);
	CHECK_EQ(inb(v->io + VB_STATUS), 0);
	CHECK_EQ(cubi_pci_read16(&v->pci, PCI_COMMAND) & PCI_CMD_MASTER, 0);
	CHECK_EQ(cub_blk_info(d, &info), 0);
	CHECK_EQ(info.timeouts, 1);
	CHECK(info.failed);
	/* At once, not after a device's answer or a timeout: with 10 s to
	 * answer, a call that waited would take them; the bound is half of
	 * that, far above what a loaded host's pauses of QEMU add (a fixed
	 * 100 ms bound measured those pauses instead). */
	CHECK_EQ(cub_blk_set_timeout(d, LATER_TIMEOUT), 0);
	t = cub_time_now();
	CHECK_EQ(cub_blk_read(d, 0, buf, 1), -CUB_EIO);
	CHECK_EQ(cub_blk_write(d, 0, buf, 1), -CUB_EIO);
	CHECK_EQ(cub_blk_flush(d), -CUB_EIO);
	CHECK(cub_time_now() - t < LATER_TIMEOUT / 2);
	CHECK_EQ(cub_arch_blk_reset(0), 0);	/* again: nothing more */
	CHECK_EQ(cub_arch_blk_reset(VBLK_MAX), -CUB_ENODEV);
	doorbell_ignored(v);
	cub_printk("blk hang: timed out after %llu ms, %u others -CUB_EIO, "
		   "device reset, later requests -CUB_EIO, buffers and "
		   "queue untouched: ok\n",
		   (unsigned long long)((r[0].end - r[0].start) / MS),
		   READERS - 1);
	return 0;
}
