/*
 * virtq.h - a split virtqueue in the legacy virtio-pci layout (virtio
 * 0.9.5, the "legacy interface" of virtio 1.x), with fixed buffers: the
 * driver side of virtio_net.c's receive and transmit queues and of
 * virtio_blk.c's request queue.
 *
 * Layout of the ring memory (physically contiguous, page aligned; the
 * device learns its page number through the QUEUE_PFN register):
 *   descriptors   16 bytes x size                 at 0
 *   avail ring    flags, idx, ring[size], event   right after
 *   used ring     flags, idx, {id, len}[size], event at the next 4096
 *
 * Buffers: slot s is descriptors 2s (a 10-byte virtio-net header) and
 * 2s+1 (up to VIRTQ_DATA_MAX bytes of frame), chained, at a 2048-byte
 * cell of the buffer run: header at +0, data at +VIRTQ_DATA_OFF. A
 * legacy device without VIRTIO_F_ANY_LAYOUT wants the header in its own
 * descriptor, and this layout works for every device. The descriptor
 * table is written once at init; afterwards only slot numbers move.
 *
 * Request queues (virtio_blk.c, cubi_virtq_init_req): slot s is three
 * descriptors 3s (a 16-byte request header, device-readable), 3s+1 (up
 * to data_max bytes of data, either direction) and 3s+2 (a 1-byte status,
 * device-writable), in a cell of VIRTQ_REQ_DATA_OFF + data_max bytes:
 * header at +0, status at +VIRTQ_REQ_STATUS_OFF, data at
 * +VIRTQ_REQ_DATA_OFF. Addresses never change after init; a post sets the
 * data descriptor's length and direction, or leaves it out of the chain
 * (a request without data: the header then chains to the status).
 *
 * Invariants: posted[s] is true from the moment slot s is in the avail
 * ring until the device returns it through the used ring; only a posted
 * slot is accepted back, so a device that repeats or invents ids cannot
 * make the driver post a slot twice. used_seen counts used entries taken.
 * Locking: none here; the owner (virtio_net.c, virtio_blk.c) holds
 * interrupts disabled around every call but init.
 */
#ifndef CUBRT_X86_VIRTQ_H
#define CUBRT_X86_VIRTQ_H

#include <cubrt/base.h>

#define VIRTQ_HDR_LEN 10	/* legacy virtio_net_hdr, no mergeable bufs */
#define VIRTQ_DATA_OFF 16
#define VIRTQ_DATA_MAX 1514
#define VIRTQ_CELL 2048
#define VIRTQ_SIZE_MAX 1024	/* larger device queues are refused */
#define VIRTQ_SLOTS_MAX 128	/* at most size / 2 */
#define VIRTQ_REQ_STATUS_OFF 16
#define VIRTQ_REQ_DATA_OFF 64

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct virtq_used_elem {
	uint32_t id, len;
};

struct cubi_virtq {
	uint16_t size;			/* entries, a power of two */
	uint16_t avail_idx;		/* the driver's copy of avail->idx */
	uint16_t used_seen;		/* used entries consumed */
	unsigned nslots;		/* buffers: size / per_slot, capped */
	unsigned per_slot;		/* descriptors a slot chains: 2 or 3 */
	size_t cell, data_off;		/* bytes per slot, data's offset */
	volatile struct virtq_desc *desc;
	volatile uint16_t *avail;	/* [0] flags, [1] idx, [2..] ring */
	volatile uint16_t *used_hdr;	/* [0] flags, [1] idx */
	volatile struct virtq_used_elem *used;
	uintptr_t ring_pa, buf_pa;
	size_t ring_pages, buf_pages;
	bool posted[VIRTQ_SLOTS_MAX];
};

/* Result of cubi_virtq_take. */
#define VIRTQ_EMPTY 0		/* no used entry */
#define VIRTQ_TAKEN 1		/* *slot and *len are valid */
#define VIRTQ_BAD 2		/* a malformed entry was consumed and skipped */

/*
 * Allocates rings and buffers for a queue of size entries (a power of
 * two, 2..VIRTQ_SIZE_MAX) and chains each slot's two descriptors; device
 * writable ones when in. -CUB_EINVAL bad size, -CUB_ENOMEM.
 * Contexts: boot, task.
 */
int cubi_virtq_init(struct cubi_virtq *q, uint16_t size, bool in);
void cubi_virtq_free(struct cubi_virtq *q);

/* A request queue (three descriptors a slot, see the top): at most
 * max_slots slots (and size / 3) of data_max bytes of data each.
 * -CUB_EINVAL bad size, max_slots or data_max, -CUB_ENOMEM.
 * Contexts: boot, task. */
int cubi_virtq_init_req(struct cubi_virtq *q, uint16_t size,
			unsigned max_slots, uint32_t data_max);

/* Hands request slot (not posted) to the device with len data bytes
 * (0: no data descriptor), which the device writes when dev_writes. The
 * caller fills the header first and notifies after. */
void cubi_virtq_post_req(struct cubi_virtq *q, unsigned slot, uint32_t len,
			 bool dev_writes);

/* The slot's header and data bytes. */
uint8_t *cubi_virtq_hdr(const struct cubi_virtq *q, unsigned slot);
uint8_t *cubi_virtq_data(const struct cubi_virtq *q, unsigned slot);

/* Hands slot (not posted) to the device with len data bytes (for an in
 * queue the buffer's capacity, VIRTQ_DATA_MAX). The caller notifies. */
void cubi_virtq_post(struct cubi_virtq *q, unsigned slot, uint32_t len);

/* After posting: false when the device asked not to be notified
 * (VRING_USED_F_NO_NOTIFY: it polls, or a timer of its own will look). */
bool cubi_virtq_kick_wanted(const struct cubi_virtq *q);

/* True when the device has returned entries not yet taken. */
bool cubi_virtq_pending(const struct cubi_virtq *q);

/*
 * Takes the next used entry: VIRTQ_TAKEN with its slot and the length the
 * device wrote (unchecked: the caller judges it), VIRTQ_EMPTY, or
 * VIRTQ_BAD for an entry naming no posted slot or a used index that ran
 * more than size ahead (then the driver skips to it).
 */
int cubi_virtq_take(struct cubi_virtq *q, unsigned *slot, uint32_t *len);

#endif
