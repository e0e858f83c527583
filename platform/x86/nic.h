/*
 * nic.h - the table of network cards behind arch.h's NIC calls (nic.c),
 * shared by the drivers that fill it (virtio_net.c, e1000.c).
 *
 * A driver that has started a card adds it with cubi_nic_add(); the card
 * gets the next NIC index. nic.c checks the arguments every arch.h call
 * documents (index, NULL pointers, frame length) and calls the driver's
 * operation with interrupts disabled (cub_arch_irq_save): that one
 * critical section is each driver's lock against its interrupt handler.
 *
 * Probe order (cubi_x86_nic_init): every virtio-net card in PCI scan
 * order, then every e1000 card in PCI scan order; so NIC 0 is the first
 * virtio-net card when there is one.
 *
 * Invariants: entries 0..count-1 are running cards and never change
 * again; entries are added at boot only, before interrupts are enabled.
 */
#ifndef CUBRT_X86_NIC_H
#define CUBRT_X86_NIC_H

#include <cubrt/arch.h>

#define CUBI_NIC_MAX 8		/* 4 virtio-net + 4 e1000 */

/* A driver's operations; dev is what it gave cubi_nic_add. Each is
 * called with interrupts disabled, its arguments checked already (frame
 * and buf not NULL, len within FRAME_MIN..FRAME_MAX). */
struct cubi_nic_ops {
	const char *model;		/* cub_arch_nic_info's model */
	void (*info)(void *dev, struct cub_arch_nic_info *info); /* mac, link */
	void (*stats)(void *dev, struct cub_arch_nic_stats *st);
	int (*send)(void *dev, const void *frame, size_t len);
	int (*recv)(void *dev, void *buf, size_t cap);
	void (*set_notify)(void *dev, void (*fn)(void *arg), void *arg);
	/* Reclaims finished transmissions; true when none is in flight. */
	bool (*tx_done)(void *dev);
};

/* Adds a started card: its NIC index, or -CUB_EBUSY when the table is
 * full. Contexts: boot. */
int cubi_nic_add(const struct cubi_nic_ops *ops, void *dev);

/* Number of NICs so far. Contexts: any. */
unsigned cubi_nic_count(void);

/* Probes the drivers in the order above. Contexts: boot, after
 * cubi_x86_irq_init, interrupts disabled. boot.c calls it weakly. */
void cubi_x86_nic_init(void);

/* Polls, interrupts off, until every NIC's device has taken the frames
 * handed to it or timeout_ns passed: cub_arch_exit calls it (weakly), so
 * the last frames a program sent are on the wire before the machine
 * stops. Contexts: any, interrupts off. */
void cubi_x86_nic_drain(uint64_t timeout_ns);

/* The drivers' probes (virtio_net.c, e1000.c). Contexts: as
 * cubi_x86_nic_init. */
void cubi_x86_virtio_net_init(void);
void cubi_x86_e1000_init(void);

#endif
