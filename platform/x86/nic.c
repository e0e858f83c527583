/*
 * nic.c - arch.h's network calls over every card the drivers started:
 * the argument checks the contract lists, then the card's driver
 * operation inside one interrupts-disabled section (nic.h).
 *
 * Linking: this file is pulled from libcubrt.a only by an image that
 * calls arch.h's network functions (src/net does); it names both drivers'
 * probes, so such an image carries the drivers and scans PCI at boot, and
 * any other carries neither (boot.c and machine.c refer to this file
 * weakly).
 *
 * Invariants and locking: see nic.h. nics[] is written at boot only.
 */
#include <cubrt/arch.h>

#include "nic.h"

struct nic {
	const struct cubi_nic_ops *ops;
	void *dev;
};

static struct nic nics[CUBI_NIC_MAX];
static unsigned n_nics;

int cubi_nic_add(const struct cubi_nic_ops *ops, void *dev)
{
	if (n_nics == CUBI_NIC_MAX)
		return -CUB_EBUSY;
	nics[n_nics].ops = ops;
	nics[n_nics].dev = dev;
	return (int)n_nics++;
}

unsigned cubi_nic_count(void)
{
	return n_nics;
}

void cubi_x86_nic_init(void)
{
	cubi_x86_virtio_net_init();
	cubi_x86_e1000_init();
}

void cubi_x86_nic_drain(uint64_t timeout_ns)
{
	uint64_t end = cub_arch_clock_ns() + timeout_ns;

	for (unsigned i = 0; i < n_nics; i++)
		while (!nics[i].ops->tx_done(nics[i].dev) &&
		       cub_arch_clock_ns() < end)
			__asm__ volatile("pause");
}

static const struct nic *nic(unsigned i)
{
	return i < n_nics ? &nics[i] : NULL;
}

int cub_arch_nic_info(unsigned i, struct cub_arch_nic_info *info)
{
	const struct nic *n = nic(i);
	unsigned long irq;

	if (!n)
		return -CUB_ENODEV;
	if (!info)
		return -CUB_EINVAL;
	info->mtu = 1500;
	info->model = n->ops->model;
	irq = cub_arch_irq_save();
	n->ops->info(n->dev, info);
	cub_arch_irq_restore(irq);
	return 0;
}

int cub_arch_nic_stats(unsigned i, struct cub_arch_nic_stats *st)
{
	const struct nic *n = nic(i);
	unsigned long irq;

	if (!n)
		return -CUB_ENODEV;
	if (!st)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	n->ops->stats(n->dev, st);
	cub_arch_irq_restore(irq);
	return 0;
}

int cub_arch_nic_send(unsigned i, const void *frame, size_t len)
{
	const struct nic *n = nic(i);
	unsigned long irq;
	int rc;

	if (!n)
		return -CUB_ENODEV;
	if (!frame || len < CUB_ARCH_NIC_FRAME_MIN || len > CUB_ARCH_NIC_FRAME_MAX)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	rc = n->ops->send(n->dev, frame, len);
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_nic_recv(unsigned i, void *buf, size_t cap)
{
	const struct nic *n = nic(i);
	unsigned long irq;
	int rc;

	if (!n)
		return -CUB_ENODEV;
	if (!buf)
		return -CUB_EINVAL;
	irq = cub_arch_irq_save();
	rc = n->ops->recv(n->dev, buf, cap);
	cub_arch_irq_restore(irq);
	return rc;
}

int cub_arch_nic_set_notify(unsigned i, void (*fn)(void *arg), void *arg)
{
	const struct nic *n = nic(i);
	unsigned long irq;

	if (!n)
		return -CUB_ENODEV;
	irq = cub_arch_irq_save();
	n->ops->set_notify(n->dev, fn, arg);
	cub_arch_irq_restore(irq);
	return 0;
}
