/*
 * netdev.c - the shim's network card (netdev.h is the interface): its
 * bring-up when a Linux program starts, and the machine's interfaces as
 * the program sees them ("lo", and "eth0" while the card is up).
 *
 * Bring-up (cubi_netdev_up, from start.c, once): when arch NIC 0 exists,
 * CUBRT_NET (netcfg.c) decides: "dhcp" (the default) leases an address
 * (cub_net_dhcp, CUBI_NET_DHCP_NS), "ADDR/PREFIX[,GATEWAY[,DNS]]" sets one,
 * "off" leaves the card alone. One console line tells the outcome:
 *     net: eth0 10.0.2.15/24 via 10.0.2.2 (dhcp)
 *     net: eth0 off (CUBRT_NET=off)
 *     net: eth0: dhcp failed: <error>; no network
 * A card that did not come up with an address is no network at all:
 * sockets stay loopback-only and no eth0 is listed. Without a card
 * nothing is printed and nothing waits. A DNS server (DHCP's, or the
 * static one) goes into /etc/resolv.conf unless that file exists; DHCP's
 * option 6 may name several (up to CUB_DHCP_DNS_MAX), each a nameserver
 * line in its order.
 *
 * Then (cubi_netdev_time, from start.c) CUBRT_NTP=ADDR[:PORT][,...] (up
 * to four servers) sets the wall clock from the first of them that
 * answers (cub_sntp_query, CUBI_NTP_NS each, in order), with one console
 * line (and one per server that failed, when there are several); without
 * a network, or when none answers, the clock stays as it is. Unless
 * there is no network or every server refused (a kiss-o'-death; a port
 * unreachable is no refusal: the server may start later), an
 * SNTP keeper (cub_sntp_keeper_start_list) then keeps the clock by the
 * servers that did not refuse, the one that answered first, for the
 * program's life (failing over along the list): a poll
 * every 64 s backing off to 1024 s, offsets under 128 ms slewed,
 * larger ones stepped (each step moves what waits for a wall time,
 * cubi_wall_stepped, and prints a line).
 *
 * Invariants and locking: netdev.h's (written once before the program
 * runs, read-only afterwards). /etc is written under the fs lock.
 */
#include <cubrt/arch.h>
#include <cubrt/fmt.h>
#include <cubrt/sntp.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "clock.h"
#include "netdev.h"
#include "ramfs.h"
#include "socket.h"
#include "vfs.h"

#define ETH_NAME "eth0"
#define ETH_INDEX 2
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
/* IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP */
#define ETH_FLAGS 0x11043u
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_HOST 254

struct cubi_netdev cubi_netdev;

bool cubi_netdev_local(uint32_t addr)
{
	return addr >> 24 == 127 || (cubi_netdev.nif && addr == cubi_netdev.addr);
}

