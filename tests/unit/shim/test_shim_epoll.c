/*
 * test_shim_epoll.c - epoll's entries keyed as Linux keys them, by the
 * pair (open file, descriptor number), through the dispatcher: dup'd
 * descriptors registered side by side with their own data; MOD and DEL
 * naming one pair; a pair that outlives its descriptor's close while a
 * dup keeps the file open (it still reports; ctl gets -EBADF, or -ENOENT
 * once the number names another file) and goes with the file's last
 * close; a reused number (another file, or the same one again); dup2 onto
 * a registered number; how many entries an instance holds (-ENOSPC) and
 * that the slots of closed files are used again. Each test leaves no
 * descriptor open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include "fd.h"
#include "sys.h"

#define SYS_dup 32
#define SYS_dup2 33
#define O_NONBLOCK 04000
#define EPOLLIN 0x001u
#define ADD 1
#define DEL 2
#define MOD 3
#define MAX_ENTRIES (4 * CUBI_FD_MAX)	/* epoll.c's MAX_SLOTS */

struct __attribute__((packed)) ev {
	uint32_t events;
	uint64_t data;
};

static long ctl(int ep, int op, int fd, uint64_t data)
{
	struct ev e = { EPOLLIN, data };

	return SYS4(SYS_epoll_ctl, ep, op, fd, &e);
}

/* A non-blocking pipe with a byte in it: its read end is readable. */
static void full_pipe(int p[2])
{
	assert_int_equal(SYS2(SYS_pipe2, p, O_NONBLOCK), 0);
	assert_int_equal(SYS3(SYS_write, p[1], "x", 1), 1);
}

static void close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(SYS1(SYS_close, fds[i]), 0);
}

/* The data of what one wait reports, as a bit set (data < 64). */
static uint64_t reported(int ep)
{
	struct ev out[16];
	long n = SYS4(SYS_epoll_wait, ep, out, 16, 0);
	uint64_t set = 0;

	assert_true(n >= 0);
	for (long i = 0; i < n; i++) {
		assert_int_equal(out[i].events, EPOLLIN);
		assert_true(out[i].data < 64);
		assert_false(set & (1ull << out[i].data));	/* once each */
		set |= 1ull << out[i].data;
	}
	return set;
}

/* Two descriptors of one file: two entries, each with its own data. */
static void test_epoll_dup_pairs(void **state)
{
	int p[2], ep = (int)SYS1(SYS_epoll_create1, 0), d;

	(void)state;
	full_pipe(p);
	d = (int)SYS1(SYS_dup, p[0]);
	assert_true(d >= 0);
	assert_int_equal(ctl(ep, ADD, p[0], 1), 0);
	assert_int_equal(ctl(ep, ADD, d, 2), 0);
	assert_int_equal(ctl(ep, ADD, p[0], 3), -CUB_EEXIST);
	assert_int_equal(ctl(ep, ADD, d, 3), -CUB_EEXIST);
	assert_int_equal(reported(ep), 1u << 1 | 1u << 2);
	assert_int_equal(reported(ep), 1u << 1 | 1u << 2);	/* level */
	close_all((int[]){ ep, d, p[0], p[1] }, 4);
}

/* MOD and DEL name one pair: the other descriptor's entry stays. */
static void test_epoll_mod_del_pair(void **state)
{
	int p[2], ep = (int)SYS1(SYS_epoll_create1, 0), d;

	(void)state;
	full_pipe(p);
	d = (int)SYS1(SYS_dup, p[0]);
	assert_int_equal(ctl(ep, ADD, p[0], 1), 0);
	assert_int_equal(ctl(ep, MOD, d, 2), -CUB_ENOENT);
	{	/* EPOLLEXCLUSIVE with MOD: -EINVAL before the pair is looked up */
		struct ev x = { EPOLLIN | 1u << 28, 2 };

		assert_int_equal(SYS4(SYS_epoll_ctl, ep, MOD, d, &x), -CUB_EINVAL);
	}
	assert_int_equal(ctl(ep, DEL, d, 0), -CUB_ENOENT);
	assert_int_equal(ctl(ep, ADD, d, 2), 0);
	assert_int_equal(ctl(ep, MOD, d, 3), 0);
	assert_int_equal(reported(ep), 1u << 1 | 1u << 3);
	assert_int_equal(ctl(ep, DEL, d, 0), 0);
	assert_int_equal(reported(ep), 1u << 1);
	assert_int_equal(ctl(ep, DEL, d, 0), -CUB_ENOENT);
	assert_int_equal(ctl(ep, MOD, d, 4), -CUB_ENOENT);
	assert_int_equal(ctl(ep, MOD, p[0], 5), 0);
	assert_int_equal(reported(ep), 1u << 5);
	assert_int_equal(ctl(ep, DEL, p[0], 0), 0);
	assert_int_equal(reported(ep), 0);
	close_all((int[]){ ep, d, p[0], p[1] }, 4);
}

