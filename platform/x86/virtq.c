/*
 * virtq.c - legacy split virtqueues with fixed buffers (see virtq.h for
 * the layout, the invariants and the locking rule).
 *
 * Ordering: the device runs on another host thread (QEMU) but sees guest
 * RAM with x86's ordering: stores are not reordered with stores nor loads
 * with loads, so a compiler barrier between a descriptor/ring write and
 * the index that publishes it (and between reading an index and the
 * entries it covers) is enough. The one exception is a store followed by
 * a load: the avail index written, then the used flags read to decide on
 * a notify, needs a full fence (mfence), or the device could set
 * NO_NOTIFY, miss the new index, and sleep. The notify is an `out`,
 * which drains the store buffer first.
 */
#include <cubrt/mem.h>
#include <cubrt/string.h>

#include "virtq.h"

#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define RING_ALIGN 4096
#define USED_F_NO_NOTIFY 1

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Bytes of ring memory for size entries, used ring page aligned. */
static size_t used_offset(uint16_t size)
{
	return CUB_ALIGN_UP(16ul * size + 6 + 2ul * size, (size_t)RING_ALIGN);
}

static size_t ring_bytes(uint16_t size)
{
	return used_offset(size) + CUB_ALIGN_UP(6 + 8ul * size, (size_t)RING_ALIGN);
}

uint8_t *cubi_virtq_hdr(const struct cubi_virtq *q, unsigned slot)
{
	return (uint8_t *)(q->buf_pa + (uintptr_t)slot * q->cell);
}

uint8_t *cubi_virtq_data(const struct cubi_virtq *q, unsigned slot)
{
	return cubi_virtq_hdr(q, slot) + q->data_off;
}

/* Chains slot s: header descriptor 2s, data descriptor 2s+1. */
static void chain(struct cubi_virtq *q, unsigned s, bool in)
{
	uint16_t w = in ? DESC_F_WRITE : 0;

	q->desc[2 * s].addr = (uint64_t)(uintptr_t)cubi_virtq_hdr(q, s);
	q->desc[2 * s].len = VIRTQ_HDR_LEN;
	q->desc[2 * s].flags = w | DESC_F_NEXT;
	q->desc[2 * s].next = (uint16_t)(2 * s + 1);
	q->desc[2 * s + 1].addr = (uint64_t)(uintptr_t)cubi_virtq_data(q, s);
	q->desc[2 * s + 1].len = VIRTQ_DATA_MAX;
	q->desc[2 * s + 1].flags = w;
	q->desc[2 * s + 1].next = 0;
}

/* Chains request slot s: header 3s, data 3s+1, status 3s+2. */
static void chain_req(struct cubi_virtq *q, unsigned s, uint32_t data_max)
{
	uint8_t *h = cubi_virtq_hdr(q, s);

	q->desc[3 * s].addr = (uint64_t)(uintptr_t)h;
	q->desc[3 * s].len = 16;
	q->desc[3 * s].flags = DESC_F_NEXT;
	q->desc[3 * s].next = (uint16_t)(3 * s + 1);
	q->desc[3 * s + 1].addr = (uint64_t)(uintptr_t)(h + q->data_off);
	q->desc[3 * s + 1].len = data_max;
	q->desc[3 * s + 1].flags = DESC_F_NEXT;
	q->desc[3 * s + 1].next = (uint16_t)(3 * s + 2);
	q->desc[3 * s + 2].addr = (uint64_t)(uintptr_t)(h + VIRTQ_REQ_STATUS_OFF);
	q->desc[3 * s + 2].len = 1;
	q->desc[3 * s + 2].flags = DESC_F_WRITE;
	q->desc[3 * s + 2].next = 0;
}

/* Rings and buffer cells for q->nslots slots of q->cell bytes. */
static int alloc_rings(struct cubi_virtq *q)
{
	uintptr_t base;

	q->ring_pages = ring_bytes(q->size) / CUB_PAGE_SIZE;
	q->buf_pages = CUB_ALIGN_UP((size_t)q->nslots * q->cell,
				    (size_t)CUB_PAGE_SIZE) / CUB_PAGE_SIZE;
	q->ring_pa = cub_frame_alloc_run(q->ring_pages, CUB_FRAME_ZERO);
	q->buf_pa = cub_frame_alloc_run(q->buf_pages, CUB_FRAME_ZERO);
	if (!q->ring_pa || !q->buf_pa) {
		cubi_virtq_free(q);
		return -CUB_ENOMEM;
	}
	base = q->ring_pa;
	q->desc = (volatile struct virtq_desc *)base;
	q->avail = (volatile uint16_t *)(base + 16ul * q->size);
	q->used_hdr = (volatile uint16_t *)(base + used_offset(q->size));
	q->used = (volatile struct virtq_used_elem *)(base + used_offset(q->size) + 4);
	return 0;
}

