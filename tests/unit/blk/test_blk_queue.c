/*
 * test_blk_queue.c - src/blk's request queueing against a fake disk
 * (fakedev.h) whose completions the test triggers one at a time: a
 * transfer split into max_sectors pieces, in order; requests beyond the
 * device's depth wait and are submitted in FIFO order as places free; a
 * device error comes back as -CUB_EIO, stops a split transfer, and does
 * not break the chain of wake-ups for those queued behind (nor does a
 * submit that fails after a wake-up: the device went away); a newcomer
 * does not overtake queued waiters; a flush is a request of its own.
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

#include "fakedev.h"

#define S CUB_BLK_SECTOR

static struct cub_blk *dev;
static int results[16];

static void *one_write(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint8_t buf[S];

	memset(buf, (int)id + 1, sizeof(buf));
	results[id] = cub_blk_write(dev, id, buf, 1);
	return NULL;
}

/* Spawns n one-sector writers (sector = id) and lets them all reach the
 * device or its queue. */
static void spawn_writers(struct cub_coro **c, unsigned first, unsigned n)
{
	for (unsigned i = first; i < first + n; i++) {
		results[i] = 99;
		assert_int_equal(cub_coro_spawn(&c[i], one_write,
						(void *)(uintptr_t)i, NULL), 0);
	}
	for (int k = 0; k < 4; k++)
		cub_coro_yield();
}

static void *fifo_main(void *arg)
{
	struct cub_coro *c[8];
	struct cub_blk_info info;

	(void)arg;
	fake_reset(1, 4);
	assert_int_equal(cub_blk_open(0, &dev), 0);
	spawn_writers(c, 0, 4);
	assert_int_equal(fake_n, 1);		/* 0 in flight, 1-3 queued */
	assert_int_equal(fake_nlog, 1);
	spawn_writers(c, 4, 1);			/* a newcomer: behind them */
	assert_int_equal(fake_nlog, 1);
	for (unsigned k = 0; k < 5; k++) {
		assert_int_equal(fake_n, 1);
		fake_irq_oldest(0);
		cub_coro_yield();
		cub_coro_yield();
	}
	assert_int_equal(fake_n, 0);
	for (unsigned i = 0; i < 5; i++) {
		cub_coro_join(c[i], NULL);
		assert_int_equal(results[i], 0);
		assert_int_equal(fake_log[i].lba, i);	/* submitted in order */
		assert_int_equal(fake_disk[i * S], i + 1);
	}
	assert_int_equal(cub_blk_info(dev, &info), 0);
	assert_int_equal(info.requests, 5);
	assert_true(info.queue_waits >= 4);
	return NULL;
}

static void test_fifo(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(fifo_main, NULL, NULL), 0);
}

static uint8_t big[10 * S];
static int big_rc;

static void *big_write(void *arg)
{
	(void)arg;
	big_rc = cub_blk_write(dev, 20, big, 10);
	return NULL;
}

static void *split_main(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	fake_reset(4, 4);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	assert_int_equal(cub_blk_open(0, &dev), 0);
	assert_int_equal(cub_coro_spawn(&c, big_write, NULL, NULL), 0);
	for (unsigned k = 0; k < 3; k++) {
		cub_coro_yield();
		assert_int_equal(fake_n, 1);	/* one piece at a time */
		fake_irq_oldest(0);
	}
	cub_coro_join(c, NULL);
	assert_int_equal(big_rc, 0);
	assert_int_equal(fake_nlog, 3);
	assert_int_equal(fake_log[0].lba, 20);
	assert_int_equal(fake_log[0].count, 4);
	assert_int_equal(fake_log[1].lba, 24);
	assert_int_equal(fake_log[2].lba, 28);
	assert_int_equal(fake_log[2].count, 2);
	assert_memory_equal(fake_disk + 20 * S, big, sizeof(big));
	/* An error in the second piece: -CUB_EIO, the third never sent. */
	fake_reset(4, 4);
	assert_int_equal(cub_coro_spawn(&c, big_write, NULL, NULL), 0);
	cub_coro_yield();
	fake_irq_oldest(0);
	cub_coro_yield();
	fake_irq_oldest(-CUB_EIO);
	cub_coro_join(c, NULL);
	assert_int_equal(big_rc, -CUB_EIO);
	assert_int_equal(fake_nlog, 2);
	return NULL;
}

static void test_split_and_error(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(split_main, NULL, NULL), 0);
}

static void *chain_main(void *arg)
{
	struct cub_coro *c[8];

	(void)arg;
	fake_reset(1, 4);
	assert_int_equal(cub_blk_open(0, &dev), 0);
	spawn_writers(c, 0, 3);
	fake_irq_oldest(-CUB_EIO);		/* 0 fails; 1 must still go */
	for (unsigned k = 0; k < 2; k++) {
		cub_coro_yield();
		cub_coro_yield();
		assert_int_equal(fake_n, 1);
		fake_irq_oldest(0);
	}
	for (unsigned i = 0; i < 3; i++)
		cub_coro_join(c[i], NULL);
	assert_int_equal(results[0], -CUB_EIO);
	assert_int_equal(results[1], 0);
	assert_int_equal(results[2], 0);
	assert_int_equal(fake_disk[0], 0);	/* the failed write */
	assert_int_equal(fake_disk[2 * S], 3);
	return NULL;
}

static void test_error_keeps_queue_moving(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(chain_main, NULL, NULL), 0);
}

/* The device goes away while two wait: the first woken fails to submit
 * and must pass its wake-up on, or the second would wait for ever. */
static void *gone_main(void *arg)
{
	struct cub_coro *c[8];

	(void)arg;
	fake_reset(1, 4);
	assert_int_equal(cub_blk_open(0, &dev), 0);
	spawn_writers(c, 0, 3);
	fake_present = false;
	fake_irq_oldest(0);
	for (int k = 0; k < 6; k++)
		cub_coro_yield();
	/* Checked before joining: a lost wake-up fails here, not hangs. */
	assert_int_equal(results[2], -CUB_ENODEV);
	for (unsigned i = 0; i < 3; i++)
		cub_coro_join(c[i], NULL);
	assert_int_equal(results[0], 0);
	assert_int_equal(results[1], -CUB_ENODEV);
	assert_int_equal(results[2], -CUB_ENODEV);
	fake_present = true;
	return NULL;
}

static void test_failed_submit_passes_wakeup(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(gone_main, NULL, NULL), 0);
}

static int flush_rc = 99;

static void *flusher(void *arg)
{
	(void)arg;
	flush_rc = cub_blk_flush(dev);
	return NULL;
}

static void *flush_main(void *arg)
{
	struct cub_coro *c;

	(void)arg;
	fake_reset(2, 4);
	assert_int_equal(cub_blk_open(0, &dev), 0);
	assert_int_equal(cub_coro_spawn(&c, flusher, NULL, NULL), 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_log[0].op, CUB_ARCH_BLK_FLUSH);
	assert_int_equal(flush_rc, 99);		/* parked until done */
	fake_irq_oldest(0);
	cub_coro_join(c, NULL);
	assert_int_equal(flush_rc, 0);
	fake_present = false;
	assert_int_equal(cub_blk_open(0, &dev), -CUB_ENODEV);
	return NULL;
}

static void test_flush(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(flush_main, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_split_and_error),
		cmocka_unit_test(test_error_keeps_queue_moving),
		cmocka_unit_test(test_failed_submit_passes_wakeup),
		cmocka_unit_test(test_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
