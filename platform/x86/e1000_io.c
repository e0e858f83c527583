/*
 * e1000_io.c - the NIC operations (nic.h) of the e1000 cards e1000.c
 * started, and the handler of their INTx lines.
 *
 * Every touch of a card's mutable state happens with interrupts disabled
 * (the rule in e1000.h): the handler runs so, and nic.c calls each
 * operation here inside one cub_arch_irq_save section, copies included;
 * nic.c has checked the arguments. The ring logic, and the checks of
 * everything the card writes into a descriptor, are in e1000_ring.c.
 *
 * Interrupts: reading ICR acknowledges the card (it drops its level-
 * triggered INTx), so the handler reads it before the controller's EOI.
 * A card whose ICR is 0 did not interrupt (another card on a shared
 * line, or a stray): counted in idle_irqs, nothing else happens.
 *
 * Missed frames (MPC: a frame came and no descriptor was free) are added
 * to rx_dropped on an overrun interrupt and whenever the counters are
 * read. QEMU keeps MPC as a running total (its reads do not clear it, as
 * the SDM says the card's do), so the driver adds the difference since
 * its last look; on a card that clears it on read, fewer are counted.
 */
#include <cubrt/arch.h>
#include <cubrt/string.h>

#include "e1000.h"

static void count_missed(struct e1000 *e)
{
	uint32_t mpc = e1000_rd(e, E1000_MPC);

	e->st.rx_dropped += (uint32_t)(mpc - e->mpc_seen);
	e->mpc_seen = mpc;
}

static void card_irq(struct e1000 *e)
{
	uint32_t icr = e1000_rd(e, E1000_ICR);

	if (icr == 0) {
		e->idle_irqs++;
		return;
	}
	e->st.interrupts++;
	if (icr & E1000_I_RXO)
		count_missed(e);
	if (e->notify && cubi_e1000_rx_pending(&e->rx))
		e->notify(e->notify_arg);
}

/* Contexts: irq. ctx is the line; every running card on it is asked. */
void cubi_e1000_irq(void *ctx)
{
	unsigned line = (unsigned)(uintptr_t)ctx;

	for (unsigned i = 0; i < cubi_e1000_count; i++)
		if (cubi_e1000s[i].line == line)
			card_irq(&cubi_e1000s[i]);
}

static void e1000_info(void *dev, struct cub_arch_nic_info *info)
{
	struct e1000 *e = dev;

	cub_memcpy(info->mac, e->mac, sizeof(info->mac));
	info->link_up = e1000_rd(e, E1000_STATUS) & E1000_STATUS_LU;
}

static void e1000_stats(void *dev, struct cub_arch_nic_stats *st)
{
	struct e1000 *e = dev;

	count_missed(e);
	*st = e->st;
}

static bool e1000_tx_done(void *dev)
{
	struct e1000 *e = dev;

	cubi_e1000_tx_reclaim(&e->tx);
	return e->tx.busy == 0;
}

static int e1000_send(void *dev, const void *frame, size_t len)
{
	struct e1000 *e = dev;
	int rc = cubi_e1000_tx_put(&e->tx, frame, len, &e->st);

	if (rc == 0)
		e1000_wr(e, E1000_TDT, e->tx.tail);
	return rc;
}

static int e1000_recv(void *dev, void *buf, size_t cap)
{
	struct e1000 *e = dev;
	unsigned before = e->rx.next;
	int rc = cubi_e1000_rx_take(&e->rx, buf, cap, &e->st);

	if (e->rx.next != before)	/* descriptors given back */
		e1000_wr(e, E1000_RDT, e->rx.tail);
	return rc;
}

static void e1000_set_notify(void *dev, void (*fn)(void *arg), void *arg)
{
	struct e1000 *e = dev;

	e->notify = fn;
	e->notify_arg = arg;
}

const struct cubi_nic_ops cubi_e1000_ops = {
	.model = "e1000",
	.info = e1000_info,
	.stats = e1000_stats,
	.send = e1000_send,
	.recv = e1000_recv,
	.set_notify = e1000_set_notify,
	.tx_done = e1000_tx_done,
};
