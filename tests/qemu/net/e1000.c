/*
 * e1000.c - what is particular to the e1000 driver (platform/x86/
 * e1000*.c) on QEMU's e1000 cards with the user-mode network (slirp).
 *
 * Guest argument "irq" (one e1000, NIC 0): an interrupt on its line with
 * nothing pending in the card (the handler called as the line would)
 * changes nothing but idle_irqs and calls no notify; a cause set through
 * ICS (link change, then "receive timer" with no frame) arrives as a
 * real INTx interrupt through the I/O APIC, is acknowledged (the level
 * line falls: the test goes on) and counted, and calls no notify without
 * a frame; an ARP exchange afterwards still gets its notify.
 * "shared": two e1000 cards on one interrupt line (slots 2 and 6 share
 * the PIIX link), each with its own slirp: each gets its ARP reply
 * through its notify, and each saw the other's interrupts as not its own.
 * "mixed": a virtio-net card and an e1000 card: NIC 0 is the virtio-net
 * one (probe order), NIC 1 the e1000; each answers ARP through its own
 * interrupt. Every wait is bounded: a missing reply fails, never hangs.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../../../platform/x86/e1000.h"
#include "frames.h"

#include "../check.h"

#define MS 1000000ull

static struct cub_irq_event ev;
static struct cub_timer timer;
static volatile unsigned notified;
static uint8_t buf[2048];

static void on_frame(void *arg)
{
	notified++;
	cub_irq_event_signal(arg);
}

static void on_timeout(struct cub_timer *t, void *arg)
{
	(void)t;
	cub_irq_event_signal(arg);
}

/* ARP for the gateway on NIC i; fails unless its notify is called and
 * the reply comes, within 3 s. Nothing is received before the notify:
 * a frame recv has already taken needs none (arch.h), so polling first
 * could take the reply before its interrupt and see no notify at all. */
static void arp_on(unsigned i)
{
	struct cub_arch_nic_info info;
	uint64_t deadline = cub_time_now() + 3000 * MS;
	uint8_t f[ARP_LEN];
	int n;

	CHECK_EQ(cub_arch_nic_info(i, &info), 0);
	notified = 0;
	CHECK_EQ(cub_arch_nic_set_notify(i, on_frame, &ev), 0);
	arp_request(f, info.mac, ip_ours, ip_gw);
	CHECK_EQ(cub_arch_nic_send(i, f, sizeof(f)), 0);
	while (!notified && cub_time_now() < deadline) {
		cub_timer_start(&timer, deadline);
		cub_irq_event_wait(&ev);
		cub_timer_stop(&timer);
	}
	CHECK(notified > 0);
	for (;;) {
		while ((n = cub_arch_nic_recv(i, buf, sizeof(buf))) >= 0)
			if (is_arp_reply(buf, n, info.mac))
				goto got;
		CHECK_EQ(n, -CUB_EAGAIN);
		CHECK(cub_time_now() < deadline);
		cub_timer_start(&timer, deadline);
		cub_irq_event_wait(&ev);
		cub_timer_stop(&timer);
	}
got:
	CHECK_EQ(cub_arch_nic_set_notify(i, NULL, NULL), 0);
	cub_printk("NIC %u (%s): ARP reply through its notify\n", i, info.model);
}

/* Waits up to 1 s for the card's interrupt count to pass old. */
static uint64_t irqs_after(unsigned nic, uint64_t old)
{
	struct cub_arch_nic_stats st;

	for (int t = 0; t < 1000; t++) {
		CHECK_EQ(cub_arch_nic_stats(nic, &st), 0);
		if (st.interrupts > old)
			return st.interrupts;
		cub_sleep(CUB_NSEC_PER_MSEC);
	}
	cub_printk("FAIL: no interrupt from the card\n");
	cub_exit(1);
}

static int test_irq(void)
{
	struct e1000 *e = &cubi_e1000s[0];
	struct cub_arch_nic_stats a, b;
	uint64_t idle, line_count, n;
	unsigned long irq;

	CHECK_EQ(cubi_e1000_count, 1);
	CHECK_EQ(cub_arch_nic_set_notify(0, on_frame, &ev), 0);
	CHECK_EQ(cub_arch_nic_stats(0, &a), 0);
	idle = e->idle_irqs;
	irq = cub_arch_irq_save();
	cubi_e1000_irq((void *)(uintptr_t)e->line);	/* nothing pending */
	cub_arch_irq_restore(irq);
	CHECK_EQ(e->idle_irqs, idle + 1);
	CHECK_EQ(cub_arch_nic_stats(0, &b), 0);
	CHECK_EQ(b.interrupts, a.interrupts);
	CHECK_EQ(notified, 0);
	cub_printk("an interrupt with nothing pending: counted idle, no "
		   "notify: ok\n");
	line_count = cub_irq_count(e->line);
	e1000_wr(e, E1000_ICS, E1000_I_LSC);
	n = irqs_after(0, a.interrupts);
	CHECK(cub_irq_count(e->line) > line_count);
	e1000_wr(e, E1000_ICS, E1000_I_RXT0);
	irqs_after(0, n);
	cub_sleep(10 * MS);
	CHECK_EQ(notified, 0);
	CHECK_EQ(cub_arch_nic_recv(0, buf, sizeof(buf)), -CUB_EAGAIN);
	cub_printk("ICS causes arrive on line %u, acknowledged, no notify "
		   "without a frame: ok\n", e->line);
	CHECK_EQ(cub_arch_nic_set_notify(0, NULL, NULL), 0);
	arp_on(0);
	cub_printk("e1000 irq: ok\n");
	return 0;
}

static int test_shared(void)
{
	CHECK_EQ(cubi_e1000_count, 2);
	CHECK_EQ(cubi_e1000s[0].line, cubi_e1000s[1].line);
	arp_on(0);
	arp_on(1);
	CHECK(cubi_e1000s[0].idle_irqs > 0 && cubi_e1000s[1].idle_irqs > 0);
	cub_printk("two e1000 cards share line %u, each saw the other's "
		   "interrupts as not its own: ok\n", cubi_e1000s[0].line);
	return 0;
}

static int test_mixed(void)
{
	struct cub_arch_nic_info info;
	struct cub_arch_nic_stats st;

	CHECK_EQ(cub_arch_nic_info(0, &info), 0);
	CHECK(!cub_strcmp(info.model, "virtio-net"));
	CHECK_EQ(cub_arch_nic_info(1, &info), 0);
	CHECK(!cub_strcmp(info.model, "e1000"));
	CHECK_EQ(cub_arch_nic_info(2, &info), -CUB_ENODEV);
	for (unsigned i = 0; i < 2; i++) {
		arp_on(i);
		CHECK_EQ(cub_arch_nic_stats(i, &st), 0);
		CHECK(st.tx_frames == 1 && st.rx_frames >= 1 && st.interrupts > 0);
	}
	cub_printk("virtio-net is NIC 0, e1000 NIC 1, both talk: ok\n");
	return 0;
}

int cub_main(void)
{
	const char *arg = cub_cmdline();

	cub_irq_event_init(&ev, "e1000 frame");
	cub_timer_init(&timer, on_timeout, &ev);
	if (!cub_strcmp(arg, "irq"))
		return test_irq();
	if (!cub_strcmp(arg, "shared"))
		return test_shared();
	if (!cub_strcmp(arg, "mixed"))
		return test_mixed();
	cub_printk("FAIL: guest argument irq, shared or mixed\n");
	return 2;
}
