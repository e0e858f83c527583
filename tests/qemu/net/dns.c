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
 * literal address; one whose UDP answer the server truncates (TC), so
 * that it is asked again over TCP (40 addresses, a reply over 512
 * bytes); one looked up twice through a cache, the second time without
 * a query (dns_host.py counts them); through server lists, a name past
 * an address nobody has and SERVFAIL from the host listed twice
 * (cub_dns_lookup_servers); a lookup at a UDP port where nothing
 * listens, ended at once by the ICMP port unreachable; reverse lookups
 * (PTR: a plain one, an RFC 2317 CNAME to a classless zone, a missing
 * one) and SRV records (sorted by priority, the second lookup from a
 * cache; a "." target; 20 records truncated over UDP, whole over TCP);
 * last "web.cubrt.test", the host
 * itself, where it connects by TCP and reads the greeting. Prints one
 * line per check and "dns: N of N checks passed".
 *
 * Not asked: QEMU's own DNS (10.0.2.3), which forwards to the host's
 * resolver; with no network beyond the host here, what it says about a
 * PTR or SRV name (NXDOMAIN, SERVFAIL, silence) depends on the host's
 * setup, not on us, and silence would cost the whole timeout under TCG.
 */
#include <cubrt/dns.h>
#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "netup.h"

#define SEC CUB_NSEC_PER_SEC
#define HOST CUB_IP4(10, 0, 2, 2)

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
	/* The server ignores the first query; a loaded host may be slow
	 * with the second too (then a third goes out a second later). */
	check("slow.cubrt.test: answered after a retry",
	      rc == 0 && r.queries >= 2 && r.addr[0] == CUB_IP4(10, 7, 7, 7));
	rc = cub_dns_lookup(nif, HOST, port, "10.0.2.2", 5 * SEC, &r);
	check("10.0.2.2: literal, no query", rc == 0 && r.queries == 0 && r.addr[0] == HOST);
	rc = cub_dns_lookup(nif, HOST, port, "big.cubrt.test", 5 * SEC, &r);
	if (rc)
		cub_printk("big.cubrt.test: %s\n", cub_strerror(rc));
	check("big.cubrt.test: truncated over UDP, answered over TCP",
	      rc == 0 && r.tcp && r.queries == 2 && r.count == CUB_DNS_ADDRS_MAX &&
	      r.addr[0] == CUB_IP4(10, 1, 0, 1) && r.addr[7] == CUB_IP4(10, 1, 0, 8));
}

/* The same name twice through a cache: one query. */
static void cached(struct cub_netif *nif, uint16_t port)
{
	static struct cub_dns_cache_entry slots[4];
	static struct cub_dns_cache cache;
	struct cub_dns_cache_stats st;
	struct cub_dns_result r;
	int rc;

	cub_dns_cache_init(&cache, slots, 4);
	rc = cub_dns_cache_lookup(&cache, nif, HOST, port, "cached.cubrt.test", 5 * SEC, &r);
	check("cached.cubrt.test: asked", rc == 0 && !r.cached && r.queries == 1 &&
	      r.addr[0] == CUB_IP4(10, 6, 6, 6));
	rc = cub_dns_cache_lookup(&cache, nif, HOST, port, "Cached.cubrt.test.", 5 * SEC, &r);
	check("again: from the cache, no query, ttl 60 at most",
	      rc == 0 && r.cached && r.queries == 0 && r.addr[0] == CUB_IP4(10, 6, 6, 6) &&
	      r.ttl_s >= 1 && r.ttl_s <= 60);
	cub_dns_cache_stats(&cache, &st);
	check("cache: 1 hit, 1 miss", st.hits == 1 && st.misses == 1 && st.entries == 1);
}

/* Server lists: a nobody on the user network (no ARP reply: its share
 * runs out or its resolution fails) before the host, which answers; the
 * host twice, failing (SERVFAIL), asked twice. And the host's UDP port
 * web, where nothing listens (dns_host.py has TCP there): QEMU's user
 * network passes the host's port unreachable on as ICMP, which ends the
 * lookup at once. */
