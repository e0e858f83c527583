/*
 * test_shim_netcfg.c - the network's portable parts on the host, where
 * there is no card: CUBRT_NET's parsing (every form, every malformed
 * value) and lookup in an environment; cubi_netdev_up doing nothing
 * without a card (no network, no eth0, sends off the machine still
 * -ENETUNREACH, bind to another address -EADDRNOTAVAIL); SO_RCVTIMEO
 * (set, read back, a UDP receive giving -EAGAIN after it, -EDOM, a
 * short option); CUBRT_NTP's parsing (ADDR[:PORT], every malformed
 * value) and cubi_netdev_time leaving the clock alone without the
 * variable, with a bad value and without a network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/time.h>

#include "sys.h"
#include "sock.h"
#include "netdev.h"
#include "../slow.h"

#define SO_RCVTIMEO 20
#define SO_SNDTIMEO 21
#define EDOM 33
#define IFINDEX 0x8933

static void parse_ok(const char *v, enum cubi_netcfg_mode mode, cub_ip4_t addr,
		     unsigned prefix, cub_ip4_t gw, cub_ip4_t dns)
{
	struct cubi_netcfg c;

	assert_int_equal(cubi_netcfg_parse(v, &c), 0);
	assert_int_equal(c.mode, mode);
	assert_int_equal(c.addr, addr);
	assert_int_equal(c.prefix, prefix);
	assert_int_equal(c.gateway, gw);
	assert_int_equal(c.dns, dns);
}

static void test_netcfg_parse(void **state)
{
	static const char *const bad[] = {
		"DHCP", "on", "10.0.2.15", "10.0.2.15/", "10.0.2.15/0", "10.0.2.15/33",
		"10.0.2/24", "10.0.2.256/24", "10.0.2.15/24,", "10.0.2.15/24,10.0.2",
		"10.0.2.15/24,10.0.2.2,10.0.2.3,1.1.1.1", "10.0.2.15/24 ", " dhcp",
		"1000.0.2.15/24", "10.0.2.15/024x", "10..2.15/24", "a.b.c.d/8",
	};
	struct cubi_netcfg c;

	(void)state;
	parse_ok(NULL, CUBI_NET_DHCP, 0, 0, 0, 0);
	parse_ok("", CUBI_NET_DHCP, 0, 0, 0, 0);
	parse_ok("dhcp", CUBI_NET_DHCP, 0, 0, 0, 0);
	parse_ok("off", CUBI_NET_OFF, 0, 0, 0, 0);
	parse_ok("10.0.2.15/24", CUBI_NET_STATIC, CUB_IP4(10, 0, 2, 15), 24, 0, 0);
	parse_ok("10.0.2.15/24,10.0.2.2", CUBI_NET_STATIC, CUB_IP4(10, 0, 2, 15), 24,
		 CUB_IP4(10, 0, 2, 2), 0);
	parse_ok("10.0.2.15/24,10.0.2.2,10.0.2.3", CUBI_NET_STATIC, CUB_IP4(10, 0, 2, 15), 24,
		 CUB_IP4(10, 0, 2, 2), CUB_IP4(10, 0, 2, 3));
	parse_ok("10.0.2.15/24,,10.0.2.3", CUBI_NET_STATIC, CUB_IP4(10, 0, 2, 15), 24, 0,
		 CUB_IP4(10, 0, 2, 3));
	parse_ok("192.168.001.200/32", CUBI_NET_STATIC, CUB_IP4(192, 168, 1, 200), 32, 0, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c.mode = CUBI_NET_DHCP;
		assert_int_equal(cubi_netcfg_parse(bad[i], &c), -CUB_EINVAL);
		assert_int_equal(c.mode, CUBI_NET_OFF);	/* a bad value: no network */
	}
}

