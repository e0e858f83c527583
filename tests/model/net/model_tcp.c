/*
 * model_tcp.c - randomized test of TCP (src/net/tcp*.c): CONNS
 * connections between two interfaces on the in-memory wire of
 * tests/unit/net/net_test.h transfer random amounts of seeded data both
 * ways, in random chunks, then shut down, while the wire drops,
 * duplicates, reorders and corrupts frames at random rates. Checked:
 * every byte arrives exactly once and in order (each stream is a
 * function of the seed, compared byte by byte), each direction ends in
 * the peer's FIN or an error the connection reported after its retries;
 * congestion control's cwnd and ssthresh stay within their bounds;
 * every connection is freed at the end; the counters add up.
 * Timestamps (RFC 7323) are on at both ends in half the seeds (in the
 * others one end, chosen by the seed, neither offers nor answers them,
 * so they are not agreed); every connection agrees on them exactly
 * when both ends want them, and no segment lacks the option where it
 * was agreed (tcp_ts_missing 0).
 * PAWS drops (reordered or duplicated segments older than the last
 * one echoed) are printed.
 *
 * A router (path MTU discovery, src/net/tcp_pmtu.c) sits on the wire
 * in half the seeds (its own random numbers, so the other choices of a
 * seed stay as they were): TCP datagrams with DF above its MTU (300,
 * 576, 1006, 1200 or 1400) are dropped and answered with "fragmentation
 * needed" to their sender, reporting the MTU or, one router in three,
 * 0 (RFC 1191's plateaus); a report is lost at the wire's drop rate
 * (the sender's timer resends, the router answers again). Checked on
 * top: every connection's path MTU is 1500 or between 552 and the
 * router's MTU, its MSS fits it, DF was turned off only where the
 * router's MTU (or with reports of 0 the plateau 508) is below 552,
 * and the streams still arrive byte for byte. Half of these routers
 * (not with "reorder", below) come with a path MTU cache lifetime of
 * 30..89 ms on both ends
 * (cub_pmtu_set_ttl, same numbers), so that lowered estimates go back
 * up to 1500 and are lowered again by the next report, many times in
 * a run.
 *
 * With "reorder" the wire only reorders (and duplicates) frames, loses
 * none, and the RTO is long: then no timeout may happen at all (the
 * receiver keeps what comes early, so nothing waits for a resend).
 * Printed: the bytes retransmitted, the segments kept out of order.
 *
 * usage: model_tcp [SEED [CONNS [reorder]]]  (SEED 0: from the clock;
 * prints the seed; a failure names it so `model_tcp SEED` replays the
 * same schedule of faults and sizes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

/* Frames the wire holds: 4 connections of 552-byte segments behind a
 * router send bursts of over 1000 frames (a 64 KiB flight each way),
 * and a refused send is a loss, which "reorder" may not have. */
#define WIRE_QUEUE 2048
#include "net_test.h"

#define MAX_CONNS 8
#define PORT 7000

static struct wire W;
#define A (&W.end[0].nif)
#define B (&W.end[1].nif)

static uint64_t seed;
static unsigned nconns = 4;
static unsigned failures;
static bool reorder_only;
static int ts_mode;			/* 0: both ends, 1: A none, 2: B none */

struct stream {				/* one direction of a connection */
	struct cub_tcp *from, *to;
	unsigned id;
	size_t len;			/* bytes the writer sends */
	size_t got;			/* bytes the reader took, all checked */
	long wr_end, rd_end;		/* how each side ended: 0 or an error */
	uint64_t rng;			/* chunk sizes */
};

static struct stream S[MAX_CONNS * 2];
static struct cub_wg done;

#define CHECK(cond, ...) do {                                              \
	if (!(cond)) {                                                      \
		printf("model_tcp seed %llu: FAILED %s: ",                  \
		       (unsigned long long)seed, #cond);                    \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
		failures++;                                                 \
	}                                                                   \
} while (0)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Byte i of stream id: a hash, so a shifted, duplicated or lost byte
 * cannot match by accident for long. */
static uint8_t byte_at(unsigned id, size_t i)
{
	uint64_t x = (seed + id * 0x9e3779b97f4a7c15ull) ^ (i * 0xbf58476d1ce4e5b9ull);

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return (uint8_t)(x >> 56);
}

