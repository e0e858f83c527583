/*
 * dhcp_tap.h - A's frames timed where its stack sends them (the
 * driver's send, before the wire carries them), for the DHCP tests
 * that check RFC 5227's timings: test_net_dhcp_probe, test_net_dhcp_rate.
 * Include after dhcp_fake.h; set A->ops = &tap_ops after start().
 * A time taken here is at or before the wire's, and at or after the
 * stack decided to send: a gap the stack keeps between two sends is
 * never shorter here.
 */
#ifndef DHCP_TAP_H
#define DHCP_TAP_H

#define TX 64
#define TX_KEEP 300			/* bytes kept: a DHCP message's type */

static struct {
	uint8_t f[TX_KEEP];
	size_t len;
	uint64_t t;			/* when A's stack sent it */
} tx[TX];
static unsigned ntx;

static int tap_send(struct cub_netif *nif, const void *frame, size_t len)
{
	if (len >= 42 && ntx < TX) {
		memcpy(tx[ntx].f, frame, len < TX_KEEP ? len : TX_KEEP);
		tx[ntx].len = len;
		tx[ntx++].t = cub_time_now();
	}
	return wire_send(nif, frame, len);
}

static const struct cub_netif_ops tap_ops = { .send = tap_send };

/* tx[i] is an ARP probe (a request from 0.0.0.0) of ip, or of any
 * address when ip is 0. */
static bool is_probe(unsigned i, cub_ip4_t ip)
{
	const uint8_t *a = tx[i].f + 14;

	return t_get16(tx[i].f + 12) == 0x0806 && t_get16(a + 6) == 1 &&
	       t_get32(a + 14) == 0 && (!ip || t_get32(a + 24) == ip);
}

/* The DHCP message type of tx[i] (a datagram to port 67 whose first
 * option is the type, as the client writes it), else 0. */
static unsigned tx_type(unsigned i)
{
	const uint8_t *f = tx[i].f;

	if (tx[i].len < 42 + HDR + 7 || t_get16(f + 12) != 0x0800 || f[23] != 17 ||
	    t_get16(f + 36) != 67 || f[42 + HDR + 4] != 53)
		return 0;
	return f[42 + HDR + 6];
}

/* The indices of A's probes of ip (0: any), in order, into idx (up to
 * TX); returns how many. */
static unsigned probes_of(cub_ip4_t ip, unsigned *idx)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ntx; i++)
		if (is_probe(i, ip))
			idx[n++] = i;
	return n;
}

/* The index of the last message of DHCP type `type` before index
 * `before` (-1: none), or of the first after `after` (first_after). */
static int last_before(unsigned type, unsigned before)
{
	for (unsigned i = before; i-- > 0;)
		if (tx_type(i) == type)
			return (int)i;
	return -1;
}

static int first_after(unsigned type, unsigned after)
{
	for (unsigned i = after + 1; i < ntx; i++)
		if (tx_type(i) == type)
			return (int)i;
	return -1;
}

#endif
