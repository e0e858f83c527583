/*
 * nic.c - arch.h's network calls on QEMU's virtio-net-pci (or, with a
 * guest argument starting "e1000", its e1000 card) with the user-mode
 * network (slirp: we are 10.0.2.15, the gateway 10.0.2.2).
 *
 * Guest argument "none": booted without a NIC, every call says
 * -CUB_ENODEV. "two": NICs 0 and 1 (52:54:00:12:34:56 and :57, each on
 * its own slirp) both answer ARP, each through its own notify and
 * vector. "four": five devices, NICs 0..3 started in scan order, the
 * fifth skipped. "full": as the default, and the burst must fill the
 * transmit ring (a device that transmits on a slow timer). Otherwise
 * NIC 0 must be there, and in order: its info
 * (MAC 52:54:00:12:34:56, "virtio-net" or "e1000", link up, MTU 1500,
 * its interrupt named after it); an ARP
 * request for the gateway gets slirp's reply; an ICMP echo request gets
 * the echo reply with the same id, sequence and payload; a burst of sends
 * without yielding returns only 0 or -CUB_EAGAIN and the counters agree;
 * a flood of 200 ARP requests brings 200 replies, counted; bad arguments
 * get their error codes; a truncating recv. Every wait for a frame is a
 * cub_irq_event signalled by the NIC's notify function, bounded by a
 * timer: a missing reply fails with a message, never hangs.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/panic.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "frames.h"

#include "../check.h"

#define MS 1000000ull
#define FLOOD 200
#define BURST 400

static const uint8_t want_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static uint8_t mac[6], gw_mac[6];
static struct cub_irq_event ev;
static struct cub_timer timer;
static volatile unsigned notified;
static uint8_t buf[2048];
static bool want_full;		/* the burst must meet a full ring */
static unsigned cur;		/* the NIC wait_frame and send_arp use */
static const char *model = "virtio-net";	/* the card NIC 0 must be */

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

/*
 * Receives frames until match(frame) (its length returned) or ms pass
 * (fails naming what). Frames that do not match are dropped.
 */
static int wait_frame(bool (*match)(const uint8_t *f, int n), unsigned ms,
		      const char *what)
{
	uint64_t deadline = cub_time_now() + ms * MS;
	int n;

	for (;;) {
		while ((n = cub_arch_nic_recv(cur, buf, sizeof(buf))) >= 0)
			if (match(buf, n))
				return n;
		CHECK_EQ(n, -CUB_EAGAIN);
		if (cub_time_now() >= deadline) {
			struct cub_arch_nic_stats st;

			cub_arch_nic_stats(cur, &st);
			cub_printk("FAIL: no %s within %u ms (NIC %u: rx %llu, "
				   "dropped %llu, tx %llu, %llu interrupts)\n",
				   what, ms, cur, (unsigned long long)st.rx_frames,
				   (unsigned long long)st.rx_dropped,
				   (unsigned long long)st.tx_frames,
				   (unsigned long long)st.interrupts);
			cub_exit(1);
		}
		cub_timer_start(&timer, deadline);
		cub_irq_event_wait(&ev);
		cub_timer_stop(&timer);
	}
}

static bool arp_reply(const uint8_t *f, int n)
{
	return is_arp_reply(f, n, mac);
}

static void send_arp(void)
{
	uint8_t f[ARP_LEN];

	arp_request(f, mac, ip_ours, ip_gw);
	CHECK_EQ(cub_arch_nic_send(cur, f, sizeof(f)), 0);
}

static void test_info(void)
{
	struct cub_arch_nic_info info;
	struct cub_irq_stat st;
	bool e1000 = !cub_strcmp(model, "e1000");
	int found = -1;

	CHECK_EQ(cub_arch_nic_info(0, &info), 0);
	CHECK(!cub_memcmp(info.mac, want_mac, 6));
	CHECK(!cub_strcmp(info.model, model));
	CHECK(info.link_up);
	CHECK_EQ(info.mtu, 1500);
	cub_memcpy(mac, info.mac, 6);
	for (unsigned l = 0; l < CUB_IRQ_LINES; l++)	/* e1000: a device line */
		if (!cub_irq_stat(l, &st) && st.name && st.registered &&
		    !cub_strcmp(st.name, e1000 ? "e1000" : "virtio-net0"))
			found = st.vector;
	CHECK(found >= 0);
	cub_printk("info: %02x:%02x:%02x:%02x:%02x:%02x %s, link %s, mtu %u, "
		   "irq vector 0x%x\n", mac[0], mac[1], mac[2], mac[3], mac[4],
		   mac[5], info.model, info.link_up ? "up" : "down", info.mtu,
		   found);
}