static void *writer(void *arg)
{
	struct stream *s = arg;
	static uint8_t buf[MAX_CONNS * 2][8192];
	uint8_t *b = buf[s->id];
	size_t at = 0;

	while (at < s->len) {
		size_t n = 1 + rnd(&s->rng) % sizeof(buf[0]);
		long r;

		n = n > s->len - at ? s->len - at : n;
		for (size_t i = 0; i < n; i++)
			b[i] = byte_at(s->id, at + i);
		r = cub_tcp_send(s->from, b, n, UINT64_MAX);
		if (r < 0) {
			s->wr_end = r;
			break;
		}
		at += (size_t)r;
	}
	if (!s->wr_end)
		s->wr_end = cub_tcp_shutdown(s->from);
	cub_wg_done(&done);
	return NULL;
}

static void *reader(void *arg)
{
	struct stream *s = arg;
	static uint8_t buf[MAX_CONNS * 2][8192];
	uint8_t *b = buf[s->id];

	for (;;) {
		size_t cap = 1 + rnd(&s->rng) % sizeof(buf[0]);
		long r = cub_tcp_recv(s->to, b, cap, UINT64_MAX);

		if (r <= 0) {
			s->rd_end = r;
			break;
		}
		for (long i = 0; i < r; i++)
			if (b[i] != byte_at(s->id, s->got + (size_t)i)) {
				CHECK(0, "stream %u: byte %zu differs", s->id,
				      s->got + (size_t)i);
				s->rd_end = -1000;
				goto out;
			}
		s->got += (size_t)r;
		CHECK(s->got <= s->len, "stream %u: %zu bytes of %zu", s->id,
		      s->got, s->len);
	}
out:
	cub_wg_done(&done);
	return NULL;
}

/* Flips a byte of some frames (the checksums must catch it). */
static unsigned corrupt_pm, corrupted;

/* The router: mtu 0 means none. */
static struct {
	uint16_t mtu, report;
	unsigned dropped, reports, lost, nodf;
	uint64_t ttl;			/* the cache's lifetime, 0: 10 min */
} rt;

/* A TCP datagram too big for the router: dropped, and (unless the
 * report is lost) reported to its sender; false when dropped. */
static bool route(struct wire *w, struct wire_frame *f)
{
	static uint8_t icmp[CUB_ETH_FRAME_MAX];
	struct cub_netif *sender = &w->end[1 - f->to].nif;
	const uint8_t *ip = f->data + 14;
	size_t n;

	if (!rt.mtu || f->len < 34 || t_get16(f->data + 12) != 0x0800 ||
	    ip[9] != 6 || t_get16(ip + 2) <= rt.mtu)
		return true;
	if (!(ip[6] & 0x40)) {
		rt.nodf++;		/* fragmented on its way */
		return true;
	}
	rt.dropped++;
	if (wire_rand(w) < w->drop_pm) {
		rt.lost++;
		return false;
	}
	n = t_icmp_too_big(icmp, f->to ? MAC_A : MAC_B, f->to ? MAC_B : MAC_A,
			   IP_NOBODY, f->to ? IP_A : IP_B, ip, rt.report);
	rt.reports++;
	cub_netif_input(sender, icmp, n);
	return false;
}

static bool corrupt(struct wire *w, struct wire_frame *f)
{
	if (!route(w, f))
		return false;
	if (f->len > 34 && t_get16(f->data + 12) == 0x0800 &&
	    wire_rand(w) < corrupt_pm) {
		f->data[34 + wire_rand(w) % (f->len - 34)] ^= 0x5a;
		corrupted++;
	}
	return true;
}

