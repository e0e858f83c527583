/*
 * test_blk.c - src/blk (include/cubrt/blk.h) over the host port's
 * file-backed disks (platform/host/blk.c, $CUBRT_HOST_DISK): what is
 * written reads back and is in the file, transfers longer than one
 * request, many coroutines writing disjoint ranges at once, flush, every
 * bad argument (of the portable API and of arch.h's submit), a read-only
 * disk refusing writes, a device error (the file shrank) as -CUB_EIO,
 * no disk at all as -CUB_ENODEV, and the port's cub_arch_blk_reset
 * (later submits -CUB_EIO, until new disks or cub_arch_blk_reinit,
 * which a healthy disk refuses). The request timeout itself
 * is test_blk_timeout.c's (this port never leaves a request in flight).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cubrt/blk.h>
#include <cubrt/sched.h>

#define SECTORS 2048		/* 1 MiB disks */
#define S CUB_BLK_SECTOR

static char path[64];

/* A fresh zero-filled disk file; CUBRT_HOST_DISK names it with suffix. */
static int make_disk(const char *suffix, uint64_t sectors)
{
	char env[96];
	int fd;

	strcpy(path, "/tmp/cubrt_blk_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(sectors * S)), 0);
	snprintf(env, sizeof(env), "%s%s", path, suffix);
	setenv("CUBRT_HOST_DISK", env, 1);
	return fd;
}

static void drop_disk(int fd)
{
	close(fd);
	unlink(path);
	unsetenv("CUBRT_HOST_DISK");
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static void test_no_disk(void **state)
{
	struct cub_blk *d = NULL;
	struct cub_arch_blk_info ai;

	(void)state;
	unsetenv("CUBRT_HOST_DISK");
	assert_int_equal(cub_blk_open(0, &d), -CUB_ENODEV);
	assert_null(d);
	assert_int_equal(cub_arch_blk_info(0, &ai), -CUB_ENODEV);
	setenv("CUBRT_HOST_DISK", "", 1);
	assert_int_equal(cub_blk_open(0, &d), -CUB_ENODEV);
	setenv("CUBRT_HOST_DISK", "/nonexistent/cubrt-disk", 1);
	assert_int_equal(cub_blk_open(0, &d), -CUB_ENODEV);
	unsetenv("CUBRT_HOST_DISK");
}

static void *rw_main(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static uint8_t out[300 * S], in[300 * S], file[300 * S];
	struct cub_blk_info info;
	struct cub_blk *d;

	if (cub_blk_open(0, &d) || cub_blk_info(d, &info))
		return "open";
	if (info.sectors != SECTORS || info.read_only || strcmp(info.name, "vda") ||
	    info.sector_size != 512 || strcmp(info.model, "host-file"))
		return "info";
	fill(out, sizeof(out), 1);
	/* 300 sectors: more than the host's 128 a request, so 3 requests. */
	if (cub_blk_write(d, 5, out, 300) || cub_blk_flush(d))
		return "write";
	if (cub_blk_read(d, 5, in, 300) || memcmp(in, out, sizeof(in)))
		return "read back";
	if (pread(fd, file, sizeof(file), 5 * S) != (ssize_t)sizeof(file) ||
	    memcmp(file, out, sizeof(file)))
		return "the file does not hold what was written";
	/* The last sector, and one sector alone. */
	if (cub_blk_write(d, SECTORS - 1, out, 1) ||
	    cub_blk_read(d, SECTORS - 1, in, 1) || memcmp(in, out, S))
		return "last sector";
	return NULL;
}

static void test_read_write(void **state)
{
	int fd = make_disk("", SECTORS);
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(rw_main, (void *)(intptr_t)fd, &r), 0);
	assert_null(r);
	drop_disk(fd);
}

#define WRITERS 16
#define PER 24			/* sectors each writer owns */

static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint8_t buf[4 * S], back[4 * S];
	struct cub_blk *d;

	if (cub_blk_open(0, &d))
		return "open";
	for (unsigned k = 0; k < PER / 4; k++) {
		fill(buf, sizeof(buf), id * 100 + k);
		if (cub_blk_write(d, id * PER + k * 4, buf, 4))
			return "write";
		cub_coro_yield();
		if (cub_blk_read(d, id * PER + k * 4, back, 4) ||
		    memcmp(buf, back, sizeof(buf)))
			return "read back";
	}
	return NULL;
}

static void *many_main(void *arg)
{
	struct cub_coro *c[WRITERS];
	uint8_t want[4 * S], got[4 * S];
	int fd = (int)(intptr_t)arg;
	void *r;

	for (unsigned i = 0; i < WRITERS; i++)
		if (cub_coro_spawn(&c[i], writer, (void *)(uintptr_t)i, NULL))
			return "spawn";
	for (unsigned i = 0; i < WRITERS; i++) {
		cub_coro_join(c[i], &r);
		if (r)
			return r;
	}
	for (unsigned i = 0; i < WRITERS; i++)
		for (unsigned k = 0; k < PER / 4; k++) {
			fill(want, sizeof(want), i * 100 + k);
			if (pread(fd, got, sizeof(got), (off_t)(i * PER + k * 4) * S) !=
			    (ssize_t)sizeof(got) || memcmp(want, got, sizeof(got)))
				return "a range holds another writer's bytes";
		}
	return NULL;
}

