/*
 * model_net.c - randomized test of the IPv4 stack (src/net).
 *
 * Two interfaces A and B on the in-memory wire of tests/unit/net/
 * net_test.h. Sender coroutines on both ends send UDP datagrams of random
 * length (12..1472 bytes, one in eight 1473..16000: fragmented) to the
 * other end's endpoints; each carries
 * (sender, sequence) and bytes derived from them, so a receiver can tell
 * a lost, duplicated, misdirected or corrupted datagram. Meanwhile a
 * fuzzer coroutine feeds cub_netif_input of both ends directly (racing
 * the wire coroutine on the interfaces' locks) with random frames and
 * with mutations - truncations and single-bit flips - of valid ARP,
 * IPv4/UDP and ICMP frames it builds and of IPv4 frames taken off the
 * wire; a pinger pings across. The fuzzer's own UDP datagrams go to a
 * port of their own with a payload derived from an id; its ARP senders
 * are 10.0.0.60 (five bits away from A and B, so a single flip cannot
 * make it claim their addresses; ARP has no integrity check, so a
 * mutated copy of A's or B's own ARP traffic could legitimately poison
 * a cache: those are not replayed).
 *
 * Invariants checked: nothing crashes; at the end every interface's
 * counters add up (each frame in exactly one terminal counter); every
 * datagram whose sendto succeeded arrived at most once and intact; one
 * that never arrived was a queue-full drop of its endpoint or, only if
 * it was fragmented, lost in reassembly: per endpoint, the unfragmented
 * missing <= drops <= all missing, and per receiving interface the
 * missing beyond the drops <= its evicted + timed-out datagrams; nothing
 * the fuzzer sent is delivered except intact copies of its templates (a
 * single-bit flip is always caught by the Internet checksum, a
 * truncation by the length checks; the fuzzer replays only unfragmented
 * frames: flips in two fragments of one datagram could cancel out).
 *
 * Then a second phase on a faulty wire: A sends 300 datagrams of 12..65507
 * bytes (half of them over 16000) to B while the wire drops (1 %) and
 * reorders (5 %) frames, and a filter duplicates (2 %, recorded per
 * fragment) and corrupts (one bit, at most one frame per datagram, 1 %)
 * them. Checked: every delivered datagram is byte-exact; one delivered
 * twice had every one of its fragments duplicated by the wire (a held
 * fragment is used by one reassembly only, so k deliveries need k
 * copies of each fragment); large ones do get through; after the
 * reassembly timeout (100 ms here) no slot is busy on either end.
 *
 * usage: model_net [SEED [FRAMES]]   (or $CUBRT_SEED, $CUBRT_OPS)
 * The seed is printed; the same seed replays the same run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cubrt/mem.h>
#include <cubrt/net.h>
#include <cubrt/sched.h>
#include <cubrt/time.h>

#include "net_test.h"
#include "../model_args.h"

#define NREAL 2			/* real endpoints per end */
#define NSENDER 4		/* two per end */
#define PER_SENDER 1500
#define FUZZ_PORT 7777
#define REAL_PORT 1000
#define IP_FUZZ CUB_IP4(10, 0, 0, 60)
#define TAG_REAL 0x5245414cu	/* "REAL" */
#define TAG_FUZZ 0x46555a5au	/* "FUZZ" */

static const uint8_t MAC_F[6] = { 0x02, 0, 0, 0, 0, 0xf0 };

static struct wire W;
static uint64_t seed, nfuzz;
static struct cub_udp real[2][NREAL], fuzz_ep[2];
static uint64_t sent_to[2][NREAL], recv_from[2][NREAL];
static uint8_t seen[NSENDER][PER_SENDER], sent_ok[NSENDER][PER_SENDER];
static uint8_t sent_big[NSENDER][PER_SENDER], sent_where[NSENDER][PER_SENDER];
static uint64_t fuzz_delivered, frames_fed, pings_ok;
static bool senders_done;