static void check_stats(struct cub_netif *n, const char *name)
{
	struct cub_netif_stats s;

	cub_netif_stats(n, &s);
	CHECK(s.ip_rx == s.ip_bad_header + s.ip_bad_cksum + s.ip_fragments +
			 s.ip_not_ours + s.ip_unknown_proto + s.icmp_rx +
			 s.udp_rx + s.tcp_rx, "%s: ip_rx sum", name);
	CHECK(s.tcp_rx == s.tcp_bad + s.tcp_bad_cksum + s.tcp_no_port +
			  s.tcp_backlog_drops + s.tcp_to_conn,
	      "%s: tcp_rx sum", name);
	CHECK(s.tcp_active_opens + s.tcp_passive_opens == s.tcp_freed,
	      "%s: %llu connections left", name,
	      (unsigned long long)(s.tcp_active_opens + s.tcp_passive_opens -
				   s.tcp_freed));
	printf("%s: %llu segments in, %llu out, %llu retransmitted, %llu "
	       "timeouts, %llu bad checksums, %llu old, %llu out of order "
	       "dropped, %llu kept, %llu bytes in, %llu PAWS drops\n", name,
	       (unsigned long long)s.tcp_rx,
	       (unsigned long long)s.tcp_tx,
	       (unsigned long long)s.tcp_retransmits,
	       (unsigned long long)s.tcp_timeouts,
	       (unsigned long long)(s.tcp_bad_cksum + s.ip_bad_cksum),
	       (unsigned long long)s.tcp_dup, (unsigned long long)s.tcp_ooo,
	       (unsigned long long)s.tcp_ooo_kept,
	       (unsigned long long)s.tcp_bytes_rx,
	       (unsigned long long)s.tcp_paws);
	CHECK(s.tcp_ts_missing == 0, "%s: %llu segments without timestamps",
	      name, (unsigned long long)s.tcp_ts_missing);
	if (reorder_only)
		CHECK(s.tcp_timeouts == 0, "%s: %llu timeouts without loss",
		      name, (unsigned long long)s.tcp_timeouts);
}

static void spawn(cub_coro_fn fn, void *arg)
{
	cub_wg_add(&done, 1);
	if (cub_coro_spawn(NULL, fn, arg, NULL) < 0) {
		printf("spawn failed\n");
		exit(1);
	}
}

static void connect_all(struct cub_tcp *a[], struct cub_tcp *b[])
{
	struct cub_tcp *l;
	struct cub_tcp_params p = {
		.rto_initial = 50 * MS, .rto_min = 10 * MS,
		.rto_max = 200 * MS, .max_retries = 12, .syn_retries = 12,
		.time_wait = 50 * MS,
	};

	if (reorder_only)		/* a slow machine times nothing out */
		p.rto_min = p.rto_max = p.rto_initial = 2000 * MS;

	p.timestamps = ts_mode == 1 ? -1 : 1;
	cub_tcp_set_params(A, &p);
	p.timestamps = ts_mode == 2 ? -1 : 1;
	cub_tcp_set_params(B, &p);
	if (cub_tcp_listen(B, PORT, MAX_CONNS, &l) < 0)
		exit(1);
	for (unsigned i = 0; i < nconns; i++) {
		int r = cub_tcp_connect(A, IP_B, PORT, 10000 * MS, &a[i]);

		CHECK(r == 0, "connect %u: %d", i, r);
		r = r ? r : cub_tcp_accept(l, &b[i], 10000 * MS);
		CHECK(r == 0, "accept %u: %d", i, r);
		if (r)
			exit(1);
	}
	cub_tcp_close(l);
}

/* Congestion control's invariants after the transfer (tcp_cc.c): cwnd
 * at least one MSS and bounded, ssthresh at least two MSS. */
static void check_cc(struct cub_tcp *c, unsigned i)
{
	struct cub_tcp_info t;

	CHECK(cub_tcp_info(c, &t) == 0, "info %u", i);
	CHECK(t.cwnd >= t.snd_mss && t.cwnd <= 2 * CUB_TCP_SNDBUF,
	      "conn %u: cwnd %u (mss %u)", i, t.cwnd, t.snd_mss);
	CHECK(t.ssthresh >= 2u * t.snd_mss, "conn %u: ssthresh %u", i,
	      t.ssthresh);
	CHECK(t.timestamps == (ts_mode == 0), "conn %u: timestamps %d in "
	      "mode %d", i, t.timestamps, ts_mode);
	CHECK(t.pmtu == CUB_IP4_MTU ||
	      (rt.mtu && t.pmtu >= 552 && t.pmtu <= (rt.mtu < 552 ? 552 : rt.mtu)),
	      "conn %u: path MTU %u, router %u", i, t.pmtu, rt.mtu);
	/* Below the floor: the router's MTU, or the plateau 508 that a
	 * report of 0 leads to under 1006. */
	CHECK(!t.pmtu_nodf || (rt.mtu && (rt.mtu < 552 ||
					  (!rt.report && rt.mtu < 1006))),
	      "conn %u: no DF with a router of %u reporting %u", i, rt.mtu,
	      rt.report);
	CHECK(t.snd_mss <= t.pmtu - 40, "conn %u: MSS %u, path MTU %u", i,
	      t.snd_mss, t.pmtu);
}