static void test_many_coroutines(void **state)
{
	int fd = make_disk("", SECTORS);
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(many_main, (void *)(intptr_t)fd, &r), 0);
	assert_null(r);
	drop_disk(fd);
}

static void noop_done(struct cub_arch_blk_req *req, int status)
{
	(void)req, (void)status;
}

static void *bad_main(void *arg)
{
	static uint8_t buf[4 * S];
	struct cub_blk_info info;
	struct cub_blk *d;
	struct cub_arch_blk_req q = { .op = CUB_ARCH_BLK_READ, .count = 1,
				      .buf = buf, .done = noop_done };

	(void)arg;
	if (cub_blk_open(0, NULL) != -CUB_EINVAL ||
	    cub_blk_open(CUB_BLK_MAX, &d) != -CUB_ENODEV ||
	    cub_blk_open(1, &d) != -CUB_ENODEV || cub_blk_open(0, &d))
		return "open";
	if (cub_blk_info(NULL, &info) != -CUB_EINVAL ||
	    cub_blk_info(d, NULL) != -CUB_EINVAL)
		return "info";
	if (cub_blk_read(NULL, 0, buf, 1) != -CUB_EINVAL ||
	    cub_blk_read(d, 0, NULL, 1) != -CUB_EINVAL ||
	    cub_blk_write(d, 0, NULL, 1) != -CUB_EINVAL ||
	    cub_blk_read(d, 0, buf, 0) != -CUB_EINVAL ||
	    cub_blk_read(d, SECTORS, buf, 1) != -CUB_EINVAL ||
	    cub_blk_write(d, SECTORS - 1, buf, 2) != -CUB_EINVAL ||
	    cub_blk_read(d, UINT64_MAX, buf, 2) != -CUB_EINVAL ||
	    cub_blk_read(d, 1, buf, UINT32_MAX) != -CUB_EINVAL ||
	    cub_blk_flush(NULL) != -CUB_EINVAL)
		return "transfer arguments";
	/* arch.h's submit checks the same, and its own. */
	if (cub_arch_blk_submit(0, NULL) != -CUB_EINVAL ||
	    cub_arch_blk_submit(7, &q) != -CUB_ENODEV ||
	    cub_arch_blk_info(0, NULL) != -CUB_EINVAL)
		return "submit NULL";
	q.done = NULL;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "submit without done";
	q.done = noop_done;
	q.op = 9;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "unknown op";
	q.op = CUB_ARCH_BLK_READ;
	q.count = 129;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "count above max_sectors";
	q.count = 1;
	q.lba = UINT64_MAX;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "lba past the end";
	q.lba = 0;
	q.op = CUB_ARCH_BLK_FLUSH;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "flush with a count";
	return NULL;
}

static void test_bad_arguments(void **state)
{
	int fd = make_disk("", SECTORS);
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(bad_main, NULL, &r), 0);
	assert_null(r);
	drop_disk(fd);
}

static void *ro_main(void *arg)
{
	static uint8_t buf[2 * S];
	struct cub_arch_blk_req q = { .op = CUB_ARCH_BLK_WRITE, .count = 1,
				      .buf = buf, .done = noop_done };
	struct cub_blk_info info;
	struct cub_blk *d;

	(void)arg;
	if (cub_blk_open(0, &d) || cub_blk_info(d, &info) || !info.read_only)
		return "not read-only";
	if (cub_blk_write(d, 0, buf, 1) != -CUB_EROFS ||
	    cub_arch_blk_submit(0, &q) != -CUB_EROFS)
		return "a write was not refused";
	if (cub_blk_read(d, 0, buf, 2) || buf[0] != 0xA5 || buf[S] != 0)
		return "read";
	if (cub_blk_flush(d))
		return "flush";
	return NULL;
}

static void test_read_only(void **state)
{
	int fd = make_disk(":ro", SECTORS);
	uint8_t b = 0xA5;
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(pwrite(fd, &b, 1, 0), 1);
	assert_int_equal(cub_sched_run(ro_main, NULL, &r), 0);
	assert_null(r);
	assert_int_equal(pread(fd, &b, 1, 0), 1);
	assert_int_equal(b, 0xA5);
	drop_disk(fd);
}

static void *eio_main(void *arg)
{
	static uint8_t buf[8 * S];
	int fd = (int)(intptr_t)arg;
	struct cub_blk *d;

	if (cub_blk_open(0, &d))
		return "open";
	/* The "device" loses its second half: reading there fails. */
	if (ftruncate(fd, SECTORS / 2 * S))
		return "ftruncate";
	if (cub_blk_read(d, SECTORS / 2 + 10, buf, 8) != -CUB_EIO)
		return "no -CUB_EIO from a failing device";
	if (cub_blk_read(d, 0, buf, 8))
		return "the first half still reads";
	return NULL;
}

