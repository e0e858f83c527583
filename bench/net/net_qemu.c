/*
 * net_qemu.c - round trips through the virtio-net card to QEMU's user
 * network (slirp: we are 10.0.2.15, the gateway 10.0.2.2), in guest
 * instructions.
 *
 * Booted under QEMU with -icount shift=0,sleep=off, where the TSC
 * advances by one per executed instruction, so rdtsc differences count
 * the guest's instructions for a round trip (slirp answers inside QEMU,
 * on its main-loop thread, while the guest runs or idles):
 *   ping  cub_net_ping of the gateway, 64 bytes of payload (the stack:
 *         ICMP, IPv4, Ethernet, the receive coroutine, a timed wait)
 *   udp   a 64-byte UDP datagram to the gateway's TFTP port, answered
 *         by slirp's TFTP server with an ERROR datagram (no directory is
 *         served): cub_udp_sendto + cub_udp_recvfrom
 *   raw   the driver alone, the floor under both: an ARP request for the
 *         gateway by cub_arch_nic_send, the reply taken by
 *         cub_arch_nic_recv after the NIC's notify woke the coroutine
 *         from a cub_irq_event wait
 * "MODE spin" (what bench.conf runs) keeps the CPU busy with a spinner
 * coroutine while a trip waits and takes the spinner's instructions off
 * (see spinner below). Without it the guest idles in hlt while slirp
 * works: ping cannot run (with sleep=off an idle guest's clock jumps to
 * the next timer's expiry, and ping's timed wait arms one: every ping
 * times out), and udp and raw count either of two paths depending on
 * whether the reply's interrupt comes before or after the guest halted,
 * which the host's thread timing decides (raw: 977 or 1373; the mix
 * changes from run to run).
 * Each round trip is counted on its own; prints the median as
 * "result: N instructions" and the spread as a note, for scripts/bench.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/irq.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/sched.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#define TRIPS 1000
#define WARMUP 20
#define MSG 64
#define GW CUB_IP4(10, 0, 2, 2)
#define OURS CUB_IP4(10, 0, 2, 15)
#define TFTP_PORT 69

static int64_t per[TRIPS];		/* instructions of each trip */

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* ------------------------------------------------------------ the stack */

static struct cub_netif *nif;
static struct cub_udp u;

static int ping_trip(int i)
{
	return cub_net_ping(nif, GW, (uint16_t)i, MSG, 5 * CUB_NSEC_PER_SEC, NULL);
}

/* A TFTP read request (RFC 1350) padded to MSG bytes with a long file
 * name; slirp serves no directory here, so it answers every one with
 * ERROR 2 "Access violation" (21 bytes) from port 69. */
static int udp_trip(int i)
{
	static const char mode[] = "octet";
	uint8_t msg[MSG], back[128];
	uint16_t port;
	int r;

	(void)i;
	cub_memset(msg, 'x', sizeof(msg));
	msg[0] = 0;
	msg[1] = 1;					/* RRQ */
	cub_memcpy(msg + MSG - sizeof(mode), mode, sizeof(mode));
	msg[MSG - sizeof(mode) - 1] = 0;		/* the name's end */
	r = cub_udp_sendto(&u, GW, TFTP_PORT, msg, MSG);
	if (r != MSG)
		return r < 0 ? r : -CUB_EIO;
	r = cub_udp_recvfrom(&u, back, sizeof(back), NULL, &port, UINT64_MAX);
	if (r < 4 || back[0] != 0 || back[1] != 5 || port != TFTP_PORT)
		return r < 0 ? r : -CUB_EIO;		/* not an ERROR */
	return 0;
}

static int stack_start(void)
{
	int r = cub_net_attach(0, &nif);

	if (!r)
		r = cub_netif_configure(nif, OURS, 24, GW);
	if (!r)
		r = cub_udp_open(&u, nif, 0);
	return r;
}

/* ----------------------------------------------------------- the driver */

static struct cub_irq_event ev;
static uint8_t mac[6], frame[CUB_ETH_FRAME_MAX + 1];

