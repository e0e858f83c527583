/*
 * virtio_net_io.c - the NIC operations (nic.h) of the virtio-net cards
 * virtio_net.c started, and their interrupt handler.
 *
 * Every touch of a NIC's mutable state happens with interrupts disabled
 * (the rule in virtio_net.h): the handler runs so, and nic.c calls each
 * operation here inside one cub_arch_irq_save section, copies included
 * (at most 1514 bytes); nic.c has checked the arguments.
 *
 * Nothing the device writes is trusted: a used entry must name a slot
 * that is posted (virtq.c), a received length must hold a header and
 * 14..1514 bytes of frame; anything else is counted in rx_dropped (for
 * the receive queue; ignored for the transmit queue) and the slot, when
 * known, goes back to the device.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "nic.h"
#include "virtio_net.h"
#include "x86.h"

/* Contexts: irq. MSI-X is edge triggered and needs no device ack; the
 * ISR register is only for INTx. */
void cubi_vnet_irq(void *ctx)
{
	struct vnet *n = ctx;

	n->st.interrupts++;
	if (n->notify && cubi_virtq_pending(&n->rx))
		n->notify(n->notify_arg);
}

static void vnet_info(void *dev, struct cub_arch_nic_info *info)
{
	struct vnet *n = dev;

	cub_memcpy(info->mac, n->mac, sizeof(info->mac));
	info->link_up = !n->has_status ||
			(inw(n->io + n->cfg + VNET_CFG_STATUS) & VNET_S_LINK_UP);
}

static void vnet_stats(void *dev, struct cub_arch_nic_stats *st)
{
	*st = ((struct vnet *)dev)->st;
}

/* Moves every transmit slot the device has finished with to the free
 * list. Precondition: interrupts disabled. */
static void tx_reclaim(struct vnet *n)
{
	unsigned slot;
	uint32_t len;
	int r;

	while ((r = cubi_virtq_take(&n->tx, &slot, &len)) != VIRTQ_EMPTY)
		if (r == VIRTQ_TAKEN)
			n->tx_free[n->tx_nfree++] = (uint16_t)slot;
}

static bool vnet_tx_done(void *dev)
{
	struct vnet *n = dev;

	tx_reclaim(n);
	return n->tx_nfree == n->tx.nslots;
}

static int vnet_send(void *dev, const void *frame, size_t len)
{
	struct vnet *n = dev;
	unsigned slot;

	tx_reclaim(n);
	if (n->tx_nfree == 0) {
		n->st.tx_full++;
		return -CUB_EAGAIN;
	}
	slot = n->tx_free[--n->tx_nfree];
	cub_memset(cubi_virtq_hdr(&n->tx, slot), 0, VIRTQ_HDR_LEN);
	cub_memcpy(cubi_virtq_data(&n->tx, slot), frame, len);
	cubi_virtq_post(&n->tx, slot, (uint32_t)len);
	if (cubi_virtq_kick_wanted(&n->tx))
		outw(n->io + VIO_QUEUE_NOTIFY, VNET_TX);
	n->st.tx_frames++;
	n->st.tx_bytes += len;
	return 0;
}

/*
 * Takes one used receive buffer: its frame length (>= 0) after copying
 * min(len, cap) bytes, -CUB_EAGAIN when none is left. Malformed entries
 * are counted and skipped. Precondition: interrupts disabled.
 */
static int rx_take(struct vnet *n, void *buf, size_t cap)
{
	unsigned slot;
	uint32_t len;
	int r;

	while ((r = cubi_virtq_take(&n->rx, &slot, &len)) != VIRTQ_EMPTY) {
		size_t flen;

		if (r == VIRTQ_BAD) {
			n->st.rx_dropped++;
			continue;
		}
		if (len < VIRTQ_HDR_LEN + CUB_ARCH_NIC_FRAME_MIN ||
		    len > VIRTQ_HDR_LEN + CUB_ARCH_NIC_FRAME_MAX) {
			n->st.rx_dropped++;
			cubi_virtq_post(&n->rx, slot, VIRTQ_DATA_MAX);
			continue;
		}
		flen = len - VIRTQ_HDR_LEN;
		cub_memcpy(buf, cubi_virtq_data(&n->rx, slot), CUB_MIN(flen, cap));
		cubi_virtq_post(&n->rx, slot, VIRTQ_DATA_MAX);
		n->st.rx_frames++;
		n->st.rx_bytes += flen;
		return (int)flen;
	}
	return -CUB_EAGAIN;
}

static int vnet_recv(void *dev, void *buf, size_t cap)
{
	struct vnet *n = dev;
	uint16_t before = n->rx.avail_idx;
	int rc = rx_take(n, buf, cap);

	if (n->rx.avail_idx != before && cubi_virtq_kick_wanted(&n->rx))
		outw(n->io + VIO_QUEUE_NOTIFY, VNET_RX);
	return rc;
}

static void vnet_set_notify(void *dev, void (*fn)(void *arg), void *arg)
{
	struct vnet *n = dev;

	n->notify = fn;
	n->notify_arg = arg;
}

const struct cubi_nic_ops cubi_vnet_ops = {
	.model = "virtio-net",
	.info = vnet_info,
	.stats = vnet_stats,
	.send = vnet_send,
	.recv = vnet_recv,
	.set_notify = vnet_set_notify,
	.tx_done = vnet_tx_done,
};
