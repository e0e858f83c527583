/*
 * tcp.c - TCP (src/net/tcp*.c) over the virtio-net driver against QEMU's
 * user-mode network, driven by tests/qemu/net/tcp_host.py:
 *   1. the guest listens on 10.0.2.15:5000 (the host reaches it through
 *      a forwarded port), takes 1 MiB from the host client up to its
 *      FIN, checked byte by byte, answers with 1 MiB of its own, shuts
 *      down and waits for the client's close;
 *   2. the guest connects to 10.0.2.2:PORT (PORT from the command line:
 *      a Python server on the host's 127.0.0.1:PORT), sends 1 MiB, shuts
 *      down, and takes the server's 1 MiB up to its FIN, checked.
 * Stream k's byte i is (i * 7 + i / 251 + k) mod 256, as in the script.
 * One line per check, timings, the options slirp agreed to (window
 * scaling, SACK, timestamps: printed, not required), the counters (no
 * segment lacking a timestamps option that was agreed), a summary.
 */
#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../check.h"

#define MS (1000ull * 1000)
#define SEC (1000ull * MS)
#define MIB (1024 * 1024)
#define GUEST_PORT 5000

static uint8_t buf[16384];

static uint8_t pat(size_t i, unsigned k)
{
	return (uint8_t)(i * 7 + i / 251 + k);
}

/* Receives stream k up to the peer's FIN; the bytes received in order
 * and intact, or a negative code. */
static long recv_stream(struct cub_tcp *c, unsigned k)
{
	size_t got = 0;

	for (;;) {
		long n = cub_tcp_recv(c, buf, sizeof(buf), 20 * SEC);

		if (n == 0)
			return (long)got;
		if (n < 0) {
			cub_printk("recv: %s after %lu bytes\n", cub_strerror((int)n),
				   (unsigned long)got);
			return n;
		}
		for (long i = 0; i < n; i++)
			if (buf[i] != pat(got + (size_t)i, k)) {
				cub_printk("recv: byte %lu differs\n",
					   (unsigned long)(got + (size_t)i));
				return -CUB_EIO;
			}
		got += (size_t)n;
	}
}

/* Sends len bytes of stream k; 0 or a negative code. */
static long send_stream(struct cub_tcp *c, unsigned k, size_t len)
{
	size_t at = 0;

	while (at < len) {
		size_t n = CUB_MIN(sizeof(buf), len - at);
		long r;

		for (size_t i = 0; i < n; i++)
			buf[i] = pat(at + i, k);
		r = cub_tcp_send(c, buf, n, 20 * SEC);
		if (r < 0) {
			cub_printk("send: %s after %lu bytes\n", cub_strerror((int)r),
				   (unsigned long)at);
			return r;
		}
		at += (size_t)r;
	}
	return 0;
}

static void rate(const char *what, uint64_t t0)
{
	uint64_t us = (cub_time_now() - t0) / 1000 + 1;

	cub_printk("%s: 1 MiB in %lu ms (%lu KiB/s)\n", what, (unsigned long)(us / 1000),
		   (unsigned long)(1024ull * 1000000 / us));
}

/* The options the peer (slirp's TCP) agreed to. */
static void show_opts(struct cub_tcp *c, const char *who)
{
	struct cub_tcp_info i;

	if (cub_tcp_info(c, &i) == 0)
		cub_printk("%s: window scaling %d, SACK %d, timestamps %d\n",
			   who, i.wscale, i.sack, i.timestamps);
}

static void serve(struct cub_netif *nif)
{
	struct cub_tcp *l, *c = NULL;
	uint64_t t0;
	uint8_t b;

	check("listen on port 5000", cub_tcp_listen(nif, GUEST_PORT, 4, &l) == 0);
	cub_printk("tcp: listening on 10.0.2.15:%d\n", GUEST_PORT);
	check("accept the host's connection", cub_tcp_accept(l, &c, 30 * SEC) == 0);
	if (!c)
		return;
	cub_printk("accepted: %s\n", cub_tcp_state_name(c));
	show_opts(c, "accepted");
	t0 = cub_time_now();
	check("1 MiB from the host, intact, up to its FIN", recv_stream(c, 1) == MIB);
	rate("host to guest", t0);
	t0 = cub_time_now();
	check("1 MiB to the host", send_stream(c, 2, MIB) == 0);
	check("shutdown", cub_tcp_shutdown(c) == 0);
	check("the host closes after checking it", cub_tcp_recv(c, &b, 1, 20 * SEC) == 0);
	rate("guest to host", t0);
	check("close", cub_tcp_close(c) == 0 && cub_tcp_close(l) == 0);
}

static void connect_out(struct cub_netif *nif, uint16_t port)
{
	struct cub_tcp *c = NULL;
	uint64_t t0;
	int r = cub_tcp_connect(nif, CUB_IP4(10, 0, 2, 2), port, 10 * SEC, &c);

	cub_printk("connect 10.0.2.2:%u: %s\n", port, cub_strerror(r));
	check("connect to the host's server", r == 0);
	if (r)
		return;
	show_opts(c, "connected");
	t0 = cub_time_now();
	check("1 MiB to the server", send_stream(c, 3, MIB) == 0);
	check("shutdown", cub_tcp_shutdown(c) == 0);
	check("1 MiB from the server, intact, up to its FIN", recv_stream(c, 4) == MIB);
	rate("both ways", t0);
	check("close", cub_tcp_close(c) == 0);
}

static void counters(struct cub_netif *nif)
{
	struct cub_netif_stats s;

	cub_netif_stats(nif, &s);
	cub_printk("tcp: %lu segments in, %lu out, %lu retransmitted, %lu timeouts, "
		   "%lu out of order, %lu resets in, %lu out, %lu PAWS drops\n",
		   (unsigned long)s.tcp_rx, (unsigned long)s.tcp_tx,
		   (unsigned long)s.tcp_retransmits, (unsigned long)s.tcp_timeouts,
		   (unsigned long)s.tcp_ooo, (unsigned long)s.tcp_rst_rx,
		   (unsigned long)s.tcp_rst_tx, (unsigned long)s.tcp_paws);
	check("no malformed segment",
	      s.tcp_bad + s.tcp_bad_cksum + s.ip_bad_cksum + s.ip_bad_header == 0);
	check("no segment without the agreed timestamps",
	      s.tcp_ts_missing == 0);
	check("the counters add up",
	      s.tcp_rx == s.tcp_bad + s.tcp_bad_cksum + s.tcp_no_port +
			  s.tcp_backlog_drops + s.tcp_to_conn &&
	      s.tcp_bytes_rx == 2 * MIB && s.tcp_bytes_tx == 2 * MIB);
}

int cub_main(void)
{
	struct cub_netif *nif = NULL;
	const char *arg = cub_cmdline();
	unsigned port = 0;

	for (; arg && *arg >= '0' && *arg <= '9'; arg++)
		port = port * 10 + (unsigned)(*arg - '0');
	check("attach NIC 0", cub_net_attach(0, &nif) == 0);
	if (!nif)
		return 1;
	check("configure 10.0.2.15/24 via 10.0.2.2",
	      cub_netif_configure(nif, CUB_IP4(10, 0, 2, 15), 24, CUB_IP4(10, 0, 2, 2)) == 0);
	serve(nif);
	if (port > 0 && port < 65536)
		connect_out(nif, (uint16_t)port);
	else
		check("a server port on the command line", false);
	counters(nif);
	return check_summary("tcp");
}
