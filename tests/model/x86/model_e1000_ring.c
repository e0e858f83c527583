/*
 * model_e1000_ring.c - randomized test of the e1000 descriptor rings
 * (platform/x86/e1000_ring.c) against a card played on host memory
 * (tests/unit/x86/fake_e1000.h), ring sizes 8..256 at random.
 *
 * Receive: the card writes frames whenever it owns a descriptor: good
 * ones, and bad ones (error bits, lengths outside 14..1514, frames over
 * several descriptors) mixed in; the driver takes them into buffers of
 * random size. Every good frame must come out once, in order, intact
 * (up to the buffer), and every bad one be counted in rx_dropped once;
 * the card never owns more than n - 1 descriptors.
 * Transmit: the driver queues frames of random length while the card
 * sends some at random moments; every accepted frame is sent once, in
 * order, intact; -CUB_EAGAIN comes exactly when n - 1 are in flight.
 *
 * usage: model_e1000_ring [SEED [OPS]] (or $CUBRT_SEED, $CUBRT_OPS)
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../model_args.h"
#include "fake_e1000.h"

static uint64_t rng;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

#define CHECK(c)                                                          \
	do {                                                              \
		if (!(c)) {                                               \
			fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #c); \
			exit(1);                                          \
		}                                                         \
	} while (0)

static void fill(uint8_t *f, unsigned len, unsigned seq)
{
	for (unsigned i = 0; i < len; i++)
		f[i] = (uint8_t)(seq * 131 + i * 7);
}

struct rx_model {
	struct fake_ring f;
	struct cub_arch_nic_stats st;
	unsigned good_in, good_out, bad_in;
	unsigned pieces;	/* descriptors left of a multi-descriptor frame */
};

/* The card receives one frame, or one piece of a long one. */
static void card_rx(struct rx_model *m)
{
	uint8_t f[2048];
	unsigned len = 14 + rnd(1501), kind = rnd(10);
	uint8_t err = (uint8_t)(1u << rnd(8)) & E1000_RXE_FATAL;

	if (m->pieces) {
		memset(f, 0x55, sizeof(f));
		if (fake_rx(&m->f, f, 2048, --m->pieces ? 0 : E1000_RXD_EOP, 0))
			return;
		m->pieces++;
		return;
	}
	fill(f, len, m->good_in);
	if (kind < 7) {
		if (fake_rx(&m->f, f, len, E1000_RXD_EOP, 0))
			m->good_in++;
	} else if (kind == 7) {
		if (fake_rx(&m->f, f, len, E1000_RXD_EOP, err ? err : 1))
			m->bad_in++;
	} else if (kind == 8) {
		unsigned bad = rnd(2) ? rnd(14) : 1515 + rnd(64000);

		if (fake_rx(&m->f, f, bad, E1000_RXD_EOP, 0))
			m->bad_in++;
	} else if (fake_rx(&m->f, f, 2048, 0, 0)) {
		m->bad_in++;
		m->pieces = 1 + rnd(2);
	}
}

static void driver_rx(struct rx_model *m)
{
	uint8_t out[2048], want[2048];
	size_t cap = rnd(4) ? sizeof(out) : rnd(100);
	int n = cubi_e1000_rx_take(&m->f.r, out, cap, &m->st);

	if (n == -CUB_EAGAIN) {
		CHECK(!cubi_e1000_rx_pending(&m->f.r));
		return;
	}
	CHECK(n >= 14 && n <= 1514 && m->good_out < m->good_in);
	fill(want, (unsigned)n, m->good_out);
	CHECK(!memcmp(out, want, (size_t)n < cap ? (size_t)n : cap));
	m->good_out++;
}

static void run_rx(unsigned n, unsigned ops)
{
	struct rx_model m = { 0 };

	CHECK(fake_ring_init(&m.f, n, true) == 0);
	for (unsigned i = 0; i < ops; i++) {
		if (rnd(2))
			card_rx(&m);
		else
			driver_rx(&m);
		CHECK(fake_owned(&m.f) <= n - 1);
	}
	while (m.good_out < m.good_in)
		driver_rx(&m);
	CHECK(cubi_e1000_rx_take(&m.f.r, m.f.buf, 0, &m.st) == -CUB_EAGAIN);
	CHECK(m.st.rx_frames == m.good_in);
	/* A long frame cut off by the end of the run is counted already. */
	CHECK(m.st.rx_dropped == m.bad_in);
	fake_ring_free(&m.f);
}

static void run_tx(unsigned n, unsigned ops)
{
	struct fake_ring f;
	struct cub_arch_nic_stats st = { 0 };
	uint8_t in[1514], *out = malloc((size_t)n * E1000_BUF);
	unsigned lens[4096], put = 0, sent = 0;

	CHECK(fake_ring_init(&f, n, false) == 0);
	for (unsigned i = 0; i < ops; i++) {
		if (rnd(3)) {
			unsigned len = 14 + rnd(1501);
			int rc;

			fill(in, len, put);
			cubi_e1000_tx_reclaim(&f.r);
			rc = cubi_e1000_tx_put(&f.r, in, len, &st);
			CHECK(rc == 0 || (rc == -CUB_EAGAIN && f.r.busy == n - 1));
			put += rc == 0;
		} else {
			unsigned k = fake_tx(&f, 1 + rnd(n), out, lens);

			for (unsigned j = 0; j < k; j++, sent++) {
				fill(in, lens[j], sent);
				CHECK(!memcmp(out + (size_t)j * E1000_BUF, in, lens[j]));
			}
		}
		CHECK(f.r.busy <= n - 1 && sent <= put);
	}
	CHECK(st.tx_frames == put);
	fake_ring_free(&f);
	free(out);
}

int main(int argc, char **argv)
{
	uint64_t seed = model_arg(argc, argv, 1, "CUBRT_SEED", (uint64_t)time(NULL));
	unsigned ops = (unsigned)model_arg(argc, argv, 2, "CUBRT_OPS", 200000);

	if (!seed)
		seed = 1;	/* xorshift needs a nonzero state */
	printf("model_e1000_ring: seed %llu, %u ops per run\n",
	       (unsigned long long)seed, ops);
	rng = seed;
	for (unsigned run = 0; run < 8; run++) {
		unsigned n = 8u << rnd(6);	/* 8..256 */

		run_rx(n, ops);
		run_tx(n, ops);
	}
	printf("model_e1000_ring: 8 runs of receive and transmit: ok\n");
	return 0;
}