static void servers(struct cub_netif *nif, uint16_t port, uint16_t web)
{
	uint64_t t0;

	const cub_ip4_t nobody_first[] = { CUB_IP4(10, 0, 2, 99), HOST };
	const cub_ip4_t twice[] = { HOST, HOST };
	struct cub_dns_result r;
	int rc;

	rc = cub_dns_lookup_servers(nif, nobody_first, 2, port, "many.cubrt.test", 6 * SEC, &r);
	if (rc)
		cub_printk("servers: many.cubrt.test: %s\n", cub_strerror(rc));
	check("[10.0.2.99, host] many.cubrt.test: the host's answer",
	      rc == 0 && r.server == HOST && r.count == 5 && r.addr[0] == CUB_IP4(10, 0, 0, 1));
	rc = cub_dns_lookup_servers(nif, twice, 2, port, "fail.cubrt.test", 5 * SEC, &r);
	check("[host, host] fail.cubrt.test: both asked, EAGAIN",
	      rc == -CUB_EAGAIN && r.queries >= 2 && r.server == HOST);
	t0 = cub_time_now();
	rc = cub_dns_lookup(nif, HOST, web, "x.cubrt.test", 4 * SEC, &r);
	t0 = cub_time_now() - t0;
	if (rc != -CUB_ECONNREFUSED || t0 >= 2 * SEC)
		cub_printk("servers: nobody on UDP %u: %s after %llu ms\n", web, cub_strerror(rc),
			   (unsigned long long)(t0 / CUB_NSEC_PER_MSEC));
	check("nothing on the host's UDP port: ECONNREFUSED within 2 s of 4",
	      rc == -CUB_ECONNREFUSED && t0 < 2 * SEC && r.queries == 1);
}

/* PTR and SRV at the host's server. */
static void ptr_srv(struct cub_netif *nif, uint16_t port)
{
	static struct cub_dns_cache_entry slots[2];
	static struct cub_dns_cache cache;
	static struct cub_dns_srv s[24];
	const cub_ip4_t host[] = { HOST };
	struct cub_dns_result r;
	char name[CUB_DNS_NAME_MAX + 1];
	bool sorted = true;
	int rc;

	rc = cub_dns_reverse(nif, host, 1, port, CUB_IP4(10, 9, 8, 7), 5 * SEC, name,
			     sizeof(name), &r);
	check("10.9.8.7 -> host.cubrt.test (PTR)", rc == 0 && !cub_strcmp(name, "host.cubrt.test"));
	rc = cub_dns_reverse(nif, host, 1, port, CUB_IP4(10, 9, 8, 6), 5 * SEC, name,
			     sizeof(name), &r);
	check("10.9.8.6 -> CNAME 6.0/25... -> classless.cubrt.test (RFC 2317)",
	      rc == 0 && !cub_strcmp(name, "classless.cubrt.test") &&
	      !cub_strcmp(r.canonical, "6.0/25.8.9.10.in-addr.arpa"));
	rc = cub_dns_reverse(nif, host, 1, port, CUB_IP4(10, 9, 8, 5), 5 * SEC, name,
			     sizeof(name), &r);
	check("10.9.8.5: ENOENT (NXDOMAIN)", rc == -CUB_ENOENT);
	cub_dns_cache_init(&cache, slots, 2);
	for (int i = 0; i < 2; i++) {
		rc = cub_dns_cache_lookup_srv(&cache, nif, host, 1, port, "_echo._tcp.cubrt.test",
					      5 * SEC, s, 24, &r);
		check(i ? "_echo._tcp again: from the cache" : "_echo._tcp: a|b (10), c (20)",
		      rc == 3 && r.cached == (i == 1) && s[0].priority == 10 &&
		      s[1].priority == 10 && !cub_strcmp(s[2].target, "c.cubrt.test") &&
		      cub_strcmp(s[0].target, s[1].target) && s[0].port == 7);
	}
	rc = cub_dns_lookup_srv(nif, host, 1, port, "_none._tcp.cubrt.test", 5 * SEC, s, 24, &r);
	check("_none._tcp: target \".\": EADDRNOTAVAIL", rc == -CUB_EADDRNOTAVAIL);
	rc = cub_dns_lookup_srv(nif, host, 1, port, "_big._tcp.cubrt.test", 5 * SEC, s, 24, &r);
	for (int i = 1; i > 0 && i < rc; i++)
		sorted = sorted && s[i - 1].priority <= s[i].priority;
	if (rc < 0)
		cub_printk("_big._tcp: %s\n", cub_strerror(rc));
	check("_big._tcp: truncated over UDP, 20 records over TCP, sorted",
	      rc == 20 && r.tcp && sorted && s[0].priority == 0 && s[19].priority == 1);
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
	uint16_t port, web;
	struct cub_netif *nif = netup("usage: dns PORT WEB", &port, &web);

	if (!nif)
		return 1;
	lookups(nif, port);
	cached(nif, port);
	servers(nif, port, web);
	ptr_srv(nif, port);
	visit(nif, port, web);
	return check_summary("dns");
}
