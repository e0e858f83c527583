/*
 * blk.c - synchronous block I/O for coroutines over the asynchronous
 * request interface of arch.h (cub_arch_blk_submit).
 *
 * A transfer is cut into requests of at most info.max_sectors sectors,
 * issued one after the other. Each request's record (struct waiter: the
 * arch request, an irq event, a list link) lives on the caller's stack.
 * The platform calls on_done when the device has finished (irq context,
 * or inside submit on the host); it records the status and signals the
 * caller's event.
 *
 * When the device's queue is full (submit says -CUB_EAGAIN) the caller
 * joins the disk's FIFO `queued` list and parks; each completion wakes
 * the first queued waiter, which tries again (and goes back to the head
 * of the list if a newcomer took the place meanwhile). A newcomer does
 * not try while others are queued, so no waiter starves.
 *
 * Timeouts: a request handed to the device starts its waiter's timer
 * (the disk's timeout_ns when it was submitted; 0: none), which its
 * completion stops. A timer that fires finds the request unanswered: the
 * request is marked timed out, and the disk failed: the platform resets
 * it (cub_arch_blk_reset), which completes every request in flight,
 * this one included, before it returns and never touches their memory
 * again; the waiters for a place are woken one after the other (each
 * completion wakes one, each failed submit passes its wake-up on). A
 * waiter that finds the disk failed does not submit: it returns
 * -CUB_EIO, as every later request does at once. So no request is left
 * in the platform's hands after its frame is gone, and no waiter stays
 * parked.
 *
 * Invariants: a waiter is on `queued` only while parked for a place; a
 * waiter popped from it has `woken` set and will submit (or re-queue);
 * every completion pops at most one waiter, and a popped waiter whose
 * submit fails with anything but -CUB_EAGAIN passes the wake-up on, so
 * the chain of wake-ups never breaks while places are free.
 * A failed disk becomes usable again only through cub_blk_recover; no
 * request is in flight while it is failed (the reset completed them,
 * later submits are refused here).
 * Locking: `queued`, `failed`, `recovering`, `epoch`, the counters and
 * the waiters' fields are
 * touched only with interrupts disabled (completions and timers run in
 * irq context). info is written by cub_blk_open only.
 */
#include <cubrt/blk.h>
#include <cubrt/irq.h>
#include <cubrt/list.h>
#include <cubrt/panic.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

struct cub_blk {
	unsigned idx;
	struct cub_arch_blk_info info;
	struct cub_list queued;		/* waiters for a place, FIFO */
	uint64_t requests, queue_waits;	/* counters (cub_blk_info) */
	uint64_t timeouts;		/* requests that timed out */
	uint64_t timeout_ns;		/* for requests submitted next; 0: none */
	uint64_t resets, recoveries;	/* counters (cub_blk_info) */
	uint64_t recover_failures;
	uint64_t epoch;			/* failures so far: see the top */
	bool failed;			/* reset after a timeout: refuses all */
	bool recovering;		/* cub_blk_recover is at work */
};

struct waiter {
	struct cub_arch_blk_req req;
	struct cub_irq_event ev;
	struct cub_list link;
	struct cub_timer timer;		/* the request's timeout */
	uint64_t epoch;			/* the disk's when the transfer began */
	int status;
	bool done, woken, timed_out;
};

static struct cub_blk disks[CUB_BLK_MAX];

int cub_blk_open(unsigned i, struct cub_blk **dev)
{
	struct cub_arch_blk_info info;
	int rc;

	if (!dev)
		return -CUB_EINVAL;
	if (i >= CUB_BLK_MAX)
		return -CUB_ENODEV;
	if ((rc = cub_arch_blk_info(i, &info)))
		return rc;
	if (info.max_sectors == 0 || info.depth == 0)
		return -CUB_EIO;	/* a platform bug: unusable */
	disks[i].idx = i;
	disks[i].info = info;
	if (!disks[i].queued.next) {		/* the first open */
		cub_list_init(&disks[i].queued);
		disks[i].timeout_ns = CUB_BLK_TIMEOUT_DEFAULT;
	}
	*dev = &disks[i];
	return 0;
}

