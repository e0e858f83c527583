/*
 * test_net_dhcp_keep_check.c - the DHCP keeper's conflict check and
 * release (RFC 2131 3.1 step 5, 4.4.1, 4.4.6) against the fake server
 * and neighbour of dhcp_fake.h, with leases of a few seconds.
 *
 * Proves: a new lease (after a NAKed renewal) whose address a neighbour
 * answers for is declined and another address leased, the stats
 * counting probes, conflicts and declines; cub_dhcp_keeper_release sends
 * a RELEASE unicast to the server (ciaddr the address) and unconfigures,
 * and in the middle of a new lease's 5 s probe returns at once, sending
 * nothing (the probe is cancelled when the keeper's port closes; without
 * that cancel it took the 5 s); cub_dhcp_keeper_stop sends no RELEASE
 * and leaves the address; release of a keeper not started.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_fake.h"
#include "dhcp_keeper.h"
#include "../slow.h"

#define SEC CUB_NSEC_PER_SEC


/* What the change callback saw. */
static struct {
	unsigned calls;
	cub_ip4_t addrs[8];
} seen;

static void changed(void *arg, const struct cub_dhcp_lease *l)
{
	assert_ptr_equal(arg, &seen);
	if (seen.calls < 8)
		seen.addrs[seen.calls] = l->addr;
	seen.calls++;
}

/* Starts the server with a lease of lease_s (T1, T2 as given), leases
 * an address for A and starts the keeper; *l is the first lease. */
static void lease_and_keep(uint32_t lease_s, uint32_t t1, uint32_t t2,
			   struct cub_dhcp_lease *l)
{
	dsrv_defaults();
	S.lease = lease_s;
	S.t1 = t1;
	S.t2 = t2;
	memset(&seen, 0, sizeof(seen));
	start(true);
	assert_int_equal(cub_net_dhcp(A, 5 * SEC, l), 0);
	assert_int_equal(cub_dhcp_keeper_start(&K, A, l, changed, &seen), 0);
	nsent = 0;
}

/* Stops the keeper (port 68 free after), then the server and the wire:
 * nothing A sent since the keeper started was a RELEASE. */
static void end_keep(void)
{
	struct cub_udp u;

	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	assert_int_equal(cub_udp_open(&u, A, 68), 0);
	assert_int_equal(cub_udp_close(&u), 0);
	stop(true);
	for (unsigned i = 0; i < nsent; i++) {
		size_t n;
		const uint8_t *m = msg_of(i, &n);

		assert_int_not_equal(type_of(m, n), RELEASE);
	}
	assert_int_equal(S.releases, 0);
}

/* The renewal is NAKed and the address the new DISCOVER brings is in use
 * (a neighbour answers the probe): DECLINE, then another address. */
static void *conflict_main(void *arg)
{
	struct cub_dhcp_lease l0, l;
	struct cub_dhcp_keeper_stats st;
	struct cub_dhcp_params p;

	(void)arg;
	lease_and_keep(30, 1, 20, &l0);
	p = one_probe(1 * SEC, 100 * MS, 3);
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
	S.nak_keeps = 1;
	S.t1 = 10;			/* the new lease: no renewal in the test */
	S.taken[0] = OFFER_IP;
	S.after_decline = NEXT_IP;
	WAIT_FOR(kstats(NULL).leased == 1, 10 * SEC);
	st = kstats(&l);
	assert_int_equal(st.lost, 1);
	assert_int_equal(st.probes, 2);
	assert_int_equal(st.conflicts, 1);
	assert_int_equal(st.declines, 1);
	assert_int_equal(l.addr, NEXT_IP);
	assert_int_equal(l.declined, 0);		/* counted in the stats */
	assert_int_equal(S.declines, 1);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.addrs[0], 0);
	assert_int_equal(seen.addrs[1], NEXT_IP);
	assert_config(NEXT_IP, 24, SRV_IP);
	end_keep();
	return NULL;
}

