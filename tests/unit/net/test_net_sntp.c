/*
 * test_net_sntp.c - cub_sntp_query against a fake SNTP server, and the
 * timestamp arithmetic by hand. Interface A (10.0.0.1) asks; on B
 * (10.0.0.2) a server coroutine on port 123 keeps each request and
 * answers with what the running test's reply builder writes (RFC 5905
 * 7.3's packet, built here independently of sntp.c): by default a
 * stratum-2 NTPv4 server whose clock is SHIFT ahead of ours.
 *
 * Proves: the request on the wire (48 bytes, LI 0 VN 4 mode 3, all zero
 * but a random transmit timestamp, a random ephemeral port); offset,
 * delay, stratum, leap, version and the server's time; the era nearest
 * the local clock, over the wire across the 2036 wrap and by hand both
 * ways; the four-timestamp offset and delay with hand-made timestamps
 * (a negative delay clamped); every reply kind that must be ignored and
 * counted (another source address or port, short, client or broadcast
 * mode, versions 2 and 5, a wrong originate timestamp, a zero transmit
 * timestamp, stratum 16, leap 3, a stratum-0 reply with a harmless kiss
 * code, a zero receive timestamp, a receive timestamp after the
 * transmit one); the kiss-o'-death codes RATE, DENY and RSTR -> -CUB_ECONNREFUSED;
 * a lost request sent again after CUB_SNTP_RETRY_NS with a new nonce and
 * a late reply to the first still matched to its own send time; no
 * server: -CUB_ETIMEDOUT after one request a second; bad arguments.
 * ICMP errors: test_net_sntp_icmp.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/sntp.h>
#include <cubrt/time.h>
#include "../slow.h"

#include "udp_fake.h"
#include "ntp_fake.h"

#define SEC CUB_NSEC_PER_SEC
/* An exchange on the in-memory wire takes well under this; scaled when
 * the run is slow (slow.h: valgrind). */
#define TOL (50 * MS * (uint64_t)test_slowness())
#define DAY (86400 * SEC)

/* ------------------------------------------------------- the packets */

struct msg {
	uint8_t b[64];
	size_t n;
};

static int64_t shift;			/* the server's clock minus ours */

/* The server's good answer to request q: LI 0, VN 4, mode 4, stratum 2,
 * reference id 10.0.0.9, q's transmit as originate, receive = transmit
 * = our wall clock + shift. */
static void good(const uint8_t *q, struct msg *m)
{
	uint64_t now = ntp_of(cub_time_wall() + (uint64_t)shift);

	memset(m->b, 0, sizeof(m->b));
	m->n = 48;
	m->b[0] = 0 << 6 | 4 << 3 | 4;
	m->b[1] = 2;
	m->b[2] = 6;
	m->b[3] = (uint8_t)-20;
	t_put32(m->b + 12, CUB_IP4(10, 0, 0, 9));
	t_put64(m->b + 16, now);
	t_put64(m->b + 24, t_get64(q + 40));
	t_put64(m->b + 32, now);
	t_put64(m->b + 40, now);
}

/* ---------------------------------------------------------- the server */

static void start(reply_fn *fn)
{
	start_server(fn, 123);
	shift = (int64_t)(1000 * DAY);
}

static int query(uint64_t timeout, struct cub_sntp_result *r)
{
	return cub_sntp_query(A, SRV_IP, 0, timeout, r);
}

static void answer(const uint8_t *q, unsigned nth)
{
	struct msg m;

	(void)nth;
	good(q, &m);
	srv_send(m.b, m.n);
}

/* |got - want| <= tol */
static void near(int64_t got, int64_t want, int64_t tol)
{
	int64_t d = got > want ? got - want : want - got;

	if (d > tol)
		fail_msg("%lld is not within %lld of %lld", (long long)got, (long long)tol,
			 (long long)want);
}

/* ------------------------------------------------------------------ tests */

