/*
 * e1000_ring.c - the e1000 descriptor rings (layout, invariants and the
 * rules on trusting the device in e1000_ring.h). Portable C: no register
 * is touched here, so the host unit test builds this file as it is.
 *
 * Ordering: the device (QEMU on another host thread, or a bus master)
 * sees memory with x86's ordering: stores are not reordered with stores
 * nor loads with loads. A compiler barrier between filling a descriptor
 * and writing the tail register that hands it over (an uncached store,
 * done by the caller after these return), and between reading DD and
 * reading the fields DD covers, is enough.
 */
#include <cubrt/string.h>

#include "e1000_ring.h"

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

int cubi_e1000_ring_init(struct cubi_e1000_ring *r, void *desc, uint8_t *buf,
			 uint64_t buf_pa, unsigned n, bool rx)
{
	if (!r || !desc || !buf || n < 8 || n > 4096 || (n & (n - 1)))
		return -CUB_EINVAL;
	cub_memset(r, 0, sizeof(*r));
	cub_memset(desc, 0, (size_t)n * 16);
	r->d.rx = desc;
	r->buf = buf;
	r->buf_pa = buf_pa;
	r->n = n;
	for (unsigned i = 0; i < n; i++) {
		if (rx)
			r->d.rx[i].addr = buf_pa + (uint64_t)i * E1000_BUF;
		else
			r->d.tx[i].addr = buf_pa + (uint64_t)i * E1000_BUF;
	}
	r->tail = rx ? n - 1 : 0;
	return 0;
}

bool cubi_e1000_rx_pending(const struct cubi_e1000_ring *r)
{
	return r->d.rx[r->next].status & E1000_RXD_DD;
}

/* Gives descriptor next back to the device and moves on. */
static void rx_give_back(struct cubi_e1000_ring *r)
{
	volatile struct e1000_rx_desc *d = &r->d.rx[r->next];

	d->status = 0;
	d->errors = 0;
	d->len = 0;
	d->addr = r->buf_pa + (uint64_t)r->next * E1000_BUF;
	r->tail = r->next;
	r->next = (r->next + 1) & (r->n - 1);
}

/* Judges the finished descriptor at next: its length when it is a good
 * frame, -1 when it is to be dropped (counted once per frame). */
static int rx_judge(struct cubi_e1000_ring *r, struct cub_arch_nic_stats *st)
{
	volatile struct e1000_rx_desc *d = &r->d.rx[r->next];
	uint8_t status = d->status, errors = d->errors;
	unsigned len = d->len;
	bool was_skipping = r->skipping;

	r->skipping = !(status & E1000_RXD_EOP);
	if (r->skipping) {
		if (!was_skipping)
			st->rx_dropped++;	/* the first piece counts */
		return -1;
	}
	if (was_skipping)
		return -1;			/* the last piece, counted */
	if ((errors & E1000_RXE_FATAL) || len < CUB_ARCH_NIC_FRAME_MIN ||
	    len > CUB_ARCH_NIC_FRAME_MAX) {
		st->rx_dropped++;
		return -1;
	}
	return (int)len;
}

int cubi_e1000_rx_take(struct cubi_e1000_ring *r, void *out, size_t cap,
		       struct cub_arch_nic_stats *st)
{
	while (cubi_e1000_rx_pending(r)) {
		int len;

		barrier();	/* DD read before what it covers */
		len = rx_judge(r, st);
		if (len >= 0) {
			cub_memcpy(out, r->buf + (size_t)r->next * E1000_BUF,
				   CUB_MIN((size_t)len, cap));
			st->rx_frames++;
			st->rx_bytes += (unsigned)len;
		}
		barrier();	/* copied before the buffer is the device's */
		rx_give_back(r);
		if (len >= 0)
			return len;
	}
	return -CUB_EAGAIN;
}

void cubi_e1000_tx_reclaim(struct cubi_e1000_ring *r)
{
	while (r->busy > 0 && (r->d.tx[r->next].status & E1000_TXD_DD)) {
		r->next = (r->next + 1) & (r->n - 1);
		r->busy--;
	}
}

int cubi_e1000_tx_put(struct cubi_e1000_ring *r, const void *frame,
		      size_t len, struct cub_arch_nic_stats *st)
{
	volatile struct e1000_tx_desc *d;

	cubi_e1000_tx_reclaim(r);
	if (r->busy >= r->n - 1) {
		st->tx_full++;
		return -CUB_EAGAIN;
	}
	d = &r->d.tx[r->tail];
	cub_memcpy(r->buf + (size_t)r->tail * E1000_BUF, frame, len);
	d->addr = r->buf_pa + (uint64_t)r->tail * E1000_BUF;
	d->len = (uint16_t)len;
	d->cso = 0;
	d->css = 0;
	d->special = 0;
	d->status = 0;
	d->cmd = E1000_TXD_EOP | E1000_TXD_IFCS | E1000_TXD_RS;
	barrier();	/* the descriptor before the TDT write that publishes it */
	r->tail = (r->tail + 1) & (r->n - 1);
	r->busy++;
	st->tx_frames++;
	st->tx_bytes += len;
	return 0;
}