int cub_blk_info(struct cub_blk *dev, struct cub_blk_info *info)
{
	unsigned long irq;

	if (!dev || !info)
		return -CUB_EINVAL;
	*info = (struct cub_blk_info){ .sectors = dev->info.sectors,
		.sector_size = CUB_BLK_SECTOR,
		.read_only = dev->info.read_only, .model = dev->info.model,
		.depth = dev->info.depth, .max_sectors = dev->info.max_sectors };
	irq = cub_arch_irq_save();
	info->requests = dev->requests;
	info->queue_waits = dev->queue_waits;
	info->timeouts = dev->timeouts;
	info->timeout_ns = dev->timeout_ns;
	info->failed = dev->failed;
	info->recovering = dev->recovering;
	info->resets = dev->resets;
	info->recoveries = dev->recoveries;
	info->recover_failures = dev->recover_failures;
	cub_arch_irq_restore(irq);
	cub_memcpy(info->name, dev->info.name, sizeof(info->name));
	return 0;
}

int cub_blk_set_timeout(struct cub_blk *dev, uint64_t ns)
{
	unsigned long irq;

	if (!dev)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	dev->timeout_ns = ns;
	cub_arch_irq_restore(irq);
	return 0;
}

/* Wakes the first waiter for a place. Precondition: interrupts off. */
static void wake_next(struct cub_blk *dev)
{
	struct cub_list *n = cub_list_pop_front(&dev->queued);
	struct waiter *w;

	if (!n)
		return;
	w = cub_container_of(n, struct waiter, link);
	w->woken = true;
	cub_irq_event_signal(&w->ev);
}

/* Contexts: irq (or inside cub_arch_blk_submit). */
static void on_done(struct cub_arch_blk_req *req, int status)
{
	struct waiter *w = cub_container_of(req, struct waiter, req);

	cub_timer_stop(&w->timer);
	w->status = w->timed_out ? -CUB_ETIMEDOUT : status;
	w->done = true;
	((struct cub_blk *)req->arg)->requests++;
	cub_irq_event_signal(&w->ev);
	wake_next(req->arg);
}

/* Declares dev failed after w's request timed out: the platform resets
 * the device, completing every request in flight (w's with
 * -CUB_ETIMEDOUT, see on_done). w's completion wakes the first waiter
 * for a place, which finds the disk failed and passes its wake-up on
 * (submit), and so on down the queue: nobody stays parked.
 * Contexts: irq (w's timer). */
static void on_timeout(struct cub_timer *t, void *arg)
{
	struct waiter *w = arg;
	struct cub_blk *dev = w->req.arg;
	int rc;

	(void)t;
	if (w->done)	/* on_done stops the timer: w may be gone */
		cub_panic("cub_blk: a request's timer outlived it");
	w->timed_out = true;
	dev->timeouts++;
	dev->resets++;
	dev->epoch++;		/* whatever began before is refused now */
	dev->failed = true;
	rc = cub_arch_blk_reset(dev->idx);
	if (!w->done)
		cub_panic("cub_blk: %s: the reset left a request in flight (%d)",
			  dev->info.name, rc);
}

/* Whether w's transfer may not reach the device: the disk has failed,
 * or failed (and maybe recovered) since the transfer began.
 * Precondition: interrupts off. */
static bool refused(const struct cub_blk *dev, const struct waiter *w)
{
	return dev->failed || w->epoch != dev->epoch;
}

/* Hands w's request to the platform, unless refused.
 * Precondition: interrupts off. */
static int try_submit(struct cub_blk *dev, struct waiter *w)
{
	return refused(dev, w) ? -CUB_EIO : cub_arch_blk_submit(dev->idx, &w->req);
}

/* Submits w's request, queueing for a place while the device is full.
 * Precondition: interrupts off. */
static int submit(struct cub_blk *dev, struct waiter *w)
{
	int rc;

	if (refused(dev, w))
		return -CUB_EIO;
	if (!cub_list_empty(&dev->queued)) {	/* others were first */
		dev->queue_waits++;
		cub_list_push_back(&dev->queued, &w->link);
		while (!w->woken)
			cub_irq_event_wait(&w->ev);
	}
	for (;;) {
		rc = try_submit(dev, w);
		if (rc != -CUB_EAGAIN)
			break;
		w->woken = false;	/* a newcomer took the place */
		dev->queue_waits++;
		cub_list_push_front(&dev->queued, &w->link);
		while (!w->woken)
			cub_irq_event_wait(&w->ev);
	}
	if (rc && w->woken)
		wake_next(dev);		/* pass on the wake-up we used */
	return rc;
}

