/*
 * stack.c - the network stack (src/net) over the virtio-net driver
 * (platform/x86) against QEMU's user-mode network, whose gateway
 * 10.0.2.2 answers ARP and pings and serves TFTP from a directory
 * (tests/qemu/net/tftp): attach the card, configure 10.0.2.15/24 (or
 * lease it by DHCP when the command line says "dhcp"), resolve the
 * gateway, ping it, fetch files by TFTP (one of 11 blocks checked line
 * by line, an empty one, a missing one; the same with blksize 1432 and
 * tsize, tsize over the buffer, windowsize left out of slirp's OACK,
 * netascii refused), a receive that times out, and
 * counters that add up; a DHCP lease is then given back (a RELEASE to
 * 10.0.2.2, the card unconfigured) and leased again. One line per
 * check, a summary.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/heap.h>
#include <cubrt/net.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../check.h"

#define MS (1000ull * 1000)
#define GW CUB_IP4(10, 0, 2, 2)

/* tftp/lines.txt: "line NNN: the quick brown fox jumps over the lazy
 * dog\n" for NNN = 000..099. */
static bool lines_ok(const char *buf, long len)
{
	char want[64];
	long at = 0;

	for (int i = 0; i < 100; i++) {
		int n = cub_snprintf(want, sizeof(want),
				     "line %03d: the quick brown fox jumps over the lazy dog\n", i);

		if (at + n > len || cub_memcmp(buf + at, want, (size_t)n) != 0)
			return false;
		at += n;
	}
	return at == len;
}

/* RFC 2348/2349 options against slirp's server (it knows blksize and
 * tsize). Writes cannot be tried here: slirp's server is read-only and
 * does not answer a WRQ at all. */
static void check_tftp_opts(struct cub_netif *nif, char *buf, size_t cap)
{
	struct cub_tftp_opts o = { .blksize = 1432, .tsize = true };
	struct cub_tftp_info info = { 0 };
	long n = buf ? cub_tftp_get_opts(nif, GW, "lines.txt", buf, cap, 10000 * MS, &o, &info)
		     : -CUB_ENOMEM;

	cub_printk("tftp lines.txt, blksize 1432: %ld bytes, oack %d, blksize %u, tsize %llu, %u sends\n",
		   n, info.oack, info.blksize, (unsigned long long)info.tsize, info.sends);
	/* slirp lowers blksize to 1428, its most (libslirp's tftp.c). */
	check("tftp with blksize 1432 and tsize: lowered to 1428, the file intact in 4 blocks",
	      n == 5400 && lines_ok(buf, n) && info.oack && info.blksize == 1428 &&
	      info.tsize_known && info.tsize == 5400 && info.sends == 1 + 1 + 4);
	check("tftp: tsize over cap is -ENOSPC before any data",
	      cub_tftp_get_opts(nif, GW, "lines.txt", buf, 5399, 5000 * MS, &o, &info) ==
		      -CUB_ENOSPC && info.tsize == 5400 && info.sends == 1);
	/* slirp does not know windowsize (RFC 7440): its OACK leaves it
	 * out, and the read is lock-step. */
	o.windowsize = 4;
	n = buf ? cub_tftp_get_opts(nif, GW, "lines.txt", buf, cap, 10000 * MS, &o, &info)
		: -CUB_ENOMEM;
	cub_printk("tftp lines.txt, windowsize 4: %ld bytes, oack %d, blksize %u, window %u, %u sends\n",
		   n, info.oack, info.blksize, info.windowsize, info.sends);
	check("tftp with windowsize 4: not in slirp's OACK, lock-step, the file intact",
	      n == 5400 && lines_ok(buf, n) && info.oack && info.blksize == 1428 &&
	      info.windowsize == 1 && info.sends == 1 + 1 + 4);
	/* slirp serves octet mode only: netascii gets its ERROR 4. */
	o = (struct cub_tftp_opts){ .netascii = true };
	n = buf ? cub_tftp_get_opts(nif, GW, "lines.txt", buf, cap, 5000 * MS, &o, &info)
		: -CUB_ENOMEM;
	cub_printk("tftp lines.txt, netascii: %ld\n", n);
	check("tftp in netascii: slirp's ERROR 4 (octet only) is -EIO", n == -CUB_EIO);
}

static void check_tftp(struct cub_netif *nif)
{
	size_t cap = 16384;
	char *buf = cub_malloc(cap);
	long n = buf ? cub_tftp_get(nif, GW, "lines.txt", buf, cap, 10000 * MS) : -CUB_ENOMEM;

	cub_printk("tftp lines.txt: %ld bytes\n", n);
	check("tftp fetches a file of 11 blocks, intact", n == 5400 && lines_ok(buf, n));
	check("tftp fetches an empty file", cub_tftp_get(nif, GW, "empty.txt", buf, cap, 5000 * MS) == 0);
	check("tftp: a missing file is -ENOENT",
	      cub_tftp_get(nif, GW, "missing.txt", buf, cap, 5000 * MS) == -CUB_ENOENT);
	check("tftp: a buffer too small is -ENOSPC",
	      cub_tftp_get(nif, GW, "lines.txt", buf, 1000, 5000 * MS) == -CUB_ENOSPC);
	check_tftp_opts(nif, buf, cap);
	cub_free(buf);
}