static void *good_main(void *arg)
{
	struct cub_sntp_result r, r2;
	uint64_t before, after;
	const uint8_t *q = S.q[0];

	(void)arg;
	start(answer);
	before = cub_time_wall();
	assert_int_equal(query(2 * SEC, &r), 0);
	after = cub_time_wall();
	near(r.offset_ns, shift, (int64_t)TOL);
	assert_true(r.delay_ns >= 0 && r.delay_ns < (int64_t)TOL);
	assert_true(r.time_ns >= before + (uint64_t)shift - TOL &&
		    r.time_ns <= after + (uint64_t)shift + TOL);
	assert_int_equal(r.stratum, 2);
	assert_int_equal(r.leap, 0);
	assert_int_equal(r.version, 4);
	assert_int_equal(r.ref_id, CUB_IP4(10, 0, 0, 9));
	assert_string_equal(r.kiss, "");
	assert_int_equal(r.queries, 1);
	assert_int_equal(r.ignored, 0);
	/* The request: 48 bytes, 0x23, zero but the transmit timestamp. */
	assert_int_equal(S.qlen[0], 48);
	assert_int_equal(q[0], 0x23);
	for (int i = 1; i < 40; i++)
		assert_int_equal(q[i], 0);
	assert_true(t_get64(q + 40) != 0);
	assert_true(S.qport[0] >= 49152);
	/* A second query: another nonce; a server behind us works too. */
	shift = -(int64_t)(3 * DAY + 500 * MS);
	assert_int_equal(cub_sntp_query(A, SRV_IP, 123, 2 * SEC, &r2), 0);
	near(r2.offset_ns, shift, (int64_t)TOL);
	assert_true(t_get64(S.q[1] + 40) != t_get64(S.q[0] + 40));
	stop();
	return NULL;
}

static void test_sntp_good(void **state)
{
	(void)state;
	run(good_main);
}

/* Our clock just before the 2036 wrap (NTP seconds 2^32 = Unix
 * 2085978496), the server's 3 s later, after it: read in era 1. */
static void *era_main(void *arg)
{
	const uint64_t wrap = 2085978496ull * SEC;
	struct cub_sntp_result r;
	int64_t step;
	uint64_t w0;

	(void)arg;
	start(answer);
	/* The server's time when the reply came: 2 s past the wrap plus
	 * the query's time (under 1 s, but for the thread's wait for a
	 * CPU, slow.h). */
	w0 = test_waited_ns();
	step = cub_time_set_wall(wrap - 1 * SEC);
	shift = (int64_t)(3 * SEC);
	assert_int_equal(query(2 * SEC, &r), 0);
	near(r.offset_ns, shift, (int64_t)TOL);
	assert_true(r.time_ns > wrap && r.time_ns - wrap < 2 * SEC + test_bound(1 * SEC, w0));
	/* The other way: ours after the wrap, the server's before it (4 s
	 * before it plus the query's time). */
	w0 = test_waited_ns();
	cub_time_set_wall(wrap + 1 * SEC);
	shift = -(int64_t)(5 * SEC);
	assert_int_equal(query(2 * SEC, &r), 0);
	near(r.offset_ns, shift, (int64_t)TOL);
	assert_true(r.time_ns > wrap - 5 * SEC);
	assert_true(r.time_ns < wrap || test_waited_ns() - w0 >= 3 * SEC);
	cub_time_set_wall(cub_time_wall() - (uint64_t)step - (wrap + 1 * SEC - (wrap - 1 * SEC)));
	stop();
	return NULL;
}

static void test_sntp_era(void **state)
{
	(void)state;
	run(era_main);
}

/* The arithmetic with hand-made timestamps. */
static void test_sntp_arith(void **state)
{
	const uint64_t wrap = 2085978496ull * SEC;
	int64_t off, delay;
	uint64_t u;

	(void)state;
	/* t1 1000 s, t2 1500.5 s, t3 1500.7 s, t4 1000.4 s: the server is
	 * 500.4 s ahead; 0.4 s round trip less 0.2 s holding. */
	cub_sntp_offset(1000 * SEC, 1500 * SEC + 500 * MS, 1500 * SEC + 700 * MS,
			1000 * SEC + 400 * MS, &off, &delay);
	assert_int_equal(off, (int64_t)(500 * SEC + 400 * MS));
	assert_int_equal(delay, (int64_t)(200 * MS));
	/* The server behind by 100 s, 10 ms each way, no holding. */
	cub_sntp_offset(200 * SEC, 100 * SEC + 10 * MS, 100 * SEC + 10 * MS, 200 * SEC + 20 * MS,
			&off, &delay);
	assert_int_equal(off, -(int64_t)(100 * SEC));
	assert_int_equal(delay, (int64_t)(20 * MS));
	/* Odd nanoseconds halve exactly; a negative delay is 0. */
	cub_sntp_offset(0, 3, 3, 0, &off, &delay);
	assert_int_equal(off, 3);
	assert_int_equal(delay, 0);
	/* Eras: 1 s before and after the wrap, from either side. */
	assert_true(cub_sntp_to_unix(0xffffffffull << 32, wrap + 10 * SEC, &u));
	assert_int_equal(u, wrap - 1 * SEC);
	assert_true(cub_sntp_to_unix(1ull << 32, wrap - 10 * SEC, &u));
	assert_int_equal(u, wrap + 1 * SEC);
	/* Seconds 0 of era 1 seen from 2023: the wrap itself, + 0.5 s. */
	assert_true(cub_sntp_to_unix(0x80000000u, 1700000000ull * SEC, &u));
	assert_int_equal(u, wrap + 500 * MS);
	/* 2024 from 2024, the fraction 0.25 s. */
	assert_true(cub_sntp_to_unix((1700000000ull + NTP_EPOCH) << 32 | 0x40000000u,
				     1700000100ull * SEC, &u));
	assert_int_equal(u, 1700000000ull * SEC + 250 * MS);
	/* 68 years away flips the era: 1900 + 5 s near 1970 is 2036 + 5 s. */
	assert_true(cub_sntp_to_unix(5ull << 32, 0, &u));
	assert_int_equal(u, wrap + 5 * SEC);
	/* Before 1970 is no Unix time. */
	assert_false(cub_sntp_to_unix((NTP_EPOCH - 10) << 32, 0, &u));
}