/* The disk's epoch now (a transfer's start). */
static uint64_t epoch_now(struct cub_blk *dev)
{
	unsigned long irq = cub_arch_irq_save();
	uint64_t e = dev->epoch;

	cub_arch_irq_restore(irq);
	return e;
}

/* One request of a transfer begun in epoch, start to finish.
 * Contexts: task. */
static int one(struct cub_blk *dev, uint64_t epoch, enum cub_arch_blk_op op,
	       uint64_t lba, void *buf, uint32_t count)
{
	struct waiter w = { .req = { .op = op, .count = count, .lba = lba,
		.buf = buf, .done = on_done, .arg = dev }, .epoch = epoch };
	unsigned long irq;
	int rc;

	cub_irq_event_init(&w.ev, "disk request");
	cub_list_init(&w.link);
	cub_timer_init(&w.timer, on_timeout, &w);
	irq = cub_arch_irq_save();
	rc = submit(dev, &w);
	if (!rc && !w.done && dev->timeout_ns)	/* done: inside submit */
		cub_timer_start(&w.timer, cub_time_now() +
				CUB_MIN(dev->timeout_ns, UINT64_MAX / 2));
	while (!rc && !w.done)
		cub_irq_event_wait(&w.ev);
	cub_arch_irq_restore(irq);
	return rc ? rc : w.status;
}

static int check(struct cub_blk *dev, uint64_t lba, const void *buf,
		 uint32_t count, bool write)
{
	if (cub_arch_in_irq())
		cub_panic("cub_blk: a disk transfer in irq context");
	if (!dev || !buf || count == 0)
		return -CUB_EINVAL;
	if (lba >= dev->info.sectors || count > dev->info.sectors - lba)
		return -CUB_EINVAL;
	if (write && dev->info.read_only)
		return -CUB_EROFS;
	return 0;
}

static int transfer(struct cub_blk *dev, enum cub_arch_blk_op op,
		    uint64_t lba, uint8_t *buf, uint32_t count)
{
	uint32_t max = dev->info.max_sectors, n;
	uint64_t epoch = epoch_now(dev);
	int rc = 0;

	for (; count && !rc; count -= n, lba += n) {
		n = CUB_MIN(count, max);
		rc = one(dev, epoch, op, lba, buf, n);
		buf += (size_t)n * CUB_BLK_SECTOR;
	}
	return rc;
}

int cub_blk_read(struct cub_blk *dev, uint64_t lba, void *buf, uint32_t count)
{
	int rc = check(dev, lba, buf, count, false);

	return rc ? rc : transfer(dev, CUB_ARCH_BLK_READ, lba, buf, count);
}

/* The platform only reads a write's buffer: the cast is safe. */
int cub_blk_write(struct cub_blk *dev, uint64_t lba, const void *buf,
		  uint32_t count)
{
	int rc = check(dev, lba, buf, count, true);

	return rc ? rc : transfer(dev, CUB_ARCH_BLK_WRITE, lba,
				  (uint8_t *)(uintptr_t)buf, count);
}

int cub_blk_flush(struct cub_blk *dev)
{
	if (cub_arch_in_irq())
		cub_panic("cub_blk_flush: in irq context");
	if (!dev)
		return -CUB_EINVAL;
	return one(dev, epoch_now(dev), CUB_ARCH_BLK_FLUSH, 0, NULL, 0);
}

/* Claims the recovery of dev: 0, or why not. */
static int recover_begin(struct cub_blk *dev)
{
	unsigned long irq = cub_arch_irq_save();
	int rc = 0;

	if (dev->recovering)
		rc = -CUB_EBUSY;
	else if (!dev->failed)
		rc = -CUB_EINVAL;
	else
		dev->recovering = true;
	cub_arch_irq_restore(irq);
	return rc;
}

/* The platform's work runs with interrupts enabled and `failed` still
 * set (see the top): it may take a while, and other coroutines run. */
int cub_blk_recover(struct cub_blk *dev)
{
	unsigned long irq;
	int rc;

	if (cub_arch_in_irq())
		cub_panic("cub_blk_recover: in irq context");
	if (!dev)
		return -CUB_EINVAL;
	if ((rc = recover_begin(dev)))
		return rc;
	rc = cub_arch_blk_reinit(dev->idx);
	irq = cub_arch_irq_save();
	if (rc) {
		dev->recover_failures++;
	} else {
		dev->recoveries++;
		dev->failed = false;
	}
	dev->recovering = false;
	cub_arch_irq_restore(irq);
	return rc;
}
