/*
 * test_chan.c - channels: init and argument checks, buffered ordering,
 * rendezvous, close rules with parked senders and receivers, FIFO waiter
 * order, element sizes from 1 byte to several KiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <cubrt/arch.h>
#include <cubrt/chan.h>
#include <cubrt/mem.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "chan_test.h"

/* ------------------------------------------------------------ no blocking */

static void test_init_checks(void **state)
{
	struct cub_chan c;
	struct cub_chan *p;
	int buf[4];

	(void)state;
	assert_int_equal(cub_chan_init(NULL, 4, 0, NULL), -CUB_EINVAL);
	assert_int_equal(cub_chan_init(&c, CUB_CHAN_ELEM_MAX + 1, 0, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_chan_init(&c, 4, 4, NULL), -CUB_EINVAL);
	assert_int_equal(cub_chan_init(&c, 4096, SIZE_MAX / 1024, buf),
			 -CUB_EINVAL);
	/* The ring's counts and offsets are 32 bits: 4 GiB or 2^32
	 * elements are too many, even without a ring. */
	assert_int_equal(cub_chan_init(&c, 0, (size_t)UINT32_MAX + 1, NULL),
			 -CUB_EINVAL);
	assert_int_equal(cub_chan_init(&c, 4, 1u << 30, buf), -CUB_EINVAL);
	assert_int_equal(cub_chan_init(&c, 4, (1u << 30) - 1, buf), 0);
	assert_int_equal(cub_chan_cap(&c), (1u << 30) - 1);
	assert_int_equal(cub_chan_init(&c, 0, UINT32_MAX, NULL), 0);
	assert_int_equal(cub_chan_cap(&c), UINT32_MAX);
	assert_int_equal(cub_chan_new(&p, 8, 1u << 29), -CUB_EINVAL);
	assert_int_equal(sizeof(struct cub_chan), 64);
	assert_int_equal(cub_chan_init(&c, 4, 4, buf), 0);
	assert_int_equal(cub_chan_cap(&c), 4);
	assert_int_equal(cub_chan_len(&c), 0);
	assert_false(cub_chan_closed(&c));
	/* elem_size 0: a pure signal channel needs no buffer. */
	assert_int_equal(cub_chan_init(&c, 0, 8, NULL), 0);
	assert_int_equal(cub_chan_try_send(&c, NULL), 0);
	assert_int_equal(cub_chan_len(&c), 1);
	assert_int_equal(cub_chan_try_recv(&c, NULL), 1);
	/* Unbuffered init with no buffer. */
	assert_int_equal(cub_chan_init(&c, 8, 0, NULL), 0);
	assert_int_equal(cub_chan_cap(&c), 0);
	/* NULL channels. */
	assert_int_equal(cub_chan_len(NULL), 0);
	assert_int_equal(cub_chan_cap(NULL), 0);
	assert_false(cub_chan_closed(NULL));
	assert_int_equal(cub_chan_try_send(NULL, buf), -CUB_EINVAL);
	assert_int_equal(cub_chan_try_recv(NULL, buf), -CUB_EINVAL);
	assert_int_equal(cub_chan_send(NULL, buf), -CUB_EINVAL);
	assert_int_equal(cub_chan_recv(NULL, buf), -CUB_EINVAL);
	assert_int_equal(cub_chan_close(NULL), -CUB_EINVAL);
	/* NULL source with a non-empty element. */
	assert_int_equal(cub_chan_init(&c, 4, 4, buf), 0);
	assert_int_equal(cub_chan_try_send(&c, NULL), -CUB_EINVAL);
	assert_int_equal(cub_chan_send(&c, NULL), -CUB_EINVAL);
	/* Allocating form. */
	assert_int_equal(cub_chan_new(NULL, 4, 4), -CUB_EINVAL);
	assert_int_equal(cub_chan_new(&p, CUB_CHAN_ELEM_MAX + 1, 1), -CUB_EINVAL);
	assert_int_equal(cub_chan_new(&p, 1024, SIZE_MAX / 512), -CUB_EINVAL);
	assert_int_equal(cub_chan_new(&p, 4, 16), 0);
	assert_int_equal(cub_chan_cap(p), 16);
	assert_int_equal(cub_chan_free(&c), -CUB_EINVAL);
	assert_int_equal(cub_chan_free(p), 0);
	assert_int_equal(cub_chan_free(NULL), 0);
}

static void test_buffered_order(void **state)
{
	struct cub_chan c;
	uint32_t buf[5], v;
	int i, round;

	(void)state;
	assert_int_equal(cub_chan_init(&c, sizeof(v), 5, buf), 0);
	/* Several rounds so the ring wraps around at every offset. */
	for (round = 0; round < 7; round++) {
		for (i = 0; i < 3 + round % 3; i++) {
			v = (uint32_t)(round * 100 + i);
			assert_int_equal(cub_chan_try_send(&c, &v), 0);
		}
		assert_int_equal(cub_chan_len(&c), (size_t)(3 + round % 3));
		for (i = 0; i < 3 + round % 3; i++) {
			assert_int_equal(cub_chan_try_recv(&c, &v), 1);
			assert_int_equal(v, round * 100 + i);
		}
		assert_int_equal(cub_chan_try_recv(&c, &v), -CUB_EAGAIN);
	}
	for (i = 0; i < 5; i++)
		assert_int_equal(cub_chan_try_send(&c, &v), 0);
	assert_int_equal(cub_chan_try_send(&c, &v), -CUB_EAGAIN);
	assert_int_equal(cub_chan_send_isr(&c, &v), -CUB_EAGAIN);
	assert_int_equal(cub_chan_recv_isr(&c, NULL), 1);	/* discard */
	assert_int_equal(cub_chan_len(&c), 4);
}

static void test_close_rules(void **state)
{
	struct cub_chan c;
	uint64_t buf[3], v = 7;

	(void)state;
	assert_int_equal(cub_chan_init(&c, sizeof(v), 3, buf), 0);
	assert_int_equal(cub_chan_try_send(&c, &v), 0);
	v = 8;
	assert_int_equal(cub_chan_try_send(&c, &v), 0);
	assert_int_equal(cub_chan_close(&c), 0);
	assert_true(cub_chan_closed(&c));
	assert_int_equal(cub_chan_close(&c), -CUB_EBADF);
	assert_int_equal(cub_chan_try_send(&c, &v), -CUB_EPIPE);
	assert_int_equal(cub_chan_send(&c, &v), -CUB_EPIPE);
	/* Buffered values drain first, then zero values with !ok. */
	assert_int_equal(cub_chan_try_recv(&c, &v), 1);
	assert_int_equal(v, 7);
	assert_int_equal(cub_chan_recv(&c, &v), 1);
	assert_int_equal(v, 8);
	assert_int_equal(cub_chan_try_recv(&c, &v), 0);
	assert_int_equal(v, 0);
	v = 5;
	assert_int_equal(cub_chan_recv(&c, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cub_chan_len(&c), 0);
}

static void test_unbuffered_try(void **state)
{
	struct cub_chan c;
	int v = 1;

	(void)state;
	assert_int_equal(cub_chan_init(&c, sizeof(v), 0, NULL), 0);
	assert_int_equal(cub_chan_try_send(&c, &v), -CUB_EAGAIN);
	assert_int_equal(cub_chan_try_recv(&c, &v), -CUB_EAGAIN);
	assert_int_equal(cub_chan_len(&c), 0);
	assert_int_equal(cub_chan_close(&c), 0);
	assert_int_equal(cub_chan_try_recv(&c, &v), 0);
	assert_int_equal(v, 0);
}

/* ------------------------------------------------------------- blocking */

struct pair {
	struct cub_chan *c;
	int n;
	int result;
	int got[64];
};

static void *sender_n(void *arg)
{
	struct pair *p = arg;
	int i;

	for (i = 0; i < p->n; i++)
		assert_int_equal(cub_chan_send(p->c, &i), 0);
	return NULL;
}

static void *rendezvous_main(void *arg)
{
	struct cub_chan c;
	struct pair p = { &c, 1000, 0, { 0 } };
	struct cub_coro *s;
	int i, v;

	(void)arg;
	assert_int_equal(cub_chan_init(&c, sizeof(int), 0, NULL), 0);
	assert_int_equal(cub_coro_spawn(&s, sender_n, &p, NULL), 0);
	for (i = 0; i < p.n; i++) {
		assert_int_equal(cub_chan_recv(&c, &v), 1);
		assert_int_equal(v, i);
		/* Unbuffered: nothing is ever held by the channel. */
		assert_int_equal(cub_chan_len(&c), 0);
	}
	assert_int_equal(cub_coro_join(s, NULL), 0);
	return NULL;
}

static void test_rendezvous(void **state)
{
	(void)state;
	chan_test_run(rendezvous_main, NULL);
}

/* A parked receiver gets the value in its own destination: the sender's
 * send returns before the receiver runs again, and the value is there. */
static void *recv_into(void *arg)
{
	struct pair *p = arg;

	p->result = cub_chan_recv(p->c, &p->got[0]);
	return NULL;
}

static void *direct_main(void *arg)
{
	struct cub_chan c;
	struct pair p = { &c, 0, -99, { 0 } };
	struct cub_coro *r;
	int v = 4242;

	(void)arg;
	assert_int_equal(cub_chan_init(&c, sizeof(int), 0, NULL), 0);
	assert_int_equal(cub_coro_spawn(&r, recv_into, &p, NULL), 0);
	cub_coro_yield();			/* r parks in recv */
	assert_int_equal(cub_chan_try_send(&c, &v), 0);
	assert_int_equal(p.got[0], 4242);	/* copied already */
	assert_int_equal(p.result, -99);	/* r has not run yet */
	assert_int_equal(cub_coro_join(r, NULL), 0);
	assert_int_equal(p.result, 1);
	return NULL;
}

static void test_direct_copy(void **state)
{
	(void)state;
	chan_test_run(direct_main, NULL);
}

/* Receivers park in order r0, r1, r2 and are served in that order. */
static void *fifo_main(void *arg)
{
	struct cub_chan c;
	struct pair p[3];
	struct cub_coro *r[3];
	int i, v;

	(void)arg;
	assert_int_equal(cub_chan_init(&c, sizeof(int), 0, NULL), 0);
	for (i = 0; i < 3; i++) {
		p[i] = (struct pair){ &c, 0, -99, { 0 } };
		assert_int_equal(cub_coro_spawn(&r[i], recv_into, &p[i], NULL), 0);
		cub_coro_yield();
	}
	for (i = 0; i < 3; i++) {
		v = 10 + i;
		assert_int_equal(cub_chan_send(&c, &v), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(cub_coro_join(r[i], NULL), 0);
		assert_int_equal(p[i].result, 1);
		assert_int_equal(p[i].got[0], 10 + i);
	}
	return NULL;
}

static void test_fifo_waiters(void **state)
{
	(void)state;
	chan_test_run(fifo_main, NULL);
}

static void *send_one(void *arg)
{
	struct pair *p = arg;
	int v = p->n;

	p->result = cub_chan_send(p->c, &v);
	return NULL;
}

/* close wakes every parked receiver (zeroed, !ok) and every parked sender
 * (-CUB_EPIPE); a full buffer keeps its values for later receivers. */
static void *close_parked_main(void *arg)
{
	struct cub_chan u, b;
	struct pair pr[4], ps[4];
	struct cub_coro *cr[4], *cs[4];
	int i, v, buf[2];

	(void)arg;
	assert_int_equal(cub_chan_init(&u, sizeof(int), 0, NULL), 0);
	assert_int_equal(cub_chan_init(&b, sizeof(int), 2, buf), 0);
	v = 1;
	assert_int_equal(cub_chan_send(&b, &v), 0);
	v = 2;
	assert_int_equal(cub_chan_send(&b, &v), 0);
	for (i = 0; i < 4; i++) {
		pr[i] = (struct pair){ &u, 0, -99, { 77 } };
		ps[i] = (struct pair){ &b, 100 + i, -99, { 0 } };
		assert_int_equal(cub_coro_spawn(&cr[i], recv_into, &pr[i], NULL), 0);
		assert_int_equal(cub_coro_spawn(&cs[i], send_one, &ps[i], NULL), 0);
	}
	cub_coro_yield();			/* all eight park */
	assert_int_equal(cub_chan_len(&b), 2);
	assert_int_equal(cub_chan_close(&u), 0);
	assert_int_equal(cub_chan_close(&b), 0);
	for (i = 0; i < 4; i++) {
		assert_int_equal(cub_coro_join(cr[i], NULL), 0);
		assert_int_equal(cub_coro_join(cs[i], NULL), 0);
		assert_int_equal(pr[i].result, 0);
		assert_int_equal(pr[i].got[0], 0);
		assert_int_equal(ps[i].result, -CUB_EPIPE);
	}
	assert_int_equal(cub_chan_recv(&b, &v), 1);
	assert_int_equal(v, 1);
	assert_int_equal(cub_chan_recv(&b, &v), 1);
	assert_int_equal(v, 2);
	assert_int_equal(cub_chan_recv(&b, &v), 0);
	return NULL;
}

static void test_close_parked(void **state)
{
	(void)state;
	chan_test_run(close_parked_main, NULL);
}

/* Parked senders on a full ring refill it in their arrival order. */
static void *full_ring_main(void *arg)
{
	struct cub_chan b;
	struct pair ps[3];
	struct cub_coro *cs[3];
	int i, v, buf[2];

	(void)arg;
	assert_int_equal(cub_chan_init(&b, sizeof(int), 2, buf), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(cub_chan_send(&b, &i), 0);
	for (i = 0; i < 3; i++) {
		ps[i] = (struct pair){ &b, 2 + i, -99, { 0 } };
		assert_int_equal(cub_coro_spawn(&cs[i], send_one, &ps[i], NULL), 0);
		cub_coro_yield();
	}
	for (i = 0; i < 5; i++) {
		assert_int_equal(cub_chan_recv(&b, &v), 1);
		assert_int_equal(v, i);
		assert_true(cub_chan_len(&b) <= 2);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(cub_coro_join(cs[i], NULL), 0);
		assert_int_equal(ps[i].result, 0);
	}
	return NULL;
}

static void test_full_ring_senders(void **state)
{
	(void)state;
	chan_test_run(full_ring_main, NULL);
}

/* ------------------------------------------------------- element sizes */

struct big {
	struct cub_chan *c;
	size_t size;
	int n;
};

static void fill(unsigned char *p, size_t size, int seq)
{
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(i * 31 + (size_t)seq * 7 + 1);
}

static void *big_sender(void *arg)
{
	struct big *b = arg;
	unsigned char *e = malloc(b->size);
	int i;

	for (i = 0; i < b->n; i++) {
		fill(e, b->size, i);
		assert_int_equal(cub_chan_send(b->c, e), 0);
	}
	assert_int_equal(cub_chan_close(b->c), 0);
	free(e);
	return NULL;
}

static void *sizes_main(void *arg)
{
	static const size_t sizes[] = { 1, 2, 3, 4, 7, 8, 16, 24, 100, 1000,
					4096, 8192, 65536 };
	unsigned char *e, *want;
	size_t k, cap;
	int i, r;

	(void)arg;
	for (k = 0; k < CUB_ARRAY_SIZE(sizes); k++) {
		for (cap = 0; cap <= 3; cap += 3) {
			struct cub_chan *c;
			struct cub_coro *s;
			struct big b;

			assert_int_equal(cub_chan_new(&c, sizes[k], cap), 0);
			b = (struct big){ c, sizes[k], 10 };
			e = malloc(sizes[k]);
			want = malloc(sizes[k]);
			assert_int_equal(cub_coro_spawn(&s, big_sender, &b, NULL), 0);
			for (i = 0; (r = cub_chan_recv(c, e)) == 1; i++) {
				fill(want, sizes[k], i);
				assert_memory_equal(e, want, sizes[k]);
			}
			assert_int_equal(r, 0);
			assert_int_equal(i, 10);
			memset(want, 0, sizes[k]);
			assert_memory_equal(e, want, sizes[k]);
			assert_int_equal(cub_coro_join(s, NULL), 0);
			assert_int_equal(cub_chan_free(c), 0);
			free(e);
			free(want);
		}
	}
	return NULL;
}

static void test_elem_sizes(void **state)
{
	(void)state;
	chan_test_run(sizes_main, NULL);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_checks),
		cmocka_unit_test(test_buffered_order),
		cmocka_unit_test(test_close_rules),
		cmocka_unit_test(test_unbuffered_try),
		cmocka_unit_test(test_rendezvous),
		cmocka_unit_test(test_direct_copy),
		cmocka_unit_test(test_fifo_waiters),
		cmocka_unit_test(test_close_parked),
		cmocka_unit_test(test_full_ring_senders),
		cmocka_unit_test(test_elem_sizes),
	};

	cubi_mem_init();
	chan_test_child(argc, argv, NULL, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
