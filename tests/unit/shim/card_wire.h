/*
 * card_wire.h - the shim's network card as interface A of an in-memory
 * wire (tests/unit/net/net_test.h), interface B the remote end, for the
 * tests of shim sockets that go through the card (test_shim_tcpnet,
 * test_shim_tcprst, test_shim_tcpmss): up() starts the wire with a
 * short TIME_WAIT and makes A the shim's card; down() waits until both
 * interfaces freed every connection and listener they made, then stops
 * the wire.
 * Include once, after cmocka.h, netdev.h and net_test.h.
 */
#ifndef SHIM_CARD_WIRE_H
#define SHIM_CARD_WIRE_H

#include <string.h>

static struct wire w;
static struct cub_netif *B;

static void up(void)
{
	struct cub_tcp_params fast = { .time_wait = 20 * MS };

	assert_int_equal(wire_start(&w), 0);
	B = &w.end[1].nif;
	assert_int_equal(cub_tcp_set_params(&w.end[0].nif, &fast), 0);
	assert_int_equal(cub_tcp_set_params(B, &fast), 0);
	cubi_netdev = (struct cubi_netdev){ .nif = &w.end[0].nif, .addr = IP_A, .prefix = 24 };
}

static void down(void)
{
	for (int i = 0; i < 2000; i++) {
		struct cub_netif_stats a, b;

		cub_netif_stats(&w.end[0].nif, &a);
		cub_netif_stats(B, &b);
		if (a.tcp_freed == a.tcp_active_opens + a.tcp_passive_opens &&
		    b.tcp_freed == b.tcp_active_opens + b.tcp_passive_opens)
			break;
		cub_sleep(MS);
	}
	memset(&cubi_netdev, 0, sizeof(cubi_netdev));
	wire_stop(&w);
}

#endif
