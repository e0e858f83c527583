/*
 * bad.c - the virtio-blk driver's completion path (platform/x86/
 * virtio_blk_io.c over virtq.c) against a device that misbehaves, played
 * by this test: it owns a disk (a struct vblk outside cubi_vblks, its
 * queue made by cubi_vblk_queue_init), submits through cubi_vblk_submit,
 * reads the avail ring and descriptors as a device would, writes data,
 * status bytes and used entries by hand and calls the driver's handler,
 * cubi_vblk_irq, with interrupts disabled (the locking rule of
 * virtio_blk.h). No device is attached: the used ring's NO_NOTIFY flag
 * keeps the driver from ringing a doorbell it does not have.
 *
 * Each malformed report (a used id not posted, odd, past the slots, a
 * slot returned twice, a used length wrong for a read or absurd, a
 * status that is not VIRTIO_BLK_S_OK, a used index jumping past the
 * ring) must end its request with -CUB_EIO or be skipped and counted in
 * bad_used; while it is handled other requests sit in flight with good
 * data and status ready, so a wrong completion shows. Nothing may
 * complete twice, no caller buffer changes unless its read succeeded,
 * and afterwards every slot is free again and the disk still works.
 */
#include <cubrt/fmt.h>
#include <cubrt/mem.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>

#include "../../../platform/x86/virtio_blk.h"

#include "../check.h"

#define S CUB_ARCH_BLK_SECTOR
#define GUARD 16		/* bytes past a buffer that must never change */
#define SENTINEL 0xA5
#define USED_F_NO_NOTIFY 1
#define F_NEXT 1
#define F_WRITE 2

struct treq {
	struct cub_arch_blk_req r;
	int calls, status;
	uint8_t buf[4 * S + GUARD];
};

static struct vblk d;
static unsigned bad_seen, eio_seen;

static void done(struct cub_arch_blk_req *r, int status)
{
	struct treq *t = r->arg;

	t->calls++;
	t->status = status;
	if (status == -CUB_EIO)
		eio_seen++;
}

static uint8_t pat(uint64_t lba, size_t i)
{
	return (uint8_t)(lba * 7 + i * 13 + 1);
}

/* Submits t (count sectors at lba) and returns its slot. */
static unsigned submit(struct treq *t, enum cub_arch_blk_op op,
		       uint64_t lba, uint32_t count)
{
	cub_memset(t, 0, sizeof(*t));
	cub_memset(t->buf, SENTINEL, sizeof(t->buf));
	t->r = (struct cub_arch_blk_req){ .op = op, .count = count, .lba = lba,
		.buf = op == CUB_ARCH_BLK_FLUSH ? NULL : t->buf,
		.done = done, .arg = t };
	CHECK_EQ(cubi_vblk_submit(&d, &t->r), 0);
	CHECK(t->r.slot < d.q.nslots && d.inflight[t->r.slot] == &t->r);
	return t->r.slot;
}

/* The device serves slot's request as a good one would (reads the
 * header, fills a read's data with the pattern, writes status) but does
 * not report it yet. */
static void device_serve(unsigned slot, uint8_t status)
{
	volatile struct virtq_desc *h = &d.q.desc[3 * slot];
	const uint8_t *hdr = (const uint8_t *)(uintptr_t)h->addr;
	uint32_t type;
	uint64_t sector;

	cub_memcpy(&type, hdr, 4);
	cub_memcpy(&sector, hdr + 8, 8);
	if (h->next == 3 * slot + 1) {
		volatile struct virtq_desc *data = &d.q.desc[3 * slot + 1];
		uint8_t *p = (uint8_t *)(uintptr_t)data->addr;

		CHECK_EQ(!!(data->flags & F_WRITE), type == VBLK_T_IN);
		if (type == VBLK_T_IN)
			for (size_t i = 0; i < data->len; i++)
				p[i] = pat(sector + i / S, i % S);
		h = data;
	}
	CHECK_EQ(h->next, 3 * slot + 2);
	*(uint8_t *)(uintptr_t)d.q.desc[3 * slot + 2].addr = status;
}

/* The device puts {id, len} in the used ring and publishes it. */
static void device_used(uint32_t id, uint32_t len)
{
	uint16_t idx = d.q.used_hdr[1];

	d.q.used[idx % d.q.size].id = id;
	d.q.used[idx % d.q.size].len = len;
	d.q.used_hdr[1] = (uint16_t)(idx + 1);
}

/* The interrupt: the driver takes what the device reported; bad more
 * entries must have been refused. */
static void interrupt(unsigned bad)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t before = d.bad_used;

	cubi_vblk_irq(&d);
	cub_arch_irq_restore(irq);
	CHECK_EQ(d.bad_used - before, bad);
	CHECK(!cubi_virtq_pending(&d.q));
	bad_seen += bad;
}