/*
 * A reply that recv takes while its interrupt is still on the way draws
 * no notify: the handler finds nothing pending (arch.h promises a notify
 * only for frames recv has not taken). So when the first reply drew
 * none, one more is asked for and nothing is received until its notify
 * comes (within 3 s: a lost interrupt fails here), as e1000.c does.
 */
static void expect_notify(void)
{
	uint64_t deadline = cub_time_now() + 3000 * MS;

	if (notified)
		return;
	send_arp();
	while (!notified && cub_time_now() < deadline) {
		cub_timer_start(&timer, deadline);
		cub_irq_event_wait(&ev);
		cub_timer_stop(&timer);
	}
	CHECK(notified > 0);
	wait_frame(arp_reply, 3000, "ARP reply from 10.0.2.2");
}

static void test_arp(void)
{
	int n;

	send_arp();
	n = wait_frame(arp_reply, 3000, "ARP reply from 10.0.2.2");
	cub_memcpy(gw_mac, buf + ETH_HLEN + 8, 6);
	CHECK(!cub_memcmp(buf + 6, gw_mac, 6));
	cub_printk("arp: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x "
		   "(%d-byte reply)\n", gw_mac[0], gw_mac[1], gw_mac[2],
		   gw_mac[3], gw_mac[4], gw_mac[5], n);
	expect_notify();
}

#define PING_ID 0x4321
#define PING_SEQ 7
#define PING_LEN 56
static uint8_t ping[ETH_HLEN + IP_HLEN + ICMP_HLEN + PING_LEN];

static bool echo_reply(const uint8_t *f, int n)
{
	const uint8_t *ip = f + ETH_HLEN, *ic = ip + IP_HLEN;
	const uint8_t *ic_req = ping + ETH_HLEN + IP_HLEN;

	if (n < (int)sizeof(ping) || get16(f + 12) != ETH_IP || ip[9] != 1 ||
	    ic[0] != 0 || get16(ic + 4) != PING_ID)
		return false;
	CHECK(!cub_memcmp(f, mac, 6));
	CHECK_EQ(ip[0], 0x45);
	CHECK(!cub_memcmp(ip + 12, ip_gw, 4) && !cub_memcmp(ip + 16, ip_ours, 4));
	CHECK_EQ(get16(ip + 2), IP_HLEN + ICMP_HLEN + PING_LEN);
	CHECK_EQ(inet_csum(ip, IP_HLEN), 0);
	CHECK_EQ(inet_csum(ic, ICMP_HLEN + PING_LEN), 0);
	CHECK_EQ(get16(ic + 6), PING_SEQ);
	CHECK(!cub_memcmp(ic + ICMP_HLEN, ic_req + ICMP_HLEN, PING_LEN));
	return true;
}

static void test_ping(void)
{
	size_t len = icmp_echo(ping, mac, gw_mac, PING_ID, PING_SEQ, PING_LEN);

	CHECK_EQ(len, sizeof(ping));
	CHECK_EQ(inet_csum(ping + ETH_HLEN, IP_HLEN), 0);
	CHECK_EQ(cub_arch_nic_send(0, ping, len), 0);
	wait_frame(echo_reply, 3000, "ICMP echo reply from 10.0.2.2");
	cub_printk("ping: echo reply from 10.0.2.2, id 0x%x seq %u, %u bytes "
		   "of payload intact\n", PING_ID, PING_SEQ, PING_LEN);
}

/* Takes every frame that arrives until quiet_ms pass without one. */
static unsigned drain(unsigned quiet_ms)
{
	unsigned got = 0;

	for (;;) {
		while (cub_arch_nic_recv(0, buf, sizeof(buf)) >= 0)
			got++;
		cub_sleep(quiet_ms * MS);
		if (cub_arch_nic_recv(0, buf, sizeof(buf)) < 0)
			return got;
		got++;
	}
}

/* One burst of BURST ARP requests: how many the ring refused (the
 * counters checked against what the sends returned). */
