/*
 * procfs_net.c - /proc/net/dev and /proc/net/route in Linux's formats,
 * from the shim's view of the machine's interfaces (netdev.h): "lo"
 * always (no counters: loopback traffic is not counted, all zero), and
 * "eth0" while the card is up, with the card's counters
 * (cub_arch_nic_stats: frames and bytes each way, receive drops, sends
 * refused for a full ring as transmit drops). The routing table holds
 * eth0's subnet and, with a gateway, the default route through it, as
 * tools that read it for the gateway expect (addresses are the hex of
 * the network-order word as read on a little-endian machine, like
 * Linux's). Runs under the fs lock (procfs_impl.h).
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>

#include "netdev.h"
#include "procfs_impl.h"

#define RTF_UP 0x0001
#define RTF_GATEWAY 0x0002

/* a in /proc/net/route's hex: the bytes of the network-order address
 * read as a little-endian word, as Linux prints it on x86. */
static uint32_t le_word(cub_ip4_t a)
{
	return (a >> 24) | (a >> 8 & 0xff00) | (a << 8 & 0xff0000) | (a << 24);
}

static void dev_line(struct cubi_pbuf *b, const char *name, const struct cub_arch_nic_stats *s)
{
	cubi_pbuf_printf(b, "%6s: %7lu %7lu %4u %4lu %4u %5u %10u %9u "
			 "%8lu %7lu %4u %4lu %4u %5u %7u %10u\n", name,
			 (unsigned long)s->rx_bytes, (unsigned long)s->rx_frames, 0u,
			 (unsigned long)s->rx_dropped, 0u, 0u, 0u, 0u,
			 (unsigned long)s->tx_bytes, (unsigned long)s->tx_frames, 0u,
			 (unsigned long)s->tx_full, 0u, 0u, 0u, 0u);
}

void cubi_procfs_net_dev(struct cubi_pbuf *b, int tid)
{
	struct cub_arch_nic_stats s = { 0 };

	(void)tid;
	cubi_pbuf_printf(b, "Inter-|   Receive                            "
			 "                    |  Transmit\n"
			 " face |bytes    packets errs drop fifo frame compressed "
			 "multicast|bytes    packets errs drop fifo colls carrier "
			 "compressed\n");
	dev_line(b, "lo", &s);
	if (cubi_netdev.nif && cub_arch_nic_stats(0, &s) == 0)
		dev_line(b, "eth0", &s);
}

static void route_line(struct cubi_pbuf *b, cub_ip4_t dst, cub_ip4_t gw, unsigned flags,
		       cub_ip4_t mask)
{
	char line[128];

	cub_snprintf(line, sizeof(line), "eth0\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t0\t0\t0",
		     (unsigned)le_word(dst), (unsigned)le_word(gw), flags, (unsigned)le_word(mask));
	cubi_pbuf_printf(b, "%-127s\n", line);
}

void cubi_procfs_net_route(struct cubi_pbuf *b, int tid)
{
	cub_ip4_t mask;

	(void)tid;
	cubi_pbuf_printf(b, "%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\t"
			 "Metric\tMask\t\tMTU\tWindow\tIRTT");
	if (!cubi_netdev.nif)
		return;
	mask = cubi_netdev.prefix ? ~(cub_ip4_t)0 << (32 - cubi_netdev.prefix) : 0;
	if (cubi_netdev.gateway)
		route_line(b, 0, cubi_netdev.gateway, RTF_UP | RTF_GATEWAY, 0);
	route_line(b, cubi_netdev.addr & mask, 0, RTF_UP, mask);
}