/* t is still in flight: not completed, its buffer as the caller left it. */
static void pending(const struct treq *t)
{
	CHECK_EQ(t->calls, 0);
	CHECK(d.inflight[t->r.slot] == &t->r);
	for (size_t i = 0; i < sizeof(t->buf); i++)
		if (t->buf[i] != SENTINEL)
			CHECK_EQ(t->buf[i], SENTINEL);
}

/* t completed once with status, its slot free; a read that succeeded
 * holds the pattern, any other buffer is untouched; never the guard. */
static void completed(const struct treq *t, int status)
{
	size_t n = t->r.count * S;
	bool copied = !status && t->r.op == CUB_ARCH_BLK_READ;

	CHECK_EQ(t->calls, 1);
	CHECK_EQ(t->status, status);
	CHECK(d.inflight[t->r.slot] == NULL);
	for (size_t i = 0; i < sizeof(t->buf); i++) {
		uint8_t want = copied && i < n ?
			       pat(t->r.lba + i / S, i % S) : SENTINEL;

		if (t->buf[i] != want)
			CHECK_EQ(t->buf[i], want);
	}
}

/* Returns t correctly (served, exact length, status OK): it must succeed. */
static void finish_ok(struct treq *t)
{
	uint32_t len = 1;

	if (t->r.op == CUB_ARCH_BLK_READ)
		len += t->r.count * S;
	device_serve(t->r.slot, VBLK_S_OK);
	device_used(3 * t->r.slot, len);
	interrupt(0);
	completed(t, 0);
}

static struct treq t[VBLK_SLOTS + 1];

/* The slot layout a device walks: header 3s, data 3s+1, status 3s+2;
 * good reports of a read, a write (also with the loose length 0 of
 * legacy devices) and a flush succeed. */
static void case_layout(void)
{
	unsigned s = submit(&t[0], CUB_ARCH_BLK_READ, 5, 2);
	const uint8_t *hdr = cubi_virtq_hdr(&d.q, s);

	CHECK_EQ(d.q.avail[2 + (uint16_t)(d.q.avail[1] - 1) % d.q.size], 3 * s);
	CHECK(d.q.desc[3 * s].len == 16 && d.q.desc[3 * s].flags == F_NEXT &&
	      d.q.desc[3 * s].next == 3 * s + 1);
	CHECK(d.q.desc[3 * s + 1].len == 2 * S &&
	      d.q.desc[3 * s + 1].flags == (F_NEXT | F_WRITE));
	CHECK(d.q.desc[3 * s + 2].len == 1 &&
	      d.q.desc[3 * s + 2].flags == F_WRITE);
	CHECK(hdr[0] == VBLK_T_IN && hdr[8] == 5 && hdr[16] == 0xFF);
	s = submit(&t[1], CUB_ARCH_BLK_WRITE, 9, 1);
	CHECK_EQ(d.q.desc[3 * s + 1].flags, F_NEXT);
	CHECK_EQ(cubi_virtq_data(&d.q, s)[S - 1], SENTINEL);
	s = submit(&t[2], CUB_ARCH_BLK_FLUSH, 0, 0);
	CHECK_EQ(d.q.desc[3 * s].next, 3 * s + 2);
	finish_ok(&t[0]);
	finish_ok(&t[1]);
	finish_ok(&t[2]);
	s = submit(&t[1], CUB_ARCH_BLK_WRITE, 9, 1);
	device_serve(s, VBLK_S_OK);
	device_used(3 * s, 0);
	interrupt(0);
	completed(&t[1], 0);
}

/* Ids that name no posted slot: skipped, nobody completed. */
static void case_ids(void)
{
	unsigned a = submit(&t[0], CUB_ARCH_BLK_READ, 10, 1);
	unsigned b = submit(&t[1], CUB_ARCH_BLK_READ, 20, 2);
	unsigned idle;

	submit(&t[2], CUB_ARCH_BLK_WRITE, 30, 1);
	idle = d.free[0];
	device_serve(a, VBLK_S_OK);
	device_serve(b, VBLK_S_OK);
	device_serve(t[2].r.slot, VBLK_S_OK);
	device_used(3 * a + 1, S + 1);		/* odd: a's data descriptor */
	device_used(3 * b + 2, 2 * S + 1);	/* b's status descriptor */
	device_used(3 * VBLK_SLOTS, 1);		/* past the slots */
	device_used(3 * VIRTQ_SLOTS_MAX, 1);	/* past virtq's table */
	device_used(0xFFFFFFFFu, 1);		/* a multiple of 3, far out */
	device_used(3 * idle, 1);		/* in range, never posted */
	interrupt(6);
	for (unsigned i = 0; i < 3; i++)
		pending(&t[i]);
	CHECK_EQ(d.nfree, VBLK_SLOTS - 3);
	for (unsigned i = 0; i < 3; i++)
		finish_ok(&t[i]);
}