static unsigned burst_once(void)
{
	struct cub_arch_nic_stats a, b;
	uint8_t f[ARP_LEN];
	unsigned ok = 0, full = 0;

	drain(50);
	arp_request(f, mac, ip_ours, ip_gw);
	CHECK_EQ(cub_arch_nic_stats(0, &a), 0);
	for (unsigned i = 0; i < BURST; i++) {
		int rc = cub_arch_nic_send(0, f, sizeof(f));

		CHECK(rc == 0 || rc == -CUB_EAGAIN);
		rc == 0 ? ok++ : full++;
	}
	CHECK_EQ(cub_arch_nic_stats(0, &b), 0);
	CHECK_EQ(b.tx_frames - a.tx_frames, ok);
	CHECK_EQ(b.tx_bytes - a.tx_bytes, (uint64_t)ok * ARP_LEN);
	CHECK_EQ(b.tx_full - a.tx_full, full);
	CHECK(ok > 0);
	cub_printk("burst: %u sends, %u queued, %u refused with EAGAIN "
		   "(tx_full +%u)\n", BURST, ok, full, full);
	return full;
}

/* With want_full (a device that transmits every 10 ms) a burst must
 * meet a full ring; a host so loaded that the device drained the ring
 * between two sends gets up to four more bursts. */
static void test_burst(void)
{
	unsigned full = burst_once();

	for (int i = 0; want_full && !full && i < 4; i++)
		full = burst_once();
	CHECK(full > 0 || !want_full);
	drain(100);	/* the replies to the burst */
}

/* Counts the flood's replies (they are all alike). */
static unsigned flood_got;

static bool flood_reply(const uint8_t *f, int n)
{
	if (is_arp_reply(f, n, mac))
		flood_got++;
	return flood_got >= FLOOD;
}

static void test_flood(void)
{
	struct cub_arch_nic_stats a, b;
	uint8_t f[ARP_LEN];
	unsigned sent = 0, extra;

	CHECK_EQ(cub_arch_nic_stats(0, &a), 0);
	arp_request(f, mac, ip_ours, ip_gw);
	while (sent < FLOOD) {
		int rc = cub_arch_nic_send(0, f, sizeof(f));

		if (rc == -CUB_EAGAIN) {
			cub_sleep(MS / 10);
			continue;
		}
		CHECK_EQ(rc, 0);
		sent++;
	}
	wait_frame(flood_reply, 10000, "complete flood of ARP replies");
	/* (flood_got says how far it came when it fails) */
	extra = drain(100);
	CHECK_EQ(cub_arch_nic_stats(0, &b), 0);
	CHECK_EQ(b.rx_frames - a.rx_frames, flood_got + extra);
	CHECK_EQ(b.rx_dropped - a.rx_dropped, 0);
	CHECK_EQ(b.tx_frames - a.tx_frames, FLOOD);
	CHECK(b.interrupts > a.interrupts);
	cub_printk("flood: %u ARP requests, %u replies (+%u others), rx_frames "
		   "+%llu, rx_dropped +%llu, %llu interrupts so far\n", sent,
		   flood_got, extra, (unsigned long long)(b.rx_frames - a.rx_frames),
		   (unsigned long long)(b.rx_dropped - a.rx_dropped),
		   (unsigned long long)b.interrupts);
}

static void test_bad_args(void)
{
	struct cub_arch_nic_info info;
	struct cub_arch_nic_stats st;
	uint8_t f[ARP_LEN + 1500] = { 0 };

	CHECK_EQ(cub_arch_nic_send(0, f, 13), -CUB_EINVAL);
	CHECK_EQ(cub_arch_nic_send(0, f, 1515), -CUB_EINVAL);
	CHECK_EQ(cub_arch_nic_send(0, NULL, 60), -CUB_EINVAL);
	CHECK_EQ(cub_arch_nic_info(0, NULL), -CUB_EINVAL);
	CHECK_EQ(cub_arch_nic_stats(0, NULL), -CUB_EINVAL);
	CHECK_EQ(cub_arch_nic_recv(0, NULL, 10), -CUB_EINVAL);
	for (unsigned i = 1; i < 5; i += 3) {	/* 1 and 4 */
		CHECK_EQ(cub_arch_nic_info(i, &info), -CUB_ENODEV);
		CHECK_EQ(cub_arch_nic_stats(i, &st), -CUB_ENODEV);
		CHECK_EQ(cub_arch_nic_send(i, f, 60), -CUB_ENODEV);
		CHECK_EQ(cub_arch_nic_recv(i, buf, sizeof(buf)), -CUB_ENODEV);
		CHECK_EQ(cub_arch_nic_set_notify(i, on_frame, &ev), -CUB_ENODEV);
	}
	drain(50);
	CHECK_EQ(cub_arch_nic_recv(0, buf, sizeof(buf)), -CUB_EAGAIN);
	cub_printk("bad arguments: EINVAL, ENODEV, EAGAIN as promised\n");
}