static void test_device_error(void **state)
{
	int fd = make_disk("", SECTORS);
	void *r = (void *)"not run";

	(void)state;
	assert_int_equal(cub_sched_run(eio_main, (void *)(intptr_t)fd, &r), 0);
	assert_null(r);
	drop_disk(fd);
}

/* The host port's cub_arch_blk_reset: nothing is in flight there, so it
 * only fails the disk's later submits (-CUB_EIO, after the argument
 * checks) until the variable names new disks. src/blk's own state is
 * not touched: only arch.h's calls are used. Also: a timeout of 1 ns
 * starts no timer for a request done inside submit. */
static int reset_done_calls;

static void count_done(struct cub_arch_blk_req *req, int status)
{
	(void)req;
	reset_done_calls++;
	assert_int_equal(status, 0);
}

static void *reset_main(void *arg)
{
	static uint8_t buf[S];
	struct cub_arch_blk_req q = { .op = CUB_ARCH_BLK_WRITE, .count = 1,
				      .buf = buf, .done = count_done };
	struct cub_blk_info info;
	struct cub_blk *d;

	(void)arg;
	if (cub_blk_open(0, &d) || cub_blk_set_timeout(d, 1) ||
	    cub_blk_write(d, 0, buf, 1) || cub_blk_read(d, 0, buf, 1) ||
	    cub_blk_info(d, &info) || info.failed || info.timeouts ||
	    cub_blk_set_timeout(d, CUB_BLK_TIMEOUT_DEFAULT))
		return "done inside submit, timeout 1 ns";
	if (cub_arch_blk_submit(0, &q) || reset_done_calls != 1)
		return "submit before the reset";
	if (cub_arch_blk_reset(1) != -CUB_ENODEV ||
	    cub_arch_blk_reset(0) != 0 || cub_arch_blk_reset(0) != 0)
		return "reset";
	buf[0] = 0x77;
	if (cub_arch_blk_submit(0, &q) != -CUB_EIO || reset_done_calls != 1)
		return "a submit after the reset";
	q.count = 0;
	if (cub_arch_blk_submit(0, &q) != -CUB_EINVAL)
		return "bad arguments after the reset";
	return NULL;
}

/* The host port's cub_arch_blk_reinit: a failed disk works again (what
 * was in the file before reads back, a write lands), a healthy one is
 * refused, a missing one -CUB_ENODEV. */
static void *reinit_main(void *arg)
{
	static uint8_t buf[S];
	struct cub_arch_blk_req q = { .op = CUB_ARCH_BLK_READ, .count = 1,
				      .buf = buf, .done = count_done };

	(void)arg;
	if (cub_arch_blk_reinit(0) != -CUB_EINVAL ||
	    cub_arch_blk_reinit(1) != -CUB_ENODEV)
		return "reinit of a healthy or missing disk";
	if (cub_arch_blk_reset(0) || cub_arch_blk_submit(0, &q) != -CUB_EIO)
		return "reset";
	if (cub_arch_blk_reinit(0) || cub_arch_blk_reinit(0) != -CUB_EINVAL)
		return "reinit of the failed disk";
	if (cub_arch_blk_submit(0, &q) || buf[0] != 0x5E)
		return "a read after the reinit";
	buf[0] = 0x6F;
	q.op = CUB_ARCH_BLK_WRITE;
	if (cub_arch_blk_submit(0, &q))
		return "a write after the reinit";
	return NULL;
}

static void test_host_reset(void **state)
{
	int fd = make_disk("", SECTORS);
	void *r = (void *)"not run";
	uint8_t b = 0, sector[S];
	struct cub_arch_blk_req q = { .op = CUB_ARCH_BLK_READ, .count = 1,
				      .buf = sector, .done = count_done };

	(void)state;
	assert_int_equal(cub_sched_run(reset_main, NULL, &r), 0);
	assert_null(r);
	assert_int_equal(pread(fd, &b, 1, 0), 1);
	assert_int_equal(b, 0);			/* 0x77 never written */
	drop_disk(fd);
	fd = make_disk("", SECTORS);		/* a new disk: not failed */
	assert_int_equal(cub_arch_blk_submit(0, &q), 0);
	assert_int_equal(reset_done_calls, 2);
	b = 0x5E;
	assert_int_equal(pwrite(fd, &b, 1, 0), 1);
	r = (void *)"not run";
	assert_int_equal(cub_sched_run(reinit_main, NULL, &r), 0);
	assert_null(r);
	assert_int_equal(reset_done_calls, 4);
	assert_int_equal(pread(fd, &b, 1, 0), 1);
	assert_int_equal(b, 0x6F);
	drop_disk(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_disk),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_many_coroutines),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_device_error),
		cmocka_unit_test(test_host_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
