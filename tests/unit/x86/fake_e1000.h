/*
 * fake_e1000.h - plays an e1000 card's side of the descriptor rings of
 * platform/x86/e1000_ring.c on plain host memory, for the unit and model
 * tests: the card writes a received frame into the descriptor at its
 * head (RDH) while head != RDT, and finishes transmit descriptors from
 * TDH up to TDT. Frames and buffers are real memory ("device addresses"
 * are host addresses).
 */
#ifndef FAKE_E1000_H
#define FAKE_E1000_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../../platform/x86/e1000_ring.h"

struct fake_ring {
	struct cubi_e1000_ring r;
	void *desc;
	uint8_t *buf;
	unsigned head;		/* the card's RDH or TDH */
};

/* A ring of n descriptors with its memory; 0 or ring_init's error. */
static inline int fake_ring_init(struct fake_ring *f, unsigned n, bool rx)
{
	size_t cnt = n >= 8 && n <= 4096 ? n : 8;

	f->desc = aligned_alloc(128, (cnt * 16 + 127) & ~(size_t)127);
	f->buf = malloc(cnt * E1000_BUF);
	f->head = 0;
	return cubi_e1000_ring_init(&f->r, f->desc, f->buf,
				    (uint64_t)(uintptr_t)f->buf, n, rx);
}

static inline void fake_ring_free(struct fake_ring *f)
{
	free(f->desc);
	free(f->buf);
}

/* Descriptors the card may fill (rx) or send (tx): head up to tail. */
static inline unsigned fake_owned(const struct fake_ring *f)
{
	return (f->r.tail - f->head) & (f->r.n - 1);
}

/*
 * The card receives: writes len bytes of data (any length the test
 * wants, trusted by nobody) with status and errors into the descriptor
 * at head and moves head on. False when the ring is full for the card.
 */
static inline bool fake_rx(struct fake_ring *f, const void *data, unsigned len,
			   uint8_t status, uint8_t errors)
{
	volatile struct e1000_rx_desc *d = &f->r.d.rx[f->head];

	if (fake_owned(f) == 0)
		return false;
	memcpy((void *)(uintptr_t)d->addr, data, len > E1000_BUF ? E1000_BUF : len);
	d->len = (uint16_t)len;
	d->errors = errors;
	d->status = status | E1000_RXD_DD;
	f->head = (f->head + 1) & (f->r.n - 1);
	return true;
}

/* The card sends up to max frames: each one's bytes go to out (when
 * not NULL, lens[i] its length), DD written back. Returns how many. */
static inline unsigned fake_tx(struct fake_ring *f, unsigned max, uint8_t *out,
			       unsigned *lens)
{
	unsigned done = 0;

	while (done < max && fake_owned(f) > 0) {
		volatile struct e1000_tx_desc *d = &f->r.d.tx[f->head];

		if (out) {
			memcpy(out + (size_t)done * E1000_BUF,
			       (void *)(uintptr_t)d->addr, d->len);
			lens[done] = d->len;
		}
		d->status |= E1000_TXD_DD;
		f->head = (f->head + 1) & (f->r.n - 1);
		done++;
	}
	return done;
}

#endif