/* A reply taken into 10 bytes: full length returned, 10 bytes copied. */
static void test_truncated(void)
{
	uint64_t deadline = cub_time_now() + 3000 * MS;
	int n;

	send_arp();
	cub_memset(buf, 0xAA, sizeof(buf));
	while ((n = cub_arch_nic_recv(0, buf, 10)) == -CUB_EAGAIN) {
		CHECK(cub_time_now() < deadline);
		cub_timer_start(&timer, deadline);
		cub_irq_event_wait(&ev);
		cub_timer_stop(&timer);
	}
	CHECK(n >= ARP_LEN && n <= CUB_ARCH_NIC_FRAME_MAX);
	CHECK(!cub_memcmp(buf, mac, 6));
	CHECK(!cub_memcmp(buf + 6, gw_mac, 4));
	for (unsigned i = 10; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xAA);
	cub_printk("truncated: recv into 10 bytes returned %d, copied 10\n", n);
}

static int test_none(void)
{
	struct cub_arch_nic_info info;
	struct cub_arch_nic_stats st;
	uint8_t f[60] = { 0 };

	CHECK_EQ(cub_arch_nic_info(0, &info), -CUB_ENODEV);
	CHECK_EQ(cub_arch_nic_stats(0, &st), -CUB_ENODEV);
	CHECK_EQ(cub_arch_nic_send(0, f, sizeof(f)), -CUB_ENODEV);
	CHECK_EQ(cub_arch_nic_recv(0, buf, sizeof(buf)), -CUB_ENODEV);
	CHECK_EQ(cub_arch_nic_set_notify(0, on_frame, &ev), -CUB_ENODEV);
	cub_printk("nic none: no NIC 0, every call says ENODEV: ok\n");
	return 0;
}

static int test_two(void)
{
	static const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
	struct cub_arch_nic_info info;
	struct cub_arch_nic_stats st;

	CHECK_EQ(cub_arch_nic_info(2, &info), -CUB_ENODEV);
	for (cur = 0; cur < 2; cur++) {
		CHECK_EQ(cub_arch_nic_info(cur, &info), 0);
		CHECK(!cub_memcmp(info.mac, cur ? mac1 : want_mac, 6));
		cub_memcpy(mac, info.mac, 6);
		notified = 0;
		CHECK_EQ(cub_arch_nic_set_notify(cur, on_frame, &ev), 0);
		send_arp();
		wait_frame(arp_reply, 3000, "ARP reply from 10.0.2.2");
		expect_notify();
		CHECK_EQ(cub_arch_nic_set_notify(cur, NULL, NULL), 0);
		CHECK_EQ(cub_arch_nic_stats(cur, &st), 0);
		CHECK(st.tx_frames >= 1 && st.rx_frames >= 1 && st.interrupts > 0);
	}
	cub_printk("two NICs: each got its ARP reply through its own "
		   "interrupt: ok\n");
	return 0;
}

/* Five devices: four NICs, the fifth skipped. */
static int test_four(void)
{
	struct cub_arch_nic_info info;

	for (unsigned i = 0; i < 4; i++) {
		CHECK_EQ(cub_arch_nic_info(i, &info), 0);
		CHECK_EQ(info.mac[5], 0x56 + i);
	}
	CHECK_EQ(cub_arch_nic_info(4, &info), -CUB_ENODEV);
	cub_printk("four NICs: 0..3 there, 4 is not: ok\n");
	return 0;
}

int cub_main(void)
{
	const char *arg = cub_cmdline();

	cub_irq_event_init(&ev, "nic frame");
	cub_timer_init(&timer, on_timeout, &ev);
	if (!cub_strcmp(arg, "none"))
		return test_none();
	if (!cub_strcmp(arg, "two"))
		return test_two();
	if (!cub_strcmp(arg, "four"))
		return test_four();
	if (!cub_strncmp(arg, "e1000", 5)) {
		model = "e1000";
		arg += arg[5] == ' ' ? 6 : 5;
	}
	want_full = !cub_strcmp(arg, "full");
	test_info();
	CHECK_EQ(cub_arch_nic_set_notify(0, on_frame, &ev), 0);
	test_arp();
	test_ping();
	test_burst();
	test_flood();
	test_bad_args();
	test_truncated();
	CHECK_EQ(cub_arch_nic_set_notify(0, NULL, NULL), 0);
	cub_printk("nic: ok\n");
	return 0;
}
