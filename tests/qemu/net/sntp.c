/*
 * sntp.c - cub_sntp_query on bare metal against a real SNTP server: the
 * Python one sntp_host.py runs on the host, reached through QEMU's user
 * network as 10.0.2.2:PORT, which serves a time 1000 days ahead of the
 * host's and ignores the first request it gets; on 10.0.2.2:KOD another
 * answers every request with a kiss-o'-death (DENY); on QUIET a socket
 * that never answers; on CLOSED nothing. Command line: "PORT KOD QUIET
 * CLOSED".
 *
 * Leases an address by DHCP, asks PORT (answered after one retry: two
 * requests; offset about +1000 days, stratum 2, a small delay), sets the
 * wall clock by the offset and prints it as "sntp: wall clock now N"
 * (Unix seconds) for sntp_host.py to compare with the time it served;
 * asks KOD (-CUB_ECONNREFUSED, "DENY"); asks QUIET (-CUB_ETIMEDOUT
 * after two requests); asks CLOSED (QEMU's user network passes the
 * host's port unreachable on as ICMP: -CUB_ECONNREFUSED with no kiss,
 * well inside its 4 s). One line per check, then "sntp: N of N checks
 * passed".
 */
#include <cubrt/fmt.h>
#include <cubrt/net.h>
#include <cubrt/runtime.h>
#include <cubrt/sntp.h>
#include <cubrt/string.h>
#include <cubrt/time.h>

#include "netup.h"

#define SEC CUB_NSEC_PER_SEC
#define DAY (86400 * SEC)
#define HOST CUB_IP4(10, 0, 2, 2)

static void queries(struct cub_netif *nif, uint16_t port, uint16_t kod)
{
	struct cub_sntp_result r;
	int64_t off;
	int rc;

	rc = cub_sntp_query(nif, HOST, port, 5 * SEC, &r);
	off = r.offset_ns;
	cub_printk("sntp: rc %d, offset %lld ns, delay %lld ns, stratum %u, %u requests\n", rc,
		   (long long)off, (long long)r.delay_ns, r.stratum, r.queries);
	check("the server's time, after one retry", rc == 0 && r.queries == 2);
	check("offset about +1000 days", off > (int64_t)(999 * DAY) && off < (int64_t)(1001 * DAY));
	check("stratum 2, leap 0, version 4", r.stratum == 2 && r.leap == 0 && r.version == 4);
	check("delay under 1 s", r.delay_ns >= 0 && r.delay_ns < (int64_t)SEC);
	if (rc == 0) {
		cub_time_set_wall(cub_time_wall() + (uint64_t)off);
		cub_printk("sntp: wall clock now %llu\n",
			   (unsigned long long)(cub_time_wall() / SEC));
	}
	rc = cub_sntp_query(nif, HOST, kod, 5 * SEC, &r);
	check("kiss-o'-death DENY: ECONNREFUSED",
	      rc == -CUB_ECONNREFUSED && !cub_strcmp(r.kiss, "DENY"));
}

/* A silent server and a closed port: the first costs the timeout, the
 * second ends at once with the host's port unreachable. */
static void unanswered(struct cub_netif *nif, uint16_t quiet, uint16_t closed)
{
	struct cub_sntp_result r;
	uint64_t t0;
	int rc;

	rc = cub_sntp_query(nif, HOST, quiet, 1500 * CUB_NSEC_PER_MSEC, &r);
	check("a silent server: ETIMEDOUT after two requests",
	      rc == -CUB_ETIMEDOUT && r.queries == 2);
	t0 = cub_time_now();
	rc = cub_sntp_query(nif, HOST, closed, 4 * SEC, &r);
	t0 = cub_time_now() - t0;
	if (rc != -CUB_ECONNREFUSED || t0 >= 2 * SEC)
		cub_printk("sntp: nothing on UDP %u: %s after %llu ms\n", closed,
			   cub_strerror(rc), (unsigned long long)(t0 / CUB_NSEC_PER_MSEC));
	check("nothing on the host's port: ECONNREFUSED, no kiss, within 2 s of 4",
	      rc == -CUB_ECONNREFUSED && !r.kiss[0] && r.queries == 1 && t0 < 2 * SEC);
}

int cub_main(void)
{
	const char *arg = cub_cmdline();
	uint16_t port, kod, quiet, closed;
	struct cub_netif *nif = netup("usage: sntp PORT KOD QUIET CLOSED", &port, &kod);
	unsigned a, b;

	if (!nif)
		return 1;
	netup_number(&arg);		/* PORT and KOD: netup's */
	netup_number(&arg);
	a = netup_number(&arg);
	b = netup_number(&arg);
	if (!a || a > 65535 || !b || b > 65535) {
		cub_printk("usage: sntp PORT KOD QUIET CLOSED\n");
		return 1;
	}
	quiet = (uint16_t)a;
	closed = (uint16_t)b;
	queries(nif, port, kod);
	unanswered(nif, quiet, closed);
	return check_summary("sntp");
}