bool cubi_netdev_if(int index, struct cubi_ifinfo *o)
{
	if (index == CUBI_LO_INDEX) {
		*o = (struct cubi_ifinfo){ CUBI_LO_INDEX, CUBI_LO_NAME, CUBI_LO_TYPE,
					   CUBI_LO_FLAGS, CUBI_LO_MTU, { 0 }, { 0 },
					   CUBI_LO_ADDR, CUBI_LO_PREFIX, RT_SCOPE_HOST, true };
		return true;
	}
	if (index != ETH_INDEX || !cubi_netdev.nif)
		return false;
	*o = (struct cubi_ifinfo){ ETH_INDEX, ETH_NAME, ARPHRD_ETHER, ETH_FLAGS, CUB_IP4_MTU,
				   { 0 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
				   cubi_netdev.addr, cubi_netdev.prefix, RT_SCOPE_UNIVERSE,
				   !cubi_netdev.dhcp };
	cub_memcpy(o->mac, cubi_netdev.mac, 6);
	return true;
}

int cubi_netdev_if_named(const char *name)
{
	struct cubi_ifinfo i;

	for (int k = 1; k <= CUBI_IF_MAX; k++)
		if (cubi_netdev_if(k, &i) && !cub_strcmp(i.name, name))
			return k;
	return 0;
}

/* ------------------------------------------------------------ bring-up */

/* The DNS servers of the first lease (all of DHCP's option 6, up to
 * CUB_DHCP_DNS_MAX) or the static configuration's one, for
 * /etc/resolv.conf. Written once, at bring-up. */
static cub_ip4_t resolv[CUB_DHCP_DNS_MAX];
static unsigned resolv_n;

/* /etc/resolv.conf naming the resolv servers in order (a "nameserver"
 * line each: musl and glibc read up to 3, Go all), unless there is one
 * (or /etc is no directory). */
static void write_resolv(void)
{
	struct cubi_rnode *etc = NULL, *f;
	char line[CUB_DHCP_DNS_MAX * 28], ip[16];
	int n = 0;

	for (unsigned i = 0; i < resolv_n; i++)
		n += cub_snprintf(line + n, sizeof(line) - (size_t)n, "nameserver %s\n",
				  cubi_ip4_str(resolv[i], ip));

	cubi_fs_lock();
	(void)cubi_ramfs_create(cubi_ramfs_root(), "etc", 3, CUBI_S_IFDIR | 0755, &etc);
	if (etc && cubi_ramfs_is_dir(etc) &&
	    cubi_ramfs_create(etc, "resolv.conf", 11, CUBI_S_IFREG | 0644, &f) == 0)
		(void)cubi_ramfs_write(f, line, (size_t)n, 0);
	cubi_fs_unlock();
}

/* The DHCP lease's keeper (renewal, rebinding, a new lease after a
 * loss): runs while the program does. */
static struct cub_dhcp_keeper keeper;

static void report_up(void);

/* The keeper's callback (its coroutine): the lease changed. The fields
 * change together with interrupts off, so that a reader in a critical
 * section sees one lease; a renewal that keeps the address is silent.
 * /etc/resolv.conf keeps the first lease's servers (the program may have
 * read or replaced it). */
static void lease_changed(void *arg, const struct cub_dhcp_lease *l)
{
	cub_ip4_t was = cubi_netdev.addr, dns = cubi_netdev.dns;
	unsigned long irq = cub_arch_irq_save();

	(void)arg;
	cubi_netdev.addr = l->addr;
	if (l->addr) {
		cubi_netdev.prefix = l->prefix_len;
		cubi_netdev.gateway = l->gateway;
		cubi_netdev.dns = l->dns ? l->dns : dns;
	}
	cub_arch_irq_restore(irq);
	if (!l->addr) {
		cub_printk("net: " ETH_NAME ": dhcp lease lost; asking again\n");
		return;
	}
	if (l->addr != was)
		report_up();
}

/* Configures nif as c says: 0 (cubi_netdev filled), or an error. */
static int configure(struct cub_netif *nif, const struct cubi_netcfg *c)
{
	struct cub_dhcp_lease lease;
	int rc;

	if (c->mode == CUBI_NET_STATIC) {
		rc = cub_netif_configure(nif, c->addr, c->prefix, c->gateway);
		if (rc)
			return rc;
		lease = (struct cub_dhcp_lease){ .addr = c->addr, .prefix_len = c->prefix,
						 .gateway = c->gateway, .dns = c->dns,
						 .dns_all = { c->dns }, .dns_count = c->dns != 0 };
	} else if ((rc = cub_net_dhcp(nif, CUBI_NET_DHCP_NS, &lease)) != 0) {
		return rc;
	} else if (lease.lease_s != 0xffffffffu &&
		   (rc = cub_dhcp_keeper_start(&keeper, nif, &lease, lease_changed, NULL))) {
		cub_printk("net: " ETH_NAME ": dhcp: no renewal: %s\n", cub_strerror(rc));
	}
	cubi_netdev.addr = lease.addr;
	cubi_netdev.prefix = lease.prefix_len;
	cubi_netdev.gateway = lease.gateway;
	cubi_netdev.dns = lease.dns;
	cub_memcpy(resolv, lease.dns_all, sizeof(resolv));
	resolv_n = lease.dns_count;
	cubi_netdev.dhcp = c->mode == CUBI_NET_DHCP;
	return 0;
}

/* The console line of a card that came up. */
static void report_up(void)
{
	char a[16], g[16];

	cub_printk("net: " ETH_NAME " %s/%u", cubi_ip4_str(cubi_netdev.addr, a),
		   cubi_netdev.prefix);
	if (cubi_netdev.gateway)
		cub_printk(" via %s", cubi_ip4_str(cubi_netdev.gateway, g));
	cub_printk(" (%s)\n", cubi_netdev.dhcp ? "dhcp" : "static");
}

void cubi_netdev_up(char *const envp[])
{
	static bool done;
	struct cub_arch_nic_info info;
	const char *v = cubi_netcfg_find(envp);
	struct cubi_netcfg c;
	struct cub_netif *nif;
	int rc;

	if (done || cub_arch_nic_info(0, &info) != 0)
		return;			/* no card: nothing changes */
	done = true;
	if (cubi_netcfg_parse(v, &c)) {
		cub_printk("net: " ETH_NAME ": " CUBI_NETCFG_VAR "=%s: not dhcp, off nor "
			   "ADDR/PREFIX[,GATEWAY[,DNS]]; no network\n", v);
		return;
	}
	if (c.mode == CUBI_NET_OFF) {
		cub_printk("net: " ETH_NAME " off (" CUBI_NETCFG_VAR "=off)\n");
		return;
	}
	rc = cub_net_attach(0, &nif);
	if (!rc)
		rc = configure(nif, &c);
	if (rc) {
		cub_printk("net: " ETH_NAME ": %s failed: %s; no network\n",
			   c.mode == CUBI_NET_DHCP ? "dhcp" : "configuration", cub_strerror(rc));
		return;
	}
	cub_memcpy(cubi_netdev.mac, info.mac, 6);
	cubi_netdev.nif = nif;
	report_up();
	if (resolv_n)
		write_resolv();
}

/* ---------------------------------------------------------- the clock */

/* The keeper of CUBRT_NTP (started once, never stopped). */
static struct cub_sntp_keeper ntp_keeper;

struct cub_sntp_keeper *cubi_netdev_ntp_keeper(void)
{
	return &ntp_keeper;
}

/* A magnitude in s.ms for the console. */
static void put_secs(const char *what, int64_t ns, const char *tail)
{
	uint64_t mag = ns < 0 ? (uint64_t)-(ns + 1) + 1 : (uint64_t)ns;

	cub_printk("%s%c%llu.%03llu s%s", what, ns < 0 ? '-' : '+',
		   (unsigned long long)(mag / 1000000000ull),
		   (unsigned long long)(mag % 1000000000ull / 1000000ull), tail);
}

/* The keeper stepped the clock: what waits for a wall time follows. */
static void keeper_stepped(void *arg, int64_t step)
{
	(void)arg;
	cubi_wall_stepped(step);
	put_secs("time: ntp stepped the clock ", step, "\n");
}

/* Keeps the clock by the servers of l[0..n) not refused (address 0),
 * from l[from] round the list, from first_ns on. */
static void keep_time(const struct cub_sntp_server *l, unsigned n, unsigned from,
		      uint64_t first_ns)
{
	struct cub_sntp_keeper_opts o = { .first_ns = first_ns, .stepped = keeper_stepped };
	struct cub_sntp_server keep[CUB_SNTP_KEEPER_SERVERS];
	unsigned m = 0;
	int rc;

	for (unsigned i = 0; i < n; i++)
		if (l[(from + i) % n].addr)
			keep[m++] = l[(from + i) % n];
	if (!m)
		return;		/* every server refused */
	rc = cub_sntp_keeper_start_list(&ntp_keeper, cubi_netdev.nif, keep, m, &o);
	if (rc)
		cub_printk("time: ntp keeper: %s; clock not kept\n", cub_strerror(rc));
}

/* The console line of a clock set from addr:port by r. */
static void report_time(cub_ip4_t addr, uint16_t port, const struct cub_sntp_result *r)
{
	uint64_t mag = r->offset_ns < 0 ? (uint64_t)-(r->offset_ns + 1) + 1 : (uint64_t)r->offset_ns;
	char a[16];

	cub_printk("time: set from %s:%u, offset %c%llu.%03llu s, stratum %u\n",
		   cubi_ip4_str(addr, a), (unsigned)port, r->offset_ns < 0 ? '-' : '+',
		   (unsigned long long)(mag / 1000000000ull),
		   (unsigned long long)(mag % 1000000000ull / 1000000ull), r->stratum);
}

/* Whether a query's failure refused the server: a kiss-o'-death
 * (res->kiss set). -CUB_ECONNREFUSED with no kiss is a port
 * unreachable: no NTP server there now, an ordinary failure that leaves
 * the server to the keeper. */
static bool kissed(int rc, const struct cub_sntp_result *r)
{
	return rc == -CUB_ECONNREFUSED && r->kiss[0];
}

/* The rest of a failure's console line (after "failed: "). */
static void report_why(int rc, const struct cub_sntp_result *r)
{
	if (kissed(rc, r))
		cub_printk("refused (kiss-o'-death %s)", r->kiss);
	else if (rc == -CUB_ECONNREFUSED)
		cub_printk("port unreachable");
	else
		cub_printk("%s", cub_strerror(rc));
}

/* One server's failure, on a line of its own when there are several. */
static void report_failure(const struct cub_sntp_server *e, int rc,
			   const struct cub_sntp_result *r)
{
	char a[16];

	cub_printk("time: ntp %s:%u failed: ", cubi_ip4_str(e->addr, a), (unsigned)e->port);
	report_why(rc, r);
	cub_printk("\n");
}

/* Asks the servers of l in order until one answers (*r): its index, or
 * -1 with *rc the last failure. A refused entry's address becomes 0
 * (the keeper leaves it out). */
static int first_answer(struct cub_sntp_server *l, unsigned n, struct cub_sntp_result *r,
			int *rc)
{
	for (unsigned i = 0; i < n; i++) {
		*rc = cub_sntp_query(cubi_netdev.nif, l[i].addr, l[i].port, CUBI_NTP_NS, r);
		if (*rc == 0)
			return (int)i;
		if (n > 1)
			report_failure(&l[i], *rc, r);
		if (kissed(*rc, r))
			l[i].addr = 0;
	}
	return -1;
}

void cubi_netdev_time(char *const envp[])
{
	const char *v = cubi_env_find(envp, CUBI_NTPCFG_VAR);
	struct cub_sntp_server l[CUB_SNTP_KEEPER_SERVERS];
	struct cub_sntp_result r;
	unsigned n;
	int i, rc = 0;

	if (!v)
		return;
	if (cubi_ntpcfg_parse(v, l, &n)) {
		cub_printk("time: " CUBI_NTPCFG_VAR "=%s: not ADDR[:PORT][,ADDR[:PORT]...] "
			   "(at most %u); clock unchanged\n", v, CUB_SNTP_KEEPER_SERVERS);
		return;
	}
	if (!cubi_netdev.nif || !cubi_netdev.addr) {
		cub_printk("time: ntp failed: no network; clock unchanged\n");
		return;
	}
	i = first_answer(l, n, &r, &rc);
	if (i < 0) {
		if (n > 1) {
			cub_printk("time: ntp failed: no server answered; clock unchanged\n");
		} else {
			cub_printk("time: ntp failed: ");
			report_why(rc, &r);
			cub_printk("; clock unchanged\n");
		}
		keep_time(l, n, 0, CUB_SNTP_POLL_MIN_NS);
		return;
	}
	cub_time_set_wall(cub_time_wall() + (uint64_t)r.offset_ns);
	report_time(l[i].addr, l[i].port, &r);
	keep_time(l, n, (unsigned)i, CUB_SNTP_POLL_MIN_NS);
}
