/*
 * udpecho - a UDP echo server (RFC 862) on the network card: attach card
 * 0, lease an address by DHCP, answer every datagram on port 7 with the
 * same bytes (up to 65507: larger than a frame, they arrive in fragments
 * and leave in fragments), each client served in turn by one coroutine. The datagram
 * "quit" ends it (with its counters), so a test can stop it.
 *
 *     scripts/run --net=hostfwd=udp:127.0.0.1:5555-:7 \
 *         build/x86/examples/udpecho/udpecho
 *     # elsewhere: echo hi | nc -u -q1 127.0.0.1 5555
 */
#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#define PORT 7

static void print_ip(const char *what, cub_ip4_t a)
{
	cub_printk("%s%u.%u.%u.%u", what, (unsigned)(a >> 24), (unsigned)(a >> 16 & 255),
		   (unsigned)(a >> 8 & 255), (unsigned)(a & 255));
}

/* Echoes until "quit": returns the number of datagrams echoed. */
static long serve(struct cub_udp *u)
{
	static char buf[CUB_UDP_PAYLOAD_MAX];
	long echoed = 0;

	for (;;) {
		cub_ip4_t from;
		uint16_t port;
		int n = cub_udp_recvfrom(u, buf, sizeof(buf), &from, &port, UINT64_MAX);

		if (n < 0) {
			cub_printk("udpecho: receive failed: %s\n", cub_strerror(n));
			return -1;
		}
		if (n == 4 && cub_memcmp(buf, "quit", 4) == 0) {
			(void)cub_udp_sendto(u, from, port, "bye", 3);
			return echoed;
		}
		if (cub_udp_sendto(u, from, port, buf, (size_t)n) == n)
			echoed++;
	}
}

int cub_main(void)
{
	struct cub_netif *nif;
	struct cub_dhcp_lease l;
	struct cub_netif_stats st;
	struct cub_udp u;
	long echoed;
	int rc;

	if ((rc = cub_net_attach(0, &nif)) || (rc = cub_net_dhcp(nif, 10 * CUB_NSEC_PER_SEC, &l)) ||
	    (rc = cub_udp_open(&u, nif, PORT))) {
		cub_printk("udpecho: no network: %s (boot with scripts/run --net)\n",
			   cub_strerror(rc));
		return 1;
	}
	print_ip("udpecho: listening on ", l.addr);
	cub_printk(":%u\n", PORT);
	echoed = serve(&u);
	cub_udp_close(&u);
	cub_netif_stats(nif, &st);
	cub_printk("udpecho: %ld datagrams echoed; %lu frames in, %lu out, "
		   "%lu datagrams reassembled, %lu fragments sent\n",
		   echoed, (unsigned long)st.rx_frames, (unsigned long)st.tx_frames,
		   (unsigned long)st.ip_reassembled, (unsigned long)st.ip_frag_tx);
	return echoed < 0;
}
