/*
 * test_blk_recover.c - cub_blk_recover against the fake disk (fakedev.h),
 * whose requests wait until the test answers them and whose
 * cub_arch_blk_reinit can be slowed (fake_reinit_hook) or made to fail
 * (fake_reinit_rc).
 *
 *   disk 0  data written before a failure reads back after the recovery,
 *           a write swallowed by the failure never lands, new writes and
 *           reads work, the counters (resets, recoveries); a second
 *           failure and a second recovery
 *   disk 1  nothing begun before the failure reaches the recovered
 *           device: a waiter for a place woken by the failure and the
 *           second piece of a split transfer, both still parked when the
 *           recovery ends, get -CUB_EIO and are never submitted
 *   disk 2  requests racing with a slow recovery: -CUB_EIO at once
 *           without reaching the device, a second cub_blk_recover
 *           -CUB_EBUSY, cub_blk_info says recovering; afterwards they work
 *   disk 3  a device that does not come back: -CUB_EIO, the disk stays
 *           failed (requests -CUB_EIO, recover_failures counted), a later
 *           try succeeds; bad calls: NULL, a healthy disk (-CUB_EINVAL,
 *           the platform never asked)
 * Timeouts are real time, scaled by tests/unit/slow.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cubrt/blk.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "fakedev.h"
#include "../slow.h"

#define S CUB_BLK_SECTOR
#define MS CUB_NSEC_PER_MSEC

static uint64_t T;		/* the timeout under test */

struct req {
	struct cub_blk *dev;
	uint64_t lba;
	uint32_t count;
	bool write;
	uint8_t fill;		/* a write's bytes */
	int rc;
	uint8_t buf[8 * S];
};

static void *run_req(void *arg)
{
	struct req *r = arg;

	r->rc = r->write ? cub_blk_write(r->dev, r->lba, r->buf, r->count) :
			   cub_blk_read(r->dev, r->lba, r->buf, r->count);
	return NULL;
}

/* Starts r (lba, count sectors) in a coroutine of its own and lets it
 * reach the device (or the queue for a place). */
static struct cub_coro *start(struct req *r, struct cub_blk *dev,
			      uint64_t lba, uint32_t count, int fill)
{
	struct cub_coro *c;

	*r = (struct req){ .dev = dev, .lba = lba, .count = count,
		.write = fill >= 0, .fill = (uint8_t)fill, .rc = 99 };
	memset(r->buf, fill >= 0 ? fill : 0xEE, sizeof(r->buf));
	assert_int_equal(cub_coro_spawn(&c, run_req, r, NULL), 0);
	cub_coro_yield();
	return c;
}

/* A write the fake answers at once: the data is on the disk. */
static void write_answered(struct cub_blk *d, uint64_t lba, uint32_t n,
			   uint8_t fill)
{
	struct req r;
	struct cub_coro *c = start(&r, d, lba, n, fill);

	while (r.rc == 99 && fake_n) {
		fake_irq_oldest(0);
		cub_coro_yield();
	}
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, 0);
}

/* A read the fake answers; true when all n sectors hold fill. */
static bool read_holds(struct cub_blk *d, uint64_t lba, uint32_t n,
		       uint8_t fill)
{
	struct req r;
	struct cub_coro *c = start(&r, d, lba, n, -1);

	while (r.rc == 99 && fake_n) {
		fake_irq_oldest(0);
		cub_coro_yield();
	}
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, 0);
	for (size_t i = 0; i < (size_t)n * S; i++)
		if (r.buf[i] != fill)
			return false;
	return true;
}

/* Waits, never yielding, until a request's timer has fired and failed
 * dev: the interrupt is taken with interrupts enabled again, and no
 * coroutine it wakes has run when this returns. */
static void wait_failure(struct cub_blk *dev)
{
	struct cub_blk_info info;

	for (;;) {
		unsigned long irq = cub_arch_irq_save();

		while (!cubi_host_irq_pending())
			;
		cub_arch_irq_restore(irq);	/* the timer runs here */
		assert_int_equal(cub_blk_info(dev, &info), 0);
		if (info.failed)
			return;
	}
}