/* A slot returned twice, in one interrupt and again in the next: the
 * request completes once, the repeats are skipped. */
static void case_twice(void)
{
	unsigned a = submit(&t[0], CUB_ARCH_BLK_READ, 40, 1);

	submit(&t[1], CUB_ARCH_BLK_READ, 50, 1);
	device_serve(a, VBLK_S_OK);
	device_serve(t[1].r.slot, VBLK_S_OK);
	device_used(3 * a, S + 1);
	device_used(3 * a, S + 1);
	interrupt(1);
	completed(&t[0], 0);
	pending(&t[1]);
	device_used(3 * a, S + 1);
	interrupt(1);
	completed(&t[0], 0);
	pending(&t[1]);
	finish_ok(&t[1]);
}

struct bad_report {
	enum cub_arch_blk_op op;
	uint32_t count, len;	/* the request; the used length reported */
	int status;		/* the status byte, -1: never written */
};

static const struct bad_report bad_reports[] = {
	{ CUB_ARCH_BLK_READ, 2, 2 * S, VBLK_S_OK },	/* no status byte */
	{ CUB_ARCH_BLK_READ, 2, S + 1, VBLK_S_OK },	/* half the data */
	{ CUB_ARCH_BLK_READ, 2, 1, VBLK_S_OK },		/* status only */
	{ CUB_ARCH_BLK_READ, 2, 0, VBLK_S_OK },
	{ CUB_ARCH_BLK_READ, 2, 2 * S + 2, VBLK_S_OK },	/* one too many */
	{ CUB_ARCH_BLK_READ, 2, 1u << 31, VBLK_S_OK },
	{ CUB_ARCH_BLK_READ, 2, 0xFFFFFFFFu, VBLK_S_OK },
	{ CUB_ARCH_BLK_WRITE, 1, 2, VBLK_S_OK },
	{ CUB_ARCH_BLK_WRITE, 1, S + 1, VBLK_S_OK },
	{ CUB_ARCH_BLK_WRITE, 1, 1u << 31, VBLK_S_OK },
	{ CUB_ARCH_BLK_FLUSH, 0, 0xFFFFFFFFu, VBLK_S_OK },
	{ CUB_ARCH_BLK_READ, 3, 3 * S + 1, VBLK_S_IOERR },
	{ CUB_ARCH_BLK_READ, 3, 3 * S + 1, VBLK_S_UNSUPP },
	{ CUB_ARCH_BLK_READ, 3, 3 * S + 1, 0x7F },
	{ CUB_ARCH_BLK_READ, 3, 3 * S + 1, -1 },
	{ CUB_ARCH_BLK_WRITE, 4, 1, VBLK_S_IOERR },
	{ CUB_ARCH_BLK_WRITE, 4, 0, 3 },
	{ CUB_ARCH_BLK_FLUSH, 0, 1, VBLK_S_UNSUPP },
	{ CUB_ARCH_BLK_FLUSH, 0, 1, 0xFF },
};

/* A wrong length or status: -CUB_EIO for that request alone (a read
 * copies nothing although the data is there), the bystander waits. */
static void case_reports(void)
{
	for (size_t i = 0; i < CUB_ARRAY_SIZE(bad_reports); i++) {
		const struct bad_report *b = &bad_reports[i];
		unsigned s = submit(&t[0], b->op, 200 + i * 4,
				    b->op == CUB_ARCH_BLK_FLUSH ? 0 : b->count);

		submit(&t[1], CUB_ARCH_BLK_READ, 300 + i, 1);
		device_serve(t[1].r.slot, VBLK_S_OK);
		if (b->status >= 0)
			device_serve(s, (uint8_t)b->status);
		else
			cub_memset(cubi_virtq_data(&d.q, s), 0x3C, 3 * S);
		device_used(3 * s, b->len);
		interrupt(0);
		completed(&t[0], -CUB_EIO);
		pending(&t[1]);
		finish_ok(&t[1]);
	}
}

/* The used index jumps past the ring, then back: each is one bad
 * report, and the good-looking entries it would cover (naming posted
 * slots) are not believed. The requests stay in flight until reported
 * properly. */