static unsigned long rexmit_segs;

/* A router in half the seeds, from numbers of its own. */
static void pick_router(void)
{
	static const uint16_t mtus[] = { 300, 576, 1006, 1200, 1400 };
	uint64_t r = seed * 0x9e3779b97f4a7c15ull | 1;

	memset(&rt, 0, sizeof rt);
	if (rnd(&r) % 2)
		return;
	rt.mtu = mtus[rnd(&r) % 5];
	rt.report = rnd(&r) % 3 ? rt.mtu : 0;
	/* Half of them with a short cache lifetime: the estimates go back
	 * up (tcp_pmtu.c) and come down again during the transfer. */
	rt.ttl = rnd(&r) % 2 ? (30 + rnd(&r) % 60) * MS : 0;
	/* Not with "reorder": each rise over a still-small path costs a
	 * resend of the whole flight, and cycles every few tens of ms (on
	 * a loaded machine, many per run) fill the receiver's 8
	 * out-of-order ranges (tcp_ooo): a dropped segment, which without
	 * fast retransmit after a lowering is a timeout (seed 120 under a
	 * load of 40). */
	if (reorder_only)
		rt.ttl = 0;
	printf("router: MTU %u, reports %u, cache lifetime %llu ms\n",
	       rt.mtu, rt.report, (unsigned long long)(rt.ttl / MS));
	if (rt.ttl) {
		cub_pmtu_set_ttl(A, rt.ttl);
		cub_pmtu_set_ttl(B, rt.ttl);
	}
}