static void *data_main(void *arg)
{
	struct cub_blk_info info;
	struct cub_coro *c[2];
	struct req r[2];
	struct cub_blk *d;

	(void)arg;
	assert_int_equal(cub_blk_open(0, &d), 0);
	/* Long enough that both requests are in flight before it ends,
	 * however slow the machine (3 T). */
	assert_int_equal(cub_blk_set_timeout(d, 3 * T), 0);
	write_answered(d, 0, 8, 0xA1);		/* before the failure */

	/* A read times out; a write in flight with it is abandoned. */
	c[0] = start(&r[0], d, 40, 4, -1);
	c[1] = start(&r[1], d, 16, 4, 0xB2);
	assert_int_equal(fake_n, 2);
	cub_coro_join(c[0], NULL);
	cub_coro_join(c[1], NULL);
	assert_int_equal(r[0].rc, -CUB_ETIMEDOUT);
	assert_int_equal(r[1].rc, -CUB_EIO);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_true(info.failed);
	assert_int_equal(info.resets, 1);
	assert_int_equal(info.recoveries, 0);

	assert_int_equal(cub_blk_recover(d), 0);
	assert_int_equal(fake_reinits, 1);
	assert_int_equal(fake_n, 0);		/* nothing old came back */
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_false(info.failed);
	assert_false(info.recovering);
	assert_int_equal(info.resets, 1);
	assert_int_equal(info.recoveries, 1);
	assert_int_equal(info.recover_failures, 0);
	assert_int_equal(info.timeout_ns, 3 * T);
	assert_int_equal(cub_blk_recover(d), -CUB_EINVAL);	/* healthy */
	assert_int_equal(fake_reinits, 1);

	assert_true(read_holds(d, 0, 8, 0xA1));
	assert_true(read_holds(d, 16, 4, 0));	/* the abandoned write */
	write_answered(d, 16, 4, 0xC3);
	assert_true(read_holds(d, 16, 4, 0xC3));
	assert_int_equal(cub_blk_flush(d), -CUB_ETIMEDOUT);	/* again */
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_true(info.failed);
	assert_int_equal(info.resets, 2);
	assert_int_equal(info.timeouts, 2);
	assert_int_equal(cub_blk_recover(d), 0);
	assert_true(read_holds(d, 0, 8, 0xA1));
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.recoveries, 2);
	return NULL;
}

static void test_recover_data(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(data_main, NULL, NULL), 0);
}

/* Index in fake_q of the request at lba. */
static unsigned in_flight_at(uint64_t lba)
{
	for (unsigned k = 0; k < fake_n; k++)
		if (fake_q[k]->lba == lba)
			return k;
	fail_msg("no request at %llu in flight", (unsigned long long)lba);
	return 0;
}

static void *epoch_main(void *arg)
{
	struct cub_coro *c[3];
	struct req r[3];
	struct cub_blk *d;
	unsigned nlog;

	(void)arg;
	assert_int_equal(cub_blk_open(1, &d), 0);
	/* The set-up below must be over before the timeout (5 T). */
	assert_int_equal(cub_blk_set_timeout(d, 5 * T), 0);
	c[0] = start(&r[0], d, 100, 4, -1);	/* swallowed: times out */
	c[1] = start(&r[1], d, 200, 8, -1);	/* split: 4 + 4 */
	c[2] = start(&r[2], d, 300, 4, -1);	/* waits for a place */
	assert_int_equal(fake_n, 2);
	nlog = fake_nlog;
	/* The split read's first piece is answered: it and the waiter for a
	 * place are woken, but do not run before the recovery is over. */
	fake_irq(in_flight_at(200), 0);
	wait_failure(d);
	assert_int_equal(r[0].rc, 99);
	assert_int_equal(r[1].rc, 99);
	assert_int_equal(r[2].rc, 99);
	assert_int_equal(cub_blk_recover(d), 0);
	for (unsigned i = 0; i < 3; i++)
		cub_coro_join(c[i], NULL);
	assert_int_equal(r[0].rc, -CUB_ETIMEDOUT);
	assert_int_equal(r[1].rc, -CUB_EIO);
	assert_int_equal(r[2].rc, -CUB_EIO);
	assert_int_equal(fake_nlog, nlog);	/* neither reached the device */
	assert_int_equal(fake_n, 0);
	assert_true(read_holds(d, 200, 8, 0));	/* new requests do */
	assert_int_equal(fake_nlog, nlog + 2);
	return NULL;
}

static void test_nothing_old_after_recovery(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(epoch_main, NULL, NULL), 0);
}

