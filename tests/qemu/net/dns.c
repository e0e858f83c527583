/*
 * dns.c - cub_dns_lookup on bare metal against a real DNS server: the
 * Python one dns_host.py runs on the host, reached through QEMU's user
 * network as 10.0.2.2:PORT (PORT and the host's TCP port WEB on the
 * command line: "PORT WEB").
 *
 * Leases an address by DHCP, then looks up what dns_host.py serves:
 * an alias (a CNAME chain, compressed names), five addresses, a name
 * that does not exist (NXDOMAIN), one whose server fails (SERVFAIL), one
 * whose first query the server ignores (answered after a retry), a
 * literal address; last "web.cubrt.test", the host itself, where it
 * connects by TCP and reads the greeting. Prints one line per check and
 * "dns: N of N checks passed".
 */
#include <cubrt/dns.h>
#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "../check.h"

#define SEC CUB_NSEC_PER_SEC
#define HOST CUB_IP4(10, 0, 2, 2)


/* Reads a decimal number from *s, skipping one space after it. */
static unsigned number(const char **s)
{
	unsigned n = 0;

	for (; **s >= '0' && **s <= '9'; (*s)++)
		n = n * 10 + (unsigned)(**s - '0');
	if (**s == ' ')
		(*s)++;
	return n;
}

static void lookups(struct cub_netif *nif, uint16_t port)
{
	struct cub_dns_result r;
	int rc;

	rc = cub_dns_lookup(nif, HOST, port, "Alias.CUBRT.test", 5 * SEC, &r);
	check("alias.cubrt.test -> host.cubrt.test 10.9.8.7, ttl 60",
	      rc == 0 && r.count == 1 && r.addr[0] == CUB_IP4(10, 9, 8, 7) &&
	      !cub_strcmp(r.canonical, "host.cubrt.test") && r.ttl_s == 60);
	rc = cub_dns_lookup(nif, HOST, port, "many.cubrt.test", 5 * SEC, &r);
	check("many.cubrt.test: 10.0.0.1 .. 10.0.0.5 in order",
	      rc == 0 && r.count == 5 && r.addr[0] == CUB_IP4(10, 0, 0, 1) &&
	      r.addr[4] == CUB_IP4(10, 0, 0, 5));
	rc = cub_dns_lookup(nif, HOST, port, "missing.cubrt.test", 5 * SEC, &r);
	check("missing.cubrt.test: ENOENT (NXDOMAIN)", rc == -CUB_ENOENT);
	rc = cub_dns_lookup(nif, HOST, port, "fail.cubrt.test", 5 * SEC, &r);
	check("fail.cubrt.test: EAGAIN (SERVFAIL)", rc == -CUB_EAGAIN);
	rc = cub_dns_lookup(nif, HOST, port, "slow.cubrt.test", 5 * SEC, &r);
	check("slow.cubrt.test: answered after one retry",
	      rc == 0 && r.queries == 2 && r.addr[0] == CUB_IP4(10, 7, 7, 7));
	rc = cub_dns_lookup(nif, HOST, port, "10.0.2.2", 5 * SEC, &r);
	check("10.0.2.2: literal, no query", rc == 0 && r.queries == 0 && r.addr[0] == HOST);
}

/* Looks up the host by name and reads what its TCP port web says. */
static void visit(struct cub_netif *nif, uint16_t port, uint16_t web)
{
	static const char want[] = "hello from the host\n";
	struct cub_dns_result r;
	struct cub_tcp *c = NULL;
	char buf[64];
	size_t got = 0;
	long n;
	int rc;

	check("web.cubrt.test -> 10.0.2.2",
	      cub_dns_lookup(nif, HOST, port, "web.cubrt.test", 5 * SEC, &r) == 0 &&
	      r.addr[0] == HOST);
	rc = cub_tcp_connect(nif, r.addr[0], web, 5 * SEC, &c);
	if (rc)
		cub_printk("connect: %s\n", cub_strerror(rc));
	check("connect to it", rc == 0);
	if (!c)
		return;
	while ((n = cub_tcp_recv(c, buf + got, sizeof(buf) - 1 - got, 5 * SEC)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	check("its greeting, then its FIN", n == 0 && !cub_strcmp(buf, want));
	cub_tcp_close(c);
}

int cub_main(void)
{
	const char *arg = cub_cmdline();
	struct cub_netif *nif = NULL;
	struct cub_dhcp_lease lease;
	unsigned port = arg ? number(&arg) : 0, web = arg ? number(&arg) : 0;

	if (!port || port > 65535 || !web || web > 65535) {
		cub_printk("usage: dns PORT WEB\n");
		return 1;
	}
	check("attach NIC 0", cub_net_attach(0, &nif) == 0);
	if (!nif)
		return 1;
	check("dhcp", cub_net_dhcp(nif, 5 * SEC, &lease) == 0);
	lookups(nif, (uint16_t)port);
	visit(nif, (uint16_t)port, (uint16_t)web);
	return check_summary("dns");
}
