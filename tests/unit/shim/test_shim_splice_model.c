/*
 * test_shim_splice_model.c - a seeded random run of writes, reads,
 * splices, tees and resizes over two pipes, every byte checked against
 * a model of the pipes' contents ($CUBRT_SEED reproduces a run).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/heap.h>
#include <cubrt/sched.h>
#include "shim_impl.h"
#include "procfs.h"
#include "sys.h"
#include "sock.h"
#include "fresh.h"
#include "sigpipe.h"
#include "splice_util.h"

/* A model of two pipes' bytes: splices, tees, writes, reads and resizes
 * at random, every byte checked. */
struct model {
	int fd[2][2];
	unsigned char q[2][1 << 17];
	size_t len[2], cap[2];
};

static struct model m;

static unsigned char buf[8192];

static void model_write(int i, size_t n, unsigned seed)
{
	long r;

	for (size_t k = 0; k < n; k++)
		buf[k] = (unsigned char)(seed + k * 13);
	r = SYS3(SYS_write, m.fd[i][1], buf, n);
	if (m.len[i] == m.cap[i] || (n <= 4096 && m.cap[i] - m.len[i] < n)) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)CUB_MIN(n, m.cap[i] - m.len[i]));
	memcpy(m.q[i] + m.len[i], buf, (size_t)r);
	m.len[i] += (size_t)r;
}

static void model_read(int i, size_t n)
{
	long r = SYS3(SYS_read, m.fd[i][0], buf, n);
	size_t k = CUB_MIN(n, m.len[i]);

	if (!k) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)k);
	assert_memory_equal(buf, m.q[i], k);
	memmove(m.q[i], m.q[i] + k, m.len[i] - k);
	m.len[i] -= k;
}

static void model_move(int i, size_t n, bool consume)
{
	int j = !i;
	long r = consume ? splice(m.fd[i][0], NULL, m.fd[j][1], NULL, n, SPLICE_F_NONBLOCK)
			 : tee(m.fd[i][0], m.fd[j][1], n, SPLICE_F_NONBLOCK);
	size_t k = CUB_MIN(n, CUB_MIN(m.len[i], m.cap[j] - m.len[j]));

	if (!k) {
		assert_int_equal(r, -CUB_EAGAIN);
		return;
	}
	assert_int_equal(r, (long)k);
	memcpy(m.q[j] + m.len[j], m.q[i], k);
	m.len[j] += k;
	if (consume) {
		memmove(m.q[i], m.q[i] + k, m.len[i] - k);
		m.len[i] -= k;
	}
}

static void model_resize(int i, size_t want)
{
	size_t cap = 4096;
	long r = pipesz(m.fd[i][rand() & 1], F_SETPIPE_SZ, (long)want);

	while (cap < want)
		cap <<= 1;
	if (cap < m.len[i]) {
		assert_int_equal(r, -CUB_EBUSY);
		return;
	}
	assert_int_equal(r, (long)cap);
	m.cap[i] = cap;
}

static void model_body(void)
{
	const char *env = getenv("CUBRT_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : 12345;

	printf("seed %u (CUBRT_SEED)\n", seed);
	srand(seed);
	for (int i = 0; i < 2; i++) {
		mkpipe(m.fd[i], NB);
		m.len[i] = 0;
		m.cap[i] = CAP;
	}
	for (int step = 0; step < 20000; step++) {
		int i = rand() & 1, op = rand() % 10;
		size_t n = 1 + (size_t)rand() % (rand() % 4 ? 600 : 8192);

		if (op < 3)
			model_write(i, n, (unsigned)step);
		else if (op < 5)
			model_read(i, n);
		else if (op < 7)
			model_move(i, n * 4, true);
		else if (op < 9)
			model_move(i, n, false);
		else if (rand() % 8 == 0)
			model_resize(i, (size_t)1 << (12 + rand() % 6));
		assert_int_equal(pipesz(m.fd[i][0], F_GETPIPE_SZ, 0), (long)m.cap[i]);
	}
	for (int i = 0; i < 2; i++) {
		while (m.len[i])
			model_read(i, 8192);
		expect_empty(m.fd[i][0]);
		closeall(2, m.fd[i]);
	}
}

static void test_splice_model(void **state)
{
	(void)state;
	run(model_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
