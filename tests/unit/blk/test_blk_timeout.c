/*
 * test_blk_timeout.c - src/blk's request timeout against a fake disk
 * (fakedev.h) that swallows requests: a request the test never
 * completes is one the device never answers.
 *
 * Each case that makes a disk fail uses a disk of its own (fake_ndisks
 * 4), since src/blk keeps a disk failed for the life of the process.
 *   disk 0  two requests in flight and three waiting for a place (one
 *           more than the reset's completions wake): the oldest times
 *           out within tolerance with -CUB_ETIMEDOUT, the other four
 *           get -CUB_EIO at the same moment, nobody's buffer
 *           changes, the fake was reset once and holds nothing; later
 *           reads, writes and flushes fail at once with -CUB_EIO without
 *           reaching the device; no second timeout fires after the
 *           callers' stacks are gone (ASan: nothing touches them)
 *   disk 1  the default timeout; timeout 0 waits past any deadline; a
 *           request answered in time leaves no timer behind
 *   disk 2  a split transfer: the first piece answered, the second
 *           swallowed: -CUB_ETIMEDOUT, the third never submitted
 *   disk 3  a timeout of UINT64_MAX does not wrap into the past; a
 *           flush times out; bad arguments
 * Tolerances are real time, scaled by tests/unit/slow.h.
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
#define FILL 0x5A

static uint64_t T;		/* the timeout under test */
static uint64_t late;		/* how late a timeout may end, at most, */
static uint64_t late_w0;	/* ...plus the thread's wait for a CPU since
				 * this test_waited_ns() (slow.h) */

static uint64_t late_now(void)
{
	return late + (test_waited_ns() - late_w0);
}

struct reader {
	struct cub_blk *dev;
	uint64_t lba, start, end;
	uint32_t count;
	int rc;
	bool intact;		/* the buffer still all FILL afterwards */
};

/* Reads into a buffer on its own stack, which dies when it returns. */
static void *read_one(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[4 * S];

	memset(buf, FILL, sizeof(buf));
	r->start = cub_time_now();
	r->rc = cub_blk_read(r->dev, r->lba, buf, r->count);
	r->end = cub_time_now();
	r->intact = true;
	for (size_t i = 0; i < sizeof(buf); i++)
		r->intact &= buf[i] == FILL;
	return NULL;
}

static void spawn_reader(struct cub_coro **c, struct reader *r,
			 struct cub_blk *dev, uint64_t lba)
{
	*r = (struct reader){ .dev = dev, .lba = lba, .count = 4, .rc = 99 };
	assert_int_equal(cub_coro_spawn(c, read_one, r, NULL), 0);
}

static struct cub_blk *open_disk(unsigned i)
{
	struct cub_blk *d;

	assert_int_equal(cub_blk_open(i, &d), 0);
	return d;
}

static void *fail_main(void *arg)
{
	struct cub_coro *c[5];
	struct reader r[5];
	struct cub_blk_info info;
	struct cub_blk *d;
	uint8_t buf[S];
	uint64_t t;
	unsigned nlog;

	(void)arg;
	d = open_disk(0);
	assert_int_equal(cub_blk_set_timeout(d, T), 0);
	for (unsigned i = 0; i < 5; i++) {
		spawn_reader(&c[i], &r[i], d, 8 * i);
		cub_coro_yield();
	}
	assert_int_equal(fake_n, 2);		/* 0 and 1 in flight */
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.queue_waits, 3);
	assert_int_equal(fake_log[0].lba, 0);
	for (unsigned i = 0; i < 5; i++)
		cub_coro_join(c[i], NULL);
	assert_int_equal(r[0].rc, -CUB_ETIMEDOUT);
	assert_true(r[0].end - r[0].start >= T);
	assert_true(r[0].end - r[0].start <= T + late_now());
	for (unsigned i = 1; i < 5; i++) {
		assert_int_equal(r[i].rc, -CUB_EIO);
		assert_true(r[i].end <= r[0].end + late_now());	/* together */
	}
	for (unsigned i = 0; i < 5; i++)
		assert_true(r[i].intact);
	assert_int_equal(fake_resets, 1);
	assert_int_equal(fake_n, 0);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeouts, 1);
	assert_true(info.failed);
	assert_int_equal(info.timeout_ns, T);

	/* Later requests fail at once, without reaching the device. */
	nlog = (unsigned)fake_calls;
	t = cub_time_now();
	assert_int_equal(cub_blk_read(d, 0, buf, 1), -CUB_EIO);
	assert_int_equal(cub_blk_write(d, 0, buf, 1), -CUB_EIO);
	assert_int_equal(cub_blk_flush(d), -CUB_EIO);
	assert_true(cub_time_now() - t < late_now());
	assert_int_equal(fake_calls, nlog);	/* never asked the device */
	assert_int_equal(cub_blk_open(0, &d), 0);	/* still failed */
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_true(info.failed);
	assert_int_equal(info.timeout_ns, T);
	assert_int_equal(cub_blk_read(d, 0, buf, 1), -CUB_EIO);

	/* Reader 1's deadline passes with its stack gone: its timer was
	 * stopped when the reset completed its request. */
	cub_sleep(2 * T);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeouts, 1);
	assert_int_equal(fake_resets, 1);

	/* Another disk is not affected (disk 1's cases use it). */
	assert_int_equal(cub_blk_open(1, &d), 0);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_false(info.failed);
	return NULL;
}

