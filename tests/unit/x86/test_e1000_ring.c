/*
 * test_e1000_ring.c - the e1000 driver's descriptor rings
 * (platform/x86/e1000_ring.c) against a card played on host memory
 * (fake_e1000.h): ring set-up and its bad sizes; frames received in
 * order, copied, truncated, counted, their descriptors given back with
 * the tail following; everything the card may get wrong (error bits,
 * lengths of 0, 13, 1515 and 65535, a frame over several descriptors, a
 * scribbled buffer address, a length without DD) dropped and counted
 * once; transmit up to n - 1 frames in flight, -CUB_EAGAIN past that,
 * reclaim only of what the card finished, wrap-around of both rings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_e1000.h"

static const struct cub_arch_nic_stats zero;

static void frame(uint8_t *f, unsigned len, unsigned seed)
{
	for (unsigned i = 0; i < len; i++)
		f[i] = (uint8_t)(seed * 31 + i);
}

static void test_init(void **state)
{
	struct fake_ring f;
	uint8_t b[16];
	unsigned bad[] = { 0, 4, 7, 12, 100, 8192 };

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fake_ring_init(&f, bad[i], true), -CUB_EINVAL);
		fake_ring_free(&f);
	}
	assert_int_equal(cubi_e1000_ring_init(&f.r, NULL, b, 0, 8, true),
			 -CUB_EINVAL);
	assert_int_equal(cubi_e1000_ring_init(&f.r, b, NULL, 0, 8, true),
			 -CUB_EINVAL);
	assert_int_equal(cubi_e1000_ring_init(NULL, b, b, 0, 8, true),
			 -CUB_EINVAL);
	assert_int_equal(fake_ring_init(&f, 16, true), 0);
	assert_int_equal(f.r.tail, 15);		/* all but one the card's */
	for (unsigned i = 0; i < 16; i++) {
		assert_int_equal(f.r.d.rx[i].addr,
				 (uintptr_t)f.buf + i * E1000_BUF);
		assert_int_equal(f.r.d.rx[i].status, 0);
	}
	assert_false(cubi_e1000_rx_pending(&f.r));
	fake_ring_free(&f);
	assert_int_equal(fake_ring_init(&f, 8, false), 0);
	assert_int_equal(f.r.tail, 0);
	assert_int_equal(f.r.busy, 0);
	fake_ring_free(&f);
}

static void test_rx_order_copy_truncate(void **state)
{
	struct cub_arch_nic_stats st = zero;
	struct fake_ring f;
	uint8_t in[1514], out[2048];

	(void)state;
	assert_int_equal(fake_ring_init(&f, 8, true), 0);
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st),
			 -CUB_EAGAIN);
	assert_memory_equal(&st, &zero, sizeof(st));
	frame(in, 60, 1);
	assert_true(fake_rx(&f, in, 60, E1000_RXD_EOP, 0));
	frame(in, 1514, 2);
	assert_true(fake_rx(&f, in, 1514, E1000_RXD_EOP, 0));
	assert_true(cubi_e1000_rx_pending(&f.r));
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st), 60);
	frame(in, 60, 1);
	assert_memory_equal(out, in, 60);
	assert_int_equal(f.r.tail, 0);		/* descriptor 0 given back */
	assert_int_equal(f.r.d.rx[0].status, 0);
	memset(out, 0xAA, sizeof(out));
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, 10, &st), 1514);
	frame(in, 1514, 2);
	assert_memory_equal(out, in, 10);	/* truncated: 10 copied */
	assert_int_equal(out[10], 0xAA);
	assert_int_equal(f.r.tail, 1);
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st),
			 -CUB_EAGAIN);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_bytes, 60 + 1514);
	assert_int_equal(st.rx_dropped, 0);
	fake_ring_free(&f);
}

/* Every bad thing the card may write is dropped and counted once; the
 * good frame behind them still comes out of the same call. */
