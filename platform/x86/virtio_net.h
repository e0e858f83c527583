/*
 * virtio_net.h - private state of the virtio-net driver, shared by
 * virtio_net.c (probe and setup at boot) and virtio_net_io.c (the
 * arch.h network calls and the interrupt handler).
 *
 * Locking rule: everything a NIC's rings, slots, free list, notify
 * function and counters hold is read and written only with interrupts
 * disabled (cub_arch_irq_save). On this one CPU that makes the interrupt
 * handler, a task-context recv/send, an irq-context send and a coroutine
 * preempted in the middle of one mutually exclusive. The fields above
 * `ready` are written at boot before the NIC is counted in n_nics and
 * are read-only afterwards.
 */
#ifndef CUBRT_X86_VIRTIO_NET_H
#define CUBRT_X86_VIRTIO_NET_H

#include <cubrt/arch.h>

#include "nic.h"
#include "pci.h"
#include "virtq.h"

#define VNET_MAX 4

/* Legacy virtio-pci registers, offsets into I/O BAR 0. */
#define VIO_DEVICE_FEATURES 0x00	/* 32 */
#define VIO_GUEST_FEATURES 0x04		/* 32 */
#define VIO_QUEUE_PFN 0x08		/* 32: ring address >> 12 */
#define VIO_QUEUE_SIZE 0x0C		/* 16, read-only */
#define VIO_QUEUE_SEL 0x0E		/* 16 */
#define VIO_QUEUE_NOTIFY 0x10		/* 16 */
#define VIO_STATUS 0x12			/* 8 */
#define VIO_ISR 0x13			/* 8, read clears */
#define VIO_MSIX_CONFIG 0x14		/* 16, only with MSI-X enabled */
#define VIO_MSIX_QUEUE 0x16		/* 16, only with MSI-X enabled */
#define VIO_CONFIG_MSIX 0x18		/* device config with MSI-X on */
#define VIO_CONFIG_PLAIN 0x14		/* ... and without */
#define VIO_NO_VECTOR 0xFFFF

/* virtio-net device config: mac[6] at 0, status (16) at 6. */
#define VNET_CFG_STATUS 6
#define VNET_S_LINK_UP 1

#define VNET_RX 0			/* queue numbers */
#define VNET_TX 1

struct vnet {
	struct cubi_pci_dev pci;
	uint16_t io;			/* I/O BAR 0 */
	uint16_t cfg;			/* device config offset */
	uint8_t mac[6];
	bool has_status;		/* VIRTIO_NET_F_STATUS negotiated */
	unsigned vector;		/* MSI-X vector */
	char name[16];			/* "virtio-net0" */
	bool ready;
	/* Mutable: interrupts disabled (see the top). */
	struct cubi_virtq rx, tx;
	uint16_t tx_free[VIRTQ_SLOTS_MAX];	/* slots not posted */
	unsigned tx_nfree;
	void (*notify)(void *arg);
	void *notify_arg;
	struct cub_arch_nic_stats st;
};

extern struct vnet cubi_vnets[VNET_MAX];
extern unsigned cubi_vnet_count;	/* cubi_vnets[0..count) are ready */

/* The interrupt handler (virtio_net_io.c). Contexts: irq. */
void cubi_vnet_irq(void *ctx);

/* The NIC operations nic.c calls (virtio_net_io.c). virtio_net.c's
 * cubi_x86_virtio_net_init (declared in nic.h) finds and starts every
 * device and adds each to nic.c's table with these. */
extern const struct cubi_nic_ops cubi_vnet_ops;

#endif