/* The replies to ignore, one per query, each before a good one. */
enum { K_ADDR, K_PORT, K_SHORT, K_CLIENT, K_BCAST, K_V2, K_V5, K_ORIG, K_XMIT0,
       K_STRAT16, K_LEAP3, K_KISS_INIT, K_RECV0, K_RECV_LATE, K_COUNT };
static unsigned kind;

static void spoilt_then_good(const uint8_t *q, unsigned nth)
{
	struct msg m, bad;

	(void)nth;
	good(q, &m);
	bad = m;
	switch (kind) {
	case K_ADDR: forge(m.b, m.n, IP_NOBODY, 123); break;
	case K_PORT: forge(m.b, m.n, SRV_IP, 124); break;
	case K_SHORT: bad.n = 47; break;
	case K_CLIENT: bad.b[0] = 4 << 3 | 3; break;
	case K_BCAST: bad.b[0] = 4 << 3 | 5; break;
	case K_V2: bad.b[0] = 2 << 3 | 4; break;
	case K_V5: bad.b[0] = 5 << 3 | 4; break;
	case K_ORIG: bad.b[31] ^= 1; break;
	case K_XMIT0: memset(bad.b + 40, 0, 8); break;
	case K_STRAT16: bad.b[1] = 16; break;
	case K_LEAP3: bad.b[0] = 3 << 6 | 4 << 3 | 4; break;
	case K_KISS_INIT: bad.b[1] = 0, memcpy(bad.b + 12, "INIT", 4); break;
	/* Found by model_replies: a zero receive timestamp (unknown, RFC
	 * 5905 6) read as 2036, and a receive after the transmit, gave an
	 * offset of years. */
	case K_RECV0: memset(bad.b + 32, 0, 8); break;
	case K_RECV_LATE: t_put64(bad.b + 32, t_get64(bad.b + 40) + (1ull << 32)); break;
	}
	if (kind != K_ADDR && kind != K_PORT)
		srv_send(bad.b, bad.n);
	srv_send(m.b, m.n);
}

static void *ignored_main(void *arg)
{
	struct cub_sntp_result r;

	(void)arg;
	start(spoilt_then_good);
	for (kind = 0; kind < K_COUNT; kind++) {
		assert_int_equal(query(2 * SEC, &r), 0);
		if (r.ignored != 1)
			fail_msg("kind %u: %u ignored", kind, r.ignored);
		near(r.offset_ns, shift, (int64_t)TOL);
		assert_int_equal(r.queries, 1);
	}
	stop();
	return NULL;
}

static void test_sntp_ignored(void **state)
{
	(void)state;
	run(ignored_main);
}

static const char *kiss_code;

static void kiss(const uint8_t *q, unsigned nth)
{
	struct msg m;

	(void)nth;
	good(q, &m);
	m.b[0] = 3 << 6 | 4 << 3 | 4;	/* a KoD's leap is 3: still a kiss */
	m.b[1] = 0;
	memcpy(m.b + 12, kiss_code, 4);
	srv_send(m.b, m.n);
}

static void v3(const uint8_t *q, unsigned nth)
{
	struct msg m;

	(void)nth;
	good(q, &m);
	m.b[0] = 1 << 6 | 3 << 3 | 4;	/* a leap second to add today */
	m.b[1] = 15;
	srv_send(m.b, m.n);
}