static void case_jump(void)
{
	unsigned a = submit(&t[0], CUB_ARCH_BLK_READ, 60, 1);
	unsigned b = submit(&t[1], CUB_ARCH_BLK_READ, 70, 1);
	uint16_t idx = d.q.used_hdr[1], sz = d.q.size;

	device_serve(a, VBLK_S_OK);
	device_serve(b, VBLK_S_OK);
	d.q.used[idx % sz] = (struct virtq_used_elem){ 3 * b, S + 1 };
	d.q.used_hdr[1] = (uint16_t)(idx + sz + 1);
	interrupt(1);
	pending(&t[0]);
	pending(&t[1]);
	idx = (uint16_t)(idx + sz + 1);
	d.q.used[idx % sz] = (struct virtq_used_elem){ 3 * a, S + 1 };
	d.q.used_hdr[1] = (uint16_t)(idx - 1);	/* backwards */
	interrupt(1);
	pending(&t[0]);
	pending(&t[1]);
	finish_ok(&t[0]);
	finish_ok(&t[1]);
}

/* Bad arguments on the played disk: refused, done never called. */
static void case_args(struct treq *x)
{
	static const struct cub_arch_blk_req bad[] = {
		{ CUB_ARCH_BLK_READ, 0, 0, t[0].buf, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, VBLK_MAX_SECTORS + 1, 0, t[0].buf, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, 1, 1000, t[0].buf, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, 2, 999, t[0].buf, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, 2, UINT64_MAX, t[0].buf, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, 1, 0, NULL, done, NULL, 0 },
		{ CUB_ARCH_BLK_READ, 1, 0, t[0].buf, NULL, NULL, 0 },
		{ CUB_ARCH_BLK_FLUSH, 1, 0, NULL, done, NULL, 0 },
		{ (enum cub_arch_blk_op)7, 1, 0, t[0].buf, done, NULL, 0 },
	};

	CHECK_EQ(cubi_vblk_submit(&d, NULL), -CUB_EINVAL);
	for (size_t i = 0; i < CUB_ARRAY_SIZE(bad); i++) {
		x->r = bad[i];
		x->r.arg = x;
		CHECK_EQ(cubi_vblk_submit(&d, &x->r), -CUB_EINVAL);
	}
	x->r = (struct cub_arch_blk_req){ .op = CUB_ARCH_BLK_WRITE, .count = 1,
		.buf = x->buf, .done = done, .arg = x };
	d.read_only = true;
	CHECK_EQ(cubi_vblk_submit(&d, &x->r), -CUB_EROFS);
	d.read_only = false;
	CHECK_EQ(x->calls, 0);
}

/* After all that the disk still works: every slot in flight at once, one
 * more is -CUB_EAGAIN, all reported in reverse order in one interrupt. */
static void case_usable(void)
{
	for (unsigned i = 0; i < VBLK_SLOTS; i++)
		submit(&t[i], CUB_ARCH_BLK_READ, 500 + 4 * i, 4);
	CHECK_EQ(d.nfree, 0);
	cub_memset(&t[VBLK_SLOTS], 0, sizeof(t[VBLK_SLOTS]));
	case_args(&t[VBLK_SLOTS]);
	t[VBLK_SLOTS].r = (struct cub_arch_blk_req){ .op = CUB_ARCH_BLK_READ,
		.count = 1, .buf = t[VBLK_SLOTS].buf, .done = done,
		.arg = &t[VBLK_SLOTS] };
	CHECK_EQ(cubi_vblk_submit(&d, &t[VBLK_SLOTS].r), -CUB_EAGAIN);
	CHECK_EQ(t[VBLK_SLOTS].calls, 0);
	for (unsigned i = VBLK_SLOTS; i-- > 0;) {
		device_serve(t[i].r.slot, VBLK_S_OK);
		device_used(3 * t[i].r.slot, 4 * S + 1);
	}
	interrupt(0);
	for (unsigned i = 0; i < VBLK_SLOTS; i++)
		completed(&t[i], 0);
}

static void run_cases(void)
{
	case_layout();
	case_ids();
	case_twice();
	case_reports();
	case_jump();
	case_usable();
}

int cub_main(void)
{
	size_t free0 = cub_frame_free_count();

	cub_memset(&d, 0, sizeof(d));
	cub_snprintf(d.name, sizeof(d.name), "played-disk");
	d.sectors = 1000;
	d.has_flush = true;
	CHECK_EQ(cubi_vblk_queue_init(&d, 3000), -CUB_EINVAL);
	CHECK_EQ(cubi_vblk_queue_init(&d, 128), 0);
	CHECK_EQ(d.q.nslots, VBLK_SLOTS);
	CHECK_EQ(d.nfree, VBLK_SLOTS);
	d.q.used_hdr[0] = USED_F_NO_NOTIFY;
	run_cases();
	CHECK_EQ(d.nfree, VBLK_SLOTS);
	cubi_virtq_free(&d.q);
	CHECK_EQ(cub_frame_free_count(), free0);
	cub_printk("blk bad device: %u malformed used entries skipped, %u "
		   "requests ended with -CUB_EIO, none completed twice, "
		   "buffers intact, disk usable: ok\n", bad_seen, eio_seen);
	return 0;
}
