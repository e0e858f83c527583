/*
 * e1000.h - private state of the e1000 driver (Intel 8254x: QEMU's
 * `-device e1000`, the 82540EM), shared by e1000.c (probe and setup at
 * boot) and e1000_io.c (the NIC operations of nic.h and the interrupt
 * handler). Register offsets and bits are the 82540EM SDM's.
 *
 * Locking rule: everything a card's rings, notify function and counters
 * hold is read and written only with interrupts disabled: the handler
 * runs so and nic.c calls the operations so. The fields above `ready`
 * are written at boot before the card is added to nic.c's table and are
 * read-only afterwards.
 */
#ifndef CUBRT_X86_E1000_H
#define CUBRT_X86_E1000_H

#include <cubrt/arch.h>

#include "e1000_ring.h"
#include "nic.h"
#include "pci.h"

#define E1000_MAX 4
/* Descriptors per ring. QEMU drops a frame that finds no free receive
 * descriptor (it queues only while the ring looks full before the
 * frame comes), so the receive ring is the larger one. */
#define E1000_RX_N 256
#define E1000_TX_N 64

/* Registers: byte offsets into memory BAR 0. */
#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_ICR 0x00C0	/* read clears */
#define E1000_ICS 0x00C8	/* write sets causes (tests) */
#define E1000_IMS 0x00D0
#define E1000_IMC 0x00D8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_RDTR 0x2820
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_MPC 0x4010	/* missed packets (see e1000_io.c) */
#define E1000_MTA 0x5200	/* 128 words */
#define E1000_RAL0 0x5400
#define E1000_RAH0 0x5404
#define E1000_BAR_MIN 0x20000	/* 128 KiB of registers */

#define E1000_CTRL_SLU (1u << 6)	/* set link up */
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_LRST (1u << 3)
#define E1000_CTRL_ILOS (1u << 7)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_PHY_RST (1u << 31)
#define E1000_STATUS_LU (1u << 1)
#define E1000_EERD_START 1u
#define E1000_EERD_DONE (1u << 4)
#define E1000_RAH_AV (1u << 31)

/* Interrupt causes (ICR, ICS, IMS, IMC). */
#define E1000_I_TXDW (1u << 0)
#define E1000_I_LSC (1u << 2)
#define E1000_I_RXSEQ (1u << 3)
#define E1000_I_RXDMT0 (1u << 4)
#define E1000_I_RXO (1u << 6)
#define E1000_I_RXT0 (1u << 7)
#define E1000_I_WANTED (E1000_I_RXT0 | E1000_I_RXO | E1000_I_RXDMT0 | \
			E1000_I_RXSEQ | E1000_I_LSC)

#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_MPE (1u << 4)	/* all multicast */
#define E1000_RCTL_BAM (1u << 15)	/* broadcast */
#define E1000_RCTL_SECRC (1u << 26)	/* strip the FCS */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)	/* pad short packets */
#define E1000_TCTL_CT (0x0Fu << 4)	/* collision threshold */
#define E1000_TCTL_COLD (0x40u << 12)	/* full-duplex collision distance */
#define E1000_TIPG_COPPER (10u | 8u << 10 | 6u << 20)

struct e1000 {
	struct cubi_pci_dev pci;
	volatile uint32_t *regs;	/* BAR 0, mapped uncached */
	uint8_t mac[6];
	unsigned line;			/* cubrt irq line (the INTx's ISA irq) */
	uintptr_t mem;			/* rings and buffers: one frame run */
	size_t mem_pages;
	char name[16];			/* "e1000-0" */
	bool owns_line;			/* registered the line's handler */
	bool ready;
	/* Mutable: interrupts disabled (see the top). */
	struct cubi_e1000_ring rx, tx;
	void (*notify)(void *arg);
	void *notify_arg;
	struct cub_arch_nic_stats st;
	uint64_t idle_irqs;		/* interrupts with no cause pending */
	uint32_t mpc_seen;		/* MPC when last counted */
};

extern struct e1000 cubi_e1000s[E1000_MAX];
extern unsigned cubi_e1000_count;	/* cubi_e1000s[0..count) are ready */
extern const struct cubi_nic_ops cubi_e1000_ops;

static inline uint32_t e1000_rd(const struct e1000 *e, unsigned reg)
{
	return e->regs[reg / 4];
}

static inline void e1000_wr(const struct e1000 *e, unsigned reg, uint32_t v)
{
	e->regs[reg / 4] = v;
}

/* The handler of an INTx line that e1000 cards raise; it asks every
 * ready card on that line (ctx: the line number), so cards may share
 * one (e1000_io.c). Contexts: irq. */
void cubi_e1000_irq(void *ctx);

#endif