static void on_frame(void *arg)
{
	cub_irq_event_signal(arg);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The reply to our request: ARP (0x0806), op 2, sender 10.0.2.2. */
static bool is_reply(const uint8_t *f, int n)
{
	return n >= 42 && f[12] == 8 && f[13] == 6 && f[20] == 0 && f[21] == 2 &&
	       f[28] == 10 && f[29] == 0 && f[30] == 2 && f[31] == 2;
}

static int raw_trip(int i)
{
	uint8_t req[42];
	uint8_t *a = req + CUB_ETH_HLEN;
	int n, r;

	(void)i;
	cub_memset(req, 0xff, 6);			/* broadcast */
	cub_memcpy(req + 6, mac, 6);
	put16(req + 12, 0x0806);
	put16(a, 1);					/* Ethernet */
	put16(a + 2, 0x0800);				/* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);				/* request */
	cub_memcpy(a + 8, mac, 6);
	put32(a + 14, OURS);
	cub_memset(a + 18, 0, 6);
	put32(a + 24, GW);
	r = cub_arch_nic_send(0, req, sizeof(req));
	if (r < 0)
		return r;
	for (;;) {
		while ((n = cub_arch_nic_recv(0, frame, sizeof(frame))) >= 0)
			if (is_reply(frame, n))
				return 0;
		if (n != -CUB_EAGAIN)
			return n;
		cub_irq_event_wait(&ev);
	}
}

static int raw_start(void)
{
	struct cub_arch_nic_info info;
	int r = cub_arch_nic_info(0, &info);

	if (r < 0)
		return r;
	cub_memcpy(mac, info.mac, 6);
	cub_irq_event_init(&ev, "bench nic");
	return cub_arch_nic_set_notify(0, on_frame, &ev);
}

/* -------------------------------------------------------------- spinner */

/*
 * "MODE spin": a spinner coroutine yields in a loop while a round trip
 * waits, so the guest never idles and its clock never jumps to a timer's
 * expiry (what makes ping measurable with sleep=off), and the reply's
 * interrupt always lands on a running coroutine (one path, not two).
 * With nothing else ready cub_coro_yield returns at once: a loop of a
 * fixed cost, measured alone before the trips (spin_cost, in 1/1024
 * instruction; about 35.9) and taken off each trip for the iterations it
 * spanned. What is left is the trip's own instructions plus the
 * spinner's share of the switches: raw comes out at 977 with it, as on
 * its faster path without it; udp at 3680, against 3541 or 3577.
 */
#define SPIN_CAL 100000

static volatile uint64_t spins, spin_until;
static uint64_t spin_cost;

/* The same loop, instruction for instruction, calibrating and running. */
static void *spinner(void *arg)
{
	(void)arg;
	while (spins < spin_until) {
		spins++;
		cub_coro_yield();
	}
	return NULL;
}

/* Instructions to spawn a spinner, run it n times round and join it. */
static int64_t spin_run(struct cub_coro **c, uint64_t n)
{
	uint64_t t0 = tsc();

	spins = 0;
	spin_until = n;
	if (cub_coro_spawn(c, spinner, NULL, NULL) || cub_coro_join(*c, NULL))
		return -1;
	return (int64_t)(tsc() - t0);
}

/* Measures spin_cost (two runs: their difference is the loop alone),
 * then starts the spinner for the trips. */
static int spin_start(struct cub_coro **c)
{
	int64_t t1 = spin_run(c, SPIN_CAL), t2 = spin_run(c, 2 * SPIN_CAL);

	if (t1 < 0 || t2 < 0)
		return -CUB_ENOMEM;
	spin_cost = ((uint64_t)(t2 - t1) << 10) / SPIN_CAL;
	spins = 0;
	spin_until = UINT64_MAX;
	return cub_coro_spawn(c, spinner, NULL, NULL);
}

/* ------------------------------------------------------------------ run */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

/*
 * The firmware leaves PIT channel 0 counting periodically (18.2 Hz),
 * and with -icount sleep=off an idle guest's clock jumps to the next
 * timer's expiry: every wait for slirp's reply would end at the next
 * PIT tick, 54.9 ms of TSC later. A mode-0 count of 1 fires once and
 * stops (cubrt uses the APIC timer; its ISA line is not routed).
 */
static void pit_stop(void)
{
	outb(0x43, 0x30);		/* channel 0, lo/hi, mode 0 */
	outb(0x40, 1);
	outb(0x40, 0);
}

static void sort(int64_t *v, int n)
{
	for (int gap = n / 2; gap > 0; gap /= 2)
		for (int i = gap; i < n; i++)
			for (int j = i; j >= gap && v[j - gap] > v[j]; j -= gap) {
				int64_t t = v[j];

				v[j] = v[j - gap];
				v[j - gap] = t;
			}
}

int cub_main(void)
{
	char mode[16];
	const char *spin = cub_strchr(cub_cmdline(), ' ');
	struct cub_coro *sc = NULL;
	int (*trip)(int);
	uint64_t t0, s0;
	int64_t sum = 0;
	int r, at_median = 0;

	cub_snprintf(mode, sizeof(mode), "%s", cub_cmdline());
	if (spin) {
		mode[spin - cub_cmdline()] = 0;
		if (cub_strcmp(spin, " spin"))
			mode[0] = 0;	/* usage */
	}
	if (!cub_strcmp(mode, "ping") || !cub_strcmp(mode, "udp")) {
		trip = mode[0] == 'p' ? ping_trip : udp_trip;
		r = stack_start();
	} else if (!cub_strcmp(mode, "raw")) {
		trip = raw_trip;
		r = raw_start();
	} else {
		cub_printk("usage: net_qemu ping|udp|raw [spin]\n");
		return 2;
	}
	pit_stop();
	if (!r && spin)
		r = spin_start(&sc);
	for (int i = 0; i < WARMUP && !r; i++)	/* ARP, caches, slirp's state */
		r = trip(i);
	for (int i = 0; i < TRIPS && !r; i++) {
		s0 = spins;
		t0 = tsc();
		r = trip(WARMUP + i);
		per[i] = (int64_t)(tsc() - t0 - (((spins - s0) * spin_cost) >> 10));
		sum += per[i];
	}
	spin_until = 0;
	if (sc)
		cub_coro_join(sc, NULL);
	if (r) {
		cub_printk("net_qemu %s: a round trip failed: %d\n", mode, r);
		return 1;
	}
	if (spin)
		cub_printk("note: %s spin: a spinner iteration is %lu.%03lu instructions\n", mode,
			   (unsigned long)(spin_cost >> 10),
			   (unsigned long)((spin_cost & 1023) * 1000 >> 10));
	sort(per, TRIPS);
	for (int i = 0; i < TRIPS; i++)
		at_median += per[i] == per[TRIPS / 2];
	cub_printk("note: %s%s: %d round trips: min %ld, median %ld (%d of them), 99th %ld, "
		   "max %ld, mean %ld instructions\n", mode, spin ? " spin" : "", TRIPS,
		   (long)per[0], (long)per[TRIPS / 2], at_median, (long)per[TRIPS * 99 / 100],
		   (long)per[TRIPS - 1], (long)(sum / TRIPS));
	cub_printk("result: %ld instructions\n", (long)per[TRIPS / 2]);
	return 0;
}