static void check_counters(struct cub_netif *nif, unsigned nic)
{
	struct cub_netif_stats st;
	struct cub_arch_nic_stats ns;

	check("counters", cub_netif_stats(nif, &st) == 0 && cub_arch_nic_stats(nic, &ns) == 0);
	cub_printk("net0: rx %lu frames, tx %lu; card: rx %lu, tx %lu, %lu interrupts\n",
		   (unsigned long)st.rx_frames, (unsigned long)st.tx_frames,
		   (unsigned long)ns.rx_frames, (unsigned long)ns.tx_frames,
		   (unsigned long)ns.interrupts);
	check("every frame the card took reached the stack, every frame sent left",
	      st.rx_frames == ns.rx_frames && st.tx_frames == ns.tx_frames && st.tx_errors == 0);
	check("nothing malformed, nothing dropped",
	      st.ip_bad_header + st.ip_bad_cksum + st.udp_bad + st.udp_bad_cksum +
	      st.icmp_bad + st.arp_bad + ns.rx_dropped == 0);
	check("the card interrupted", ns.interrupts > 0);
}

/* Configures nif by hand, or by DHCP into *l (true). The time DHCP
 * took is printed: it includes the ARP conflict check (three probes and
 * the waits, about 200 ms by default: cub_dhcp_params),
 * which slirp answers for no guest address. */
static bool configure(struct cub_netif *nif, struct cub_dhcp_lease *l)
{
	if (cub_strcmp(cub_arch_cmdline(), "dhcp") != 0) {
		check("configure 10.0.2.15/24 via 10.0.2.2",
		      cub_netif_configure(nif, CUB_IP4(10, 0, 2, 15), 24, GW) == 0);
		return false;
	}
	uint64_t t0 = cub_time_now();
	int rc = cub_net_dhcp(nif, 10000 * MS, l);

	cub_printk("dhcp: %d in %lu ms, address %08x/%u gateway %08x dns %08x lease %lu s\n",
		   rc, (unsigned long)((cub_time_now() - t0) / MS), (unsigned)l->addr,
		   l->prefix_len, (unsigned)l->gateway, (unsigned)l->dns,
		   (unsigned long)l->lease_s);
	check("dhcp leases 10.0.2.15/24 via 10.0.2.2, dns 10.0.2.3",
	      rc == 0 && l->addr == CUB_IP4(10, 0, 2, 15) && l->prefix_len == 24 &&
	      l->gateway == GW && l->dns == CUB_IP4(10, 0, 2, 3) && l->declined == 0);
	return true;
}

/* Gives lease l back (slirp takes the RELEASE without an answer) and
 * leases again: the same address. */
static void release(struct cub_netif *nif, const struct cub_dhcp_lease *l)
{
	struct cub_dhcp_lease l2;
	uint64_t tx = 0;
	cub_ip4_t a = 1;
	struct cub_netif_stats st;

	if (cub_netif_stats(nif, &st) == 0)
		tx = st.tx_frames;
	check("dhcp release: sent, the card unconfigured",
	      cub_dhcp_release(nif, l) == 0 && cub_netif_config(nif, &a, NULL, NULL) == 0 &&
	      a == 0 && cub_netif_stats(nif, &st) == 0 && st.tx_frames > tx);
	check("dhcp leases the address again after the release",
	      cub_net_dhcp(nif, 10000 * MS, &l2) == 0 && l2.addr == l->addr &&
	      cub_net_ping(nif, GW, 9, 56, 3000 * MS, NULL) == 0);
}

int cub_main(void)
{
	struct cub_netif *nif = NULL, *again;
	struct cub_dhcp_lease l;
	struct cub_udp u;
	bool dhcp;
	uint8_t mac[6];
	uint64_t rtt = 0;
	char c;

	check("attach NIC 0", cub_net_attach(0, &nif) == 0);
	if (!nif)
		return 1;
	check("a second attach is -EBUSY", cub_net_attach(0, &again) == -CUB_EBUSY);
	check("NIC 1 does not exist", cub_net_attach(1, &again) == -CUB_ENODEV);
	dhcp = configure(nif, &l);
	check("ARP finds the gateway 52:55:0a:00:02:02",
	      cub_arp_resolve(nif, GW, mac, 3000 * MS) == 0 &&
	      cub_memcmp(mac, "\x52\x55\x0a\x00\x02\x02", 6) == 0);
	for (uint16_t seq = 1; seq <= 3; seq++)
		check("ping the gateway", cub_net_ping(nif, GW, seq, 56, 3000 * MS, &rtt) == 0);
	cub_printk("ping rtt %lu us\n", (unsigned long)(rtt / 1000));
	check_tftp(nif);
	check("a receive nobody answers times out",
	      cub_udp_open(&u, nif, 0) == 0 &&
	      cub_udp_recvfrom(&u, &c, 1, NULL, NULL, 100 * MS) == -CUB_ETIMEDOUT &&
	      cub_udp_close(&u) == 0);
	check_counters(nif, 0);
	if (dhcp)
		release(nif, &l);
	return check_summary("net stack");
}