static void test_keep_conflict(void **state)
{
	(void)state;
	run(conflict_main);
}

/* True once A has sent a probe (ARP from 0.0.0.0) of ip. */
static bool probed(cub_ip4_t ip)
{
	for (unsigned i = 0; i < narps; i++)
		if (t_get32(arps[i].f + 28) == 0 && t_get32(arps[i].f + 38) == ip)
			return true;
	return false;
}

/* Release: with a lease, a RELEASE to the server and the address given
 * up; in the middle of a new lease's 5 s probe, at once and nothing
 * sent (no lease to give back). */
static void *release_main(void *arg)
{
	struct cub_dhcp_lease l0;
	struct cub_dhcp_params p;
	struct cub_udp u;
	const uint8_t *o;
	size_t n, olen;
	uint64_t t0, w0;

	(void)arg;
	lease_and_keep(30, 10, 20, &l0);
	assert_int_equal(cub_dhcp_keeper_release(&K), 0);
	assert_config(0, 0, 0);
	wire_settle(&W);
	assert_int_equal(S.releases, 1);
	assert_int_equal(nsent, 1);
	assert_int_equal(t_get32(sent[0].f + 30), SRV_IP);	/* unicast */
	assert_int_equal(t_get32(msg_of(0, &n) + 12), OFFER_IP);	/* ciaddr */
	assert_int_equal(type_of(msg_of(0, &n), n), RELEASE);
	o = find_opt(msg_of(0, &n), n, 54, &olen);		/* the server ID */
	assert_true(o && olen == 4 && t_get32(o) == SRV_IP);
	assert_int_equal(cub_dhcp_keeper_release(&K), -CUB_EINVAL);
	assert_int_equal(cub_udp_open(&u, A, 68), 0);
	assert_int_equal(cub_udp_close(&u), 0);
	stop(true);

	lease_and_keep(30, 1, 20, &l0);
	p = one_probe(5 * SEC, CUB_DHCP_DECLINE_WAIT_NS, 1);
	assert_int_equal(cub_dhcp_set_params(A, &p), 0);
	S.nak_keeps = 1;
	narps = 0;
	WAIT_FOR(probed(OFFER_IP), 3 * SEC);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(cub_dhcp_keeper_release(&K), 0);
	/* The probe cancelled, not waited out (half of it, and what the
	 * thread waited for a CPU: slow.h). */
	assert_true(cub_time_now() - t0 < test_bound(p.announce_wait_ns / 2, w0));
	assert_config(0, 0, 0);				/* never configured */
	wire_settle(&W);
	assert_int_equal(S.releases, 0);
	stop(true);
	return NULL;
}

static void test_keep_release(void **state)
{
	(void)state;
	run(release_main);
}

/* Stop keeps the lease: no RELEASE, the address stays. */
static void *stop_main(void *arg)
{
	struct cub_dhcp_lease l0;
	struct cub_dhcp_keeper k2;

	(void)arg;
	lease_and_keep(30, 10, 20, &l0);
	assert_int_equal(cub_dhcp_keeper_stop(&K), 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	wire_settle(&W);
	assert_int_equal(nsent, 0);
	assert_int_equal(S.releases, 0);
	/* Neither stop nor release takes a keeper that is not running. */
	assert_int_equal(cub_dhcp_keeper_release(&K), -CUB_EINVAL);
	assert_int_equal(cub_dhcp_keeper_release(NULL), -CUB_EINVAL);
	memset(&k2, 0, sizeof(k2));
	assert_int_equal(cub_dhcp_keeper_release(&k2), -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(nsent, 0);
	assert_config(OFFER_IP, 24, SRV_IP);
	stop(true);
	return NULL;
}

static void test_keep_stop_keeps(void **state)
{
	(void)state;
	run(stop_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_conflict),
		cmocka_unit_test(test_keep_release),
		cmocka_unit_test(test_keep_stop_keeps),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