static void *kiss_main(void *arg)
{
	static const char *codes[] = { "RATE", "DENY", "RSTR" };
	struct cub_sntp_result r;

	(void)arg;
	start(kiss);
	for (int i = 0; i < 3; i++) {
		kiss_code = codes[i];
		assert_int_equal(query(2 * SEC, &r), -CUB_ECONNREFUSED);
		assert_string_equal(r.kiss, codes[i]);
		assert_int_equal(r.queries, 1);
	}
	S.reply = v3;
	assert_int_equal(query(2 * SEC, &r), 0);
	assert_int_equal(r.version, 3);
	assert_int_equal(r.leap, 1);
	assert_int_equal(r.stratum, 15);
	stop();
	return NULL;
}

static void test_sntp_kiss(void **state)
{
	(void)state;
	run(kiss_main);
}

/* The first request is lost; the second is answered. */
static void second(const uint8_t *q, unsigned nth)
{
	if (nth >= 1)
		answer(q, nth);
}

/* The first is answered late, once the second came: its reply still
 * counts, measured from the first's send time. */
static void late(const uint8_t *q, unsigned nth)
{
	(void)q;
	if (nth == 1)
		answer(S.q[0], 0);
}

static void *lost_main(void *arg)
{
	struct cub_sntp_result r;
	uint64_t gap, w0;

	(void)arg;
	start(second);
	w0 = test_waited_ns();
	assert_int_equal(query(5 * SEC, &r), 0);
	assert_int_equal(r.queries, 2);
	assert_int_equal(S.queries, 2);
	assert_true(t_get64(S.q[1] + 40) != t_get64(S.q[0] + 40));	/* new nonce */
	assert_int_equal(S.qport[0], S.qport[1]);
	gap = S.qt[1] - S.qt[0];
	assert_true(gap >= CUB_SNTP_RETRY_NS - 5 * MS && gap < test_bound(CUB_SNTP_RETRY_NS + 500 * MS, w0));
	near(r.offset_ns, shift, (int64_t)TOL);
	assert_true(r.delay_ns < (int64_t)TOL);
	S.queries = 0;
	S.reply = late;
	assert_int_equal(query(5 * SEC, &r), 0);
	assert_int_equal(r.queries, 2);
	assert_true(r.delay_ns >= (int64_t)(CUB_SNTP_RETRY_NS - 5 * MS));
	near(r.offset_ns, shift, (int64_t)(600 * MS));
	stop();
	return NULL;
}

static void test_sntp_lost(void **state)
{
	(void)state;
	run(lost_main);
}

/* Nobody answers: one request a second until the timeout. */
static void *timeout_main(void *arg)
{
	struct cub_sntp_result r;
	uint64_t t0, dt, w0;

	(void)arg;
	start(NULL);
	w0 = test_waited_ns();
	t0 = cub_time_now();
	assert_int_equal(query(2500 * MS, &r), -CUB_ETIMEDOUT);
	dt = cub_time_now() - t0;
	assert_true(dt >= 2500 * MS && dt < test_bound(3000 * MS, w0));
	/* Requests at 0, 1 and 2 s: the third is missing only when the
	 * thread waited 500 ms for a CPU in between. */
	assert_true(r.queries == 3 || (r.queries == 2 && test_waited_ns() - w0 >= 500 * MS));
	assert_int_equal(S.queries, r.queries);
	assert_int_equal(query(0, &r), -CUB_ETIMEDOUT);
	assert_int_equal(cub_sntp_query(A, IP_NOBODY, 0, 300 * MS, &r), -CUB_EHOSTUNREACH);
	stop();
	return NULL;
}

static void test_sntp_timeout(void **state)
{
	(void)state;
	run(timeout_main);
}

static void *args_main(void *arg)
{
	struct cub_sntp_result r;

	(void)arg;
	start(answer);
	assert_int_equal(cub_sntp_query(NULL, SRV_IP, 0, SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_sntp_query(A, 0, 0, SEC, &r), -CUB_EINVAL);
	assert_int_equal(cub_sntp_query(A, SRV_IP, 0, SEC, NULL), -CUB_EINVAL);
	wire_settle(&W);
	assert_int_equal(S.queries, 0);
	stop();
	return NULL;
}

static void test_sntp_args(void **state)
{
	(void)state;
	run(args_main);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sntp_good),
		cmocka_unit_test(test_sntp_era),
		cmocka_unit_test(test_sntp_arith),
		cmocka_unit_test(test_sntp_ignored),
		cmocka_unit_test(test_sntp_kiss),
		cmocka_unit_test(test_sntp_lost),
		cmocka_unit_test(test_sntp_timeout),
		cmocka_unit_test(test_sntp_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