static void test_timeout_fails_disk(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(fail_main, NULL, NULL), 0);
}

static void *wait_main(void *arg)
{
	struct cub_coro *c;
	struct reader r;
	struct cub_blk_info info;
	struct cub_blk *d;

	(void)arg;
	fake_resets = 0;
	d = open_disk(1);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeout_ns, CUB_BLK_TIMEOUT_DEFAULT);
	assert_int_equal(CUB_BLK_TIMEOUT_DEFAULT, 30 * CUB_NSEC_PER_SEC);

	/* Timeout 0: parked well past T, then answered. */
	assert_int_equal(cub_blk_set_timeout(d, 0), 0);
	memset(fake_disk, 0x11, 4 * S);
	spawn_reader(&c, &r, d, 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);
	cub_sleep(3 * T);
	assert_int_equal(r.rc, 99);
	assert_int_equal(fake_n, 1);
	fake_irq_oldest(0);
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, 0);
	assert_false(r.intact);			/* the data came in */

	/* Answered in time: no timer is left to fire. */
	assert_int_equal(cub_blk_set_timeout(d, T), 0);
	spawn_reader(&c, &r, d, 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);
	cub_sleep(T / 4);
	fake_irq_oldest(0);
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, 0);
	cub_sleep(2 * T);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeouts, 0);
	assert_false(info.failed);
	assert_int_equal(info.requests, 2);
	assert_int_equal(fake_resets, 0);
	return NULL;
}

static void test_timeout_zero_and_in_time(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(wait_main, NULL, NULL), 0);
}

static uint8_t span[12 * S];
static int span_rc = 99;

static void *span_reader(void *arg)
{
	span_rc = cub_blk_read(arg, 20, span, 12);
	return NULL;
}

static void *split_main(void *arg)
{
	struct cub_coro *c;
	struct cub_blk *d;
	uint64_t t;

	(void)arg;
	fake_nlog = 0;
	d = open_disk(2);
	assert_int_equal(cub_blk_set_timeout(d, T), 0);
	memset(fake_disk + 20 * S, 0x22, 12 * S);
	memset(span, FILL, sizeof(span));
	assert_int_equal(cub_coro_spawn(&c, span_reader, d, NULL), 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);		/* the first 4 sectors */
	cub_sleep(T / 2);			/* half its timeout */
	t = cub_time_now();
	fake_irq_oldest(0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);		/* the second piece, swallowed */
	cub_coro_join(c, NULL);
	assert_int_equal(span_rc, -CUB_ETIMEDOUT);
	/* The second piece had a whole timeout of its own (the first's
	 * would have ended T / 2 after t). */
	assert_true(cub_time_now() - t >= T);
	assert_int_equal(fake_nlog, 2);		/* the third never went */
	assert_int_equal(fake_log[1].lba, 24);
	for (size_t i = 0; i < sizeof(span); i++)
		assert_int_equal(span[i], i < 4 * S ? 0x22 : FILL);
	return NULL;
}

static void test_split_transfer_times_out(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(split_main, NULL, NULL), 0);
}

static int flush_rc = 99;

static void *flusher(void *arg)
{
	flush_rc = cub_blk_flush(arg);
	return NULL;
}

static void *huge_main(void *arg)
{
	struct cub_coro *c;
	struct reader r;
	struct cub_blk_info info;
	struct cub_blk *d;

	(void)arg;
	d = open_disk(3);
	assert_int_equal(cub_blk_set_timeout(NULL, T), -CUB_EINVAL);
	assert_int_equal(cub_blk_set_timeout(d, UINT64_MAX), 0);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeout_ns, UINT64_MAX);
	spawn_reader(&c, &r, d, 0);
	cub_coro_yield();
	cub_sleep(T);				/* a wrapped deadline would fire */
	assert_int_equal(r.rc, 99);
	fake_irq_oldest(0);
	cub_coro_join(c, NULL);
	assert_int_equal(r.rc, 0);

	assert_int_equal(cub_blk_set_timeout(d, T), 0);
	assert_int_equal(cub_coro_spawn(&c, flusher, d, NULL), 0);
	cub_coro_yield();
	assert_int_equal(fake_n, 1);
	assert_int_equal(fake_log[fake_nlog - 1].op, CUB_ARCH_BLK_FLUSH);
	cub_coro_join(c, NULL);
	assert_int_equal(flush_rc, -CUB_ETIMEDOUT);
	assert_int_equal(fake_n, 0);
	assert_int_equal(cub_blk_flush(d), -CUB_EIO);
	assert_int_equal(cub_blk_info(d, &info), 0);
	assert_int_equal(info.timeouts, 1);
	assert_true(info.failed);
	return NULL;
}

static void test_huge_timeout_and_flush(void **state)
{
	(void)state;
	assert_int_equal(cub_sched_run(huge_main, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_fails_disk),
		cmocka_unit_test(test_timeout_zero_and_in_time),
		cmocka_unit_test(test_split_transfer_times_out),
		cmocka_unit_test(test_huge_timeout_and_flush),
	};

	T = 100 * MS * (uint64_t)test_slowness();
	late = 1000 * MS * (uint64_t)test_slowness();
	late_w0 = test_waited_ns();
	fake_reset(2, 4);
	fake_ndisks = 4;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
