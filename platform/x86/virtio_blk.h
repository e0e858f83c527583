/*
 * virtio_blk.h - private state of the virtio-blk driver, shared by
 * virtio_blk.c (probe and setup at boot) and virtio_blk_io.c (arch.h's
 * block calls and the interrupt handler).
 *
 * Locking rule: a disk's ring, free list and in-flight table are read and
 * written only with interrupts disabled (cub_arch_irq_save). On this one
 * CPU that makes the interrupt handler, a task- or irq-context submit and
 * a coroutine preempted in the middle of one mutually exclusive. The
 * fields above `ready` are written at boot before the disk is counted in
 * cubi_vblk_count and are read-only afterwards.
 *
 * Invariants: a slot is either in free[0..nfree) or posted to the device
 * with inflight[slot] the request it carries, never both; a completion
 * names a posted slot (virtq.c checks, and the handler again that
 * inflight[slot] is set), so a request's done runs once. While `failed`
 * is set (cubi_vblk_reset, until cubi_vblk_reinit succeeds) nothing is
 * posted, the handler leaves the ring alone, inflight[] is empty and
 * nfree 0 (until the reinit's fresh queue refills free[]).
 *
 * The disk a driver function works on is passed in (cubi_vblk_submit,
 * cubi_vblk_irq, cubi_vblk_queue_init), so tests/qemu/blk/bad.c can run
 * the request and completion paths on a disk of its own whose device it
 * plays by hand; cubi_vblks holds the real ones.
 */
#ifndef CUBRT_X86_VIRTIO_BLK_H
#define CUBRT_X86_VIRTIO_BLK_H

#include <cubrt/arch.h>

#include "pci.h"
#include "virtq.h"

#define VBLK_MAX 4
#define VBLK_SLOTS 16			/* requests in flight per disk */
#define VBLK_MAX_SECTORS 64		/* 32 KiB of data a request */

/* Legacy virtio-pci registers, offsets into I/O BAR 0 (as virtio-net). */
#define VB_DEVICE_FEATURES 0x00
#define VB_GUEST_FEATURES 0x04
#define VB_QUEUE_PFN 0x08
#define VB_QUEUE_SIZE 0x0C
#define VB_QUEUE_SEL 0x0E
#define VB_QUEUE_NOTIFY 0x10
#define VB_STATUS 0x12
#define VB_MSIX_CONFIG 0x14
#define VB_MSIX_QUEUE 0x16
#define VB_CONFIG_MSIX 0x18		/* device config with MSI-X on */
#define VB_NO_VECTOR 0xFFFF

/* virtio-blk request header types and status values (virtio 1.x 5.2.6). */
#define VBLK_T_IN 0
#define VBLK_T_OUT 1
#define VBLK_T_FLUSH 4
#define VBLK_S_OK 0
#define VBLK_S_IOERR 1
#define VBLK_S_UNSUPP 2

struct vblk {
	struct cubi_pci_dev pci;
	uint16_t io;			/* I/O BAR 0 */
	uint64_t sectors;		/* capacity, from the device config */
	bool read_only;			/* VIRTIO_BLK_F_RO */
	bool has_flush;			/* VIRTIO_BLK_F_FLUSH negotiated */
	unsigned vector;		/* MSI-X vector */
	unsigned depth;			/* q.nslots at boot; a reinit keeps it */
	char name[16];			/* "virtio-blk0" */
	bool ready;
	/* Mutable: interrupts disabled (see the top). */
	struct cubi_virtq q;
	uint16_t free[VBLK_SLOTS];
	unsigned nfree;
	struct cub_arch_blk_req *inflight[VBLK_SLOTS];
	uint64_t interrupts, bad_used;
	bool failed;			/* reset: refuses every request */
	int reset_rc;			/* cubi_vblk_reset's result */
	uint64_t resets, recoveries, recover_failures;
};

extern struct vblk cubi_vblks[VBLK_MAX];
extern unsigned cubi_vblk_count;	/* disks 0..count-1 are ready */

/*
 * The interrupt handler (virtio_blk_io.c): takes every used entry of
 * ctx's (a struct vblk) queue and completes the requests they name, or
 * counts a malformed entry in bad_used. Contexts: irq, or any context
 * with interrupts disabled (tests/qemu/blk/bad.c calls it on a disk it
 * plays the device of).
 */
void cubi_vblk_irq(void *ctx);

/* cub_arch_blk_submit on disk d (virtio_blk_io.c): the same checks and
 * results. Contexts: task, irq. */
int cubi_vblk_submit(struct vblk *d, struct cub_arch_blk_req *req);

/*
 * cub_arch_blk_reset on disk d (virtio_blk.c): writes status 0 and waits
 * (VBLK_RESET_WAIT_NS at most) for it to read back 0, which says the
 * device has reset (virtio 1.x: the driver must see that before it may
 * assume the device is quiet); turns off bus mastering, so that even a
 * device that ignored the reset can no longer write memory; then
 * completes every request in flight with -CUB_EIO. The queue's memory is
 * kept out of use (cubi_vblk_reinit frees it once a reset is confirmed).
 * 0, or -CUB_EIO when status never read 0 (all the same done). A second
 * call returns the first's result (until a reinit). Contexts: any.
 */
#define VBLK_RESET_WAIT_NS 10000000ull	/* 10 ms */
int cubi_vblk_reset(struct vblk *d);

/*
 * cub_arch_blk_reinit on disk d (virtio_blk.c): resets the device again
 * and waits for status 0 as cubi_vblk_reset; only then frees the old
 * queue (the device has forgotten it) and redoes the boot's steps: bus
 * mastering on, ACKNOWLEDGE, DRIVER, the same features, MSI-X entry 0
 * routed to d's vector again, a fresh queue, DRIVER_OK. 0; -CUB_EINVAL
 * d not failed; -CUB_EIO status never read 0 (the old queue is kept out
 * of use), a step failed or the device came back different (features,
 * capacity, queue size): the device is reset again and its bus mastering
 * off, d stays failed, and a later call may try again; -CUB_ENOMEM.
 * Console: "virtio-blk0: recovered ..." or "... not recovered: why".
 * Contexts: task (busy-waits with interrupts off, 2 x VBLK_RESET_WAIT_NS
 * at most).
 */
int cubi_vblk_reinit(struct vblk *d);

/*
 * Test only: while set, the reset's wait acts as if the device status
 * never read back 0 (tests/qemu/blk/recover.c: QEMU resets at once, so
 * the path is otherwise never taken). Never set in a real program.
 */
extern bool cubi_vblk_test_reset_stuck;

/*
 * Test only: while set, requests are posted but the device is never
 * notified, so it does not see them: a device that swallows requests
 * (tests/qemu/blk/blk.c "hang"). Never set in a real program.
 */
extern bool cubi_vblk_test_no_kick;

/* Makes d's request queue of size entries (a power of two) and puts all
 * its slots on the free list (virtio_blk.c); the device is not told.
 * 0, or cubi_virtq_init_req's error. Contexts: boot, task. */
int cubi_vblk_queue_init(struct vblk *d, uint16_t size);

/* Finds and starts every virtio-blk device (virtio_blk.c). Contexts:
 * boot, after cubi_x86_irq_init, interrupts disabled. */
void cubi_x86_virtio_blk_init(void);

#endif
