/*
 * virtq_bad.c - the driver side of a legacy virtqueue (platform/x86/
 * virtq.c) against a device that misbehaves, played by this test writing
 * the used ring by hand: ids that are odd, past the slots or not posted,
 * a slot returned twice, a used index that jumps past the ring. Each is
 * reported as VIRTQ_BAD and skipped; only posted slots come back, once;
 * the layout is the legacy one (used ring at the next 4096 bytes).
 */
#include <cubrt/fmt.h>
#include <cubrt/mem.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>

#include "../../../platform/x86/virtq.h"

#include "../check.h"

static struct cubi_virtq q;

/* The device returns descriptor head id with len. */
static void device_used(uint32_t id, uint32_t len)
{
	uint16_t idx = q.used_hdr[1];

	q.used[idx % q.size].id = id;
	q.used[idx % q.size].len = len;
	q.used_hdr[1] = (uint16_t)(idx + 1);
}

static int take(unsigned *slot, uint32_t *len)
{
	return cubi_virtq_take(&q, slot, len);
}

static void test_layout(void)
{
	size_t free0 = cub_frame_free_count();

	CHECK(cubi_virtq_init(&q, 3, true) == -CUB_EINVAL);
	CHECK(cubi_virtq_init(&q, 2048, true) == -CUB_EINVAL);
	CHECK(cubi_virtq_init(&q, 256, true) == 0);
	CHECK(q.nslots == 128 && q.ring_pages == 3);
	CHECK((uintptr_t)q.used_hdr - q.ring_pa == 8192);
	CHECK((uintptr_t)q.avail - q.ring_pa == 4096);
	CHECK(q.desc[0].len == VIRTQ_HDR_LEN && q.desc[0].flags == 3 &&
	      q.desc[0].next == 1);
	CHECK(q.desc[1].len == VIRTQ_DATA_MAX && q.desc[1].flags == 2);
	CHECK(q.desc[1].addr == q.desc[0].addr + VIRTQ_DATA_OFF);
	cubi_virtq_free(&q);
	CHECK(cub_frame_free_count() == free0);
}

int cub_main(void)
{
	unsigned slot;
	uint32_t len;

	test_layout();
	CHECK(cubi_virtq_init(&q, 256, true) == 0);
	for (unsigned s = 0; s < 4; s++)
		cubi_virtq_post(&q, s, VIRTQ_DATA_MAX);
	CHECK(q.avail[1] == 4 && q.avail[2 + 3] == 6);
	CHECK(take(&slot, &len) == VIRTQ_EMPTY);

	device_used(2, 60);		/* slot 1: fine */
	CHECK(take(&slot, &len) == VIRTQ_TAKEN && slot == 1 && len == 60);
	device_used(2, 60);		/* slot 1 again: not posted now */
	device_used(3, 60);		/* odd: a data descriptor */
	device_used(2 * 128, 60);	/* past the slots */
	device_used(2 * 10, 60);	/* in range, never posted */
	device_used(0xFFFFFFFEu, 60);
	for (int i = 0; i < 5; i++)
		CHECK(take(&slot, &len) == VIRTQ_BAD);
	CHECK(take(&slot, &len) == VIRTQ_EMPTY);

	device_used(0, 1u << 31);	/* slot 0 with an absurd length */
	CHECK(take(&slot, &len) == VIRTQ_TAKEN && slot == 0 && len == 1u << 31);
	CHECK(!cubi_virtq_pending(&q));

	q.used_hdr[1] = (uint16_t)(q.used_hdr[1] + 300);	/* a jump */
	CHECK(cubi_virtq_pending(&q));
	CHECK(take(&slot, &len) == VIRTQ_BAD);
	CHECK(take(&slot, &len) == VIRTQ_EMPTY);
	device_used(4, 42);		/* the ring goes on after it */
	CHECK(take(&slot, &len) == VIRTQ_TAKEN && slot == 2 && len == 42);
	cubi_virtq_free(&q);
	cub_printk("virtq bad device: 6 malformed used entries skipped, "
		   "only posted slots taken: ok\n");
	return 0;
}