static void test_rx_bad(void **state)
{
	struct cub_arch_nic_stats st = zero;
	struct fake_ring f;
	uint8_t in[2048], out[2048];
	unsigned bad_len[] = { 0, 13, 1515, 2048, 65535 };

	(void)state;
	frame(in, sizeof(in), 3);
	assert_int_equal(fake_ring_init(&f, 16, true), 0);
	for (unsigned i = 0; i < 5; i++)
		assert_true(fake_rx(&f, in, bad_len[i], E1000_RXD_EOP, 0));
	assert_true(fake_rx(&f, in, 60, E1000_RXD_EOP, 0x01));	/* CRC */
	assert_true(fake_rx(&f, in, 60, E1000_RXD_EOP, 0x80));	/* RXE */
	assert_true(fake_rx(&f, in, 60, E1000_RXD_EOP, 0x04));	/* SEQ */
	assert_true(fake_rx(&f, in, 14, E1000_RXD_EOP, 0x60));	/* csum only */
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st), 14);
	assert_int_equal(st.rx_dropped, 8);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(f.r.tail, 8);
	/* One frame over three descriptors, then a good one. */
	assert_true(fake_rx(&f, in, 2048, 0, 0));
	assert_true(fake_rx(&f, in, 2048, 0, 0));
	assert_true(fake_rx(&f, in, 100, E1000_RXD_EOP, 0));
	assert_true(fake_rx(&f, in, 64, E1000_RXD_EOP, 0));
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st), 64);
	assert_int_equal(st.rx_dropped, 9);
	assert_false(f.r.skipping);
	/* A length written without DD is not looked at. */
	f.r.d.rx[f.r.next].len = 60;
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st),
			 -CUB_EAGAIN);
	/* A buffer address the card scribbled over when it wrote the
	 * descriptor back is put right on the way back. */
	assert_true(fake_rx(&f, in, 60, E1000_RXD_EOP, 0));
	f.r.d.rx[f.r.next].addr = 0xdead0000;
	assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st), 60);
	assert_int_equal(f.r.d.rx[f.r.tail].addr,
			 (uintptr_t)f.buf + f.r.tail * E1000_BUF);
	assert_int_equal(st.rx_frames, 3);
	assert_int_equal(st.rx_bytes, 14 + 64 + 60);
	fake_ring_free(&f);
}

/* Many times round: the card never gets more than n - 1 descriptors and
 * every frame comes out once, in order. */
static void test_rx_wrap(void **state)
{
	struct cub_arch_nic_stats st = zero;
	struct fake_ring f;
	uint8_t in[200], out[200];
	unsigned sent = 0, got = 0;

	(void)state;
	assert_int_equal(fake_ring_init(&f, 8, true), 0);
	while (got < 100) {
		unsigned k = 0;

		for (;; k++) {
			frame(in, 60 + sent % 100, sent);
			if (!fake_rx(&f, in, 60 + sent % 100, E1000_RXD_EOP, 0))
				break;
			sent++;
		}
		assert_true(k <= 7);
		while (got < sent) {
			assert_int_equal(cubi_e1000_rx_take(&f.r, out, sizeof(out), &st),
					 60 + got % 100);
			frame(in, 60 + got % 100, got);
			assert_memory_equal(out, in, 60 + got % 100);
			got++;
		}
	}
	assert_int_equal(st.rx_frames, got);
	fake_ring_free(&f);
}

static void test_tx(void **state)
{
	struct cub_arch_nic_stats st = zero;
	struct fake_ring f;
	uint8_t in[1514], out[8 * E1000_BUF];
	unsigned lens[8], q = 0, s = 0;

	(void)state;
	assert_int_equal(fake_ring_init(&f, 8, false), 0);
	for (; q < 7; q++) {
		frame(in, 14 + q, q);
		assert_int_equal(cubi_e1000_tx_put(&f.r, in, 14 + q, &st), 0);
		assert_int_equal(f.r.tail, q + 1);
		assert_int_equal(f.r.d.tx[q].cmd,
				 E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS);
		assert_int_equal(f.r.d.tx[q].len, 14 + q);
	}
	assert_int_equal(cubi_e1000_tx_put(&f.r, in, 60, &st), -CUB_EAGAIN);
	assert_int_equal(st.tx_full, 1);
	assert_int_equal(st.tx_frames, 7);
	/* DD on a descriptor not in flight means nothing. */
	f.r.d.tx[7].status = E1000_TXD_DD;
	assert_int_equal(fake_tx(&f, 3, out, lens), 3);
	for (; s < 3; s++) {
		frame(in, 14 + s, s);
		assert_int_equal(lens[s], 14 + s);
		assert_memory_equal(out + s * E1000_BUF, in, 14 + s);
	}
	cubi_e1000_tx_reclaim(&f.r);
	assert_int_equal(f.r.busy, 4);
	/* Round the ring several times, the card a little behind. */
	for (; q < 40; q++) {
		frame(in, 60, q);
		assert_int_equal(cubi_e1000_tx_put(&f.r, in, 60, &st), 0);
		if (q % 2)
			assert_int_equal(fake_tx(&f, 2, NULL, NULL), 2);
	}
	assert_true(f.r.busy <= 7);
	fake_tx(&f, 8, NULL, NULL);
	cubi_e1000_tx_reclaim(&f.r);
	assert_int_equal(f.r.busy, 0);
	assert_int_equal(st.tx_frames, 40);
	assert_int_equal(st.tx_bytes, (14 + 20) * 7 / 2 + 33 * 60);
	fake_ring_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_rx_order_copy_truncate),
		cmocka_unit_test(test_rx_bad),
		cmocka_unit_test(test_rx_wrap),
		cmocka_unit_test(test_tx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
