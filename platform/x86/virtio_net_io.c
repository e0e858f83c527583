/*
 * virtio_net_io.c - the network calls of arch.h on the virtio-net NICs
 * virtio_net.c started, and their interrupt handler.
 *
 * Every touch of a NIC's mutable state happens with interrupts disabled
 * (the rule in virtio_net.h): the handler runs so, and each call here is
 * one cub_arch_irq_save section, copies included (at most 1514 bytes).
 *
 * Nothing the device writes is trusted: a used entry must name a slot
 * that is posted (virtq.c), a received length must hold a header and
 * 14..1514 bytes of frame; anything else is counted in rx_dropped (for
 * the receive queue; ignored for the transmit queue) and the slot, when
 * known, goes back to the device.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "virtio_net.h"
#include "x86.h"

static struct vnet *nic(unsigned i)
{
	return i < cubi_vnet_count ? &cubi_vnets[i] : NULL;
}

/* Contexts: irq. MSI-X is edge triggered and needs no device ack; the
 * ISR register is only for INTx. */
void cubi_vnet_irq(void *ctx)
{
	struct vnet *n = ctx;

	n->st.interrupts++;
	if (n->notify && cubi_virtq_pending(&n->rx))
		n->notify(n->notify_arg);
}

int cub_arch_nic_info(unsigned i, struct cub_arch_nic_info *info)
{
	struct vnet *n = nic(i);

	if (!n)
		return -CUB_ENODEV;
	if (!info)
		return -CUB_EINVAL;
	cub_memcpy(info->mac, n->mac, sizeof(info->mac));
	info->mtu = 1500;
	info->link_up = !n->has_status ||
			(inw(n->io + n->cfg + VNET_CFG_STATUS) & VNET_S_LINK_UP);
	info->model = "virtio-net";
	return 0;
}

int cub_arch_nic_stats(unsigned i, struct cub_arch_nic_stats *st)
{
	struct vnet *n = nic(i);
	unsigned long irq;

	if (!n)
		return -CUB_ENODEV;
	if (!st)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	*st = n->st;
	cub_arch_irq_restore(irq);
	return 0;
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

void cubi_x86_virtio_net_drain(uint64_t timeout_ns)
{
	uint64_t end = cub_arch_clock_ns() + timeout_ns;

	for (unsigned i = 0; i < cubi_vnet_count; i++) {
		struct vnet *n = &cubi_vnets[i];

		for (tx_reclaim(n); n->tx_nfree < n->tx.nslots && cub_arch_clock_ns() < end;
		     tx_reclaim(n))
			__asm__ volatile("pause");
	}
}

int cub_arch_nic_send(unsigned i, const void *frame, size_t len)
{
	struct vnet *n = nic(i);
	unsigned long irq;
	unsigned slot;

	if (!n)
		return -CUB_ENODEV;
	if (!frame || len < CUB_ARCH_NIC_FRAME_MIN || len > CUB_ARCH_NIC_FRAME_MAX)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	tx_reclaim(n);
	if (n->tx_nfree == 0) {
		n->st.tx_full++;
		cub_arch_irq_restore(irq);
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
	cub_arch_irq_restore(irq);
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

int cub_arch_nic_recv(unsigned i, void *buf, size_t cap)
{
	struct vnet *n = nic(i);
	unsigned long irq;
	uint16_t before;
	int rc;

	if (!n)
		return -CUB_ENODEV;
	if (!buf)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	before = n->rx.avail_idx;
	rc = rx_take(n, buf, cap);
	if (n->rx.avail_idx != before && cubi_virtq_kick_wanted(&n->rx))
		outw(n->io + VIO_QUEUE_NOTIFY, VNET_RX);
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_nic_set_notify(unsigned i, void (*fn)(void *arg), void *arg)
{
	struct vnet *n = nic(i);
	unsigned long irq;

	if (!n)
		return -CUB_ENODEV;
	irq = cub_arch_irq_save();
	n->notify = fn;
	n->notify_arg = arg;
	cub_arch_irq_restore(irq);
	return 0;
}