static struct cub_blk *race_dev;
static int race_rc[3] = { 99, 99, 99 };
static bool race_seen_recovering;
static uint64_t race_calls;

static void *race_read(void *arg)
{
	uint8_t buf[S];

	(void)arg;
	race_rc[0] = cub_blk_read(race_dev, 0, buf, 1);
	race_rc[1] = cub_blk_write(race_dev, 0, buf, 1);
	race_rc[2] = cub_blk_flush(race_dev);
	return NULL;
}

/* The platform's reinit, slowed: others run in the middle of it. */
static void slow_reinit(void)
{
	struct cub_blk_info info;
	struct cub_coro *c;

	race_calls = fake_calls;
	assert_int_equal(cub_coro_spawn(&c, race_read, NULL, NULL), 0);
	cub_sleep(T / 10);
	cub_coro_join(c, NULL);
	assert_int_equal(cub_blk_recover(race_dev), -CUB_EBUSY);
	assert_int_equal(cub_blk_info(race_dev, &info), 0);
	race_seen_recovering = info.recovering && info.failed;
	assert_int_equal(fake_calls, race_calls);	/* never submitted */
}

static void *race_main(void *arg)
{
	struct cub_blk_info info;
	struct cub_coro *c;
	struct req r;

	(void)arg;
	assert_int_equal(cub_blk_open(2, &race_dev), 0);
	assert_int_equal(cub_blk_set_timeout(race_dev, T), 0);
	c = start(&r, race_dev, 8, 1, -1);
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, -CUB_ETIMEDOUT);
	fake_reinit_hook = slow_reinit;
	assert_int_equal(cub_blk_recover(race_dev), 0);
	fake_reinit_hook = NULL;
	assert_true(race_seen_recovering);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(race_rc[i], -CUB_EIO);
	assert_int_equal(cub_blk_info(race_dev, &info), 0);
	assert_false(info.recovering);
	assert_false(info.failed);
	assert_int_equal(info.recoveries, 1);
	write_answered(race_dev, 8, 1, 0x44);
	assert_true(read_holds(race_dev, 8, 1, 0x44));
	return NULL;
}

static void test_requests_racing_recovery(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(race_main, NULL, NULL), 0);
}

static void *gone_main(void *arg)
{
	struct cub_blk_info info;
	struct cub_coro *c;
	struct cub_blk *d;
	struct req r;
	uint8_t buf[S];
	unsigned reinits;
	uint64_t calls;

	(void)arg;
	assert_int_equal(cub_blk_recover(NULL), -CUB_EINVAL);
	assert_int_equal(cub_blk_open(3, &d), 0);
	reinits = fake_reinits;
	assert_int_equal(cub_blk_recover(d), -CUB_EINVAL);	/* healthy */
	assert_int_equal(fake_reinits, reinits);
	assert_int_equal(cub_blk_set_timeout(d, T), 0);
	write_answered(d, 30, 2, 0x66);
	c = start(&r, d, 30, 2, -1);
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, -CUB_ETIMEDOUT);

	fake_reinit_rc = -CUB_EIO;		/* the device stays away */
	assert_int_equal(cub_blk_recover(d), -CUB_EIO);
	assert_int_equal(cub_blk_recover(d), -CUB_EIO);
	fake_reinit_rc = 0;
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_true(info.failed);
	assert_false(info.recovering);
	assert_int_equal(info.recover_failures, 2);
	assert_int_equal(info.recoveries, 0);
	calls = fake_calls;
	assert_int_equal(cub_blk_read(d, 30, buf, 1), -CUB_EIO);
	assert_int_equal(cub_blk_flush(d), -CUB_EIO);
	assert_int_equal(fake_calls, calls);	/* never asked the device */

	assert_int_equal(cub_blk_recover(d), 0);	/* it came back */
	assert_true(read_holds(d, 30, 2, 0x66));
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.recoveries, 1);
	assert_int_equal(info.recover_failures, 2);
	return NULL;
}

static void test_device_gone_and_bad_calls(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(gone_main, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recover_data),
		cmocka_unit_test(test_nothing_old_after_recovery),
		cmocka_unit_test(test_requests_racing_recovery),
		cmocka_unit_test(test_device_gone_and_bad_calls),
	};

	T = 100 * MS * (uint64_t)test_slowness();
	fake_reset(2, 4);
	fake_ndisks = 4;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