static void *model_main(void *arg)
{
	struct cub_tcp *a[MAX_CONNS], *b[MAX_CONNS];
	uint64_t r = seed, end;

	(void)arg;
	if (wire_start(&W) < 0)
		exit(1);
	ts_mode = (int)(rnd(&r) % 4);
	ts_mode = ts_mode > 1 ? ts_mode - 1 : 0;
	printf("timestamps: %s\n", ts_mode == 0 ? "both ends" :
	       ts_mode == 1 ? "not offered by A" : "not answered by B");
	connect_all(a, b);
	W.rng = seed | 1;
	/* One seed in four is harsh: up to a quarter of the frames lost. */
	W.drop_pm = (unsigned)(rnd(&r) % (rnd(&r) % 4 ? 40 : 250));
	W.dup_pm = (unsigned)(rnd(&r) % 40);
	W.reorder_pm = (unsigned)(rnd(&r) % 40);
	corrupt_pm = (unsigned)(rnd(&r) % 20);
	if (reorder_only) {
		W.drop_pm = corrupt_pm = 0;
		W.reorder_pm = 20 + W.reorder_pm;
	}
	W.filter = corrupt;
	pick_router();
	printf("faults per mille: drop %u, duplicate %u, reorder %u, "
	       "corrupt %u\n", W.drop_pm, W.dup_pm, W.reorder_pm, corrupt_pm);
	cub_wg_init(&done);
	for (unsigned i = 0; i < nconns * 2; i++) {
		struct stream *s = &S[i];

		s->id = i;
		s->from = (i & 1) ? b[i / 2] : a[i / 2];
		s->to = (i & 1) ? a[i / 2] : b[i / 2];
		s->len = rnd(&r) % (300 * 1024);
		s->rng = rnd(&r) | 1;
		spawn(writer, s);
		spawn(reader, s);
	}
	cub_wg_wait(&done);
	for (unsigned i = 0; i < nconns * 2; i++) {
		struct stream *s = &S[i];

		CHECK((s->rd_end == 0 && s->got == s->len && s->wr_end == 0) ||
		      (s->rd_end < 0 && s->rd_end != -1000),
		      "stream %u: %zu of %zu bytes, writer %ld, reader %ld",
		      i, s->got, s->len, s->wr_end, s->rd_end);
		if (s->rd_end < 0)
			printf("stream %u: ended by %ld after %zu of %zu "
			       "bytes\n", i, s->rd_end, s->got, s->len);
	}
	for (unsigned i = 0; i < nconns * 2; i++)
		check_cc((i & 1) ? b[i / 2] : a[i / 2], i);
	for (unsigned i = 0; i < nconns * 2; i++) {
		struct cub_tcp_info t;

		cub_tcp_info((i & 1) ? b[i / 2] : a[i / 2], &t);
		rexmit_segs += t.retransmits;
	}
	for (unsigned i = 0; i < nconns; i++) {
		cub_tcp_close(a[i]);
		cub_tcp_close(b[i]);
	}
	W.drop_pm = W.dup_pm = W.reorder_pm = corrupt_pm = 0;
	rt.mtu = 0;
	end = cub_time_now() + 10000 * MS;	/* TIME_WAIT, last ACKs */
	for (;;) {
		struct cub_netif_stats sa, sb;

		cub_netif_stats(A, &sa);
		cub_netif_stats(B, &sb);
		if (sa.tcp_active_opens == sa.tcp_freed &&
		    sb.tcp_passive_opens == sb.tcp_freed)
			break;
		if (cub_time_now() > end)
			break;
		cub_sleep(10 * MS);
	}
	wire_stop(&W);
	printf("wire: %u frames delivered, %u dropped, %u duplicated, %u "
	       "reordered, %u corrupted, %u refused (queue full)\n",
	       W.delivered, W.dropped, W.duplicated, W.reordered, corrupted,
	       W.full);
	check_stats(A, "A");
	check_stats(B, "B");
	{
		struct cub_netif_stats sa, sb;

		cub_netif_stats(A, &sa);
		cub_netif_stats(B, &sb);
		if (rt.dropped)
			printf("router: %u dropped, %u reported, %u reports "
			       "lost, %u passed without DF; path MTU lowered "
			       "%llu times, raised %llu\n", rt.dropped,
			       rt.reports, rt.lost, rt.nodf,
			       (unsigned long long)(sa.tcp_pmtu_lowered +
						    sb.tcp_pmtu_lowered),
			       (unsigned long long)(sa.tcp_pmtu_raised +
						    sb.tcp_pmtu_raised));
		printf("tcp: %llu fast retransmits, %llu partial ACKs, %llu "
		       "timeouts\n", (unsigned long long)(sa.tcp_fast_retransmits +
		       sb.tcp_fast_retransmits),
		       (unsigned long long)(sa.tcp_partial_acks +
		       sb.tcp_partial_acks),
		       (unsigned long long)(sa.tcp_timeouts + sb.tcp_timeouts));
		printf("retransmitted: %lu segments, about %llu bytes of %llu "
		       "(%.2f%%)\n", rexmit_segs,
		       (unsigned long long)rexmit_segs * CUB_TCP_MSS,
		       (unsigned long long)(sa.tcp_bytes_rx + sb.tcp_bytes_rx),
		       100.0 * rexmit_segs * CUB_TCP_MSS /
		       (double)(sa.tcp_bytes_rx + sb.tcp_bytes_rx + 1));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	seed = argc > 1 ? strtoull(argv[1], NULL, 0) :
			  (uint64_t)cub_time_now() ^ 0x5eed;
	if (argc > 2)
		nconns = (unsigned)strtoul(argv[2], NULL, 0);
	reorder_only = argc > 3 && !strcmp(argv[3], "reorder");
	if (nconns < 1 || nconns > MAX_CONNS)
		nconns = 4;
	if (seed == 0)
		seed = (uint64_t)cub_time_now() ^ 0x5eed;
	printf("model_tcp: seed %llu, %u connections\n",
	       (unsigned long long)seed, nconns);
	if (cub_sched_run(model_main, NULL, NULL) < 0)
		return 1;
	if (failures) {
		printf("model_tcp seed %llu: %u failures\n",
		       (unsigned long long)seed, failures);
		return 1;
	}
	printf("model_tcp seed %llu: every byte arrived once, in order: ok\n",
	       (unsigned long long)seed);
	return 0;
}
