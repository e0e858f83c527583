/*
 * e1000_ring.h - the descriptor rings of the Intel 8254x ("e1000")
 * network cards in legacy descriptor format (82540EM SDM, 3.2 and 3.3),
 * kept apart from the registers so that the host can unit-test them
 * (tests/unit/x86/test_e1000_ring.c plays the device on plain memory).
 *
 * A ring is n descriptors (a power of two, 8..4096: the length register
 * wants a multiple of 128 bytes) and n buffers of E1000_BUF bytes, one
 * per descriptor, fixed for the ring's life. Head and tail are the
 * device's registers (RDH/RDT, TDH/TDT): the device owns the
 * descriptors from head up to tail - 1, so tail == head means "none",
 * and software keeps one descriptor back so that a full ring never looks
 * empty.
 *
 * Receive: every descriptor but one is the device's. next is the oldest
 * descriptor software has not taken; once the device has set its DD
 * bit, its frame is checked (EOP, error bits, 14..1514 bytes), copied
 * out or counted as dropped, and the descriptor goes back at once: the
 * new tail is next's old value.
 *
 * Transmit: tail is where the next frame goes, head the oldest one the
 * device has not reported done (DD, asked for with RS on every
 * descriptor), busy how many are in between (<= n - 1).
 *
 * Nothing the device writes is trusted: a status without DD is not
 * looked at, an error or a length outside the contract drops the frame,
 * a frame spread over several descriptors (no EOP: it cannot be, with
 * 2048-byte buffers and long packets off, unless the device is wrong)
 * is dropped whole.
 *
 * Locking: none here; the driver calls these with interrupts disabled
 * (e1000.h). Ordering: see e1000_ring.c.
 */
#ifndef CUBRT_X86_E1000_RING_H
#define CUBRT_X86_E1000_RING_H

#include <cubrt/arch.h>
#include <cubrt/base.h>

#define E1000_BUF 2048		/* RCTL.BSIZE 00: 2048-byte buffers */

/* Receive descriptor (legacy). */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t len;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

/* Transmit descriptor (legacy). */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t len;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "rx descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "tx descriptor");

#define E1000_RXD_DD 0x01	/* status: descriptor done */
#define E1000_RXD_EOP 0x02	/* status: end of packet */
/* errors: CRC/alignment, symbol, sequence, carrier extension, RX data */
#define E1000_RXE_FATAL 0x97
#define E1000_TXD_EOP 0x01	/* cmd: end of packet */
#define E1000_TXD_IFCS 0x02	/* cmd: insert FCS */
#define E1000_TXD_RS 0x08	/* cmd: report status */
#define E1000_TXD_DD 0x01	/* status: descriptor done */

struct cubi_e1000_ring {
	union {
		volatile struct e1000_rx_desc *rx;
		volatile struct e1000_tx_desc *tx;
	} d;
	uint8_t *buf;		/* n * E1000_BUF bytes, buffer i at i * E1000_BUF */
	uint64_t buf_pa;	/* their device address */
	unsigned n;
	unsigned next;		/* rx: oldest not taken; tx: head */
	unsigned tail;		/* the tail register's value */
	unsigned busy;		/* tx: frames handed to the device */
	bool skipping;		/* rx: inside a frame without EOP */
};

/* Sets up a ring over caller memory: desc holds n descriptors, buf
 * n * E1000_BUF bytes at device address buf_pa. -CUB_EINVAL for n not a
 * power of two in 8..4096 or NULL memory. Receive descriptors get their
 * buffers; tail says what the tail register starts at (n - 1 for
 * receive: all but one are the device's; 0 for transmit). */
int cubi_e1000_ring_init(struct cubi_e1000_ring *r, void *desc, uint8_t *buf,
			 uint64_t buf_pa, unsigned n, bool rx);

/*
 * Takes the oldest received frame: copies min(len, cap) bytes to out and
 * returns the frame's length; -CUB_EAGAIN when the device has finished
 * none. Frames the device marked bad, or whose length is outside
 * FRAME_MIN..FRAME_MAX, are dropped and counted (rx_dropped) on the way;
 * a frame taken counts in rx_frames and rx_bytes. r->tail is
 * the value to write to RDT when it changed.
 */
int cubi_e1000_rx_take(struct cubi_e1000_ring *r, void *out, size_t cap,
		       struct cub_arch_nic_stats *st);

/* True when the device has finished a receive descriptor that
 * cubi_e1000_rx_take has not taken (the interrupt handler's question). */
bool cubi_e1000_rx_pending(const struct cubi_e1000_ring *r);

/* Frees the transmit descriptors the device has reported done. */
void cubi_e1000_tx_reclaim(struct cubi_e1000_ring *r);

/* Copies frame (len checked by the caller) into the next transmit
 * descriptor: 0, r->tail the new TDT; -CUB_EAGAIN when n - 1 frames are
 * in flight (counted in st->tx_full). A frame queued counts in
 * tx_frames and tx_bytes. */
int cubi_e1000_tx_put(struct cubi_e1000_ring *r, const void *frame,
		      size_t len, struct cub_arch_nic_stats *st);

#endif