static void test_netcfg_find(void **state)
{
	char *env[] = { "CUBRT_NETX=1", "CUBRT_NE=2", "A=b", "CUBRT_NET=off", "CUBRT_NET=dhcp",
			NULL };
	char *none[] = { "CUBRT_NET", NULL };
	char buf[16];

	(void)state;
	assert_string_equal(cubi_netcfg_find(env), "off");	/* the first one */
	assert_null(cubi_netcfg_find(none));
	assert_null(cubi_netcfg_find(NULL));
	assert_string_equal(cubi_ip4_str(CUB_IP4(10, 0, 2, 15), buf), "10.0.2.15");
	assert_string_equal(cubi_ip4_str(0xffffffffu, buf), "255.255.255.255");
}

/* The host has no card: bring-up changes nothing, whatever CUBRT_NET. */
static void test_netcfg_no_card(void **state)
{
	char *env[] = { "CUBRT_NET=10.0.2.15/24,10.0.2.2", NULL };
	struct { char name[16]; int index; char pad[20]; } q = { "eth0", 0, { 0 } };
	struct cubi_ifinfo i;
	int s;

	(void)state;
	cubi_netdev_up(env);
	cubi_netdev_up(NULL);
	assert_null(cubi_netdev.nif);
	assert_false(cubi_netdev_if(2, &i));
	assert_true(cubi_netdev_if(1, &i));
	assert_string_equal(i.name, "lo");
	assert_int_equal(cubi_netdev_if_named("eth0"), 0);
	assert_int_equal(cubi_netdev_if_named("lo"), 1);
	assert_true(cubi_netdev_local(0x7f000001u));
	assert_false(cubi_netdev_local(CUB_IP4(10, 0, 2, 15)));
	s = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(SYS3(SYS_ioctl, s, IFINDEX, &q), -CUB_ENODEV);
	struct sin to = inaddr(CUB_IP4(10, 0, 2, 2), 69);
	assert_int_equal(SYS6(SYS_sendto, s, "x", 1, 0, &to, sizeof(to)), -CUB_ENETUNREACH);
	assert_int_equal(connect_to(s, CUB_IP4(10, 0, 2, 2), 69), -CUB_ENETUNREACH);
	assert_int_equal(bind_to(s, CUB_IP4(10, 0, 2, 15), 0), -CUB_EADDRNOTAVAIL);
	closeall(1, &s);
}

