/*
 * netup.h - the start-up the host-driven client tests of tests/qemu/net
 * share (dns.c, sntp.c): two port numbers from the command line ("P Q",
 * each 1..65535), NIC 0 attached and an address leased by DHCP, each a
 * check (../check.h). Include once per program (static functions).
 */
#ifndef QEMU_NET_NETUP_H
#define QEMU_NET_NETUP_H

#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/time.h>

#include "../check.h"

/* Reads a decimal number from *s, skipping one space after it. */
static unsigned netup_number(const char **s)
{
	unsigned n = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++)
		n = n * 10 + (unsigned)(**s - '0');
	if (**s == ' ')
		(*s)++;
	return n;
}

/*
 * The two ports into *p and *q, then NIC 0 attached and leased
 * (checks "attach NIC 0" and "dhcp"). Returns the interface; NULL
 * (after printing usage, e.g. "usage: dns PORT WEB", when the ports are
 * missing or out of range) when the test cannot go on.
 */
static struct cub_netif *netup(const char *usage, uint16_t *p, uint16_t *q)
{
	const char *arg = cub_cmdline();
	struct cub_netif *nif = NULL;
	struct cub_dhcp_lease lease;
	unsigned a = arg ? netup_number(&arg) : 0, b = arg ? netup_number(&arg) : 0;

	if (!a || a > 65535 || !b || b > 65535) {
		cub_printk("%s\n", usage);
		return NULL;
	}
	*p = (uint16_t)a;
	*q = (uint16_t)b;
	check("attach NIC 0", cub_net_attach(0, &nif) == 0);
	if (!nif)
		return NULL;
	check("dhcp", cub_net_dhcp(nif, 5 * CUB_NSEC_PER_SEC, &lease) == 0);
	return nif;
}

#endif