static void die(const char *what, long v)
{
	printf("model_net: FAIL (seed %" PRIu64 "): %s (%ld)\n", seed, what, v);
	fflush(stdout);
	exit(1);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint8_t gen(uint32_t a, uint32_t b, size_t i)
{
	uint32_t x = a * 0x9e3779b9u ^ b * 0x85ebca6bu ^ (uint32_t)i * 0xc2b2ae35u;

	return (uint8_t)(x >> 24 ^ x >> 11 ^ x);
}

/* A payload: tag, a, b, length, then gen(a, b, i). */
static void fill(uint8_t *p, size_t len, uint32_t tag, uint32_t a, uint32_t b)
{
	t_put32(p, tag);
	t_put16(p + 4, a);
	t_put32(p + 6, b);
	t_put16(p + 10, (uint32_t)len);
	for (size_t i = 12; i < len; i++)
		p[i] = gen(a, b, i);
}

static bool intact(const uint8_t *p, size_t len, uint32_t tag)
{
	if (len < 12 || t_get32(p) != tag || t_get16(p + 10) != len)
		return false;
	for (size_t i = 12; i < len; i++)
		if (p[i] != gen(t_get16(p + 4), t_get32(p + 6), i))
			return false;
	return true;
}

/* ------------------------------------------------------------ traffic */

static void *sender(void *arg)
{
	int id = (int)(intptr_t)arg, end = id & 1;
	uint64_t s = seed * 31 + (uint64_t)id + 1;
	static uint8_t bufs[NSENDER][CUB_UDP_PAYLOAD_MAX];
	uint8_t *buf = bufs[id];
	struct cub_udp *from = &real[end][id >> 1];
	cub_ip4_t dst = end ? IP_A : IP_B;

	for (uint32_t seq = 0; seq < PER_SENDER; seq++) {
		int to = (int)(rnd(&s) % NREAL);
		size_t len = 12 + rnd(&s) % (CUB_UDP_FRAME_PAYLOAD - 11);
		int r;

		if (rnd(&s) % 8 == 0)
			len = CUB_UDP_FRAME_PAYLOAD + 1 + rnd(&s) % 14528;
		fill(buf, len, TAG_REAL, (uint32_t)id, seq);
		r = cub_udp_sendto(from, dst, (uint16_t)(REAL_PORT + to), buf,
				   len);
		if (r == (int)len) {
			sent_ok[id][seq] = 1;
			sent_big[id][seq] = len > CUB_UDP_FRAME_PAYLOAD;
			sent_where[id][seq] = (uint8_t)to;
			sent_to[1 - end][to]++;
		} else if (r != -CUB_EAGAIN) {
			die("sendto", r);	/* only a full wire may refuse */
		}
		if (rnd(&s) % 4 == 0)
			cub_sleep(rnd(&s) % 50000);
	}
	return NULL;
}

static void *receiver(void *arg)
{
	int k = (int)(intptr_t)arg, end = k / NREAL, ep = k % NREAL;
	static uint8_t bufs[2 * NREAL][CUB_UDP_PAYLOAD_MAX];
	uint8_t *buf = bufs[k];
	cub_ip4_t src;
	uint16_t sport;
	int r;

	while ((r = cub_udp_recvfrom(&real[end][ep], buf, CUB_UDP_PAYLOAD_MAX,
				     &src, &sport, UINT64_MAX)) >= 0) {
		uint32_t id = t_get16(buf + 4), seq = t_get32(buf + 6);

		if (!intact(buf, (size_t)r, TAG_REAL) || id >= NSENDER ||
		    seq >= PER_SENDER)
			die("corrupted datagram delivered", r);
		if ((int)(id & 1) == end || src != (end ? IP_A : IP_B) ||
		    sport != cub_udp_port(&real[id & 1][id >> 1]))
			die("datagram from the wrong place", (long)id);
		if (!sent_ok[id][seq] || seen[id][seq]++)
			die("datagram delivered twice or never sent", (long)seq);
		recv_from[end][ep]++;
	}
	if (r != -CUB_EBADF)
		die("recvfrom", r);
	return NULL;
}

static void *fuzz_receiver(void *arg)
{
	int end = (int)(intptr_t)arg;
	static uint8_t bufs[2][CUB_UDP_PAYLOAD_MAX];
	int r;

	while ((r = cub_udp_recvfrom(&fuzz_ep[end], bufs[end],
				     CUB_UDP_PAYLOAD_MAX, NULL, NULL,
				     UINT64_MAX)) >= 0) {
		if (!intact(bufs[end], (size_t)r, TAG_FUZZ))
			die("mutated fuzz datagram delivered", r);
		fuzz_delivered++;
	}
	return NULL;
}

static void *pinger(void *arg)
{
	uint16_t seq = 0;

	(void)arg;
	while (!senders_done) {
		int r = cub_net_ping(&W.end[seq & 1].nif, seq & 1 ? IP_A : IP_B,
				     seq, seq % 200, 200 * MS, NULL);

		if (r == 0)
			pings_ok++;
		else if (r != -CUB_EAGAIN && r != -CUB_ETIMEDOUT)
			die("ping", r);
		seq++;
		cub_sleep(MS);
	}
	return NULL;
}

/* -------------------------------------------------------------- fuzzer */

/* A valid frame of a random kind for end `to` in f; returns its length. */
static size_t template(uint8_t *f, int to, uint64_t *s, uint32_t id,
		       bool *replay)
{
	const uint8_t *mac = to ? MAC_B : MAC_A;
	cub_ip4_t ip = to ? IP_B : IP_A;
	static uint8_t pl[CUB_UDP_PAYLOAD_MAX];
	size_t len;

	*replay = false;
	switch (rnd(s) % 6) {
	case 0:
		return t_arp(f, T_BCAST, 1, MAC_F, IP_FUZZ, T_BCAST, ip);
	case 1:
		return t_arp(f, mac, 2, MAC_F, IP_FUZZ, mac, ip);
	case 2:
		return t_icmp_echo(f, mac, MAC_F, IP_FUZZ, ip,
				   rnd(s) & 1 ? 8 : 0, 0xf00d, (uint16_t)id,
				   rnd(s) % 64);
	case 3:
		if (W.delivered && t_get16(W.tap[id % WIRE_TAP].data + 12) ==
				   0x0800 &&
		    !(t_get16(W.tap[id % WIRE_TAP].data + 20) & 0x3fff)) {
			len = W.tap[id % WIRE_TAP].len;
			memcpy(f, W.tap[id % WIRE_TAP].data, len);
			*replay = true;
			return len;	/* real IPv4 traffic, replayed */
		}
		/* fall through */
	default:
		len = 12 + rnd(s) % 500;
		fill(pl, len, TAG_FUZZ, id & 0xffff, id);
		return t_udp(f, rnd(s) % 8 ? mac : T_BCAST, MAC_F, IP_FUZZ,
			     rnd(s) % 8 ? ip : CUB_IP4_BROADCAST, 4444,
			     FUZZ_PORT, pl, len);
	}
}

/* Truncates or flips one bit (of byte 12 on: Ethernet addresses carry no
 * checksum, so a flipped source would still be a valid frame). */
static size_t mutate(uint8_t *f, size_t len, uint64_t *s)
{
	if (rnd(s) % 3 == 0)
		return rnd(s) % len;
	f[12 + rnd(s) % (len - 12)] ^= (uint8_t)(1u << (rnd(s) % 8));
	return len;
}

static void *fuzzer(void *arg)
{
	static uint8_t f[2048];
	uint64_t s = seed ^ 0xf022f022ull;
	size_t len;

	(void)arg;
	for (uint32_t i = 0; i < nfuzz; i++) {
		int to = (int)(rnd(&s) & 1);
		unsigned kind = (unsigned)(rnd(&s) % 8);

		if (kind == 0) {		/* garbage */
			len = rnd(&s) % 1600;
			for (size_t j = 0; j < len; j++)
				f[j] = (uint8_t)rnd(&s);
			if (len >= 14 && rnd(&s) & 1) {
				memcpy(f, to ? MAC_B : MAC_A, 6);
				t_put16(f + 12, rnd(&s) & 1 ? 0x0800 : 0x0806);
			}
		} else {
			bool replay;

			len = template(f, to, &s, i, &replay);
			/* kind 1: the intact template (never a replay of
			 * real traffic: that would be a true duplicate) */
			if (kind > 1 || replay)
				len = mutate(f, len, &s);
		}
		cub_netif_input(&W.end[to].nif, f, len);
		frames_fed++;
		if (rnd(&s) % 16 == 0)
			cub_sleep(rnd(&s) % 20000);
		else if (rnd(&s) % 2)
			cub_coro_yield();
	}
	return NULL;
}

/* ---------------------------------------------------------------- main */

static void check_sums(const struct cub_netif_stats *s)
{
	if (s->rx_frames != s->rx_short + s->rx_too_long + s->rx_not_ours +
			    s->rx_unknown_type + s->arp_rx + s->ip_rx ||
	    s->arp_rx != s->arp_bad + s->arp_requests + s->arp_replies +
			 s->arp_other ||
	    s->ip_rx + s->ip_reassembled != s->ip_bad_header +
			s->ip_bad_cksum + s->ip_fragments + s->ip_not_ours +
			s->ip_unknown_proto + s->icmp_rx + s->udp_rx +
			s->tcp_rx ||
	    s->ip_fragments != s->ip_frag_bad + s->ip_frag_dup +
			       s->ip_frag_conflict + s->ip_frag_nomem +
			       s->ip_frag_queued ||
	    s->tcp_rx != s->tcp_bad + s->tcp_bad_cksum + s->tcp_no_port +
			 s->tcp_backlog_drops + s->tcp_to_conn ||
	    s->icmp_rx != s->icmp_bad + s->icmp_echo_requests +
			  s->icmp_echo_replies + s->icmp_other +
			  s->icmp_err_bad + s->icmp_err_unmatched +
			  s->icmp_err_ignored + s->icmp_err_reported ||
	    s->udp_rx != s->udp_bad + s->udp_bad_cksum + s->udp_no_port +
			 s->udp_queue_full + s->udp_delivered)
		die("counters do not add up", 0);
}

static void spawn(struct cub_coro **c, cub_coro_fn fn, intptr_t arg)
{
	if (cub_coro_spawn(c, fn, (void *)arg, NULL))
		die("spawn", arg);
}

/* The second phase, on a faulty wire (uses W, seed, die, rnd, fill,
 * intact, spawn above). */
#include "model_net_frag.h"

static uint64_t lost[2];		/* missing beyond drops, per end */

/* Endpoint i of end e: what never arrived (received + missing = sent),
 * split into unfragmented and fragmented, against its queue drops. */
static void check_missing(int e, int i, uint64_t drops)
{
	uint64_t small = 0, big = 0;

	for (int id = 0; id < NSENDER; id++) {
		if ((id & 1) == e)
			continue;		/* sends to the other end */
		for (int q = 0; q < PER_SENDER; q++)
			if (sent_ok[id][q] && !seen[id][q] &&
			    sent_where[id][q] == i) {
				small += !sent_big[id][q];
				big += sent_big[id][q];
			}
	}
	if (recv_from[e][i] + small + big != sent_to[e][i])
		die("received + missing != sent", e * NREAL + i);
	if (small > drops || drops > small + big)
		die("missing datagrams not explained by drops", e * NREAL + i);
	lost[e] += small + big - drops;
}

static void check_lost(void)
{
	for (int e = 0; e < 2; e++) {
		struct cub_netif_stats st;

		cub_netif_stats(&W.end[e].nif, &st);
		if (lost[e] > st.ip_reasm_evicted + st.ip_reasm_timeouts)
			die("fragmented datagrams lost unaccounted", (long)lost[e]);
	}
}

static void *model_main(void *arg)
{
	struct cub_coro *snd[NSENDER], *rcv[2 * NREAL], *frc[2], *fz, *pg;
	struct cub_netif_stats st[2];

	(void)arg;
	if (wire_start(&W))
		die("wire_start", 0);
	for (int e = 0; e < 2; e++)
		cub_ip4_set_reasm_timeout(&W.end[e].nif, 100 * MS);
	for (int e = 0; e < 2; e++) {
		for (int i = 0; i < NREAL; i++)
			if (cub_udp_open(&real[e][i], &W.end[e].nif,
					 (uint16_t)(REAL_PORT + i)))
				die("open", i);
		if (cub_udp_open(&fuzz_ep[e], &W.end[e].nif, FUZZ_PORT))
			die("open fuzz", e);
		spawn(&frc[e], fuzz_receiver, e);
	}
	for (int k = 0; k < 2 * NREAL; k++)
		spawn(&rcv[k], receiver, k);
	spawn(&fz, fuzzer, 0);
	spawn(&pg, pinger, 0);
	for (int i = 0; i < NSENDER; i++)
		spawn(&snd[i], sender, i);
	for (int i = 0; i < NSENDER; i++)
		cub_coro_join(snd[i], NULL);
	cub_coro_join(fz, NULL);
	senders_done = true;
	cub_coro_join(pg, NULL);
	wire_settle(&W);
	cub_sleep(10 * MS);
	for (int e = 0; e < 2; e++) {
		for (int i = 0; i < NREAL; i++) {
			uint64_t drops = cub_udp_drops(&real[e][i]);

			if (cub_udp_close(&real[e][i]))
				die("close", i);
			check_missing(e, i, drops);
		}
		if (cub_udp_close(&fuzz_ep[e]))
			die("close fuzz", e);
	}
	for (int k = 0; k < 2 * NREAL; k++)
		cub_coro_join(rcv[k], NULL);
	for (int e = 0; e < 2; e++)
		cub_coro_join(frc[e], NULL);
	check_lost();
	faulty_phase();
	wire_stop(&W);
	for (int e = 0; e < 2; e++) {
		cub_netif_stats(&W.end[e].nif, &st[e]);
		check_sums(&st[e]);
	}
	printf("model_net: A rx %" PRIu64 " frames (%" PRIu64 " udp delivered,"
	       " %" PRIu64 " queue full), B rx %" PRIu64 " frames (%" PRIu64
	       " delivered, %" PRIu64 " full)\n", st[0].rx_frames,
	       st[0].udp_delivered, st[0].udp_queue_full, st[1].rx_frames,
	       st[1].udp_delivered, st[1].udp_queue_full);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t sent = 0, got = 0;

	seed = model_arg(argc, argv, 1, "CUBRT_SEED", (uint64_t)time(NULL));
	nfuzz = model_arg(argc, argv, 2, "CUBRT_OPS", 150000);
	if (!seed)
		seed = 1;		/* xorshift needs a nonzero state */
	printf("model_net: seed %" PRIu64 " (replay: model_net %" PRIu64 "), %"
	       PRIu64 " fuzz frames, %d senders x %d datagrams\n", seed, seed,
	       nfuzz, NSENDER, PER_SENDER);
	fflush(stdout);
	cubi_mem_init();
	if (cub_sched_run(model_main, NULL, NULL))
		die("cub_sched_run", -1);
	for (int e = 0; e < 2; e++)
		for (int i = 0; i < NREAL; i++) {
			sent += sent_to[e][i];
			got += recv_from[e][i];
		}
	printf("model_net: OK: %" PRIu64 " datagrams sent, %" PRIu64
	       " received at most once, intact; %" PRIu64 " frames fed, %"
	       PRIu64 " intact fuzz datagrams delivered, %" PRIu64 " pings\n",
	       sent, got, frames_fed, fuzz_delivered, pings_ok);
	return 0;
}