/*
 * Closing a registered descriptor while a dup keeps the file open leaves
 * its pair: it goes on reporting, ctl cannot name it (-EBADF while the
 * number is free, -ENOENT once it names another file, which can then be
 * added as a new pair), and it goes with the file's last close.
 */
static void test_epoll_closed_descriptor(void **state)
{
	int a[2], b[2], ep = (int)SYS1(SYS_epoll_create1, 0), r, d;

	(void)state;
	full_pipe(a);
	r = a[0];
	d = (int)SYS1(SYS_dup, r);
	assert_int_equal(ctl(ep, ADD, r, 1), 0);
	assert_int_equal(SYS1(SYS_close, r), 0);
	assert_int_equal(reported(ep), 1u << 1);	/* still there */
	assert_int_equal(ctl(ep, DEL, r, 0), -CUB_EBADF);
	assert_int_equal(ctl(ep, MOD, r, 2), -CUB_EBADF);
	assert_int_equal(ctl(ep, ADD, d, 3), 0);
	assert_int_equal(reported(ep), 1u << 1 | 1u << 3);

	full_pipe(b);				/* r's number again */
	assert_int_equal(b[0], r);
	assert_int_equal(ctl(ep, DEL, r, 0), -CUB_ENOENT);
	assert_int_equal(ctl(ep, MOD, r, 4), -CUB_ENOENT);
	assert_int_equal(ctl(ep, ADD, r, 4), 0);	/* a new pair */
	assert_int_equal(reported(ep), 1u << 1 | 1u << 3 | 1u << 4);
	assert_int_equal(ctl(ep, DEL, r, 0), 0);	/* (b, r) only */
	assert_int_equal(reported(ep), 1u << 1 | 1u << 3);

	assert_int_equal(SYS1(SYS_close, d), 0);	/* a's last close */
	assert_int_equal(reported(ep), 0);
	assert_int_equal(ctl(ep, ADD, r, 5), 0);
	assert_int_equal(reported(ep), 1u << 5);
	close_all((int[]){ ep, a[1], b[0], b[1] }, 4);
}

/* A number given back to the same file names the same pair again. */
static void test_epoll_same_file_again(void **state)
{
	int p[2], ep = (int)SYS1(SYS_epoll_create1, 0), d;

	(void)state;
	full_pipe(p);
	d = (int)SYS1(SYS_dup, p[0]);
	assert_int_equal(ctl(ep, ADD, d, 1), 0);
	assert_int_equal(SYS1(SYS_close, d), 0);
	assert_int_equal(SYS1(SYS_dup, p[0]), d);
	assert_int_equal(ctl(ep, ADD, d, 2), -CUB_EEXIST);
	assert_int_equal(ctl(ep, MOD, d, 3), 0);
	assert_int_equal(reported(ep), 1u << 3);
	close_all((int[]){ ep, d, p[0], p[1] }, 4);
}

/* dup2 onto a registered number: a new pair beside the old, which stays
 * until its file's last close. */