static void test_ntpcfg_parse(void **state)
{
	static const char *bad[] = {
		"", "10.0.2.2:", "10.0.2.2:0", "10.0.2.2:65536", "10.0.2.2:123456",
		"10.0.2.2:12a", "10.0.2.2 ", "10.0.2", "0.0.0.0", "0.0.0.0:123",
		"10.0.2.256", "host.example:123", ":123", "10.0.2.2:-1", "10.0.2.2/24",
		"10.0.2.2,", ",10.0.2.2", "10.0.2.2,,10.0.2.3", "10.0.2.2;10.0.2.3",
		"10.0.2.2, 10.0.2.3", "10.0.2.2,0.0.0.0", "10.0.2.2:123,10.0.2.3:",
		"1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5",
	};
	struct cub_sntp_server l[CUB_SNTP_KEEPER_SERVERS];
	unsigned n;

	(void)state;
	assert_int_equal(cubi_ntpcfg_parse("10.0.2.2", l, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].addr, CUB_IP4(10, 0, 2, 2));
	assert_int_equal(l[0].port, 123);
	assert_int_equal(cubi_ntpcfg_parse("192.168.1.20:10123", l, &n), 0);
	assert_int_equal(l[0].addr, CUB_IP4(192, 168, 1, 20));
	assert_int_equal(l[0].port, 10123);
	assert_int_equal(cubi_ntpcfg_parse("10.0.2.2:65535", l, &n), 0);
	assert_int_equal(l[0].port, 65535);
	assert_int_equal(cubi_ntpcfg_parse("10.0.2.2:1", l, &n), 0);
	assert_int_equal(l[0].port, 1);
	assert_int_equal(cubi_ntpcfg_parse("10.0.2.2:1230,10.0.2.3,1.2.3.4:9,5.6.7.8", l, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(l[0].port, 1230);
	assert_int_equal(l[1].addr, CUB_IP4(10, 0, 2, 3));
	assert_int_equal(l[1].port, 123);
	assert_int_equal(l[2].addr, CUB_IP4(1, 2, 3, 4));
	assert_int_equal(l[2].port, 9);
	assert_int_equal(l[3].addr, CUB_IP4(5, 6, 7, 8));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 9;
		if (cubi_ntpcfg_parse(bad[i], l, &n) != -CUB_EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(n, 0);
	}
	assert_int_equal(cubi_ntpcfg_parse(NULL, l, &n), -CUB_EINVAL);
}

/* No variable, a bad one, no network: the clock stays (and nothing
 * waits: each returns at once). */
static void test_ntp_no_network(void **state)
{
	char *none[] = { "CUBRT_NET=off", NULL };
	char *bad[] = { "CUBRT_NTP=10.0.2.2:99999", NULL };
	char *good[] = { "CUBRT_NTP=10.0.2.2:123", NULL };
	uint64_t w0 = cub_time_wall(), t0 = cub_time_now(), q0 = test_waited_ns();

	(void)state;
	assert_string_equal(cubi_env_find(good, "CUBRT_NTP"), "10.0.2.2:123");
	assert_null(cubi_env_find(good, "CUBRT_NT"));
	cubi_netdev_time(none);
	cubi_netdev_time(NULL);
	cubi_netdev_time(bad);
	cubi_netdev_time(good);
	assert_true(cub_time_now() - t0 < test_bound(500000000ull, q0));
	assert_true(cub_time_wall() - w0 < test_bound(500000000ull, q0));
}

static void rcvtimeo_body(void)
{
	int64_t tv[2] = { 0, 200000 }, back[2] = { -1, -1 };
	int s = (int)SYS3(SYS_socket, AF_INET, SOCK_DGRAM, 0), len = 16;
	char buf[8];
	uint64_t t;

	assert_int_equal(bind_to(s, LOOP, 0), 0);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, tv, 8, 0), -CUB_EINVAL);
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, tv, 16, 0), 0);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, SO_RCVTIMEO, back, &len, 0), 0);
	assert_int_equal(len, 16);
	assert_int_equal(back[0], 0);
	assert_int_equal(back[1], 200000);
	t = cub_time_now();
	assert_int_equal(SYS6(SYS_recvfrom, s, buf, sizeof(buf), 0, NULL, NULL), -CUB_EAGAIN);
	t = cub_time_now() - t;
	assert_true(t >= 190000000ull && t < 2000000000ull);
	tv[1] = 1000000;
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, SO_SNDTIMEO, tv, 16, 0), -EDOM);
	tv[0] = 3;
	tv[1] = 5;
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, SO_SNDTIMEO, tv, 16, 0), 0);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, SO_SNDTIMEO, back, &len, 0), 0);
	assert_int_equal(back[0], 3);
	assert_int_equal(back[1], 5);
	tv[0] = tv[1] = 0;			/* none again: waits forever */
	assert_int_equal(SYS6(SYS_setsockopt, s, SOL_SOCKET, SO_RCVTIMEO, tv, 16, 0), 0);
	assert_int_equal(SYS6(SYS_getsockopt, s, SOL_SOCKET, SO_RCVTIMEO, back, &len, 0), 0);
	assert_int_equal(back[0] | back[1], 0);
	closeall(1, &s);
}

static void test_netcfg_rcvtimeo(void **state)
{
	(void)state;
	run(rcvtimeo_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netcfg_parse),
		cmocka_unit_test(test_netcfg_find),
		cmocka_unit_test(test_netcfg_no_card),
		cmocka_unit_test(test_netcfg_rcvtimeo),
		cmocka_unit_test(test_ntpcfg_parse),
		cmocka_unit_test(test_ntp_no_network),
	};

	cubi_mem_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