static bool size_ok(uint16_t size)
{
	return size >= 2 && size <= VIRTQ_SIZE_MAX && !(size & (size - 1));
}

int cubi_virtq_init(struct cubi_virtq *q, uint16_t size, bool in)
{
	int rc;

	cub_memset(q, 0, sizeof(*q));
	if (!size_ok(size))
		return -CUB_EINVAL;
	q->size = size;
	q->per_slot = 2;
	q->cell = VIRTQ_CELL;
	q->data_off = VIRTQ_DATA_OFF;
	q->nslots = CUB_MIN(size / 2u, (unsigned)VIRTQ_SLOTS_MAX);
	if ((rc = alloc_rings(q)))
		return rc;
	for (unsigned s = 0; s < q->nslots; s++)
		chain(q, s, in);
	return 0;
}

int cubi_virtq_init_req(struct cubi_virtq *q, uint16_t size,
			unsigned max_slots, uint32_t data_max)
{
	int rc;

	cub_memset(q, 0, sizeof(*q));
	if (!size_ok(size) || size < 3 || max_slots == 0 ||
	    max_slots > VIRTQ_SLOTS_MAX || data_max == 0 ||
	    data_max > (1u << 20))
		return -CUB_EINVAL;
	q->size = size;
	q->per_slot = 3;
	q->data_off = VIRTQ_REQ_DATA_OFF;
	q->cell = CUB_ALIGN_UP(VIRTQ_REQ_DATA_OFF + (size_t)data_max, (size_t)64);
	q->nslots = CUB_MIN(size / 3u, max_slots);
	if ((rc = alloc_rings(q)))
		return rc;
	for (unsigned s = 0; s < q->nslots; s++)
		chain_req(q, s, data_max);
	return 0;
}

void cubi_virtq_free(struct cubi_virtq *q)
{
	if (q->ring_pa)
		cub_frame_free_run(q->ring_pa, q->ring_pages);
	if (q->buf_pa)
		cub_frame_free_run(q->buf_pa, q->buf_pages);
	q->ring_pa = q->buf_pa = 0;
}

/* Puts slot's chain head in the avail ring and publishes it. */
static void publish(struct cubi_virtq *q, unsigned slot)
{
	q->posted[slot] = true;
	q->avail[2 + (q->avail_idx & (q->size - 1))] =
		(uint16_t)(q->per_slot * slot);
	barrier();		/* the entry before the index that shows it */
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	barrier();
}

/* Precondition: slot < nslots and not posted (the callers' invariant). */
void cubi_virtq_post(struct cubi_virtq *q, unsigned slot, uint32_t len)
{
	q->desc[2 * slot + 1].len = CUB_MIN(len, (uint32_t)VIRTQ_DATA_MAX);
	publish(q, slot);
}

/* Precondition as cubi_virtq_post; len <= the data_max of init. */
void cubi_virtq_post_req(struct cubi_virtq *q, unsigned slot, uint32_t len,
			 bool dev_writes)
{
	unsigned d = 3 * slot;

	if (len) {
		q->desc[d + 1].len = len;
		q->desc[d + 1].flags = DESC_F_NEXT | (dev_writes ? DESC_F_WRITE : 0);
		q->desc[d].next = (uint16_t)(d + 1);
	} else {
		q->desc[d].next = (uint16_t)(d + 2);
	}
	publish(q, slot);
}

bool cubi_virtq_kick_wanted(const struct cubi_virtq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(q->used_hdr[0] & USED_F_NO_NOTIFY);
}

bool cubi_virtq_pending(const struct cubi_virtq *q)
{
	return q->used_hdr[1] != q->used_seen;
}

int cubi_virtq_take(struct cubi_virtq *q, unsigned *slot, uint32_t *len)
{
	uint16_t idx = q->used_hdr[1];
	uint32_t id;

	if (idx == q->used_seen)
		return VIRTQ_EMPTY;
	if ((uint16_t)(idx - q->used_seen) > q->size) {
		q->used_seen = idx;	/* a jump: nothing in between is real */
		return VIRTQ_BAD;
	}
	barrier();		/* the index before the entries it covers */
	id = q->used[q->used_seen & (q->size - 1)].id;
	*len = q->used[q->used_seen & (q->size - 1)].len;
	q->used_seen++;
	if (id % q->per_slot || id / q->per_slot >= q->nslots ||
	    !q->posted[id / q->per_slot])
		return VIRTQ_BAD;
	*slot = id / q->per_slot;
	q->posted[*slot] = false;
	return VIRTQ_TAKEN;
}