static void test_epoll_dup2_onto(void **state)
{
	int a[2], b[2], ep = (int)SYS1(SYS_epoll_create1, 0), keep;

	(void)state;
	full_pipe(a);
	full_pipe(b);
	keep = (int)SYS1(SYS_dup, b[0]);
	assert_int_equal(ctl(ep, ADD, a[0], 1), 0);
	assert_int_equal(ctl(ep, ADD, b[0], 2), 0);
	assert_int_equal(SYS2(SYS_dup2, a[0], b[0]), b[0]);
	assert_int_equal(reported(ep), 1u << 1 | 1u << 2);
	assert_int_equal(ctl(ep, MOD, b[0], 3), -CUB_ENOENT);
	assert_int_equal(ctl(ep, ADD, b[0], 3), 0);	/* (a, b[0]) */
	assert_int_equal(reported(ep), 1u << 1 | 1u << 2 | 1u << 3);
	assert_int_equal(SYS1(SYS_close, keep), 0);	/* b's last close */
	assert_int_equal(reported(ep), 1u << 1 | 1u << 3);
	assert_int_equal(ctl(ep, DEL, a[0], 0), 0);
	assert_int_equal(reported(ep), 1u << 3);
	close_all((int[]){ ep, a[0], a[1], b[0], b[1] }, 5);
}

/* How many entries one wait reports with each data (< 16). */
static void count_reports(int ep, int counts[16])
{
	static struct ev out[MAX_ENTRIES + 1];
	long n = SYS4(SYS_epoll_wait, ep, out, MAX_ENTRIES + 1, 0);

	assert_true(n >= 0);
	for (int i = 0; i < 16; i++)
		counts[i] = 0;
	for (long i = 0; i < n; i++) {
		assert_true(out[i].data < 16);
		counts[out[i].data]++;
	}
}

/* Fills ep with pairs: pipe i's read end dup2'd onto every number from
 * first up and added there (each pair stays when the next pipe's dup2
 * replaces its descriptor), until an ADD fails; returns how many went in
 * and *at, the number that failed, *rc its error. */
static int fill(int ep, int p[8][2], int first, int *at, long *rc)
{
	int added = 0;

	*rc = 0;
	for (int i = 0; i < 8; i++) {
		for (int n = first; n < CUBI_FD_MAX; n++) {
			assert_int_equal(SYS2(SYS_dup2, p[i][0], n), n);
			*at = n;
			if ((*rc = ctl(ep, ADD, n, (uint64_t)i)))
				return added;
			added++;
		}
	}
	return added;
}

/*
 * An instance holds MAX_ENTRIES entries (-ENOSPC beyond); the last close
 * of a file gives its entries' slots back, and the instance still reports
 * what is left.
 */
static void test_epoll_capacity(void **state)
{
	int p[8][2], ep, first, at = 0, per, counts[16];
	long rc;

	(void)state;
	for (int i = 0; i < 8; i++)
		full_pipe(p[i]);
	ep = (int)SYS1(SYS_epoll_create1, 0);
	first = ep + 1;
	per = CUBI_FD_MAX - first;			/* pairs per pipe */
	assert_int_equal(fill(ep, p, first, &at, &rc), MAX_ENTRIES);
	assert_int_equal(rc, -CUB_ENOSPC);
	assert_int_equal(ctl(ep, ADD, p[7][0], 7), -CUB_ENOSPC);
	count_reports(ep, counts);
	for (int i = 0; i < 16; i++)
		assert_int_equal(counts[i], i < 4 ? per : i == 4 ? MAX_ENTRIES - 4 * per : 0);
	assert_int_equal(SYS1(SYS_close, p[0][0]), 0);	/* pipe 0's last close */
	assert_int_equal(ctl(ep, ADD, at, 9), 0);	/* a slot again */
	count_reports(ep, counts);
	assert_int_equal(counts[0], 0);
	assert_int_equal(counts[1], per);
	assert_int_equal(counts[9], 1);
	for (int n = first; n < CUBI_FD_MAX; n++)
		assert_int_equal(SYS1(SYS_close, n), 0);
	assert_int_equal(SYS1(SYS_close, ep), 0);
	for (int i = 0; i < 8; i++) {
		if (i)
			assert_int_equal(SYS1(SYS_close, p[i][0]), 0);
		assert_int_equal(SYS1(SYS_close, p[i][1]), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoll_dup_pairs),
		cmocka_unit_test(test_epoll_mod_del_pair),
		cmocka_unit_test(test_epoll_closed_descriptor),
		cmocka_unit_test(test_epoll_same_file_again),
		cmocka_unit_test(test_epoll_dup2_onto),
		cmocka_unit_test(test_epoll_capacity),
	};

	cubi_mem_init();	/* pipes and epoll instances live on the heap */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
